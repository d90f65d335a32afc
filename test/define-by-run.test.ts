/**
 * Define-by-run over HTTP: a study created with an empty or partial space, trials asking for
 * parameters (POST /v1/studies/{id}/trials/{number}/params), and user/system attributes.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

const LR = { type: 'float', low: 1e-5, high: 1, log: true };
const OPT = { type: 'categorical', choices: ['sgd', 'adam'] };

async function createStudy(body: Record<string, unknown> = {}) {
  const res = await post('/v1/studies', {
    name: 'dbr',
    sampler: { name: 'tpe', seed: 3 },
    ...body,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}

const ask = (id: string) => json(post(`/v1/studies/${id}/ask`));
const suggest = (id: string, n: number, body: Record<string, unknown>) =>
  post(`/v1/studies/${id}/trials/${n}/params`, body);
const value = async (id: string, n: number, name: string, distribution: unknown) => {
  const res = await suggest(id, n, { name, distribution });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).value;
};

describe('define-by-run', () => {
  it('a study without a space: parameters join it at first use; asking again answers the same value', async () => {
    const study = await createStudy();
    expect(study.space).toEqual({});
    const t0 = await ask(study.id);
    expect(t0.params).toEqual({});
    const lr = await value(study.id, 0, 'lr', LR);
    expect(lr).toBeGreaterThanOrEqual(1e-5);
    expect(lr).toBeLessThanOrEqual(1);
    expect(await value(study.id, 0, 'lr', LR)).toBe(lr);
    const read = await json(api(`/v1/studies/${study.id}`));
    expect(read.space).toEqual({ lr: LR });
    const trials = await json(api(`/v1/studies/${study.id}/trials`));
    expect(trials.trials[0].params).toEqual({ lr });
  });

  it('a learned parameter is proposed at ask but hidden until the trial asks; trials that never ask leave it out', async () => {
    const study = await createStudy({ space: { lr: LR } });
    await ask(study.id);
    await value(study.id, 0, 'opt', OPT);
    await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 1 });
    // Trial 1 is asked after opt joined: its params show the declared lr only.
    const t1 = await ask(study.id);
    expect(Object.keys(t1.params)).toEqual(['lr']);
    await post(`/v1/studies/${study.id}/trials/1/tell`, { value: 2 });
    const t2 = await ask(study.id);
    const opt = await value(study.id, 2, 'opt', OPT);
    expect(['sgd', 'adam']).toContain(opt);
    const trials = (await json(api(`/v1/studies/${study.id}/trials`))).trials;
    expect('opt' in trials[1].params).toBe(false);
    expect(trials[2].params).toEqual({ lr: t2.params.lr, opt });
  });

  it('the same name with another distribution is a 409 naming both; nothing changes', async () => {
    const study = await createStudy({ space: { lr: LR } });
    await ask(study.id);
    const res = await suggest(study.id, 0, {
      name: 'lr',
      distribution: { type: 'float', low: 0, high: 1 },
    });
    expect(res.status).toBe(409);
    const detail = ((await res.json()) as any).detail;
    expect(detail).toContain('float [0.00001, 1] log');
    expect(detail).toContain('float [0, 1]');
    expect((await json(api(`/v1/studies/${study.id}`))).space).toEqual({ lr: LR });
  });

  it("another range of the same kind is the trial's own (as Optuna): its value lies in it, the space keeps the first; another kind, log or choices is a 409", async () => {
    const study = await createStudy();
    for (let n = 0; n < 3; n++) await ask(study.id);
    await value(study.id, 0, 'lr', LR);
    const own = { type: 'float', low: 0.5, high: 0.6, log: true };
    const res = await suggest(study.id, 1, { name: 'lr', distribution: own });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as any;
    expect(answer.value).toBeGreaterThanOrEqual(0.5);
    expect(answer.value).toBeLessThanOrEqual(0.6);
    expect(answer.distribution).toEqual(own);
    await value(study.id, 1, 'opt', OPT);
    const wide = { type: 'float', low: 1, high: 1000, log: true };
    expect(await value(study.id, 2, 'lr', wide)).toBeGreaterThanOrEqual(1);
    for (const [name, distribution] of [
      ['lr', { type: 'int', low: 1, high: 10 }],
      ['lr', { type: 'float', low: 0.5, high: 0.6 }],
      ['opt', { type: 'categorical', choices: ['adam', 'sgd'] }],
    ] as const) {
      const refused = await suggest(study.id, 2, { name, distribution });
      expect(refused.status).toBe(409);
    }
    expect((await json(api(`/v1/studies/${study.id}`))).space).toEqual({ lr: LR, opt: OPT });
  });

  it.each([
    [{ type: 'gaussian', low: 0, high: 1 }, 'distribution.type'],
    [{ type: 'float', low: 2, high: 1 }, 'distribution.low'],
    [{ type: 'float', low: 0, high: 1, log: true }, 'distribution.low'],
    [{ type: 'categorical', choices: ['a', { b: 1 }] }, 'distribution.choices.1'],
    [{ type: 'categorical', choices: ['a', ['b']] }, 'distribution.choices.1'],
    [{ type: 'float', low: 0, high: 1, when: { opt: 'a' } }, 'distribution.when'],
  ])('bad distribution %j: a 422 at %s, nothing written', async (distribution, path) => {
    const study = await createStudy();
    await ask(study.id);
    const res = await suggest(study.id, 0, { name: 'x', distribution });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).errors.map((e: any) => e.path)).toContain(path);
    expect((await json(api(`/v1/studies/${study.id}`))).space).toEqual({});
    expect((await json(api(`/v1/studies/${study.id}/trials`))).trials[0].params).toEqual({});
  });

  it('a name over 256 characters, a value off the distribution: 422s naming the field', async () => {
    const study = await createStudy();
    await ask(study.id);
    const long = await suggest(study.id, 0, { name: 'x'.repeat(257), distribution: LR });
    expect(long.status).toBe(422);
    expect(((await long.json()) as any).errors[0].path).toBe('name');
    const off = await suggest(study.id, 0, { name: 'lr', distribution: LR, value: 2 });
    expect(off.status).toBe(422);
    expect(((await off.json()) as any).errors[0].path).toBe('value');
    expect((await json(api(`/v1/studies/${study.id}`))).space).toEqual({});
  });

  it('a value given by an external sampler is recorded; another value later is a 409', async () => {
    const study = await createStudy();
    await ask(study.id);
    const res = await suggest(study.id, 0, { name: 'lr', distribution: LR, value: 0.01 });
    expect(await json(res)).toEqual({ name: 'lr', value: 0.01, distribution: LR });
    expect((await suggest(study.id, 0, { name: 'lr', distribution: LR, value: 0.01 })).status).toBe(
      200,
    );
    expect((await suggest(study.id, 0, { name: 'lr', distribution: LR, value: 0.02 })).status).toBe(
      409,
    );
  });

  it('1,000 parameters in one trial: the space stops at 64 with a 422 at name', async () => {
    const study = await createStudy({ sampler: { name: 'random', seed: 1 } });
    await ask(study.id);
    const statuses: number[] = [];
    let refused: any = null;
    for (let i = 0; i < 1000 && refused === null; i++) {
      const res = await suggest(study.id, 0, {
        name: `p${i}`,
        distribution: { type: 'int', low: 0, high: 9 },
      });
      statuses.push(res.status);
      if (res.status !== 200) refused = await res.json();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(64);
    expect(refused.status).toBe(422);
    expect(refused.errors[0].path).toBe('name');
    const read = await json(api(`/v1/studies/${study.id}`));
    expect(Object.keys(read.space)).toHaveLength(64);
    expect(
      Object.keys((await json(api(`/v1/studies/${study.id}/trials`))).trials[0].params),
    ).toHaveLength(64);
  });

  it('concurrent first use of one new parameter from two trials leaves one definition', async () => {
    const study = await createStudy();
    await ask(study.id);
    await ask(study.id);
    const other = { type: 'float', low: 0, high: 10 };
    const [a, b] = await Promise.all([
      suggest(study.id, 0, { name: 'x', distribution: LR }),
      suggest(study.id, 1, { name: 'x', distribution: other }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const space = (await json(api(`/v1/studies/${study.id}`))).space;
    expect(Object.keys(space)).toEqual(['x']);
    expect([LR, other]).toContainEqual(space.x);
  });

  it('a grid study refuses new parameters; an edge study with no space is refused at creation', async () => {
    const grid = await createStudy({ space: { opt: OPT }, sampler: { name: 'grid' } });
    await ask(grid.id);
    const res = await suggest(grid.id, 0, { name: 'x', distribution: OPT });
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).detail).toMatch(/grid/);
    expect(await value(grid.id, 0, 'opt', OPT)).toMatch(/sgd|adam/);
  });

  it('a finished trial answers what it holds and refuses a new parameter', async () => {
    const study = await createStudy();
    await ask(study.id);
    const lr = await value(study.id, 0, 'lr', LR);
    await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 1 });
    expect(await value(study.id, 0, 'lr', LR)).toBe(lr);
    expect((await suggest(study.id, 0, { name: 'opt', distribution: OPT })).status).toBe(409);
  });

  it('TPE and GP learn a define-by-run parameter some trials never asked for', async () => {
    for (const name of ['tpe', 'gp']) {
      const study = await createStudy({ sampler: { name, seed: 5, n_startup_trials: 4 } });
      for (let n = 0; n < 12; n++) {
        await ask(study.id);
        const x = await value(study.id, n, 'x', { type: 'float', low: -5, high: 5 });
        // Every other trial also asks for y (a conditional branch).
        let y = 0;
        if (n % 2 === 0) y = await value(study.id, n, 'y', { type: 'float', low: -5, high: 5 });
        await post(`/v1/studies/${study.id}/trials/${n}/tell`, { value: (x - 1) ** 2 + y ** 2 });
      }
      const trials = (await json(api(`/v1/studies/${study.id}/trials`))).trials;
      expect(trials.every((t: any) => t.state === 'complete')).toBe(true);
      expect(trials.filter((t: any) => 'y' in t.params)).toHaveLength(6);
      expect(trials.slice(4).every((t: any) => t.sampler === name)).toBe(true);
    }
  });

  it('user and system attributes of a study and a trial: merged, bounded, refused once finished', async () => {
    const study = await createStudy();
    const s1 = await json(post(`/v1/studies/${study.id}/attrs`, { user_attrs: { team: 'a' } }));
    expect(s1).toEqual({ user_attrs: { team: 'a' }, system_attrs: {} });
    await post(`/v1/studies/${study.id}/attrs`, {
      user_attrs: { k: [1, 2] },
      system_attrs: { s: 1 },
    });
    const read = await json(api(`/v1/studies/${study.id}`));
    expect(read.user_attrs).toEqual({ team: 'a', k: [1, 2] });
    expect(read.system_attrs).toEqual({ s: 1 });
    await ask(study.id);
    await post(`/v1/studies/${study.id}/trials/0/attrs`, { user_attrs: { note: 'x' } });
    const big = await post(`/v1/studies/${study.id}/trials/0/attrs`, {
      user_attrs: { a: 'x'.repeat(40_000), b: 'y'.repeat(30_000) },
    });
    expect(big.status).toBe(413);
    await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 1 });
    const trial = (await json(api(`/v1/studies/${study.id}/trials`))).trials[0];
    expect(trial.user_attrs).toEqual({ note: 'x' });
    const late = await post(`/v1/studies/${study.id}/trials/0/attrs`, { user_attrs: { n: 1 } });
    expect(late.status).toBe(409);
  });

  it('D1 keeps the learned space', async () => {
    const study = await createStudy();
    await ask(study.id);
    await value(study.id, 0, 'lr', LR);
    await stubOf(study.id).flush();
    const row = await env.DB.prepare('SELECT config FROM studies WHERE id = ?')
      .bind(study.id)
      .first<{ config: string }>();
    expect(JSON.parse(row!.config).space).toEqual({ lr: LR });
  });

  it('asks for a new trial past waiting ones (fresh), starts a waiting one by number, lists from a number', async () => {
    const study = await createStudy();
    const enqueued = await json(
      post(`/v1/studies/${study.id}/trials`, { params: { lr: 0.01 }, distributions: { lr: LR } }),
    );
    expect(enqueued).toMatchObject({ number: 0, state: 'waiting', params: { lr: 0.01 } });
    expect((await json(api(`/v1/studies/${study.id}`))).space).toEqual({ lr: LR });
    const fresh = await json(post(`/v1/studies/${study.id}/ask`, { fresh: true }));
    expect(fresh.number).toBe(1);
    const claimed = await json(post(`/v1/studies/${study.id}/ask`, { number: 0 }));
    expect(claimed).toMatchObject({ number: 0, state: 'running', params: { lr: 0.01 } });
    const again = await post(`/v1/studies/${study.id}/ask`, { number: 0 });
    expect(again.status).toBe(409);
    const both = await post(`/v1/studies/${study.id}/ask`, { number: 0, fresh: true });
    expect(both.status).toBe(422);
    const later = await json(api(`/v1/studies/${study.id}/trials?from=1`));
    expect(later.trials.map((t: any) => t.number)).toEqual([1]);
    const one = await json(api(`/v1/studies/${study.id}/trials?from=0&limit=1`));
    expect(one.trials.map((t: any) => t.number)).toEqual([0]);
    const bad = await post(`/v1/studies/${study.id}/trials`, {
      params: {},
      distributions: { x: { type: 'float', low: 1, high: 0 } },
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors[0].path).toBe('distributions.x.low');
  });

  it('a runner study: the lease holder asks for parameters with the runner key and its token', async () => {
    const study = await createStudy({ executor: { kind: 'runner' } });
    const runnerKey = env.STRIDE_RUNNER_KEY;
    const grant = await json(post('/v1/runners/lease', { study_id: study.id }, runnerKey));
    expect(grant.trial.params).toEqual({});
    const path = `/v1/studies/${study.id}/trials/${grant.trial.number}`;
    const asked = await post(
      `${path}/params`,
      { name: 'lr', distribution: LR, lease_token: grant.lease.token },
      runnerKey,
    );
    expect(asked.status).toBe(200);
    const lr = ((await asked.json()) as any).value;
    const noToken = await post(`${path}/params`, { name: 'lr', distribution: LR }, runnerKey);
    expect(noToken.status).toBe(422);
    expect(((await noToken.json()) as any).errors[0].path).toBe('lease_token');
    const attrs = await post(
      `${path}/attrs`,
      { user_attrs: { gpu: 0 }, lease_token: grant.lease.token },
      runnerKey,
    );
    expect(attrs.status).toBe(200);
    // The study's own attributes stay a write-key call.
    expect(
      (await post(`/v1/studies/${study.id}/attrs`, { user_attrs: {} }, runnerKey)).status,
    ).toBe(403);
    const told = await json(
      post(`${path}/tell`, { value: 1, lease_token: grant.lease.token }, runnerKey),
    );
    expect(told).toMatchObject({ state: 'complete', params: { lr }, user_attrs: { gpu: 0 } });
  });

  it('a hidden proposal is what the trial gets when it asks (joint sampling at ask)', async () => {
    const study = await createStudy({ sampler: { name: 'random', seed: 11 } });
    await ask(study.id);
    await value(study.id, 0, 'a', LR);
    await value(study.id, 0, 'b', OPT);
    const t1 = await ask(study.id);
    expect(t1.params).toEqual({});
    const proposed = await runInDurableObject(stubOf(study.id), async (_obj, state) =>
      JSON.parse(
        state.storage.sql
          .exec<{ proposed: string }>('SELECT proposed FROM trials WHERE number = 1')
          .one().proposed,
      ),
    );
    expect(Object.keys(proposed).sort()).toEqual(['a', 'b']);
    expect(await value(study.id, 1, 'b', OPT)).toBe(proposed.b);
    expect(await value(study.id, 1, 'a', LR)).toBe(proposed.a);
  });
});

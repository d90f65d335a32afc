// The runner protocol (executor "runner"): lease, heartbeat, report, tell,
// release; expiry by the object's alarm; attempts; stale tokens; max_parallel;
// the runner key's scope. Inside workerd against the real Durable Object and D1.
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const RUNNER_KEY = env.STRIDE_RUNNER_KEY;
const SPACE = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  momentum: { type: 'float', low: 0, high: 0.99 },
};

async function createRunnerStudy(
  executor: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
) {
  const res = await api('/v1/studies', {
    body: {
      name: 'gpu',
      space: SPACE,
      sampler: { name: 'tpe', seed: 3 },
      max_trials: 5,
      executor: { kind: 'runner', ...executor },
      ...overrides,
    },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;
const lease = (studyId: string | undefined, name = 'gpu-0', key?: string) =>
  post('/v1/runners/lease', { ...(studyId ? { study_id: studyId } : {}), runner: { name } }, key);

/** Make every running lease of a study expire now, then run the study's alarm. */
async function expireLeases(studyId: string) {
  const stub = stubOf(studyId);
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      `UPDATE trials SET lease_expires_at = ? WHERE state = 'running'`,
      Date.now() - 1,
    );
  });
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

describe('runner studies: leases', () => {
  it('leases trials with tokens, bounds them by max_parallel, and takes report/tell only from the holder', async () => {
    const study = await createRunnerStudy({ max_parallel: 2, lease_seconds: 60 });
    expect(study.executor).toEqual({
      kind: 'runner',
      max_parallel: 2,
      max_attempts: 3,
      lease_seconds: 60,
      dispatch_url: null,
    });
    // Runner studies are leased, not asked.
    const ask = await post(`/v1/studies/${study.id}/ask`);
    expect(ask.status).toBe(409);
    expect((await ask.json()) as any).toMatchObject({
      detail: expect.stringContaining('/v1/runners/lease'),
    });

    const before = Date.now();
    const g0 = await json(lease(study.id));
    expect(g0.study).toEqual({
      id: study.id,
      name: 'gpu',
      metric: 'value',
      direction: 'minimize',
      metrics: ['value'],
      directions: ['minimize'],
    });
    expect(g0.trial).toMatchObject({ number: 0, state: 'running', attempts: 1, runner: 'gpu-0' });
    expect(g0.trial.params.lr).toBeGreaterThan(0);
    expect(g0.lease.token).toMatch(/^lease_/);
    expect(g0.lease.attempt).toBe(1);
    expect(g0.lease.heartbeat_seconds).toBe(20);
    const expires0 = Date.parse(g0.lease.expires_at);
    expect(expires0).toBeGreaterThanOrEqual(before + 60_000);
    const g1 = await json(lease(study.id, 'gpu-1'));
    expect(g1.trial.number).toBe(1);
    expect(g1.lease.token).not.toBe(g0.lease.token);
    // max_parallel 2: nothing more until one finishes.
    const none = await lease(study.id);
    expect(none.status).toBe(204);
    expect(await none.text()).toBe('');
    // Leases are out: ask again soon (they may expire, or free a slot).
    expect(Number(none.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // The object's alarm is set for the first expiry.
    const alarm = await runInDurableObject(stubOf(study.id), (_i, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).toBe(expires0);

    // Heartbeat: extends the lease; a wrong token is 409.
    await new Promise((r) => setTimeout(r, 5));
    const hb = await json(
      post(`/v1/studies/${study.id}/trials/0/heartbeat`, { lease_token: g0.lease.token }),
    );
    expect(Date.parse(hb.lease.expires_at)).toBeGreaterThan(expires0);
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/heartbeat`, { lease_token: g1.lease.token }))
        .status,
    ).toBe(409);

    // Report and tell need the token: missing 422 with its path, wrong 409.
    const noToken = await post(`/v1/studies/${study.id}/trials/0/report`, { step: 1, value: 0.9 });
    expect(noToken.status).toBe(422);
    expect(((await noToken.json()) as any).errors).toEqual([
      expect.objectContaining({ path: 'lease_token' }),
    ]);
    const wrong = await post(`/v1/studies/${study.id}/trials/0/report`, {
      step: 1,
      value: 0.9,
      lease_token: 'lease_nope',
    });
    expect(wrong.status).toBe(409);
    expect(
      await json(
        post(`/v1/studies/${study.id}/trials/0/report`, {
          step: 1,
          value: 0.9,
          lease_token: g0.lease.token,
        }),
      ),
    ).toEqual({ should_prune: false });
    expect((await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.5 })).status).toBe(422);
    const told = await json(
      post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.5, lease_token: g0.lease.token }),
    );
    expect(told).toMatchObject({
      number: 0,
      state: 'complete',
      value: 0.5,
      intermediate: [{ step: 1, value: 0.9 }],
    });
    // The same tell again answers the same; a heartbeat after the end is 409.
    expect(
      await json(
        post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.5, lease_token: g0.lease.token }),
      ),
    ).toEqual(told);
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/heartbeat`, { lease_token: g0.lease.token }))
        .status,
    ).toBe(409);

    // A slot is free again: the next lease is a new trial, sampled now.
    const g2 = await json(lease(study.id));
    expect(g2.trial.number).toBe(2);
  });

  it('requeues an expired trial, rejects the stale holder once it is re-leased, and fails it after max_attempts', async () => {
    const study = await createRunnerStudy({ max_attempts: 2 });
    const a = await json(lease(study.id, 'gpu-a'));
    await post(`/v1/studies/${study.id}/trials/0/report`, {
      step: 1,
      value: 0.8,
      lease_token: a.lease.token,
    });
    await expireLeases(study.id);
    const waiting = await json(api(`/v1/studies/${study.id}/trials`));
    expect(waiting.trials[0]).toMatchObject({
      number: 0,
      state: 'waiting',
      attempts: 1,
      intermediate: [],
    });
    expect(waiting.trials[0].error).toMatch(/attempt 1: lease expired \(runner 'gpu-a'\)/);
    // Expired: heartbeats and reports from the old holder are refused.
    const late = await post(`/v1/studies/${study.id}/trials/0/heartbeat`, {
      lease_token: a.lease.token,
    });
    expect(late.status).toBe(409);
    expect(((await late.json()) as any).detail).toMatch(/expired/);

    // Re-leased to another runner: same trial, same params, a new token, attempt 2.
    const b = await json(lease(study.id, 'gpu-b'));
    expect(b.trial).toMatchObject({
      number: 0,
      params: a.trial.params,
      attempts: 2,
      runner: 'gpu-b',
    });
    expect(b.lease.attempt).toBe(2);
    const stale = await post(`/v1/studies/${study.id}/trials/0/tell`, {
      value: 0.1,
      lease_token: a.lease.token,
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as any).detail).toMatch(
      /stale lease token: trial 0 was leased again \(attempt 2 by 'gpu-b'\)/,
    );

    // The second lease expires too: attempts are exhausted, the trial fails with the reason.
    await expireLeases(study.id);
    const failed = await json(api(`/v1/studies/${study.id}/trials`));
    expect(failed.trials[0]).toMatchObject({ number: 0, state: 'failed', attempts: 2 });
    expect(failed.trials[0].error).toMatch(/lease expired on attempt 2 of 2 \(runner 'gpu-b'\)/);
    const tooLate = await post(`/v1/studies/${study.id}/trials/0/tell`, {
      value: 0.1,
      lease_token: b.lease.token,
    });
    expect(tooLate.status).toBe(409);
    // The next lease is a new trial.
    expect((await json(lease(study.id))).trial.number).toBe(1);
    // D1 got the failure too, with the attempts.
    await stubOf(study.id).flush();
    const row = await env.DB.prepare(
      'SELECT state, attempts, error FROM trials WHERE study_id = ? AND number = 0',
    )
      .bind(study.id)
      .first<any>();
    expect(row.state).toBe('failed');
    expect(row.attempts).toBe(2);
  });

  it('takes a late tell from an expired lease while nobody else holds the trial', async () => {
    const study = await createRunnerStudy();
    const a = await json(lease(study.id));
    await expireLeases(study.id);
    const told = await json(
      post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.25, lease_token: a.lease.token }),
    );
    expect(told).toMatchObject({ number: 0, state: 'complete', value: 0.25 });
    // It is not handed out again.
    expect((await json(lease(study.id))).trial.number).toBe(1);
  });

  it('release hands a trial back without spending an attempt', async () => {
    const study = await createRunnerStudy({ max_attempts: 1 });
    const a = await json(lease(study.id));
    const released = await json(
      post(`/v1/studies/${study.id}/trials/0/release`, { lease_token: a.lease.token }),
    );
    expect(released).toMatchObject({ number: 0, state: 'waiting', attempts: 0 });
    const b = await json(lease(study.id));
    expect(b.trial).toMatchObject({ number: 0, params: a.trial.params, attempts: 1 });
    expect(
      (
        await post(`/v1/studies/${study.id}/trials/0/tell`, {
          value: 1,
          lease_token: a.lease.token,
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await post(`/v1/studies/${study.id}/trials/0/tell`, {
          value: 1,
          lease_token: b.lease.token,
        })
      ).status,
    ).toBe(200);
  });

  it('20 runners leasing at once never get the same trial; then 204 until one is requeued', async () => {
    const study = await createRunnerStudy({}, { max_trials: 20 });
    const grants = await Promise.all(
      Array.from({ length: 20 }, (_, i) => json(lease(study.id, `gpu-${i}`))),
    );
    const numbers = grants.map((g) => g.trial.number).sort((x, y) => x - y);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set(grants.map((g) => g.lease.token)).size).toBe(20);
    expect((await lease(study.id)).status).toBe(204);
    // Every runner finishes: each tell is taken once, and the study completes.
    await Promise.all(
      grants.map((g) =>
        post(`/v1/studies/${study.id}/trials/${g.trial.number}/tell`, {
          value: g.trial.number,
          lease_token: g.lease.token,
        }),
      ),
    );
    const done = await json(api(`/v1/studies/${study.id}`));
    expect(done).toMatchObject({ state: 'completed', n_trials: 20, best_trial: { number: 0 } });
    // Nothing left and nothing out: 204 without Retry-After (an agent stops).
    const over = await lease(study.id);
    expect(over.status).toBe(204);
    expect(over.headers.get('retry-after')).toBeNull();
  });

  it('leases from any runner study when no study is named, and says 204 when none has work', async () => {
    // (Studies of the tests above share this D1: drain them all, counting where leases come from.)
    const client = await json(post('/v1/studies', { name: 'client', space: SPACE }));
    await stubOf(client.id).flush();
    const study = await createRunnerStudy({}, { max_trials: 2 });
    await stubOf(study.id).flush(); // the list of runner studies is read from D1
    const from = new Map<string, number>();
    let res: Response;
    let n = 0;
    while ((res = await lease(undefined)).status === 200 && n++ < 200) {
      const g = (await res.json()) as any;
      from.set(g.study.id, (from.get(g.study.id) ?? 0) + 1);
    }
    expect(res.status).toBe(204);
    expect(from.get(study.id)).toBe(2);
    // A client study's trials are never leased.
    expect(from.has(client.id)).toBe(false);
    // Naming a client study is a clear 409.
    const wrongKind = await lease(client.id);
    expect(wrongKind.status).toBe(409);
    expect(((await wrongKind.json()) as any).detail).toMatch(/not a runner study/);
  });

  it('a runner key leases, heartbeats, reports and tells, and can do nothing else', async () => {
    const study = await createRunnerStudy();
    const g = await json(lease(study.id, 'gpu-0', RUNNER_KEY));
    expect(g.trial.number).toBe(0);
    const token = g.lease.token;
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/heartbeat`, { lease_token: token }, RUNNER_KEY))
        .status,
    ).toBe(200);
    expect(
      (
        await post(
          `/v1/studies/${study.id}/trials/0/report`,
          { step: 1, value: 2, lease_token: token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await post(
          `/v1/studies/${study.id}/trials/0/tell`,
          { value: 1, lease_token: token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    // Reading or creating studies: 403, with what the key can do.
    for (const res of [
      await api(`/v1/studies/${study.id}`, { key: RUNNER_KEY }),
      await api('/v1/studies', { key: RUNNER_KEY }),
      await post('/v1/studies', { name: 'x', space: SPACE }, RUNNER_KEY),
      await post(`/v1/studies/${study.id}/ask`, {}, RUNNER_KEY),
      await post('/v1/lr-range-tests', {}, RUNNER_KEY),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(((await res.json()) as any).detail).toMatch(/runner key/);
    }
    // A client study's trials are invisible to it (404, not 403).
    const client = await json(post('/v1/studies', { name: 'client', space: SPACE }));
    await post(`/v1/studies/${client.id}/ask`);
    expect(
      (await post(`/v1/studies/${client.id}/trials/0/tell`, { value: 1 }, RUNNER_KEY)).status,
    ).toBe(404);
    expect(
      (await post(`/v1/studies/${client.id}/trials/0/report`, { step: 0, value: 1 }, RUNNER_KEY))
        .status,
    ).toBe(404);
    // And a wrong key is still 401.
    expect((await lease(study.id, 'x', 'not-a-key')).status).toBe(401);
  });

  it('validates runner executors and lease bodies with paths', async () => {
    const bad = await post('/v1/studies', {
      name: 'x',
      space: SPACE,
      executor: { kind: 'runner', max_parallel: 0, lease_seconds: 1, dispatch_url: 'ftp://x' },
    });
    expect(bad.status).toBe(422);
    const paths = ((await bad.json()) as any).errors.map((e: any) => e.path).sort();
    expect(paths).toEqual([
      'executor.dispatch_url',
      'executor.lease_seconds',
      'executor.max_parallel',
    ]);
    const unknown = await post('/v1/studies', {
      name: 'x',
      space: SPACE,
      executor: { kind: 'gpu' },
    });
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as any).errors[0].path).toBe('executor.kind');
    const badLease = await post('/v1/runners/lease', { study: 'x' });
    expect(badLease.status).toBe(422);
    expect(((await badLease.json()) as any).errors[0].path).toBe('study');
    const study = await createRunnerStudy();
    const noToken = await post(`/v1/studies/${study.id}/trials/0/heartbeat`, {});
    expect(noToken.status).toBe(422);
    expect(((await noToken.json()) as any).errors[0].path).toBe('lease_token');
    expect((await lease('std_00000000000000000000000000')).status).toBe(404);
  });

  it("a client study's trials are leased by its asks: a token not the ask's is a 409 at lease_token", async () => {
    // (test/client-leases.test.ts covers client leases in full.)
    const client = await json(post('/v1/studies', { name: 'client', space: SPACE }));
    const asked = await json(post(`/v1/studies/${client.id}/ask`));
    for (const call of ['tell', 'heartbeat']) {
      const res = await post(`/v1/studies/${client.id}/trials/0/${call}`, {
        ...(call === 'tell' ? { value: 1 } : {}),
        lease_token: 'lease_x',
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as any).errors[0].path).toBe('lease_token');
    }
    expect(
      (
        await post(`/v1/studies/${client.id}/trials/0/heartbeat`, {
          lease_token: asked.lease.token,
        })
      ).status,
    ).toBe(200);
  });

  it('documents the runner and edge endpoints in the OpenAPI document', async () => {
    const doc = (await (await api('/openapi.json', { key: null })).json()) as any;
    expect(Object.keys(doc.paths['/v1/runners/lease'].post.responses).sort()).toEqual([
      '200',
      '204',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '415',
      '422',
    ]);
    for (const p of ['heartbeat', 'release', 'report', 'tell'])
      expect(doc.paths[`/v1/studies/{id}/trials/{number}/${p}`].post).toBeTruthy();
    expect(doc.paths['/v1/studies/{id}/run'].post.responses['202']).toBeTruthy();
    expect(doc.components.schemas.LeaseGrant).toBeTruthy();
    expect(JSON.stringify(doc.components.schemas.Executor)).toContain('dispatch_url');
    // The root lists every documented route, from the same registry.
    const root = (await (await api('/api', { key: null })).json()) as any;
    const documented = Object.entries(doc.paths).flatMap(([p, ops]: [string, any]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect([...root.endpoints].sort()).toEqual(documented.sort());
    expect(root.endpoints).toContain('POST /v1/runners/lease');
  });
});

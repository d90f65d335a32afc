// Several objectives, constraints and the sampler of each trial, through the API and the study's
// Durable Object: validation with field paths, the Pareto front (best_trials) against one computed
// here another way, constraints deciding best_trial, the repeat-tell rule with values, and the
// `sampler` recorded at ask time as proposerOf says.
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';
import { makeSampler } from '../src/tuning/registry';
import { proposerOf, type FrozenTrial } from '../src/tuning/types';

const SPACE = {
  x: { type: 'float', low: 0, high: 1 },
  y: { type: 'float', low: 0, high: 1 },
};
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

async function createStudy(overrides: Record<string, unknown> = {}) {
  const res = await api('/v1/studies', {
    body: { name: 'mo', space: SPACE, sampler: { name: 'random', seed: 3 }, ...overrides },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as any;
}
const problem = async (res: Promise<Response>) => {
  const r = await res;
  return { status: r.status, ...((await r.json()) as any) };
};
const tell = (id: string, n: number, body: unknown) =>
  post(`/v1/studies/${id}/trials/${n}/tell`, body);

describe('objectives: creation', () => {
  it('defaults to the auto sampler and one objective, answered as one-element directions and metrics', async () => {
    const res = await api('/v1/studies', { body: { name: 'plain', space: SPACE } });
    expect(res.status).toBe(201);
    const s = (await res.json()) as any;
    expect(s.sampler.name).toBe('auto');
    expect(Number.isInteger(s.sampler.seed)).toBe(true);
    expect(s).toMatchObject({
      direction: 'minimize',
      metric: 'value',
      directions: ['minimize'],
      metrics: ['value'],
      best_trial: null,
      best_trials: [],
    });
  });

  it('takes directions and metrics (default names objective_i), and a one-element directions is a single-objective study', async () => {
    const two = await createStudy({
      directions: ['minimize', 'maximize'],
      metrics: ['val_loss', 'accuracy'],
    });
    expect(two).toMatchObject({
      direction: 'minimize',
      metric: 'val_loss',
      directions: ['minimize', 'maximize'],
      metrics: ['val_loss', 'accuracy'],
    });
    const unnamed = await createStudy({ directions: ['maximize', 'minimize', 'minimize'] });
    expect(unnamed.metrics).toEqual(['objective_0', 'objective_1', 'objective_2']);
    expect(unnamed.direction).toBe('maximize');
    const one = await createStudy({ directions: ['maximize'], metrics: ['acc'] });
    expect(one).toMatchObject({
      direction: 'maximize',
      metric: 'acc',
      directions: ['maximize'],
      metrics: ['acc'],
    });
    await post(`/v1/studies/${one.id}/ask`);
    expect((await tell(one.id, 0, { value: 0.9 })).status).toBe(200);
    const read = await json(api(`/v1/studies/${one.id}`));
    expect(read.best_trial).toMatchObject({ number: 0, value: 0.9, values: [0.9] });
    expect(read.best_trials.map((t: any) => t.number)).toEqual([0]);
  });

  const cases: [string, Record<string, unknown>, string][] = [
    [
      'direction with directions',
      { direction: 'minimize', directions: ['minimize', 'minimize'] },
      'direction',
    ],
    [
      'metric with metrics',
      { metric: 'loss', directions: ['minimize', 'minimize'], metrics: ['a', 'b'] },
      'metric',
    ],
    [
      'metrics of another length',
      { directions: ['minimize', 'minimize'], metrics: ['a', 'b', 'c'] },
      'metrics',
    ],
    ['several metrics without directions', { metrics: ['a', 'b'] }, 'metrics'],
    [
      'a metric named twice',
      { directions: ['minimize', 'minimize'], metrics: ['a', 'a'] },
      'metrics',
    ],
    ['nine directions', { directions: Array(9).fill('minimize') }, 'directions'],
    ['no directions', { directions: [] }, 'directions'],
    ['a misspelt direction', { directions: ['minimize', 'maximise'] }, 'directions.1'],
    [
      'a pruner with two objectives',
      { directions: ['minimize', 'minimize'], pruner: { name: 'median' } },
      'pruner',
    ],
    [
      'an edge study with two objectives',
      {
        directions: ['minimize', 'minimize'],
        executor: { kind: 'edge', probe: { data: { kind: 'synthetic', name: 'blobs' } } },
      },
      'directions',
    ],
  ];
  for (const [what, body, path] of cases) {
    it(`422 at ${path} for ${what}`, async () => {
      const p = await problem(api('/v1/studies', { body: { name: 'bad', space: SPACE, ...body } }));
      expect(p.status).toBe(422);
      expect(p.errors.map((e: any) => e.path)).toContain(path);
    });
  }

  it('says the closest direction for a typo', async () => {
    const p = await problem(
      api('/v1/studies', {
        body: { name: 'bad', space: SPACE, directions: ['minimise', 'minimize'] },
      }),
    );
    expect(p.errors).toContainEqual({
      path: 'directions.0',
      message: expect.stringContaining("did you mean 'minimize'"),
    });
  });
});

describe('objectives: telling values', () => {
  it('refuses value for two objectives, the wrong count, non-finite and over-long arrays, each at its field', async () => {
    const s = await createStudy({ directions: ['minimize', 'minimize'] });
    await post(`/v1/studies/${s.id}/ask`);
    const single = await problem(tell(s.id, 0, { value: 1 }));
    expect(single.status).toBe(422);
    expect(single.errors[0].path).toBe('value');
    expect(single.errors[0].message).toMatch(/values.*2 numbers/);
    const short = await problem(tell(s.id, 0, { values: [1] }));
    expect(short.status).toBe(422);
    expect(short.errors[0].path).toBe('values');
    expect((await problem(tell(s.id, 0, { values: [1, 2, 3] }))).errors[0].path).toBe('values');
    expect((await problem(tell(s.id, 0, { values: [1, 'x'] }))).errors[0].path).toBe('values.1');
    expect((await problem(tell(s.id, 0, { values: [] }))).errors[0].path).toBe('values');
    expect((await problem(tell(s.id, 0, { values: Array(1000).fill(1) }))).errors[0].path).toBe(
      'values',
    );
    expect((await problem(tell(s.id, 0, { value: 1, values: [1, 2] }))).errors[0].path).toBe(
      'values',
    );
    // 1e999 is valid JSON that reads as Infinity: refused as the single value's is.
    const inf = await problem(
      api(`/v1/studies/${s.id}/trials/0/tell`, {
        raw: '{"values": [1, 1e999]}',
        headers: { 'Content-Type': 'application/json' },
      }),
    );
    expect(inf.status).toBe(422);
    expect(inf.errors[0].path).toBe('values.1');
    const infSingle = await problem(
      api(`/v1/studies/${s.id}/trials/0/tell`, {
        raw: '{"value": -1e999}',
        headers: { 'Content-Type': 'application/json' },
      }),
    );
    expect(infSingle.status).toBe(422);
    expect(
      (await problem(tell(s.id, 0, { values: [1, 2], constraints: Array(17).fill(0) }))).errors[0]
        .path,
    ).toBe('constraints');
    expect((await problem(tell(s.id, 0, { values: [1, 2], constraints: [] }))).errors[0].path).toBe(
      'constraints',
    );
    expect(
      (await problem(tell(s.id, 0, { state: 'failed', constraints: [1] }))).errors[0].path,
    ).toBe('constraints');
    // Nothing was stored by the refusals: the trial still runs, and takes a good tell.
    expect((await json(api(`/v1/studies/${s.id}/trials`))).trials[0]).toMatchObject({
      state: 'running',
      value: null,
      values: null,
      constraints: null,
    });
    const ok = await json(tell(s.id, 0, { values: [1, 2] }));
    expect(ok).toMatchObject({ state: 'complete', value: null, values: [1, 2], constraints: null });
  });

  it('applies the repeat rule to values and constraints, in either form of a single objective', async () => {
    const multi = await createStudy({ directions: ['minimize', 'maximize'] });
    await post(`/v1/studies/${multi.id}/ask`);
    const first = await json(tell(multi.id, 0, { values: [0.5, 3], constraints: [-1] }));
    const again = await tell(multi.id, 0, { values: [0.5, 3], constraints: [-1] });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    expect((await tell(multi.id, 0, { values: [0.5, 4], constraints: [-1] })).status).toBe(409);
    expect((await tell(multi.id, 0, { values: [0.5, 3], constraints: [-2] })).status).toBe(409);
    expect((await tell(multi.id, 0, { values: [0.5, 3] })).status).toBe(409);

    const one = await createStudy();
    await post(`/v1/studies/${one.id}/ask-batch`, { count: 2 });
    const told = await json(tell(one.id, 0, { value: 0.25 }));
    expect(told).toMatchObject({ value: 0.25, values: [0.25], constraints: null });
    // {"values": [v]} is the same tell as {"value": v}.
    const same = await tell(one.id, 0, { values: [0.25] });
    expect(same.status).toBe(200);
    expect(await same.json()).toEqual(told);
    expect((await tell(one.id, 0, { values: [0.3] })).status).toBe(409);
    // A later trial brings constraints in: the trial told before them still repeats as it was.
    expect((await tell(one.id, 1, { values: [0.5], constraints: [0, 2] })).status).toBe(200);
    expect((await tell(one.id, 0, { value: 0.25 })).status).toBe(200);
  });

  it('holds every tell to the constraint count of the first that gave any', async () => {
    const s = await createStudy();
    await post(`/v1/studies/${s.id}/ask-batch`, { count: 4 });
    expect((await tell(s.id, 0, { value: 1 })).status).toBe(200);
    expect((await tell(s.id, 1, { value: 2, constraints: [-1, -2] })).status).toBe(200);
    const fewer = await problem(tell(s.id, 2, { value: 3, constraints: [-1] }));
    expect(fewer.status).toBe(422);
    expect(fewer.errors).toEqual([
      { path: 'constraints', message: expect.stringMatching(/told 2 constraints; send 2, not 1/) },
    ]);
    const none = await problem(tell(s.id, 2, { value: 3 }));
    expect(none.status).toBe(422);
    expect(none.errors[0].path).toBe('constraints');
    expect((await tell(s.id, 2, { value: 3, constraints: [0, 0] })).status).toBe(200);
    // Failed and pruned trials take no constraints and are unaffected.
    expect((await tell(s.id, 3, { state: 'failed', error: 'oom' })).status).toBe(200);
  });

  it('refuses reports in a study with several objectives (409), as Optuna does', async () => {
    const s = await createStudy({ directions: ['minimize', 'minimize'] });
    await post(`/v1/studies/${s.id}/ask`);
    const p = await problem(post(`/v1/studies/${s.id}/trials/0/report`, { step: 1, value: 0.5 }));
    expect(p.status).toBe(409);
    expect(p.detail).toMatch(/2 objectives/);
    expect(
      (
        await problem(
          post(`/v1/studies/${s.id}/trials/0/report`, { points: [{ step: 1, value: 0.5 }] }),
        )
      ).status,
    ).toBe(409);
  });
});

/** The Pareto front of `points` (index order), with a sweep: by the first objective, then the second; a point is on it when no earlier point is as good on the second (ties on both kept). */
function front2d(
  points: [number, number][],
  directions: ['minimize' | 'maximize', 'minimize' | 'maximize'],
): number[] {
  const s = directions.map((d) => (d === 'minimize' ? 1 : -1));
  const order = points
    .map((p, i) => ({ a: p[0] * s[0], b: p[1] * s[1], i }))
    .sort((p, q) => p.a - q.a || p.b - q.b);
  const out: number[] = [];
  let bestB = Infinity;
  let last: { a: number; b: number } | null = null;
  for (const p of order) {
    if (p.b < bestB || (last && p.a === last.a && p.b === last.b)) {
      out.push(p.i);
      if (p.b < bestB) last = p;
      bestB = Math.min(bestB, p.b);
    }
  }
  return out.sort((x, y) => x - y);
}

describe('objectives: the Pareto front and constraints', () => {
  it('answers best_trials, the front of the feasible complete trials, equal to one computed independently', async () => {
    const directions: ['minimize', 'maximize'] = ['minimize', 'maximize'];
    const s = await createStudy({ directions, metrics: ['val_loss', 'accuracy'], max_trials: 24 });
    const batch = await json(post(`/v1/studies/${s.id}/ask-batch`, { count: 24 }));
    expect(batch.trials).toHaveLength(24);
    const told: { n: number; v: [number, number]; feasible: boolean }[] = [];
    for (let n = 0; n < 24; n++) {
      if (n % 7 === 6) {
        await tell(s.id, n, { state: 'failed', error: 'x' });
        continue;
      }
      // Deterministic values with ties; every fifth trial infeasible.
      const v: [number, number] = [((n * 7) % 11) / 10, ((n * 5) % 9) / 10];
      const feasible = n % 5 !== 2;
      const res = await tell(s.id, n, { values: v, constraints: [feasible ? -0.5 : 0.25] });
      expect(res.status).toBe(200);
      told.push({ n, v, feasible });
    }
    const feasible = told.filter((t) => t.feasible);
    const expected = front2d(
      feasible.map((t) => t.v),
      directions,
    ).map((i) => feasible[i].n);
    expect(expected.length).toBeGreaterThan(1);
    const study = await json(api(`/v1/studies/${s.id}`));
    expect(study.state).toBe('completed');
    expect(study.best_trial).toBeNull();
    expect(study.best_trials.map((t: any) => t.number)).toEqual(expected);
    // An infeasible trial that would be on the front without its constraint is left out.
    const all = front2d(
      told.map((t) => t.v),
      directions,
    ).map((i) => told[i].n);
    expect(all).not.toEqual(expected);
    for (const t of study.best_trials)
      expect(t).toMatchObject({
        state: 'complete',
        value: null,
        values: told.find((x) => x.n === t.number)!.v,
      });
    // D1's study row holds no best value for several objectives.
    await stubOf(s.id).flush();
    const row = await env.DB.prepare(
      'SELECT best_trial_number, best_value, config FROM studies WHERE id = ?',
    )
      .bind(s.id)
      .first<any>();
    expect(row).toMatchObject({ best_trial_number: null, best_value: null });
    expect(JSON.parse(row.config)).toMatchObject({ directions, metrics: ['val_loss', 'accuracy'] });
  });

  it('lets constraints decide best_trial: an infeasible better value is passed over', async () => {
    const s = await createStudy();
    await post(`/v1/studies/${s.id}/ask-batch`, { count: 3 });
    await tell(s.id, 0, { value: 0.1, constraints: [0.5] });
    let study = await json(api(`/v1/studies/${s.id}`));
    expect(study.best_trial).toBeNull();
    expect(study.best_trials).toEqual([]);
    await tell(s.id, 1, { value: 0.4, constraints: [0] });
    study = await json(api(`/v1/studies/${s.id}`));
    expect(study.best_trial).toMatchObject({ number: 1, value: 0.4, constraints: [0] });
    expect(study.best_trials.map((t: any) => t.number)).toEqual([1]);
    await tell(s.id, 2, { value: 0.3, constraints: [-0.1] });
    study = await json(api(`/v1/studies/${s.id}`));
    expect(study.best_trial.number).toBe(2);
    await stubOf(s.id).flush();
    const row = await env.DB.prepare(
      'SELECT best_trial_number, best_value FROM studies WHERE id = ?',
    )
      .bind(s.id)
      .first<any>();
    expect(row).toEqual({ best_trial_number: 2, best_value: 0.3 });
  });
});

describe('objectives: importance per objective', () => {
  it('explains the objective asked for (default the first), and 422 at objective past the last', async () => {
    const s = await createStudy({ directions: ['minimize', 'minimize'], metrics: ['fx', 'gy'] });
    const { trials } = await json(post(`/v1/studies/${s.id}/ask-batch`, { count: 16 }));
    // The first objective depends on x alone, the second on y alone.
    for (const t of trials) await tell(s.id, t.number, { values: [t.params.x, t.params.y] });
    const first = await json(api(`/v1/studies/${s.id}/importance`));
    expect(first.objective).toEqual({ index: 0, metric: 'fx' });
    expect(first.n_trials).toBe(16);
    const top = (imp: any) =>
      [...imp.params].sort((a: any, b: any) => b.importance - a.importance)[0].name;
    expect(top(first)).toBe('x');
    const second = await json(api(`/v1/studies/${s.id}/importance?objective=1`));
    expect(second.objective).toEqual({ index: 1, metric: 'gy' });
    expect(top(second)).toBe('y');
    const past = await problem(api(`/v1/studies/${s.id}/importance?objective=2`));
    expect(past.status).toBe(422);
    expect(past.errors[0].path).toBe('objective');
  });
});

describe('objectives: the sampler of each trial', () => {
  /** Ask and tell `n` trials one at a time; after each ask, check its sampler against proposerOf on the history the object had. */
  async function askAndCheck(study: any, n: number, directions?: ('minimize' | 'maximize')[]) {
    const sampler = makeSampler(study.sampler);
    for (let k = 0; k < n; k++) {
      const history = (await json(api(`/v1/studies/${study.id}/trials`))).trials as any[];
      const frozen: FrozenTrial[] = history.map((t) => ({
        number: t.number,
        state: t.state,
        params: t.params,
        value: t.value,
        values: directions ? t.values : null,
        constraints: t.constraints,
        intermediate: t.intermediate,
      }));
      const expected = proposerOf(sampler, {
        space: study.space,
        trials: frozen,
        direction: study.direction,
        ...(directions ? { directions } : {}),
        seed: study.sampler.seed,
        trialNumber: history.length,
      });
      const t = await json(post(`/v1/studies/${study.id}/ask`));
      expect(t.number).toBe(history.length);
      expect(t.sampler).toBe(expected);
      const x = t.params.x as number;
      await tell(
        study.id,
        t.number,
        directions ? { values: [x, 1 - x * x] } : { value: (x - 0.3) ** 2 },
      );
    }
  }

  it('records who proposed each asked trial (auto: its delegate), and null for enqueued params', async () => {
    const s = await createStudy({ sampler: { name: 'auto', seed: 11 } });
    await post(`/v1/studies/${s.id}/trials`, { params: { x: 0.5, y: 0.5 } });
    const given = await json(post(`/v1/studies/${s.id}/ask`));
    expect(given).toMatchObject({ number: 0, sampler: null });
    await tell(s.id, 0, { value: 0.04 });
    await askAndCheck(s, 5);
    const trials = (await json(api(`/v1/studies/${s.id}/trials`))).trials;
    expect(
      trials.slice(1).every((t: any) => typeof t.sampler === 'string' && t.sampler !== 'auto'),
    ).toBe(true);
    const random = await createStudy();
    expect((await json(post(`/v1/studies/${random.id}/ask`))).sampler).toBe('random');
  });

  it('gives samplers the directions and values of a study with several objectives', async () => {
    const s = await createStudy({
      sampler: { name: 'auto', seed: 5 },
      directions: ['minimize', 'minimize'],
    });
    await askAndCheck(s, 4, ['minimize', 'minimize']);
  });

  it('lists directions and metrics in a runner lease', async () => {
    const s = await createStudy({
      directions: ['minimize', 'maximize'],
      metrics: ['loss', 'acc'],
      executor: { kind: 'runner' },
    });
    const grant = await json(post('/v1/runners/lease', { study_id: s.id }));
    expect(grant.study).toMatchObject({
      directions: ['minimize', 'maximize'],
      metrics: ['loss', 'acc'],
    });
    expect(grant.trial.sampler).toBe('random');
    const told = await json(
      tell(s.id, grant.trial.number, { values: [1, 2], lease_token: grant.lease.token }),
    );
    expect(told).toMatchObject({ state: 'complete', values: [1, 2] });
  });
});

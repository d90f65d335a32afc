import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';
import type { PrunerName } from '../src/contract/names';
import { PRUNERS, SAMPLERS } from '../src/tuning/registry';
import { newId } from '../src/lib/ids';
import { DEFAULT_PAGE_SIZE } from '../src/contract/limits';

const SPACE = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
  beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'adam' } },
  layers: { type: 'int', low: 1, high: 4 },
};

async function createStudy(overrides: Record<string, unknown> = {}) {
  const res = await api('/v1/studies', {
    body: { name: 'test', space: SPACE, sampler: { name: 'random', seed: 7 }, ...overrides },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

describe('studies: ask and tell', () => {
  it('creates a study, asks, tells, and reads it back', async () => {
    const study = await createStudy({ metadata: { git_sha: 'abc123' } });
    expect(study.id).toMatch(/^std_/);
    expect(study).toMatchObject({
      name: 'test',
      direction: 'minimize',
      state: 'running',
      n_trials: 0,
      best_trial: null,
      max_trials: null,
    });
    expect(study.metadata).toEqual({ git_sha: 'abc123' });
    const t0 = await json(post(`/v1/studies/${study.id}/ask`));
    expect(t0).toMatchObject({ study_id: study.id, number: 0, state: 'running', value: null });
    expect(t0.params.lr).toBeGreaterThanOrEqual(1e-5);
    expect(t0.params.lr).toBeLessThanOrEqual(1);
    expect(Number.isInteger(t0.params.layers)).toBe(true);
    expect('beta1' in t0.params).toBe(t0.params.optimizer === 'adam');
    const told = await json(post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.27 }));
    expect(told).toMatchObject({ number: 0, state: 'complete', value: 0.27 });
    const again = await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.27 });
    expect(again.status).toBe(200);
    expect((await again.json()) as any).toEqual(told);
    const different = await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.3 });
    expect(different.status).toBe(409);
    const read = await json(api(`/v1/studies/${study.id}`));
    expect(read.n_trials).toBe(1);
    expect(read.best_trial.number).toBe(0);
    const trials = await json(api(`/v1/studies/${study.id}/trials`));
    expect(trials.trials).toHaveLength(1);
  });

  it('answers 409 past max_trials, completes the study and keeps best_trial current', async () => {
    const study = await createStudy({ max_trials: 3, direction: 'maximize' });
    const batch = await json(post(`/v1/studies/${study.id}/ask-batch`, { count: 3 }));
    expect(batch.trials.map((t: any) => t.number)).toEqual([0, 1, 2]);
    expect((await post(`/v1/studies/${study.id}/ask`)).status).toBe(409);
    await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 1 });
    await post(`/v1/studies/${study.id}/trials/1/tell`, { value: 5 });
    expect((await json(api(`/v1/studies/${study.id}`))).state).toBe('running');
    await post(`/v1/studies/${study.id}/trials/2/tell`, { state: 'failed', error: 'diverged' });
    const done = await json(api(`/v1/studies/${study.id}`));
    expect(done.state).toBe('completed');
    expect(done.best_trial).toMatchObject({ number: 1, value: 5 });
  });

  it('ask answers one Trial and ask-batch {"trials": [...]}: a count sent to ask is a 422 that names ask-batch', async () => {
    const study = await createStudy({ max_trials: 5 });
    const one = await json(post(`/v1/studies/${study.id}/ask`));
    expect(one).toMatchObject({ study_id: study.id, number: 0, state: 'running' });
    // No body at all is the same ask.
    const bare = await json(api(`/v1/studies/${study.id}/ask`, { method: 'POST' }));
    expect(bare.number).toBe(1);
    for (const count of [1, 3]) {
      const old = await post(`/v1/studies/${study.id}/ask`, { count });
      expect(old.status).toBe(422);
      expect(old.headers.get('content-type')).toContain('application/problem+json');
      const p = (await old.json()) as any;
      expect(p.errors).toEqual([{ path: 'count', message: expect.stringContaining('ask-batch') }]);
      expect(p.detail).toContain('POST /v1/studies/{id}/ask-batch');
    }
    // A batch of one is still {"trials": [...]}; past max_trials it answers the trials it could start.
    const single = await json(post(`/v1/studies/${study.id}/ask-batch`, { count: 1 }));
    expect(single.trials.map((t: any) => t.number)).toEqual([2]);
    const rest = await json(post(`/v1/studies/${study.id}/ask-batch`, { count: 5 }));
    expect(rest.trials.map((t: any) => t.number)).toEqual([3, 4]);
    expect((await post(`/v1/studies/${study.id}/ask-batch`, { count: 1 })).status).toBe(409);
    const missing = (await (await post(`/v1/studies/${study.id}/ask-batch`, {})).json()) as any;
    expect(missing.errors).toEqual([{ path: 'count', message: 'required' }]);
    for (const count of [0, 101, 1.5, '2'])
      expect((await post(`/v1/studies/${study.id}/ask-batch`, { count })).status).toBe(422);
  });

  it('gives 50 concurrent asks 50 distinct dense numbers, and loses none of 200 concurrent tells', async () => {
    const study = await createStudy();
    const asked = await Promise.all(
      Array.from({ length: 50 }, () => json(post(`/v1/studies/${study.id}/ask`))),
    );
    expect(asked.map((t) => t.number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    const more = await json(post(`/v1/studies/${study.id}/ask-batch`, { count: 100 }));
    const more2 = await json(post(`/v1/studies/${study.id}/ask-batch`, { count: 50 }));
    expect(more.trials.length + more2.trials.length).toBe(150);
    const tells = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post(`/v1/studies/${study.id}/trials/${i}/tell`, { value: i / 10 }).then((r) => r.status),
      ),
    );
    expect(tells.every((s) => s === 200)).toBe(true);
    const trials = (await json(api(`/v1/studies/${study.id}/trials`))).trials;
    expect(trials).toHaveLength(200);
    expect(trials.every((t: any, i: number) => t.state === 'complete' && t.value === i / 10)).toBe(
      true,
    );
  });

  it('returns an enqueued trial first, and validates its params', async () => {
    const study = await createStudy();
    const bad = await post(`/v1/studies/${study.id}/trials`, {
      params: { lr: 5, optimizer: 'sgd', layers: 2 },
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors.map((e: any) => e.path)).toContain('params.lr');
    const queued = await post(`/v1/studies/${study.id}/trials`, {
      params: { lr: 0.01, optimizer: 'adam', beta1: 0.9, layers: 2 },
    });
    expect(queued.status).toBe(201);
    expect(await queued.json()).toMatchObject({ number: 0, state: 'waiting' });
    const t = await json(post(`/v1/studies/${study.id}/ask`));
    expect(t).toMatchObject({
      number: 0,
      state: 'running',
      params: { lr: 0.01, optimizer: 'adam', beta1: 0.9, layers: 2 },
    });
    expect((await json(post(`/v1/studies/${study.id}/ask`))).number).toBe(1);
  });

  it('takes reports while a trial runs and refuses a different value at the same step', async () => {
    const study = await createStudy({ pruner: { name: 'median' } });
    await post(`/v1/studies/${study.id}/ask`);
    const r = await json(post(`/v1/studies/${study.id}/trials/0/report`, { step: 1, value: 0.5 }));
    expect(typeof r.should_prune).toBe('boolean');
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/report`, { step: 1, value: 0.5 })).status,
    ).toBe(200);
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/report`, { step: 1, value: 0.7 })).status,
    ).toBe(409);
    const t = (await json(api(`/v1/studies/${study.id}/trials`))).trials[0];
    expect(t.intermediate).toEqual([{ step: 1, value: 0.5 }]);
    await post(`/v1/studies/${study.id}/trials/0/tell`, { state: 'pruned' });
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/report`, { step: 2, value: 0.4 })).status,
    ).toBe(409);
  });

  it('gives the same next suggestion after an object restart as a twin study with the same history', async () => {
    const a = await createStudy({ sampler: { name: 'random', seed: 99 } });
    const b = await createStudy({ sampler: { name: 'random', seed: 99 } });
    for (const s of [a, b]) {
      for (let i = 0; i < 3; i++) {
        await post(`/v1/studies/${s.id}/ask`);
        await post(`/v1/studies/${s.id}/trials/${i}/tell`, { value: i });
      }
    }
    await abortAllDurableObjects();
    const nextA = await json(post(`/v1/studies/${a.id}/ask`));
    const nextB = await json(post(`/v1/studies/${b.id}/ask`));
    expect(nextA.params).toEqual(nextB.params);
    expect(nextA.number).toBe(3);
  });

  it('writes through to D1, and retries from the outbox when D1 fails', async () => {
    const study = await createStudy();
    await post(`/v1/studies/${study.id}/ask`);
    await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 0.5 });
    const stub = stubOf(study.id);
    await stub.flush();
    expect(await stub.pendingWrites()).toBe(0);
    const row = await env.DB.prepare(
      'SELECT state, value FROM trials WHERE study_id = ? AND number = 0',
    )
      .bind(study.id)
      .first();
    expect(row).toEqual({ state: 'complete', value: 0.5 });
    const params = await env.DB.prepare(
      'SELECT name FROM trial_params WHERE study_id = ? AND number = 0 ORDER BY name',
    )
      .bind(study.id)
      .all();
    expect(params.results.map((r: any) => r.name)).toContain('lr');

    // D1 down: the tell still succeeds, the write waits in the outbox, an alarm retries it.
    type Swappable = { env: Env; realDb?: D1Database };
    await runInDurableObject(stub, (instance) => {
      const inst = instance as unknown as Swappable;
      inst.realDb = inst.env.DB;
      inst.env.DB = new Proxy(inst.realDb, {
        get: () => () => {
          throw new Error('D1 unavailable');
        },
      }) as D1Database;
    });
    await post(`/v1/studies/${study.id}/ask`);
    await stub.flush();
    expect(await stub.pendingWrites()).toBeGreaterThan(0);
    await runInDurableObject(stub, (instance) => {
      const inst = instance as unknown as Swappable;
      inst.env.DB = inst.realDb!;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.pendingWrites()).toBe(0);
    const t1 = await env.DB.prepare('SELECT state FROM trials WHERE study_id = ? AND number = 1')
      .bind(study.id)
      .first();
    expect(t1).toEqual({ state: 'running' });
  });

  it('lists a D1 row whose object is gone as unavailable, with 200 for the page', async () => {
    const live = await createStudy({ name: 'beside-an-orphan' });
    await stubOf(live.id).flush();
    // A study row D1 holds whose Durable Object holds nothing (lost, or never written).
    const orphan = newId('std');
    const config = {
      space: SPACE,
      sampler: { name: 'random', seed: 1 },
      pruner: { name: 'none' },
      executor: { kind: 'client' },
      max_trials: 10,
      metadata: { lost: true },
      directions: ['minimize'],
      metrics: ['value'],
    };
    await env.DB.prepare(
      `INSERT INTO studies (id, project_id, name, direction, metric, config, state, n_trials, best_trial_number, best_value, created_at, updated_at)
       VALUES (?, 'prj_default', 'orphaned', 'minimize', 'value', ?, 'running', 3, NULL, NULL, ?, ?)`,
    )
      .bind(orphan, JSON.stringify(config), Date.now(), Date.now())
      .run();
    expect((await api(`/v1/studies/${orphan}`)).status).toBe(404);
    const res = await api('/v1/studies?limit=100');
    expect(res.status).toBe(200);
    const page = (await res.json()) as any;
    const listed = page.studies.find((s: any) => s.id === orphan);
    expect(listed).toMatchObject({
      id: orphan,
      name: 'orphaned',
      state: 'unavailable',
      n_trials: 3,
      max_trials: 10,
      metadata: { lost: true },
      executor: { kind: 'client' },
      best_trial: null,
      best_trials: [],
      storage: { d1: 'ok', pending: 0, parked: [] },
    });
    expect(listed.storage.reason).toMatch(/Durable Object/);
    expect(page.studies.find((s: any) => s.id === live.id).state).toBe('running');
    // ?name= lists the studies of that name only.
    const named = await json(api('/v1/studies?name=orphaned'));
    expect(named.studies.map((s: any) => s.id)).toEqual([orphan]);
    expect(named.next_cursor).toBeNull();
    const doc = (await (await api('/openapi.json', { key: null })).json()) as any;
    expect(doc.components.schemas.Study.properties.state.enum).toEqual([
      'running',
      'completed',
      'unavailable',
    ]);
  });

  it('lists studies newest first with a cursor', async () => {
    const s1 = await createStudy({ name: 'page-a' });
    const s2 = await createStudy({ name: 'page-b' });
    await stubOf(s1.id).flush();
    await stubOf(s2.id).flush();
    const page = await json(api('/v1/studies?limit=1'));
    expect(page.studies).toHaveLength(1);
    expect(page.next_cursor).toBeTruthy();
    const next = await json(api(`/v1/studies?limit=1&cursor=${page.next_cursor}`));
    expect(next.studies[0].id < page.studies[0].id).toBe(true);
  });

  it('without a limit, a page holds the default the OpenAPI document states', async () => {
    for (let i = 0; i <= DEFAULT_PAGE_SIZE; i++) await createStudy({ name: `default-page-${i}` });
    const page = await json(api('/v1/studies'));
    expect(page.studies).toHaveLength(DEFAULT_PAGE_SIZE);
    expect(page.next_cursor).toBeTruthy();
    const doc = (await (await api('/openapi.json', { key: null })).json()) as any;
    for (const path of ['/v1/studies', '/v1/lr-range-tests']) {
      const limit = doc.paths[path].get.parameters.find((p: any) => p.name === 'limit');
      expect(limit.description, path).toContain(`default ${DEFAULT_PAGE_SIZE})`);
    }
  });
});

describe('studies: bad input is a 4xx with its path', () => {
  const cases: [string, unknown, number, string][] = [
    [
      'low >= high',
      { name: 'x', space: { lr: { type: 'float', low: 1, high: 0.1 } } },
      422,
      'space.lr.low',
    ],
    [
      'log with low <= 0',
      { name: 'x', space: { lr: { type: 'float', low: 0, high: 1, log: true } } },
      422,
      'space.lr.low',
    ],
    [
      'a step that does not divide the range',
      { name: 'x', space: { m: { type: 'float', low: 0, high: 1, step: 0.3 } } },
      422,
      'space.m.step',
    ],
    [
      'empty choices',
      { name: 'x', space: { o: { type: 'categorical', choices: [] } } },
      422,
      'space.o.choices',
    ],
    [
      'a when naming an unknown parameter',
      { name: 'x', space: { b: { type: 'float', low: 0, high: 1, when: { opt: 'adam' } } } },
      422,
      'space.b.when.opt',
    ],
    [
      'a when naming a non-categorical parameter',
      {
        name: 'x',
        space: {
          a: { type: 'float', low: 0, high: 1 },
          b: { type: 'float', low: 0, high: 1, when: { a: 1 } },
        },
      },
      422,
      'space.b.when.a',
    ],
    [
      'an unknown sampler',
      { name: 'x', space: SPACE, sampler: { name: 'cmaes' } },
      422,
      'sampler.name',
    ],
    [
      'grid over a continuous range',
      { name: 'x', space: { lr: { type: 'float', low: 0.1, high: 1 } }, sampler: { name: 'grid' } },
      422,
      'space.lr',
    ],
    ['a missing name', { space: SPACE }, 422, 'name'],
  ];
  for (const [what, body, status, path] of cases) {
    it(`${status} for ${what} at ${path}`, async () => {
      const res = await api('/v1/studies', { body });
      expect(res.status).toBe(status);
      const p = (await res.json()) as any;
      expect(p.errors.map((e: any) => e.path)).toContain(path);
    });
  }

  it('404 for unknown studies and trials, 422 for bad ask/report/tell bodies', async () => {
    expect((await api('/v1/studies/std_01M8J5A2SGA48P851EWCP01YV3')).status).toBe(404);
    expect((await api('/v1/studies/nope')).status).toBe(404);
    const study = await createStudy();
    expect((await post(`/v1/studies/${study.id}/trials/5/tell`, { value: 1 })).status).toBe(404);
    expect((await post(`/v1/studies/${study.id}/ask-batch`, { count: 0 })).status).toBe(422);
    await post(`/v1/studies/${study.id}/ask`);
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/report`, { step: -1, value: 1 })).status,
    ).toBe(422);
    expect((await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 'x' })).status).toBe(422);
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/tell`, { state: 'exploded' })).status,
    ).toBe(422);
    expect(
      (
        await api(`/v1/studies/${study.id}/trials/0/tell`, {
          raw: '{"value": NaN}',
          headers: { 'Content-Type': 'application/json' },
        })
      ).status,
    ).toBe(400);
  });
});

describe('studies: the registry of samplers and pruners, through the API', () => {
  const DISCRETE = {
    opt: { type: 'categorical', choices: ['sgd', 'adam'] },
    layers: { type: 'int', low: 1, high: 3 },
  };

  it('takes every registered sampler and pruner, stores it as given and asks with it', async () => {
    const pruners: Record<PrunerName, Record<string, unknown>> = {
      none: { name: 'none' },
      median: { name: 'median', n_warmup_steps: 1 },
      asha: { name: 'asha', reduction_factor: 2 },
      hyperband: { name: 'hyperband', max_resource: 9 },
    };
    for (const name of Object.keys(SAMPLERS)) {
      const study = await createStudy({ space: DISCRETE, sampler: { name, seed: 5 } });
      expect(study.sampler, name).toEqual({ name, seed: 5 });
      const t = await json(post(`/v1/studies/${study.id}/ask`));
      expect(t.number, name).toBe(0);
    }
    for (const name of Object.keys(PRUNERS) as PrunerName[]) {
      const study = await createStudy({ pruner: pruners[name] });
      expect(study.pruner, name).toEqual(pruners[name]);
    }
  });

  it('422 names every bad option of the sampler and the pruner at once, with the closest option', async () => {
    const res = await api('/v1/studies', {
      body: {
        name: 'x',
        space: SPACE,
        sampler: { name: 'tpe', seed: 1, n_startup_trails: 3, prior_weight: 0 },
        pruner: { name: 'asha', min_resorce: 1, reduction_factor: 1 },
      },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const p = (await res.json()) as any;
    expect(p.errors).toHaveLength(4);
    expect(p.errors).toEqual(
      expect.arrayContaining([
        {
          path: 'sampler.n_startup_trails',
          message: expect.stringContaining("did you mean 'n_startup_trials'?"),
        },
        { path: 'sampler.prior_weight', message: 'must be a number > 0, got 0' },
        {
          path: 'pruner.min_resorce',
          message: expect.stringContaining("did you mean 'min_resource'?"),
        },
        { path: 'pruner.reduction_factor', message: 'must be an integer >= 2, got 1' },
      ]),
    );
  });
});

describe('studies: the grid sampler', () => {
  it('asks every combination once, then answers 409', async () => {
    const res = await api('/v1/studies', {
      body: {
        name: 'grid',
        space: {
          opt: { type: 'categorical', choices: ['sgd', 'adam'] },
          layers: { type: 'int', low: 1, high: 3 },
        },
        sampler: { name: 'grid', seed: 1 },
      },
    });
    expect(res.status).toBe(201);
    const study = (await res.json()) as any;
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const t = (await (await api(`/v1/studies/${study.id}/ask`, { body: {} })).json()) as any;
      seen.add(`${t.params.opt}/${t.params.layers}`);
    }
    expect(seen.size).toBe(6);
    const over = await api(`/v1/studies/${study.id}/ask`, { body: {} });
    expect(over.status).toBe(409);
    expect(((await over.json()) as any).detail).toMatch(/grid is exhausted/);
  });

  it('an empty space is a define-by-run study; a grid needs its space declared', async () => {
    const res = await api('/v1/studies', { body: { name: 'x', space: {} } });
    expect(res.status).toBe(201);
    const grid = await api('/v1/studies', { body: { name: 'x', sampler: { name: 'grid' } } });
    expect(grid.status).toBe(422);
    expect(((await grid.json()) as any).errors[0].path).toBe('space');
  });
});

// Edge studies (executor "edge"): trials train as probes in queue-consumer
// invocations of the Worker (miniflare's local queue), report each epoch's
// validation loss so pruners work, and end failed with the reason when the
// probe cannot run. Inside workerd with the real Durable Object, queue, D1
// and TF.js WASM backend.
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, it, expect, vi } from 'vitest';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';
import { api, json, post } from './helpers';

const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

const PROBE = {
  model: { kind: 'mlp', hidden: [16], activation: 'relu' },
  task: 'classification',
  data: { kind: 'synthetic', name: 'blobs', n: 256, features: 4, classes: 3, noise: 1.0, seed: 2 },
  optimizer: { name: 'sgd' },
  batch_size: 32,
  seed: 0,
};
const SPACE = {
  lr: { type: 'float', low: 1e-4, high: 3, log: true },
  momentum: { type: 'float', low: 0, high: 0.95 },
};

async function createEdgeStudy(
  overrides: Record<string, unknown> = {},
  executor: Record<string, unknown> = {},
) {
  const res = await post('/v1/studies', {
    name: 'edge',
    space: SPACE,
    sampler: { name: 'tpe', seed: 1, n_startup_trials: 6 },
    max_trials: 20,
    executor: { kind: 'edge', probe: PROBE, epochs: 4, parallelism: 4, ...executor },
    ...overrides,
  });
  const body = (await res.json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** Poll until the study completes (the queue delivers trials in the background). */
async function waitCompleted(id: string, timeoutMs = 100_000) {
  const t0 = Date.now();
  for (;;) {
    const s = await json(api(`/v1/studies/${id}`));
    if (s.state === 'completed') return s;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `study ${id} did not complete: ${JSON.stringify({ n_trials: s.n_trials, state: s.state })}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

describe('edge studies', () => {
  it('runs 20 trials with ASHA on the edge: pruned and complete trials, a best better than random', async () => {
    const tuned = await createEdgeStudy({
      pruner: { name: 'asha', min_resource: 1, reduction_factor: 2 },
    });
    const random = await createEdgeStudy({
      name: 'edge-random',
      sampler: { name: 'random', seed: 1 },
    });
    expect(tuned.executor).toMatchObject({
      kind: 'edge',
      epochs: 4,
      parallelism: 4,
      validation_split: 0.2,
    });
    // Edge trials are run, not asked.
    expect((await post(`/v1/studies/${tuned.id}/ask`)).status).toBe(409);
    const started = await post(`/v1/studies/${tuned.id}/run`);
    expect(started.status).toBe(202);
    expect((await post(`/v1/studies/${random.id}/run`)).status).toBe(202);

    const done = await waitCompleted(tuned.id);
    const doneRandom = await waitCompleted(random.id);
    expect(done.n_trials).toBe(20);
    const { trials } = await json(api(`/v1/studies/${tuned.id}/trials`));
    const states = trials.map((t: any) => t.state);
    expect(states.filter((s: string) => s === 'complete').length).toBeGreaterThan(0);
    expect(states.filter((s: string) => s === 'pruned').length).toBeGreaterThan(0);
    expect(states.every((s: string) => ['complete', 'pruned', 'failed'].includes(s))).toBe(true);
    for (const t of trials.filter((t: any) => t.state === 'complete')) {
      // One validation loss per epoch, the last of which is the value.
      expect(t.intermediate.map((p: any) => p.step)).toEqual([1, 2, 3, 4]);
      expect(t.value).toBe(t.intermediate[3].value);
      expect(t.runner).toBe('edge');
    }
    for (const t of trials.filter((t: any) => t.state === 'pruned')) {
      expect(t.intermediate.length).toBeGreaterThan(0);
      expect(t.intermediate.length).toBeLessThan(4);
    }
    const randomTrials = (await json(api(`/v1/studies/${random.id}/trials`))).trials;
    const randomValues = randomTrials
      .filter((t: any) => t.state === 'complete')
      .map((t: any) => t.value);
    expect(doneRandom.n_trials).toBe(20);
    console.log(
      `edge study: best ${done.best_trial.value.toFixed(4)}, random median ${median(randomValues).toFixed(4)}, states ${JSON.stringify(states)}`,
    );
    expect(done.best_trial.value).toBeLessThan(median(randomValues));
    // Running it again once complete changes nothing.
    expect((await json(post(`/v1/studies/${tuned.id}/run`))).n_trials).toBe(20);
  });

  it('ends a trial failed with the reason when its probe is over the budget or diverges', async () => {
    // Over the budget: a wide model on many rows for many epochs (PROBE_MAX_GFLOP is 60).
    const heavy = await createEdgeStudy(
      { max_trials: 1, space: { lr: { type: 'float', low: 0.01, high: 0.1, log: true } } },
      {
        probe: {
          ...PROBE,
          model: { kind: 'mlp', hidden: [4096, 4096] },
          data: { ...PROBE.data, n: 20_000, features: 64 },
        },
        epochs: 200,
      },
    );
    await post(`/v1/studies/${heavy.id}/run`);
    await waitCompleted(heavy.id);
    const [t] = (await json(api(`/v1/studies/${heavy.id}/trials`))).trials;
    expect(t.state).toBe('failed');
    expect(t.error).toMatch(/over the edge budget: this trial needs about [\d.]+ GFLOP/);

    // Diverges: SGD at lr 1e6.
    const wild = await createEdgeStudy({
      max_trials: 1,
      space: { lr: { type: 'float', low: 1e6, high: 1e7, log: true } },
    });
    await post(`/v1/studies/${wild.id}/run`);
    await waitCompleted(wild.id);
    const [w] = (await json(api(`/v1/studies/${wild.id}/trials`))).trials;
    expect(w.state).toBe('failed');
    expect(w.error).toMatch(/diverged in epoch 1/);
  });

  it('applies the range test’s cap on the dataset to the same probe: both refuse it (rows x (features + 1) over PROBE_MAX_CELLS)', async () => {
    // 100,000 rows x 20 features: 2,000,000 feature values, 2,100,000 cells with the target; PROBE_MAX_CELLS is 2,000,000.
    const probe = {
      ...PROBE,
      model: { kind: 'mlp', hidden: [4] },
      data: { ...PROBE.data, n: 100_000, features: 20 },
      batch_size: 1024,
    };
    const rt = await post('/v1/lr-range-tests', { probe, range: { steps: 20 } });
    expect(rt.status).toBe(413);
    const refused = (await rt.json()) as any;
    expect(refused.detail).toBe(
      'probe.data: the dataset has 2100000 cells, over the edge limit of 2000000: send fewer rows or features',
    );
    expect(refused.errors[0].path).toBe('probe.data');

    const study = await createEdgeStudy(
      { max_trials: 1, space: { lr: { type: 'float', low: 0.01, high: 0.1, log: true } } },
      { probe, epochs: 1 },
    );
    await post(`/v1/studies/${study.id}/run`);
    await waitCompleted(study.id);
    const [t] = (await json(api(`/v1/studies/${study.id}/trials`))).trials;
    expect(t.state).toBe('failed');
    expect(t.error).toBe(`over the edge budget: ${refused.detail}`);
    expect(t.intermediate).toEqual([]);
  });

  it('hands the trials back when the queue refuses them, and sends them again by alarm', async () => {
    const study = await createEdgeStudy(
      { max_trials: 2, space: { lr: { type: 'float', low: 0.01, high: 0.1, log: true } } },
      { parallelism: 2, epochs: 1 },
    );
    const stub = stubOf(study.id);
    type Swappable = { env: Env; realQueue?: Queue };
    await runInDurableObject(stub, (instance) => {
      const inst = instance as unknown as Swappable;
      inst.realQueue = inst.env.EDGE_TRIALS;
      inst.env.EDGE_TRIALS = {
        sendBatch: async () => {
          throw new Error('queue unavailable');
        },
      } as unknown as Queue;
    });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await post(`/v1/studies/${study.id}/run`);
    } finally {
      errors.mockRestore();
    }
    // Leased, refused, handed back: waiting, the attempt not counted, the alarm set to send again.
    const back = (await json(api(`/v1/studies/${study.id}/trials`))).trials;
    expect(back.map((t: any) => [t.number, t.state, t.attempts])).toEqual([
      [0, 'waiting', 0],
      [1, 'waiting', 0],
    ]);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    await runInDurableObject(stub, (instance) => {
      const inst = instance as unknown as Swappable;
      inst.env.EDGE_TRIALS = inst.realQueue!;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const done = await waitCompleted(study.id);
    expect(done.n_trials).toBe(2);
  });

  it('rejects at creation what an edge trial cannot take, with the path', async () => {
    const unknownParam = await post('/v1/studies', {
      name: 'x',
      space: { lr: SPACE.lr, dropout: { type: 'float', low: 0, high: 0.5 } },
      max_trials: 5,
      executor: { kind: 'edge', probe: PROBE },
    });
    expect(unknownParam.status).toBe(422);
    expect(((await unknownParam.json()) as any).errors).toEqual([
      expect.objectContaining({
        path: 'space.dropout',
        message: expect.stringContaining("cannot take 'dropout'"),
      }),
    ]);

    const badChoice = await post('/v1/studies', {
      name: 'x',
      space: { lr: SPACE.lr, optimizer: { type: 'categorical', choices: ['sgd', 'lion'] } },
      max_trials: 5,
      executor: { kind: 'edge', probe: PROBE },
    });
    expect(badChoice.status).toBe(422);
    expect(((await badChoice.json()) as any).errors.map((e: any) => e.path)).toContain(
      'space.optimizer',
    );

    const noMax = await post('/v1/studies', {
      name: 'x',
      space: SPACE,
      executor: { kind: 'edge', probe: PROBE },
    });
    expect(noMax.status).toBe(422);
    expect(((await noMax.json()) as any).errors.map((e: any) => e.path)).toContain('max_trials');

    const noLr = await post('/v1/studies', {
      name: 'x',
      space: { momentum: SPACE.momentum },
      max_trials: 3,
      executor: { kind: 'edge', probe: PROBE },
    });
    expect(noLr.status).toBe(422);
    expect(((await noLr.json()) as any).errors[0].message).toMatch(/no learning rate/);

    const badProbe = await post('/v1/studies', {
      name: 'x',
      space: SPACE,
      max_trials: 3,
      executor: { kind: 'edge', probe: { ...PROBE, batch_size: 0 } },
    });
    expect(badProbe.status).toBe(422);
    expect(((await badProbe.json()) as any).errors[0].path).toBe('executor.probe.batch_size');

    // Mapping works for optimizer settings, widths and schedules.
    const rich = await post('/v1/studies', {
      name: 'rich',
      space: {
        lr: SPACE.lr,
        optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
        beta2: { type: 'float', low: 0.9, high: 0.999, when: { optimizer: 'adam' } },
        width: { type: 'int', low: 8, high: 64, log: true },
        layers: { type: 'int', low: 1, high: 3 },
        schedule: { type: 'categorical', choices: ['constant', 'cosine'] },
        warmup_steps: { type: 'int', low: 0, high: 10 },
        batch_size: { type: 'int', low: 16, high: 64 },
      },
      max_trials: 3,
      executor: { kind: 'edge', probe: { ...PROBE, optimizer: { name: 'sgd', momentum: 0.9 } } },
    });
    expect(rich.status, JSON.stringify(await rich.clone().json())).toBe(201);
  });

  it('says clearly that client and runner studies are not run on the edge', async () => {
    const client = await json(post('/v1/studies', { name: 'c', space: SPACE }));
    const res = await post(`/v1/studies/${client.id}/run`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as any).detail).toMatch(/not an edge study/);
  });
});

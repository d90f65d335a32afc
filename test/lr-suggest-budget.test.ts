// POST /v1/lr/suggest under a budget (executor client and runner): the ladder's levels arrive as
// trials of one study, each naming its run length (params.epochs or params.steps); the answer
// says what it spent. Driven as a client would, with a synthetic validation loss whose best lr
// is known. Inside workerd, against the real Durable Object and D1.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';
import { LrSuggestRequestSchema } from '../src/contract/schemas';
import { DEFAULT_PROJECT_ID } from '../src/db/schema';
import { suggestLr } from '../src/services/lr-suggest';

const RUNNER_KEY = env.STRIDE_RUNNER_KEY;

function sweep(n = 60) {
  const lr = Array.from({ length: n }, (_, i) => 10 ** (-6 + (7 * i) / (n - 1)));
  const loss = lr.map((v) => (v > 3 ? null : 1 + 1 / (1 + v * 1e3) + 4 * v * v));
  return { lr, loss };
}
const CURVE_BODY = { curve: sweep(), optimizer: { name: 'sgd', momentum: 0.9 } };

/** Final validation loss at `lr` after a run of `length` (a valley around `best`, lower for longer runs). */
const valley = (best: number) => (lr: number, length: number) =>
  0.2 + 0.3 * (Math.log10(lr) - Math.log10(best)) ** 2 + 1 / length;

/** Ask and tell until the study has no more work; answers the params of every trial run. */
async function driveClient(
  studyId: string,
  loss: (lr: number, length: number) => number,
  unit = 'epochs',
) {
  const ran: Record<string, number>[] = [];
  for (;;) {
    const res = await post(`/v1/studies/${studyId}/ask`, {});
    if (res.status === 409) return ran;
    expect(res.status).toBe(201);
    const t = (await res.json()) as any;
    ran.push(t.params);
    const length = t.params[unit];
    const report = await post(`/v1/studies/${studyId}/trials/${t.number}/report`, {
      step: length,
      value: loss(t.params.lr, length),
    });
    expect(report.status).toBe(200);
    const told = await post(`/v1/studies/${studyId}/trials/${t.number}/tell`, {
      value: loss(t.params.lr, length),
    });
    expect(told.status).toBe(200);
  }
}

describe('lr/suggest under a budget: executor client', () => {
  it('trains short runs first, then longer ones around the best, finds the known best and says what it spent', async () => {
    const res = await post('/v1/lr/suggest', {
      ...CURVE_BODY,
      executor: { kind: 'client' },
      training: { epochs: 64 },
      steps_per_epoch: 10,
      budget: { runs: 3 },
    });
    const start = (await res.json()) as any;
    expect(res.status, JSON.stringify(start)).toBe(202);
    expect(start.budget).toEqual({ runs: 3 });
    expect(start.reasoning.join('\n')).toMatch(/budget 3 full runs \(the range test took 0\.09/);
    const best = 0.0123;
    const ran = await driveClient(start.id, valley(best));
    const lengths = [...new Set(ran.map((p) => p.epochs))];
    expect(lengths.length).toBeGreaterThan(1); // several levels, shortest first
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    // Each level at least twice as long as the one below; the top at half the horizon or more.
    lengths.slice(1).forEach((l, i) => expect(l).toBeGreaterThanOrEqual(2 * lengths[i]));
    expect(lengths.at(-1)).toBeGreaterThanOrEqual(32);
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.status).toBe('complete');
    expect(r.method).toBe('validated');
    expect(Math.abs(Math.log10(r.lr / best))).toBeLessThan(0.1);
    const spent = ran.reduce((a, p) => a + p.epochs / 64, 0) + 60 / 640;
    expect(r.compute.runs).toBeCloseTo(spent, 2);
    expect(r.compute.runs).toBeLessThanOrEqual(3);
    expect(r.compute.epochs).toBeCloseTo(spent * 64, 1);
    expect(r.horizon).toMatchObject({
      method: lengths.at(-1) === 64 ? 'full' : 'extrapolated',
      validated_epochs: lengths.at(-1),
    });
    expect(r.validation.candidates).toHaveLength(ran.length);
  });

  it('a budget of 0 answers the range test’s rule at once (200), nothing to train', async () => {
    const res = await post('/v1/lr/suggest', {
      ...CURVE_BODY,
      executor: { kind: 'client' },
      training: { steps: 600 },
      budget: { runs: 0 },
    });
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r)).toBe(200);
    expect(r.status).toBe('complete');
    // The consensus of the range test's valley and min_over_10 with SGD's default (0.01).
    const { valley, min_over_10 } = r.range_test.suggestion.candidates;
    expect(r.method).toBe('consensus');
    expect(r.lr / Math.cbrt(valley * min_over_10 * 0.01)).toBeCloseTo(1, 2);
    expect(Math.abs(Math.log10(r.lr / r.range_test.suggestion.lr))).toBeGreaterThan(0.05);
    expect(r.compute).toEqual({ runs: 0.1, epochs: null, steps: 60 });
  });

  it('a horizon in steps: each trial names its steps, and a smaller budget stops short of the horizon (extrapolated)', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { steps: 3200 },
        budget: { runs: 1 },
      }),
    );
    const ran = await driveClient(start.id, valley(0.05), 'steps');
    expect(ran.every((p) => typeof p.steps === 'number' && p.steps < 3200)).toBe(true);
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.horizon).toMatchObject({ unit: 'steps', method: 'extrapolated' });
    expect(r.compute.runs).toBeLessThanOrEqual(1.02); // the ladder's 1 plus the range test's 60 steps
    expect(Math.abs(Math.log10(r.lr / 0.05))).toBeLessThan(0.2);
  });
});

describe('lr/suggest under a budget: executor runner', () => {
  it('runners lease every level of the same study with the runner key', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'runner', lease_seconds: 600 },
        training: { epochs: 32 },
        budget: { runs: 2 },
      }),
    );
    const loss = valley(0.003);
    let ran = 0;
    for (;;) {
      const res = await post(
        '/v1/runners/lease',
        { study_id: start.id, runner: { name: 'gpu-0' } },
        RUNNER_KEY,
      );
      if (res.status === 204) break;
      expect(res.status).toBe(200);
      const lease = (await res.json()) as any;
      const base = `/v1/studies/${start.id}/trials/${lease.trial.number}`;
      const v = loss(lease.trial.params.lr, lease.trial.params.epochs);
      const told = await post(
        `${base}/tell`,
        { value: v, lease_token: lease.lease.token },
        RUNNER_KEY,
      );
      expect(told.status).toBe(200);
      ran++;
    }
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.status).toBe('complete');
    expect(r.validation.candidates).toHaveLength(ran);
    expect(Math.abs(Math.log10(r.lr / 0.003))).toBeLessThan(0.15);
  });
});

describe('lr/suggest under a budget: bad input is a 422 at the field', () => {
  it('names budget, validation.seeds or steps_per_epoch', async () => {
    const client = { kind: 'client' };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...CURVE_BODY, executor: client, budget: { runs: -1 } }, 'budget.runs', /0|greater/],
      [{ ...CURVE_BODY, executor: client, budget: { runs: 51 } }, 'budget.runs', /50|less/],
      [{ ...CURVE_BODY, executor: client, budget: { runs: Number.NaN } }, 'budget.runs', /number/],
      [{ ...CURVE_BODY, executor: client, budget: { run: 3 } }, 'budget.run', /runs/],
      [
        { ...CURVE_BODY, executor: client, budget: { runs: 2 }, validation: { seeds: 3 } },
        'validation.seeds',
        /not both/,
      ],
      [
        { ...CURVE_BODY, executor: client, steps_per_epoch: 10 },
        'steps_per_epoch',
        /training\.epochs/,
      ],
      [{ context: { optimizer: 'adam' }, budget: { runs: 1 } }, 'budget', /probe/],
    ];
    for (const [body, field, message] of cases) {
      const res = await post('/v1/lr/suggest', body);
      const p = (await res.json()) as any;
      expect(res.status, `${field}: ${JSON.stringify(p)}`).toBe(422);
      const issue = p.errors?.find((i: any) => i.path === field);
      expect(issue, `${field} in ${JSON.stringify(p.errors)}`).toBeDefined();
      expect(issue.message ?? issue.detail).toMatch(message);
    }
  });
});

describe('lr/suggest under a budget: the edge', () => {
  const PROBE = {
    model: { kind: 'mlp', hidden: [32], activation: 'relu' },
    task: 'classification',
    data: {
      kind: 'synthetic',
      name: 'spirals',
      n: 512,
      features: 2,
      classes: 3,
      noise: 0.1,
      seed: 3,
    },
    optimizer: { name: 'sgd', momentum: 0.9 },
    batch_size: 32,
    seed: 0,
  };

  it('trains the ladder as edge trials (params lr, epochs, seed), within the budget, and answers with what it spent', async () => {
    const res = await post('/v1/lr/suggest', {
      probe: PROBE,
      range: { steps: 60 },
      training: { epochs: 16 },
      schedule: 'cosine',
      budget: { runs: 3 },
    });
    let r = (await res.json()) as any;
    expect([200, 202], JSON.stringify(r)).toContain(res.status);
    // A slow machine answers 202: the same answer is then at its poll.
    for (let i = 0; res.status === 202 && r.status !== 'complete' && i < 600; i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      r = await json(api(`/v1/lr/suggest/${r.id}`));
    }
    expect(r.status).toBe('complete');
    expect(r.method).toBe('validated');
    expect(r.budget).toEqual({ runs: 3 });
    expect(r.compute.runs).toBeLessThanOrEqual(3);
    const lengths = r.validation.candidates.map((c: any) => c.length);
    expect(Math.min(...lengths)).toBeLessThan(16);
    expect(r.compute.epochs).toBeCloseTo(r.compute.runs * 16, 1);
    const study = await json(api(`/v1/studies/${r.validation.study_id}`));
    expect(study.executor).toMatchObject({ kind: 'edge', schedule: { kind: 'cosine' } });
    const trials = await json(api(`/v1/studies/${study.id}/trials`));
    for (const t of trials.trials ?? trials) {
      expect(Object.keys(t.params).sort()).toEqual(['epochs', 'lr', 'seed']);
      expect(t.params.seed).toBe(0);
      expect(t.intermediate.length).toBe(t.params.epochs); // trained the run length it was given
    }
  });

  it('answers 202 with the study to poll when training outlasts the wait, and GET gives the answer', async () => {
    const body = LrSuggestRequestSchema.parse({
      probe: { ...PROBE, seed: 7 },
      range: { steps: 60 },
      training: { epochs: 8 },
      budget: { runs: 3 },
    });
    const started = (await suggestLr(
      { ...env, LR_SUGGEST_WAIT_MS: '0' } as unknown as Env,
      DEFAULT_PROJECT_ID,
      body,
    )) as any;
    expect(started).toMatchObject({ status: 'running', budget: { runs: 3 } });
    expect(started.poll).toBe(`/v1/lr/suggest/${started.id}`);
    let r = await json(api(started.poll));
    for (let i = 0; r.status !== 'complete' && i < 600; i++) {
      expect(r).toMatchObject({ status: 'running', lr: null, method: 'validating' });
      await new Promise((ok) => setTimeout(ok, 100));
      r = await json(api(started.poll));
    }
    expect(r.status).toBe('complete');
    expect(r.lr).toBeGreaterThan(0);
    expect(r.compute.runs).toBeLessThanOrEqual(3);
  });

  it('budget 0 answers the range test’s rule and its cost; budget with validate false is a 422', async () => {
    const r = await json(
      post('/v1/lr/suggest', {
        probe: PROBE,
        range: { steps: 60 },
        training: { epochs: 8 },
        budget: { runs: 0 },
      }),
    );
    const { valley, min_over_10 } = r.range_test.suggestion.candidates;
    expect(r.method).toBe('consensus');
    const cap = r.range_test.suggestion.max_stable_lr;
    expect(r.lr / Math.min(Math.cbrt(valley * min_over_10 * 0.01), cap)).toBeCloseTo(1, 2);
    expect(r.compute.runs).toBeGreaterThan(0); // the sweep's 60 steps over 8 epochs of 13 steps
    expect(r.compute.runs).toBeCloseTo(60 / (8 * 13), 2);
    const bad = await post('/v1/lr/suggest', {
      probe: PROBE,
      validate: false,
      budget: { runs: 1 },
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors.map((e: any) => e.path)).toContain('budget');
  });
});

describe('a probe too large to keep with an edge study', () => {
  // 20,000 rows of 10 features: about 4 MB of JSON, over what a study's configuration may hold.
  const rows = Array.from({ length: 20_000 }, (_, i) =>
    Array.from({ length: 10 }, (_, j) => Math.sin(i * 0.37 + j * 1.3) * 1.234567),
  );
  const probe = {
    model: { kind: 'mlp', hidden: [16], activation: 'relu' },
    task: 'classification',
    data: { kind: 'inline', x: rows, y: rows.map((r) => (r[0] + r[1] > 0 ? 1 : 0)) },
    optimizer: { name: 'sgd', momentum: 0.9 },
    batch_size: 64,
    seed: 0,
  };

  it('is a 413 at the field, never a 500: POST /v1/studies at executor.probe.data, lr/suggest at probe.data', async () => {
    const study = await post('/v1/studies', {
      name: 'big edge',
      metric: 'val_loss',
      space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
      executor: { kind: 'edge', probe, epochs: 1 },
      max_trials: 4,
    });
    const s = (await study.json()) as any;
    expect(study.status, JSON.stringify(s).slice(0, 300)).toBe(413);
    expect(s.errors[0].path).toBe('executor.probe.data');
    const res = await post('/v1/lr/suggest', {
      probe,
      range: { steps: 20 },
      training: { epochs: 2 },
    });
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r).slice(0, 300)).toBe(413);
    expect(r.errors[0].path).toBe('probe.data');
    expect(r.errors[0].message).toMatch(/"budget": \{"runs": 0\} answers its rule/);
    // The range test itself ran and is cached: budget 0 answers at once.
    const rule = await json(
      post('/v1/lr/suggest', {
        probe,
        range: { steps: 20 },
        training: { epochs: 2 },
        budget: { runs: 0 },
      }),
    );
    expect(rule.range_test.cached).toBe(true);
    expect(rule.lr).toBeGreaterThan(0);
  });
});

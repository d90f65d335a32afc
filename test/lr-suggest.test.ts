// POST /v1/lr/suggest: with a probe (range test, then validation of the
// candidates at the training horizon as a parallel edge study with successive
// halving) and without (priors, refined by the project's completed studies).
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';
import { LrSuggestRequestSchema } from '../src/contract/schemas';
import { loadDataset } from '../src/probe/data';
import {
  markUnstable,
  pickCandidates,
  rankWithTies,
  resolveHorizon,
  spreadCandidates,
  validationSeeds,
} from '../src/services/lr-suggest';

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
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

describe('lr/suggest with a probe', () => {
  it('validates log-spaced candidates, the rules and the default at the training horizon, and returns the winner with its evidence', async () => {
    // 512 rows, 20% held out: 410 training rows, 13 steps of 32 per epoch; 104 steps = 8 epochs.
    // validation.seeds asks for the rounds of candidates (the budgeted search: lr-suggest-budget.test.ts).
    const res = await post('/v1/lr/suggest', {
      probe: PROBE,
      range: { steps: 60 },
      training: { steps: 104 },
      validation: { seeds: 1 },
    });
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r)).toBe(200);
    expect(r.method).toBe('validated');
    expect(r.horizon).toMatchObject({
      epochs: 8,
      steps: 104,
      steps_per_epoch: 13,
      source: 'training.steps',
      validated_epochs: 8,
      method: 'full',
      schedule: 'constant',
    });
    expect(r.horizon.budget.max_gflop).toBe(60);
    expect(r.horizon.budget.affordable_epochs).toBe(200);
    const v = r.validation;
    expect(v.complete).toBe(true);
    expect(v.epochs).toBe(8);
    // 6-10 candidates of the first round: log-spaced over the stable range, the rules and the default.
    const first = v.candidates.filter((c: any) => !c.sources.includes('extension'));
    expect(first.length).toBeGreaterThanOrEqual(6);
    expect(first.length).toBeLessThanOrEqual(8);
    expect(first.some((c: any) => c.sources.includes('default') && c.lr === 0.01)).toBe(true);
    expect(
      first.filter((c: any) => c.sources.includes('log-spaced')).length,
    ).toBeGreaterThanOrEqual(2);
    const maxStable = r.range_test.suggestion.max_stable_lr;
    for (const c of first.filter((c: any) => !c.sources.includes('default')))
      expect(c.lr).toBeLessThanOrEqual(maxStable);
    for (const c of first.filter((c: any) => c.sources.includes('log-spaced'))) {
      expect(c.lr).toBeGreaterThanOrEqual(Math.max(maxStable / 1000, r.stable_range.min) * 0.999);
    }
    // Near ones are merged: no two candidates within 0.1 decades.
    const lrs = v.candidates.map((c: any) => c.lr).sort((a: number, b: number) => a - b);
    for (let i = 1; i < lrs.length; i++)
      expect(Math.log10(lrs[i] / lrs[i - 1])).toBeGreaterThan(0.1);
    for (const c of v.candidates) expect(['complete', 'pruned', 'failed']).toContain(c.state);
    // Successive halving: some were stopped early, the finalists trained the whole horizon.
    const complete = v.candidates.filter((c: any) => c.state === 'complete');
    expect(complete.length).toBeGreaterThan(0);
    expect(complete.length).toBeLessThan(v.candidates.length);
    for (const c of complete) expect(c.epochs_run).toBe(8);
    // The answer is the lowest lr among the finalists tied with the best (the best itself when none is).
    const best = complete.reduce((a: any, b: any) => (b.value < a.value ? b : a));
    const tied = complete.filter((c: any) => c.tied);
    expect(r.lr).toBe(tied.length > 1 ? Math.min(...tied.map((c: any) => c.lr)) : best.lr);
    if (tied.length > 1) expect(r.confidence).toBe('medium');
    expect(r.stable_range.max).toBe(maxStable);
    expect(r.stable_range.min).toBeLessThan(r.stable_range.max);
    // A schedule derived from the curve, with the warmup in steps of the real run.
    expect(['one_cycle', 'cosine']).toContain(r.schedule.kind);
    expect(r.schedule.peak_lr).toBe(r.lr);
    expect(r.schedule.warmup_steps).toBe(Math.max(1, Math.round(r.schedule.warmup_fraction * 104)));
    const why = r.reasoning.join('\n');
    expect(why).toMatch(/validated \d+ candidates/);
    expect(why).toMatch(/training horizon 104 steps = 8 epochs/);
    expect(why).toMatch(/PROBE_MAX_GFLOP 60 GFLOP/);
    // The evidence is a real study of the project, trained at the horizon.
    const study = await json(api(`/v1/studies/${v.study_id}`));
    expect(study).toMatchObject({
      state: 'completed',
      executor: { kind: 'edge', epochs: 8 },
      metadata: { kind: 'lr-suggest', range_test_id: r.range_test.id, horizon_epochs: 8 },
    });
  });

  it('validates with the schedule of the real run, and says so when the horizon is longer than the validation (extrapolated)', async () => {
    const r = await json(
      post('/v1/lr/suggest', {
        probe: PROBE,
        range: { steps: 60 },
        training: { epochs: 40 },
        schedule: 'cosine',
        validation: { epochs: 2, max_candidates: 6 },
      }),
    );
    expect(r.horizon).toMatchObject({
      epochs: 40,
      source: 'training.epochs',
      validated_epochs: 2,
      method: 'extrapolated',
      schedule: 'cosine',
    });
    expect(r.horizon.steps).toBeUndefined();
    expect(r.confidence).not.toBe('high');
    expect(r.reasoning.join('\n')).toMatch(
      /extrapolated: validation.epochs asks for 2, so the finalists trained 2 of 40 epochs with the cosine schedule compressed/,
    );
    const study = await json(api(`/v1/studies/${r.validation.study_id}`));
    expect(study.executor).toMatchObject({ epochs: 2, schedule: { kind: 'cosine' } });
    expect(r.schedule.kind).toBe('cosine');
    for (const c of r.validation.candidates) expect(c.epochs_run).toBeLessThanOrEqual(2);
  });

  it('without a training length assumes 20 epochs, says so, and is never highly confident; the range test is reused from the cache', async () => {
    const r = await json(
      post('/v1/lr/suggest', { probe: PROBE, range: { steps: 60 }, validate: false }),
    );
    expect(r.method).toBe(r.range_test.suggestion.method);
    expect(r.lr).toBe(r.range_test.suggestion.lr);
    expect(r.validation).toBeNull();
    expect(r.range_test.cached).toBe(true);
    expect(r.horizon).toMatchObject({
      epochs: 20,
      source: 'default',
      validated_epochs: 0,
      method: 'none',
    });
    expect(r.confidence).not.toBe('high');
    expect(r.reasoning.join('\n')).toMatch(/no training length given: assuming 20 epochs/);
  });

  it('a one-epoch horizon validates without pruning (no rung fits below its end)', async () => {
    const res = await post('/v1/lr/suggest', {
      probe: PROBE,
      range: { steps: 60 },
      training: { epochs: 1 },
      validation: { max_candidates: 4, seeds: 1 },
    });
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r)).toBe(200);
    expect(r.method).toBe('validated');
    expect(r.horizon).toMatchObject({ epochs: 1, validated_epochs: 1, method: 'full' });
    const study = await json(api(`/v1/studies/${r.validation.study_id}`));
    expect(study.pruner).toEqual({ name: 'none' });
    expect(r.reasoning.join('\n')).toMatch(/without pruning \(1 epochs leave no room for a rung\)/);
  });

  it('refuses bad horizons with the path: 0 epochs, epochs and steps, over the maximum, train_steps with training', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ training: { epochs: 0 } }, 'training.epochs'],
      [{ training: { epochs: -3 } }, 'training.epochs'],
      [{ training: { epochs: 10, steps: 100 } }, 'training.steps'],
      [{ training: {} }, 'training.epochs'],
      [{ training: { epochs: 10_001 } }, 'training.epochs'],
      [{ training: { steps: 10_000_000 } }, 'training.steps'], // 769,231 epochs of this probe
      [{ train_steps: 10_000_000 }, 'train_steps'],
      [{ training: { epochs: 5 }, train_steps: 100 }, 'train_steps'],
      [{ schedule: 'step' }, 'schedule'],
    ];
    for (const [extra, path] of cases) {
      const res = await post('/v1/lr/suggest', {
        probe: PROBE,
        range: { steps: 60 },
        validate: false,
        ...extra,
      });
      const body = (await res.json()) as any;
      expect(res.status, JSON.stringify(extra)).toBe(422);
      expect(
        body.errors.map((e: any) => e.path),
        JSON.stringify(extra),
      ).toContain(path);
    }
  });

  it("a range test with no stable lr answers the optimizer's default at low confidence, without validating", async () => {
    // Features that carry nothing (one constant column, standardised to 0): the loss starts at its
    // floor, ln 3, and can only rise. No candidate below the sweep's start may be validated.
    const probe = {
      ...PROBE,
      data: {
        kind: 'inline',
        x: Array.from({ length: 96 }, () => [1]),
        y: Array.from({ length: 96 }, (_, i) => i % 3),
      },
      optimizer: { name: 'rmsprop' },
    };
    const res = await post('/v1/lr/suggest', {
      probe,
      range: { steps: 60 },
      training: { epochs: 2 },
    });
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r)).toBe(200);
    expect(r.range_test.suggestion).toMatchObject({ lr: null, max_stable_lr: null });
    expect(r).toMatchObject({ lr: 1e-2, method: 'default', confidence: 'low', validation: null });
    expect(r.horizon).toMatchObject({ validated_epochs: 0, method: 'none' });
    const why = r.reasoning.join('\n');
    expect(why).toMatch(/max stable lr none found/);
    expect(why).toMatch(/the range test found no stable learning rate: nothing to validate/);
    expect(why).toMatch(/falling back to rmsprop's conventional default 0\.01/);
  });

  it('the range test points to lr/suggest with training for a validated answer', async () => {
    const r = await json(post('/v1/lr-range-tests', { probe: PROBE, range: { steps: 60 } }));
    expect(r.suggestion.reasons.join('\n')).toMatch(/POST \/v1\/lr\/suggest .*"training"/);
    expect(r.curve.length).toBeGreaterThan(0);
    const again = await json(api(`/v1/lr-range-tests/${r.id}`));
    expect(
      again.suggestion.reasons.filter((x: string) => x.includes('/v1/lr/suggest')).length,
    ).toBe(1);
  });
});

describe('lr/suggest, the parts', () => {
  const rt = (
    over: Partial<{
      lr: number;
      max_stable_lr: number | null;
      valley: number;
      minimum: number;
    }> = {},
  ) =>
    ({
      id: 'lrt_x',
      cached: false,
      suggestion: {
        lr: over.lr ?? 0.05,
        method: 'min_over_10',
        candidates: {
          valley: over.valley ?? 0.02,
          steepest: over.valley ?? 0.02,
          minimum: over.minimum ?? 0.5,
          min_over_10: over.lr ?? 0.05,
        },
        max_stable_lr: over.max_stable_lr === undefined ? 1 : over.max_stable_lr,
        confidence: 'high',
        reasons: [],
      },
      // The loss first moves (2% below its start) at 1e-4.
      curve: [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1].map((lr, i) => ({
        step: i,
        lr,
        loss: 1,
        smoothed_loss: i < 3 ? 1 : 1 - 0.05 * i,
      })),
    }) as any;

  it('candidates: 6-10, log-spaced up to max_stable_lr and never below where the loss first moves, with every rule and the default', () => {
    for (const max of [6, 8, 10]) {
      const c = pickCandidates(rt(), 'adam', max);
      expect(c.length).toBeGreaterThanOrEqual(6);
      expect(c.length).toBeLessThanOrEqual(max);
      const lrs = c.map((x) => x.lr);
      expect(lrs).toEqual([...lrs].sort((a, b) => a - b));
      expect(Math.max(...lrs)).toBe(1);
      expect(Math.min(...lrs)).toBeGreaterThanOrEqual(1e-3); // max_stable/1000 = 1e-3 > 1e-4
      for (const src of ['default', 'valley', 'minimum'])
        expect(c.some((x) => x.sources.includes(src))).toBe(true);
      expect(c.find((x) => x.sources.includes('default'))!.lr).toBe(1e-3);
      for (let i = 1; i < lrs.length; i++)
        expect(Math.log10(lrs[i] / lrs[i - 1])).toBeGreaterThan(0.1);
    }
    // A high max_stable_lr: the floor is where the loss first moves, not max/1000.
    const wide = pickCandidates(rt({ max_stable_lr: 10 }), 'adam', 8);
    expect(
      Math.min(...wide.filter((x) => x.sources.includes('log-spaced')).map((x) => x.lr)),
    ).toBeGreaterThanOrEqual(1e-2);
  });

  it("a caller's candidates: evenly log-spaced over the three decades below max_stable_lr, the rules in place of their nearest points, not crowding the low end", () => {
    // Rules crowded at 1.9e-3..3.4e-3 under max_stable 0.038 (breast cancer with RMSprop in PyTorch, best 4e-4).
    const crowded = {
      ...rt({ max_stable_lr: 0.038 }),
      suggestion: {
        lr: 0.0019,
        method: 'valley',
        candidates: { valley: 0.0019, steepest: 0.0034, minimum: 0.026, min_over_10: 0.0026 },
        max_stable_lr: 0.038,
        confidence: 'high',
        reasons: [],
      },
    };
    for (const max of [4, 8, 10]) {
      const c = spreadCandidates(crowded, 'rmsprop', max);
      const lrs = c.map((x) => x.lr);
      expect(lrs.length).toBe(max);
      expect(lrs).toEqual([...lrs].sort((a, b) => a - b));
      // From 3.8e-5 to 0.038, no gap wider than two spacings, however the rules crowd.
      expect(lrs[0]).toBeCloseTo(3.8e-5, 8);
      expect(lrs[lrs.length - 1]).toBeGreaterThanOrEqual(0.026);
      for (let i = 1; i < lrs.length; i++)
        expect(Math.log10(lrs[i] / lrs[i - 1])).toBeLessThanOrEqual((2 * 3) / (max - 1) + 1e-9);
    }
    const c = spreadCandidates(crowded, 'rmsprop', 8);
    // Some point within a spacing of the best, 4e-4 (pickCandidates has none between 3.8e-5 and 1.2e-3).
    expect(c.some((x) => Math.abs(Math.log10(x.lr / 4e-4)) <= 3 / 7 / 2 + 1e-9)).toBe(true);
    // The rules and rmsprop's default (0.01) keep their own lr, with their sources.
    expect(c.find((x) => x.sources.includes('valley'))!.lr).toBe(0.0019);
    expect(c.find((x) => x.sources.includes('default'))!.lr).toBe(0.01);
    expect(c.find((x) => x.sources.includes('minimum'))!.lr).toBe(0.026);
    expect(c.filter((x) => x.sources.includes('log-spaced')).length).toBeGreaterThanOrEqual(3);
    // No stable range: the edge's picker.
    const none = { ...rt({ max_stable_lr: null }), curve: [] };
    expect(spreadCandidates(none, 'adam', 8)).toEqual(pickCandidates(none, 'adam', 8));
  });

  it('horizon: steps become epochs of the training split; the edge budget decides full or extrapolated', async () => {
    const ds = loadDataset(PROBE.data as any, 'classification');
    const req = (extra: Record<string, unknown>) =>
      LrSuggestRequestSchema.parse({ probe: PROBE, ...extra });
    const probe = req({}).probe as any;
    const big = { maxGflop: 60, maxCells: 1e7 };
    expect(resolveHorizon(req({ training: { steps: 1300 } }), ds, probe, big)).toMatchObject({
      epochs: 100,
      steps: 1300,
      validated_epochs: 100,
      method: 'full',
    });
    expect(resolveHorizon(req({ train_steps: 1300 }), ds, probe, big)).toMatchObject({
      epochs: 100,
      source: 'train_steps',
    });
    // Over the 200 epochs an edge trial may train.
    expect(resolveHorizon(req({ training: { epochs: 1000 } }), ds, probe, big)).toMatchObject({
      epochs: 1000,
      validated_epochs: 200,
      method: 'extrapolated',
    });
    // A tiny budget: fewer affordable epochs than the horizon.
    const h = resolveHorizon(req({ training: { epochs: 50 } }), ds, probe, {
      maxGflop: 0.005,
      maxCells: 1e7,
    });
    expect(h.budget.affordable_epochs).toBe(Math.floor(0.005 / h.budget.gflop_per_epoch));
    expect(h).toMatchObject({
      epochs: 50,
      method: 'extrapolated',
      validated_epochs: h.budget.affordable_epochs,
    });
    expect(h.validated_epochs).toBeLessThan(50);
    expect(resolveHorizon(req({}), ds, probe, big)).toMatchObject({
      epochs: 20,
      source: 'default',
      method: 'full',
    });
  });

  it('ties: finalists within the spread of their last epochs (at least 1%) are tied with the best', () => {
    const ev = (lr: number, value: number, spread: number | null, state = 'complete') => ({
      lr,
      sources: [],
      state,
      value,
      epochs_run: 8,
      spread,
      tied: false,
      unstable: false,
      seeds: null,
      score: value,
      error: null,
    });
    const clear = rankWithTies([
      ev(0.1, 0.5, 0.001),
      ev(0.01, 0.6, 0.001),
      ev(0.001, 0.3, 0.5, 'pruned'),
    ]);
    expect(clear.ranked.map((c) => c.lr)).toEqual([0.1, 0.01]);
    expect(clear.tied.map((c) => c.lr)).toEqual([0.1]);
    const noisy = [ev(0.1, 0.5, 0.02), ev(0.03, 0.52, 0.01), ev(0.01, 0.6, 0.01)];
    const t = rankWithTies(noisy);
    expect(t.tied.map((c) => c.lr)).toEqual([0.1, 0.03]);
    expect(noisy.map((c) => c.tied)).toEqual([true, true, false]);
    // A candidate whose last epochs swing wildly (diverging) is not tied with a steady best, however wide its spread.
    const unstable = rankWithTies([ev(0.0242, 0.0001, 0.00005), ev(0.242, 85.65, 120)]);
    expect(unstable.tied.map((c) => c.lr)).toEqual([0.0242]);
    expect(unstable.ranked.map((c) => c.tied)).toEqual([false, false]);
    expect(unstable.ranked.map((c) => c.lr)).toEqual([0.0242, 0.242]);
    // Without spreads, 1% of the best loss.
    expect(
      rankWithTies([ev(0.1, 1, null), ev(0.05, 1.009, null), ev(0.02, 1.02, null)]).tied.map(
        (c) => c.lr,
      ),
    ).toEqual([0.1, 0.05]);
    // Ranked by score (the mean over seeds) when there is one; a candidate without a score is not a finalist.
    const bySeeds = [
      { ...ev(0.024, 0.0001, 0.00005), score: 0.2 },
      { ...ev(0.001, 0.004, 0.001), score: 0.05 },
      { ...ev(0.0005, 0.006, 0.001), score: null },
    ];
    expect(rankWithTies(bySeeds).ranked.map((c) => c.lr)).toEqual([0.001, 0.024]);
    // On the same seeds, a candidate worse on every seed by about the same margin is not tied,
    // however much the seeds differ from each other (seen on diabetes: 0.52 vs 0.57 means, each seed apart).
    const seeds = (lr: number, values: number[]) => ({
      ...ev(lr, values[0], 0.05),
      seeds: values.map((value, i) => ({ seed: i * 1000, value })),
      score: values.reduce((a, b) => a + b, 0) / values.length,
    });
    const paired = rankWithTies([
      seeds(0.0001, [0.55, 0.62, 0.53]),
      seeds(0.00032, [0.5, 0.57, 0.49]),
    ]);
    expect(paired.ranked.map((c) => c.lr)).toEqual([0.00032, 0.0001]);
    expect(paired.tied.map((c) => c.lr)).toEqual([0.00032]);
    // The same per-seed values in another order per seed: the differences now swing, so they are tied.
    const unpaired = rankWithTies([
      seeds(0.0001, [0.66, 0.5, 0.55]),
      seeds(0.00032, [0.5, 0.57, 0.49]),
    ]);
    expect(unpaired.tied.map((c) => c.lr).sort()).toEqual([0.0001, 0.00032]);
  });

  it('a candidate whose validation loss blew up cannot win, whatever it ended at', () => {
    const ev = (lr: number, curve: number[]) => ({
      lr,
      sources: [],
      state: 'complete',
      value: curve[curve.length - 1],
      epochs_run: curve.length,
      spread: null,
      tied: false,
      unstable: false,
      seeds: null,
      score: curve[curve.length - 1],
      error: null,
      curve,
    });
    // Seen on a wide MLP at high rates: losses in the hundreds, then exactly 0 on a small split.
    const cands = [
      ev(0.001, [0.6, 0.3, 0.1, 0.05]),
      ev(0.01, [0.5, 0.2, 0.3, 0.4]),
      ev(0.14, [0.7, 549, 98, 0]),
      ev(0.44, [0.4, 0.2, 0.1, 2.5]),
    ];
    markUnstable(cands);
    expect(cands.map((c) => c.unstable)).toEqual([false, false, true, true]);
    expect(rankWithTies(cands).ranked.map((c) => c.lr)).toEqual([0.001, 0.01]);
    // Blown up from the first epoch (wine, wide MLP, lr 0.14: the first epoch already in the tens), or
    // saturated at exactly 0 on the split: unstable against the candidates' median first epoch.
    const early = [
      ev(0.001, [0.6, 0.3, 0.1]),
      ev(0.003, [0.5, 0.2, 0.1]),
      ev(0.14, [50, 3, 1]),
      ev(0.3, [0.55, 0.2, 0]),
    ];
    markUnstable(early);
    expect(early.map((c) => c.unstable)).toEqual([false, false, true, true]);
    // Overfitting that stays within 3x of the early loss is not a blow-up.
    const overfit = [ev(0.1, [0.6, 0.3, 0.9, 1.5])];
    markUnstable(overfit);
    expect(overfit[0].unstable).toBe(false);
  });

  it('validates on the probe seed, then seed + 1000k (below it past the int range)', () => {
    expect(validationSeeds(0, 3)).toEqual([0, 1000, 2000]);
    expect(validationSeeds(7, 1)).toEqual([7]);
    expect(validationSeeds(2 ** 31 - 1, 2)).toEqual([2 ** 31 - 1, 2 ** 31 - 1001]);
  });
});

describe('lr/suggest on a small validation split', () => {
  it('validates the best finalists on three seeds and picks by their mean', async () => {
    // 120 rows, 20% held out: a 24-row validation split, too noisy to rank on one seed.
    const probe = {
      ...PROBE,
      data: {
        kind: 'synthetic',
        name: 'moons',
        n: 120,
        features: 2,
        classes: 2,
        noise: 0.3,
        seed: 5,
      },
      seed: 4,
    };
    const res = await post('/v1/lr/suggest', {
      probe,
      range: { steps: 60 },
      training: { epochs: 8 },
      validation: { seeds: 3 },
    });
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r)).toBe(200);
    expect(r.method).toBe('validated');
    const v = r.validation;
    expect(v.seeds).toEqual([4, 1004, 2004]);
    expect(v.study_ids.length).toBeGreaterThanOrEqual(2);
    const finalists = v.candidates.filter((c: any) => c.seeds !== null);
    expect(finalists.length).toBeGreaterThanOrEqual(2);
    expect(finalists.length).toBeLessThanOrEqual(3);
    for (const c of finalists) {
      expect(c.seeds.map((x: any) => x.seed)).toEqual([4, 1004, 2004]);
      expect(c.seeds[0].value).toBe(c.value);
      const values = c.seeds.map((x: any) => x.value);
      if (values.every((x: any) => x !== null))
        expect(c.score).toBeCloseTo(values.reduce((a: number, b: number) => a + b, 0) / 3, 12);
      else expect(c.score).toBeNull();
    }
    // Only finalists are ranked, by their mean; the answer is the lowest lr among those tied with the best.
    for (const c of v.candidates.filter((c: any) => c.seeds === null)) expect(c.score).toBeNull();
    const ranked = finalists
      .filter((c: any) => c.score !== null && !c.unstable)
      .sort((a: any, b: any) => a.score - b.score);
    const tied = ranked.filter((c: any) => c.tied);
    expect(r.lr).toBe(tied.length > 1 ? Math.min(...tied.map((c: any) => c.lr)) : ranked[0].lr);
    // The confirmation study trained each finalist on the two other seeds for the whole horizon.
    const seedsStudy = v.study_ids[v.study_ids.length - 1];
    const trials = (await json(api(`/v1/studies/${seedsStudy}/trials`))).trials;
    expect(trials).toHaveLength(finalists.length * 2);
    for (const t of trials) expect(t.intermediate).toHaveLength(8);
    expect(v.candidate_epochs).toBe(
      v.candidates.reduce((a: number, c: any) => a + c.epochs_run, 0) + finalists.length * 2 * 8,
    );
    // Asked for one seed: no confirmation.
    const one = (await json(
      post('/v1/lr/suggest', {
        probe,
        range: { steps: 60 },
        training: { epochs: 8 },
        validation: { seeds: 1 },
      }),
    )) as any;
    expect(one.validation.seeds).toEqual([4]);
    expect(one.validation.candidates.every((c: any) => c.seeds === null)).toBe(true);
  });
});

describe('lr/suggest without a probe', () => {
  it('answers from documented priors: batch-size scaling, model families, GPT-3 sizes', async () => {
    const sgd = await json(
      post('/v1/lr/suggest', {
        context: { optimizer: 'sgd', batch_size: 1024, model_family: 'cnn' },
      }),
    );
    expect(sgd).toMatchObject({ method: 'prior', confidence: 'low', prior: { studies_used: 0 } });
    expect(sgd.lr).toBeCloseTo(0.4, 10); // 0.1 x 1024/256, linear scaling
    const adam = await json(
      post('/v1/lr/suggest', { context: { optimizer: 'adam', batch_size: 1024 } }),
    );
    expect(adam.lr).toBeCloseTo(2e-3, 10); // 1e-3 x sqrt(4)
    const gpt = await json(
      post('/v1/lr/suggest', {
        context: { optimizer: 'adamw', model_family: 'transformer', parameters: 1.3e9 },
      }),
    );
    expect(gpt.lr).toBeCloseTo(2e-4, 10);
    expect(sgd.reasoning.join(' ')).toMatch(/linear scaling/);
    expect(sgd.schedule.kind).toBe('cosine');
  });

  it("refines the prior with the project's completed studies of the same context, and says how many", async () => {
    const ctx = { optimizer: 'rmsprop', batch_size: 64, model_family: 'mlp' };
    for (const lr of [0.004, 0.005, 0.006]) {
      const s = await json(
        post('/v1/studies', {
          name: 'hist',
          space: { lr: { type: 'float', low: 1e-5, high: 1, log: true } },
          max_trials: 2,
          metadata: { context: ctx },
        }),
      );
      for (const [i, v] of [
        [lr, 0.1],
        [lr / 100, 0.9],
      ].entries()) {
        await post(`/v1/studies/${s.id}/trials`, { params: { lr: v[0] } });
        const t = await json(post(`/v1/studies/${s.id}/ask`, {}));
        expect(t.number).toBe(i);
        await post(`/v1/studies/${s.id}/trials/${t.number}/tell`, { value: v[1] });
      }
      await stubOf(s.id).flush();
    }
    const r = await json(post('/v1/lr/suggest', { context: ctx }));
    expect(r.prior.studies_used).toBe(3);
    expect(r.confidence).toBe('high');
    // Prior: 1e-3 (batch 64 is below 256: not scaled down); history: ~4.9e-3; blended in log
    // space at weight 3/5.
    const expected = Math.exp(
      0.6 * Math.log(Math.cbrt(0.004 * 0.005 * 0.006)) + 0.4 * Math.log(1e-3),
    );
    expect(r.lr).toBeCloseTo(expected, 8);
    expect(r.reasoning.join(' ')).toMatch(/3 finished studies of this project/);
    // Another optimizer's history is not used.
    expect(
      (await json(post('/v1/lr/suggest', { context: { optimizer: 'adagrad' } }))).prior
        .studies_used,
    ).toBe(0);
  });

  it("answers from the project's validated lr/suggest answers first, rescaled to the batch asked", async () => {
    // Nesterov: no other test of this file validates with it.
    const probe = { ...PROBE, optimizer: { name: 'nesterov', momentum: 0.9 } };
    const done = await json(
      post('/v1/lr/suggest', {
        probe,
        range: { steps: 60 },
        training: { epochs: 1 },
        validation: { max_candidates: 3, seeds: 1 },
      }),
    );
    expect(done.method).toBe('validated');
    // The best complete candidate over its rounds (the first and any extension past an edge).
    const trials = (
      await Promise.all(
        done.validation.study_ids.map(
          async (id: string) => (await json(api(`/v1/studies/${id}/trials`))).trials,
        ),
      )
    ).flat();
    const best = trials
      .filter((t: any) => t.state === 'complete')
      .reduce((a: any, b: any) => (b.value < a.value ? b : a));
    // Asked at batch 128, 4x the probe's 32: x4 for the SGD family.
    const ctx = { optimizer: 'nesterov', model_family: 'mlp', batch_size: 128 };
    const r = await json(post('/v1/lr/suggest', { context: ctx }));
    expect(r.prior.studies_used).toBe(1);
    expect(r.lr).toBeCloseTo(best.params.lr * 4, 10);
    expect(r.confidence).toBe('medium');
    expect(r.reasoning[0]).toMatch(
      /^from this project's own evidence first: 1 validated lr\/suggest answer with nesterov \(mlp\)/,
    );
    expect(r.reasoning.join('\n')).toMatch(/published rule: nesterov: base lr 0\.05/);
    // Another family asked: that MLP's answer is not its evidence.
    const cnn = await json(post('/v1/lr/suggest', { context: { ...ctx, model_family: 'cnn' } }));
    expect(cnn).toMatchObject({ confidence: 'low', prior: { studies_used: 0 } });
    expect(cnn.reasoning[0]).toMatch(/^from published rules alone/);
  });

  it('says what is missing: a probe or a context', async () => {
    const res = await post('/v1/lr/suggest', {});
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).errors[0].path).toBe('probe');
    const bad = await post('/v1/lr/suggest', { context: { optimizer: 'lion' } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors[0].path).toBe('context.optimizer');
  });
});

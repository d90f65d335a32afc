// The budgeted learning-rate search (src/tuning/lr/ladder.ts), driven to the end on synthetic
// validation losses whose best lr is known, at each run length.
import { describe, expect, it } from 'vitest';
import {
  CEILING_MARGIN,
  CLIFF_MARGIN,
  cliffOf,
  decide,
  driftPerDoubling,
  driftRefuted,
  judgeLevel,
  ladderCost,
  ladderFor,
  lengthOf,
  PRIOR_DRIFT,
  refine,
  screenLrs,
  spentRuns,
  type LadderConfig,
  type Observation,
  unstableCeiling,
} from '../../src/tuning/lr/ladder';
import { ladderConfig } from '../../src/tuning/lr/plan';
import type { LrRangeTest } from '../../src/contract/schemas';

/** Final validation loss of a run at `lr` compressed into `length` of T: a valley in log lr around best(length). */
type Surface = (lr: number, length: number) => number;

const valleyAt =
  (best: (length: number) => number): Surface =>
  (lr, length) =>
    0.2 + 0.3 * (Math.log10(lr) - Math.log10(best(length))) ** 2 + 1 / length;

/** Run the ladder to its answer, training each run on `surface` (a diverging lr ends failed). */
function drive(cfg: LadderConfig, surface: Surface, diverge = Infinity) {
  const observed: Observation[] = [];
  for (let i = 0; i < 20; i++) {
    const d = decide(cfg, observed);
    if (d.kind === 'done') return { d, observed };
    expect(d.kind).toBe('train');
    if (d.kind !== 'train') throw new Error('waiting with nothing running');
    for (const r of d.runs) {
      const failed = r.lr > diverge;
      const value = failed ? null : surface(r.lr, r.length);
      observed.push({
        lr: r.lr,
        length: r.length,
        seed: r.seed,
        state: failed ? 'failed' : 'complete',
        value,
        curve: failed ? [] : [value! + 1, value!],
      });
    }
  }
  throw new Error('the ladder did not end');
}

const base: LadderConfig = {
  unit: 'epochs',
  horizon: 64,
  budget: 3,
  lo: 1e-4,
  hi: 1,
  anchors: [{ lr: 0.01, sources: ['default'] }],
  seed: 0,
};

describe('ladder: what a budget buys', () => {
  it('never plans more than the budget, and a larger budget buys at least as long a top level', () => {
    let longest = 0;
    for (const budget of [0.2, 0.5, 1, 2, 3, 5, 8]) {
      for (const horizon of [4, 10, 12, 64, 300]) {
        const levels = ladderFor(budget, horizon);
        expect(ladderCost(levels, horizon)).toBeLessThanOrEqual(budget + 1e-9);
        // Each level at least twice as long as the one below (closer lengths measure no drift).
        for (let i = 1; i < levels.length; i++)
          expect(levels[i].length).toBeGreaterThanOrEqual(2 * levels[i - 1].length);
      }
      const top = ladderFor(budget, 64).at(-1)?.length ?? 0;
      expect(top).toBeGreaterThanOrEqual(longest);
      longest = top;
    }
    expect(ladderFor(3, 64).at(-1)!.length).toBe(64); // three runs reach the full horizon
    expect(ladderFor(0.05, 64)).toEqual([]); // too little for any screen
    // A horizon of 2 epochs: a run is half of it; 2 runs buy 4 one-epoch runs.
    expect(ladderFor(2, 2)).toEqual([{ fraction: 1 / 4, points: 4, length: 1 }]);
    expect(lengthOf(1 / 16, 10)).toBe(1);
  });

  it('the screen spans lo..hi log-spaced, each anchor in place of its nearest point', () => {
    const s = screenLrs(1e-4, 1, 8, [{ lr: 0.012, sources: ['valley'] }]);
    expect(s).toHaveLength(8);
    expect(s[0].lr).toBeCloseTo(1e-4);
    expect(s[7].lr).toBe(1);
    expect(s.find((p) => p.lr === 0.012)?.sources).toEqual(['valley']);
  });

  it('refine: the vertex of the parabola through a bracketed best, within half a spacing', () => {
    const runs = [0.01, 0.1, 1].map((lr) => ({
      lr,
      value: (Math.log10(lr) + 1.3) ** 2,
      state: 'complete' as const,
      unstable: false,
      sources: [],
    }));
    expect(Math.log10(refine(runs, runs[1]))).toBeCloseTo(-1.3, 2);
    // At an edge nothing is refined.
    expect(refine(runs.slice(1), runs[1])).toBe(0.1);
  });
});

describe('ladder: finds the best lr at the horizon', () => {
  it('a best that does not move with the run length is found within 0.1 decades, for 3 runs or less', () => {
    const { d, observed } = drive(
      base,
      valleyAt(() => 0.037),
    );
    expect(d.kind).toBe('done');
    if (d.kind !== 'done') return;
    expect(Math.abs(Math.log10(d.answer!.lr / 0.037))).toBeLessThan(0.1);
    expect(d.answer!.extrapolated).toBe(false);
    expect(spentRuns(observed, base.horizon)).toBeLessThanOrEqual(3);
  });

  it('a best that falls as runs get longer: the answer follows it below the short runs’ best', () => {
    // Short runs favour higher rates: 0.1 at a sixteenth of the horizon, 0.02 at the horizon.
    const best = (length: number) => 0.02 * (64 / length) ** (Math.log10(5) / 4);
    const { d } = drive(base, valleyAt(best));
    if (d.kind !== 'done') throw new Error('not done');
    // The screen's runs (the shortest) favour a higher lr; the answer is below it and nearer 0.02.
    const screen = d.levels[0];
    expect(d.answer!.lr).toBeLessThan(screen.refined!);
    expect(Math.abs(Math.log10(d.answer!.lr / 0.02))).toBeLessThan(
      Math.abs(Math.log10(screen.refined! / 0.02)),
    );
  });

  it('a drift the longest level refutes (its unmoved lr wins) does not move the answer', () => {
    // Levels at 1 and 8 of 64 epochs put the best at 1e-3 and 1e-2: a drift (shrunk towards the
    // prior) of (1 - 0.1) / (3 + 1) = 0.225 decades per doubling. The top pair at 32 epochs trains
    // 1e-2 moved by it (2 doublings: 10^-1.55) and not moved (1e-2); the unmoved one wins.
    const level = (points: number, length: number) => ({ fraction: 0, points, length });
    const judged = (length: number, lrs: number[], best: number) =>
      judgeLevel(
        level(lrs.length, length),
        lrs.map((lr) => ({
          lr,
          length,
          seed: 0,
          state: 'complete' as const,
          value: 1 + Math.abs(Math.log10(lr / best)),
          curve: [2, 1],
        })),
      );
    const screen = judged(1, [1e-4, 1e-3, 1e-2], 1e-3);
    const middle = judged(8, [1e-3, 1e-2, 1e-1], 1e-2);
    expect(driftPerDoubling([screen, middle])).toBeCloseTo((1 + PRIOR_DRIFT) / 4, 6);
    const moved = Number((1e-2 * 10 ** (2 * driftPerDoubling([screen, middle]))).toPrecision(3));
    const refuting = judged(32, [1e-2, moved], 1e-2);
    expect(driftRefuted([screen, middle, refuting], refuting)).toBe(true);
    // The moved lr winning confirms the drift.
    const confirming = judged(32, [1e-2, moved], moved);
    expect(driftRefuted([screen, middle, confirming], confirming)).toBe(false);
  });

  it('a budget too small for a screen checks lrs around the zero-compute answer and answers halfway to their best', () => {
    // Runs of at least 8 of 64 epochs: a screen of 6 costs 0.75, over a budget of 0.5.
    const cfg = { ...base, budget: 0.5, minLength: 8, centre: 0.01 };
    const levels = ladderFor(cfg.budget, cfg.horizon, cfg.minLength, cfg.maxLength, cfg.centre);
    expect(levels).toEqual([{ fraction: 0, points: 4, local: true, length: 8 }]);
    // Without a centre nothing fits: the service answers the rule alone.
    expect(ladderFor(cfg.budget, cfg.horizon, cfg.minLength)).toEqual([]);
    const { d, observed } = drive(
      cfg,
      valleyAt(() => 0.1),
    );
    if (d.kind !== 'done') throw new Error('not done');
    // 4 lrs half a decade apart, centred on 0.01: 0.00178, 0.00562, 0.0178, 0.0562.
    expect(observed.map((o) => o.lr)).toEqual([0.00178, 0.00562, 0.0178, 0.0562]);
    expect(spentRuns(observed, cfg.horizon)).toBeLessThanOrEqual(0.5);
    // The best, 0.0562, shrunk halfway back to 0.01: sqrt(0.0562 * 0.01).
    expect(d.answer!.lr).toBeCloseTo(Math.sqrt(0.0562 * 0.01), 4);
    expect(d.answer!.extrapolated).toBe(true);
    expect(d.why.join(' ')).toMatch(/halfway \(in log lr\) between it and the zero-compute answer/);
  });

  it('a single level measures no drift: its best is moved by the prior drift (short runs favour higher rates)', () => {
    const cfg = { ...base, budget: 0.8, minLength: 8 };
    const levels = ladderFor(cfg.budget, cfg.horizon, cfg.minLength);
    expect(levels.map((l) => [l.points, l.length])).toEqual([[6, 8]]);
    const { d } = drive(
      cfg,
      valleyAt(() => 0.05),
    );
    if (d.kind !== 'done') throw new Error('not done');
    const refined = d.levels[0].refined!;
    // From 8 to 64 epochs: 3 doublings at PRIOR_DRIFT decades each.
    expect(d.answer!.lr).toBeCloseTo(Number((refined * 10 ** (3 * PRIOR_DRIFT)).toPrecision(3)), 8);
    expect(d.answer!.lr).toBeLessThan(refined);
    expect(d.why.join(' ')).toMatch(/one level measures no drift/);
  });

  it('when the longest level blows up, the answer stays half a decade below the lowest lr that did', () => {
    const levels = ladderFor(base.budget, base.horizon);
    const top = levels.at(-1)!.length;
    expect(levels.length).toBeGreaterThan(1);
    // Every run of the top level blows up; the shorter ones train (their best: 0.03).
    const surface = valleyAt(() => 0.03);
    const observed: Observation[] = [];
    let d = decide(base, observed);
    while (d.kind === 'train') {
      for (const r of d.runs) {
        const failed = r.length === top;
        const value = failed ? null : surface(r.lr, r.length);
        observed.push({
          ...r,
          state: failed ? 'failed' : 'complete',
          value,
          curve: failed ? [] : [value! + 1, value!],
        });
      }
      d = decide(base, observed);
    }
    if (d.kind !== 'done') throw new Error('not done');
    const blown = Math.min(...observed.filter((o) => o.length === top).map((o) => o.lr));
    expect(unstableCeiling(d.levels, d.levels.at(-2)!)).toBe(blown);
    expect(d.answer!.lr).toBeLessThanOrEqual(Number((blown / 10 ** CEILING_MARGIN).toPrecision(3)));
    expect(d.why.join(' ')).toMatch(/blew up in runs longer than/);
  });

  it('a run that ends far worse than the same lr in a shorter level did not train: it is unstable, and caps the answer', () => {
    const levels = ladderFor(base.budget, base.horizon);
    const top = levels.at(-1)!.length;
    // Rates at or above 0.02 train in short runs but stall at the full length (a loss 3x the
    // short run's, without the curve rising above the early loss); the best below them is 0.03.
    const valley = valleyAt(() => 0.03);
    const surface: Surface = (lr, length) =>
      length === top && lr >= 0.02 ? 3 * valley(lr, levels[0].length) : valley(lr, length);
    const { d } = drive(base, surface);
    if (d.kind !== 'done') throw new Error('not done');
    const topRuns = d.levels.find((o) => o.level.length === top)?.runs ?? [];
    const stalled = topRuns.filter((r) => r.lr >= 0.02);
    expect(stalled.length).toBeGreaterThan(0);
    for (const r of stalled) expect(r.unstable).toBe(true);
    expect(d.answer!.lr).toBeLessThan(0.02);
  });

  it('a cliff just above the best (rates that train far worse than it): the answer stays CLIFF_MARGIN below it', () => {
    // The valley's best is 0.07 on this seed, but rates above 0.09 end 5x worse at every length:
    // the seed survived rates right below a cliff that others may meet lower.
    const valley = valleyAt(() => 0.07);
    const surface: Surface = (lr, length) => (lr > 0.09 ? 5 : 1) * valley(lr, length);
    const { d, observed } = drive({ ...base, budget: 5 }, surface);
    if (d.kind !== 'done') throw new Error('not done');
    const cliff = cliffOf(d.levels)!;
    expect(cliff).toBeGreaterThan(0.09);
    expect(observed.some((o) => o.lr === cliff)).toBe(true);
    expect(d.answer!.lr).toBeLessThanOrEqual(Number((cliff / 10 ** CLIFF_MARGIN).toPrecision(3)));
    expect(d.why.join(' ')).toMatch(/a cliff that other seeds may meet lower/);
    // Without a cliff the same valley answers near its best, unmoved by the rule.
    const smooth = drive({ ...base, budget: 5 }, valley).d;
    if (smooth.kind !== 'done') throw new Error('not done');
    expect(smooth.why.join(' ')).not.toMatch(/cliff/);
    expect(Math.abs(Math.log10(smooth.answer!.lr / 0.07))).toBeLessThan(0.2);
  });

  it('a budget a second refined level does not fit spends what is left on a pair at the horizon', () => {
    // A 10-epoch horizon whose runs take at least 3: 8 runs of 3 epochs (2.4 runs) and 2 of 10;
    // two levels with 3 runs at the top cost more than 4.5, and one screen would leave 2 unspent.
    const cfg = { ...base, horizon: 10, budget: 4.5, minLength: 3 };
    const levels = ladderFor(cfg.budget, cfg.horizon, cfg.minLength);
    expect(levels.map((l) => [l.points, l.length])).toEqual([
      [8, 3],
      [2, 10],
    ]);
    const { d, observed } = drive(
      cfg,
      valleyAt(() => 0.05),
    );
    if (d.kind !== 'done') throw new Error('not done');
    expect(d.answer!.extrapolated).toBe(false);
    expect(Math.abs(Math.log10(d.answer!.lr / 0.05))).toBeLessThan(0.35);
    expect(spentRuns(observed, cfg.horizon)).toBeLessThanOrEqual(cfg.budget);
  });

  it('a best above the screen: the next level reaches past the screen’s top edge', () => {
    const { d } = drive(
      { ...base, hi: 0.01, lo: 1e-5 },
      valleyAt(() => 0.02),
    );
    if (d.kind !== 'done') throw new Error('not done');
    expect(d.answer!.lr).toBeGreaterThan(0.01);
  });

  it('a small budget answers from shorter runs, says it extrapolated, and spends no more than it was given', () => {
    const cfg = { ...base, budget: 1 };
    const { d, observed } = drive(
      cfg,
      valleyAt(() => 0.05),
    );
    if (d.kind !== 'done') throw new Error('not done');
    expect(d.answer!.extrapolated).toBe(true);
    expect(d.answer!.confidence).not.toBe('high');
    expect(spentRuns(observed, cfg.horizon)).toBeLessThanOrEqual(1);
    expect(Math.abs(Math.log10(d.answer!.lr / 0.05))).toBeLessThan(0.15);
  });

  it('diverging rates never win, and a screen where none trains stably answers null', () => {
    const { d } = drive(
      base,
      valleyAt(() => 0.5),
      0.1,
    );
    if (d.kind !== 'done') throw new Error('not done');
    expect(d.answer!.lr).toBeLessThanOrEqual(0.1);
    const none = drive(
      base,
      valleyAt(() => 0.5),
      1e-9,
    );
    if (none.d.kind !== 'done') throw new Error('not done');
    expect(none.d.answer).toBeNull();
  });

  it('waits while a level runs, and the same observations give the same decision', () => {
    const first = decide(base, []);
    if (first.kind !== 'train') throw new Error('expected a screen');
    const running: Observation[] = first.runs.map((r, i) => ({
      ...r,
      state: i === 0 ? 'running' : 'complete',
      value: i === 0 ? null : 1,
      curve: [],
    }));
    expect(decide(base, running)).toEqual({ kind: 'wait', level: 0 });
    expect(decide(base, running)).toEqual(decide(base, [...running]));
  });
});

describe('plan: the ladder from a range test', () => {
  const rt = {
    id: 'lrt_x',
    cached: false,
    steps_run: 100,
    curve: [{ step: 0, lr: 1e-7, loss: 1, smoothed_loss: 1 }],
    suggestion: {
      lr: 0.01,
      method: 'valley',
      candidates: { valley: 0.01, steepest: 0.02, minimum: 0.5, min_over_10: 0.05 },
      max_stable_lr: 1,
      confidence: 'high',
      reasons: [],
    },
  } as unknown as LrRangeTest;

  it('runs take at least 50 optimizer steps when the steps per epoch are known, and the span reaches a decade below the default', () => {
    const base = { unit: 'epochs' as const, horizon: 24, budget: 3, rtRuns: 0.3, seed: 0 };
    const known = ladderConfig(rt, 'adam', { ...base, stepsPerEpoch: 13 })!;
    expect(known.minLength).toBe(4); // 4 epochs of 13 steps: 52
    expect(Math.min(...ladderFor(known.budget, 24, known.minLength).map((l) => l.length))).toBe(4);
    expect(ladderConfig(rt, 'adam', { ...base, stepsPerEpoch: null })!.minLength).toBe(1);
    const steps = ladderConfig(rt, 'adam', {
      ...base,
      unit: 'steps',
      horizon: 600,
      stepsPerEpoch: 1,
    })!;
    expect(steps.minLength).toBe(50);
    expect(known.budget).toBeCloseTo(2.7);
    expect(known.lo).toBeCloseTo(1e-4); // adam's default 1e-3 / 10, below max_stable / 1000
  });
});

import { describe, it, expect } from 'vitest';
import {
  bracketBudgets,
  bracketCount,
  HyperbandPruner,
  isPromotable,
  MedianPruner,
  nanPercentile,
  NopPruner,
  PercentilePruner,
  prunesAtAnyStep,
  rungResource,
  rungValues,
  SuccessiveHalvingPruner,
  trialsInSameBracket,
} from '../../src/tuning/pruners';
import { ConfigError } from '../../src/tuning/errors';
import { checkPruner, makePruner } from '../../src/tuning/registry';
import { Rng } from '../../src/tuning/rng';
import type { Direction, FrozenTrial, Pruner, TrialState } from '../../src/tuning/types';

// ---------------------------------------------------------------- helpers

type Pts = readonly (readonly [number, number])[];

function trial(number: number, points: Pts, state: TrialState = 'running'): FrozenTrial {
  const intermediate = points.map(([step, value]) => ({ step, value }));
  const last = intermediate.length > 0 ? intermediate[intermediate.length - 1].value : null;
  return deepFreeze({
    number,
    state,
    params: {},
    value: state === 'complete' ? last : null,
    intermediate,
  });
}

/** Values at steps 1, 2, 3, ... */
function steps(...values: number[]): Pts {
  return values.map((v, i) => [i + 1, v] as const);
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

function ask(
  pruner: Pruner,
  t: FrozenTrial,
  others: readonly FrozenTrial[],
  direction: Direction = 'minimize',
): boolean {
  return pruner.shouldPrune({ trial: t, trials: [...others, t], direction });
}

type Kind = 'good' | 'bad';

/** A synthetic learning curve over steps 1..n: good ones decay to 0.1, bad ones plateau at 0.8; seeded noise. */
function curve(kind: Kind, n: number, seed: number): Pts {
  const rng = new Rng(seed);
  const rate = 3 + 3 * rng.next();
  const out: [number, number][] = [];
  for (let t = 1; t <= n; t++) {
    const clean =
      kind === 'good' ? 0.1 + 0.9 * Math.exp(-t / rate) : 0.8 + 0.3 * Math.exp(-t / rate);
    out.push([t, clean + 0.01 * rng.normal()]);
  }
  return out;
}

/** Runs trials one after another, reporting every step and asking after each report. */
function simulate(
  pruner: Pruner,
  kinds: readonly Kind[],
  n: number,
  direction: Direction = 'minimize',
  first = 0,
) {
  const done: FrozenTrial[] = [];
  const prunedAt: (number | null)[] = [];
  kinds.forEach((kind, i) => {
    const number = first + i;
    let pts = curve(kind, n, 1000 + number);
    if (direction === 'maximize') pts = pts.map(([s, v]) => [s, 1 - v] as const);
    let stop: number | null = null;
    for (let k = 1; k <= n; k++) {
      if (ask(pruner, trial(number, pts.slice(0, k)), done, direction)) {
        stop = pts[k - 1][0];
        done.push(trial(number, pts.slice(0, k), 'pruned'));
        break;
      }
    }
    if (stop === null) done.push(trial(number, pts, 'complete'));
    prunedAt.push(stop);
  });
  return { trials: done, prunedAt };
}

const ALL_PRUNERS: [string, () => Pruner][] = [
  ['none', () => new NopPruner()],
  ['median', () => new MedianPruner({ n_startup_trials: 0 })],
  ['asha', () => new SuccessiveHalvingPruner({ bootstrap_count: 1 })],
  ['hyperband', () => new HyperbandPruner({ max_resource: 81 })],
];

// ---------------------------------------------------------------- median

describe('MedianPruner', () => {
  const completedMix = [0, 1, 2, 3, 4, 5].map((i) =>
    trial(i, curve(i % 2 === 0 ? 'good' : 'bad', 27, 1000 + i), 'complete'),
  );

  it('prunes bad curves at their first check and keeps good ones (3 good + 3 bad complete)', () => {
    const pruner = new MedianPruner();
    for (let number = 6; number < 26; number++) {
      const kind: Kind = number % 2 === 0 ? 'good' : 'bad';
      const pts = curve(kind, 27, 1000 + number);
      const decisions = pts.map((_, k) =>
        ask(pruner, trial(number, pts.slice(0, k + 1)), completedMix),
      );
      if (kind === 'bad') expect(decisions[0]).toBe(true);
      else expect(decisions.every((d) => !d)).toBe(true);
    }
  });

  it('prunes nothing before n_startup_trials trials are complete, and nothing with none complete', () => {
    const awful = trial(9, steps(5));
    const complete = (k: number) =>
      [0, 1, 2, 3, 4, 5].slice(0, k).map((i) => trial(i, steps(0.5), 'complete'));
    expect(ask(new MedianPruner(), awful, complete(4))).toBe(false);
    expect(ask(new MedianPruner(), awful, complete(5))).toBe(true);
    expect(ask(new MedianPruner({ n_startup_trials: 2 }), awful, complete(2))).toBe(true);
    expect(ask(new MedianPruner({ n_startup_trials: 0 }), awful, [])).toBe(false); // Optuna: needs one complete trial
  });

  it('counts and compares only complete trials', () => {
    const others = [
      trial(0, steps(0.1), 'pruned'),
      trial(1, steps(0.1), 'failed'),
      trial(2, steps(0.1), 'running'),
      trial(3, steps(0.9), 'complete'),
    ];
    const p = new MedianPruner({ n_startup_trials: 1 });
    expect(ask(p, trial(9, steps(0.5)), others)).toBe(false); // median of complete = 0.9
    expect(ask(new MedianPruner({ n_startup_trials: 2 }), trial(9, steps(5)), others)).toBe(false);
  });

  it('takes numpy percentiles (linear interpolation) at the trial step; ties are kept', () => {
    expect(nanPercentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(nanPercentile([1, 2, 3, 4, 10], 50)).toBe(3);
    expect(nanPercentile([1, 2, 3, 4, 10], 25)).toBe(2);
    expect(nanPercentile([1, NaN, 3], 50)).toBe(2);
    expect(nanPercentile([NaN], 50)).toBeNaN();
    const odd = [1, 2, 3, 4, 10].map((v, i) =>
      trial(
        i,
        [
          [1, 100],
          [2, v],
        ],
        'complete',
      ),
    );
    const p = new MedianPruner();
    expect(
      ask(
        p,
        trial(9, [
          [1, 50],
          [2, 3],
        ]),
        odd,
      ),
    ).toBe(false);
    expect(
      ask(
        p,
        trial(9, [
          [1, 50],
          [2, 3.0001],
        ]),
        odd,
      ),
    ).toBe(true);
    const even = [1, 2, 3, 4].map((v, i) => trial(i, [[1, v]], 'complete'));
    const p1 = new MedianPruner({ n_startup_trials: 1 });
    expect(ask(p1, trial(9, [[1, 2.5]]), even)).toBe(false);
    expect(ask(p1, trial(9, [[1, 2.51]]), even)).toBe(true);
  });

  it("compares the trial's best value so far (Optuna), not its latest one", () => {
    const others = [0, 1, 2, 3, 4].map((i) => trial(i, steps(1, 1), 'complete'));
    const p = new MedianPruner();
    expect(ask(p, trial(9, steps(0.1, 5)), others)).toBe(false);
    expect(ask(p, trial(9, steps(2, 5)), others)).toBe(true);
  });

  it('respects n_warmup_steps', () => {
    const others = [0, 1, 2, 3, 4].map((i) =>
      trial(
        i,
        [0, 1, 2, 3, 4].map((s) => [s, 0.1] as const),
        'complete',
      ),
    );
    const p = new MedianPruner({ n_warmup_steps: 3 });
    const bad = [0, 1, 2, 3, 4].map((s) => [s, 0.9] as const);
    const decisions = bad.map((_, k) => ask(p, trial(9, bad.slice(0, k + 1)), others));
    expect(decisions).toEqual([false, false, false, true, true]);
  });

  it('checks only at the first report of each interval (n_warmup_steps + k * interval_steps)', () => {
    const all = Array.from({ length: 12 }, (_, s) => s);
    const others = [0, 1, 2, 3, 4].map((i) =>
      trial(
        i,
        all.map((s) => [s, 0.1] as const),
        'complete',
      ),
    );
    const p = new MedianPruner({ n_warmup_steps: 2, interval_steps: 3 });
    const bad = all.map((s) => [s, 0.9] as const);
    const checked = all.filter((_, k) => ask(p, trial(9, bad.slice(0, k + 1)), others));
    expect(checked).toEqual([2, 5, 8, 11]);
    // Sparse reports: the first report inside an interval is checked, wherever it falls.
    expect(
      ask(
        p,
        trial(9, [
          [0, 0.9],
          [4, 0.9],
        ]),
        others,
      ),
    ).toBe(true);
    expect(
      ask(
        p,
        trial(9, [
          [0, 0.9],
          [4, 0.9],
          [6, 0.9],
        ]),
        others,
      ),
    ).toBe(true);
    expect(
      ask(
        p,
        trial(9, [
          [0, 0.9],
          [4, 0.9],
          [6, 0.9],
          [7, 0.9],
        ]),
        others,
      ),
    ).toBe(false);
  });

  it('needs n_min_trials complete trials that reported the step', () => {
    const others = [
      trial(
        0,
        [
          [1, 0.1],
          [5, 0.1],
        ],
        'complete',
      ),
      trial(1, [[1, 0.1]], 'complete'),
      trial(2, [[1, 0.1]], 'complete'),
    ];
    const at5 = trial(9, [[5, 0.9]]);
    expect(ask(new MedianPruner({ n_startup_trials: 1 }), at5, others)).toBe(true);
    expect(ask(new MedianPruner({ n_startup_trials: 1, n_min_trials: 2 }), at5, others)).toBe(
      false,
    );
    expect(ask(new MedianPruner({ n_startup_trials: 1 }), trial(9, [[4, 0.9]]), others)).toBe(
      false,
    ); // nobody at step 4
  });

  it('flips with maximize, and takes the percentile from the top', () => {
    const others = [0, 1, 2, 3, 4].map((i) => trial(i, steps(0.5), 'complete'));
    const p = new MedianPruner();
    expect(ask(p, trial(9, steps(0.9)), others, 'minimize')).toBe(true);
    expect(ask(p, trial(9, steps(0.9)), others, 'maximize')).toBe(false);
    expect(ask(p, trial(9, steps(0.1)), others, 'maximize')).toBe(true);
    // maximize: best so far is the largest value
    expect(
      ask(
        p,
        trial(9, steps(0.9, 0.1)),
        others.map((t, i) => trial(i, steps(0.5, 0.5), 'complete')),
        'maximize',
      ),
    ).toBe(false);
    const spread = [1, 2, 3, 4, 5].map((v, i) => trial(i, steps(v), 'complete'));
    const p25 = new PercentilePruner({ percentile: 25 });
    expect(ask(p25, trial(9, steps(3.5)), spread, 'maximize')).toBe(true); // below the 75th percentile, 4
    expect(ask(p25, trial(9, steps(4)), spread, 'maximize')).toBe(false);
    expect(ask(p25, trial(9, steps(2.5)), spread, 'minimize')).toBe(true); // above the 25th percentile, 2
  });

  it('keeps good and prunes bad curves under maximize (a whole study)', () => {
    const kinds: Kind[] = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 'good' : 'bad'));
    const { prunedAt } = simulate(new MedianPruner({ n_startup_trials: 4 }), kinds, 20, 'maximize');
    kinds.forEach((k, i) => {
      if (i >= 4 && k === 'bad') expect(prunedAt[i]).not.toBeNull();
    });
    expect(prunedAt.filter((s, i) => kinds[i] === 'good' && s === null).length).toBeGreaterThan(3);
  });

  it('prunes a trial whose values are all NaN and ignores NaN in other trials', () => {
    const others = [0, 1, 2, 3, 4].map((i) => trial(i, steps(i === 0 ? NaN : 0.5), 'complete'));
    const p = new MedianPruner();
    expect(ask(p, trial(9, steps(NaN)), others)).toBe(true);
    expect(ask(p, trial(9, steps(0.4)), others)).toBe(false);
    expect(ask(p, trial(9, steps(0.6)), others)).toBe(true);
    const allNaN = [0, 1, 2, 3, 4].map((i) => trial(i, steps(NaN), 'complete'));
    expect(ask(p, trial(9, steps(0.6)), allNaN)).toBe(false);
  });
});

// ---------------------------------------------------------------- asha

describe('SuccessiveHalvingPruner', () => {
  it('puts rungs at min_resource * rf^(min_early_stopping_rate + k)', () => {
    const p = new SuccessiveHalvingPruner({ min_resource: 1, reduction_factor: 3 });
    expect([0, 1, 2, 3].map((k) => p.rungResource(k))).toEqual([1, 3, 9, 27]);
    const shifted = {
      min_resource: 2,
      reduction_factor: 2,
      min_early_stopping_rate: 1,
      bootstrap_count: 0,
    };
    expect([0, 1, 2].map((k) => rungResource(shifted, k))).toEqual([4, 8, 16]);
  });

  it('derives rung values from the reports: the first report at or beyond each rung', () => {
    const o = {
      min_resource: 1,
      reduction_factor: 3,
      min_early_stopping_rate: 0,
      bootstrap_count: 0,
    };
    const t = trial(0, [
      [1, 0.9],
      [2, 0.8],
      [3, 0.7],
      [5, 0.6],
      [10, 0.5],
      [30, 0.4],
    ]);
    expect(rungValues(t, o)).toEqual([0.9, 0.7, 0.5, 0.4]);
    expect(rungValues(t, { ...o, max_resource: 27 })).toEqual([0.9, 0.7, 0.5]);
    expect(rungValues(trial(0, [[10, 0.5]]), o)).toEqual([0.5, 0.5, 0.5]); // one report crosses three rungs
    expect(
      rungValues(
        trial(0, [
          [1, NaN],
          [2, 0.3],
          [3, 0.2],
        ]),
        o,
      ),
    ).toEqual([0.3, 0.2]); // NaN records nothing
    expect(
      rungValues(
        trial(0, [
          [3, 0.2],
          [1, 0.9],
        ]),
        o,
      ),
    ).toEqual([0.9, 0.2]); // read in step order
  });

  const decide = (value: number, others: number[], direction: Direction = 'minimize', rf = 3) =>
    ask(
      new SuccessiveHalvingPruner({ reduction_factor: rf }),
      trial(99, steps(value)),
      others.map((v, i) => trial(i, steps(v), 'complete')),
      direction,
    );

  it('promotes the top 1/reduction_factor of the trials at the rung, itself included; ties are promoted', () => {
    // 1 or 2 at the rung: only a value equal to the best is promoted.
    expect(decide(0.5, [])).toBe(false);
    expect(decide(0.5, [0.5])).toBe(false);
    expect(decide(0.6, [0.5])).toBe(true);
    // 3 at the rung: index 0 (the best).
    expect(decide(0.2, [0.2, 0.3])).toBe(false);
    expect(decide(0.25, [0.2, 0.3])).toBe(true);
    // 6 at the rung: index 1 (the second best).
    expect(decide(0.2, [0.1, 0.2, 0.3, 0.4, 0.5])).toBe(false);
    expect(decide(0.21, [0.1, 0.2, 0.3, 0.4, 0.5])).toBe(true);
    expect(decide(0.15, [0.1, 0.2, 0.3, 0.4, 0.5])).toBe(false);
    // 9 at the rung: index 2.
    expect(decide(0.3, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])).toBe(false);
    expect(decide(0.31, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])).toBe(true);
    // ties at the cut-off
    expect(decide(0.2, [0.2, 0.2, 0.2, 0.2, 0.2])).toBe(false);
    // reduction_factor 2 with 4 at the rung: index 1
    expect(decide(0.2, [0.1, 0.2, 0.9], 'minimize', 2)).toBe(false);
    expect(decide(0.3, [0.1, 0.2, 0.9], 'minimize', 2)).toBe(true);
    expect(isPromotable(0.2, [0.2, 0.1, 0.3, 0.4, 0.5, 0.6], 3, 'minimize')).toBe(true);
  });

  it('flips with maximize', () => {
    expect(decide(0.5, [0.1, 0.2, 0.3, 0.4, 0.6])).toBe(true);
    expect(decide(0.5, [0.1, 0.2, 0.3, 0.4, 0.6], 'maximize')).toBe(false);
    expect(decide(0.4, [0.1, 0.2, 0.3, 0.5, 0.6], 'maximize')).toBe(true);
    expect(decide(0.6, [0.6], 'maximize')).toBe(false);
  });

  it('compares a trial at step 3 only with the trials that reached step 3', () => {
    const p = new SuccessiveHalvingPruner();
    const others = [
      trial(0, steps(0.01)), // only at rung 0 (step 1)
      trial(1, [
        [1, 0.01],
        [2, 0.01],
      ]), // step 2 is not a rung
      trial(2, steps(0.2, 0.2, 0.5), 'complete'),
      trial(3, steps(0.2, 0.2, 0.6), 'pruned'),
    ];
    const t = trial(9, steps(0.3, 0.35, 0.4));
    expect(ask(p, t, others)).toBe(false); // rung 1: [0.4, 0.5, 0.6] -> best
    expect(ask(p, t, [...others, trial(4, steps(0.3, 0.3, 0.39), 'failed')])).toBe(true); // any state competes
    expect(ask(p, trial(9, steps(0.3, 0.35)), others)).toBe(false); // step 2: between rungs
  });

  it('checks every rung one report crosses, with the same value', () => {
    const p = new SuccessiveHalvingPruner();
    const others = [trial(0, steps(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1))]; // rung 2 (step 9): 0.1
    expect(ask(p, trial(9, [[10, 0.3]]), others)).toBe(true); // promoted at rungs 0, 1; pruned at rung 2
    expect(ask(p, trial(9, [[8, 0.3]]), others)).toBe(false); // rungs 0, 1 only
    expect(ask(p, trial(9, [[3, 0.6]]), others)).toBe(true); // already at rung 0
  });

  it('prunes while at most bootstrap_count trials reached the rung', () => {
    const p = new SuccessiveHalvingPruner({ bootstrap_count: 2 });
    expect(ask(p, trial(9, steps(0.1)), [])).toBe(true);
    expect(ask(p, trial(9, steps(0.1)), [trial(0, steps(0.5))])).toBe(true);
    expect(ask(p, trial(9, steps(0.1)), [trial(0, steps(0.5)), trial(1, steps(0.6))])).toBe(false);
  });

  it('prunes a NaN at a rung, not between rungs', () => {
    const p = new SuccessiveHalvingPruner();
    expect(ask(p, trial(9, steps(NaN)), [])).toBe(true);
    expect(ask(p, trial(9, steps(0.5, NaN)), [])).toBe(false);
    expect(ask(p, trial(9, steps(0.5, NaN, NaN)), [])).toBe(true);
    expect(ask(p, trial(9, steps(0.5)), [trial(0, steps(NaN))])).toBe(false); // a NaN recorded nothing
  });

  it('does not check rungs at or beyond max_resource', () => {
    const others = [
      trial(
        0,
        [
          [1, 0.1],
          [3, 0.1],
          [9, 0.1],
          [27, 0.1],
          [81, 0.1],
        ],
        'complete',
      ),
    ];
    const t = trial(9, [
      [1, 0.1],
      [3, 0.1],
      [9, 0.1],
      [27, 0.1],
      [81, 0.9],
    ]);
    expect(ask(new SuccessiveHalvingPruner(), t, others)).toBe(true);
    expect(ask(new SuccessiveHalvingPruner({ max_resource: 81 }), t, others)).toBe(false);
    expect(ask(new SuccessiveHalvingPruner({ max_resource: 80 }), t, others)).toBe(false);
    expect(ask(new SuccessiveHalvingPruner({ max_resource: 82 }), t, others)).toBe(true);
  });

  it('shifts its rungs with min_early_stopping_rate', () => {
    const p = new SuccessiveHalvingPruner({ min_early_stopping_rate: 1 });
    const others = [trial(0, steps(0.1, 0.1, 0.1))];
    expect(ask(p, trial(9, steps(0.9, 0.9)), others)).toBe(false);
    expect(ask(p, trial(9, steps(0.9, 0.9, 0.9)), others)).toBe(true);
  });

  it('prunes bad curves early and lets good ones finish (a whole study)', () => {
    const kinds: Kind[] = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'good' : 'bad'));
    const { trials, prunedAt } = simulate(
      new SuccessiveHalvingPruner({ max_resource: 27 }),
      kinds,
      27,
    );
    kinds.forEach((k, i) => {
      if (k === 'bad') expect(prunedAt[i]).not.toBeNull();
      if (k === 'bad') expect(prunedAt[i]).toBeLessThanOrEqual(3);
    });
    const complete = trials.filter((t) => t.state === 'complete');
    expect(complete.length).toBeGreaterThanOrEqual(3);
    expect(complete.every((t) => kinds[t.number] === 'good')).toBe(true);
  });

  it('is stateless: the same inputs give the same answer, in any order, from any instance', () => {
    const kinds: Kind[] = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 'bad' : 'good'));
    const { trials } = simulate(new SuccessiveHalvingPruner(), kinds, 10);
    const rng = new Rng(5);
    for (let number = 20; number < 30; number++) {
      const pts = curve(number % 2 ? 'good' : 'bad', 10, number);
      for (let k = 1; k <= pts.length; k++) {
        const t = trial(number, pts.slice(0, k));
        const a = ask(new SuccessiveHalvingPruner(), t, trials);
        const shuffled = [...trials];
        rng.shuffle(shuffled);
        const p = new SuccessiveHalvingPruner();
        expect(ask(p, t, shuffled)).toBe(a);
        expect(ask(p, t, shuffled)).toBe(a);
      }
    }
  });
});

// ---------------------------------------------------------------- hyperband

describe('HyperbandPruner', () => {
  it('has floor(log_rf(max / min)) + 1 brackets with Hyperband budgets', () => {
    const p = new HyperbandPruner({ min_resource: 1, max_resource: 81, reduction_factor: 3 });
    expect(p.nBrackets).toBe(5);
    expect(p.budgets).toEqual([81, 34, 15, 8, 5]);
    expect(bracketCount({ min_resource: 1, max_resource: 80, reduction_factor: 3 })).toBe(4);
    expect(bracketCount({ min_resource: 1, max_resource: 100, reduction_factor: 3 })).toBe(5);
    expect(bracketCount({ min_resource: 2, max_resource: 16, reduction_factor: 2 })).toBe(4);
    expect(bracketCount({ min_resource: 1, max_resource: 2, reduction_factor: 3 })).toBe(1);
    expect(bracketBudgets({ min_resource: 1, max_resource: 2, reduction_factor: 3 })).toEqual([1]);
    expect([0, 1, 2, 3, 4].map((b) => p.bracketOptions(b).min_early_stopping_rate)).toEqual([
      0, 1, 2, 3, 4,
    ]);
  });

  it('assigns brackets deterministically, roughly in proportion to their budgets', () => {
    const a = new HyperbandPruner({ max_resource: 81 });
    const b = makePruner({
      name: 'hyperband',
      min_resource: 1,
      max_resource: 81,
      reduction_factor: 3,
    }) as HyperbandPruner;
    const counts = [0, 0, 0, 0, 0];
    for (let n = 0; n < 1000; n++) {
      const k = a.bracketOf(n);
      expect(b.bracketOf(n)).toBe(k);
      expect(Number.isInteger(k) && k >= 0 && k < 5).toBe(true);
      counts[k]++;
    }
    const total = 81 + 34 + 15 + 8 + 5;
    a.budgets.forEach((budget, k) => {
      const expected = (1000 * budget) / total;
      expect(Math.abs(counts[k] - expected)).toBeLessThan(0.25 * expected);
    });
    expect([...counts].sort((x, y) => y - x)).toEqual(counts);
  });

  it('compares a trial only with the trials of its bracket', () => {
    const p = new HyperbandPruner({ max_resource: 81 });
    const inBracket = (b: number) =>
      Array.from({ length: 400 }, (_, n) => n).filter((n) => p.bracketOf(n) === b);
    const [me, ...mates] = inBracket(0);
    const strangers = inBracket(1)
      .slice(0, 5)
      .map((n) => trial(n, steps(0.01)));
    expect(ask(p, trial(me, steps(0.5)), strangers)).toBe(false); // alone in bracket 0 at rung 1
    const rivals = mates.slice(0, 3).map((n) => trial(n, steps(0.01)));
    expect(ask(p, trial(me, steps(0.5)), [...strangers, ...rivals])).toBe(true);

    // Bracket 1's first rung is at step 3; it ignores bracket 0's trials there.
    const [you, ...yourMates] = inBracket(1);
    const b0 = mates.slice(0, 5).map((n) => trial(n, steps(0.01, 0.01, 0.01)));
    expect(ask(p, trial(you, steps(0.9)), b0)).toBe(false);
    expect(ask(p, trial(you, steps(0.9, 0.9, 0.5)), b0)).toBe(false);
    const b1 = yourMates.slice(0, 3).map((n) => trial(n, steps(0.9, 0.9, 0.1)));
    expect(ask(p, trial(you, steps(0.9, 0.9, 0.5)), [...b0, ...b1])).toBe(true);
  });

  it('never prunes in the last bracket, whose only rung is max_resource', () => {
    const p = new HyperbandPruner({ max_resource: 81 });
    const last = Array.from({ length: 400 }, (_, n) => n).filter((n) => p.bracketOf(n) === 4);
    expect(last.length).toBeGreaterThan(3);
    const others = last.slice(1).map((n) =>
      trial(
        n,
        Array.from({ length: 81 }, (_, s) => [s + 1, 0.01] as const),
        'complete',
      ),
    );
    const pts = Array.from({ length: 81 }, (_, s) => [s + 1, 0.9] as const);
    for (let k = 1; k <= 81; k++)
      expect(ask(p, trial(last[0], pts.slice(0, k)), others)).toBe(false);
  });

  it('prunes bad curves and keeps the best good ones (a whole study)', () => {
    const kinds: Kind[] = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? 'good' : 'bad'));
    const p = new HyperbandPruner({ max_resource: 27 }); // 4 brackets, first rungs at 1, 3, 9 and (none) 27
    const { trials, prunedAt } = simulate(p, kinds, 27);
    const prunedBad = kinds.filter((k, i) => k === 'bad' && prunedAt[i] !== null).length;
    const lastBracketBad = kinds.filter((k, i) => k === 'bad' && p.bracketOf(i) === 3).length;
    expect(prunedBad).toBeGreaterThanOrEqual(60 - lastBracketBad - 4); // the first bad one of a bracket may survive
    const best = trials
      .filter((t) => t.state === 'complete')
      .sort((a, b) => a.value! - b.value!)[0];
    expect(kinds[best.number]).toBe('good');
  });

  it('gives samplers the trials of the same bracket', () => {
    const p = new HyperbandPruner({ max_resource: 81 });
    const trials = Array.from({ length: 50 }, (_, n) => trial(n, steps(0.5), 'complete'));
    const same = trialsInSameBracket(p, 7, trials);
    expect(same.length).toBeGreaterThan(0);
    expect(same.every((t) => p.bracketOf(t.number) === p.bracketOf(7))).toBe(true);
    expect(same.length).toBe(trials.filter((t) => p.bracketOf(t.number) === p.bracketOf(7)).length);
    expect(trialsInSameBracket(new MedianPruner(), 7, trials)).toEqual(trials);
    expect(trialsInSameBracket(null, 7, trials)).toEqual(trials);
  });
});

// ---------------------------------------------------------------- common

describe('every pruner', () => {
  it.each(ALL_PRUNERS)(
    '%s: does not throw on empty histories, NaN values or odd steps',
    (_, make) => {
      const p = make();
      for (const direction of ['minimize', 'maximize'] as const) {
        expect(p.shouldPrune({ trial: trial(0, []), trials: [], direction })).toBe(false);
        expect(p.shouldPrune({ trial: trial(0, []), trials: [trial(0, [])], direction })).toBe(
          false,
        );
        const weird = [
          trial(1, steps(NaN, NaN), 'complete'),
          trial(2, [], 'complete'),
          trial(
            3,
            [
              [Infinity, 1],
              [1, Infinity],
            ],
            'complete',
          ),
        ];
        for (const t of [
          trial(0, steps(NaN)),
          trial(0, steps(0.5, NaN)),
          trial(0, [
            [0, 1],
            [-1, 2],
          ]),
          trial(0, steps(Infinity, -Infinity)),
        ]) {
          expect(typeof p.shouldPrune({ trial: t, trials: [...weird, t], direction })).toBe(
            'boolean',
          );
          expect(typeof p.shouldPrune({ trial: t, trials: [], direction })).toBe('boolean');
        }
      }
    },
  );

  it.each(ALL_PRUNERS)('%s: the same inputs give the same answer', (_, make) => {
    const { trials } = simulate(
      make(),
      ['good', 'bad', 'good', 'bad', 'good', 'bad', 'good', 'bad'],
      12,
    );
    const t = trial(20, curve('bad', 9, 20));
    const first = ask(make(), t, trials);
    expect(ask(make(), t, trials)).toBe(first);
    const p = make();
    expect(ask(p, t, trials)).toBe(ask(p, t, [...trials].reverse()));
  });
});

describe('a batch of reports (shouldPruneAtAny, prunesAtAnyStep)', () => {
  const VARIANTS: [string, () => Pruner][] = [
    ...ALL_PRUNERS,
    [
      'median, warm-up 3, interval 4',
      () => new MedianPruner({ n_startup_trials: 2, n_warmup_steps: 3, interval_steps: 4 }),
    ],
    [
      'percentile 25, n_min_trials 3',
      () => new PercentilePruner({ percentile: 25, n_startup_trials: 1, n_min_trials: 3 }),
    ],
    [
      'asha, rate 1, rf 2',
      () =>
        new SuccessiveHalvingPruner({
          min_resource: 2,
          reduction_factor: 2,
          min_early_stopping_rate: 1,
        }),
    ],
    ['asha, max_resource 20', () => new SuccessiveHalvingPruner({ max_resource: 20 })],
    [
      'hyperband 1..27, rf 3',
      () => new HyperbandPruner({ min_resource: 1, max_resource: 27, reduction_factor: 3 }),
    ],
  ];

  /** The reference: the trial cut to its first k values by step, asked with shouldPrune, for each k. */
  function oneByOne(
    p: Pruner,
    t: FrozenTrial,
    others: readonly FrozenTrial[],
    ends: readonly number[],
    direction: Direction,
  ): boolean {
    const sorted = [...t.intermediate].sort((a, b) => a.step - b.step);
    return ends.some((k) => {
      const cut = { ...t, intermediate: sorted.slice(0, k) };
      return p.shouldPrune({ trial: cut, trials: [...others, cut], direction });
    });
  }

  it.each(VARIANTS)(
    '%s: one pass answers as the trial asked at each end, on 300 random histories',
    (_, make) => {
      const rng = new Rng(77);
      let pruned = 0;
      for (let round = 0; round < 300; round++) {
        const direction: Direction = round % 3 === 0 ? 'maximize' : 'minimize';
        const kinds: Kind[] = Array.from({ length: 2 + rng.int(8) }, () =>
          rng.next() < 0.5 ? 'good' : 'bad',
        );
        const { trials } = simulate(make(), kinds, 10 + rng.int(30), direction);
        // The asking trial: a curve with gaps in its steps and the odd NaN.
        const n = 1 + rng.int(40);
        const pts: [number, number][] = [];
        let step = rng.int(3);
        for (let i = 0; i < n; i++) {
          const v = 0.1 + rng.next() + (rng.next() < 0.05 ? Number.NaN : 0);
          pts.push([step, direction === 'maximize' ? 1 - v : v]);
          step += 1 + (rng.next() < 0.2 ? rng.int(4) : 0);
        }
        const t = trial(100 + round, pts);
        const ends = Array.from({ length: n }, (_, i) => i + 1).filter(() => rng.next() < 0.4);
        const p = make();
        const expected = oneByOne(p, t, trials, ends, direction);
        if (expected) pruned++;
        const ctx = { trial: t, trials: [...trials, t], direction };
        expect(p.shouldPruneAtAny!(ctx, ends), `round ${round}`).toBe(expected);
        expect(
          prunesAtAnyStep(
            p,
            ctx,
            ends.map((k) => pts[k - 1][0]),
          ),
        ).toBe(expected);
        // The last end alone is the single report's question.
        expect(p.shouldPruneAtAny!(ctx, [n])).toBe(p.shouldPrune(ctx));
      }
      // The histories exercise both answers (the none pruner aside).
      if (make().name !== 'none') expect(pruned).toBeGreaterThan(20);
    },
  );

  it('asks a pruner without shouldPruneAtAny once per step, with the trial cut short, and stops at the first prune', () => {
    const seen: number[][] = [];
    const pruner: Pruner = {
      name: 'spy',
      shouldPrune: (ctx) => {
        seen.push(ctx.trial.intermediate.map((p) => p.step));
        // The trial in ctx.trials is the cut one too.
        expect(ctx.trials.find((t) => t.number === ctx.trial.number)).toBe(ctx.trial);
        return ctx.trial.intermediate.length === 3;
      },
    };
    const t = trial(5, [
      [0, 1],
      [2, 1],
      [4, 1],
      [6, 1],
      [8, 1],
    ]);
    expect(
      prunesAtAnyStep(
        pruner,
        { trial: t, trials: [trial(1, steps(1)), t], direction: 'minimize' },
        [2, 4, 6, 8, 99],
      ),
    ).toBe(true);
    expect(seen).toEqual([
      [0, 2],
      [0, 2, 4],
    ]);
    seen.length = 0;
    expect(prunesAtAnyStep(pruner, { trial: t, trials: [t], direction: 'minimize' }, [6, 8])).toBe(
      false,
    );
    expect(seen).toEqual([
      [0, 2, 4, 6],
      [0, 2, 4, 6, 8],
    ]);
    expect(prunesAtAnyStep(pruner, { trial: t, trials: [t], direction: 'minimize' }, [77])).toBe(
      false,
    );
  });
});

describe('makePruner and checkPruner', () => {
  it('builds the pruner a config names, with its options', () => {
    expect(makePruner({ name: 'none' })).toBeInstanceOf(NopPruner);
    expect(makePruner()).toBeInstanceOf(NopPruner);
    const median = makePruner({ name: 'median', n_warmup_steps: 2 }) as MedianPruner;
    expect(median).toBeInstanceOf(MedianPruner);
    expect(median.options).toMatchObject({
      n_startup_trials: 5,
      n_warmup_steps: 2,
      interval_steps: 1,
      n_min_trials: 1,
    });
    const asha = makePruner({
      name: 'asha',
      min_resource: 1,
      max_resource: 81,
      reduction_factor: 3,
    }) as SuccessiveHalvingPruner;
    expect(asha).toBeInstanceOf(SuccessiveHalvingPruner);
    expect(asha.name).toBe('asha');
    expect(asha.options).toEqual({
      min_resource: 1,
      max_resource: 81,
      reduction_factor: 3,
      min_early_stopping_rate: 0,
      bootstrap_count: 0,
    });
    const hb = makePruner({ name: 'hyperband', max_resource: 27 }) as HyperbandPruner;
    expect(hb.name).toBe('hyperband');
    expect(hb.nBrackets).toBe(4);
  });

  it('accepts valid configs', () => {
    for (const c of [
      undefined,
      {},
      { name: 'none' },
      { name: 'median' },
      {
        name: 'median',
        n_startup_trials: 0,
        n_warmup_steps: 0,
        interval_steps: 1,
        n_min_trials: 1,
      },
      { name: 'asha' },
      { name: 'asha', min_resource: 1, max_resource: 81, reduction_factor: 3 },
      { name: 'asha', min_early_stopping_rate: 2, bootstrap_count: 3 },
      { name: 'hyperband', max_resource: 81 },
      {
        name: 'hyperband',
        min_resource: 2,
        max_resource: 3,
        reduction_factor: 2,
        bootstrap_count: 1,
      },
    ]) {
      expect(checkPruner(c).issues).toEqual([]);
    }
  });

  it.each([
    [
      { name: 'asha', reduction_factor: 1 },
      'pruner.reduction_factor',
      'must be an integer >= 2, got 1',
    ],
    [
      { name: 'asha', reduction_factor: 2.5 },
      'pruner.reduction_factor',
      'must be an integer >= 2, got 2.5',
    ],
    [{ name: 'asha', min_resource: 0 }, 'pruner.min_resource', 'must be an integer >= 1, got 0'],
    [
      { name: 'asha', min_resource: '1' },
      'pruner.min_resource',
      "must be an integer >= 1, got '1'",
    ],
    [
      { name: 'asha', min_resource: 3, max_resource: 3 },
      'pruner.max_resource',
      'must be greater than min_resource (3), got 3',
    ],
    [
      { name: 'asha', min_early_stopping_rate: -1 },
      'pruner.min_early_stopping_rate',
      'must be an integer >= 0, got -1',
    ],
    [
      { name: 'asha', bootstrap_count: null },
      'pruner.bootstrap_count',
      'must be an integer >= 0, got null',
    ],
    [
      { name: 'hyperband' },
      'pruner.max_resource',
      "is required for pruner 'hyperband': an integer >= 1",
    ],
    [
      { name: 'hyperband', min_resource: 10, max_resource: 5 },
      'pruner.max_resource',
      'must be greater than min_resource (10), got 5',
    ],
    [
      { name: 'hyperband', max_resource: 81, reduction_factor: 0 },
      'pruner.reduction_factor',
      'must be an integer >= 2, got 0',
    ],
    [
      { name: 'median', n_startup_trials: -1 },
      'pruner.n_startup_trials',
      'must be an integer >= 0, got -1',
    ],
    [
      { name: 'median', n_warmup_steps: 1.5 },
      'pruner.n_warmup_steps',
      'must be an integer >= 0, got 1.5',
    ],
    [
      { name: 'median', interval_steps: 0 },
      'pruner.interval_steps',
      'must be an integer >= 1, got 0',
    ],
    [{ name: 'median', n_min_trials: 0 }, 'pruner.n_min_trials', 'must be an integer >= 1, got 0'],
    [
      { name: 'median', min_resource: 1 },
      'pruner.min_resource',
      "unknown option for pruner 'median': expected one of n_startup_trials, n_warmup_steps, interval_steps, n_min_trials",
    ],
    [
      { name: 'asha', min_resources: 1 },
      'pruner.min_resources',
      "unknown option for pruner 'asha' (did you mean 'min_resource'?): expected one of min_resource, reduction_factor, min_early_stopping_rate, bootstrap_count, max_resource",
    ],
    [
      { name: 'none', n_startup_trials: 1 },
      'pruner.n_startup_trials',
      "unknown option for pruner 'none': it takes no options",
    ],
    [
      { name: 'sha' },
      'pruner.name',
      "unknown pruner 'sha' (did you mean 'asha'?): expected one of none, median, asha, hyperband",
    ],
    [
      { name: 3 },
      'pruner.name',
      'unknown pruner a number: expected one of none, median, asha, hyperband',
    ],
    [null, 'pruner', 'must be an object like {"name": "median"}'],
    ['asha', 'pruner', 'must be an object like {"name": "median"}'],
  ])('rejects %j at %s', (config, path, message) => {
    expect(checkPruner(config).issues).toEqual([{ path, message }]);
  });

  it('reports every problem at once, and makePruner throws them', () => {
    const { issues } = checkPruner({ name: 'asha', min_resource: 0, reduction_factor: 1 });
    expect(issues.map((i) => i.path)).toEqual(['pruner.min_resource', 'pruner.reduction_factor']);
    expect(() => makePruner({ name: 'asha', reduction_factor: 1 })).toThrow(ConfigError);
    try {
      makePruner({ name: 'hyperband' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([
        {
          path: 'pruner.max_resource',
          message: "is required for pruner 'hyperband': an integer >= 1",
        },
      ]);
    }
    expect(() => makePruner({ name: 'hyperband', max_resource: 1 })).toThrow(
      'pruner.max_resource: must be greater than min_resource (1), got 1',
    );
  });
});

// The GP sampler past MAX_TRAIN complete trials: conditioned on a subset chosen from the history
// alone, with hyperparameters refitted once every REFIT_EVERY trials and cached by the data they
// were fitted on. Same history and seed, same suggestion: with the fit cached or not (a restart).
import { describe, it, expect } from 'vitest';
import {
  clearFitCache,
  GpSampler,
  MAX_TRAIN,
  REFIT_EVERY,
  trainingSet,
} from '../../src/tuning/samplers/gp';
import { Rng } from '../../src/tuning/rng';
import type { FrozenTrial, Params, Space } from '../../src/tuning/types';

const SPACE: Space = {
  x: { type: 'float', low: -5, high: 5 },
  y: { type: 'float', low: 1e-3, high: 1, log: true },
  n: { type: 'int', low: 1, high: 8 },
};
const f = (p: Params) =>
  ((p.x as number) - 1) ** 2 + Math.log10(p.y as number) ** 2 + 0.1 * (p.n as number);

function history(n: number, seed = 1): FrozenTrial[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const params = {
      x: -5 + 10 * rng.next(),
      y: Math.exp(Math.log(1e-3) * rng.next()),
      n: 1 + rng.int(8),
    };
    return { number: i, state: 'complete', params, value: f(params), intermediate: [] };
  });
}

const ask = (s: GpSampler, trials: FrozenTrial[]) =>
  s.sample({ space: SPACE, trials, direction: 'minimize', seed: 7, trialNumber: trials.length });

describe('trainingSet', () => {
  it('keeps every trial up to MAX_TRAIN, then the recent, the best and an even spread, in trial order', () => {
    const d = 2;
    const small = 10;
    const X = new Float64Array(small * d);
    const y = new Float64Array(small);
    expect(trainingSet(X, y, small, d).rows).toBeNull();

    const n = 3 * MAX_TRAIN;
    const Xl = Float64Array.from({ length: n * d }, (_, i) => i);
    // y falls with the trial number, except a dip of 20 very good values in the middle.
    const yl = Float64Array.from({ length: n }, (_, i) => (i >= 200 && i < 220 ? -100 - i : n - i));
    const t = trainingSet(Xl, yl, n, d);
    const rows = [...t.rows!];
    expect(t.n).toBe(MAX_TRAIN);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(new Set(rows).size).toBe(MAX_TRAIN);
    // The last 32 trials and the dip (among the best) are in; so are trials from the start (the spread).
    for (let i = n - 32; i < n; i++) expect(rows).toContain(i);
    for (let i = 200; i < 220; i++) expect(rows).toContain(i);
    expect(rows[0]).toBe(0);
    // Rows are copied with their outputs.
    rows.forEach((r, k) => {
      expect(t.y[k]).toBe(yl[r]);
      expect([t.X[k * d], t.X[k * d + 1]]).toEqual([Xl[r * d], Xl[r * d + 1]]);
    });
  });
});

describe('GpSampler past MAX_TRAIN trials', () => {
  it('fits once per REFIT_EVERY trials and answers the same with the fit cached or recomputed', () => {
    const n = MAX_TRAIN + 3 * REFIT_EVERY + 5;
    const trials = history(n + 2);
    clearFitCache();
    const s = new GpSampler();
    const cold = ask(s, trials.slice(0, n));
    expect(s.lastInfo.mode).toBe('gp');
    expect(s.lastInfo.nTrain).toBe(MAX_TRAIN);
    expect(s.lastInfo.fitEvals).toBeGreaterThan(0);
    // Two more trials in the same REFIT_EVERY block: the cached fit, no fitting at all.
    const more = ask(s, trials);
    expect(s.lastInfo.fitEvals).toBe(0);
    // The same answers from a cold cache (a restarted object): the fit depends on the history alone.
    expect(ask(s, trials.slice(0, n))).toEqual(cold);
    clearFitCache();
    expect(ask(s, trials)).toEqual(more);
    expect(s.lastInfo.fitEvals).toBeGreaterThan(0);
    // Another history of the same length does not hit that cache entry.
    ask(s, history(n + 2, 2));
    expect(s.lastInfo.fitEvals).toBeGreaterThan(0);
  });

  it('still finds a good region of the space from a long history', () => {
    const trials = history(MAX_TRAIN + 40, 3);
    const s = new GpSampler();
    const best = Math.min(...trials.map((t) => t.value!));
    const values: number[] = [];
    const all = [...trials];
    for (let k = 0; k < 8; k++) {
      const p = ask(s, all);
      values.push(f(p));
      all.push({ number: all.length, state: 'complete', params: p, value: f(p), intermediate: [] });
    }
    // Its suggestions are near the best of 232 random trials, not spread like them.
    const median = [...trials.map((t) => t.value!)].sort((a, b) => a - b)[trials.length >> 1];
    expect(Math.min(...values)).toBeLessThan(best + 0.2);
    expect([...values].sort((a, b) => a - b)[4]).toBeLessThan(median / 4);
  });
});

describe('GpSampler with constraints past MAX_TRAIN', () => {
  it("conditions each constraint's GP on the objective's training subset, not on the whole history", () => {
    const withConstraints = (n: number) =>
      history(n).map((t) => ({ ...t, constraints: [t.params.x as number] }));
    const s = new GpSampler();
    clearFitCache();
    ask(s, withConstraints(60));
    expect(s.lastInfo.nConstraintTrain).toEqual([60]);
    const n = MAX_TRAIN + 3 * REFIT_EVERY;
    const p = ask(s, withConstraints(n));
    expect(s.lastInfo.mode).toBe('gp');
    expect(s.lastInfo.nConstraintTrain).toEqual([MAX_TRAIN]);
    // Still honoured: the objective's optimum (x = 1) is infeasible (x <= 0); the suggestion keeps to x <= 0.
    expect(p.x as number).toBeLessThanOrEqual(0.05);
  });
});

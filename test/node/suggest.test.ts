import { describe, it, expect } from 'vitest';
import { analyseSweep, divergenceIndex, MAX_SHOWN_POINTS } from '../../src/probe/curve';
import {
  smoothLosses,
  suggestLr,
  valleyIndex,
  type CurvePoint,
  type Suggestion,
} from '../../src/probe/suggest';

// Analytic range-test curves over an exponential lr grid, with known answers.
// x = log10(lr). The descent is a logistic in x centred at CENTRE (lr 1e-2),
// from TOP to BOTTOM; the blow-up is an exponential in x that is negligible
// below lr ~0.3 and dominates above lr ~1.
const CENTRE = -2;
const WIDTH = 0.25; // logistic scale, in decades
const TOP = 3;
const BOTTOM = 1;
const DROP = TOP - BOTTOM;
// The descent proper: where the logistic has fallen between 10% and 90% of DROP.
const DESCENT_LO = CENTRE - WIDTH * Math.log(9);
const DESCENT_HI = CENTRE + WIDTH * Math.log(9);

const descent = (x: number): number => BOTTOM + DROP / (1 + Math.exp((x - CENTRE) / WIDTH));
const blowup = (x: number): number => 0.05 * Math.exp(x / 0.1);
const analytic = (x: number): number => descent(x) + blowup(x);

/** n points, log-spaced from 1e-6 to 10. */
function logGrid(n: number, from = -6, to = 1): number[] {
  return Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
}

/**
 * Builds a curve from raw losses, smoothing them with `smoothLosses(beta)`
 * (beta 0 = the smoothed curve is the closed form itself), and stops like the
 * caller: after the first point whose smoothed loss exceeds 4 x the best so
 * far or is non-finite (that point is kept).
 */
function sweep(xs: number[], losses: number[], beta: number, stopEarly = true): CurvePoint[] {
  const smoothed = smoothLosses(losses, beta);
  const out: CurvePoint[] = [];
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) {
    out.push({ step: i, lr: 10 ** xs[i], loss: losses[i], smoothed_loss: smoothed[i] });
    if (!stopEarly) continue;
    if (!Number.isFinite(smoothed[i]) || smoothed[i] > 4 * best) break;
    best = Math.min(best, smoothed[i]);
  }
  return out;
}

/** Tiny deterministic PRNG (mulberry32) and a Box-Muller normal on top of it. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normal(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const decades = (a: number, b: number): number => Math.abs(Math.log10(a / b));
const log10 = (v: number | null): number => {
  expect(v).not.toBeNull();
  return Math.log10(v as number);
};

/** Invariants every answer must keep. */
function checkInvariants(s: Suggestion, curve: CurvePoint[]): void {
  if (s.lr !== null) {
    expect(s.max_stable_lr).not.toBeNull();
    expect(s.lr).toBeLessThanOrEqual(s.max_stable_lr as number);
    expect(s.lr).toBe(s.candidates[s.method]);
    expect(s.lr).not.toBe(
      curve.find((p) => Number.isFinite(p.loss) && Number.isFinite(p.smoothed_loss))?.lr,
    );
  } else {
    expect(s.confidence).toBe('low');
  }
  if (s.candidates.minimum !== null)
    expect(s.candidates.min_over_10).toBe(s.candidates.minimum / 10);
  expect(s.reasons.length).toBeGreaterThan(0);
}

describe('smoothLosses', () => {
  it('returns a constant series exactly, from the first point on', () => {
    const c = 0.1234567;
    for (const beta of [0, 0.5, 0.9, 0.98, 0.999]) {
      const out = smoothLosses(new Array(500).fill(c), beta);
      expect(out.every((v) => v === c)).toBe(true);
    }
  });

  it('matches the bias-corrected EMA on a hand-computed series', () => {
    // beta = 0.5: s0 = 0.5, s1 = 0.25 + 1 = 1.25, s2 = 0.625 + 1.5 = 2.125;
    // corrected by 1 - 0.5^(t+1): 0.5/0.5 = 1, 1.25/0.75 = 5/3, 2.125/0.875 = 17/7.
    const out = smoothLosses([1, 2, 3], 0.5);
    expect(out[0]).toBe(1);
    expect(out[1]).toBeCloseTo(5 / 3, 14);
    expect(out[2]).toBeCloseTo(17 / 7, 14);
    // beta = 0.9 on [4, 0]: s1 = (0.9*4 + 0)/(1 + 0.9).
    expect(smoothLosses([4, 0], 0.9)[1]).toBeCloseTo(3.6 / 1.9, 14);
  });

  it('passes non-finite losses through without polluting the state', () => {
    const out = smoothLosses([1, Number.NaN, 2, Number.POSITIVE_INFINITY, 3], 0.5);
    expect(out[1]).toBeNaN();
    expect(out[3]).toBe(Number.POSITIVE_INFINITY);
    const clean = smoothLosses([1, 2, 3], 0.5);
    expect([out[0], out[2], out[4]]).toEqual(clean);
    // A constant with holes stays exactly constant.
    expect(
      smoothLosses([7, Number.NaN, 7, Number.NEGATIVE_INFINITY, 7], 0.98).filter(Number.isFinite),
    ).toEqual([7, 7, 7]);
  });

  it('rejects a beta outside [0, 1)', () => {
    expect(() => smoothLosses([1, 2], 1)).toThrow(RangeError);
    expect(() => smoothLosses([1, 2], -0.1)).toThrow(RangeError);
  });
});

describe('suggestLr on an analytic sigmoid descent with a blow-up', () => {
  const xs = logGrid(100);
  const curve = sweep(xs, xs.map(analytic), 0);
  const s = suggestLr(curve);

  it('stops where the caller would (the blow-up ends the sweep early)', () => {
    expect(curve.length).toBeLessThan(100);
    expect(curve.length).toBeGreaterThan(85);
  });

  it('finds the inflection with steepest and sits inside the descent with valley', () => {
    expect(decades(s.candidates.steepest as number, 10 ** CENTRE)).toBeLessThan(Math.log10(1.5));
    const v = log10(s.candidates.valley);
    expect(v).toBeGreaterThan(DESCENT_LO);
    expect(v).toBeLessThan(DESCENT_HI);
  });

  it('puts minimum at the bottom and min_over_10 a decade below it', () => {
    // True argmin of the closed form, by a dense search.
    let bestX = -6;
    for (let x = -6; x <= 1; x += 1e-5) if (analytic(x) < analytic(bestX)) bestX = x;
    const gridStep = 7 / 99;
    expect(Math.abs(log10(s.candidates.minimum) - bestX)).toBeLessThanOrEqual(gridStep / 2 + 1e-9);
    expect(s.candidates.min_over_10).toBe((s.candidates.minimum as number) / 10);
  });

  it('puts max_stable_lr where the blow-up starts', () => {
    // At max_stable_lr the blow-up term has added 1-10% of the drop: not at the
    // minimum (where it adds < 0.1%), not deep in the blow-up.
    const added = blowup(log10(s.max_stable_lr)) / DROP;
    expect(added).toBeGreaterThan(0.01);
    expect(added).toBeLessThan(0.1);
    expect(s.max_stable_lr as number).toBeGreaterThan(s.candidates.minimum as number);
  });

  it('suggests valley (the default) with high confidence', () => {
    expect(s.method).toBe('valley');
    expect(s.lr).toBe(s.candidates.valley);
    expect(s.confidence).toBe('high');
    checkInvariants(s, curve);
  });
});

describe('suggestLr on fragile curves', () => {
  it('ignores NaN/Infinity anywhere (start, middle, end) and gives the same answer', () => {
    const xs = logGrid(100);
    const losses = xs.map(analytic);
    const cleanCurve = sweep(xs, losses, 0.9);
    const clean = suggestLr(cleanCurve);
    const last = cleanCurve.length - 1;
    const holed = [...losses];
    for (const i of [0, 1, 17, 42, 56, 63])
      holed[i] = i % 2 === 0 ? Number.NaN : Number.POSITIVE_INFINITY;
    const curve = sweep(xs, holed, 0.9, false).filter((p) => p.step < last);
    curve[30] = { ...curve[30], smoothed_loss: Number.NaN }; // a smoothed-only hole
    // The sweep ends on a diverged, non-finite point.
    curve.push({ step: last, lr: 10 ** xs[last], loss: Number.NaN, smoothed_loss: Number.NaN });
    const s = suggestLr(curve);
    expect(s.lr).not.toBeNull();
    expect(decades(s.lr as number, clean.lr as number)).toBeLessThan(Math.log10(1.5));
    expect(
      decades(s.candidates.steepest as number, clean.candidates.steepest as number),
    ).toBeLessThan(Math.log10(1.5));
    expect(
      decades(s.candidates.minimum as number, clean.candidates.minimum as number),
    ).toBeLessThan(Math.log10(1.5));
    expect(decades(s.max_stable_lr as number, clean.max_stable_lr as number)).toBeLessThan(
      Math.log10(1.5),
    );
    expect(s.confidence).toBe(clean.confidence);
    expect(s.reasons.join('\n')).toMatch(/ignored 8 non-finite point/);
    checkInvariants(s, curve);
  });

  it('returns null for a flat curve', () => {
    const xs = logGrid(100);
    const flat = sweep(
      xs,
      xs.map((_, i) => 2 + 0.002 * Math.sin(i)),
      0,
    );
    const s = suggestLr(flat);
    expect(s.lr).toBeNull();
    expect(s.confidence).toBe('low');
    expect(s.reasons.join('\n')).toMatch(/flat/);
    // Flat, then a blow-up: no descending region either.
    const flatThenUp = sweep(
      xs,
      xs.map((x, i) => 2 + 0.002 * Math.sin(i) + blowup(x)),
      0,
    );
    const t = suggestLr(flatThenUp);
    expect(t.lr).toBeNull();
    expect(t.confidence).toBe('low');
    expect(t.reasons.join('\n')).toMatch(/no descending region/);
  });

  it('returns null for a curve that diverges from the first step', () => {
    const xs = logGrid(100);
    const curve = sweep(
      xs,
      xs.map((x) => 1 + 0.3 * 10 ** ((x + 6) / 2)),
      0.9,
    );
    const s = suggestLr(curve);
    expect(s.lr).toBeNull();
    expect(s.confidence).toBe('low');
    expect(s.reasons.join('\n')).toMatch(/diverges from the first steps/);
  });

  it('answers inside the descent on a noisy curve, without high confidence', () => {
    const xs = logGrid(200);
    const gauss = normal(mulberry32(20240601));
    const sigma = 0.5 * DROP;
    const noisy = xs.map((x) => analytic(x) + sigma * gauss());
    const curve = sweep(xs, noisy, 0.9);
    const s = suggestLr(curve);
    const clean = suggestLr(sweep(xs, xs.map(analytic), 0.9));
    expect(clean.confidence).toBe('high');
    expect(s.lr).not.toBeNull();
    // Inside the descent (the EMA lag shifts it right by up to ~0.5 decade),
    // and close to the clean curve's answer.
    expect(log10(s.lr)).toBeGreaterThan(DESCENT_LO);
    expect(log10(s.lr)).toBeLessThan(DESCENT_HI + 0.5);
    expect(decades(s.lr as number, clean.lr as number)).toBeLessThan(1);
    expect(s.confidence).not.toBe('high');
    expect(s.reasons.join('\n')).toMatch(/noisy curve/);
    checkInvariants(s, curve);
  });

  it('reports low confidence when the noise swamps the descent', () => {
    const xs = logGrid(200);
    const gauss = normal(mulberry32(7));
    for (const scale of [0.8, 1.5]) {
      const noisy = xs.map((x) => analytic(x) + scale * DROP * gauss());
      const s = suggestLr(sweep(xs, noisy, 0.9));
      expect(s.confidence).toBe('low');
      // Either flagged as noisy, or the noise hides any answer at all.
      if (s.lr !== null) expect(s.reasons.join('\n')).toMatch(/noisy curve/);
    }
  });

  it('does not suggest the first lr after an uneven first step', () => {
    const xs = logGrid(100);
    const losses = xs.map((x, i) => (i === 0 ? 100 : analytic(x)));
    const curve = sweep(xs, losses, 0.9);
    const s = suggestLr(curve);
    expect(s.lr).not.toBeNull();
    expect(s.lr).not.toBe(curve[0].lr);
    expect(s.reasons.join('\n')).toMatch(/uneven first step/);
    // Same answer as the sweep that never had that first point, and inside the
    // descent (left to the EMA transient, valley lands around 1e-4).
    const without = suggestLr(sweep(xs.slice(1), losses.slice(1), 0.9));
    expect(decades(s.lr as number, without.lr as number)).toBeLessThan(1e-9);
    expect(log10(s.lr)).toBeGreaterThan(DESCENT_LO);
    checkInvariants(s, curve);

    // Same with a smoother it cannot undo (a trailing 5-point mean): the first
    // point is still dropped and confidence is capped.
    const ma = losses.map((_, i) => {
      const w = losses.slice(Math.max(0, i - 4), i + 1);
      return w.reduce((a, b) => a + b, 0) / w.length;
    });
    const other = xs
      .map((x, i) => ({ step: i, lr: 10 ** x, loss: losses[i], smoothed_loss: ma[i] }))
      .slice(0, curve.length);
    const t = suggestLr(other);
    expect(t.lr).not.toBeNull();
    expect(t.lr).not.toBe(other[0].lr);
    expect(log10(t.lr)).toBeGreaterThan(DESCENT_LO);
    expect(t.confidence).not.toBe('high');
    expect(t.reasons.join('\n')).toMatch(/uneven first step/);
  });

  it('returns null with too few finite points', () => {
    const xs = logGrid(8);
    const curve = sweep(xs, xs.map(analytic), 0, false);
    for (const i of [0, 2, 4, 6])
      curve[i] = { ...curve[i], loss: Number.NaN, smoothed_loss: Number.NaN };
    const s = suggestLr(curve);
    expect(s.lr).toBeNull();
    expect(s.confidence).toBe('low');
    expect(s.reasons.join('\n')).toMatch(/too few finite points: 4/);
    expect(suggestLr([]).lr).toBeNull();
  });

  it('claims no stable lr when the loss never falls below its start before it rises (a noisy plateau, then a blow-up)', () => {
    // Label noise: the loss sits at its floor from the first step (nothing to learn), mini-batch
    // noise on top, and blows up at high lr. The smoothed minimum lands among the first points.
    const xs = logGrid(100, -7, 1);
    const gauss = normal(mulberry32(7));
    const losses = xs.map((x) => 1.1 + 0.05 * gauss() + blowup(x));
    const curve = sweep(xs, losses, 0.98);
    const s = suggestLr(curve);
    expect(s.lr).toBeNull();
    expect(s.max_stable_lr).toBeNull();
    expect(s.confidence).toBe('low');
    const why = s.reasons.join('\n');
    expect(why).toMatch(/no stable learning rate found/);
    expect(why).toMatch(/sweep lower \(min_lr below 1\.00e-7\) or over a wider range/);
    expect(why).toMatch(/check the data and labels/);
  });

  it('claims no stable lr when the loss stays near its lowest only within the first 10% of the sweep', () => {
    // A descent over the first 6 points, then a steady rise: the sweep started too high.
    const xs = logGrid(100, -3, 1);
    const losses = xs.map((_, i) => (i <= 6 ? 2 - 0.15 * i : 1.1 + 0.2 * (i - 6)));
    const s = suggestLr(sweep(xs, losses, 0, false));
    expect(s.lr).toBeNull();
    expect(s.max_stable_lr).toBeNull();
    expect(s.confidence).toBe('low');
    expect(s.reasons.join('\n')).toMatch(/no stable learning rate found/);
  });

  it('reads max_stable_lr and the minimum from the validation loss when the curve has one', () => {
    // The training loss descends and keeps falling to the end of the sweep; the validation loss
    // follows it down, bottoms out past lr 10^-1.5 and then rises (overfitting, not divergence).
    const xs = logGrid(100);
    const valShape = (x: number) => descent(x) + 0.5 * Math.max(0, x + 1.5) ** 2;
    const plain = sweep(xs, xs.map(descent), 0);
    // Measured every 4th point, carried forward by the rules (NaN in between).
    const withVal = plain.map((p, i) => ({
      ...p,
      val_loss: i % 4 === 0 ? valShape(xs[i]) : Number.NaN,
    }));
    const a = suggestLr(plain);
    const b = suggestLr(withVal);
    expect(a.max_stable_lr).toBe(plain[plain.length - 1].lr);
    expect(log10(b.max_stable_lr)).toBeLessThan(-0.5);
    expect(log10(b.max_stable_lr)).toBeGreaterThan(-1.5);
    const fine = logGrid(7001);
    const xLow = fine.reduce((p, q) => (valShape(q) < valShape(p) ? q : p));
    expect(decades(b.candidates.minimum!, 10 ** xLow)).toBeLessThan(0.2);
    expect(b.candidates.min_over_10).toBeCloseTo(b.candidates.minimum! / 10, 15);
    expect(b.candidates.minimum!).toBeLessThan(a.candidates.minimum!);
    // valley reads the training loss: the same in both.
    expect(b.candidates.valley).toBe(a.candidates.valley);
    expect(b.reasons.join('\n')).toMatch(/validation loss \(25 values\)/);
    expect(b.reasons.join('\n')).toMatch(/max_stable_lr is read from the validation loss/);
    checkInvariants(b, withVal);
    // Fewer than 5 measured: the training loss alone, said.
    const few = plain.map((p, i) => ({ ...p, val_loss: i < 4 ? valShape(xs[i]) : Number.NaN }));
    const c = suggestLr(few);
    expect(c.max_stable_lr).toBe(a.max_stable_lr);
    expect(c.reasons.join('\n')).toMatch(/only 4 validation loss value\(s\)/);
  });

  it('reports the last lr as max_stable_lr when the loss never turns upward', () => {
    const xs = logGrid(100);
    const curve = sweep(xs, xs.map(descent), 0);
    const s = suggestLr(curve);
    expect(s.max_stable_lr).toBe(curve[curve.length - 1].lr);
    // The end of the sweep is no minimum: valley (the default) answers.
    expect(s.method).toBe('valley');
    expect(s.reasons.join('\n')).toMatch(/never turns upward/);
    expect(log10(s.lr)).toBeGreaterThan(DESCENT_LO);
    expect(log10(s.lr)).toBeLessThan(DESCENT_HI);
    checkInvariants(s, curve);
  });
});

/** The valley DP as it was written first, O(n^2): the reference the fast one must match. */
function valleyReference(s: number[], lo: number, hi: number, tau: number): number | null {
  const m = hi - lo;
  if (m < 3) return null;
  const lds = new Array<number>(m).fill(1);
  const prev = new Array<number>(m).fill(-1);
  let end = 0;
  for (let i = 1; i < m; i++) {
    for (let j = 0; j < i; j++) {
      if (
        s[lo + i] < s[lo + j] - tau &&
        lds[j] + 1 >= lds[i] &&
        (lds[j] + 1 > lds[i] || j > prev[i])
      ) {
        lds[i] = lds[j] + 1;
        prev[i] = j;
      }
    }
    if (lds[i] > lds[end]) end = i;
  }
  const L = lds[end];
  if (L < 3) return null;
  const chain: number[] = new Array(L);
  for (let k = L - 1, i = end; k >= 0; k--, i = prev[i]) chain[k] = i;
  return lo + chain[Math.min(Math.floor(L / 3) + Math.floor(L / 6), L - 1)];
}

describe('valleyIndex (O(n log n))', () => {
  it('picks what the O(n^2) DP picks: noisy curves, plateaus, ties, every tolerance', () => {
    const rand = mulberry32(7);
    const noise = normal(rand);
    for (let trial = 0; trial < 300; trial++) {
      const n = 3 + Math.floor(rand() * 150);
      const xs = logGrid(n);
      // Quantised values make exact ties and plateaus common.
      const q = trial % 3 === 0 ? 0.25 : 0;
      const s = xs.map((x) => {
        const v = analytic(x) + 0.3 * noise();
        return q ? Math.round(v / q) * q : v;
      });
      const tau = [0, 0.01, 0.1, 0.25][trial % 4];
      const lo = Math.floor(rand() * 3);
      const hi = n - Math.floor(rand() * 3);
      expect(valleyIndex(s, lo, hi, tau), `trial ${trial}`).toBe(valleyReference(s, lo, hi, tau));
    }
  });

  it('reads a 100,000-point curve in well under a second', () => {
    const xs = logGrid(100_000);
    const rand = normal(mulberry32(3));
    const s = xs.map((x) => analytic(x) + 0.01 * rand());
    const t0 = Date.now();
    expect(valleyIndex(s, 10_000, 99_995, 0.02)).not.toBeNull();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe("analyseSweep: one analysis for a probe's sweep and a posted curve", () => {
  const xs = logGrid(100);
  const lrs = xs.map((x) => 10 ** x);
  const losses = xs.map(analytic);

  it('stops where the stop rule stops, reads the points up to it, and shows every point', () => {
    const smoothed = smoothLosses(losses, 0.9);
    const stop = divergenceIndex(smoothed, 4)!;
    expect(stop).toBeGreaterThan(50);
    expect(stop).toBeLessThan(99);
    const a = analyseSweep(lrs, losses, { smoothing: 0.9, diverge_factor: 4 });
    // The rules read exactly what a probe that stopped there would have.
    const probe = analyseSweep(lrs.slice(0, stop + 1), losses.slice(0, stop + 1), {
      smoothing: 0.9,
      diverge_factor: 4,
      planned_steps: 100,
    });
    expect(a.suggestion.candidates).toEqual(probe.suggestion.candidates);
    expect(a.suggestion.max_stable_lr).toBe(probe.suggestion.max_stable_lr);
    expect(a.suggestion.lr).toBe(probe.suggestion.lr);
    expect(a.suggestion.reasons.at(-1)).toMatch(
      new RegExp(`diverges at point ${stop + 1} of 100 .*not the ${99 - stop} after`),
    );
    expect(a.curve).toHaveLength(100);
    expect(a.steps_run).toBe(100);
    expect(a.stopped_early).toBe(true);
    expect(probe.stopped_early).toBe(true);
    expect(probe.curve).toEqual(a.curve.slice(0, stop + 1));
  });

  it('a NaN loss is divergence: the rules read the points before it', () => {
    const cut = 70;
    const withNan = losses.map((v, i) => (i >= cut ? Number.NaN : v));
    const a = analyseSweep(lrs, withNan, { smoothing: 0.9, diverge_factor: 1e9 });
    expect(a.stopped_early).toBe(true);
    expect(a.curve[cut].loss).toBeNull();
    expect(a.curve[cut].smoothed_loss).toBeNull();
    const before = analyseSweep(lrs.slice(0, cut), losses.slice(0, cut), {
      smoothing: 0.9,
      diverge_factor: 1e9,
    });
    expect(a.suggestion.candidates).toEqual(before.suggestion.candidates);
    expect(a.suggestion.max_stable_lr).toBe(before.suggestion.max_stable_lr);
  });

  it('thins curves over MAX_SHOWN_POINTS, keeping the first, the last and the divergent point', () => {
    const big = logGrid(20_001);
    const a = analyseSweep(
      big.map((x) => 10 ** x),
      big.map(analytic),
      { smoothing: 0.98, diverge_factor: 4 },
    );
    expect(a.steps_run).toBe(20_001);
    expect(a.curve.length).toBeLessThanOrEqual(MAX_SHOWN_POINTS);
    expect(a.curve[0].step).toBe(0);
    expect(a.curve.at(-1)!.step).toBe(20_000);
    const stop = divergenceIndex(smoothLosses(big.map(analytic), 0.98), 4)!;
    expect(a.curve.map((p) => p.step)).toContain(stop);
    expect(a.suggestion.lr).not.toBeNull();
  });

  it("advises a schedule around the suggestion, or around the optimizer's default when the curve gives none", () => {
    const a = analyseSweep(lrs, losses, { smoothing: 0.9, diverge_factor: 4, optimizer: 'adam' });
    expect(a.schedule?.peak_lr).toBe(a.suggestion.lr);
    expect(a.schedule?.warmup_fraction).toBe(0.1);
    const flat = new Array(50).fill(1);
    const flatLrs = logGrid(50).map((x) => 10 ** x);
    const f = analyseSweep(flatLrs, flat, { smoothing: 0.9, diverge_factor: 4, optimizer: 'adam' });
    expect(f.suggestion.lr).toBeNull();
    expect(f.schedule?.peak_lr).toBe(1e-3);
    expect(f.schedule?.reasoning[0]).toMatch(/conventional default/);
    expect(analyseSweep(flatLrs, flat, { smoothing: 0.9, diverge_factor: 4 }).schedule).toBeNull();
    // A curve that rises from its first points saw no stable lr: no cap at the sweep's start, the default stands.
    const rising = flatLrs.map((v) => 1 + v * 1e4);
    const r = analyseSweep(flatLrs, rising, {
      smoothing: 0.5,
      diverge_factor: 1e9,
      optimizer: 'adam',
    });
    expect(r.suggestion.lr).toBeNull();
    expect(r.suggestion.max_stable_lr).toBeNull();
    expect(r.schedule?.peak_lr).toBe(1e-3);
    expect(r.schedule?.reasoning[0]).toMatch(/conventional default/);
  });
});

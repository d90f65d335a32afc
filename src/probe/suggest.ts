/**
 * Turns an LR range-test curve (loss recorded while the learning rate sweeps
 * up, usually exponentially) into a learning-rate suggestion.
 *
 * Pure TypeScript, no dependencies. Every rule works on the smoothed loss with
 * log10(lr) as the x-axis, after dropping the points that are not finite. The
 * caller stops the sweep once the smoothed loss exceeds diverge_factor x best
 * or turns non-finite, so curves usually end with a sharp rise and the last
 * point may be NaN/Infinity.
 *
 * Rules (all reported in `candidates`):
 * - `valley`: fastai's rule, a point inside the longest descending stretch.
 * - `steepest`: the most negative slope d(loss)/d(log10 lr).
 * - `minimum`: the lr of the minimum smoothed loss (of the validation loss,
 *   when the curve carries one: CurvePoint.val_loss).
 * - `min_over_10`: that lr / 10.
 *
 * The answer (`lr`, `method`) is the first of RULE_ORDER that gives a candidate
 * inside the swept range and at or below max_stable_lr: `valley` (DEFAULT_METHOD),
 * then `min_over_10` (skipped when the loss never turns upward: its minimum is
 * then only where the sweep stopped), then `steepest`; a fallback caps the
 * confidence at `medium`. Why valley: of the rules, it lands closest to the best
 * learning rate at the real training length, on held-out loss (bench/RESULTS.md,
 * "LR suggestions on real data"; test/quality.test.ts holds it to a trained grid).
 *
 * Complexity: O(n log n) (the valley DP included), so a client's 100,000-point
 * curve is read as a probe's 100-point one is.
 */
import { fmtLr, fmtPct } from '../lib/format';
import type { Confidence, SuggestMethod } from '../contract/names';
import type { z } from 'zod';
import type { SuggestionSchema } from '../contract/schemas';

export interface CurvePoint {
  step: number;
  lr: number;
  loss: number;
  smoothed_loss: number;
  /**
   * The validation loss at this point, when the sweep measured one (NaN or
   * absent where it did not: the last one measured carries forward). With
   * MIN_POINTS or more measured, max_stable_lr and the minimum-based rules
   * read it instead of the training loss.
   */
  val_loss?: number;
}

export type { Confidence, SuggestMethod };

/**
 * What the rules read from a curve (the Suggestion schema): `lr` (null only when the curve gives
 * no usable answer) and the rule that produced it (`method`: the default rule, or the fallback
 * used), every rule's lr (`candidates`), `max_stable_lr` (the last lr before the final sustained
 * rise; null when the sweep saw no stable rate, NO_STABLE_FRACTION, or had too few points), the
 * `confidence` and short notes on what was found and why (`reasons`).
 */
export type Suggestion = z.output<typeof SuggestionSchema>;

// ---------------------------------------------------------------------------
// Thresholds. All "relative" quantities are fractions of the total drop D of
// the smoothed loss (from the highest point before the minimum down to the
// minimum) or of the loss level, as documented at each constant.

/** Fewer finite points than this: no answer. */
const MIN_POINTS = 5;

/**
 * Flat curve: the smoothed loss varies by less than this fraction of its level
 * (|highest smoothed loss before the minimum|) across the whole sweep, or it
 * falls by less than this fraction before its minimum (no descending region).
 * 1% is below anything a learning rate that actually trains produces over a
 * sweep, and above float noise / a loss that only jitters.
 */
const FLAT_REL = 0.01;

/**
 * A descent shallower than this fraction of the loss level is real but weak:
 * confidence is at most `medium`.
 */
const SHALLOW_REL = 0.05;

/**
 * Diverging from the first step: the minimum of the smoothed loss lies within
 * the first max(3, ceil(5% of n)) finite points.
 */
const EARLY_MIN_FRACTION = 0.05;
const EARLY_MIN_POINTS = 3;

/**
 * Noise ratio = sigma_eff / D. sigma is a robust (MAD-based) standard
 * deviation of the raw loss around a local straight line through its two
 * neighbours (the 3-point residual, which removes the local trend), measured
 * up to `max_stable_lr`; D is the total drop of the smoothed loss. The
 * residual is taken against the local line rather than against the EMA
 * because the EMA lags a steep descent, and that lag would count as noise.
 * The rules read the smoothed curve, so what matters is the noise left after
 * smoothing: sigma_eff = sigma * sqrt((1 - beta) / (1 + beta)) for an EMA with
 * factor beta (recovered from the curve; 0 when it is not one). Mini-batch
 * losses are noisy by nature, and 100 points smoothed at 0.98 still pin the
 * curve down well.
 * - ratio <= NOISE_MEDIUM (the smoothed drop is >= 20 sigma_eff): `high`.
 * - NOISE_MEDIUM < ratio <= NOISE_LOW: noisy, at most `medium`.
 * - ratio > NOISE_LOW: very noisy, `low`: the smoothed curve's own wobble is
 *   over a tenth of the drop, enough to move its minimum by decades.
 */
const NOISE_MEDIUM = 0.05;
const NOISE_LOW = 0.1;

/**
 * `max_stable_lr`: the last lr at which the smoothed loss is still within
 * max(MAX_STABLE_TOL_REL * D, 3 * sigma_smoothed) of its minimum; after it the
 * loss never comes back to that band, i.e. the final sustained rise begins.
 */
const MAX_STABLE_TOL_REL = 0.05;

/**
 * Valley DP tolerance: j -> i counts as a descent only if
 * s[i] < s[j] - tau, tau = max(VALLEY_TOL_REL * D, 2 * sigma_smoothed).
 * Without a tolerance the far tails of a smooth curve (and the slow tail of an
 * EMA transient) are "strictly descending" by 1e-9 per point and would be
 * counted as part of the valley; with it, a region contributes at most about
 * (its drop / tau) points, so the valley is dominated by where the loss
 * actually falls. 1% of D = at most ~100 counted points over the whole drop.
 */
const VALLEY_TOL_REL = 0.01;

/**
 * No stable learning rate: the sweep saw no lr that trains without blowing up.
 * That is a flat curve, a loss that never falls FLAT_REL below its start
 * before it rises, or a max_stable_lr within the first
 * max(EARLY_MIN_POINTS, ceil(NO_STABLE_FRACTION * n)) finite points. Then
 * `lr` and `max_stable_lr` are null (a rate at the sweep's start is no evidence
 * of stability) and confidence is `low`.
 */
const NO_STABLE_FRACTION = 0.1;

/**
 * The minimum of `v` over [from, n), the drop D to it from the highest point
 * before it, and `kStable`: the last index whose value is within
 * max(MAX_STABLE_TOL_REL * D, 3 * sigma) of the minimum (sigma: the local
 * residual noise of `v` over [from, n)), after which `v` never comes back.
 */
function lowestAndStable(
  x: number[],
  v: number[],
  from: number,
): { iMin: number; drop: number; level: number; kStable: number; sigma: number } {
  const n = v.length;
  let iMin = from;
  for (let i = from + 1; i < n; i++) if (v[i] < v[iMin]) iMin = i;
  let peak = v[from];
  for (let i = from + 1; i <= iMin; i++) if (v[i] > peak) peak = v[i];
  const drop = peak - v[iMin];
  const level = Math.max(Math.abs(peak), Math.abs(v[iMin]), Number.MIN_VALUE);
  const sigma = localResidualSigma(x, v, from, n - 1);
  const tol = Math.max(MAX_STABLE_TOL_REL * drop, 3 * sigma);
  let kStable = iMin;
  for (let i = n - 1; i > iMin; i--) {
    if (v[i] <= v[iMin] + tol) {
      kStable = i;
      break;
    }
  }
  return { iMin, drop, level, kStable, sigma };
}

/** The last finite value at or before each index (NaN before the first). */
function carryForward(v: readonly number[]): number[] {
  let last = Number.NaN;
  return v.map((e) => (Number.isFinite(e) ? (last = e) : last));
}

/** `high` needs valley and min_over_10 to agree within this many decades. */
const AGREE_DECADES = 1.5;

/**
 * Uneven first step: the first two finite raw losses differ by more than this
 * share of the raw loss's whole drop (first point to its minimum). On a real
 * sweep the first step is one of ~100 tiny lr increments and carries ~1% of
 * the drop; half of it in one step is the first lr step being uneven (or the
 * loss collapsing at any lr), which says nothing about the learning rate.
 */
const UNEVEN_FIRST_STEP = 0.5;

/** Share of non-finite points above which confidence is at most `medium`. */
const NONFINITE_MEDIUM = 0.2;

// ---------------------------------------------------------------------------

/**
 * Bias-corrected EMA (as in Adam / fastai): s_t = beta*s_{t-1} + (1-beta)*x_t,
 * reported as s_t / (1 - beta^(t+1)).
 *
 * Non-finite inputs: a NaN/Infinity loss yields that same non-finite value as
 * its smoothed value, and the EMA state is NOT updated, so the next finite
 * point continues from the last finite state. `t` counts the finite values
 * absorbed so far (0 for the first), so the bias correction matches the number
 * of real updates.
 *
 * Computed in the equivalent incremental-mean form m_t = s_t / (1 - beta^(t+1)):
 *   m_t = m_{t-1} + w_t (x_t - m_{t-1}),  w_t = (1 - beta) / (1 - beta^(t+1)),
 * (w_0 = 1, so m_0 = x_0), which is exact on a constant series: every finite
 * point of a constant series smooths to exactly that constant, NaNs or not.
 */
export function smoothLosses(losses: readonly number[], beta: number): number[] {
  if (!(beta >= 0 && beta < 1)) throw new RangeError(`beta must be in [0, 1), got ${beta}`);
  const out: number[] = new Array(losses.length);
  let mean = 0;
  let norm = 0; // 1 - beta^(t+1), accumulated as beta*norm + (1-beta)
  for (let i = 0; i < losses.length; i++) {
    const x = losses[i];
    if (!Number.isFinite(x)) {
      out[i] = x;
      continue;
    }
    norm = beta * norm + (1 - beta);
    mean += ((1 - beta) / norm) * (x - mean);
    out[i] = mean;
  }
  return out;
}

// ---------------------------------------------------------------------------

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const a = [...values].sort((p, q) => p - q);
  const m = a.length >> 1;
  return a.length % 2 === 1 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/**
 * Robust standard deviation of `v` around the straight line through each
 * point's two neighbours (in `x`), over indices [from, to]. Each residual
 * r_i = v_i - ((1-w) v_{i-1} + w v_{i+1}) is divided by sqrt(1 + (1-w)^2 + w^2)
 * so it has the noise's own variance for i.i.d. noise; sigma = 1.4826 * MAD.
 */
function localResidualSigma(x: number[], v: number[], from: number, to: number): number {
  const rs: number[] = [];
  for (let i = Math.max(from + 1, 1); i <= Math.min(to - 1, v.length - 2); i++) {
    const dx = x[i + 1] - x[i - 1];
    const w = dx > 0 ? (x[i] - x[i - 1]) / dx : 0.5;
    const r = v[i] - ((1 - w) * v[i - 1] + w * v[i + 1]);
    rs.push(Math.abs(r) / Math.sqrt(1 + (1 - w) * (1 - w) + w * w));
  }
  return rs.length === 0 ? 0 : 1.4826 * median(rs);
}

/**
 * fastai's suggestion window: it drops the first 10% (num_it // 10) and the
 * last 5 points before running its rules (the start is noisy / still settling,
 * the end is the blow-up). Short curves that would leave fewer than 5 points
 * use the whole curve.
 */
function suggestionWindow(n: number): { lo: number; hi: number; trimmed: boolean } {
  const lo = Math.floor(n / 10);
  const hi = n - 5;
  if (hi - lo >= 5) return { lo, hi, trimmed: true };
  return { lo: 0, hi: n, trimmed: false };
}

/**
 * Valley (fastai's `valley`, from ESRI): for each i, lds[i] = length of the
 * longest decreasing subsequence ending at i (O(n^2) DP over j < i with
 * s[j] > s[i]); `end` = first index with the longest one.
 *
 * fastai then sets start = end - lds[end] (as if the subsequence were
 * contiguous, which also makes it one before the real start and -1 when the
 * valley begins at index 0, which Python reads as the *last* point) and returns
 * idx = start + int(L/3) + int(L/6) with L = end - start: the end of the first
 * third plus half a third, i.e. about HALF way along the stretch, although its
 * docs call it "roughly 2/3". Our exact choice, applied to the suggestion
 * window:
 * - descent j -> i needs s[i] < s[j] - tau (see VALLEY_TOL_REL), not just
 *   s[i] < s[j], so that float-level or noise-level decrements do not count;
 * - the stretch is the longest subsequence itself, traced back through the DP
 *   predecessors (ties: the earliest end, and the longest predecessor chain with
 *   the latest j, so the stretch is as tight as possible);
 * - idx is the element at position floor(L/3) + floor(L/6) of that
 *   subsequence (L = its length, positions 0..L-1), i.e. fastai's arithmetic
 *   counted along the descending points rather than along raw indices. On a
 *   contiguous descent this is fastai's index (off-by-one fixed); when flat
 *   stretches are skipped it stays among the points where the loss falls.
 * Returns null when no descent of at least 3 points exists.
 *
 * The DP is O(n log n): j -> i is a descent when s[i] < t[j] with
 * t[j] = s[j] - tau, so the best predecessor of i (longest chain, then latest
 * j) is a maximum over the earlier points whose t lies above s[i], a suffix of
 * the t values in sorted order, kept in a Fenwick tree. The same comparisons
 * as the O(n^2) loop, so the same answer; a 100,000-point curve posted by a
 * client takes milliseconds.
 */
export function valleyIndex(s: number[], lo: number, hi: number, tau: number): number | null {
  const m = hi - lo;
  if (m < 3) return null;
  const t = new Float64Array(m);
  for (let j = 0; j < m; j++) t[j] = s[lo + j] - tau;
  const order = Array.from({ length: m }, (_, j) => j).sort((a, b) => t[a] - t[b]);
  const sortedT = Float64Array.from(order, (j) => t[j]);
  const rank = new Int32Array(m);
  order.forEach((j, r) => (rank[j] = r));
  // tree[p]: the best key (lds * m + j: longest chain, then latest j) over a
  // range of positions p = m - rank, so the ranks above a value are a prefix.
  const tree = new Float64Array(m + 1).fill(-1);
  const lds = new Int32Array(m);
  const prev = new Int32Array(m).fill(-1);
  let end = 0;
  for (let i = 0; i < m; i++) {
    const si = s[lo + i];
    // The first rank whose t is above s[i].
    let a = 0;
    let b = m;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (sortedT[mid] > si) b = mid;
      else a = mid + 1;
    }
    let best = -1;
    for (let p = m - a; p > 0; p -= p & -p) if (tree[p] > best) best = tree[p];
    if (best >= 0) {
      lds[i] = Math.floor(best / m) + 1;
      prev[i] = best % m;
    } else lds[i] = 1;
    const key = lds[i] * m + i;
    for (let p = m - rank[i]; p <= m; p += p & -p) if (key > tree[p]) tree[p] = key;
    if (lds[i] > lds[end]) end = i;
  }
  const L = lds[end];
  if (L < 3) return null;
  const chain: number[] = new Array(L);
  for (let k = L - 1, i = end; k >= 0; k--, i = prev[i]) chain[k] = i;
  const pos = Math.floor(L / 3) + Math.floor(L / 6);
  return lo + chain[Math.min(pos, L - 1)];
}

/**
 * Steepest: the most negative central difference
 * (s[i+1] - s[i-1]) / (x[i+1] - x[i-1]) with i-1 and i+1 inside the
 * suggestion window (so the first 10% and the last 5 points are skipped).
 * Null when no point descends.
 */
function steepestIndex(x: number[], s: number[], lo: number, hi: number): number | null {
  let best: number | null = null;
  let bestSlope = 0;
  for (let i = lo + 1; i <= hi - 2; i++) {
    const dx = x[i + 1] - x[i - 1];
    if (!(dx > 0)) continue;
    const slope = (s[i + 1] - s[i - 1]) / dx;
    if (slope < bestSlope) {
      bestSlope = slope;
      best = i;
    }
  }
  return best;
}

/**
 * Recovers the beta of a bias-corrected EMA (`smoothLosses`) from the curve:
 * s_0 = x_0 and s_1 = (beta x_0 + x_1) / (1 + beta), so
 * beta = (x_1 - s_1) / (s_1 - s_0). Accepted only if re-smoothing the raw
 * losses with it reproduces every smoothed value (relative 1e-6); null when
 * the caller smoothed some other way.
 */
function inferBeta(raw: number[], s: number[]): number | null {
  const close = (a: number, b: number): boolean =>
    Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
  if (raw.length < 2 || !close(s[0], raw[0]) || s[1] === s[0]) return null;
  const beta = (raw[1] - s[1]) / (s[1] - s[0]);
  if (!(beta >= 0 && beta < 1)) return null;
  const again = smoothLosses(raw, beta);
  for (let i = 0; i < s.length; i++) if (!close(again[i], s[i])) return null;
  return beta;
}

/**
 * The rule a range test answers with, then its fallbacks. valley is the best
 * rule on held-out validation loss at the real training length (bench/RESULTS.md,
 * "LR suggestions on real data").
 */
const DEFAULT_METHOD: SuggestMethod = 'valley';
const RULE_ORDER: readonly SuggestMethod[] = ['valley', 'min_over_10', 'steepest'];

const NULL_CANDIDATES: Record<SuggestMethod, number | null> = {
  valley: null,
  steepest: null,
  minimum: null,
  min_over_10: null,
};

/** A curve's finite points in step order: lr, x = log10(lr), the smoothed, raw and validation losses. */
interface Sweep {
  lr: number[];
  x: number[];
  s: number[];
  raw: number[];
  val: number[];
}

/** What the checks, the rules and the confidence read off a sweep. */
interface Shape {
  n: number;
  /** The smoothed training loss's minimum, its drop D, range and drop relative to its level. */
  iMin: number;
  drop: number;
  relRange: number;
  relDrop: number;
  /** The residual noise of the smoothed loss (the valley's tolerance). */
  sigmaS: number;
  /** The last stable point (the validation loss's when it rises first), and its lr. */
  kStable: number;
  maxStableLr: number;
  /** The minimum the minimum-based rules read: the validation loss's when it was measured. */
  iLow: number;
  valRelDrop: number | null;
  /** No lr of the sweep trained before the loss rose (NO_STABLE_FRACTION). */
  noStable: boolean;
  /** The smoothed curve's noise as a share of D (NOISE_MEDIUM, NOISE_LOW). */
  noiseRatio: number;
}

/** What a rule reads: the sweep, its shape and fastai's suggestion window. */
interface RuleInput {
  sweep: Sweep;
  shape: Shape;
  win: { lo: number; hi: number };
}

/**
 * The points whose lr, raw and smoothed loss are finite (and lr > 0), in step order; the others
 * are counted (`nonFiniteShare`) and named in `reasons`.
 */
function finitePoints(
  curve: CurvePoint[],
  reasons: string[],
): { finite: CurvePoint[]; nonFiniteShare: number } {
  const finite: CurvePoint[] = [];
  const droppedSteps: number[] = [];
  for (const p of curve) {
    if (
      Number.isFinite(p.lr) &&
      p.lr > 0 &&
      Number.isFinite(p.loss) &&
      Number.isFinite(p.smoothed_loss)
    ) {
      finite.push(p);
    } else {
      droppedSteps.push(p.step);
    }
  }
  finite.sort((a, b) => a.step - b.step);
  if (droppedSteps.length > 0) {
    const shown = droppedSteps.slice(0, 5).join(', ') + (droppedSteps.length > 5 ? ', ...' : '');
    reasons.push(`ignored ${droppedSteps.length} non-finite point(s) (step ${shown})`);
  }
  return { finite, nonFiniteShare: curve.length > 0 ? droppedSteps.length / curve.length : 0 };
}

function sweepOf(points: CurvePoint[]): Sweep {
  const lr = points.map((p) => p.lr);
  return {
    lr,
    x: lr.map((v) => Math.log10(v)),
    s: points.map((p) => p.smoothed_loss),
    raw: points.map((p) => p.loss),
    val: points.map((p) => p.val_loss ?? Number.NaN),
  };
}

/**
 * Uneven first step: the raw loss falls by more than UNEVEN_FIRST_STEP of its whole drop between
 * the first two finite points (and by more than 4 sigma of its noise). That step says nothing about
 * the lr, and through the EMA it makes the start of the smoothed curve a long, steep, fake descent
 * that valley and steepest would pick. The first point is removed; when the smoothed curve is a
 * bias-corrected EMA (`smoothingBeta` > 0, see inferBeta) it is recomputed without that point,
 * otherwise the remaining transient is flagged (`transientLeft`: confidence at most `medium`).
 */
function dropUnevenFirstStep(
  sweep: Sweep,
  smoothingBeta: number,
  reasons: string[],
): { sweep: Sweep; transientLeft: boolean } {
  const { raw } = sweep;
  // A loop, not Math.min(...raw): a spread of 100,000 arguments overflows the stack.
  let rawMin = raw[0];
  for (const v of raw) if (v < rawMin) rawMin = v;
  const jump = raw[0] - raw[1];
  const sigma = localResidualSigma(sweep.x, raw, 0, raw.length - 1);
  if (!(
    sweep.lr.length > MIN_POINTS &&
    jump > UNEVEN_FIRST_STEP * (raw[0] - rawMin) &&
    jump > 4 * sigma
  ))
    return { sweep, transientLeft: false };
  const share = jump / (raw[0] - rawMin);
  const rest = {
    lr: sweep.lr.slice(1),
    x: sweep.x.slice(1),
    s: sweep.s.slice(1),
    raw: raw.slice(1),
    val: sweep.val.slice(1),
  };
  const uneven = `uneven first step: ${fmtPct(share)} of the loss drop happens between the first two points; ignored the first point`;
  if (smoothingBeta > 0) {
    reasons.push(`${uneven} and re-smoothed (beta ${smoothingBeta.toFixed(3)})`);
    return { sweep: { ...rest, s: smoothLosses(rest.raw, smoothingBeta) }, transientLeft: false };
  }
  reasons.push(uneven);
  return { sweep: rest, transientLeft: true };
}

/**
 * The validation loss's minimum and stable end, when it was measured at MIN_POINTS points or more
 * (null otherwise): a training loss that still falls while the validation loss rises is no stable
 * rate, so max_stable_lr and the minimum read it. `kStable` is the training loss's.
 */
function validationMinimum(
  sweep: Sweep,
  kStable: number,
  reasons: string[],
): ReturnType<typeof lowestAndStable> | null {
  const { lr, x, val } = sweep;
  const measured = val.filter((e) => Number.isFinite(e)).length;
  const v = carryForward(val);
  const vFrom = v.findIndex((e) => Number.isFinite(e));
  const held = measured >= MIN_POINTS ? lowestAndStable(x, v, vFrom) : null;
  if (measured > 0 && !held)
    reasons.push(
      `only ${measured} validation loss value(s) (need ${MIN_POINTS}): the rules read the training loss`,
    );
  if (held) {
    reasons.push(
      `validation loss (${measured} values): lowest at lr ${fmtLr(lr[held.iMin])}, near it up to lr ${fmtLr(lr[held.kStable])}; the training loss's up to ${fmtLr(lr[kStable])}`,
    );
    if (held.kStable < kStable)
      reasons.push(
        `the validation loss rises from lr ${fmtLr(lr[held.kStable])} while the training loss does not yet: max_stable_lr is read from the validation loss`,
      );
  }
  return held;
}

/**
 * The shape of the curve: the smoothed training loss's minimum and drop, max_stable_lr (the
 * validation loss's when it rises first: validationMinimum), whether any lr was stable, and the
 * noise of the raw curve before the final rise.
 */
function shapeOf(sweep: Sweep, smoothingBeta: number, reasons: string[]): Shape {
  const { lr, x, s, raw } = sweep;
  const n = lr.length;
  const train = lowestAndStable(x, s, 0);
  const { iMin, drop, level } = train;
  let sMax = s[0];
  for (let i = 1; i < n; i++) if (s[i] > sMax) sMax = s[i];
  const relRange = (sMax - s[iMin]) / level;
  const relDrop = drop / level; // D = drop
  const held = validationMinimum(sweep, train.kStable, reasons);
  const kStable = held ? Math.min(train.kStable, held.kStable) : train.kStable;
  const valRelDrop = held ? held.drop / held.level : null;
  const stableFloor = Math.max(EARLY_MIN_POINTS, Math.ceil(NO_STABLE_FRACTION * n));
  const noStable =
    relRange < FLAT_REL ||
    relDrop < FLAT_REL ||
    (valRelDrop !== null && valRelDrop < FLAT_REL) ||
    kStable < stableFloor;
  // The rules read the smoothed curve: an EMA with factor beta leaves
  // sqrt((1 - beta) / (1 + beta)) of i.i.d. noise (0.1 for 0.98).
  const sigmaRaw = localResidualSigma(x, raw, 0, kStable);
  const sigmaEff = sigmaRaw * Math.sqrt((1 - smoothingBeta) / (1 + smoothingBeta));
  return {
    n,
    iMin,
    drop,
    relRange,
    relDrop,
    sigmaS: train.sigma,
    kStable,
    maxStableLr: lr[kStable],
    iLow: held ? held.iMin : iMin,
    valRelDrop,
    noStable,
    noiseRatio: drop > 0 ? sigmaEff / drop : Number.POSITIVE_INFINITY,
  };
}

// The rules, as fastai keeps them: each one an lr read off the sweep, or null.

/** fastai's valley (valleyIndex) on the suggestion window, with the tolerance VALLEY_TOL_REL. */
function valley({ sweep, shape, win }: RuleInput): number | null {
  if (!(shape.drop > 0)) return null;
  const tau = Math.max(VALLEY_TOL_REL * shape.drop, 2 * shape.sigmaS);
  const i = valleyIndex(sweep.s, win.lo, win.hi, tau);
  return i === null ? null : sweep.lr[i];
}

/** The steepest descent of the smoothed loss (steepestIndex) on the suggestion window. */
function steepest({ sweep, win }: RuleInput): number | null {
  const i = steepestIndex(sweep.x, sweep.s, win.lo, win.hi);
  return i === null ? null : sweep.lr[i];
}

/** The lr of the lowest loss (the validation loss's when it was measured). */
function minimum({ sweep, shape }: RuleInput): number {
  return sweep.lr[shape.iLow];
}

/** A decade below the minimum (Smith's and fastai's original advice). */
function minOver10(input: RuleInput): number {
  return minimum(input) / 10;
}

/** Every rule's candidate; a short curve (no trimmed window) is named in `reasons`. */
function candidatesOf(
  sweep: Sweep,
  shape: Shape,
  reasons: string[],
): Record<SuggestMethod, number | null> {
  const win = suggestionWindow(shape.n);
  if (!win.trimmed)
    reasons.push(
      `short curve (${shape.n} points): rules use every point, not fastai's trimmed window`,
    );
  const input: RuleInput = { sweep, shape, win };
  return {
    valley: valley(input),
    steepest: steepest(input),
    minimum: minimum(input),
    min_over_10: minOver10(input),
  };
}

/** Why the curve gives no usable answer (flat, diverging from the start, no descent, no stable lr), or null. */
function unusable({ lr }: Sweep, shape: Shape): string | null {
  const { n, iMin, kStable, relRange, relDrop, valRelDrop } = shape;
  if (relRange < FLAT_REL)
    return `curve is flat: loss varies by ${fmtPct(relRange)} across the sweep`;
  const earlyPoints = Math.max(EARLY_MIN_POINTS, Math.ceil(EARLY_MIN_FRACTION * n));
  if (iMin < earlyPoints)
    return `loss diverges from the first steps: its minimum is at point ${iMin + 1} of ${n} (lr ${fmtLr(lr[iMin])}) and it only rises after`;
  if (relDrop < FLAT_REL)
    return `no descending region: loss falls only ${fmtPct(relDrop)} before it starts rising`;
  if (valRelDrop !== null && valRelDrop < FLAT_REL)
    return `the validation loss falls only ${fmtPct(valRelDrop)} before it starts rising: training did not generalise at any lr of the sweep`;
  if (shape.noStable)
    return `the loss stays near its lowest only up to lr ${fmtLr(lr[kStable])}, point ${kStable + 1} of ${n}: within the first ${fmtPct(NO_STABLE_FRACTION)} of the sweep`;
  return null;
}

/** No lr: `why`, and what to do when no lr of the sweep was stable. */
function failure(
  why: string,
  { lr }: Sweep,
  shape: Shape,
  candidates: Record<SuggestMethod, number | null>,
  reasons: string[],
): Suggestion {
  reasons.push(why);
  if (shape.noStable)
    reasons.push(
      `no stable learning rate found: no lr of this sweep (${fmtLr(lr[0])} to ${fmtLr(lr[shape.n - 1])}) trained the model before the loss rose; ` +
        `sweep lower (min_lr below ${fmtLr(lr[0])}) or over a wider range, and check the data and labels (noisy or mismatched labels keep the loss from falling)`,
    );
  return {
    lr: null,
    method: DEFAULT_METHOD,
    candidates,
    max_stable_lr: shape.noStable ? null : shape.maxStableLr,
    confidence: 'low',
    reasons,
  };
}

/** Why rule `m`'s candidate `v` cannot be the answer, or null when it can. */
function skipReason(
  m: SuggestMethod,
  v: number | null,
  { lr }: Sweep,
  shape: Shape,
): string | null {
  const { maxStableLr } = shape;
  if (v === null) return `${m} gives no candidate`;
  if (v > maxStableLr)
    return `${m} (${fmtLr(v)}) is above max_stable_lr (${fmtLr(maxStableLr)}): skipped`;
  if (v < lr[0])
    return `${m} (${fmtLr(v)}) is below the swept range (starts at ${fmtLr(lr[0])}): skipped`;
  // The loss still falls at the end of the sweep: its "minimum" is only
  // where the sweep stopped, not where training starts to fail.
  if (m === 'min_over_10' && shape.kStable === shape.n - 1)
    return 'the loss never turns upward, so its minimum is just the end of the sweep: min_over_10 skipped';
  return null;
}

/**
 * The first rule of RULE_ORDER whose candidate is usable: never above max_stable_lr, never below
 * the swept range; null when none is. The first lr of the sweep is never picked: the minimum lies
 * past the first few points (unusable), steepest needs a left neighbour, valley's point is at
 * position >= 1 of a chain of >= 3 points, and an uneven first point has been removed
 * (dropUnevenFirstStep).
 */
function pickRule(
  candidates: Record<SuggestMethod, number | null>,
  sweep: Sweep,
  shape: Shape,
  reasons: string[],
): SuggestMethod | null {
  for (const m of RULE_ORDER) {
    const skip = skipReason(m, candidates[m], sweep, shape);
    if (skip === null) return m;
    reasons.push(skip);
  }
  return null;
}

/** Confidence: high, capped for each weakness found (each named in `reasons`). */
function confidenceOf(
  pick: { method: SuggestMethod; lr: number; candidates: Record<SuggestMethod, number | null> },
  shape: Shape,
  flags: { nonFiniteShare: number; transientLeft: boolean },
  reasons: string[],
): Confidence {
  const { noiseRatio, relDrop } = shape;
  const { method, candidates } = pick;
  let confidence: Confidence = 'high';
  const cap = (c: Confidence, why: string): void => {
    reasons.push(why);
    if (c === 'low' || (c === 'medium' && confidence === 'high')) confidence = c;
  };
  if (noiseRatio > NOISE_LOW) {
    cap(
      'low',
      `noisy curve: loss noise is ${fmtPct(noiseRatio)} of the total drop (> ${fmtPct(NOISE_LOW)})`,
    );
  } else if (noiseRatio > NOISE_MEDIUM) {
    cap(
      'medium',
      `moderately noisy curve: loss noise is ${fmtPct(noiseRatio)} of the total drop (> ${fmtPct(NOISE_MEDIUM)})`,
    );
  } else {
    reasons.push(
      `clear descent: loss falls ${fmtPct(relDrop)}, noise is ${fmtPct(noiseRatio)} of the drop`,
    );
  }
  if (relDrop < SHALLOW_REL) cap('medium', `shallow descent: loss falls only ${fmtPct(relDrop)}`);
  if (method !== DEFAULT_METHOD) cap('medium', `${DEFAULT_METHOD} unusable, used ${method}`);
  if (candidates.valley !== null && candidates.min_over_10 !== null) {
    const decades = Math.abs(Math.log10(candidates.valley / candidates.min_over_10));
    if (decades > AGREE_DECADES)
      cap('medium', `valley and min_over_10 disagree by ${decades.toFixed(1)} decades`);
  } else {
    cap('medium', 'valley and min_over_10 cannot be cross-checked');
  }
  if (!(pick.lr < shape.maxStableLr)) cap('medium', 'suggestion is at max_stable_lr');
  if (flags.nonFiniteShare > NONFINITE_MEDIUM)
    cap('medium', `${fmtPct(flags.nonFiniteShare)} of the points were non-finite`);
  if (flags.transientLeft)
    cap('medium', 'the smoothed curve still carries the uneven first step (unknown smoother)');
  return confidence;
}

/**
 * The suggestion: the finite points, without an uneven first step; the curve's shape; every
 * rule's candidate; no answer when the curve gives none (unusable); else the first usable rule of
 * RULE_ORDER (valley, the default: the best rule on the real-data bench, bench/RESULTS.md, "LR
 * suggestions on real data"; then min_over_10, then steepest) and its confidence.
 */
export function suggestLr(curve: CurvePoint[]): Suggestion {
  const reasons: string[] = [];
  const { finite, nonFiniteShare } = finitePoints(curve, reasons);
  if (finite.length < MIN_POINTS) {
    reasons.push(`too few finite points: ${finite.length} (need at least ${MIN_POINTS})`);
    return {
      lr: null,
      method: DEFAULT_METHOD,
      candidates: { ...NULL_CANDIDATES },
      max_stable_lr: null,
      confidence: 'low',
      reasons,
    };
  }
  const all = sweepOf(finite);
  // The EMA factor the caller smoothed with (0 when it is not a bias-corrected EMA).
  const smoothingBeta = inferBeta(all.raw, all.s) ?? 0;
  const { sweep, transientLeft } = dropUnevenFirstStep(all, smoothingBeta, reasons);
  const shape = shapeOf(sweep, smoothingBeta, reasons);
  const candidates = candidatesOf(sweep, shape, reasons);
  const why = unusable(sweep, shape);
  if (why !== null) return failure(why, sweep, shape, candidates, reasons);
  const method = pickRule(candidates, sweep, shape, reasons);
  if (method === null)
    return failure(
      'no rule gives an lr inside the swept range and at or below max_stable_lr',
      sweep,
      shape,
      candidates,
      reasons,
    );
  const chosen = candidates[method] as number;
  if (method !== DEFAULT_METHOD) reasons.push(`fell back to ${method}`);
  const confidence = confidenceOf(
    { method, lr: chosen, candidates },
    shape,
    { nonFiniteShare, transientLeft },
    reasons,
  );
  if (shape.kStable === shape.n - 1)
    reasons.push('loss never turns upward: max_stable_lr is the last lr of the sweep');
  const { maxStableLr } = shape;
  return { lr: chosen, method, candidates, max_stable_lr: maxStableLr, confidence, reasons };
}

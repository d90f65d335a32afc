/**
 * Learning-rate candidates judged by their validation losses: the evidence a
 * validation round leaves (one trial per candidate lr, a validation loss
 * reported per epoch), which candidates blew up, the ranking with its ties,
 * and where to look next when the best is at an edge of the candidates.
 *
 * Pure and shared: lr/suggest reads it for the edge's rounds and for the
 * rounds a client or runners train (services/lr-suggest.ts), and a study's
 * coordinator reads it to extend a client's round past an edge as soon as
 * the round ends.
 */

/** Two finalists closer than this share of the best loss are tied whatever their spread. */
export const MIN_TIE_TOLERANCE = 0.01;
/** A candidate whose validation loss rose above this many times the early loss blew up: it cannot win. */
const BLOW_UP_FACTOR = 3;
/** The points an extension adds past an edge, in decades from the edge. */
const EXTENSION_DECADES = [0.5, 1] as const;

export interface LrCandidate {
  lr: number;
  sources: string[];
}

import type { CandidateEvidence } from '../../contract/lr-suggestion';
import { meanWithError } from '../../lib/stats';

export type { CandidateEvidence };

/** Evidence with the candidate's validation losses, epoch by epoch (not part of the answer). */
export type Evidence = CandidateEvidence & {
  curve?: number[];
  last_step?: number | null;
  curves?: number[][];
};

/** What evidence needs of a trial (a coordinator's row or the API's Trial). */
export interface TrialSnapshot {
  params: Readonly<Record<string, unknown>>;
  state: string;
  value: number | null;
  intermediate: readonly { step: number; value: number }[];
  error: string | null;
}

/** How many of the last values the noise of a curve is read from. */
const NOISE_TAIL = 8;
/** The decay rates tried when fitting a + b r^t (r near 1: a straight line). */
const DECAY_RATES = Array.from({ length: 40 }, (_, i) => 0.05 + (0.949 * i) / 39);

/**
 * The noise of a curve's end: the standard deviation of the residuals of the best fit of
 * a + b r^t (a converging curve: exponential, or nearly a straight line) to its last (up to)
 * NOISE_TAIL values. Progress, a tail still descending under a cosine or warmup schedule, is in
 * the fit, not in the noise. Null with fewer than 4 values (three points fit any such curve).
 */
function spreadOf(values: readonly number[]): number | null {
  const y = values.slice(-NOISE_TAIL);
  const n = y.length;
  if (n < 4) return null;
  let best = Infinity;
  for (const r of DECAY_RATES) {
    // Least squares for a and b given r: a line in x = r^t.
    const x = y.map((_, t) => r ** t);
    const xm = x.reduce((p, q) => p + q, 0) / n;
    const ym = y.reduce((p, q) => p + q, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (let t = 0; t < n; t++) {
      sxy += (x[t] - xm) * (y[t] - ym);
      sxx += (x[t] - xm) ** 2;
    }
    const b = sxx > 0 ? sxy / sxx : 0;
    let ssr = 0;
    for (let t = 0; t < n; t++) ssr += (y[t] - ym - b * (x[t] - xm)) ** 2;
    best = Math.min(best, ssr);
  }
  return Math.sqrt(best / (n - 3));
}

/**
 * Each candidate's evidence from the trials that trained its lr (`params.lr`):
 * its state, its final value (a pruned one's last reported loss), the epochs
 * it reported and their spread. A candidate no trial has taken yet is `waiting`.
 *
 * Trials with a `seed` param (a client's or runners' round on several seeds)
 * are grouped by lr: the candidate is `complete` once every seed is, and its
 * `score` is the mean of the seeds' final losses, `seeds` each seed's, and
 * `spread` the standard error of that mean; `epochs_run` counts every seed's
 * epochs, `last_step` is the shortest seed's, and `curves` keeps each seed's
 * losses for markUnstable.
 */
export function evidenceFromTrials(
  cands: readonly LrCandidate[],
  trials: readonly TrialSnapshot[],
): Evidence[] {
  return cands.map((c) => {
    const mine = trials.filter((x) => x.params.lr === c.lr);
    const seeded = mine.filter((x) => typeof x.params.seed === 'number');
    if (seeded.length > 0) return seededEvidence(c, seeded);
    const one = single(c, mine[0]);
    return { ...one, curves: [one.curve ?? []] };
  });
}

function single(c: LrCandidate, t: TrialSnapshot | undefined): Evidence {
  const points = [...(t?.intermediate ?? [])].sort((a, b) => a.step - b.step);
  const values = points.map((p) => p.value);
  // A pruned candidate's evidence is its last validation loss.
  const value = t?.value ?? values[values.length - 1] ?? null;
  return {
    lr: c.lr,
    sources: [...c.sources],
    state: t?.state ?? 'waiting',
    value,
    epochs_run: values.length,
    spread: spreadOf(values),
    tied: false,
    unstable: false,
    seeds: null,
    score: value,
    error: t?.error ?? null,
    curve: values,
    last_step: points.length > 0 ? points[points.length - 1].step : null,
  };
}

/** The order of states when the seeds of one candidate disagree: the first one any seed is in wins. */
const SEEDED_STATE_ORDER = ['failed', 'running', 'waiting', 'pruned', 'complete'];

function seededEvidence(c: LrCandidate, trials: readonly TrialSnapshot[]): Evidence {
  const runs = [...trials]
    .sort((a, b) => (a.params.seed as number) - (b.params.seed as number))
    .map((t) => ({ seed: t.params.seed as number, ev: single(c, t) }));
  const state =
    SEEDED_STATE_ORDER.find((s) => runs.some((r) => r.ev.state === s)) ?? runs[0].ev.state;
  const seeds = runs.map((r) => ({
    seed: r.seed,
    value:
      r.ev.state === 'complete' && r.ev.value !== null && Number.isFinite(r.ev.value)
        ? r.ev.value
        : null,
  }));
  const values = seeds.map((s) => s.value);
  const full = values.every((v): v is number => v !== null);
  const seedMean = full ? meanWithError(values as number[]) : null;
  const steps = runs
    .map((r) => r.ev.last_step)
    .filter((x): x is number => x !== null && x !== undefined);
  const first = runs[0].ev;
  return {
    ...first,
    state,
    // Without every seed, the first seed's loss stands for the candidate (pruned or still running).
    value: seedMean?.mean ?? first.value,
    score: seedMean?.mean ?? (state === 'complete' ? null : first.value),
    spread: seedMean?.stderr ?? first.spread,
    seeds,
    epochs_run: runs.reduce((a, r) => a + r.ev.epochs_run, 0),
    error: runs.find((r) => r.ev.error)?.ev.error ?? null,
    last_step: steps.length === runs.length ? Math.min(...steps) : (first.last_step ?? null),
    curves: runs.map((r) => r.ev.curve ?? []),
  };
}

/**
 * Mark candidates whose validation loss blew up: above BLOW_UP_FACTOR times
 * the early loss (earlyLoss: the level the candidates start from, as they
 * share the initialisation and data; per seed when they trained on several,
 * and a blow-up on any seed counts) at any epoch, or that ended at a loss of
 * exactly 0 (saturated outputs: every held-out row predicted with certainty,
 * which only logits in the hundreds give). A run that swings to losses in the
 * hundreds and back, even from its first epoch, can end at a tiny loss on a
 * small split; it is not a rate to train with.
 */
export function markUnstable(cands: Evidence[]): void {
  const bySeed = cands.map(curvesBySeed);
  const seeds = new Set(bySeed.flatMap((m) => [...m.keys()]));
  for (const seed of seeds) {
    // Compared with the same seed's runs only (a candidate whose run on that seed has not started has none).
    const runs = cands.map((c, i) => ({ lr: c.lr, curve: bySeed[i].get(seed) ?? [] }));
    const early = earlyLoss(runs);
    runs.forEach((r, i) => {
      if (blewUp(r.curve, early)) cands[i].unstable = true;
    });
  }
}

/** Each seed's validation losses of a candidate (seed 0 alone when it trained on one). */
export function curvesBySeed(c: Evidence): Map<number, number[]> {
  if (c.seeds && c.curves && c.curves.length === c.seeds.length)
    return new Map(c.seeds.map((s, i) => [s.seed, c.curves![i]]));
  return new Map([[0, c.curves?.[0] ?? c.curve ?? []]]);
}

/**
 * The loss level the candidates start from: the higher of their median
 * first-epoch validation loss and the first-epoch loss of the lowest lr
 * (the slowest to move, so the closest to the untrained model's loss). A
 * candidate that only starts slowly is not blowing up: with the median alone,
 * on a split where most candidates fall fast in their first epoch, the lowest
 * rates' first epochs read as 3x "blow-ups" (breast cancer with RMSprop in
 * PyTorch: the best lr, 4e-4, was excluded so). Null without a first epoch.
 */
export function earlyLoss(cands: { lr?: number; curve?: number[] }[]): number | null {
  const withFirst = cands.filter((c) => c.curve?.[0] !== undefined && Number.isFinite(c.curve[0]));
  const firsts = withFirst.map((c) => c.curve![0]).sort((a, b) => a - b);
  if (firsts.length === 0) return null;
  const median = firsts[Math.floor((firsts.length - 1) / 2)];
  const lowest = withFirst.filter((c) => c.lr !== undefined).sort((a, b) => a.lr! - b.lr!)[0];
  return lowest ? Math.max(median, lowest.curve![0]) : median;
}

/** Whether a run's validation losses blew up against the early loss, or saturated at exactly 0. */
export function blewUp(curve: number[], early: number | null): boolean {
  if (curve.length === 0) return false;
  if (curve[curve.length - 1] === 0) return true;
  return early !== null && early > 0 && Math.max(...curve) > BLOW_UP_FACTOR * early;
}

/**
 * The finalists (complete, stable candidates) best first by `score`, and the
 * ties: those whose score is within the sum of the two spreads (at least 1%
 * of the best) of the best's, the candidate's spread counted at most as the
 * best's: a candidate whose last epochs swing wildly (diverging) is unstable,
 * not tied. Marks `tied` on the evidence.
 */
export function rankWithTies(cands: CandidateEvidence[]): {
  ranked: CandidateEvidence[];
  tied: CandidateEvidence[];
  tolerance: (c: CandidateEvidence) => number;
} {
  const scoreOf = (c: CandidateEvidence) => (c.score === undefined ? c.value : c.score);
  const ranked = cands
    .filter(
      (c) =>
        c.state === 'complete' && !c.unstable && scoreOf(c) !== null && Number.isFinite(scoreOf(c)),
    )
    .sort((a, b) => (scoreOf(a) as number) - (scoreOf(b) as number));
  for (const c of cands) c.tied = false;
  if (ranked.length === 0) return { ranked, tied: [], tolerance: () => 0 };
  const best = ranked[0];
  const floor = MIN_TIE_TOLERANCE * Math.abs(scoreOf(best) as number);
  const tolerance = (c: CandidateEvidence) => {
    const paired = pairedNoise(best, c);
    // On the same seeds, the splits' own difficulty is shared: only the paired differences are noise.
    if (paired !== null) return Math.max(paired, floor);
    return Math.max((best.spread ?? 0) + Math.min(c.spread ?? 0, best.spread ?? 0), floor);
  };
  const tied = ranked.filter(
    (c) => (scoreOf(c) as number) - (scoreOf(best) as number) <= tolerance(c),
  );
  if (tied.length > 1) for (const c of tied) c.tied = true;
  return { ranked, tied, tolerance };
}

/**
 * The standard error of the mean per-seed difference between two candidates
 * validated on the same seeds (null unless both have a value on each of at
 * least two common seeds).
 */
function pairedNoise(a: CandidateEvidence, b: CandidateEvidence): number | null {
  if (!a.seeds || !b.seeds || a === b) return a === b ? 0 : null;
  const d: number[] = [];
  for (const x of a.seeds) {
    const y = b.seeds.find((s) => s.seed === x.seed);
    if (!y || x.value === null || y.value === null) return null;
    d.push(y.value - x.value);
  }
  return meanWithError(d).stderr;
}

/** The best candidate is the lowest or highest of `lrs`: the answer may lie past it. */
export interface Extension {
  /** -1: below the lowest candidate; 1: above the highest. */
  dir: -1 | 1;
  /** The best candidate, at the edge. */
  edge: number;
  /** The points to validate past it: half a decade and a decade away (3 significant digits). */
  lrs: number[];
}

/**
 * After a round: when the best finalist (unstable ones excluded) is the
 * lowest or the highest of `lrs`, the two points past that edge worth
 * validating; null when the best is inside, or nothing finished.
 * `evidence` is marked (unstable, tied) as a side effect.
 */
export function extensionPast(evidence: Evidence[], lrs: readonly number[]): Extension | null {
  if (lrs.length < 2) return null;
  markUnstable(evidence);
  const best = rankWithTies(evidence).ranked[0];
  const lo = Math.min(...lrs);
  const hi = Math.max(...lrs);
  if (!best || (best.lr !== lo && best.lr !== hi)) return null;
  const dir = best.lr === lo ? -1 : 1;
  return {
    dir,
    edge: best.lr,
    lrs: EXTENSION_DECADES.map((d) => Number((best.lr * Math.pow(10, dir * d)).toPrecision(3))),
  };
}

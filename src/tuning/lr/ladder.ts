/**
 * The budgeted learning-rate search: which runs to train next, and the answer from the runs
 * trained. Pure: no storage, no clock, no randomness. The same config and observations give the
 * same decision, so the coordinator that drives it can restart at any point.
 *
 * The search is a ladder of levels. Each level trains a few learning rates with the whole
 * schedule compressed into a fraction of the horizon T (a run of length L costs L/T of a full
 * run). The first level screens the range test's span; each later level is centred on the best
 * lr of the level below (refined by a parabola in log lr), shifted by the drift of that best with
 * the run length, at half the spacing. The answer is the best lr of the longest level, moved by
 * the drift when that level is shorter than T. Short runs are never compared with long ones:
 * each level ranks its own runs, which share a seed and a length (a paired comparison).
 */
import { blewUp, earlyLoss } from './validation';

import type { Anchor, LadderConfig, Unit } from '../../contract/lr-suggestion';
import { fmt, round3 } from '../../lib/format';
import type { TrialState as RunState } from '../../contract/names';

export type { Anchor, LadderConfig, Unit };

/** One rung of the ladder before it meets a horizon: its share of T and how many lrs it trains. */
export interface Level {
  fraction: number;
  points: number;
  /** A local check: `points` lrs LOCAL_SPACING apart around the config's centre, not a screen of the span. */
  local?: boolean;
}

/** A level with its run length in the horizon's unit (whole units, at least `minLength`). */
export interface ResolvedLevel extends Level {
  length: number;
}

/** A run to train: a peak lr, the length its whole schedule is compressed into, a seed. */
export interface Run {
  lr: number;
  length: number;
  seed: number;
}

export type { RunState };

/** A run as trained so far: its state, final validation loss and the losses it reported. */
export interface Observation extends Run {
  state: RunState;
  value: number | null;
  curve: readonly number[];
}

/** One lr of one level, as judged. */
export interface Judged {
  lr: number;
  value: number | null;
  state: RunState;
  unstable: boolean;
  sources: string[];
}

/** A level's outcome: its runs judged, the best (null when none finished stably) and the refined best. */
export interface LevelOutcome {
  level: ResolvedLevel;
  runs: Judged[];
  best: Judged | null;
  /** The best refined by a parabola through it and its neighbours (the best's lr without them). */
  refined: number | null;
}

export interface Answer {
  lr: number;
  /** The longest level with a stable best: its length, and whether the answer was moved past it. */
  length: number;
  extrapolated: boolean;
  confidence: 'low' | 'medium' | 'high';
  levels: LevelOutcome[];
  why: string[];
}

export type Decision =
  | { kind: 'train'; level: number; runs: (Run & { sources: string[] })[] }
  | { kind: 'wait'; level: number }
  | { kind: 'done'; answer: Answer | null; levels: LevelOutcome[]; why: string[] };

/** The screen's shares of the horizon and sizes a ladder may start with. */
const SCREENS = [1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4].flatMap((fraction) =>
  [6, 8].map((points) => ({ fraction, points })),
);
/** The later levels a ladder may climb: a share of the horizon longer than the level below. */
const MIDDLES = [1 / 8, 1 / 4, 1 / 2].flatMap((fraction) =>
  // Three or more: a parabola through the best and its neighbours refines it, for the drift.
  [3, 4].map((points) => ({ fraction, points })),
);
const TOPS = [1 / 2, 1].flatMap((fraction) => [2, 3].map((points) => ({ fraction, points })));

/**
 * A screen, then a pair at the horizon (or half of it) around its best: when no ladder of two
 * levels with a refined top fits, two full-length runs test the screen's best where it counts
 * instead of leaving the budget unspent.
 */
const PAIRED: Level[][] = SCREENS.flatMap((screen) =>
  TOPS.filter((t) => t.points === 2 && t.fraction > screen.fraction).map((t) => [screen, t]),
);

/** Screens for horizons of a few units, where six runs of one unit are over the budget. */
const SHORT_SCREENS: Level[][] = [
  [{ fraction: 1 / 4, points: 4 }],
  [{ fraction: 1 / 2, points: 3 }],
  [{ fraction: 1, points: 2 }],
];

/**
 * When no screen fits: 2 to 5 lrs around the zero-compute answer at the shortest run (fraction 0
 * resolves to minLength). A run that short favours fast starters, so the answer it gives is
 * shrunk halfway (in log lr) back to the centre: see answerOf.
 */
const LOCAL_CHECKS: Level[][] = [5, 4, 3, 2].map((points) => [
  { fraction: 0, points, local: true },
]);
/** Decades between the lrs of a local check. */
export const LOCAL_SPACING = 0.5;

/** Every ladder considered: a screen, then up to two longer levels. */
const LADDERS: Level[][] = SCREENS.flatMap((screen) => [
  [screen],
  ...MIDDLES.filter((m) => m.fraction > screen.fraction).map((m) => [screen, m]),
  // Two levels: the second refines its best too (3 or more), so that the drift is measured.
  ...TOPS.filter((t) => t.fraction > screen.fraction && t.points >= 3).map((t) => [screen, t]),
  ...MIDDLES.filter((m) => m.fraction > screen.fraction).flatMap((m) =>
    TOPS.filter((t) => t.fraction > m.fraction).map((t) => [screen, m, t]),
  ),
]);

/** Decades between two learning rates. */
const decades = (a: number, b: number) => Math.abs(Math.log10(a / b));

/** A level's run length: its share of the horizon in whole units, at least minLength, at most T. */
export function lengthOf(fraction: number, horizon: number, minLength = 1): number {
  return Math.min(horizon, Math.max(minLength, Math.round(fraction * horizon)));
}

/** What a ladder costs in full runs at this horizon (lengths rounded as they will be trained). */
export function ladderCost(levels: readonly ResolvedLevel[], horizon: number): number {
  return levels.reduce((a, l) => a + (l.points * l.length) / horizon, 0);
}

/**
 * The levels a budget buys at this horizon: of the ladders whose runs fit the budget (lengths
 * rounded to whole units, at least minLength, at most maxLength, each level longer than the one
 * below), the one with the most levels (the drift of the best with run length is measured
 * between them), then the longest top level (the shortest extrapolation to the horizon), the
 * longest middle level, the most runs, the longest screen, then the cheapest. When that is a
 * screen alone, a screen and a pair at the horizon (PAIRED) if one fits. A screen has 6 or 8
 * runs; smaller ones (SHORT_SCREENS) only when none of those fits. Empty when nothing fits.
 */
export function ladderFor(
  budget: number,
  horizon: number,
  minLength = 1,
  maxLength = horizon,
  centre?: number,
): ResolvedLevel[] {
  const found = bestLadder(LADDERS, budget, horizon, minLength, maxLength);
  if (found.length === 1) {
    const paired = bestLadder(PAIRED, budget, horizon, minLength, maxLength);
    if (paired.length === 2) return paired;
  }
  if (found.length > 0) return found;
  // The most runs first: a screen of 2 over 3 decades barely screens.
  for (const ladder of [...SHORT_SCREENS, ...(centre !== undefined ? LOCAL_CHECKS : [])]) {
    const one = bestLadder([ladder], budget, horizon, minLength, maxLength);
    if (one.length > 0) return one;
  }
  return [];
}

/** The levels a config's budget buys (ladderFor with the config's lengths and centre). */
export function levelsOf(cfg: LadderConfig): ResolvedLevel[] {
  return ladderFor(cfg.budget, cfg.horizon, cfg.minLength, cfg.maxLength, cfg.centre);
}

function bestLadder(
  ladders: readonly Level[][],
  budget: number,
  horizon: number,
  minLength: number,
  maxLength: number,
): ResolvedLevel[] {
  let best: ResolvedLevel[] = [];
  let bestKey: number[] = [];
  for (const ladder of ladders) {
    const resolved = ladder.map((l) => ({
      ...l,
      length: lengthOf(l.fraction, horizon, minLength),
    }));
    // Each level at least twice as long as the one below: closer lengths measure no drift.
    const climbs = resolved.every((l, i) => i === 0 || l.length >= 2 * resolved[i - 1].length);
    if (!climbs || resolved[resolved.length - 1].length > maxLength) continue;
    const cost = ladderCost(resolved, horizon);
    if (cost > budget + 1e-9) continue;
    const key = [
      resolved.length,
      resolved[resolved.length - 1].length,
      resolved.length === 3 ? resolved[1].length : 0,
      resolved.reduce((a, l) => a + l.points, 0),
      resolved[0].length,
      -cost,
    ];
    if (best.length === 0 || lexicographicallyAbove(key, bestKey)) {
      best = resolved;
      bestKey = key;
    }
  }
  return best;
}

/** Whether `a` comes after `b` in lexicographic order (the first differing entry decides). */
function lexicographicallyAbove(a: readonly number[], b: readonly number[]): boolean {
  const i = a.findIndex((x, k) => x !== b[k]);
  return i >= 0 && a[i] > b[i];
}

/**
 * The screen: `points` lrs log-spaced from lo to hi, each anchor in place of the nearest free
 * point within one spacing (the ends only within half a spacing, so the span stays covered;
 * anchors within 0.1 decades of a placed one share its point). Sorted by lr.
 */
export function screenLrs(
  lo: number,
  hi: number,
  points: number,
  anchors: readonly Anchor[],
): Anchor[] {
  if (points < 2 || !(hi > lo)) return [{ lr: round3(hi), sources: ['span'] }];
  const span = Math.log10(hi / lo);
  const spacing = span / (points - 1);
  const out: Anchor[] = Array.from({ length: points }, (_, i) => ({
    lr: round3(lo * 10 ** (i * spacing)),
    sources: [],
  }));
  const taken = new Set<number>();
  for (const a of anchors) {
    if (!(a.lr > 0) || a.lr > hi * 1.0001 || a.lr < lo / 1.0001) continue;
    const same = [...taken].find((k) => decades(out[k].lr, a.lr) < 0.1);
    if (same !== undefined) {
      out[same].sources.push(...a.sources);
      continue;
    }
    const inner = (i: number) => i > 0 && i < points - 1;
    const free = out
      .map((_, i) => i)
      .filter(
        (i) => !taken.has(i) && decades(out[i].lr, a.lr) <= (inner(i) ? spacing : spacing / 2),
      );
    if (free.length === 0) continue;
    const k = free.reduce((x, y) => (decades(out[y].lr, a.lr) < decades(out[x].lr, a.lr) ? y : x));
    taken.add(k);
    out[k] = { lr: round3(a.lr), sources: [...a.sources] };
  }
  for (const p of out) if (p.sources.length === 0) p.sources.push('log-spaced');
  return out.sort((a, b) => a.lr - b.lr);
}

/** The spacing of a level's points, in decades: the screen's, halved at each level (at least 0.1). */
function spacingAt(cfg: LadderConfig, levels: readonly ResolvedLevel[], k: number): number {
  const screen = Math.log10(cfg.hi / cfg.lo) / Math.max(1, levels[0].points - 1);
  return Math.max(0.1, screen / 2 ** k);
}

/**
 * A run that ends this many times worse than a shorter run of (nearly, NEAR_DECADES) the same lr
 * (its schedule compressed into fewer steps) did not train at that length: it counts as unstable.
 */
const LONGER_WORSE = 1.5;
const NEAR_DECADES = 0.15;

/** Whether a run of `lr` ending at `value` did much worse than a shorter level's stable run of nearly the same lr. */
function worseThanShorter(lr: number, value: number | null, shorter: readonly LevelOutcome[]) {
  if (value === null) return false;
  return shorter.some((o) =>
    o.runs.some(
      (j) =>
        j.state === 'complete' &&
        !j.unstable &&
        j.value !== null &&
        decades(j.lr, lr) <= NEAR_DECADES &&
        value > LONGER_WORSE * j.value,
    ),
  );
}

/**
 * Judge one level's runs: unstable ones marked (blew up against the level's early loss, or
 * ended far worse than the same lr in a shorter level of `shorter`).
 */
export function judgeLevel(
  level: ResolvedLevel,
  runs: readonly (Observation & { sources?: string[] })[],
  shorter: readonly LevelOutcome[] = [],
): LevelOutcome {
  const early = earlyLoss(runs.map((r) => ({ lr: r.lr, curve: [...r.curve] })));
  const judged: Judged[] = runs
    .map((r) => ({
      lr: r.lr,
      value: r.value,
      state: r.state,
      unstable:
        r.state === 'failed' ||
        (r.value !== null && !Number.isFinite(r.value)) ||
        blewUp([...r.curve], early) ||
        worseThanShorter(r.lr, r.value, shorter),
      sources: r.sources ?? [],
    }))
    .sort((a, b) => a.lr - b.lr);
  const finished = judged.filter((j) => j.state === 'complete' && !j.unstable && j.value !== null);
  const best = finished.reduce<Judged | null>(
    (a, b) => (a === null || b.value! < a.value! ? b : a),
    null,
  );
  return { level, runs: judged, best, refined: best ? refine(judged, best) : null };
}

/**
 * The vertex of the parabola in log lr through the best and its two neighbours (both finished
 * and stable), kept within half a spacing of the best; the best's lr when it sits at an edge or
 * the three points are not convex.
 */
export function refine(runs: readonly Judged[], best: Judged): number {
  const ok = runs.filter((j) => j.state === 'complete' && !j.unstable && j.value !== null);
  const i = ok.indexOf(best);
  if (i <= 0 || i >= ok.length - 1) return best.lr;
  const [a, b, c] = [ok[i - 1], ok[i], ok[i + 1]];
  const [x0, x1, x2] = [a.lr, b.lr, c.lr].map(Math.log10);
  const [y0, y1, y2] = [a.value!, b.value!, c.value!];
  const d = (x0 - x1) * (x0 - x2) * (x1 - x2);
  const A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / d;
  const B = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / d;
  if (!(A > 0)) return best.lr;
  const half = Math.min(x1 - x0, x2 - x1) / 2;
  const v = Math.min(x1 + half, Math.max(x1 - half, -B / (2 * A)));
  return round3(10 ** v);
}

/** -1 or 1 when a level's best is its lowest or highest stable lr (of 3 or more), else 0. */
function edgeOf(o: LevelOutcome): -1 | 0 | 1 {
  const stable = o.runs.filter((j) => j.state === 'complete' && !j.unstable && j.value !== null);
  if (stable.length < 3 || o.best === null) return 0;
  return o.best === stable[0] ? -1 : o.best === stable[stable.length - 1] ? 1 : 0;
}

/** How far (in decades) the best lr moves per doubling of the run length, from the levels so far. */
export function driftPerDoubling(outcomes: readonly LevelOutcome[]): number {
  // Levels of 3 or more runs estimate their best (a parabola through it); a level of 2 only picks
  // one of two, on one seed, which is no estimate of a drift. A best at a level's edge counts as
  // it is: the drift it gives is then a lower bound.
  const withBest = outcomes.filter((o) => o.refined !== null && o.runs.length >= 3);
  if (withBest.length < 2) return 0;
  const [p, q] = withBest.slice(-2);
  const doublings = Math.log2(q.level.length / p.level.length);
  if (!(doublings > 0)) return 0;
  // The move of the best between the two levels, shrunk towards PRIOR_DRIFT as if the prior had
  // been measured over DRIFT_PRIOR_DOUBLINGS: levels close in length (a fraction of a doubling)
  // turn one seed's noise into a steep drift, which the extrapolation then multiplies.
  const moved = Math.log10(q.refined!) - Math.log10(p.refined!);
  return (moved + PRIOR_DRIFT * DRIFT_PRIOR_DOUBLINGS) / (doublings + DRIFT_PRIOR_DOUBLINGS);
}

/** The weight of PRIOR_DRIFT in a measured drift, in doublings of the run length. */
const DRIFT_PRIOR_DOUBLINGS = 1;

/**
 * The drift assumed when the levels cannot measure one (a single level of 3 or more runs):
 * short runs favour higher rates (Wu et al., ICLR 2018); -0.1 decades per doubling is the median
 * of the drifts measured on the bench's design tasks (bench/RESULTS.md, "LR cost-quality frontier").
 */
export const PRIOR_DRIFT = -0.1;

/** Most a drift moves a centre or the answer, in decades (short runs are noisy). */
const MAX_DRIFT_DECADES = 0.6;
/** The share of the measured drift applied (1: the power law fitted through the last two levels, extrapolated). */
const DRIFT_SHRINK = 1;

function shift(drift: number, fromLength: number, toLength: number): number {
  const d = drift * DRIFT_SHRINK * Math.log2(toLength / fromLength);
  return Math.max(-MAX_DRIFT_DECADES, Math.min(MAX_DRIFT_DECADES, d));
}

/** The lrs of level k (k >= 1), centred on the level below's refined best moved by the drift. */
function levelLrs(
  cfg: LadderConfig,
  levels: readonly ResolvedLevel[],
  k: number,
  below: readonly LevelOutcome[],
): Anchor[] {
  const prev = below[k - 1];
  // A best at the edge of the level below: the answer may lie past it.
  const edge = edgeOf(prev);
  const move = shift(driftPerDoubling(below), prev.level.length, levels[k].length);
  const centre = Math.log10(prev.refined!) + move;
  const s = spacingAt(cfg, levels, k);
  const n = levels[k].points;
  let offsets: number[];
  if (n === 1) offsets = [0];
  else if (n === 2) {
    // The centre and one neighbour, on the side of the runner-up below (lower when unknown: safer).
    const ok = prev.runs.filter(
      (j) => j.state === 'complete' && !j.unstable && j.value !== null && j !== prev.best,
    );
    const second = ok.reduce<Judged | null>(
      (a, b) => (a === null || b.value! < a.value! ? b : a),
      null,
    );
    // At an edge, the neighbour goes past it; else the way the best drifts with run length (the
    // extrapolation's error lies that way), else to the runner-up's side (lower when unknown).
    const drift = driftPerDoubling(below);
    const side =
      edge !== 0
        ? edge
        : Math.abs(drift) > 0.02
          ? (Math.sign(drift) as -1 | 1)
          : second && second.lr > prev.best!.lr
            ? 1
            : -1;
    // A drift larger than the spacing is a hypothesis the two runs test: moved, or not moved.
    offsets = Math.abs(move) > s ? [0, -move] : [0, side * s];
  } else offsets = Array.from({ length: n }, (_, i) => (i - (n - 1) / 2) * s);
  const lrs = [...new Set(offsets.map((o) => round3(10 ** (centre + o))))].sort((a, b) => a - b);
  return lrs.map((lr) => ({ lr, sources: [`level ${k + 1}`] }));
}

/** A local check's lrs: `points` of them LOCAL_SPACING decades apart, centred on `centre`. */
function localLrs(centre: number, points: number): Anchor[] {
  return Array.from({ length: points }, (_, i) => ({
    lr: round3(centre * 10 ** (LOCAL_SPACING * (i - (points - 1) / 2))),
    sources: ['around the zero-compute answer'],
  }));
}

const ENDED: readonly RunState[] = ['complete', 'pruned', 'failed'];

/**
 * What to do next: train the next level's runs (those not yet observed), wait for the current
 * level to end, or the answer once every level has ended (null when no level had a stable best).
 */
export function decide(cfg: LadderConfig, observed: readonly Observation[]): Decision {
  const levels = levelsOf(cfg);
  const outcomes: LevelOutcome[] = [];
  const why: string[] = [];
  for (let k = 0; k < levels.length; k++) {
    const planned = levels[k].local
      ? localLrs(cfg.centre!, levels[k].points)
      : k === 0
        ? screenLrs(cfg.lo, cfg.hi, levels[0].points, cfg.anchors)
        : levelLrs(cfg, levels, k, outcomes);
    const mine = (lr: number) =>
      observed.find((o) => o.lr === lr && o.length === levels[k].length && o.seed === cfg.seed);
    const missing = planned.filter((p) => mine(p.lr) === undefined);
    if (missing.length > 0) {
      return {
        kind: 'train',
        level: k,
        runs: missing.map((p) => ({
          lr: p.lr,
          length: levels[k].length,
          seed: cfg.seed,
          sources: p.sources,
        })),
      };
    }
    const runs = planned.map((p) => ({ ...mine(p.lr)!, sources: p.sources }));
    if (runs.some((r) => !ENDED.includes(r.state))) return { kind: 'wait', level: k };
    const outcome = judgeLevel(levels[k], runs, outcomes);
    outcomes.push(outcome);
    why.push(levelReason(cfg, k, outcome));
    if (outcome.best === null) break;
  }
  return { kind: 'done', answer: answerOf(cfg, outcomes, why), levels: outcomes, why };
}

function levelReason(cfg: LadderConfig, k: number, o: LevelOutcome): string {
  const tried = o.runs.map(
    (r) =>
      `${fmt(r.lr)} ${r.unstable ? 'unstable' : r.value === null ? r.state : r.value.toPrecision(4)}`,
  );
  const head = `level ${k + 1}: ${o.runs.length} lrs at ${o.level.length} of ${cfg.horizon} ${cfg.unit} (${tried.join(', ')})`;
  if (!o.best) return `${head}: none trained stably to the end`;
  return `${head}: best ${fmt(o.best.lr)}${o.refined !== o.best.lr ? `, ${fmt(o.refined!)} by a parabola through its neighbours` : ''}`;
}

/** The answer from the levels: the longest one with a stable best, moved by the drift to T when shorter. */
function answerOf(
  cfg: LadderConfig,
  outcomes: readonly LevelOutcome[],
  why: string[],
): Answer | null {
  const last = [...outcomes].reverse().find((o) => o.refined !== null);
  if (!last) return null;
  if (last.level.local) return localAnswer(cfg, last, outcomes, why);
  const refuted = driftRefuted(outcomes, last);
  const measured = outcomes.filter((o) => o.refined !== null && o.runs.length >= 3).length >= 2;
  const drift = refuted ? 0 : measured ? driftPerDoubling(outcomes) : PRIOR_DRIFT;
  if (!refuted && !measured && last.level.length < cfg.horizon)
    why.push(
      `one level measures no drift: the best is moved by ${PRIOR_DRIFT} decades per doubling of the run (short runs favour higher rates; the median drift measured on the bench's design tasks)`,
    );
  if (refuted)
    why.push(
      `level ${outcomes.indexOf(last) + 1} tested the drift of ${driftPerDoubling(outcomes).toFixed(2)} decades per doubling: the lr it did not move won, so the answer is not moved by it`,
    );
  const extrapolated = last.level.length < cfg.horizon;
  // Longer runs that blew up: rates near them are not safe at the horizon either, and an upward
  // drift that led there is refuted.
  const ceiling = unstableCeiling(outcomes, last);
  const upward = ceiling !== null && drift > 0;
  const moved = extrapolated ? shift(upward ? 0 : drift, last.level.length, cfg.horizon) : 0;
  let lr = round3(10 ** (Math.log10(last.refined!) + moved));
  if (extrapolated) {
    why.push(
      upward
        ? `not extrapolated from ${last.level.length} to ${cfg.horizon} ${cfg.unit}: the drift of +${drift.toFixed(2)} decades per doubling led the longer runs to rates that blew up`
        : `extrapolated from ${last.level.length} to ${cfg.horizon} ${cfg.unit}: the best moved ${drift >= 0 ? '+' : ''}${drift.toFixed(2)} decades per doubling of the run (capped at ${MAX_DRIFT_DECADES}), so ${fmt(last.refined!)} becomes ${fmt(lr)}`,
    );
  }
  if (ceiling !== null && lr > round3(ceiling / 10 ** CEILING_MARGIN)) {
    const capped = round3(ceiling / 10 ** CEILING_MARGIN);
    why.push(
      `${fmt(ceiling)} blew up in runs longer than ${last.level.length} ${cfg.unit}: the answer stays ${CEILING_MARGIN} decades below it, ${fmt(capped)} instead of ${fmt(lr)}`,
    );
    lr = capped;
  }
  const cliff = cliffOf(outcomes);
  if (cliff !== null && lr > round3(cliff / 10 ** CLIFF_MARGIN)) {
    const capped = round3(cliff / 10 ** CLIFF_MARGIN);
    why.push(
      `${fmt(cliff)}, above a level's best, blew up or ended over ${CLIFF_RATIO}x worse than that best: a cliff that other seeds may meet lower, so the answer stays ${CLIFF_MARGIN} decades below it, ${fmt(capped)} instead of ${fmt(lr)}`,
    );
    lr = capped;
  }
  const finished = last.runs.filter((r) => r.state === 'complete' && !r.unstable);
  const atEdge =
    last.best!.lr === finished[0]?.lr || last.best!.lr === finished[finished.length - 1]?.lr;
  const confidence =
    !extrapolated && finished.length >= 2 && !atEdge
      ? 'high'
      : finished.length >= 2
        ? 'medium'
        : 'low';
  return { lr, length: last.level.length, extrapolated, confidence, levels: [...outcomes], why };
}

/** How far below the lowest lr that blew up in a longer run the answer stays, in decades. */
export const CEILING_MARGIN = 0.5;

/**
 * The lowest lr that blew up (unstable or failed) in a level longer than `last`, the level the
 * answer comes from; null when every longer run trained stably (or there is none).
 */
export function unstableCeiling(
  outcomes: readonly LevelOutcome[],
  last: LevelOutcome,
): number | null {
  const blown = outcomes
    .filter((o) => o.level.length > last.level.length)
    .flatMap((o) => o.runs.filter((r) => r.unstable).map((r) => r.lr));
  return blown.length > 0 ? Math.min(...blown) : null;
}

/**
 * A run above its level's best that ends this many times worse than the best (or blows up) marks
 * a stability cliff: the one seed a search trains survived the rates below it, others may not.
 */
const CLIFF_RATIO = 2;
/**
 * How far below the cliff the answer stays, in decades. Chosen on the bench's 54 tasks
 * (bench/RESULTS.md, "LR cost-quality frontier"): it moves 10 of the 216 answers at budgets 1-5;
 * the three that sat just below a cliff (3.1x, 3.1x, 1.8x the truth's best) land within 1.0x, one
 * goes from 12.4x to 10.4x, six move by at most 0.1. Margins of 0.25-0.5 decades behave alike.
 */
export const CLIFF_MARGIN = 0.4;

/**
 * The lowest lr, over every level, that sits above its level's best and blew up (unstable or
 * failed) or ended CLIFF_RATIO times worse than that best; null when there is none. Short levels
 * count: a high rate that trains worse than a lower one in a short run is unstable, not slow.
 */
export function cliffOf(outcomes: readonly LevelOutcome[]): number | null {
  const cliffs = outcomes.flatMap((o) => {
    const best = o.best;
    // A ratio needs a positive loss (a metric at or below zero has no "times worse").
    if (best === null || best.value === null || !(best.value > 0)) return [];
    return o.runs
      .filter(
        (r) =>
          r.lr > best.lr &&
          (r.unstable ||
            (r.state === 'complete' && r.value !== null && r.value > CLIFF_RATIO * best.value!)),
      )
      .map((r) => r.lr);
  });
  return cliffs.length > 0 ? Math.min(...cliffs) : null;
}

/**
 * Whether the last level, a pair testing the drift (the level below's best moved by the drift,
 * and not moved: see levelLrs), found the unmoved lr better: the longer runs refute the drift the
 * shorter ones measured, so it must not move the answer either.
 */
export function driftRefuted(outcomes: readonly LevelOutcome[], last: LevelOutcome): boolean {
  const k = outcomes.indexOf(last);
  if (k < 1 || last.runs.length !== 2 || last.best === null) return false;
  const below = outcomes[k - 1].refined;
  const drift = driftPerDoubling(outcomes.slice(0, k));
  if (below === null || Math.abs(drift) <= 0.02) return false;
  const other = last.runs.find((r) => r !== last.best)!;
  const unmovedWon = decades(last.best.lr, below) < 0.01;
  const otherMoved = Math.sign(Math.log10(other.lr / below)) === Math.sign(drift);
  return unmovedWon && otherMoved;
}

/**
 * A local check's answer: the geometric mean of its best (unrefined: a parabola through runs this
 * short overshoots) and the zero-compute answer it was centred on. The bench's design tasks
 * (bench/RESULTS.md, "LR cost-quality frontier") chose this over either alone.
 */
function localAnswer(
  cfg: LadderConfig,
  last: LevelOutcome,
  outcomes: readonly LevelOutcome[],
  why: string[],
): Answer {
  const best = last.best!.lr;
  const lr = round3(Math.sqrt(best * cfg.centre!));
  why.push(
    `the best of ${last.runs.length} runs at ${last.level.length} of ${cfg.horizon} ${cfg.unit} is ${fmt(best)}; runs this short favour fast starters, so the answer is halfway (in log lr) between it and the zero-compute answer ${fmt(cfg.centre!)}: ${fmt(lr)}`,
  );
  const finished = last.runs.filter((r) => r.state === 'complete' && !r.unstable);
  return {
    lr,
    length: last.level.length,
    extrapolated: last.level.length < cfg.horizon,
    confidence: finished.length >= 3 ? 'medium' : 'low',
    levels: [...outcomes],
    why,
  };
}

/** Full runs spent by runs trained so far: each run's reported length (or its planned one once ended) over T. */
export function spentRuns(
  observed: readonly (Observation & { ran?: number })[],
  horizon: number,
): number {
  return observed.reduce(
    (a, o) => a + (o.ran ?? (ENDED.includes(o.state) ? o.length : 0)) / horizon,
    0,
  );
}

/** A ladder run as a trial's params: its lr, its length under the unit's name, its seed. */
export function paramsOf(cfg: LadderConfig, run: Run): Record<string, number> {
  return { lr: run.lr, [cfg.unit]: run.length, seed: run.seed };
}

/** What the ladder needs of a trial (a coordinator's row or the API's Trial). */
export interface LadderTrial {
  params: Readonly<Record<string, unknown>>;
  state: string;
  value: number | null;
  intermediate: readonly { step: number; value: number }[];
}

/** A trial as the ladder observes it; null for params that are not a ladder run's. */
export function observationOf(cfg: LadderConfig, t: LadderTrial): Observation | null {
  const { lr, seed } = t.params;
  const length = t.params[cfg.unit];
  if (typeof lr !== 'number' || typeof length !== 'number' || typeof seed !== 'number') return null;
  const curve = [...t.intermediate].sort((a, b) => a.step - b.step).map((p) => p.value);
  return { lr, length, seed, state: t.state as RunState, value: t.value, curve };
}

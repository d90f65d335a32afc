/**
 * The analysis of a learning-rate sweep, wherever it was measured: a probe's
 * sweep on the edge (lr-range-test.ts) or a curve a client measured on its
 * own hardware and posted. Both go through `analyseSweep`, so the same
 * learning rates and losses give the same answer.
 *
 * - Smoothing: the bias-corrected EMA of `smoothLosses` (range.smoothing).
 * - Divergence: fastai's stop rule (`DivergenceCheck`): the sweep ends at the
 *   first point whose smoothed loss is non-finite or above diverge_factor x
 *   the best before it. A probe stops training there; a posted curve may go
 *   on past it (a client that swept to the end, or a NaN sent as null), and
 *   its later points are shown but not read by the rules.
 * - The rules, max_stable_lr and confidence: `suggestLr` on the points up to
 *   and including the divergent one, as a probe's sweep has them.
 * - Schedule advice (`adviseSchedule`) around the suggestion, or around the
 *   optimizer's conventional default when the curve gives no lr.
 *
 * Pure arithmetic, no TF.js.
 */
import { adviseSchedule, type ScheduleAdvice } from './schedule-advice';
import { smoothLosses, suggestLr, type CurvePoint, type Suggestion } from './suggest';
import { DEFAULT_LR, type Optimizer } from '../tuning/lr/priors';
import { fmtLr } from '../lib/format';
import { MAX_SWEEP_STEPS } from '../contract/limits';
import type { LrRangeTest } from '../contract/schemas';
import type { Narrow } from '../lib/types';

/** Points an answer (and its stored copy) shows at most: a probe's longest sweep. Longer curves are thinned. */
export const MAX_SHOWN_POINTS = MAX_SWEEP_STEPS;

export interface SweepOptions {
  /** EMA factor of the smoothed loss (0 = none). */
  smoothing: number;
  /** The sweep ends once the smoothed loss exceeds this factor x its best so far. */
  diverge_factor: number;
  /** Steps the sweep was planned for (default: the points given): diverging before the last is stopping early. */
  planned_steps?: number;
  /** The optimizer's name, when known: it shapes the schedule advice and gives a default lr. */
  optimizer?: string;
}

/**
 * A sweep, analysed: the LrRangeTest schema's suggestion, curve (`loss`/`smoothed_loss`, and
 * `val_loss` on a curve sent with one, null where not finite; at most MAX_SHOWN_POINTS points,
 * `step` indexing the sweep), steps_run (every point, also when `curve` shows fewer),
 * stopped_early (diverged before the planned last step) and schedule (around the suggested lr or
 * the optimizer's default; null when there is neither).
 */
export type SweepAnalysis = Narrow<
  Pick<LrRangeTest, 'suggestion' | 'curve' | 'steps_run' | 'stopped_early' | 'schedule'>,
  { schedule: ScheduleAdvice | null }
>;

/** fastai's stop rule, one smoothed loss at a time. */
export class DivergenceCheck {
  private best = Number.POSITIVE_INFINITY;

  constructor(private readonly factor: number) {}

  /** Whether the sweep ends at this smoothed loss: non-finite, or above factor x the best before it. */
  endsAt(smoothed: number): boolean {
    if (!Number.isFinite(smoothed) || smoothed > this.factor * this.best) return true;
    if (smoothed < this.best) this.best = smoothed;
    return false;
  }
}

/** The index where the sweep ends by the stop rule, or null when it never does. */
export function divergenceIndex(smoothed: readonly number[], factor: number): number | null {
  const check = new DivergenceCheck(factor);
  for (let i = 0; i < smoothed.length; i++) if (check.endsAt(smoothed[i])) return i;
  return null;
}

const isOptimizer = (name: string | undefined): name is Optimizer =>
  name !== undefined && Object.hasOwn(DEFAULT_LR, name);

/**
 * Analyse a sweep: `lrs[i]` and the loss measured at it, `losses[i]` (NaN or
 * an infinity where it was not finite). `lrs` strictly increasing and positive
 * (the caller validates a posted curve). `valLosses`, when given (as long as
 * `lrs`; NaN where not measured), is the validation loss the rules read for
 * max_stable_lr and the minimum (CurvePoint.val_loss); the stop rule reads the
 * training loss.
 */
export function analyseSweep(
  lrs: readonly number[],
  losses: readonly number[],
  options: SweepOptions,
  valLosses?: readonly number[],
): SweepAnalysis {
  const n = lrs.length;
  const smoothed = smoothLosses(losses, options.smoothing);
  const stop = divergenceIndex(smoothed, options.diverge_factor);
  const read = stop === null ? n : stop + 1;
  const points: CurvePoint[] = [];
  for (let i = 0; i < read; i++)
    points.push({
      step: i,
      lr: lrs[i],
      loss: losses[i],
      smoothed_loss: smoothed[i],
      ...(valLosses ? { val_loss: valLosses[i] } : {}),
    });
  const suggestion = suggestLr(points);
  if (read < n) {
    suggestion.reasons.push(
      `the loss diverges at point ${read} of ${n} (lr ${fmtLr(lrs[stop!])}): the rules read the points up to it, not the ${n - read} after`,
    );
  }
  const planned = options.planned_steps ?? n;
  return {
    suggestion,
    curve: shownPoints(n, stop).map((i) => ({
      step: i,
      lr: lrs[i],
      loss: finiteOrNull(losses[i]),
      smoothed_loss: finiteOrNull(smoothed[i]),
      ...(valLosses ? { val_loss: finiteOrNull(valLosses[i]) } : {}),
    })),
    steps_run: n,
    stopped_early: stop !== null && stop < planned - 1,
    schedule: scheduleAdvice(suggestion, options.optimizer),
  };
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The indices an answer shows: all of them up to MAX_SHOWN_POINTS; beyond,
 * evenly spaced ones with the first, the last and the divergent point.
 */
function shownPoints(n: number, stop: number | null): number[] {
  if (n <= MAX_SHOWN_POINTS) return Array.from({ length: n }, (_, i) => i);
  const stride = Math.ceil((n - 1) / (MAX_SHOWN_POINTS - 3));
  const keep = new Set<number>();
  for (let i = 0; i < n; i += stride) keep.add(i);
  keep.add(n - 1);
  if (stop !== null) keep.add(stop);
  return [...keep].sort((a, b) => a - b);
}

/**
 * A schedule around the suggestion; when the curve gives none, around the
 * optimizer's conventional default, capped at max_stable_lr (a default the
 * curve shows unstable is no advice); null without either.
 */
function scheduleAdvice(
  suggestion: Suggestion,
  optimizer: string | undefined,
): ScheduleAdvice | null {
  const known = isOptimizer(optimizer) ? optimizer : undefined;
  let peak = suggestion.lr;
  let why: string | null = null;
  if (peak === null && known) {
    const fallback = DEFAULT_LR[known];
    const cap = suggestion.max_stable_lr;
    peak = cap !== null && cap < fallback ? cap : fallback;
    why =
      peak === fallback
        ? `the curve gives no lr: the peak is ${known}'s conventional default ${fallback}`
        : `the curve gives no lr, and ${known}'s conventional default ${fallback} is above max_stable_lr: the peak is max_stable_lr ${fmtLr(peak)}`;
  }
  if (peak === null) return null;
  const advice = adviseSchedule(peak, suggestion, known ?? '');
  if (why) advice.reasoning.unshift(why);
  if (!known)
    advice.reasoning.push(
      'optimizer not given: warmup as for SGD (send optimizer.name; adaptive optimizers warm up longer)',
    );
  return advice;
}

/**
 * Percentile and median pruning, as Optuna 3.x's PercentilePruner and
 * MedianPruner (= PercentilePruner(50)).
 *
 * At a trial's latest step s (the largest step it has reported), the trial
 * is pruned when its best intermediate value so far (over all its steps,
 * NaN ignored) is worse than the given percentile of the values that the
 * study's COMPLETE trials reported at step s. It is never pruned:
 * - while fewer than `n_startup_trials` trials are complete (and never with none complete);
 * - before `n_warmup_steps` (s < n_warmup_steps);
 * - unless s is the first reported step of its interval: the steps
 *   n_warmup_steps + k * interval_steps open intervals, and a trial is
 *   checked at its first report in each interval (so a trial that reports
 *   every step is checked at exactly those steps);
 * - when fewer than `n_min_trials` complete trials reported a value at s.
 * A trial whose values are all NaN is pruned (after the checks above);
 * NaN values of other trials are ignored. With `maximize`, "worse" is
 * "smaller" and the percentile is taken from the top (100 - p).
 * Pruned, failed and running trials are not compared against.
 */
import type { Pruner, PruneContext, StepStats } from '../types';
import { ascending, byStep } from './curve';
import { withDefaults } from '../../lib/values';

export interface MedianPrunerOptions {
  /** Complete trials needed before anything is pruned. @default 5 */
  n_startup_trials: number;
  /** Steps of a trial before it may be pruned. @default 0 */
  n_warmup_steps: number;
  /** Steps between pruning checks, counted from n_warmup_steps. @default 1 */
  interval_steps: number;
  /** Complete trials that must have reported the step for a comparison. @default 1 */
  n_min_trials: number;
}

export interface PercentilePrunerOptions extends MedianPrunerOptions {
  /** In [0, 100]: prune when worse than this percentile of the others (50 = median). */
  percentile: number;
}

/** The options of a median (or percentile) pruner that are not given. */
const MEDIAN_DEFAULTS: Readonly<MedianPrunerOptions> = Object.freeze({
  n_startup_trials: 5,
  n_warmup_steps: 0,
  interval_steps: 1,
  n_min_trials: 1,
});

export class PercentilePruner implements Pruner {
  readonly name: string;
  readonly options: Readonly<PercentilePrunerOptions>;

  /** Options within the median pruner's bounds (registry.ts) and a percentile in [0, 100], not checked again; absent ones take MEDIAN_DEFAULTS. */
  constructor(options: Partial<MedianPrunerOptions> & { percentile: number }) {
    this.options = Object.freeze(withDefaults(MEDIAN_DEFAULTS, options));
    this.name = 'percentile';
  }

  shouldPrune(ctx: PruneContext): boolean {
    return percentileShouldPrune(ctx, this.options);
  }

  shouldPruneAtAny(ctx: PruneContext, ends: readonly number[]): boolean {
    return percentileShouldPrune(ctx, this.options, ends);
  }
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly options: Readonly<PercentilePrunerOptions>;

  /** Options that passed registry.ts's schema, not checked again; absent ones take MEDIAN_DEFAULTS. */
  constructor(options: Partial<MedianPrunerOptions> = {}) {
    this.options = Object.freeze({ ...withDefaults(MEDIAN_DEFAULTS, options), percentile: 50 });
  }

  shouldPrune(ctx: PruneContext): boolean {
    return percentileShouldPrune(ctx, this.options);
  }

  shouldPruneAtAny(ctx: PruneContext, ends: readonly number[]): boolean {
    return percentileShouldPrune(ctx, this.options, ends);
  }
}

/**
 * The decision at the trial's latest step (`ends` null), or, for a batch of reports, at each of
 * several moments of its history: true when the trial cut to its first k values by step is
 * pruned for some k of `ends` (ascending). One pass: the running best and the other trials'
 * values by step are computed once.
 */
function percentileShouldPrune(
  ctx: PruneContext,
  o: PercentilePrunerOptions,
  ends: readonly number[] | null = null,
): boolean {
  if (ctx.stats && ends === null) return fromStats(ctx.stats, o, ctx.direction === 'maximize');
  const { trial, direction } = ctx;
  const completed = (ctx.trials ?? []).filter(
    (t) => t.state === 'complete' && t.number !== trial.number,
  );
  if (completed.length === 0 || completed.length < o.n_startup_trials) return false;

  const points = byStep(trial);
  if (points.length === 0) return false;
  const maximize = direction === 'maximize';
  const q = maximize ? 100 - o.percentile : o.percentile;
  let others: Map<number, number>[] | null = null;
  let best = Number.NaN;
  let seen = 0;
  let last = 0;
  for (const k of ends ?? [points.length]) {
    if (k < 1 || k > points.length || k <= last) continue;
    last = k;
    // numpy's nanmin / nanmax of the values so far: NaN while every value is NaN.
    for (; seen < k; seen++) {
      const v = points[seen].value;
      if (!Number.isNaN(v) && (Number.isNaN(best) || (maximize ? v > best : v < best))) best = v;
    }
    const step = points[k - 1].step;
    if (step < o.n_warmup_steps) continue;
    if (
      !isFirstInIntervalStep(
        step,
        k >= 2 ? points[k - 2].step : -Infinity,
        o.n_warmup_steps,
        o.interval_steps,
      )
    )
      continue;
    if (Number.isNaN(best)) return true;
    others ??= completed.map((t) => new Map(byStep(t).map((x) => [x.step, x.value])));
    const p = percentileAtStep(others, step, q, o.n_min_trials);
    if (Number.isNaN(p)) continue;
    if (maximize ? best < p : best > p) return true;
  }
  return false;
}

/**
 * The same decision from the coordinator's statistics (`PruneContext.stats`): the trial's best so
 * far and latest step before the report, and the complete trials' sorted values per step, so a
 * report costs O(its points) whatever the study holds. Each point of the report is judged as a
 * single report in step order would have been (prune when any says so).
 */
function fromStats(stats: StepStats, o: PercentilePrunerOptions, maximize: boolean): boolean {
  if (stats.completeCount === 0 || stats.completeCount < o.n_startup_trials) return false;
  const q = maximize ? 100 - o.percentile : o.percentile;
  let best = maximize ? stats.max : stats.min;
  let previous = stats.lastStep;
  for (const { step, value: v } of stats.added) {
    if (!Number.isNaN(v) && (Number.isNaN(best) || (maximize ? v > best : v < best))) best = v;
    const first = isFirstInIntervalStep(step, previous, o.n_warmup_steps, o.interval_steps);
    previous = step;
    if (step < o.n_warmup_steps || !first) continue;
    if (Number.isNaN(best)) return true;
    const values = stats.completeAt(step);
    if (values.length < o.n_min_trials || values.length === 0) continue;
    const p = sortedPercentile(values, q);
    if (maximize ? best < p : best > p) return true;
  }
  return false;
}

/** numpy's percentile (linear interpolation) of values already sorted ascending, none NaN, at least one. */
function sortedPercentile(xs: readonly number[], q: number): number {
  const pos = (q / 100) * (xs.length - 1);
  const lo = Math.floor(pos);
  const frac = pos - lo;
  if (frac === 0 || lo + 1 >= xs.length) return xs[lo];
  const a = xs[lo];
  const b = xs[lo + 1];
  // numpy's _lerp: from the nearer end, so the result stays within [a, b].
  return frac < 0.5 ? a + (b - a) * frac : b - (b - a) * (1 - frac);
}

/** Optuna's `_is_first_in_interval_step`: no earlier report (the latest before `step` is `previous`) falls in the interval that `step` is in. */
function isFirstInIntervalStep(
  step: number,
  previous: number,
  warmup: number,
  interval: number,
): boolean {
  const nearestLowerPruningStep = Math.floor((step - warmup) / interval) * interval + warmup;
  return previous < nearestLowerPruningStep;
}

/** The percentile of the values the complete trials (each a map step -> value) reported at `step`; NaN when fewer than nMin did. */
function percentileAtStep(
  completed: readonly Map<number, number>[],
  step: number,
  q: number,
  nMin: number,
): number {
  const values: number[] = [];
  for (const t of completed) {
    const v = t.get(step);
    if (v !== undefined) values.push(v);
  }
  if (values.length < nMin) return Number.NaN;
  return nanPercentile(values, q);
}

/** numpy's nanpercentile with linear interpolation: NaN ignored, NaN when nothing is left. */
export function nanPercentile(values: readonly number[], q: number): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort(ascending);
  if (xs.length === 0) return Number.NaN;
  return sortedPercentile(xs, q);
}

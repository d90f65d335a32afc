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
import type { FrozenTrial, Pruner, PruneContext } from '../types';
import { ascending, byStep } from './curve';
import { OptionReader, orThrow, type PrunerIssue } from './options';

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

const MEDIAN_KEYS = ['n_startup_trials', 'n_warmup_steps', 'interval_steps', 'n_min_trials'] as const;

/** Fully defaulted median-pruner options, or the issues; `prefix` starts each issue's path. */
export function checkMedianOptions(
  raw: Readonly<Record<string, unknown>>,
  prefix = 'pruner',
): { options: MedianPrunerOptions; issues: PrunerIssue[] } {
  const r = new OptionReader(raw, prefix, 'median', MEDIAN_KEYS);
  const options = readCommon(r);
  return { options, issues: r.issues };
}

/** As checkMedianOptions, with the `percentile` option (required). */
export function checkPercentileOptions(
  raw: Readonly<Record<string, unknown>>,
  prefix = 'pruner',
): { options: PercentilePrunerOptions; issues: PrunerIssue[] } {
  const r = new OptionReader(raw, prefix, 'percentile', [...MEDIAN_KEYS, 'percentile']);
  if (!r.has('percentile')) r.fail('percentile', "is required for pruner 'percentile': a number in [0, 100]");
  const percentile = r.number('percentile', 0, 100, Number.NaN);
  return { options: { ...readCommon(r), percentile }, issues: r.issues };
}

function readCommon(r: OptionReader): MedianPrunerOptions {
  return {
    n_startup_trials: r.int('n_startup_trials', 0, 5),
    n_warmup_steps: r.int('n_warmup_steps', 0, 0),
    interval_steps: r.int('interval_steps', 1, 1),
    n_min_trials: r.int('n_min_trials', 1, 1),
  };
}

export class PercentilePruner implements Pruner {
  readonly name: string;
  readonly options: Readonly<PercentilePrunerOptions>;

  constructor(options: Partial<PercentilePrunerOptions> & { percentile: number }) {
    this.options = Object.freeze(orThrow(checkPercentileOptions(options, '')));
    this.name = 'percentile';
  }

  shouldPrune(ctx: PruneContext): boolean {
    return percentileShouldPrune(ctx, this.options);
  }
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  readonly options: Readonly<PercentilePrunerOptions>;

  constructor(options: Partial<MedianPrunerOptions> = {}) {
    this.options = Object.freeze({ ...orThrow(checkMedianOptions(options, '')), percentile: 50 });
  }

  shouldPrune(ctx: PruneContext): boolean {
    return percentileShouldPrune(ctx, this.options);
  }
}

function percentileShouldPrune(ctx: PruneContext, o: PercentilePrunerOptions): boolean {
  const { trial, direction } = ctx;
  const completed = (ctx.trials ?? []).filter((t) => t.state === 'complete' && t.number !== trial.number);
  if (completed.length === 0 || completed.length < o.n_startup_trials) return false;

  const points = byStep(trial);
  if (points.length === 0) return false;
  const step = points[points.length - 1].step;
  if (step < o.n_warmup_steps) return false;
  if (!isFirstInIntervalStep(step, points.map((p) => p.step), o.n_warmup_steps, o.interval_steps)) return false;

  const best = bestOverSteps(points.map((p) => p.value), direction === 'maximize');
  if (Number.isNaN(best)) return true;

  const p = percentileAtStep(completed, step, direction === 'maximize' ? 100 - o.percentile : o.percentile, o.n_min_trials);
  if (Number.isNaN(p)) return false;
  return direction === 'maximize' ? best < p : best > p;
}

/** Optuna's `_is_first_in_interval_step`: no earlier report falls in the interval that `step` is in. */
function isFirstInIntervalStep(step: number, steps: readonly number[], warmup: number, interval: number): boolean {
  const nearestLowerPruningStep = Math.floor((step - warmup) / interval) * interval + warmup;
  let secondLast = -Infinity;
  for (const s of steps) if (s !== step && s > secondLast) secondLast = s;
  return secondLast < nearestLowerPruningStep;
}

/** numpy's nanmin / nanmax: NaN when every value is NaN (or there are none). */
function bestOverSteps(values: readonly number[], maximize: boolean): number {
  let best = Number.NaN;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(best) || (maximize ? v > best : v < best)) best = v;
  }
  return best;
}

function percentileAtStep(completed: readonly FrozenTrial[], step: number, q: number, nMin: number): number {
  const values: number[] = [];
  for (const t of completed) {
    const p = byStep(t).find((x) => x.step === step);
    if (p) values.push(p.value);
  }
  if (values.length < nMin) return Number.NaN;
  return nanPercentile(values, q);
}

/** numpy's nanpercentile with linear interpolation: NaN ignored, NaN when nothing is left. */
export function nanPercentile(values: readonly number[], q: number): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort(ascending);
  if (xs.length === 0) return Number.NaN;
  const pos = (q / 100) * (xs.length - 1);
  const lo = Math.floor(pos);
  const frac = pos - lo;
  if (frac === 0 || lo + 1 >= xs.length) return xs[lo];
  const a = xs[lo];
  const b = xs[lo + 1];
  // numpy's _lerp: from the nearer end, so the result stays within [a, b].
  return frac < 0.5 ? a + (b - a) * frac : b - (b - a) * (1 - frac);
}

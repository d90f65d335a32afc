/**
 * Asynchronous successive halving (ASHA), as Optuna 3.x's SuccessiveHalvingPruner.
 *
 * Rung k (k = 0, 1, ...) sits at resource (step)
 *   min_resource * reduction_factor ^ (min_early_stopping_rate + k).
 * When a trial reports a step at or beyond its next rung's resource, the
 * value of that report is the trial's value for the rung. The trial is
 * promoted if that value is among the best 1/reduction_factor of the values
 * recorded at the rung by every trial of the study (any state), itself
 * included: with n values, sorted best first, it must be no worse than the
 * value at index max(floor(n / reduction_factor) - 1, 0), so ties with the
 * cut-off are promoted and, while fewer than reduction_factor trials reached
 * the rung, only a value equal to the best is. Otherwise it is pruned. One
 * report may cross several rungs (a first report at step 10 with rungs at
 * 1, 3, 9): the same value is checked at each in turn. Between rungs the
 * answer is "keep". A NaN value at a rung prunes (and records nothing).
 * With `bootstrap_count` b, a trial is pruned at a rung while at most b
 * trials (itself included) have reached it.
 *
 * Stateless: Optuna records each trial's rung values in system attributes
 * at the moment it asks; here they are derived from the trials' reported
 * values, assuming (as the report endpoint guarantees) that a trial asks
 * after every report (a batch of reports is judged at each of its steps:
 * `shouldPruneAtAny`). The one difference: Optuna stops recording at the
 * rung where it prunes a trial, while a trial's history here records every
 * rung its reports crossed. The two agree whenever a pruned trial stops
 * reporting.
 *
 * `max_resource` (not an Optuna option of this pruner; the API carries it):
 * when given, rungs at resource >= max_resource are not checked. A trial
 * that reached max_resource has spent its full budget and its result
 * belongs to `tell`; pruning it there would only discard it. Without it,
 * rungs go on for ever, as in Optuna.
 *
 * Not supported: Optuna's `min_resource="auto"` (it is estimated once and
 * cached there, which a stateless pruner cannot reproduce).
 */
import type { Direction, FrozenTrial, Pruner, PruneContext } from '../types';
import { ascending, byStep } from './curve';
import { withDefaults } from '../../lib/values';

export interface SuccessiveHalvingOptions {
  /** Resource (step) of the first rung before min_early_stopping_rate. @default 1 */
  min_resource: number;
  /** The promotion ratio between rungs, and the rung spacing. @default 3 */
  reduction_factor: number;
  /** Shifts the first rung to min_resource * reduction_factor ^ this. @default 0 */
  min_early_stopping_rate: number;
  /** Trials that must reach a rung before any is promoted from it. @default 0 */
  bootstrap_count: number;
  /** Rungs at or beyond this resource are not checked. @default undefined (no limit) */
  max_resource?: number;
}

/** The options of a successive-halving pruner that are not given (max_resource: no limit). */
export const SUCCESSIVE_HALVING_DEFAULTS = Object.freeze({
  min_resource: 1,
  reduction_factor: 3,
  min_early_stopping_rate: 0,
  bootstrap_count: 0,
});

export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'asha';
  readonly options: Readonly<SuccessiveHalvingOptions>;

  /** Options that passed registry.ts's schema, not checked again; absent ones take SUCCESSIVE_HALVING_DEFAULTS. */
  constructor(options: Partial<SuccessiveHalvingOptions> = {}) {
    this.options = Object.freeze(withDefaults(SUCCESSIVE_HALVING_DEFAULTS, options));
  }

  /** The resource (step) of rung k. */
  rungResource(rung: number): number {
    return rungResource(this.options, rung);
  }

  shouldPrune(ctx: PruneContext): boolean {
    return successiveHalvingShouldPrune(ctx.trial, ctx.trials ?? [], ctx.direction, this.options);
  }

  shouldPruneAtAny(ctx: PruneContext, ends: readonly number[]): boolean {
    return successiveHalvingShouldPrune(
      ctx.trial,
      ctx.trials ?? [],
      ctx.direction,
      this.options,
      ends,
    );
  }
}

/** The resource (step) of rung k: min_resource * reduction_factor ^ (min_early_stopping_rate + k). */
export function rungResource(o: Readonly<SuccessiveHalvingOptions>, rung: number): number {
  return o.min_resource * o.reduction_factor ** (o.min_early_stopping_rate + rung);
}

function isChecked(o: Readonly<SuccessiveHalvingOptions>, resource: number): boolean {
  return o.max_resource === undefined || resource < o.max_resource;
}

/**
 * The values a trial recorded at rungs 0, 1, ...: for each rung, the value of
 * the first report at or beyond its resource (NaN reports record nothing;
 * the next report tries the same rung again).
 */
export function rungValues(trial: FrozenTrial, o: Readonly<SuccessiveHalvingOptions>): number[] {
  return recordRungs(byStep(trial), o);
}

function recordRungs(
  points: readonly { step: number; value: number }[],
  o: Readonly<SuccessiveHalvingOptions>,
): number[] {
  const recorded: number[] = [];
  for (const { step, value } of points) {
    if (Number.isNaN(value)) continue;
    for (;;) {
      const resource = rungResource(o, recorded.length);
      if (step < resource || !isChecked(o, resource)) break;
      recorded.push(value);
    }
  }
  return recorded;
}

/**
 * The ASHA decision for `trial` at its latest step, competing against the
 * rung values of `others` (the asking trial, if among them, is skipped by number).
 * With `ends` (ascending), for a batch of reports: true when the trial cut to
 * its first k values by step is pruned for some k of `ends`, in one pass.
 */
export function successiveHalvingShouldPrune(
  trial: FrozenTrial,
  others: readonly FrozenTrial[],
  direction: Direction,
  o: Readonly<SuccessiveHalvingOptions>,
  ends: readonly number[] | null = null,
): boolean {
  const points = byStep(trial);
  if (points.length === 0) return false;
  let competitors: number[][] | null = null;
  // Rungs recorded by points[0 .. done - 1].
  let recorded = 0;
  let done = 0;
  let last = 0;
  for (const k of ends ?? [points.length]) {
    if (k < 1 || k > points.length || k <= last) continue;
    last = k;
    for (; done < k - 1; done++) recorded = recordPoint(points[done], recorded, o);
    const { step, value } = points[k - 1];
    let rung = recorded;
    for (;;) {
      const resource = rungResource(o, rung);
      if (step < resource || !isChecked(o, resource)) break;
      if (Number.isNaN(value)) return true;
      competitors ??= others.filter((t) => t.number !== trial.number).map((t) => rungValues(t, o));
      const competing = [value];
      for (const rv of competitors) if (rung < rv.length) competing.push(rv[rung]);
      if (competing.length <= o.bootstrap_count) return true;
      if (!isPromotable(value, competing, o.reduction_factor, direction)) return true;
      rung += 1;
    }
  }
  return false;
}

/** The count of rungs recorded after one more point, given `recorded` before it (as recordRungs counts them). */
function recordPoint(
  point: { step: number; value: number },
  recorded: number,
  o: Readonly<SuccessiveHalvingOptions>,
): number {
  if (Number.isNaN(point.value)) return recorded;
  for (;;) {
    const resource = rungResource(o, recorded);
    if (point.step < resource || !isChecked(o, resource)) return recorded;
    recorded += 1;
  }
}

/** Optuna's `_is_trial_promotable_to_next_rung`: in the best 1/reduction_factor (at least the best one). */
export function isPromotable(
  value: number,
  competing: readonly number[],
  reductionFactor: number,
  direction: Direction,
): boolean {
  const idx = Math.max(Math.floor(competing.length / reductionFactor) - 1, 0);
  const sorted = [...competing].sort(ascending);
  return direction === 'maximize' ? value >= sorted[sorted.length - 1 - idx] : value <= sorted[idx];
}

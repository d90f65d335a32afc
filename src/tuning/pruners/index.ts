/**
 * Pruners: decide from a trial's reported intermediate values whether to stop
 * it early. Each is a pure function of (trial, trials, direction): the same
 * history gives the same answer.
 *
 * - `none` (default): never prunes.
 * - `median`: MedianPruner (n_startup_trials, n_warmup_steps, interval_steps, n_min_trials).
 * - `asha`: SuccessiveHalvingPruner (min_resource, reduction_factor,
 *   min_early_stopping_rate, bootstrap_count, max_resource).
 * - `hyperband`: HyperbandPruner (min_resource, max_resource (required), reduction_factor, bootstrap_count).
 *
 * A study's `pruner` object is checked and turned into one of these by registry.ts (`checkPruner`,
 * `makePruner`), where each pruner's options are declared.
 */
import type { FrozenTrial, PruneContext, Pruner } from '../types';
import { byStep } from './curve';

export { NopPruner } from './none';
export {
  MedianPruner,
  PercentilePruner,
  nanPercentile,
  type MedianPrunerOptions,
  type PercentilePrunerOptions,
} from './median';
export {
  SuccessiveHalvingPruner,
  isPromotable,
  rungResource,
  rungValues,
  type SuccessiveHalvingOptions,
} from './asha';
export {
  HyperbandPruner,
  bracketBudgets,
  bracketCount,
  trialsInSameBracket,
  type HyperbandOptions,
} from './hyperband';

/**
 * The answer to a batch of reports: whether `pruner` prunes the trial at any of `steps` (steps it
 * holds), each judged on the trial's values up to that step, as if the batch had been reported one
 * step at a time. Pruners with `shouldPruneAtAny` answer in one pass; others are asked once per
 * step with the trial cut short.
 */
export function prunesAtAnyStep(
  pruner: Pruner,
  ctx: PruneContext,
  steps: readonly number[],
): boolean {
  const points = byStep(ctx.trial);
  const index = new Map(points.map((p, i) => [p.step, i + 1]));
  const ends = [
    ...new Set(steps.map((s) => index.get(s)).filter((k): k is number => k !== undefined)),
  ].sort((a, b) => a - b);
  if (ends.length === 0) return false;
  if (pruner.shouldPruneAtAny) return pruner.shouldPruneAtAny(ctx, ends);
  for (const k of ends) {
    const trial: FrozenTrial = { ...ctx.trial, intermediate: points.slice(0, k) };
    const trials = (ctx.trials ?? []).map((t) => (t.number === trial.number ? trial : t));
    if (pruner.shouldPrune({ ...ctx, trial, trials })) return true;
  }
  return false;
}

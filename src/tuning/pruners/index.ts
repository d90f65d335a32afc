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
 */
import { PRUNER_NAMES, type PrunerName } from '../../contract/names';
import type { PrunerConfig } from '../../contract/study';
import type { FrozenTrial, PruneContext, Pruner } from '../types';
import { byStep } from './curve';
import { checkSuccessiveHalvingOptions, SuccessiveHalvingPruner } from './asha';
import { checkHyperbandOptions, HyperbandPruner } from './hyperband';
import { checkMedianOptions, MedianPruner } from './median';
import { checkNoneOptions, NopPruner } from './none';
import type { InputIssue } from '../../contract/issues';
import { orThrow, PrunerConfigError } from './options';
import { isRecord } from '../../lib/values';

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
  bracketOf,
  trialsInSameBracket,
  type HyperbandOptions,
} from './hyperband';
export { PrunerConfigError } from './options';

export { PRUNER_NAMES, type PrunerConfig, type PrunerName };

type Checker = (
  raw: Readonly<Record<string, unknown>>,
  prefix?: string,
) => { options: unknown; issues: InputIssue[] };

const CHECKERS: Record<PrunerName, Checker> = {
  none: checkNoneOptions,
  median: checkMedianOptions,
  asha: checkSuccessiveHalvingOptions,
  hyperband: checkHyperbandOptions,
};

function isPrunerName(v: unknown): v is PrunerName {
  return typeof v === 'string' && (PRUNER_NAMES as readonly string[]).includes(v);
}

/**
 * Every problem with a study's `pruner` object, with paths from the request
 * root (`pruner.reduction_factor`); empty when it is valid. Absent
 * (undefined) means the default, `{"name": "none"}`; so does an absent name.
 */
export function validatePrunerConfig(raw: unknown): InputIssue[] {
  if (raw === undefined) return [];
  if (!isRecord(raw))
    return [{ path: 'pruner', message: 'must be an object like {"name": "median"}' }];
  const name = raw.name ?? 'none';
  if (!isPrunerName(name)) {
    const got =
      typeof name === 'string' ? `'${name}'` : `a ${name === null ? 'null' : typeof name}`;
    return [
      {
        path: 'pruner.name',
        message: `unknown pruner ${got}: expected one of ${PRUNER_NAMES.join(', ')}`,
      },
    ];
  }
  return CHECKERS[name](raw, 'pruner').issues;
}

/** The pruner a (valid) config names; throws PrunerConfigError (issues with `pruner.` paths) otherwise. */
export function makePruner(
  config: PrunerConfig | Readonly<Record<string, unknown>> = { name: 'none' },
): Pruner {
  const issues = validatePrunerConfig(config);
  if (issues.length > 0) throw new PrunerConfigError(issues);
  const { name = 'none', ...options } = config as Record<string, unknown>;
  switch (name as PrunerName) {
    case 'none':
      return new NopPruner();
    case 'median':
      return new MedianPruner(orThrow(checkMedianOptions(options)));
    case 'asha':
      return new SuccessiveHalvingPruner(orThrow(checkSuccessiveHalvingOptions(options)));
    case 'hyperband':
      return new HyperbandPruner(orThrow(checkHyperbandOptions(options)));
  }
  throw new PrunerConfigError([
    { path: 'pruner.name', message: `unknown pruner '${String(name)}'` },
  ]);
}

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

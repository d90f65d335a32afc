/**
 * Hyperband, as Optuna 3.x's HyperbandPruner: several successive-halving
 * brackets run side by side, each trial in one of them.
 *
 * - n_brackets = floor(log_rf(max_resource / min_resource)) + 1 (5 for 1, 81, 3),
 *   computed in integers.
 * - Bracket b is a successive-halving pruner with min_early_stopping_rate b
 *   (first rung at min_resource * rf^b) that compares a trial only with
 *   the trials of the same bracket.
 * - Bracket b's share of trials is its Hyperband budget,
 *   ceil(n_brackets * rf^s / (s + 1)) with s = n_brackets - 1 - b
 *   (81, 34, 15, 8, 5 for 1, 81, 3): the most aggressive bracket gets the most trials.
 * - A trial's bracket is a hash of its number modulo the total budget, walked
 *   through the budgets in order. Optuna hashes "<study name>_<number>" with
 *   CRC32; the pruner here only sees trial numbers, so it hashes the number
 *   (murmur3's fmix32): the same number always lands in the same bracket,
 *   and in every study.
 * - As with `asha`, rungs at resource >= max_resource are not checked (a
 *   trial that reached max_resource has spent its full budget), so the last
 *   bracket, whose only rung is max_resource when max/min is a power of rf,
 *   never prunes: it is Hyperband's "no early stopping" bracket. (Optuna
 *   would still check that rung.)
 *
 * Samplers that follow Optuna's TPE + Hyperband integration model only the
 * trials of the asking trial's bracket: see `trialsInSameBracket`.
 */
import type { FrozenTrial, Pruner, PruneContext } from '../types';
import { successiveHalvingShouldPrune, type SuccessiveHalvingOptions } from './asha';
import { withDefaults } from '../../lib/values';

export interface HyperbandOptions {
  /** Resource (step) of the first rung of bracket 0. @default 1 */
  min_resource: number;
  /** The full budget of a trial, in steps. Required. */
  max_resource: number;
  /** @default 3 */
  reduction_factor: number;
  /** As SuccessiveHalvingPruner's, in every bracket. @default 0 */
  bootstrap_count: number;
}

/** The options of a Hyperband pruner that are not given (max_resource has none). */
export const HYPERBAND_DEFAULTS = Object.freeze({
  min_resource: 1,
  reduction_factor: 3,
  bootstrap_count: 0,
});

/** floor(log_rf(max / min)) + 1, in exact integer arithmetic. */
export function bracketCount(
  o: Pick<HyperbandOptions, 'min_resource' | 'max_resource' | 'reduction_factor'>,
): number {
  let s = 0;
  while (o.min_resource * o.reduction_factor ** (s + 1) <= o.max_resource) s += 1;
  return s + 1;
}

/** Each bracket's share of trials: ceil(n * rf^s / (s + 1)), s = n - 1 - b. */
export function bracketBudgets(
  o: Pick<HyperbandOptions, 'min_resource' | 'max_resource' | 'reduction_factor'>,
): number[] {
  const n = bracketCount(o);
  const budgets: number[] = [];
  for (let b = 0; b < n; b++) {
    const s = n - 1 - b;
    budgets.push(Math.ceil((n * o.reduction_factor ** s) / (s + 1)));
  }
  return budgets;
}

/** The bracket of a trial number, given the brackets' budgets. */
function bracketOf(trialNumber: number, budgets: readonly number[]): number {
  const total = budgets.reduce((a, b) => a + b, 0);
  let n = hashTrialNumber(trialNumber) % total;
  for (let b = 0; b < budgets.length; b++) {
    n -= budgets[b];
    if (n < 0) return b;
  }
  return budgets.length - 1; // unreachable
}

export class HyperbandPruner implements Pruner {
  readonly name = 'hyperband';
  readonly options: Readonly<HyperbandOptions>;
  /** Number of brackets. */
  readonly nBrackets: number;
  /** Each bracket's share of trials (its Hyperband budget). */
  readonly budgets: readonly number[];
  private readonly brackets: readonly Readonly<SuccessiveHalvingOptions>[];

  /** Options that passed registry.ts's schema, not checked again; absent ones take HYPERBAND_DEFAULTS. */
  constructor(options: Partial<HyperbandOptions> & { max_resource: number }) {
    this.options = Object.freeze(withDefaults(HYPERBAND_DEFAULTS, options));
    const o = this.options;
    this.budgets = Object.freeze(bracketBudgets(o));
    this.nBrackets = this.budgets.length;
    this.brackets = Object.freeze(
      this.budgets.map((_, b) =>
        Object.freeze({
          min_resource: o.min_resource,
          reduction_factor: o.reduction_factor,
          min_early_stopping_rate: b,
          bootstrap_count: o.bootstrap_count,
          max_resource: o.max_resource,
        }),
      ),
    );
  }

  /** The bracket (0 .. nBrackets - 1) of a trial number. */
  bracketOf(trialNumber: number): number {
    return bracketOf(trialNumber, this.budgets);
  }

  /** The successive-halving options of bracket b. */
  bracketOptions(bracket: number): Readonly<SuccessiveHalvingOptions> {
    return this.brackets[bracket];
  }

  /** The trials among `trials` in the same bracket as `trialNumber`. */
  trialsInBracketOf(trialNumber: number, trials: readonly FrozenTrial[]): FrozenTrial[] {
    const b = this.bracketOf(trialNumber);
    return trials.filter((t) => this.bracketOf(t.number) === b);
  }

  shouldPrune(ctx: PruneContext): boolean {
    return this.shouldPruneAtAny(ctx, null);
  }

  shouldPruneAtAny(ctx: PruneContext, ends: readonly number[] | null): boolean {
    const b = this.bracketOf(ctx.trial.number);
    const same = this.trialsInBracketOf(ctx.trial.number, ctx.trials ?? []);
    return successiveHalvingShouldPrune(ctx.trial, same, ctx.direction, this.brackets[b], ends);
  }
}

/**
 * The trials a sampler should learn from for trial `trialNumber`: with a
 * Hyperband pruner, those of the same bracket (Optuna's TPE + Hyperband
 * integration); with any other pruner, all of them.
 */
export function trialsInSameBracket(
  pruner: Pruner | null | undefined,
  trialNumber: number,
  trials: readonly FrozenTrial[],
): FrozenTrial[] {
  if (pruner instanceof HyperbandPruner) return pruner.trialsInBracketOf(trialNumber, trials);
  return [...trials];
}

/** murmur3's fmix32: a bijection on 32-bit words with full avalanche. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit hash of a trial number (integers below 2^53; anything else hashes as its 32-bit truncation pair). */
function hashTrialNumber(n: number): number {
  const x = Number.isFinite(n) ? Math.trunc(n) : 0;
  const lo = x >>> 0;
  const hi = Math.floor(x / 4294967296) >>> 0;
  return fmix32((fmix32((lo ^ 0x9e3779b9) >>> 0) ^ fmix32((hi + 0x6a09e667) >>> 0)) >>> 0);
}

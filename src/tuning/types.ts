/**
 * The vocabulary of `tuning/`: search spaces, parameter values, read-only
 * trial snapshots, and the Sampler and Pruner interfaces. Pure TypeScript:
 * nothing here (or anywhere in tuning/) imports Workers, D1, Hono or TF.js.
 */

import type { Direction, Params, Space, TrialState } from '../contract/space';

export type {
  CategoricalParam,
  Condition,
  Direction,
  FloatParam,
  IntParam,
  Params,
  ParamSpec,
  ParamValue,
  Space,
  TrialState,
} from '../contract/space';

/** A read-only snapshot of a trial, as samplers and pruners see it. */
export interface FrozenTrial {
  readonly number: number;
  readonly state: TrialState;
  readonly params: Readonly<Params>;
  /** Final value of a complete trial; null otherwise (and null in a study with several objectives: see `values`). */
  readonly value: number | null;
  /**
   * The objective values of a complete trial, one per direction (absent or null: a
   * single-objective study, where `value` is the one). Several objectives only.
   */
  readonly values?: readonly number[] | null;
  /**
   * Constraint values told with the result (absent or null: none told). The trial is
   * feasible when every one is <= 0, as Optuna's `constraints_func`.
   */
  readonly constraints?: readonly number[] | null;
  /** Reported intermediate values, in report order. */
  readonly intermediate: readonly { readonly step: number; readonly value: number }[];
  /**
   * The value at the trial's latest step (null: none reported); absent: read it from
   * `intermediate`. The coordinator sets it, so that a sampler need not read a long trial's values.
   */
  readonly last?: { readonly step: number; readonly value: number } | null;
}

/** The value at a trial's latest step (`last` when given, else from `intermediate`); null: none. */
export function lastPoint(t: FrozenTrial): { step: number; value: number } | null {
  if (t.last !== undefined) return t.last;
  let last: { step: number; value: number } | null = null;
  for (const p of t.intermediate ?? []) {
    if (!Number.isFinite(p.step)) continue;
    if (last === null || p.step >= last.step) last = p;
  }
  return last;
}

export interface SampleContext {
  readonly space: Space;
  /** Every trial of the study so far, in number order (the new one is not among them). */
  readonly trials: readonly FrozenTrial[];
  readonly direction: Direction;
  /**
   * One direction per objective when the study has several (absent: one objective,
   * `direction`). When present, `direction` is `directions[0]`.
   */
  readonly directions?: readonly Direction[];
  /** The study's seed; with `trialNumber` it fixes the random stream. */
  readonly seed: number;
  /** Number of the trial being sampled. */
  readonly trialNumber: number;
}

/**
 * A sampler is a pure function of (space, trials, direction, seed, trial
 * number): the same history gives the same suggestion, which is what makes a
 * Durable Object restart harmless. It returns values for the active
 * parameters only (conditional ones absent when their condition is false).
 */
export interface Sampler {
  readonly name: string;
  sample(ctx: SampleContext): Params;
  /**
   * The name of the sampler that proposes trial `ctx.trialNumber` (recorded on the
   * trial as `sampler`); absent: `name`. `auto` names the one it delegates to.
   */
  proposer?(ctx: SampleContext): string;
}

/** Who proposes the trial `ctx` describes: `sampler.proposer(ctx)`, or the sampler's name. */
export function proposerOf(sampler: Sampler, ctx: SampleContext): string {
  return sampler.proposer ? sampler.proposer(ctx) : sampler.name;
}

export interface PruneContext {
  /** The trial asking, with its intermediate values up to and including the latest report. */
  readonly trial: FrozenTrial;
  /** Every trial of the study (including the one asking). */
  readonly trials: readonly FrozenTrial[];
  readonly direction: Direction;
  /**
   * What the coordinator keeps of the study in memory, so that a pruner judging a report need not
   * read every trial's values (absent: read `trial` and `trials`). Given only when the report's
   * points all come after the trial's latest step.
   */
  readonly stats?: StepStats;
}

/** A report, and the per-step statistics of the complete trials, kept incrementally. */
export interface StepStats {
  /** The asking trial before the report: its latest step (-Infinity: none), smallest and largest value (NaN: none). */
  readonly lastStep: number;
  readonly min: number;
  readonly max: number;
  /** The report's points, in step order, each after `lastStep`. */
  readonly added: readonly { readonly step: number; readonly value: number }[];
  /** How many trials are complete (the asking one is not). */
  readonly completeCount: number;
  /** The values the complete trials reported at `step`, ascending. */
  completeAt(step: number): readonly number[];
}

export interface Pruner {
  readonly name: string;
  shouldPrune(ctx: PruneContext): boolean;
  /**
   * For a batch of reports: whether `shouldPrune` says prune for the trial as it was when its
   * values were only its first k by step, for any k of `ends` (ascending, each in 1..n). The same
   * answer as asking `shouldPrune` once per k with the trial cut short (see `prunesAtAny`, which
   * does that for pruners without this method); a pruner implements it to answer in one pass.
   */
  shouldPruneAtAny?(ctx: PruneContext, ends: readonly number[]): boolean;
}

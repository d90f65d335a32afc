/**
 * The vocabulary of `tuning/`: search spaces, parameter values, read-only
 * trial snapshots, and the Sampler and Pruner interfaces. Pure TypeScript:
 * nothing here (or anywhere in tuning/) imports Workers, D1, Hono or TF.js.
 */

import type { Direction, Params, Space, TrialState } from '../contract/space';

export type { CategoricalParam, Condition, Direction, FloatParam, IntParam, Params, ParamSpec, ParamValue, Space, TrialState } from '../contract/space';

/** A read-only snapshot of a trial, as samplers and pruners see it. */
export interface FrozenTrial {
  readonly number: number;
  readonly state: TrialState;
  readonly params: Readonly<Params>;
  /** Final value of a complete trial; null otherwise. */
  readonly value: number | null;
  /** Reported intermediate values, in report order. */
  readonly intermediate: readonly { readonly step: number; readonly value: number }[];
}

export interface SampleContext {
  readonly space: Space;
  /** Every trial of the study so far, in number order (the new one is not among them). */
  readonly trials: readonly FrozenTrial[];
  readonly direction: Direction;
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
}

export interface PruneContext {
  /** The trial asking, with its intermediate values up to and including the latest report. */
  readonly trial: FrozenTrial;
  /** Every trial of the study (including the one asking). */
  readonly trials: readonly FrozenTrial[];
  readonly direction: Direction;
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

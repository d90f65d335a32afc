/**
 * What POST /v1/lr/suggest and GET /v1/lr/suggest/{id} answer: the shapes
 * the service builds (services/lr-suggest.ts) and the CLI prints.
 */
import type { z } from 'zod';
import type { Narrow } from '../lib/types';
import type {
  LrHorizonSchema,
  LrRangeTest,
  LrSuggestionSchema,
  ScheduleAdviceSchema,
} from './schemas';
import type { ExecutorKind, Unit } from './names';

/** A schedule read from a range test's curve (the ScheduleAdvice schema). */
export type ScheduleAdvice = z.output<typeof ScheduleAdviceSchema>;

/** One candidate's evidence (`validation.candidates`, which the LrSuggestion schema leaves free-form). */
export type CandidateEvidence = {
  lr: number;
  sources: string[];
  state: string;
  /** The validation loss at the end (complete), or at the epoch it was stopped (pruned). */
  value: number | null;
  /** Epochs (reports) it trained. */
  epochs_run: number;
  /** Standard deviation of the last (up to 3) epochs' validation losses: the noise its value carries. */
  spread: number | null;
  /** Within noise of the best complete candidate. */
  tied: boolean;
  /** Its validation loss blew up during the run (above 3x the early loss): it cannot win, whatever it ended at. */
  unstable: boolean;
  /** Finalists validated on several seeds: each seed's final validation loss (null: that run failed). */
  seeds: { seed: number; value: number | null }[] | null;
  /** What it is ranked by: the mean over `seeds` when there are several, else `value`. */
  score: number | null;
  error: string | null;
};

/** How the candidates were validated (`validation`, which the LrSuggestion schema leaves free-form). */
export type ValidationEvidence = {
  study_id: string;
  /** Every study that validated candidates: the first round, then the extension past an edge. */
  study_ids: string[];
  /** Epochs each finalist trained; null for a client's or runners' horizon in steps. */
  epochs: number | null;
  schedule: string;
  /** The seeds the finalists were validated on (the probe's first). */
  seeds: number[];
  candidates: CandidateEvidence[];
  /** Epochs trained over every candidate, round and seed: the compute this answer cost. */
  candidate_epochs: number;
  complete: boolean;
};

type LrHorizon = z.output<typeof LrHorizonSchema>;

/** The horizon of an edge validation (the LrHorizon schema): epochs of the probe's training split, and the edge budget. */
export type Horizon = Narrow<
  LrHorizon,
  {
    executor: 'edge';
    unit: 'epochs';
    epochs: number;
    steps_per_epoch: number;
    validated_epochs: number;
    budget: NonNullable<LrHorizon['budget']>;
  }
>;

/** The horizon of a validation your loop or your runners train (the LrHorizon schema): in the unit they report (epochs, or steps). */
export type ExternalHorizon = Narrow<
  LrHorizon,
  {
    executor: Exclude<ExecutorKind, 'edge'>;
    steps_per_epoch: null;
    source: Exclude<LrHorizon['source'], 'train_steps'>;
    budget: null;
  }
>;

/**
 * What POST /v1/lr/suggest answers with a suggestion, and GET /v1/lr/suggest/{id} (the
 * LrSuggestion schema), with the types of what the schema documents as free-form objects.
 */
export type LrSuggestion = Narrow<
  z.output<typeof LrSuggestionSchema>,
  {
    schedule: ScheduleAdvice | null;
    range_test: { id: string; cached: boolean; suggestion: LrRangeTest['suggestion'] } | null;
    horizon: Horizon | ExternalHorizon | null;
    validation: ValidationEvidence | null;
    prior: { lr: number; studies_used: number; range: { min: number; max: number } } | null;
  }
>;

/**
 * The answer that starts a study (the 202 of POST /v1/lr/suggest): a running suggestion (lr
 * null) with the study of the candidates, what it trains first and where to poll.
 */
export type LrSuggestionStart = Narrow<
  LrSuggestion,
  {
    id: string;
    status: 'running';
    lr: null;
    study_id: string;
    executor: Record<string, unknown>;
    candidates: Anchor[];
    pruner: Record<string, unknown>;
    max_trials: number;
    seeds: number[];
    poll: string;
  }
>;

// --- the budgeted search's settings, kept with its study (StudyConfig.lr_ladder) ---

export type { Unit };

/** A learning rate to try and where it came from (a range-test rule, the default, the grid). */
export interface Anchor {
  lr: number;
  sources: string[];
}

/** What tuning/lr/ladder.ts searches: the horizon, the budget, the screen's span. */
export interface LadderConfig {
  unit: Unit;
  /** T: the user's run, in `unit`. */
  horizon: number;
  /** Full runs the ladder may spend (the range test's share already taken off). */
  budget: number;
  /** The screen's span: from `lo` to `hi` (log-spaced). */
  lo: number;
  hi: number;
  /** Learning rates the screen takes in place of its nearest point (the rules, the default). */
  anchors: readonly Anchor[];
  /** The seed every ladder run trains with. */
  seed: number;
  /** Shortest run worth training, in `unit` (default 1). */
  minLength?: number;
  /** Longest run one trial may train (the edge's work limit), in `unit`; longer levels are not trained. */
  maxLength?: number;
  /**
   * The zero-compute answer (rule.ts): a budget too small for a screen of the span checks a few
   * lrs around it at the shortest run instead (absent: no such check).
   */
  centre?: number;
}

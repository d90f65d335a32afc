/**
 * What POST /v1/lr/suggest and GET /v1/lr/suggest/{id} answer: the shapes
 * the service builds (services/lr-suggest.ts) and the CLI prints.
 */
import type { LrRangeTest } from './schemas';
import type { ExecutorKind, LrSchedule, Unit } from './names';

export interface ScheduleAdvice {
  kind: 'one_cycle' | 'cosine';
  peak_lr: number;
  warmup_fraction: number;
  /** With `train_steps`: the warmup in steps. */
  warmup_steps: number | null;
  final_lr: number;
  /** The same, as a probe schedule (probe/schedules.ts), for edge trials. */
  spec: Record<string, unknown>;
  reasoning: string[];
}

export interface CandidateEvidence {
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
}

export interface ValidationEvidence {
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
}

/** The horizon of an edge validation: epochs of the probe's training split, and the edge budget. */
export interface Horizon {
  executor: 'edge';
  unit: 'epochs';
  /** The real run's length in epochs of the probe's training split. */
  epochs: number;
  /** The real run's optimizer steps, when the request gave them. */
  steps?: number;
  steps_per_epoch: number;
  source: 'training.epochs' | 'training.steps' | 'train_steps' | 'default';
  /** Epochs the finalists trained (0: no validation). */
  validated_epochs: number;
  /** full: validated at the horizon; extrapolated: shorter, with the schedule compressed; none: not validated. */
  method: 'full' | 'extrapolated' | 'none';
  schedule: LrSchedule;
  budget: { max_gflop: number; gflop_per_epoch: number; affordable_epochs: number };
}

/** The horizon of a validation your loop or your runners train: in the unit they report (epochs, or steps). */
export interface ExternalHorizon {
  executor: Exclude<ExecutorKind, 'edge'>;
  unit: Unit;
  /** The real run's length in epochs; null when it was given in steps. */
  epochs: number | null;
  steps?: number;
  /** Unknown here: your data loader knows it. */
  steps_per_epoch: null;
  source: 'training.epochs' | 'training.steps' | 'default';
  /** How far the finalists reported (in `unit`; epochs_run's last step); null before any finished. */
  validated_epochs: number | null;
  validated_steps?: number | null;
  /** full: the finalists reported up to the horizon (within one step); extrapolated: they stopped short; none: nothing finished. */
  method: 'full' | 'extrapolated' | 'none';
  schedule: LrSchedule;
  budget: null;
}

export interface LrSuggestion {
  /** GET /v1/lr/suggest/{id}: the suggestion's id (its study's). */
  id?: string;
  /** GET /v1/lr/suggest/{id}: running while candidates still train (the evidence so far), then complete. */
  status?: 'running' | 'complete';
  lr: number | null;
  method: string;
  confidence: 'low' | 'medium' | 'high';
  stable_range: { min: number | null; max: number | null } | null;
  schedule: ScheduleAdvice | null;
  range_test: { id: string; cached: boolean; suggestion: LrRangeTest['suggestion'] } | null;
  horizon: Horizon | ExternalHorizon | null;
  validation: ValidationEvidence | null;
  prior: { lr: number; studies_used: number; range: { min: number; max: number } } | null;
  /** The compute the request allowed, in full runs at the horizon. */
  budget?: { runs: number };
  /** What it spent: full runs (the range test's steps included) and the epochs (steps) they add up to. */
  compute?: { runs: number; epochs: number | null; steps?: number | null };
  reasoning: string[];
}

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

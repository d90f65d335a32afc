/** Shapes the coordinator stores and answers with (the API's Study and Trial). */
import type { Params, Space, TrialState } from '../tuning/types';

export interface SamplerConfig {
  name: 'tpe' | 'gp' | 'random' | 'qmc' | 'grid';
  seed: number;
  [option: string]: unknown;
}

export interface PrunerConfig {
  name: 'none' | 'median' | 'asha' | 'hyperband';
  [option: string]: unknown;
}

/** How a study's trials get run: by the caller (ask/tell), by leasing runners, or as edge probes. */
export type ExecutorConfig = ClientExecutor | RunnerExecutor | EdgeExecutor;

export interface ClientExecutor {
  kind: 'client';
}

export interface RunnerExecutor {
  kind: 'runner';
  /** Most trials leased at once (null: no bound). */
  max_parallel: number | null;
  /** Leases a trial may have before an expiry fails it. */
  max_attempts: number;
  /** Lease length; a heartbeat extends it by as much again. */
  lease_seconds: number;
  /** Where a signed job notice is POSTed when trials become available (null: no push). */
  dispatch_url: string | null;
}

export interface EdgeExecutor {
  kind: 'edge';
  /** The probe every trial trains (API.md's probe), with the trial's params mapped onto it. */
  probe: Record<string, unknown>;
  /** The learning rate when the space has none. */
  lr?: number;
  /** LR schedule of every trial (probe/schedules.ts's ScheduleSpec), and its warmup. */
  schedule?: Record<string, unknown>;
  warmup?: { steps: number; start_factor?: number };
  /** Epochs per trial; validation loss is reported after each. */
  epochs: number;
  /** Share of the dataset held out for validation. */
  validation_split: number;
  /** Trials in flight at once while the study runs. */
  parallelism: number;
  max_attempts: number;
  lease_seconds: number;
}

export interface LeaseView {
  token: string;
  expires_at: string;
  attempt: number;
  /** Send a heartbeat at least this often. */
  heartbeat_seconds: number;
}

export interface LeaseGrant {
  study: { id: string; name: string; metric: string; direction: 'minimize' | 'maximize' };
  trial: TrialView;
  lease: LeaseView;
}

/** Who is calling, as far as the coordinator must know. */
export interface Caller {
  /** The lease token the caller holds for this trial, if any. */
  lease_token?: string;
  /** A runner-scoped key: it may act only on trials it holds a lease for. */
  runner_only?: boolean;
}

export interface StudyConfig {
  id: string;
  /** The owning project (absent in studies created before projects: the default one). */
  project_id?: string;
  name: string;
  direction: 'minimize' | 'maximize';
  metric: string;
  space: Space;
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  executor: ExecutorConfig;
  max_trials: number | null;
  metadata: Record<string, unknown>;
  created_at: string;
  /**
   * An lr/suggest round a client or runners train (POST /v1/lr/suggest with executor client or
   * runner): when its last trial ends and the best candidate is the lowest or highest lr of the
   * space, two trials past that edge are enqueued, once (tuning/lr-validation.ts, extensionPast),
   * in the same tell, so an agent draining the study leases them next. `lrs`: what was added.
   * Internal: POST /v1/studies cannot set it, and the study's answer does not show it.
   */
  lr_extension?: { done: boolean; lrs: number[] };
}

export interface TrialView {
  study_id: string;
  number: number;
  params: Params;
  state: TrialState;
  value: number | null;
  intermediate: { step: number; value: number }[];
  error: string | null;
  /** Leases granted so far (runner and edge studies). */
  attempts: number;
  /** The runner that holds (or last held) the lease. */
  runner: string | null;
  started_at: string | null;
  completed_at: string | null;
}

export interface StudyView extends Omit<StudyConfig, 'id'> {
  id: string;
  state: 'running' | 'completed';
  n_trials: number;
  best_trial: TrialView | null;
  /** Runner studies with a dispatch_url: the state of the job notices. */
  dispatch?: {
    pending: boolean;
    next_attempt_at: string | null;
    last: { at: string; attempt: number; ok: boolean; detail: string } | null;
  };
  /** Where the durable copy (D1) stands against this live one. */
  storage: {
    /** ok: D1 has everything; behind: writes wait or retry; parked: some were parked after repeated failures. */
    d1: 'ok' | 'behind' | 'parked';
    /** Entries (the study row, trials, events) waiting to be written. */
    pending: number;
    parked: { kind: 'trial' | 'event'; ref: number; reason: string; attempts: number; at: string }[];
    /** The latest failure, if any. */
    reason: string | null;
    next_attempt_at: string | null;
  };
  /** Only in the answer to the creation of a study with a dispatch_url. */
  dispatch_secret?: string;
}

export type TellBody = { value: number; state?: 'complete' } | { state: 'failed' | 'pruned'; error?: string };

/** An event for outbound notifications, as a study's coordinator emits it. */
export interface StudyEvent {
  /** Stable per event: `evt_<study>_<n>`. */
  id: string;
  type: 'study.completed' | 'study.best_improved' | 'trial.failed' | string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * Messages of the notifications queue: an event to fan out to its
 * subscribers, or one delivery of an event to one subscription.
 */
export type NotificationMessage =
  | { kind: 'event'; project_id: string; study_id: string; event: StudyEvent }
  | { kind: 'deliver'; subscription_id: string; message_id: string; event: StudyEvent };

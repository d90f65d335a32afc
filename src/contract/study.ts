/** Shapes the coordinator stores and answers with (the API's Study and Trial). */
import type { z } from 'zod';
import type { Narrow } from '../lib/types';
import type { Direction, EventType, PrunerName, SamplerName } from './names';
import type {
  AskedTrialSchema,
  ExecutorSchema,
  HeartbeatAnswerSchema,
  ImportanceSchema,
  LeaseGrantSchema,
  LeaseSchema,
  ReportAnswerSchema,
  StudySchema,
  SuggestedParamSchema,
  AttrsAnswerSchema,
  TellSchema,
  TrialSchema,
} from './schemas';
import type { LadderConfig } from './lr-suggestion';
import type { ParamSpec, Space } from './space';

/** A study's `sampler` object: a name, the seed, and that sampler's options. */
export interface SamplerConfig {
  name: SamplerName;
  seed: number;
  [option: string]: unknown;
}

/** A study's `pruner` object: a name and that pruner's options. */
export interface PrunerConfig {
  name: PrunerName;
  [option: string]: unknown;
}

type ParsedExecutor = z.output<typeof ExecutorSchema>;
/**
 * lease_seconds and max_attempts of the asked trials' leases. Optional: studies created before
 * client leases stored `{kind: 'client'}` alone, and leases.ts's leaseTerms reads the defaults for
 * them (new studies store both, ExecutorSchema's defaults applied).
 */
export type ClientExecutor = Omit<
  Extract<ParsedExecutor, { kind: 'client' }>,
  'lease_seconds' | 'max_attempts'
> &
  Partial<Pick<Extract<ParsedExecutor, { kind: 'client' }>, 'lease_seconds' | 'max_attempts'>>;
/** How a study's trials get run: by the caller (ask/tell), by leasing runners, or as edge probes (ExecutorSchema, defaults applied). */
export type ExecutorConfig = ClientExecutor | Exclude<ParsedExecutor, { kind: 'client' }>;
/** max_parallel: most trials leased at once (null: no bound); max_attempts: leases before an expiry fails the trial; dispatch_url: where a signed job notice is POSTed. */
export type RunnerExecutor = Extract<ParsedExecutor, { kind: 'runner' }>;
/** The probe every trial trains, with the trial's params mapped onto it; epochs, validation_split, parallelism of the trials. */
export type EdgeExecutor = Extract<ParsedExecutor, { kind: 'edge' }>;

/** A lease of a trial (the Lease schema): its token, expiry, attempt and how often to heartbeat. */
export type LeaseView = z.output<typeof LeaseSchema>;

/** A trial as ask answers it (the AskedTrial schema): with the caller's lease on it (the token its reports, heartbeats and tell send). */
export type AskedTrial = z.output<typeof AskedTrialSchema>;

/** What a trial asking for a parameter gets (the SuggestedParam schema). */
export type SuggestedParam = Omit<z.output<typeof SuggestedParamSchema>, 'distribution'> & {
  distribution: ParamSpec;
};

/** A study's or trial's attributes (the AttrsAnswer schema). */
export type AttrsView = z.output<typeof AttrsAnswerSchema>;

/** What a heartbeat answers: the extended lease (the HeartbeatAnswer schema). */
export type HeartbeatAnswer = z.output<typeof HeartbeatAnswerSchema>;

/** What a report answers: whether to prune (the ReportAnswer schema). */
export type ReportAnswer = z.output<typeof ReportAnswerSchema>;

/** What GET /v1/studies/{id}/importance answers (the Importance schema). */
export type Importance = z.output<typeof ImportanceSchema>;

/** What POST /v1/runners/lease answers (the LeaseGrant schema): the study's objectives, the trial and its lease. */
export type LeaseGrant = z.output<typeof LeaseGrantSchema>;

/** Who is calling, as far as the coordinator must know. */
export interface Caller {
  /**
   * The lease token the caller holds for this trial, if any: required for runner and edge studies;
   * a client study's call without one acts for the trial's first lease (leases.ts, checkLease).
   */
  lease_token?: string;
  /** A runner-scoped key: it may act only on trials it holds a lease for. */
  runner_only?: boolean;
}

export interface StudyConfig {
  id: string;
  /** The owning project (absent in studies created before projects: the default one). */
  project_id?: string;
  name: string;
  /** The first objective's direction and name (the only ones of a single-objective study). */
  direction: Direction;
  metric: string;
  /**
   * A study with several objectives: one direction and one name per objective (2 or more;
   * `direction` and `metric` are the first). Absent: a single-objective study.
   */
  directions?: Direction[];
  metrics?: string[];
  space: Space;
  /**
   * Define-by-run: the parameters of `space` that joined it at first use (a trial asked for them),
   * in that order. At ask the sampler proposes them with the rest, jointly; a trial's params show
   * one once the trial asks for it (until then the proposal is kept hidden), so trials that never
   * ask leave it inactive. Absent: none. Internal: the study's answer shows the whole space.
   */
  learned?: string[];
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  executor: ExecutorConfig;
  max_trials: number | null;
  metadata: Record<string, unknown>;
  created_at: string;
  /**
   * An lr/suggest round a client or runners train (POST /v1/lr/suggest with executor client or
   * runner): when its last trial ends and the best candidate is the lowest or highest lr of the
   * space, two trials past that edge are enqueued, once (tuning/lr/validation.ts, extensionPast),
   * in the same tell, so an agent draining the study leases them next. `lrs`: what was added.
   * Internal: POST /v1/studies cannot set it, and the study's answer does not show it.
   */
  lr_extension?: { done: boolean; lrs: number[] };
  /**
   * An lr/suggest search under a budget (tuning/lr/ladder.ts): whenever every trial has ended, the
   * ladder's next level is enqueued (params lr, the length as `epochs` or `steps`, seed) and
   * max_trials grows by it, in the same tell; the study completes when the ladder is done.
   * Internal, like lr_extension.
   */
  lr_ladder?: LadderConfig;
}

/** A trial as the API answers it (the Trial schema). */
export type TrialView = z.output<typeof TrialSchema>;

/**
 * A study as the API answers it (the Study schema), with the config's own types for what the
 * schema documents as free-form objects (space, sampler, pruner, executor). Its state is
 * unavailable only in a listing, for a study whose object holds no state, shown from D1's copy
 * (services/studies.ts).
 */
export type StudyView = Narrow<
  z.output<typeof StudySchema>,
  Pick<StudyConfig, 'space' | 'sampler' | 'pruner' | 'executor'>
>;

/** The directions of a study's objectives (its config, or a study or lease answer): `directions`, or `[direction]` for a single-objective study or an answer without them. */
export function directionsOf(config: Pick<StudyConfig, 'direction' | 'directions'>): Direction[] {
  return config.directions ?? [config.direction];
}

/** The names of a study's objectives (its config, or a study or lease answer): `metrics`, or `[metric]`. */
export function metricsOf(config: Pick<StudyConfig, 'metric' | 'metrics'>): string[] {
  return config.metrics ?? [config.metric];
}

/**
 * Where a study coordinator's ask or tell spent its time, in ms (the API sends them as
 * `Server-Timing`): `sampler`, proposing params (0 when no trial was sampled: an enqueued trial
 * asked, a tell that starts none); `storage`, the object's SQLite reads and writes of the call
 * (the history the sampler sees, the trial and study rows, the outbox and its events; the D1
 * write-through runs after the answer and is not in it). Deployed, both read 0 or close to it:
 * Workers' clocks advance only across I/O (lib/stopwatch.ts).
 */
export interface CoordinatorTiming {
  sampler_ms: number;
  storage_ms: number;
}

/** A coordinator call's result with the time it took inside the object. */
export interface Timed<T> {
  result: T;
  timing: CoordinatorTiming;
}

/** A tell's result: TellSchema without the lease token. */
export type TellBody = DistributiveOmit<z.output<typeof TellSchema>, 'lease_token'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event for outbound notifications, as a study's coordinator emits it. */
export interface StudyEvent {
  /** Stable per event: `evt_<study>_<n>`. */
  id: string;
  type: EventType | string;
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

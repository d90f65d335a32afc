/**
 * Lease decisions of runner and edge studies, as pure functions: of the
 * study's config, the trials (or their counts) and the time, to a decision
 * (or a CoordinatorError). No storage, no clock, no randomness: the
 * coordinator reads what they need, calls them, and writes what they decide.
 * Table-tested in plain Node (test/tuning/leases.test.ts).
 *
 * A lease: `lease` starts a trial under a random token with an expiry;
 * heartbeats and reports extend it by lease_seconds; report and tell must
 * carry it. An expired lease sends the trial back to `waiting`, or to
 * `failed` once it has had `max_attempts` leases.
 */
import { CoordinatorError, invalidField, NO_SUCH_STUDY } from './errors';
import type {
  Caller,
  EdgeExecutor,
  LeaseView,
  RunnerExecutor,
  StudyConfig,
} from '../contract/study';
import type { TrialState } from '../tuning/types';

export type LeasedExecutor = RunnerExecutor | EdgeExecutor;

/** What the lease decisions read of a trial (a row of the object's trials table). */
export interface LeaseTrial {
  number: number;
  state: TrialState;
  error: string | null;
  attempts: number;
  lease_token: string | null;
  lease_expires_at: number | null;
  runner: string | null;
}

/** What happens to a trial whose lease expired: it fails, or it waits for the next lease. */
export interface ExpiryDecision {
  number: number;
  state: 'failed' | 'waiting';
  error: string;
}

/** The executor of a study whose trials are leased; a 409 for a client study. */
export function leasedExecutor(config: StudyConfig): LeasedExecutor {
  if (config.executor.kind === 'client') {
    throw new CoordinatorError(
      'conflict',
      `study ${config.id} is a client study (ask and tell): its trials have no leases`,
    );
  }
  return config.executor;
}

/** Whether this call acts on a leased trial (and must hold its lease). */
export function authorizeLease(config: StudyConfig, caller: Caller): boolean {
  if (config.executor.kind === 'client') {
    // A runner key sees only runner and edge studies.
    if (caller.runner_only) throw new CoordinatorError('not_found', NO_SUCH_STUDY);
    if (caller.lease_token !== undefined) {
      throw invalidField(
        'lease_token',
        "this study's trials are not leased (executor 'client'): leave it out",
      );
    }
    return false;
  }
  if (caller.lease_token === undefined) {
    throw invalidField(
      'lease_token',
      `required: the trials of a ${config.executor.kind} study are leased, and only the lease holder reports and tells`,
    );
  }
  return true;
}

/** Throw a clear 409 unless `token` is the live lease of the trial (or, with allowLate, its expired one while nobody else holds it). */
export function checkLease(row: LeaseTrial, token: string, allowLate: boolean): void {
  const n = row.number;
  if (row.lease_token === token) {
    if (row.state === 'running') return;
    if (row.state === 'waiting') {
      if (allowLate) return;
      throw new CoordinatorError(
        'conflict',
        `your lease on trial ${n} expired: the trial waits to be leased again (a late tell is still taken until then)`,
      );
    }
    throw new CoordinatorError(
      'conflict',
      `trial ${n} is ${row.state}${row.error ? ` (${row.error})` : ''}`,
    );
  }
  if (row.state === 'running') {
    throw new CoordinatorError(
      'conflict',
      `stale lease token: trial ${n} was leased again (attempt ${row.attempts}${row.runner ? ` by '${row.runner}'` : ''}) after your lease ended; stop working on it`,
    );
  }
  if (row.state === 'waiting')
    throw new CoordinatorError(
      'conflict',
      `stale lease token: trial ${n} is waiting for a new lease`,
    );
  throw new CoordinatorError('conflict', `stale lease token: trial ${n} is already ${row.state}`);
}

/** When a lease granted or extended at `now` expires. */
export function leaseExpiry(executor: LeasedExecutor, now: number): number {
  return now + executor.lease_seconds * 1000;
}

/** The lease of a leased trial as its holder sees it. */
export function leaseView(executor: LeasedExecutor, row: LeaseTrial): LeaseView {
  return {
    token: row.lease_token!,
    expires_at: new Date(row.lease_expires_at!).toISOString(),
    attempt: row.attempts,
    heartbeat_seconds: Math.max(1, Math.floor(executor.lease_seconds / 3)),
  };
}

/** Whether one more lease may go out with `running` trials running (max_parallel, or the edge's parallelism). */
export function hasLeaseSlot(executor: LeasedExecutor, running: number): boolean {
  const cap = executor.kind === 'runner' ? executor.max_parallel : executor.parallelism;
  return cap === null || running < cap;
}

/**
 * What becomes of the trials whose lease has expired by `now` (running, with
 * an expiry at or before it), in trial order. None for a client study.
 */
export function expiryDecisions(
  config: StudyConfig,
  trials: readonly LeaseTrial[],
  now: number,
): ExpiryDecision[] {
  if (config.executor.kind === 'client') return [];
  const maxAttempts = config.executor.max_attempts;
  return trials
    .filter(
      (r) => r.state === 'running' && r.lease_expires_at !== null && r.lease_expires_at <= now,
    )
    .sort((a, b) => a.number - b.number)
    .map((r) => {
      const who = r.runner ? ` (runner '${r.runner}')` : '';
      return r.attempts >= maxAttempts
        ? {
            number: r.number,
            state: 'failed',
            error: `lease expired on attempt ${r.attempts} of ${maxAttempts}${who}: no heartbeat or result in time`,
          }
        : {
            number: r.number,
            state: 'waiting',
            error: `attempt ${r.attempts}: lease expired${who}`,
          };
    });
}

/**
 * When a runner that got no lease should ask again: soon (1 to 5 s) while a
 * lease is out (it may expire, or free a max_parallel slot); null when none
 * is out (the study has no more work for runners).
 */
export function retryAfterSeconds(earliestExpiry: number | null, now: number): number | null {
  if (earliestExpiry === null) return null;
  return Math.max(1, Math.min(5, Math.ceil((earliestExpiry - now) / 1000)));
}

/** Trials a runner could lease now (Infinity: no bound). */
export function availableTrials(
  config: StudyConfig,
  executor: RunnerExecutor,
  counts: { waiting: number; total: number; running: number },
): number {
  let n =
    counts.waiting +
    (config.max_trials === null ? Infinity : Math.max(0, config.max_trials - counts.total));
  if (executor.max_parallel !== null)
    n = Math.min(n, Math.max(0, executor.max_parallel - counts.running));
  return n;
}

/** Whether a finished leased trial makes new work available to runners: only when it frees one of max_parallel's slots. */
export function finishFreesSlot(config: StudyConfig): boolean {
  return config.executor.kind === 'runner' && config.executor.max_parallel !== null;
}

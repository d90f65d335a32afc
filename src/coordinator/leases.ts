/**
 * Lease decisions of every study's trials, as pure functions: of the study's
 * config, the trials (or their counts) and the time, to a decision (or a
 * CoordinatorError). No storage, no clock, no randomness: the coordinator
 * reads what they need, calls them, and writes what they decide.
 * Table-tested in plain Node (test/tuning/leases.test.ts).
 *
 * A lease, whoever runs the trial (a client's ask, a runner's lease, the
 * edge): starting a trial puts it under a random token with an expiry
 * (`lease_seconds` from now); heartbeats, reports and the tell extend or end
 * it. An expired lease sends the trial back to `waiting` (the next ask or
 * lease hands it out again, attempts + 1), or to `failed` once it has had
 * `max_attempts` leases.
 *
 * The token: runner and edge trials' reports, heartbeats and tells must carry
 * it. A client study's may leave it out (clients from before client leases
 * never had one): such a call acts for the trial's first lease (attempt 1),
 * so it works until the trial is asked again, and is a 409 naming
 * lease_token after that. A token that is not the trial's live lease is a
 * 409 naming lease_token, never an overwrite.
 */
import { CoordinatorError, invalidField, NO_SUCH_STUDY } from './errors';
import { CLIENT_LEASE_SECONDS, CLIENT_MAX_ATTEMPTS } from '../contract/schemas';
import type {
  Caller,
  EdgeExecutor,
  ExecutorConfig,
  LeaseView,
  RunnerExecutor,
  StudyConfig,
} from '../contract/study';
import type { TrialState } from '../tuning/types';

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
  state: Extract<TrialState, 'failed' | 'waiting'>;
  error: string;
}

/** How long a lease lasts and how many a trial may have: the executor's fields (ExecutorSchema), defaults applied. */
export type LeaseTerms = Pick<RunnerExecutor | EdgeExecutor, 'lease_seconds' | 'max_attempts'>;

/**
 * The lease terms of a study's executor. A client study created before client leases stored
 * `{kind: 'client'}` alone: it gets the defaults (CLIENT_LEASE_SECONDS, CLIENT_MAX_ATTEMPTS).
 */
export function leaseTerms(executor: ExecutorConfig): LeaseTerms {
  if (executor.kind === 'client') {
    return {
      lease_seconds: executor.lease_seconds ?? CLIENT_LEASE_SECONDS,
      max_attempts: executor.max_attempts ?? CLIENT_MAX_ATTEMPTS,
    };
  }
  return { lease_seconds: executor.lease_seconds, max_attempts: executor.max_attempts };
}

/**
 * The lease token a report, tell, heartbeat or release acts under: the caller's, or null for a
 * client study's call without one (it acts for the trial's first lease: checkLease). Runner and
 * edge studies require it (a 422 at lease_token). A runner key sees no client study (404).
 */
export function callerToken(config: StudyConfig, caller: Caller): string | null {
  if (config.executor.kind === 'client') {
    // A runner key sees only runner and edge studies.
    if (caller.runner_only) throw new CoordinatorError('not_found', NO_SUCH_STUDY);
    return caller.lease_token ?? null;
  }
  if (caller.lease_token === undefined) {
    throw invalidField(
      'lease_token',
      `required: the trials of a ${config.executor.kind} study are leased, and only the lease holder reports and tells`,
    );
  }
  return caller.lease_token;
}

/** A 409 about the caller's lease token: its one issue names lease_token. */
function staleToken(detail: string): CoordinatorError {
  return new CoordinatorError('conflict', detail, [{ path: 'lease_token', message: detail }]);
}

/**
 * Throw a clear 409 unless the caller holds the trial's live lease (or, with allowLate, its
 * expired one while nobody else holds the trial: a late tell). `token` null: a client study's
 * call without a token, which holds the trial's first lease (attempt 1; attempts 0: a trial
 * started before client leases), and no later one. Every 409 about the token names lease_token.
 */
export function checkLease(row: LeaseTrial, token: string | null, allowLate: boolean): void {
  const n = row.number;
  if (token === null && row.state === 'waiting' && row.lease_token === null) {
    throw new CoordinatorError(
      'conflict',
      `trial ${n} is waiting: ask for it before reporting or telling its result`,
    );
  }
  const holds = token === null ? row.attempts <= 1 : row.lease_token === token;
  if (holds) {
    if (row.state === 'running') return;
    if (row.state === 'waiting') {
      if (allowLate) return;
      throw staleToken(
        `your lease on trial ${n} expired: the trial waits to be ${token === null ? 'asked' : 'leased'} again (a late tell is still taken until then)`,
      );
    }
    throw new CoordinatorError(
      'conflict',
      `trial ${n} is ${row.state}${row.error ? ` (${row.error})` : ''}`,
    );
  }
  if (token === null) {
    if (row.state === 'running' || row.state === 'waiting') {
      throw staleToken(
        `lease_token required: trial ${n} was handed out again after its first lease expired (attempt ${row.attempts}${row.runner ? ` by '${row.runner}'` : ''}), and a call without a token acts for the first lease only; send the lease.token of the ask that gave you the trial`,
      );
    }
    throw new CoordinatorError('conflict', `trial ${n} is already ${row.state}`);
  }
  if (row.state === 'running' && row.attempts <= 1) {
    throw staleToken(
      `lease token not valid for trial ${n}: it is not the token its ${row.runner ? 'lease' : 'ask'} answered`,
    );
  }
  if (row.state === 'running') {
    throw staleToken(
      `stale lease token: trial ${n} was leased again (attempt ${row.attempts}${row.runner ? ` by '${row.runner}'` : ''}) after your lease ended; stop working on it`,
    );
  }
  if (row.state === 'waiting')
    throw staleToken(`stale lease token: trial ${n} is waiting for a new lease`);
  throw staleToken(`stale lease token: trial ${n} is already ${row.state}`);
}

/** When a lease granted or extended at `now` expires. */
export function leaseExpiry(terms: LeaseTerms, now: number): number {
  return now + terms.lease_seconds * 1000;
}

/** The lease of a leased trial as its holder sees it. */
export function leaseView(terms: LeaseTerms, row: LeaseTrial): LeaseView {
  return {
    token: row.lease_token!,
    expires_at: new Date(row.lease_expires_at!).toISOString(),
    attempt: row.attempts,
    heartbeat_seconds: Math.max(1, Math.floor(terms.lease_seconds / 3)),
  };
}

/** Whether one more lease may go out with `running` trials running (max_parallel, or the edge's parallelism). */
export function hasLeaseSlot(executor: RunnerExecutor | EdgeExecutor, running: number): boolean {
  const cap = executor.kind === 'runner' ? executor.max_parallel : executor.parallelism;
  return cap === null || running < cap;
}

/**
 * What becomes of the trials whose lease has expired by `now` (running, with
 * an expiry at or before it), in trial order, whatever the executor.
 */
export function expiryDecisions(
  config: StudyConfig,
  trials: readonly LeaseTrial[],
  now: number,
): ExpiryDecision[] {
  const maxAttempts = leaseTerms(config.executor).max_attempts;
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

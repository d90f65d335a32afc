/**
 * Job notices of runner studies with a dispatch_url: the signed webhook that
 * tells a runner fleet trials are available, with its backoff.
 *
 * Owns the dispatch meta keys of the object's SQLite (dispatch_secret,
 * dispatch_at: when a notice is due, dispatch_attempt, dispatch_last). A
 * change that makes trials available marks a notice due (`note`); the
 * object's alarm sends it (`sendIfDue`): a POST signed with HMAC-SHA256 over
 * `<timestamp>.<body>`, retried after 1, 2, 4, ... s (at most 5 min apart)
 * and dropped after DISPATCH_MAX_ATTEMPTS, until trials become available again.
 */
import { exponentialBackoffMs } from '../lib/backoff';
import { hmacSha256Hex } from '../lib/hash';
import { availableTrials } from './leases';
import type { CoordinatorStore } from './store';
import type { RunnerExecutor, StudyConfig, StudyView } from '../contract/study';

/** Job notices to dispatch_url: retried after 1, 2, 4, ... s (at most 5 min apart), then dropped. */
const DISPATCH_MAX_ATTEMPTS = 8;

/** The wait before retrying a job notice that failed on `attempt` (1-based). */
function dispatchRetryMs(attempt: number): number {
  return exponentialBackoffMs(attempt, 1000, 300_000);
}

export class Dispatch {
  constructor(private readonly store: CoordinatorStore) {}

  /** Keep the secret that signs the study's job notices. */
  setSecret(secret: string): void {
    this.store.setMeta('dispatch_secret', secret);
  }

  /** When a job notice is due (null: none pending); for the alarm. */
  dueAt(): number | null {
    const at = this.store.getMeta('dispatch_at');
    return at === null ? null : Number(at);
  }

  /** Mark a job notice due (runner studies with a dispatch_url), unless one is already pending. */
  note(config: StudyConfig | null): void {
    if (!config || config.executor.kind !== 'runner' || !config.executor.dispatch_url) return;
    if (this.store.getMeta('dispatch_at') !== null) return;
    if (this.available(config, config.executor) === 0) return;
    this.store.setMeta('dispatch_at', String(Date.now()));
    this.store.setMeta('dispatch_attempt', '0');
  }

  /** POST the signed job notice to dispatch_url if one is due; on failure, retry later with backoff. */
  async sendIfDue(config: StudyConfig, now: number): Promise<void> {
    const executor = config.executor;
    if (executor.kind !== 'runner' || !executor.dispatch_url) return;
    const at = this.store.getMeta('dispatch_at');
    if (at === null || Number(at) > now) return;
    const available = this.available(config, executor);
    if (available === 0) {
      this.store.deleteMeta('dispatch_at', 'dispatch_attempt');
      return;
    }
    const attempt = Number(this.store.getMeta('dispatch_attempt') ?? 0) + 1;
    const body = JSON.stringify({
      type: 'trials.available',
      study_id: config.id,
      study_name: config.name,
      available: Number.isFinite(available) ? available : null,
      lease: { method: 'POST', path: '/v1/runners/lease', body: { study_id: config.id } },
      sent_at: new Date(now).toISOString(),
    });
    const timestamp = String(Math.floor(now / 1000));
    const signature = await hmacSha256Hex(
      this.store.getMeta('dispatch_secret') ?? '',
      `${timestamp}.${body}`,
    );
    let ok = false;
    let detail: string;
    try {
      const res = await fetch(executor.dispatch_url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'stride-dispatch/1',
          'stride-timestamp': timestamp,
          'stride-signature': `v1=${signature}`,
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      ok = res.ok;
      detail = `HTTP ${res.status}`;
      await res.body?.cancel();
    } catch (err) {
      detail = err instanceof Error ? err.message : String(err);
    }
    this.store.setMeta(
      'dispatch_last',
      JSON.stringify({ at: new Date(now).toISOString(), attempt, ok, detail }),
    );
    if (ok || attempt >= DISPATCH_MAX_ATTEMPTS) {
      if (!ok)
        console.error(
          `study ${config.id}: job notice to ${executor.dispatch_url} failed ${attempt} times (${detail}); giving up until trials become available again`,
        );
      this.store.deleteMeta('dispatch_at', 'dispatch_attempt');
    } else {
      this.store.setMeta('dispatch_attempt', String(attempt));
      this.store.setMeta('dispatch_at', String(Date.now() + dispatchRetryMs(attempt)));
    }
  }

  /** The state of the job notices, for the study's answer. */
  status(): NonNullable<StudyView['dispatch']> {
    const last = this.store.getMeta('dispatch_last');
    const at = this.store.getMeta('dispatch_at');
    return {
      pending: at !== null,
      next_attempt_at: at === null ? null : new Date(Number(at)).toISOString(),
      last: last === null ? null : (JSON.parse(last) as NonNullable<StudyView['dispatch']>['last']),
    };
  }

  /** Trials a runner could lease now (Infinity: no bound). */
  private available(config: StudyConfig, executor: RunnerExecutor): number {
    return availableTrials(config, executor, {
      waiting: this.store.waitingCount(),
      total: this.store.count(),
      running: this.store.runningCount(),
    });
  }
}

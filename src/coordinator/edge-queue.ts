/**
 * Edge trials on the queue: an edge study's leased trials, sent to the
 * EDGE_TRIALS queue (services/edge.ts runs them and reports back).
 *
 * Owns the edge meta keys of the object's SQLite (edge_running: the study was
 * started with `run`; edge_retry_at: when to send again after the queue
 * refused a batch). The coordinator grants the leases and commits them; this
 * sends them, and when the queue refuses the batch hands the trials back to
 * `waiting` and sets the retry time for the alarm.
 */
import { DEFAULT_PROJECT_ID } from '../db/schema';
import type { Params } from '../tuning/types';
import type { Outbox } from './outbox';
import type { CoordinatorStore } from './store';
import type { LeaseGrant, StudyConfig } from '../contract/study';

/** What a queue message of an edge trial carries. */
export interface EdgeTrialMessage {
  project_id: string;
  study_id: string;
  number: number;
  token: string;
  params: Params;
}

/** After a refused batch, send again this long after. */
const EDGE_RETRY_MS = 5_000;

export class EdgeQueue {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly outbox: Outbox,
    /** The object's env, read at each send. */
    private readonly env: Env,
  ) {}

  /** The study runs (POST /v1/studies/{id}/run): keep its trials in flight from now on. */
  start(): void {
    this.store.setMeta('edge_running', '1');
  }

  running(): boolean {
    return this.store.getMeta('edge_running') === '1';
  }

  /** When to send again after a refused batch (null: nothing to retry); for the alarm. */
  retryAt(): number | null {
    const at = this.store.getMeta('edge_retry_at');
    return at === null ? null : Number(at);
  }

  /** Send the trials of `grants` to the queue; when it refuses them, hand them back and retry shortly (the alarm). */
  async send(config: StudyConfig, grants: readonly LeaseGrant[]): Promise<void> {
    const messages: EdgeTrialMessage[] = grants.map((g) => ({
      project_id: config.project_id ?? DEFAULT_PROJECT_ID,
      study_id: config.id,
      number: g.trial.number,
      token: g.lease.token,
      params: g.trial.params,
    }));
    try {
      await this.env.EDGE_TRIALS.sendBatch(
        messages.map((body) => ({ body, contentType: 'json' as const })),
      );
      this.store.deleteMeta('edge_retry_at');
    } catch (err) {
      // Not sent: hand the trials back and try again shortly (the alarm).
      console.error(
        `study ${config.id}: sending ${messages.length} edge trials to the queue failed; retrying`,
        err,
      );
      for (const m of messages) {
        this.store.handBack(m.number, m.token);
        this.outbox.enqueue('trial', m.number);
      }
      this.store.setMeta('edge_retry_at', String(Date.now() + EDGE_RETRY_MS));
    }
  }
}

/**
 * The outbox: the D1 write-through of a study's coordinator, and its parked writes.
 *
 * Owns the outbox tables of the object's SQLite (outbox, outbox_failures,
 * dead_letters; created by store.ts's migrate) and the flush meta keys
 * (flush_failures, flush_retry_at, flush_error). Each change of the study
 * lands in the outbox in the same synchronous block (`enqueue`); a flush
 * writes the outbox to D1 and deletes what was written: the study row first,
 * then each trial and each batch of events on its own, so one that fails
 * does not hold up the rest. When D1 refuses the study row (an outage), the
 * flush stops and an alarm retries it with backoff, so an outage delays the
 * copy but loses nothing. When D1 takes the study row but refuses one trial
 * (or the queue one batch of events), that entry is retried with backoff and
 * after PARK_AFTER attempts parked as a dead letter with the reason: the
 * study's `storage` shows it (`status`), and `requeueParked` puts it back.
 */
import { scheduledBackoffMs } from '../lib/backoff';
import {
  intermediateWrite,
  syncedAfter,
  type IntermediateWrite,
  type PointSource,
  type Synced,
} from '../db/intermediate';
import { trialStatements, upsertStudy, upsertTrials, type TrialRecord } from '../db/studies';
import { eventMessages } from './events';
import { trialRecord, type CoordinatorStore } from './store';
import type { StudyConfig, StudyView } from '../contract/study';

export type OutboxKind = 'study' | 'trial' | 'event';

/** What is left of one flush's bound (FLUSH_STATEMENTS), and whether writes were left for the next flush. */
interface Budget {
  left: number;
  more: boolean;
}

/** One trial's D1 write within a flush. */
interface PlannedWrite {
  record: TrialRecord;
  write: IntermediateWrite;
  synced: Synced | null;
  statements: number;
}

/** D1 write retries (the study row, and each failing entry): after 1, 5, 30, 120 s, then every 10 min. */
const RETRY_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
/** Failed attempts after which an entry (a trial, an event) that D1 keeps refusing while it takes the study row is parked. */
export const PARK_AFTER = 6;
/** Outbox entries read per flush pass. */
const FLUSH_PASS = 200;
/**
 * The most D1 statements (and queue sends) one flush issues: Cloudflare allows a Worker
 * invocation 50 D1 queries on Workers Free and 1,000 on Workers Paid, and as many subrequests
 * (50 / 10,000; docs/ARCHITECTURE.md, "Write-through to D1"), and a statement binds at most
 * 100 values. A flush stops at this bound and leaves the rest to the next one, which the alarm
 * starts at once: a long trial's backlog reaches D1 over several invocations, each under it.
 */
export const FLUSH_STATEMENTS = 40;
/**
 * Reports reach D1 at most once per this many milliseconds per study: a report's change waits
 * for the next flush (by alarm) when one ran less than this ago. A fleet reporting every few
 * seconds then costs D1 one flush per study per second, not one per report (docs/ARCHITECTURE.md,
 * "Capacity"); a tell, a lease or an ask still flushes at once.
 */
const REPORT_FLUSH_MS = 1000;
/** Intermediate values per D1 statement (4 columns a row, 100 bound values a statement). */
const POINTS_PER_STATEMENT = 25;
/** Trials per D1 batch (one transaction; when it fails, each trial is written alone to find the one D1 refuses). */
const TRIAL_BATCH = 20;
/** Events per queue batch (the queue takes 100 messages; the object's SQLite binds 100 variables). */
const EVENT_BATCH = 50;

export class Outbox {
  private readonly sql: SqlStorage;
  private flushing: Promise<void> | null = null;
  /** When the last flush started (0: none since the object started). */
  private lastFlushAt = 0;
  /** The D1 statements (and queue sends) of each flush since the object started, oldest first (at most 10,000). */
  readonly statementLog: number[] = [];

  constructor(
    private readonly store: CoordinatorStore,
    /** The object's env, read at each write (tests swap env.DB for an outage). */
    private readonly env: Env,
    /** Set the object's alarm to whatever is due first (a retry here among them). */
    private readonly scheduleAlarm: () => Promise<void>,
  ) {
    this.sql = store.sql;
  }

  enqueue(kind: OutboxKind, ref: number | null = null): void {
    this.sql.exec(`INSERT INTO outbox (kind, ref) VALUES (?, ?)`, kind, ref);
  }

  /** Outbox entries not yet written. */
  pendingCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox`).one().n;
  }

  /** When a write is retried (the study row's, and the earliest failing entry's); for the alarm. */
  retryTimes(): number[] {
    const times: number[] = [];
    const retry = this.sql
      .exec<{ t: number | null }>(`SELECT MIN(next_at) AS t FROM outbox_failures`)
      .one().t;
    if (retry !== null) times.push(retry);
    const studyRetry = this.store.getMeta('flush_retry_at');
    if (studyRetry !== null) times.push(Number(studyRetry));
    const more = this.store.getMeta('flush_continue_at');
    if (more !== null) times.push(Number(more));
    return times;
  }

  /**
   * After a report: flush now when the last flush started REPORT_FLUSH_MS ago or more (and none
   * runs), else leave it to the alarm at that time. Null when deferred, else the flush.
   */
  flushSoon(): Promise<void> | null {
    const due = this.lastFlushAt + REPORT_FLUSH_MS;
    if (this.flushing === null && Date.now() >= due) return this.flush();
    const set = this.store.getMeta('flush_continue_at');
    if (set === null || Number(set) > due) this.store.setMeta('flush_continue_at', String(due));
    return null;
  }

  /** Write the outbox to D1 now; resolves when it is empty or a write failed. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /**
   * Put every parked entry back in the outbox, and make whatever waits for a
   * retry time due now (the caller flushes).
   */
  requeueParked(): void {
    const parked = this.sql
      .exec<{ kind: OutboxKind; ref: number }>(
        `SELECT kind, ref FROM dead_letters ORDER BY at, kind, ref`,
      )
      .toArray();
    for (const p of parked) {
      this.enqueue(p.kind, p.ref);
      // Whatever was done to D1 meanwhile, the retry rewrites the trial's intermediate values whole.
      if (p.kind === 'trial') this.store.setD1Synced(p.ref, null, null);
    }
    this.sql.exec(`DELETE FROM dead_letters`);
    // Whatever waits for a retry time is due now too.
    this.sql.exec(`UPDATE outbox_failures SET next_at = 0`);
  }

  /** Where the D1 copy stands: ok, behind (writes waiting or retrying), or parked (dead letters to retry). */
  status(): StudyView['storage'] {
    const pending = this.sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM (SELECT DISTINCT kind, ref FROM outbox)`)
      .one().n;
    const parked = this.sql
      .exec<{ kind: 'trial' | 'event'; ref: number; reason: string; attempts: number; at: number }>(
        `SELECT kind, ref, reason, attempts, at FROM dead_letters ORDER BY at, kind, ref`,
      )
      .toArray()
      .map((p) => ({
        kind: p.kind,
        ref: p.ref,
        reason: p.reason,
        attempts: p.attempts,
        at: new Date(p.at).toISOString(),
      }));
    const failing = this.sql
      .exec<{ reason: string; next_at: number }>(
        `SELECT reason, next_at FROM outbox_failures ORDER BY next_at LIMIT 1`,
      )
      .toArray()[0];
    const studyError = this.store.getMeta('flush_error');
    const retryAt = [this.store.getMeta('flush_retry_at'), failing?.next_at ?? null]
      .filter((t) => t !== null)
      .map(Number);
    const reason = studyError ?? failing?.reason ?? parked[0]?.reason ?? null;
    return {
      d1: parked.length > 0 ? 'parked' : pending > 0 ? 'behind' : 'ok',
      pending,
      parked,
      reason,
      next_attempt_at: retryAt.length > 0 ? new Date(Math.min(...retryAt)).toISOString() : null,
    };
  }

  private async flushOnce(): Promise<void> {
    const config = this.store.config;
    if (!config) return;
    const budget = { left: FLUSH_STATEMENTS, more: false };
    this.lastFlushAt = Date.now();
    this.store.deleteMeta('flush_continue_at');
    try {
      await this.flushWithin(config, budget);
    } finally {
      this.statementLog.push(FLUSH_STATEMENTS - budget.left);
      if (this.statementLog.length > 10_000) this.statementLog.shift();
    }
    if (budget.more) {
      // The bound was reached with writes left: the alarm starts the next flush at once.
      this.store.setMeta('flush_continue_at', String(Date.now()));
      await this.scheduleAlarm();
    }
  }

  private async flushWithin(config: StudyConfig, budget: Budget): Promise<void> {
    let cursor = 0;
    for (;;) {
      if (budget.left < 2) {
        budget.more = this.pendingCount() > 0;
        return;
      }
      const entries = this.sql
        .exec<{ id: number; kind: OutboxKind; ref: number | null }>(
          `SELECT id, kind, ref FROM outbox WHERE id > ? ORDER BY id LIMIT ?`,
          cursor,
          FLUSH_PASS,
        )
        .toArray();
      if (entries.length === 0) break;
      cursor = entries[entries.length - 1].id;
      // The study row (its current counts and best) first: trials reference it. When D1 refuses it,
      // D1 is down (or refuses the study itself): nothing else is tried, the alarm retries.
      budget.left--;
      if (!(await this.writeStudyRow(config))) return;
      const now = Date.now();
      const waiting = new Set(
        this.sql
          .exec<{ kind: string; ref: number }>(
            `SELECT kind, ref FROM outbox_failures WHERE next_at > ?`,
            now,
          )
          .toArray()
          .map((f) => `${f.kind}:${f.ref}`),
      );
      const parked = new Set(
        this.sql
          .exec<{ kind: string; ref: number }>(`SELECT kind, ref FROM dead_letters`)
          .toArray()
          .map((f) => `${f.kind}:${f.ref}`),
      );
      // Collapse repeated entries: the row's current state is what gets written.
      const trials = [
        ...new Set(entries.filter((e) => e.kind === 'trial').map((e) => e.ref as number)),
      ];
      const due = trials.filter((n) => {
        if (parked.has(`trial:${n}`)) {
          // Parked until retried (retryStorage), which writes its state as it is then.
          this.sql.exec(`DELETE FROM outbox WHERE kind = 'trial' AND ref = ?`, n);
          return false;
        }
        return !waiting.has(`trial:${n}`);
      });
      for (let i = 0; i < due.length && budget.left > 0; i += TRIAL_BATCH) {
        const group = due.slice(i, i + TRIAL_BATCH);
        if (group.length > 1 && (await this.writeTrials(config, group, false, budget))) continue;
        for (const n of group)
          if (budget.left > 0) await this.writeTrials(config, [n], true, budget);
      }
      const events = [
        ...new Set(entries.filter((e) => e.kind === 'event').map((e) => e.ref as number)),
      ].filter((id) => {
        if (parked.has(`event:${id}`))
          this.sql.exec(`DELETE FROM outbox WHERE kind = 'event' AND ref = ?`, id);
        return !parked.has(`event:${id}`) && !waiting.has(`event:${id}`);
      });
      for (let i = 0; i < events.length && budget.left > 0; i += EVENT_BATCH) {
        const ids = events.slice(i, i + EVENT_BATCH);
        budget.left--;
        const upTo = this.lastId();
        try {
          await this.sendEvents(config, ids);
          this.written('event', ids, upTo);
        } catch (err) {
          this.failed(config, 'event', ids, err, upTo);
        }
      }
    }
    if (this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox_failures`).one().n > 0)
      await this.scheduleAlarm();
  }

  /**
   * Write trials (their state now) in one D1 batch; true when D1 took it. A
   * refused single trial (`record`) counts a failed attempt towards parking.
   */
  private async writeTrials(
    config: StudyConfig,
    numbers: number[],
    record: boolean,
    budget: Budget,
  ): Promise<boolean> {
    const upTo = this.lastId();
    const writes = this.planTrials(config, numbers, budget);
    if (writes.length === 0) {
      budget.more = true;
      return true;
    }
    budget.left -= writes.reduce((a, w) => a + w.statements, 0);
    try {
      await upsertTrials(
        this.env.DB,
        writes.map((w) => w.record),
      );
    } catch (err) {
      if (record) this.failed(config, 'trial', numbers, err, upTo);
      return false;
    }
    for (const w of writes) {
      const after = syncedAfter(w.synced, w.write);
      this.store.setD1Synced(w.record.number, after?.maxStep ?? null, after?.count ?? null);
    }
    // A trial whose values did not all fit (or that did not fit at all) stays in the outbox for the next flush.
    const done = writes.filter((w) => !w.write.partial).map((w) => w.record.number);
    if (done.length < numbers.length) budget.more = true;
    this.written('trial', done, upTo);
    return true;
  }

  /**
   * The D1 records of `numbers` that fit in what is left of the flush's bound: each trial with as
   * many of the intermediate values D1 lacks as fit (the first by step; only those after what D1
   * has when that is all that changed: a long trial costs a row per step, not a rewrite per flush).
   */
  private planTrials(config: StudyConfig, numbers: number[], budget: Budget): PlannedWrite[] {
    let left = budget.left;
    const out: PlannedWrite[] = [];
    for (const n of numbers) {
      const r = this.store.row(n);
      if (!r) continue;
      const synced =
        r.d1_max_step === null || r.d1_count === null
          ? null
          : { maxStep: r.d1_max_step, count: r.d1_count };
      const fixed =
        trialStatements({ ...trialRecord(config.id, r, []), intermediateMode: 'append' }) + 1;
      const limit = Math.max(0, (left - fixed) * POINTS_PER_STATEMENT);
      const write = intermediateWrite(this.pointSource(n), synced, limit);
      const record = { ...trialRecord(config.id, r, write.points), intermediateMode: write.mode };
      const statements = trialStatements(record);
      if (statements > left || (write.points.length === 0 && write.partial)) break;
      left -= statements;
      out.push({ record, write, synced, statements });
    }
    return out;
  }

  /** The trial's values as intermediateWrite reads them. */
  private pointSource(number: number): PointSource {
    return {
      count: this.store.pointSummary(number).count,
      read: (afterStep, limit) => this.store.pointsUpTo(number, afterStep, limit),
      countAfter: (step) => this.store.countAfter(number, step),
    };
  }

  /** Upsert the study row; false (and a retry by alarm) when D1 refuses it. */
  private async writeStudyRow(config: StudyConfig): Promise<boolean> {
    const row = this.store.studyRow(config);
    const upTo = this.lastId();
    try {
      await upsertStudy(this.env.DB, row);
    } catch (err) {
      const attempt = Number(this.store.getMeta('flush_failures') ?? 0) + 1;
      this.store.setMeta('flush_failures', String(attempt));
      this.store.setMeta(
        'flush_retry_at',
        String(Date.now() + scheduledBackoffMs(attempt, RETRY_MS)),
      );
      this.store.setMeta('flush_error', errorText(err));
      await this.scheduleAlarm();
      console.error(
        `study ${config.id}: D1 write failed (attempt ${attempt}), retrying by alarm`,
        err,
      );
      return false;
    }
    this.sql.exec(`DELETE FROM outbox WHERE kind = 'study' AND id <= ?`, upTo);
    this.store.deleteMeta('flush_failures', 'flush_retry_at', 'flush_error');
    return true;
  }

  /** Hand events to the notifications queue (which finds the subscribers); then they are done here. */
  private async sendEvents(config: StudyConfig, ids: number[]): Promise<void> {
    const rows = this.store.events(ids);
    if (rows.length === 0) return;
    const messages = eventMessages(config, rows);
    await this.env.NOTIFICATIONS.sendBatch(
      messages.map((body) => ({ body, contentType: 'json' as const })),
    );
    this.store.deleteEvents(ids);
  }

  /** The highest outbox id now: entries up to it are covered by a state read at the same time. */
  private lastId(): number {
    return this.sql.exec<{ id: number | null }>(`SELECT MAX(id) AS id FROM outbox`).one().id ?? 0;
  }

  /** Entries written: drop their outbox entries up to `upTo` (later ones carry later changes) and their failures. */
  private written(kind: OutboxKind, refs: number[], upTo: number): void {
    for (const ref of refs) {
      this.sql.exec(`DELETE FROM outbox WHERE kind = ? AND ref = ? AND id <= ?`, kind, ref, upTo);
      this.sql.exec(`DELETE FROM outbox_failures WHERE kind = ? AND ref = ?`, kind, ref);
    }
  }

  /** Entries refused while D1 took the study row: retry with backoff, then park them as dead letters. */
  private failed(
    config: StudyConfig,
    kind: OutboxKind,
    refs: number[],
    err: unknown,
    upTo: number,
  ): void {
    const reason = errorText(err);
    const now = Date.now();
    for (const ref of refs) {
      const prev = this.sql
        .exec<{ attempts: number }>(
          `SELECT attempts FROM outbox_failures WHERE kind = ? AND ref = ?`,
          kind,
          ref,
        )
        .toArray()[0];
      const attempts = (prev?.attempts ?? 0) + 1;
      if (attempts >= PARK_AFTER) {
        this.sql.exec(
          `INSERT OR REPLACE INTO dead_letters (kind, ref, reason, attempts, at) VALUES (?, ?, ?, ?, ?)`,
          kind,
          ref,
          reason,
          attempts,
          now,
        );
        this.sql.exec(`DELETE FROM outbox_failures WHERE kind = ? AND ref = ?`, kind, ref);
        this.sql.exec(`DELETE FROM outbox WHERE kind = ? AND ref = ? AND id <= ?`, kind, ref, upTo);
        console.error(
          `study ${config.id}: ${kind} ${ref} parked as a dead letter after ${attempts} failed writes (${reason}); ` +
            `the rest of the study is written; retry with POST /v1/studies/${config.id}/storage/retry`,
        );
      } else {
        const next = now + scheduledBackoffMs(attempts, RETRY_MS);
        this.sql.exec(
          `INSERT OR REPLACE INTO outbox_failures (kind, ref, attempts, next_at, reason) VALUES (?, ?, ?, ?, ?)`,
          kind,
          ref,
          attempts,
          next,
          reason,
        );
        console.error(
          `study ${config.id}: writing ${kind} ${ref} failed (attempt ${attempts} of ${PARK_AFTER}: ${reason}); retrying`,
        );
      }
    }
  }
}

/** An error's message (with its cause, as D1 errors carry the SQLite one), for logs and the study's storage state. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause =
    err.cause instanceof Error && !err.message.includes(err.cause.message)
      ? `: ${err.cause.message}`
      : '';
  return `${err.message}${cause}`.slice(0, 500);
}

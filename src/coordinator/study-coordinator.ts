/**
 * StudyCoordinator: one Durable Object per study.
 *
 * Every ask, report and tell of a study runs here, one at a time: the
 * methods do all their reads and writes on the object's synchronous SQLite
 * storage without awaiting in between, so workerd's input gate orders them
 * and trial numbers are dense and unique under any concurrency. Decisions
 * (which params, whether to prune) are delegated to the pure samplers and
 * pruners in `tuning/`, fed read-only snapshots; the same history and seed
 * give the same suggestion, so a restarted object answers as before.
 *
 * The object's storage is the live truth. Each change also lands in an
 * outbox table in the same synchronous block; a flush writes the outbox to
 * D1 and deletes what was written: the study row first, then each trial and
 * each batch of events on its own, so one that fails does not hold up the
 * rest. When D1 refuses the study row (an outage), the flush stops and an
 * alarm retries it with backoff, so an outage delays the copy but loses
 * nothing. When D1 takes the study row but refuses one trial (or the queue
 * one batch of events), that entry is retried with backoff and after
 * PARK_AFTER attempts parked as a dead letter with the reason: the study's
 * `storage` shows it, and `retryStorage` (POST /v1/studies/{id}/storage/retry)
 * tries it again.
 *
 * Runner and edge studies lease their trials: `lease` starts a trial (a
 * waiting one first, else a new one from the sampler, so suggestions see
 * every result so far) under a random token with an expiry. Heartbeats
 * extend it; report and tell must carry it. An expired lease sends the
 * trial back to `waiting` (or to `failed` after `max_attempts` leases), by
 * the object's alarm or by the next call that looks. The one alarm also
 * retries D1 flushes, pushes job notices to `dispatch_url` and re-sends
 * edge trials, whichever is due first.
 */
import { DurableObject } from 'cloudflare:workers';
import { canonicalJson, hmacSha256Hex } from '../lib/hash';
import { randomBase64Url } from '../lib/ids';
import { DEFAULT_PROJECT_ID } from '../db/schema';
import { intermediateWrite, syncedAfter, type Point } from '../db/intermediate';
import { upsertStudy, upsertTrials } from '../db/studies';
import { GridExhaustedError } from '../tuning/errors';
import { evidenceFromTrials, extensionPast } from '../tuning/lr-validation';
import { makePruner, NopPruner, prunesAtAnyStep, trialsInSameBracket } from '../tuning/pruners';
import { makeSampler } from '../tuning/samplers';
import type { Direction, FrozenTrial, Params, TrialState } from '../tuning/types';
import { CoordinatorError } from './errors';
import type { Caller, EdgeExecutor, LeaseGrant, NotificationMessage, LeaseView, RunnerExecutor, StudyConfig, StudyView, TellBody, TrialView } from '../contract/study';

interface TrialRow {
  number: number;
  state: TrialState;
  params: string;
  value: number | null;
  intermediate: string;
  error: string | null;
  started_at: number | null;
  completed_at: number | null;
  tell: string | null;
  attempts: number;
  lease_token: string | null;
  lease_expires_at: number | null;
  runner: string | null;
  /** What D1 holds of the intermediate values (intermediate.ts): their last step and count; null when unknown. */
  d1_max_step: number | null;
  d1_count: number | null;
  [key: string]: SqlStorageValue;
}

/**
 * The most intermediate values a trial keeps. They live in one JSON column of the object's SQLite,
 * whose values stop at 2 MB (about 45,000 points), and every report reads them all.
 */
export const MAX_INTERMEDIATE = 20_000;
/** D1 write retries (the study row, and each failing entry): after 1, 5, 30, 120 s, then every 10 min. */
const RETRY_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
/** Failed attempts after which an entry (a trial, an event) that D1 keeps refusing while it takes the study row is parked. */
export const PARK_AFTER = 6;
/** Outbox entries read per flush pass. */
const FLUSH_PASS = 200;
/** Trials per D1 batch (one transaction; when it fails, each trial is written alone to find the one D1 refuses). */
const TRIAL_BATCH = 20;
/** Events per queue batch (the queue takes 100 messages; the object's SQLite binds 100 variables). */
const EVENT_BATCH = 50;

type OutboxKind = 'study' | 'trial' | 'event';
/** Job notices to dispatch_url: retried after 1, 2, 4, ... s (at most 5 min apart), then dropped. */
const DISPATCH_MAX_ATTEMPTS = 8;

/** What a queue message of an edge trial carries. */
export interface EdgeTrialMessage {
  project_id: string;
  study_id: string;
  number: number;
  token: string;
  params: Params;
}

type LeasedExecutor = RunnerExecutor | EdgeExecutor;

export class StudyCoordinator extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private config: StudyConfig | null = null;
  private flushing: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS trials (
        number INTEGER PRIMARY KEY, state TEXT NOT NULL, params TEXT NOT NULL, value REAL,
        intermediate TEXT NOT NULL DEFAULT '[]', error TEXT, started_at INTEGER, completed_at INTEGER, tell TEXT)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, ref INTEGER)`);
      // Entries of the outbox whose write failed (retried at next_at), and those parked after PARK_AFTER failures.
      this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox_failures (
        kind TEXT NOT NULL, ref INTEGER NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (kind, ref))`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
        kind TEXT NOT NULL, ref INTEGER NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (kind, ref))`);
      // Notification events waiting to be handed to the notifications queue (with the outbox's D1 writes).
      this.sql.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL)`);
      // Lease columns (added after the first release: objects created before get them here).
      const cols = new Set(this.sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('trials')`).toArray().map((r) => r.name));
      for (const [col, def] of [
        ['attempts', 'INTEGER NOT NULL DEFAULT 0'],
        ['lease_token', 'TEXT'],
        ['lease_expires_at', 'INTEGER'],
        ['runner', 'TEXT'],
        ['d1_max_step', 'REAL'],
        ['d1_count', 'INTEGER'],
      ] as const) {
        if (!cols.has(col)) this.sql.exec(`ALTER TABLE trials ADD COLUMN ${col} ${def}`);
      }
      const row = this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'config'`).toArray()[0];
      this.config = row ? (JSON.parse(row.value) as StudyConfig) : null;
    });
  }

  /**
   * Create the study; creating it again with the same config is a no-op.
   * `dispatchSecret` signs the job notices of a runner study with a dispatch_url.
   */
  async create(config: StudyConfig, dispatchSecret?: string): Promise<StudyView> {
    if (this.config) {
      if (canonicalJson(this.config) !== canonicalJson(config)) {
        throw new CoordinatorError('conflict', `study ${config.id} already exists with another configuration`);
      }
      return this.view();
    }
    this.sql.exec(`INSERT INTO meta (key, value) VALUES ('config', ?)`, JSON.stringify(config));
    if (dispatchSecret) this.setMeta('dispatch_secret', dispatchSecret);
    this.config = config;
    this.enqueueOutbox('study');
    this.scheduleFlush();
    this.noteAvailable();
    await this.scheduleAlarm();
    return this.view();
  }

  async getStudy(): Promise<StudyView> {
    return this.view();
  }

  async listTrials(): Promise<TrialView[]> {
    this.requireConfig();
    return this.rows().map((r) => this.trialView(r));
  }

  /** Enqueue fixed params (warm start): the next ask returns this trial first. */
  async enqueue(params: Params): Promise<TrialView> {
    const config = this.requireConfig();
    const number = this.count();
    if (config.max_trials !== null && number >= config.max_trials) {
      throw new CoordinatorError('conflict', `the study already has max_trials (${config.max_trials}) trials`);
    }
    this.sql.exec(`INSERT INTO trials (number, state, params) VALUES (?, 'waiting', ?)`, number, JSON.stringify(params));
    this.enqueueOutbox('trial', number);
    this.enqueueOutbox('study');
    this.scheduleFlush();
    this.noteAvailable();
    await this.scheduleAlarm();
    return this.trialView(this.row(number)!);
  }

  async ask(count: number): Promise<TrialView[]> {
    const config = this.requireConfig();
    if (config.executor.kind === 'runner') {
      throw new CoordinatorError('conflict', 'the trials of a runner study are leased by runners (POST /v1/runners/lease), not asked');
    }
    if (config.executor.kind === 'edge') {
      throw new CoordinatorError('conflict', `the trials of an edge study run on the edge: start them with POST /v1/studies/${config.id}/run`);
    }
    const out: TrialView[] = [];
    for (let k = 0; k < count; k++) {
      const started = this.startTrial(config, Date.now(), out.length === 0);
      if (started === null) break;
      out.push(this.trialView(this.row(started)!));
    }
    this.enqueueOutbox('study');
    this.scheduleFlush();
    return out;
  }

  /**
   * Lease the next trial of a runner study: a waiting one first, else a new
   * one from the sampler. Null when there is nothing to do (max_trials
   * reached, every trial leased, or max_parallel leases out).
   */
  async lease(runner: { name: string | null }): Promise<{ grant: LeaseGrant | null; retry_after_s: number | null }> {
    const config = this.requireConfig();
    const executor = config.executor;
    if (executor.kind !== 'runner') {
      throw new CoordinatorError('conflict', `study ${config.id} is not a runner study (executor '${executor.kind}'): its trials are not leased`);
    }
    const now = Date.now();
    this.expireLeases(now);
    const grant = this.grantLease(config, executor, now, runner.name);
    if (grant) {
      this.enqueueOutbox('study');
      this.scheduleFlush();
    }
    await this.scheduleAlarm();
    if (grant) return { grant, retry_after_s: null };
    // Nothing now. Leases out may still come back (expiry) or free a slot (max_parallel): ask again soon.
    // Nothing out at all: the study has no more work for runners.
    const earliest = this.sql
      .exec<{ t: number | null }>(`SELECT MIN(lease_expires_at) AS t FROM trials WHERE state = 'running' AND lease_expires_at IS NOT NULL`)
      .one().t;
    if (earliest === null) return { grant: null, retry_after_s: null };
    return { grant: null, retry_after_s: Math.max(1, Math.min(5, Math.ceil((earliest - now) / 1000))) };
  }

  /** Extend a lease by lease_seconds from now. */
  async heartbeat(number: number, token: string): Promise<{ lease: LeaseView }> {
    const config = this.requireConfig();
    const executor = this.leasedExecutor(config);
    const now = Date.now();
    if (this.expireLeases(now)) await this.scheduleAlarm();
    const row = this.requireTrial(number);
    this.checkLease(row, token, false);
    const expires = now + executor.lease_seconds * 1000;
    this.sql.exec(`UPDATE trials SET lease_expires_at = ? WHERE number = ?`, expires, number);
    return { lease: this.leaseView(executor, { ...row, lease_expires_at: expires }) };
  }

  /** Hand a leased trial back (a runner stopping): it waits for the next lease, and the attempt does not count. */
  async release(number: number, token: string): Promise<TrialView> {
    const config = this.requireConfig();
    this.leasedExecutor(config);
    const now = Date.now();
    this.expireLeases(now);
    const row = this.requireTrial(number);
    this.checkLease(row, token, false);
    this.sql.exec(
      `UPDATE trials SET state = 'waiting', attempts = MAX(attempts - 1, 0), lease_token = NULL, lease_expires_at = NULL, intermediate = '[]' WHERE number = ?`,
      number,
    );
    this.enqueueOutbox('trial', number);
    this.enqueueOutbox('study');
    this.scheduleFlush();
    this.noteAvailable();
    await this.scheduleAlarm();
    return this.trialView(this.row(number)!);
  }

  /**
   * Start the edge trials of an edge study: up to `parallelism` at once, each
   * sent to the queue; every tell starts the next until max_trials.
   */
  async run(): Promise<StudyView> {
    const config = this.requireConfig();
    if (config.executor.kind !== 'edge') {
      throw new CoordinatorError('conflict', `study ${config.id} is not an edge study (executor '${config.executor.kind}'): ask and tell, or lease its trials`);
    }
    this.setMeta('edge_running', '1');
    this.expireLeases(Date.now());
    await this.pumpEdge(config, config.executor);
    await this.scheduleAlarm();
    return this.view();
  }

  /** One intermediate value: the pruner judges the trial at its latest step. */
  async report(number: number, step: number, value: number, caller: Caller = {}): Promise<{ should_prune: boolean }> {
    return this.record(number, [{ step, value }], caller, false);
  }

  /**
   * A batch of intermediate values (steps strictly increasing; the API checks the body), taken
   * all or none: one that conflicts with a value the trial holds is a 409 and nothing is written.
   * The pruner judges the trial at each step of the batch on its values up to that step, as
   * single reports in step order would have been: prune when any says so.
   */
  async reportBatch(number: number, points: Point[], caller: Caller = {}): Promise<{ should_prune: boolean }> {
    return this.record(number, points, caller, true);
  }

  private async record(number: number, points: readonly Point[], caller: Caller, batch: boolean): Promise<{ should_prune: boolean }> {
    const config = this.requireConfig();
    const leased = this.authorizeLease(config, caller);
    if (leased && this.expireLeases(Date.now())) await this.scheduleAlarm();
    const row = this.requireTrial(number);
    const intermediate = JSON.parse(row.intermediate) as Point[];
    const held = new Map(intermediate.map((p) => [p.step, p.value]));
    if (row.state !== 'running') {
      // A late or repeated report after the trial ended: answer, change nothing.
      if (row.state !== 'waiting' && points.every((p) => held.get(p.step) === p.value)) return { should_prune: row.state === 'pruned' };
      if (leased) this.checkLease(row, caller.lease_token!, false);
      throw new CoordinatorError('conflict', `trial ${number} is ${row.state}; reports are taken while it runs`);
    }
    if (leased) {
      this.checkLease(row, caller.lease_token!, false);
      // A report shows the holder is alive: it extends the lease like a heartbeat.
      const executor = this.leasedExecutor(config);
      this.sql.exec(`UPDATE trials SET lease_expires_at = ? WHERE number = ?`, Date.now() + executor.lease_seconds * 1000, number);
    }
    // Every point is checked before anything is written: a batch is taken whole or not at all.
    const added: Point[] = [];
    points.forEach((p, i) => {
      const existing = held.get(p.step);
      if (existing === undefined) {
        added.push(p);
        held.set(p.step, p.value);
      } else if (existing !== p.value) {
        throw new CoordinatorError('conflict', `${batch ? `points.${i}: ` : ''}trial ${number} already reported ${existing} at step ${p.step}`);
      }
    });
    if (intermediate.length + added.length > MAX_INTERMEDIATE) {
      throw new CoordinatorError(
        'conflict',
        `trial ${number} holds ${intermediate.length} intermediate values and takes at most ${MAX_INTERMEDIATE}: report every few steps instead of every step (${added.length === 1 ? 'the new value was' : `the ${added.length} new values were`} not stored)`,
      );
    }
    if (added.length > 0) {
      const last = intermediate.length > 0 ? intermediate[intermediate.length - 1].step : -1;
      intermediate.push(...added);
      // Reports may arrive in any order of steps; the common case (later steps) needs no sort.
      if (added[0].step <= last || added.some((p, i) => i > 0 && p.step <= added[i - 1].step)) intermediate.sort((a, b) => a.step - b.step);
      this.sql.exec(`UPDATE trials SET intermediate = ? WHERE number = ?`, JSON.stringify(intermediate), number);
      this.enqueueOutbox('trial', number);
      this.scheduleFlush();
    }
    const pruner = makePruner(config.pruner);
    // Without a pruner there is nothing to judge: no need to read every trial's values.
    if (pruner instanceof NopPruner) return { should_prune: false };
    const trials = this.frozen();
    const trial = trials.find((t) => t.number === number)!;
    const ctx = { trial, trials, direction: config.direction as Direction };
    return { should_prune: batch ? prunesAtAnyStep(pruner, ctx, points.map((p) => p.step)) : pruner.shouldPrune(ctx) };
  }

  async tell(number: number, body: TellBody, caller: Caller = {}): Promise<TrialView> {
    const config = this.requireConfig();
    const leased = this.authorizeLease(config, caller);
    if (leased && this.expireLeases(Date.now())) await this.scheduleAlarm();
    const row = this.requireTrial(number);
    const fingerprint = canonicalJson(body);
    if (row.tell !== null) {
      if (row.tell === fingerprint) return this.trialView(row);
      throw new CoordinatorError('conflict', `trial ${number} was already told ${row.tell}; a different tell is refused`);
    }
    if (row.state === 'complete' || row.state === 'pruned' || row.state === 'failed') {
      throw new CoordinatorError('conflict', `trial ${number} is ${row.state}${row.error ? ` (${row.error})` : ''}; it takes no tell`);
    }
    if (leased) {
      // A late tell whose lease expired is still taken while nobody else holds the trial.
      this.checkLease(row, caller.lease_token!, true);
    } else if (row.state === 'waiting') {
      throw new CoordinatorError('conflict', `trial ${number} is waiting: ask for it before telling its result`);
    }
    const state: TrialState = 'value' in body ? 'complete' : body.state;
    const value = 'value' in body ? body.value : null;
    const error = 'error' in body && typeof body.error === 'string' ? body.error : null;
    const before = this.snapshot(config);
    this.sql.exec(
      `UPDATE trials SET state = ?, value = ?, error = ?, completed_at = ?, tell = ?, lease_expires_at = NULL WHERE number = ?`,
      state,
      value,
      error,
      Date.now(),
      fingerprint,
      number,
    );
    this.enqueueOutbox('trial', number);
    this.extendLrRound(config);
    this.enqueueOutbox('study');
    this.emitChanges(config, before, [number]);
    this.scheduleFlush();
    if (leased) {
      // A finished trial makes new work available only when it frees one of max_parallel's slots.
      if (config.executor.kind === 'runner' && config.executor.max_parallel !== null) this.noteAvailable();
      if (config.executor.kind === 'edge') await this.pumpEdge(config, config.executor);
      await this.scheduleAlarm();
    }
    return this.trialView(this.row(number)!);
  }

  /** Whatever is due: expire leases, retry the D1 flush, push a job notice, re-send edge trials. */
  override async alarm(): Promise<void> {
    const config = this.config;
    if (!config) return;
    const now = Date.now();
    this.expireLeases(now);
    if (this.pendingCount() > 0) await this.flush();
    await this.dispatchIfDue(config, now);
    if (config.executor.kind === 'edge') await this.pumpEdge(config, config.executor);
    await this.scheduleAlarm();
  }

  /** Rows still waiting for D1 (for tests and diagnostics). */
  async pendingWrites(): Promise<number> {
    return this.pendingCount();
  }

  /** Write the outbox to D1 now; resolves when it is empty or a write failed. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  // --- internals -----------------------------------------------------------

  private async flushOnce(): Promise<void> {
    const config = this.config;
    if (!config) return;
    let cursor = 0;
    for (;;) {
      const entries = this.sql
        .exec<{ id: number; kind: OutboxKind; ref: number | null }>(`SELECT id, kind, ref FROM outbox WHERE id > ? ORDER BY id LIMIT ?`, cursor, FLUSH_PASS)
        .toArray();
      if (entries.length === 0) break;
      cursor = entries[entries.length - 1].id;
      // The study row (its current counts and best) first: trials reference it. When D1 refuses it,
      // D1 is down (or refuses the study itself): nothing else is tried, the alarm retries.
      if (!(await this.writeStudyRow(config))) return;
      const now = Date.now();
      const waiting = new Set(
        this.sql
          .exec<{ kind: string; ref: number }>(`SELECT kind, ref FROM outbox_failures WHERE next_at > ?`, now)
          .toArray()
          .map((f) => `${f.kind}:${f.ref}`),
      );
      const parked = new Set(this.sql.exec<{ kind: string; ref: number }>(`SELECT kind, ref FROM dead_letters`).toArray().map((f) => `${f.kind}:${f.ref}`));
      // Collapse repeated entries: the row's current state is what gets written.
      const trials = [...new Set(entries.filter((e) => e.kind === 'trial').map((e) => e.ref as number))];
      const due = trials.filter((n) => {
        if (parked.has(`trial:${n}`)) {
          // Parked until retried (retryStorage), which writes its state as it is then.
          this.sql.exec(`DELETE FROM outbox WHERE kind = 'trial' AND ref = ?`, n);
          return false;
        }
        return !waiting.has(`trial:${n}`);
      });
      for (let i = 0; i < due.length; i += TRIAL_BATCH) {
        const group = due.slice(i, i + TRIAL_BATCH);
        if (group.length > 1 && (await this.writeTrials(config, group, false))) continue;
        for (const n of group) await this.writeTrials(config, [n], true);
      }
      const events = [...new Set(entries.filter((e) => e.kind === 'event').map((e) => e.ref as number))].filter((id) => {
        if (parked.has(`event:${id}`)) this.sql.exec(`DELETE FROM outbox WHERE kind = 'event' AND ref = ?`, id);
        return !parked.has(`event:${id}`) && !waiting.has(`event:${id}`);
      });
      for (let i = 0; i < events.length; i += EVENT_BATCH) {
        const ids = events.slice(i, i + EVENT_BATCH);
        const upTo = this.lastOutboxId();
        try {
          await this.sendEvents(config, ids);
          this.written('event', ids, upTo);
        } catch (err) {
          this.failed(config, 'event', ids, err, upTo);
        }
      }
    }
    if (this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox_failures`).one().n > 0) await this.scheduleAlarm();
  }

  /**
   * Write trials (their state now) in one D1 batch; true when D1 took it. A
   * refused single trial (`record`) counts a failed attempt towards parking.
   */
  private async writeTrials(config: StudyConfig, numbers: number[], record: boolean): Promise<boolean> {
    const rows = numbers.map((n) => this.row(n)).filter((r): r is TrialRow => r !== undefined);
    const upTo = this.lastOutboxId();
    // Only the steps D1 lacks, when that is all that changed: a long trial costs a row per step, not a rewrite per flush.
    const writes = rows.map((r) => {
      const points = JSON.parse(r.intermediate) as Point[];
      const synced = r.d1_max_step === null || r.d1_count === null ? null : { maxStep: r.d1_max_step, count: r.d1_count };
      return { number: r.number, points, write: intermediateWrite(points, synced) };
    });
    try {
      await upsertTrials(
        this.env.DB,
        rows.map((r, i) => ({ ...this.trialRecord(config.id, r), intermediate: writes[i].write.points, intermediateMode: writes[i].write.mode })),
      );
    } catch (err) {
      if (record) this.failed(config, 'trial', numbers, err, upTo);
      return false;
    }
    for (const w of writes) {
      const after = syncedAfter(w.points);
      this.sql.exec(`UPDATE trials SET d1_max_step = ?, d1_count = ? WHERE number = ?`, after?.maxStep ?? null, after?.count ?? null, w.number);
    }
    this.written('trial', numbers, upTo);
    return true;
  }

  /** Upsert the study row; false (and a retry by alarm) when D1 refuses it. */
  private async writeStudyRow(config: StudyConfig): Promise<boolean> {
    const row = this.studyRow(config);
    const upTo = this.lastOutboxId();
    try {
      await upsertStudy(this.env.DB, row);
    } catch (err) {
      const attempt = Number(this.getMeta('flush_failures') ?? 0) + 1;
      this.setMeta('flush_failures', String(attempt));
      this.setMeta('flush_retry_at', String(Date.now() + RETRY_MS[Math.min(attempt - 1, RETRY_MS.length - 1)]));
      this.setMeta('flush_error', errorText(err));
      await this.scheduleAlarm();
      console.error(`study ${config.id}: D1 write failed (attempt ${attempt}), retrying by alarm`, err);
      return false;
    }
    this.sql.exec(`DELETE FROM outbox WHERE kind = 'study' AND id <= ?`, upTo);
    this.sql.exec(`DELETE FROM meta WHERE key IN ('flush_failures', 'flush_retry_at', 'flush_error')`);
    return true;
  }

  /** The highest outbox id now: entries up to it are covered by a state read at the same time. */
  private lastOutboxId(): number {
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
  private failed(config: StudyConfig, kind: OutboxKind, refs: number[], err: unknown, upTo: number): void {
    const reason = errorText(err);
    const now = Date.now();
    for (const ref of refs) {
      const prev = this.sql.exec<{ attempts: number }>(`SELECT attempts FROM outbox_failures WHERE kind = ? AND ref = ?`, kind, ref).toArray()[0];
      const attempts = (prev?.attempts ?? 0) + 1;
      if (attempts >= PARK_AFTER) {
        this.sql.exec(`INSERT OR REPLACE INTO dead_letters (kind, ref, reason, attempts, at) VALUES (?, ?, ?, ?, ?)`, kind, ref, reason, attempts, now);
        this.sql.exec(`DELETE FROM outbox_failures WHERE kind = ? AND ref = ?`, kind, ref);
        this.sql.exec(`DELETE FROM outbox WHERE kind = ? AND ref = ? AND id <= ?`, kind, ref, upTo);
        console.error(
          `study ${config.id}: ${kind} ${ref} parked as a dead letter after ${attempts} failed writes (${reason}); ` +
            `the rest of the study is written; retry with POST /v1/studies/${config.id}/storage/retry`,
        );
      } else {
        const next = now + RETRY_MS[Math.min(attempts - 1, RETRY_MS.length - 1)];
        this.sql.exec(`INSERT OR REPLACE INTO outbox_failures (kind, ref, attempts, next_at, reason) VALUES (?, ?, ?, ?, ?)`, kind, ref, attempts, next, reason);
        console.error(`study ${config.id}: writing ${kind} ${ref} failed (attempt ${attempts} of ${PARK_AFTER}: ${reason}); retrying`);
      }
    }
  }

  /** Put every parked entry back in the outbox and write now; answers the study with its storage state. */
  async retryStorage(): Promise<StudyView> {
    this.requireConfig();
    const parked = this.sql.exec<{ kind: OutboxKind; ref: number }>(`SELECT kind, ref FROM dead_letters ORDER BY at, kind, ref`).toArray();
    for (const p of parked) {
      this.enqueueOutbox(p.kind, p.ref);
      // Whatever was done to D1 meanwhile, the retry rewrites the trial's intermediate values whole.
      if (p.kind === 'trial') this.sql.exec(`UPDATE trials SET d1_max_step = NULL, d1_count = NULL WHERE number = ?`, p.ref);
    }
    this.sql.exec(`DELETE FROM dead_letters`);
    // Whatever waits for a retry time is due now too.
    this.sql.exec(`UPDATE outbox_failures SET next_at = 0`);
    this.enqueueOutbox('study');
    await this.flush();
    // A flush already finishing when these were enqueued may have missed them.
    if (this.pendingCount() > 0) await this.flush();
    return this.view();
  }

  private scheduleFlush(): void {
    this.ctx.waitUntil(this.flush());
  }

  // --- trials and leases ---------------------------------------------------

  /**
   * Start the next trial (state running): a waiting one first, else a new one
   * from the sampler. Null when there is none to start (max_trials reached or
   * the grid exhausted); with `throwIfNone`, a 409 instead.
   */
  private startTrial(config: StudyConfig, now: number, throwIfNone: boolean): number | null {
    const waiting = this.sql.exec<{ number: number }>(`SELECT number FROM trials WHERE state = 'waiting' ORDER BY number LIMIT 1`).toArray()[0];
    if (waiting) {
      this.sql.exec(`UPDATE trials SET state = 'running', started_at = ? WHERE number = ?`, now, waiting.number);
      this.enqueueOutbox('trial', waiting.number);
      return waiting.number;
    }
    const number = this.count();
    if (config.max_trials !== null && number >= config.max_trials) {
      if (throwIfNone) throw new CoordinatorError('conflict', `the study has reached max_trials (${config.max_trials})`);
      return null;
    }
    const sampler = makeSampler(config.sampler.name, config.sampler);
    const pruner = makePruner(config.pruner);
    let params: Params;
    try {
      params = sampler.sample({
        space: config.space,
        // With Hyperband, a trial learns only from the trials of its own bracket.
        trials: trialsInSameBracket(pruner, number, this.frozen()),
        direction: config.direction as Direction,
        seed: config.sampler.seed,
        trialNumber: number,
      });
    } catch (err) {
      if (!(err instanceof GridExhaustedError)) throw err;
      if (throwIfNone) throw new CoordinatorError('conflict', 'the grid is exhausted: every combination of the space has been asked');
      return null;
    }
    this.sql.exec(`INSERT INTO trials (number, state, params, started_at) VALUES (?, 'running', ?, ?)`, number, JSON.stringify(params), now);
    this.enqueueOutbox('trial', number);
    return number;
  }

  /** Start a trial under a new lease, unless the bound on leases at once is reached or nothing is left. */
  private grantLease(config: StudyConfig, executor: LeasedExecutor, now: number, runner: string | null): LeaseGrant | null {
    const cap = executor.kind === 'runner' ? executor.max_parallel : executor.parallelism;
    if (cap !== null && this.runningCount() >= cap) return null;
    const number = this.startTrial(config, now, false);
    if (number === null) return null;
    const token = `lease_${randomBase64Url(18)}`;
    const expires = now + executor.lease_seconds * 1000;
    this.sql.exec(
      `UPDATE trials SET attempts = attempts + 1, lease_token = ?, lease_expires_at = ?, runner = ? WHERE number = ?`,
      token,
      expires,
      runner,
      number,
    );
    const row = this.row(number)!;
    return {
      study: { id: config.id, name: config.name, metric: config.metric, direction: config.direction },
      trial: this.trialView(row),
      lease: this.leaseView(executor, row),
    };
  }

  private leaseView(executor: LeasedExecutor, row: TrialRow): LeaseView {
    return {
      token: row.lease_token!,
      expires_at: new Date(row.lease_expires_at!).toISOString(),
      attempt: row.attempts,
      heartbeat_seconds: Math.max(1, Math.floor(executor.lease_seconds / 3)),
    };
  }

  private leasedExecutor(config: StudyConfig): LeasedExecutor {
    if (config.executor.kind === 'client') {
      throw new CoordinatorError('conflict', `study ${config.id} is a client study (ask and tell): its trials have no leases`);
    }
    return config.executor;
  }

  /** Whether this call acts on a leased trial (and must hold its lease). */
  private authorizeLease(config: StudyConfig, caller: Caller): boolean {
    if (config.executor.kind === 'client') {
      // A runner key sees only runner and edge studies.
      if (caller.runner_only) throw new CoordinatorError('not_found', 'no such study');
      if (caller.lease_token !== undefined) {
        throw new CoordinatorError('invalid', "lease_token: this study's trials are not leased (executor 'client'): leave it out");
      }
      return false;
    }
    if (caller.lease_token === undefined) {
      throw new CoordinatorError('invalid', `lease_token: required: the trials of a ${config.executor.kind} study are leased, and only the lease holder reports and tells`);
    }
    return true;
  }

  /** Throw a clear 409 unless `token` is the live lease of the trial (or, with allowLate, its expired one while nobody else holds it). */
  private checkLease(row: TrialRow, token: string, allowLate: boolean): void {
    const n = row.number;
    if (row.lease_token === token) {
      if (row.state === 'running') return;
      if (row.state === 'waiting') {
        if (allowLate) return;
        throw new CoordinatorError('conflict', `your lease on trial ${n} expired: the trial waits to be leased again (a late tell is still taken until then)`);
      }
      throw new CoordinatorError('conflict', `trial ${n} is ${row.state}${row.error ? ` (${row.error})` : ''}`);
    }
    if (row.state === 'running') {
      throw new CoordinatorError(
        'conflict',
        `stale lease token: trial ${n} was leased again (attempt ${row.attempts}${row.runner ? ` by '${row.runner}'` : ''}) after your lease ended; stop working on it`,
      );
    }
    if (row.state === 'waiting') throw new CoordinatorError('conflict', `stale lease token: trial ${n} is waiting for a new lease`);
    throw new CoordinatorError('conflict', `stale lease token: trial ${n} is already ${row.state}`);
  }

  /** Requeue (or fail, after max_attempts) every trial whose lease has expired by `now`. True if any did. */
  private expireLeases(now: number): boolean {
    const config = this.config;
    if (!config || config.executor.kind === 'client') return false;
    const maxAttempts = config.executor.max_attempts;
    const before = this.snapshot(config);
    const expired = this.sql
      .exec<TrialRow>(`SELECT * FROM trials WHERE state = 'running' AND lease_expires_at IS NOT NULL AND lease_expires_at <= ? ORDER BY number`, now)
      .toArray();
    for (const r of expired) {
      const who = r.runner ? ` (runner '${r.runner}')` : '';
      if (r.attempts >= maxAttempts) {
        this.sql.exec(
          `UPDATE trials SET state = 'failed', error = ?, completed_at = ?, lease_expires_at = NULL WHERE number = ?`,
          `lease expired on attempt ${r.attempts} of ${maxAttempts}${who}: no heartbeat or result in time`,
          now,
          r.number,
        );
      } else {
        this.sql.exec(
          `UPDATE trials SET state = 'waiting', error = ?, intermediate = '[]', lease_expires_at = NULL WHERE number = ?`,
          `attempt ${r.attempts}: lease expired${who}`,
          r.number,
        );
      }
      this.enqueueOutbox('trial', r.number);
    }
    if (expired.length === 0) return false;
    this.extendLrRound(config);
    this.enqueueOutbox('study');
    this.emitChanges(config, before, expired.map((r) => r.number));
    this.scheduleFlush();
    this.noteAvailable();
    return true;
  }

  /**
   * An lr/suggest round of a client or runners (config.lr_extension) whose trials have all ended:
   * when the best candidate is the lowest or highest lr, enqueue two trials past that edge (once),
   * growing the space's choices and max_trials by as much. Changes `config` in place (the caller's
   * view of the study, events included, sees the study running again, not completed).
   */
  private extendLrRound(config: StudyConfig): void {
    const ext = config.lr_extension;
    if (!ext || ext.done || config.max_trials === null || this.finished() < config.max_trials) return;
    const spec = config.space.lr;
    const lrs = spec?.type === 'categorical' ? spec.choices.filter((c): c is number => typeof c === 'number') : [];
    const trials = this.rows().map((r) => ({ params: JSON.parse(r.params) as Params, state: r.state, value: r.value, intermediate: JSON.parse(r.intermediate) as Point[], error: r.error }));
    const found = spec?.type === 'categorical' ? extensionPast(evidenceFromTrials(lrs.map((lr) => ({ lr, sources: [] })), trials), lrs) : null;
    const fresh = (found?.lrs ?? []).filter((lr) => !lrs.includes(lr));
    config.lr_extension = { done: true, lrs: fresh };
    if (spec?.type === 'categorical' && fresh.length > 0) {
      // A round on several seeds (space.seed): each new lr trains on every seed too.
      const seedSpec = config.space.seed;
      const seeds = seedSpec?.type === 'categorical' ? seedSpec.choices : [null];
      config.space = { ...config.space, lr: { ...spec, choices: [...spec.choices, ...fresh] } };
      config.max_trials += fresh.length * seeds.length;
      for (const lr of fresh) {
        for (const seed of seeds) {
          const number = this.count();
          this.sql.exec(`INSERT INTO trials (number, state, params) VALUES (?, 'waiting', ?)`, number, JSON.stringify(seed === null ? { lr } : { lr, seed }));
          this.enqueueOutbox('trial', number);
        }
      }
    }
    this.sql.exec(`UPDATE meta SET value = ? WHERE key = 'config'`, JSON.stringify(config));
    this.config = config;
    this.noteAvailable();
  }

  private runningCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM trials WHERE state = 'running'`).one().n;
  }

  /** Trials a runner could lease now (Infinity: no bound). */
  private available(config: StudyConfig, executor: RunnerExecutor): number {
    const waiting = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM trials WHERE state = 'waiting'`).one().n;
    let n = waiting + (config.max_trials === null ? Infinity : Math.max(0, config.max_trials - this.count()));
    if (executor.max_parallel !== null) n = Math.min(n, Math.max(0, executor.max_parallel - this.runningCount()));
    return n;
  }

  /** Mark a job notice due (runner studies with a dispatch_url), unless one is already pending. */
  private noteAvailable(): void {
    const config = this.config;
    if (!config || config.executor.kind !== 'runner' || !config.executor.dispatch_url) return;
    if (this.getMeta('dispatch_at') !== null) return;
    if (this.available(config, config.executor) === 0) return;
    this.setMeta('dispatch_at', String(Date.now()));
    this.setMeta('dispatch_attempt', '0');
  }

  /** POST the signed job notice to dispatch_url if one is due; on failure, retry later with backoff. */
  private async dispatchIfDue(config: StudyConfig, now: number): Promise<void> {
    const executor = config.executor;
    if (executor.kind !== 'runner' || !executor.dispatch_url) return;
    const at = this.getMeta('dispatch_at');
    if (at === null || Number(at) > now) return;
    const available = this.available(config, executor);
    if (available === 0) {
      this.sql.exec(`DELETE FROM meta WHERE key IN ('dispatch_at', 'dispatch_attempt')`);
      return;
    }
    const attempt = Number(this.getMeta('dispatch_attempt') ?? 0) + 1;
    const body = JSON.stringify({
      type: 'trials.available',
      study_id: config.id,
      study_name: config.name,
      available: Number.isFinite(available) ? available : null,
      lease: { method: 'POST', path: '/v1/runners/lease', body: { study_id: config.id } },
      sent_at: new Date(now).toISOString(),
    });
    const timestamp = String(Math.floor(now / 1000));
    const signature = await hmacSha256Hex(this.getMeta('dispatch_secret') ?? '', `${timestamp}.${body}`);
    let ok = false;
    let detail: string;
    try {
      const res = await fetch(executor.dispatch_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'stride-dispatch/1', 'stride-timestamp': timestamp, 'stride-signature': `v1=${signature}` },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      ok = res.ok;
      detail = `HTTP ${res.status}`;
      await res.body?.cancel();
    } catch (err) {
      detail = err instanceof Error ? err.message : String(err);
    }
    this.setMeta('dispatch_last', JSON.stringify({ at: new Date(now).toISOString(), attempt, ok, detail }));
    if (ok || attempt >= DISPATCH_MAX_ATTEMPTS) {
      if (!ok) console.error(`study ${config.id}: job notice to ${executor.dispatch_url} failed ${attempt} times (${detail}); giving up until trials become available again`);
      this.sql.exec(`DELETE FROM meta WHERE key IN ('dispatch_at', 'dispatch_attempt')`);
    } else {
      this.setMeta('dispatch_attempt', String(attempt));
      this.setMeta('dispatch_at', String(Date.now() + Math.min(300_000, 1000 * 2 ** (attempt - 1))));
    }
  }

  /** Keep `parallelism` edge trials in flight while the study runs: lease them and send them to the queue. */
  private async pumpEdge(config: StudyConfig, executor: EdgeExecutor): Promise<void> {
    if (this.getMeta('edge_running') !== '1') return;
    const now = Date.now();
    const messages: EdgeTrialMessage[] = [];
    for (;;) {
      const grant = this.grantLease(config, executor, now, 'edge');
      if (!grant) break;
      messages.push({ project_id: config.project_id ?? DEFAULT_PROJECT_ID, study_id: config.id, number: grant.trial.number, token: grant.lease.token, params: grant.trial.params });
    }
    if (messages.length === 0) return;
    this.enqueueOutbox('study');
    this.scheduleFlush();
    try {
      await this.env.EDGE_TRIALS.sendBatch(messages.map((body) => ({ body, contentType: 'json' as const })));
      this.sql.exec(`DELETE FROM meta WHERE key = 'edge_retry_at'`);
    } catch (err) {
      // Not sent: hand the trials back and try again shortly (the alarm).
      console.error(`study ${config.id}: sending ${messages.length} edge trials to the queue failed; retrying`, err);
      for (const m of messages) {
        this.sql.exec(
          `UPDATE trials SET state = 'waiting', attempts = MAX(attempts - 1, 0), lease_token = NULL, lease_expires_at = NULL WHERE number = ? AND lease_token = ?`,
          m.number,
          m.token,
        );
        this.enqueueOutbox('trial', m.number);
      }
      this.setMeta('edge_retry_at', String(Date.now() + 5_000));
    }
  }

  /** Set the alarm to the earliest of: a lease expiry, a D1 flush retry, a job notice, an edge retry. */
  private async scheduleAlarm(): Promise<void> {
    const times: number[] = [];
    const lease = this.sql
      .exec<{ t: number | null }>(`SELECT MIN(lease_expires_at) AS t FROM trials WHERE state = 'running' AND lease_expires_at IS NOT NULL`)
      .one().t;
    if (lease !== null) times.push(lease);
    const retry = this.sql.exec<{ t: number | null }>(`SELECT MIN(next_at) AS t FROM outbox_failures`).one().t;
    if (retry !== null) times.push(retry);
    for (const key of ['flush_retry_at', 'dispatch_at', 'edge_retry_at']) {
      const v = this.getMeta(key);
      if (v !== null) times.push(Number(v));
    }
    if (times.length === 0) return;
    const next = Math.min(...times);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(next);
  }

  // --- notification events ----------------------------------------------------

  /** What event detection compares: the best trial and whether the study is completed. */
  private snapshot(config: StudyConfig): { best: number | null; bestValue: number | null; completed: boolean } {
    const b = this.best();
    return { best: b?.number ?? null, bestValue: b?.value ?? null, completed: this.stateOf(config) === 'completed' };
  }

  /** Record the events a change caused (in the same synchronous block; sent with the next flush). */
  private emitChanges(config: StudyConfig, before: { best: number | null; bestValue: number | null; completed: boolean }, changed: number[]): void {
    const study = { id: config.id, name: config.name, metric: config.metric, direction: config.direction };
    for (const n of changed) {
      const r = this.row(n);
      if (r?.state === 'failed') this.emit('trial.failed', { study, trial: { number: r.number, params: JSON.parse(r.params), error: r.error, attempts: r.attempts } });
    }
    const after = this.snapshot(config);
    if (after.best !== null && after.best !== before.best) {
      const b = this.row(after.best)!;
      this.emit('study.best_improved', { study, trial: { number: b.number, value: b.value, params: JSON.parse(b.params) }, previous_best: before.bestValue });
    }
    if (after.completed && !before.completed) {
      const b = after.best === null ? null : this.row(after.best)!;
      this.emit('study.completed', {
        study: { ...study, n_trials: this.count(), best_trial: b ? { number: b.number, value: b.value, params: JSON.parse(b.params) } : null },
      });
    }
  }

  private emit(type: string, data: Record<string, unknown>): void {
    const at = Date.now();
    const id = this.sql
      .exec<{ id: number }>(`INSERT INTO events (type, payload, at) VALUES (?, ?, ?) RETURNING id`, type, JSON.stringify(data), at)
      .one().id;
    this.enqueueOutbox('event', id);
  }

  /** Hand events to the notifications queue (which finds the subscribers); then they are done here. */
  private async sendEvents(config: StudyConfig, ids: number[]): Promise<void> {
    const rows = this.sql
      .exec<{ id: number; type: string; payload: string; at: number }>(`SELECT * FROM events WHERE id IN (${ids.map(() => '?').join(',')}) ORDER BY id`, ...ids)
      .toArray();
    if (rows.length === 0) return;
    const project = config.project_id ?? DEFAULT_PROJECT_ID;
    const messages: NotificationMessage[] = rows.map((r) => ({
      kind: 'event',
      project_id: project,
      study_id: config.id,
      event: { id: `evt_${config.id}_${r.id}`, type: r.type, timestamp: new Date(r.at).toISOString(), data: JSON.parse(r.payload) },
    }));
    await this.env.NOTIFICATIONS.sendBatch(messages.map((body) => ({ body, contentType: 'json' as const })));
    this.sql.exec(`DELETE FROM events WHERE id IN (${ids.map(() => '?').join(',')})`, ...ids);
  }

  private dispatchStatus(): NonNullable<StudyView['dispatch']> {
    const last = this.getMeta('dispatch_last');
    const at = this.getMeta('dispatch_at');
    return {
      pending: at !== null,
      next_attempt_at: at === null ? null : new Date(Number(at)).toISOString(),
      last: last === null ? null : (JSON.parse(last) as NonNullable<StudyView['dispatch']>['last']),
    };
  }

  private getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, key, value);
  }

  private pendingCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox`).one().n;
  }

  /** Where the D1 copy stands: ok, behind (writes waiting or retrying), or parked (dead letters to retry). */
  private storageStatus(): StudyView['storage'] {
    const pending = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM (SELECT DISTINCT kind, ref FROM outbox)`).one().n;
    const parked = this.sql
      .exec<{ kind: 'trial' | 'event'; ref: number; reason: string; attempts: number; at: number }>(`SELECT kind, ref, reason, attempts, at FROM dead_letters ORDER BY at, kind, ref`)
      .toArray()
      .map((p) => ({ kind: p.kind, ref: p.ref, reason: p.reason, attempts: p.attempts, at: new Date(p.at).toISOString() }));
    const failing = this.sql.exec<{ reason: string; next_at: number }>(`SELECT reason, next_at FROM outbox_failures ORDER BY next_at LIMIT 1`).toArray()[0];
    const studyError = this.getMeta('flush_error');
    const retryAt = [this.getMeta('flush_retry_at'), failing?.next_at ?? null].filter((t) => t !== null).map(Number);
    const reason = studyError ?? failing?.reason ?? parked[0]?.reason ?? null;
    return {
      d1: parked.length > 0 ? 'parked' : pending > 0 ? 'behind' : 'ok',
      pending,
      parked,
      reason,
      next_attempt_at: retryAt.length > 0 ? new Date(Math.min(...retryAt)).toISOString() : null,
    };
  }

  private enqueueOutbox(kind: OutboxKind, ref: number | null = null): void {
    this.sql.exec(`INSERT INTO outbox (kind, ref) VALUES (?, ?)`, kind, ref);
  }

  private requireConfig(): StudyConfig {
    if (!this.config) throw new CoordinatorError('not_found', 'no such study');
    return this.config;
  }

  private requireTrial(number: number): TrialRow {
    const row = this.row(number);
    if (!row) throw new CoordinatorError('not_found', `study ${this.config?.id} has no trial ${number}`);
    return row;
  }

  private count(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM trials`).one().n;
  }

  private row(number: number): TrialRow | undefined {
    return this.sql.exec<TrialRow>(`SELECT * FROM trials WHERE number = ?`, number).toArray()[0];
  }

  private rows(): TrialRow[] {
    return this.sql.exec<TrialRow>(`SELECT * FROM trials ORDER BY number`).toArray();
  }

  private frozen(): FrozenTrial[] {
    return this.rows().map((r) => ({
      number: r.number,
      state: r.state,
      params: JSON.parse(r.params) as Params,
      value: r.value,
      intermediate: JSON.parse(r.intermediate) as { step: number; value: number }[],
    }));
  }

  private trialView(r: TrialRow): TrialView {
    return {
      study_id: this.config!.id,
      number: r.number,
      params: JSON.parse(r.params) as Params,
      state: r.state,
      value: r.value,
      intermediate: JSON.parse(r.intermediate) as { step: number; value: number }[],
      error: r.error,
      attempts: r.attempts,
      runner: r.runner,
      started_at: r.started_at === null ? null : new Date(r.started_at).toISOString(),
      completed_at: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
    };
  }

  private best(): TrialRow | undefined {
    const order = this.config!.direction === 'maximize' ? 'DESC' : 'ASC';
    return this.sql.exec<TrialRow>(`SELECT * FROM trials WHERE state = 'complete' ORDER BY value ${order}, number ASC LIMIT 1`).toArray()[0];
  }

  private finished(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM trials WHERE state IN ('complete', 'pruned', 'failed')`).one().n;
  }

  private stateOf(config: StudyConfig): 'running' | 'completed' {
    return config.max_trials !== null && this.finished() >= config.max_trials ? 'completed' : 'running';
  }

  private view(): StudyView {
    const config = this.requireConfig();
    const best = this.best();
    const { id, name, direction, metric, space, sampler, pruner, executor, max_trials, metadata, created_at } = config;
    return {
      id,
      name,
      direction,
      metric,
      space,
      sampler,
      pruner,
      executor,
      max_trials,
      state: this.stateOf(config),
      n_trials: this.count(),
      best_trial: best ? this.trialView(best) : null,
      created_at,
      metadata,
      ...(executor.kind === 'runner' && executor.dispatch_url ? { dispatch: this.dispatchStatus() } : {}),
      storage: this.storageStatus(),
    };
  }

  private studyRow(config: StudyConfig) {
    const best = this.best();
    const { space, sampler, pruner, executor, max_trials, metadata } = config;
    return {
      id: config.id,
      projectId: config.project_id ?? DEFAULT_PROJECT_ID,
      name: config.name,
      direction: config.direction,
      metric: config.metric,
      config: { space, sampler, pruner, executor, max_trials, metadata },
      state: this.stateOf(config),
      nTrials: this.count(),
      bestTrialNumber: best?.number ?? null,
      bestValue: best?.value ?? null,
      createdAt: new Date(config.created_at),
      updatedAt: new Date(),
    };
  }

  private trialRecord(studyId: string, r: TrialRow) {
    return {
      studyId,
      number: r.number,
      state: r.state,
      value: r.value,
      error: r.error,
      params: JSON.parse(r.params) as Params,
      intermediate: JSON.parse(r.intermediate) as { step: number; value: number }[],
      startedAt: r.started_at === null ? null : new Date(r.started_at),
      completedAt: r.completed_at === null ? null : new Date(r.completed_at),
    };
  }
}

/** An error's message (with its cause, as D1 errors carry the SQLite one), for logs and the study's storage state. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`.slice(0, 500);
}

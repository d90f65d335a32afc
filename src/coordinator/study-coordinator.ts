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
 * D1 and deletes what was written. A failed flush is retried by an alarm, so
 * a D1 outage delays the copy but loses nothing.
 */
import { DurableObject } from 'cloudflare:workers';
import { canonicalJson } from '../api/canonical';
import { upsertStudy, upsertTrial } from '../db/studies';
import { GridExhaustedError } from '../tuning/errors';
import { makePruner, trialsInSameBracket } from '../tuning/pruners';
import { makeSampler } from '../tuning/samplers';
import type { Direction, FrozenTrial, Params, TrialState } from '../tuning/types';
import { CoordinatorError } from './errors';
import type { StudyConfig, StudyView, TellBody, TrialView } from './types';

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
  [key: string]: SqlStorageValue;
}

const RETRY_MS = [1_000, 5_000, 30_000, 120_000, 600_000];

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
      const row = this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'config'`).toArray()[0];
      this.config = row ? (JSON.parse(row.value) as StudyConfig) : null;
    });
  }

  /** Create the study; creating it again with the same config is a no-op. */
  async create(config: StudyConfig): Promise<StudyView> {
    if (this.config) {
      if (canonicalJson(this.config) !== canonicalJson(config)) {
        throw new CoordinatorError('conflict', `study ${config.id} already exists with another configuration`);
      }
      return this.view();
    }
    this.sql.exec(`INSERT INTO meta (key, value) VALUES ('config', ?)`, JSON.stringify(config));
    this.config = config;
    this.enqueueOutbox('study');
    this.scheduleFlush();
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
    return this.trialView(this.row(number)!);
  }

  async ask(count: number): Promise<TrialView[]> {
    const config = this.requireConfig();
    const out: TrialView[] = [];
    const sampler = makeSampler(config.sampler.name, config.sampler);
    const pruner = makePruner(config.pruner);
    for (let k = 0; k < count; k++) {
      const now = Date.now();
      const waiting = this.sql
        .exec<{ number: number }>(`SELECT number FROM trials WHERE state = 'waiting' ORDER BY number LIMIT 1`)
        .toArray()[0];
      let number: number;
      if (waiting) {
        number = waiting.number;
        this.sql.exec(`UPDATE trials SET state = 'running', started_at = ? WHERE number = ?`, now, number);
      } else {
        number = this.count();
        if (config.max_trials !== null && number >= config.max_trials) {
          if (out.length > 0) break;
          throw new CoordinatorError('conflict', `the study has reached max_trials (${config.max_trials})`);
        }
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
          if (out.length > 0) break;
          throw new CoordinatorError('conflict', 'the grid is exhausted: every combination of the space has been asked');
        }
        this.sql.exec(
          `INSERT INTO trials (number, state, params, started_at) VALUES (?, 'running', ?, ?)`,
          number,
          JSON.stringify(params),
          now,
        );
      }
      this.enqueueOutbox('trial', number);
      out.push(this.trialView(this.row(number)!));
    }
    this.enqueueOutbox('study');
    this.scheduleFlush();
    return out;
  }

  async report(number: number, step: number, value: number): Promise<{ should_prune: boolean }> {
    const config = this.requireConfig();
    const row = this.requireTrial(number);
    const intermediate = JSON.parse(row.intermediate) as { step: number; value: number }[];
    if (row.state !== 'running') {
      // A late or repeated report after the trial ended: answer, change nothing.
      if (intermediate.some((p) => p.step === step && p.value === value)) return { should_prune: row.state === 'pruned' };
      throw new CoordinatorError('conflict', `trial ${number} is ${row.state}; reports are taken while it runs`);
    }
    const existing = intermediate.find((p) => p.step === step);
    if (existing && existing.value !== value) {
      throw new CoordinatorError('conflict', `trial ${number} already reported ${existing.value} at step ${step}`);
    }
    if (!existing) {
      intermediate.push({ step, value });
      intermediate.sort((a, b) => a.step - b.step);
      this.sql.exec(`UPDATE trials SET intermediate = ? WHERE number = ?`, JSON.stringify(intermediate), number);
      this.enqueueOutbox('trial', number);
      this.scheduleFlush();
    }
    const trials = this.frozen();
    const trial = trials.find((t) => t.number === number)!;
    const pruner = makePruner(config.pruner);
    return { should_prune: pruner.shouldPrune({ trial, trials, direction: config.direction as Direction }) };
  }

  async tell(number: number, body: TellBody): Promise<TrialView> {
    this.requireConfig();
    const row = this.requireTrial(number);
    const fingerprint = canonicalJson(body);
    if (row.tell !== null) {
      if (row.tell === fingerprint) return this.trialView(row);
      throw new CoordinatorError('conflict', `trial ${number} was already told ${row.tell}; a different tell is refused`);
    }
    if (row.state === 'waiting') {
      throw new CoordinatorError('conflict', `trial ${number} is waiting: ask for it before telling its result`);
    }
    const state: TrialState = 'value' in body ? 'complete' : body.state;
    const value = 'value' in body ? body.value : null;
    const error = 'error' in body && typeof body.error === 'string' ? body.error : null;
    this.sql.exec(
      `UPDATE trials SET state = ?, value = ?, error = ?, completed_at = ?, tell = ? WHERE number = ?`,
      state,
      value,
      error,
      Date.now(),
      fingerprint,
      number,
    );
    this.enqueueOutbox('trial', number);
    this.enqueueOutbox('study');
    this.scheduleFlush();
    return this.trialView(this.row(number)!);
  }

  /** Retry writing the outbox to D1. */
  override async alarm(): Promise<void> {
    await this.flush();
  }

  /** Rows still waiting for D1 (for tests and diagnostics). */
  async pendingWrites(): Promise<number> {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox`).one().n;
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
    for (;;) {
      const batch = this.sql.exec<{ id: number; kind: string; ref: number | null }>(`SELECT id, kind, ref FROM outbox ORDER BY id LIMIT 50`).toArray();
      if (batch.length === 0) break;
      // Collapse repeated entries: the row's current state is what gets written.
      const maxId = batch[batch.length - 1].id;
      const trialsDue = [...new Set(batch.filter((b) => b.kind === 'trial').map((b) => b.ref as number))];
      try {
        // The study row (its current counts and best) first: trials reference it.
        await upsertStudy(this.env.DB, this.studyRow(config));
        for (const n of trialsDue) {
          const r = this.row(n);
          if (r) await upsertTrial(this.env.DB, this.trialRecord(config.id, r));
        }
      } catch (err) {
        const attempt = Number(this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'flush_failures'`).toArray()[0]?.value ?? 0);
        this.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES ('flush_failures', ?)`, String(attempt + 1));
        await this.ctx.storage.setAlarm(Date.now() + RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
        console.error(`study ${config.id}: D1 write failed (attempt ${attempt + 1}), retrying by alarm`, err);
        return;
      }
      this.sql.exec(`DELETE FROM outbox WHERE id <= ?`, maxId);
      this.sql.exec(`DELETE FROM meta WHERE key = 'flush_failures'`);
    }
  }

  private scheduleFlush(): void {
    this.ctx.waitUntil(this.flush());
  }

  private enqueueOutbox(kind: 'study' | 'trial', ref: number | null = null): void {
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
    };
  }

  private studyRow(config: StudyConfig) {
    const best = this.best();
    const { space, sampler, pruner, executor, max_trials, metadata } = config;
    return {
      id: config.id,
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

/**
 * The StudyCoordinator's storage: the Durable Object's synchronous SQLite.
 *
 * Owns the schema (the tables and their migrations), the study's config
 * (the `meta` row, cached), the meta key-value flags, every read and write of
 * the `trials` and `events` tables, and the mapping of trial rows to what
 * the API answers (TrialView), what the samplers see (FrozenTrial) and what
 * D1 stores (the study row, TrialRecord). Every method is synchronous: the
 * coordinator calls them without awaiting in between, so workerd's input
 * gate keeps each call's reads and writes together.
 *
 * The outbox tables (outbox, outbox_failures, dead_letters) are created here
 * with the rest of the schema; outbox.ts reads and writes them.
 */
import { DEFAULT_PROJECT_ID } from '../db/schema';
import type { Point } from '../db/intermediate';
import type { TrialRecord } from '../db/studies';
import type { AttrValue } from '../contract/schemas';
import type { FrozenTrial, Params, TrialState } from '../tuning/types';
import { FINISHED_STATES, type StudyState } from '../contract/names';
import { MAX_PRUNE_REASON } from '../contract/limits';
import {
  directionsOf,
  metricsOf,
  type AttrsView,
  type StudyConfig,
  type StudyView,
  type TrialView,
} from '../contract/study';
import { paretoFront } from '../tuning/pareto';
import { CompleteSteps } from './step-stats';
import { numbersOfJson, toJson, wireNumber } from '../lib/values';

export interface TrialRow {
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
  /** Several objectives: the complete trial's values (JSON array); null otherwise. */
  objective_values: string | null;
  /** The constraints told with the result (JSON array); null when none. */
  constraints: string | null;
  /** 1 when a constraint told is above 0. */
  infeasible: number;
  /** The sampler that proposed the params; null when they were given. */
  sampler: string | null;
  /** What D1 holds of the intermediate values (intermediate.ts): their last step and count; null when unknown. */
  d1_max_step: number | null;
  d1_count: number | null;
  /**
   * Define-by-run: the values the sampler proposed at ask for the space's learned parameters
   * (JSON object), revealed into `params` when the trial asks for one; null: none.
   */
  proposed: string | null;
  /** The trial's user and system attributes (JSON objects). */
  user_attrs: string;
  system_attrs: string;
  /** Heartbeats received (over all attempts) and when the latest came. */
  heartbeats: number;
  last_heartbeat_at: number | null;
  /** The pruner's first prune decision (or a tell of pruned without one): its step and why. */
  prune_step: number | null;
  prune_reason: string | null;
  [key: string]: SqlStorageValue;
}

/** A row of the events table: a notification event waiting for the queue. */
export type EventRow = {
  id: number;
  type: string;
  payload: string;
  at: number;
};

/** What event detection compares: the best trial and whether the study is completed. */
export interface Snapshot {
  best: number | null;
  bestValue: number | null;
  completed: boolean;
}

export class CoordinatorStore {
  /** The study's config (null before create); extendLrRound changes it in place and saves it. */
  config: StudyConfig | null = null;
  /**
   * The trials as the samplers see them (`frozen`), kept in memory so an ask does not read and
   * parse the whole history: null until first read (and after `migrate`, i.e. at every start of
   * the object, so a restart rebuilds it from SQLite). Every trial write marks its row `stale`;
   * `frozen` re-reads just those rows. SQLite stays the truth: the cache only ever copies it.
   */
  private history: FrozenTrial[] | null = null;
  private readonly staleRows = new Set<number>();
  /** Per trial, what a report needs of the values it holds (count, last step, best): read once, then kept up to date. */
  private readonly summaries = new Map<number, PointSummary>();
  /** The complete trials' values by step (step-stats.ts): null until a pruner first needs them. */
  private complete: CompleteSteps | null = null;
  /** The complete and pruned trials' values by step, for the summary's median: null until first asked for. */
  private finishedIndex: CompleteSteps | null = null;
  /** Whether `summaries` holds every trial with values (read in one query by the summary, then kept). */
  private summariesLoaded = false;

  constructor(readonly sql: SqlStorage) {}

  /** Create the tables (and add the columns objects created before them lack); load the config. */
  migrate(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS trials (
        number INTEGER PRIMARY KEY, state TEXT NOT NULL, params TEXT NOT NULL, value REAL,
        intermediate TEXT NOT NULL DEFAULT '[]', error TEXT, started_at INTEGER, completed_at INTEGER, tell TEXT)`);
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, ref INTEGER)`,
    );
    // Entries of the outbox whose write failed (retried at next_at), and those parked after PARK_AFTER failures.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox_failures (
        kind TEXT NOT NULL, ref INTEGER NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (kind, ref))`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
        kind TEXT NOT NULL, ref INTEGER NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (kind, ref))`);
    // Notification events waiting to be handed to the notifications queue (with the outbox's D1 writes).
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL)`,
    );
    // Intermediate values, one row per step (before: one JSON blob per trial, in trials.intermediate,
    // which every report read and rewrote whole; objects created before move theirs here below).
    this.sql.exec(`CREATE TABLE IF NOT EXISTS points (
        trial INTEGER NOT NULL, step REAL NOT NULL, value REAL NOT NULL, PRIMARY KEY (trial, step)) WITHOUT ROWID`);
    // Lease columns (added after the first release: objects created before get them here).
    const cols = new Set(
      this.sql
        .exec<{ name: string }>(`SELECT name FROM pragma_table_info('trials')`)
        .toArray()
        .map((r) => r.name),
    );
    for (const [col, def] of [
      ['attempts', 'INTEGER NOT NULL DEFAULT 0'],
      ['lease_token', 'TEXT'],
      ['lease_expires_at', 'INTEGER'],
      ['runner', 'TEXT'],
      ['d1_max_step', 'REAL'],
      ['d1_count', 'INTEGER'],
      ['objective_values', 'TEXT'],
      ['constraints', 'TEXT'],
      ['infeasible', 'INTEGER NOT NULL DEFAULT 0'],
      ['sampler', 'TEXT'],
      ['proposed', 'TEXT'],
      ['user_attrs', "TEXT NOT NULL DEFAULT '{}'"],
      ['system_attrs', "TEXT NOT NULL DEFAULT '{}'"],
      ['heartbeats', 'INTEGER NOT NULL DEFAULT 0'],
      ['last_heartbeat_at', 'INTEGER'],
      ['prune_step', 'REAL'],
      ['prune_reason', 'TEXT'],
    ] as const) {
      if (!cols.has(col)) this.sql.exec(`ALTER TABLE trials ADD COLUMN ${col} ${def}`);
    }
    this.moveLegacyPoints();
    const row = this.sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = 'config'`)
      .toArray()[0];
    this.config = row ? (JSON.parse(row.value) as StudyConfig) : null;
    this.history = null;
    this.staleRows.clear();
    this.summaries.clear();
    this.summariesLoaded = false;
    this.complete = null;
    this.finishedIndex = null;
  }

  /** Objects created before the points table: each trial's JSON blob of values becomes its rows (once). */
  private moveLegacyPoints(): void {
    const legacy = this.sql
      .exec<{
        number: number;
        intermediate: string;
      }>(`SELECT number, intermediate FROM trials WHERE intermediate != '[]'`)
      .toArray();
    for (const r of legacy) {
      for (const p of JSON.parse(r.intermediate) as Point[])
        this.sql.exec(
          `INSERT OR IGNORE INTO points (trial, step, value) VALUES (?, ?, ?)`,
          r.number,
          p.step,
          p.value,
        );
      this.sql.exec(`UPDATE trials SET intermediate = '[]' WHERE number = ?`, r.number);
    }
  }

  // --- config and meta --------------------------------------------------------

  /** Store the config of a new study. */
  createConfig(config: StudyConfig): void {
    this.sql.exec(`INSERT INTO meta (key, value) VALUES ('config', ?)`, JSON.stringify(config));
    this.config = config;
  }

  /** Save a changed config (the lr round's extension). */
  saveConfig(config: StudyConfig): void {
    this.sql.exec(`UPDATE meta SET value = ? WHERE key = 'config'`, JSON.stringify(config));
    this.config = config;
  }

  getMeta(key: string): string | null {
    return (
      this.sql.exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key).toArray()[0]
        ?.value ?? null
    );
  }

  setMeta(key: string, value: string): void {
    this.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, key, value);
  }

  /** Delete meta keys (one statement). */
  deleteMeta(...keys: string[]): void {
    this.sql.exec(`DELETE FROM meta WHERE key IN (${keys.map(() => '?').join(', ')})`, ...keys);
  }

  // --- trial reads ------------------------------------------------------------

  count(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM trials`).one().n;
  }

  runningCount(): number {
    return this.sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM trials WHERE state = 'running'`)
      .one().n;
  }

  waitingCount(): number {
    return this.sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM trials WHERE state = 'waiting'`)
      .one().n;
  }

  finished(): number {
    return this.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM trials WHERE state IN (${FINISHED_STATES.map((s) => `'${s}'`).join(', ')})`,
      )
      .one().n;
  }

  row(number: number): TrialRow | undefined {
    return this.sql.exec<TrialRow>(`SELECT * FROM trials WHERE number = ?`, number).toArray()[0];
  }

  /** The rows numbered from `from` on, at most `limit` of them. */
  rowsFrom(from: number, limit?: number): TrialRow[] {
    return this.sql
      .exec<TrialRow>(
        `SELECT * FROM trials WHERE number >= ? ORDER BY number LIMIT ?`,
        from,
        limit ?? -1,
      )
      .toArray();
  }

  rows(): TrialRow[] {
    return this.sql.exec<TrialRow>(`SELECT * FROM trials ORDER BY number`).toArray();
  }

  // --- intermediate values (the points table) ---------------------------------

  /** The trial's intermediate values in step order (only those after `afterStep` when given). */
  points(number: number, afterStep: number | null = null): Point[] {
    return afterStep === null
      ? this.sql
          .exec<PointRow>(`SELECT step, value FROM points WHERE trial = ? ORDER BY step`, number)
          .toArray()
      : this.sql
          .exec<PointRow>(
            `SELECT step, value FROM points WHERE trial = ? AND step > ? ORDER BY step`,
            number,
            afterStep,
          )
          .toArray();
  }

  /** At most `limit` of the trial's values (after `afterStep` when given), in step order; for the D1 write. */
  pointsUpTo(number: number, afterStep: number | null, limit: number): Point[] {
    return this.sql
      .exec<PointRow>(
        `SELECT step, value FROM points WHERE trial = ? AND step > ? ORDER BY step LIMIT ?`,
        number,
        afterStep ?? -Infinity,
        limit,
      )
      .toArray();
  }

  /** How many values the trial holds after `step`. */
  countAfter(number: number, step: number): number {
    return this.sql
      .exec<{
        n: number;
      }>(`SELECT COUNT(*) AS n FROM points WHERE trial = ? AND step > ?`, number, step)
      .one().n;
  }

  /** Every trial's intermediate values, in step order, by trial number (one read). */
  pointsByTrial(): Map<number, Point[]> {
    const out = new Map<number, Point[]>();
    for (const r of this.sql
      .exec<{ trial: number; step: number; value: number }>(
        `SELECT trial, step, value FROM points ORDER BY trial, step`,
      )
      .toArray()) {
      let list = out.get(r.trial);
      if (!list) out.set(r.trial, (list = []));
      list.push({ step: r.step, value: r.value });
    }
    return out;
  }

  /** The value the trial holds at `step` (undefined: none). */
  pointAt(number: number, step: number): number | undefined {
    return this.sql
      .exec<{
        value: number;
      }>(`SELECT value FROM points WHERE trial = ? AND step = ?`, number, step)
      .toArray()[0]?.value;
  }

  /** How many values the trial holds, its last step and its smallest and largest value (from memory after the first read). */
  pointSummary(number: number): PointSummary {
    let s = this.summaries.get(number);
    if (!s) {
      const r = this.sql
        .exec<{
          n: number;
          last: number | null;
          lo: number | null;
          hi: number | null;
          lv: number | null;
        }>(
          `SELECT COUNT(*) AS n, MAX(step) AS last, MIN(value) AS lo, MAX(value) AS hi,
                  (SELECT value FROM points WHERE trial = ? ORDER BY step DESC LIMIT 1) AS lv
             FROM points WHERE trial = ?`,
          number,
          number,
        )
        .one();
      s = { count: r.n, lastStep: r.last, lastValue: r.lv, min: r.lo ?? NaN, max: r.hi ?? NaN };
      this.summaries.set(number, s);
    }
    return s;
  }

  /** Add values the trial does not hold yet (mergeReport checked them). */
  addPoints(number: number, points: readonly Point[]): void {
    this.stale(number);
    const s = this.pointSummary(number);
    for (const p of points) {
      this.sql.exec(
        `INSERT INTO points (trial, step, value) VALUES (?, ?, ?)`,
        number,
        p.step,
        p.value,
      );
      s.count++;
      if (s.lastStep === null || p.step >= s.lastStep) s.lastValue = p.value;
      s.lastStep = s.lastStep === null ? p.step : Math.max(s.lastStep, p.step);
      if (!(p.value >= s.min)) s.min = p.value;
      if (!(p.value <= s.max)) s.max = p.value;
    }
  }

  /** The complete trials' values by step, read from SQLite at the first call after a start, then kept. */
  completeSteps(): CompleteSteps {
    return (this.complete ??= this.stepsOf(`'complete'`));
  }

  /** The complete and pruned trials' values by step (the summary's median), read once, then kept. */
  finishedSteps(): CompleteSteps {
    return (this.finishedIndex ??= this.stepsOf(`'complete', 'pruned'`));
  }

  /** The values by step of the trials in `states` (a literal SQL list), from SQLite in two queries. */
  private stepsOf(states: string): CompleteSteps {
    const byTrial = new Map<number, Point[]>();
    for (const r of this.sql
      .exec<{ number: number }>(`SELECT number FROM trials WHERE state IN (${states})`)
      .toArray())
      byTrial.set(r.number, []);
    for (const r of this.sql
      .exec<{ trial: number; step: number; value: number }>(
        `SELECT p.trial, p.step, p.value FROM points p JOIN trials t ON t.number = p.trial WHERE t.state IN (${states})`,
      )
      .toArray())
      byTrial.get(r.trial)?.push({ step: r.step, value: r.value });
    return CompleteSteps.of(byTrial);
  }

  /**
   * Every trial's point summary (count, last step and value), read in one query the first time
   * (then kept up to date by addPoints); a trial without values is read alone when first asked.
   */
  loadPointSummaries(): void {
    if (this.summariesLoaded) return;
    for (const r of this.sql
      .exec<{
        trial: number;
        n: number;
        last: number;
        lo: number;
        hi: number;
        lv: number;
      }>(
        `SELECT p.trial, COUNT(*) AS n, MAX(p.step) AS last, MIN(p.value) AS lo, MAX(p.value) AS hi,
                (SELECT q.value FROM points q WHERE q.trial = p.trial ORDER BY q.step DESC LIMIT 1) AS lv
           FROM points p GROUP BY p.trial`,
      )
      .toArray())
      this.summaries.set(r.trial, {
        count: r.n,
        lastStep: r.last,
        lastValue: r.lv,
        min: r.lo,
        max: r.hi,
      });
    this.summariesLoaded = true;
  }

  /** Drop the trial's values (it goes back to waiting). */
  private clearPoints(number: number): void {
    this.sql.exec(`DELETE FROM points WHERE trial = ?`, number);
    this.summaries.delete(number);
  }

  /** The trial as the API answers it, with its values. */
  view(studyId: string, r: TrialRow): TrialView {
    return trialView(studyId, r, this.points(r.number));
  }

  /**
   * Every trial as the samplers and pruners see it, by number: from memory, after re-reading the
   * rows written since the last call (the first call reads them all). Each trial is frozen.
   */
  frozen(): FrozenTrial[] {
    if (this.history === null || this.staleRows.size > Math.max(64, this.history.length / 4)) {
      this.history = this.rows().map((r) => this.freeze(r));
    } else {
      for (const number of [...this.staleRows].sort((a, b) => a - b)) {
        const row = this.row(number);
        const at =
          this.history[number]?.number === number
            ? number
            : this.history.findIndex((t) => t.number === number);
        if (!row) {
          if (at >= 0) this.history.splice(at, 1);
        } else if (at >= 0) {
          this.history[at] = this.freeze(row);
        } else if (
          this.history.length === 0 ||
          this.history[this.history.length - 1].number < number
        ) {
          this.history.push(this.freeze(row));
        } else {
          this.history = this.rows().map((r) => this.freeze(r));
          break;
        }
      }
    }
    this.staleRows.clear();
    return this.history.slice();
  }

  /**
   * A trial as the history cache holds it, deep-frozen. Its `last` (the value at its latest step)
   * is read with it; its `intermediate` values only when something reads them (asha, hyperband,
   * a batch's replay), then kept, so a history of long trials costs no memory for their values
   * until then.
   */
  private freeze(r: TrialRow): FrozenTrial {
    const t = frozenTrial(r, []);
    const number = r.number;
    const last = this.sql
      .exec<PointRow>(
        `SELECT step, value FROM points WHERE trial = ? ORDER BY step DESC LIMIT 1`,
        number,
      )
      .toArray()[0];
    let values: readonly Point[] | null = null;
    const load = () => {
      if (values === null) {
        const list = this.points(number);
        for (const p of list) Object.freeze(p);
        values = Object.freeze(list);
      }
      return values;
    };
    Object.defineProperty(t, 'intermediate', { get: load, enumerable: true });
    Object.defineProperty(t, 'last', {
      value: last ? Object.freeze({ step: last.step, value: last.value }) : null,
      enumerable: true,
    });
    Object.freeze(t.params);
    if (t.values) Object.freeze(t.values);
    if (t.constraints) Object.freeze(t.constraints);
    return Object.freeze(t);
  }

  /**
   * A trial row was written: `frozen` re-reads it. Every write of a column the samplers see
   * (state, params, value, intermediate, ...) calls this; the lease and D1-sync bookkeeping do not.
   */
  private stale(number: number): void {
    if (this.history !== null) this.staleRows.add(number);
  }

  /** The best feasible complete trial (ties: the first); none in a study with several objectives. */
  best(config: StudyConfig): TrialRow | undefined {
    if (directionsOf(config).length > 1) return undefined;
    const order = config.direction === 'maximize' ? 'DESC' : 'ASC';
    return this.sql
      .exec<TrialRow>(
        `SELECT * FROM trials WHERE state = 'complete' AND infeasible = 0 ORDER BY value ${order}, number ASC LIMIT 1`,
      )
      .toArray()[0];
  }

  /** The Pareto front of the feasible complete trials, by number (one objective: the best, or none). */
  bestTrials(config: StudyConfig): TrialRow[] {
    const directions = directionsOf(config);
    if (directions.length === 1) {
      const b = this.best(config);
      return b ? [b] : [];
    }
    const rows = this.sql
      .exec<TrialRow>(
        `SELECT * FROM trials WHERE state = 'complete' AND infeasible = 0 AND objective_values IS NOT NULL ORDER BY number`,
      )
      .toArray();
    const byNumber = new Map(rows.map((r) => [r.number, r]));
    return paretoFront(
      rows.map((r) => frozenTrial(r, [])),
      directions,
    ).map((t) => byNumber.get(t.number)!);
  }

  /** How many constraints the study's tells give (the first that gave any set it); null before any did. */
  constraintsCount(): number | null {
    const row = this.sql
      .exec<{ constraints: string }>(
        `SELECT constraints FROM trials WHERE constraints IS NOT NULL LIMIT 1`,
      )
      .toArray()[0];
    return row ? (JSON.parse(row.constraints) as number[]).length : null;
  }

  /** The lowest-numbered waiting trial. */
  firstWaiting(): number | undefined {
    return this.sql
      .exec<{ number: number }>(
        `SELECT number FROM trials WHERE state = 'waiting' ORDER BY number LIMIT 1`,
      )
      .toArray()[0]?.number;
  }

  /** The earliest expiry of a running trial's lease (null: no lease out). */
  earliestLeaseExpiry(): number | null {
    return this.sql
      .exec<{ t: number | null }>(
        `SELECT MIN(lease_expires_at) AS t FROM trials WHERE state = 'running' AND lease_expires_at IS NOT NULL`,
      )
      .one().t;
  }

  /** Running trials whose lease has expired by `now`, by number. */
  expiredLeases(now: number): TrialRow[] {
    return this.sql
      .exec<TrialRow>(
        `SELECT * FROM trials WHERE state = 'running' AND lease_expires_at IS NOT NULL AND lease_expires_at <= ? ORDER BY number`,
        now,
      )
      .toArray();
  }

  studyState(config: StudyConfig): StudyState {
    return config.max_trials !== null && this.finished() >= config.max_trials
      ? 'completed'
      : 'running';
  }

  snapshot(config: StudyConfig): Snapshot {
    const b = this.best(config);
    return {
      best: b?.number ?? null,
      bestValue: b?.value ?? null,
      completed: this.studyState(config) === 'completed',
    };
  }

  /** The study as the API answers it: the config with its state, counts and best, and `extra` (dispatch, storage). */
  studyView(config: StudyConfig, extra: Pick<StudyView, 'dispatch' | 'storage'>): StudyView {
    const front = this.bestTrials(config);
    // One objective: the front is the best trial (or nothing), so it is read once.
    const best = directionsOf(config).length === 1 ? front[0] : undefined;
    const {
      id,
      name,
      direction,
      metric,
      space,
      sampler,
      pruner,
      executor,
      max_trials,
      metadata,
      created_at,
    } = config;
    return {
      id,
      name,
      direction,
      metric,
      directions: directionsOf(config),
      metrics: metricsOf(config),
      space,
      sampler,
      pruner,
      executor,
      max_trials,
      state: this.studyState(config),
      n_trials: this.count(),
      best_trial: best ? this.view(id, best) : null,
      best_trials: front.map((r) => this.view(id, r)),
      created_at,
      metadata,
      ...this.studyAttrs(),
      ...extra,
    };
  }

  /** The study row D1 stores: the config with the current counts and best. */
  studyRow(config: StudyConfig) {
    const best = this.best(config);
    const { space, sampler, pruner, executor, max_trials, metadata } = config;
    return {
      id: config.id,
      projectId: config.project_id ?? DEFAULT_PROJECT_ID,
      name: config.name,
      direction: config.direction,
      metric: config.metric,
      config: {
        space,
        sampler,
        pruner,
        executor,
        max_trials,
        metadata,
        directions: directionsOf(config),
        metrics: metricsOf(config),
      },
      state: this.studyState(config),
      nTrials: this.count(),
      bestTrialNumber: best?.number ?? null,
      bestValue: best?.value != null && Number.isFinite(best.value) ? best.value : null,
      createdAt: new Date(config.created_at),
      updatedAt: new Date(),
    };
  }

  // --- trial writes -----------------------------------------------------------

  /** A new trial waiting to be asked or leased (enqueued params, the lr round's extension). */
  insertWaiting(number: number, params: Params): void {
    this.stale(number);
    this.sql.exec(
      `INSERT INTO trials (number, state, params) VALUES (?, 'waiting', ?)`,
      number,
      JSON.stringify(params),
    );
  }

  /**
   * A new trial from the sampler (`sampler`: the one that proposed it), running from `now`;
   * `proposed`: its hidden values of the learned parameters (define-by-run), if any.
   */
  insertRunning(
    number: number,
    params: Params,
    now: number,
    sampler: string,
    proposed: Params | null = null,
  ): void {
    this.stale(number);
    this.sql.exec(
      `INSERT INTO trials (number, state, params, started_at, sampler, proposed) VALUES (?, 'running', ?, ?, ?, ?)`,
      number,
      JSON.stringify(params),
      now,
      sampler,
      proposed === null ? null : JSON.stringify(proposed),
    );
  }

  /** A trial's params with one more (define-by-run: a parameter it asked for). */
  setParams(number: number, params: Params): void {
    this.stale(number);
    this.sql.exec(`UPDATE trials SET params = ? WHERE number = ?`, JSON.stringify(params), number);
  }

  /** A trial's user and system attributes (JSON objects, already merged and bounded). */
  setTrialAttrs(number: number, attrs: AttrsView): void {
    this.sql.exec(
      `UPDATE trials SET user_attrs = ?, system_attrs = ? WHERE number = ?`,
      JSON.stringify(attrs.user_attrs),
      JSON.stringify(attrs.system_attrs),
      number,
    );
  }

  /** The study's user and system attributes (meta rows; {} before any was set). */
  studyAttrs(): AttrsView {
    return {
      user_attrs: JSON.parse(this.getMeta('user_attrs') ?? '{}') as Record<string, AttrValue>,
      system_attrs: JSON.parse(this.getMeta('system_attrs') ?? '{}') as Record<string, AttrValue>,
    };
  }

  setStudyAttrs(attrs: AttrsView): void {
    this.setMeta('user_attrs', JSON.stringify(attrs.user_attrs));
    this.setMeta('system_attrs', JSON.stringify(attrs.system_attrs));
  }

  startWaiting(number: number, now: number): void {
    this.stale(number);
    this.sql.exec(
      `UPDATE trials SET state = 'running', started_at = ? WHERE number = ?`,
      now,
      number,
    );
  }

  /** Put a started trial under a new lease (one more attempt). */
  setLease(number: number, token: string, expires: number, runner: string | null): void {
    this.sql.exec(
      `UPDATE trials SET attempts = attempts + 1, lease_token = ?, lease_expires_at = ?, runner = ? WHERE number = ?`,
      token,
      expires,
      runner,
      number,
    );
  }

  extendLease(number: number, expires: number): void {
    this.sql.exec(`UPDATE trials SET lease_expires_at = ? WHERE number = ?`, expires, number);
  }

  /** A heartbeat at `now`: the lease extended to `expires`, counted. */
  heartbeat(number: number, expires: number, now: number): void {
    this.sql.exec(
      `UPDATE trials SET lease_expires_at = ?, heartbeats = heartbeats + 1, last_heartbeat_at = ? WHERE number = ?`,
      expires,
      now,
      number,
    );
  }

  /** The first prune decision of the trial's current attempt (a later one changes nothing). */
  setPruned(number: number, step: number | null, reason: string): void {
    this.sql.exec(
      `UPDATE trials SET prune_step = ?, prune_reason = ? WHERE number = ? AND prune_reason IS NULL`,
      step,
      reason.slice(0, MAX_PRUNE_REASON),
      number,
    );
  }

  /** A leased trial handed back by its holder: it waits again, the attempt does not count, its values are dropped. */
  release(number: number): void {
    this.stale(number);
    this.clearPoints(number);
    this.sql.exec(
      `UPDATE trials SET state = 'waiting', attempts = MAX(attempts - 1, 0), lease_token = NULL, lease_expires_at = NULL, intermediate = '[]', prune_step = NULL, prune_reason = NULL WHERE number = ?`,
      number,
    );
  }

  /** An edge trial the queue did not take: back to waiting, if `token` still holds it. */
  handBack(number: number, token: string): void {
    this.stale(number);
    this.sql.exec(
      `UPDATE trials SET state = 'waiting', attempts = MAX(attempts - 1, 0), lease_token = NULL, lease_expires_at = NULL WHERE number = ? AND lease_token = ?`,
      number,
      token,
    );
  }

  /** An expired lease with no attempts left: the trial fails. */
  failExpired(number: number, error: string, now: number): void {
    this.stale(number);
    this.sql.exec(
      `UPDATE trials SET state = 'failed', error = ?, completed_at = ?, lease_expires_at = NULL WHERE number = ?`,
      error,
      now,
      number,
    );
  }

  /** An expired lease with attempts left: the trial waits for the next, its values dropped. */
  requeueExpired(number: number, error: string): void {
    this.stale(number);
    this.clearPoints(number);
    this.sql.exec(
      `UPDATE trials SET state = 'waiting', error = ?, intermediate = '[]', lease_expires_at = NULL, prune_step = NULL, prune_reason = NULL WHERE number = ?`,
      error,
      number,
    );
  }

  /**
   * The trial's result (`fingerprint`: the tell, to recognise a repeat). `value` with one objective,
   * `values` with several; `constraints` as told (a trial is infeasible when one is above 0).
   */
  finish(
    number: number,
    state: TrialState,
    result: { value: number | null; values: number[] | null; constraints: number[] | null },
    error: string | null,
    now: number,
    fingerprint: string,
  ): void {
    const { value, values, constraints } = result;
    this.stale(number);
    // The indexes built so far take the trial's values (read only when one of them is built).
    const complete = state === 'complete' ? this.complete : null;
    const finished = state === 'complete' || state === 'pruned' ? this.finishedIndex : null;
    if (complete || finished) {
      const points = this.points(number);
      complete?.add(number, points);
      finished?.add(number, points);
    }
    this.sql.exec(
      `UPDATE trials SET state = ?, value = ?, objective_values = ?, constraints = ?, infeasible = ?, error = ?, completed_at = ?, tell = ?, lease_expires_at = NULL WHERE number = ?`,
      state,
      value,
      values === null ? null : toJson(values),
      constraints === null ? null : JSON.stringify(constraints),
      constraints?.some((c) => c > 0) ? 1 : 0,
      error,
      now,
      fingerprint,
      number,
    );
  }

  /** What D1 now holds of the trial's intermediate values (null: unknown, rewrite them whole). */
  setD1Synced(number: number, maxStep: number | null, count: number | null): void {
    this.sql.exec(
      `UPDATE trials SET d1_max_step = ?, d1_count = ? WHERE number = ?`,
      maxStep,
      count,
      number,
    );
  }

  // --- events -----------------------------------------------------------------

  insertEvent(type: string, data: Record<string, unknown>, at: number): number {
    return this.sql
      .exec<{ id: number }>(
        `INSERT INTO events (type, payload, at) VALUES (?, ?, ?) RETURNING id`,
        type,
        toJson(data),
        at,
      )
      .one().id;
  }

  events(ids: number[]): EventRow[] {
    return this.sql
      .exec<EventRow>(
        `SELECT * FROM events WHERE id IN (${ids.map(() => '?').join(',')}) ORDER BY id`,
        ...ids,
      )
      .toArray();
  }

  deleteEvents(ids: number[]): void {
    this.sql.exec(`DELETE FROM events WHERE id IN (${ids.map(() => '?').join(',')})`, ...ids);
  }
}

// --- row mapping ----------------------------------------------------------------

/** A trial's objective values: its several (JSON), or [value] in a single-objective study; null unless complete. */
function valuesOf(r: TrialRow): number[] | null {
  if (r.objective_values !== null) return numbersOfJson(r.objective_values);
  return r.state === 'complete' && r.value !== null ? [r.value] : null;
}

function constraintsOf(r: TrialRow): number[] | null {
  return r.constraints === null ? null : (JSON.parse(r.constraints) as number[]);
}

/** A row of the points table, as read. */
type PointRow = { step: number; value: number; [key: string]: SqlStorageValue };

/** What a report needs of a trial's values, kept in memory (CoordinatorStore.pointSummary). */
export interface PointSummary {
  count: number;
  /** The largest step held (null: none), and the value there. */
  lastStep: number | null;
  lastValue: number | null;
  /** The smallest and largest value held (NaN: none). */
  min: number;
  max: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function trialView(studyId: string, r: TrialRow, points: Point[]): TrialView {
  return {
    study_id: studyId,
    number: r.number,
    params: JSON.parse(r.params) as Params,
    state: r.state,
    value: r.value,
    values: valuesOf(r),
    constraints: constraintsOf(r),
    sampler: r.sampler,
    intermediate: points,
    error: r.error,
    attempts: r.attempts,
    runner: r.runner,
    started_at: iso(r.started_at),
    completed_at: iso(r.completed_at),
    lease_expires_at: r.state === 'running' ? iso(r.lease_expires_at) : null,
    heartbeats: r.heartbeats,
    last_heartbeat_at: iso(r.last_heartbeat_at),
    pruned_at_step: r.prune_reason === null ? null : r.prune_step,
    prune_reason: r.prune_reason,
    user_attrs: JSON.parse(r.user_attrs) as Record<string, AttrValue>,
    system_attrs: JSON.parse(r.system_attrs) as Record<string, AttrValue>,
  };
}

export function frozenTrial(r: TrialRow, points: Point[]): FrozenTrial {
  return {
    number: r.number,
    state: r.state,
    params: JSON.parse(r.params) as Params,
    value: r.value,
    values: r.objective_values === null ? null : numbersOfJson(r.objective_values),
    constraints: constraintsOf(r),
    intermediate: points,
  };
}

/** The trial as D1 stores it (upsertTrials). */
export function trialRecord(studyId: string, r: TrialRow, points: Point[]): TrialRecord {
  return {
    studyId,
    number: r.number,
    state: r.state,
    // D1's binding cannot carry an infinite number: the value is null there, values has it as a string.
    value: r.value !== null && Number.isFinite(r.value) ? r.value : null,
    values: valuesOf(r)?.map(wireNumber) ?? null,
    constraints: constraintsOf(r),
    sampler: r.sampler,
    error: r.error,
    attempts: r.attempts,
    params: JSON.parse(r.params) as Params,
    intermediate: points,
    startedAt: r.started_at === null ? null : new Date(r.started_at),
    completedAt: r.completed_at === null ? null : new Date(r.completed_at),
  };
}

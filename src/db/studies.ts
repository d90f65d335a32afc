/** Queries of the studies aggregate (studies, trials, their params and intermediate values). */
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { database } from './client';
import * as schema from './schema';
import type { Params } from '../contract/space';

export type StudyRow = typeof schema.studies.$inferInsert;

/**
 * A trial as D1 stores it: its `trials` row (every column of the table, `attempts` the leases the
 * trial has had), with its params and intermediate values, which go to their own tables.
 */
export type TrialRecord = typeof schema.trials.$inferSelect & {
  params: Params;
  intermediate: { step: number; value: number }[];
  /** 'append': `intermediate` holds only the steps D1 lacks (see intermediate.ts); default 'replace'. */
  intermediateMode?: 'append' | 'replace';
};

/** D1 binds at most 100 variables per statement. */
const D1_MAX_BOUND_PARAMS = 100;
/** Bound data per statement, kept well under D1's 100 KB statement size (a long string param counts). */
const D1_MAX_STATEMENT_BYTES = 48 * 1024;

/**
 * Split the rows of a multi-row insert into chunks D1 takes: at most
 * D1_MAX_BOUND_PARAMS bound variables (rows x columns) and about
 * D1_MAX_STATEMENT_BYTES of data each. A single row over the byte bound
 * goes alone (the API bounds free-form fields, so no row gets near D1's limits).
 */
function chunkRows<T extends object>(
  rows: T[],
  maxParams = D1_MAX_BOUND_PARAMS,
  maxBytes = D1_MAX_STATEMENT_BYTES,
): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let params = 0;
  let bytes = 0;
  for (const row of rows) {
    const cols = Object.keys(row).length;
    const size = JSON.stringify(row).length;
    if (chunk.length > 0 && (params + cols > maxParams || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      params = 0;
      bytes = 0;
    }
    chunk.push(row);
    params += cols;
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export async function upsertStudy(d1: D1Database, row: StudyRow): Promise<void> {
  const { id: _id, createdAt: _created, ...set } = row;
  await database(d1)
    .insert(schema.studies)
    .values(row)
    .onConflictDoUpdate({ target: schema.studies.id, set });
}

/**
 * Write trials with their params and intermediate values, replacing what D1
 * had (idempotent), in one batch: all or nothing. Multi-row inserts are
 * chunked under D1's limits: a trial with 1,000 reported steps is 40 statements
 * (`trialStatements` counts them; outbox.ts bounds a flush by that count).
 */
export async function upsertTrials(d1: D1Database, records: TrialRecord[]): Promise<void> {
  if (records.length === 0) return;
  const [first, ...rest] = records.flatMap((t) => trialWrites(database(d1), t));
  await database(d1).batch([first, ...rest]);
}

/** How many D1 statements `upsertTrials` issues for one trial (outbox.ts keeps a flush under its bound). */
export function trialStatements(t: TrialRecord): number {
  const params = Object.entries(t.params).map(([name, value]) => ({
    studyId: t.studyId,
    number: t.number,
    name,
    value,
  }));
  const inter = t.intermediate.map((p) => ({ studyId: t.studyId, number: t.number, ...p }));
  return (
    2 +
    (t.intermediateMode === 'append' ? 0 : 1) +
    chunkRows(params).length +
    chunkRows(inter).length
  );
}

/** The statements that write one trial (see upsertTrials). */
function trialWrites(db: ReturnType<typeof database>, t: TrialRecord) {
  const key = and(
    eq(schema.trialParams.studyId, t.studyId),
    eq(schema.trialParams.number, t.number),
  );
  const ikey = and(
    eq(schema.trialIntermediate.studyId, t.studyId),
    eq(schema.trialIntermediate.number, t.number),
  );
  const { params: given, intermediate, intermediateMode, ...row } = t;
  const { studyId: _s, number: _n, ...set } = row;
  const params = Object.entries(given).map(([name, value]) => ({
    studyId: t.studyId,
    number: t.number,
    name,
    value,
  }));
  const inter = intermediate.map((p) => ({
    studyId: t.studyId,
    number: t.number,
    step: p.step,
    value: p.value,
  }));
  return [
    db
      .insert(schema.trials)
      .values(row)
      .onConflictDoUpdate({ target: [schema.trials.studyId, schema.trials.number], set }),
    db.delete(schema.trialParams).where(key),
    ...(intermediateMode === 'append' ? [] : [db.delete(schema.trialIntermediate).where(ikey)]),
    ...chunkRows(params).map((rows) => db.insert(schema.trialParams).values(rows)),
    // Appending is idempotent: a step D1 already has is left as it is (its value cannot change).
    ...chunkRows(inter).map((rows) =>
      db.insert(schema.trialIntermediate).values(rows).onConflictDoNothing(),
    ),
  ];
}

/** A row of the studies table, as read. */
export type StudyListRow = typeof schema.studies.$inferSelect;

/** Studies newest first; `cursor` is the last id of the previous page; `name`: only studies of that name. */
export async function listStudies(
  d1: D1Database,
  projectId: string,
  cursor: string | undefined,
  limit: number,
  name?: string,
): Promise<StudyListRow[]> {
  const db = database(d1);
  return db
    .select()
    .from(schema.studies)
    .where(
      and(
        eq(schema.studies.projectId, projectId),
        cursor ? lt(schema.studies.id, cursor) : undefined,
        name !== undefined ? eq(schema.studies.name, name) : undefined,
      ),
    )
    .orderBy(desc(schema.studies.id))
    .limit(limit);
}

/**
 * `json_extract(column, path)`, or NULL where the column is not JSON SQLite can
 * read (json_extract throws on it, failing the whole query: JSON nested deeper
 * than SQLite's 1000 levels is "malformed"). CASE is evaluated lazily, unlike
 * the terms of a WHERE, which SQLite may evaluate in any order.
 */
const safeJsonExtract = (column: string, path: string) =>
  `CASE WHEN json_valid(${column}) THEN json_extract(${column}, '${path}') END`;

/** Running studies whose trials runners lease, newest first (ids only). */
export async function listRunnerStudies(
  d1: D1Database,
  projectId: string,
  limit: number,
): Promise<{ id: string }[]> {
  return database(d1)
    .select({ id: schema.studies.id })
    .from(schema.studies)
    .where(
      and(
        eq(schema.studies.projectId, projectId),
        eq(schema.studies.state, 'running'),
        sql`CASE WHEN json_valid(${schema.studies.config}) THEN json_extract(${schema.studies.config}, '$.executor.kind') END = 'runner'`,
      ),
    )
    .orderBy(desc(schema.studies.id))
    .limit(limit);
}

/**
 * Evidence for lr priors, both kinds the priors read (tuning/lr/priors.ts), newest first:
 * - 'lr-suggest': the best `lr` of each completed lr/suggest validation (studies whose
 *   metadata.kind is 'lr-suggest') with this optimizer: an edge one's probe gives its batch size
 *   and family (its model's kind); a client's or runners' has neither. The edge's extension round
 *   counts with its first round (one answer per range test: the lower best value), its seeds round
 *   (other splits of the finalists) not at all.
 * - 'study': the best `lr` of each completed study whose metadata.context names this optimizer,
 *   with the batch size and model family it declared (or its best trial's batch_size param).
 */
export async function findLrEvidence(
  d1: D1Database,
  projectId: string,
  optimizer: string,
  limit = 50,
): Promise<
  {
    studyId: string;
    lr: number;
    batchSize: number | null;
    family: string | null;
    kind: 'lr-suggest' | 'study';
  }[]
> {
  const config = (path: string) => safeJsonExtract('s.config', path);
  const rows = await d1
    .prepare(
      `SELECT s.id AS study_id, p.value AS lr, s.best_value AS value,
              CASE WHEN ${config('$.metadata.kind')} = 'lr-suggest' THEN 'lr-suggest' ELSE 'study' END AS kind,
              ${config('$.metadata.range_test_id')} AS range_test_id,
              COALESCE((SELECT b.value FROM trial_params b WHERE b.study_id = s.id AND b.number = s.best_trial_number AND b.name = 'batch_size'),
                       ${config('$.metadata.context.batch_size')},
                       ${config('$.executor.probe.batch_size')}) AS batch_size,
              COALESCE(${config('$.metadata.context.model_family')}, ${config('$.executor.probe.model.kind')}) AS family
         FROM studies s JOIN trial_params p ON p.study_id = s.id AND p.number = s.best_trial_number AND p.name = 'lr'
        WHERE s.project_id = ? AND s.state = 'completed' AND s.best_trial_number IS NOT NULL
          AND (${config('$.metadata.context.optimizer')} = ?
               OR (${config('$.metadata.kind')} = 'lr-suggest'
                   AND COALESCE(${config('$.metadata.optimizer')}, ${config('$.executor.probe.optimizer.name')}) = ?
                   AND NOT (${config('$.executor.kind')} = 'edge' AND ${config('$.space.seed')} IS NOT NULL)))
        ORDER BY s.id DESC LIMIT ?`,
    )
    .bind(projectId, optimizer, optimizer, limit)
    .all<{
      study_id: string;
      lr: string;
      value: number | null;
      kind: 'lr-suggest' | 'study';
      range_test_id: string | null;
      batch_size: string | number | null;
      family: string | null;
    }>();
  // One validated answer per range test: the round whose best is lowest (first round or extension).
  const answers = new Map<string, (typeof rows.results)[number]>();
  const kept = rows.results.filter((r) => {
    if (r.kind !== 'lr-suggest' || r.range_test_id === null) return true;
    const seen = answers.get(r.range_test_id);
    if (!seen || (r.value ?? Infinity) < (seen.value ?? Infinity)) answers.set(r.range_test_id, r);
    return false;
  });
  return [...kept, ...answers.values()]
    .map((r) => ({
      studyId: r.study_id,
      lr: Number(JSON.parse(String(r.lr))),
      batchSize: r.batch_size === null ? null : Number(r.batch_size),
      family: r.family,
      kind: r.kind,
    }))
    .filter((r) => Number.isFinite(r.lr) && r.lr > 0);
}

/** A study that validated candidates of a range test (metadata.kind 'lr-suggest'), as D1 lists it. */
export interface LrSuggestionRow {
  id: string;
  name: string;
  state: string;
  n_trials: number;
  executor: string | null;
  /** 1 when the study is a budgeted search (metadata.ladder), which GET /v1/lr/suggest/{id} answers on every executor. */
  ladder: number;
  budget_runs: number | null;
  horizon_unit: string | null;
  horizon_length: number | null;
  best_value: number | null;
  /** The lr param of the best trial (JSON, as trial_params keeps it); null before one. */
  best_lr: string | null;
  created_at: number;
}

/**
 * The project's lr/suggest studies made from range test `rangeTestId` (metadata.range_test_id),
 * newest first; `cursor` is the last id of the previous page. One query: the study rows with the
 * best trial's lr.
 */
export async function listLrSuggestionsOf(
  d1: D1Database,
  projectId: string,
  rangeTestId: string,
  cursor: string | undefined,
  limit: number,
): Promise<LrSuggestionRow[]> {
  const config = (path: string) => safeJsonExtract('s.config', path);
  const rows = await d1
    .prepare(
      `SELECT s.id, s.name, s.state, s.n_trials, s.best_value, s.created_at,
              ${config('$.executor.kind')} AS executor,
              CASE WHEN ${config('$.metadata.ladder')} IS NOT NULL THEN 1 ELSE 0 END AS ladder,
              ${config('$.metadata.budget.runs')} AS budget_runs,
              ${config('$.metadata.horizon.unit')} AS horizon_unit,
              ${config('$.metadata.horizon.length')} AS horizon_length,
              (SELECT p.value FROM trial_params p WHERE p.study_id = s.id AND p.number = s.best_trial_number AND p.name = 'lr') AS best_lr
         FROM studies s
        WHERE s.project_id = ? AND ${config('$.metadata.kind')} = 'lr-suggest'
          AND ${config('$.metadata.range_test_id')} = ? AND (? IS NULL OR s.id < ?)
        ORDER BY s.id DESC LIMIT ?`,
    )
    .bind(projectId, rangeTestId, cursor ?? null, cursor ?? null, limit)
    .all<LrSuggestionRow>();
  return rows.results;
}

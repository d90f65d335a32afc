/** Queries of the lr_range_tests aggregate. */
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { database } from './client';
import * as schema from './schema';

export type StoredRangeTest = typeof schema.lrRangeTests.$inferSelect;
export type NewRangeTest = typeof schema.lrRangeTests.$inferInsert;

export async function findRangeTestByKey(
  d1: D1Database,
  cacheKey: string,
): Promise<StoredRangeTest | undefined> {
  return database(d1).query.lrRangeTests.findFirst({
    where: eq(schema.lrRangeTests.cacheKey, cacheKey),
  });
}

export async function findRangeTestById(
  d1: D1Database,
  id: string,
): Promise<StoredRangeTest | undefined> {
  return database(d1).query.lrRangeTests.findFirst({ where: eq(schema.lrRangeTests.id, id) });
}

/**
 * Store a result; answers false when a row with the same cache key already
 * exists (two identical requests raced: the first insert wins).
 */
export async function insertRangeTest(d1: D1Database, row: NewRangeTest): Promise<boolean> {
  const inserted = await database(d1)
    .insert(schema.lrRangeTests)
    .values(row)
    .onConflictDoNothing({ target: schema.lrRangeTests.cacheKey })
    .returning({ id: schema.lrRangeTests.id });
  return inserted.length > 0;
}

/**
 * A project's range tests, newest first (ids are time-ordered); `cursor` is
 * the last id of the previous page. Summaries only: what ran and what it
 * suggests, read from the stored request and result, not the curves.
 */
export async function listRangeTests(
  d1: D1Database,
  projectId: string,
  cursor: string | undefined,
  limit: number,
) {
  const t = schema.lrRangeTests;
  const fromRequest = <T>(path: string) => sql<T | null>`json_extract(${t.request}, ${path})`;
  const fromResult = <T>(path: string) => sql<T | null>`json_extract(${t.result}, ${path})`;
  return database(d1)
    .select({
      id: t.id,
      backend: t.backend,
      suggestedLr: t.suggestedLr,
      confidence: t.confidence,
      createdAt: t.createdAt,
      stepsRun: fromResult<number>('$.steps_run'),
      method: fromResult<string>('$.suggestion.method'),
      curveModel: fromRequest<string>('$.model.name'),
      probeModel: fromRequest<string>('$.probe.model.kind'),
      probeHidden: fromRequest<string>('$.probe.model.hidden'),
      probeData: sql<
        string | null
      >`coalesce(json_extract(${t.request}, '$.probe.data.name'), json_extract(${t.request}, '$.probe.data.kind'))`,
      optimizer: sql<
        string | null
      >`coalesce(json_extract(${t.request}, '$.optimizer.name'), json_extract(${t.request}, '$.probe.optimizer.name'))`,
    })
    .from(t)
    .where(and(eq(t.projectId, projectId), cursor ? lt(t.id, cursor) : undefined))
    .orderBy(desc(t.id))
    .limit(limit);
}

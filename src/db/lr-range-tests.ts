/** Queries of the lr_range_tests aggregate. */
import { drizzle } from 'drizzle-orm/d1';
import { eq } from 'drizzle-orm';
import * as schema from './schema';

export type StoredRangeTest = typeof schema.lrRangeTests.$inferSelect;
export type NewRangeTest = typeof schema.lrRangeTests.$inferInsert;

export function database(d1: D1Database) {
  return drizzle(d1, { schema });
}

export async function findRangeTestByKey(d1: D1Database, cacheKey: string): Promise<StoredRangeTest | undefined> {
  return database(d1).query.lrRangeTests.findFirst({ where: eq(schema.lrRangeTests.cacheKey, cacheKey) });
}

export async function findRangeTestById(d1: D1Database, id: string): Promise<StoredRangeTest | undefined> {
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

/**
 * The D1 schema. SQL columns are snake_case, TypeScript keys camelCase.
 * Migrations in `migrations/` are generated from this file by drizzle-kit
 * (`npm run db:generate`); never edit them by hand.
 */
import { sqliteTable, text, integer, real } from 'drizzle-orm/sqlite-core';

/** One LR range test: its canonical request, keyed by SHA-256, and its answer. */
export const lrRangeTests = sqliteTable('lr_range_tests', {
  id: text('id').primaryKey(),
  cacheKey: text('cache_key').notNull().unique(),
  request: text('request', { mode: 'json' }).notNull(),
  result: text('result', { mode: 'json' }).notNull(),
  backend: text('backend').notNull(),
  suggestedLr: real('suggested_lr'),
  confidence: text('confidence').notNull(),
  durationMs: integer('duration_ms').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

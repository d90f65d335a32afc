/** Queries of the notes on studies and trials. */
import { and, asc, eq } from 'drizzle-orm';
import { database } from './client';
import * as schema from './schema';

export type StoredNote = typeof schema.notes.$inferSelect;

/** The study's note (trial -1) and its trials' notes, by trial number. */
export async function findNotes(
  d1: D1Database,
  projectId: string,
  studyId: string,
): Promise<StoredNote[]> {
  return database(d1)
    .select()
    .from(schema.notes)
    .where(and(eq(schema.notes.projectId, projectId), eq(schema.notes.studyId, studyId)))
    .orderBy(asc(schema.notes.trial));
}

/** Writes a note (the study's with trial -1), replacing the one there; answers it as stored. */
export async function putNote(d1: D1Database, row: StoredNote): Promise<StoredNote> {
  await database(d1)
    .insert(schema.notes)
    .values(row)
    .onConflictDoUpdate({
      target: [schema.notes.studyId, schema.notes.trial],
      set: { body: row.body, updatedAt: row.updatedAt },
    });
  return row;
}

/**
 * Notes: the Markdown a person writes on a study or on one of its trials, kept in D1 (not the
 * study's tuning state). A note belongs to a study the caller's project can read; a trial's to
 * a trial the study has.
 */
import { DomainError } from '../contract/errors';
import type { NotesSchema, NoteSchema } from '../contract/schemas';
import type { z } from 'zod';
import { findNotes, putNote, type StoredNote } from '../db/notes';
import { getStudy } from './studies';

type Note = z.output<typeof NoteSchema>;
type Notes = z.output<typeof NotesSchema>;

/** The trial number that stands for the study's own note. */
const STUDY_NOTE = -1;

const view = (n: StoredNote): Note => ({
  study_id: n.studyId,
  trial: n.trial === STUDY_NOTE ? null : n.trial,
  note: n.body,
  updated_at: n.updatedAt.toISOString(),
});

/** The study's note and its trials' (404 for a study the project does not have). */
export async function getNotes(env: Env, projectId: string, id: string): Promise<Notes> {
  await getStudy(env, projectId, id);
  const rows = await findNotes(env.DB, projectId, id);
  const own = rows.find((n) => n.trial === STUDY_NOTE);
  return {
    study: own ? view(own) : null,
    trials: rows.filter((n) => n.trial !== STUDY_NOTE).map(view),
  };
}

/**
 * Writes the note of study `id` (`trial` null) or of its trial `trial`: 404 for a study the
 * project does not have, or a trial number the study has not reached.
 */
export async function setNote(
  env: Env,
  projectId: string,
  id: string,
  trial: number | null,
  body: string,
): Promise<Note> {
  const study = await getStudy(env, projectId, id);
  if (trial !== null && trial >= study.n_trials)
    throw new DomainError(
      'not_found',
      `study '${id}' has no trial ${trial} (its trials are numbered 0 to ${study.n_trials - 1})`,
    );
  const row = await putNote(env.DB, {
    projectId,
    studyId: id,
    trial: trial ?? STUDY_NOTE,
    body,
    updatedAt: new Date(),
  });
  return view(row);
}

/**
 * The way into a study's coordinator from a Worker: its stub, and calls whose
 * errors come back as `CoordinatorError`s (api/problem.ts maps their kinds to
 * problem+json).
 */
import { DEFAULT_PROJECT_ID } from '../db/schema';
import { CoordinatorError, parseCoordinatorError } from './errors';

const STUDY_ID = /^std_[0-9A-Z]{26}$/;

/**
 * The coordinator of study `id` in project `projectId`. Objects are named by
 * project and id, so a key of another project reaches an empty object and
 * gets 404: isolation by construction. (The default project uses the bare
 * id, as studies did before projects.)
 */
export function studyStub(env: Env, projectId: string, id: string) {
  if (!STUDY_ID.test(id)) throw new CoordinatorError('not_found', `no study with id '${id}'`);
  return env.STUDY.get(
    env.STUDY.idFromName(projectId === DEFAULT_PROJECT_ID ? id : `${projectId}:${id}`),
  );
}

/**
 * Run a call into the coordinator of study `id`: an error it raised (which
 * crosses the RPC boundary as a message) comes back as a `CoordinatorError`,
 * "no such study" naming the id asked for.
 */
export async function callStudy<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CoordinatorError) throw err;
    const e = parseCoordinatorError(err);
    if (!e) throw err;
    if (e.kind === 'not_found')
      throw new CoordinatorError(
        e.kind,
        e.detail === 'no such study' ? `no study with id '${id}'` : e.detail,
      );
    if (e.kind === 'conflict') throw new CoordinatorError(e.kind, e.detail);
    // `path: message` details name the offending field.
    const m = /^([a-z_][a-z0-9_.]*): ([\s\S]*)$/.exec(e.detail);
    throw new CoordinatorError(e.kind, e.detail, m ? [{ path: m[1], message: m[2] }] : undefined);
  }
}

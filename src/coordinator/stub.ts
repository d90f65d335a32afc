/**
 * The way into a study's coordinator from a Worker: its stub, and calls whose
 * errors come back as `DomainError`s (api/problem.ts maps their kinds to
 * problem+json).
 */
import { DEFAULT_PROJECT_ID } from '../db/schema';
import { CoordinatorError, domainErrorOf, NO_SUCH_STUDY, valueOf, type RpcResult } from './errors';

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
 * Run a call into the coordinator of study `id`: its value, or the DomainError
 * it answered (errors.ts, RpcResult) thrown with its kind, detail and issues;
 * "no such study" names the id asked for. An error the call threw is read the
 * same way when it carries a DomainError in wire form, else rethrown as it is.
 */
export async function callStudy<T>(id: string, fn: () => Promise<RpcResult<T>>): Promise<T> {
  try {
    return valueOf(await fn());
  } catch (err) {
    const e = domainErrorOf(err);
    if (!e) throw err;
    if (e.kind === 'not_found' && e.detail === NO_SUCH_STUDY)
      throw new CoordinatorError('not_found', `no study with id '${id}'`);
    throw e;
  }
}

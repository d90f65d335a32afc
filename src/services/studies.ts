/** Studies over HTTP: validation that needs the space, then one call into the study's coordinator. */
import { newId } from '../api/ids';
import { ProblemError } from '../api/problem';
import type { StudyCreate } from '../api/schemas';
import { parseCoordinatorError } from '../coordinator/errors';
import type { StudyConfig, StudyView, TellBody, TrialView } from '../coordinator/types';
import { listStudies as listStudyRows } from '../db/studies';
import type { InputIssue } from '../probe/errors';
import { SamplerConfigError } from '../tuning/errors';
import { validatePrunerConfig } from '../tuning/pruners';
import { makeSampler } from '../tuning/samplers';
import type { Params } from '../tuning/types';
import { validateParams, validateSpace } from '../tuning/validate';

const STUDY_ID = /^std_[0-9A-Z]{26}$/;

function invalid(issues: InputIssue[]): ProblemError {
  return new ProblemError(
    422,
    'invalid-request',
    issues.length === 1 ? `${issues[0].path}: ${issues[0].message}` : `${issues.length} problems in the request`,
    issues,
  );
}

function stub(env: Env, id: string) {
  if (!STUDY_ID.test(id)) throw new ProblemError(404, 'not-found', `no study with id '${id}'`);
  return env.STUDY.get(env.STUDY.idFromName(id));
}

/** Run a coordinator call, turning its errors into problem+json. */
async function call<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = parseCoordinatorError(err);
    if (!e) throw err;
    if (e.kind === 'not_found') throw new ProblemError(404, 'not-found', e.detail === 'no such study' ? `no study with id '${id}'` : e.detail);
    if (e.kind === 'conflict') throw new ProblemError(409, 'conflict', e.detail);
    throw new ProblemError(422, 'invalid-request', e.detail);
  }
}

export async function createStudy(env: Env, body: StudyCreate): Promise<StudyView> {
  const issues: InputIssue[] = [];
  const { space, issues: spaceIssues } = validateSpace(body.space);
  issues.push(...spaceIssues);
  issues.push(...validatePrunerConfig(body.pruner));
  if (body.executor.kind !== 'client') {
    issues.push({ path: 'executor.kind', message: `executor '${body.executor.kind}' is not available yet: use 'client' (ask and tell)` });
  }
  const seed = body.sampler.seed ?? crypto.getRandomValues(new Uint32Array(1))[0] >>> 1;
  const sampler = { ...body.sampler, seed } as StudyConfig['sampler'];
  if (space && issues.length === 0) {
    try {
      // Sampler settings that cannot work with this space (grid over a continuous range).
      makeSampler(sampler.name, sampler).sample({ space, trials: [], direction: body.direction, seed, trialNumber: 0 });
    } catch (err) {
      if (err instanceof SamplerConfigError) issues.push({ path: err.path, message: err.message });
      else throw err;
    }
  }
  if (issues.length > 0 || !space) throw invalid(issues);
  const config: StudyConfig = {
    id: newId('std'),
    name: body.name,
    direction: body.direction,
    metric: body.metric,
    space,
    sampler,
    pruner: body.pruner as StudyConfig['pruner'],
    executor: { kind: 'client' },
    max_trials: body.max_trials,
    metadata: body.metadata,
    created_at: new Date().toISOString(),
  };
  return call(config.id, () => stub(env, config.id).create(config));
}

export async function getStudy(env: Env, id: string): Promise<StudyView> {
  return call(id, () => stub(env, id).getStudy());
}

export async function listStudies(env: Env, cursor: string | undefined, limit = 20) {
  const rows = await listStudyRows(env.DB, cursor, limit + 1);
  const page = rows.slice(0, limit);
  const studies = await Promise.all(page.map((r) => getStudy(env, r.id)));
  return { studies, next_cursor: rows.length > limit ? page[page.length - 1].id : null };
}

export async function ask(env: Env, id: string, count: number | undefined): Promise<TrialView[]> {
  return call(id, () => stub(env, id).ask(count ?? 1));
}

export async function enqueue(env: Env, id: string, params: Params): Promise<TrialView> {
  const s = stub(env, id);
  const study = (await call(id, () => s.getStudy())) as StudyView;
  const issues = validateParams(study.space, params);
  if (issues.length > 0) throw invalid(issues);
  return call(id, () => s.enqueue(params));
}

export async function report(env: Env, id: string, number: number, step: number, value: number) {
  return call(id, () => stub(env, id).report(number, step, value));
}

export async function tell(env: Env, id: string, number: number, body: TellBody): Promise<TrialView> {
  return call(id, () => stub(env, id).tell(number, body));
}

export async function listTrials(env: Env, id: string): Promise<TrialView[]> {
  return call(id, () => stub(env, id).listTrials());
}

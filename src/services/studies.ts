/** Studies over HTTP: validation that needs the space, then one call into the study's coordinator. */
import { DEFAULT_PAGE_SIZE, MAX_STUDY_CONFIG_BYTES } from '../contract/limits';
import { newId, randomBase64Url } from '../lib/ids';
import { inputError } from '../contract/errors';
import type { AskOptions, StudyCreate, SuggestParam } from '../contract/schemas';
import { domainErrorOf, valueOf } from '../coordinator/errors';
import { callStudy, studyStub } from '../coordinator/stub';
import type {
  AskedTrial,
  AttrsView,
  Caller,
  Importance,
  LeaseGrant,
  SamplerConfig,
  StudyConfig,
  StudyView,
  SuggestedParam,
  TellBody,
  Timed,
  TrialView,
} from '../contract/study';
import { listRunnerStudies, listStudies as listStudyRows, type StudyListRow } from '../db/studies';
import type { InputIssue } from '../contract/issues';
import { checkPruner, checkSampler } from '../tuning/registry';
import type { Direction, Params, Space } from '../tuning/types';
import { validateDistribution, validateSpace } from '../tuning/validate';
import { checkEdgeSpace } from './edge';
import { parameterImportance } from '../tuning/importance';

/**
 * Every problem with a study body that the schema cannot see, for POST
 * /v1/studies and for a template (services/triggers.ts) alike: the space, the
 * pruner's and the sampler's options, an edge study's settings, and (when
 * all of those hold) the sampler against the space. Paths are from the study
 * body's root.
 */
export function validateStudy(body: StudyCreate): { space: Space | null; issues: InputIssue[] } {
  const issues: InputIssue[] = [];
  const { space, issues: spaceIssues } = validateSpace(body.space);
  issues.push(...spaceIssues);
  issues.push(...checkPruner(body.pruner).issues);
  const n = objectivesOf(body).directions.length;
  if (n > 1) {
    // Pruners judge one intermediate curve: Optuna refuses report() with several objectives too.
    if (body.pruner.name !== 'none')
      issues.push({
        path: 'pruner',
        message: `a study with ${n} objectives takes no pruner (pruners judge one objective's intermediate values): leave pruner out or send {"name": "none"}`,
      });
    if (body.executor.kind === 'edge')
      issues.push({
        path: 'directions',
        message: `an edge study trains a probe for one objective (its validation loss): several objectives need executor client or runner`,
      });
  }
  if (space && body.executor.kind === 'edge')
    issues.push(...checkEdgeSpace(space, body.executor, body.max_trials));
  // The sampler's options; when everything else holds, also what it cannot cover of the space
  // (a grid over a continuous range).
  issues.push(
    ...checkSampler(body.sampler, space && issues.length === 0 ? space : undefined).issues,
  );
  return { space, issues };
}

/**
 * The objectives of a study body: `directions` and `metrics` (one per objective), or the one
 * `direction` (default minimize) and `metric` (default 'value'); several objectives are named
 * objective_0, objective_1, ... unless `metrics` names them. StudyCreateSchema checked that the
 * two forms are not mixed and that the lengths agree.
 */
function objectivesOf(body: Pick<StudyCreate, 'direction' | 'directions' | 'metric' | 'metrics'>): {
  directions: Direction[];
  metrics: string[];
} {
  const directions = body.directions ?? [body.direction ?? 'minimize'];
  const metrics =
    body.metrics ??
    (directions.length === 1
      ? [body.metric ?? 'value']
      : directions.map((_, i) => `objective_${i}`));
  return { directions, metrics };
}

/** `internal`: settings of the study that POST /v1/studies cannot set (lr/suggest's extension past an edge). */
export async function createStudy(
  env: Env,
  projectId: string,
  body: StudyCreate,
  internal: Pick<StudyConfig, 'lr_extension' | 'lr_ladder'> = {},
): Promise<StudyView> {
  const { space, issues } = validateStudy(body);
  if (issues.length > 0 || !space) throw inputError(issues);
  const executor = body.executor;
  const seed = body.sampler.seed ?? crypto.getRandomValues(new Uint32Array(1))[0] >>> 1;
  const sampler: SamplerConfig = { ...body.sampler, seed };
  const { directions, metrics } = objectivesOf(body);
  const config: StudyConfig = {
    id: newId('std'),
    project_id: projectId,
    name: body.name,
    direction: directions[0],
    metric: metrics[0],
    // A one-element directions is a single-objective study, stored as one.
    ...(directions.length > 1 ? { directions, metrics } : {}),
    space,
    sampler,
    pruner: body.pruner,
    executor,
    max_trials: body.max_trials,
    metadata: body.metadata,
    created_at: new Date().toISOString(),
    ...internal,
  };
  checkConfigSize(config);
  const dispatchSecret =
    executor.kind === 'runner' && executor.dispatch_url ? `dsec_${randomBase64Url(32)}` : undefined;
  const view: StudyView = await callStudy(config.id, () =>
    studyStub(env, projectId, config.id).create(config, dispatchSecret),
  );
  return dispatchSecret ? { ...view, dispatch_secret: dispatchSecret } : view;
}

export async function getStudy(env: Env, projectId: string, id: string): Promise<StudyView> {
  return callStudy(id, () => studyStub(env, projectId, id).getStudy());
}

/**
 * A page of the project's studies, newest first (`name`: only those of that name), each as its
 * object answers. A D1 row whose object holds no study (gone, or never written) is shown from
 * D1's copy with state `unavailable` (unavailableStudy), so one lost object never fails the page.
 */
export async function listStudies(
  env: Env,
  projectId: string,
  cursor: string | undefined,
  limit = DEFAULT_PAGE_SIZE,
  name?: string,
) {
  const rows = await listStudyRows(env.DB, projectId, cursor, limit + 1, name);
  const page = rows.slice(0, limit);
  const studies = await Promise.all(
    page.map(async (r) => {
      try {
        return await getStudy(env, projectId, r.id);
      } catch (err) {
        if (domainErrorOf(err)?.kind !== 'not_found') throw err;
        return unavailableStudy(r);
      }
    }),
  );
  return { studies, next_cursor: rows.length > limit ? page[page.length - 1].id : null };
}

/** Why a listed study is `unavailable` (its storage.reason). */
const UNAVAILABLE_REASON =
  "the study's live state (its Durable Object) holds nothing: shown from the copy D1 keeps (config and counts, no trials); GET /v1/studies/{id} answers 404";

/** A study as D1's copy knows it, for a row whose object holds no study: state `unavailable`, no trials. */
function unavailableStudy(row: StudyListRow): StudyView {
  const config = (row.config ?? {}) as Partial<
    Pick<
      StudyView,
      | 'space'
      | 'sampler'
      | 'pruner'
      | 'executor'
      | 'max_trials'
      | 'metadata'
      | 'directions'
      | 'metrics'
    >
  >;
  return {
    id: row.id,
    name: row.name,
    direction: row.direction,
    metric: row.metric,
    directions: config.directions ?? [row.direction],
    metrics: config.metrics ?? [row.metric],
    space: config.space ?? {},
    sampler: config.sampler ?? { name: 'auto', seed: 0 },
    pruner: config.pruner ?? { name: 'none' },
    executor: config.executor ?? { kind: 'client' },
    max_trials: config.max_trials ?? null,
    metadata: config.metadata ?? {},
    user_attrs: {},
    system_attrs: {},
    state: 'unavailable',
    n_trials: row.nTrials,
    best_trial: null,
    best_trials: [],
    created_at: row.createdAt.toISOString(),
    storage: {
      d1: 'ok',
      pending: 0,
      parked: [],
      reason: UNAVAILABLE_REASON,
      next_attempt_at: null,
    },
  };
}

/**
 * Start the study's next trial (POST .../ask), under a lease for the caller, with where the
 * coordinator spent its time.
 */
export async function ask(
  env: Env,
  projectId: string,
  id: string,
  options: AskOptions = {},
): Promise<Timed<AskedTrial>> {
  if (options.number !== undefined && options.fresh)
    throw inputError([
      { path: 'fresh', message: 'send number (a waiting trial) or fresh, not both' },
    ]);
  const { result, timing } = await callStudy(id, () =>
    studyStub(env, projectId, id).ask(1, options),
  );
  return { result: result[0], timing };
}

/**
 * Start `count` trials at once (POST .../ask-batch), each under its own lease, with where the
 * coordinator spent its time.
 */
export async function askBatch(
  env: Env,
  projectId: string,
  id: string,
  count: number,
): Promise<Timed<AskedTrial[]>> {
  return callStudy(id, () => studyStub(env, projectId, id).ask(count));
}

/**
 * Enqueue fixed params; the coordinator checks them against the study's declared space.
 * `distributions` (define-by-run) are checked here, at `distributions.<name>.*`.
 */
export async function enqueue(
  env: Env,
  projectId: string,
  id: string,
  params: Params,
  distributions: Record<string, unknown> = {},
): Promise<TrialView> {
  const specs: Space = {};
  const issues: InputIssue[] = [];
  for (const [name, raw] of Object.entries(distributions)) {
    const checked = validateDistribution(raw, `distributions.${name}`);
    issues.push(...checked.issues);
    if (checked.spec) specs[name] = checked.spec;
  }
  if (issues.length > 0) throw inputError(issues);
  return callStudy(id, () => studyStub(env, projectId, id).enqueue(params, specs));
}

/**
 * A trial asks for a parameter (define-by-run, POST .../params): the distribution checked here
 * (422s at `distribution.*`), the rest in the coordinator, which answers the trial's value.
 */
export async function suggestParam(
  env: Env,
  projectId: string,
  id: string,
  number: number,
  body: Pick<SuggestParam, 'name' | 'distribution' | 'value'>,
  caller: Caller = {},
): Promise<SuggestedParam> {
  const { spec, issues } = validateDistribution(body.distribution);
  if (!spec) throw inputError(issues);
  return callStudy(id, () =>
    studyStub(env, projectId, id).suggestParam(number, body.name, spec, body.value, caller),
  );
}

/** Merge user and system attributes into a study's (`number` null) or a trial's. */
export async function setAttrs(
  env: Env,
  projectId: string,
  id: string,
  number: number | null,
  attrs: Partial<AttrsView>,
  caller: Caller = {},
): Promise<AttrsView> {
  return callStudy(id, () => studyStub(env, projectId, id).setAttrs(number, attrs, caller));
}

export async function report(
  env: Env,
  projectId: string,
  id: string,
  number: number,
  step: number,
  value: number,
  caller: Caller = {},
) {
  return callStudy(id, () => studyStub(env, projectId, id).report(number, step, value, caller));
}

/** A batch of intermediate values (ReportSchema checked the order): one call into the coordinator. */
export async function reportBatch(
  env: Env,
  projectId: string,
  id: string,
  number: number,
  points: { step: number; value: number }[],
  caller: Caller = {},
) {
  return callStudy(id, () => studyStub(env, projectId, id).reportBatch(number, points, caller));
}

/** Tell a trial's result (POST .../tell), with where the coordinator spent its time. */
export async function tell(
  env: Env,
  projectId: string,
  id: string,
  number: number,
  body: TellBody,
  caller: Caller = {},
): Promise<Timed<TrialView>> {
  return callStudy(id, () => studyStub(env, projectId, id).tell(number, body, caller));
}

/** Extend the caller's lease on a trial (any executor); a runner key (`runner_only`) sees no client study. */
export async function heartbeat(
  env: Env,
  projectId: string,
  id: string,
  number: number,
  caller: Caller & { lease_token: string },
) {
  return callStudy(id, () =>
    studyStub(env, projectId, id).heartbeat(number, caller.lease_token, !!caller.runner_only),
  );
}

/** Hand a trial back: it waits for the next ask or lease, and the attempt does not count. */
export async function release(
  env: Env,
  projectId: string,
  id: string,
  number: number,
  caller: Caller & { lease_token: string },
): Promise<TrialView> {
  return callStudy(id, () =>
    studyStub(env, projectId, id).release(number, caller.lease_token, !!caller.runner_only),
  );
}

/** Put the study's parked D1 writes back in its outbox and write them now. */
export async function retryStorage(env: Env, projectId: string, id: string): Promise<StudyView> {
  return callStudy(id, () => studyStub(env, projectId, id).retryStorage());
}

/** Start (or resume) the trials of an edge study. */
export async function run(env: Env, projectId: string, id: string): Promise<StudyView> {
  return callStudy(id, () => studyStub(env, projectId, id).run());
}

/** How many runner studies one lease without a study filter tries, newest first. */
const LEASE_SCAN = 20;

/**
 * Lease a trial for a runner: from `studyId`, or else from the running
 * runner studies (D1's list, newest first), the first that has one. Without
 * a trial, `retry_after_s` says when to ask again (null: the study has no
 * more work for runners; always set when no study is named).
 */
export async function lease(
  env: Env,
  projectId: string,
  studyId: string | undefined,
  runner: { name: string | null },
): Promise<{ grant: LeaseGrant | null; retry_after_s: number | null }> {
  if (studyId !== undefined)
    return callStudy(studyId, () => studyStub(env, projectId, studyId).lease(runner));
  for (const row of await listRunnerStudies(env.DB, projectId, LEASE_SCAN)) {
    try {
      const r = valueOf(await studyStub(env, projectId, row.id).lease(runner));
      if (r.grant) return r;
    } catch (err) {
      // A study that is not (or no longer) leasable is skipped; anything else is a real failure.
      if (!domainErrorOf(err)) throw err;
    }
  }
  return { grant: null, retry_after_s: 5 };
}

/** The study's trials by number; `from` and `limit`: only those numbered from `from` on, at most `limit`. */
export async function listTrials(
  env: Env,
  projectId: string,
  id: string,
  from = 0,
  limit?: number,
): Promise<TrialView[]> {
  return callStudy(id, () => studyStub(env, projectId, id).listTrials(from, limit));
}

/**
 * Parameter importance of a study's complete trials (tuning/importance.ts: eta squared over quantile
 * bins), for one objective: `objective` (an index into the study's metrics, default 0).
 */
export async function importance(
  env: Env,
  projectId: string,
  id: string,
  objective = 0,
): Promise<Importance> {
  const study = await getStudy(env, projectId, id);
  if (objective >= study.metrics.length) {
    throw inputError([
      {
        path: 'objective',
        message: `study ${id} has ${study.metrics.length} objective${study.metrics.length === 1 ? '' : 's'} (${study.metrics.join(', ')}): objective is 0${study.metrics.length > 1 ? `-${study.metrics.length - 1}` : ''}`,
      },
    ]);
  }
  const trials = await listTrials(env, projectId, id);
  return {
    method:
      'eta-squared: the share of the objective’s variance explained by each parameter (numeric ones in 5 quantile bins of their log/linear value, categoricals by choice; main effects only), normalised to sum to 1',
    objective: { index: objective, metric: study.metrics[objective] },
    ...parameterImportance(
      study.space,
      trials.map((t) => ({
        number: t.number,
        state: t.state,
        params: t.params,
        value: t.values?.[objective] ?? null,
        intermediate: t.intermediate,
      })),
    ),
  };
}

/**
 * A configuration over MAX_STUDY_CONFIG_BYTES cannot be kept (SQLite refuses the value): a 413
 * at the field that makes it large, the edge probe's inline data as a rule, before anything is
 * written.
 */
function checkConfigSize(config: StudyConfig): void {
  const bytes = new TextEncoder().encode(JSON.stringify(config)).length;
  if (bytes <= MAX_STUDY_CONFIG_BYTES) return;
  const probe = config.executor.kind === 'edge' ? config.executor.probe : undefined;
  const path = probe ? 'executor.probe.data' : 'metadata';
  throw inputError(
    [
      {
        path,
        message: `the study's configuration is ${bytes} bytes of JSON, over the ${MAX_STUDY_CONFIG_BYTES} a study can keep${probe ? ': an edge study keeps its probe, inline data included. Send fewer rows (or a synthetic or CSV dataset), or train on your hardware (executor client or runner)' : ''}`,
      },
    ],
    { kind: 'too_large' },
  );
}

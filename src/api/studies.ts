/** Routes of studies and trials (ask and tell). Thin: validate, call the service, answer. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import * as studies from '../services/studies';
import type { Caller } from '../contract/study';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../contract/limits';
import { rateLimit, type Principal } from './auth';
import {
  AskBatchSchema,
  AskedTrialSchema,
  AskSchema,
  type AskOptions,
  AttrsAnswerSchema,
  AttrsSchema,
  EnqueueSchema,
  HeartbeatAnswerSchema,
  ImportanceSchema,
  LeaseGrantSchema,
  LeaseRequestSchema,
  LeaseTokenSchema,
  ReportAnswerSchema,
  ReportSchema,
  StudyCreateSchema,
  StudySchema,
  SuggestedParamSchema,
  SuggestParamSchema,
  TellSchema,
  TrialSchema,
} from '../contract/schemas';
import { body, decimalParam, json, projectOf, RETRY_AFTER, route, secured } from './openapi';
import { addCoordinatorTiming } from './timing';

const NOT_FOUND = 'Unknown study or trial (or another project’s)';
const StudyParam = z.object({ id: z.string().min(1).max(64) });
const TrialParam = StudyParam.extend({
  // Path parameters are required; the transform hides that from the generator, so it is said explicitly.
  number: decimalParam(0, 1_000_000).openapi({
    param: { name: 'number', in: 'path', required: true },
  }),
});
const base = secured('Studies');
const TrialsSchema = z.object({ trials: z.array(TrialSchema) });
const AskedTrialsSchema = z.object({ trials: z.array(AskedTrialSchema) });

const create = route(
  {
    ...base,
    operationId: 'createStudy',
    method: 'post',
    path: '/v1/studies',
    summary: 'Create a study',
    request: body(StudyCreateSchema),
    responses: { 201: { description: 'The study', ...json(StudySchema) } },
  },
  { 429: 'Too many expensive calls (study creation) for this key: wait Retry-After seconds' },
);
const list = route({
  ...base,
  operationId: 'listStudies',
  method: 'get',
  path: '/v1/studies',
  summary: 'List studies, newest first',
  request: {
    query: z.strictObject({
      cursor: z.string().max(64).optional(),
      limit: decimalParam(1, MAX_PAGE_SIZE)
        .optional()
        .openapi({
          description: `Studies per page (1-${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}).`,
        }),
      name: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .openapi({ description: 'Only the studies of this name (exact), newest first.' }),
    }),
  },
  responses: {
    200: {
      description:
        'A page of studies. A study whose live state is gone is listed from D1’s copy with state "unavailable", never failing the page.',
      ...json(z.object({ studies: z.array(StudySchema), next_cursor: z.string().nullable() })),
    },
  },
});
const get = route(
  {
    ...base,
    operationId: 'getStudy',
    method: 'get',
    path: '/v1/studies/{id}',
    summary: 'A study',
    request: { params: StudyParam },
    responses: { 200: { description: 'The study', ...json(StudySchema) } },
  },
  { 404: NOT_FOUND },
);
const ask = route(
  {
    ...base,
    operationId: 'askTrial',
    method: 'post',
    path: '/v1/studies/{id}/ask',
    summary: 'Ask for the next trial to run (an enqueued one first, else the sampler’s next point)',
    description:
      'Answers one Trial, always, with your lease on it (`lease`: its token goes with reports, heartbeats and the tell; when it expires the trial waits to be asked again). For several trials at once, POST /v1/studies/{id}/ask-batch; a `count` sent here is a 422 that says so.',
    request: { params: StudyParam, body: { required: false, ...json(AskSchema) } },
    responses: {
      201: { description: 'The trial, running, with your lease', ...json(AskedTrialSchema) },
    },
  },
  { 404: NOT_FOUND, 409: 'max_trials reached, or the study is not a client study' },
);
const askBatch = route(
  {
    ...base,
    operationId: 'askTrials',
    method: 'post',
    path: '/v1/studies/{id}/ask-batch',
    summary: 'Ask for `count` trials at once (as many asks in a row, in one call)',
    request: { params: StudyParam, ...body(AskBatchSchema) },
    responses: {
      201: {
        description: 'The trials, running, in the order asked, each with its own lease',
        ...json(AskedTrialsSchema),
      },
    },
  },
  {
    404: NOT_FOUND,
    409: 'max_trials reached before any trial started, or the study is not a client study',
  },
);
const enqueue = route(
  {
    ...base,
    operationId: 'enqueueTrial',
    method: 'post',
    path: '/v1/studies/{id}/trials',
    summary: 'Enqueue a trial with fixed params (the next ask returns it first)',
    request: { params: StudyParam, ...body(EnqueueSchema) },
    responses: { 201: { description: 'The waiting trial', ...json(TrialSchema) } },
  },
  { 404: NOT_FOUND, 409: 'max_trials reached' },
);
const trials = route(
  {
    ...base,
    operationId: 'listTrials',
    method: 'get',
    path: '/v1/studies/{id}/trials',
    summary: 'All trials of a study',
    request: {
      params: StudyParam,
      query: z.strictObject({
        from: decimalParam(0, 1_000_000).optional().openapi({
          description:
            'Only trials numbered from this one on (a client that keeps the finished trials it has read asks from its first unfinished one).',
        }),
        limit: decimalParam(1, 1_000_000).optional().openapi({
          description: 'At most this many trials.',
        }),
      }),
    },
    responses: { 200: { description: 'The trials, by number', ...json(TrialsSchema) } },
  },
  { 404: NOT_FOUND },
);
const CONFLICT =
  'The trial is not running, a different second tell, or a stale or expired lease token';
const report = route(
  {
    ...base,
    operationId: 'reportTrial',
    method: 'post',
    path: '/v1/studies/{id}/trials/{number}/report',
    summary: 'Report an intermediate value, or a batch of them; answers whether to prune',
    request: { params: TrialParam, ...body(ReportSchema) },
    responses: {
      200: {
        description: 'The pruning decision',
        ...json(ReportAnswerSchema),
      },
    },
  },
  { 404: NOT_FOUND, 409: CONFLICT },
);
const tell = route(
  {
    ...base,
    operationId: 'tellTrial',
    method: 'post',
    path: '/v1/studies/{id}/trials/{number}/tell',
    summary: 'Tell the result of a trial',
    request: { params: TrialParam, ...body(TellSchema) },
    responses: { 200: { description: 'The finished trial', ...json(TrialSchema) } },
  },
  { 404: NOT_FOUND, 409: CONFLICT },
);

const suggestParam = route(
  {
    ...base,
    operationId: 'suggestParam',
    method: 'post',
    path: '/v1/studies/{id}/trials/{number}/params',
    summary:
      'Ask for a parameter (define-by-run): its value in this trial; a new name joins the study’s space',
    request: { params: TrialParam, ...body(SuggestParamSchema) },
    responses: {
      200: {
        description: 'The value (the same each time the trial asks)',
        ...json(SuggestedParamSchema),
      },
    },
  },
  {
    404: NOT_FOUND,
    409: 'The name has another kind of distribution in the study (another type, log or choices; another range is the trial’s own), the trial is not running (and lacks it), its lease is stale, or the study’s space is fixed (grid, edge)',
  },
);
const ATTRS_CONFLICT = 'The trial is finished, or a stale lease token';
const studyAttrs = route(
  {
    ...base,
    operationId: 'setStudyAttrs',
    method: 'post',
    path: '/v1/studies/{id}/attrs',
    summary: 'Set user or system attributes of a study (merged key by key)',
    request: { params: StudyParam, ...body(AttrsSchema) },
    responses: { 200: { description: 'The study’s attributes', ...json(AttrsAnswerSchema) } },
  },
  { 404: NOT_FOUND },
);
const trialAttrs = route(
  {
    ...base,
    operationId: 'setTrialAttrs',
    method: 'post',
    path: '/v1/studies/{id}/trials/{number}/attrs',
    summary: 'Set user or system attributes of a trial that has not finished (merged key by key)',
    request: { params: TrialParam, ...body(AttrsSchema) },
    responses: { 200: { description: 'The trial’s attributes', ...json(AttrsAnswerSchema) } },
  },
  { 404: NOT_FOUND, 409: ATTRS_CONFLICT },
);

const importance = route(
  {
    ...base,
    operationId: 'getImportance',
    method: 'get',
    path: '/v1/studies/{id}/importance',
    summary: "Parameter importance from the study's complete trials",
    request: {
      params: StudyParam,
      query: z.strictObject({
        objective: decimalParam(0, 7).optional().openapi({
          description:
            'Which objective (an index into the study’s metrics, default 0) the importance explains.',
        }),
      }),
    },
    responses: {
      200: {
        description:
          'Each parameter’s share of the explained variance (the method is in the answer)',
        ...json(ImportanceSchema),
      },
    },
  },
  { 404: NOT_FOUND },
);

const heartbeat = route(
  {
    ...base,
    tags: ['Runners'],
    operationId: 'heartbeatTrial',
    method: 'post',
    path: '/v1/studies/{id}/trials/{number}/heartbeat',
    summary: 'Extend the lease of a trial (the token of its ask, or of its runner lease)',
    request: { params: TrialParam, ...body(LeaseTokenSchema) },
    responses: {
      200: { description: 'The extended lease', ...json(HeartbeatAnswerSchema) },
    },
  },
  { 404: NOT_FOUND, 409: CONFLICT },
);
const release = route(
  {
    ...base,
    tags: ['Runners'],
    operationId: 'releaseTrial',
    method: 'post',
    path: '/v1/studies/{id}/trials/{number}/release',
    summary:
      'Hand a trial back: it waits for the next ask or lease, and the attempt does not count',
    request: { params: TrialParam, ...body(LeaseTokenSchema) },
    responses: { 200: { description: 'The trial, waiting again', ...json(TrialSchema) } },
  },
  { 404: NOT_FOUND, 409: CONFLICT },
);
const run = route(
  {
    ...base,
    operationId: 'runStudy',
    method: 'post',
    path: '/v1/studies/{id}/run',
    summary:
      'Run an edge study: its trials train on the edge, `parallelism` at a time, until max_trials',
    request: { params: StudyParam },
    responses: { 202: { description: 'The study, running', ...json(StudySchema) } },
  },
  { 404: NOT_FOUND, 409: 'Not an edge study' },
);
const retryStorage = route(
  {
    ...base,
    operationId: 'retryStudyStorage',
    method: 'post',
    path: '/v1/studies/{id}/storage/retry',
    summary: "Write the study's parked D1 writes again (see the study's storage)",
    request: { params: StudyParam },
    responses: {
      200: {
        description: 'The study, with its storage state after the retry',
        ...json(StudySchema),
      },
    },
  },
  { 404: NOT_FOUND },
);
const lease = route(
  {
    ...base,
    tags: ['Runners'],
    operationId: 'leaseTrial',
    method: 'post',
    path: '/v1/runners/lease',
    summary:
      'Lease the next trial of a runner study (of `study_id`, else of any runner study with work)',
    request: { body: { required: false, ...json(LeaseRequestSchema) } },
    responses: {
      200: { description: 'A trial, its params and the lease', ...json(LeaseGrantSchema) },
      204: {
        description:
          'Nothing to do now. With Retry-After (seconds): leases are out that may come back or free a slot, ask again then; without: the study has no more work for runners.',
        headers: { 'Retry-After': RETRY_AFTER },
      },
    },
  },
  {
    404: 'Unknown study_id (or another project’s)',
    409: 'study_id names a study that is not a runner study',
  },
);

/** The lease token of a report, tell, heartbeat or release body, as the coordinator's caller: a key without `write` acts only on runner and edge trials. */
function callerOf<T extends string | undefined>(
  auth: Principal,
  token: T,
): Caller & { lease_token: T } {
  return { lease_token: token, runner_only: !auth.scopes.includes('write') };
}

/** The routes of /v1/studies and /v1/runners: studies, then their trials' lifecycle. */
export function studyRoutes(app: OpenAPIHono<AppEnv>): void {
  studyLevelRoutes(app);
  trialRoutes(app);
}

/** Create, list, get, ask, enqueue, list trials, importance, run, storage retry, runner lease. */
function studyLevelRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    await rateLimit(c.env, c.get('auth'));
    return c.json(await studies.createStudy(c.env, projectOf(c), body), 201);
  });
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    return c.json(await studies.listStudies(c.env, projectOf(c), q.cursor, q.limit, q.name), 200);
  });
  app.openapi(get, async (c) =>
    c.json(await studies.getStudy(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
  // The body is optional and has no fields (a sent one is validated: a `count` is a 422).
  app.openapi(ask, async (c) => {
    const options = (c.req.valid('json') as AskOptions | undefined) ?? {};
    const id = c.req.valid('param').id;
    const { result, timing } = await studies.ask(c.env, projectOf(c), id, options);
    addCoordinatorTiming(c, timing);
    return c.json(result, 201);
  });
  app.openapi(askBatch, async (c) => {
    const { result, timing } = await studies.askBatch(
      c.env,
      projectOf(c),
      c.req.valid('param').id,
      c.req.valid('json').count,
    );
    addCoordinatorTiming(c, timing);
    return c.json({ trials: result }, 201);
  });
  app.openapi(enqueue, async (c) => {
    const { params, distributions } = c.req.valid('json');
    const id = c.req.valid('param').id;
    return c.json(await studies.enqueue(c.env, projectOf(c), id, params, distributions), 201);
  });
  app.openapi(trials, async (c) => {
    const { from, limit } = c.req.valid('query');
    const id = c.req.valid('param').id;
    return c.json({ trials: await studies.listTrials(c.env, projectOf(c), id, from, limit) }, 200);
  });
  app.openapi(importance, async (c) =>
    c.json(
      await studies.importance(
        c.env,
        projectOf(c),
        c.req.valid('param').id,
        c.req.valid('query').objective,
      ),
      200,
    ),
  );
  app.openapi(run, async (c) =>
    c.json(await studies.run(c.env, projectOf(c), c.req.valid('param').id), 202),
  );
  app.openapi(studyAttrs, async (c) => {
    // A study's attributes take no lease token (one sent is ignored).
    const { user_attrs, system_attrs } = c.req.valid('json');
    const attrs = { user_attrs, system_attrs };
    return c.json(
      await studies.setAttrs(c.env, projectOf(c), c.req.valid('param').id, null, attrs),
      200,
    );
  });
  app.openapi(retryStorage, async (c) =>
    c.json(await studies.retryStorage(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
  app.openapi(lease, async (c) => {
    const raw =
      c.req.header('content-length') === '0' || !c.req.header('content-type')
        ? { runner: { labels: [] } }
        : c.req.valid('json');
    const { grant, retry_after_s } = await studies.lease(c.env, projectOf(c), raw.study_id, {
      name: raw.runner?.name ?? null,
    });
    if (grant) return c.json(grant, 200);
    // Retry-After: leases are out that may come back; absent: this study has no more work for runners.
    if (retry_after_s !== null) c.header('Retry-After', String(retry_after_s));
    return c.body(null, 204);
  });
}

/** A trial's lifecycle under its lease: params, attributes, report, tell, heartbeat, release. */
function trialRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(suggestParam, async (c) => {
    const { id, number } = c.req.valid('param');
    const { lease_token, ...asked } = c.req.valid('json');
    const caller = callerOf(c.get('auth'), lease_token);
    return c.json(await studies.suggestParam(c.env, projectOf(c), id, number, asked, caller), 200);
  });
  app.openapi(trialAttrs, async (c) => {
    const { id, number } = c.req.valid('param');
    const { lease_token, ...attrs } = c.req.valid('json');
    const caller = callerOf(c.get('auth'), lease_token);
    return c.json(await studies.setAttrs(c.env, projectOf(c), id, number, attrs, caller), 200);
  });
  app.openapi(report, async (c) => {
    const { id, number } = c.req.valid('param');
    const r = c.req.valid('json');
    const caller = callerOf(c.get('auth'), r.lease_token);
    // ReportSchema admits exactly one form: {step, value} or {points}.
    const out = r.points
      ? await studies.reportBatch(c.env, projectOf(c), id, number, r.points, caller)
      : await studies.report(c.env, projectOf(c), id, number, r.step!, r.value!, caller);
    return c.json(out, 200);
  });
  app.openapi(tell, async (c) => {
    const { id, number } = c.req.valid('param');
    const { lease_token, ...told } = c.req.valid('json');
    const { result, timing } = await studies.tell(
      c.env,
      projectOf(c),
      id,
      number,
      told,
      callerOf(c.get('auth'), lease_token),
    );
    addCoordinatorTiming(c, timing);
    return c.json(result, 200);
  });
  app.openapi(heartbeat, async (c) => {
    const { id, number } = c.req.valid('param');
    return c.json(
      await studies.heartbeat(
        c.env,
        projectOf(c),
        id,
        number,
        callerOf(c.get('auth'), c.req.valid('json').lease_token),
      ),
      200,
    );
  });
  app.openapi(release, async (c) => {
    const { id, number } = c.req.valid('param');
    return c.json(
      await studies.release(
        c.env,
        projectOf(c),
        id,
        number,
        callerOf(c.get('auth'), c.req.valid('json').lease_token),
      ),
      200,
    );
  });
}

/** Routes of studies and trials (ask and tell). Thin: validate, call the service, answer. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app';
import * as studies from '../services/studies';
import { AskSchema, EnqueueSchema, ProblemSchema, ReportSchema, StudyCreateSchema, StudySchema, TellSchema, TrialSchema } from './schemas';

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });
const errors = {
  400: problem('Malformed body (not JSON)'),
  401: problem('Missing or wrong API key'),
  404: problem('Unknown study or trial (or another project’s)'),
  409: problem('Conflict: max_trials reached, a different second tell, a trial not running'),
  422: problem('Well-formed but invalid; `errors` lists each offending path'),
};
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, ...json(schema) } });
const StudyParam = z.object({ id: z.string().min(1).max(64) });
const TrialParam = StudyParam.extend({ number: z.coerce.number().int().min(0).max(1_000_000) });
const base = { tags: ['Studies'], security: [{ bearer: [] as string[] }] };

const create = createRoute({ ...base, method: 'post', path: '/v1/studies', summary: 'Create a study', request: body(StudyCreateSchema), responses: { 201: { description: 'The study', ...json(StudySchema) }, ...errors } });
const list = createRoute({
  ...base,
  method: 'get',
  path: '/v1/studies',
  summary: 'List studies, newest first',
  request: { query: z.object({ cursor: z.string().max(64).optional(), limit: z.coerce.number().int().min(1).max(100).optional() }) },
  responses: { 200: { description: 'A page of studies', ...json(z.object({ studies: z.array(StudySchema), next_cursor: z.string().nullable() })) }, ...errors },
});
const get = createRoute({ ...base, method: 'get', path: '/v1/studies/{id}', summary: 'A study', request: { params: StudyParam }, responses: { 200: { description: 'The study', ...json(StudySchema) }, ...errors } });
const ask = createRoute({
  ...base,
  method: 'post',
  path: '/v1/studies/{id}/ask',
  summary: 'Ask for the next trial(s) to run',
  request: { params: StudyParam, body: { required: false, ...json(AskSchema) } },
  responses: { 201: { description: 'A Trial, or {"trials": [...]} when count is given', ...json(z.union([TrialSchema, z.object({ trials: z.array(TrialSchema) })])) }, ...errors },
});
const enqueue = createRoute({ ...base, method: 'post', path: '/v1/studies/{id}/trials', summary: 'Enqueue a trial with fixed params (the next ask returns it first)', request: { params: StudyParam, ...body(EnqueueSchema) }, responses: { 201: { description: 'The waiting trial', ...json(TrialSchema) }, ...errors } });
const trials = createRoute({ ...base, method: 'get', path: '/v1/studies/{id}/trials', summary: 'All trials of a study', request: { params: StudyParam }, responses: { 200: { description: 'The trials', ...json(z.object({ trials: z.array(TrialSchema) })) }, ...errors } });
const report = createRoute({ ...base, method: 'post', path: '/v1/studies/{id}/trials/{number}/report', summary: 'Report an intermediate value; answers whether to prune', request: { params: TrialParam, ...body(ReportSchema) }, responses: { 200: { description: 'The pruning decision', ...json(z.object({ should_prune: z.boolean() })) }, ...errors } });
const tell = createRoute({ ...base, method: 'post', path: '/v1/studies/{id}/trials/{number}/tell', summary: 'Tell the result of a trial', request: { params: TrialParam, ...body(TellSchema) }, responses: { 200: { description: 'The finished trial', ...json(TrialSchema) }, ...errors } });

export function studyRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => c.json(await studies.createStudy(c.env, c.req.valid('json')), 201));
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    return c.json(await studies.listStudies(c.env, q.cursor, q.limit), 200);
  });
  app.openapi(get, async (c) => c.json(await studies.getStudy(c.env, c.req.valid('param').id), 200));
  app.openapi(ask, async (c) => {
    const { id } = c.req.valid('param');
    // An empty body (or none) asks for one trial.
    const raw = c.req.header('content-length') === '0' || !c.req.header('content-type') ? {} : c.req.valid('json');
    const count = (raw as { count?: number }).count;
    const out = await studies.ask(c.env, id, count);
    return count === undefined ? c.json(out[0], 201) : c.json({ trials: out }, 201);
  });
  app.openapi(enqueue, async (c) => c.json(await studies.enqueue(c.env, c.req.valid('param').id, c.req.valid('json').params), 201));
  app.openapi(trials, async (c) => c.json({ trials: await studies.listTrials(c.env, c.req.valid('param').id) }, 200));
  app.openapi(report, async (c) => {
    const { id, number } = c.req.valid('param');
    const r = c.req.valid('json');
    return c.json(await studies.report(c.env, id, number, r.step, r.value), 200);
  });
  app.openapi(tell, async (c) => {
    const { id, number } = c.req.valid('param');
    return c.json(await studies.tell(c.env, id, number, c.req.valid('json')), 200);
  });
}

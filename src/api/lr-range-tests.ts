/** Routes of the LR range test. Thin: validate, call the service, answer. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { LrRangeTestRequestSchema, LrRangeTestSchema, type LrRangeTest } from './schemas';
import { body, json, projectOf, route, secured } from './openapi';
import { getLrRangeTest, lrRangeTest } from '../services/lr-range-tests';
import type { AppEnv } from '../app';
import { rateLimit } from './auth';


const base = secured('LR range tests');

const create = route(
  {
    ...base,
    operationId: 'createLrRangeTest',
    method: 'post',
    path: '/v1/lr-range-tests',
    summary: 'Run an LR range test on the edge and suggest a learning rate',
    request: body(LrRangeTestRequestSchema),
    responses: { 200: { description: 'The suggestion and the curve behind it', ...json(LrRangeTestSchema) } },
  },
  { 413: 'Body, dataset or estimated work over the edge limits: the detail says what to shrink', 429: 'Too many range tests for this key: wait Retry-After seconds' },
);

const get = route(
  {
    ...base,
    operationId: 'getLrRangeTest',
    method: 'get',
    path: '/v1/lr-range-tests/{id}',
    summary: 'A stored LR range test',
    request: { params: z.object({ id: z.string().min(1).max(64) }) },
    responses: { 200: { description: 'The stored result', ...json(LrRangeTestSchema) } },
  },
  { 404: 'Unknown id (or another project’s)' },
);

/** The rules read a short sweep: where to get an lr validated at the real run's length. */
export const VALIDATED_POINTER =
  'these rules read a short sweep and favour rates that win short runs: for an lr validated at your training length, POST /v1/lr/suggest with this probe and "training": {"epochs": N} or {"steps": N}';

const withPointer = (r: LrRangeTest): LrRangeTest =>
  r.suggestion.reasons.includes(VALIDATED_POINTER) ? r : { ...r, suggestion: { ...r.suggestion, reasons: [...r.suggestion.reasons, VALIDATED_POINTER] } };

export function lrRangeTestRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    await rateLimit(c.env, c.get('auth'));
    return c.json(withPointer(await lrRangeTest(c.env, projectOf(c), body)), 200);
  });
  app.openapi(get, async (c) => c.json(withPointer(await getLrRangeTest(c.env, projectOf(c), c.req.valid('param').id)), 200));
}

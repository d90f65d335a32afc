/** Routes of the LR range test. Thin: validate, call the service, answer. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { LrRangeTestRequestSchema, LrRangeTestSchema } from './schemas';
import { problem, projectOf } from './openapi';
import { getLrRangeTest, lrRangeTest } from '../services/lr-range-tests';
import type { AppEnv } from '../app';
import { rateLimit } from './auth';


const errors = {
  400: problem('Malformed body (not JSON)'),
  401: problem('Missing or wrong API key'),
  403: problem('The key lacks the write scope'),
  413: problem('Body, dataset or estimated work over the edge limits'),
  429: problem('Too many range tests for this key: wait Retry-After seconds'),
  422: problem('Well-formed but invalid; `errors` lists each offending path'),
};

const create = createRoute({
  method: 'post',
  path: '/v1/lr-range-tests',
  tags: ['LR range tests'],
  summary: 'Run an LR range test on the edge and suggest a learning rate',
  security: [{ bearer: [] }],
  request: {
    body: { required: true, content: { 'application/json': { schema: LrRangeTestRequestSchema } } },
  },
  responses: {
    200: { description: 'The suggestion and the curve behind it', content: { 'application/json': { schema: LrRangeTestSchema } } },
    ...errors,
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/lr-range-tests/{id}',
  tags: ['LR range tests'],
  summary: 'A stored LR range test',
  security: [{ bearer: [] }],
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: {
    200: { description: 'The stored result', content: { 'application/json': { schema: LrRangeTestSchema } } },
    401: errors[401],
    404: problem('Unknown id'),
  },
});

export function lrRangeTestRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    await rateLimit(c.env, c.get('auth'));
    return c.json(await lrRangeTest(c.env, projectOf(c), body), 200);
  });
  app.openapi(get, async (c) => c.json(await getLrRangeTest(c.env, projectOf(c), c.req.valid('param').id), 200));
}

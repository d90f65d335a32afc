/** Routes of the LR range test. Thin: validate, call the service, answer. */
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../contract/limits';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  LrRangeTestRequestSchema,
  LrRangeTestSchema,
  RangeTestSuggestionSchema,
  RangeTestSummarySchema,
  type LrRangeTest,
} from '../contract/schemas';
import { body, decimalParam, json, projectOf, route, secured } from './openapi';
import {
  getLrRangeTest,
  listLrRangeTests,
  listRangeTestSuggestions,
  lrRangeTest,
} from '../services/lr-range-tests';
import type { AppEnv } from './env';
import { rateLimit } from './auth';

const base = secured('LR range tests');

const pageQuery = (what: string) =>
  z.strictObject({
    cursor: z.string().max(64).optional(),
    limit: decimalParam(1, MAX_PAGE_SIZE)
      .optional()
      .openapi({
        description: `${what} per page (1-${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}).`,
      }),
  });

const create = route(
  {
    ...base,
    operationId: 'createLrRangeTest',
    method: 'post',
    path: '/v1/lr-range-tests',
    summary:
      'Run an LR range test on the edge (a probe), or analyse one you measured (a curve), and suggest a learning rate',
    request: body(LrRangeTestRequestSchema),
    responses: {
      200: { description: 'The suggestion and the curve behind it', ...json(LrRangeTestSchema) },
    },
  },
  {
    413: 'Body, dataset or estimated work over the edge limits: the detail says what to shrink',
    429: 'Too many range tests for this key: wait Retry-After seconds',
  },
);

const list = route({
  ...base,
  operationId: 'listLrRangeTests',
  method: 'get',
  path: '/v1/lr-range-tests',
  summary:
    "The project's LR range tests, newest first (summaries; the curves are at GET /v1/lr-range-tests/{id})",
  request: { query: pageQuery('Range tests') },
  responses: {
    200: {
      description: 'A page of range tests',
      ...json(
        z.object({
          range_tests: z.array(RangeTestSummarySchema),
          next_cursor: z.string().nullable(),
        }),
      ),
    },
  },
});

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

const suggestions = route(
  {
    ...base,
    operationId: 'listLrRangeTestSuggestions',
    method: 'get',
    path: '/v1/lr-range-tests/{id}/suggestions',
    summary:
      'The lr/suggest answers made from this range test, newest first (each links to GET /v1/lr/suggest/{id})',
    request: {
      params: z.object({ id: z.string().min(1).max(64) }),
      query: pageQuery('Suggestions'),
    },
    responses: {
      200: {
        description: 'A page of suggestions',
        ...json(
          z.object({
            suggestions: z.array(RangeTestSuggestionSchema),
            next_cursor: z.string().nullable(),
          }),
        ),
      },
    },
  },
  { 404: 'Unknown range test id (or another project’s)' },
);

/** The rules read a short sweep: where to get an lr validated at the real run's length. */
const VALIDATED_POINTER =
  'these rules read a short sweep and favour rates that win short runs: for an lr validated at your training length, POST /v1/lr/suggest with this probe and "training": {"epochs": N} or {"steps": N}';
/** The same for a posted curve: stride cannot train the client's model, the client can (lr/suggest with executor client or runner). */
const CURVE_VALIDATED_POINTER =
  'these rules read a short sweep and favour rates that win short runs: to validate its candidates at your training length on your hardware, POST /v1/lr/suggest with this range test\'s id as "range_test_id", "executor": {"kind": "client"} (your loop trains them: stride.lr_suggest) or {"kind": "runner"} (stride agent does), and "training": {"epochs": N}';

function withPointer(r: LrRangeTest): LrRangeTest {
  const pointer = r.backend === 'client' ? CURVE_VALIDATED_POINTER : VALIDATED_POINTER;
  return r.suggestion.reasons.includes(pointer)
    ? r
    : { ...r, suggestion: { ...r.suggestion, reasons: [...r.suggestion.reasons, pointer] } };
}

export function lrRangeTestRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    await rateLimit(c.env, c.get('auth'));
    return c.json(withPointer(await lrRangeTest(c.env, projectOf(c), body)), 200);
  });
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    return c.json(await listLrRangeTests(c.env, projectOf(c), q.cursor, q.limit), 200);
  });
  app.openapi(suggestions, async (c) => {
    const q = c.req.valid('query');
    const id = c.req.valid('param').id;
    return c.json(await listRangeTestSuggestions(c.env, projectOf(c), id, q.cursor, q.limit), 200);
  });
  app.openapi(get, async (c) =>
    c.json(withPointer(await getLrRangeTest(c.env, projectOf(c), c.req.valid('param').id)), 200),
  );
}

/** POST /v1/lr/suggest: thin route over services/lr-suggest.ts. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app';
import { requireProbeOrContext, suggestLr } from '../services/lr-suggest';
import { rateLimit } from './auth';
import { LrSuggestRequestSchema } from './schemas';
import { body, json, projectOf, route, secured } from './openapi';


const SuggestionSchema = z
  .object({
    lr: z.number().nullable(),
    method: z.string().openapi({ description: 'validated, a range-test rule, prior, or default' }),
    confidence: z.enum(['low', 'medium', 'high']),
    stable_range: z.object({ min: z.number().nullable(), max: z.number().nullable() }).nullable(),
    schedule: z.record(z.string(), z.unknown()).nullable(),
    range_test: z.record(z.string(), z.unknown()).nullable(),
    validation: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'The study that validated the candidates, and each candidate’s state and validation loss.' }),
    prior: z.record(z.string(), z.unknown()).nullable(),
    reasoning: z.array(z.string()),
  })
  .openapi('LrSuggestion');

const suggest = route(
  {
    ...secured('LR range tests'),
    operationId: 'suggestLr',
    method: 'post',
    path: '/v1/lr/suggest',
    summary: 'Suggest a learning rate and a schedule: measured and validated with a probe, from priors and history without',
    request: body(LrSuggestRequestSchema),
    responses: { 200: { description: 'The suggestion with its evidence and reasoning', ...json(SuggestionSchema) } },
  },
  { 413: 'Body, dataset or estimated work of the probe over the edge limits: the detail says what to shrink', 429: 'Too many expensive calls (with a probe) for this key: wait Retry-After seconds' },
);

export function lrSuggestRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(suggest, async (c) => {
    const body = c.req.valid('json');
    requireProbeOrContext(body);
    // Priors cost nothing; a probe runs a range test and trains candidates.
    if (body.probe) await rateLimit(c.env, c.get('auth'));
    return c.json(await suggestLr(c.env, projectOf(c), body), 200);
  });
}

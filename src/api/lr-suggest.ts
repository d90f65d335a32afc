/** POST /v1/lr/suggest: thin route over services/lr-suggest.ts. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app';
import { requireProbeOrContext, suggestLr } from '../services/lr-suggest';
import { rateLimit } from './auth';
import { LrSuggestRequestSchema } from './schemas';
import { body, json, projectOf, route, secured } from './openapi';


const HorizonSchema = z
  .object({
    epochs: z.int().openapi({ description: 'The real run’s length in epochs of the probe’s training split.' }),
    steps: z.int().optional().openapi({ description: 'The real run’s steps, when the request gave them.' }),
    steps_per_epoch: z.int(),
    source: z.enum(['training.epochs', 'training.steps', 'train_steps', 'default']).openapi({ description: 'Where the horizon came from; default: not given, 20 epochs assumed.' }),
    validated_epochs: z.int().openapi({ description: 'Epochs the finalists trained (0: nothing validated).' }),
    method: z.enum(['full', 'extrapolated', 'none']).openapi({
      description: 'full: validated at the horizon; extrapolated: over the edge budget (or validation.epochs), validated shorter with the schedule compressed to that length; none: not validated.',
    }),
    schedule: z.enum(['constant', 'cosine', 'one_cycle']),
    budget: z.object({ max_gflop: z.number(), gflop_per_epoch: z.number(), affordable_epochs: z.int() }).openapi({ description: 'PROBE_MAX_GFLOP, the estimated work of one epoch, and the epochs one edge trial may train.' }),
  })
  .openapi('LrHorizon');

const SuggestionSchema = z
  .object({
    lr: z.number().nullable(),
    method: z.string().openapi({ description: 'validated, a range-test rule, prior, or default' }),
    confidence: z.enum(['low', 'medium', 'high']),
    stable_range: z.object({ min: z.number().nullable(), max: z.number().nullable() }).nullable(),
    schedule: z.record(z.string(), z.unknown()).nullable(),
    range_test: z.record(z.string(), z.unknown()).nullable(),
    horizon: HorizonSchema.nullable().openapi({ description: 'With a probe: the training horizon and how it was validated.' }),
    validation: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'The studies that validated the candidates, and each candidate’s state, validation loss, spread of its last epochs and whether it is tied with the best.' }),
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

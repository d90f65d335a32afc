/** POST /v1/lr/suggest and GET /v1/lr/suggest/{id}: thin routes over services/lr-suggest.ts. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import {
  getExternalSuggestion,
  isExternal,
  requireProbeOrContext,
  startExternalSuggestion,
  suggestLr,
} from '../services/lr-suggest';
import { rateLimit } from './auth';
import { LrSuggestBodySchema } from '../contract/schemas';
import { EXECUTOR_KINDS, LR_SCHEDULES, UNITS } from '../contract/names';
import { body, json, projectOf, route, secured } from './openapi';

const HorizonSchema = z
  .object({
    executor: z.enum(EXECUTOR_KINDS).openapi({
      description: 'Who validated: the edge (a probe), your loop (client) or your runners.',
    }),
    unit: z.enum(UNITS).openapi({
      description:
        'The unit of the horizon and of the steps reported: epochs (the edge always), or steps when a client or runner suggestion was given training.steps.',
    }),
    epochs: z.int().nullable().openapi({
      description:
        'The real run’s length in epochs (of the probe’s training split on the edge); null for a client or runner horizon in steps.',
    }),
    steps: z
      .int()
      .optional()
      .openapi({ description: 'The real run’s steps, when the request gave them.' }),
    steps_per_epoch: z.int().nullable().openapi({
      description:
        'The probe’s steps per epoch; null for a client or runner (your data loader knows it).',
    }),
    source: z.enum(['training.epochs', 'training.steps', 'train_steps', 'default']).openapi({
      description: 'Where the horizon came from; default: not given, 20 epochs assumed.',
    }),
    validated_epochs: z.int().nullable().openapi({
      description:
        'Epochs the finalists trained (0: nothing validated on the edge); for a client or runner, how far they reported (null: nothing finished, or a horizon in steps).',
    }),
    validated_steps: z.int().nullable().optional().openapi({
      description: 'A client or runner horizon in steps: how far the finalists reported.',
    }),
    method: z.enum(['full', 'extrapolated', 'none']).openapi({
      description:
        'full: validated at the horizon; extrapolated: over the edge budget (or validation.epochs), validated shorter with the schedule compressed to that length, or a client’s finalists reported short of the horizon; none: not validated.',
    }),
    schedule: z.enum(LR_SCHEDULES),
    budget: z
      .object({ max_gflop: z.number(), gflop_per_epoch: z.number(), affordable_epochs: z.int() })
      .nullable()
      .openapi({
        description:
          'The edge: PROBE_MAX_GFLOP, the estimated work of one epoch, and the epochs one edge trial may train; null for a client or runner.',
      }),
  })
  .openapi('LrHorizon');

const ComputeSchema = z
  .object({
    runs: z.number().openapi({
      description:
        'Full training runs at the horizon spent so far: every run counts its share of the horizon, the range test’s steps included (when known).',
    }),
    epochs: z.number().nullable().openapi({
      description: 'The same in epochs (null: a horizon in steps without steps_per_epoch).',
    }),
    steps: z
      .int()
      .nullable()
      .optional()
      .openapi({ description: 'A horizon in steps: the same in steps.' }),
  })
  .openapi('LrCompute');

const SuggestionSchema = z
  .object({
    id: z
      .string()
      .optional()
      .openapi({ description: 'GET /v1/lr/suggest/{id}: the suggestion’s id (its study’s).' }),
    status: z.enum(['running', 'complete']).optional().openapi({
      description:
        'GET /v1/lr/suggest/{id}: running while candidates train (lr null, method "validating", the evidence so far), then complete.',
    }),
    lr: z.number().nullable(),
    method: z.string().openapi({
      description:
        "validated; consensus (budget 0, or a budget that buys no training: the geometric mean of the range test's valley and min_over_10 with the optimizer's default); a range-test rule, prior, or default; validating while a client or runner suggestion runs",
    }),
    confidence: z.enum(['low', 'medium', 'high']),
    stable_range: z.object({ min: z.number().nullable(), max: z.number().nullable() }).nullable(),
    schedule: z.record(z.string(), z.unknown()).nullable(),
    range_test: z.record(z.string(), z.unknown()).nullable(),
    horizon: HorizonSchema.nullable().openapi({
      description:
        'With a probe, or on your hardware: the training horizon and how it was validated.',
    }),
    validation: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        'The studies that validated the candidates, and each candidate’s state, validation loss, spread of its last epochs and whether it is tied with the best.',
    }),
    prior: z.record(z.string(), z.unknown()).nullable(),
    budget: z.object({ runs: z.number() }).optional().openapi({
      description: 'The compute the request allowed, in full training runs at its horizon.',
    }),
    compute: ComputeSchema.optional(),
    reasoning: z.array(z.string()),
  })
  .openapi('LrSuggestion');

const CandidateSchema = z.object({ lr: z.number(), sources: z.array(z.string()) });

const StartedSchema = z
  .object({
    id: z.string().openapi({
      description: 'The suggestion’s id: GET /v1/lr/suggest/{id} (it is also its study’s).',
    }),
    study_id: z.string().openapi({
      description:
        'The study whose trials are the candidates: ask and tell them (client), or lease them (runner).',
    }),
    status: z.literal('running'),
    executor: z.record(z.string(), z.unknown()),
    candidates: z.array(CandidateSchema).openapi({
      description: 'The candidate lrs (the study’s lr choices) and where each came from.',
    }),
    horizon: z
      .object({
        unit: z.enum(UNITS),
        epochs: z.int().nullable(),
        steps: z.int().optional(),
        source: z.enum(['training.epochs', 'training.steps', 'default']),
        schedule: z.enum(LR_SCHEDULES),
        rungs: z.array(z.int()).openapi({
          description:
            'Where successive halving judges (a quarter and a half of the horizon), in the unit reported.',
        }),
      })
      .openapi({
        description:
          'How long each candidate trains, in the unit its validation loss is reported at.',
      }),
    pruner: z.record(z.string(), z.unknown()),
    max_trials: z.int().openapi({
      description:
        'Trials in the study now; under a budget, each level the search adds grows it (the first level at the start).',
    }),
    budget: z.object({ runs: z.number() }).optional().openapi({
      description: 'The compute allowed, in full runs (a budgeted search).',
    }),
    seeds: z.array(z.int()).optional(),
    range_test: z.record(z.string(), z.unknown()),
    poll: z.string().openapi({ description: 'Where the answer is: /v1/lr/suggest/{id}.' }),
    reasoning: z.array(z.string()),
    dispatch_secret: z.string().optional().openapi({
      description:
        'A runner executor with a dispatch_url: the secret of its job notices, shown once.',
    }),
  })
  .openapi('LrSuggestionStarted');

const suggest = route(
  {
    ...secured('LR range tests'),
    operationId: 'suggestLr',
    method: 'post',
    path: '/v1/lr/suggest',
    summary:
      'Suggest a learning rate and a schedule: measured and validated with a probe, from priors and history without; or validated on your hardware (executor client or runner), answered at GET /v1/lr/suggest/{id}',
    request: body(LrSuggestBodySchema),
    responses: {
      200: {
        description: 'The suggestion with its evidence and reasoning',
        ...json(SuggestionSchema),
      },
      202: {
        description:
          'Executor client or runner: the study of the candidates, to train; the answer is at `poll`',
        ...json(StartedSchema),
      },
    },
  },
  {
    404: 'range_test_id names no range test of this project',
    413: 'Body, dataset or estimated work of the probe over the edge limits: the detail says what to shrink',
    429: 'Too many expensive calls (with a probe, or a study to train) for this key: wait Retry-After seconds',
  },
);

const get = route(
  {
    ...secured('LR range tests'),
    operationId: 'getLrSuggestion',
    method: 'get',
    path: '/v1/lr/suggest/{id}',
    summary:
      'A suggestion validated on your hardware: running with the evidence so far, then the validated lr',
    request: { params: z.object({ id: z.string().min(1).max(64) }) },
    responses: {
      200: {
        description: 'The suggestion (status running or complete) with its evidence and reasoning',
        ...json(SuggestionSchema),
      },
    },
  },
  { 404: 'No suggestion of this project has this id' },
);

export function lrSuggestRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(suggest, async (c) => {
    const body = c.req.valid('json');
    if (isExternal(body)) {
      await rateLimit(c.env, c.get('auth'));
      const started = await startExternalSuggestion(c.env, projectOf(c), body);
      // A budget that buys no training answers at once with the range test's rule.
      return 'study_id' in started ? c.json(started, 202) : c.json(started, 200);
    }
    requireProbeOrContext(body);
    // Priors cost nothing; a probe runs a range test and trains candidates.
    if (body.probe) await rateLimit(c.env, c.get('auth'));
    const answer = await suggestLr(c.env, projectOf(c), body);
    // Training that outlasts a few seconds goes on after the answer: 202 and its poll.
    return 'study_id' in answer ? c.json(answer, 202) : c.json(answer, 200);
  });
  app.openapi(get, async (c) =>
    c.json(await getExternalSuggestion(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
}

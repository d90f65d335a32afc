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
import { LrSuggestBodySchema, LrSuggestionSchema } from '../contract/schemas';
import { body, json, projectOf, route, secured } from './openapi';

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
        ...json(LrSuggestionSchema),
      },
      202: {
        description:
          'The same shape, status running (lr null): executor client or runner, the study of the candidates to train; an edge probe whose training outlasts the wait goes on after the answer. The answer is at `poll`',
        ...json(LrSuggestionSchema),
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
        ...json(LrSuggestionSchema),
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
      return started.status === 'running' ? c.json(started, 202) : c.json(started, 200);
    }
    requireProbeOrContext(body);
    // Priors cost nothing; a probe runs a range test and trains candidates.
    if (body.probe) await rateLimit(c.env, c.get('auth'));
    const answer = await suggestLr(c.env, projectOf(c), body);
    // Training that outlasts a few seconds goes on after the answer: 202 and its poll.
    return answer.status === 'running' ? c.json(answer, 202) : c.json(answer, 200);
  });
  app.openapi(get, async (c) =>
    c.json(await getExternalSuggestion(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
}

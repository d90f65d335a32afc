/**
 * The Hono app: Server-Timing, request ids, body limit, bearer auth on /v1, problem+json
 * errors, zod validation (with the API's messages, zodErrorMap), the OpenAPI
 * document.
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { requireAuth } from './api/auth';
import type { AppEnv } from './api/env';
import { keyRoutes } from './api/keys';
import { lrRangeTestRoutes } from './api/lr-range-tests';
import { lrSuggestRoutes } from './api/lr-suggest';
import { dashboardRoutes } from './api/dashboard';
import { studyRoutes } from './api/studies';
import { subscriptionRoutes } from './api/subscriptions';
import { triggerRoutes } from './api/triggers';
import { onError, problemResponse, zodErrorMap, zodIssues } from './api/problem';
import { serverTiming } from './api/timing';
import { DomainError, inputError } from './contract/errors';
import { finishDocument } from './api/openapi';
import { readConfig } from './lib/config';
import { boundsStatus } from './lib/json-bounds';
import { infinityAnswers } from './api/json-answers';

export type { AppEnv };

export function createApp(): OpenAPIHono<AppEnv> {
  // zod writes an issue's message as it parses, with the error map of its (process-wide) config:
  // hono's validators, and the schemas that parse inside a refinement, take no per-parse map. So
  // the API's messages are installed here, where the app is built, and by no module's import.
  z.config({ customError: zodErrorMap });
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where =
          result.target === 'query' ? 'query' : result.target === 'param' ? 'path' : 'body';
        const issues = zodIssues(result.error, [], where);
        const status = boundsStatus(result.error);
        throw inputError(issues, { kind: status === 413 ? 'too_large' : 'invalid' });
      }
    },
  });

  // First: its `total` spans every other middleware and the route, and it sees every answer.
  app.use(serverTiming);
  app.use(requestId(), infinityAnswers); // an infinite number answered as "Infinity" (api/json-answers.ts)
  app.onError(onError);
  app.notFound((c) =>
    problemResponse(c, {
      status: 404,
      slug: 'not-found',
      detail: `no route for ${c.req.method} ${c.req.path}`,
    }),
  );

  app.use('/v1/*', async (c, next) => {
    const limit = readConfig(c.env).maxBodyBytes;
    return bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new DomainError(
          'too_large',
          `the request body is over ${limit} bytes: send less inline data`,
        );
      },
    })(c, next);
  });

  app.use('/v1/*', requireAuth);
  // Webhook deliveries carry events, not data: 1 MB is plenty (GitHub caps payloads at 25 MB, most are a few KB).
  app.use(
    '/hooks/*',
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new DomainError('too_large', 'the delivery body is over 1 MB');
      },
    }),
  );

  // Every documented route, read from the same registry as /openapi.json (so the list cannot go stale).
  app.get('/api', (c) => {
    const endpoints = app.openAPIRegistry.definitions.flatMap((d) =>
      d.type === 'route' ? [`${d.route.method.toUpperCase()} ${d.route.path}`] : [],
    );
    return c.json({
      name: 'stride',
      dashboard: '/',
      docs: '/docs',
      openapi: '/openapi.json',
      endpoints,
    });
  });
  app.get('/health', (c) => c.json({ ok: true }));

  lrRangeTestRoutes(app);
  lrSuggestRoutes(app);
  studyRoutes(app);
  dashboardRoutes(app);
  keyRoutes(app);
  triggerRoutes(app);
  subscriptionRoutes(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
  });
  const info = {
    title: 'stride',
    version: '1.0.0',
    description:
      'Tuning deep-learning hyperparameters, learning rate first. Errors are RFC 9457 problem+json.',
  };
  let doc: unknown;
  app.get('/openapi.json', (c) =>
    c.json((doc ??= finishDocument(app.getOpenAPI31Document({ openapi: '3.1.0', info })))),
  );
  return app;
}

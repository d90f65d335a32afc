/**
 * The Hono app: request ids, body limit, bearer auth on /v1, problem+json
 * errors, zod validation, the OpenAPI document.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import { timingSafeEqual } from 'hono/utils/buffer';
import { lrRangeTestRoutes } from './api/lr-range-tests';
import { studyRoutes } from './api/studies';
import { onError, problemResponse, ProblemError, zodIssues } from './api/problem';

/**
 * What the caller's key may do. `admin`: everything (the development key);
 * `runner`: lease trials and heartbeat, report, tell or release the trials it
 * leased, nothing else (it cannot create or read studies).
 */
export type Scope = 'admin' | 'runner';

export type AppEnv = { Bindings: Env; Variables: RequestIdVariables & { scope: Scope } };

/** Routes a runner key may call. */
const RUNNER_ROUTES = [/^\/v1\/runners\/lease$/, /^\/v1\/studies\/[^/]+\/trials\/[^/]+\/(report|tell|heartbeat|release)$/];

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, 'unauthorized', detail, undefined, undefined, { 'WWW-Authenticate': 'Bearer realm="stride"' });
}

export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = zodIssues(result.error);
        throw new ProblemError(
          422,
          'invalid-request',
          issues.length === 1 ? `${issues[0].path}: ${issues[0].message}` : `${issues.length} problems in the request`,
          issues,
        );
      }
    },
  });

  app.use(requestId());
  app.onError(onError);
  app.notFound((c) => problemResponse(c, { status: 404, slug: 'not-found', detail: `no route for ${c.req.method} ${c.req.path}` }));

  app.use('/v1/*', async (c, next) => {
    const limit = Number(c.env.MAX_BODY_BYTES) > 0 ? Number(c.env.MAX_BODY_BYTES) : 8 * 1024 * 1024;
    return bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new ProblemError(413, 'too-large', `the request body is over ${limit} bytes: send less inline data`);
      },
    })(c, next);
  });

  app.use('/v1/*', async (c, next) => {
    const header = c.req.header('Authorization');
    if (!header) throw unauthorized('send your API key as Authorization: Bearer <key>');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header must be: Bearer <key>');
    const given = match[1];
    const keys: [string | undefined, Scope][] = [
      [c.env.STRIDE_DEV_KEY, 'admin'],
      [c.env.STRIDE_RUNNER_KEY, 'runner'],
    ];
    let scope: Scope | null = null;
    for (const [key, s] of keys) {
      // Every key is compared (in constant time), so the time taken does not tell which matched.
      if (typeof key === 'string' && key.length > 0 && (await timingSafeEqual(given, key)) && scope === null) scope = s;
    }
    if (scope === null) throw unauthorized('the API key is not valid');
    if (scope === 'runner' && !(c.req.method === 'POST' && RUNNER_ROUTES.some((r) => r.test(c.req.path)))) {
      throw new ProblemError(
        403,
        'forbidden',
        'this is a runner key: it can lease trials (POST /v1/runners/lease) and heartbeat, report, tell or release the trials it leased, nothing else',
      );
    }
    c.set('scope', scope);
    await next();
  });

  app.get('/', (c) =>
    c.json({ name: 'stride', docs: '/openapi.json', endpoints: ['POST /v1/lr-range-tests', 'GET /v1/lr-range-tests/{id}', 'POST /v1/studies', 'GET /v1/studies', 'GET /v1/studies/{id}', 'POST /v1/studies/{id}/ask', 'POST /v1/studies/{id}/trials', 'GET /v1/studies/{id}/trials', 'POST /v1/studies/{id}/trials/{number}/report', 'POST /v1/studies/{id}/trials/{number}/tell', 'POST /v1/studies/{id}/trials/{number}/heartbeat', 'POST /v1/studies/{id}/trials/{number}/release', 'POST /v1/studies/{id}/run', 'POST /v1/runners/lease'] }),
  );
  app.get('/health', (c) => c.json({ ok: true }));

  lrRangeTestRoutes(app);
  studyRoutes(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'stride',
      version: '1.0.0',
      description: 'Tuning deep-learning hyperparameters, learning rate first. Errors are RFC 9457 problem+json.',
    },
  });
  return app;
}

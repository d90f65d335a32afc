/**
 * Small helpers the route files share to describe their requests and answers in the OpenAPI document,
 * and the finishing touches of the document itself (finishDocument).
 */
import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import type { Principal } from './auth';
import { ProblemSchema } from '../contract/schemas';

/** A response header, as the document lists it. */
const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  description,
  schema,
});
export const RETRY_AFTER = header('Seconds to wait before calling again.', {
  type: 'integer',
  minimum: 0,
});

/** An error answer: problem+json, with what it means for this route (and the headers it carries). */
export const problem = (
  description: string,
  headers?: Record<string, ReturnType<typeof header>>,
) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** A JSON body (of a request or an answer) with this schema. */
export const json = <T extends z.ZodType>(schema: T) => ({
  content: { 'application/json': { schema } },
});

/** A required JSON request body. */
export const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, ...json(schema) },
});

/** Tags and bearer auth of a group of /v1 routes. */
export const secured = (tag: string) => ({ tags: [tag], security: [{ bearer: [] as string[] }] });

/** The caller's project: every /v1 call has an authenticated key with one (auth.ts). */
export const projectOf = (c: { get: (k: 'auth') => Principal }) => c.get('auth').projectId!;

/**
 * A decimal integer in a path or query parameter: digits only, no sign, exponent, hex or leading
 * zeros (`0x1` and `1e3` are not trial numbers), bounded; anything else is a 422 naming the parameter.
 */
export const decimalParam = (min: number, max: number) =>
  z
    .string()
    .regex(
      /^(0|[1-9][0-9]{0,15})$/,
      `expected a decimal integer from ${min} to ${max} (digits only: no sign, exponent, hex or leading zeros)`,
    )
    .transform(Number)
    .pipe(
      z
        .int()
        .min(min, `expected a decimal integer from ${min} to ${max}`)
        .max(max, `expected a decimal integer from ${min} to ${max}`),
    )
    .openapi({ type: 'integer', minimum: min, maximum: max, pattern: undefined });

/** What a route may answer besides what every /v1 route may (401, 403, 422 and, with a body, 400, 413, 415). */
export interface RouteProblems {
  /** An id in the path (or body) that names nothing of the caller's project. */
  404?: string;
  409?: string;
  /** What else than the body limit makes a 413 here. */
  413?: string;
  /** The route spends the key's budget of expensive calls. */
  429?: string;
}

/**
 * A /v1 route with every status it can send: the ones each /v1 route may (401 without a valid key,
 * 403 for a key without the scope, 422 for invalid parameters, including unknown query parameters),
 * the body ones where there is a body (400 not JSON, 413 over MAX_BODY_BYTES, 415 not JSON's media
 * type), and the route's own (`problems`). Query parameters are strict: a route without any
 * rejects every one it is sent.
 */
export function route<const R extends RouteConfig & { operationId: string }>(
  config: R,
  problems: RouteProblems = {},
): R {
  const hasBody = Boolean(config.request?.body);
  const common = {
    ...(hasBody ? { 400: problem('The body is not JSON') } : {}),
    401: problem('Missing or wrong API key', {
      'WWW-Authenticate': header('Bearer realm="stride"'),
    }),
    403: problem(
      'The key lacks the scope for this route (a runner key, the admin token, or a key without read, write or admin)',
    ),
    ...(problems[404] ? { 404: problem(problems[404]) } : {}),
    ...(problems[409] ? { 409: problem(problems[409]) } : {}),
    // Any body over the limit is refused before the route runs, even where the route takes none.
    ...(config.method !== 'get'
      ? { 413: problem(problems[413] ?? 'The request body is over MAX_BODY_BYTES') }
      : {}),
    ...(hasBody
      ? { 415: problem("The body is not sent as 'Content-Type: application/json'") }
      : {}),
    422: problem(
      'Well-formed but invalid (a parameter, an unknown query parameter or body field); `errors` lists each offending path',
    ),
    ...(problems[429] ? { 429: problem(problems[429], { 'Retry-After': RETRY_AFTER }) } : {}),
  };
  const request = { ...config.request, query: config.request?.query ?? z.strictObject({}) };
  return createRoute({
    ...config,
    request,
    responses: { ...config.responses, ...common },
  }) as unknown as R;
}

type Json = Record<string, any>;

/**
 * The document as clients need it, from the generated one:
 * - every answer declares the X-Request-Id and Server-Timing headers every answer carries
 *   (reusable components, referenced from each response of each operation);
 * - schemas used only by requests name their defaults in the description and not as `default`:
 *   code generators (openapi-typescript's defaultNonNullable) read `default` as "always present",
 *   which is true of answers but makes a defaulted request field required.
 */
export function finishDocument<D extends Json>(doc: D): D {
  (doc as Json).components = {
    ...doc.components,
    headers: {
      ...doc.components?.headers,
      RequestId: header(
        'The id of this request (in problem answers too, as request_id): quote it when reporting a problem.',
      ),
      ServerTiming: header(
        "Where the time went, in milliseconds (W3C Server Timing): `total;dur=<ms>` first, on every answer (the Worker's time from the request reaching it to its answer being ready); ask, ask-batch and tell add the study coordinator's shares of it, `sampler;dur=<ms>` (proposing params; 0 when none were sampled) and `storage;dur=<ms>` (the coordinator's SQLite reads and writes). Example: `total;dur=6.2, sampler;dur=0.84, storage;dur=0.31`. Deployed on Cloudflare, a Worker's clock advances only across I/O, so `total` runs to the Worker's last I/O and the shares read 0 or close to it; run locally (workerd: real time, whole milliseconds) to measure them.",
      ),
    },
  };
  for (const item of Object.values(doc.paths ?? {}) as Json[]) {
    for (const op of Object.values(item) as Json[]) {
      for (const res of Object.values(op.responses ?? {}) as Json[])
        res.headers = {
          ...res.headers,
          'X-Request-Id': { $ref: '#/components/headers/RequestId' },
          'Server-Timing': { $ref: '#/components/headers/ServerTiming' },
        };
    }
  }
  // The components a request body or parameter reaches (and only those: answers keep `default`).
  const schemas: Json = doc.components?.schemas ?? {};
  const refsIn = (node: unknown, out: Set<string>) => {
    if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
          const name = v.slice('#/components/schemas/'.length);
          if (!out.has(name)) {
            out.add(name);
            refsIn(schemas[name], out);
          }
        } else refsIn(v, out);
      }
    }
  };
  const inputs = new Set<string>();
  const responses = new Set<string>();
  for (const item of Object.values(doc.paths ?? {}) as Json[]) {
    for (const op of Object.values(item) as Json[]) {
      refsIn(op.requestBody, inputs);
      refsIn(op.parameters, inputs);
      refsIn(op.responses, responses);
    }
  }
  const shared = [...inputs].filter((n) => responses.has(n));
  if (shared.length)
    throw new Error(`schemas used by both requests and answers: ${shared.join(', ')}`);
  // A JSON Schema walk (not a walk of every object: a property may be called "default").
  const stripDefaults = (schema: unknown) => {
    if (!schema || typeof schema !== 'object') return;
    const o = schema as Json;
    if ('default' in o) {
      const said = `Default: ${JSON.stringify(o.default)}.`;
      o.description = o.description ? `${o.description} ${said}` : said;
      delete o.default;
    }
    for (const p of Object.values(o.properties ?? {})) stripDefaults(p);
    for (const k of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const)
      if (Array.isArray(o[k])) o[k].forEach(stripDefaults);
    for (const k of ['items', 'additionalProperties', 'not'] as const) stripDefaults(o[k]);
  };
  for (const name of inputs) stripDefaults(schemas[name]);
  for (const item of Object.values(doc.paths ?? {}) as Json[]) {
    for (const op of Object.values(item) as Json[]) {
      for (const media of Object.values(op.requestBody?.content ?? {}) as Json[])
        stripDefaults(media.schema);
      for (const param of op.parameters ?? []) stripDefaults(param.schema);
    }
  }
  return doc;
}

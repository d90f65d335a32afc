/**
 * RFC 9457 problem+json: the one place where errors become responses.
 * Routes and layers below throw; `onError` here shapes every answer, so a bad
 * request can never leak out as a 500 with a stack trace.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { ProbeInputError, type InputIssue } from '../probe/errors';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: InputIssue[];
  instance?: string;
  request_id?: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

const TYPE_BASE = 'https://stride.dev/problems/';

/** A domain error the API turns into problem+json. */
export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly slug: string,
    detail: string,
    readonly errors?: InputIssue[],
    readonly extra?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

/** zod issues as `{path, message}` with dot paths from the request root. */
export function zodIssues(error: ZodError, prefix: (string | number)[] = []): InputIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    // An unknown key is reported on its parent object; point at the key itself.
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
      return { path: [...path, issue.keys[0]].join('.'), message: `unknown field '${issue.keys.join("', '")}'` };
    }
    return { path: path.length ? path.join('.') : '(body)', message: issue.message };
  });
}

export interface ProblemInit {
  status: number;
  slug: string;
  detail: string;
  title?: string;
  errors?: InputIssue[];
  [extra: string]: unknown;
}

export function problemResponse(c: Context, p: ProblemInit): Response {
  const { slug, title, status, detail, ...rest } = p;
  const body: Problem = {
    type: TYPE_BASE + slug,
    title: title ?? TITLES[status] ?? 'Error',
    status,
    detail,
    ...rest,
    instance: c.req.path,
    request_id: c.get('requestId'),
  };
  return c.json(body, p.status as ContentfulStatusCode, { 'Content-Type': 'application/problem+json' });
}

export function onError(err: Error, c: Context): Response {
  if (err instanceof ProblemError) {
    const res = problemResponse(c, { status: err.status, slug: err.slug, detail: err.message, errors: err.errors, ...err.extra });
    for (const [k, v] of Object.entries(err.headers ?? {})) res.headers.set(k, v);
    return res;
  }
  if (err instanceof ProbeInputError) {
    const over = err.status === 413;
    return problemResponse(c, {
      status: err.status,
      slug: over ? 'over-budget' : 'invalid-request',
      detail: err.issues.length === 1 ? err.issues[0].message : `${err.issues.length} problems in the request`,
      errors: err.issues,
    });
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    let detail = err.message || TITLES[status] || 'Error';
    if (status === 415 || (status === 400 && /Content-Type/i.test(detail))) {
      detail = `${detail}: send the body as JSON with 'Content-Type: application/json'`;
    }
    if (status === 400 && /Malformed JSON/i.test(detail)) detail = 'the request body is not valid JSON';
    return problemResponse(c, { status, slug: slugFor(status), detail });
  }
  console.error(`[${c.get('requestId')}]`, err);
  return problemResponse(c, {
    status: 500,
    slug: 'internal',
    detail: 'an unexpected error occurred; report the request_id if it persists',
  });
}

function slugFor(status: number): string {
  switch (status) {
    case 400:
      return 'malformed-request';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not-found';
    case 413:
      return 'too-large';
    case 415:
      return 'unsupported-media-type';
    default:
      return `http-${status}`;
  }
}

/**
 * RFC 9457 problem+json: the one place where errors become responses.
 * Routes and layers below throw; `onError` here shapes every answer, so a bad
 * request can never leak out as a 500 with a stack trace.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { closest } from '../lib/names';
import type { InputIssue } from '../contract/issues';
import { DomainError, type ErrorKind } from '../contract/errors';
import { UNKNOWN } from '../contract/issues';

export { zodIssues } from '../contract/issues';

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

const quoteAll = (xs: readonly unknown[]) => xs.map((x) => `'${String(x)}'`).join(', ');
const didYouMean = (value: unknown, options: readonly unknown[]) => {
  const s = typeof value === 'string' ? closest(value, options.map(String)) : null;
  return s === null ? '' : `: did you mean '${s}'?`;
};
const kindOf = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `a ${typeof v}`;

/**
 * Messages a client can act on, for every zod parse of the API: zod gives the error map the schema
 * that raised the issue, so an unknown key is matched against the keys that object knows, an
 * invalid option against the options. A missing field says "required"; any other issue keeps
 * zod's message (undefined). Installed by createApp (app.ts), not by importing this module.
 */
export const zodErrorMap: z.core.$ZodErrorMap = (iss) => {
  const inst = (iss as { inst?: { _zod?: { def?: { shape?: Record<string, unknown> } } } }).inst;
  switch (iss.code) {
    case 'unrecognized_keys': {
      const known = Object.keys(inst?._zod?.def?.shape ?? {});
      return iss.keys
        .map(
          (k) =>
            `${UNKNOWN} '${k}'${didYouMean(k, known) || (known.length === 0 ? ' (there are none)' : known.length <= 12 ? ` (known: ${quoteAll(known)})` : '')}`,
        )
        .join('\n');
    }
    case 'invalid_type':
      if (iss.input === undefined) return 'required';
      return `expected ${iss.expected === 'int' ? 'an integer' : iss.expected}, got ${kindOf(iss.input)}`;
    case 'invalid_value':
      return `expected ${iss.values.length === 1 ? JSON.stringify(iss.values[0]) : `one of ${quoteAll(iss.values)}`}${didYouMean(iss.input, iss.values)}`;
    case 'invalid_union': {
      const u = iss as typeof iss & { discriminator?: string; options?: unknown[] };
      if (u.discriminator && u.options) {
        const given =
          iss.input && typeof iss.input === 'object'
            ? (iss.input as Record<string, unknown>)[u.discriminator]
            : undefined;
        return given === undefined
          ? `required (one of ${quoteAll(u.options)})`
          : `expected one of ${quoteAll(u.options)}${didYouMean(given, u.options)}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
};

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
  return c.json(body, p.status as ContentfulStatusCode, {
    'Content-Type': 'application/problem+json',
  });
}

export function onError(err: Error, c: Context): Response {
  if (err instanceof DomainError) {
    const { status, slug } = problemOf(err.kind);
    const res = problemResponse(c, {
      status,
      slug,
      detail: err.detail,
      errors: err.issues,
      ...err.extra,
    });
    for (const [k, v] of Object.entries(err.headers ?? {})) res.headers.set(k, v);
    return res;
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    let detail = err.message || TITLES[status] || 'Error';
    if (status === 415 || (status === 400 && /Content-Type/i.test(detail))) {
      detail = `${detail}: send the body as JSON with 'Content-Type: application/json'`;
    }
    if (status === 400 && /Malformed JSON/i.test(detail))
      detail = 'the request body is not valid JSON';
    return problemResponse(c, { status, slug: slugFor(status), detail });
  }
  console.error(`[${c.get('requestId')}]`, err);
  return problemResponse(c, {
    status: 500,
    slug: 'internal',
    detail: 'an unexpected error occurred; report the request_id if it persists',
  });
}

/** The one mapping of a domain error's kind to its problem's status and type. */
function problemOf(kind: ErrorKind): { status: ContentfulStatusCode; slug: string } {
  switch (kind) {
    case 'bad_request':
      // The one 400: a body or request that cannot be read (Hono's malformed JSON too, slugFor).
      return { status: 400, slug: 'malformed-request' };
    case 'unauthorized':
      return { status: 401, slug: 'unauthorized' };
    case 'forbidden':
      return { status: 403, slug: 'forbidden' };
    case 'not_found':
      return { status: 404, slug: 'not-found' };
    case 'conflict':
      return { status: 409, slug: 'conflict' };
    case 'invalid':
      return { status: 422, slug: 'invalid-request' };
    case 'too_large':
      return { status: 413, slug: 'too-large' };
    case 'over_budget':
      return { status: 413, slug: 'over-budget' };
    case 'rate_limited':
      return { status: 429, slug: 'rate-limited' };
    default: {
      const never: never = kind;
      throw new Error(`no problem for the error kind ${String(never)}`);
    }
  }
}

/** The type of Hono's own errors (HTTPException), by status: the same as the domain's kind of that status. */
function slugFor(status: number): string {
  switch (status) {
    case 400:
      return problemOf('bad_request').slug;
    case 401:
      return problemOf('unauthorized').slug;
    case 404:
      return problemOf('not_found').slug;
    case 413:
      return problemOf('too_large').slug;
    case 415:
      return 'unsupported-media-type';
    default:
      return `http-${status}`;
  }
}

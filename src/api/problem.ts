/**
 * RFC 9457 problem+json: the one place where errors become responses.
 * Routes and layers below throw; `onError` here shapes every answer, so a bad
 * request can never leak out as a 500 with a stack trace.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z, type ZodError } from 'zod';
import { CoordinatorError } from '../coordinator/errors';
import { closest } from '../lib/names';
import type { InputIssue } from '../contract/issues';
import { ProbeInputError } from '../probe/errors';

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



const quoteAll = (xs: readonly unknown[]) => xs.map((x) => `'${String(x)}'`).join(', ');
const didYouMean = (value: unknown, options: readonly unknown[]) => {
  const s = typeof value === 'string' ? closest(value, options.map(String)) : null;
  return s === null ? '' : `: did you mean '${s}'?`;
};
const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

/** One line per unknown key (zodIssues splits them into one issue each). */
const UNKNOWN = 'unknown field';

/**
 * Messages a client can act on, for every zod parse of the API: zod gives the error map the schema
 * that raised the issue, so an unknown key is matched against the keys that object knows, an
 * invalid option against the options. A missing field says "required".
 */
z.config({
  customError: (iss) => {
    const inst = (iss as { inst?: { _zod?: { def?: { shape?: Record<string, unknown> } } } }).inst;
    switch (iss.code) {
      case 'unrecognized_keys': {
        const known = Object.keys(inst?._zod?.def?.shape ?? {});
        return iss.keys.map((k) => `${UNKNOWN} '${k}'${didYouMean(k, known) || (known.length === 0 ? ' (there are none)' : known.length <= 12 ? ` (known: ${quoteAll(known)})` : '')}`).join('\n');
      }
      case 'invalid_type':
        if (iss.input === undefined) return 'required';
        return `expected ${iss.expected === 'int' ? 'an integer' : iss.expected}, got ${kindOf(iss.input)}`;
      case 'invalid_value':
        return `expected ${iss.values.length === 1 ? JSON.stringify(iss.values[0]) : `one of ${quoteAll(iss.values)}`}${didYouMean(iss.input, iss.values)}`;
      case 'invalid_union': {
        const u = iss as typeof iss & { discriminator?: string; options?: unknown[] };
        if (u.discriminator && u.options) {
          const given = iss.input && typeof iss.input === 'object' ? (iss.input as Record<string, unknown>)[u.discriminator] : undefined;
          return given === undefined ? `required (one of ${quoteAll(u.options)})` : `expected one of ${quoteAll(u.options)}${didYouMean(given, u.options)}`;
        }
        return undefined;
      }
      default:
        return undefined;
    }
  },
});

type Issue = ZodError['issues'][number];

/**
 * The issues of the union option the input was most likely meant for: one that finds every section
 * (object field) it requires (a body with a `curve` and no `probe` meant the option that requires a
 * curve, however many problems its curve has), then fewest issues, then most unknown keys that look
 * like typos of that option's fields (`{"valeu": 0.5}` meant `{"value": ...}`).
 */
function bestBranch(branches: Issue[][]): Issue[] {
  const lacks = (b: Issue[]) =>
    b.some((i) => i.path.length === 1 && i.code === 'invalid_type' && (i as { expected?: string }).expected === 'object' && i.message === 'required') ? 1 : 0;
  const typos = (b: Issue[]) => b.filter((i) => i.code === 'unrecognized_keys' && i.message.includes('did you mean')).length;
  return [...branches].sort((a, b) => lacks(a) - lacks(b) || a.length - b.length || typos(b) - typos(a))[0] ?? [];
}

/**
 * zod issues as `{path, message}` with dot paths from the request root. `where` names what the
 * paths are in: the body (fields) or the query string (query parameters).
 */
export function zodIssues(error: ZodError | { issues: Issue[] }, prefix: (string | number)[] = [], where: 'body' | 'query' | 'path' = 'body'): InputIssue[] {
  const noun = where === 'query' ? 'unknown query parameter' : where === 'path' ? 'unknown path parameter' : UNKNOWN;
  const out: InputIssue[] = [];
  const visit = (issues: Issue[], base: (string | number)[]) => {
    for (const issue of issues) {
      const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        visit(bestBranch(issue.errors), path);
      } else if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
        // An unknown key is reported on its parent object; point at each key itself.
        const lines = issue.message.split('\n');
        issue.keys.forEach((k, i) => {
          const line = lines.length === issue.keys.length ? lines[i] : `${UNKNOWN} '${k}'`;
          out.push({ path: [...path, k].join('.'), message: line.replace(UNKNOWN, noun) });
        });
      } else {
        out.push({ path: path.length ? path.join('.') : where === 'body' ? '(body)' : `(${where})`, message: issue.message });
      }
    }
  };
  visit(error.issues, prefix);
  // Unknown fields first: a typo there usually explains a "required" elsewhere.
  return [...out.filter((i) => i.message.startsWith('unknown')), ...out.filter((i) => !i.message.startsWith('unknown'))];
}

/** A problem lists at most this many issues (a 100,000-point curve of strings has 100,000); the detail counts them all. */
export const MAX_LISTED_ISSUES = 100;

/** The detail of a 422 from its issues: each one when there are few. */
export function issuesDetail(issues: InputIssue[], what = 'the request'): string {
  if (issues.length === 0) return `${what} is not valid`;
  if (issues.length <= 3) return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return `${issues.length} problems in ${what}: ${issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ')}; ...`;
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
  if (err instanceof CoordinatorError) {
    if (err.kind === 'not_found') return problemResponse(c, { status: 404, slug: 'not-found', detail: err.detail });
    if (err.kind === 'conflict') return problemResponse(c, { status: 409, slug: 'conflict', detail: err.detail });
    // `path: message` details name the offending field.
    const m = /^([a-z_][a-z0-9_.]*): ([\s\S]*)$/.exec(err.detail);
    return problemResponse(c, { status: 422, slug: 'invalid-request', detail: err.detail, errors: m ? [{ path: m[1], message: m[2] }] : undefined });
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

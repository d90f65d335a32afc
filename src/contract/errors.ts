/**
 * Errors of the domain: what went wrong, as a kind, never as an HTTP status.
 * Every layer throws these, api/ included (auth's 401/403/429), or their
 * subclasses (CoordinatorError, ProbeInputError); api/problem.ts's problemOf
 * maps each kind to its status and problem type in one exhaustive switch.
 */
import { issuesDetail, MAX_LISTED_ISSUES, type InputIssue } from './issues';

export type ErrorKind =
  /** The request cannot be read at all (a delivery body that is not JSON, a missing header). */
  | 'bad_request'
  /** No valid credentials (a missing, malformed or revoked key, a bad webhook signature). */
  | 'unauthorized'
  /** Valid credentials without the right to this call (a scope, the admin token off its routes). */
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  /** Input that reads but is not valid: the issues name the fields. */
  | 'invalid'
  /** Input over a size limit. */
  | 'too_large'
  /** Work or data over the compute limits of the edge. */
  | 'over_budget'
  /** Over the caller's budget of calls: the error's headers say when to retry (Retry-After). */
  | 'rate_limited';

/** Every kind, once (the Record makes the compiler check it against ErrorKind). */
const KINDS: Record<ErrorKind, true> = {
  bad_request: true,
  unauthorized: true,
  forbidden: true,
  not_found: true,
  conflict: true,
  invalid: true,
  too_large: true,
  over_budget: true,
  rate_limited: true,
};

/** Whether `s` names a kind (for errors read back from elsewhere, e.g. over RPC). */
export function isErrorKind(s: string): s is ErrorKind {
  return Object.hasOwn(KINDS, s);
}

export interface DomainErrorInit {
  issues?: InputIssue[];
  /** Extra members of the problem (e.g. delivery_id). */
  extra?: Record<string, unknown>;
  /** Headers of the answer (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** The Error's message, when it is not the detail. */
  message?: string;
}

export class DomainError extends Error {
  readonly issues?: InputIssue[];
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    readonly kind: ErrorKind,
    /** The problem's detail: what a client reads. */
    readonly detail: string,
    init: DomainErrorInit = {},
  ) {
    super(init.message ?? detail);
    this.name = 'DomainError';
    this.issues = init.issues;
    this.extra = init.extra;
    this.headers = init.headers;
  }
}

/** What input errors are: invalid (422), or over a size or compute limit (413). */
export type InputErrorKind = Extract<ErrorKind, 'invalid' | 'too_large' | 'over_budget'>;

/**
 * The one way an error is made from a list of input issues: its detail built
 * by issuesDetail (`what` names the input, default "the request"), at most
 * MAX_LISTED_ISSUES of the issues listed in the problem.
 */
export function inputErrorInit(
  issues: InputIssue[],
  what?: string,
): { detail: string; issues: InputIssue[] } {
  return { detail: issuesDetail(issues, what), issues: issues.slice(0, MAX_LISTED_ISSUES) };
}

/** A DomainError of `kind` (default invalid, 422) from the issues of the input (inputErrorInit). */
export function inputError(
  issues: InputIssue[],
  options: { kind?: InputErrorKind; what?: string; extra?: Record<string, unknown> } = {},
): DomainError {
  const { detail, issues: listed } = inputErrorInit(issues, options.what);
  return new DomainError(options.kind ?? 'invalid', detail, {
    issues: listed,
    extra: options.extra,
  });
}

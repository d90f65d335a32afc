/**
 * Errors of the domain: what went wrong, as a kind, never as an HTTP status.
 * Every layer below api/ throws these (or their subclasses: CoordinatorError,
 * ProbeInputError); api/problem.ts maps each kind to problem+json in one
 * exhaustive switch.
 */
import type { InputIssue } from './issues';

export type ErrorKind =
  /** The request cannot be read at all (a delivery body that is not JSON, a missing header). */
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  /** Input that reads but is not valid: the issues name the fields. */
  | 'invalid'
  /** Input over a size limit. */
  | 'too_large'
  /** Work or data over the compute limits of the edge. */
  | 'over_budget'
  | 'rate_limited';

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

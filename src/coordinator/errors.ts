/**
 * Errors the coordinator raises. Errors cross the Durable Object RPC boundary
 * with their message only, so the kind travels as a `[kind]` prefix of the
 * message and `parseCoordinatorError` reads it back on the caller's side.
 */
import { DomainError } from '../contract/errors';
import type { InputIssue } from '../contract/issues';

export type CoordinatorErrorKind = 'not_found' | 'conflict' | 'invalid';

export class CoordinatorError extends DomainError {
  declare readonly kind: CoordinatorErrorKind;

  constructor(kind: CoordinatorErrorKind, detail: string, issues?: InputIssue[]) {
    super(kind, detail, { issues, message: `[${kind}] ${detail}` });
    this.name = 'CoordinatorError';
  }
}

export function parseCoordinatorError(
  err: unknown,
): { kind: CoordinatorErrorKind; detail: string } | null {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /\[(not_found|conflict|invalid)\] ([\s\S]*)$/.exec(message);
  return m ? { kind: m[1] as CoordinatorErrorKind, detail: m[2] } : null;
}

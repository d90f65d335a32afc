/**
 * Errors the coordinator raises, and how any DomainError crosses the Durable
 * Object RPC boundary.
 *
 * An RPC method answers an `RpcResult`: its value, or the DomainError it raised
 * as data (`{kind, detail, issues, extra, headers}`), so an expected refusal (a
 * 409, a 404) is an answer, not an exception the runtime logs as uncaught in the
 * object. `callStudy` (stub.ts) turns it back into a DomainError. An unexpected
 * error still throws (a 500). Errors that do cross as exceptions (older callers,
 * the runtime's own) carry the same JSON after WIRE_PREFIX in their message,
 * read back by `domainErrorOf`: the prefix and JSON.parse, never the words of
 * the detail (workerd carries only an Error's message across RPC).
 */
import { DomainError, isErrorKind, type ErrorKind } from '../contract/errors';
import { issuesDetail, type InputIssue } from '../contract/issues';

export type CoordinatorErrorKind = 'not_found' | 'conflict' | 'invalid';

export class CoordinatorError extends DomainError {
  declare readonly kind: CoordinatorErrorKind;

  constructor(kind: CoordinatorErrorKind, detail: string, issues?: InputIssue[]) {
    super(kind, detail, { issues });
    this.name = 'CoordinatorError';
  }
}

/** A 422 on one field of the call: the issue names `path`, the detail reads `path: message`. */
export function invalidField(path: string, message: string): CoordinatorError {
  const issues = [{ path, message }];
  return new CoordinatorError('invalid', issuesDetail(issues), issues);
}

/** The detail of the not_found of a coordinator that holds no study; callStudy names the id asked for instead. */
export const NO_SUCH_STUDY = 'no such study';

/** What of a DomainError crosses the boundary: all of it but the stack. */
export interface WireError {
  kind: ErrorKind;
  detail: string;
  issues?: InputIssue[];
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Opens the message of an error in wire form; no detail starts with it. */
const WIRE_PREFIX = 'stride:domain-error:';

function wireOf(err: DomainError): WireError {
  return {
    kind: err.kind,
    detail: err.detail,
    issues: err.issues,
    extra: err.extra,
    headers: err.headers,
  };
}

/** `err` in wire form: a plain Error (its message crosses RPC unchanged) carrying the whole DomainError as JSON. */
export function toWire(err: DomainError): Error {
  return new Error(WIRE_PREFIX + JSON.stringify(wireOf(err)));
}

/** What a coordinator's RPC method answers: its value, or the DomainError it raised, as data. */
export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: WireError };

/**
 * Run the body of a coordinator's RPC method: its value, or the DomainError it
 * throws as an answer; anything else is thrown as it is (an unexpected error
 * stays a 500).
 */
export async function overRpc<T>(body: () => T | Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (err) {
    if (err instanceof DomainError) return { ok: false, error: wireOf(err) };
    throw err;
  }
}

/** The value of an RPC answer; the DomainError it carries is thrown. */
export function valueOf<T>(r: RpcResult<T>): T {
  if (r.ok) return r.value;
  const { kind, detail, ...init } = r.error;
  throw new DomainError(kind, detail, init);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isWireError(v: unknown): v is WireError {
  if (!isRecord(v) || typeof v.kind !== 'string' || !isErrorKind(v.kind)) return false;
  if (typeof v.detail !== 'string') return false;
  if (
    v.issues !== undefined &&
    !(
      Array.isArray(v.issues) &&
      v.issues.every(
        (i) => isRecord(i) && typeof i.path === 'string' && typeof i.message === 'string',
      )
    )
  )
    return false;
  if (v.extra !== undefined && !isRecord(v.extra)) return false;
  return (
    v.headers === undefined ||
    (isRecord(v.headers) && Object.values(v.headers).every((h) => typeof h === 'string'))
  );
}

/**
 * The DomainError that `err` is, or carries in wire form (an error a
 * coordinator raised, come back over RPC); null for any other error.
 */
export function domainErrorOf(err: unknown): DomainError | null {
  if (err instanceof DomainError) return err;
  if (!(err instanceof Error) || !err.message.startsWith(WIRE_PREFIX)) return null;
  let wire: unknown;
  try {
    wire = JSON.parse(err.message.slice(WIRE_PREFIX.length));
  } catch {
    return null;
  }
  if (!isWireError(wire)) return null;
  const { kind, detail, ...init } = wire;
  return new DomainError(kind, detail, init);
}

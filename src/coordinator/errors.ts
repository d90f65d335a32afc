/**
 * Errors the coordinator raises, and how any DomainError crosses the Durable
 * Object RPC boundary.
 *
 * workerd carries only an Error's message across RPC (not its class, name or
 * own properties; a thrown plain object arrives as "#<Object>"). So each RPC
 * method runs its body in `overRpc`, which rethrows a DomainError in wire
 * form: a plain Error whose message is WIRE_PREFIX followed by the JSON of
 * `{kind, detail, issues, extra, headers}`. The caller's side reads it back
 * with `domainErrorOf`: the prefix and JSON.parse, never the words of the detail.
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
interface WireError {
  kind: ErrorKind;
  detail: string;
  issues?: InputIssue[];
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Opens the message of an error in wire form; no detail starts with it. */
const WIRE_PREFIX = 'stride:domain-error:';

/** `err` in wire form: a plain Error (its message crosses RPC unchanged) carrying the whole DomainError as JSON. */
export function toWire(err: DomainError): Error {
  const wire: WireError = {
    kind: err.kind,
    detail: err.detail,
    issues: err.issues,
    extra: err.extra,
    headers: err.headers,
  };
  return new Error(WIRE_PREFIX + JSON.stringify(wire));
}

/**
 * Run the body of a coordinator's RPC method: a DomainError it throws leaves
 * in wire form, anything else as it is (an unexpected error stays a 500).
 */
export async function overRpc<T>(body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw err instanceof DomainError ? toWire(err) : err;
  }
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

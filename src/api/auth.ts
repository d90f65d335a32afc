/**
 * Who is calling, and may they: bearer keys, their project and scopes.
 *
 * - The admin token (secret STRIDE_ADMIN_TOKEN) manages projects and keys,
 *   nothing else.
 * - API keys live in D1 as the SHA-256 of their secret, with a project and
 *   scopes: `read` (GET), `write` (everything else that changes a study or
 *   runs a probe), `runner` (lease, heartbeat, release, and report, tell,
 *   ask for a parameter of or set attributes of a leased trial), `admin` (the keys of its own project). A revoked key
 *   stops working at the next request: keys are looked up every time.
 * - The development keys of .dev.vars belong to the default project:
 *   STRIDE_DEV_KEY has every scope, STRIDE_RUNNER_KEY only `runner`.
 * Secrets are compared in constant time (the D1 lookup is by hash).
 */
import type { Context, Next } from 'hono';
import { timingSafeEqual } from 'hono/utils/buffer';
import { readConfig } from '../lib/config';
import { sha256Hex } from '../lib/hash';
import { DomainError } from '../contract/errors';
import { DEFAULT_PROJECT_ID } from '../db/schema';
import { findKeyByHash } from '../db/keys';

export type { Principal, Scope } from '../contract/auth';
import { SCOPES, type Principal, type Scope } from '../contract/auth';

/** No usable credentials: a 401 that names the scheme to use (RFC 9110 requires WWW-Authenticate). */
function unauthorized(detail: string): DomainError {
  return new DomainError('unauthorized', detail, {
    headers: { 'WWW-Authenticate': 'Bearer realm="stride"' },
  });
}

function forbidden(detail: string): DomainError {
  return new DomainError('forbidden', detail);
}

const LEASE_ROUTES = [
  /^\/v1\/runners\/lease$/,
  /^\/v1\/studies\/[^/]+\/trials\/[^/]+\/(heartbeat|release)$/,
];
const RESULT_ROUTES = /^\/v1\/studies\/[^/]+\/trials\/[^/]+\/(report|tell|params|attrs)$/;
const ADMIN_ROUTES = /^\/v1\/(projects|keys)(\/|$)/;

/** The scopes that allow a call (any one of them). */
function requiredScopes(method: string, path: string): Scope[] {
  if (ADMIN_ROUTES.test(path)) return ['admin'];
  if (method === 'GET' || method === 'HEAD') return ['read'];
  if (LEASE_ROUTES.some((r) => r.test(path))) return ['runner', 'write'];
  if (RESULT_ROUTES.test(path)) return ['write', 'runner'];
  return ['write'];
}

async function equal(a: string, b: string | undefined): Promise<boolean> {
  return typeof b === 'string' && b.length > 0 && (await timingSafeEqual(a, b));
}

async function authenticate(env: Env, secret: string): Promise<Principal | null> {
  // Every configured secret is compared, so the time taken does not tell which matched.
  const { adminToken, devKey, runnerKey } = readConfig(env).secrets;
  const [admin, dev, runner] = await Promise.all([
    equal(secret, adminToken),
    equal(secret, devKey),
    equal(secret, runnerKey),
  ]);
  if (admin)
    return {
      kind: 'admin-token',
      projectId: null,
      scopes: ['admin'],
      keyId: 'admin-token',
      rateLimitPerMinute: null,
    };
  if (dev)
    return {
      kind: 'key',
      projectId: DEFAULT_PROJECT_ID,
      scopes: SCOPES,
      keyId: 'dev-key',
      rateLimitPerMinute: null,
    };
  if (runner)
    return {
      kind: 'key',
      projectId: DEFAULT_PROJECT_ID,
      scopes: ['runner'],
      keyId: 'dev-runner-key',
      rateLimitPerMinute: null,
    };
  if (!secret.startsWith('sk_')) return null;
  const hash = await sha256Hex(secret);
  const row = await findKeyByHash(env.DB, hash);
  if (!row || !(await timingSafeEqual(row.secretHash, hash))) return null;
  return {
    kind: 'key',
    projectId: row.projectId,
    scopes: row.scopes as Scope[],
    keyId: row.id,
    rateLimitPerMinute: row.rateLimitPerMinute,
  };
}

/** Hono middleware for /v1: a valid key with a scope for the route, else 401/403 problem+json. */
export async function requireAuth(
  c: Context<{ Bindings: Env; Variables: { auth: Principal } }>,
  next: Next,
): Promise<void> {
  const header = c.req.header('Authorization');
  if (!header) throw unauthorized('send your API key as Authorization: Bearer <key>');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized('the Authorization header must be: Bearer <key>');
  const principal = await authenticate(c.env, match[1]);
  if (!principal) throw unauthorized('the API key is not valid (or was revoked)');
  const need = requiredScopes(c.req.method, c.req.path);
  if (principal.kind === 'admin-token' && !ADMIN_ROUTES.test(c.req.path)) {
    throw forbidden(
      'the admin token manages projects and keys (/v1/projects, /v1/keys); call the API with a project key',
    );
  }
  if (!need.some((s) => principal.scopes.includes(s))) {
    const has = principal.scopes.join(', ');
    if (principal.scopes.length === 1 && principal.scopes[0] === 'runner') {
      throw forbidden(
        'this is a runner key: it can lease trials (POST /v1/runners/lease) and heartbeat, report, tell or release the trials it leased, nothing else',
      );
    }
    throw forbidden(
      `this key lacks the '${need[0]}' scope for ${c.req.method} ${c.req.path} (it has: ${has})`,
    );
  }
  c.set('auth', principal);
  await next();
}

/** Spend one expensive call of the caller's budget, or throw 429 with Retry-After. */
export async function rateLimit(env: Env, principal: Principal): Promise<void> {
  const limit = principal.rateLimitPerMinute ?? readConfig(env).rateLimitPerMinute;
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(principal.keyId));
  const r = await stub.take(limit);
  if (!r.ok) {
    throw new DomainError(
      'rate_limited',
      `this key may make ${limit} expensive calls (range tests, study creation) a minute; try again in ${r.retry_after_s} s`,
      { headers: { 'Retry-After': String(r.retry_after_s) } },
    );
  }
}

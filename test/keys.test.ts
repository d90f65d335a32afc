// Projects and API keys: created by the admin token, hashed in D1, scoped,
// revocable at once, isolated by project (404, not 403), rate limited.
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post, smallRequest } from './helpers';

const ADMIN = env.STRIDE_ADMIN_TOKEN;
const SPACE = { lr: { type: 'float', low: 1e-5, high: 1, log: true } };

async function project(name: string) {
  const res = await post('/v1/projects', { name }, ADMIN);
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}
async function key(projectId: string, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await post(
    '/v1/keys',
    { project_id: projectId, name: `k-${scopes.join('-')}`, scopes, ...extra },
    ADMIN,
  );
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}
async function sha256(text: string) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

describe('projects and keys', () => {
  it('creates keys whose secret is shown once and stored only as its SHA-256', async () => {
    const p = await project('acme');
    expect(p.id).toMatch(/^prj_/);
    const k = await key(p.id, ['read', 'write']);
    expect(k.secret).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
    expect(k).toMatchObject({
      project_id: p.id,
      scopes: ['read', 'write'],
      prefix: k.secret.slice(0, 10),
      revoked_at: null,
    });
    const row = await env.DB.prepare('SELECT * FROM api_keys WHERE id = ?').bind(k.id).first<any>();
    expect(row.secret_hash).toBe(await sha256(k.secret));
    expect(Object.values(row)).not.toContain(k.secret);
    const list = await json(api(`/v1/keys?project_id=${p.id}`, { key: ADMIN }));
    expect(list.keys.map((x: any) => x.id)).toContain(k.id);
    expect(list.keys.every((x: any) => !('secret' in x))).toBe(true);
    // The key works.
    expect((await api('/v1/studies', { key: k.secret })).status).toBe(200);
    // A project name is unique.
    expect((await post('/v1/projects', { name: 'acme' }, ADMIN)).status).toBe(409);
  });

  it("never shows one project's resources to another project's key: 404, not 403", async () => {
    const a = await key((await project('team-a')).id, ['read', 'write', 'runner']);
    const b = await key((await project('team-b')).id, ['read', 'write', 'runner']);
    const study = await json(post('/v1/studies', { name: 'a-study', space: SPACE }, a.secret));
    const runnerStudy = await json(
      post(
        '/v1/studies',
        { name: 'a-runner', space: SPACE, executor: { kind: 'runner' } },
        a.secret,
      ),
    );
    await post(`/v1/studies/${study.id}/ask`, {}, a.secret);
    const lrt = await json(post('/v1/lr-range-tests', smallRequest(), a.secret));
    expect(lrt.id).toMatch(/^lrt_/);
    const calls: [string, string, unknown?][] = [
      ['GET', `/v1/studies/${study.id}`],
      ['GET', `/v1/studies/${study.id}/trials`],
      ['POST', `/v1/studies/${study.id}/ask`, {}],
      ['POST', `/v1/studies/${study.id}/trials`, { params: { lr: 0.1 } }],
      ['POST', `/v1/studies/${study.id}/trials/0/report`, { step: 1, value: 1 }],
      ['POST', `/v1/studies/${study.id}/trials/0/tell`, { value: 1 }],
      ['POST', `/v1/studies/${runnerStudy.id}/run`, {}],
      ['POST', '/v1/runners/lease', { study_id: runnerStudy.id }],
      ['POST', `/v1/studies/${runnerStudy.id}/trials/0/heartbeat`, { lease_token: 'lease_x' }],
      ['GET', `/v1/lr-range-tests/${lrt.id}`],
    ];
    for (const [method, path, body] of calls) {
      const res = await api(path, { method, body, key: b.secret });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // Lists and lease scans see only their own project.
    const listB = await json(api('/v1/studies', { key: b.secret }));
    expect(listB.studies.map((s: any) => s.id)).not.toContain(study.id);
    const listA = await json(api('/v1/studies', { key: a.secret }));
    expect(listA.studies.map((s: any) => s.id)).toContain(study.id);
    expect((await post('/v1/runners/lease', {}, b.secret)).status).toBe(204);
    // The same range test request in project B runs (or caches) for B, under its own id.
    const lrtB = await json(post('/v1/lr-range-tests', smallRequest(), b.secret));
    expect(lrtB.id).not.toBe(lrt.id);
    expect(lrtB.cached).toBe(false);
    // The development key's (default) project does not see them either.
    expect((await api(`/v1/studies/${study.id}`)).status).toBe(404);
    // And A still has everything.
    expect((await api(`/v1/studies/${study.id}`, { key: a.secret })).status).toBe(200);
  });

  it('scopes: read cannot write, runner only leases and reports, and each says so', async () => {
    const p = await project('scopes');
    const writer = await key(p.id, ['read', 'write']);
    const reader = await key(p.id, ['read']);
    const runner = await key(p.id, ['runner']);
    const study = await json(
      post('/v1/studies', { name: 's', space: SPACE, executor: { kind: 'runner' } }, writer.secret),
    );
    expect((await api(`/v1/studies/${study.id}`, { key: reader.secret })).status).toBe(200);
    const denied = await post('/v1/studies', { name: 's', space: SPACE }, reader.secret);
    expect(denied.status).toBe(403);
    expect((await denied.json()) as any).toMatchObject({
      detail: expect.stringContaining("lacks the 'write' scope"),
    });
    const g = await json(post('/v1/runners/lease', { study_id: study.id }, runner.secret));
    expect(
      (
        await post(
          `/v1/studies/${study.id}/trials/0/tell`,
          { value: 1, lease_token: g.lease.token },
          runner.secret,
        )
      ).status,
    ).toBe(200);
    expect((await api(`/v1/studies/${study.id}`, { key: runner.secret })).status).toBe(403);
    // Keys and projects need admin.
    expect((await post('/v1/keys', { name: 'x', scopes: ['read'] }, writer.secret)).status).toBe(
      403,
    );
    // The admin token manages keys, and calls nothing else.
    const adminOnStudies = await api('/v1/studies', { key: ADMIN });
    expect(adminOnStudies.status).toBe(403);
    expect(((await adminOnStudies.json()) as any).detail).toMatch(
      /admin token manages projects and keys/,
    );
  });

  it('an admin key manages the keys of its own project only', async () => {
    const p = await project('self-serve');
    const other = await project('someone-else');
    const admin = await key(p.id, ['admin']);
    const made = await json(
      post('/v1/keys', { name: 'ci', scopes: ['read', 'write'] }, admin.secret),
    );
    expect(made.project_id).toBe(p.id);
    expect(
      (await post('/v1/keys', { project_id: other.id, name: 'x', scopes: ['read'] }, admin.secret))
        .status,
    ).toBe(404);
    expect((await api(`/v1/keys?project_id=${other.id}`, { key: admin.secret })).status).toBe(404);
    const otherKey = await key(other.id, ['read']);
    expect(
      (await api(`/v1/keys/${otherKey.id}`, { method: 'DELETE', key: admin.secret })).status,
    ).toBe(404);
    // Projects: only the admin token creates them.
    expect((await post('/v1/projects', { name: 'nope' }, admin.secret)).status).toBe(403);
  });

  it('revocation takes effect at once', async () => {
    const k = await key((await project('revoke')).id, ['read', 'write']);
    expect((await api('/v1/studies', { key: k.secret })).status).toBe(200);
    const revoked = await json(api(`/v1/keys/${k.id}`, { method: 'DELETE', key: ADMIN }));
    expect(revoked.revoked_at).toBeTruthy();
    const after = await api('/v1/studies', { key: k.secret });
    expect(after.status).toBe(401);
    expect(((await after.json()) as any).detail).toMatch(/not valid \(or was revoked\)/);
  });

  it('rate limits the expensive calls per key with 429 and Retry-After', async () => {
    const p = await project('limited');
    const k = await key(p.id, ['read', 'write'], { rate_limit_per_minute: 2 });
    const other = await key(p.id, ['read', 'write'], { rate_limit_per_minute: 2 });
    for (let i = 0; i < 2; i++)
      expect((await post('/v1/studies', { name: `s${i}`, space: SPACE }, k.secret)).status).toBe(
        201,
      );
    const limited = await post('/v1/studies', { name: 's3', space: SPACE }, k.secret);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/problem\+json/);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(30);
    expect(((await limited.json()) as any).detail).toMatch(/2 expensive calls .* a minute/);
    // Range tests share the budget; cheap calls do not count; other keys have their own.
    expect((await post('/v1/lr-range-tests', smallRequest(), k.secret)).status).toBe(429);
    expect((await api('/v1/studies', { key: k.secret })).status).toBe(200);
    expect((await post('/v1/studies', { name: 'o', space: SPACE }, other.secret)).status).toBe(201);
  });

  it('validates key and project bodies with paths, and 401s a wrong admin token', async () => {
    const p = await project('validation');
    const bad = await post(
      '/v1/keys',
      { project_id: p.id, name: 'x', scopes: ['read', 'root'] },
      ADMIN,
    );
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors[0].path).toBe('scopes.1');
    const noProject = await post('/v1/keys', { name: 'x', scopes: ['read'] }, ADMIN);
    expect(noProject.status).toBe(422);
    expect(((await noProject.json()) as any).errors[0].path).toBe('project_id');
    expect(
      (await post('/v1/keys', { project_id: 'prj_nope', name: 'x', scopes: ['read'] }, ADMIN))
        .status,
    ).toBe(404);
    expect((await post('/v1/projects', { name: 'x' }, 'wrong-admin-token')).status).toBe(401);
  });
});

/** A response's problem+json body and the headers a client acts on. */
async function problem(res: Response | Promise<Response>) {
  const r = await res;
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const { request_id, ...body } = (await r.json()) as Record<string, unknown>;
  expect(request_id).toEqual(expect.any(String));
  return {
    body,
    wwwAuthenticate: r.headers.get('www-authenticate'),
    retryAfter: r.headers.get('retry-after'),
  };
}

describe('the problems of auth (401, 403, 429): bodies and headers', () => {
  it('401: type unauthorized, with WWW-Authenticate naming the bearer scheme', async () => {
    const challenge = 'Bearer realm="stride"';
    for (const [init, detail] of [
      [{ key: null }, 'send your API key as Authorization: Bearer <key>'],
      [
        { key: null, headers: { Authorization: 'Basic abc' } },
        'the Authorization header must be: Bearer <key>',
      ],
      [{ key: 'sk_not_a_key' }, 'the API key is not valid (or was revoked)'],
    ] as const) {
      expect(await problem(api('/v1/studies', init))).toEqual({
        body: {
          type: 'https://stride.dev/problems/unauthorized',
          title: 'Unauthorized',
          status: 401,
          detail,
          instance: '/v1/studies',
        },
        wwwAuthenticate: challenge,
        retryAfter: null,
      });
    }
  });

  it('403: type forbidden, without a challenge', async () => {
    const p = await project('auth-problems-403');
    const reader = await key(p.id, ['read']);
    expect(await problem(post('/v1/studies', { name: 's', space: SPACE }, reader.secret))).toEqual({
      body: {
        type: 'https://stride.dev/problems/forbidden',
        title: 'Forbidden',
        status: 403,
        detail: "this key lacks the 'write' scope for POST /v1/studies (it has: read)",
        instance: '/v1/studies',
      },
      wwwAuthenticate: null,
      retryAfter: null,
    });
  });

  it('429: type rate-limited, with Retry-After in seconds matching the detail', async () => {
    const p = await project('auth-problems-429');
    const k = await key(p.id, ['read', 'write'], { rate_limit_per_minute: 1 });
    expect((await post('/v1/studies', { name: 'a', space: SPACE }, k.secret)).status).toBe(201);
    const limited = await problem(post('/v1/studies', { name: 'b', space: SPACE }, k.secret));
    expect(limited.retryAfter).toMatch(/^[1-9][0-9]*$/);
    expect(limited).toEqual({
      body: {
        type: 'https://stride.dev/problems/rate-limited',
        title: 'Too Many Requests',
        status: 429,
        detail: `this key may make 1 expensive calls (range tests, study creation) a minute; try again in ${limited.retryAfter} s`,
        instance: '/v1/studies',
      },
      wwwAuthenticate: null,
      retryAfter: limited.retryAfter,
    });
  });
});

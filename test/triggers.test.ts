// Webhook-triggered studies: templates, triggers, GitHub and Standard Webhooks
// signatures (against known vectors and fresh ones), filters, duplicates.
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { SELF } from 'cloudflare:test';
import { verify as verifyGithub } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { api, json, post } from './helpers';

const enc = new TextEncoder();

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(message)));
}
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** Sign like GitHub: X-Hub-Signature-256 = sha256=<hex HMAC(secret, body)>. */
async function githubHook(
  triggerId: string,
  secret: string,
  event: string,
  payload: unknown,
  delivery: string,
  badSig = false,
) {
  const body = JSON.stringify(payload);
  const sig = `sha256=${hex(await hmac(enc.encode(badSig ? secret + 'x' : secret), body))}`;
  return api(`/hooks/${triggerId}`, {
    raw: body,
    key: null,
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': sig,
    },
  });
}

/** Sign like Standard Webhooks: v1,<base64 HMAC(base64-decoded secret, "id.timestamp.body")>, over the body's bytes. */
async function standardHook(
  triggerId: string,
  secret: string,
  payload: unknown,
  id: string,
  at = new Date(),
) {
  return standardHookRaw(triggerId, secret, enc.encode(JSON.stringify(payload)), id, at);
}

async function standardHookRaw(
  triggerId: string,
  secret: string,
  body: Uint8Array,
  id: string,
  at = new Date(),
) {
  const ts = String(Math.floor(at.getTime() / 1000));
  const key = Uint8Array.from(atob(secret.replace(/^whsec_/, '')), (c) => c.charCodeAt(0));
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const signed = new Uint8Array([...enc.encode(`${id}.${ts}.`), ...body]);
  const sig = `v1,${b64(new Uint8Array(await crypto.subtle.sign('HMAC', k, signed)))}`;
  return SELF.fetch(`https://stride.test/hooks/${triggerId}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': sig,
    },
  });
}

const TEMPLATE = {
  name: 'ci-{{repository}}-{{sha}}',
  space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
  max_trials: 5,
  metadata: {
    commit: '{{sha}}',
    ref: '{{ref}}',
    note: 'from {{event}} by {{sender}}',
    nested: { branch: '{{branch}}' },
  },
};

async function trigger(kind: 'github' | 'standard', filter: Record<string, unknown>) {
  const tpl = await json(post('/v1/templates', { name: 'ci', study: TEMPLATE }));
  expect(tpl.id).toMatch(/^tpl_/);
  const res = await post('/v1/triggers', { template_id: tpl.id, kind, filter });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}

describe('signature verification against known vectors', () => {
  it("GitHub's documented example verifies, a changed body does not", async () => {
    const secret = "It's a Secret to Everybody";
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(await verifyGithub(secret, 'Hello, World!', sig)).toBe(true);
    expect(await verifyGithub(secret, 'Hello, World?', sig)).toBe(false);
    expect(`sha256=${hex(await hmac(enc.encode(secret), 'Hello, World!'))}`).toBe(sig);
  });

  it("the Standard Webhooks specification's example signs as documented", () => {
    const wh = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(
      wh.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}'),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('webhook-triggered studies', () => {
  it('a verified GitHub push to a matching branch creates the study from the template, once per delivery', async () => {
    const t = await trigger('github', { events: ['push'], branches: ['main'] });
    expect(t).toMatchObject({
      kind: 'github',
      url: `/hooks/${t.id}`,
      filter: { events: ['push'], branches: ['main'], labels: [], actions: [] },
    });
    expect(t.secret.length).toBeGreaterThanOrEqual(16);
    const push = {
      ref: 'refs/heads/main',
      after: 'abc123',
      repository: { full_name: 'acme/model' },
      sender: { login: 'ada' },
    };
    const res = await githubHook(t.id, t.secret, 'push', push, 'delivery-1');
    expect(res.status).toBe(202);
    const a = (await res.json()) as any;
    expect(a).toMatchObject({ status: 'created', delivery_id: 'delivery-1' });
    const study = await json(api(`/v1/studies/${a.study_id}`));
    expect(study.name).toBe('ci-acme/model-abc123');
    expect(study.metadata).toEqual({
      commit: 'abc123',
      ref: 'refs/heads/main',
      note: 'from push by ada',
      nested: { branch: 'main' },
      trigger: { id: t.id, delivery: 'delivery-1', event: 'push' },
    });
    expect(study.max_trials).toBe(5);
    // Redelivered (GitHub retries, or a person clicks "Redeliver"): the same study, no second one.
    const again = await json(githubHook(t.id, t.secret, 'push', push, 'delivery-1'));
    expect(again).toEqual(a);
    const all = await json(api('/v1/studies?limit=100'));
    expect(
      all.studies.filter((s: any) => s.metadata?.trigger?.delivery === 'delivery-1'),
    ).toHaveLength(1);
    // The trigger reads back without its secret.
    const read = await json(api(`/v1/triggers/${t.id}`));
    expect(read.secret).toBeUndefined();
  });

  it('ignores non-matching events with the reason, and 401s bad or missing signatures', async () => {
    const t = await trigger('github', { events: ['push'], branches: ['main'] });
    const feature = await githubHook(
      t.id,
      t.secret,
      'push',
      { ref: 'refs/heads/feature', after: 'f00' },
      'd-feature',
    );
    expect(feature.status).toBe(202);
    expect(await feature.json()).toEqual({
      status: 'ignored',
      reason: "branch 'feature' is not one of main",
      delivery_id: 'd-feature',
    });
    expect(
      await json(githubHook(t.id, t.secret, 'issues', { action: 'opened' }, 'd-issue')),
    ).toMatchObject({ status: 'ignored', reason: "event 'issues' is not one of push" });
    const bad = await githubHook(t.id, t.secret, 'push', { ref: 'refs/heads/main' }, 'd-bad', true);
    expect(bad.status).toBe(401);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    const missing = await api(`/hooks/${t.id}`, {
      raw: '{}',
      key: null,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'x',
      },
    });
    expect(missing.status).toBe(401);
    expect(
      (await api('/hooks/trg_00000000000000000000000000', { raw: '{}', key: null })).status,
    ).toBe(404);
    // A delivery over 1 MB is refused before anything else.
    const huge = await api(`/hooks/${t.id}`, {
      raw: JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
      key: null,
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.status).toBe(413);
  });

  it('filters pull requests by label and action', async () => {
    const t = await trigger('github', {
      events: ['pull_request'],
      actions: ['labeled'],
      labels: ['tune'],
    });
    const pr = (label: string) => ({
      action: 'labeled',
      label: { name: label },
      number: 7,
      pull_request: {
        number: 7,
        head: { sha: 'beef', ref: 'feat' },
        base: { ref: 'main' },
        labels: [{ name: label }],
      },
      repository: { full_name: 'acme/model' },
      sender: { login: 'ada' },
    });
    expect(
      await json(githubHook(t.id, t.secret, 'pull_request', pr('docs'), 'pr-1')),
    ).toMatchObject({ status: 'ignored', reason: expect.stringContaining('labels') });
    const created = await json(githubHook(t.id, t.secret, 'pull_request', pr('tune'), 'pr-2'));
    expect(created.status).toBe('created');
    expect((await json(api(`/v1/studies/${created.study_id}`))).name).toBe('ci-acme/model-beef');
  });

  it('verifies Standard Webhooks, refuses stale timestamps and wrong secrets, and dedupes by webhook-id', async () => {
    const t = await trigger('standard', { events: ['model.pushed'] });
    expect(t.secret).toMatch(/^whsec_/);
    const payload = {
      type: 'model.pushed',
      timestamp: new Date().toISOString(),
      data: { repository: 'acme/registry', sha: '42', ref: 'v2', sender: 'ci' },
    };
    const a = await json(standardHook(t.id, t.secret, payload, 'msg_1'));
    expect(a).toMatchObject({ status: 'created' });
    expect((await json(api(`/v1/studies/${a.study_id}`))).name).toBe('ci-acme/registry-42');
    expect(await json(standardHook(t.id, t.secret, payload, 'msg_1'))).toEqual(a);
    const stale = await standardHook(
      t.id,
      t.secret,
      payload,
      'msg_2',
      new Date(Date.now() - 10 * 60_000),
    );
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as any).detail).toMatch(/does not verify/);
    const wrong = await standardHook(
      t.id,
      'whsec_' + btoa('another secret, 24 bytes!'),
      payload,
      'msg_3',
    );
    expect(wrong.status).toBe(401);
    expect(
      await json(standardHook(t.id, t.secret, { ...payload, type: 'model.deleted' }, 'msg_4')),
    ).toMatchObject({ status: 'ignored' });
  });

  it('validates templates and triggers with paths, and keeps them per project', async () => {
    const bad = await post('/v1/templates', {
      name: 'x',
      study: { ...TEMPLATE, space: { lr: { type: 'float', low: 1, high: 0 } } },
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors[0].path).toMatch(/^study\.space\.lr/);
    const noName = await post('/v1/templates', { name: 'x', study: { space: TEMPLATE.space } });
    expect(noName.status).toBe(422);
    expect(((await noName.json()) as any).errors[0].path).toBe('study.name');
    // An edge template is checked like an edge study: max_trials is required.
    const edgeNoMax = await post('/v1/templates', {
      name: 'x',
      study: {
        name: 'e',
        space: TEMPLATE.space,
        executor: { kind: 'edge', probe: { data: { kind: 'synthetic', name: 'blobs' } } },
      },
    });
    expect(edgeNoMax.status).toBe(422);
    expect(((await edgeNoMax.json()) as any).errors.map((e: any) => e.path)).toContain(
      'study.max_trials',
    );
    // ... and its pruner and sampler like a study's: a hyperband pruner needs max_resource.
    const hyperband = await post('/v1/templates', {
      name: 'x',
      study: { ...TEMPLATE, pruner: { name: 'hyperband' } },
    });
    expect(hyperband.status).toBe(422);
    expect(((await hyperband.json()) as any).errors.map((e: any) => e.path)).toContain(
      'study.pruner.max_resource',
    );
    const badSampler = await post('/v1/templates', {
      name: 'x',
      study: { ...TEMPLATE, sampler: { name: 'tpe', n_startup_trials: -1 } },
    });
    expect(badSampler.status).toBe(422);
    expect(((await badSampler.json()) as any).errors.map((e: any) => e.path)).toContain(
      'study.sampler.n_startup_trials',
    );
    // Several objectives in a template, checked as in a study: the mixed form and a pruner are refused, the rest taken.
    const mixed = await post('/v1/templates', {
      name: 'x',
      study: { ...TEMPLATE, direction: 'minimize', directions: ['minimize', 'maximize'] },
    });
    expect(mixed.status).toBe(422);
    expect(((await mixed.json()) as any).errors.map((e: any) => e.path)).toContain(
      'study.direction',
    );
    const moPruner = await post('/v1/templates', {
      name: 'x',
      study: { ...TEMPLATE, directions: ['minimize', 'maximize'], pruner: { name: 'median' } },
    });
    expect(moPruner.status).toBe(422);
    expect(((await moPruner.json()) as any).errors.map((e: any) => e.path)).toContain(
      'study.pruner',
    );
    expect(
      (
        await post('/v1/templates', {
          name: 'x',
          study: { ...TEMPLATE, directions: ['minimize', 'maximize'], metrics: ['loss', 'acc'] },
        })
      ).status,
    ).toBe(201);
    const noTpl = await post('/v1/triggers', { template_id: 'tpl_nope', kind: 'github' });
    expect(noTpl.status).toBe(422);
    expect(((await noTpl.json()) as any).errors[0].path).toBe('template_id');
    const t = await trigger('github', {});
    const p = await json(post('/v1/projects', { name: 'other-hooks' }, env.STRIDE_ADMIN_TOKEN));
    const k = await json(
      post(
        '/v1/keys',
        { project_id: p.id, name: 'k', scopes: ['read', 'write'] },
        env.STRIDE_ADMIN_TOKEN,
      ),
    );
    expect((await api(`/v1/triggers/${t.id}`, { key: k.secret })).status).toBe(404);
    expect((await api(`/v1/templates/${t.template_id}`, { key: k.secret })).status).toBe(404);
  });

  it('validates subscriptions with paths and keeps them per project', async () => {
    const bad = await post('/v1/subscriptions', {
      url: 'ftp://x',
      events: ['study.completed', 'study.exploded'],
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors.map((e: any) => e.path).sort()).toEqual([
      'events.1',
      'url',
    ]);
    const noStudy = await post('/v1/subscriptions', {
      url: 'https://example.com/hook',
      study_id: 'std_00000000000000000000000000',
    });
    expect(noStudy.status).toBe(422);
    expect(((await noStudy.json()) as any).errors[0].path).toBe('study_id');
    const sub = await json(post('/v1/subscriptions', { url: 'https://example.com/hook' }));
    expect(sub).toMatchObject({
      state: 'active',
      events: ['study.completed', 'study.best_improved', 'trial.failed'],
      study_id: null,
    });
    expect((await json(api(`/v1/subscriptions/${sub.id}`))).secret).toBeUndefined();
    expect((await json(api(`/v1/subscriptions/${sub.id}/deliveries`))).deliveries).toEqual([]);
    const p = await json(post('/v1/projects', { name: 'other-subs' }, env.STRIDE_ADMIN_TOKEN));
    const k = await json(
      post(
        '/v1/keys',
        { project_id: p.id, name: 'k', scopes: ['read', 'write'] },
        env.STRIDE_ADMIN_TOKEN,
      ),
    );
    expect((await api(`/v1/subscriptions/${sub.id}`, { key: k.secret })).status).toBe(404);
    expect((await json(api('/v1/subscriptions', { key: k.secret }))).subscriptions).toEqual([]);
  });

  it('checks the signature over the raw bytes first: a signed body that is not JSON is a 400, an unsigned one a 401', async () => {
    const t = await trigger('standard', {});
    const notJson = await standardHookRaw(t.id, t.secret, enc.encode('this is not json'), 'raw-1');
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await notJson.json()) as any).detail).toMatch(/not JSON/);
    // Bytes that are not UTF-8: signed as they are, refused as not JSON (not as a bad signature).
    const notUtf8 = await standardHookRaw(
      t.id,
      t.secret,
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      'raw-2',
    );
    expect(notUtf8.status).toBe(400);
    // The same non-JSON body with a wrong signature is refused for the signature.
    const wrong = await standardHookRaw(
      t.id,
      'whsec_' + btoa('another secret, 24 bytes!'),
      enc.encode('this is not json'),
      'raw-3',
    );
    expect(wrong.status).toBe(401);
    // GitHub: a signed non-JSON body is a 400 too.
    const g = await trigger('github', {});
    const sig = `sha256=${hex(await hmac(enc.encode(g.secret), 'nope'))}`;
    const gh = await api(`/hooks/${g.id}`, {
      raw: 'nope',
      key: null,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'g-raw',
        'x-hub-signature-256': sig,
      },
    });
    expect(gh.status).toBe(400);
  });

  it('a placeholder the event lacks fails the delivery with a 422 that redeliveries repeat', async () => {
    const t = await trigger('standard', {});
    // TEMPLATE uses {{sender}}: this event has no sender.
    const payload = {
      type: 'model.pushed',
      data: { repository: 'acme/registry', sha: '43', ref: 'v3' },
    };
    const first = await standardHook(t.id, t.secret, payload, 'msg_missing');
    expect(first.status).toBe(422);
    const a = (await first.json()) as any;
    expect(a.detail).toBe('placeholder {{sender}} not in the event');
    expect(a.delivery_id).toBe('msg_missing');
    const again = await standardHook(t.id, t.secret, payload, 'msg_missing');
    expect(again.status).toBe(422);
    const b = (await again.json()) as any;
    expect({ ...b, request_id: null }).toEqual({ ...a, request_id: null });
    const all = await json(api('/v1/studies?limit=100'));
    expect(all.studies.filter((s: any) => s.metadata?.trigger?.delivery === 'msg_missing')).toEqual(
      [],
    );
  });

  it('a filled template that makes no valid study answers 422 on every redelivery, not 202 ignored the second time', async () => {
    const tpl = await json(
      post('/v1/templates', {
        name: 'long',
        study: { name: 'run-{{sha}}', space: TEMPLATE.space },
      }),
    );
    const t = await json(post('/v1/triggers', { template_id: tpl.id, kind: 'standard' }));
    // The filled name is over 200 characters.
    const payload = { type: 'push', data: { sha: 'x'.repeat(300) } };
    const first = await standardHook(t.id, t.secret, payload, 'msg_long');
    expect(first.status).toBe(422);
    const a = (await first.json()) as any;
    expect(a.detail).toMatch(/^the filled template is not a valid study: template\.name: /);
    const again = await standardHook(t.id, t.secret, payload, 'msg_long');
    expect(again.status).toBe(422);
    expect(((await again.json()) as any).detail).toBe(a.detail);
  });

  it('a GitHub trigger refuses a template with a placeholder GitHub events never fill, suggesting the close one', async () => {
    const tpl = await json(
      post('/v1/templates', {
        name: 'typo',
        study: { name: 'run-{{shaa}}', space: TEMPLATE.space },
      }),
    );
    const res = await post('/v1/triggers', { template_id: tpl.id, kind: 'github' });
    expect(res.status).toBe(422);
    const p = (await res.json()) as any;
    expect(p.errors).toEqual([
      {
        path: 'template_id',
        message:
          "the template's placeholder {{shaa}} is not filled by GitHub events: did you mean {{sha}}?",
      },
    ]);
    // A Standard Webhooks trigger takes it: its events' data fields are the sender's to choose.
    expect((await post('/v1/triggers', { template_id: tpl.id, kind: 'standard' })).status).toBe(
      201,
    );
  });

  it('starts an edge study at once when its event arrives', async () => {
    const tpl = await json(
      post('/v1/templates', {
        name: 'edge',
        study: {
          name: 'edge-{{sha}}',
          space: { lr: { type: 'float', low: 0.01, high: 1, log: true } },
          max_trials: 2,
          executor: {
            kind: 'edge',
            epochs: 2,
            probe: {
              model: { hidden: [8] },
              optimizer: { name: 'sgd' },
              batch_size: 16,
              data: { kind: 'synthetic', name: 'blobs', n: 128, features: 2, classes: 2 },
            },
          },
        },
      }),
    );
    const t = await json(post('/v1/triggers', { template_id: tpl.id, kind: 'github' }));
    const a = await json(
      githubHook(t.id, t.secret, 'push', { ref: 'refs/heads/main', after: 'e1' }, 'edge-1'),
    );
    const t0 = Date.now();
    let s: any;
    do {
      await new Promise((r) => setTimeout(r, 100));
      s = await json(api(`/v1/studies/${a.study_id}`));
    } while (s.state !== 'completed' && Date.now() - t0 < 60_000);
    expect(s).toMatchObject({ name: 'edge-e1', state: 'completed', n_trials: 2 });
  });
});

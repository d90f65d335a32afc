// The OpenAPI document is exact: a scenario against the local Worker calls every operation it
// lists (found by operationId; the test fails if one is left out), with successes and errors (401
// without a key, 403 for the wrong key, 404 unknown ids, 422 bad bodies, parameters and over-long
// ids, 400 non-JSON bodies, 413 over-size bodies, 415 other media types, 409, 429), and checks each
// answer: its status is listed for the operation, its media type is declared, its body validates
// against the declared schema (JSON Schema 2020-12, as OpenAPI 3.1 has it), and the headers it
// carries (Retry-After, WWW-Authenticate, X-Request-Id, Server-Timing) are declared.
import { createHmac } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY, RUNNER_KEY, URL } from './helpers';

const ADMIN = 'local-admin-token'; // scripts/local-worker.mjs
const DOC_ID = 'https://stride.test/openapi.json';

let doc: any;
let ajv: InstanceType<typeof Ajv2020>;
const ops = new Map<string, { method: string; path: string; op: any; pattern: RegExp }>();
const seen = new Map<string, Set<number>>();
const validators = new Map<string, ReturnType<InstanceType<typeof Ajv2020>['compile']>>();

/** The validator of a schema of the document, its `#/components/...` refs resolved against the document. */
function validatorFor(key: string, schema: unknown) {
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${DOC_ID}#/components/`)),
    );
    validators.set(key, v);
  }
  return v;
}

interface CallInit {
  body?: unknown;
  raw?: string | Uint8Array;
  contentType?: string;
  /** The bearer key (default the development key); null for none. */
  key?: string | null;
  headers?: Record<string, string>;
}

/** Call operation `opId` at `url` and check the answer against the document; `expected` is the status the scenario means to get. */
async function call(
  opId: string,
  url: string,
  expected: number,
  init: CallInit = {},
): Promise<any> {
  const o = ops.get(opId);
  expect(o, `operation ${opId} is in the document`).toBeTruthy();
  expect(url.split('?')[0], opId).toMatch(o!.pattern);
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) headers.Authorization = `Bearer ${init.key ?? KEY}`;
  let body: string | Uint8Array | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers['Content-Type'] = init.contentType ?? 'application/json';
  const res = await fetch(URL + url, { method: o!.method.toUpperCase(), headers, body });
  const text = await res.text();
  const where = `${opId}: ${o!.method.toUpperCase()} ${url} answered ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBe(expected);
  const declared = o!.op.responses[String(res.status)];
  expect(declared, `${where}: the document does not list ${res.status} for ${opId}`).toBeTruthy();
  for (const h of ['Retry-After', 'WWW-Authenticate', 'X-Request-Id', 'Server-Timing']) {
    if (res.headers.get(h) !== null)
      expect(declared.headers?.[h], `${where}: ${h} is sent but not declared`).toBeTruthy();
  }
  expect(res.headers.get('X-Request-Id'), where).toBeTruthy();
  // total on every answer; a successful ask, ask-batch or tell adds the coordinator's shares
  // (src/api/timing.ts).
  expect(res.headers.get('Server-Timing'), where).toMatch(
    res.ok && ['askTrial', 'askTrials', 'tellTrial'].includes(opId)
      ? /^total;dur=[0-9.]+, sampler;dur=[0-9.]+, storage;dur=[0-9.]+$/
      : /^total;dur=[0-9.]+$/,
  );
  if (res.headers.get('Retry-After') !== null)
    expect(res.headers.get('Retry-After'), where).toMatch(/^[0-9]+$/);
  let parsed: any = null;
  if (!declared.content) {
    expect(text, `${where}: no body is declared`).toBe('');
  } else {
    const media = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    expect(Object.keys(declared.content), `${where}: media type ${media}`).toContain(media);
    parsed = JSON.parse(text);
    const validate = validatorFor(`${opId} ${res.status} ${media}`, declared.content[media].schema);
    expect(validate(parsed), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  if (!seen.has(opId)) seen.set(opId, new Set());
  seen.get(opId)!.add(res.status);
  return parsed;
}

const LONG_ID = 'x'.repeat(65);
const SPACE = { lr: { type: 'float', low: 1e-4, high: 1, log: true } };
const TINY_PROBE = {
  model: { hidden: [8] },
  data: { kind: 'synthetic', name: 'blobs', n: 64, features: 2, classes: 2 },
  optimizer: { name: 'sgd' },
  batch_size: 16,
};

beforeAll(async () => {
  doc = await (await fetch(`${URL}/openapi.json`)).json();
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: DOC_ID, components: doc.components });
  for (const [p, item] of Object.entries(doc.paths) as [string, Record<string, any>][]) {
    for (const [method, op] of Object.entries(item)) {
      ops.set(op.operationId, {
        method,
        path: p,
        op,
        pattern: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      });
    }
  }
});

describe('the OpenAPI document is exact', () => {
  it('names every operation, types request defaults as optional and Trial as never null', () => {
    const all = Object.values(doc.paths).flatMap((item: any) => Object.values(item)) as any[];
    expect(all.length).toBe(43);
    const idsOf = all.map((op) => op.operationId);
    for (const id of idsOf) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
    expect(new Set(idsOf).size).toBe(idsOf.length);
    expect(idsOf).toEqual(
      expect.arrayContaining(['createStudy', 'askTrial', 'tellTrial', 'leaseTrial', 'receiveHook']),
    );
    // Code generators (openapi-typescript's defaultNonNullable) type a property with `default` as
    // always present: no schema a request uses may have one, or the README's minimal body is refused.
    const reached = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'default')
            throw new Error(
              `a request schema has a default: ${JSON.stringify(node).slice(0, 200)}`,
            );
          if (k === '$ref' && typeof v === 'string' && !reached.has(v)) {
            reached.add(v);
            walk(doc.components.schemas[v.split('/').pop()!]);
          } else if (k !== 'properties') walk(v);
          else for (const p of Object.values(v as object)) walk(p); // a property may be called "default"
        }
      }
    };
    for (const op of all) walk([op.requestBody, op.parameters]);
    expect([...reached]).toEqual(
      expect.arrayContaining([
        '#/components/schemas/StudyCreate',
        '#/components/schemas/Executor',
        '#/components/schemas/Probe',
        '#/components/schemas/Model',
      ]),
    );
    // space defaults to {} (define-by-run): only the name is required.
    expect(doc.components.schemas.StudyCreate.required).toEqual(['name']);
    const validate = validatorFor('StudyCreate', { $ref: '#/components/schemas/StudyCreate' });
    expect(validate({ name: 'mlp-lr', space: SPACE })).toBe(true);
    expect(validate({ name: 'define-by-run' })).toBe(true);
    // Answers keep their defaults: always present there.
    expect(doc.components.schemas.Trial.type).toBe('object');
    expect(doc.components.schemas.Study.properties.best_trial).toEqual({
      anyOf: [{ $ref: '#/components/schemas/Trial' }, { type: 'null' }],
    });
    expect(
      doc.paths['/v1/runners/lease'].post.responses['204'].headers['Retry-After'],
    ).toBeTruthy();
    expect(doc.paths['/v1/studies'].post.responses['429'].headers['Retry-After']).toBeTruthy();
  });

  it('every operation answers as documented, successes and errors', async () => {
    // --- projects and keys (the admin token) ---
    const project = await call('createProject', '/v1/projects', 201, {
      key: ADMIN,
      body: { name: `contract-${Date.now()}` },
    });
    await call('createProject', '/v1/projects', 409, { key: ADMIN, body: { name: project.name } });
    await call('createProject', '/v1/projects', 400, {
      key: ADMIN,
      raw: '{"name":',
      contentType: 'application/json',
    });
    await call('createProject', '/v1/projects', 415, {
      key: ADMIN,
      raw: 'name=x',
      contentType: 'application/x-www-form-urlencoded',
    });
    await call('createProject', '/v1/projects', 422, { key: ADMIN, body: { nmae: 'x' } });
    await call('createProject', '/v1/projects', 401, { key: null, body: { name: 'x' } });
    await call('createProject', '/v1/projects', 403, { body: { name: 'x' } });
    await call('listProjects', '/v1/projects', 200, { key: ADMIN });
    await call('listProjects', '/v1/projects?x=1', 422, { key: ADMIN });
    await call('listProjects', '/v1/projects', 401, { key: 'wrong' });
    const key = await call('createKey', '/v1/keys', 201, {
      key: ADMIN,
      body: {
        project_id: project.id,
        name: 'limited',
        scopes: ['read', 'write'],
        rate_limit_per_minute: 1,
      },
    });
    await call('createKey', '/v1/keys', 404, {
      key: ADMIN,
      body: { project_id: 'prj_nope', name: 'k' },
    });
    await call('createKey', '/v1/keys', 422, {
      key: ADMIN,
      body: { project_id: project.id, name: 'k', scopes: ['root'] },
    });
    await call('createKey', '/v1/keys', 400, { key: ADMIN, raw: 'nope' });
    await call('listKeys', `/v1/keys?project_id=${project.id}`, 200, { key: ADMIN });
    await call('listKeys', '/v1/keys?projectid=x', 422, { key: ADMIN });
    await call('listKeys', '/v1/keys', 403, { key: RUNNER_KEY });
    const spare = await call('createKey', '/v1/keys', 201, {
      key: ADMIN,
      body: { project_id: project.id, name: 'spare' },
    });
    await call('revokeKey', `/v1/keys/${spare.id}`, 200, { key: ADMIN });
    await call('revokeKey', '/v1/keys/key_nope', 404, { key: ADMIN });
    await call('revokeKey', `/v1/keys/${LONG_ID}`, 422, { key: ADMIN });
    await call('revokeKey', '/v1/keys/key_nope', 413, {
      key: ADMIN,
      raw: 'x'.repeat(8 * 1024 * 1024 + 1),
    });

    // --- studies: the README's minimal body, then ask and tell ---
    const study = await call('createStudy', '/v1/studies', 201, {
      body: { name: 'contract', space: SPACE, max_trials: 4 },
    });
    await call('createStudy', '/v1/studies', 422, { body: { name: 'x', space: { lr: {} } } });
    await call('createStudy', '/v1/studies', 400, { raw: '{' });
    await call('createStudy', '/v1/studies', 415, { raw: 'x', contentType: 'text/plain' });
    await call('createStudy', '/v1/studies', 413, { raw: 'x'.repeat(8 * 1024 * 1024 + 1) });
    await call('createStudy', '/v1/studies', 401, { key: null, body: { name: 'x', space: SPACE } });
    await call('createStudy', '/v1/studies', 403, {
      key: RUNNER_KEY,
      body: { name: 'x', space: SPACE },
    });
    // A key allowed one expensive call a minute: the second is a 429 with Retry-After.
    await call('createStudy', '/v1/studies', 201, {
      key: key.secret,
      body: { name: 'limited', space: SPACE },
    });
    await call('createStudy', '/v1/studies', 429, {
      key: key.secret,
      body: { name: 'limited', space: SPACE },
    });
    await call('listStudies', '/v1/studies?limit=5', 200);
    await call('listStudies', '/v1/studies?curser=x', 422);
    await call('listStudies', '/v1/studies?limit=0x5', 422);
    await call('getStudy', `/v1/studies/${study.id}`, 200);
    await call('getStudy', '/v1/studies/std_00000000000000000000000000', 404);
    await call('getStudy', `/v1/studies/${LONG_ID}`, 422);
    const t0 = await call('askTrial', `/v1/studies/${study.id}/ask`, 201);
    // A batch is its own operation; /ask refuses the count it once took for one.
    const batch = await call('askTrials', `/v1/studies/${study.id}/ask-batch`, 201, {
      body: { count: 2 },
    });
    expect(batch.trials).toHaveLength(2);
    await call('askTrial', `/v1/studies/${study.id}/ask`, 422, { body: { count: 2 } });
    await call('askTrial', `/v1/studies/${study.id}/ask`, 422, { body: { cuont: 2 } });
    await call('askTrials', `/v1/studies/${study.id}/ask-batch`, 422, { body: {} });
    await call('askTrials', `/v1/studies/${study.id}/ask-batch`, 400, { raw: '{' });
    await call('askTrials', '/v1/studies/std_00000000000000000000000000/ask-batch', 404, {
      body: { count: 1 },
    });
    await call('askTrial', `/v1/studies/${study.id}/ask`, 415, {
      raw: 'x',
      contentType: 'text/plain',
    });
    await call('askTrial', '/v1/studies/std_00000000000000000000000000/ask', 404);
    await call('enqueueTrial', `/v1/studies/${study.id}/trials`, 201, {
      body: { params: { lr: 0.01 } },
    });
    await call('enqueueTrial', `/v1/studies/${study.id}/trials`, 422, {
      body: { params: { lr: 'x' } },
    });
    await call('askTrial', `/v1/studies/${study.id}/ask`, 201); // the enqueued one, the fourth and last
    await call('askTrial', `/v1/studies/${study.id}/ask`, 409);
    await call('askTrials', `/v1/studies/${study.id}/ask-batch`, 409, { body: { count: 2 } });
    await call('listTrials', `/v1/studies/${study.id}/trials`, 200);
    await call('listTrials', `/v1/studies/${study.id}/trials?from=1&limit=1`, 200);
    await call('listTrials', `/v1/studies/${study.id}/trials?from=-1`, 422);
    const momentum = { type: 'float', low: 0, high: 1 };
    await call('suggestParam', `/v1/studies/${study.id}/trials/${t0.number}/params`, 200, {
      body: { name: 'momentum', distribution: momentum },
    });
    await call('suggestParam', `/v1/studies/${study.id}/trials/${t0.number}/params`, 409, {
      body: { name: 'momentum', distribution: { type: 'int', low: 0, high: 2 } },
    });
    await call('suggestParam', `/v1/studies/${study.id}/trials/${t0.number}/params`, 422, {
      body: { name: 'm', distribution: { type: 'float', low: 1, high: 0 } },
    });
    await call('suggestParam', '/v1/studies/std_00000000000000000000000000/trials/0/params', 404, {
      body: { name: 'm', distribution: momentum },
    });
    await call('setStudyAttrs', `/v1/studies/${study.id}/attrs`, 200, {
      body: { user_attrs: { team: 'a' } },
    });
    await call('setStudyAttrs', `/v1/studies/${study.id}/attrs`, 422, { body: { user_atrs: {} } });
    await call('setStudyAttrs', '/v1/studies/std_00000000000000000000000000/attrs', 404, {
      body: {},
    });
    await call('setTrialAttrs', `/v1/studies/${study.id}/trials/${t0.number}/attrs`, 200, {
      body: { user_attrs: { note: 'x' }, system_attrs: { s: 1 } },
    });
    await call('setTrialAttrs', `/v1/studies/${study.id}/trials/${t0.number}/attrs`, 422, {
      body: { user_attrs: [] },
    });
    await call('listTrials', '/v1/studies/std_00000000000000000000000000/trials', 404);
    await call('reportTrial', `/v1/studies/${study.id}/trials/${t0.number}/report`, 200, {
      body: { step: 1, value: 0.9 },
    });
    await call('reportTrial', `/v1/studies/${study.id}/trials/${t0.number}/report`, 200, {
      body: {
        points: [
          { step: 2, value: 0.8 },
          { step: 3, value: 0.7 },
        ],
      },
    });
    await call('reportTrial', `/v1/studies/${study.id}/trials/${t0.number}/report`, 409, {
      body: { points: [{ step: 3, value: 0.6 }] },
    });
    await call('reportTrial', `/v1/studies/${study.id}/trials/${t0.number}/report`, 422, {
      body: {
        points: [
          { step: 5, value: 0.5 },
          { step: 4, value: 0.4 },
        ],
      },
    });
    await call('reportTrial', `/v1/studies/${study.id}/trials/0x1/report`, 422, {
      body: { step: 1, value: 0.9 },
    });
    await call('reportTrial', `/v1/studies/${study.id}/trials/99/report`, 404, {
      body: { step: 1, value: 0.9 },
    });
    await call('tellTrial', `/v1/studies/${study.id}/trials/${t0.number}/tell`, 200, {
      body: { value: 0.5 },
    });
    await call('tellTrial', `/v1/studies/${study.id}/trials/${t0.number}/tell`, 409, {
      body: { value: 0.6 },
    });
    await call('tellTrial', `/v1/studies/${study.id}/trials/1/tell`, 422, { body: { valeu: 0.5 } });
    await call('tellTrial', `/v1/studies/${study.id}/trials/1/tell`, 400, {
      raw: '{"value": NaN}',
    });
    await call('tellTrial', `/v1/studies/${study.id}/trials/2/tell`, 200, {
      body: { state: 'failed', error: 'diverged' },
    });
    // An infinite value: told and answered as the string the document declares.
    const inf = await call('tellTrial', `/v1/studies/${study.id}/trials/1/tell`, 200, {
      body: { value: 'Infinity' },
    });
    expect([inf.value, inf.values]).toEqual(['Infinity', ['Infinity']]);
    await call('getStudy', `/v1/studies/${study.id}`, 200); // with a best_trial now
    await call('getImportance', `/v1/studies/${study.id}/importance`, 200);
    await call('getImportance', '/v1/studies/std_00000000000000000000000000/importance', 404);
    await call('getImportance', `/v1/studies/${study.id}/importance`, 401, { key: null });

    // --- notes: the study's and a trial's ---
    await call('putStudyNote', `/v1/studies/${study.id}/note`, 200, { body: { note: '# plan' } });
    await call('putStudyNote', `/v1/studies/${study.id}/note`, 422, { body: { note: 3 } });
    await call('putStudyNote', '/v1/studies/std_00000000000000000000000000/note', 404, {
      body: { note: 'x' },
    });
    await call('putTrialNote', `/v1/studies/${study.id}/trials/${t0.number}/note`, 200, {
      body: { note: 'diverged' },
    });
    await call('putTrialNote', `/v1/studies/${study.id}/trials/999/note`, 404, {
      body: { note: 'x' },
    });
    const notes = await call('getNotes', `/v1/studies/${study.id}/notes`, 200);
    expect(notes.study.note).toBe('# plan');
    expect(notes.trials.map((n: any) => n.trial)).toEqual([t0.number]);
    await call('getNotes', '/v1/studies/std_00000000000000000000000000/notes', 404);
    const summary = await call('getStudySummary', `/v1/studies/${study.id}/summary?curves=1`, 200);
    expect(summary.curves.length).toBeLessThanOrEqual(1);
    await call('getStudySummary', `/v1/studies/${study.id}/summary?curves=99999`, 422);
    await call('getStudySummary', '/v1/studies/std_00000000000000000000000000/summary', 404);

    // --- several objectives and constraints: values, constraints, sampler and best_trials as documented ---
    const mo = await call('createStudy', '/v1/studies', 201, {
      body: {
        name: 'contract-mo',
        space: SPACE,
        directions: ['minimize', 'maximize'],
        metrics: ['loss', 'acc'],
      },
    });
    expect(mo).toMatchObject({
      directions: ['minimize', 'maximize'],
      metrics: ['loss', 'acc'],
      best_trial: null,
      best_trials: [],
    });
    await call('createStudy', '/v1/studies', 422, {
      body: {
        name: 'x',
        space: SPACE,
        direction: 'minimize',
        directions: ['minimize', 'minimize'],
      },
    });
    const m0 = await call('askTrial', `/v1/studies/${mo.id}/ask`, 201);
    expect(typeof m0.sampler).toBe('string');
    await call('reportTrial', `/v1/studies/${mo.id}/trials/${m0.number}/report`, 409, {
      body: { step: 1, value: 0.9 },
    });
    await call('tellTrial', `/v1/studies/${mo.id}/trials/${m0.number}/tell`, 422, {
      body: { value: 0.5 },
    });
    await call('tellTrial', `/v1/studies/${mo.id}/trials/${m0.number}/tell`, 200, {
      body: { values: [0.5, 0.9], constraints: [-1] },
    });
    const moRead = await call('getStudy', `/v1/studies/${mo.id}`, 200);
    expect(moRead.best_trials.map((t: any) => [t.number, t.values, t.constraints])).toEqual([
      [m0.number, [0.5, 0.9], [-1]],
    ]);
    expect(
      (await call('getImportance', `/v1/studies/${mo.id}/importance?objective=1`, 200)).objective,
    ).toEqual({ index: 1, metric: 'acc' });
    await call('getImportance', `/v1/studies/${mo.id}/importance?objective=2`, 422);
    await call('getImportance', `/v1/studies/${mo.id}/importance?objective=-1`, 422);

    // --- runners: lease, heartbeat, release ---
    const runner = await call('createStudy', '/v1/studies', 201, {
      body: { name: 'runner', space: SPACE, max_trials: 1, executor: { kind: 'runner' } },
    });
    const grant = await call('leaseTrial', '/v1/runners/lease', 200, {
      key: RUNNER_KEY,
      body: { study_id: runner.id, runner: { name: 'gpu-0' } },
    });
    const n = grant.trial.number;
    await call('heartbeatTrial', `/v1/studies/${runner.id}/trials/${n}/heartbeat`, 200, {
      key: RUNNER_KEY,
      body: { lease_token: grant.lease.token },
    });
    await call('heartbeatTrial', `/v1/studies/${runner.id}/trials/${n}/heartbeat`, 409, {
      key: RUNNER_KEY,
      body: { lease_token: 'stale' },
    });
    await call('heartbeatTrial', `/v1/studies/${runner.id}/trials/0e5/heartbeat`, 422, {
      key: RUNNER_KEY,
      body: { lease_token: grant.lease.token },
    });
    // The only trial is leased: nothing to do now, ask again after Retry-After.
    await call('leaseTrial', '/v1/runners/lease', 204, {
      key: RUNNER_KEY,
      body: { study_id: runner.id },
    });
    await call('releaseTrial', `/v1/studies/${runner.id}/trials/${n}/release`, 200, {
      key: RUNNER_KEY,
      body: { lease_token: grant.lease.token },
    });
    await call('releaseTrial', `/v1/studies/${runner.id}/trials/${n}/release`, 409, {
      key: RUNNER_KEY,
      body: { lease_token: grant.lease.token },
    });
    await call('releaseTrial', `/v1/studies/${runner.id}/trials/${n}/release`, 422, {
      key: RUNNER_KEY,
      body: {},
    });
    await call('leaseTrial', '/v1/runners/lease', 409, {
      key: RUNNER_KEY,
      body: { study_id: study.id },
    });
    await call('leaseTrial', '/v1/runners/lease', 404, {
      key: RUNNER_KEY,
      body: { study_id: 'std_00000000000000000000000000' },
    });
    await call('leaseTrial', '/v1/runners/lease', 422, {
      key: RUNNER_KEY,
      body: { study: runner.id },
    });

    // --- an edge study runs on the edge ---
    const edge = await call('createStudy', '/v1/studies', 201, {
      body: {
        name: 'edge',
        space: SPACE,
        max_trials: 1,
        executor: { kind: 'edge', epochs: 1, probe: TINY_PROBE },
      },
    });
    await call('runStudy', `/v1/studies/${edge.id}/run`, 202);
    await call('runStudy', `/v1/studies/${study.id}/run`, 409);
    await call('runStudy', '/v1/studies/std_00000000000000000000000000/run', 404);
    await call('runStudy', `/v1/studies/${edge.id}/run`, 403, { key: RUNNER_KEY });
    const retried = await call('retryStudyStorage', `/v1/studies/${study.id}/storage/retry`, 200);
    expect(retried.storage).toMatchObject({ d1: 'ok', pending: 0, parked: [] });
    await call(
      'retryStudyStorage',
      '/v1/studies/std_00000000000000000000000000/storage/retry',
      404,
    );
    await call('retryStudyStorage', `/v1/studies/${study.id}/storage/retry`, 403, {
      key: RUNNER_KEY,
    });

    // --- LR range tests and suggestions ---
    const lrt = await call('createLrRangeTest', '/v1/lr-range-tests', 200, {
      body: { probe: TINY_PROBE, range: { steps: 20 } },
    });
    await call('createLrRangeTest', '/v1/lr-range-tests', 403, {
      key: RUNNER_KEY,
      body: { probe: TINY_PROBE },
    });
    await call('createLrRangeTest', '/v1/lr-range-tests', 422, {
      body: { probe: TINY_PROBE, range: { min_lr: 1, max_lr: 0.1 } },
    });
    await call('createLrRangeTest', '/v1/lr-range-tests', 413, {
      body: {
        probe: { ...TINY_PROBE, model: { hidden: [4096, 4096, 4096] }, batch_size: 4096 },
        range: { steps: 2000 },
      },
    });
    await call('getLrRangeTest', `/v1/lr-range-tests/${lrt.id}`, 200);
    await call('getLrRangeTest', '/v1/lr-range-tests/lrt_nope', 404);
    await call('getLrRangeTest', `/v1/lr-range-tests/${lrt.id}`, 403, { key: RUNNER_KEY });
    await call('getLrRangeTest', `/v1/lr-range-tests/${LONG_ID}`, 422);
    // A curve measured elsewhere: the same answer's shape, with backend client, its context and schedule.
    const lr = Array.from({ length: 40 }, (_, i) => 10 ** (-5 + (6 * i) / 39));
    const loss = lr.map((v, i) => (i > 36 ? null : 1 + 1 / (1 + v * 1e3) + v * v * 4));
    const client = await call('createLrRangeTest', '/v1/lr-range-tests', 200, {
      body: {
        curve: { lr, loss },
        model: { name: 'resnet18', parameters: 11.2e6 },
        optimizer: { name: 'adam' },
        batch_size: 128,
      },
    });
    expect(client).toMatchObject({
      backend: 'client',
      steps_run: 40,
      context: { model: { name: 'resnet18' } },
    });
    await call('getLrRangeTest', `/v1/lr-range-tests/${client.id}`, 200);
    await call('createLrRangeTest', '/v1/lr-range-tests', 422, {
      body: { curve: { lr: [...lr].reverse(), loss } },
    });
    await call('createLrRangeTest', '/v1/lr-range-tests', 422, {
      body: { curve: { lr, loss }, probe: TINY_PROBE },
    });
    await call('listLrRangeTests', '/v1/lr-range-tests?limit=5', 200);
    await call('listLrRangeTests', '/v1/lr-range-tests?limit=0x5', 422);
    await call('listLrRangeTests', '/v1/lr-range-tests', 403, { key: RUNNER_KEY });
    await call('suggestLr', '/v1/lr/suggest', 200, {
      body: { context: { optimizer: 'adam', model_family: 'mlp' } },
    });
    await call('suggestLr', '/v1/lr/suggest', 422, { body: {} });
    await call('suggestLr', '/v1/lr/suggest', 400, { raw: '[' });
    // Validated on your hardware: 202 with the study of the candidates, then the answer at GET /v1/lr/suggest/{id}.
    const started = await call('suggestLr', '/v1/lr/suggest', 202, {
      body: {
        curve: { lr, loss },
        optimizer: { name: 'adam' },
        executor: { kind: 'client' },
        training: { epochs: 4 },
      },
    });
    await call('suggestLr', '/v1/lr/suggest', 404, {
      body: { range_test_id: 'lrt_00000000000000000000000000', executor: { kind: 'client' } },
    });
    await call('suggestLr', '/v1/lr/suggest', 422, {
      body: { range_test_id: client.id, executor: { kind: 'edge' } },
    });
    const running = await call('getLrSuggestion', `/v1/lr/suggest/${started.id}`, 200);
    expect(running).toMatchObject({ status: 'running', lr: null });
    for (let t = await call('askTrial', `/v1/studies/${started.id}/ask`, 201); t;) {
      for (let e = 1; e <= 4; e++)
        await call('reportTrial', `/v1/studies/${started.id}/trials/${t.number}/report`, 200, {
          body: { step: e, value: 1 + Math.abs(Math.log10(t.params.lr / 1e-3)) / e },
        });
      await call('tellTrial', `/v1/studies/${started.id}/trials/${t.number}/tell`, 200, {
        body: { value: 1 + Math.abs(Math.log10(t.params.lr / 1e-3)) / 4 },
      });
      const next = await fetch(`${URL}/v1/studies/${started.id}/ask`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
        body: '{}',
      });
      t = next.status === 201 ? await next.json() : null;
    }
    const answered = await call('getLrSuggestion', `/v1/lr/suggest/${started.id}`, 200);
    expect(answered).toMatchObject({ status: 'complete', method: 'validated' });
    await call('getLrSuggestion', '/v1/lr/suggest/std_00000000000000000000000000', 404);
    // The suggestions made from a range test: this one's, listed from D1.
    const made = `/v1/lr-range-tests/${started.range_test.id}/suggestions`;
    await expect
      .poll(async () => (await call('listLrRangeTestSuggestions', made, 200)).suggestions.length)
      .toBe(1);
    await call('listLrRangeTestSuggestions', '/v1/lr-range-tests/lrt_nope/suggestions', 404);
    await call('listLrRangeTestSuggestions', `${made}?limit=0`, 422);
    await call('listLrRangeTestSuggestions', made, 403, { key: RUNNER_KEY });
    await call('getLrSuggestion', `/v1/lr/suggest/${started.id}`, 403, { key: RUNNER_KEY });

    // --- templates, triggers, and deliveries to /hooks ---
    const tpl = await call('createTemplate', '/v1/templates', 201, {
      body: {
        name: 'ci',
        study: { name: 'ci-{{sha}}', space: SPACE, metadata: { by: '{{sender}}' } },
      },
    });
    await call('createTemplate', '/v1/templates', 422, {
      body: { name: 'ci', study: { space: SPACE } },
    });
    await call('createTemplate', '/v1/templates', 400, { raw: '{"name"' });
    await call('getTemplate', `/v1/templates/${tpl.id}`, 200);
    await call('getTemplate', '/v1/templates/tpl_nope', 404);
    const trg = await call('createTrigger', '/v1/triggers', 201, {
      body: { template_id: tpl.id, kind: 'github' },
    });
    await call('createTrigger', '/v1/triggers', 422, { body: { template_id: 'tpl_nope' } });
    await call('createTrigger', '/v1/triggers', 415, { raw: 'x', contentType: 'text/plain' });
    await call('getTrigger', `/v1/triggers/${trg.id}`, 200);
    await call('getTrigger', '/v1/triggers/trg_nope', 404);
    const hook = (payload: string, delivery: string, secret = trg.secret) => ({
      key: null,
      raw: payload,
      headers: {
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': delivery,
        'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`,
      },
    });
    const push = JSON.stringify({ ref: 'refs/heads/main', after: 'abc', sender: { login: 'ada' } });
    await call('receiveHook', `/hooks/${trg.id}`, 202, hook(push, 'c-1'));
    await call('receiveHook', `/hooks/${trg.id}`, 202, hook(push, 'c-1'));
    await call('receiveHook', `/hooks/${trg.id}`, 401, hook(push, 'c-2', 'another secret'));
    await call('receiveHook', `/hooks/${trg.id}`, 400, hook('not json', 'c-3'));
    await call(
      'receiveHook',
      `/hooks/${trg.id}`,
      422,
      hook(JSON.stringify({ ref: 'refs/heads/main', after: 'def' }), 'c-4'),
    );
    await call('receiveHook', '/hooks/trg_nope', 404, hook(push, 'c-5'));
    await call('receiveHook', `/hooks/${LONG_ID}`, 422, hook(push, 'c-6'));
    await call('receiveHook', `/hooks/${trg.id}`, 413, hook('x'.repeat(1024 * 1024 + 1), 'c-7'));

    // --- subscriptions ---
    const sub = await call('createSubscription', '/v1/subscriptions', 201, {
      body: { url: 'https://example.invalid/hook', study_id: study.id },
    });
    await call('createSubscription', '/v1/subscriptions', 422, { body: { url: 'ftp://x' } });
    await call('createSubscription', '/v1/subscriptions', 400, { raw: '{' });
    await call('listSubscriptions', '/v1/subscriptions', 200);
    await call('listSubscriptions', '/v1/subscriptions?all=1', 422);
    await call('getSubscription', `/v1/subscriptions/${sub.id}`, 200);
    await call('getSubscription', '/v1/subscriptions/sub_nope', 404);
    await call('listDeliveries', `/v1/subscriptions/${sub.id}/deliveries`, 200);
    await call('listDeliveries', '/v1/subscriptions/sub_nope/deliveries', 404);
    await call('enableSubscription', `/v1/subscriptions/${sub.id}/enable`, 200);
    await call('enableSubscription', '/v1/subscriptions/sub_nope/enable', 404);
    await call('enableSubscription', `/v1/subscriptions/${sub.id}/enable`, 403, {
      key: RUNNER_KEY,
    });
  });

  it('the scenario called every operation, with a success and an error each', () => {
    for (const id of ops.keys()) {
      const statuses = [...(seen.get(id) ?? [])];
      expect(statuses.length, `${id} was not called`).toBeGreaterThan(0);
      expect(
        statuses.some((s) => s < 300),
        `${id}: no success among ${statuses}`,
      ).toBe(true);
      expect(
        statuses.some((s) => s >= 400),
        `${id}: no error among ${statuses}`,
      ).toBe(true);
    }
  });
});

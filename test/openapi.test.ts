// Every route the Worker serves under /v1 and /hooks is in the OpenAPI
// document, with bearer auth and problem+json errors on /v1; the document is
// generated from the same zod schemas that validate requests.
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { api } from './helpers';

describe('OpenAPI document', () => {
  it('documents every route of the app, with bearer auth and problem+json errors on /v1', async () => {
    const doc = (await (await api('/openapi.json', { key: null })).json()) as any;
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`),
      ),
    );
    // Hono's own route table of the same app (":id" becomes "{id}").
    const served = createApp()
      .routes.filter(
        (r) => (r.path.startsWith('/v1/') || r.path.startsWith('/hooks/')) && r.method !== 'ALL',
      )
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`);
    expect(served.length).toBeGreaterThan(30);
    for (const r of served) expect(documented, r).toContain(r);
    for (const [p, ops] of Object.entries(doc.paths) as [string, Record<string, any>][]) {
      if (!p.startsWith('/v1/')) continue;
      for (const [m, op] of Object.entries(ops)) {
        expect(op.security, `${m} ${p}`).toEqual([{ bearer: [] }]);
        expect(
          op.responses['401']?.content?.['application/problem+json'],
          `${m} ${p}`,
        ).toBeTruthy();
      }
    }
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('every response of every operation documents Server-Timing (and X-Request-Id), as reusable headers', async () => {
    const doc = (await (await api('/openapi.json', { key: null })).json()) as any;
    expect(doc.components.headers.ServerTiming.description).toMatch(/total;dur=/);
    expect(doc.components.headers.ServerTiming.schema).toEqual({ type: 'string' });
    let responses = 0;
    for (const [p, ops] of Object.entries(doc.paths) as [string, Record<string, any>][]) {
      for (const [m, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses).length, `${m} ${p}`).toBeGreaterThan(0);
        for (const [status, res] of Object.entries(op.responses) as [string, any][]) {
          expect(res.headers?.['Server-Timing'], `${m} ${p} ${status}`).toEqual({
            $ref: '#/components/headers/ServerTiming',
          });
          expect(res.headers?.['X-Request-Id'], `${m} ${p} ${status}`).toEqual({
            $ref: '#/components/headers/RequestId',
          });
          responses++;
        }
      }
    }
    expect(responses).toBeGreaterThan(100);
  });

  it('changes with the schemas: a field the request schema has is in the document', async () => {
    const doc = (await (await api('/openapi.json', { key: null })).json()) as any;
    const create = doc.components.schemas.StudyCreate;
    expect(Object.keys(create.properties)).toEqual(
      expect.arrayContaining([
        'name',
        'space',
        'sampler',
        'pruner',
        'executor',
        'max_trials',
        'metadata',
      ]),
    );
  });
});

// docs/API.md, the contract users read, against the OpenAPI document the
// Worker serves: every operation (method and path) is named in it, and every
// `METHOD /path` it names is served.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, URL } from './helpers';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head'];
/** Served outside the OpenAPI document (no API key): the doc may name these too. */
const UNDOCUMENTED = ['GET /health', 'GET /api', 'GET /openapi.json', 'GET /docs'];

/** `METHOD /path` mentions in a text: the query string and trailing punctuation dropped. */
export function mentions(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/\b(GET|POST|PUT|PATCH|DELETE|HEAD) +(\/[^\s`'"|,;)]*)/g)) {
    out.add(`${m[1]} ${m[2].replace(/\?.*$/, '').replace(/[.:]+$/, '')}`);
  }
  return out;
}

describe('docs/API.md', () => {
  it('names every operation of /openapi.json, and only served ones', async () => {
    const doc = (await (await fetch(`${URL}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(operations.length).toBeGreaterThan(20);
    const named = mentions(readFileSync(path.join(ROOT, 'docs/API.md'), 'utf8'));
    expect(
      operations.filter((op) => !named.has(op)),
      'operations missing from docs/API.md',
    ).toEqual([]);
    expect(
      [...named].filter((op) => !operations.includes(op) && !UNDOCUMENTED.includes(op)),
      'named in docs/API.md, not served',
    ).toEqual([]);
    for (const op of UNDOCUMENTED) {
      const res = await fetch(URL + op.split(' ')[1]);
      expect(res.status, op).toBe(200);
    }
  });

  it('finds mentions the way a reader writes them', () => {
    expect([
      ...mentions(
        '`GET /v1/studies?cursor=` and POST /v1/studies/{id}/run. Also | `DELETE /v1/keys/{id}` |',
      ),
    ]).toEqual(['GET /v1/studies', 'POST /v1/studies/{id}/run', 'DELETE /v1/keys/{id}']);
  });
});

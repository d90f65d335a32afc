// A client generated from /openapi.json, as a user makes one (openapi-typescript 7, then
// openapi-fetch), types a program that calls every operation and reads a field of each answer
// (test/e2e/fixtures/openapi-client.ts): the document is written to a temporary folder,
// openapi-typescript turns it into a .d.ts, and the TypeScript compiler checks the program against
// it. The test fails when the program does not type-check (an answer that is "this or that" by the
// body, as ask's Trial or {"trials"} was, has no `params` to read), when an operation of the
// document is not called by the program, and when an operation answers a union, or two schemas
// for two statuses (lr/suggest's 200 and 202 are one). A part of the program also runs against the local Worker.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY, ROOT, URL } from './helpers';

/** The program; its `./stride-api` is the generated .d.ts, given to the compiler only. */
const FIXTURE = path.join(ROOT, 'test/e2e/fixtures/openapi-client.ts');
const GENERATED = path.join(path.dirname(FIXTURE), 'stride-api.d.ts');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
type Json = Record<string, any>;
let doc: Json;
let dir: string;

beforeAll(async () => {
  doc = await (await fetch(`${URL}/openapi.json`)).json();
  dir = mkdtempSync(path.join(os.tmpdir(), 'stride-openapi-client-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Write `document` as `<name>.json`, run openapi-typescript on it, and answer the .d.ts it wrote. */
async function generate(document: Json, name: string): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(document));
  const dts = astToString(await openapiTS(pathToFileURL(file), { silent: true }));
  writeFileSync(path.join(dir, `${name}.d.ts`), dts);
  return dts;
}

/** The compiler's errors for the program against the generated `dts` (strict, as a user's project is). */
function typeCheck(dts: string): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    isolatedModules: true,
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => f === GENERATED || fileExists.call(host, f);
  host.readFile = (f) => (f === GENERATED ? dts : readFile.call(host, f));
  host.getSourceFile = (f, language, ...rest) =>
    f === GENERATED
      ? ts.createSourceFile(f, dts, language)
      : getSourceFile.call(host, f, language, ...rest);
  const program = ts.createProgram({ rootNames: [FIXTURE], options, host });
  return ts.getPreEmitDiagnostics(program).map((d) =>
    ts.formatDiagnostic(d, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => '\n',
    }),
  );
}

/** The operations the program calls: `METHOD path` of each `x.METHOD('path', ...)`. */
function calledOperations(): string[] {
  const source = ts.createSourceFile(
    FIXTURE,
    readFileSync(FIXTURE, 'utf8'),
    ts.ScriptTarget.ES2022,
  );
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      METHODS.includes(node.expression.name.text.toLowerCase()) &&
      node.expression.name.text === node.expression.name.text.toUpperCase() &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0])
    )
      out.push(`${node.expression.name.text} ${node.arguments[0].text}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The operations of a document, as `METHOD path`, with their ids. */
function operationsOf(document: Json): { id: string; op: string; responses: Json }[] {
  return Object.entries(document.paths as Json).flatMap(([p, item]) =>
    Object.entries(item as Json)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, o]) => ({
        id: o.operationId,
        op: `${m.toUpperCase()} ${p}`,
        responses: o.responses,
      })),
  );
}

/** What answers more than one shape: a success whose schema is a union, or two different success schemas. */
function shapeProblems(document: Json): string[] {
  const resolve = (s: Json): Json =>
    typeof s?.$ref === 'string'
      ? resolve(document.components.schemas[s.$ref.split('/').pop()!])
      : s;
  const out: string[] = [];
  for (const { id, op, responses } of operationsOf(document)) {
    const bodies = Object.entries(responses)
      .filter(([status, r]) => status.startsWith('2') && r.content)
      .map(([status, r]) => [status, r.content['application/json']?.schema] as const);
    for (const [status, schema] of bodies) {
      const s = resolve(schema);
      for (const k of ['anyOf', 'oneOf'])
        if (s && k in s) out.push(`${id} (${op}) ${status}: ${k} of ${s[k].length} schemas`);
    }
    const distinct = new Set(bodies.map(([, s]) => JSON.stringify(s)));
    if (distinct.size > 1)
      out.push(`${id} (${op}): ${bodies.map(([s]) => s).join(' and ')} answer different schemas`);
  }
  return out;
}

describe('a client generated from /openapi.json (openapi-typescript, openapi-fetch)', () => {
  it('every operation answers one shape, lr/suggest’s 200 and 202 included', () => {
    expect(shapeProblems(doc)).toEqual([]);
    const suggest = doc.paths['/v1/lr/suggest'].post.responses;
    expect(suggest['202'].content['application/json'].schema).toEqual(
      suggest['200'].content['application/json'].schema,
    );
  });

  it('types a program that calls every operation and reads a field of each answer', async () => {
    const dts = await generate(doc, 'openapi');
    expect(dts).toContain('"/v1/studies/{id}/ask-batch"');
    expect(typeCheck(dts)).toEqual([]);
    const called = calledOperations();
    const documented = operationsOf(doc).map((o) => o.op);
    expect(documented.length).toBeGreaterThan(30);
    expect(
      documented.filter((op) => !called.includes(op)),
      'operations the program does not call',
    ).toEqual([]);
    expect(
      called.filter((op) => !documented.includes(op)),
      'calls of no operation',
    ).toEqual([]);
  });

  it('would catch an answer shaped by the body (ask as it was) and an operation left out', async () => {
    const old = structuredClone(doc);
    const trial = { $ref: '#/components/schemas/Trial' };
    old.paths['/v1/studies/{id}/ask'].post.responses['201'].content['application/json'].schema = {
      anyOf: [
        trial,
        {
          type: 'object',
          properties: { trials: { type: 'array', items: trial } },
          required: ['trials'],
        },
      ],
    };
    old.paths['/v1/lr/suggest'].post.responses['202'].content['application/json'].schema = {
      type: 'object',
      properties: { poll: { type: 'string' } },
    };
    old.paths['/v1/studies/{id}/ask-again'] = {
      post: { ...old.paths['/v1/studies/{id}/ask'].post, operationId: 'askAgain' },
    };
    expect(shapeProblems(old).sort()).toEqual([
      'askAgain (POST /v1/studies/{id}/ask-again) 201: anyOf of 2 schemas',
      'askTrial (POST /v1/studies/{id}/ask) 201: anyOf of 2 schemas',
      'suggestLr (POST /v1/lr/suggest): 200 and 202 answer different schemas',
    ]);
    const errors = typeCheck(await generate(old, 'openapi-union'));
    expect(errors.join('\n')).toMatch(/Property 'params' does not exist on type/);
    expect(errors.join('\n')).toMatch(/Property 'number' does not exist on type/);
    const called = calledOperations();
    expect(
      operationsOf(old)
        .filter((o) => !called.includes(o.op))
        .map((o) => o.op),
    ).toEqual(['POST /v1/studies/{id}/ask-again']);
  });

  it('runs against the local Worker: create, ask, report, tell, a batch ask, get', async () => {
    // Imported by path: a static import would make `npm run typecheck` compile the program, whose
    // ./stride-api exists only while this test checks it (the import is of types only).
    const program = (await import(/* @vite-ignore */ pathToFileURL(FIXTURE).href)) as {
      connect(baseUrl: string, key: string): unknown;
      studyLoop(api: unknown): Promise<any>;
    };
    const out = await program.studyLoop(program.connect(URL, KEY));
    expect(out).toMatchObject({
      asked: { number: 0, state: 'running' },
      should_prune: false,
      told: { state: 'complete' },
      batch: [1, 2],
      read: { n_trials: 3, best: 0 },
      trials: ['complete', 'running', 'running'],
    });
    expect(out.asked.lr).toBeGreaterThanOrEqual(1e-4);
    expect(out.told.value).toBeCloseTo(Math.abs(Math.log10(out.asked.lr)));
  });
});

/**
 * The dependency rule of src/: layers import downward only, and no module
 * imports itself back through others (no cycles). Reads the import graph with
 * a regex over `import ... from`, `export ... from`, side-effect imports and
 * `import('...')`, relative specifiers only (packages are not layers).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers, lowest first: a module may import from its own layer and any
 * layer before it, never after. `app.ts` and `index.ts` (the Worker's entry
 * points) sit on top. tuning/ and probe/ are pure: no storage, no HTTP.
 */
const LAYERS = [
  'lib',
  'contract',
  'tuning',
  'probe',
  'db',
  'coordinator',
  'services',
  'api',
  'app',
] as const;

/** cli/ runs in Node beside the Worker, not in it: it may import lib/ and contract/ only. */
const CLI_MAY_IMPORT = ['lib', 'contract', 'cli'];

const SRC = path.resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [full] : [];
  });
}

/** The layer of a module, by its path under src/ (the top-level folder, or `app` for the entry files). */
function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? 'app' : rel[0];
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function resolve(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(`${path.relative(SRC, from)}: cannot resolve '${spec}'`);
}

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (spec.endsWith('.wasm')) continue;
      deps.push(resolve(file, spec));
    }
    g.set(file, deps);
  }
  return g;
}

const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');

describe('the dependency rule of src/', () => {
  const g = graph();

  it('finds the modules and their imports', () => {
    expect(g.size).toBeGreaterThan(50);
    for (const file of g.keys()) expect([...LAYERS, 'cli'], rel(file)).toContain(layerOf(file));
  });

  it('imports only downward (nothing below api/ imports from api/)', () => {
    const upward: string[] = [];
    for (const [file, deps] of g) {
      const from = layerOf(file);
      for (const dep of deps) {
        const to = layerOf(dep);
        const ok =
          from === 'cli'
            ? CLI_MAY_IMPORT.includes(to)
            : to !== 'cli' && LAYERS.indexOf(to as never) <= LAYERS.indexOf(from as never);
        if (!ok) upward.push(`${rel(file)} -> ${rel(dep)} (${from} imports ${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const dep of g.get(file) ?? []) {
        if (state.get(dep) === 'open')
          cycles.push([...stack.slice(stack.indexOf(dep)), dep].map(rel).join(' -> '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of g.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});

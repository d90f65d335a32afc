// The deploy check (scripts/check-deploy.mjs, `npm run check:deploy`, run by .ci/run): the
// bindings the Worker's code reads against what wrangler.toml declares, the plan the README
// names, and the bundle's size against that plan's limit. The dry-run itself runs in CI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  SIZE_LIMITS,
  bindingsDeclared,
  bindingsUsed,
  missingBindings,
  planOf,
  secretsNamed,
  sizeProblem,
  uploadSize,
} from '../../scripts/check-deploy.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A config as wrangler's unstable_readConfig returns it, trimmed to the binding fields. */
const CONFIG = {
  d1_databases: [{ binding: 'DB', database_name: 'stride' }],
  durable_objects: { bindings: [{ name: 'STUDY', class_name: 'StudyCoordinator' }] },
  queues: {
    producers: [{ binding: 'EDGE_TRIALS', queue: 'stride-edge-trials' }],
    consumers: [{ queue: 'stride-edge-trials' }],
  },
  vars: { MAX_BODY_BYTES: '8388608' },
};
const TOML =
  '# secret STRIDE_ADMIN_TOKEN: creates projects and keys\n[vars]\nMAX_BODY_BYTES = "1"\n';

describe('the deploy check: bindings', () => {
  it('reads env.NAME in any form but process.env, and says which files read it', () => {
    const used = bindingsUsed([
      {
        path: 'src/a.ts',
        text: 'c.env.DB.prepare(); this.env.STUDY; readConfig(env.MAX_BODY_BYTES)',
      },
      { path: 'src/b.ts', text: 'env.DB; process.env.STRIDE_URL; env.lowercase; myenv.NOPE' },
    ]);
    expect([...used.keys()].sort()).toEqual(['DB', 'MAX_BODY_BYTES', 'STUDY']);
    expect(used.get('DB')).toEqual(['src/a.ts', 'src/b.ts']);
  });

  it('declares D1, Durable Objects, queue producers, vars and the `# secret NAME` lines, each with its kind', () => {
    expect(
      secretsNamed(TOML + '  #  secret   STRIDE_DEV_KEY\n# secrets are set elsewhere\n'),
    ).toEqual(['STRIDE_ADMIN_TOKEN', 'STRIDE_DEV_KEY']);
    expect(Object.fromEntries(bindingsDeclared(CONFIG, TOML))).toEqual({
      DB: 'D1 database',
      STUDY: 'Durable Object',
      EDGE_TRIALS: 'queue producer',
      MAX_BODY_BYTES: 'var',
      STRIDE_ADMIN_TOKEN: 'secret',
    });
    // Single-object kinds (ai, browser, ...) count too.
    expect(bindingsDeclared({ ai: { binding: 'AI' } }, '').get('AI')).toBe('Workers AI');
  });

  it('reports a binding the code reads and wrangler.toml lacks, by name, with where it is read', () => {
    const used = bindingsUsed([
      { path: 'src/coordinator/stub.ts', text: 'env.STUDY.get(id)' },
      {
        path: 'src/services/cache.ts',
        text: 'await env.CACHE.get(key); env.DB; env.STRIDE_ADMIN_TOKEN',
      },
      { path: 'src/lib/config.ts', text: 'env.STRIDE_RUNNER_KEY' },
    ]);
    expect(missingBindings(used, bindingsDeclared(CONFIG, TOML))).toEqual([
      { name: 'CACHE', files: ['src/services/cache.ts'] },
      { name: 'STRIDE_RUNNER_KEY', files: ['src/lib/config.ts'] },
    ]);
    expect(
      missingBindings(
        bindingsUsed([{ path: 'x.ts', text: 'env.DB' }]),
        bindingsDeclared(CONFIG, TOML),
      ),
    ).toEqual([]);
  });

  it('wrangler.toml names every secret src/lib/config.ts reads', () => {
    const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
    const config = readFileSync(path.join(ROOT, 'src/lib/config.ts'), 'utf8');
    const secrets = [...bindingsUsed([{ path: 'config.ts', text: config }]).keys()].filter((n) =>
      n.startsWith('STRIDE_'),
    );
    expect(secrets.sort()).toEqual(['STRIDE_ADMIN_TOKEN', 'STRIDE_DEV_KEY', 'STRIDE_RUNNER_KEY']);
    expect(secretsNamed(toml).sort()).toEqual(secrets.sort());
  });
});

describe('the deploy check: plan and size', () => {
  it('takes the plan the README names', () => {
    expect(planOf(readFileSync(path.join(ROOT, 'README.md'), 'utf8'))).toBe('paid');
    expect(planOf('runs on the Workers Free plan')).toBe('free');
    expect(planOf('no plan here')).toBeNull();
  });

  it('measures the upload as wrangler does (modules, then the main module; no README or source map) and checks it against the limit', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'check-deploy-test-'));
    try {
      writeFileSync(path.join(dir, 'index.js'), 'export default {};\n'.repeat(100));
      writeFileSync(path.join(dir, 'abc-backend.wasm'), Buffer.alloc(1000, 7));
      writeFileSync(path.join(dir, 'index.js.map'), 'x'.repeat(5000));
      writeFileSync(path.join(dir, 'README.md'), 'wrangler wrote this');
      const size = uploadSize(dir);
      expect(size.files).toEqual(['abc-backend.wasm', 'index.js']);
      expect(size.bytes).toBe(1000 + 1900);
      const all = Buffer.concat([
        Buffer.alloc(1000, 7),
        Buffer.from('export default {};\n'.repeat(100)),
      ]);
      expect(size.gzipBytes).toBe(gzipSync(all).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const limit = SIZE_LIMITS.paid.uncompressed;
    expect(limit).toBe(64 * 1024 * 1024);
    expect(sizeProblem({ bytes: limit }, 'paid')).toBeNull();
    expect(sizeProblem({ bytes: limit + 1 }, 'paid')).toMatch(
      /over the Workers Paid plan's limit of 64\.00 MiB/,
    );
    expect(sizeProblem({ bytes: 1 }, 'team')).toMatch(/unknown plan 'team'/);
  });
});

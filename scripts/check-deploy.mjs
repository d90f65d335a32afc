#!/usr/bin/env node
// Is the Worker deployable as configured? `npm run check:deploy`, run by CI (.ci/run) after the
// type check. Offline: no network, no credentials.
//   1. `wrangler deploy --dry-run --outdir <tmp>` bundles the Worker as a deploy would;
//   2. the bundle (the main module and every module uploaded beside it, the TF.js WASM binaries)
//      against Cloudflare's Worker size limit for the plan the README names (SIZE_LIMITS: the
//      limit, its source and when it was read);
//   3. every binding the Worker's code reads (`env.NAME` in src/, the Node CLI in src/cli/ left
//      out) is declared in wrangler.toml: a D1 database, a Durable Object namespace, a queue
//      producer, a [vars] entry, another binding kind of BINDING_FIELDS, or a secret named on a
//      `# secret NAME` comment line (secrets are set with `wrangler secret put`, never written in
//      the file, so wrangler.toml names them in comments and this reads those).
// Prints the sizes and the bindings, and exits 1 naming every problem. `--plan free|paid` checks
// against another plan than the README's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;

/**
 * Cloudflare's Worker size limit, per plan, in bytes of the uncompressed upload (the main module
 * and its modules; static assets are not part of it). Since 2026-09 the limits page documents one
 * limit on every plan, 64 MiB uncompressed; the former limits on the gzip-compressed size (3 MB
 * on Workers Free, 10 MB on Workers Paid) were removed.
 */
export const SIZE_LIMITS = {
  free: { uncompressed: 64 * MiB },
  paid: { uncompressed: 64 * MiB },
};
export const SIZE_SOURCE = {
  url: 'https://developers.cloudflare.com/workers/platform/limits/#worker-size',
  read: '2026-12-07',
};
const source = `Cloudflare's limits page, read ${SIZE_SOURCE.read}: ${SIZE_SOURCE.url}`;

/**
 * The binding fields of a wrangler config (as wrangler's unstable_readConfig returns it): where
 * each kind's list is, and which key of an entry is the binding's name in `env`.
 */
export const BINDING_FIELDS = [
  { kind: 'D1 database', path: ['d1_databases'], key: 'binding' },
  { kind: 'Durable Object', path: ['durable_objects', 'bindings'], key: 'name' },
  { kind: 'queue producer', path: ['queues', 'producers'], key: 'binding' },
  { kind: 'KV namespace', path: ['kv_namespaces'], key: 'binding' },
  { kind: 'R2 bucket', path: ['r2_buckets'], key: 'binding' },
  { kind: 'service', path: ['services'], key: 'binding' },
  { kind: 'Analytics Engine dataset', path: ['analytics_engine_datasets'], key: 'binding' },
  { kind: 'Hyperdrive', path: ['hyperdrive'], key: 'binding' },
  { kind: 'Vectorize index', path: ['vectorize'], key: 'binding' },
  { kind: 'workflow', path: ['workflows'], key: 'binding' },
  { kind: 'send_email', path: ['send_email'], key: 'name' },
  { kind: 'mTLS certificate', path: ['mtls_certificates'], key: 'binding' },
  { kind: 'dispatch namespace', path: ['dispatch_namespaces'], key: 'binding' },
  { kind: 'Secrets Store secret', path: ['secrets_store_secrets'], key: 'binding' },
  { kind: 'pipeline', path: ['pipelines'], key: 'binding' },
  { kind: 'Workers AI', path: ['ai'], key: 'binding' },
  { kind: 'browser', path: ['browser'], key: 'binding' },
  { kind: 'images', path: ['images'], key: 'binding' },
  { kind: 'version metadata', path: ['version_metadata'], key: 'binding' },
  { kind: 'assets', path: ['assets'], key: 'binding' },
];

/** The plan a text names ("Workers Paid plan", "Workers Free plan"): 'free', 'paid' or null. */
export function planOf(text) {
  const m = /\bWorkers (Free|Paid) plan\b/i.exec(text);
  return m ? m[1].toLowerCase() : null;
}

/**
 * The bindings some code reads: each `env.NAME` (also `c.env.NAME`, `this.env.NAME`; NAME in
 * capitals, as every binding of this Worker is named), not `process.env.NAME`. Comments are read
 * too: a comment that names `env.NAME` counts as a use (rather than risk missing code).
 * `files` is [{ path, text }]; the answer maps each name to the files that read it.
 */
export function bindingsUsed(files) {
  const used = new Map();
  for (const { path: file, text } of files) {
    for (const m of text.matchAll(/(?<![\w$])(?<!process\.)env\.([A-Z][A-Z0-9_]*)\b/g)) {
      if (!used.has(m[1])) used.set(m[1], []);
      if (!used.get(m[1]).includes(file)) used.get(m[1]).push(file);
    }
  }
  return used;
}

/** The secrets wrangler.toml names on `# secret NAME` comment lines (anything may follow NAME). */
export function secretsNamed(tomlText) {
  return [...tomlText.matchAll(/^\s*#\s*secret\s+([A-Z][A-Z0-9_]*)\b/gm)].map((m) => m[1]);
}

/**
 * What wrangler.toml declares: each binding's name with its kind, from the config read by
 * wrangler (`config`) and the text of the file (`tomlText`, for the secrets).
 */
export function bindingsDeclared(config, tomlText) {
  const declared = new Map();
  for (const { kind, path: where, key } of BINDING_FIELDS) {
    let v = config;
    for (const k of where) v = v?.[k];
    for (const entry of Array.isArray(v) ? v : v ? [v] : [])
      if (typeof entry?.[key] === 'string') declared.set(entry[key], kind);
  }
  for (const name of Object.keys(config.vars ?? {})) declared.set(name, 'var');
  for (const name of secretsNamed(tomlText)) declared.set(name, 'secret');
  return declared;
}

/** The bindings used and not declared: [{ name, files }], in name order. */
export function missingBindings(used, declared) {
  return [...used.keys()]
    .filter((name) => !declared.has(name))
    .sort()
    .map((name) => ({ name, files: used.get(name) }));
}

/**
 * The size of the upload in a `wrangler deploy --dry-run --outdir` folder, as wrangler reports it
 * ("Total Upload: X KiB / gzip: Y KiB"): the modules and then the main module, uncompressed and
 * gzipped together. The folder's README.md (wrangler's note) and source maps are not uploaded.
 */
export function uploadSize(outdir, main = 'index.js') {
  const names = readdirSync(outdir)
    .filter((f) => f !== main && f !== 'README.md' && !f.endsWith('.map'))
    .filter((f) => statSync(path.join(outdir, f)).isFile())
    .sort();
  const parts = [...names, main].map((f) => readFileSync(path.join(outdir, f)));
  const all = Buffer.concat(parts);
  return { files: [...names, main], bytes: all.length, gzipBytes: gzipSync(all).length };
}

/** A problem with the size for `plan`, or null when it is within the limit. */
export function sizeProblem({ bytes }, plan) {
  const limit = SIZE_LIMITS[plan];
  if (!limit) return `unknown plan '${plan}' (plans: ${Object.keys(SIZE_LIMITS).join(', ')})`;
  if (bytes <= limit.uncompressed) return null;
  return `the Worker is ${mib(bytes)} uncompressed, over the Workers ${plan === 'paid' ? 'Paid' : 'Free'} plan's limit of ${mib(limit.uncompressed)} (${source})`;
}

const mib = (bytes) => `${(bytes / MiB).toFixed(2)} MiB`;
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;

/** The source files of the Worker: src/**.ts, the Node CLI (src/cli/) left out. */
function workerSources(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        if (path.relative(root, full) !== path.join('src', 'cli')) walk(full);
      } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        out.push({ path: path.relative(root, full), text: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(path.join(root, 'src'));
  return out;
}

async function main(argv) {
  const tag = 'check-deploy';
  const problems = [];
  const planArg = argv.includes('--plan') ? argv[argv.indexOf('--plan') + 1] : null;
  const plan = planArg ?? planOf(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  if (!plan) {
    console.error(`${tag}: README.md names no plan ("Workers Paid plan" or "Workers Free plan")`);
    return 1;
  }

  const outdir = mkdtempSync(path.join(os.tmpdir(), 'stride-deploy-'));
  try {
    const r = spawnSync(
      'npx',
      ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, '--config', 'wrangler.toml'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 180_000,
        env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
      },
    );
    if (r.status !== 0) {
      console.error(`${tag}: wrangler deploy --dry-run failed (exit ${r.status ?? r.signal})`);
      return 1;
    }
    const size = uploadSize(outdir);
    console.log(
      `${tag}: the upload is ${mib(size.bytes)} (${kib(size.gzipBytes)} gzipped) in ${size.files.length} modules; the Workers ${plan === 'paid' ? 'Paid' : 'Free'} plan's limit: ${mib(SIZE_LIMITS[plan]?.uncompressed ?? NaN)} uncompressed (${source})`,
    );
    const tooBig = sizeProblem(size, plan);
    if (tooBig) problems.push(tooBig);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }

  const { unstable_readConfig } = await import('wrangler');
  const tomlPath = path.join(ROOT, 'wrangler.toml');
  const declared = bindingsDeclared(
    unstable_readConfig({ config: tomlPath }),
    readFileSync(tomlPath, 'utf8'),
  );
  const used = bindingsUsed(workerSources(ROOT));
  console.log(
    `${tag}: bindings the code reads: ${[...used.keys()]
      .sort()
      .map((n) => `${n} (${declared.get(n) ?? 'NOT DECLARED'})`)
      .join(', ')}`,
  );
  for (const { name, files } of missingBindings(used, declared))
    problems.push(
      `env.${name} (read in ${files.join(', ')}) is not declared in wrangler.toml: add its binding, its [vars] entry, or a '# secret ${name}' line for a secret`,
    );

  for (const p of problems) console.error(`${tag}: ${p}`);
  if (problems.length === 0)
    console.log(`${tag}: deployable: size within the limit, every binding declared`);
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );

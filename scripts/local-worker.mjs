// Start stride's Worker (wrangler.toml) in local workerd on a free port, on a
// fresh temporary D1/Durable Object store with the migrations applied, with
// the API keys given. Used by the bench and by the Node end-to-end tests
// (test/e2e), which talk to it over real HTTP like any client or agent.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unstable_startWorker } from 'wrangler';
// Before any Worker starts: miniflare's loopback server keeps idle connections (local queues stopped without it).
import './loopback-keepalive.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Start a Worker from `config` (a wrangler.toml path) with plain-text `vars`; `persist` false for in-memory storage. */
export function startWorker(config, { persist = false, vars = {} } = {}) {
  const bindings = Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, { type: 'plain_text', value: v }]),
  );
  return unstable_startWorker({
    config,
    sendMetrics: false,
    bindings,
    dev: {
      server: { hostname: '127.0.0.1', port: 0 },
      inspector: false,
      watch: false,
      persist,
      logLevel: 'warn',
      remote: false,
    },
  });
}

/**
 * The main Worker on a temporary store. Resolves to `{ url, dispose }`;
 * dispose stops it and deletes the store.
 */
export async function startStride({
  devKey = 'e2e-key',
  runnerKey = 'e2e-runner-key',
  vars = {},
} = {}) {
  // Local only: do not try to download the `Request.cf` object.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  const persist = mkdtempSync(path.join(os.tmpdir(), 'stride-local-'));
  const m = spawnSync(
    'npx',
    ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
    },
  );
  if (m.status !== 0) {
    rmSync(persist, { recursive: true, force: true });
    throw new Error(
      `wrangler d1 migrations apply failed (exit ${m.status}): ${(m.stderr || m.stdout || '').trim().split('\n').slice(-5).join(' ')}`,
    );
  }
  const worker = await startWorker(path.join(root, 'wrangler.toml'), {
    persist,
    vars: {
      STRIDE_DEV_KEY: devKey,
      STRIDE_RUNNER_KEY: runnerKey,
      STRIDE_ADMIN_TOKEN: 'local-admin-token',
      RATE_LIMIT_PER_MINUTE: '100000',
      NOTIFY_DISABLE_AFTER: '3',
      ...vars,
    },
  });
  try {
    await worker.ready;
    const url = String(await worker.url);
    return {
      url,
      devKey,
      runnerKey,
      async dispose() {
        try {
          await worker.dispose();
        } finally {
          rmSync(persist, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await worker.dispose().catch(() => {});
    rmSync(persist, { recursive: true, force: true });
    throw err;
  }
}

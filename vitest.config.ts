import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
// The pool's miniflare runs in this process: keep its loopback server's idle connections open.
import './scripts/loopback-keepalive.mjs';

// Three projects:
// - `tuning`: the pure algorithms of src/tuning/ (test/tuning/) and the pure parts of
//   src/probe/ (test/node/: data, curve suggestion, schedules), in plain Node (fast, no runtime).
// - `e2e`: the Node command line (the agent) against a local Worker over HTTP.
// - `workers`: everything else inside workerd, against the Worker's real
//   bindings (local D1, Durable Objects) and the real TF.js WASM backend.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  return {
    test: {
      projects: [
        {
          test: {
            name: 'tuning',
            include: ['test/tuning/**/*.test.ts', 'test/node/**/*.test.ts'],
            environment: 'node',
          },
        },
        {
          // The Node programs (the agent) and the Worker over real HTTP: a local Worker
          // started once for the run (test/e2e/global-setup.ts).
          test: {
            name: 'e2e',
            include: ['test/e2e/**/*.test.ts'],
            environment: 'node',
            globalSetup: ['./test/e2e/global-setup.ts'],
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  STRIDE_DEV_KEY: 'test-key',
                  STRIDE_RUNNER_KEY: 'test-runner-key',
                  STRIDE_ADMIN_TOKEN: 'test-admin-token',
                  // The rate limit has its own test (a key with its own limit); the rest create freely.
                  RATE_LIMIT_PER_MINUTE: '100000',
                },
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/**/*.test.ts'],
            exclude: ['test/tuning/**', 'test/node/**', 'test/e2e/**'],
            setupFiles: ['./test/setup.ts'],
            testTimeout: 120_000,
          },
        },
      ],
    },
  };
});

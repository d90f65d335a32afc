import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';

// Two projects:
// - `tuning`: the pure algorithms of src/tuning/, in plain Node (fast, no runtime).
// - `workers`: everything else inside workerd, against the Worker's real
//   bindings (local D1, Durable Objects) and the real TF.js WASM backend.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  return {
    test: {
      projects: [
        {
          test: { name: 'tuning', include: ['test/tuning/**/*.test.ts'], environment: 'node' },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: { TEST_MIGRATIONS: migrations, STRIDE_DEV_KEY: 'test-key', STRIDE_RUNNER_KEY: 'test-runner-key' },
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/**/*.test.ts'],
            exclude: ['test/tuning/**'],
            setupFiles: ['./test/setup.ts'],
            testTimeout: 120_000,
          },
        },
      ],
    },
  };
});

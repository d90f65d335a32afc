#!/usr/bin/env node
// Runs before `npm start`: creates .dev.vars from the committed example when
// absent, and applies D1 migrations to the local database.
import { existsSync, copyFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vars = path.join(root, '.dev.vars');
if (!existsSync(vars)) {
  copyFileSync(path.join(root, '.dev.vars.example'), vars);
  console.log('created .dev.vars from .dev.vars.example (development API key: STRIDE_DEV_KEY)');
}
const result = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
});
process.exit(result.status ?? 1);

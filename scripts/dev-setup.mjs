#!/usr/bin/env node
// Runs before `npm start`: creates .dev.vars from the committed example when
// absent, and applies D1 migrations to the local database.
import { appendFileSync, existsSync, copyFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vars = path.join(root, '.dev.vars');
if (!existsSync(vars)) {
  copyFileSync(path.join(root, '.dev.vars.example'), vars);
  console.log('created .dev.vars from .dev.vars.example (development API key: STRIDE_DEV_KEY)');
} else {
  // A .dev.vars from an older checkout: add the variables the example gained since.
  const names = (text) => new Set([...text.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const have = names(readFileSync(vars, 'utf8'));
  const missing = readFileSync(path.join(root, '.dev.vars.example'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z0-9_]+=/.test(line) && !have.has(line.split('=')[0]));
  if (missing.length > 0) {
    appendFileSync(vars, '\n' + missing.join('\n') + '\n');
    console.log(`added to .dev.vars: ${missing.map((l) => l.split('=')[0]).join(', ')}`);
  }
}
const result = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
});
process.exit(result.status ?? 1);

#!/usr/bin/env node
// The browser tests (test/e2e/dashboard.test.ts) drive a real Chromium. This
// makes sure there is one before `npm test` (its pretest step):
//   1. CHROMIUM_PATH, when set, must be an executable: it is used as is
//      (set but missing is an error; nothing is installed over it);
//   2. else the first of chromium, chromium-browser, google-chrome,
//      google-chrome-stable on PATH;
//   3. else Debian's `chromium` is installed with apt-get when that is
//      possible (root, or sudo without a password);
//   4. else it stops with what to do: install Chromium or set CHROMIUM_PATH.
// `--dry-run` says what it would do and installs nothing (exit 0 when it could
// go on, 1 when it would fail). The tests find the browser with findChromium().
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** Whether `file` is an executable regular file. */
export function isExecutable(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in the directories of `envPath`, or null. */
export function onPath(name, envPath = process.env.PATH ?? '', isExec = isExecutable) {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (isExec(file)) return file;
  }
  return null;
}

/**
 * Where the tests' Chromium is. `path` is null when there is none; `problem`
 * then says why (CHROMIUM_PATH set to something that is not an executable, or
 * nothing found on PATH).
 */
export function findChromium({ env = process.env, isExec = isExecutable } = {}) {
  if (env.CHROMIUM_PATH) {
    return isExec(env.CHROMIUM_PATH)
      ? { path: env.CHROMIUM_PATH, from: 'CHROMIUM_PATH' }
      : { path: null, from: 'CHROMIUM_PATH', problem: `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file` };
  }
  for (const name of NAMES) {
    const file = onPath(name, env.PATH ?? '', isExec);
    if (file) return { path: file, from: 'PATH' };
  }
  return { path: null, from: 'PATH', problem: `no ${NAMES.join(', ')} on PATH` };
}

export const HOW_TO_FIX = 'Install Chromium (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable.';

/**
 * The decision, from the facts: `{ action: 'ok', path }`, `{ action: 'install',
 * commands }` (each an argv) or `{ action: 'fail', message }`.
 */
export function decide({ found, isRoot, hasSudo, hasApt }) {
  if (found.path) return { action: 'ok', path: found.path };
  if (found.from === 'CHROMIUM_PATH') return { action: 'fail', message: `${found.problem}. Point it at a Chromium or Chrome executable, or unset it to let npm test find (or install) one.` };
  if (!hasApt || !(isRoot || hasSudo)) {
    const why = !hasApt ? 'apt-get is not available' : 'this user is not root and has no passwordless sudo';
    return { action: 'fail', message: `The browser tests need Chromium: ${found.problem}, and it cannot be installed here (${why}). ${HOW_TO_FIX}` };
  }
  const prefix = isRoot ? ['env'] : ['sudo', '-n', 'env'];
  const apt = [...prefix, 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
  return {
    action: 'install',
    commands: [
      [...apt, 'update', '-q'],
      [...apt, 'install', '-y', '-q', '--no-install-recommends', 'chromium'],
    ],
  };
}

/** The facts about this machine that decide() needs. */
export function facts(env = process.env) {
  const envPath = env.PATH ?? '';
  const sudo = onPath('sudo', envPath);
  return {
    found: findChromium({ env }),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasSudo: Boolean(sudo) && spawnSync(sudo, ['-n', 'true'], { stdio: 'ignore', env }).status === 0,
    hasApt: Boolean(onPath('apt-get', envPath)),
  };
}

function main(argv) {
  const dry = argv.includes('--dry-run');
  const say = (m) => console.log(`ensure-chromium: ${m}`);
  const plan = decide(facts());
  if (plan.action === 'ok') {
    say(`using ${plan.path}`);
    return 0;
  }
  if (plan.action === 'fail') {
    console.error(`ensure-chromium: ${plan.message}`);
    return 1;
  }
  say(`no Chromium found; ${dry ? 'would install' : 'installing'} Debian's chromium:`);
  for (const cmd of plan.commands) {
    say(`${dry ? 'would run' : 'running'}: ${cmd.join(' ')}`);
    if (dry) continue;
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`ensure-chromium: \`${cmd.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}). ${HOW_TO_FIX}`);
      return 1;
    }
  }
  if (dry) return 0;
  const after = findChromium();
  if (!after.path) {
    console.error(`ensure-chromium: apt-get installed chromium, but still ${after.problem}. ${HOW_TO_FIX}`);
    return 1;
  }
  say(`installed ${after.path}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));

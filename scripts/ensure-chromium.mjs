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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptPlan, carryOut, isExecutable, machineFacts, onPath } from './apt.mjs';

export { isExecutable, onPath };

export const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * Where the tests' Chromium is. `path` is null when there is none; `problem`
 * then says why (CHROMIUM_PATH set to something that is not an executable, or
 * nothing found on PATH).
 */
export function findChromium({ env = process.env, isExec = isExecutable } = {}) {
  if (env.CHROMIUM_PATH) {
    return isExec(env.CHROMIUM_PATH)
      ? { path: env.CHROMIUM_PATH, from: 'CHROMIUM_PATH' }
      : {
          path: null,
          from: 'CHROMIUM_PATH',
          problem: `CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file`,
        };
  }
  for (const name of NAMES) {
    const file = onPath(name, env.PATH ?? '', isExec);
    if (file) return { path: file, from: 'PATH' };
  }
  return { path: null, from: 'PATH', problem: `no ${NAMES.join(', ')} on PATH` };
}

export const HOW_TO_FIX =
  'Install Chromium (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable.';

/**
 * The decision, from the facts: `{ action: 'ok', path }`, `{ action: 'install',
 * commands }` (each an argv) or `{ action: 'fail', message }`.
 */
export function decide({ found, ...machine }) {
  if (found.path) return { action: 'ok', path: found.path };
  if (found.from === 'CHROMIUM_PATH')
    return {
      action: 'fail',
      message: `${found.problem}. Point it at a Chromium or Chrome executable, or unset it to let npm test find (or install) one.`,
    };
  return aptPlan(
    machine,
    ['chromium'],
    `The browser tests need Chromium: ${found.problem}`,
    HOW_TO_FIX,
  );
}

/** The facts about this machine that decide() needs. */
export function facts(env = process.env) {
  return { found: findChromium({ env }), ...machineFacts(env) };
}

function main(argv) {
  return carryOut(decide(facts()), {
    tag: 'ensure-chromium',
    dry: argv.includes('--dry-run'),
    missing: 'no Chromium found',
    find: () => findChromium(),
    howToFix: HOW_TO_FIX,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));

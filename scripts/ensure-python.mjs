#!/usr/bin/env node
// The Python client's tests (python/tests, run by test/e2e/python.test.ts) need
// a Python >= 3.9 that can import pytest, torch, optuna and pandas (the
// StrideStorage tests and trials_dataframe). This makes sure there is
// one before `npm test` (its pretest step):
//   1. STRIDE_PYTHON, when set, must be such an interpreter: it is used as is
//      (set but unusable is an error; nothing is installed over it);
//   2. else Debian's /usr/bin/python3, when it has those modules (not the
//      `python3` first on PATH, which may be a pyenv or venv without them);
//   3. else Debian's python3, python3-pytest, python3-torch, python3-optuna and
//      python3-pandas are installed
//      with apt-get when that is possible (root, or sudo without a password);
//   4. else it stops with what to do.
// `--dry-run` says what it would do and installs nothing (exit 0 when it could
// go on, 1 when it would fail). The tests find the interpreter with findPython().
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptPlan, carryOut, isExecutable, machineFacts } from './apt.mjs';

export const SYSTEM_PYTHON = '/usr/bin/python3';
export const MODULES = ['pytest', 'torch', 'optuna', 'pandas'];
export const PACKAGES = [
  'python3',
  'python3-pytest',
  'python3-torch',
  'python3-optuna',
  'python3-pandas',
];

const probeScript = (modules) => `import importlib.util, json, sys
print(json.dumps({"version": list(sys.version_info[:3]), "missing": [m for m in ${JSON.stringify(modules)} if importlib.util.find_spec(m) is None]}))`;

/**
 * What `python` is: its version and the `modules` (default MODULES) it lacks, or why it could
 * not be asked. scripts/check-python.mjs asks for its own modules.
 */
export function probePython(python, modules = MODULES) {
  if (!isExecutable(python)) return { error: 'not an executable file' };
  const r = spawnSync(python, ['-c', probeScript(modules)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    return {
      error: `it exited ${r.status ?? r.error?.message}: ${(r.stderr || '').trim().split('\n').pop()}`,
    };
  try {
    const { version, missing } = JSON.parse(r.stdout.trim().split('\n').pop());
    return { version, missing };
  } catch {
    return { error: `unexpected answer: ${r.stdout.slice(0, 200)}` };
  }
}

/** "a", "a and b", "a, b and c". */
function listed(items) {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function problemOf(python, p) {
  if (p.error) return `${python}: ${p.error}`;
  if (p.version[0] < 3 || (p.version[0] === 3 && p.version[1] < 9))
    return `${python} is Python ${p.version.join('.')}; the client needs 3.9 or later`;
  if (p.missing.length > 0) return `${python} cannot import ${listed(p.missing)}`;
  return null;
}

/**
 * The interpreter for the Python tests (or, with `modules`, one that can import those).
 * `path` is null when there is none; `problem` then says why.
 */
export function findPython({ env = process.env, probe = probePython, modules = MODULES } = {}) {
  if (env.STRIDE_PYTHON) {
    const problem = problemOf(env.STRIDE_PYTHON, probe(env.STRIDE_PYTHON, modules));
    return problem
      ? { path: null, from: 'STRIDE_PYTHON', problem }
      : { path: env.STRIDE_PYTHON, from: 'STRIDE_PYTHON' };
  }
  const problem = problemOf(SYSTEM_PYTHON, probe(SYSTEM_PYTHON, modules));
  return problem
    ? { path: null, from: 'system', problem }
    : { path: SYSTEM_PYTHON, from: 'system' };
}

export const HOW_TO_FIX =
  "Install Debian's packages (sudo apt-get install python3 python3-pytest python3-torch python3-optuna python3-pandas), or set STRIDE_PYTHON to a Python 3.9+ that can import pytest, torch, optuna and pandas.";

/**
 * The decision, from the facts: `{ action: 'ok', path }`, `{ action: 'install',
 * commands }` (each an argv) or `{ action: 'fail', message }`.
 */
export function decide({ found, ...machine }) {
  if (found.path) return { action: 'ok', path: found.path };
  if (found.from === 'STRIDE_PYTHON')
    return {
      action: 'fail',
      message: `STRIDE_PYTHON: ${found.problem}. Point it at a Python that can import pytest, torch, optuna and pandas, or unset it to let npm test use (or install) Debian's.`,
    };
  return aptPlan(
    machine,
    PACKAGES,
    `The Python client's tests need Python with pytest, torch, optuna and pandas: ${found.problem}`,
    HOW_TO_FIX,
  );
}

/** The facts about this machine that decide() needs. */
export function facts(env = process.env) {
  return { found: findPython({ env }), ...machineFacts(env) };
}

function main(argv) {
  return carryOut(decide(facts()), {
    tag: 'ensure-python',
    dry: argv.includes('--dry-run'),
    missing: "no usable Python for the client's tests",
    find: () => findPython(),
    howToFix: HOW_TO_FIX,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));

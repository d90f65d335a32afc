#!/usr/bin/env node
// The checks of the Python client (python/), run by CI (.ci/run) as `npm run lint:python`:
// Black's formatting (`black --check`: an unformatted file fails), flake8 and mypy, with the
// settings of python/pyproject.toml and python/.flake8. They run as modules of one interpreter,
// which also has pytest, torch and optuna: mypy reads their types where the tests, lr.py and
// integrations/optuna.py import them.
// (Black and flake8 rather than ruff: ruff is not packaged in Debian 12, and there is no PyPI here.)
//   1. STRIDE_PYTHON, when set, must be such an interpreter: it is used as is
//      (set but unusable is an error; nothing is installed over it);
//   2. else Debian's /usr/bin/python3, when it has them (not the `python3` first on PATH);
//   3. else Debian's python3, black, flake8, mypy, python3-pytest, python3-torch and python3-optuna are
//      installed with apt-get when that is possible (root, or sudo without a password);
//   4. else it stops with what to do.
// It runs every check, and exits 1 when one failed. `--dry-run` says what it would install and
// run, and does neither (exit 0 when it could go on, 1 when it would fail).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptPlan, carryOut, machineFacts } from './apt.mjs';
import { SYSTEM_PYTHON, findPython } from './ensure-python.mjs';

export const MODULES = ['black', 'flake8', 'mypy', 'pytest', 'torch', 'optuna'];
export const PACKAGES = [
  'python3',
  'black',
  'flake8',
  'mypy',
  'python3-pytest',
  'python3-torch',
  'python3-optuna',
];

/** The folder the checks run in: their settings are there. */
export const PYTHON_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'python');

/** Each check: its name and the interpreter's arguments, run in PYTHON_DIR. */
export const CHECKS = [
  { name: 'black', args: ['-m', 'black', '--check', '.'] },
  { name: 'flake8', args: ['-m', 'flake8', 'stride', 'tests'] },
  { name: 'mypy', args: ['-m', 'mypy'] },
];

export const HOW_TO_FIX =
  "Install Debian's packages (sudo apt-get install python3 black flake8 mypy python3-pytest python3-torch python3-optuna), or set STRIDE_PYTHON to a Python 3.9+ that can import black (23.x), flake8, mypy, pytest, torch and optuna.";

/** The interpreter for the checks: `path` is null when there is none; `problem` then says why. */
export function findCheckPython({ env = process.env, probe } = {}) {
  return findPython({ env, probe, modules: MODULES });
}

/**
 * The decision, from the facts: `{ action: 'ok', path }`, `{ action: 'install',
 * commands }` (each an argv) or `{ action: 'fail', message }`.
 */
export function decide({ found, ...machine }) {
  if (found.path) return { action: 'ok', path: found.path };
  if (found.from === 'STRIDE_PYTHON')
    return {
      action: 'fail',
      message: `STRIDE_PYTHON: ${found.problem}. Point it at a Python that can import black, flake8, mypy, pytest, torch and optuna, or unset it to let the checks use (or install) Debian's.`,
    };
  return aptPlan(
    machine,
    PACKAGES,
    `The checks of python/ need Python with Black, flake8 and mypy (and pytest, torch and optuna, whose types mypy reads): ${found.problem}`,
    HOW_TO_FIX,
  );
}

/** The facts about this machine that decide() needs. */
export function facts(env = process.env) {
  return { found: findCheckPython({ env }), ...machineFacts(env) };
}

/** Run CHECKS with `python`: the names of those that failed. */
export function runChecks(python, { say = console.log, dry = false, run = spawnSync } = {}) {
  const failed = [];
  for (const check of CHECKS) {
    say(`${dry ? 'would run' : 'running'} (in python/): ${[python, ...check.args].join(' ')}`);
    if (dry) continue;
    const r = run(python, check.args, { cwd: PYTHON_DIR, stdio: 'inherit' });
    if (r.status !== 0) failed.push(check.name);
  }
  return failed;
}

function main(argv) {
  const tag = 'check-python';
  const dry = argv.includes('--dry-run');
  const ready = carryOut(decide(facts()), {
    tag,
    dry,
    missing: 'no Python with Black, flake8 and mypy for the checks of python/',
    find: () => findCheckPython(),
    howToFix: HOW_TO_FIX,
  });
  if (ready !== 0) return ready;
  // After a dry run that would install, the interpreter is Debian's, once installed.
  const python = findCheckPython().path ?? SYSTEM_PYTHON;
  const failed = runChecks(python, { say: (m) => console.log(`${tag}: ${m}`), dry });
  if (failed.length === 0) {
    if (!dry) console.log(`${tag}: black, flake8 and mypy pass`);
    return 0;
  }
  console.error(
    `${tag}: ${failed.join(', ')} failed.${failed.includes('black') ? ` \`${python} -m black python\` (from the repository's root) formats python/ with its settings.` : ''}`,
  );
  return 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));

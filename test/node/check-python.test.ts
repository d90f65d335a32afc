// The checks of python/ (scripts/check-python.mjs, `npm run lint:python`, run by .ci/run): which
// interpreter, what it installs, what it runs. The checks themselves run in CI, not here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHECKS,
  MODULES,
  PYTHON_DIR,
  decide,
  findCheckPython,
  runChecks,
} from '../../scripts/check-python.mjs';
import type { Probe } from '../../scripts/ensure-python.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe("the Python checks' interpreter and packages", () => {
  it("uses /usr/bin/python3 (or STRIDE_PYTHON) with black, flake8, mypy, pytest and torch, and installs Debian's packages when it can", () => {
    const asked: string[][] = [];
    const ok = (_python: string, modules: string[]): Probe => {
      asked.push(modules);
      return { version: [3, 11, 2], missing: [] };
    };
    expect(findCheckPython({ env: {}, probe: ok })).toEqual({
      path: '/usr/bin/python3',
      from: 'system',
    });
    expect(asked).toEqual([MODULES]);
    expect(MODULES).toEqual(['black', 'flake8', 'mypy', 'pytest', 'torch', 'optuna']);
    expect(findCheckPython({ env: { STRIDE_PYTHON: '/opt/py/bin/python' }, probe: ok }).path).toBe(
      '/opt/py/bin/python',
    );

    const lacking = findCheckPython({
      env: {},
      probe: () => ({ version: [3, 11, 2], missing: ['black', 'flake8', 'mypy'] }),
    });
    expect(lacking).toEqual({
      path: null,
      from: 'system',
      problem: '/usr/bin/python3 cannot import black, flake8 and mypy',
    });
    const root = decide({ found: lacking, isRoot: true, hasSudo: false, hasApt: true });
    expect(root).toEqual({
      action: 'install',
      commands: [
        ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'],
        [
          'env',
          'DEBIAN_FRONTEND=noninteractive',
          'apt-get',
          'install',
          '-y',
          '-q',
          '--no-install-recommends',
          'python3',
          'black',
          'flake8',
          'mypy',
          'python3-pytest',
          'python3-torch',
          'python3-optuna',
        ],
      ],
    });
    const none = decide({ found: lacking, isRoot: false, hasSudo: false, hasApt: true });
    expect(none.action === 'fail' && none.message).toMatch(
      /black, flake8 and mypy.*not root and has no passwordless sudo.*apt-get install python3 black flake8 mypy/,
    );
    // A STRIDE_PYTHON without them is an error, even where apt-get could install.
    const bad = findCheckPython({
      env: { STRIDE_PYTHON: '/opt/py/bin/python' },
      probe: () => ({ version: [3, 12, 0], missing: ['mypy'] }),
    });
    const plan = decide({ found: bad, isRoot: true, hasSudo: true, hasApt: true });
    expect(plan.action === 'fail' && plan.message).toMatch(
      /^STRIDE_PYTHON: \/opt\/py\/bin\/python cannot import mypy\./,
    );
  });

  it('runs Black --check, flake8 and mypy in python/, all of them, and names those that failed', () => {
    const ran: { cmd: string; args: string[]; cwd: string }[] = [];
    const said: string[] = [];
    const failed = runChecks('/usr/bin/python3', {
      say: (m) => said.push(m),
      run: (cmd, args, { cwd }) => {
        ran.push({ cmd, args, cwd });
        return { status: args.includes('black') || args.includes('mypy') ? 1 : 0 };
      },
    });
    expect(failed).toEqual(['black', 'mypy']);
    expect(ran.map((r) => r.args.join(' '))).toEqual([
      '-m black --check .',
      '-m flake8 stride tests',
      '-m mypy',
    ]);
    expect(ran.every((r) => r.cmd === '/usr/bin/python3' && r.cwd === PYTHON_DIR)).toBe(true);
    expect(PYTHON_DIR).toBe(path.join(ROOT, 'python'));
    expect(said).toHaveLength(CHECKS.length);

    const dry = runChecks('/usr/bin/python3', {
      say: () => {},
      dry: true,
      run: () => {
        throw new Error('a dry run runs nothing');
      },
    });
    expect(dry).toEqual([]);
  });

  it('CI runs them (npm run lint:python after the format check), with their settings in python/', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts['lint:python']).toBe('node scripts/check-python.mjs');
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    const at = (cmd: string) => ci.search(new RegExp(`^${cmd}$`, 'm'));
    expect(at('npm run lint:python')).toBeGreaterThan(at('npm run format:check'));
    expect(at('npm run format:check')).toBeGreaterThan(-1);
    const pyproject = readFileSync(path.join(PYTHON_DIR, 'pyproject.toml'), 'utf8');
    for (const section of ['[tool.black]', '[tool.mypy]']) expect(pyproject).toContain(section);
    expect(readFileSync(path.join(PYTHON_DIR, '.flake8'), 'utf8')).toContain('[flake8]');
  });
});

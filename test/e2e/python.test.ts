// The Python client (python/) end to end: its pytest suite against the local
// Worker of the e2e run (global-setup.ts), with the interpreter that npm test's
// pretest step made sure of (scripts/ensure-python.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide, findPython, type Probe } from '../../scripts/ensure-python.mjs';
import { KEY, ROOT, RUNNER_KEY, URL } from './helpers';

const TESTS = path.join(ROOT, 'python/tests');

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ code, out }));
  });
}

/** The outcome counts of pytest's last summary line ("12 passed, 1 failed in 3.2s"). */
function summary(out: string): Record<string, number> {
  const line =
    out
      .trim()
      .split('\n')
      .filter((l) =>
        /\d+ (passed|failed|error|errors|skipped|xfailed|xpassed|deselected)\b/.test(l),
      )
      .pop() ?? '';
  return Object.fromEntries([...line.matchAll(/(\d+) (\w+)/g)].map((m) => [m[2], Number(m[1])]));
}

describe('the Python client (python/tests with pytest)', () => {
  // About 5 minutes on 2 cores, 2 of them the guides' examples (python/tests/test_examples.py).
  it('passes every test of its suite against the local Worker', { timeout: 900_000 }, async () => {
    const python = findPython();
    if (!python.path)
      throw new Error(
        `no Python for the client's tests (${python.problem}): run node scripts/ensure-python.mjs (npm test does), or set STRIDE_PYTHON`,
      );
    const env = {
      STRIDE_URL: URL,
      STRIDE_API_KEY: KEY,
      STRIDE_RUNNER_KEY: RUNNER_KEY,
      STRIDE_ADMIN_TOKEN: 'local-admin-token', // scripts/local-worker.mjs
      PYTHONDONTWRITEBYTECODE: '1',
    };
    const collected = await run(
      python.path,
      ['-m', 'pytest', TESTS, '--collect-only', '-q', '-p', 'no:cacheprovider'],
      env,
    );
    expect(collected.code, collected.out).toBe(0);
    const n = Number(
      /^(\d+) tests? collected/m.exec(collected.out)?.[1] ??
        /collected (\d+) items?/.exec(collected.out)?.[1],
    );
    // At least one collected test per test function written (parametrized ones count more).
    const written = readdirSync(TESTS)
      .filter((f) => /^test_.*\.py$/.test(f))
      .reduce(
        (k, f) =>
          k + (readFileSync(path.join(TESTS, f), 'utf8').match(/^def test_/gm) ?? []).length,
        0,
      );
    expect(written).toBeGreaterThan(40);
    expect(n).toBeGreaterThanOrEqual(written);

    const result = await run(
      python.path,
      ['-m', 'pytest', TESTS, '-q', '-p', 'no:cacheprovider', '-rfEs'],
      env,
    );
    expect(result.code, result.out).toBe(0);
    // Every collected test passed: none failed, errored, was skipped or expected to fail (warnings aside).
    const { warnings: _warnings, warning: _warning, ...outcomes } = summary(result.out);
    expect(outcomes, result.out).toEqual({ passed: n });
  });
});

describe("npm test's Python (scripts/ensure-python.mjs)", () => {
  const ok: Probe = { version: [3, 11, 2], missing: [] };
  it('uses /usr/bin/python3 (or STRIDE_PYTHON) with pytest, torch, optuna and pandas, installs them with apt-get when it can, and fails clearly otherwise', () => {
    expect(findPython({ env: {}, probe: () => ok })).toEqual({
      path: '/usr/bin/python3',
      from: 'system',
    });
    expect(findPython({ env: { STRIDE_PYTHON: '/opt/py/bin/python' }, probe: () => ok })).toEqual({
      path: '/opt/py/bin/python',
      from: 'STRIDE_PYTHON',
    });
    const lacking = findPython({
      env: {},
      probe: () => ({ version: [3, 11, 2], missing: ['torch'] }),
    });
    expect(lacking).toEqual({
      path: null,
      from: 'system',
      problem: '/usr/bin/python3 cannot import torch',
    });
    expect(
      findPython({ env: {}, probe: () => ({ version: [3, 8, 10], missing: [] }) }).problem,
    ).toMatch(/Python 3\.8\.10; the client needs 3\.9/);

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
          'python3-pytest',
          'python3-torch',
          'python3-optuna',
          'python3-pandas',
        ],
      ],
    });
    const sudo = decide({ found: lacking, isRoot: false, hasSudo: true, hasApt: true });
    expect(
      sudo.action === 'install' &&
        sudo.commands.every((c) => c.slice(0, 3).join(' ') === 'sudo -n env'),
    ).toBe(true);
    for (const f of [
      { isRoot: false, hasSudo: false, hasApt: true, why: /not root and has no passwordless sudo/ },
      { isRoot: true, hasSudo: false, hasApt: false, why: /apt-get is not available/ },
    ]) {
      const plan = decide({ found: lacking, ...f });
      expect(plan.action === 'fail' && plan.message).toMatch(f.why);
      expect(plan.action === 'fail' && plan.message).toMatch(
        /apt-get install python3 python3-pytest python3-torch python3-optuna python3-pandas.*or set STRIDE_PYTHON/,
      );
    }
    // A STRIDE_PYTHON that cannot run the tests is an error, even where apt-get could install.
    const bad = findPython({ env: { STRIDE_PYTHON: '/nonexistent/python' } });
    expect(bad).toEqual({
      path: null,
      from: 'STRIDE_PYTHON',
      problem: '/nonexistent/python: not an executable file',
    });
    expect(decide({ found: bad, isRoot: true, hasSudo: true, hasApt: true }).action).toBe('fail');
  });

  it('--dry-run: says what it would do and exits non-zero only when it could not go on', () => {
    const script = path.join(ROOT, 'scripts/ensure-python.mjs');
    const dryRun = (env: Record<string, string>) =>
      spawnSync(process.execPath, [script, '--dry-run'], { env, encoding: 'utf8' });
    // A "python" that lacks torch: a script answering the probe as such an interpreter would.
    const dir = mkdtempSync(path.join(tmpdir(), 'python-'));
    const fake = path.join(dir, 'python3');
    writeFileSync(fake, '#!/bin/sh\necho \'{"version": [3, 11, 0], "missing": ["torch"]}\'\n');
    chmodSync(fake, 0o755);
    const bad = dryRun({ PATH: process.env.PATH!, STRIDE_PYTHON: fake });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`STRIDE_PYTHON: ${fake} cannot import torch`);
    const found = findPython();
    if (found.path) {
      const good = dryRun({ PATH: process.env.PATH! });
      expect(good.status).toBe(0);
      expect(good.stdout).toContain(`ensure-python: using ${found.path}`);
    }
  });
});

// `stride agent` end to end: the real command line (bin/stride.mjs) against a
// local Worker over HTTP, running test/e2e/fixtures/train.mjs as the user's
// training command.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiJson, BIN, KEY, ROOT, RUNNER_KEY, sleep, until, URL } from './helpers';

const TRAIN = path.join(ROOT, 'test/e2e/fixtures/train.mjs');

async function runnerStudy(
  extra: Record<string, unknown> = {},
  executor: Record<string, unknown> = {},
) {
  return apiJson('POST', '/v1/studies', {
    name: 'agent-e2e',
    space: {
      lr: { type: 'float', low: 1e-4, high: 1, log: true },
      momentum: { type: 'float', low: 0.5, high: 0.99 },
    },
    sampler: { name: 'random', seed: 5 },
    max_trials: 3,
    executor: { kind: 'runner', ...executor },
    ...extra,
  });
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  done: Promise<number | null>;
}

interface AgentOpts {
  detached?: boolean;
  /** The service's URL (default the local Worker) and the key (default the runner key). */
  url?: string;
  key?: string;
  /** The command's params part (default --lr ${lr} --momentum ${momentum}). */
  params?: string[];
  /** The agent's stdout and stderr into one pipe (run.stdout), as on a terminal. */
  combined?: boolean;
}

/** Start the agent with the runner key; `train` are the fixture's extra args. */
function agent(studyId: string, agentArgs: string[], train: string[], opts: AgentOpts = {}): Run {
  return agentRunning(
    studyId,
    agentArgs,
    [
      process.execPath,
      TRAIN,
      ...(opts.params ?? ['--lr', '${lr}', '--momentum', '${momentum}']),
      ...train,
    ],
    opts,
  );
}

/** Start the agent with the runner key on `command`. */
function agentRunning(
  studyId: string,
  agentArgs: string[],
  command: string[],
  opts: AgentOpts = {},
): Run {
  const args = [BIN, 'agent', '--study', studyId, '--name', 'e2e', ...agentArgs, '--', ...command];
  const child = spawn(
    opts.combined ? 'sh' : process.execPath,
    opts.combined ? ['-c', 'exec "$0" "$@" 2>&1', process.execPath, ...args] : args,
    {
      env: { ...process.env, STRIDE_URL: opts.url ?? URL, STRIDE_API_KEY: opts.key ?? RUNNER_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? false,
    },
  );
  const run: Run = { child, stdout: '', stderr: '', done: Promise.resolve(null) };
  child.stdout!.on('data', (d) => (run.stdout += d));
  child.stderr!.on('data', (d) => (run.stderr += d));
  run.done = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return run;
}

const trialsOf = async (id: string) =>
  (await apiJson('GET', `/v1/studies/${id}/trials`)).trials as any[];
const expected = (p: { lr: number; momentum: number }, steps: number) =>
  (Math.log10(p.lr) + 2) ** 2 + (p.momentum - 0.9) ** 2 + 1 / steps;

describe('stride agent', () => {
  it('runs every trial of a study with the params substituted, reports each step and tells the final value', async () => {
    const study = await runnerStudy();
    const marker = mkdtempSync(path.join(os.tmpdir(), 'stride-agent-'));
    // ${trial}, ${study} and ${name:-default} are valid placeholders, whatever the space.
    const run = agent(
      study.id,
      [],
      ['--steps', '3', '--marker', marker, '--tag', '${trial}/${study}/${absent:-dflt}'],
    );
    expect(await run.done).toBe(0);
    expect(run.stdout).toContain(`tag=0/${study.id}/dflt`);
    const trials = await trialsOf(study.id);
    expect(trials).toHaveLength(3);
    for (const t of trials) {
      expect(t.state).toBe('complete');
      expect(t.value).toBeCloseTo(expected(t.params, 3), 10);
      expect(t.intermediate.map((p: any) => p.step)).toEqual([1, 2, 3]);
      expect(t.runner).toBe('e2e');
      // The environment carried the params as JSON.
      const done = JSON.parse(readFileSync(path.join(marker, `${t.number}.done`), 'utf8'));
      expect(done.params).toEqual(t.params);
      expect(done.gpu).toBeNull();
    }
    // The child's own output passed through; progress went to stderr as plain lines (not a TTY).
    expect(run.stdout).toMatch(/training trial 0 of std_/);
    expect(run.stdout).not.toMatch(/stride: \{/);
    expect(run.stderr).toMatch(/stride: trial 0 complete: /);
    expect(run.stderr).toMatch(/stride: done: 3 trials \(3 complete, 0 pruned, 0 failed\); best /);
    expect((await apiJson('GET', `/v1/studies/${study.id}`)).state).toBe('completed');
  });

  it('reads metrics from STRIDE_METRICS_FILE, runs one trial per GPU, and stops after --count', async () => {
    const study = await runnerStudy({ max_trials: 6 });
    const marker = mkdtempSync(path.join(os.tmpdir(), 'stride-agent-'));
    const run = agent(
      study.id,
      ['--gpus', '0,1', '--count', '4'],
      ['--file', '--steps', '4', '--sleep', '100', '--marker', marker],
    );
    expect(await run.done).toBe(0);
    const trials = (await trialsOf(study.id)).filter((t) => t.state !== 'waiting');
    expect(trials).toHaveLength(4);
    expect(trials.every((t) => t.state === 'complete' && t.intermediate.length === 4)).toBe(true);
    expect(new Set(trials.map((t) => t.runner))).toEqual(new Set(['e2e/gpu0', 'e2e/gpu1']));
    const gpus = readdirSync(marker).map(
      (f) => JSON.parse(readFileSync(path.join(marker, f), 'utf8')).gpu,
    );
    expect(new Set(gpus)).toEqual(new Set(['0', '1']));
    // Two at a time: some trials overlapped.
    const spans = trials
      .map((t) => [Date.parse(t.started_at), Date.parse(t.completed_at)])
      .sort((a, b) => a[0] - b[0]);
    expect(spans.some((s, i) => i > 0 && s[0] < spans[i - 1][1])).toBe(true);
    expect((await apiJson('GET', `/v1/studies/${study.id}`)).n_trials).toBe(4);
  });

  it('obeys should_prune: stops the child and tells pruned', async () => {
    // Median pruner from the first step: trials worse than the median of the earlier ones are pruned.
    const study = await runnerStudy({
      max_trials: 6,
      pruner: { name: 'median', n_startup_trials: 1, n_warmup_steps: 0 },
    });
    const marker = mkdtempSync(path.join(os.tmpdir(), 'stride-agent-'));
    const run = agent(
      study.id,
      ['--grace', '2'],
      ['--steps', '8', '--sleep', '150', '--marker', marker],
    );
    expect(await run.done).toBe(0);
    const trials = await trialsOf(study.id);
    const pruned = trials.filter((t) => t.state === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    for (const t of pruned) {
      // Stopped before the end: fewer than 8 steps reported, and the script never finished.
      expect(t.intermediate.length).toBeLessThan(8);
      expect(readdirSync(marker)).not.toContain(`${t.number}.done`);
    }
    expect(trials.filter((t) => t.state === 'complete').length).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/pruned at step \d+; stopping it/);
  });

  it('tells failed with the last stderr lines when the command crashes, exits without a value, or cannot start; exits 1 when no trial completed', async () => {
    const crash = await runnerStudy({ max_trials: 1 });
    const crashed = agent(crash.id, [], ['--crash']);
    expect(await crashed.done).toBe(1);
    expect(crashed.stderr).toMatch(/done: 1 trial \(0 complete, 0 pruned, 1 failed\)/);
    const [c] = await trialsOf(crash.id);
    expect(c.state).toBe('failed');
    expect(c.error).toMatch(/exit code 3/);
    expect(c.error).toMatch(/CUDA out of memory \(simulated\)/);

    const silent = await runnerStudy({ max_trials: 1 });
    expect(await agent(silent.id, [], ['--no-final']).done).toBe(1);
    const [s] = await trialsOf(silent.id);
    expect(s.state).toBe('failed');
    expect(s.error).toMatch(/without a final value/);

    const missing = await runnerStudy({ max_trials: 1 });
    const child = spawn(
      process.execPath,
      [
        BIN,
        'agent',
        '--study',
        missing.id,
        '--',
        '/nonexistent/python',
        'train.py',
        '--lr',
        '${lr}',
      ],
      {
        env: { ...process.env, STRIDE_URL: URL, STRIDE_API_KEY: RUNNER_KEY },
        stdio: 'ignore',
      },
    );
    expect(await new Promise((r) => child.on('close', r))).toBe(1);
    const [m] = await trialsOf(missing.id);
    expect(m.state).toBe('failed');
    expect(m.error).toMatch(/could not start "\/nonexistent\/python"/);
  });

  it('a killed agent loses its trial to expiry; a second agent finishes it and every trial is accounted for', async () => {
    const study = await runnerStudy({ max_trials: 2 }, { lease_seconds: 5 });
    // Agent A: slow trials; killed (with its child) mid-trial, like a machine that died.
    const a = agent(study.id, [], ['--steps', '50', '--sleep', '200'], { detached: true });
    await until('agent A to report', async () =>
      (await trialsOf(study.id)).some((t) => t.intermediate.length >= 2),
    );
    process.kill(-a.child.pid!, 'SIGKILL');
    await a.done;
    const [t0] = await trialsOf(study.id);
    expect(t0).toMatchObject({ number: 0, state: 'running', attempts: 1 });
    // After the lease expires (5 s, by the object's alarm), the trial waits again.
    await until(
      'the lease to expire',
      async () => (await trialsOf(study.id))[0].state === 'waiting',
      30_000,
    );
    // Agent B runs it (attempt 2) and the rest of the study.
    const b = agent(study.id, [], ['--steps', '3']);
    expect(await b.done).toBe(0);
    const trials = await trialsOf(study.id);
    expect(trials.map((t) => [t.number, t.state])).toEqual([
      [0, 'complete'],
      [1, 'complete'],
    ]);
    expect(trials[0].attempts).toBe(2);
    expect(trials[0].intermediate.map((p: any) => p.step)).toEqual([1, 2, 3]);
    expect((await apiJson('GET', `/v1/studies/${study.id}`)).state).toBe('completed');
  });

  it('Ctrl-C stops the child and hands the trial back at once', async () => {
    const study = await runnerStudy({ max_trials: 1 }, { max_attempts: 1 });
    const a = agent(study.id, ['--grace', '2'], ['--steps', '100', '--sleep', '100']);
    await until(
      'the trial to report',
      async () => (await trialsOf(study.id))[0]?.intermediate.length >= 1,
    );
    a.child.kill('SIGINT');
    expect(await a.done).toBe(130);
    const [t] = await trialsOf(study.id);
    expect(t).toMatchObject({ state: 'waiting', attempts: 0 });
    expect(a.stderr).toMatch(/trial 0: handed back/);
    // Another agent can take it right away (with max_attempts 1, a spent attempt would have failed it).
    const b = agent(study.id, [], ['--steps', '2']);
    expect(await b.done).toBe(0);
    expect((await trialsOf(study.id))[0].state).toBe('complete');
  });

  it('a placeholder that names no parameter is exit 2 with the closest name, and burns no trial', async () => {
    const params = ['--lr', '${learning_rate}', '--momentum', '${momentum}'];
    // A runner key may not read the study: the first leased trial shows the mistake; it is handed back unspent.
    const study = await runnerStudy({ max_trials: 2 }, { max_attempts: 1 });
    const runner = agent(study.id, [], ['--steps', '2'], { params });
    expect(await runner.done).toBe(2);
    expect(runner.stderr).toContain('${learning_rate}');
    expect(runner.stderr).toContain('did you mean ${lr}?');
    expect(runner.stdout).not.toMatch(/training trial/); // the command never ran
    const trials = await trialsOf(study.id);
    expect(trials.every((t) => t.state === 'waiting' && t.attempts === 0)).toBe(true);
    // A key that may read the study: checked against its space before leasing anything.
    const other = await runnerStudy({ max_trials: 2 });
    const reader = agent(other.id, [], ['--steps', '2'], { params, key: KEY });
    expect(await reader.done).toBe(2);
    expect(reader.stderr).toMatch(
      /\$\{learning_rate\}, which names no parameter of the study \(it has lr, momentum\): did you mean \$\{lr\}\?/,
    );
    expect(await trialsOf(other.id)).toEqual([]);
    // The fixed command runs both studies to the end.
    expect(await agent(study.id, [], ['--steps', '2']).done).toBe(0);
    expect((await trialsOf(study.id)).map((t) => t.state)).toEqual(['complete', 'complete']);
  });

  it('keeps up with a script that reports fast over a slow link: every step arrives, and the tell follows promptly', async () => {
    // 100 ms per request, like a service across the internet.
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      const relay = async () => {
        await sleep(100);
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const headers: Record<string, string> = {};
        for (const h of ['authorization', 'content-type'])
          if (req.headers[h]) headers[h] = String(req.headers[h]);
        const r = await fetch(URL + req.url, { method: req.method, headers, body });
        const text = await r.text();
        res.writeHead(
          r.status,
          Object.fromEntries(
            [...r.headers].filter(([k]) => ['content-type', 'retry-after'].includes(k)),
          ),
        );
        res.end(text);
      };
      req.on('end', () => void relay());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const study = await runnerStudy({ max_trials: 1 });
      const marker = mkdtempSync(path.join(os.tmpdir(), 'stride-agent-'));
      const run = agent(study.id, [], ['--steps', '500', '--sleep', '0', '--marker', marker], {
        url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      });
      expect(await run.done).toBe(0);
      const exited = Date.now();
      const childDone = statSync(path.join(marker, '0.done')).mtimeMs;
      const [t] = await trialsOf(study.id);
      expect(t.state).toBe('complete');
      expect(t.value).toBeCloseTo(expected(t.params, 500), 10);
      expect(t.intermediate).toHaveLength(500);
      expect(t.intermediate.map((p: any) => p.step)).toEqual(
        Array.from({ length: 500 }, (_, i) => i + 1),
      );
      // One report at a time would take over 500 x 100 ms = 50 s after the script ended; the bound leaves
      // room for a slow local Worker (each report is one request to the study's Durable Object).
      expect(exited - childDone).toBeLessThan(35_000);
    } finally {
      proxy.close();
    }
  });

  it("echoes the script's lines and its metrics in the order the script printed them", async () => {
    const study = await runnerStudy({ max_trials: 1 });
    const run = agent(study.id, [], ['--steps', '6', '--sleep', '30', '--chatty'], {
      combined: true,
    });
    expect(await run.done).toBe(0);
    const order = run.stdout
      .split('\n')
      .map((l) => {
        const m = /trial 0 step (\d+):/.exec(l);
        const e = /^epoch (\d+) done$/.exec(l);
        return m ? `metric ${m[1]}` : e ? `epoch ${e[1]}` : null;
      })
      .filter((x) => x !== null);
    expect(order).toEqual([1, 2, 3, 4, 5, 6].flatMap((s) => [`metric ${s}`, `epoch ${s}`]));
  });

  it('Ctrl-C after the script printed its final value tells that value instead of handing the trial back', async () => {
    const study = await runnerStudy({ max_trials: 1 });
    const a = agent(study.id, ['--grace', '2'], ['--steps', '2', '--linger', '60000']);
    await until('the script to print its final value', async () => a.stdout.includes('lingering'));
    a.child.kill('SIGINT');
    expect(await a.done).toBe(130);
    const [t] = await trialsOf(study.id);
    expect(t.state).toBe('complete');
    expect(t.value).toBeCloseTo(expected(t.params, 2), 10);
    expect(a.stderr).toMatch(/trial 0 complete/);
    expect(a.stderr).not.toMatch(/handed back/);
  });

  it('drives a study with several objectives and constraints: tells values and constraints, sends no reports, and best_trials is the Pareto front', async () => {
    const study = await apiJson('POST', '/v1/studies', {
      name: 'agent-e2e-mo',
      space: {
        lr: { type: 'float', low: 1e-4, high: 1, log: true },
        momentum: { type: 'float', low: 0.5, high: 0.99 },
      },
      directions: ['minimize', 'minimize'],
      metrics: ['loss', 'seconds'],
      sampler: { name: 'random', seed: 5 },
      max_trials: 4,
      executor: { kind: 'runner' },
    });
    // The objectives are the params themselves: trial 2 is dominated by trial 1, and trial 3,
    // which dominates every other, breaks its first constraint (lr >= 0.005).
    for (const params of [
      { lr: 0.01, momentum: 0.9 },
      { lr: 0.1, momentum: 0.6 },
      { lr: 0.2, momentum: 0.7 },
      { lr: 0.001, momentum: 0.55 },
    ])
      await apiJson('POST', `/v1/studies/${study.id}/trials`, { params });
    // A shell script: two step lines (not sent: the study takes no intermediate values), then the values and constraints.
    const script =
      'echo "stride: {\\"step\\": 1, \\"value\\": $1}"; echo "stride: {\\"step\\": 2, \\"value\\": $1}"; ' +
      'awk -v lr="$1" -v m="$2" \'BEGIN { printf "stride: {\\"values\\": [%s, %s], \\"constraints\\": [%.17g, -1]}\\n", lr, m, 0.005 - lr }\'';
    const run = agentRunning(study.id, [], ['sh', '-c', script, 'sh', '${lr}', '${momentum}']);
    expect(await run.done).toBe(0);
    const trials = await trialsOf(study.id);
    expect(trials.map((t) => t.state)).toEqual(['complete', 'complete', 'complete', 'complete']);
    for (const t of trials) {
      expect(t.values).toEqual([t.params.lr, t.params.momentum]);
      expect(t.value).toBeNull();
      expect(t.constraints).toHaveLength(2);
      expect(t.constraints[0]).toBeCloseTo(0.005 - t.params.lr, 12);
      expect(t.constraints[1]).toBe(-1);
      expect(t.intermediate).toEqual([]);
    }
    const view = await apiJson('GET', `/v1/studies/${study.id}`);
    expect(view.state).toBe('completed');
    expect(view.best_trials.map((t: any) => t.number)).toEqual([0, 1]);
    // Warned once about the step lines; progress says the values by name (no single best).
    expect(run.stderr.match(/take no intermediate values/g)).toHaveLength(1);
    expect(run.stderr).toMatch(
      /stride: trial 1 complete: loss=0\.1 seconds=0\.6; constraints -0\.095, -1 \(feasible\)/,
    );
    expect(run.stderr).toMatch(
      /stride: trial 3 complete: loss=0\.001 seconds=0\.55; constraints 0\.004, -1 \(infeasible\)/,
    );
    expect(run.stderr).toMatch(/stride: done: 4 trials \(4 complete, 0 pruned, 0 failed\)\n/);
    expect(run.stderr).not.toMatch(/best/);
    expect(run.stderr).not.toMatch(/report of step/);
  });

  it('a final result the study cannot take fails the trial saying what was wrong', async () => {
    const study = await apiJson('POST', '/v1/studies', {
      name: 'agent-e2e-mo-bad',
      space: { x: { type: 'float', low: 0, high: 1 } },
      directions: ['minimize', 'maximize'],
      metrics: ['loss', 'accuracy'],
      sampler: { name: 'random', seed: 1 },
      max_trials: 5,
      executor: { kind: 'runner', max_attempts: 1 },
    });
    // Trial by trial: one value, three values, a NaN value, an infinite constraint, and at last a good one.
    const lines = [
      '{"value": 0.3}',
      '{"values": [0.3, 0.9, 1]}',
      '{"values": [0.3, NaN]}',
      '{"values": [0.3, 0.9], "constraints": [-Infinity]}',
      '{"values": [0.3, 0.9], "constraints": [-1]}',
    ];
    const script = `case "$1" in ${lines.map((l, i) => `${i}) echo 'stride: ${l}';;`).join(' ')} esac`;
    const run = agentRunning(study.id, [], ['sh', '-c', script, 'sh', '${trial}']);
    expect(await run.done).toBe(0);
    const trials = await trialsOf(study.id);
    expect(trials.map((t) => t.state)).toEqual([
      'failed',
      'failed',
      'failed',
      'failed',
      'complete',
    ]);
    expect(trials[0].error).toBe(
      'the final result has a single "value"; the study has 2 objectives (loss, accuracy): print {"values": [<loss>, <accuracy>]}',
    );
    expect(trials[1].error).toBe(
      'the final result has 3 values; the study has 2 objectives (loss, accuracy): print {"values": [<loss>, <accuracy>]}',
    );
    expect(trials[2].error).toBe('diverged: values[1] (accuracy) was NaN or infinite');
    expect(trials[3].error).toMatch(/^constraints\[0\] was NaN or infinite/);
    expect(trials[4]).toMatchObject({ values: [0.3, 0.9], constraints: [-1] });
    expect(run.stderr).toMatch(/stride: trial 0 failed: the final result has a single "value"/);
    expect(run.stderr).toMatch(/done: 5 trials \(1 complete, 0 pruned, 4 failed\)/);

    // On a single-objective study, several values are as wrong; one in a list is fine, with constraints;
    // a number of constraints other than the earlier trials' is refused by the service: failed with its reason.
    const single = await runnerStudy({ max_trials: 3 }, { max_attempts: 1 });
    const singleLines = [
      '{"values": [0.3, 0.4]}',
      '{"values": [0.25], "constraints": [0.5]}',
      '{"value": 0.2, "constraints": [-1, -1]}',
    ];
    const run1 = agentRunning(
      single.id,
      [],
      [
        'sh',
        '-c',
        `case "$1" in ${singleLines.map((l, i) => `${i}) echo 'stride: ${l}';;`).join(' ')} esac`,
        'sh',
        '${trial}',
      ],
    );
    expect(await run1.done).toBe(0);
    const [a, b, c] = await trialsOf(single.id);
    expect(a.state).toBe('failed');
    expect(a.error).toBe(
      'the final result has 2 values; the study has 1 objective (value): print {"value": <number>}',
    );
    expect(b).toMatchObject({ state: 'complete', value: 0.25, constraints: [0.5] });
    expect(c.state).toBe('failed');
    expect(c.error).toMatch(
      /^the service refused the result \{"value":0\.2,"constraints":\[-1,-1\]\}: .*constraints/,
    );
    // Infeasible: no best.
    expect(run1.stderr).toMatch(/trial 1 complete: 0\.25; constraints 0\.5 \(infeasible\)\n/);
    expect(run1.stderr).not.toMatch(/best/);
  });

  it('says what is wrong on bad usage (exit 2)', async () => {
    const run = (
      args: string[],
      env: Record<string, string> = { STRIDE_URL: URL, STRIDE_API_KEY: RUNNER_KEY },
    ) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, [BIN, ...args], {
          env: { ...process.env, STRIDE_API_KEY: '', ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        c.stderr!.on('data', (d) => (err += d));
        c.on('close', (code) => resolve({ code, err }));
      });
    expect(await run(['agent', '--study', 'x'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('no command to run'),
    });
    expect(await run(['agent', '--count', 'zero', '--', 'true'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--count'),
    });
    expect(await run(['agent', '--', 'true'], { STRIDE_URL: URL })).toMatchObject({
      code: 2,
      err: expect.stringContaining('no API key'),
    });
    expect(
      await run(['agent', '--study', 'std_00000000000000000000000000', '--', 'true']),
    ).toMatchObject({ code: 2, err: expect.stringContaining('no study') });
    expect(await run(['frobnicate'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("unknown command 'frobnicate'"),
    });
  });
});

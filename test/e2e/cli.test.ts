// The CI command line (bin/stride.mjs) against a local Worker: lr-find,
// check (its exit codes are a CI gate), study create/wait/best/export.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiJson, stride } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'stride-cli-'));

function file(name: string, value: unknown): string {
  const p = path.join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
}
const PROBE = {
  model: { kind: 'mlp', hidden: [32], activation: 'relu' },
  task: 'classification',
  data: { kind: 'synthetic', name: 'blobs', n: 512, features: 4, classes: 3, noise: 0.5, seed: 1 },
  optimizer: { name: 'sgd', momentum: 0.9 },
  batch_size: 32,
  seed: 0,
};

describe('stride CI commands', () => {
  it('lr-find prints the curve as a plot and the suggestion; --json gives the API answer', async () => {
    const probe = file('probe.json', PROBE);
    const human = await stride(['lr-find', probe]);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/┤.*\*/); // the plot
    expect(human.out).toMatch(/\| suggested lr/);
    expect(human.out).toMatch(/suggested lr [\d.e+-]+ \(valley, confidence (high|medium|low)\)/);
    expect(human.out).toMatch(/max stable lr/);
    const json = await stride(['lr-find', probe, '--json']);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.out);
    expect(r.suggestion.lr).toBeGreaterThan(0);
    expect(r.curve.length).toBeGreaterThan(10);
    // A whole request ({"probe", "range"}) works too.
    const whole = await stride([
      'lr-find',
      file('req.json', { probe: PROBE, range: { steps: 40 } }),
      '--json',
    ]);
    expect(JSON.parse(whole.out).curve.length).toBeLessThanOrEqual(40);
  });

  it('lr-find --epochs/--steps validates at the training length (POST /v1/lr/suggest): lr, confidence, horizon, candidates, reasoning; --json has both answers', async () => {
    // Small enough that validating every candidate for 5 epochs takes seconds.
    const small = {
      model: { kind: 'mlp', hidden: [16], activation: 'relu' },
      task: 'classification',
      data: { kind: 'synthetic', name: 'moons', n: 256, noise: 0.2, seed: 3 },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 32,
      seed: 0,
    };
    const probe = file('probe-horizon.json', small);
    // 5 epochs of 7 steps: the default 100-step sweep is nearly 3 runs, so a budget of 8 buys the
    // search a level at the full horizon.
    const human = await stride(['lr-find', probe, '--epochs', '5', '--budget', '8']);
    expect(human.code, human.err).toBe(0);
    expect(human.out).toMatch(/┤.*\*/); // the range test's plot comes first, as before
    expect(human.out).toMatch(/suggested lr [\d.e+-]+ \(valley/);
    const lr = /^validated lr ([\d.e+-]+) \(confidence (high|medium|low)\)$/m.exec(human.out);
    expect(lr, human.out).not.toBeNull();
    expect(human.out).toContain('horizon: validated at 5 of 5 epochs (full), constant schedule');
    expect(human.out).toMatch(/^compute: [\d.]+ of 8 full runs \(the sweep included\)$/m);
    expect(human.out).toMatch(/^ +lr +sources +length +state +value +epochs run +tied$/m);
    // Shorter runs first, then the full 5 epochs; each ran the length it was given.
    const rows = human.out.split('\n').filter((l) => /^  [* ] +[\d.e+-]+ +level /.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const row of rows) {
      const m = /level \d+ +(\d+) +complete +[\d.e+-]+ +(\d+)/.exec(row);
      if (m) expect(m[2]).toBe(m[1]);
    }
    expect(rows.some((r) => / 5 +complete /.test(r))).toBe(true);
    expect(human.out).toMatch(/^why:\n {2}- range test lrt_\w+ \(cached\)/m);
    expect(human.out).toMatch(/level \d: \d+ lrs at 5 of 5 epochs/);
    expect(human.out).not.toMatch(/for a validated lr at your training length/);

    // --steps and --schedule, as JSON: the range test and the lr/suggest answer.
    const json = await stride([
      'lr-find',
      probe,
      '--steps',
      '35',
      '--schedule',
      'cosine',
      '--budget',
      '8',
      '--json',
    ]);
    expect(json.code, json.err).toBe(0);
    const r = JSON.parse(json.out);
    expect(Object.keys(r).sort()).toEqual(['range_test', 'suggestion']);
    expect(r.range_test.curve.length).toBeGreaterThan(10);
    expect(r.suggestion).toMatchObject({
      method: 'validated',
      confidence: expect.stringMatching(/^(high|medium|low)$/),
      // 35 steps of 7 per epoch (205 training rows, batch 32).
      horizon: {
        epochs: 5,
        steps: 35,
        source: 'training.steps',
        validated_epochs: 5,
        method: 'full',
        schedule: 'cosine',
      },
      validation: { schedule: 'cosine', epochs: 5 },
      range_test: { id: r.range_test.id },
    });
    expect(r.suggestion.validation.candidates.length).toBeGreaterThanOrEqual(2);
    expect(r.suggestion.compute.runs).toBeLessThanOrEqual(8);
    // The answer lies among the runs at the full horizon (their best, or between them).
    const full = r.suggestion.validation.candidates
      .filter((c: { length: number }) => c.length === 5)
      .map((c: { lr: number }) => c.lr);
    expect(r.suggestion.lr).toBeGreaterThanOrEqual(Math.min(...full) / 10 ** 0.2);
    expect(r.suggestion.lr).toBeLessThanOrEqual(Math.max(...full) * 10 ** 0.2);
    expect(r.suggestion.reasoning.length).toBeGreaterThan(2);

    // Without a horizon: as before, with one hint line; --json is the range test itself.
    const plain = await stride(['lr-find', probe]);
    expect(plain.out).toContain('for a validated lr at your training length: --epochs N');
    expect(plain.out).not.toMatch(/^validated lr/m);
    const plainJson = JSON.parse((await stride(['lr-find', probe, '--json'])).out);
    expect(plainJson).toMatchObject({
      id: r.range_test.id,
      suggestion: { lr: expect.any(Number) },
    });

    // Usage errors: exit 2 before anything runs.
    const both = await stride(['lr-find', probe, '--epochs', '5', '--steps', '35']);
    expect(both).toMatchObject({ code: 2, out: '' });
    expect(both.err).toMatch(/stride lr-find: give --epochs or --steps, not both/);
    expect(await stride(['lr-find', probe, '--epochs', '0'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("--epochs must be a whole number >= 1, got '0'"),
    });
    expect(await stride(['lr-find', probe, '--epochs', '5', '--schedule', 'step'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--schedule must be constant, cosine, one_cycle'),
    });
    expect(await stride(['lr-find', probe, '--schedule', 'cosine'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('add --epochs N or --steps N'),
    });
    expect((await stride(['--help'])).out).toMatch(/--epochs N or\s+--steps N \(not both\)/);
  });

  it('check exits 0 inside the stable region, 1 above max_stable_lr or far below the suggestion, 2 on errors', async () => {
    const probe = file('probe-check.json', PROBE);
    const r = JSON.parse((await stride(['lr-find', probe, '--json'])).out);
    const { lr, max_stable_lr } = r.suggestion;
    const ok = await stride(['check', probe, '--lr', String(lr)]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ok: lr .* is within the stable region/);
    const high = await stride(['check', probe, '--lr', String(max_stable_lr * 3)]);
    expect(high.code).toBe(1);
    expect(high.out).toMatch(/FAIL: .* is above max_stable_lr/);
    const low = await stride(['check', probe, '--lr', String(lr / 100), '--json']);
    expect(low.code).toBe(1);
    expect(JSON.parse(low.out)).toMatchObject({ verdict: 'far_below_suggestion' });
    // A looser factor lets it pass.
    expect(
      (await stride(['check', probe, '--lr', String(lr / 100), '--factor', '1000'])).code,
    ).toBe(0);
    // Usage and service errors: 2, with the reason.
    expect(await stride(['check', probe])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--lr'),
    });
    expect(await stride(['check', path.join(dir, 'missing.json'), '--lr', '0.1'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('cannot read'),
    });
    expect(await stride(['check', file('bad.json', '{not json'), '--lr', '0.1'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('is not JSON'),
    });
    const invalid = await stride([
      'check',
      file('invalid.json', { ...PROBE, batch_size: 0 }),
      '--lr',
      '0.1',
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/answered 422/);
    expect(invalid.err).toMatch(/probe\.batch_size/);
    expect((await stride(['check', probe, '--lr', '0.1'], { STRIDE_API_KEY: 'wrong' })).code).toBe(
      2,
    );
    expect(
      (await stride(['check', probe, '--lr', '0.1'], { STRIDE_URL: 'http://127.0.0.1:9' })).err,
    ).toMatch(/cannot reach stride/);
  });

  it('study create, wait (completed and timed out), best and export', async () => {
    const created = await stride([
      'study',
      'create',
      file('study.json', {
        name: 'cli-study',
        space: {
          lr: { type: 'float', low: 1e-4, high: 1, log: true },
          opt: { type: 'categorical', choices: ['sgd', 'adam'] },
        },
        max_trials: 3,
      }),
    ]);
    expect(created.code).toBe(0);
    const id = created.out.trim();
    expect(id).toMatch(/^std_/);
    // Still running: wait times out (exit 1).
    const timedOut = await stride(['study', 'wait', id, '--timeout', '1s', '--interval', '200ms']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.err).toMatch(
      /timed out after \d+ s: the study is still running \(0\/3 trials\): waiting for your ask\/tell loop/,
    );
    // Run it (ask and tell over the API), waiting meanwhile.
    const waiting = stride(['study', 'wait', id, '--timeout', '60s', '--interval', '200ms']);
    for (let i = 0; i < 3; i++) {
      const t = await apiJson('POST', `/v1/studies/${id}/ask`);
      await apiJson('POST', `/v1/studies/${id}/trials/${t.number}/tell`, { value: 1 + i });
    }
    const done = await waiting;
    expect(done.code).toBe(0);
    expect(done.err).toMatch(/completed: best 1 \(trial 0\)/);
    const best = await stride(['study', 'best', id, '--json']);
    expect(best.code).toBe(0);
    expect(JSON.parse(best.out)).toMatchObject({ number: 0, value: 1 });
    const human = await stride(['study', 'best', id]);
    expect(human.out).toMatch(/trial 0: value = 1\n  lr = /);
    const csv = await stride(['study', 'export', id, '--format', 'csv']);
    const lines = csv.out.trim().split('\n');
    expect(lines[0]).toBe(
      'number,state,value,error,started_at,completed_at,attempts,steps_reported,param_lr,param_opt',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^0,complete,1,,/);
    const out = path.join(dir, 'export.json');
    expect((await stride(['study', 'export', id, '--format', 'json', '--output', out])).code).toBe(
      0,
    );
    const exported = JSON.parse(readFileSync(out, 'utf8'));
    expect(exported.study.id).toBe(id);
    expect(exported.trials).toHaveLength(3);
    // A study whose trials all failed: wait exits 1.
    const failing = (
      await stride([
        'study',
        'create',
        file('f.json', {
          name: 'f',
          space: { lr: { type: 'float', low: 0.1, high: 1 } },
          max_trials: 1,
        }),
      ])
    ).out.trim();
    const t = await apiJson('POST', `/v1/studies/${failing}/ask`);
    await apiJson('POST', `/v1/studies/${failing}/trials/${t.number}/tell`, {
      state: 'failed',
      error: 'diverged',
    });
    const failed = await stride(['study', 'wait', failing, '--timeout', '10s']);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/no trial completed/);
    expect((await stride(['study', 'best', failing])).code).toBe(1);
    // Usage.
    expect((await stride(['study', 'frob', id])).code).toBe(2);
    expect((await stride(['study', 'wait', id, '--timeout', 'soon'])).err).toMatch(
      /not a duration/,
    );
    expect((await stride(['study', 'export', id, '--format', 'xml'])).code).toBe(2);
    expect((await stride(['study', 'best', 'std_00000000000000000000000000'])).err).toMatch(
      /answered 404/,
    );
  });

  it('study create starts an edge study (unless --no-start), study run starts one, and wait says why a study stalls', async () => {
    const edge = {
      name: 'cli-edge',
      space: { lr: { type: 'float', low: 1e-3, high: 1, log: true } },
      max_trials: 2,
      executor: {
        kind: 'edge',
        epochs: 1,
        parallelism: 2,
        probe: { ...PROBE, data: { ...PROBE.data, n: 128 } },
      },
    };
    // Created and started: wait sees it complete.
    const started = await stride(['study', 'create', file('edge.json', edge)]);
    expect(started.code).toBe(0);
    expect(started.err).toMatch(/started: its trials train on the edge/);
    const id = started.out.trim();
    const done = await stride(['study', 'wait', id, '--timeout', '90s', '--interval', '300ms']);
    expect(done.err).toMatch(/completed: best /);
    expect(done.code).toBe(0);

    // --no-start: wait says how to start it; `study run` does, and it completes.
    const held = await stride(['study', 'create', file('edge-held.json', edge), '--no-start']);
    expect(held.code).toBe(0);
    const heldId = held.out.trim();
    expect(held.err).toContain(
      `not started (--no-start): start it with \`stride study run ${heldId}\``,
    );
    const stalled = await stride([
      'study',
      'wait',
      heldId,
      '--timeout',
      '1s',
      '--interval',
      '300ms',
    ]);
    expect(stalled.code).toBe(1);
    expect(stalled.err).toContain(
      `the study is still running (0/2 trials): not started: run \`stride study run ${heldId}\``,
    );
    const json = JSON.parse(
      (await stride(['study', 'wait', heldId, '--timeout', '1s', '--json'])).out,
    );
    expect(json).toMatchObject({
      ok: false,
      timed_out: true,
      hint: `not started: run \`stride study run ${heldId}\``,
    });
    const run = await stride(['study', 'run', heldId]);
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/started study std_\w+ \(cli-edge\)/);
    expect(
      (await stride(['study', 'wait', heldId, '--timeout', '90s', '--interval', '300ms'])).code,
    ).toBe(0);
    expect((await apiJson('GET', `/v1/studies/${heldId}`)).n_trials).toBe(2);

    // A runner study that no runner serves.
    const runner = (
      await stride([
        'study',
        'create',
        file('runner.json', { ...edge, name: 'cli-runner', executor: { kind: 'runner' } }),
      ])
    ).out.trim();
    const idle = await stride(['study', 'wait', runner, '--timeout', '1s', '--interval', '300ms']);
    expect(idle.code).toBe(1);
    expect(idle.err).toContain(
      `no runner has leased a trial: start \`stride agent --study ${runner}`,
    );
    // `study run` of a study that is not an edge study: the service's 409, exit 2.
    const notEdge = await stride(['study', 'run', runner]);
    expect(notEdge.code).toBe(2);
    expect(notEdge.err).toMatch(/answered 409: .*not an edge study/);
  });
});

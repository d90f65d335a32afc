// POST /v1/lr/suggest validated on your hardware: executor client (your loop asks and tells) or
// runner (leased by stride agent), from a stored range test or a posted curve. The study of the
// candidates is driven here as a client would drive it, with a noise-free synthetic validation
// loss whose best learning rate is known; GET /v1/lr/suggest/{id} must find it. Inside workerd,
// against the real Durable Object and D1.
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';

const RUNNER_KEY = env.STRIDE_RUNNER_KEY;

/** A sweep from 1e-6 to 10 that descends around 1e-3 and diverges past ~1 (null: the loss was NaN). */
function sweep(n = 60) {
  const lr = Array.from({ length: n }, (_, i) => 10 ** (-6 + (7 * i) / (n - 1)));
  const loss = lr.map((v) => (v > 3 ? null : 1 + 1 / (1 + v * 1e3) + 4 * v * v));
  return { lr, loss };
}
const CURVE_BODY = { curve: sweep(), optimizer: { name: 'sgd', momentum: 0.9 } };

/**
 * Validation loss after `epoch` epochs at `lr`: from 2.3 towards a floor that is lowest at `best`
 * (quadratic in log10 lr), converging fast, so the last epochs are flat (no noise, no spread).
 */
const valley = (best: number) => (lr: number, epoch: number) => {
  const floor = 0.2 + 0.3 * (Math.log10(lr) - Math.log10(best)) ** 2;
  return floor + (2.3 - floor) * Math.exp(-0.8 * epoch);
};

type Loss = (lr: number, epoch: number) => number;

/**
 * Train every trial the study gives, as a client: ask, report each `every`-th epoch (from 1) and the
 * last, stop when pruned, tell. (Fewer reports keep the suite quick; the answer reads the last ones.)
 */
async function driveClient(
  studyId: string,
  loss: Loss,
  epochs: number,
  every = 1,
): Promise<number> {
  let ran = 0;
  for (;;) {
    const res = await post(`/v1/studies/${studyId}/ask`, {});
    if (res.status === 409) return ran;
    expect(res.status).toBe(201);
    const t = (await res.json()) as any;
    ran++;
    let pruned = false;
    for (let e = 1; e <= epochs && !pruned; e++) {
      if (e % every !== 0 && e !== epochs) continue;
      const r = await json(
        post(`/v1/studies/${studyId}/trials/${t.number}/report`, {
          step: e,
          value: loss(t.params.lr, e),
        }),
      );
      pruned = r.should_prune;
    }
    const told = await post(
      `/v1/studies/${studyId}/trials/${t.number}/tell`,
      pruned ? { state: 'pruned' } : { value: loss(t.params.lr, epochs) },
    );
    expect(told.status).toBe(200);
  }
}

/** The same with the runner key: lease, report and tell with the lease token, until the study has no work. */
async function driveRunner(studyId: string, loss: Loss, epochs: number): Promise<number> {
  let ran = 0;
  for (;;) {
    const res = await post(
      '/v1/runners/lease',
      { study_id: studyId, runner: { name: 'gpu-0' } },
      RUNNER_KEY,
    );
    if (res.status === 204) {
      expect(res.headers.get('retry-after')).toBeNull(); // nothing out: the study has no more work
      return ran;
    }
    expect(res.status).toBe(200);
    const g = (await res.json()) as any;
    ran++;
    const base = `/v1/studies/${studyId}/trials/${g.trial.number}`;
    let pruned = false;
    for (let e = 1; e <= epochs && !pruned; e++) {
      pruned = (
        await json(
          post(
            `${base}/report`,
            { step: e, value: loss(g.trial.params.lr, e), lease_token: g.lease.token },
            RUNNER_KEY,
          ),
        )
      ).should_prune;
    }
    const body = pruned
      ? { state: 'pruned', lease_token: g.lease.token }
      : { value: loss(g.trial.params.lr, epochs), lease_token: g.lease.token };
    expect((await post(`${base}/tell`, body, RUNNER_KEY)).status).toBe(200);
  }
}

const nearestInLog = (lrs: number[], target: number) =>
  lrs.reduce((a, b) =>
    Math.abs(Math.log10(b / target)) < Math.abs(Math.log10(a / target)) ? b : a,
  );

describe('lr/suggest on your hardware: executor client', () => {
  it('answers 202 with the candidates and their study, each trained for the whole horizon, then GET finds the known best among them', async () => {
    const res = await post('/v1/lr/suggest', {
      ...CURVE_BODY,
      executor: { kind: 'client' },
      training: { epochs: 12 },
      // The grid on seeds (the budgeted search has its own tests: lr-ladder.test.ts).
      validation: { seeds: 1 },
    });
    const start = (await res.json()) as any;
    expect(res.status, JSON.stringify(start)).toBe(202);
    expect(start).toMatchObject({
      status: 'running',
      executor: { kind: 'client' },
      horizon: {
        unit: 'epochs',
        epochs: 12,
        source: 'training.epochs',
        schedule: 'constant',
        rungs: [],
      },
    });
    expect(start.id).toMatch(/^std_/);
    expect(start.study_id).toBe(start.id);
    expect(start.poll).toBe(`/v1/lr/suggest/${start.id}`);
    // No pruning: rungs drop the slow-starting low rates that win at the horizon.
    expect(start.pruner).toEqual({ name: 'none' });
    expect(start.seeds).toEqual([0]);
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    expect(lrs.length).toBeGreaterThanOrEqual(6);
    expect(lrs.length).toBeLessThanOrEqual(8);
    expect(start.max_trials).toBe(lrs.length);
    expect(lrs).toEqual([...lrs].sort((a, b) => a - b));
    // Every rule under max_stable_lr and sgd's default, and log-spaced points down to three decades
    // below max_stable_lr (a caller's run is longer than its sweep: not floored where the sweep's loss first moved).
    const rt = start.range_test;
    expect(Math.log10(lrs[0])).toBeLessThanOrEqual(
      Math.log10(rt.suggestion.max_stable_lr / 1000) + 0.25,
    );
    expect(rt.id).toMatch(/^lrt_/);
    expect(start.candidates.find((c: any) => c.sources.includes('default')).lr).toBe(0.01);
    for (const c of start.candidates.filter((c: any) => !c.sources.includes('default')))
      expect(c.lr).toBeLessThanOrEqual(rt.suggestion.max_stable_lr);

    // The study: lr as a categorical of the candidates, a grid, no pruner.
    const study = await json(api(`/v1/studies/${start.study_id}`));
    expect(study).toMatchObject({
      metric: 'val_loss',
      space: { lr: { type: 'categorical', choices: lrs } },
      sampler: { name: 'grid' },
      pruner: { name: 'none' },
      executor: { kind: 'client' },
      max_trials: lrs.length,
      metadata: {
        kind: 'lr-suggest',
        range_test_id: rt.id,
        horizon_epochs: 12,
        executor: 'client',
      },
    });

    // Before any trial: running, no lr, every candidate waiting.
    const before = await json(api(start.poll));
    expect(before).toMatchObject({
      id: start.id,
      status: 'running',
      lr: null,
      method: 'validating',
    });
    expect(before.validation.candidates.map((c: any) => c.state)).toEqual(lrs.map(() => 'waiting'));

    // A best inside the candidates, off every candidate (so exactly one is nearest).
    const best = lrs[Math.floor(lrs.length / 2)] * 10 ** 0.03;
    const loss = valley(best);
    expect(await driveClient(start.study_id, loss, 12)).toBe(lrs.length); // no extension: the best is inside
    const r = await json(api(start.poll));
    expect(r.status).toBe('complete');
    expect(r.method).toBe('validated');
    expect(r.lr).toBe(nearestInLog(lrs, best));
    expect(r.confidence).toBe('high');
    expect(r.horizon).toMatchObject({
      executor: 'client',
      unit: 'epochs',
      epochs: 12,
      validated_epochs: 12,
      method: 'full',
      steps_per_epoch: null,
      budget: null,
    });
    const v = r.validation;
    expect(v).toMatchObject({
      study_id: start.id,
      study_ids: [start.id],
      epochs: 12,
      complete: true,
      seeds: [],
    });
    expect(v.candidates.map((c: any) => c.lr)).toEqual(lrs);
    // Every candidate reported all 12 epochs.
    const complete = v.candidates.filter((c: any) => c.state === 'complete');
    expect(complete.length).toBe(lrs.length);
    for (const c of complete) {
      expect(c.epochs_run).toBe(12);
      expect(c.value).toBeCloseTo(loss(c.lr, 12), 12);
      expect(c.tied).toBe(false);
      expect(c.unstable).toBe(false);
    }
    expect(complete.map((c: any) => c.lr)).toContain(r.lr);
    expect(v.candidate_epochs).toBe(
      v.candidates.reduce((a: number, c: any) => a + c.epochs_run, 0),
    );
    expect(r.stable_range.max).toBe(rt.suggestion.max_stable_lr);
    expect(r.schedule.peak_lr).toBe(r.lr);
    const why = r.reasoning.join('\n');
    expect(why).toMatch(new RegExp(`range test ${rt.id}`));
    expect(why).toMatch(/without pruning/);
    expect(why).not.toMatch(/rungs at/);
    expect(why).toMatch(/a clear winner/);
  });

  it('ties: a candidate within 1% of the best ties with it, and the lower lr of the two is the answer (medium confidence)', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { epochs: 8 },
        validation: { max_candidates: 6, seeds: 1 },
      }),
    );
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    const i = Math.floor(lrs.length / 2);
    // lrs[i + 1] is the best; lrs[i] is 0.6% worse (within 1%); the others are clearly worse.
    const floor = (lr: number) =>
      lr === lrs[i + 1]
        ? 0.2
        : lr === lrs[i]
          ? 0.2 * 1.006
          : 0.3 + 0.05 * Math.abs(lrs.indexOf(lr) - i);
    const loss: Loss = (lr, e) => floor(lr) + (2.3 - floor(lr)) * Math.exp(-0.8 * e);
    await driveClient(start.id, loss, 8);
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.status).toBe('complete');
    expect(r.lr).toBe(lrs[i]);
    expect(r.confidence).toBe('medium');
    const tied = r.validation.candidates.filter((c: any) => c.tied).map((c: any) => c.lr);
    expect(tied).toEqual([lrs[i], lrs[i + 1]]);
    expect(r.reasoning.join('\n')).toMatch(
      /tied within noise .*the lowest, .* is the more stable choice/,
    );
  });

  it('a best below the lowest candidate adds two trials past that edge to the same study, and the answer is found there', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { epochs: 8 },
        validation: { seeds: 1 },
      }),
    );
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    const best = lrs[0] / 10 ** 0.45;
    const ran = await driveClient(start.id, valley(best), 8);
    expect(ran).toBe(lrs.length + 2);
    const ext = [Number((lrs[0] / 10 ** 0.5).toPrecision(3)), Number((lrs[0] / 10).toPrecision(3))];
    const study = await json(api(`/v1/studies/${start.id}`));
    expect(study).toMatchObject({
      state: 'completed',
      max_trials: lrs.length + 2,
      n_trials: lrs.length + 2,
    });
    expect(study.space.lr.choices).toEqual([...lrs, ...ext]);
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.status).toBe('complete');
    expect(r.lr).toBe(ext[0]);
    expect(
      r.validation.candidates
        .filter((c: any) => c.sources.includes('extension'))
        .map((c: any) => c.lr),
    ).toEqual([...ext].sort((a, b) => a - b));
    expect(r.reasoning.join('\n')).toMatch(
      new RegExp(`the best, .*, is the lowest candidate: validating .* past that edge`),
    );
  });

  it('with training.steps the horizon is in steps; without training, 20 epochs are assumed and confidence is at most medium', async () => {
    const steps = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { steps: 400 },
        validation: { seeds: 1 },
      }),
    );
    // The 202 is a running suggestion: its horizon is the LrHorizon of GET, nothing validated yet.
    expect(steps).toMatchObject({ status: 'running', lr: null, method: 'validating' });
    expect(steps.horizon).toEqual({
      executor: 'client',
      unit: 'steps',
      epochs: null,
      steps: 400,
      steps_per_epoch: null,
      source: 'training.steps',
      validated_epochs: null,
      method: 'none',
      schedule: 'constant',
      budget: null,
      rungs: [],
    });
    const lrs: number[] = steps.candidates.map((c: any) => c.lr);
    const best = lrs[Math.floor(lrs.length / 2)] * 10 ** 0.03;
    // Report every 50 steps.
    const loss = valley(best);
    for (;;) {
      const res = await post(`/v1/studies/${steps.id}/ask`, {});
      if (res.status === 409) break;
      const t = (await res.json()) as any;
      let pruned = false;
      for (let s = 50; s <= 400 && !pruned; s += 50)
        pruned = (
          await json(
            post(`/v1/studies/${steps.id}/trials/${t.number}/report`, {
              step: s,
              value: loss(t.params.lr, s / 25),
            }),
          )
        ).should_prune;
      await post(
        `/v1/studies/${steps.id}/trials/${t.number}/tell`,
        pruned ? { state: 'pruned' } : { value: loss(t.params.lr, 16) },
      );
    }
    const r = await json(api(`/v1/lr/suggest/${steps.id}`));
    expect(r.lr).toBe(nearestInLog(lrs, best));
    expect(r.horizon).toMatchObject({
      unit: 'steps',
      epochs: null,
      steps: 400,
      validated_steps: 400,
      validated_epochs: null,
      method: 'full',
    });
    expect(r.validation.epochs).toBeNull();
    expect(r.schedule.warmup_steps).toBe(Math.max(1, Math.round(r.schedule.warmup_fraction * 400)));
    expect(
      r.validation.candidates.every((c: any) => c.state === 'complete' && c.epochs_run === 8),
    ).toBe(true);

    const assumed = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        validation: { seeds: 1 },
      }),
    );
    expect(assumed.horizon).toMatchObject({
      unit: 'epochs',
      epochs: 20,
      source: 'default',
      rungs: [],
    });
    expect(assumed.reasoning.join('\n')).toMatch(/no training length given: assuming 20 epochs/);
    const alrs: number[] = assumed.candidates.map((c: any) => c.lr);
    await driveClient(assumed.id, valley(alrs[Math.floor(alrs.length / 2)] * 10 ** 0.03), 20, 5);
    const a = await json(api(`/v1/lr/suggest/${assumed.id}`));
    expect(a.method).toBe('validated');
    expect(a.confidence).toBe('medium');
    expect(a.reasoning.join('\n')).toMatch(
      /confidence at most medium: the training length was assumed/,
    );
  });
});

describe('lr/suggest on your hardware: several seeds', () => {
  /** Ask, train (epochs 1..n) and tell every trial; the loss sees the trial's params (lr and seed). */
  async function driveSeeded(
    studyId: string,
    loss: (lr: number, seed: number, epoch: number) => number,
    epochs: number,
  ): Promise<{ lr: number; seed: number }[]> {
    const ran: { lr: number; seed: number }[] = [];
    for (;;) {
      const res = await post(`/v1/studies/${studyId}/ask`, {});
      if (res.status === 409) return ran;
      const t = (await res.json()) as any;
      ran.push({ lr: t.params.lr, seed: t.params.seed });
      for (let e = 1; e <= epochs; e++)
        await post(`/v1/studies/${studyId}/trials/${t.number}/report`, {
          step: e,
          value: loss(t.params.lr, t.params.seed, e),
        });
      expect(
        (
          await post(`/v1/studies/${studyId}/trials/${t.number}/tell`, {
            value: loss(t.params.lr, t.params.seed, epochs),
          })
        ).status,
      ).toBe(200);
    }
  }

  it('validation.seeds trains every candidate on each seed (params.seed) and ranks by the mean: one split that favours a high rate does not decide', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { epochs: 3 },
        validation: { seeds: 3, max_candidates: 5 },
      }),
    );
    expect(start.seeds).toEqual([0, 1, 2]);
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    expect(start.max_trials).toBe(lrs.length * 3);
    expect(start.reasoning.join('\n')).toMatch(
      /on 3 seeds \(params.seed 0, 1, 2: \d+ trials\), ranked by their mean/,
    );
    const study = await json(api(`/v1/studies/${start.id}`));
    expect(study.space).toEqual({
      lr: { type: 'categorical', choices: lrs },
      seed: { type: 'categorical', choices: [0, 1, 2] },
    });
    // The best is lrs[2] on average, but seed 0's split favours lrs[3] (what one small split does).
    const i = 2;
    const floor = (lr: number, seed: number) => {
      const k = lrs.indexOf(lr);
      if (seed === 0 && k === i + 1) return 0.1;
      return 0.2 + 0.05 * Math.abs(k - i) + 0.01 * seed;
    };
    const ran = await driveSeeded(
      start.id,
      (lr, seed, e) => floor(lr, seed) + (2.3 - floor(lr, seed)) * Math.exp(-0.8 * e),
      3,
    );
    // Every (lr, seed) pair once.
    expect(ran.length).toBe(lrs.length * 3);
    expect(new Set(ran.map((x) => `${x.lr}/${x.seed}`)).size).toBe(lrs.length * 3);
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.status).toBe('complete');
    expect(r.lr).toBe(lrs[i]);
    expect(r.validation.seeds).toEqual([0, 1, 2]);
    const best = r.validation.candidates.find((c: any) => c.lr === lrs[i]);
    expect(best.seeds.map((x: any) => x.seed)).toEqual([0, 1, 2]);
    expect(best.score).toBeCloseTo(
      (0.2 + 0.21 + 0.22) / 3 + ((2.3 * 3 - 0.63) * Math.exp(-2.4)) / 3,
      9,
    );
    expect(best.epochs_run).toBe(9);
    expect(r.validation.candidate_epochs).toBe(lrs.length * 3 * 3);
    const why = r.reasoning.join('\n');
    expect(why).toMatch(/each candidate trained on 3 seeds/);
    expect(why).toMatch(/\(mean over the seeds\)/);
  });

  it('on several seeds a tie does not move the answer to a lower lr: the best mean stands, at medium confidence', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { epochs: 2 },
        validation: { seeds: 3, max_candidates: 4 },
      }),
    );
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    const i = 2;
    // lrs[i] best on average; lrs[i - 1] 0.5% worse on average, but better on one seed: tied (their
    // per-seed differences swing); the others clearly worse.
    const finals: Record<number, number[]> = {
      [lrs[i]]: [0.2, 0.21, 0.2],
      [lrs[i - 1]]: [0.19, 0.214, 0.2091],
    };
    const floor = (lr: number, seed: number) =>
      finals[lr]?.[seed] ?? 0.4 + 0.05 * Math.abs(lrs.indexOf(lr) - i);
    await driveSeeded(
      start.id,
      (lr, seed, e) => floor(lr, seed) + (2.3 - floor(lr, seed)) * Math.exp(-3 * e),
      2,
    );
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.validation.candidates.filter((c: any) => c.tied).map((c: any) => c.lr)).toEqual([
      lrs[i - 1],
      lrs[i],
    ]);
    expect(r.lr).toBe(lrs[i]);
    expect(r.confidence).toBe('medium');
    expect(r.reasoning.join('\n')).toMatch(/the best mean, .*, stands/);
  });

  it('says so when the training code ignores params.seed (every seed ends at the same loss)', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { epochs: 2 },
        validation: { seeds: 2, max_candidates: 3 },
      }),
    );
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    const loss = valley(lrs[1] * 10 ** 0.03);
    await driveSeeded(start.id, (lr, _seed, e) => loss(lr, e), 2);
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.lr).toBe(lrs[1]);
    expect(r.reasoning.join('\n')).toMatch(
      /seems not to use params.seed .* "validation": \{"seeds": 1\}/,
    );
    // Seeds that differ: no such line.
    const other = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { epochs: 2 },
        validation: { seeds: 2, max_candidates: 3 },
      }),
    );
    await driveSeeded(other.id, (lr, seed, e) => loss(lr, e) + 0.001 * seed, 2);
    expect((await json(api(`/v1/lr/suggest/${other.id}`))).reasoning.join('\n')).not.toMatch(
      /seems not to use params.seed/,
    );
  });

  it('an extension past an edge trains each new lr on every seed', async () => {
    const start = await json(
      post('/v1/lr/suggest', {
        ...CURVE_BODY,
        executor: { kind: 'client' },
        training: { epochs: 2 },
        validation: { seeds: 2, max_candidates: 3 },
      }),
    );
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    const best = lrs[0] / 10 ** 0.45;
    const loss = valley(best);
    const ran = await driveSeeded(start.id, (lr, seed, e) => loss(lr, e) + 0.01 * seed, 2);
    expect(ran.length).toBe((lrs.length + 2) * 2);
    const ext = [Number((lrs[0] / 10 ** 0.5).toPrecision(3)), Number((lrs[0] / 10).toPrecision(3))];
    for (const lr of ext)
      expect(
        ran
          .filter((x) => x.lr === lr)
          .map((x) => x.seed)
          .sort(),
      ).toEqual([0, 1]);
    const study = await json(api(`/v1/studies/${start.id}`));
    expect(study).toMatchObject({ state: 'completed', max_trials: (lrs.length + 2) * 2 });
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r.lr).toBe(ext[0]);
  });
});

describe('lr/suggest on your hardware: executor runner', () => {
  it('from a stored range test, creates a runner study that runners lease with the runner key, extended past an edge in the same study', async () => {
    const rt = await json(post('/v1/lr-range-tests', CURVE_BODY));
    const res = await post('/v1/lr/suggest', {
      range_test_id: rt.id,
      executor: { kind: 'runner', lease_seconds: 600 },
      training: { epochs: 8 },
      schedule: 'cosine',
      validation: { seeds: 1 },
    });
    const start = (await res.json()) as any;
    expect(res.status, JSON.stringify(start)).toBe(202);
    expect(start.range_test.id).toBe(rt.id);
    expect(start.executor).toMatchObject({ kind: 'runner', lease_seconds: 600, max_attempts: 3 });
    const study = await json(api(`/v1/studies/${start.id}`));
    expect(study.executor).toMatchObject({ kind: 'runner', lease_seconds: 600 });
    // Not asked: leased.
    expect((await post(`/v1/studies/${start.id}/ask`, {})).status).toBe(409);
    const lrs: number[] = start.candidates.map((c: any) => c.lr);
    // The best above the highest candidate: the extension goes up.
    const best = lrs[lrs.length - 1] * 10 ** 0.55;
    expect(await driveRunner(start.id, valley(best), 8)).toBe(lrs.length + 2);
    const r = await json(api(`/v1/lr/suggest/${start.id}`));
    expect(r).toMatchObject({
      status: 'complete',
      method: 'validated',
      lr: Number((lrs[lrs.length - 1] * 10 ** 0.5).toPrecision(3)),
    });
    expect(r.horizon).toMatchObject({ executor: 'runner', schedule: 'cosine', method: 'full' });
    expect(r.schedule.kind).toBe('cosine');
    expect(r.reasoning.join('\n')).toMatch(/is the highest candidate: validating/);
  });
});

describe('lr/suggest on your hardware: bad input is a 4xx problem naming the field', () => {
  it('says which field is wrong, and how, never a 500', async () => {
    const rt = await json(post('/v1/lr-range-tests', CURVE_BODY));
    const bare = await json(post('/v1/lr-range-tests', { curve: sweep(40) }));
    const client = { kind: 'client' };
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [{ executor: client, range_test_id: rt.id, curve: sweep() }, 422, 'curve', /not both/],
      [
        { executor: client, training: { epochs: 5 } },
        422,
        'range_test_id',
        /send range_test_id .* or curve/,
      ],
      [
        { executor: client, range_test_id: 'lrt_00000000000000000000000000' },
        404,
        'range_test_id',
        /no LR range test with id 'lrt_0+'/,
      ],
      [
        { executor: { kind: 'edge' }, range_test_id: rt.id },
        422,
        'range_test_id',
        /edge executor trains a probe/,
      ],
      [{ executor: { kind: 'edge' }, ...CURVE_BODY }, 422, 'curve', /edge executor trains a probe/],
      [
        { range_test_id: rt.id },
        422,
        'executor',
        /required with range_test_id: \{"kind": "client"\}/,
      ],
      [
        { executor: { kind: 'clinet' }, range_test_id: rt.id },
        422,
        'executor.kind',
        /did you mean 'client'\?/,
      ],
      [
        { executor: client, range_tset_id: rt.id },
        422,
        'range_tset_id',
        /did you mean 'range_test_id'\?/,
      ],
      [
        {
          executor: client,
          range_test_id: rt.id,
          probe: { data: { kind: 'synthetic', name: 'moons' } },
        },
        422,
        'probe',
        /a probe is for the edge executor/,
      ],
      [{ executor: client, range_test_id: bare.id }, 422, 'optimizer', /stored without one/],
      [
        { executor: client, range_test_id: rt.id, optimizer: { name: 'adam' } },
        422,
        'optimizer.name',
        /measured with sgd/,
      ],
      [
        { executor: client, range_test_id: rt.id, validation: { seeds: 6 } },
        422,
        'validation.seeds',
        /./,
      ],
      [
        { executor: client, range_test_id: rt.id, validation: { epochs: 3 } },
        422,
        'validation.epochs',
        /unknown field 'epochs'/,
      ],
      [
        { executor: client, range_test_id: rt.id, range: { smoothing: 0.9 } },
        422,
        'range',
        /describes a posted curve/,
      ],
      [
        { executor: client, range_test_id: rt.id, training: { epochs: 0 } },
        422,
        'training.epochs',
        /./,
      ],
      [
        { executor: client, range_test_id: rt.id, training: { epochs: 5, steps: 100 } },
        422,
        'training.steps',
        /not both/,
      ],
      [
        { executor: client, curve: { lr: [...sweep().lr].reverse(), loss: sweep().loss } },
        422,
        'curve.lr.1',
        /not above the lr before it/,
      ],
      [
        { executor: { kind: 'runner', lease_seconds: 1 }, range_test_id: rt.id },
        422,
        'executor.lease_seconds',
        /./,
      ],
    ];
    for (const [body, status, path, message] of cases) {
      const res = await post('/v1/lr/suggest', body);
      const p = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.headers.get('content-type'), JSON.stringify(body)).toMatch(
        /^application\/problem\+json/,
      );
      const hit = p.errors?.find((e: any) => e.path === path);
      expect(hit, `${JSON.stringify(body)}: ${JSON.stringify(p.errors)}`).toBeTruthy();
      expect(hit.message, JSON.stringify(body)).toMatch(message);
    }
    // GET: an unknown id, and a study that is no suggestion validated on your hardware.
    expect((await api('/v1/lr/suggest/std_00000000000000000000000000')).status).toBe(404);
    const plain = await json(
      post('/v1/studies', {
        name: 'plain',
        space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
      }),
    );
    const notOne = await api(`/v1/lr/suggest/${plain.id}`);
    expect(notOne.status).toBe(404);
    expect(((await notOne.json()) as any).detail).toMatch(/not an LR suggestion/);
    expect((await api('/v1/lr/suggest/nope')).status).toBe(404);
  });
});

// POST /v1/lr/suggest: with a probe (range test, then validation of the
// candidates as a parallel edge study with successive halving) and without
// (priors, refined by the project's completed studies).
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const PROBE = {
  model: { kind: 'mlp', hidden: [32], activation: 'relu' },
  task: 'classification',
  data: { kind: 'synthetic', name: 'spirals', n: 512, features: 2, classes: 3, noise: 0.1, seed: 3 },
  optimizer: { name: 'sgd', momentum: 0.9 },
  batch_size: 32,
  seed: 0,
};
const stubOf = (id: string) => env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

describe('lr/suggest with a probe', () => {
  it('validates the curve’s candidates and the default on held-out data, and returns the winner with its evidence', async () => {
    const res = await post('/v1/lr/suggest', { probe: PROBE, range: { steps: 60 }, validation: { epochs: 4 }, train_steps: 2000 });
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r)).toBe(200);
    expect(r.method).toBe('validated');
    const v = r.validation;
    expect(v.complete).toBe(true);
    expect(v.candidates.length).toBeGreaterThanOrEqual(2);
    expect(v.candidates.some((c: any) => c.sources.includes('default') && c.lr === 0.01)).toBe(true);
    // The winner is the complete candidate with the lowest validation loss.
    const complete = v.candidates.filter((c: any) => c.state === 'complete');
    expect(complete.length).toBeGreaterThan(0);
    const best = complete.reduce((a: any, b: any) => (b.value < a.value ? b : a));
    expect(r.lr).toBe(best.lr);
    for (const c of v.candidates) expect(['complete', 'pruned', 'failed']).toContain(c.state);
    // Every rule's lr is at most max_stable_lr (the default may be above: it is the baseline).
    const maxStable = r.range_test.suggestion.max_stable_lr;
    for (const c of v.candidates.filter((c: any) => !c.sources.includes('default'))) expect(c.lr).toBeLessThanOrEqual(maxStable);
    expect(r.stable_range.max).toBe(maxStable);
    expect(r.stable_range.min).toBeLessThan(r.stable_range.max);
    // A schedule derived from the curve, with the warmup in steps.
    expect(['one_cycle', 'cosine']).toContain(r.schedule.kind);
    expect(r.schedule.peak_lr).toBe(r.lr);
    expect(r.schedule.warmup_steps).toBe(Math.round(r.schedule.warmup_fraction * 2000));
    expect(r.reasoning.join('\n')).toMatch(/validated \d+ candidates/);
    // The evidence is a real study of the project.
    const study = await json(api(`/v1/studies/${v.study_id}`));
    expect(study).toMatchObject({ state: 'completed', executor: { kind: 'edge' }, metadata: { kind: 'lr-suggest', range_test_id: r.range_test.id } });
  });

  it('without validation answers with the range test’s rule; the range test is reused from the cache', async () => {
    const r = await json(post('/v1/lr/suggest', { probe: PROBE, range: { steps: 60 }, validate: false }));
    expect(r.method).toBe(r.range_test.suggestion.method);
    expect(r.lr).toBe(r.range_test.suggestion.lr);
    expect(r.validation).toBeNull();
    expect(r.range_test.cached).toBe(true);
  });
});

describe('lr/suggest without a probe', () => {
  it('answers from documented priors: batch-size scaling, model families, GPT-3 sizes', async () => {
    const sgd = await json(post('/v1/lr/suggest', { context: { optimizer: 'sgd', batch_size: 1024, model_family: 'cnn' } }));
    expect(sgd).toMatchObject({ method: 'prior', confidence: 'low', prior: { studies_used: 0 } });
    expect(sgd.lr).toBeCloseTo(0.4, 10); // 0.1 x 1024/256, linear scaling
    const adam = await json(post('/v1/lr/suggest', { context: { optimizer: 'adam', batch_size: 1024 } }));
    expect(adam.lr).toBeCloseTo(2e-3, 10); // 1e-3 x sqrt(4)
    const gpt = await json(post('/v1/lr/suggest', { context: { optimizer: 'adamw', model_family: 'transformer', parameters: 1.3e9 } }));
    expect(gpt.lr).toBeCloseTo(2e-4, 10);
    expect(sgd.reasoning.join(' ')).toMatch(/linear scaling/);
    expect(sgd.schedule.kind).toBe('cosine');
  });

  it("refines the prior with the project's completed studies of the same context, and says how many", async () => {
    const ctx = { optimizer: 'rmsprop', batch_size: 64, model_family: 'mlp' };
    for (const lr of [0.004, 0.005, 0.006]) {
      const s = await json(post('/v1/studies', { name: 'hist', space: { lr: { type: 'float', low: 1e-5, high: 1, log: true } }, max_trials: 2, metadata: { context: ctx } }));
      for (const [i, v] of [
        [lr, 0.1],
        [lr / 100, 0.9],
      ].entries()) {
        await post(`/v1/studies/${s.id}/trials`, { params: { lr: v[0] } });
        const t = await json(post(`/v1/studies/${s.id}/ask`, {}));
        expect(t.number).toBe(i);
        await post(`/v1/studies/${s.id}/trials/${t.number}/tell`, { value: v[1] });
      }
      await stubOf(s.id).flush();
    }
    const r = await json(post('/v1/lr/suggest', { context: ctx }));
    expect(r.prior.studies_used).toBe(3);
    expect(r.confidence).toBe('high');
    // Prior: 1e-3 x sqrt(64/256) = 5e-4; history: ~4.9e-3; blended in log space at weight 3/5.
    const expected = Math.exp(0.6 * Math.log(Math.cbrt(0.004 * 0.005 * 0.006)) + 0.4 * Math.log(5e-4));
    expect(r.lr).toBeCloseTo(expected, 8);
    expect(r.reasoning.join(' ')).toMatch(/3 finished studies of this project/);
    // Another optimizer's history is not used.
    expect((await json(post('/v1/lr/suggest', { context: { optimizer: 'adagrad' } }))).prior.studies_used).toBe(0);
  });

  it('says what is missing: a probe or a context', async () => {
    const res = await post('/v1/lr/suggest', {});
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).errors[0].path).toBe('probe');
    const bad = await post('/v1/lr/suggest', { context: { optimizer: 'lion' } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as any).errors[0].path).toBe('context.optimizer');
  });
});

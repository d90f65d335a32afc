/**
 * Infinite objective values (Optuna stores them; JSON has none): told as the string "Infinity" or
 * "-Infinity" (also "inf", "-inf"), answered as those strings, kept by the study's object and by
 * D1 alike, ranked as the worst or best value, and learned from by the samplers without NaN.
 */
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

const X = { type: 'float', low: -5, high: 5 };

async function createStudy(body: Record<string, unknown> = {}) {
  const res = await post('/v1/studies', {
    name: 'inf',
    space: { x: X },
    sampler: { name: 'random', seed: 1 },
    ...body,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}

const ask = (id: string) => json(post(`/v1/studies/${id}/ask`));
const tell = (id: string, n: number, body: unknown) =>
  post(`/v1/studies/${id}/trials/${n}/tell`, body);

describe('infinite values', () => {
  it('a tell of "Infinity" or "-inf" completes the trial; answers and the best trial carry the strings', async () => {
    const study = await createStudy();
    for (let n = 0; n < 3; n++) await ask(study.id);
    const t0 = await tell(study.id, 0, { value: 'Infinity' });
    expect(t0.status).toBe(200);
    const body0 = (await t0.json()) as any;
    expect(body0.state).toBe('complete');
    expect(body0.value).toBe('Infinity');
    expect(body0.values).toEqual(['Infinity']);
    expect((await tell(study.id, 1, { value: 2 })).status).toBe(200);
    // Minimize: +inf is the worst, so the finite trial is the best.
    expect((await json(api(`/v1/studies/${study.id}`))).best_trial.number).toBe(1);
    expect((await tell(study.id, 2, { values: ['-inf'] })).status).toBe(200);
    const read = await json(api(`/v1/studies/${study.id}`));
    expect(read.best_trial.number).toBe(2);
    expect(read.best_trial.value).toBe('-Infinity');
    const trials = (await json(api(`/v1/studies/${study.id}/trials`))).trials;
    expect(trials.map((t: any) => t.value)).toEqual(['Infinity', 2, '-Infinity']);
  });

  it('the same tell again is taken; the other infinity is a 409; NaN and other strings are 422s naming the field', async () => {
    const study = await createStudy();
    await ask(study.id);
    await ask(study.id);
    expect((await tell(study.id, 0, { value: 'inf' })).status).toBe(200);
    expect((await tell(study.id, 0, { value: 'Infinity' })).status).toBe(200);
    expect((await tell(study.id, 0, { value: '-Infinity' })).status).toBe(409);
    for (const bad of ['NaN', 'infinity!', '1e999']) {
      const res = await tell(study.id, 1, { value: bad });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as any;
      expect(problem.errors.map((e: any) => e.path)).toContain('value');
    }
    const nan = (await (await tell(study.id, 1, { value: 'NaN' })).json()) as any;
    expect(JSON.stringify(nan.errors)).toContain('failed');
    expect((await json(api(`/v1/studies/${study.id}/trials`))).trials[1].state).toBe('running');
  });

  it('several objectives: values with an infinity; the front keeps its best', async () => {
    const study = await createStudy({ directions: ['minimize', 'maximize'] });
    await ask(study.id);
    await ask(study.id);
    const t0 = (await json(tell(study.id, 0, { values: [1, 'Infinity'] }))) as any;
    expect(t0.values).toEqual([1, 'Infinity']);
    await tell(study.id, 1, { values: [0, 1] });
    const read = await json(api(`/v1/studies/${study.id}`));
    expect(read.best_trials.map((t: any) => t.number).sort()).toEqual([0, 1]);
    expect(read.best_trials.find((t: any) => t.number === 0).values).toEqual([1, 'Infinity']);
  });

  it('D1 keeps the values as strings (its binding cannot carry an infinite number) and the value null', async () => {
    const study = await createStudy();
    await ask(study.id);
    await ask(study.id);
    await tell(study.id, 0, { value: '-Infinity' });
    await tell(study.id, 1, { value: 0.5 });
    await stubOf(study.id).flush();
    const rows = await env.DB.prepare(
      'SELECT number, value, "values" FROM trials WHERE study_id = ? ORDER BY number',
    )
      .bind(study.id)
      .all<any>();
    expect(rows.results).toEqual([
      { number: 0, value: null, values: '["-Infinity"]' },
      { number: 1, value: 0.5, values: '[0.5]' },
    ]);
    const s = await env.DB.prepare('SELECT best_trial_number, best_value FROM studies WHERE id = ?')
      .bind(study.id)
      .first<any>();
    expect(s).toEqual({ best_trial_number: 0, best_value: null });
  });

  it('TPE, GP and auto sample finite params inside the space after infinite values', async () => {
    for (const sampler of [
      { name: 'tpe', seed: 7, n_startup_trials: 3 },
      { name: 'gp', seed: 7, n_startup_trials: 3 },
      { name: 'auto', seed: 7 },
    ]) {
      const study = await createStudy({ sampler });
      for (let n = 0; n < 10; n++) {
        const t = await ask(study.id);
        const x = t.params.x as number;
        expect(Number.isFinite(x)).toBe(true);
        expect(x).toBeGreaterThanOrEqual(-5);
        expect(x).toBeLessThanOrEqual(5);
        // Half the trials diverge to +inf (minimize: the worst), one to -inf (the best).
        const v = n === 4 ? '-Infinity' : n % 2 === 0 ? 'Infinity' : (x - 1) ** 2;
        expect((await tell(study.id, n, { value: v })).status).toBe(200);
      }
      const trials = (await json(api(`/v1/studies/${study.id}/trials`))).trials;
      expect(trials.slice(3).every((t: any) => t.sampler !== null)).toBe(true);
      if (sampler.name !== 'auto') expect(trials[9].sampler).toBe(sampler.name);
      expect((await json(api(`/v1/studies/${study.id}`))).best_trial.number).toBe(4);
    }
  });
});

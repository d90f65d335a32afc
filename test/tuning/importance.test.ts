import { describe, it, expect } from 'vitest';
import { parameterImportance } from '../../src/tuning/importance';
import { Rng } from '../../src/tuning/rng';
import type { FrozenTrial, Space } from '../../src/tuning/types';

describe('parameter importance (eta squared over quantile bins)', () => {
  it('ranks the parameter that drives the objective first and an irrelevant one near zero', () => {
    const space: Space = {
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      noise: { type: 'float', low: 0, high: 1 },
      opt: { type: 'categorical', choices: ['sgd', 'adam'] },
    };
    const rng = new Rng(1);
    const trials: FrozenTrial[] = Array.from({ length: 200 }, (_, i) => {
      const lr = 10 ** (-5 + 5 * rng.next());
      const params = { lr, noise: rng.next(), opt: rng.next() < 0.5 ? 'sgd' : 'adam' };
      const value =
        (Math.log10(lr) + 2.5) ** 2 + (params.opt === 'adam' ? 2 : 0) + 0.01 * rng.next();
      return { number: i, state: 'complete', params, value, intermediate: [] };
    });
    const r = parameterImportance(space, trials);
    expect(r.n_trials).toBe(200);
    expect(r.params.map((p) => p.name)).toEqual(['lr', 'opt', 'noise']);
    expect(r.params[0].importance).toBeGreaterThan(0.6);
    expect(r.params[2].eta_squared).toBeLessThan(0.05);
    expect(r.params.reduce((a, p) => a + p.importance, 0)).toBeCloseTo(1, 12);
  });

  it('is all zeros with fewer than two finished trials or constant values, and counts inactive trials as a group', () => {
    const space: Space = { x: { type: 'float', low: 0, high: 1 } };
    expect(parameterImportance(space, []).params).toEqual([
      { name: 'x', importance: 0, eta_squared: 0 },
    ]);
    const flat = [0.1, 0.5, 0.9].map((x, i) => ({
      number: i,
      state: 'complete' as const,
      params: { x },
      value: 1,
      intermediate: [],
    }));
    expect(parameterImportance(space, flat).params[0].importance).toBe(0);
    const cond: Space = {
      opt: { type: 'categorical', choices: ['a', 'b'] },
      m: { type: 'float', low: 0, high: 1, when: { opt: 'a' } },
    };
    const ts: FrozenTrial[] = Array.from({ length: 20 }, (_, i) => ({
      number: i,
      state: 'complete' as const,
      params: (i % 2 ? { opt: 'b' } : { opt: 'a', m: i / 20 }) as Record<string, string | number>,
      value: i % 2 ? 5 : 1,
      intermediate: [],
    }));
    const r = parameterImportance(cond, ts);
    expect(r.params.find((p) => p.name === 'opt')!.eta_squared).toBeCloseTo(1, 12);
  });

  it('says the figures are not meaningful below 10 complete trials (3 trials give 33/33/33)', () => {
    const space: Space = {
      a: { type: 'float', low: 0, high: 1 },
      b: { type: 'float', low: 0, high: 1 },
      c: { type: 'float', low: 0, high: 1 },
    };
    const ts = (n: number): FrozenTrial[] =>
      Array.from({ length: n }, (_, i) => ({
        number: i,
        state: 'complete',
        params: { a: i / n, b: ((i * 7) % n) / n, c: ((i * 3) % n) / n },
        value: i,
        intermediate: [],
      }));
    expect(parameterImportance(space, ts(3))).toMatchObject({
      n_trials: 3,
      min_trials: 10,
      meaningful: false,
    });
    expect(parameterImportance(space, ts(9)).meaningful).toBe(false);
    expect(
      parameterImportance(space, [
        ...ts(10),
        { number: 10, state: 'failed', params: {}, value: null, intermediate: [] },
      ]),
    ).toMatchObject({ n_trials: 10, meaningful: true });
  });
});

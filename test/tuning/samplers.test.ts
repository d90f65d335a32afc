import { describe, expect, it } from 'vitest';
import { SAMPLER_NAMES } from '../../src/contract/names';
import { ConfigError, GridExhaustedError, SamplerConfigError } from '../../src/tuning/errors';
import { checkSampler, makeSampler } from '../../src/tuning/registry';
import { GridSampler, QmcSampler, RandomSampler, gridSize } from '../../src/tuning/samplers';
import type { Params, Sampler, SampleContext, Space } from '../../src/tuning/types';
import { validateParams } from '../../src/tuning/validate';
import { samplerConformance } from './conformance';

samplerConformance('random', () => new RandomSampler());
samplerConformance('qmc', () => new QmcSampler());
samplerConformance('grid', () => new GridSampler(), { discrete: true });

const ctx = (space: Space, trialNumber: number, seed = 0): SampleContext => ({
  space,
  trials: [],
  direction: 'minimize',
  seed,
  trialNumber,
});

describe('random and qmc on a 2-D quadratic', () => {
  const space: Space = {
    x: { type: 'float', low: -1, high: 1 },
    y: { type: 'float', low: -1, high: 1 },
  };
  /** Distance from the optimum (0.3, -0.2) of the best of the first `n` suggestions. */
  const bestDistance = (sampler: Sampler, seed: number, n: number) => {
    let best = Infinity;
    for (let t = 0; t < n; t++) {
      const p = sampler.sample(ctx(space, t, seed)) as { x: number; y: number };
      best = Math.min(best, Math.hypot(p.x - 0.3, p.y + 0.2));
    }
    return best;
  };
  const seeds = Array.from({ length: 20 }, (_, i) => i);

  it('qmc: the best of 64 points lies near the optimum for every seed, and of 256 within 0.12', () => {
    const qmc = new QmcSampler();
    // 64 Sobol' points put one point in each 1/8 x 1/8 cell: at most a cell diagonal (0.354) away.
    const d64 = seeds.map((s) => bestDistance(qmc, s, 64));
    for (const d of d64) expect(d).toBeLessThan(0.25);
    expect(d64.reduce((a, b) => a + b) / d64.length).toBeLessThan(0.13);
    for (const s of seeds) expect(bestDistance(qmc, s, 256)).toBeLessThan(0.12);
  });

  it('random: the best of 256 points lies within 0.2 of the optimum for every seed', () => {
    const random = new RandomSampler();
    for (const s of seeds) expect(bestDistance(random, s, 256)).toBeLessThan(0.2);
    const d64 = seeds.map((s) => bestDistance(random, s, 64));
    expect(d64.reduce((a, b) => a + b) / d64.length).toBeLessThan(0.2);
  });

  it('qmc: the first 16 trials put one value in each sixteenth of every axis', () => {
    const unit: Space = {
      a: { type: 'float', low: 0, high: 1 },
      b: { type: 'float', low: 0, high: 1 },
      c: { type: 'float', low: 0, high: 1 },
    };
    for (const seed of [0, 5, 99]) {
      const pts = Array.from({ length: 16 }, (_, t) => new QmcSampler().sample(ctx(unit, t, seed)));
      for (const k of ['a', 'b', 'c']) {
        const bins = new Set(pts.map((p) => Math.floor((p[k] as number) * 16)));
        expect(bins.size).toBe(16);
      }
    }
  });
});

describe('random sampler distribution', () => {
  it('makes every int value, both ends included, about equally likely', () => {
    const space: Space = { n: { type: 'int', low: 0, high: 3 } };
    const counts = [0, 0, 0, 0];
    const s = new RandomSampler();
    for (let t = 0; t < 4000; t++) counts[s.sample(ctx(space, t)).n as number]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('is uniform in log scale for log floats', () => {
    const space: Space = { lr: { type: 'float', low: 1e-6, high: 1, log: true } };
    const s = new RandomSampler();
    const decades = new Array(6).fill(0);
    for (let t = 0; t < 6000; t++)
      decades[Math.min(5, Math.floor(-Math.log10(s.sample(ctx(space, t)).lr as number)))]++;
    for (const c of decades) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('draws from new Rng(seed).fork(trialNumber): trials are independent of the history', () => {
    const space: Space = { x: { type: 'float', low: 0, high: 1 } };
    const s = new RandomSampler();
    const a = s.sample(ctx(space, 5, 3));
    const history = [
      { number: 0, state: 'complete' as const, params: { x: 0.5 }, value: 1, intermediate: [] },
    ];
    expect(s.sample({ ...ctx(space, 5, 3), trials: history })).toEqual(a);
  });
});

describe('grid sampler', () => {
  const space: Space = {
    opt: { type: 'categorical', choices: ['sgd', 'adam'] },
    lr: { type: 'float', low: 0.1, high: 0.3, step: 0.1 },
    n: { type: 'int', low: 16, high: 64, step: 16 },
  };

  const enumerate = (sampler: Sampler, s: Space, size: number, seed = 0): Params[] =>
    Array.from({ length: size }, (_, t) => sampler.sample(ctx(s, t, seed)));

  it('enumerates every combination exactly once, then throws GridExhaustedError', () => {
    expect(gridSize(space)).toBe(2 * 3 * 4);
    for (const sampler of [new GridSampler(), new GridSampler({ shuffle: false })]) {
      const all = enumerate(sampler, space, 24);
      const keys = new Set(all.map((p) => JSON.stringify([p.opt, p.lr, p.n])));
      expect(keys.size).toBe(24);
      for (const opt of ['sgd', 'adam'])
        for (const lr of [0.1, 0.2, 0.3])
          for (const n of [16, 32, 48, 64])
            expect(keys.has(JSON.stringify([opt, lr, n]))).toBe(true);
      expect(() => sampler.sample(ctx(space, 24))).toThrow(GridExhaustedError);
      expect(() => sampler.sample(ctx(space, 1000))).toThrow(GridExhaustedError);
    }
  });

  it('counts and enumerates the distinct points of a conditional space', () => {
    const cond: Space = {
      opt: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
      beta1: { type: 'float', low: 0.8, high: 0.99, step: 0.01, when: { opt: 'adam' } },
      momentum: { type: 'categorical', choices: [0, 0.9], when: { opt: ['sgd', 'rmsprop'] } },
      nesterov: { type: 'categorical', choices: [true, false], when: { opt: 'sgd' } },
      damp: { type: 'int', low: 0, high: 2, when: { nesterov: false } },
      bs: { type: 'int', low: 1, high: 8, log: true },
    };
    // sgd: momentum 2 x (nesterov true: 1 + false: 3 damp) = 8; adam: 20; rmsprop: 2; times 8 batch sizes.
    const size = (8 + 20 + 2) * 8;
    expect(gridSize(cond)).toBe(size);
    const all = enumerate(new GridSampler(), cond, size, 11);
    expect(new Set(all.map((p) => JSON.stringify(Object.entries(p).sort()))).size).toBe(size);
    for (const p of all) expect(validateParams(cond, p)).toEqual([]);
    expect(() => new GridSampler().sample(ctx(cond, size, 11))).toThrow(GridExhaustedError);
  });

  it('visits lexicographically with shuffle: false, and in a seeded order otherwise', () => {
    const lex = enumerate(new GridSampler({ shuffle: false }), space, 5);
    expect(lex).toEqual([
      { lr: 0.1, n: 16, opt: 'sgd' },
      { lr: 0.1, n: 16, opt: 'adam' },
      { lr: 0.1, n: 32, opt: 'sgd' },
      { lr: 0.1, n: 32, opt: 'adam' },
      { lr: 0.1, n: 48, opt: 'sgd' },
    ]);
    const a = enumerate(new GridSampler(), space, 24, 1).map((p) => JSON.stringify(p));
    const b = enumerate(new GridSampler(), space, 24, 2).map((p) => JSON.stringify(p));
    expect(a).not.toEqual(b);
    expect(new Set(a)).toEqual(new Set(b));
    expect(a.slice(0, 8)).not.toEqual(lex.slice(0, 8).map((p) => JSON.stringify(p)));
  });

  it('gives clean stepped float values (no float drift)', () => {
    const s: Space = { x: { type: 'float', low: 0, high: 0.99, step: 0.01 } };
    const all = enumerate(new GridSampler({ shuffle: false }), s, 100).map((p) => p.x as number);
    expect(all[30]).toBe(0.3);
    expect(all[99]).toBe(0.99);
    expect(all[7]).toBe(0.07);
  });

  it('rejects a float without step with SamplerConfigError at space.<name>', () => {
    const s: Space = {
      opt: { type: 'categorical', choices: ['a'] },
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
    };
    let err: unknown;
    try {
      new GridSampler().sample(ctx(s, 0));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SamplerConfigError);
    expect((err as SamplerConfigError).path).toBe('space.lr');
    expect(() => gridSize(s)).toThrow(SamplerConfigError);
  });

  it('decodes points of huge grids without listing them', () => {
    const huge: Space = {
      a: { type: 'int', low: 0, high: 1e12 },
      b: { type: 'int', low: 0, high: 1e12 },
      c: { type: 'int', low: 0, high: 1e6 },
    };
    expect(gridSize(huge)).toBeGreaterThan(1e30);
    const s = new GridSampler();
    const pts = [0, 1, 1_000_000].map((t) => s.sample(ctx(huge, t, 3)));
    for (const p of pts) expect(validateParams(huge, p)).toEqual([]);
    expect(new Set(pts.map((p) => JSON.stringify(p))).size).toBe(3);
    const mid: Space = { a: { type: 'int', low: 0, high: 999_999 } };
    const seen = new Set(Array.from({ length: 2000 }, (_, t) => s.sample(ctx(mid, t, 3)).a));
    expect(seen.size).toBe(2000);
  });
});

describe('makeSampler', () => {
  it('makes every named sampler, ignoring name and seed', () => {
    for (const name of SAMPLER_NAMES) expect(makeSampler({ name, seed: 3 }).name).toBe(name);
    expect(makeSampler({ name: 'grid', shuffle: false })).toBeInstanceOf(GridSampler);
  });

  it('rejects unknown and invalid options with a sampler.<option> path', () => {
    const fails = (config: Record<string, unknown>, path: string) => {
      let err: unknown;
      try {
        makeSampler(config);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path)).toEqual([path]);
    };
    fails({ name: 'random', n_startup_trials: 3 }, 'sampler.n_startup_trials');
    fails({ name: 'tpe', n_startup_trial: 3 }, 'sampler.n_startup_trial');
    fails({ name: 'tpe', n_ei_candidates: 0 }, 'sampler.n_ei_candidates');
    fails({ name: 'tpe', multivariate: 'yes' }, 'sampler.multivariate');
    fails({ name: 'gp', n_candidates: 1.5 }, 'sampler.n_candidates');
    fails({ name: 'grid', shuffle: 1 }, 'sampler.shuffle');
    fails({ name: 'cmaes' }, 'sampler.name');
  });
});

describe('checkSampler', () => {
  const space: Space = { lr: { type: 'float', low: 1e-4, high: 1, log: true } };
  const paths = (raw: unknown, s?: Space) => checkSampler(raw, s).issues.map((i) => i.path);
  it('checks options and the space without sampling', () => {
    expect(checkSampler({ name: 'tpe' }, space).issues).toEqual([]);
    expect(paths({ name: 'tpe', n_startup_trials: -1 }, space)).toEqual([
      'sampler.n_startup_trials',
    ]);
    expect(paths({ name: 'random', shuffle: true }, space)).toEqual(['sampler.shuffle']);
    expect(paths({ name: 'grid' }, space)).toEqual(['space.lr']);
    expect(paths({ name: 'grid' })).toEqual([]);
    expect(
      checkSampler({ name: 'grid' }, { lr: { type: 'float', low: 0, high: 1, step: 0.25 } }).issues,
    ).toEqual([]);
  });
});

describe("uniform over the space: one draw for every sampler's random start", () => {
  // 20,000 draws of an int 1..4 (and a stepped float 0..0.3 by 0.1): each value a quarter of the
  // time. The GP's startup drew [low, high] and rounded, so the two end values came half as often
  // (3315/6798/6655/3232).
  const space: Space = {
    n: { type: 'int', low: 1, high: 4 },
    f: { type: 'float', low: 0, high: 0.3, step: 0.1 },
    l: { type: 'int', low: 1, high: 4, log: true },
  };
  for (const name of ['random', 'gp', 'tpe'] as const) {
    it(`${name}: the ends of an int or stepped range as likely as the middle`, () => {
      const sampler = makeSampler(
        name === 'random' ? { name } : { name, n_startup_trials: 1_000_000 },
      );
      const counts: Record<string, Map<number, number>> = { n: new Map(), f: new Map() };
      const logCounts = new Map<number, number>();
      const draws = 20_000;
      for (let i = 0; i < draws; i++) {
        const p = sampler.sample(ctx(space, i, 7));
        for (const k of ['n', 'f'] as const)
          counts[k].set(p[k] as number, (counts[k].get(p[k] as number) ?? 0) + 1);
        logCounts.set(p.l as number, (logCounts.get(p.l as number) ?? 0) + 1);
      }
      for (const k of ['n', 'f'] as const) {
        expect([...counts[k].keys()].length).toBe(4);
        // A quarter each, within 5 standard deviations (sqrt(20000 * 1/4 * 3/4) = 61).
        for (const c of counts[k].values()) expect(Math.abs(c - draws / 4)).toBeLessThan(5 * 61);
      }
      // Log-uniform over [0.5, 4.5] (Optuna's log-int draw): 1 takes log(1.5/0.5)/log(9) = 0.5 of the draws, 4 the least.
      const share = (v: number) => (logCounts.get(v) ?? 0) / draws;
      expect(share(1)).toBeCloseTo(Math.log(3) / Math.log(9), 1);
      expect(share(4)).toBeCloseTo(Math.log(4.5 / 3.5) / Math.log(9), 1);
    });
  }
});

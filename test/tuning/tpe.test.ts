import { describe, it, expect } from 'vitest';
import {
  TpeSampler,
  defaultGamma,
  defaultWeights,
  splitTrials,
} from '../../src/tuning/samplers/tpe';
import { ParzenEstimator, erf, logGaussMass, logNdtr } from '../../src/tuning/parzen';
import { Rng } from '../../src/tuning/rng';
import type { Direction, FrozenTrial, Params, Sampler, Space } from '../../src/tuning/types';
import { branin as braninAt, frozenTrial, median, optimise } from './builders';

// ---------------------------------------------------------------------------
// helpers

/** Sequential ask/tell loop; returns the best value found. */
function optimiseWith(
  sampler: Sampler,
  space: Space,
  f: (p: Params) => number,
  nTrials: number,
  seed: number,
  direction: Direction = 'minimize',
): number {
  return optimise(
    (trials, i) => sampler.sample({ space, trials, direction, seed, trialNumber: i }),
    f,
    nTrials,
    direction,
  ).best;
}

const RANDOM = new TpeSampler({ n_startup_trials: Number.POSITIVE_INFINITY }); // never leaves the random phase

const branin = (p: Params) => braninAt(p.x1 as number, p.x2 as number);
const BRANIN_SPACE: Space = {
  x1: { type: 'float', low: -5, high: 10 },
  x2: { type: 'float', low: 0, high: 15 },
};

const SPHERE_SPACE: Space = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  units: { type: 'int', low: 1, high: 1024, log: true },
  layers: { type: 'int', low: 1, high: 12 },
  optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop', 'adagrad', 'lion'] },
};
function sphere(p: Params): number {
  return (
    (Math.log10(p.lr as number) + 3) ** 2 +
    (Math.log2(p.units as number) - 6) ** 2 / 4 +
    ((p.layers as number) - 4) ** 2 / 4 +
    (p.optimizer === 'adam' ? 0 : 1)
  );
}

// ---------------------------------------------------------------------------

describe('normal-distribution helpers', () => {
  it('erf, log Phi and log Gaussian mass are accurate, including the tails', () => {
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 14);
    expect(1 - erf(3)).toBeCloseTo(2.209049699858544e-5, 15);
    expect(logNdtr(0)).toBeCloseTo(Math.log(0.5), 14);
    expect(logNdtr(-1.96)).toBeCloseTo(Math.log(0.024997895148220435), 12);
    expect(logNdtr(-40)).toBeCloseTo(-804.6084420137538, 8); // scipy.special.log_ndtr(-40)
    expect(logNdtr(10)).toBeCloseTo(-7.619853024160525e-24, 30);
    expect(Math.exp(logGaussMass(-1, 1))).toBeCloseTo(0.6826894921370859, 13);
    // Far tail mass, and a tiny interval: both finite and consistent.
    expect(logGaussMass(30, 31)).toBeCloseTo(logNdtr(-30), 6);
    // The narrow-interval expansion agrees with the direct log Phi difference.
    for (const [m, w] of [
      [0, 0.1],
      [-3, 0.1],
      [2.5, 0.05],
      [-9.9, 0.1],
      [7, 0.01],
      [0.4, 0.001],
    ]) {
      const direct =
        logNdtr(m + w / 2) + Math.log(-Math.expm1(logNdtr(m - w / 2) - logNdtr(m + w / 2)));
      const viaNeg =
        logNdtr(-m + w / 2) + Math.log(-Math.expm1(logNdtr(-m - w / 2) - logNdtr(-m + w / 2)));
      expect(logGaussMass(m - w / 2, m + w / 2)).toBeCloseTo(
        m > 0 ? viaNeg : direct,
        w >= 0.01 ? 9 : 6,
      );
    }
    const tiny = logGaussMass(0.3, 0.3 + 1e-9);
    expect(tiny).toBeCloseTo(-0.5 * 0.09 - 0.5 * Math.log(2 * Math.PI) + Math.log(1e-9), 6);
  });

  it('default weights and gamma follow Optuna', () => {
    expect(Array.from(defaultWeights(3))).toEqual([1, 1, 1]);
    const w = defaultWeights(30);
    expect(w.length).toBe(30);
    expect(w[0]).toBeCloseTo(1 / 30, 15);
    expect(w[4]).toBeCloseTo(1, 15);
    expect(Array.from(w.slice(5))).toEqual(new Array(25).fill(1));
    expect([0, 1, 10, 11, 100, 1000].map(defaultGamma)).toEqual([0, 1, 1, 2, 10, 25]);
  });

  it('a Parzen estimator is a normalised density (continuous, discrete, categorical)', () => {
    const params = {
      priorWeight: 1,
      considerMagicClip: true,
      considerEndpoints: false,
      multivariate: false,
      weights: defaultWeights,
    };
    const cont = new ParzenEstimator(
      [[0.1, 0.15, 0.9]],
      [{ kind: 'numerical', low: 0, high: 1, step: 0 }],
      params,
    );
    const grid = Float64Array.from({ length: 20001 }, (_, i) => i / 20000);
    const dens = cont.logPdf([grid]);
    let integral = 0;
    for (let i = 1; i < grid.length; i++)
      integral += (0.5 * (Math.exp(dens[i]) + Math.exp(dens[i - 1]))) / 20000;
    expect(integral).toBeCloseTo(1, 5);

    const disc = new ParzenEstimator(
      [[2, 2, 7]],
      [{ kind: 'numerical', low: 0, high: 10, step: 1 }],
      params,
    );
    const pts = Float64Array.from({ length: 11 }, (_, i) => i);
    const mass = disc.logPdf([pts]).reduce((s, v) => s + Math.exp(v), 0);
    expect(mass).toBeCloseTo(1, 12);

    const cat = new ParzenEstimator([[1, 1, 2]], [{ kind: 'categorical', n: 4 }], params);
    const cmass = cat.logPdf([[0, 1, 2, 3]]).reduce((s, v) => s + Math.exp(v), 0);
    expect(cmass).toBeCloseTo(1, 12);
    // Draws stay on the grid and in range.
    const draws = disc.sample(new Rng(1), 500)[0];
    for (const x of draws) {
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(10);
    }
  });
});

describe('TpeSampler', () => {
  it('is deterministic: the same context gives the same suggestion', () => {
    const space: Space = { ...SPHERE_SPACE, x: { type: 'float', low: 0, high: 0.99, step: 0.01 } };
    const s = new TpeSampler({ n_startup_trials: 5 });
    const trials: FrozenTrial[] = [];
    const rng = new Rng(3);
    for (let i = 0; i < 12; i++) {
      const p = s.sample({ space, trials, direction: 'minimize', seed: 9, trialNumber: i });
      expect(
        new TpeSampler({ n_startup_trials: 5 }).sample({
          space,
          trials,
          direction: 'minimize',
          seed: 9,
          trialNumber: i,
        }),
      ).toEqual(p);
      trials.push(frozenTrial(i, p, sphere(p) + rng.next()));
    }
    const ctx = { space, trials, direction: 'minimize' as const, seed: 9, trialNumber: 12 };
    expect(s.sample(ctx)).toEqual(s.sample(ctx));
    expect(s.sample({ ...ctx, seed: 10 })).not.toEqual(s.sample(ctx));
    expect(s.sample({ ...ctx, trialNumber: 13 })).not.toEqual(s.sample(ctx));
  });

  it('startup samples are random, inside the bounds and on the grid', () => {
    const space: Space = {
      ...SPHERE_SPACE,
      f: { type: 'float', low: -2, high: 3 },
      st: { type: 'float', low: 0, high: 0.99, step: 0.01 },
      i2: { type: 'int', low: 0, high: 10, step: 2 },
    };
    const s = new TpeSampler();
    const counts = new Map<number, number>();
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const p = s.sample({ space, trials: [], direction: 'minimize', seed: 1, trialNumber: i });
      seen.add(JSON.stringify(p));
      expect(p.lr).toBeGreaterThanOrEqual(1e-5);
      expect(p.lr).toBeLessThanOrEqual(1);
      expect(
        Number.isInteger(p.units) && (p.units as number) >= 1 && (p.units as number) <= 1024,
      ).toBe(true);
      expect(
        Number.isInteger(p.layers) && (p.layers as number) >= 1 && (p.layers as number) <= 12,
      ).toBe(true);
      expect(
        SPHERE_SPACE.optimizer.type === 'categorical' && SPHERE_SPACE.optimizer.choices,
      ).toContain(p.optimizer);
      expect(p.f).toBeGreaterThanOrEqual(-2);
      expect(p.f).toBeLessThanOrEqual(3);
      expect(Math.round((p.st as number) * 100) / 100).toBe(p.st);
      expect([0, 2, 4, 6, 8, 10]).toContain(p.i2);
      counts.set(p.i2 as number, (counts.get(p.i2 as number) ?? 0) + 1);
    }
    expect(seen.size).toBe(400);
    // Ints are uniform over the grid, endpoints included (not half-weighted).
    for (const v of [0, 2, 4, 6, 8, 10]) expect(counts.get(v)).toBeGreaterThan(40);
  });

  it('concentrates near the optimum of a 1-D quadratic once it has history', () => {
    // 100 random evaluations: the best 10 (the "below" group) lie close to the optimum x = 3.
    const space: Space = { x: { type: 'float', low: -10, high: 10 } };
    const rng = new Rng(42);
    const trials: FrozenTrial[] = [];
    for (let i = 0; i < 100; i++) {
      const x = -10 + 20 * rng.next();
      trials.push(frozenTrial(i, { x }, (x - 3) ** 2));
    }
    const s = new TpeSampler();
    const dTpe: number[] = [];
    const dRandom: number[] = [];
    for (let k = 0; k < 60; k++) {
      const ctx = { space, trials, direction: 'minimize' as const, seed: 5, trialNumber: 100 + k };
      dTpe.push(Math.abs((s.sample(ctx).x as number) - 3));
      dRandom.push(Math.abs((RANDOM.sample(ctx).x as number) - 3));
    }
    expect(median(dTpe)).toBeLessThan(0.1 * median(dRandom));
    expect(median(dTpe)).toBeLessThan(0.5);
  });

  it('respects the direction: maximize mirrors minimize', () => {
    const space: Space = { x: { type: 'float', low: -10, high: 10 } };
    const rng = new Rng(8);
    const min: FrozenTrial[] = [];
    const max: FrozenTrial[] = [];
    for (let i = 0; i < 30; i++) {
      const x = -10 + 20 * rng.next();
      min.push(frozenTrial(i, { x }, (x + 4) ** 2));
      max.push(frozenTrial(i, { x }, -((x + 4) ** 2)));
    }
    const s = new TpeSampler();
    for (let k = 0; k < 10; k++) {
      const a = s.sample({
        space,
        trials: min,
        direction: 'minimize',
        seed: 1,
        trialNumber: 30 + k,
      });
      const b = s.sample({
        space,
        trials: max,
        direction: 'maximize',
        seed: 1,
        trialNumber: 30 + k,
      });
      expect(b).toEqual(a);
    }
  });

  it('beats random search on Branin (median best over 25 seeds, 50 trials)', () => {
    const seeds = Array.from({ length: 25 }, (_, i) => i + 1);
    const tpe = seeds.map((seed) => optimiseWith(new TpeSampler(), BRANIN_SPACE, branin, 50, seed));
    const rnd = seeds.map((seed) => optimiseWith(RANDOM, BRANIN_SPACE, branin, 50, seed + 1000));
    const mtpe = median(tpe);
    const mrnd = median(rnd);
    console.log(
      `Branin median best: tpe ${mtpe.toFixed(4)}, random ${mrnd.toFixed(4)} (optimum 0.3979)`,
    );
    expect(mtpe).toBeLessThan(0.8 * mrnd);
    expect(mtpe).toBeLessThan(1);
    // Multivariate TPE also works and beats random.
    const mv = seeds.map((seed) =>
      optimiseWith(new TpeSampler({ multivariate: true }), BRANIN_SPACE, branin, 50, seed),
    );
    console.log(`Branin median best: multivariate tpe ${median(mv).toFixed(4)}`);
    expect(median(mv)).toBeLessThan(mrnd);
  });

  it('beats random search on a 4-D sphere with log, int and categorical params (median over 15 seeds)', () => {
    const seeds = Array.from({ length: 15 }, (_, i) => i + 11);
    const tpe = seeds.map((seed) => optimiseWith(new TpeSampler(), SPHERE_SPACE, sphere, 50, seed));
    const rnd = seeds.map((seed) => optimiseWith(RANDOM, SPHERE_SPACE, sphere, 50, seed + 100));
    const mv = seeds.map((seed) =>
      optimiseWith(new TpeSampler({ multivariate: true }), SPHERE_SPACE, sphere, 50, seed),
    );
    console.log(
      `sphere median best: tpe ${median(tpe).toFixed(4)}, multivariate ${median(mv).toFixed(4)}, random ${median(rnd).toFixed(4)}`,
    );
    expect(median(tpe)).toBeLessThan(0.6 * median(rnd));
    expect(median(mv)).toBeLessThan(0.6 * median(rnd));
  });

  it('constant liar: running trials push concurrent asks apart', () => {
    const space: Space = { x: { type: 'float', low: -10, high: 10 } };
    const rng = new Rng(42);
    const history: FrozenTrial[] = [];
    for (let i = 0; i < 100; i++) {
      const x = -10 + 20 * rng.next();
      history.push(frozenTrial(i, { x }, (x - 3) ** 2));
    }
    const liar = new TpeSampler();
    const honest = new TpeSampler({ constant_liar: false });
    // Four workers ask one after the other, none has told yet: all suggestions differ.
    const trials = [...history];
    const asks: number[] = [];
    for (let w = 0; w < 4; w++) {
      const p = liar.sample({
        space,
        trials,
        direction: 'minimize',
        seed: 2,
        trialNumber: 100 + w,
      });
      asks.push(p.x as number);
      trials.push(frozenTrial(100 + w, p, null, 'running'));
    }
    expect(new Set(asks).size).toBe(4);
    // The running trials change the liar's suggestion, not the honest sampler's.
    const ctx = { space, direction: 'minimize' as const, seed: 2, trialNumber: 104 };
    expect(liar.sample({ ...ctx, trials })).not.toEqual(liar.sample({ ...ctx, trials: history }));
    expect(honest.sample({ ...ctx, trials })).toEqual(honest.sample({ ...ctx, trials: history }));
    // Statistically: with 3 workers busy right at the optimum, the liar keeps away from it.
    const busy = [...history];
    for (let j = 0; j < 3; j++) busy.push(frozenTrial(100 + j, { x: 3 }, null, 'running'));
    const dl: number[] = [];
    const dh: number[] = [];
    for (let k = 0; k < 60; k++) {
      const c = {
        space,
        trials: busy,
        direction: 'minimize' as const,
        seed: 4,
        trialNumber: 103 + k,
      };
      dl.push(Math.abs((liar.sample(c).x as number) - 3));
      dh.push(Math.abs((honest.sample(c).x as number) - 3));
    }
    expect(median(dl)).toBeGreaterThan(2 * median(dh));
  });

  it('splits trials like Optuna: complete by value, then pruned by (-last step, value); failed and running above', () => {
    const t = [
      frozenTrial(0, { x: 0 }, 5),
      frozenTrial(1, { x: 1 }, null, 'pruned', [
        { step: 1, value: 0.1 },
        { step: 3, value: 9 },
      ]),
      frozenTrial(2, { x: 2 }, null, 'pruned', [{ step: 1, value: 0.2 }]),
      frozenTrial(3, { x: 3 }, 7),
      frozenTrial(4, { x: 4 }, null, 'failed'),
      frozenTrial(5, { x: 5 }, null, 'pruned'),
      frozenTrial(6, { x: 6 }, null, 'pruned', [{ step: 3, value: 4 }]),
      frozenTrial(7, { x: 7 }, null, 'running'),
      frozenTrial(8, { x: 8 }, null, 'waiting'),
    ];
    const nums = (ts: FrozenTrial[]) => ts.map((x) => x.number);
    // n = 6 finished (2 complete + 4 pruned). Ranking: 0, 3 (complete), 6 (step 3, value 4), 1 (step 3, value 9), 2 (step 1), 5 (no reports).
    const ranks = [0, 3, 6, 1, 2, 5];
    for (let k = 0; k <= 6; k++) {
      const { below, above } = splitTrials(t, 'minimize', () => k, true);
      expect(nums(below)).toEqual([...ranks.slice(0, k)].sort((a, b) => a - b));
      expect(nums(above)).toEqual([...ranks.slice(k), 4, 7].sort((a, b) => a - b));
    }
    const noLiar = splitTrials(t, 'minimize', () => 2, false);
    expect(nums(noLiar.above)).toEqual([1, 2, 4, 5, 6]);
    // maximize: larger values first, for complete and pruned alike.
    expect(nums(splitTrials(t, 'maximize', () => 1, false).below)).toEqual([3]);
    expect(nums(splitTrials(t, 'maximize', () => 3, false).below)).toEqual([0, 1, 3]);
    // gamma receives the number of finished trials.
    let seen = -1;
    splitTrials(t, 'minimize', (n) => ((seen = n), 1), true);
    expect(seen).toBe(6);
  });

  it('uses pruned trials: good intermediate values pull suggestions towards them', () => {
    const space: Space = { x: { type: 'float', low: -10, high: 10 } };
    const rng = new Rng(21);
    const good: FrozenTrial[] = [frozenTrial(0, { x: -9 }, 50)];
    const flat: FrozenTrial[] = [frozenTrial(0, { x: -9 }, 50)];
    for (let i = 1; i < 30; i++) {
      const x = -10 + 20 * rng.next();
      const curve = [1, 2, 3].map((step) => ({ step, value: (x - 6) ** 2 + 10 / step }));
      good.push(frozenTrial(i, { x }, null, 'pruned', curve));
      flat.push(
        frozenTrial(
          i,
          { x },
          null,
          'pruned',
          curve.map((c) => ({ step: c.step, value: 1 })),
        ),
      );
    }
    const s = new TpeSampler({ gamma: () => 6 });
    const dg: number[] = [];
    const df: number[] = [];
    for (let k = 0; k < 40; k++) {
      dg.push(
        Math.abs(
          (s.sample({ space, trials: good, direction: 'minimize', seed: 3, trialNumber: 30 + k })
            .x as number) - 6,
        ),
      );
      df.push(
        Math.abs(
          (s.sample({ space, trials: flat, direction: 'minimize', seed: 3, trialNumber: 30 + k })
            .x as number) - 6,
        ),
      );
    }
    expect(median(dg)).toBeLessThan(0.5 * median(df));
    expect(median(dg)).toBeLessThan(1.5);
  });

  it('survives pathological histories', () => {
    const space: Space = {
      x: { type: 'float', low: 0, high: 1 },
      n: { type: 'int', low: 1, high: 100, log: true },
      k: { type: 'int', low: 0, high: 4 },
      only: { type: 'categorical', choices: ['the-one'] },
      c: { type: 'categorical', choices: [true, false, 3] },
    };
    const samplers = [
      new TpeSampler({ n_startup_trials: 0 }),
      new TpeSampler({ n_startup_trials: 0, multivariate: true }),
      new TpeSampler({ n_startup_trials: 0, consider_magic_clip: false, consider_endpoints: true }),
      new TpeSampler({ n_startup_trials: 0, weights: () => [0, -1, NaN], gamma: () => NaN }),
    ];
    const same = { x: 0.5, n: 10, k: 2, only: 'the-one', c: 3 };
    const histories: FrozenTrial[][] = [
      [],
      Array.from({ length: 12 }, (_, i) => frozenTrial(i, {}, null, 'failed')),
      Array.from({ length: 30 }, (_, i) => frozenTrial(i, same, 1)), // identical params and values
      [frozenTrial(0, same, 1)], // one trial
      [
        frozenTrial(0, { x: 0, n: 1, k: 0, only: 'the-one', c: true }, 0),
        frozenTrial(1, { x: 1, n: 100, k: 4, only: 'the-one', c: false }, 0),
      ],
      [frozenTrial(0, same, null, 'pruned'), frozenTrial(1, same, null, 'running')],
      // Params outside the current space (e.g. the space changed) are ignored or clamped.
      [
        frozenTrial(0, { x: 7, n: 1e6, k: -3, only: 'gone', c: 'nope' }, 1),
        frozenTrial(1, { x: 'a' as unknown as number }, 2),
      ],
    ];
    for (const s of samplers) {
      for (const trials of histories) {
        for (const direction of ['minimize', 'maximize'] as const) {
          const p = s.sample({ space, trials, direction, seed: 0, trialNumber: trials.length });
          expect(p.only).toBe('the-one');
          expect(p.x).toBeGreaterThanOrEqual(0);
          expect(p.x).toBeLessThanOrEqual(1);
          expect(Number.isInteger(p.n) && (p.n as number) >= 1 && (p.n as number) <= 100).toBe(
            true,
          );
          expect([0, 1, 2, 3, 4]).toContain(p.k);
          expect([true, false, 3]).toContain(p.c);
        }
      }
    }
  });

  it('conditional space: beta1 only with adam, and learned from adam trials only', () => {
    const space: Space = {
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
      beta1: { type: 'float', low: 0.8, high: 0.999, when: { optimizer: 'adam' } },
      momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['sgd'] } },
      lr: { type: 'float', low: 1e-4, high: 1, log: true },
    };
    const f = (p: Params) =>
      (Math.log10(p.lr as number) + 2) ** 2 +
      (p.optimizer === 'adam'
        ? 20 * ((p.beta1 as number) - 0.9) ** 2
        : 0.5 + (p.momentum as number));
    for (const multivariate of [false, true]) {
      const s = new TpeSampler({ multivariate });
      const trials: FrozenTrial[] = [];
      for (let i = 0; i < 40; i++) {
        const p = s.sample({ space, trials, direction: 'minimize', seed: 13, trialNumber: i });
        expect('beta1' in p).toBe(p.optimizer === 'adam');
        expect('momentum' in p).toBe(p.optimizer === 'sgd');
        expect(Object.keys(p).sort()).toEqual(
          p.optimizer === 'adam' ? ['beta1', 'lr', 'optimizer'] : ['lr', 'momentum', 'optimizer'],
        );
        trials.push(frozenTrial(i, p, f(p)));
      }
      // It learns that adam is better.
      const late = trials.slice(20);
      expect(late.filter((t) => t.params.optimizer === 'adam').length).toBeGreaterThan(10);
    }
  });
});

describe('TPE with a parameter some trials lack (define-by-run)', () => {
  it('learns the others from every trial: the joint draw is over what every finished trial has', () => {
    // The good trials never asked for y; the trials that did are bad whatever their x. Were the
    // joint draw over {x, y}, it would keep only the trials with y and lose where x is good.
    const space: Space = {
      x: { type: 'float', low: -5, high: 5 },
      y: { type: 'float', low: -5, high: 5 },
    };
    const trials: FrozenTrial[] = [];
    const rng = new Rng(1);
    for (let i = 0; i < 120; i++) {
      const x = -5 + 10 * rng.next();
      if (i % 2 === 0) trials.push(frozenTrial(i, { x }, (x - 3) ** 2));
      else trials.push(frozenTrial(i, { x, y: -5 + 10 * rng.next() }, 100 + (x + 3) ** 2));
    }
    const sampler = new TpeSampler({ multivariate: true, n_startup_trials: 10 });
    const off = Array.from({ length: 15 }, (_, seed) => {
      const p = sampler.sample({ space, trials, direction: 'minimize', seed, trialNumber: 120 });
      return Math.abs((p.x as number) - 3);
    });
    expect(median(off)).toBeLessThan(1);
  });
});

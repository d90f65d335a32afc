/**
 * Several objectives and constraints in the samplers: NSGA-II (its generations, elite,
 * children and options), multi-objective TPE (the split by fronts and hypervolume, the
 * weights of "below"), constraints in TPE, and `auto` with several objectives.
 */
import { describe, expect, it } from 'vitest';
import { hypervolume, toLoss } from '../../src/tuning/pareto';
import { Rng } from '../../src/tuning/rng';
import { AutoSampler, MO_TPE_MAX_TRIALS } from '../../src/tuning/samplers/auto';
import { ConfigError } from '../../src/tuning/errors';
import { makeSampler } from '../../src/tuning/registry';
import { Nsga2Sampler, RandomSampler } from '../../src/tuning/samplers';
import { splitTrials, splitTrialsMulti, TpeSampler } from '../../src/tuning/samplers/tpe';
import type {
  Direction,
  FrozenTrial,
  Params,
  Sampler,
  Space,
  TrialState,
} from '../../src/tuning/types';
import { expectValidParams, median } from './builders';

function moTrial(
  number: number,
  params: Params,
  values: number[] | null,
  constraints: number[] | null = null,
  state: TrialState = 'complete',
): FrozenTrial {
  return {
    number,
    state,
    params,
    value: null,
    values: state === 'complete' ? values : null,
    constraints,
    intermediate: [],
  };
}

const box = (d: number): Space =>
  Object.fromEntries(
    Array.from({ length: d }, (_, i) => [`x${i}`, { type: 'float' as const, low: 0, high: 1 }]),
  );

/** ZDT1 in d variables. */
function zdt1(p: Params, d: number): number[] {
  const x = Array.from({ length: d }, (_, i) => p[`x${i}`] as number);
  const g = 1 + (9 * x.slice(1).reduce((s, v) => s + v, 0)) / (d - 1);
  return [x[0], g * (1 - Math.sqrt(x[0] / g))];
}

/** A sequential study with `directions`; `constraints` (optional) told with each result. */
function runStudy(
  sampler: Sampler,
  space: Space,
  f: (p: Params) => number[],
  n: number,
  seed: number,
  directions: Direction[] = ['minimize', 'minimize'],
  constraints?: (p: Params) => number[],
): FrozenTrial[] {
  const trials: FrozenTrial[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler.sample({
      space,
      trials,
      direction: directions[0],
      directions,
      seed,
      trialNumber: i,
    });
    trials.push(moTrial(i, params, f(params), constraints ? constraints(params) : null));
  }
  return trials;
}

function studyHv(trials: FrozenTrial[], ref: number[]): number {
  return hypervolume(
    trials
      .filter((t) => !t.constraints || t.constraints.every((c) => c <= 0))
      .map((t) => toLoss(t.values!, ['minimize', 'minimize'])),
    ref,
  );
}

describe('nsga2', () => {
  const dirs: Direction[] = ['minimize', 'minimize'];

  it('draws at random until the first generation is full, then breeds from the parents', () => {
    const space = box(3);
    const nsga = new Nsga2Sampler({ population_size: 6, mutation_prob: 0, crossover_prob: 1 });
    const random = new RandomSampler();
    const trials: FrozenTrial[] = [];
    for (let i = 0; i < 6; i++) {
      const ctx = {
        space,
        trials,
        direction: 'minimize' as const,
        directions: dirs,
        seed: 4,
        trialNumber: i,
      };
      const p = nsga.sample(ctx);
      expect(p).toEqual(random.sample(ctx));
      trials.push(moTrial(i, p, zdt1(p, 3)));
    }
    // A running trial does not count toward the generation.
    trials.push(moTrial(6, { x0: 0.5, x1: 0.5, x2: 0.5 }, null, null, 'running'));
    for (let i = 7; i < 12; i++) {
      const p = nsga.sample({
        space,
        trials,
        direction: 'minimize',
        directions: dirs,
        seed: 4,
        trialNumber: i,
      });
      // Without mutation every value comes from one of the six parents, parameter by parameter.
      for (const name of Object.keys(space))
        expect(trials.slice(0, 6).map((t) => t.params[name])).toContain(p[name]);
      expect(p).not.toEqual(
        random.sample({
          space,
          trials,
          direction: 'minimize',
          directions: dirs,
          seed: 4,
          trialNumber: i,
        }),
      );
    }
  });

  it('the elite takes whole fronts, then the last front by crowding distance', () => {
    const nsga = new Nsga2Sampler({ population_size: 4 });
    const v = [
      [0, 10],
      [10, 0],
      [5, 5],
      [6, 6], // generation 0: front {0,1,2}, then 3
      [4, 4],
      [1, 9],
      [9, 1],
      [4.5, 4.6], // generation 1
    ];
    const trials = v.map((vals, i) => moTrial(i, { x0: i / 10 }, vals));
    // Fronts of all eight: {0,1,4,5,6} (4 dominates 2, 3, 7). Four of five by crowding distance: the extremes
    // 0 and 1 are infinite, 4 has (9 - 1)/10 + (9 - 1)/10 = 1.6, 5 and 6 have 0.4 + 0.6 = 1 each (tie: lower number).
    const elite = nsga
      .parents(trials, dirs)
      .map((m) => m.trial.number)
      .sort((a, b) => a - b);
    expect(elite).toEqual([0, 1, 4, 5]);
    // Only full generations count: with 7 trials the parents are generation 0's elite.
    expect(
      nsga
        .parents(trials.slice(0, 7), dirs)
        .map((m) => m.trial.number)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3]);
  });

  it('constrained domination: an infeasible trial gives way to feasible ones, however good its values', () => {
    const nsga = new Nsga2Sampler({ population_size: 3 });
    const trials = [
      moTrial(0, { x0: 0 }, [0, 0], [1]), // infeasible, best values
      moTrial(1, { x0: 0.1 }, [5, 5], [0]),
      moTrial(2, { x0: 0.2 }, [6, 6], [-1]),
      moTrial(3, { x0: 0.3 }, [7, 7], [0.5]), // infeasible, less violation than 0
      moTrial(4, { x0: 0.4 }, [8, 8], [-2]),
      moTrial(5, { x0: 0.5 }, [9, 9], [3]),
    ];
    const members = nsga.parents(trials, dirs);
    expect(members.map((m) => m.trial.number).sort()).toEqual([1, 2, 4]);
    // Among infeasible ones the smaller violation ranks first.
    const small = new Nsga2Sampler({ population_size: 4 }).parents(trials.slice(0, 4), dirs);
    const rank = new Map(small.map((m) => [m.trial.number, m.rank]));
    expect(rank.get(3)!).toBeLessThan(rank.get(0)!);
  });

  it('with one objective it keeps the best values (a genetic algorithm)', () => {
    const nsga = new Nsga2Sampler({ population_size: 3 });
    const values = [5, 1, 4, 2, 9, 3];
    const trials: FrozenTrial[] = values.map((v, i) => ({
      number: i,
      state: 'complete',
      params: { x0: i },
      value: v,
      intermediate: [],
    }));
    expect(
      nsga
        .parents(trials, ['minimize'])
        .map((m) => m.trial.number)
        .sort(),
    ).toEqual([1, 3, 5]);
    expect(
      nsga
        .parents(trials, ['maximize'])
        .map((m) => m.trial.number)
        .sort(),
    ).toEqual([0, 2, 4]);
  });

  it('handles conditional spaces: children are valid and take inactive-in-parent values at random', () => {
    const space: Space = {
      opt: { type: 'categorical', choices: ['sgd', 'adam'] },
      lr: { type: 'float', low: 1e-4, high: 1, log: true },
      momentum: { type: 'float', low: 0, high: 0.99, when: { opt: 'sgd' } },
      beta1: { type: 'float', low: 0.8, high: 0.999, when: { opt: 'adam' } },
      layers: { type: 'int', low: 1, high: 4 },
    };
    const f = (p: Params) => [
      (Math.log10(p.lr as number) + 2) ** 2 + ((p.momentum as number) ?? 0),
      p.layers as number,
    ];
    const trials = runStudy(new Nsga2Sampler({ population_size: 8 }), space, f, 40, 2);
    for (const t of trials) expectValidParams(space, t.params);
    expect(new Set(trials.map((t) => t.params.opt)).size).toBe(2);
  });

  it('is a pure function of the context', () => {
    const space = box(4);
    const trials = runStudy(
      new Nsga2Sampler({ population_size: 10 }),
      space,
      (p) => zdt1(p, 4),
      30,
      1,
    );
    const ctx = {
      space,
      trials,
      direction: 'minimize' as const,
      directions: dirs,
      seed: 1,
      trialNumber: 30,
    };
    expect(new Nsga2Sampler({ population_size: 10 }).sample(ctx)).toEqual(
      new Nsga2Sampler({ population_size: 10 }).sample(ctx),
    );
  });

  it('beats random search on ZDT1 given generations', () => {
    const ref = [1.1, 5];
    const hv = (s: () => Sampler) =>
      median(
        [0, 1, 2, 3, 4].map((seed) =>
          studyHv(
            runStudy(s(), box(4), (p) => zdt1(p, 4), 200, seed),
            ref,
          ),
        ),
      );
    expect(hv(() => new Nsga2Sampler({ population_size: 20 }))).toBeGreaterThan(
      hv(() => new RandomSampler()),
    );
  });

  it('validates its options in makeSampler', () => {
    expect(
      makeSampler({
        name: 'nsga2',
        population_size: 8,
        mutation_prob: 0.2,
        crossover_prob: 0.5,
        swapping_prob: 0.3,
      }).name,
    ).toBe('nsga2');
    const path = (opts: Record<string, unknown>) => {
      try {
        makeSampler({ name: 'nsga2', ...opts });
      } catch (e) {
        if (e instanceof ConfigError) return e.issues.map((i) => i.path).join(', ');
        throw e;
      }
      return null;
    };
    expect(path({ population_size: 1 })).toBe('sampler.population_size');
    expect(path({ population_size: 2.5 })).toBe('sampler.population_size');
    expect(path({ mutation_prob: 1.5 })).toBe('sampler.mutation_prob');
    expect(path({ crossover_prob: -0.1 })).toBe('sampler.crossover_prob');
    expect(path({ swapping_prob: '0.5' })).toBe('sampler.swapping_prob');
    expect(path({ n_startup_trials: 5 })).toBe('sampler.n_startup_trials');
  });
});

describe('multi-objective TPE: the split', () => {
  const dirs: Direction[] = ['minimize', 'minimize'];
  const g = (k: number) => () => k;

  it('fills "below" with whole fronts, then cuts the last by greedy hypervolume', () => {
    const v = [
      [0, 10],
      [10, 0],
      [5, 5], // front 0
      [6, 6],
      [1, 10.5],
      [10.5, 1],
      [5.5, 5.6], // front 1 (6,6 is dominated by 5.5,5.6: front 2)
      [20, 20],
    ];
    const trials = v.map((vals, i) => moTrial(i, {}, vals));
    const three = splitTrialsMulti(trials, dirs, g(3), false, false);
    expect(three.below.map((t) => t.number)).toEqual([0, 1, 2]);
    // Four: front 0 plus the member of front 1 {4, 5, 6} with the largest hypervolume alone (reference 1.1 x worst).
    const four = splitTrialsMulti(trials, dirs, g(4), false, false);
    expect(four.below.map((t) => t.number)).toEqual([0, 1, 2, 6]);
    expect(four.above.map((t) => t.number)).toEqual([3, 4, 5, 7]);
  });

  it('uses each direction and skips pruned, running and incomplete trials', () => {
    const trials = [
      moTrial(0, {}, [1, 1]),
      moTrial(1, {}, [2, 2]), // best when the second objective is maximised
      moTrial(2, {}, null, null, 'pruned'),
      moTrial(3, {}, null, null, 'running'),
      moTrial(4, {}, [0, 0], null, 'failed'),
    ];
    const { below, above } = splitTrialsMulti(trials, ['minimize', 'maximize'], g(1), true, false);
    // Under min/max (1,1) and (2,2) are mutually non-dominated: one of them below, the other above; no other trial.
    expect(below).toHaveLength(1);
    expect([...below, ...above].map((t) => t.number).sort()).toEqual([0, 1]);
    // (1,1) and (2,2) are mutually non-dominated under min/max; under min/min (1,1) wins alone.
    expect(splitTrialsMulti(trials, dirs, g(1), true, false).below.map((t) => t.number)).toEqual([
      0,
    ]);
  });

  it('weights "below" by hypervolume contribution, largest 1, and infeasible ones almost nothing', () => {
    // Three feasible, two infeasible: "below" (4) takes the feasible ones and the less violating infeasible one.
    const trials = [
      moTrial(0, {}, [0, 4], [-1]),
      moTrial(1, {}, [1, 1], [0]),
      moTrial(2, {}, [4, 0], [-2]),
      moTrial(3, {}, [2, 2], [1]),
      moTrial(4, {}, [9, 9], [5]),
    ];
    const { below, weights } = splitTrialsMulti(trials, dirs, g(4), false, true);
    expect(below.map((t) => t.number)).toEqual([0, 1, 2, 3]);
    const w = below.map((t) => weights!.get(t)!);
    // Reference: 1.1 x the worst feasible (4, 4) = (4.4, 4.4). Exclusive boxes: (0,4): 1 x 0.4; (1,1): 3 x 3; (4,0): 0.4 x 1.
    expect(w[1]).toBeCloseTo(1, 9);
    expect(w[0]).toBeCloseTo(0.4 / 9, 9);
    expect(w[2]).toBeCloseTo(0.4 / 9, 9);
    expect(w[3]).toBeLessThan(1e-9);
  });
});

describe('multi-objective TPE past three objectives', () => {
  it('cuts the last front by crowding distance and weighs "below" uniformly (exact hypervolume would grow like n^(d-1))', () => {
    const dirs: Direction[] = ['minimize', 'minimize', 'minimize', 'minimize'];
    // One front of five: four extremes (each best on one objective) and a central point.
    const v = [
      [0, 5, 5, 5],
      [5, 0, 5, 5],
      [2.4, 2.5, 2.6, 2.5],
      [5, 5, 0, 5],
      [5, 5, 5, 0],
    ];
    const trials = v.map((vals, i) => moTrial(i, {}, vals));
    const { below, above, weights } = splitTrialsMulti(trials, dirs, () => 4, false, false);
    // The extremes have infinite crowding distance; the central point is the crowded one.
    expect(below.map((t) => t.number)).toEqual([0, 1, 3, 4]);
    expect(above.map((t) => t.number)).toEqual([2]);
    expect(below.map((t) => weights!.get(t))).toEqual([1, 1, 1, 1]);
    // With three objectives the same front is cut by hypervolume: the central point adds the most.
    const three = splitTrialsMulti(
      v.slice(0, 3).map((vals, i) => moTrial(i, {}, vals.slice(0, 3))),
      dirs.slice(0, 3),
      () => 1,
      false,
      false,
    );
    expect(three.below.map((t) => t.number)).toEqual([2]);
  });
});

describe('constraints in TPE', () => {
  const g = (k: number) => () => k;

  it('enough feasible trials: "below" is the best feasible ones, every infeasible trial goes "above"', () => {
    const values = [5, 0, 3, 1, 4, 2];
    const cons = [[0], [2], [-1], [0.5], [-3], [0]];
    const trials: FrozenTrial[] = values.map((v, i) => ({
      number: i,
      state: 'complete',
      params: {},
      value: v,
      constraints: cons[i],
      intermediate: [],
    }));
    const { below, above } = splitTrialsMulti(trials, ['minimize'], g(2), false, true);
    expect(below.map((t) => t.number)).toEqual([2, 5]);
    expect(above.map((t) => t.number)).toEqual([0, 1, 3, 4]);
  });

  it('too few feasible trials: "below" is every feasible one and then the least violating', () => {
    const trials: FrozenTrial[] = [
      { number: 0, state: 'complete', params: {}, value: 9, constraints: [0], intermediate: [] },
      { number: 1, state: 'complete', params: {}, value: 0, constraints: [3, 1], intermediate: [] },
      {
        number: 2,
        state: 'complete',
        params: {},
        value: 1,
        constraints: [0.5, -4],
        intermediate: [],
      },
      { number: 3, state: 'complete', params: {}, value: -1, constraints: null, intermediate: [] }, // none told: unbounded violation
      {
        number: 4,
        state: 'pruned',
        params: {},
        value: null,
        intermediate: [{ step: 3, value: -5 }],
      },
    ];
    expect(
      splitTrialsMulti(trials, ['minimize'], g(3), false, true).below.map((t) => t.number),
    ).toEqual([0, 1, 2]);
  });

  it('one objective without constraints splits exactly as before', () => {
    const rng = new Rng(3);
    const states: TrialState[] = [
      'complete',
      'complete',
      'complete',
      'pruned',
      'running',
      'failed',
    ];
    for (let rep = 0; rep < 20; rep++) {
      const trials: FrozenTrial[] = Array.from({ length: 15 }, (_, i) => {
        const state = states[rng.int(states.length)];
        return {
          number: i,
          state,
          params: {},
          value: state === 'complete' ? rng.int(5) : null,
          intermediate: state === 'pruned' ? [{ step: rng.int(3), value: rng.next() }] : [],
        };
      });
      const a = splitTrialsMulti(trials, ['minimize'], g(4), true, false);
      const b = splitTrials(trials, 'minimize', g(4), true);
      expect(a.below).toEqual(b.below);
      expect(a.above).toEqual(b.above);
      expect(a.weights).toBeUndefined();
    }
  });

  it('steers toward the feasible region when told the constraints', () => {
    const space = box(2);
    // Minimise (x0, x1) subject to x0 + x1 >= 1.4: the objectives pull away from the small feasible corner.
    const f = (p: Params) => [p.x0 as number, p.x1 as number];
    const c = (p: Params) => [1.4 - (p.x0 as number) - (p.x1 as number)];
    const feasibleLate = (s: () => Sampler, told: boolean) =>
      median(
        [0, 1, 2, 3, 4].map(
          (seed) =>
            runStudy(s(), space, f, 60, seed, ['minimize', 'minimize'], told ? c : undefined)
              .slice(20)
              .filter((t) => c(t.params)[0] <= 0).length,
        ),
      );
    const told = feasibleLate(() => new TpeSampler(), true);
    expect(told).toBeGreaterThan(feasibleLate(() => new RandomSampler(), true) + 3);
    expect(told).toBeGreaterThan(feasibleLate(() => new TpeSampler(), false) + 10);
  });
});

describe('samplers with several objectives', () => {
  it('multi-objective TPE beats random search on ZDT1', () => {
    const ref = [1.1, 5];
    const hv = (s: () => Sampler) =>
      median(
        [0, 1, 2, 3, 4].map((seed) =>
          studyHv(
            runStudy(s(), box(4), (p) => zdt1(p, 4), 60, seed),
            ref,
          ),
        ),
      );
    expect(hv(() => new TpeSampler())).toBeGreaterThan(hv(() => new RandomSampler()) + 0.3);
  });

  it('auto hands several objectives to TPE, then to NSGA-II, and says so', () => {
    const auto = new AutoSampler();
    const space = box(2);
    const dirs: Direction[] = ['minimize', 'minimize'];
    const trials = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        moTrial(i, { x0: (i % 7) / 7, x1: (i % 5) / 5 }, [i % 7, (i % 5) + 1]),
      );
    const ctx = (n: number) => ({
      space,
      trials: trials(n),
      direction: 'minimize' as const,
      directions: dirs,
      seed: 0,
      trialNumber: n,
    });
    expect(auto.proposer(ctx(MO_TPE_MAX_TRIALS - 1))).toBe('tpe');
    expect(auto.proposer(ctx(MO_TPE_MAX_TRIALS))).toBe('nsga2');
    expect(auto.sample(ctx(MO_TPE_MAX_TRIALS))).toEqual(
      new Nsga2Sampler().sample(ctx(MO_TPE_MAX_TRIALS)),
    );
    expect(auto.sample(ctx(30))).toEqual(new TpeSampler({ multivariate: true }).sample(ctx(30)));
    // One objective: not the multi-objective branch.
    expect(auto.proposer({ ...ctx(30), directions: undefined })).not.toBe('nsga2');
  });
});

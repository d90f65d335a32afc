/**
 * The sampler conformance suite: what every Sampler must do, whatever its
 * algorithm (after Optuna's `optuna/testing/` and Hono's shared router cases).
 *
 *   samplerConformance('random', () => new RandomSampler());
 *   samplerConformance('grid', () => new GridSampler(), { discrete: true });
 *
 * `discrete: true` runs every case on spaces without continuous floats (for
 * the grid sampler): log floats become log ints, plain floats get a step.
 *
 * The validity oracle is `validateParams`: a suggestion must be a valid
 * enqueued trial (every active parameter present, in range, on its step,
 * integer for ints, one of the choices; no inactive or unknown parameter).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tuning/rng';
import { fromUnit } from '../../src/tuning/samplers/random';
import { buildParams } from '../../src/tuning/space';
import type {
  Direction,
  FrozenTrial,
  ParamSpec,
  Params,
  Sampler,
  Space,
  TrialState,
} from '../../src/tuning/types';
import { expectValidParams } from './builders';

export interface ConformanceOptions {
  /** Only discrete spaces (categorical, int, stepped float): for the grid sampler. */
  discrete?: boolean;
  /** Trials in the sequential-history cases (default 30). */
  historyLength?: number;
}

/** A float spec, made discrete (stepped, or a log int) when the suite runs in discrete mode. */
function float(
  discrete: boolean,
  low: number,
  high: number,
  extra: { log?: boolean; when?: ParamSpec['when'] } = {},
): ParamSpec {
  const { log, when } = extra;
  if (!discrete)
    return { type: 'float', low, high, ...(log ? { log } : {}), ...(when ? { when } : {}) };
  if (log)
    return {
      type: 'int',
      low: Math.max(1, Math.ceil(low)),
      high: Math.max(2, Math.floor(high)),
      log: true,
      ...(when ? { when } : {}),
    };
  return { type: 'float', low, high, step: (high - low) / 200, ...(when ? { when } : {}) };
}

/** Every kind of parameter, unconditional. */
function mixedSpace(discrete: boolean): Space {
  return {
    f: float(discrete, -2, 3),
    flog: discrete
      ? { type: 'int', low: 1, high: 100_000, log: true }
      : float(false, 1e-5, 1, { log: true }),
    fstep: { type: 'float', low: 0, high: 0.99, step: 0.01 },
    i: { type: 'int', low: -3, high: 7 },
    ilog: { type: 'int', low: 1, high: 1024, log: true },
    istep: { type: 'int', low: 0, high: 100, step: 5 },
    c: { type: 'categorical', choices: ['a', 1, true] },
  };
}

/** Nested conditions: opt -> (beta1 | momentum, nesterov) -> dampening. */
function conditionalSpace(discrete: boolean): Space {
  return {
    opt: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
    lr: float(discrete, 1e-4, 1, { log: !discrete }),
    beta1: float(discrete, 0.8, 0.999, { when: { opt: 'adam' } }),
    momentum: { type: 'float', low: 0, high: 0.9, step: 0.1, when: { opt: ['sgd', 'rmsprop'] } },
    nesterov: { type: 'categorical', choices: [true, false], when: { opt: 'sgd' } },
    dampening: { type: 'float', low: 0, high: 0.5, step: 0.25, when: { nesterov: false } },
  };
}

/** A trial for a history, with params drawn uniformly (valid for the space). */
function trial(
  space: Space,
  number: number,
  state: TrialState,
  value: number | null,
  rng: Rng,
  steps = 0,
): FrozenTrial {
  const params = buildParams(space, (_n, spec) => fromUnit(spec, rng.next()));
  const intermediate = Array.from({ length: steps }, (_, s) => ({
    step: s,
    value: (value ?? 1) + 1 / (s + 1),
  }));
  return { number, state, params, value: state === 'complete' ? value : null, intermediate };
}

function objective(params: Params): number {
  let v = 0;
  for (const x of Object.values(params))
    v += typeof x === 'number' ? Math.abs(x) : String(x).length;
  return v;
}

export function samplerConformance(
  name: string,
  make: () => Sampler,
  options: ConformanceOptions = {},
): void {
  const discrete = options.discrete ?? false;
  const n = options.historyLength ?? 30;
  const ctx = (
    space: Space,
    trials: FrozenTrial[],
    trialNumber: number,
    seed = 7,
    direction: Direction = 'minimize',
  ) => ({
    space,
    trials,
    direction,
    seed,
    trialNumber,
  });

  /** Suggest trials 0..count-1 one after another, each told its objective value. */
  const sequential = (sampler: Sampler, space: Space, count: number, seed = 7): Params[] => {
    const history: FrozenTrial[] = [];
    const out: Params[] = [];
    for (let t = 0; t < count; t++) {
      const params = sampler.sample(ctx(space, history, t, seed));
      out.push(params);
      history.push({
        number: t,
        state: 'complete',
        params,
        value: objective(params),
        intermediate: [],
      });
    }
    return out;
  };

  describe(`sampler conformance: ${name}`, () => {
    it('respects bounds, log scales, steps, ints and categorical choices', () => {
      const space = mixedSpace(discrete);
      const all = sequential(make(), space, Math.max(n, 40));
      for (const p of all) expectValidParams(space, p);
      if (!discrete) {
        // Log scale: uniform in log(x), so many draws in the lowest decades (a
        // grid, in discrete mode, weighs every grid value alike instead).
        const flog = all.map((p) => p.flog as number);
        expect(flog.filter((x) => x < 1e-2).length).toBeGreaterThanOrEqual(all.length / 5);
      }
      // Every categorical choice is eventually used, of whatever type.
      expect(new Set(all.map((p) => p.c))).toEqual(new Set(['a', 1, true]));
    });

    it('gives conditional parameters exactly when their conditions hold', () => {
      const space = conditionalSpace(discrete);
      const all = sequential(make(), space, Math.max(n, 40));
      for (const p of all) {
        expectValidParams(space, p);
        expect('beta1' in p).toBe(p.opt === 'adam');
        expect('momentum' in p).toBe(p.opt === 'sgd' || p.opt === 'rmsprop');
        expect('nesterov' in p).toBe(p.opt === 'sgd');
        expect('dampening' in p).toBe(p.opt === 'sgd' && p.nesterov === false);
      }
      expect(new Set(all.map((p) => p.opt))).toEqual(new Set(['sgd', 'adam', 'rmsprop']));
    });

    it('is deterministic: the same context gives the same params, in any instance', () => {
      const space = conditionalSpace(discrete);
      const rng = new Rng(1);
      const history = Array.from({ length: 12 }, (_, i) =>
        trial(space, i, 'complete', rng.next(), rng),
      );
      const a = make().sample(ctx(space, history, 12));
      const s = make();
      expect(s.sample(ctx(space, history, 12))).toEqual(a);
      expect(s.sample(ctx(space, history, 12))).toEqual(a);
      expect(make().sample(ctx(space, [...history], 12))).toEqual(a);
    });

    it('gives different params to different trial numbers, and depends on the seed', () => {
      const space: Space = {
        x: { type: 'int', low: 0, high: 1_000_000 },
        y: float(discrete, 0, 1),
      };
      const s = make();
      const seen = new Set<string>();
      for (let t = 0; t < 20; t++) seen.add(JSON.stringify(s.sample(ctx(space, [], t))));
      expect(seen.size).toBe(20);
      const bySeed = new Set(
        [1, 2, 3, 4].map((seed) => JSON.stringify(s.sample(ctx(space, [], 0, seed)))),
      );
      expect(bySeed.size).toBeGreaterThan(1);
    });

    it('survives failed, pruned and running trials in the history', () => {
      const space = conditionalSpace(discrete);
      const rng = new Rng(2);
      const states: TrialState[] = [
        'complete',
        'failed',
        'pruned',
        'running',
        'complete',
        'pruned',
        'failed',
      ];
      const history = Array.from({ length: 21 }, (_, i) => {
        const state = states[i % states.length];
        return trial(
          space,
          i,
          state,
          rng.next(),
          rng,
          state === 'pruned' ? 1 + (i % 4) : state === 'running' ? 2 : 0,
        );
      });
      for (const direction of ['minimize', 'maximize'] as const) {
        expectValidParams(space, make().sample(ctx(space, history, 21, 7, direction)));
      }
      // Only unfinished or failed trials: nothing to learn from.
      const none = history.filter((t) => t.state === 'failed' || t.state === 'running');
      expectValidParams(space, make().sample(ctx(space, none, 21)));
    });

    it('survives a history where every value (and every param) is identical', () => {
      const space = mixedSpace(discrete);
      const rng = new Rng(3);
      const same = trial(space, 0, 'complete', 1, rng);
      const identical = Array.from({ length: 15 }, (_, i) => ({ ...same, number: i }));
      expectValidParams(space, make().sample(ctx(space, identical, 15)));
      const constant = Array.from({ length: 15 }, (_, i) => trial(space, i, 'complete', 0.5, rng));
      expectValidParams(space, make().sample(ctx(space, constant, 15)));
    });

    it('handles a categorical parameter with a single choice', () => {
      const space: Space = {
        only: { type: 'categorical', choices: ['x'] },
        k: { type: 'int', low: 0, high: 100 },
      };
      const rng = new Rng(4);
      const history = Array.from({ length: 12 }, (_, i) =>
        trial(space, i, 'complete', rng.next(), rng),
      );
      for (const t of [12, 13]) {
        const p = make().sample(ctx(space, history.slice(0, t), t));
        expectValidParams(space, p);
        expect(p.only).toBe('x');
      }
    });

    it('handles a space with one parameter of each type', () => {
      const spaces: Space[] = [
        { x: float(discrete, -1, 1) },
        { x: float(discrete, 1e-3, 10, { log: true }) },
        { n: { type: 'int', low: 1, high: 64, log: true } },
        { c: { type: 'categorical', choices: ['a', 'b', 'c', 'd'] } },
      ];
      for (const space of spaces) {
        const all = sequential(make(), space, 4);
        for (const p of all) expectValidParams(space, p);
      }
    });
  });
}

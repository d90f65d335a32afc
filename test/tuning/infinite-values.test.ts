/**
 * Infinite objective values (Optuna stores them; so does stride): every sampler that learns from
 * results still proposes valid params, with one objective and with several, and ranks +inf worst
 * and -inf best when minimizing.
 */
import { describe, expect, it } from 'vitest';
import { makeSampler } from '../../src/tuning/registry';
import { paretoFront } from '../../src/tuning/pareto';
import { splitTrials } from '../../src/tuning/samplers/tpe';
import type { Direction, FrozenTrial, Params, Space } from '../../src/tuning/types';
import { expectValidParams } from './builders';

const SPACE: Space = {
  x: { type: 'float', low: -5, high: 5 },
  k: { type: 'int', low: 1, high: 8 },
  c: { type: 'categorical', choices: ['a', 'b'] },
};

/** The value of trial i: +inf every third, -inf once, else a smooth function. */
function valueOf(i: number, p: Params): number {
  if (i === 7) return -Infinity;
  if (i % 3 === 0) return Infinity;
  return ((p.x as number) - 1) ** 2 + (p.k as number);
}

function run(name: string, directions: Direction[], n = 24): FrozenTrial[] {
  const sampler = makeSampler(
    name === 'auto' || name === 'nsga2'
      ? { name, seed: 3 }
      : { name, seed: 3, n_startup_trials: 4 },
  );
  const trials: FrozenTrial[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler.sample({
      space: SPACE,
      trials,
      direction: directions[0],
      directions,
      seed: 3,
      trialNumber: i,
    });
    expectValidParams(SPACE, params);
    const v = valueOf(i, params);
    const values = directions.length === 1 ? [v] : [v, i % 4 === 0 ? -Infinity : i];
    trials.push({
      number: i,
      state: 'complete',
      params,
      value: directions.length === 1 ? v : null,
      values: directions.length === 1 ? null : values,
      constraints: null,
      intermediate: [],
    });
  }
  return trials;
}

describe('infinite values in the samplers', () => {
  it.each(['tpe', 'gp', 'auto'])('%s, one objective: valid params after +inf and -inf', (name) => {
    expect(run(name, ['minimize'])).toHaveLength(24);
  });

  it.each(['tpe', 'nsga2', 'auto'])('%s, two objectives: valid params after infinities', (name) => {
    expect(run(name, ['minimize', 'maximize'])).toHaveLength(24);
  });

  it("TPE's split puts -inf first and +inf last when minimizing (the other way maximizing)", () => {
    const t = (number: number, value: number): FrozenTrial => ({
      number,
      state: 'complete',
      params: { x: number },
      value,
      values: null,
      constraints: null,
      intermediate: [],
    });
    const trials = [t(0, Infinity), t(1, 2), t(2, -Infinity), t(3, 1), t(4, Infinity)];
    const one = () => 1;
    expect(splitTrials(trials, 'minimize', one, false).below.map((x) => x.number)).toEqual([2]);
    expect(splitTrials(trials, 'maximize', one, false).below.map((x) => x.number)).toEqual([0]);
    const two = () => 2;
    expect(splitTrials(trials, 'maximize', two, false).below.map((x) => x.number)).toEqual([0, 4]);
  });

  it('the Pareto front counts an infinite value as better or worse', () => {
    const mo = (number: number, values: number[]): FrozenTrial => ({
      number,
      state: 'complete',
      params: {},
      value: null,
      values,
      constraints: null,
      intermediate: [],
    });
    const front = paretoFront(
      [mo(0, [1, 1]), mo(1, [-Infinity, 5]), mo(2, [2, Infinity]), mo(3, [Infinity, 1])],
      ['minimize', 'minimize'],
    );
    expect(front.map((t) => t.number)).toEqual([0, 1]);
  });
});

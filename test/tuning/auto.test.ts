import { describe, it, expect } from 'vitest';
import { AutoSampler, AUTO_STARTUP, GP_MAX_TRIALS } from '../../src/tuning/samplers/auto';
import { makeSampler } from '../../src/tuning/registry';
import { NoRepeatSampler } from '../../src/tuning/samplers/no-repeat';
import { QmcSampler } from '../../src/tuning/samplers/qmc';
import { proposerOf } from '../../src/tuning/types';
import type { FrozenTrial, Params, SampleContext, Space } from '../../src/tuning/types';
import { expectValidParams, frozenTrial, median } from './builders';

const numeric: Space = {
  x: { type: 'float', low: -5, high: 5 },
  y: { type: 'float', low: -5, high: 5 },
  n: { type: 'int', low: 1, high: 8 },
};
const mostlyCategorical: Space = {
  a: { type: 'categorical', choices: ['p', 'q', 'r'] },
  b: { type: 'categorical', choices: ['u', 'v'] },
  x: { type: 'float', low: 0, high: 1 },
};
const sphere = (p: Params) =>
  (p.x as number) ** 2 + (p.y as number) ** 2 + ((p.n as number) - 3) ** 2;

/** Runs `auto` for n trials on f, recording each trial's proposer. */
function run(
  space: Space,
  f: (p: Params) => number,
  n: number,
  seed: number,
): { trials: FrozenTrial[]; proposers: string[] } {
  const auto = new AutoSampler();
  const trials: FrozenTrial[] = [];
  const proposers: string[] = [];
  for (let i = 0; i < n; i++) {
    const ctx: SampleContext = { space, trials, direction: 'minimize', seed, trialNumber: i };
    proposers.push(proposerOf(auto, ctx));
    const params = auto.sample(ctx);
    expectValidParams(space, params);
    trials.push(frozenTrial(i, params, f(params)));
  }
  return { trials, proposers };
}

describe('AutoSampler', () => {
  it('is what makeSampler("auto") makes', () => {
    const made = makeSampler({ name: 'auto' });
    expect(made).toBeInstanceOf(NoRepeatSampler);
    expect((made as NoRepeatSampler).inner).toBeInstanceOf(AutoSampler);
    expect(makeSampler().name).toBe('auto');
  });

  it("starts with QMC points (the qmc sampler's own), then hands a numeric space to the GP", () => {
    const { trials, proposers } = run(numeric, sphere, 16, 3);
    expect(proposers.slice(0, AUTO_STARTUP)).toEqual(Array(AUTO_STARTUP).fill('qmc'));
    expect(proposers.slice(AUTO_STARTUP)).toEqual(Array(16 - AUTO_STARTUP).fill('gp'));
    const qmc = new QmcSampler();
    for (let i = 0; i < AUTO_STARTUP; i++) {
      expect(trials[i].params).toEqual(
        qmc.sample({
          space: numeric,
          trials: trials.slice(0, i),
          direction: 'minimize',
          seed: 3,
          trialNumber: i,
        }),
      );
    }
  });

  it('keeps a mostly categorical space on the GP (it measured better there than TPE) and finds its optimum', () => {
    const f = (p: Params) => (p.a === 'q' ? 0 : 1) + (p.b === 'v' ? 0 : 1) + (p.x as number);
    const { trials, proposers } = run(mostlyCategorical, f, 20, 1);
    expect(proposers.slice(AUTO_STARTUP)).toEqual(Array(20 - AUTO_STARTUP).fill('gp'));
    expect(Math.min(...trials.map((t) => t.value as number))).toBeLessThan(0.05);
  });

  it('counts finished trials (complete, pruned, failed), and hands over to TPE at GP_MAX_TRIALS', () => {
    const auto = new AutoSampler();
    const mk = (n: number, state: 'complete' | 'pruned' | 'failed' | 'running'): FrozenTrial[] =>
      Array.from({ length: n }, (_, i) =>
        frozenTrial(i, { x: 0.01 * (i % 100), y: 0, n: 1 }, state === 'complete' ? i : null, state),
      );
    const ctx = (trials: FrozenTrial[]): SampleContext => ({
      space: numeric,
      trials,
      direction: 'minimize',
      seed: 0,
      trialNumber: trials.length,
    });
    expect(auto.proposer(ctx(mk(AUTO_STARTUP - 1, 'pruned')))).toBe('qmc');
    expect(auto.proposer(ctx(mk(AUTO_STARTUP + 5, 'running')))).toBe('qmc');
    expect(auto.proposer(ctx(mk(AUTO_STARTUP, 'pruned')))).toBe('gp');
    expect(auto.proposer(ctx(mk(AUTO_STARTUP, 'failed')))).toBe('gp');
    expect(auto.proposer(ctx(mk(GP_MAX_TRIALS - 1, 'complete')))).toBe('gp');
    expect(auto.proposer(ctx(mk(GP_MAX_TRIALS, 'complete')))).toBe('tpe');
  });

  it('routes studies with several objectives to TPE', () => {
    const auto = new AutoSampler();
    expect(
      auto.proposer({
        space: numeric,
        trials: [],
        direction: 'minimize',
        directions: ['minimize', 'minimize'],
        seed: 0,
        trialNumber: 0,
      }),
    ).toBe('tpe');
  });

  it('is a pure function of the context: same history and seed, same params and proposer', () => {
    const { trials } = run(numeric, sphere, 14, 7);
    const ctx: SampleContext = {
      space: numeric,
      trials,
      direction: 'minimize',
      seed: 7,
      trialNumber: 14,
    };
    const a = new AutoSampler();
    const b = new AutoSampler();
    b.sample({ ...ctx, trialNumber: 3, trials: trials.slice(0, 3) }); // a different call first must not matter
    expect(b.sample(ctx)).toEqual(a.sample(ctx));
    expect(b.proposer(ctx)).toBe(a.proposer(ctx));
  });

  it('beats random search on a numeric problem (median best over 5 seeds, 25 trials)', () => {
    const seeds = [0, 1, 2, 3, 4];
    const auto = seeds.map((s) =>
      Math.min(...run(numeric, sphere, 25, s).trials.map((t) => t.value as number)),
    );
    const random = seeds.map((seed) => {
      const r = makeSampler({ name: 'random' });
      const trials: FrozenTrial[] = [];
      for (let i = 0; i < 25; i++) {
        const p = r.sample({ space: numeric, trials, direction: 'minimize', seed, trialNumber: i });
        trials.push(frozenTrial(i, p, sphere(p)));
      }
      return Math.min(...trials.map((t) => t.value as number));
    });
    expect(median(auto)).toBeLessThan(median(random) / 2);
  });
});

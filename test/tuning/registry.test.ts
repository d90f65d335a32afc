// The registry of samplers and pruners (src/tuning/registry.ts): the one check of a study's
// `sampler` and `pruner` objects. It reports every issue at once, each at its path and, for an
// unknown name or option, with the closest valid one; every entry it holds is a name the API's
// schema takes, and one it creates and samples with.
import { describe, expect, it } from 'vitest';
import { PRUNER_NAMES, SAMPLER_NAMES, type PrunerName } from '../../src/contract/names';
import { StudyCreateSchema } from '../../src/contract/schemas';
import { ConfigError } from '../../src/tuning/errors';
import {
  checkPruner,
  checkSampler,
  makePruner,
  makeSampler,
  PRUNERS,
  SAMPLERS,
} from '../../src/tuning/registry';
import type { Space } from '../../src/tuning/types';
import { validateParams } from '../../src/tuning/validate';

const SPACE: Space = {
  x: { type: 'int', low: 0, high: 3 },
  opt: { type: 'categorical', choices: ['sgd', 'adam'] },
};

describe('the registry collects every issue', () => {
  it('two mistyped options of a sampler: two issues, each at its path with the closest option', () => {
    const { sampler, issues } = checkSampler({
      name: 'tpe',
      n_startup_trails: 5,
      multivarite: true,
    });
    expect(sampler).toBeNull();
    expect(issues).toHaveLength(2);
    expect(issues.map((i) => i.path)).toEqual(['sampler.n_startup_trails', 'sampler.multivarite']);
    expect(issues[0].message).toContain("did you mean 'n_startup_trials'?");
    expect(issues[1].message).toContain("did you mean 'multivariate'?");
  });

  it('unknown options, bad values and a rule between options together, in one answer', () => {
    const { issues } = checkPruner({
      name: 'asha',
      min_resorce: 2,
      reduction_factor: 1,
      bootstrap_count: -1,
      max_resource: 1,
    });
    expect(issues).toEqual([
      {
        path: 'pruner.min_resorce',
        message:
          "unknown option for pruner 'asha' (did you mean 'min_resource'?): expected one of min_resource, reduction_factor, min_early_stopping_rate, bootstrap_count, max_resource",
      },
      { path: 'pruner.reduction_factor', message: 'must be an integer >= 2, got 1' },
      { path: 'pruner.bootstrap_count', message: 'must be an integer >= 0, got -1' },
      { path: 'pruner.max_resource', message: 'must be greater than min_resource (1), got 1' },
    ]);
    try {
      makePruner({ name: 'asha', min_resorce: 2, reduction_factor: 1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path)).toEqual([
        'pruner.min_resorce',
        'pruner.reduction_factor',
      ]);
    }
  });

  it('an unknown sampler or pruner name gets the closest valid one', () => {
    expect(checkSampler({ name: 'tpee' }).issues).toEqual([
      {
        path: 'sampler.name',
        message:
          "unknown sampler 'tpee' (did you mean 'tpe'?): expected one of auto, tpe, gp, random, qmc, grid, nsga2",
      },
    ]);
    expect(checkPruner({ name: 'hyperbnd' }).issues[0]).toMatchObject({
      path: 'pruner.name',
      message: expect.stringContaining("did you mean 'hyperband'?"),
    });
    expect(() => makeSampler({ name: 'cmaes' })).toThrow(ConfigError);
  });

  it("a sampler's seed is not an option, and a typo of it is suggested", () => {
    expect(checkSampler({ name: 'random', seed: 3 }).issues).toEqual([]);
    expect(checkSampler({ name: 'random', sed: 3 }).issues).toEqual([
      {
        path: 'sampler.sed',
        message: "unknown option for sampler 'random' (did you mean 'seed'?): it takes no options",
      },
    ]);
  });

  it('checks the space only once the options are valid', () => {
    const continuous: Space = { lr: { type: 'float', low: 0, high: 1 } };
    expect(
      checkSampler({ name: 'grid', shuffle: 1 }, continuous).issues.map((i) => i.path),
    ).toEqual(['sampler.shuffle']);
    expect(checkSampler({ name: 'grid' }, continuous).issues.map((i) => i.path)).toEqual([
      'space.lr',
    ]);
  });
});

describe('the registry and the API schema name the same samplers and pruners', () => {
  it('holds one entry per name of contract/names.ts', () => {
    expect(Object.keys(SAMPLERS).sort()).toEqual([...SAMPLER_NAMES].sort());
    expect(Object.keys(PRUNERS).sort()).toEqual([...PRUNER_NAMES].sort());
  });

  it('every registered sampler is taken by the schema, checked, created and sampled', () => {
    for (const name of Object.keys(SAMPLERS)) {
      const parsed = StudyCreateSchema.safeParse({
        name: 'x',
        space: SPACE,
        sampler: { name, seed: 3 },
      });
      expect(parsed.success, name).toBe(true);
      const body = parsed.data!;
      expect(checkSampler(body.sampler, SPACE).issues, name).toEqual([]);
      const sampler = makeSampler(body.sampler);
      const params = sampler.sample({
        space: SPACE,
        trials: [],
        direction: 'minimize',
        seed: 3,
        trialNumber: 0,
      });
      expect(validateParams(SPACE, params), name).toEqual([]);
    }
  });

  it('every registered pruner is taken by the schema, checked and created', () => {
    // The least config of each; a new pruner must be added here (the type asks for it).
    const least: Record<PrunerName, Record<string, unknown>> = {
      none: {},
      median: {},
      asha: {},
      hyperband: { max_resource: 9 },
    };
    for (const name of Object.keys(PRUNERS) as PrunerName[]) {
      const parsed = StudyCreateSchema.safeParse({
        name: 'x',
        space: SPACE,
        pruner: { name, ...least[name] },
      });
      expect(parsed.success, name).toBe(true);
      expect(checkPruner(parsed.data!.pruner).issues, name).toEqual([]);
      expect(makePruner(parsed.data!.pruner).name, name).toBe(name);
    }
  });
});

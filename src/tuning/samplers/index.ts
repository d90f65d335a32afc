/**
 * Samplers: which parameters to try next. Each is a pure function of (space,
 * trials, direction, seed, trial number).
 *
 * - `auto` (default): GP or TPE by the space and the budget (`AutoSampler`).
 * - `tpe`: Tree-structured Parzen Estimator (`TpeSampler`).
 * - `gp`: Gaussian-process Bayesian optimisation with log EI (`GpSampler`).
 * - `random`: independent uniform draws in the internal (log) scale.
 * - `qmc`: scrambled Sobol' points.
 * - `grid`: every combination of a discrete space, once each.
 * - `nsga2`: the genetic algorithm NSGA-II, for several objectives (`Nsga2Sampler`).
 *
 * `makeSampler` turns a study's `sampler` object into a sampler, checking its
 * options: a bad or unknown option throws `SamplerConfigError` with a path
 * like `sampler.n_startup_trials`. `name` and `seed` are accepted (and
 * ignored here: the seed reaches the sampler through the SampleContext).
 */
import { SAMPLER_NAMES, type SamplerName } from '../../contract/names';
import { SamplerConfigError } from '../errors';
import type { InputIssue } from '../../contract/issues';
import { SOBOL_MAX_DIMS } from '../sobol';
import { paramOrder } from '../space';
import type { Sampler, Space } from '../types';
import { AutoSampler } from './auto';
import { GpSampler, type GpSamplerOptions } from './gp';
import { GridSampler, gridSize, type GridSamplerOptions } from './grid';
import { Nsga2Sampler, type Nsga2Options } from './nsga2';
import { QmcSampler } from './qmc';
import { RandomSampler } from './random';
import { TpeSampler, type TpeOptions } from './tpe';
import { describeValue } from '../../lib/values';

export { GridSampler, gridSize, type GridSamplerOptions } from './grid';
export { QmcSampler } from './qmc';
export { Nsga2Sampler, type Nsga2Options } from './nsga2';
export { RandomSampler, fromUnit } from './random';
export { GridExhaustedError, SamplerConfigError } from '../errors';

export { SAMPLER_NAMES, type SamplerName };

type OptionKind = 'int>=0' | 'int>=1' | 'int>=2' | 'bool' | 'positive' | 'prob';

/** The options each sampler takes from a study's JSON (functions like TPE's `gamma` are for code only). */
const OPTIONS: Record<SamplerName, Record<string, OptionKind>> = {
  auto: {},
  tpe: {
    n_startup_trials: 'int>=0',
    n_ei_candidates: 'int>=1',
    multivariate: 'bool',
    constant_liar: 'bool',
    prior_weight: 'positive',
    consider_magic_clip: 'bool',
    consider_endpoints: 'bool',
  },
  gp: {
    n_startup_trials: 'int>=0',
    n_candidates: 'int>=1',
    n_local_search: 'int>=0',
    warp_output: 'bool',
  },
  random: {},
  qmc: {},
  grid: { shuffle: 'bool' },
  nsga2: {
    population_size: 'int>=2',
    mutation_prob: 'prob',
    crossover_prob: 'prob',
    swapping_prob: 'prob',
  },
};

function optionProblem(kind: OptionKind, v: unknown): string | undefined {
  switch (kind) {
    case 'bool':
      return typeof v === 'boolean' ? undefined : `must be true or false, got ${describeValue(v)}`;
    case 'positive':
      return typeof v === 'number' && Number.isFinite(v) && v > 0
        ? undefined
        : `must be a number > 0, got ${describeValue(v)}`;
    case 'prob':
      return typeof v === 'number' && v >= 0 && v <= 1
        ? undefined
        : `must be a number in [0, 1], got ${describeValue(v)}`;
    case 'int>=0':
    case 'int>=1':
    case 'int>=2': {
      const min = kind === 'int>=0' ? 0 : kind === 'int>=1' ? 1 : 2;
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= min
        ? undefined
        : `must be an integer >= ${min}, got ${describeValue(v)}`;
    }
  }
}

/**
 * Every problem with a study's `sampler` object (paths from the request root:
 * `sampler.<option>`, or `space.<name>` for a space the sampler cannot
 * cover, such as a grid over a float without a step); empty when it is valid.
 * Checked like the pruners' options: nothing is sampled.
 */
export function validateSamplerConfig(
  config: Readonly<Record<string, unknown>> & { name: SamplerName },
  space: Space,
): InputIssue[] {
  try {
    makeSampler(config.name, config);
    if (config.name === 'grid') gridSize(space);
    if (config.name === 'qmc') {
      const dims = paramOrder(space).length;
      if (dims > SOBOL_MAX_DIMS)
        throw new SamplerConfigError(
          'space',
          `the qmc sampler supports at most ${SOBOL_MAX_DIMS} parameters, got ${dims}`,
        );
    }
  } catch (err) {
    if (err instanceof SamplerConfigError) return [{ path: err.path, message: err.message }];
    throw err;
  }
  return [];
}

/**
 * The sampler a study's `sampler` object names, with its options checked.
 * Throws SamplerConfigError (path `sampler.<option>`) for an unknown name, an
 * unknown option or a bad value.
 */
export function makeSampler(
  name: SamplerName,
  options: Readonly<Record<string, unknown>> = {},
): Sampler {
  const known = (SAMPLER_NAMES as readonly string[]).includes(name) ? OPTIONS[name] : undefined;
  if (!known)
    throw new SamplerConfigError(
      'sampler.name',
      `unknown sampler ${describeValue(name)}: expected one of ${SAMPLER_NAMES.join(', ')}`,
    );
  const picked: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(options)) {
    if (key === 'name' || key === 'seed' || v === undefined) continue;
    const kind = Object.hasOwn(known, key) ? known[key] : undefined;
    if (!kind) {
      const list = Object.keys(known);
      const expected =
        list.length > 0 ? `expected one of ${list.join(', ')}` : 'it takes no options';
      throw new SamplerConfigError(
        `sampler.${key}`,
        `unknown option for sampler '${name}': ${expected}`,
      );
    }
    const problem = optionProblem(kind, v);
    if (problem) throw new SamplerConfigError(`sampler.${key}`, problem);
    picked[key] = v;
  }
  switch (name) {
    case 'auto':
      return new AutoSampler();
    case 'tpe':
      return new TpeSampler(picked as TpeOptions);
    case 'gp':
      return new GpSampler(picked as GpSamplerOptions);
    case 'random':
      return new RandomSampler();
    case 'qmc':
      return new QmcSampler();
    case 'grid':
      return new GridSampler(picked as GridSamplerOptions);
    case 'nsga2':
      return new Nsga2Sampler(picked as Nsga2Options);
  }
}

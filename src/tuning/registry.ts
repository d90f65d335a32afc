/**
 * The samplers and pruners a study may name, each declared once: the schema of the options a
 * study's JSON may give it, and how to create it from options that passed that schema. This is
 * the one check of a study's `sampler` and `pruner` objects: it collects every issue (an unknown
 * name or option, with the closest valid one; each bad value; each broken rule between options),
 * each with its path from the request root (`sampler.n_startup_trials`, `pruner.max_resource`).
 * Constructors trust what they are given; absent options take the constructor's defaults.
 *
 * The names are contract/names.ts's: the tables below have exactly one entry per name (the types
 * say so), so a new sampler is its class, its name there and its entry here.
 */
import { z } from 'zod';
import type { InputIssue } from '../contract/issues';
import { PRUNER_NAMES, SAMPLER_NAMES, type PrunerName, type SamplerName } from '../contract/names';
import type { PrunerConfig, SamplerConfig } from '../contract/study';
import { closest } from '../lib/names';
import { describeValue, isRecord } from '../lib/values';
import { ConfigError, SamplerConfigError } from './errors';
import { HyperbandPruner, HYPERBAND_DEFAULTS } from './pruners/hyperband';
import { SuccessiveHalvingPruner, SUCCESSIVE_HALVING_DEFAULTS } from './pruners/asha';
import { MedianPruner } from './pruners/median';
import { NoRepeatSampler } from './samplers/no-repeat';
import { NopPruner } from './pruners/none';
import { AutoSampler } from './samplers/auto';
import { GpSampler } from './samplers/gp';
import { GridSampler, gridSize } from './samplers/grid';
import { Nsga2Sampler } from './samplers/nsga2';
import { QmcSampler } from './samplers/qmc';
import { RandomSampler } from './samplers/random';
import { TpeSampler } from './samplers/tpe';
import { SOBOL_MAX_DIMS } from './sobol';
import { paramOrder } from './space';
import type { Pruner, Sampler, Space } from './types';

/** One sampler or pruner. */
export interface Entry<T> {
  /**
   * The options a study's JSON may give, each with its bounds (optional unless the entry needs
   * it), and the rules between them. Keys it does not name are reported by the registry.
   */
  readonly options: z.ZodObject;
  /** The sampler or pruner, from options that passed `options`. */
  readonly create: (options: Record<string, unknown>) => T;
}

export interface SamplerEntry extends Entry<Sampler> {
  /** Issues (at `space` or `space.<name>`) of a valid space this sampler cannot cover; absent when it covers any. */
  readonly space?: (space: Space) => InputIssue[];
}

export type PrunerEntry = Entry<Pruner>;

/** An entry whose `create` is typed by its schema, so that a schema and its constructor cannot disagree. */
function entry<S extends z.ZodObject, T, X extends object = object>(
  options: S,
  create: (options: z.output<S>) => T,
  extra?: X,
): Entry<T> & X {
  return { options, create, ...extra } as unknown as Entry<T> & X;
}

// Option schemas. Each carries its own messages, so that they read the same in the API (whose
// global zod error map they override) and in plain Node.

const intMessage = (min: number) => (iss: { input?: unknown }) =>
  `must be an integer >= ${min}, got ${describeValue(iss.input)}`;

/** An integer >= min; `requiredFor` (e.g. "pruner 'hyperband'") makes it required. */
function int(min: number, requiredFor: string): z.ZodInt;
function int(min: number): z.ZodOptional<z.ZodInt>;
function int(min: number, requiredFor?: string): z.ZodInt | z.ZodOptional<z.ZodInt> {
  const schema = z
    .int({
      error: (iss) =>
        iss.input === undefined && requiredFor
          ? `is required for ${requiredFor}: an integer >= ${min}`
          : intMessage(min)(iss),
    })
    .min(min, { error: intMessage(min) });
  return requiredFor ? schema : schema.optional();
}

const bool = () =>
  z
    .boolean({ error: (iss) => `must be true or false, got ${describeValue(iss.input)}` })
    .optional();

const positive = () => {
  const error = (iss: { input?: unknown }) =>
    `must be a number > 0, got ${describeValue(iss.input)}`;
  return z.number({ error }).gt(0, { error }).optional();
};

const probability = () => {
  const error = (iss: { input?: unknown }) =>
    `must be a number in [0, 1], got ${describeValue(iss.input)}`;
  return z.number({ error }).min(0, { error }).max(1, { error }).optional();
};

/**
 * max_resource > min_resource (`minDefault` when absent), checked when both are valid integers,
 * so that it is reported beside any other option's issue.
 */
function maxAboveMin<S extends z.ZodObject>(schema: S, minDefault: number): S {
  return schema.superRefine(
    (o, ctx) => {
      const { min_resource = minDefault, max_resource: max } = o as {
        min_resource?: number;
        max_resource?: number;
      };
      if (max !== undefined && max <= min_resource)
        ctx.addIssue({
          code: 'custom',
          path: ['max_resource'],
          message: `must be greater than min_resource (${min_resource}), got ${max}`,
        });
    },
    {
      when: (payload) =>
        !payload.issues.some((i) => ['min_resource', 'max_resource'].includes(String(i.path?.[0]))),
    },
  );
}

const empty = () => z.object({});

/** The samplers, by the name a study's `sampler.name` gives (contract/names.ts). */
export const SAMPLERS: { readonly [N in SamplerName]: SamplerEntry } = {
  auto: entry(empty(), () => new AutoSampler()),
  tpe: entry(
    z.object({
      n_startup_trials: int(0),
      n_ei_candidates: int(1),
      multivariate: bool(),
      constant_liar: bool(),
      prior_weight: positive(),
      consider_magic_clip: bool(),
      consider_endpoints: bool(),
    }),
    (o) => new TpeSampler(o),
  ),
  gp: entry(
    z.object({
      n_startup_trials: int(0),
      n_candidates: int(1),
      n_local_search: int(0),
      warp_output: bool(),
    }),
    (o) => new GpSampler(o),
  ),
  random: entry(empty(), () => new RandomSampler()),
  qmc: entry(empty(), () => new QmcSampler(), {
    space: (space: Space): InputIssue[] => {
      const dims = paramOrder(space).length;
      return dims > SOBOL_MAX_DIMS
        ? [
            {
              path: 'space',
              message: `the qmc sampler supports at most ${SOBOL_MAX_DIMS} parameters, got ${dims}`,
            },
          ]
        : [];
    },
  }),
  grid: entry(z.object({ shuffle: bool() }), (o) => new GridSampler(o), {
    space: (space: Space): InputIssue[] => {
      if (Object.keys(space).length === 0)
        return [
          {
            path: 'space',
            message:
              'a grid sampler needs its space declared when the study is created (define-by-run parameters join the spaces of the other samplers)',
          },
        ];
      try {
        gridSize(space);
        return [];
      } catch (err) {
        if (err instanceof SamplerConfigError) return [{ path: err.path, message: err.message }];
        throw err;
      }
    },
  }),
  nsga2: entry(
    z.object({
      population_size: int(2),
      mutation_prob: probability(),
      crossover_prob: probability(),
      swapping_prob: probability(),
    }),
    (o) => new Nsga2Sampler(o),
  ),
};

/** The pruners, by the name a study's `pruner.name` gives (contract/names.ts). */
export const PRUNERS: { readonly [N in PrunerName]: PrunerEntry } = {
  none: entry(empty(), () => new NopPruner()),
  median: entry(
    z.object({
      n_startup_trials: int(0),
      n_warmup_steps: int(0),
      interval_steps: int(1),
      n_min_trials: int(1),
    }),
    (o) => new MedianPruner(o),
  ),
  asha: entry(
    maxAboveMin(
      z.object({
        min_resource: int(1),
        reduction_factor: int(2),
        min_early_stopping_rate: int(0),
        bootstrap_count: int(0),
        max_resource: int(1),
      }),
      SUCCESSIVE_HALVING_DEFAULTS.min_resource,
    ),
    (o) => new SuccessiveHalvingPruner(o),
  ),
  hyperband: entry(
    maxAboveMin(
      z.object({
        min_resource: int(1),
        max_resource: int(1, "pruner 'hyperband'"),
        reduction_factor: int(2),
        bootstrap_count: int(0),
      }),
      HYPERBAND_DEFAULTS.min_resource,
    ),
    (o) => new HyperbandPruner(o),
  ),
};

/** What the registry knows of one kind (samplers or pruners). */
interface Kind<N extends string, E extends Entry<unknown>> {
  noun: 'sampler' | 'pruner';
  names: readonly N[];
  entries: { readonly [K in N]: E };
  /** The name of an absent `name` (and of an absent object). */
  fallback: N;
  /** The name the message for a non-object shows. */
  example: N;
  /** Keys of the object that are not options: `name`, and the sampler's `seed` (checked by the API's schema). */
  reserved: readonly string[];
}

const SAMPLER_KIND: Kind<SamplerName, SamplerEntry> = {
  noun: 'sampler',
  names: SAMPLER_NAMES,
  entries: SAMPLERS,
  fallback: 'auto',
  example: 'tpe',
  reserved: ['name', 'seed'],
};

const PRUNER_KIND: Kind<PrunerName, PrunerEntry> = {
  noun: 'pruner',
  names: PRUNER_NAMES,
  entries: PRUNERS,
  fallback: 'none',
  example: 'median',
  reserved: ['name'],
};

/** A checked `sampler` or `pruner` object: its name, and its options as they passed the schema. */
export interface Checked<N extends string> {
  name: N;
  options: Record<string, unknown>;
}

const didYouMean = (name: string, known: readonly string[]) => {
  const s = closest(name, known);
  return s === null ? '' : ` (did you mean '${s}'?)`;
};

function check<N extends string, E extends Entry<unknown>>(
  kind: Kind<N, E>,
  raw: unknown,
): { checked: Checked<N> | null; issues: InputIssue[] } {
  const { noun } = kind;
  if (raw === undefined) return { checked: { name: kind.fallback, options: {} }, issues: [] };
  if (!isRecord(raw))
    return {
      checked: null,
      issues: [{ path: noun, message: `must be an object like {"name": "${kind.example}"}` }],
    };
  const name = raw.name === undefined ? kind.fallback : raw.name;
  if (typeof name !== 'string' || !(kind.names as readonly string[]).includes(name)) {
    const got =
      typeof name === 'string'
        ? `'${name}'${didYouMean(name, kind.names)}`
        : `a ${name === null ? 'null' : typeof name}`;
    return {
      checked: null,
      issues: [
        {
          path: `${noun}.name`,
          message: `unknown ${noun} ${got}: expected one of ${kind.names.join(', ')}`,
        },
      ],
    };
  }
  const entry = kind.entries[name as N];
  const known = Object.keys(entry.options.shape);
  const issues: InputIssue[] = [];
  for (const key of Object.keys(raw)) {
    if (kind.reserved.includes(key) || known.includes(key) || raw[key] === undefined) continue;
    const expected =
      known.length > 0 ? `expected one of ${known.join(', ')}` : 'it takes no options';
    const hint = didYouMean(key, [...known, ...kind.reserved.filter((k) => k !== 'name')]);
    issues.push({
      path: `${noun}.${key}`,
      message: `unknown option for ${noun} '${name}'${hint}: ${expected}`,
    });
  }
  const parsed = entry.options.safeParse(raw);
  if (!parsed.success)
    for (const i of parsed.error.issues)
      issues.push({ path: [noun, ...i.path.map(String)].join('.'), message: i.message });
  return {
    checked:
      issues.length === 0
        ? { name: name as N, options: parsed.data as Record<string, unknown> }
        : null,
    issues,
  };
}

/**
 * Every issue of a study's `sampler` object (absent: `{"name": "auto"}`), paths from the request
 * root; with a (valid) `space`, also what this sampler cannot cover of it (a grid over a float
 * without a step), once its options are valid. Nothing is sampled.
 */
export function checkSampler(
  raw: unknown,
  space?: Space,
): { sampler: Checked<SamplerName> | null; issues: InputIssue[] } {
  const { checked, issues } = check(SAMPLER_KIND, raw);
  if (checked && space) {
    const spaceIssues = SAMPLERS[checked.name].space?.(space) ?? [];
    if (spaceIssues.length > 0) return { sampler: null, issues: spaceIssues };
  }
  return { sampler: checked, issues };
}

/** Every issue of a study's `pruner` object (absent: `{"name": "none"}`), paths from the request root. */
export function checkPruner(raw: unknown): {
  pruner: Checked<PrunerName> | null;
  issues: InputIssue[];
} {
  const { checked, issues } = check(PRUNER_KIND, raw);
  return { pruner: checked, issues };
}

/**
 * The sampler a study's `sampler` object names; throws ConfigError with every issue when it is not
 * valid. Every one but `grid` never answers the params of a finished trial (`NoRepeatSampler`).
 */
export function makeSampler(
  config: SamplerConfig | Readonly<Record<string, unknown>> = { name: 'auto' },
): Sampler {
  const { sampler, issues } = checkSampler(config);
  if (!sampler) throw new ConfigError(issues);
  const made = SAMPLERS[sampler.name].create(sampler.options);
  return sampler.name === 'grid' ? made : new NoRepeatSampler(made);
}

/** The pruner a study's `pruner` object names; throws ConfigError with every issue when it is not valid. */
export function makePruner(
  config: PrunerConfig | Readonly<Record<string, unknown>> = { name: 'none' },
): Pruner {
  const { pruner, issues } = checkPruner(config);
  if (!pruner) throw new ConfigError(issues);
  return PRUNERS[pruner.name].create(pruner.options);
}

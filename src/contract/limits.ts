/**
 * The edge's limits of one probe (an LR range test's, an edge trial's, an
 * lr/suggest's), and the one way a dataset's size is counted against them;
 * the bounds and defaults of a probe's request that the probe engine reads as
 * well as the schemas (contract/schemas.ts). It imports nothing but names.ts.
 *
 * A dataset's size is its cells: rows x (features + 1), the features and the
 * target of every row. Every cap counts that way: the configured one
 * (PROBE_MAX_CELLS, lib/config.ts), which POST /v1/lr-range-tests and edge
 * trials both apply (probe/data.ts loadWithinLimits), and the hard one below
 * that holds whatever the configuration says.
 */
import type { SweepMode } from './names';

/** The configured limits (lib/config.ts readConfig(env).probe). */
export interface Limits {
  /** The estimated work of one probe (6 x parameters x batch x steps), in GFLOP. */
  maxGflop: number;
  /** The largest dataset, in cells (dataCells). */
  maxCells: number;
}

/** The cells of a dataset of `n` rows and `features` features: rows x (features + 1). Validation rows sent with the data count as its rows. */
export function dataCells(n: number, features: number): number {
  return n * (features + 1);
}

/** The most cells any dataset may hold, whatever PROBE_MAX_CELLS says: 16 MiB of float32. Larger → 413. */
export const MAX_DATA_CELLS = 4096 * 1024;

/** The cells of rows given inline (as wide as the first). */
const rowCells = (x: unknown): number =>
  Array.isArray(x) ? dataCells(x.length, Array.isArray(x[0]) ? x[0].length : 0) : 0;

/**
 * The cells a data spec declares before it is loaded (synthetic: n and features; inline: its rows),
 * with its validation rows; the data's are 0 when only loading tells (CSV).
 */
export function declaredCells(data: {
  kind: string;
  n?: number;
  features?: number;
  x?: unknown[];
  validation?: { x?: unknown };
}): number {
  const held = rowCells(data.validation?.x);
  if (data.kind === 'synthetic') return dataCells(data.n ?? 0, data.features ?? 0) + held;
  if (data.kind === 'inline') return rowCells(data.x) + held;
  return held;
}

/** The bounds of a synthetic dataset's parameters (probe.data): the schema's, and the probe's checks of a spec it did not parse. */
export const MIN_ROWS = 8;
export const MAX_ROWS = 200_000;
export const MAX_FEATURES = 4096;
export const MIN_CLASSES = 2;
export const MAX_CLASSES = 1000;
export const MAX_NOISE = 100;

/** A synthetic dataset's parameters when not given (`classes`: 2 for moons, which has no other). */
export const SYNTHETIC_DEFAULTS = {
  n: 1024,
  features: 2,
  classes: 3,
  noise: 0.1,
  seed: 0,
} as const;

/** The most steps a probe's sweep takes (`range.steps`), and so the most points an answer shows of any curve. */
export const MAX_SWEEP_STEPS = 2000;

/** A range test's `range` when not given (smoothing and diverge_factor: also how a posted curve is read). */
export const RANGE_DEFAULTS: {
  min_lr: number;
  max_lr: number;
  steps: number;
  mode: SweepMode;
  smoothing: number;
  diverge_factor: number;
} = {
  min_lr: 1e-7,
  max_lr: 10,
  steps: 100,
  mode: 'exponential',
  smoothing: 0.98,
  diverge_factor: 4,
};

/** The most epochs one edge trial trains (an edge study's `epochs`, an edge validation's length). */
/** Items per page of a listing (studies, range tests) when the request gives no limit; at most 100. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export const MAX_EDGE_EPOCHS = 200;

/**
 * The largest study configuration kept, in bytes of JSON: a Durable Object's SQLite and D1 both
 * refuse a value over 2,000,000 bytes, and an edge study keeps its probe, inline data included.
 */
export const MAX_STUDY_CONFIG_BYTES = 1_900_000;

/** The longest parameter name of a study's space, in characters (a declared or a define-by-run one). */
export const MAX_PARAM_NAME = 256;

/** The most JSON one study's or trial's attributes (user_attrs and system_attrs together) hold, in bytes. */
export const MAX_ATTRS_BYTES = 64 * 1024;

/** The longest prune_reason a trial answers, in characters (the coordinator writes it; bounded all the same). */
export const MAX_PRUNE_REASON = 300;

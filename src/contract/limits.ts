/**
 * The edge's limits of one probe (an LR range test's, an edge trial's, an
 * lr/suggest's), and the one way a dataset's size is counted against them.
 *
 * A dataset's size is its cells: rows x (features + 1), the features and the
 * target of every row. Every cap counts that way: the configured one
 * (PROBE_MAX_CELLS, lib/config.ts), which POST /v1/lr-range-tests and edge
 * trials both apply (probe/data.ts loadWithinLimits), and the hard one below
 * that holds whatever the configuration says.
 */

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

/**
 * The largest study configuration kept, in bytes of JSON: a Durable Object's SQLite and D1 both
 * refuse a value over 2,000,000 bytes, and an edge study keeps its probe, inline data included.
 */
export const MAX_STUDY_CONFIG_BYTES = 1_900_000;

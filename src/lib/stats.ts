/**
 * Summary statistics of repeated measurements: the one mean and standard
 * error of src/ (a candidate's final losses over its seeds, the per-seed
 * differences between two candidates). A leaf module: pure, imported by any layer.
 */

/**
 * The mean of `values` and its standard error: the sample standard deviation
 * (n - 1) over the square root of n; null with fewer than two values (and the
 * mean NaN with none).
 */
export function meanWithError(values: readonly number[]): { mean: number; stderr: number | null } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, stderr: null };
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, stderr: sd / Math.sqrt(n) };
}

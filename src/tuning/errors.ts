/**
 * Errors samplers raise. Both are classified by what the caller should do:
 *
 * - `SamplerConfigError`: the sampler (or its options) cannot work with this
 *   study: a client error, reported as 422 with `path` (e.g. `space.lr` for a
 *   grid over a continuous range, `sampler.n_startup_trials` for a bad option).
 *   Raised when the study is created, so a stored study never raises it.
 * - `GridExhaustedError`: a grid sampler was asked for more trials than its
 *   grid has points; nothing is left to suggest (a conflict, 409).
 */

export class SamplerConfigError extends Error {
  /** Dotted path from the request root: `space.lr`, `sampler.shuffle`. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = 'SamplerConfigError';
    this.path = path;
  }
}

export class GridExhaustedError extends Error {
  constructor(message = 'every point of the grid has been suggested') {
    super(message);
    this.name = 'GridExhaustedError';
  }
}

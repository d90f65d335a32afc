/**
 * Errors of samplers and pruners, classified by what the caller should do:
 *
 * - `ConfigError`: a `sampler` or `pruner` object is not valid (registry.ts's `makeSampler`,
 *   `makePruner`): every issue, each with its path from the request root. Study creation checks
 *   the same objects first, so a stored study never raises it.
 * - `SamplerConfigError`: the sampler cannot work with this study's space: a
 *   client error, reported as 422 with `path` (e.g. `space.lr` for a grid over
 *   a continuous range). Checked when the study is created, so a stored study
 *   never raises it.
 * - `GridExhaustedError`: a grid sampler was asked for more trials than its
 *   grid has points; nothing is left to suggest (a conflict, 409).
 */
import type { InputIssue } from '../contract/issues';

export class ConfigError extends Error {
  readonly issues: InputIssue[];

  constructor(issues: InputIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export class SamplerConfigError extends Error {
  /** Dotted path from the request root: `space`, `space.lr`. */
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

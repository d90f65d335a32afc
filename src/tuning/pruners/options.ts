/**
 * Option checking shared by the pruners: one place that turns user input
 * (a study's `pruner` object, or a constructor's options) into fully
 * defaulted options, or into issues with a dotted path and an exact message.
 */

import type { InputIssue } from '../../contract/issues';
import { describeValue } from '../../lib/values';

/** Thrown by a pruner's constructor (and `makePruner`) when its options are invalid. */
export class PrunerConfigError extends Error {
  readonly issues: InputIssue[];

  constructor(issues: InputIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'PrunerConfigError';
    this.issues = issues;
  }
}

/** Collects issues while reading one pruner's options. */
export class OptionReader {
  readonly issues: InputIssue[] = [];

  constructor(
    private readonly raw: Readonly<Record<string, unknown>>,
    private readonly prefix: string,
    private readonly pruner: string,
    known: readonly string[],
  ) {
    for (const key of Object.keys(raw)) {
      if (key === 'name' || known.includes(key) || raw[key] === undefined) continue;
      const expected =
        known.length > 0 ? `expected one of ${known.join(', ')}` : 'it takes no options';
      this.issues.push({
        path: this.path(key),
        message: `unknown option for pruner '${pruner}': ${expected}`,
      });
    }
  }

  path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  /**
   * An integer option, at least `min`; `fallback` when absent (undefined).
   * Returns NaN when the option is required but absent or invalid (an issue is recorded).
   */
  int(key: string, min: number, fallback?: number): number {
    const v = this.raw[key];
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      this.issues.push({
        path: this.path(key),
        message: `is required for pruner '${this.pruner}': an integer >= ${min}`,
      });
      return Number.NaN;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      this.issues.push({
        path: this.path(key),
        message: `must be an integer >= ${min}, got ${describeValue(v)}`,
      });
      return Number.NaN;
    }
    if (v < min) {
      this.issues.push({ path: this.path(key), message: `must be an integer >= ${min}, got ${v}` });
      return Number.NaN;
    }
    return v;
  }

  /** A finite number option in [min, max]; `fallback` when absent. */
  number(key: string, min: number, max: number, fallback: number): number {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.issues.push({
        path: this.path(key),
        message: `must be a number in [${min}, ${max}], got ${describeValue(v)}`,
      });
      return Number.NaN;
    }
    return v;
  }

  /** Whether an option was given (not undefined). */
  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  fail(key: string, message: string): void {
    this.issues.push({ path: this.path(key), message });
  }
}

/** Throw a PrunerConfigError when there are issues; otherwise return the value. */
export function orThrow<T>(checked: { options: T; issues: InputIssue[] }): T {
  if (checked.issues.length > 0) throw new PrunerConfigError(checked.issues);
  return checked.options;
}

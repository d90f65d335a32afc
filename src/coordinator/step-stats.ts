/**
 * The per-step statistics a pruner needs, kept in the object's memory (issue 22): for each step,
 * the values the study's complete trials reported there, sorted. Built once from the object's
 * SQLite (at the first report after a start) and then added to as trials complete; a complete
 * trial never changes, so nothing is ever taken out. A report then costs the same whatever the
 * study holds: no trial's values are read to judge it (store.ts keeps the asking trial's own
 * summary). Pure data: no storage, no clock.
 */
import type { Point } from '../db/intermediate';

const EMPTY: readonly number[] = Object.freeze([]);

/**
 * The index is the same for any set of finished trials: the summary's median curve keeps one of
 * the complete and pruned trials (store.ts `finishedSteps`).
 */
export class CompleteSteps {
  private readonly byStep = new Map<number, number[]>();
  private readonly trials = new Set<number>();

  /** Complete trials counted (with or without values). */
  get count(): number {
    return this.trials.size;
  }

  /** Add a complete trial's values (once: a trial already added is ignored). */
  add(number: number, points: readonly Point[]): void {
    if (this.trials.has(number)) return;
    this.trials.add(number);
    for (const { step, value } of points) {
      if (Number.isNaN(value)) continue;
      let xs = this.byStep.get(step);
      if (!xs) this.byStep.set(step, (xs = []));
      let lo = 0;
      let hi = xs.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (xs[mid] <= value) lo = mid + 1;
        else hi = mid;
      }
      xs.splice(lo, 0, value);
    }
  }

  /** The values the complete trials reported at `step`, ascending. */
  at(step: number): readonly number[] {
    return this.byStep.get(step) ?? EMPTY;
  }

  /**
   * The index of every trial of `byTrial` at once (each value pushed, then each step sorted once):
   * what `add` builds trial by trial, without a sorted insert per value.
   */
  static of(byTrial: ReadonlyMap<number, readonly Point[]>): CompleteSteps {
    const index = new CompleteSteps();
    for (const [number, points] of byTrial) {
      index.trials.add(number);
      for (const { step, value } of points) {
        if (Number.isNaN(value)) continue;
        const xs = index.byStep.get(step);
        if (xs) xs.push(value);
        else index.byStep.set(step, [value]);
      }
    }
    for (const xs of index.byStep.values()) xs.sort((a, b) => a - b);
    return index;
  }

  /** At each step, ascending, the median of the values there. */
  medians(): Point[] {
    return [...this.byStep.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([step, xs]) => {
        const m = xs.length >> 1;
        return { step, value: xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2 };
      });
  }
}

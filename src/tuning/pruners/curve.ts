/** A trial's intermediate values read the way Optuna reads them: a map step -> value. */
import type { FrozenTrial } from '../types';

export interface Point {
  readonly step: number;
  readonly value: number;
}

/**
 * The trial's intermediate values, one per step (a later report of the same
 * step replaces an earlier one, as Optuna's storage does), ordered by step.
 * Points whose step is not a finite number are ignored.
 */
export function byStep(trial: FrozenTrial): Point[] {
  const map = new Map<number, number>();
  for (const p of trial.intermediate ?? []) {
    if (typeof p?.step !== 'number' || !Number.isFinite(p.step)) continue;
    map.set(p.step, typeof p.value === 'number' ? p.value : Number.NaN);
  }
  return [...map.entries()].sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value }));
}

/** Total order for sorting numbers that may include infinities (no NaN expected). */
export function ascending(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

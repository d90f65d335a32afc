/**
 * Builders the tuning tests share: a frozen trial, an ask/tell loop, the
 * median of a few runs, Branin, and the validity check of a suggestion.
 */
import { expect } from 'vitest';
import { isActive, paramOrder } from '../../src/tuning/space';
import type { Direction, FrozenTrial, Params, Space, TrialState } from '../../src/tuning/types';
import { validateParams } from '../../src/tuning/validate';

/** A trial of a history: its value only when complete. */
export function frozenTrial(
  number: number,
  params: Params,
  value: number | null,
  state: TrialState = 'complete',
  intermediate: { step: number; value: number }[] = [],
): FrozenTrial {
  return { number, state, params, value: state === 'complete' ? value : null, intermediate };
}

/** pick -> evaluate -> append, n times; the best value and the history. */
export function optimise(
  pick: (trials: FrozenTrial[], trialNumber: number) => Params,
  f: (p: Params) => number,
  n: number,
  direction: Direction = 'minimize',
): { best: number; trials: FrozenTrial[] } {
  const trials: FrozenTrial[] = [];
  let best = direction === 'minimize' ? Infinity : -Infinity;
  for (let i = 0; i < n; i++) {
    const params = pick(trials, i);
    const value = f(params);
    best = direction === 'minimize' ? Math.min(best, value) : Math.max(best, value);
    trials.push(frozenTrial(i, params, value));
  }
  return { best, trials };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** The Branin function (minimum 0.397887 at three points of [-5, 10] x [0, 15]). */
export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI * Math.PI);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

/** Parameters that must be present for these params: walk paramOrder with the params' own values. */
function expectedKeys(space: Space, params: Params): string[] {
  const sofar: Params = {};
  const keys: string[] = [];
  for (const name of paramOrder(space)) {
    if (!isActive(space[name], sofar)) continue;
    keys.push(name);
    if (name in params) sofar[name] = params[name];
  }
  return keys.sort();
}

/**
 * A suggestion is a valid trial of the space: validateParams finds nothing
 * (every active parameter present, in range, on its step, integer for ints,
 * one of the choices; no inactive or unknown one), and exactly the active
 * parameters are there.
 */
export function expectValidParams(space: Space, params: Params): void {
  expect(validateParams(space, params)).toEqual([]);
  expect(Object.keys(params).sort()).toEqual(expectedKeys(space, params));
  for (const [name, v] of Object.entries(params)) {
    const spec = space[name];
    if (spec.type === 'categorical') expect(spec.choices).toContain(v);
    else {
      expect(typeof v).toBe('number');
      expect(v as number).toBeGreaterThanOrEqual(spec.low);
      expect(v as number).toBeLessThanOrEqual(spec.high);
      if (spec.type === 'int') expect(Number.isInteger(v)).toBe(true);
    }
  }
}

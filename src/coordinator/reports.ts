/**
 * The intermediate values a trial takes from its reports, as a pure function:
 * which points of a report (or a batch) are new, all or nothing. A step's value
 * never changes (a different one is a 409), and a trial holds at most
 * MAX_INTERMEDIATE values. The values it holds are looked up one step at a
 * time (`held`), so a report costs the same whatever the trial holds.
 */
import type { Point } from '../db/intermediate';
import { CoordinatorError } from './errors';

/**
 * The most intermediate values a trial keeps: one row each in the object's SQLite (store.ts's
 * points table), which a report neither reads nor rewrites whole. A million covers a long run
 * reported every step; D1 takes them over several flushes (outbox.ts).
 */
export const MAX_INTERMEDIATE = 1_000_000;

/**
 * The points of `points` that trial `number` does not hold yet, in step order (empty when it
 * holds them all). `held(step)` is the value it holds at a step (undefined: none), `count` how
 * many it holds. Every point is checked before anything is taken: one that conflicts with a held
 * value (or with another point of the batch), or too many values, is a 409 (`batch`: the message
 * names the point's index).
 */
export function mergeReport(
  number: number,
  held: (step: number) => number | undefined,
  count: number,
  points: readonly Point[],
  batch: boolean,
): Point[] {
  const added = new Map<number, number>();
  points.forEach((p, i) => {
    const existing = held(p.step) ?? added.get(p.step);
    if (existing === undefined) {
      added.set(p.step, p.value);
    } else if (existing !== p.value) {
      throw new CoordinatorError(
        'conflict',
        `${batch ? `points.${i}: ` : ''}trial ${number} already reported ${existing} at step ${p.step}`,
      );
    }
  });
  if (count + added.size > MAX_INTERMEDIATE) {
    throw new CoordinatorError(
      'conflict',
      `trial ${number} holds ${count} intermediate values and takes at most ${MAX_INTERMEDIATE}: report every few steps instead of every step (${added.size === 1 ? 'the new value was' : `the ${added.size} new values were`} not stored)`,
    );
  }
  return [...added.entries()]
    .map(([step, value]) => ({ step, value }))
    .sort((a, b) => a.step - b.step);
}

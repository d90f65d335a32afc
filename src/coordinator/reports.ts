/**
 * The intermediate values a trial takes from its reports, as a pure function:
 * a report (or a batch) merged into the values the trial holds, all or
 * nothing. A step's value never changes (a different one is a 409), and a
 * trial holds at most MAX_INTERMEDIATE values.
 */
import type { Point } from '../db/intermediate';
import { CoordinatorError } from './errors';

/**
 * The most intermediate values a trial keeps. They live in one JSON column of the object's SQLite,
 * whose values stop at 2 MB (about 45,000 points), and every report reads them all.
 */
export const MAX_INTERMEDIATE = 20_000;

/**
 * Merge `points` into the values trial `number` holds (`intermediate`, in step order): the new
 * list in step order, or null when every point is already held. Every point is checked before
 * anything is taken: one that conflicts with a held value, or too many values, is a 409
 * (`batch`: the message names the point's index).
 */
export function mergeReport(
  number: number,
  intermediate: readonly Point[],
  points: readonly Point[],
  batch: boolean,
): Point[] | null {
  const held = new Map(intermediate.map((p) => [p.step, p.value]));
  const added: Point[] = [];
  points.forEach((p, i) => {
    const existing = held.get(p.step);
    if (existing === undefined) {
      added.push(p);
      held.set(p.step, p.value);
    } else if (existing !== p.value) {
      throw new CoordinatorError(
        'conflict',
        `${batch ? `points.${i}: ` : ''}trial ${number} already reported ${existing} at step ${p.step}`,
      );
    }
  });
  if (intermediate.length + added.length > MAX_INTERMEDIATE) {
    throw new CoordinatorError(
      'conflict',
      `trial ${number} holds ${intermediate.length} intermediate values and takes at most ${MAX_INTERMEDIATE}: report every few steps instead of every step (${added.length === 1 ? 'the new value was' : `the ${added.length} new values were`} not stored)`,
    );
  }
  if (added.length === 0) return null;
  const last = intermediate.length > 0 ? intermediate[intermediate.length - 1].step : -1;
  const merged = [...intermediate, ...added];
  // Reports may arrive in any order of steps; the common case (later steps) needs no sort.
  if (added[0].step <= last || added.some((p, i) => i > 0 && p.step <= added[i - 1].step))
    merged.sort((a, b) => a.step - b.step);
  return merged;
}

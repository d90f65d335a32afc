/**
 * The Pareto front of a set of objective vectors (pure): the points no other point dominates.
 * `a` dominates `b` when it is at least as good on every objective (by its direction) and
 * better on one. Equal points do not dominate each other: both are on the front.
 */
import type { Direction } from '../contract/space';

/** Indices of the non-dominated points of `points` (each one value per direction), ascending. */
export function paretoFront(points: readonly (readonly number[])[], directions: readonly Direction[]): number[] {
  const sign = directions.map((d) => (d === 'maximize' ? -1 : 1));
  // Minimised form: lower is better on every objective.
  const m = points.map((p) => p.map((v, k) => v * sign[k]));
  const dominates = (a: number[], b: number[]) => {
    let better = false;
    for (let k = 0; k < a.length; k++) {
      if (a[k] > b[k]) return false;
      if (a[k] < b[k]) better = true;
    }
    return better;
  };
  const front: number[] = [];
  for (let i = 0; i < m.length; i++) {
    if (!m.some((q, j) => j !== i && dominates(q, m[i]))) front.push(i);
  }
  return front;
}

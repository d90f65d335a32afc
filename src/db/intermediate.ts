/**
 * Which intermediate values of a trial D1 still needs. A trial's reports
 * only grow while it runs (a step's value never changes: a different value is
 * a 409), so D1 usually needs just the steps after the last one it took; a
 * long trial reported step by step then costs one row per step instead of a
 * rewrite of all of them per flush. Anything else (reports out of step order
 * below what D1 has, or values cleared when a lease expired) rewrites them all.
 */
export interface Point {
  step: number;
  value: number;
}

/** What D1 holds of a trial's intermediate values, as far as the coordinator knows: null when unknown. */
export interface Synced {
  maxStep: number;
  count: number;
}

export type IntermediateWrite =
  { mode: 'append'; points: Point[] } | { mode: 'replace'; points: Point[] };

export function intermediateWrite(points: Point[], synced: Synced | null): IntermediateWrite {
  if (synced === null) return { mode: 'replace', points };
  let below = 0;
  const after: Point[] = [];
  for (const p of points) {
    if (p.step <= synced.maxStep) below++;
    else after.push(p);
  }
  // Every point D1 has is still here, and nothing new arrived below its last step: append.
  if (below === synced.count) return { mode: 'append', points: after };
  return { mode: 'replace', points };
}

/** What D1 holds after writing `points` (all of the trial's values at the time). */
export function syncedAfter(points: Point[]): Synced | null {
  if (points.length === 0) return null;
  return { maxStep: Math.max(...points.map((p) => p.step)), count: points.length };
}

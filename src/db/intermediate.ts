/**
 * Which intermediate values of a trial D1 still needs, and how many it takes in one flush. A
 * trial's reports only grow while it runs (a step's value never changes: a different value is a
 * 409), so D1 usually needs just the steps after the last one it took; a long trial reported step
 * by step then costs one row per step instead of a rewrite of all of them per flush. Anything
 * else (reports out of step order below what D1 has, or values cleared when a lease expired)
 * rewrites them all. A write takes at most `limit` values, the first by step: a backlog larger
 * than one flush may write goes over several (outbox.ts bounds the D1 statements per invocation),
 * each appending after the last step the one before wrote.
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

export interface IntermediateWrite {
  mode: 'append' | 'replace';
  /** The values this write takes, in step order (at most the limit). */
  points: Point[];
  /** True when values remain for a later write. */
  partial: boolean;
}

/** How the values the trial holds can be read: its count, and its values after a step (or all), in step order, at most `limit`. */
export interface PointSource {
  count: number;
  read(afterStep: number | null, limit: number): Point[];
  /** How many values it holds after a step. */
  countAfter(afterStep: number): number;
}

/** The next write of a trial's values to D1: at most `limit` (>= 0) of them. */
export function intermediateWrite(
  source: PointSource,
  synced: Synced | null,
  limit: number,
): IntermediateWrite {
  if (synced !== null) {
    const after = source.countAfter(synced.maxStep);
    // Every point D1 has is still here, and nothing new arrived below its last step: append.
    if (source.count - after === synced.count)
      return {
        mode: 'append',
        points: source.read(synced.maxStep, limit),
        partial: after > limit,
      };
  }
  return { mode: 'replace', points: source.read(null, limit), partial: source.count > limit };
}

/** What D1 holds after `write` (on top of `synced` when it appended). */
export function syncedAfter(synced: Synced | null, write: IntermediateWrite): Synced | null {
  const { points } = write;
  const base = write.mode === 'append' && synced !== null ? synced : null;
  if (points.length === 0) return base;
  const last = points[points.length - 1].step;
  return {
    maxStep: base === null ? last : Math.max(base.maxStep, last),
    count: (base?.count ?? 0) + points.length,
  };
}

/**
 * Backoff: how long to wait before retry number `attempt` (1-based), for every
 * retry in src/ (the outbox's D1 writes, job notices to dispatch_url,
 * notification deliveries, the agent's HTTP calls). A leaf module: pure,
 * imported by any layer.
 */

/** `baseMs` doubled each attempt (base, 2 x base, 4 x base, ...), at most `maxMs`. */
export function exponentialBackoffMs(attempt: number, baseMs: number, maxMs = Infinity): number {
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}

/** The `attempt`th wait of a fixed schedule; past its end, its last wait again. */
export function scheduledBackoffMs(attempt: number, schedule: readonly number[]): number {
  return schedule[Math.min(Math.max(attempt, 1) - 1, schedule.length - 1)];
}

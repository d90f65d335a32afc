/**
 * Training is synchronous TF.js work. An edge trial or a range test can run
 * it for many seconds, and an `await` on a Durable Object RPC (a trial's
 * per-epoch report) does not count as a pause: locally the object runs in the
 * same workerd process and thread, so the call finishes without workerd
 * looking at its sockets or timers. For that long workerd serves no other
 * request and does not notice connections that the other side closed: locally,
 * `wrangler dev` holds or loses the requests sent meanwhile and the local queue
 * broker writes to a loopback connection Node has closed (after which that
 * queue never delivers again; scripts/loopback-keepalive.mjs); deployed, the
 * isolate serves nothing else while a trial trains.
 *
 * A zero-delay timer is a real pause: workerd goes back to its event loop
 * (the OS poll included) before the timer fires. Training pauses this way
 * every YIELD_EVERY_STEPS steps. That costs one event-loop turn each time,
 * and no CPU time worth measuring.
 */

/** Training steps between two pauses. At the edge budget this is well under a second of work. */
export const YIELD_EVERY_STEPS = 16;

/** Wait for one zero-delay timer: workerd serves I/O and timers before this resolves. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

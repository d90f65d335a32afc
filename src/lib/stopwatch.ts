/**
 * A stopwatch of one call: the time spent in each named part, summed over the part's laps, in
 * milliseconds of `performance.now()`. Make one per call and hand it along to what the call
 * runs, then return its `read()` with the call's result; it is never shared between calls.
 * A leaf module: pure, imported by any layer.
 *
 * What the figures mean depends on the clock: deployed on Cloudflare, `performance.now()` and
 * `Date.now()` advance only across I/O (a Spectre mitigation), so a part that is synchronous
 * computation (a sampler, the Durable Object's SQLite calls) reads 0 there; local workerd
 * (`npm start`, the tests, the bench) and Node give real time.
 */
export class Stopwatch<Part extends string> {
  private readonly totals: Record<Part, number>;

  /** Every part reads 0 until timed. */
  constructor(parts: readonly Part[]) {
    this.totals = Object.fromEntries(parts.map((p) => [p, 0])) as Record<Part, number>;
  }

  /** Run `fn` and add its duration to `part` (also when it throws). Laps must not nest. */
  time<T>(part: Part, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.totals[part] += performance.now() - start;
    }
  }

  /** As `time`, until the promise `fn` returns settles. */
  async timeAsync<T>(part: Part, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.totals[part] += performance.now() - start;
    }
  }

  /** Each part's total so far, in ms. */
  read(): Record<Part, number> {
    return { ...this.totals };
  }
}

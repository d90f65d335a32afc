/**
 * RateLimiter: one Durable Object per API key, a token bucket for the
 * expensive calls (range tests, study creation). `take` answers at once
 * whether the call may go ahead, and if not, in how many seconds it could.
 * The bucket lives in the object's storage, so a restart does not refill it.
 */
import { DurableObject } from 'cloudflare:workers';

export class RateLimiter extends DurableObject<Env> {
  /**
   * Take one token from a bucket of `perMinute` tokens that refills
   * continuously (perMinute per 60 s).
   */
  async take(
    perMinute: number,
  ): Promise<{ ok: boolean; retry_after_s: number; remaining: number }> {
    const now = Date.now();
    const capacity = Math.max(1, perMinute);
    const ratePerMs = capacity / 60_000;
    const state = (await this.ctx.storage.get<{ tokens: number; at: number }>('bucket')) ?? {
      tokens: capacity,
      at: now,
    };
    const tokens = Math.min(capacity, state.tokens + (now - state.at) * ratePerMs);
    if (tokens >= 1) {
      await this.ctx.storage.put('bucket', { tokens: tokens - 1, at: now });
      return { ok: true, retry_after_s: 0, remaining: Math.floor(tokens - 1) };
    }
    await this.ctx.storage.put('bucket', { tokens, at: now });
    return {
      ok: false,
      retry_after_s: Math.max(1, Math.ceil((1 - tokens) / ratePerMs / 1000)),
      remaining: 0,
    };
  }
}

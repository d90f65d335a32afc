/**
 * The `Server-Timing` header of every answer, errors and 404s included:
 *
 *     Server-Timing: total;dur=6.2, sampler;dur=0.84, storage;dur=0.31
 *
 * `total` always, first: the Worker's time from the request reaching the app to its answer being
 * ready (the body is built by then), in ms. Ask, ask-batch and tell add the study coordinator's
 * shares of it (contract/study.ts, CoordinatorTiming): `sampler` and `storage`. Durations are
 * milliseconds with at most two decimals.
 *
 * What the numbers mean: deployed on Cloudflare, Workers' clocks advance only across I/O (a
 * Spectre mitigation), so `total` is the time up to the Worker's last I/O (the Durable Object or
 * D1 call it waited for, which includes their work) and the coordinator's shares, being
 * synchronous computation and SQLite calls, read 0 or close to it. Local workerd (`npm start`,
 * the tests, `npm run bench`) gives real time to all three, in whole milliseconds: a share under
 * 1 ms reads 0 or 1 call by call, and is read as an average over calls.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { CoordinatorTiming } from '../contract/study';
import type { AppEnv } from './env';

/** Milliseconds as the header writes them: at most two decimals, no trailing zeros. */
const formatDuration = (ms: number): string => String(Math.round(ms * 100) / 100);

/** The first middleware of the app, so that `total` covers every other one and the route. */
export const serverTiming: MiddlewareHandler<AppEnv> = async (c, next) => {
  const start = performance.now();
  c.set('serverTiming', []);
  await next();
  const metrics: [string, number][] = [['total', performance.now() - start]];
  metrics.push(...c.get('serverTiming'));
  c.res.headers.set(
    'Server-Timing',
    metrics.map(([name, ms]) => `${name};dur=${formatDuration(ms)}`).join(', '),
  );
};

/** Add the coordinator's shares of an ask or tell to the answer's Server-Timing. */
export function addCoordinatorTiming(c: Context<AppEnv>, timing: CoordinatorTiming): void {
  c.get('serverTiming').push(['sampler', timing.sampler_ms], ['storage', timing.storage_ms]);
}

/** The Hono environment of every route: the Worker's bindings, the request id and the caller. */
import type { RequestIdVariables } from 'hono/request-id';
import type { Principal } from './auth';

export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & {
    auth: Principal;
    /** Metrics a route adds to the answer's Server-Timing after `total` (timing.ts): name, ms. */
    serverTiming: [name: string, ms: number][];
  };
};

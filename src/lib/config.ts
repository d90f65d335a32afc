/**
 * The Worker's configuration: every variable of wrangler.toml's [vars] (and
 * the secrets) read in one place, with its default written once. A value
 * that is missing or not a positive number falls back to the default.
 * A leaf module: pure, imported by any layer.
 */

/** The variables read (wrangler.toml [vars], and the secrets `wrangler secret put` sets). */
export interface ConfigVars {
  PROBE_MAX_GFLOP?: string;
  PROBE_MAX_CELLS?: string;
  MAX_BODY_BYTES?: string;
  LR_SUGGEST_WAIT_MS?: string;
  RATE_LIMIT_PER_MINUTE?: string;
  NOTIFY_DISABLE_AFTER?: string;
  STRIDE_ADMIN_TOKEN?: string;
  STRIDE_DEV_KEY?: string;
  STRIDE_RUNNER_KEY?: string;
}

export interface Config {
  /** The edge's limits of one probe (a range test, an edge trial): see contract/limits.ts. */
  probe: {
    /** PROBE_MAX_GFLOP: the estimated work of one probe (6 x parameters x batch x steps), in GFLOP. */
    maxGflop: number;
    /** PROBE_MAX_CELLS: the largest dataset, in cells counted by contract/limits.ts's dataCells (rows x (features + 1)). */
    maxCells: number;
  };
  /** MAX_BODY_BYTES: the largest request body accepted. */
  maxBodyBytes: number;
  /** LR_SUGGEST_WAIT_MS: how long lr/suggest with a probe may take, its range test included, before answering 202 (0: never waits). */
  lrSuggestWaitMs: number;
  /** RATE_LIMIT_PER_MINUTE: expensive calls per key and minute, unless the key says otherwise. */
  rateLimitPerMinute: number;
  /** NOTIFY_DISABLE_AFTER: failed deliveries in a row after which a subscription is disabled. */
  notifyDisableAfter: number;
  /** The secrets that authenticate without a stored key (unset: that one is off). */
  secrets: { adminToken?: string; devKey?: string; runnerKey?: string };
}

/** The defaults, the same as wrangler.toml's [vars]. */
export const CONFIG_DEFAULTS = {
  PROBE_MAX_GFLOP: 60,
  PROBE_MAX_CELLS: 2_000_000,
  MAX_BODY_BYTES: 8 * 1024 * 1024,
  LR_SUGGEST_WAIT_MS: 2_000,
  RATE_LIMIT_PER_MINUTE: 60,
  NOTIFY_DISABLE_AFTER: 15,
} as const;

function positive(value: string | undefined, fallback: number, integer = false): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)) ? n : fallback;
}

export function readConfig(env: ConfigVars): Config {
  return {
    probe: {
      maxGflop: positive(env.PROBE_MAX_GFLOP, CONFIG_DEFAULTS.PROBE_MAX_GFLOP),
      maxCells: positive(env.PROBE_MAX_CELLS, CONFIG_DEFAULTS.PROBE_MAX_CELLS),
    },
    maxBodyBytes: positive(env.MAX_BODY_BYTES, CONFIG_DEFAULTS.MAX_BODY_BYTES),
    lrSuggestWaitMs:
      env.LR_SUGGEST_WAIT_MS === '0'
        ? 0
        : positive(env.LR_SUGGEST_WAIT_MS, CONFIG_DEFAULTS.LR_SUGGEST_WAIT_MS),
    rateLimitPerMinute: positive(env.RATE_LIMIT_PER_MINUTE, CONFIG_DEFAULTS.RATE_LIMIT_PER_MINUTE),
    notifyDisableAfter: positive(
      env.NOTIFY_DISABLE_AFTER,
      CONFIG_DEFAULTS.NOTIFY_DISABLE_AFTER,
      true,
    ),
    secrets: {
      adminToken: env.STRIDE_ADMIN_TOKEN,
      devKey: env.STRIDE_DEV_KEY,
      runnerKey: env.STRIDE_RUNNER_KEY,
    },
  };
}

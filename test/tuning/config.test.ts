// The Worker's configuration (lib/config.ts), the one count of a dataset's
// cells (contract/limits.ts) and the backoff (lib/backoff.ts): pure, in Node.
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, readConfig } from '../../src/lib/config';
import { dataCells, declaredCells } from '../../src/contract/limits';
import { exponentialBackoffMs, scheduledBackoffMs } from '../../src/lib/backoff';

describe('readConfig', () => {
  it('falls back to the defaults for missing or non-positive values', () => {
    const c = readConfig({
      PROBE_MAX_GFLOP: 'x',
      PROBE_MAX_CELLS: '0',
      MAX_BODY_BYTES: '-1',
      NOTIFY_DISABLE_AFTER: '2.5',
    });
    expect(c.probe).toEqual({
      maxGflop: CONFIG_DEFAULTS.PROBE_MAX_GFLOP,
      maxCells: CONFIG_DEFAULTS.PROBE_MAX_CELLS,
    });
    expect(c.maxBodyBytes).toBe(8 * 1024 * 1024);
    expect(c.rateLimitPerMinute).toBe(60);
    expect(c.notifyDisableAfter).toBe(15);
    expect(c.secrets).toEqual({ adminToken: undefined, devKey: undefined, runnerKey: undefined });
  });

  it('reads the values set', () => {
    const c = readConfig({
      PROBE_MAX_GFLOP: '0.5',
      PROBE_MAX_CELLS: '1000',
      MAX_BODY_BYTES: '1024',
      RATE_LIMIT_PER_MINUTE: '7',
      NOTIFY_DISABLE_AFTER: '3',
      STRIDE_DEV_KEY: 'k',
    });
    expect(c).toMatchObject({
      probe: { maxGflop: 0.5, maxCells: 1000 },
      maxBodyBytes: 1024,
      rateLimitPerMinute: 7,
      notifyDisableAfter: 3,
      secrets: { devKey: 'k' },
    });
  });
});

describe('dataset cells', () => {
  it('counts rows x (features + 1), declared or loaded', () => {
    expect(dataCells(100_000, 20)).toBe(2_100_000);
    expect(declaredCells({ kind: 'synthetic', n: 100_000, features: 20 })).toBe(2_100_000);
    expect(
      declaredCells({
        kind: 'inline',
        x: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      }),
    ).toBe(9);
    expect(declaredCells({ kind: 'csv' })).toBe(0);
  });
});

describe('backoff', () => {
  it('doubles from its base up to its cap', () => {
    expect([1, 2, 3, 4, 10].map((a) => exponentialBackoffMs(a, 1000, 300_000))).toEqual([
      1000, 2000, 4000, 8000, 300_000,
    ]);
    expect([1, 2, 5].map((a) => exponentialBackoffMs(a, 1000))).toEqual([1000, 2000, 16_000]);
  });

  it('walks a schedule and repeats its last wait', () => {
    const schedule = [1_000, 5_000, 30_000];
    expect([1, 2, 3, 4, 9].map((a) => scheduledBackoffMs(a, schedule))).toEqual([
      1_000, 5_000, 30_000, 30_000, 30_000,
    ]);
  });
});

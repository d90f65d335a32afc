// The coordinator's lease decisions (src/coordinator/leases.ts), table-tested in plain Node:
// functions of (config, trials, now) with no storage.
import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../../src/coordinator/errors';
import {
  authorizeLease,
  availableTrials,
  checkLease,
  expiryDecisions,
  finishFreesSlot,
  hasLeaseSlot,
  leasedExecutor,
  leaseExpiry,
  leaseView,
  retryAfterSeconds,
  type LeaseTrial,
} from '../../src/coordinator/leases';
import type {
  EdgeExecutor,
  ExecutorConfig,
  RunnerExecutor,
  StudyConfig,
} from '../../src/contract/study';

const runner = (o: Partial<RunnerExecutor> = {}): RunnerExecutor => ({
  kind: 'runner',
  max_parallel: null,
  max_attempts: 3,
  lease_seconds: 60,
  dispatch_url: null,
  ...o,
});
const edge = (o: Partial<EdgeExecutor> = {}): EdgeExecutor => ({
  kind: 'edge',
  probe: {} as EdgeExecutor['probe'],
  epochs: 1,
  validation_split: 0.2,
  parallelism: 2,
  max_attempts: 2,
  lease_seconds: 30,
  ...o,
});

function study(executor: ExecutorConfig, max_trials: number | null = 10): StudyConfig {
  return {
    id: 'st_1',
    name: 's',
    direction: 'minimize',
    metric: 'loss',
    space: {},
    sampler: { name: 'random', seed: 0 },
    pruner: { name: 'none' },
    executor,
    max_trials,
    metadata: {},
    created_at: '2024-01-01T00:00:00.000Z',
  };
}

function trial(o: Partial<LeaseTrial> & { number: number }): LeaseTrial {
  return {
    state: 'running',
    error: null,
    attempts: 1,
    lease_token: 'tok',
    lease_expires_at: 1_000,
    runner: null,
    ...o,
  };
}

/**
 * The CoordinatorError `fn` throws, as `[kind] detail`; null when it returns. An invalid one
 * names its field in one issue, whose `path: message` is the detail.
 */
function thrown(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(CoordinatorError);
    const e = err as CoordinatorError;
    if (e.kind === 'invalid') {
      expect(e.issues).toHaveLength(1);
      expect(`${e.issues![0].path}: ${e.issues![0].message}`).toBe(e.detail);
    } else expect(e.issues).toBeUndefined();
    return `[${e.kind}] ${e.detail}`;
  }
}

describe('leasedExecutor', () => {
  it.each([
    ['runner', runner(), null],
    ['edge', edge(), null],
    [
      'client',
      { kind: 'client' } as const,
      '[conflict] study st_1 is a client study (ask and tell): its trials have no leases',
    ],
  ])('%s', (_name, executor, error) => {
    const config = study(executor);
    if (error === null) expect(leasedExecutor(config)).toBe(executor);
    else expect(thrown(() => leasedExecutor(config))).toBe(error);
  });
});

describe('authorizeLease', () => {
  it.each([
    ['client, no token', { kind: 'client' } as const, {}, false],
    [
      'client, runner key',
      { kind: 'client' } as const,
      { runner_only: true },
      '[not_found] no such study',
    ],
    [
      'client, a token',
      { kind: 'client' } as const,
      { lease_token: 't' },
      "[invalid] lease_token: this study's trials are not leased (executor 'client'): leave it out",
    ],
    ['runner, a token', runner(), { lease_token: 't' }, true],
    ['edge, a token', edge(), { lease_token: 't', runner_only: true }, true],
    [
      'runner, no token',
      runner(),
      {},
      '[invalid] lease_token: required: the trials of a runner study are leased, and only the lease holder reports and tells',
    ],
  ])('%s', (_name, executor, caller, expected) => {
    const config = study(executor);
    if (typeof expected === 'boolean') expect(authorizeLease(config, caller)).toBe(expected);
    else expect(thrown(() => authorizeLease(config, caller))).toBe(expected);
  });

  it('names the lease_token field in the issues of its 422s', () => {
    for (const [executor, caller] of [
      [{ kind: 'client' } as const, { lease_token: 't' }],
      [runner(), {}],
    ] as const) {
      try {
        authorizeLease(study(executor), caller);
        expect.unreachable();
      } catch (err) {
        expect((err as CoordinatorError).issues?.map((i) => i.path)).toEqual(['lease_token']);
      }
    }
  });
});

describe('checkLease', () => {
  it.each<[string, Partial<LeaseTrial>, string, boolean, string | null]>([
    ['the live lease', {}, 'tok', false, null],
    [
      'its own expired lease, waiting',
      { state: 'waiting' },
      'tok',
      false,
      '[conflict] your lease on trial 4 expired: the trial waits to be leased again (a late tell is still taken until then)',
    ],
    ['its own expired lease, waiting, late tell', { state: 'waiting' }, 'tok', true, null],
    [
      'its own lease, trial failed',
      { state: 'failed', error: 'boom' },
      'tok',
      true,
      '[conflict] trial 4 is failed (boom)',
    ],
    [
      'its own lease, trial complete',
      { state: 'complete' },
      'tok',
      false,
      '[conflict] trial 4 is complete',
    ],
    [
      'a stale token, leased again',
      { attempts: 2, runner: 'gpu-1' },
      'old',
      true,
      "[conflict] stale lease token: trial 4 was leased again (attempt 2 by 'gpu-1') after your lease ended; stop working on it",
    ],
    [
      'a stale token, leased again, no runner name',
      { attempts: 3 },
      'old',
      false,
      '[conflict] stale lease token: trial 4 was leased again (attempt 3) after your lease ended; stop working on it',
    ],
    [
      'a stale token, waiting',
      { state: 'waiting', lease_token: null },
      'old',
      true,
      '[conflict] stale lease token: trial 4 is waiting for a new lease',
    ],
    [
      'a stale token, pruned',
      { state: 'pruned' },
      'old',
      false,
      '[conflict] stale lease token: trial 4 is already pruned',
    ],
  ])('%s', (_name, row, token, allowLate, expected) => {
    expect(thrown(() => checkLease(trial({ number: 4, ...row }), token, allowLate))).toBe(expected);
  });
});

describe('expiryDecisions', () => {
  const now = 10_000;
  it('decides nothing for a client study', () => {
    expect(
      expiryDecisions(study({ kind: 'client' }), [trial({ number: 0, lease_expires_at: 0 })], now),
    ).toEqual([]);
  });

  it.each<[string, ExecutorConfig, LeaseTrial[], ReturnType<typeof expiryDecisions>]>([
    [
      'nothing expired',
      runner(),
      [
        trial({ number: 0, lease_expires_at: now + 1 }),
        trial({ number: 1, lease_expires_at: null }),
      ],
      [],
    ],
    [
      'an expiry at now is expired; attempts left: waiting',
      runner(),
      [trial({ number: 0, lease_expires_at: now })],
      [{ number: 0, state: 'waiting', error: 'attempt 1: lease expired' }],
    ],
    [
      'the last attempt fails, naming the runner',
      runner({ max_attempts: 2 }),
      [trial({ number: 3, attempts: 2, runner: 'gpu-1' })],
      [
        {
          number: 3,
          state: 'failed',
          error: "lease expired on attempt 2 of 2 (runner 'gpu-1'): no heartbeat or result in time",
        },
      ],
    ],
    [
      'only running trials, in trial order',
      edge(),
      [
        trial({ number: 5, attempts: 1, runner: 'edge' }),
        trial({ number: 2, state: 'complete' }),
        trial({ number: 1, state: 'waiting' }),
        trial({ number: 0, attempts: 2, runner: 'edge' }),
      ],
      [
        {
          number: 0,
          state: 'failed',
          error: "lease expired on attempt 2 of 2 (runner 'edge'): no heartbeat or result in time",
        },
        { number: 5, state: 'waiting', error: "attempt 1: lease expired (runner 'edge')" },
      ],
    ],
  ])('%s', (_name, executor, trials, expected) => {
    expect(expiryDecisions(study(executor), trials, now)).toEqual(expected);
  });
});

describe('lease slots, expiry and view', () => {
  it.each<[string, RunnerExecutor | EdgeExecutor, number, boolean]>([
    ['runner, no bound', runner(), 1000, true],
    ['runner, under max_parallel', runner({ max_parallel: 2 }), 1, true],
    ['runner, at max_parallel', runner({ max_parallel: 2 }), 2, false],
    ['edge, under parallelism', edge({ parallelism: 3 }), 2, true],
    ['edge, at parallelism', edge({ parallelism: 3 }), 3, false],
  ])('hasLeaseSlot: %s', (_name, executor, running, expected) => {
    expect(hasLeaseSlot(executor, running)).toBe(expected);
  });

  it('leaseExpiry and leaseView: lease_seconds from now, a heartbeat every third of it (at least 1 s)', () => {
    expect(leaseExpiry(runner({ lease_seconds: 60 }), 5_000)).toBe(65_000);
    const row = trial({
      number: 0,
      lease_token: 'lease_x',
      lease_expires_at: Date.UTC(2024, 0, 1),
      attempts: 2,
    });
    expect(leaseView(runner({ lease_seconds: 60 }), row)).toEqual({
      token: 'lease_x',
      expires_at: '2024-01-01T00:00:00.000Z',
      attempt: 2,
      heartbeat_seconds: 20,
    });
    expect(leaseView(runner({ lease_seconds: 2 }), row).heartbeat_seconds).toBe(1);
  });
});

describe('retryAfterSeconds', () => {
  it.each<[string, number | null, number | null]>([
    ['no lease out: no more work', null, null],
    ['an expiry long ahead: 5 s at most', 60_000, 5],
    ['an expiry in 2.1 s: 3 s', 2_100, 3],
    ['an expiry already past: 1 s at least', -500, 1],
  ])('%s', (_name, inMs, expected) => {
    const now = 1_000_000;
    expect(retryAfterSeconds(inMs === null ? null : now + inMs, now)).toBe(expected);
  });
});

describe('availableTrials', () => {
  it.each<
    [
      string,
      number | null,
      number | null,
      { waiting: number; total: number; running: number },
      number,
    ]
  >([
    ['no bounds', null, null, { waiting: 0, total: 5, running: 5 }, Infinity],
    [
      'max_trials: waiting plus those not yet created',
      10,
      null,
      { waiting: 2, total: 8, running: 1 },
      4,
    ],
    ['max_trials reached, nothing waiting', 10, null, { waiting: 0, total: 10, running: 3 }, 0],
    ['max_parallel bounds it', 10, 3, { waiting: 2, total: 8, running: 1 }, 2],
    ['max_parallel full', null, 3, { waiting: 2, total: 8, running: 3 }, 0],
    [
      'more running than max_parallel (lowered): none',
      null,
      1,
      { waiting: 0, total: 8, running: 3 },
      0,
    ],
  ])('%s', (_name, maxTrials, maxParallel, counts, expected) => {
    const executor = runner({ max_parallel: maxParallel });
    expect(availableTrials(study(executor, maxTrials), executor, counts)).toBe(expected);
  });
});

describe('finishFreesSlot', () => {
  it.each<[string, ExecutorConfig, boolean]>([
    ['runner with max_parallel', runner({ max_parallel: 2 }), true],
    ['runner without a bound', runner(), false],
    ['edge', edge(), false],
    ['client', { kind: 'client' }, false],
  ])('%s', (_name, executor, expected) => {
    expect(finishFreesSlot(study(executor))).toBe(expected);
  });
});

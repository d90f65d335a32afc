// The coordinator's lease decisions (src/coordinator/leases.ts), table-tested in plain Node:
// functions of (config, trials, now) with no storage. Every executor leases its trials; a client
// study's calls may leave the token out while the trial is on its first lease.
import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../../src/coordinator/errors';
import {
  availableTrials,
  callerToken,
  checkLease,
  expiryDecisions,
  finishFreesSlot,
  hasLeaseSlot,
  leaseExpiry,
  leaseTerms,
  leaseView,
  retryAfterSeconds,
  type LeaseTrial,
} from '../../src/coordinator/leases';
import { CLIENT_LEASE_SECONDS, CLIENT_MAX_ATTEMPTS } from '../../src/contract/schemas';
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
 * The CoordinatorError `fn` throws, as `[kind] detail`, with ` @lease_token` when its one issue
 * names that field (then the issue's message is the detail; an invalid one's `path: message` is);
 * null when it returns.
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
    } else if (e.issues !== undefined) {
      expect(e.issues).toEqual([{ path: 'lease_token', message: e.detail }]);
      return `[${e.kind}] ${e.detail} @lease_token`;
    }
    return `[${e.kind}] ${e.detail}`;
  }
}

describe('leaseTerms', () => {
  it.each<[string, ExecutorConfig, { lease_seconds: number; max_attempts: number }]>([
    [
      'runner',
      runner({ lease_seconds: 60, max_attempts: 3 }),
      { lease_seconds: 60, max_attempts: 3 },
    ],
    ['edge', edge(), { lease_seconds: 30, max_attempts: 2 }],
    [
      'client, as created now',
      { kind: 'client', lease_seconds: 20, max_attempts: 4 },
      { lease_seconds: 20, max_attempts: 4 },
    ],
    [
      'client, stored before client leases: the defaults',
      { kind: 'client' },
      { lease_seconds: CLIENT_LEASE_SECONDS, max_attempts: CLIENT_MAX_ATTEMPTS },
    ],
  ])('%s', (_name, executor, expected) => {
    expect(leaseTerms(executor)).toEqual(expected);
  });
});

describe('callerToken', () => {
  it.each([
    ['client, no token: acts for the first lease', { kind: 'client' } as const, {}, null],
    ['client, a token', { kind: 'client' } as const, { lease_token: 't' }, 't'],
    [
      'client, runner key',
      { kind: 'client' } as const,
      { runner_only: true, lease_token: 't' },
      '[not_found] no such study',
    ],
    ['runner, a token', runner(), { lease_token: 't' }, 't'],
    ['edge, a token', edge(), { lease_token: 't', runner_only: true }, 't'],
    [
      'runner, no token',
      runner(),
      {},
      '[invalid] lease_token: required: the trials of a runner study are leased, and only the lease holder reports and tells',
    ],
  ])('%s', (_name, executor, caller, expected) => {
    const config = study(executor);
    if (expected === null || expected === 't') expect(callerToken(config, caller)).toBe(expected);
    else expect(thrown(() => callerToken(config, caller))).toBe(expected);
  });
});

describe('checkLease', () => {
  it.each<[string, Partial<LeaseTrial>, string | null, boolean, string | null]>([
    ['the live lease', {}, 'tok', false, null],
    [
      'its own expired lease, waiting',
      { state: 'waiting' },
      'tok',
      false,
      '[conflict] your lease on trial 4 expired: the trial waits to be leased again (a late tell is still taken until then) @lease_token',
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
      "[conflict] stale lease token: trial 4 was leased again (attempt 2 by 'gpu-1') after your lease ended; stop working on it @lease_token",
    ],
    [
      'a stale token, leased again, no runner name',
      { attempts: 3 },
      'old',
      false,
      '[conflict] stale lease token: trial 4 was leased again (attempt 3) after your lease ended; stop working on it @lease_token',
    ],
    [
      'a wrong token, the first lease',
      { attempts: 1 },
      'nope',
      false,
      '[conflict] lease token not valid for trial 4: it is not the token its ask answered @lease_token',
    ],
    [
      'a wrong token, the first lease of a runner',
      { attempts: 1, runner: 'gpu-0' },
      'nope',
      false,
      '[conflict] lease token not valid for trial 4: it is not the token its lease answered @lease_token',
    ],
    [
      'a stale token, waiting',
      { state: 'waiting', lease_token: null },
      'old',
      true,
      '[conflict] stale lease token: trial 4 is waiting for a new lease @lease_token',
    ],
    [
      'a stale token, pruned',
      { state: 'pruned' },
      'old',
      false,
      '[conflict] stale lease token: trial 4 is already pruned @lease_token',
    ],
    // A client study's call without a token acts for the trial's first lease (attempt 1).
    ['no token, the first lease, running', { attempts: 1 }, null, false, null],
    [
      'no token, a trial started before client leases (no lease at all)',
      { attempts: 0, lease_token: null, lease_expires_at: null },
      null,
      false,
      null,
    ],
    [
      'no token, the first lease expired: a report',
      { state: 'waiting', attempts: 1 },
      null,
      false,
      '[conflict] your lease on trial 4 expired: the trial waits to be asked again (a late tell is still taken until then) @lease_token',
    ],
    [
      'no token, the first lease expired: a late tell',
      { state: 'waiting', attempts: 1 },
      null,
      true,
      null,
    ],
    [
      'no token, asked again',
      { attempts: 2 },
      null,
      true,
      '[conflict] lease_token required: trial 4 was handed out again after its first lease expired (attempt 2), and a call without a token acts for the first lease only; send the lease.token of the ask that gave you the trial @lease_token',
    ],
    [
      'no token, asked again and expired again',
      { state: 'waiting', attempts: 2 },
      null,
      true,
      '[conflict] lease_token required: trial 4 was handed out again after its first lease expired (attempt 2), and a call without a token acts for the first lease only; send the lease.token of the ask that gave you the trial @lease_token',
    ],
    [
      'no token, enqueued and never asked',
      { state: 'waiting', attempts: 0, lease_token: null, lease_expires_at: null },
      null,
      true,
      '[conflict] trial 4 is waiting: ask for it before reporting or telling its result',
    ],
    [
      'no token, complete on attempt 2',
      { state: 'complete', attempts: 2 },
      null,
      true,
      '[conflict] trial 4 is already complete',
    ],
  ])('%s', (_name, row, token, allowLate, expected) => {
    expect(thrown(() => checkLease(trial({ number: 4, ...row }), token, allowLate))).toBe(expected);
  });
});

describe('expiryDecisions', () => {
  const now = 10_000;

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
    [
      'a client study: waiting again, then failed after max_attempts',
      { kind: 'client', lease_seconds: 60, max_attempts: 2 },
      [trial({ number: 1, attempts: 1 }), trial({ number: 2, attempts: 2 })],
      [
        { number: 1, state: 'waiting', error: 'attempt 1: lease expired' },
        {
          number: 2,
          state: 'failed',
          error: 'lease expired on attempt 2 of 2: no heartbeat or result in time',
        },
      ],
    ],
    [
      'a client study stored before client leases: the default max_attempts',
      { kind: 'client' },
      [trial({ number: 0, attempts: CLIENT_MAX_ATTEMPTS })],
      [
        {
          number: 0,
          state: 'failed',
          error: `lease expired on attempt ${CLIENT_MAX_ATTEMPTS} of ${CLIENT_MAX_ATTEMPTS}: no heartbeat or result in time`,
        },
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
    expect(leaseExpiry(leaseTerms({ kind: 'client' }), 0)).toBe(CLIENT_LEASE_SECONDS * 1000);
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

// How a DomainError crosses the Durable Object RPC boundary (src/coordinator/errors.ts), in plain
// Node: as an RpcResult answer (overRpc, valueOf), or, thrown, in the wire form read by JSON, never
// by reading the detail's words. test/rpc-errors.test.ts checks it across a real RPC call.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/contract/errors';
import {
  CoordinatorError,
  domainErrorOf,
  overRpc,
  toWire,
  valueOf,
} from '../../src/coordinator/errors';

/** What a caller gets back from workerd for a thrown Error: a fresh Error with its message only. */
const acrossRpc = (err: Error) => new Error(err.message);

const fields = (e: DomainError | null) =>
  e && { kind: e.kind, detail: e.detail, issues: e.issues, extra: e.extra, headers: e.headers };

describe('the wire form of a DomainError', () => {
  it('carries kind, detail, issues, extra and headers whole, whatever the detail says', () => {
    const err = new DomainError('invalid', 'free words: not `path: message`, two issues below', {
      issues: [
        { path: 'space.Learning-Rate.0', message: 'expected a number: got a string' },
        { path: '(body)', message: 'a: b: c' },
      ],
      extra: { delivery_id: 'd1' },
      headers: { 'Retry-After': '3' },
    });
    const wire = toWire(err);
    // A plain Error: workerd keeps the message of the standard error types unchanged.
    expect(Object.getPrototypeOf(wire)).toBe(Error.prototype);
    expect(wire.name).toBe('Error');
    const back = domainErrorOf(acrossRpc(wire));
    expect(back).toBeInstanceOf(DomainError);
    expect(fields(back)).toEqual(fields(err));
  });

  it('carries a CoordinatorError, and one without issues', () => {
    const err = new CoordinatorError(
      'conflict',
      'points.1: trial 3 already reported 0.5 at step 1',
    );
    expect(fields(domainErrorOf(acrossRpc(toWire(err))))).toEqual({
      kind: 'conflict',
      detail: 'points.1: trial 3 already reported 0.5 at step 1',
      issues: undefined,
      extra: undefined,
      headers: undefined,
    });
  });

  it('reads a DomainError as itself', () => {
    const err = new DomainError('not_found', 'x');
    expect(domainErrorOf(err)).toBe(err);
  });

  it.each([
    ['an error of another kind', new Error('boom')],
    ['a message in the old [kind] form', new Error('[invalid] value: expected a number')],
    [
      'the prefix without JSON',
      new Error(toWire(new DomainError('invalid', 'x')).message.slice(0, 20)),
    ],
    [
      'an unknown kind',
      new Error(toWire(new DomainError('invalid', 'x')).message.replace('"invalid"', '"teapot"')),
    ],
    [
      'issues of another shape',
      new Error(
        toWire(
          new DomainError('invalid', 'x', { issues: [{ path: 'a', message: 'b' }] }),
        ).message.replace('"path":"a"', '"path":1'),
      ),
    ],
    ['not an Error', 'stride'],
    ['nothing', undefined],
  ])('is null for %s', (_name, err) => {
    expect(domainErrorOf(err)).toBeNull();
  });
});

describe('overRpc', () => {
  it('answers what the body answers', async () => {
    await expect(overRpc(() => 7)).resolves.toEqual({ ok: true, value: 7 });
    await expect(overRpc(async () => 'x')).resolves.toEqual({ ok: true, value: 'x' });
  });

  it('answers a DomainError as data (structured-cloneable), synchronous or not; valueOf throws it again', async () => {
    const err = new CoordinatorError('invalid', 'values: 1 value for 2 objectives', [
      { path: 'values', message: '1 value for 2 objectives' },
    ]);
    for (const body of [
      () => {
        throw err;
      },
      async () => {
        throw err;
      },
    ]) {
      const answer = await overRpc(body);
      expect(answer.ok).toBe(false);
      // What crosses RPC is a copy: the answer survives structured cloning whole.
      const copy = structuredClone(answer);
      const thrown = (() => {
        try {
          valueOf(copy);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(thrown).toBeInstanceOf(DomainError);
      expect(fields(thrown as DomainError)).toEqual(fields(err));
    }
  });

  it('rethrows any other error as it is', async () => {
    const err = new RangeError('a bug');
    await expect(overRpc(() => Promise.reject(err))).rejects.toBe(err);
  });
});

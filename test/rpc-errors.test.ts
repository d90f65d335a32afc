// A DomainError raised in a study's coordinator crosses the Durable Object RPC boundary whole
// (kind, detail, issues) as an answer (RpcResult, src/coordinator/errors.ts), not an exception the
// runtime would log as uncaught in the object, and reaches the client as the same problem: its
// issues' paths come from the object, not from reading the detail.
import { describe, expect, it } from 'vitest';
import { env, type DurableObject } from 'cloudflare:workers';
import { api, json, post } from './helpers';
import { DomainError } from '../src/contract/errors';
import { NO_SUCH_STUDY, valueOf, type RpcResult } from '../src/coordinator/errors';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

type Stub = DurableObjectStub<StudyCoordinator>;
const stubOf = (name: string) => env.STUDY.get(env.STUDY.idFromName(name)) as Stub;

/** The DomainError that `p` answers (it must resolve, with a refusal, never reject). */
async function refusal(p: Promise<RpcResult<unknown>>): Promise<DomainError> {
  const r = await p;
  if (r.ok) throw new Error('expected a refusal');
  try {
    valueOf(r);
  } catch (err) {
    return err as DomainError;
  }
  throw new Error('valueOf returned a refusal');
}

async function clientStudy() {
  const study = await json(
    post('/v1/studies', {
      name: 'rpc-errors',
      space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
    }),
  );
  await post(`/v1/studies/${study.id}/ask`);
  return study.id as string;
}

async function runnerStudy() {
  const study = await json(
    post('/v1/studies', {
      name: 'rpc-errors-runner',
      space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
      executor: { kind: 'runner' },
    }),
  );
  return study.id as string;
}

/** The 422 of a runner study's tell without its lease token. */
const TOKEN_REQUIRED =
  'required: the trials of a runner study are leased, and only the lease holder reports and tells';

describe('errors of the coordinator across RPC', () => {
  it('an invalid call: its kind, detail and issues come back from the object as an answer', async () => {
    const id = await runnerStudy();
    // Resolved, not rejected: an expected refusal is not an exception in the object.
    const answer = await stubOf(id).tell(0, { value: 1 });
    expect(answer.ok).toBe(false);
    const err = await refusal(Promise.resolve(answer));
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({
      kind: 'invalid',
      detail: `lease_token: ${TOKEN_REQUIRED}`,
      issues: [{ path: 'lease_token', message: TOKEN_REQUIRED }],
    });
  });

  it('a conflict about the lease token: its issue names lease_token', async () => {
    const id = await clientStudy();
    const e = await refusal(stubOf(id).tell(0, { value: 1 }, { lease_token: 't' }));
    expect(e).toMatchObject({
      kind: 'conflict',
      detail: expect.stringMatching(/^lease token not valid for trial 0/),
    });
    expect(e?.issues).toEqual([{ path: 'lease_token', message: e?.detail }]);
  });

  it('a conflict: no issues', async () => {
    const id = await clientStudy();
    await post(`/v1/studies/${id}/trials/0/tell`, { value: 1 });
    const e = await refusal(stubOf(id).tell(0, { value: 2 }));
    expect(e?.kind).toBe('conflict');
    expect(e?.detail).toMatch(/^trial 0 was already told/);
    expect(e?.issues).toBeUndefined();
  });

  it('reaches the client as the same problem, the issue at the same path', async () => {
    const id = await runnerStudy();
    const res = await api(`/v1/studies/${id}/trials/0/tell`, { body: { value: 1 } });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      type: 'https://stride.dev/problems/invalid-request',
      title: 'Unprocessable Content',
      status: 422,
      detail: `lease_token: ${TOKEN_REQUIRED}`,
      errors: [{ path: 'lease_token', message: TOKEN_REQUIRED }],
    });
  });

  /**
   * Every RPC method of the coordinator (the Record fails to compile when one is missing), called
   * on an object that holds no study: each that reads the study answers a not_found.
   */
  const CALLS: Record<
    Exclude<keyof StudyCoordinator, keyof DurableObject>,
    ((s: Stub) => Promise<RpcResult<unknown>>) | null
  > = {
    create: null, // makes the study
    flush: null, // reads no study
    flushStatements: null, // reads no study
    pendingWrites: null, // reads no study
    getStudy: (s) => s.getStudy(),
    listTrials: (s) => s.listTrials(),
    summary: (s) => s.summary({}),
    enqueue: (s) => s.enqueue({ lr: 0.1 }),
    ask: (s) => s.ask(1),
    suggestParam: (s) => s.suggestParam(0, 'x', { type: 'float', low: 0, high: 1 }, undefined),
    setAttrs: (s) => s.setAttrs(null, { user_attrs: { a: 1 } }),
    lease: (s) => s.lease({ name: null }),
    heartbeat: (s) => s.heartbeat(0, 't'),
    release: (s) => s.release(0, 't'),
    run: (s) => s.run(),
    report: (s) => s.report(0, 0, 1),
    reportBatch: (s) => s.reportBatch(0, [{ step: 0, value: 1 }]),
    tell: (s) => s.tell(0, { value: 1 }),
    retryStorage: (s) => s.retryStorage(),
  };
  it.each(Object.entries(CALLS).filter(([, call]) => call !== null))(
    '%s without a study: a not_found answer',
    async (name, call) => {
      const err = await refusal(call!(stubOf(`rpc-errors-empty-${name}`)));
      expect(err).toMatchObject({ kind: 'not_found', detail: NO_SUCH_STUDY });
    },
  );
});

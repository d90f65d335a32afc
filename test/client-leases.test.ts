// Leases of a client study's trials (executor "client"): every ask puts the trial under a lease;
// reports, heartbeats and the tell extend or end it; an expired one sends the trial back to
// waiting, and the next ask hands it out again on its next attempt. Calls without a token (clients
// from before client leases) act for the trial's first lease. Inside workerd against the real
// Durable Object (its alarm) and D1.
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';
import type { StudyConfig } from '../src/contract/study';

const SPACE = { lr: { type: 'float', low: 1e-5, high: 1, log: true } };

async function createClientStudy(
  executor: Record<string, unknown> | null = {},
  overrides: Record<string, unknown> = {},
) {
  const res = await api('/v1/studies', {
    body: {
      name: 'client-leases',
      space: SPACE,
      sampler: { name: 'random', seed: 5 },
      max_trials: 4,
      ...(executor === null ? {} : { executor: { kind: 'client', ...executor } }),
      ...overrides,
    },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

/** Make every running lease of a study expire now, then run the study's alarm (as test/runners.test.ts does). */
async function expireLeases(studyId: string) {
  const stub = stubOf(studyId);
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      `UPDATE trials SET lease_expires_at = ? WHERE state = 'running'`,
      Date.now() - 1,
    );
  });
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

/** What D1 holds of a trial, after the study's outbox is written. */
async function d1Trial(studyId: string, number: number) {
  await stubOf(studyId).flush();
  return env.DB.prepare(
    'SELECT state, attempts, error FROM trials WHERE study_id = ? AND number = ?',
  )
    .bind(studyId, number)
    .first<{ state: string; attempts: number; error: string | null }>();
}

const trialPath = (studyId: string, n: number, call: string) =>
  `/v1/studies/${studyId}/trials/${n}/${call}`;

describe('client studies: leases', () => {
  it('a client study leases each asked trial: 300 s and 3 attempts unless the executor says', async () => {
    const plain = await createClientStudy(null);
    expect(plain.executor).toEqual({ kind: 'client', lease_seconds: 300, max_attempts: 3 });
    const before = Date.now();
    const t = await json(post(`/v1/studies/${plain.id}/ask`));
    expect(t).toMatchObject({ number: 0, state: 'running', attempts: 1, runner: null });
    expect(t.lease.token).toMatch(/^lease_/);
    expect(t.lease).toMatchObject({ attempt: 1, heartbeat_seconds: 100 });
    expect(Date.parse(t.lease.expires_at)).toBeGreaterThanOrEqual(before + 300_000);
    // The object's alarm is set for the expiry.
    const alarm = await runInDurableObject(stubOf(plain.id), (_i, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).toBe(Date.parse(t.lease.expires_at));
    // A batch ask gives each trial its own lease.
    const batch = await json(post(`/v1/studies/${plain.id}/ask-batch`, { count: 2 }));
    expect(batch.trials.map((b: any) => b.lease.attempt)).toEqual([1, 1]);
    expect(new Set([t, ...batch.trials].map((b: any) => b.lease.token)).size).toBe(3);
    // The listing of trials shows no lease: the token is the asker's.
    const listed = await json(api(`/v1/studies/${plain.id}/trials`));
    expect(listed.trials[0].lease).toBeUndefined();

    const bad = await post('/v1/studies', {
      name: 'x',
      space: SPACE,
      executor: { kind: 'client', lease_seconds: 1, max_attempts: 0 },
    });
    expect(bad.status).toBe(422);
    const paths = ((await bad.json()) as any).errors.map((e: any) => e.path).sort();
    expect(paths).toEqual(['executor.lease_seconds', 'executor.max_attempts']);
  });

  it('an expired client trial waits, is asked again with attempts 2, and refuses the stale holder with a 409 naming lease_token', async () => {
    const study = await createClientStudy({ lease_seconds: 30, max_attempts: 2 });
    const a = await json(post(`/v1/studies/${study.id}/ask`));
    expect(a.lease).toMatchObject({ attempt: 1, heartbeat_seconds: 10 });
    // Reports with the token, and without one (the first lease), are taken.
    const report = (body: Record<string, unknown>) => post(trialPath(study.id, 0, 'report'), body);
    expect((await report({ step: 1, value: 0.9, lease_token: a.lease.token })).status).toBe(200);
    expect((await report({ step: 2, value: 0.8 })).status).toBe(200);

    // The process holding it dies: no heartbeat, report or tell. The alarm expires the lease.
    await expireLeases(study.id);
    const waiting = (await json(api(`/v1/studies/${study.id}/trials`))).trials[0];
    expect(waiting).toMatchObject({ number: 0, state: 'waiting', attempts: 1, intermediate: [] });
    expect(waiting.error).toBe('attempt 1: lease expired');
    // D1, the durable copy, agrees.
    expect(await d1Trial(study.id, 0)).toEqual({
      state: 'waiting',
      attempts: 1,
      error: 'attempt 1: lease expired',
    });
    // The old holder's heartbeat and report are refused: its lease expired.
    const late = await post(trialPath(study.id, 0, 'heartbeat'), { lease_token: a.lease.token });
    expect(late.status).toBe(409);
    expect(((await late.json()) as any).detail).toMatch(/expired/);

    // The next ask hands the same trial out again: same params, a new token, attempt 2.
    const b = await json(post(`/v1/studies/${study.id}/ask`));
    expect(b).toMatchObject({ number: 0, params: a.params, state: 'running', attempts: 2 });
    expect(b.lease.attempt).toBe(2);
    expect(b.lease.token).not.toBe(a.lease.token);
    expect(await d1Trial(study.id, 0)).toMatchObject({ state: 'running', attempts: 2 });

    // The stale holder's tell (its token, or none: a call without a token acts for attempt 1) is
    // a 409 problem naming lease_token, never an overwrite.
    for (const body of [{ value: 0.1, lease_token: a.lease.token }, { value: 0.1 }]) {
      const stale = await post(trialPath(study.id, 0, 'tell'), body);
      expect(stale.status).toBe(409);
      expect(stale.headers.get('content-type')).toMatch(/problem\+json/);
      const problem = (await stale.json()) as any;
      expect(problem.errors).toEqual([expect.objectContaining({ path: 'lease_token' })]);
      expect(problem.detail).toMatch(
        'lease_token' in body
          ? /stale lease token: trial 0 was leased again \(attempt 2\)/
          : /lease_token required/,
      );
    }
    const staleReport = await report({ step: 3, value: 0.5, lease_token: a.lease.token });
    expect(staleReport.status).toBe(409);
    expect(((await staleReport.json()) as any).errors[0].path).toBe('lease_token');
    expect((await json(api(`/v1/studies/${study.id}/trials`))).trials[0].state).toBe('running');

    // The holder of attempt 2 tells it; the next ask is a new trial.
    const told = await json(
      post(trialPath(study.id, 0, 'tell'), { value: 0.25, lease_token: b.lease.token }),
    );
    expect(told).toMatchObject({ number: 0, state: 'complete', value: 0.25, attempts: 2 });
    const c = await json(post(`/v1/studies/${study.id}/ask`));
    expect(c.number).toBe(1);

    // max_attempts 2: a trial whose second lease expires too fails with the reason.
    await expireLeases(study.id);
    expect((await json(post(`/v1/studies/${study.id}/ask`))).number).toBe(1);
    await expireLeases(study.id);
    const failed = (await json(api(`/v1/studies/${study.id}/trials`))).trials[1];
    expect(failed).toMatchObject({ number: 1, state: 'failed', attempts: 2 });
    expect(failed.error).toBe('lease expired on attempt 2 of 2: no heartbeat or result in time');
    expect(await d1Trial(study.id, 1)).toMatchObject({ state: 'failed', attempts: 2 });
  });

  it('a read answers no lease past its expiry, even when the alarm that expires leases was lost', async () => {
    // optimize(resume=True) waits for a dead holder's trial by reading the study; if the object's
    // alarm never comes (late, or dropped after its retries), the trial must not stay running.
    const study = await createClientStudy({ lease_seconds: 5 });
    const t = await json(post(`/v1/studies/${study.id}/ask`));
    expect(t.state).toBe('running');
    await runInDurableObject(stubOf(study.id), async (_i, state) => {
      state.storage.sql.exec(
        `UPDATE trials SET lease_expires_at = ? WHERE state = 'running'`,
        Date.now() - 1,
      );
      await state.storage.deleteAlarm();
    });
    const listed = await json(api(`/v1/studies/${study.id}/trials`));
    expect(listed.trials.find((x: any) => x.number === t.number)).toMatchObject({
      state: 'waiting',
      attempts: 1,
    });
    // The expiry is the alarm's (the next ask hands it out on its second attempt), and the alarm
    // is set again for what is still due.
    const again = await json(post(`/v1/studies/${study.id}/ask`));
    expect(again).toMatchObject({ number: t.number, attempts: 2 });
    const alarm = await runInDurableObject(stubOf(study.id), (_i, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).toBe(Date.parse(again.lease.expires_at));
  });

  it('heartbeats and reports extend a client lease; a late tell is taken while nobody else holds the trial', async () => {
    const study = await createClientStudy({ lease_seconds: 60 });
    const a = await json(post(`/v1/studies/${study.id}/ask`));
    const expires0 = Date.parse(a.lease.expires_at);
    await new Promise((r) => setTimeout(r, 5));
    const hb = await json(
      post(trialPath(study.id, 0, 'heartbeat'), { lease_token: a.lease.token }),
    );
    expect(hb.lease).toMatchObject({ token: a.lease.token, attempt: 1, heartbeat_seconds: 20 });
    expect(Date.parse(hb.lease.expires_at)).toBeGreaterThan(expires0);
    const wrong = await post(trialPath(study.id, 0, 'heartbeat'), { lease_token: 'lease_nope' });
    expect(wrong.status).toBe(409);
    expect(((await wrong.json()) as any).errors[0].path).toBe('lease_token');

    // Expired, and nobody asked for it since: a late tell, without a token as before, is taken.
    await expireLeases(study.id);
    const told = await json(post(trialPath(study.id, 0, 'tell'), { value: 0.5 }));
    expect(told).toMatchObject({ number: 0, state: 'complete', value: 0.5 });
    expect((await json(post(`/v1/studies/${study.id}/ask`))).number).toBe(1);

    // Release hands a trial back without spending an attempt; the next ask returns it.
    const b = await json(post(`/v1/studies/${study.id}/ask`));
    const released = await json(
      post(trialPath(study.id, b.number, 'release'), { lease_token: b.lease.token }),
    );
    expect(released).toMatchObject({ number: b.number, state: 'waiting', attempts: 0 });
    const again = await json(post(`/v1/studies/${study.id}/ask`));
    expect(again).toMatchObject({ number: b.number, attempts: 1 });
  });

  it('a client without tokens asks, reports and tells as before', async () => {
    const study = await createClientStudy();
    const t = await json(post(`/v1/studies/${study.id}/ask`));
    expect(await json(post(trialPath(study.id, 0, 'report'), { step: 0, value: 1 }))).toEqual({
      should_prune: false,
    });
    expect(
      await json(post(trialPath(study.id, 0, 'report'), { points: [{ step: 1, value: 0.5 }] })),
    ).toEqual({ should_prune: false });
    const told = await json(post(trialPath(study.id, 0, 'tell'), { value: 0.5 }));
    expect(told).toMatchObject({
      number: 0,
      state: 'complete',
      intermediate: [{ step: 0 }, { step: 1 }],
    });
    // The same tell again, with or without the token, answers the same.
    expect(
      await json(post(trialPath(study.id, 0, 'tell'), { value: 0.5, lease_token: t.lease.token })),
    ).toEqual(told);
    // An enqueued trial is told only after it is asked.
    await post(`/v1/studies/${study.id}/trials`, { params: { lr: 0.01 } });
    const early = await post(trialPath(study.id, 1, 'tell'), { value: 1 });
    expect(early.status).toBe(409);
    expect(((await early.json()) as any).detail).toMatch(/waiting: ask for it/);
  });

  it('a client study stored before client leases gets the default lease', async () => {
    const study = await createClientStudy({ lease_seconds: 30 });
    const stub = stubOf(study.id);
    // As stored before this change: {kind: 'client'} alone.
    await runInDurableObject(stub, (instance) => {
      const store = (instance as unknown as { store: { config: StudyConfig } }).store as {
        config: StudyConfig;
        saveConfig(c: StudyConfig): void;
      };
      store.saveConfig({ ...store.config, executor: { kind: 'client' } });
    });
    const before = Date.now();
    const t = await json(post(`/v1/studies/${study.id}/ask`));
    expect(t.lease.heartbeat_seconds).toBe(100);
    expect(Date.parse(t.lease.expires_at)).toBeGreaterThanOrEqual(before + 300_000);
    expect((await json(api(`/v1/studies/${study.id}`))).executor).toEqual({ kind: 'client' });
  });

  it('a runner key reaches no client trial, lease token or not', async () => {
    const study = await createClientStudy();
    const t = await json(post(`/v1/studies/${study.id}/ask`));
    for (const call of ['heartbeat', 'release', 'tell']) {
      const res = await post(
        trialPath(study.id, 0, call),
        { lease_token: t.lease.token, ...(call === 'tell' ? { value: 1 } : {}) },
        env.STRIDE_RUNNER_KEY,
      );
      expect(res.status).toBe(404);
    }
  });
});

// The coordinator's in-memory history (store.ts `frozen`): what the samplers and pruners see must
// be what the object's SQLite holds, after every kind of write (asks, tells, reports, enqueues,
// leases, heartbeats, releases, lease expiries), and a restarted object (a new store on the same
// storage, memory gone) must rebuild the same history. Inside workerd against the real Durable Object.
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import { CoordinatorStore, frozenTrial } from '../src/coordinator/store';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const RUNNER_KEY = env.STRIDE_RUNNER_KEY;
const SPACE = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  momentum: { type: 'float', low: 0, high: 0.99 },
};
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

/**
 * The history through the object's cache, next to the trials read afresh from its SQLite and the
 * history a new store on the same storage (a restarted object) builds.
 */
async function histories(studyId: string) {
  return runInDurableObject(stubOf(studyId), (instance, state) => {
    const store = (instance as unknown as { store: CoordinatorStore }).store;
    // Copied here: a trial's values are read (from this object's storage) when first asked for.
    const copy = (ts: readonly object[]) => ts.map((t) => ({ ...t }));
    const cached = copy(store.frozen());
    const sqlite = state.storage.sql
      .exec(`SELECT * FROM trials ORDER BY number`)
      .toArray()
      .map((r) => {
        const points = state.storage.sql
          .exec(`SELECT step, value FROM points WHERE trial = ? ORDER BY step`, r.number)
          .toArray() as { step: number; value: number }[];
        // The cache also carries each trial's latest point (`last`), for the samplers.
        return { ...frozenTrial(r as never, points), last: points.at(-1) ?? null };
      });
    const restarted = new CoordinatorStore(state.storage.sql);
    restarted.migrate();
    return { cached, sqlite, restarted: copy(restarted.frozen()) };
  });
}

/** The cache agrees with SQLite and with a rebuild; returns the history. */
async function expectInSync(studyId: string) {
  const h = await histories(studyId);
  expect(h.cached).toEqual(h.sqlite);
  expect(h.restarted).toEqual(h.sqlite);
  return h.sqlite;
}

describe('the coordinator keeps the trial history in memory, in step with its SQLite', () => {
  it('a client study: enqueues, asks, reports, tells (complete, pruned, failed)', async () => {
    const created = await api('/v1/studies', {
      body: {
        name: 'cache',
        space: SPACE,
        sampler: { name: 'tpe', seed: 5, n_startup_trials: 2 },
        pruner: { name: 'median', n_startup_trials: 1 },
        max_trials: null,
      },
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as any).id;
    // Read the history once so the cache exists before the writes below (each then marks its row).
    expect(await expectInSync(id)).toEqual([]);

    expect(
      (await post(`/v1/studies/${id}/trials`, { params: { lr: 0.01, momentum: 0.9 } })).status,
    ).toBe(201);
    let h = await expectInSync(id);
    expect(h.map((t) => t.state)).toEqual(['waiting']);

    const asked = await json(post(`/v1/studies/${id}/ask-batch`, { count: 3 }));
    expect(asked.trials.map((t: any) => t.number)).toEqual([0, 1, 2]);
    h = await expectInSync(id);
    expect(h.map((t) => t.state)).toEqual(['running', 'running', 'running']);

    expect((await post(`/v1/studies/${id}/trials/0/report`, { step: 1, value: 0.5 })).status).toBe(
      200,
    );
    expect((await post(`/v1/studies/${id}/trials/0/report`, { step: 2, value: 0.4 })).status).toBe(
      200,
    );
    expect(
      (
        await post(`/v1/studies/${id}/trials/1/report`, {
          points: [
            { step: 1, value: 0.7 },
            { step: 2, value: 0.6 },
          ],
        })
      ).status,
    ).toBe(200);
    h = await expectInSync(id);
    expect(h[0].intermediate).toEqual([
      { step: 1, value: 0.5 },
      { step: 2, value: 0.4 },
    ]);

    expect((await post(`/v1/studies/${id}/trials/0/tell`, { value: 0.4 })).status).toBe(200);
    expect((await post(`/v1/studies/${id}/trials/1/tell`, { state: 'pruned' })).status).toBe(200);
    expect(
      (await post(`/v1/studies/${id}/trials/2/tell`, { state: 'failed', error: 'nan' })).status,
    ).toBe(200);
    h = await expectInSync(id);
    expect(h.map((t) => [t.state, t.value])).toEqual([
      ['complete', 0.4],
      ['pruned', null],
      ['failed', null],
    ]);

    // Asks that learn from that history, each told at once: the cache follows every step.
    for (let k = 0; k < 4; k++) {
      const t = await json(post(`/v1/studies/${id}/ask`));
      expect(t.number).toBe(3 + k);
      expect(
        (await post(`/v1/studies/${id}/trials/${t.number}/tell`, { value: 1 + k })).status,
      ).toBe(200);
    }
    h = await expectInSync(id);
    expect(h.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(h.slice(3).map((t) => t.value)).toEqual([1, 2, 3, 4]);
  });

  it('a runner study: leases, heartbeats, reports, releases and expired leases', async () => {
    const created = await api('/v1/studies', {
      body: {
        name: 'cache-runner',
        space: SPACE,
        sampler: { name: 'tpe', seed: 6 },
        max_trials: 6,
        executor: { kind: 'runner', max_attempts: 2, lease_seconds: 60 },
      },
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as any).id;
    expect(await expectInSync(id)).toEqual([]);
    const grant = async () => {
      const res = await post(
        '/v1/runners/lease',
        { study_id: id, runner: { name: 'gpu-0' } },
        RUNNER_KEY,
      );
      expect(res.status).toBe(200);
      return (await res.json()) as any;
    };
    const g0 = await grant();
    const g1 = await grant();
    const g2 = await grant();
    expect([g0.trial.number, g1.trial.number, g2.trial.number]).toEqual([0, 1, 2]);
    await expectInSync(id);

    expect(
      (
        await post(
          `/v1/studies/${id}/trials/0/heartbeat`,
          { lease_token: g0.lease.token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await post(
          `/v1/studies/${id}/trials/0/report`,
          { step: 1, value: 0.8, lease_token: g0.lease.token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await post(
          `/v1/studies/${id}/trials/1/report`,
          { step: 1, value: 0.9, lease_token: g1.lease.token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    let h = await expectInSync(id);
    expect(h[0].intermediate).toEqual([{ step: 1, value: 0.8 }]);

    // Released: waiting again, its values dropped.
    expect(
      (
        await post(
          `/v1/studies/${id}/trials/1/release`,
          { lease_token: g1.lease.token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    h = await expectInSync(id);
    expect([h[1].state, h[1].intermediate]).toEqual(['waiting', []]);

    expect(
      (
        await post(
          `/v1/studies/${id}/trials/2/tell`,
          { value: 0.3, lease_token: g2.lease.token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    // Every running lease expires (written straight to SQLite, as time passing would), then the alarm runs.
    await runInDurableObject(stubOf(id), (_i, state) => {
      state.storage.sql.exec(
        `UPDATE trials SET lease_expires_at = ? WHERE state = 'running'`,
        Date.now() - 1,
      );
    });
    expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
    h = await expectInSync(id);
    expect(h.map((t) => t.state)).toEqual(['waiting', 'waiting', 'complete']);
    expect(h[0].intermediate).toEqual([]);

    // Leased again (the waiting ones first), expired once more: the second attempt fails trial 0.
    const g3 = await grant();
    expect(g3.trial.number).toBe(0);
    await runInDurableObject(stubOf(id), (_i, state) => {
      state.storage.sql.exec(
        `UPDATE trials SET lease_expires_at = ? WHERE state = 'running'`,
        Date.now() - 1,
      );
    });
    expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
    h = await expectInSync(id);
    expect(h.map((t) => t.state)).toEqual(['failed', 'waiting', 'complete']);

    // A new trial from the sampler after all that: its history is the one above.
    const g4 = await grant();
    const g5 = await grant();
    expect([g4.trial.number, g5.trial.number]).toEqual([1, 3]);
    expect(
      (
        await post(
          `/v1/studies/${id}/trials/3/tell`,
          { value: 0.2, lease_token: g5.lease.token },
          RUNNER_KEY,
        )
      ).status,
    ).toBe(200);
    h = await expectInSync(id);
    expect(h.map((t) => t.state)).toEqual(['failed', 'running', 'complete', 'complete']);
  });
});

// The coordinator's write-through to D1: whatever the object holds reaches D1
// (under D1's 100 bound variables per statement), and one write D1 refuses for
// good is parked as a dead letter while the rest of the study keeps flowing.
import { valueOf } from '../src/coordinator/errors';
import { describe, it, expect, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import { PARK_AFTER, type StudyCoordinator } from '../src/coordinator/study-coordinator';
import { intermediateWrite, syncedAfter } from '../src/db/intermediate';

const SPACE = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
};

async function createStudy(overrides: Record<string, unknown> = {}) {
  const res = await api('/v1/studies', {
    body: { name: 'd1', space: SPACE, sampler: { name: 'random', seed: 5 }, ...overrides },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

/** D1's copy of a study's trials, shaped like the object's (params, intermediate values in step order). */
async function d1Trials(studyId: string) {
  const trials = await env.DB.prepare(
    'SELECT number, state, value, "values", constraints, sampler, error FROM trials WHERE study_id = ? ORDER BY number',
  )
    .bind(studyId)
    .all<any>();
  const params = await env.DB.prepare(
    'SELECT number, name, value FROM trial_params WHERE study_id = ?',
  )
    .bind(studyId)
    .all<any>();
  const inter = await env.DB.prepare(
    'SELECT number, step, value FROM trial_intermediate_values WHERE study_id = ? ORDER BY number, step',
  )
    .bind(studyId)
    .all<any>();
  const byNumber = new Map<number, any>();
  for (const t of trials.results) {
    const parse = (v: string | null) => (v === null ? null : JSON.parse(v));
    byNumber.set(t.number, {
      ...t,
      values: parse(t.values),
      constraints: parse(t.constraints),
      params: {},
      intermediate: [],
    });
  }
  for (const p of params.results) byNumber.get(p.number).params[p.name] = JSON.parse(p.value);
  for (const p of inter.results)
    byNumber.get(p.number).intermediate.push({ step: p.step, value: p.value });
  return [...byNumber.values()];
}

/** The object's trials, in the shape of d1Trials. */
async function liveTrials(studyId: string) {
  const trials = valueOf(await stubOf(studyId).listTrials());
  return trials.map((t) => ({
    number: t.number,
    state: t.state,
    value: t.value,
    values: t.values,
    constraints: t.constraints,
    sampler: t.sampler,
    error: t.error,
    params: t.params,
    intermediate: t.intermediate,
  }));
}

async function d1Study(studyId: string) {
  return env.DB.prepare(
    'SELECT state, n_trials, best_trial_number, best_value FROM studies WHERE id = ?',
  )
    .bind(studyId)
    .first<any>();
}

describe('D1 write-through: every size reaches D1', () => {
  // Calls run inside the object, so its flushes coalesce as they do under load.
  it('writes a trial with 1,000 reported steps (D1 binds 100 variables per statement), equal to the object', async () => {
    const study = await createStudy({ pruner: { name: 'median' } });
    const stub = stubOf(study.id);
    await runInDurableObject(stub, async (obj: StudyCoordinator) => {
      valueOf(await obj.ask(2));
      for (let step = 0; step < 1000; step++) valueOf(await obj.report(0, step, 1 / (step + 1)));
      for (let step = 0; step < 30; step++) valueOf(await obj.report(1, step * 10, 2 / (step + 1)));
      valueOf(await obj.tell(0, { value: 0.001 }));
    });
    await stub.flush();
    expect(await stub.pendingWrites()).toBe(0);
    const stored = await d1Trials(study.id);
    expect(stored.map((t) => [t.number, t.state, t.intermediate.length])).toEqual([
      [0, 'complete', 1000],
      [1, 'running', 30],
    ]);
    expect(stored).toEqual(await liveTrials(study.id));
    expect((valueOf(await stub.getStudy()) as any).storage).toEqual({
      d1: 'ok',
      pending: 0,
      parked: [],
      reason: null,
      next_attempt_at: null,
    });
  });

  it('writes a study with 1,000 trials, equal to the object', async () => {
    const study = await createStudy({ max_trials: 1000 });
    const stub = stubOf(study.id);
    for (let k = 0; k < 10; k++) expect(valueOf(await stub.ask(100)).result.length).toBe(100);
    // Most complete, some pruned or failed; trial 999 stays running.
    await runInDurableObject(stub, async (obj: StudyCoordinator) => {
      for (let n = 0; n < 999; n++) {
        if (n % 97 === 5)
          valueOf(await obj.tell(n, { state: 'failed', error: `diverged at ${n}` }));
        else if (n % 89 === 7) valueOf(await obj.tell(n, { state: 'pruned' }));
        else valueOf(await obj.tell(n, { value: (n * 37) % 101 }));
      }
    });
    // Each flush issues at most FLUSH_STATEMENTS statements: 1,000 trials take several.
    expect(await drain(stub)).toBeGreaterThan(1);
    const stored = await d1Trials(study.id);
    expect(stored).toHaveLength(1000);
    expect(stored[999].state).toBe('running');
    expect(stored.filter((t) => t.state === 'failed')).toHaveLength(11);
    expect(stored).toEqual(await liveTrials(study.id));
    const view = valueOf(await stub.getStudy()) as any;
    expect(await d1Study(study.id)).toEqual({
      state: 'running',
      n_trials: 1000,
      best_trial_number: view.best_trial.number,
      best_value: view.best_trial.value,
    });
    expect(view.storage.d1).toBe('ok');
  });
});

/** Flush until the outbox is empty (at most 500 flushes); how many it took. */
async function drain(stub: DurableObjectStub<StudyCoordinator>): Promise<number> {
  let flushes = 0;
  while ((await stub.pendingWrites()) > 0 && flushes < 500) {
    await stub.flush();
    flushes++;
  }
  expect(await stub.pendingWrites()).toBe(0);
  return flushes;
}

/** Make every failed write due now (as if its backoff had passed). */
async function backoffPassed(stub: DurableObjectStub<StudyCoordinator>) {
  await runInDurableObject(stub, (_obj, state) => {
    state.storage.sql.exec(`UPDATE outbox_failures SET next_at = 0`);
  });
}

describe('D1 write-through: objectives, constraints and samplers', () => {
  it('holds what the object holds of values, constraints and sampler, for one objective and for several', async () => {
    for (const objectives of [
      {},
      { directions: ['minimize', 'maximize'], metrics: ['loss', 'acc'] },
    ]) {
      const study = await createStudy({ sampler: { name: 'auto', seed: 2 }, ...objectives });
      const several = 'directions' in objectives;
      await post(`/v1/studies/${study.id}/trials`, { params: { lr: 0.01, optimizer: 'adam' } });
      await post(`/v1/studies/${study.id}/ask-batch`, { count: 5 });
      const result = (v: number) => (several ? { values: [v, 1 - v] } : { value: v });
      await post(`/v1/studies/${study.id}/trials/0/tell`, { ...result(0.5), constraints: [-1, 0] });
      await post(`/v1/studies/${study.id}/trials/1/tell`, {
        ...result(0.25),
        constraints: [2, -3],
      });
      await post(`/v1/studies/${study.id}/trials/2/tell`, { state: 'pruned' });
      await post(`/v1/studies/${study.id}/trials/3/tell`, { ...result(0.75), constraints: [0, 0] });
      const stub = stubOf(study.id);
      await stub.flush();
      expect(await stub.pendingWrites()).toBe(0);
      const stored = await d1Trials(study.id);
      expect(stored).toEqual(await liveTrials(study.id));
      expect(stored.map((t) => t.sampler === null)).toEqual([true, false, false, false, false]);
      expect(stored[1]).toMatchObject({
        values: several ? [0.25, 0.75] : [0.25],
        value: several ? null : 0.25,
        constraints: [2, -3],
      });
      expect(stored[2]).toMatchObject({ state: 'pruned', values: null, constraints: null });
      expect(stored[4]).toMatchObject({ state: 'running', values: null, constraints: null });
      const row = await d1Study(study.id);
      expect(row.best_trial_number).toBe(several ? null : 0);
    }
  });
});

describe('D1 write-through: a long trial appends its steps', () => {
  it('decides append or replace from what D1 holds, and takes at most the limit', () => {
    const pts = (...steps: number[]) => steps.map((step) => ({ step, value: step / 10 }));
    const source = (points: { step: number; value: number }[]) => ({
      count: points.length,
      read: (after: number | null, limit: number) =>
        points.filter((p) => after === null || p.step > after).slice(0, limit),
      countAfter: (after: number) => points.filter((p) => p.step > after).length,
    });
    expect(intermediateWrite(source(pts(0, 1, 2)), null, 100)).toEqual({
      mode: 'replace',
      points: pts(0, 1, 2),
      partial: false,
    });
    expect(intermediateWrite(source(pts(0, 1, 2, 3)), { maxStep: 1, count: 2 }, 100)).toEqual({
      mode: 'append',
      points: pts(2, 3),
      partial: false,
    });
    expect(intermediateWrite(source(pts(0, 1)), { maxStep: 1, count: 2 }, 100)).toEqual({
      mode: 'append',
      points: [],
      partial: false,
    });
    // A step reported out of order below D1's last one, or values cleared by an expired lease: rewrite them all.
    expect(intermediateWrite(source(pts(0, 1, 2, 5)), { maxStep: 5, count: 3 }, 100)).toEqual({
      mode: 'replace',
      points: pts(0, 1, 2, 5),
      partial: false,
    });
    expect(intermediateWrite(source([]), { maxStep: 5, count: 3 }, 100)).toEqual({
      mode: 'replace',
      points: [],
      partial: false,
    });
    // A backlog over the limit goes in pieces: the first by step now, the rest appended later.
    const first = intermediateWrite(source(pts(0, 1, 2, 3, 4)), null, 2);
    expect(first).toEqual({ mode: 'replace', points: pts(0, 1), partial: true });
    const synced = syncedAfter(null, first);
    expect(synced).toEqual({ maxStep: 1, count: 2 });
    const second = intermediateWrite(source(pts(0, 1, 2, 3, 4)), synced, 2);
    expect(second).toEqual({ mode: 'append', points: pts(2, 3), partial: true });
    expect(syncedAfter(synced, second)).toEqual({ maxStep: 3, count: 4 });
  });

  it('adds only the new steps on each flush (D1 never deletes a reported step of a running trial), and still follows out-of-order steps and cleared values', async () => {
    const study = await createStudy({ name: 'append' });
    const stub = stubOf(study.id);
    valueOf(await stub.ask(1));
    await stub.flush();
    // D1 refuses any delete of this study's intermediate values: a write that rewrote them would be refused.
    await env.DB.exec(
      `CREATE TRIGGER no_rewrite BEFORE DELETE ON trial_intermediate_values WHEN OLD.study_id = '${study.id}' BEGIN SELECT RAISE(ABORT, 'rewrite refused'); END`,
    );
    try {
      for (let step = 1; step <= 120; step++) {
        valueOf(await stub.report(0, step, 1 / step));
        if (step % 10 === 0) await stub.flush();
      }
      await stub.flush();
      expect((valueOf(await stub.getStudy()) as any).storage.d1).toBe('ok');
      expect((await d1Trials(study.id))[0].intermediate.length).toBe(120);
    } finally {
      await env.DB.exec('DROP TRIGGER no_rewrite');
    }
    // A step below the last one D1 has: the next write rewrites them, and D1 still equals the object.
    valueOf(await stub.report(0, 0, 2));
    await stub.flush();
    expect(await d1Trials(study.id)).toEqual(await liveTrials(study.id));
    expect((await d1Trials(study.id))[0].intermediate.length).toBe(121);
  });

  it('clears the D1 copy of the intermediate values when an expired lease sends the trial back', async () => {
    const study = await createStudy({
      name: 'expire',
      executor: { kind: 'runner', lease_seconds: 5 },
    });
    const grant = (await (
      await api('/v1/runners/lease', { body: { study_id: study.id }, key: 'test-runner-key' })
    ).json()) as any;
    const stub = stubOf(study.id);
    for (let step = 1; step <= 30; step++)
      valueOf(await stub.report(0, step, 1 / step, { lease_token: grant.lease.token }));
    await stub.flush();
    expect((await d1Trials(study.id))[0].intermediate.length).toBe(30);
    await runInDurableObject(stub, async (_obj, state) => {
      state.storage.sql.exec('UPDATE trials SET lease_expires_at = 1 WHERE number = 0');
    });
    await runDurableObjectAlarm(stub);
    await stub.flush();
    const stored = await d1Trials(study.id);
    expect(stored[0].state).toBe('waiting');
    expect(stored[0].intermediate).toEqual([]);
    expect(stored).toEqual(await liveTrials(study.id));
  });
});

describe('D1 write-through: one write D1 refuses', () => {
  it('parks it as a dead letter after PARK_AFTER attempts while the rest flows, shows it on the study, and retries it on request', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const study = await createStudy();
    const stub = stubOf(study.id);
    // D1 refuses trial 3 of this study, and only it.
    const trigger = `refuse_${study.id.toLowerCase()}`;
    await env.DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON trials WHEN NEW.study_id = '${study.id}' AND NEW.number = 3 BEGIN SELECT RAISE(ABORT, 'trial 3 refused'); END`,
    ).run();
    try {
      valueOf(await stub.ask(5));
      for (const n of [0, 1, 2, 3, 4]) valueOf(await stub.tell(n, { value: n + 1 }));
      await stub.flush();
      // Every other trial and the study row are in D1; trial 3 waits for its retry.
      expect((await d1Trials(study.id)).map((t) => [t.number, t.state, t.value])).toEqual([
        [0, 'complete', 1],
        [1, 'complete', 2],
        [2, 'complete', 3],
        [4, 'complete', 5],
      ]);
      expect(await d1Study(study.id)).toMatchObject({ n_trials: 5, best_trial_number: 0 });
      let storage = (valueOf(await stub.getStudy()) as any).storage;
      expect(storage).toMatchObject({
        d1: 'behind',
        pending: 1,
        parked: [],
        reason: expect.stringContaining('trial 3 refused'),
      });
      expect(Date.parse(storage.next_attempt_at)).toBeGreaterThan(Date.now());

      // Retried by alarm with backoff, then parked.
      for (let attempt = 2; attempt <= PARK_AFTER; attempt++) {
        await backoffPassed(stub);
        expect(await runDurableObjectAlarm(stub)).toBe(true);
      }
      storage = (valueOf(await stub.getStudy()) as any).storage;
      expect(storage).toMatchObject({
        d1: 'parked',
        pending: 0,
        reason: expect.stringContaining('trial 3 refused'),
        next_attempt_at: null,
      });
      expect(storage.parked).toEqual([
        {
          kind: 'trial',
          ref: 3,
          reason: expect.stringContaining('trial 3 refused'),
          attempts: PARK_AFTER,
          at: expect.any(String),
        },
      ]);
      const logged = errors.mock.calls
        .map((c) => c.join(' '))
        .find((line) => line.includes('parked as a dead letter'));
      expect(logged).toContain(`study ${study.id}: trial 3 parked`);
      expect(logged).toContain('trial 3 refused');
      // The HTTP view shows it too.
      expect((await json(api(`/v1/studies/${study.id}`))).storage.d1).toBe('parked');

      // Later writes flow past it; a parked trial stays parked (no write per change).
      valueOf(await stub.ask(1));
      valueOf(await stub.tell(5, { value: 0.5 }));
      await stub.flush();
      expect(await stub.pendingWrites()).toBe(0);
      expect((await d1Trials(study.id)).map((t) => t.number)).toEqual([0, 1, 2, 4, 5]);
      expect(await d1Study(study.id)).toMatchObject({
        n_trials: 6,
        best_trial_number: 5,
        best_value: 0.5,
      });

      // Retried while D1 still refuses: a fresh round of attempts (behind again, not ok).
      const still = await json(post(`/v1/studies/${study.id}/storage/retry`));
      expect(still.storage).toMatchObject({
        d1: 'behind',
        parked: [],
        reason: expect.stringContaining('trial 3 refused'),
      });

      // D1 takes it again: the retry writes it, and D1 agrees with the object.
      await env.DB.prepare(`DROP TRIGGER ${trigger}`).run();
      const res = await post(`/v1/studies/${study.id}/storage/retry`);
      expect(res.status).toBe(200);
      expect((await res.json()) as any).toMatchObject({
        id: study.id,
        storage: { d1: 'ok', pending: 0, parked: [], reason: null },
      });
      expect(await d1Trials(study.id)).toEqual(await liveTrials(study.id));
      expect(await d1Study(study.id)).toMatchObject({ n_trials: 6, best_trial_number: 5 });
    } finally {
      await env.DB.prepare(`DROP TRIGGER IF EXISTS ${trigger}`).run();
      errors.mockRestore();
    }
  });

  it('never parks anything while D1 refuses the study row (an outage): it stays behind and catches up', async () => {
    const study = await createStudy();
    const stub = stubOf(study.id);
    await stub.flush();
    type Swappable = { env: Env; realDb?: D1Database };
    await runInDurableObject(stub, (instance) => {
      const inst = instance as unknown as Swappable;
      inst.realDb = inst.env.DB;
      inst.env.DB = new Proxy(inst.realDb, {
        get: () => () => {
          throw new Error('D1 unavailable');
        },
      }) as D1Database;
    });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      valueOf(await stub.ask(3));
      for (let i = 0; i < PARK_AFTER + 2; i++) {
        await backoffPassed(stub);
        await stub.flush();
      }
    } finally {
      errors.mockRestore();
    }
    const behind = (valueOf(await stub.getStudy()) as any).storage;
    expect(behind).toMatchObject({
      d1: 'behind',
      pending: 4,
      parked: [],
      reason: expect.stringContaining('D1 unavailable'),
    });
    expect(behind.next_attempt_at).not.toBeNull();
    await runInDurableObject(stub, (instance) => {
      const inst = instance as unknown as Swappable;
      inst.env.DB = inst.realDb!;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((valueOf(await stub.getStudy()) as any).storage).toMatchObject({
      d1: 'ok',
      pending: 0,
      parked: [],
    });
    expect(await d1Trials(study.id)).toEqual(await liveTrials(study.id));
  });
});

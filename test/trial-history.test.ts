// What a trial answers of its history beyond its state (issue 24): the expiry of its lease while it
// runs, the heartbeats it sent (how many, the latest), and where and why it was pruned: the
// pruner's first prune decision, or a tell of pruned without one. Inside workerd against the real
// Durable Object (its SQLite and alarm).
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const SPACE = { x: { type: 'float', low: 0, high: 1 } };
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;
const path = (id: string, n: number, call: string) => `/v1/studies/${id}/trials/${n}/${call}`;
/** Trial `n` as the listing and the summary answer it (both must agree). */
async function trial(id: string, n: number) {
  const listed = (await json(api(`/v1/studies/${id}/trials`))).trials[n];
  const summed = (await json(api(`/v1/studies/${id}/summary`))).trials[n];
  for (const k of [
    'lease_expires_at',
    'heartbeats',
    'last_heartbeat_at',
    'pruned_at_step',
    'prune_reason',
  ])
    expect(summed[k], k).toEqual(listed[k]);
  return listed;
}

describe('a trial’s lease, heartbeats and pruning', () => {
  it('answers the lease expiry while it runs, counts heartbeats and keeps the latest, and drops the expiry at the tell', async () => {
    const study = await json(
      post('/v1/studies', {
        name: 'history',
        space: SPACE,
        executor: { kind: 'client', lease_seconds: 60 },
      }),
    );
    const before = Date.now();
    const t = await json(post(`/v1/studies/${study.id}/ask`));
    let seen = await trial(study.id, 0);
    expect(seen).toMatchObject({ heartbeats: 0, last_heartbeat_at: null, pruned_at_step: null });
    expect(seen.lease_expires_at).toBe(t.lease.expires_at);
    expect(Date.parse(seen.lease_expires_at)).toBeGreaterThanOrEqual(before + 60_000);
    for (let i = 0; i < 2; i++) {
      const hb = await post(path(study.id, 0, 'heartbeat'), { lease_token: t.lease.token });
      expect(hb.status).toBe(200);
    }
    seen = await trial(study.id, 0);
    expect(seen.heartbeats).toBe(2);
    expect(Date.parse(seen.last_heartbeat_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(seen.lease_expires_at)).toBeGreaterThanOrEqual(
      Date.parse(seen.last_heartbeat_at) + 60_000,
    );
    // A report extends the lease but is not a heartbeat.
    await post(path(study.id, 0, 'report'), { step: 1, value: 0.5, lease_token: t.lease.token });
    expect((await trial(study.id, 0)).heartbeats).toBe(2);
    await post(path(study.id, 0, 'tell'), { value: 0.5, lease_token: t.lease.token });
    seen = await trial(study.id, 0);
    expect(seen).toMatchObject({ state: 'complete', lease_expires_at: null, heartbeats: 2 });
    expect(seen.prune_reason).toBeNull();
  });

  it('keeps the pruner’s first prune decision (step and why), says a tell of pruned without one, and forgets it when the lease expires', async () => {
    const study = await json(
      post('/v1/studies', {
        name: 'pruned',
        space: SPACE,
        sampler: { name: 'random', seed: 2 },
        pruner: { name: 'median', n_startup_trials: 1, n_warmup_steps: 0 },
        executor: { kind: 'client', lease_seconds: 60 },
      }),
    );
    const run = async (values: number[]) => {
      const t = await json(post(`/v1/studies/${study.id}/ask`));
      const answers: boolean[] = [];
      for (const [i, value] of values.entries())
        answers.push(
          (await json(post(path(study.id, t.number, 'report'), { step: i + 1, value })))
            .should_prune,
        );
      return { t, answers };
    };
    const first = await run([1, 0.5, 0.2]);
    await post(path(study.id, first.t.number, 'tell'), { value: 0.2 });
    // Worse than the complete trial at every step: pruned at its first report, and the decision kept.
    const worse = await run([3, 2.5]);
    expect(worse.answers).toEqual([true, true]);
    let seen = await trial(study.id, worse.t.number);
    expect(seen.state).toBe('running');
    expect(seen.pruned_at_step).toBe(1);
    expect(seen.prune_reason).toMatch(
      /^the median pruner answered should_prune at step 1: value 3, best so far 3$/,
    );
    await post(path(study.id, worse.t.number, 'tell'), { state: 'pruned' });
    seen = await trial(study.id, worse.t.number);
    expect(seen).toMatchObject({ state: 'pruned', pruned_at_step: 1 });
    expect(seen.prune_reason).toMatch(/median pruner/);
    // Told pruned with no decision: its last step, and that the caller said so.
    const good = await run([0.9, 0.4]);
    expect(good.answers).toEqual([false, false]);
    await post(path(study.id, good.t.number, 'tell'), { state: 'pruned' });
    seen = await trial(study.id, good.t.number);
    expect(seen).toMatchObject({ state: 'pruned', pruned_at_step: 2 });
    expect(seen.prune_reason).toMatch(/^told pruned by its caller/);
    // A decision on an attempt whose lease then expires: the trial waits again, with none.
    const lost = await run([5]);
    expect(lost.answers).toEqual([true]);
    const stub = stubOf(study.id);
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        `UPDATE trials SET lease_expires_at = ? WHERE state = 'running'`,
        Date.now() - 1,
      );
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    seen = await trial(study.id, lost.t.number);
    expect(seen).toMatchObject({
      state: 'waiting',
      lease_expires_at: null,
      pruned_at_step: null,
      prune_reason: null,
    });
    // Told pruned before any report: no step.
    const again = await json(post(`/v1/studies/${study.id}/ask`));
    expect(again.number).toBe(lost.t.number);
    const told = await post(path(study.id, again.number, 'tell'), {
      state: 'pruned',
      lease_token: again.lease.token,
    });
    expect(told.status).toBe(200);
    seen = await trial(study.id, again.number);
    expect(seen).toMatchObject({ pruned_at_step: null });
    expect(seen.prune_reason).toMatch(/^told pruned by its caller/);
  });
});

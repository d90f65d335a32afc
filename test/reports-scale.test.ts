// Reports at scale (issue 22, items 2 and 3): a trial's values are rows of the object's SQLite,
// the median pruner judges a report from statistics kept in memory, both survive a restart (the
// memory is rebuilt from SQLite), and a large backlog reaches D1 over several flushes, each under
// the bound on D1 statements per invocation. Inside workerd against the real Durable Object and D1.
import { valueOf } from '../src/coordinator/errors';
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import { FLUSH_STATEMENTS } from '../src/coordinator/outbox';
import type { CoordinatorStore } from '../src/coordinator/store';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const SPACE = { x: { type: 'float', low: 0, high: 1 } };
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

async function createStudy(pruner: Record<string, unknown> = { name: 'none' }) {
  const res = await api('/v1/studies', {
    body: { name: 'scale', space: SPACE, sampler: { name: 'random', seed: 3 }, pruner },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}

/** The object as after a restart: its memory (history, summaries, per-step statistics) rebuilt from SQLite. */
const restart = (id: string) =>
  runInDurableObject(stubOf(id), (obj: StudyCoordinator) => {
    (obj as unknown as { store: CoordinatorStore }).store.migrate();
  });

const pointsTable = (id: string, trial: number) =>
  runInDurableObject(stubOf(id), (_obj: StudyCoordinator, state) =>
    state.storage.sql
      .exec<{
        step: number;
        value: number;
      }>(`SELECT step, value FROM points WHERE trial = ? ORDER BY step`, trial)
      .toArray(),
  );

const d1Count = async (id: string) =>
  (await env.DB.prepare(
    'SELECT COUNT(*) AS n FROM trial_intermediate_values WHERE study_id = ? AND number = 0',
  )
    .bind(id)
    .first<{ n: number }>())!.n;

describe('reports: values in rows, statistics in memory', () => {
  it('prunes from the per-step statistics, the same before and after a restart', async () => {
    const study = await createStudy({ name: 'median', n_startup_trials: 2 });
    const report = (n: number, step: number, value: number) =>
      json(post(`/v1/studies/${study.id}/trials/${n}/report`, { step, value }));
    // Two complete trials: at step s they reported 1/(s+1) and 2/(s+1), median 1.5/(s+1).
    for (const scale of [1, 2]) {
      const t = await json(post(`/v1/studies/${study.id}/ask`));
      for (let step = 0; step < 20; step++) await report(t.number, step, scale / (step + 1));
      await post(`/v1/studies/${study.id}/trials/${t.number}/tell`, { value: scale / 20 });
    }
    const good = await json(post(`/v1/studies/${study.id}/ask`));
    const bad = await json(post(`/v1/studies/${study.id}/ask`));
    for (let step = 0; step < 10; step++) {
      expect(await report(good.number, step, 1.2 / (step + 1))).toEqual({ should_prune: false });
      expect(await report(bad.number, step, step < 5 ? 1 / (step + 1) : 1.8)).toEqual({
        should_prune: step >= 5 && 1.8 > 0.75 && 1 / 5 > 1.5 / (step + 1),
      });
    }
    await restart(study.id);
    // After the restart the statistics come back from SQLite: the same answers.
    expect(await report(good.number, 10, 1.2 / 11)).toEqual({ should_prune: false });
    expect(await report(bad.number, 10, 1.8)).toEqual({ should_prune: true });
    // The values are the rows, and the answer shows them all.
    const rows = await pointsTable(study.id, good.number);
    expect(rows).toEqual(Array.from({ length: 11 }, (_, s) => ({ step: s, value: 1.2 / (s + 1) })));
    const listed = await json(api(`/v1/studies/${study.id}/trials`));
    expect(listed.trials[good.number].intermediate).toEqual(rows);
  });

  it('moves the values an object kept in its JSON column into rows when it starts', async () => {
    const study = await createStudy();
    await post(`/v1/studies/${study.id}/ask`);
    const blob = [
      { step: 0, value: 3 },
      { step: 4, value: 2 },
    ];
    await runInDurableObject(stubOf(study.id), (_obj: StudyCoordinator, state) => {
      state.storage.sql.exec(
        `UPDATE trials SET intermediate = ? WHERE number = 0`,
        JSON.stringify(blob),
      );
    });
    await restart(study.id);
    expect(await pointsTable(study.id, 0)).toEqual(blob);
    // The next report merges with them (a different value at a held step is still a 409).
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/report`, { step: 4, value: 9 })).status,
    ).toBe(409);
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/report`, { step: 5, value: 1 })).status,
    ).toBe(200);
    const listed = await json(api(`/v1/studies/${study.id}/trials`));
    expect(listed.trials[0].intermediate).toEqual([...blob, { step: 5, value: 1 }]);
  });
});

describe('reports reach D1 coalesced', () => {
  it('flushes at most once per REPORT_FLUSH_MS for a burst of reports; the alarm writes the rest', async () => {
    const study = await createStudy();
    const stub = stubOf(study.id);
    await post(`/v1/studies/${study.id}/ask`);
    await stub.flush();
    const flushesBefore = (await stub.flushStatements()).length;
    // A burst of 20 reports, each answered before the next is sent: one flush per REPORT_FLUSH_MS
    // (a few, on a slow machine), not one per report.
    for (let step = 0; step < 20; step++)
      expect(
        (await post(`/v1/studies/${study.id}/trials/0/report`, { step, value: 1 / (step + 1) }))
          .status,
      ).toBe(200);
    expect((await stub.flushStatements()).length - flushesBefore).toBeLessThanOrEqual(5);
    // The rest is due by the alarm, which writes it.
    if ((await stub.pendingWrites()) > 0) await runDurableObjectAlarm(stub);
    expect(await stub.pendingWrites()).toBe(0);
    expect(await d1Count(study.id)).toBe(20);
  });
});

describe('D1 statements per invocation are bounded', () => {
  it('a 100,000-step backlog reaches D1 over several flushes, each under the bound, and D1 ends equal to the object', async () => {
    const study = await createStudy();
    const stub = stubOf(study.id);
    await post(`/v1/studies/${study.id}/ask`);
    await stub.flush();
    // 100,000 steps held by the object and not yet in D1 (as after a long outage), then one report.
    await runInDurableObject(stub, (obj: StudyCoordinator, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < 99998)
         INSERT INTO points (trial, step, value) SELECT 0, x, 1.0 / (x + 1) FROM s`,
      );
      (obj as unknown as { store: CoordinatorStore }).store.migrate();
    });
    expect(
      (await post(`/v1/studies/${study.id}/trials/0/report`, { step: 99_999, value: 1e-5 })).status,
    ).toBe(200);
    // Flush until D1 has it all (the alarm flushes too, at once, while writes are left).
    let flushes = 0;
    while ((await stub.pendingWrites()) > 0 && flushes < 400) {
      await stub.flush();
      flushes++;
    }
    expect(await stub.pendingWrites()).toBe(0);
    // Every flush (an invocation: a request's, or the alarm's) issued at most FLUSH_STATEMENTS,
    // and there were as many as 100,000 rows of 25 per statement need.
    const log = await stub.flushStatements();
    expect(Math.max(...log)).toBeLessThanOrEqual(FLUSH_STATEMENTS);
    expect(log.filter((n) => n > 0).length).toBeGreaterThanOrEqual(
      Math.ceil(100_000 / (25 * FLUSH_STATEMENTS)),
    );
    expect(await d1Count(study.id)).toBe(100_000);
    const d1 = await env.DB.prepare(
      'SELECT step, value FROM trial_intermediate_values WHERE study_id = ? AND number = 0 ORDER BY step',
    )
      .bind(study.id)
      .all<{ step: number; value: number }>();
    expect(d1.results).toEqual(await pointsTable(study.id, 0));
    expect((valueOf(await stub.getStudy()) as any).storage.d1).toBe('ok');
  }, 300_000);
});

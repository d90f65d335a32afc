// POST /v1/studies/{id}/trials/{number}/report with {"points": [...]}: a batch of intermediate
// values in one call (one coordinator call), taken whole or not at all, judged by the pruner at
// each of its steps, with the body's problems named by path.
import { valueOf } from '../src/coordinator/errors';
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { api, json, post } from './helpers';
import { MAX_INTERMEDIATE, type StudyCoordinator } from '../src/coordinator/study-coordinator';
import type { CoordinatorStore } from '../src/coordinator/store';

const SPACE = { x: { type: 'float', low: 0, high: 1 } };

async function createStudy(overrides: Record<string, unknown> = {}) {
  const res = await api('/v1/studies', {
    body: { name: 'batch', space: SPACE, sampler: { name: 'random', seed: 3 }, ...overrides },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as any;
}
const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;
const pts = (steps: number[], value: (s: number) => number) =>
  steps.map((step) => ({ step, value: value(step) }));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const intermediateOf = async (studyId: string, n: number) =>
  (await json(api(`/v1/studies/${studyId}/trials`))).trials[n].intermediate;

describe('report: a batch of points', () => {
  it('stores every point in step order, in batches after single reports, and D1 gets the same', async () => {
    const study = await createStudy();
    await post(`/v1/studies/${study.id}/ask`);
    const url = `/v1/studies/${study.id}/trials/0/report`;
    expect(await json(post(url, { step: 0, value: 1 }))).toEqual({ should_prune: false });
    const first = await post(url, { points: pts(range(1, 1001), (s) => 1 / (s + 1)) });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ should_prune: false });
    expect(
      (await json(post(url, { points: pts(range(1001, 1500), (s) => 1 / (s + 1)) }))).should_prune,
    ).toBe(false);
    const expected = [{ step: 0, value: 1 }, ...pts(range(1, 1500), (s) => 1 / (s + 1))];
    expect(await intermediateOf(study.id, 0)).toEqual(expected);
    const stub = stubOf(study.id);
    // 1,500 values take two flushes (each bounded: FLUSH_STATEMENTS).
    for (let k = 0; k < 10 && (await stub.pendingWrites()) > 0; k++) await stub.flush();
    expect(await stub.pendingWrites()).toBe(0);
    const rows = await env.DB.prepare(
      'SELECT step, value FROM trial_intermediate_values WHERE study_id = ? AND number = 0 ORDER BY step',
    )
      .bind(study.id)
      .all<any>();
    expect(rows.results).toEqual(expected);
  });

  it('is idempotent, and taken whole or not at all: a point that conflicts is a 409 naming it, and nothing of the batch is written', async () => {
    const study = await createStudy();
    await post(`/v1/studies/${study.id}/ask`);
    const url = `/v1/studies/${study.id}/trials/0/report`;
    const batch = { points: pts([0, 1, 2], (s) => s + 0.5) };
    expect((await post(url, batch)).status).toBe(200);
    // The same batch again (a retry after a lost answer), and a batch that repeats a step with its value.
    expect((await post(url, batch)).status).toBe(200);
    expect(
      (
        await post(url, {
          points: [
            { step: 2, value: 2.5 },
            { step: 2, value: 2.5 },
            { step: 3, value: 3.5 },
          ],
        })
      ).status,
    ).toBe(200);
    const conflict = await post(url, {
      points: [
        { step: 4, value: 4.5 },
        { step: 5, value: 5.5 },
        { step: 1, value: 9 },
      ].sort((a, b) => a.step - b.step),
    });
    expect(conflict.status).toBe(409);
    const problem = (await conflict.json()) as any;
    expect(problem.detail).toMatch(/^points\.0: trial 0 already reported 1\.5 at step 1$/);
    // Steps 4 and 5 came in the refused batch: neither was stored.
    expect(await intermediateOf(study.id, 0)).toEqual(pts([0, 1, 2, 3], (s) => s + 0.5));

    await post(`/v1/studies/${study.id}/trials/0/tell`, { value: 3.5 });
    // After the tell, a repeat is answered and changes nothing; a new point is a 409.
    expect(await json(post(url, batch))).toEqual({ should_prune: false });
    const late = await post(url, { points: pts([3, 4], (s) => s + 0.5) });
    expect(late.status).toBe(409);
    expect(((await late.json()) as any).detail).toMatch(
      /trial 0 is complete; reports are taken while it runs/,
    );
  });

  it('answers 422 at the path for a body that is neither one value nor a batch, or a batch out of order', async () => {
    const study = await createStudy();
    await post(`/v1/studies/${study.id}/ask`);
    const url = `/v1/studies/${study.id}/trials/0/report`;
    const cases: [unknown, string, RegExp][] = [
      [{ points: [] }, 'points', /at least one point/],
      [
        { step: 1, value: 0.5, points: [{ step: 2, value: 0.4 }] },
        'step',
        /step and value, or points, not both/,
      ],
      [{ value: 0.5, points: [{ step: 2, value: 0.4 }] }, 'value', /not both/],
      [{ points: pts([1, 2, 2, 1], () => 0.5) }, 'points.3.step', /steps must increase: 1 after 2/],
      [
        {
          points: [
            { step: 3, value: 0.5 },
            { step: 3, value: 0.6 },
          ],
        },
        'points.1.value',
        /step 3 twice with different values/,
      ],
      [
        { points: [{ step: 1, value: 'NaN' }] },
        'points.0.value',
        /NaN and Infinity are not JSON numbers; report only finite values/,
      ],
      [{ points: [{ step: -1, value: 0.5 }] }, 'points.0.step', /./],
      [{ points: [{ step: 1, valeu: 0.5 }] }, 'points.0.valeu', /did you mean 'value'/],
      [
        { points: pts(range(0, 1001), () => 0.5) },
        'points',
        /at most 1000 points per report, got 1001/,
      ],
      [{ step: 1 }, 'value', /required/],
      [{ value: 0.5 }, 'step', /required \(or send points/],
      [{}, 'step', /required/],
    ];
    for (const [body, path, message] of cases) {
      const res = await post(url, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      const p = (await res.json()) as any;
      const issue = p.errors.find((e: any) => e.path === path);
      expect(issue, `${path} in ${JSON.stringify(p.errors)}`).toBeDefined();
      expect(issue.message).toMatch(message);
    }
    expect(await intermediateOf(study.id, 0)).toEqual([]);
  });

  it('judges the trial at each step of the batch: a rung or a check step inside the batch prunes, where the last step alone would not', async () => {
    // ASHA: rungs at steps 1, 3, 9. Trial 0 completes with a good curve; trial 1 is bad at
    // step 1 (its rung) and better than trial 0 by step 2, which is no rung: only the step-1
    // judgement prunes.
    const asha = await createStudy({
      pruner: { name: 'asha', min_resource: 1, reduction_factor: 3 },
    });
    await post(`/v1/studies/${asha.id}/ask-batch`, { count: 3 });
    const base = `/v1/studies/${asha.id}/trials`;
    await post(`${base}/0/report`, { points: pts([0, 1, 2], (s) => 1 - s * 0.1) });
    await post(`${base}/0/tell`, { value: 0.8 });
    expect(
      await json(
        post(`${base}/1/report`, {
          points: [
            { step: 0, value: 1 },
            { step: 1, value: 5 },
            { step: 2, value: 0.1 },
          ],
        }),
      ),
    ).toEqual({ should_prune: true });
    // The same history judged at its latest step only (one report of step 2 after single reports of 0 and 1) would keep it.
    await post(`${base}/2/report`, { step: 0, value: 1 });
    await runInDurableObject(stubOf(asha.id), async (obj: StudyCoordinator, state) => {
      state.storage.sql.exec(
        `UPDATE trials SET intermediate = ? WHERE number = 2`,
        JSON.stringify([
          { step: 0, value: 1 },
          { step: 1, value: 5 },
        ]),
      );
      expect(valueOf(await obj.report(2, 2, 0.1)).should_prune).toBe(false);
    });

    // Median with 5 warm-up steps and interval_steps 5: steps 5 and 10 are checked. A batch of steps 3..7 that is bad at
    // step 5 prunes, though its last step (7) is not a check step.
    const median = await createStudy({
      pruner: { name: 'median', n_startup_trials: 1, n_warmup_steps: 5, interval_steps: 5 },
    });
    await post(`/v1/studies/${median.id}/ask-batch`, { count: 2 });
    const m = `/v1/studies/${median.id}/trials`;
    await post(`${m}/0/report`, { points: pts(range(0, 11), () => 0.5) });
    await post(`${m}/0/tell`, { value: 0.5 });
    expect(await json(post(`${m}/1/report`, { points: pts(range(0, 3), () => 0.6) }))).toEqual({
      should_prune: false,
    });
    expect(await json(post(`${m}/1/report`, { points: pts(range(3, 8), () => 0.7) }))).toEqual({
      should_prune: true,
    });
  });

  it('a good batch is kept, and the same pruner prunes a bad one: should_prune turns true at the batch that goes bad', async () => {
    const study = await createStudy({ pruner: { name: 'median', n_startup_trials: 2 } });
    await post(`/v1/studies/${study.id}/ask-batch`, { count: 3 });
    const base = `/v1/studies/${study.id}/trials`;
    for (const n of [0, 1]) {
      await post(`${base}/${n}/report`, {
        points: pts(range(0, 200), (s) => 1 / (s + 1) + n * 0.001),
      });
      await post(`${base}/${n}/tell`, { value: 0.005 });
    }
    // As good as the best for 100 steps, then a plateau at 0.01: the median of the others drops
    // below it at step 105.
    const answers = [];
    for (const from of [0, 50, 100, 150]) {
      answers.push(
        (
          await json(
            post(`${base}/2/report`, {
              points: pts(range(from, from + 50), (s) => (s < 100 ? 1 / (s + 1) : 0.01)),
            }),
          )
        ).should_prune,
      );
    }
    expect(answers).toEqual([false, false, true, true]);
  });

  it(`keeps at most ${MAX_INTERMEDIATE} values per trial: past that a report is a 409 that says so, and nothing of it is stored`, async () => {
    const study = await createStudy();
    await post(`/v1/studies/${study.id}/ask`);
    const url = `/v1/studies/${study.id}/trials/0/report`;
    // The trial already holds MAX_INTERMEDIATE - 1 values (steps 0, 1, ...), one row each.
    const count = () =>
      runInDurableObject(
        stubOf(study.id),
        (_obj: StudyCoordinator, state) =>
          state.storage.sql
            .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM points WHERE trial = 0`)
            .one().n,
      );
    await runInDurableObject(stubOf(study.id), async (obj: StudyCoordinator, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < ?)
         INSERT INTO points (trial, step, value) SELECT 0, x, 1.0 / (x + 1) FROM s`,
        MAX_INTERMEDIATE - 2,
      );
      // Written behind the object's back: its memory starts again from SQLite, as after a restart.
      (obj as unknown as { store: CoordinatorStore }).store.migrate();
    });
    const over = await post(url, {
      points: pts([MAX_INTERMEDIATE - 1, MAX_INTERMEDIATE], () => 0.1),
    });
    expect(over.status).toBe(409);
    expect(((await over.json()) as any).detail).toMatch(
      new RegExp(
        `holds ${MAX_INTERMEDIATE - 1} intermediate values and takes at most ${MAX_INTERMEDIATE}: report every few steps`,
      ),
    );
    expect(await count()).toBe(MAX_INTERMEDIATE - 1);
    // The last one that fits is taken, then a single report past it is refused too; a repeat is still answered.
    expect((await post(url, { points: pts([MAX_INTERMEDIATE - 1], () => 0.1) })).status).toBe(200);
    expect((await post(url, { step: MAX_INTERMEDIATE, value: 0.1 })).status).toBe(409);
    expect((await post(url, { step: 5, value: 1 / 6 })).status).toBe(200);
    expect(await count()).toBe(MAX_INTERMEDIATE);
  });

  it('carries the lease token for leased trials, as single reports do', async () => {
    const study = await createStudy({ executor: { kind: 'runner', lease_seconds: 60 } });
    const grant = await json(
      api('/v1/runners/lease', { body: { study_id: study.id }, key: 'test-runner-key' }),
    );
    const url = `/v1/studies/${study.id}/trials/${grant.trial.number}/report`;
    const batch = pts([0, 1], () => 0.5);
    const missing = await post(url, { points: batch });
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as any).errors[0].path).toBe('lease_token');
    expect(
      (await post(url, { points: batch, lease_token: 'not-the-token' }, 'test-runner-key')).status,
    ).toBe(409);
    expect(
      (await post(url, { points: batch, lease_token: grant.lease.token }, 'test-runner-key'))
        .status,
    ).toBe(200);
    expect(await intermediateOf(study.id, grant.trial.number)).toEqual(batch);
  });
});

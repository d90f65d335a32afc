// GET /v1/studies/{id}/summary: every trial without its reports (their count and the last),
// the median curve of the complete and pruned trials, and the full curves of at most `curves`
// trials: the running ones, the best complete ones, then the latest others; `trial` always.
import { describe, expect, it } from 'vitest';
import { api, json, post } from './helpers';

/** Trial i reports steps 1..(i + 1) of value (i + 1) / step; trials 0-3 complete with value i, 4 pruned, 5 running. */
async function seeded(direction = 'minimize') {
  const s = await json(
    post('/v1/studies', {
      name: 'summary',
      direction,
      space: { x: { type: 'float', low: 0, high: 1 } },
    }),
  );
  for (let i = 0; i < 6; i++) {
    await post(`/v1/studies/${s.id}/ask`);
    await post(`/v1/studies/${s.id}/trials/${i}/report`, {
      points: Array.from({ length: i + 1 }, (_, k) => ({ step: k + 1, value: (i + 1) / (k + 1) })),
    });
    if (i < 4) await post(`/v1/studies/${s.id}/trials/${i}/tell`, { value: i });
    else if (i === 4) await post(`/v1/studies/${s.id}/trials/${i}/tell`, { state: 'pruned' });
  }
  return s.id as string;
}

describe('study summary', () => {
  it('answers every trial without its reports, the median curve, and every curve when few', async () => {
    const id = await seeded();
    const s = await json(api(`/v1/studies/${id}/summary`));
    expect(s.trials.map((t: any) => [t.number, t.state, t.steps, t.last])).toEqual([
      [0, 'complete', 1, { step: 1, value: 1 }],
      [1, 'complete', 2, { step: 2, value: 1 }],
      [2, 'complete', 3, { step: 3, value: 1 }],
      [3, 'complete', 4, { step: 4, value: 1 }],
      [4, 'pruned', 5, { step: 5, value: 1 }],
      [5, 'running', 6, { step: 6, value: 1 }],
    ]);
    expect(s.trials.every((t: any) => !('intermediate' in t))).toBe(true);
    // Step 1: values 1..5 of trials 0-4 (the running one not counted): median 3.
    expect(s.median[0]).toEqual({ step: 1, value: 3 });
    expect(s.median[1]).toEqual({ step: 2, value: (1.5 + 2) / 2 }); // 1, 1.5, 2, 2.5
    expect(s.median.at(-1)).toEqual({ step: 5, value: 1 });
    expect(s.curves.map((c: any) => c.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.curves[2].intermediate).toHaveLength(3);
  });

  it('past `curves`, picks the running trials, then the best complete by the direction, then the latest; `trial` is always in', async () => {
    const id = await seeded();
    const pick = async (q: string) =>
      (await json(api(`/v1/studies/${id}/summary?${q}`))).curves.map((c: any) => c.number);
    // 4 curves: running 5; half of the 3 left (1) for the best complete (0); the latest other (4); then complete 1.
    expect(await pick('curves=4')).toEqual([0, 1, 4, 5]);
    expect(await pick('curves=0')).toEqual([]);
    expect(await pick('curves=0&trial=3')).toEqual([3]);
    const max = await seeded('maximize');
    const best = (await json(api(`/v1/studies/${max}/summary?curves=3`))).curves.map(
      (c: any) => c.number,
    );
    expect(await pick('curves=3')).toEqual([0, 4, 5]);
    expect(best).toEqual([3, 4, 5]); // maximizing, the best complete is 3, not 0
  });

  it('follows the reports, trials and results that come after a summary (the object keeps its aggregates up to date)', async () => {
    const id = await seeded();
    const first = await json(api(`/v1/studies/${id}/summary`));
    expect(first.median.map((p: any) => p.step)).toEqual([1, 2, 3, 4, 5]);
    // Trial 5 reports step 7 and is told pruned; a new trial reports two steps.
    await post(`/v1/studies/${id}/trials/5/report`, { step: 7, value: 10 });
    await post(`/v1/studies/${id}/trials/5/tell`, { state: 'pruned' });
    const t = await json(post(`/v1/studies/${id}/ask`));
    const reported = await post(`/v1/studies/${id}/trials/${t.number}/report`, {
      points: [
        { step: 1, value: 0.5 },
        { step: 2, value: 0.25 },
      ],
    });
    expect(reported.status).toBe(200);
    const s = await json(api(`/v1/studies/${id}/summary`));
    expect(s.trials.slice(5).map((x: any) => [x.number, x.state, x.steps, x.last])).toEqual([
      [5, 'pruned', 7, { step: 7, value: 10 }],
      [6, 'running', 2, { step: 2, value: 0.25 }],
    ]);
    // Trial 5's values join the median (step 1: 1..6, median 3.5; steps 6 and 7: trial 5 alone).
    expect(s.median[0]).toEqual({ step: 1, value: 3.5 });
    expect(s.median.slice(5)).toEqual([
      { step: 6, value: 1 },
      { step: 7, value: 10 },
    ]);
    expect(s.curves.find((c: any) => c.number === 6).intermediate).toEqual([
      { step: 1, value: 0.5 },
      { step: 2, value: 0.25 },
    ]);
  });

  it('refuses a bad query with a 422 naming it, and an unknown study with a 404', async () => {
    const id = await seeded();
    for (const [q, path] of [
      ['curves=5000', 'curves'],
      ['curves=-1', 'curves'],
      ['trial=x', 'trial'],
      ['curve=3', 'curve'],
    ]) {
      const r = await api(`/v1/studies/${id}/summary?${q}`);
      expect(r.status, q).toBe(422);
      expect(JSON.stringify(await r.json()), q).toContain(path);
    }
    expect((await api('/v1/studies/std_nope/summary')).status).toBe(404);
  });
});

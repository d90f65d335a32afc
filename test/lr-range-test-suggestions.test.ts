// GET /v1/lr-range-tests/{id}/suggestions: the lr/suggest answers made from a range test (their
// studies carry metadata.range_test_id), newest first, each with where it is answered and its best
// run so far. Inside workerd against the real Durable Objects and D1.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, post } from './helpers';
import type { StudyCoordinator } from '../src/coordinator/study-coordinator';

const stubOf = (id: string) =>
  env.STUDY.get(env.STUDY.idFromName(id)) as DurableObjectStub<StudyCoordinator>;

/** A sweep from 1e-6 to 10 with a valley around 1e-3 (null: diverged). */
function sweep(n = 60) {
  const lr = Array.from({ length: n }, (_, i) => 10 ** (-6 + (7 * i) / (n - 1)));
  const loss = lr.map((v) => (v > 3 ? null : 1 + 1 / (1 + v * 1e3) + 4 * v * v));
  return { lr, loss };
}

describe('the suggestions of a range test', () => {
  it('lists each lr/suggest made from the range test, newest first, with its page and best run; none of another range test', async () => {
    const optimizer = { name: 'sgd', momentum: 0.9 };
    const rt = await json(post('/v1/lr-range-tests', { curve: sweep(), optimizer }));
    const other = await json(post('/v1/lr-range-tests', { curve: sweep(50), optimizer }));
    expect(rt.id).not.toBe(other.id);
    const empty = await json(api(`/v1/lr-range-tests/${rt.id}/suggestions`));
    expect(empty).toEqual({ suggestions: [], next_cursor: null });

    const suggest = async (extra: Record<string, unknown>) => {
      const res = await post('/v1/lr/suggest', {
        range_test_id: rt.id,
        executor: { kind: 'client' },
        training: { epochs: 6 },
        ...extra,
      });
      const body = (await res.json()) as any;
      expect(res.status, JSON.stringify(body)).toBe(202);
      return body;
    };
    const grid = await suggest({ validation: { seeds: 1 } });
    const ladder = await suggest({ budget: { runs: 3 } });
    // One run of the grid, told: the best run so far.
    const t = await json(post(`/v1/studies/${grid.id}/ask`, {}));
    expect(
      (await post(`/v1/studies/${grid.id}/trials/${t.number}/tell`, { value: 0.5 })).status,
    ).toBe(200);
    await stubOf(grid.id).flush();
    await stubOf(ladder.id).flush();

    const res = await api(`/v1/lr-range-tests/${rt.id}/suggestions`);
    expect(res.status).toBe(200);
    const { suggestions, next_cursor } = (await res.json()) as any;
    expect(next_cursor).toBeNull();
    expect(suggestions.map((s: any) => s.id)).toEqual([ladder.id, grid.id]);
    expect(suggestions[0]).toMatchObject({
      executor: 'client',
      state: 'running',
      answered_at: `/v1/lr/suggest/${ladder.id}`,
      budget_runs: 3,
      horizon: { unit: 'epochs', length: 6 },
    });
    expect(suggestions[1]).toMatchObject({
      executor: 'client',
      answered_at: `/v1/lr/suggest/${grid.id}`,
      n_trials: 1,
      best_run: { lr: t.params.lr, value: 0.5 },
    });
    expect(Date.parse(suggestions[1].created_at)).toBeGreaterThan(0);
    // Each answers at its address.
    expect((await api(suggestions[0].answered_at)).status).toBe(200);
    // Pages: one at a time, the cursor going on to the older one.
    const first = await json(api(`/v1/lr-range-tests/${rt.id}/suggestions?limit=1`));
    expect(first.suggestions.map((s: any) => s.id)).toEqual([ladder.id]);
    const second = await json(
      api(`/v1/lr-range-tests/${rt.id}/suggestions?limit=1&cursor=${first.next_cursor}`),
    );
    expect(second.suggestions.map((s: any) => s.id)).toEqual([grid.id]);
    // Another range test has none of them.
    expect((await json(api(`/v1/lr-range-tests/${other.id}/suggestions`))).suggestions).toEqual([]);
  });

  it('answers 404 for an unknown range test and 422 naming a bad query field', async () => {
    const missing = await api('/v1/lr-range-tests/lrt_nope/suggestions');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).detail).toMatch(/lrt_nope/);
    const rt = await json(
      post('/v1/lr-range-tests', { curve: sweep(40), optimizer: { name: 'adam' } }),
    );
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limt=3', 'limt'],
    ]) {
      const r = await api(`/v1/lr-range-tests/${rt.id}/suggestions?${q}`);
      expect(r.status, q).toBe(422);
      expect(JSON.stringify(await r.json()), q).toContain(field);
    }
  });
});

// Every answer carries Server-Timing (src/api/timing.ts): `total` first, always, errors and 404s
// included; ask, ask-batch and tell add the study coordinator's `sampler` and `storage` shares,
// measured inside the object and sent back with the result. Local workerd gives real time, so
// the shares are real here and fit inside `total`.
import { describe, expect, it } from 'vitest';
import { api, json, post } from './helpers';

const FORMAT = /^[a-z]+;dur=\d+(\.\d{1,2})?(, [a-z]+;dur=\d+(\.\d{1,2})?)*$/;

/** The metrics of an answer's Server-Timing, in order: [name, ms]. */
function metrics(res: Response): [string, number][] {
  const header = res.headers.get('Server-Timing');
  expect(header, `${res.status} ${res.url}`).toMatch(FORMAT);
  return header!.split(', ').map((m) => {
    const [name, dur] = m.split(';dur=');
    return [name, Number(dur)];
  });
}

const SPACE = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  momentum: { type: 'float', low: 0, high: 0.99 },
};

async function study(sampler: string) {
  const res = await post('/v1/studies', {
    name: 'timing',
    space: SPACE,
    sampler: { name: sampler, seed: 3 },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

/** Sampler and storage come after total, and fit inside it. */
function coordinatorShares(res: Response): { total: number; sampler: number; storage: number } {
  const m = metrics(res);
  expect(m.map(([name]) => name)).toEqual(['total', 'sampler', 'storage']);
  const [[, total], [, sampler], [, storage]] = m;
  for (const v of [total, sampler, storage]) expect(v).toBeGreaterThanOrEqual(0);
  // Rounded to 0.01 ms each.
  expect(sampler + storage).toBeLessThanOrEqual(total + 0.02);
  return { total, sampler, storage };
}

describe('Server-Timing', () => {
  it('is on every answer, total only outside ask and tell: success, 401, 404, 422, no route', async () => {
    const answers = [
      await api('/health', { key: null }),
      await api('/openapi.json', { key: null }),
      await api('/v1/studies'),
      await api('/v1/studies', { key: null }),
      await api('/v1/studies/std_00000000000000000000000000'),
      await post('/v1/studies', { name: '' }),
      await api('/no/such/route'),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 401, 404, 422, 404]);
    for (const res of answers) {
      const m = metrics(res);
      expect(m.map(([name]) => name)).toEqual(['total']);
      expect(m[0][1]).toBeGreaterThanOrEqual(0);
    }
  });

  it("ask, ask-batch and tell add the coordinator's sampler and storage shares", async () => {
    const { id } = await study('tpe');
    // Local workerd's clock ticks in whole milliseconds: one call's share of less than that may
    // read 0 or 1, so the shares are checked summed over the calls.
    let sampled = 0;
    let stored = 0;
    // Some history, so that TPE's model has work to do: asked and told in one batch.
    const batch = await post(`/v1/studies/${id}/ask-batch`, { count: 20 });
    expect(batch.status).toBe(201);
    sampled += coordinatorShares(batch).sampler;
    const { trials } = (await batch.json()) as {
      trials: { number: number; params: { lr: number } }[];
    };
    for (const t of trials) {
      const told = await post(`/v1/studies/${id}/trials/${t.number}/tell`, {
        value: Math.log10(t.params.lr) ** 2,
      });
      expect(told.status).toBe(200);
      // A client study's tell starts no trial: nothing is sampled, the result is stored.
      const shares = coordinatorShares(told);
      expect(shares.sampler).toBe(0);
      stored += shares.storage;
    }
    for (let k = 0; k < 10; k++) {
      const ask = await post(`/v1/studies/${id}/ask`);
      expect(ask.status).toBe(201);
      const shares = coordinatorShares(ask);
      sampled += shares.sampler;
      stored += shares.storage;
      // A repeated tell changes nothing: the shares are there (nothing timed), the trial the same.
      const trial = await json(ask);
      expect(
        (await post(`/v1/studies/${id}/trials/${trial.number}/tell`, { value: 1 })).status,
      ).toBe(200);
      const again = await post(`/v1/studies/${id}/trials/${trial.number}/tell`, { value: 1 });
      expect(again.status).toBe(200);
      expect(coordinatorShares(again)).toMatchObject({ sampler: 0, storage: 0 });
    }
    expect(sampled).toBeGreaterThan(0);
    expect(stored).toBeGreaterThan(0);
  });

  it('an enqueued trial is asked without the sampler: its share is 0', async () => {
    const { id } = await study('random');
    expect(
      (await post(`/v1/studies/${id}/trials`, { params: { lr: 0.01, momentum: 0.9 } })).status,
    ).toBe(201);
    const ask = await post(`/v1/studies/${id}/ask`);
    expect(ask.status).toBe(201);
    expect(await json(ask)).toMatchObject({ number: 0, params: { lr: 0.01, momentum: 0.9 } });
    expect(coordinatorShares(ask).sampler).toBe(0);
  });

  it('an error from the coordinator answers total only', async () => {
    const { id } = await study('random');
    const res = await post(`/v1/studies/${id}/trials/5/tell`, { value: 1 });
    expect(res.status).toBe(404);
    expect(metrics(res).map(([name]) => name)).toEqual(['total']);
  });
});

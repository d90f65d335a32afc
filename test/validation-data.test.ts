// probe.data.validation: held-out rows sent with the data. Edge trials (and so lr/suggest's
// validation rounds) validate on them instead of cutting validation_split from the data; a set
// that is not as wide as the data is a 422 at its row, and its rows count toward the size limits.
// Inside workerd, against the real Durable Object, queue, D1 and TF.js WASM backend.
import { describe, it, expect } from 'vitest';
import { api, json, post } from './helpers';

/** Points on a grid over [-1, 1]^2, labelled by the sign of the first coordinate (flipped: the other way). */
function rows(n: number, offset: number, flipped = false) {
  const x = Array.from({ length: n }, (_, i) => [
    Math.sin(1.7 * (i + offset)) * 0.95,
    Math.cos(2.3 * (i + offset)) * 0.95,
  ]);
  const y = x.map(([a]) => (a > 0 !== flipped ? 1 : 0));
  return { x, y };
}

const TRAIN = rows(240, 0);
/** The same task with every label the other way: the training data contradicts it. */
const CONTRADICTED = rows(60, 1000, true);

const probeWith = (validation?: { x: number[][]; y: number[] }) => ({
  model: { kind: 'mlp', hidden: [16], activation: 'relu' },
  task: 'classification',
  data: { kind: 'inline', ...TRAIN, ...(validation ? { validation } : {}) },
  optimizer: { name: 'sgd', momentum: 0.9 },
  batch_size: 32,
  seed: 0,
});

/** One edge trial at lr 0.1 for 4 epochs; its per-epoch validation losses. */
async function trainOnce(probe: Record<string, unknown>) {
  const created = await post('/v1/studies', {
    name: 'validation-data',
    space: { lr: { type: 'categorical', choices: [0.1] } },
    sampler: { name: 'grid', seed: 0 },
    max_trials: 1,
    executor: { kind: 'edge', probe, epochs: 4 },
  });
  const study = (await created.json()) as any;
  expect(created.status, JSON.stringify(study)).toBe(201);
  expect((await post(`/v1/studies/${study.id}/run`)).status).toBe(202);
  const t0 = Date.now();
  while ((await json(api(`/v1/studies/${study.id}`))).state !== 'completed') {
    if (Date.now() - t0 > 60_000) throw new Error(`study ${study.id} did not complete`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { trials } = await json(api(`/v1/studies/${study.id}/trials`));
  expect(trials[0].state, JSON.stringify(trials[0])).toBe('complete');
  return trials[0].intermediate.map((p: any) => p.value) as number[];
}

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as { errors?: { path: string; message: string }[] };
}

describe('probe.data.validation', () => {
  it('edge trials report validation losses on the rows sent, not on a split of the data', async () => {
    const split = await trainOnce(probeWith());
    const sent = await trainOnce(probeWith(CONTRADICTED));
    expect(split).toHaveLength(4);
    expect(sent).toHaveLength(4);
    // On a split of its own data the model does well and improves; on labels the other way, the
    // better it learns the data the worse it does.
    expect(split[3]).toBeLessThan(0.35);
    expect(sent[3]).toBeGreaterThan(1.0);
    expect(sent[3]).toBeGreaterThan(sent[0]);
  });

  it("lr/suggest validates its candidates on them and trains on all the data's rows", async () => {
    const req = (validation?: { x: number[][]; y: number[] }) => ({
      probe: probeWith(validation),
      range: { steps: 60 },
      training: { epochs: 2 },
      validation: { max_candidates: 4, seeds: 1 },
    });
    const res = await post('/v1/lr/suggest', req(CONTRADICTED));
    const r = (await res.json()) as any;
    expect(res.status, JSON.stringify(r)).toBe(200);
    // 240 training rows (none held out) in batches of 32.
    expect(r.horizon.steps_per_epoch).toBe(8);
    const plain = await json(post('/v1/lr/suggest', req()));
    expect(plain.horizon.steps_per_epoch).toBe(6); // 192 of 240 after the 20% split
    const best = (v: any) =>
      Math.min(...v.validation.candidates.map((c: any) => c.value ?? Infinity));
    expect(best(plain)).toBeLessThan(0.35);
    expect(best(r)).toBeGreaterThan(best(plain) + 0.3);
  });

  it('a validation set not as wide as the data is a 422 at its row', async () => {
    const bad = { x: [[0.1, 0.2], [0.3]], y: [0, 1] };
    for (const path of ['/v1/lr-range-tests', '/v1/lr/suggest']) {
      const res = await api(path, { body: { probe: probeWith(bad), range: { steps: 20 } } });
      expect(res.status).toBe(422);
      const p = await problem(res);
      expect(p.errors).toEqual([
        {
          path: 'probe.data.validation.x.1',
          message: expect.stringMatching(
            /row has 1 values but the data has 2 features: validation rows must be as wide as the data's/,
          ),
        },
      ]);
    }
    const label = await api('/v1/lr-range-tests', {
      body: { probe: probeWith({ x: [[0.1, 0.2]], y: [5] }), range: { steps: 20 } },
    });
    expect(label.status).toBe(422);
    expect((await problem(label)).errors?.[0].path).toBe('probe.data.validation.y.0');
  });

  it("its rows count toward the dataset's cell limit", async () => {
    // 100,000 rows x (19 features + 1) is PROBE_MAX_CELLS (2,000,000) exactly: one more row is over.
    const res = await api('/v1/lr-range-tests', {
      body: {
        probe: {
          ...probeWith(),
          data: {
            kind: 'synthetic',
            name: 'blobs',
            n: 100_000,
            features: 19,
            validation: { x: [new Array(19).fill(0)], y: [0] },
          },
        },
      },
    });
    expect(res.status).toBe(413);
    expect((await problem(res)).errors?.[0].path).toBe('probe.data');
  });
});

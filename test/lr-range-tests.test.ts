import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, smallRequest } from './helpers';

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as {
    status: number;
    title: string;
    detail: string;
    type: string;
    errors?: { path: string; message: string }[];
    request_id?: string;
  };
}

describe('POST /v1/lr-range-tests', () => {
  it('runs the README example on the WASM-SIMD backend and answers with a suggestion and its curve', async () => {
    const body = {
      probe: {
        model: { kind: 'mlp', hidden: [64, 64], activation: 'relu' },
        task: 'classification',
        data: {
          kind: 'synthetic',
          name: 'spirals',
          n: 2048,
          features: 2,
          classes: 3,
          noise: 0.1,
          seed: 1,
        },
        optimizer: { name: 'sgd', momentum: 0.9, weight_decay: 0 },
        batch_size: 64,
        seed: 0,
      },
      range: {
        min_lr: 1e-7,
        max_lr: 10,
        steps: 100,
        mode: 'exponential',
        smoothing: 0.98,
        diverge_factor: 4,
      },
    };
    const res = await api('/v1/lr-range-tests', { body });
    expect(res.status).toBe(200);
    const out = (await res.json()) as any;
    expect(out.backend).toBe('wasm-simd');
    expect(out.cached).toBe(false);
    expect(out.id).toMatch(/^lrt_[0-9A-Z]{26}$/);
    expect(out.curve.length).toBe(out.steps_run);
    expect(out.steps_run).toBeGreaterThan(10);
    expect(out.steps_run).toBeLessThanOrEqual(100);
    // The sweep is exponential from min_lr.
    expect(out.curve[0].lr).toBeCloseTo(1e-7, 12);
    expect(out.curve[1].lr / out.curve[0].lr).toBeCloseTo(Math.pow(1e8, 1 / 99), 6);
    // With momentum 0.9 an LR of 10 diverges long before the end.
    expect(out.stopped_early).toBe(true);
    const s = out.suggestion;
    expect(s.lr).toBeGreaterThan(1e-4);
    expect(s.lr).toBeLessThan(1);
    expect(['valley', 'steepest', 'minimum', 'min_over_10']).toContain(s.method);
    expect(s.candidates.min_over_10).toBeCloseTo(s.candidates.minimum / 10, 10);
    expect(s.lr).toBeLessThanOrEqual(s.max_stable_lr);
    expect(out.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('answers the same request from D1 with cached: true, also when defaults are spelled out', async () => {
    const req = smallRequest({ probe: { seed: 11 } });
    const first = (await (await api('/v1/lr-range-tests', { body: req })).json()) as any;
    expect(first.cached).toBe(false);
    const row = await env.DB.prepare('SELECT id, confidence FROM lr_range_tests WHERE id = ?')
      .bind(first.id)
      .first<{ id: string }>();
    expect(row?.id).toBe(first.id);

    const second = (await (await api('/v1/lr-range-tests', { body: req })).json()) as any;
    expect(second.cached).toBe(true);
    expect(second.id).toBe(first.id);
    expect(second.suggestion).toEqual(first.suggestion);
    expect(second.curve).toEqual(first.curve);

    // The same request with every default written out, keys in another order.
    const explicit = {
      range: { ...req.range, mode: 'exponential', smoothing: 0.98, diverge_factor: 4 },
      probe: { ...req.probe, optimizer: { momentum: 0.9, name: 'sgd' } },
    };
    const third = (await (await api('/v1/lr-range-tests', { body: explicit })).json()) as any;
    expect(third.cached).toBe(true);
    expect(third.id).toBe(first.id);

    const stored = (await (await api(`/v1/lr-range-tests/${first.id}`)).json()) as any;
    expect(stored.suggestion).toEqual(first.suggestion);
  });

  it('answers concurrent identical requests with one stored result', async () => {
    const req = smallRequest({ probe: { seed: 41 }, range: { steps: 30 } });
    const answers = (await Promise.all(
      [1, 2, 3].map(() => api('/v1/lr-range-tests', { body: req }).then((r) => r.json())),
    )) as any[];
    const ids = new Set(answers.map((a) => a.id));
    expect(ids.size).toBe(1);
    const rows = await env.DB.prepare('SELECT COUNT(*) AS n FROM lr_range_tests WHERE id = ?')
      .bind(answers[0].id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
    expect((await api(`/v1/lr-range-tests/${answers[0].id}`)).status).toBe(200);
  });

  it('trains again for a different seed (the cache key covers the whole request)', async () => {
    const a = (await (
      await api('/v1/lr-range-tests', { body: smallRequest({ probe: { seed: 21 } }) })
    ).json()) as any;
    const b = (await (
      await api('/v1/lr-range-tests', { body: smallRequest({ probe: { seed: 22 } }) })
    ).json()) as any;
    expect(a.cached).toBe(false);
    expect(b.cached).toBe(false);
    expect(b.id).not.toBe(a.id);
    expect(b.curve.map((p: any) => p.loss)).not.toEqual(a.curve.map((p: any) => p.loss));
  });

  it('is repeatable: the same probe seed gives the same curve', async () => {
    // Two different range objects that share the first steps are not comparable;
    // instead run the same probe twice through two distinct (uncached) requests
    // that differ only in diverge_factor, which does not change the losses before stopping.
    const a = (await (
      await api('/v1/lr-range-tests', {
        body: smallRequest({ probe: { seed: 31 }, range: { diverge_factor: 1000 } }),
      })
    ).json()) as any;
    const b = (await (
      await api('/v1/lr-range-tests', {
        body: smallRequest({ probe: { seed: 31 }, range: { diverge_factor: 999 } }),
      })
    ).json()) as any;
    expect(b.cached).toBe(false);
    const n = Math.min(a.steps_run, b.steps_run);
    expect(b.curve.slice(0, n)).toEqual(a.curve.slice(0, n));
  });

  it('runs regression probes and the other optimizers', async () => {
    for (const optimizer of [
      { name: 'adam' },
      { name: 'adamw', weight_decay: 0.1 },
      { name: 'rmsprop' },
      { name: 'adagrad' },
      { name: 'nesterov' },
    ]) {
      const res = await api('/v1/lr-range-tests', {
        body: smallRequest({
          probe: {
            task: 'regression',
            optimizer,
            model: { hidden: [16], activation: 'tanh' },
            data: { kind: 'synthetic', name: 'teacher', n: 256, features: 3 },
          },
          range: { steps: 30 },
        }),
      });
      expect(res.status).toBe(200);
      const out = (await res.json()) as any;
      expect(out.curve[0].loss).toBeGreaterThan(0);
    }
  });

  it('accepts inline rows and CSV text', async () => {
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 64; i++) {
      x.push([Math.cos(i), Math.sin(i * 0.7)]);
      y.push(i % 2);
    }
    const inline = await api('/v1/lr-range-tests', {
      body: smallRequest({
        probe: { data: { kind: 'inline', x, y }, batch_size: 16 },
        range: { steps: 20 },
      }),
    });
    expect(inline.status).toBe(200);
    const csv =
      'a,b,label\n' + x.map((r, i) => `${r[0]},${r[1]},${y[i] ? 'yes' : 'no'}`).join('\n');
    const viaCsv = await api('/v1/lr-range-tests', {
      body: smallRequest({
        probe: { data: { kind: 'csv', text: csv, target: 'label' }, batch_size: 16 },
        range: { steps: 20 },
      }),
    });
    expect(viaCsv.status).toBe(200);
  });
});

describe('errors are problem+json with the path of what is wrong', () => {
  it('401 without a key, and with a wrong one', async () => {
    const none = await api('/v1/lr-range-tests', { body: smallRequest(), key: null });
    expect(none.status).toBe(401);
    expect((await problem(none)).detail).toMatch(/Bearer/);
    const wrong = await api('/v1/lr-range-tests', { body: smallRequest(), key: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await problem(wrong)).detail).toMatch(/not valid/);
  });

  it('400 for a body that is not JSON, 415 for another content type', async () => {
    const res = await api('/v1/lr-range-tests', {
      raw: '{"probe": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.status).toBe(400);
    expect(p.request_id).toBeTruthy();
    const plain = await api('/v1/lr-range-tests', {
      raw: JSON.stringify(smallRequest()),
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(plain.status).toBe(415);
    expect((await problem(plain)).detail).toMatch(/application\/json/);
  });

  const cases: [string, unknown, string][] = [
    ['min_lr >= max_lr', smallRequest({ range: { min_lr: 1, max_lr: 0.1 } }), 'range.min_lr'],
    ['non-positive min_lr', smallRequest({ range: { min_lr: 0 } }), 'range.min_lr'],
    ['non-positive steps', smallRequest({ range: { steps: -3 } }), 'range.steps'],
    [
      'unknown optimizer',
      smallRequest({ probe: { optimizer: { name: 'lion' } } }),
      'probe.optimizer.name',
    ],
    [
      'a setting the optimizer lacks',
      smallRequest({ probe: { optimizer: { name: 'adam', momentum: 0.9 } } }),
      'probe.optimizer.momentum',
    ],
    [
      'unknown activation',
      smallRequest({ probe: { model: { hidden: [8], activation: 'swish' } } }),
      'probe.model.activation',
    ],
    ['zero batch size', smallRequest({ probe: { batch_size: 0 } }), 'probe.batch_size'],
    [
      'a typo in a field name',
      smallRequest({ probe: { optimiser: { name: 'sgd' } } }),
      'probe.optimiser',
    ],
    ['missing data', { probe: { model: { hidden: [4] } } }, 'probe.data'],
    [
      'unknown synthetic set',
      smallRequest({ probe: { data: { kind: 'synthetic', name: 'mnist' } } }),
      'probe.data.name',
    ],
    [
      'ragged inline rows',
      smallRequest({
        probe: {
          data: { kind: 'inline', x: [[1, 2], [3], [4, 5], [6, 7]], y: [0, 1, 0, 1] },
          batch_size: 2,
        },
      }),
      'probe.data.x.1',
    ],
    [
      'a fractional class label',
      smallRequest({
        probe: {
          data: { kind: 'inline', x: [[1], [2], [3], [4]], y: [0, 1, 0.5, 1] },
          batch_size: 2,
        },
      }),
      'probe.data.y.2',
    ],
    [
      'a negative class label',
      smallRequest({
        probe: {
          data: { kind: 'inline', x: [[1], [2], [3], [4]], y: [0, 1, -1, 1] },
          batch_size: 2,
        },
      }),
      'probe.data.y.2',
    ],
    [
      'labels and rows of different length',
      smallRequest({
        probe: { data: { kind: 'inline', x: [[1], [2], [3], [4]], y: [0, 1, 1] }, batch_size: 2 },
      }),
      'probe.data.y',
    ],
    [
      'a string in the rows',
      smallRequest({
        probe: {
          data: { kind: 'inline', x: [[1], ['2'], [3], [4]], y: [0, 1, 0, 1] },
          batch_size: 2,
        },
      }),
      'probe.data.x.1.0',
    ],
    [
      'too few rows for a batch',
      smallRequest({
        probe: {
          data: { kind: 'inline', x: [[1], [2], [3], [4]], y: [0, 1, 0, 1] },
          batch_size: 8,
        },
      }),
      'probe.batch_size',
    ],
    [
      'a non-numeric CSV cell',
      smallRequest({
        probe: {
          data: { kind: 'csv', text: 'a,b,y\n1,2,0\n3,abc,1\n5,6,0\n7,8,1', target: 'y' },
          batch_size: 2,
        },
      }),
      'probe.data.text',
    ],
    [
      'an unknown CSV target',
      smallRequest({
        probe: { data: { kind: 'csv', text: 'a,y\n1,0\n2,1', target: 'label' }, batch_size: 2 },
      }),
      'probe.data.target',
    ],
    ['a body that is an array', [smallRequest()], '(body)'],
  ];
  for (const [name, body, path] of cases) {
    it(`422 for ${name} at ${path}`, async () => {
      const res = await api('/v1/lr-range-tests', { body });
      expect(res.status).toBe(422);
      const p = await problem(res);
      expect(p.status).toBe(422);
      expect(p.errors?.map((e) => e.path)).toContain(path);
      for (const e of p.errors ?? []) expect(e.message.length).toBeGreaterThan(3);
    });
  }

  it('422 for labels from a single class (nothing to classify)', async () => {
    const res = await api('/v1/lr-range-tests', {
      body: smallRequest({
        probe: {
          data: { kind: 'inline', x: [[1], [2], [3], [4]], y: [1, 1, 1, 1] },
          batch_size: 2,
        },
      }),
    });
    expect(res.status).toBe(422);
    expect((await problem(res)).errors?.[0].path).toMatch(/^probe\.data\.y/);
  });

  it('413 when the estimated work is over the edge budget, saying how to shrink it', async () => {
    const res = await api('/v1/lr-range-tests', {
      body: smallRequest({
        probe: {
          model: { hidden: [4096, 4096] },
          data: { kind: 'synthetic', name: 'blobs', n: 1024, features: 512 },
          batch_size: 512,
        },
        range: { steps: 1000 },
      }),
    });
    expect(res.status).toBe(413);
    const p = await problem(res);
    expect(p.detail).toMatch(/GFLOP/);
    expect(p.detail).toMatch(/runner/);
    expect(p.errors?.[0].path).toBe('probe');
  });

  it('413 for a dataset over the cell limit, before generating it', async () => {
    const res = await api('/v1/lr-range-tests', {
      body: smallRequest({
        probe: { data: { kind: 'synthetic', name: 'blobs', n: 200000, features: 4096 } },
      }),
    });
    expect(res.status).toBe(413);
    expect((await problem(res)).errors?.[0].path).toBe('probe.data');
  });

  it('413 for a body over the size limit', async () => {
    const big = 'x'.repeat(Number(env.MAX_BODY_BYTES) + 10);
    const res = await api('/v1/lr-range-tests', {
      raw: big,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(413);
    await problem(res);
  });

  it('404 problem for an unknown id and an unknown route', async () => {
    const res = await api('/v1/lr-range-tests/lrt_nope');
    expect(res.status).toBe(404);
    await problem(res);
    const route = await api('/v1/nothing-here');
    expect(route.status).toBe(404);
    await problem(route);
  });
});

describe('service basics', () => {
  it('serves an OpenAPI document describing the endpoint', async () => {
    const res = await api('/openapi.json', { key: null });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.paths['/v1/lr-range-tests'].post).toBeTruthy();
    expect(doc.components.schemas.LrRangeTestRequest).toBeTruthy();
  });

  it('echoes a request id header', async () => {
    const res = await api('/health', { key: null });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});

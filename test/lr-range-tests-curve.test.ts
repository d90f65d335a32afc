// POST /v1/lr-range-tests with a curve the client measured ({"curve": {"lr", "loss"}}) instead of
// a probe: the same analysis as a probe's sweep, stored and listed like one, and every bad curve a
// 422 naming its path. Inside workerd, against the real D1 and the real WASM backend (for the probe
// whose curve is posted back).
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { api, json, smallRequest } from './helpers';

/** n learning rates log-spaced from 10^from to 10^to. */
const logSpaced = (n: number, from = -6, to = 1) =>
  Array.from({ length: n }, (_, i) => 10 ** (from + ((to - from) * i) / (n - 1)));

/**
 * A loss with a known shape, as a function of x = log10(lr): a logistic descent from 2.3 to 0.4
 * around lr 1e-3, a flat valley, and an exponential blow-up that dominates above lr ~0.3.
 */
const shape = (x: number) =>
  0.4 + 1.9 / (1 + Math.exp((x + 3) / 0.3)) + 0.02 * Math.exp((x + 0.5) / 0.12);

/** Deterministic noise in [-0.5, 0.5) (Park-Miller). */
function noise(seed: number) {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
}

function syntheticCurve(n = 200, seed = 1) {
  const lr = logSpaced(n);
  const r = noise(seed);
  return { lr, loss: lr.map((v) => shape(Math.log10(v)) * (1 + 0.01 * r())) };
}

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as {
    status: number;
    detail: string;
    errors?: { path: string; message: string }[];
  };
}

/** The answer without what differs between two analyses of the same sweep: id, timing, cache, where it ran. */
const analysisOf = (r: any) => ({
  curve: r.curve,
  steps_run: r.steps_run,
  stopped_early: r.stopped_early,
  schedule: r.schedule,
  candidates: r.suggestion.candidates,
  suggestion: { ...r.suggestion, reasons: r.suggestion.reasons.slice(0, -1) },
});

describe('POST /v1/lr-range-tests with a measured curve', () => {
  it('finds the valley of a synthetic curve: a suggestion inside the descent (valley), min_over_10 a decade below its minimum, max_stable_lr below the blow-up', async () => {
    const curve = syntheticCurve(200);
    const body = {
      curve,
      range: { smoothing: 0.9 },
      model: { name: 'resnet18', parameters: 11.2e6 },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 128,
    };
    const res = await api('/v1/lr-range-tests', { body });
    expect(res.status).toBe(200);
    const out = (await res.json()) as any;
    expect(out.id).toMatch(/^lrt_[0-9A-Z]{26}$/);
    expect(out.backend).toBe('client');
    expect(out.cached).toBe(false);
    expect(out.steps_run).toBe(200);
    expect(out.curve).toHaveLength(200);
    expect(out.curve[7]).toMatchObject({ step: 7, lr: curve.lr[7], loss: curve.loss[7] });
    expect(out.duration_ms).toBeGreaterThanOrEqual(0);
    expect(out.context).toEqual({
      model: { name: 'resnet18', parameters: 11.2e6 },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 128,
    });

    // The shape's own minimum and where it has doubled past it.
    const xs = logSpaced(20_001, -6, 1).map(Math.log10);
    const xMin = xs.reduce((a, b) => (shape(b) < shape(a) ? b : a));
    const xBlowUp = xs.find((x) => x > xMin && shape(x) > 2 * shape(xMin))!;
    const s = out.suggestion;
    expect(s.method).toBe('valley');
    expect(Math.abs(Math.log10(s.candidates.minimum) - xMin)).toBeLessThan(0.75);
    expect(s.candidates.min_over_10).toBeCloseTo(s.candidates.minimum / 10, 12);
    expect(s.lr).toBe(s.candidates.valley);
    // valley sits inside the descent, below the minimum.
    expect(s.lr).toBeGreaterThan(1e-5);
    expect(Math.log10(s.lr)).toBeLessThan(xMin);
    expect(Math.log10(s.max_stable_lr)).toBeGreaterThan(xMin);
    expect(Math.log10(s.max_stable_lr)).toBeLessThan(xBlowUp);
    expect(s.confidence).toBe('high');
    // The curve goes on past the divergence: shown, not read.
    expect(out.stopped_early).toBe(true);
    expect(s.reasons.join('\n')).toMatch(
      /the loss diverges at point \d+ of 200 .*not the \d+ after/,
    );
    expect(s.reasons.at(-1)).toMatch(/on your hardware/);
    // Schedule advice for SGD around the suggestion.
    expect(out.schedule.peak_lr).toBe(s.lr);
    expect(out.schedule.warmup_fraction).toBe(0.05);

    // range.smoothing is read: the default (0.98) lags a 200-point curve and moves the minimum.
    const smoother = await json(api('/v1/lr-range-tests', { body: { ...body, range: {} } }));
    expect(smoother.suggestion.candidates.minimum).toBeGreaterThan(s.candidates.minimum);

    // Stored: GET returns it, the listing names it.
    const stored = await json(api(`/v1/lr-range-tests/${out.id}`));
    expect(stored.cached).toBe(true);
    expect(stored.suggestion).toEqual(s);
    expect(stored.curve).toEqual(out.curve);
    expect(stored.context.model.name).toBe('resnet18');
    const row = await env.DB.prepare(
      'SELECT backend, suggested_lr, confidence FROM lr_range_tests WHERE id = ?',
    )
      .bind(out.id)
      .first<any>();
    expect(row).toEqual({ backend: 'client', suggested_lr: s.lr, confidence: 'high' });
  });

  it("gives a probe's curve, posted back, the same analysis as the probe got", async () => {
    const req = smallRequest({ probe: { seed: 77 }, range: { steps: 60 } });
    const probe = await json(api('/v1/lr-range-tests', { body: req }));
    expect(probe.backend).toBe('wasm-simd');
    expect(probe.suggestion.lr).not.toBeNull();
    const curve = {
      lr: probe.curve.map((p: any) => p.lr),
      loss: probe.curve.map((p: any) => p.loss),
    };
    // The sweep the probe ran, said in full (checked against the curve), with the probe's optimizer.
    const posted = await api('/v1/lr-range-tests', {
      body: {
        curve,
        range: {
          min_lr: 1e-5,
          max_lr: 10,
          steps: 60,
          mode: 'exponential',
          smoothing: 0.98,
          diverge_factor: 4,
        },
        optimizer: req.probe.optimizer,
      },
    });
    expect(posted.status).toBe(200);
    const client = (await posted.json()) as any;
    expect(client.backend).toBe('client');
    expect(client.id).not.toBe(probe.id);
    expect(client.suggestion.candidates).toEqual(probe.suggestion.candidates);
    expect(analysisOf(client)).toEqual(analysisOf(probe));
    // Without the sweep's fields: the same rules (stopped_early then counts against the points sent).
    const bare = await json(
      api('/v1/lr-range-tests', { body: { curve, optimizer: { name: 'sgd' } } }),
    );
    expect(bare.suggestion.candidates).toEqual(probe.suggestion.candidates);
    expect(bare.suggestion.max_stable_lr).toBe(probe.suggestion.max_stable_lr);
  });

  it('a null loss (NaN after divergence) ends the curve there: the rules read the points before it', async () => {
    const { lr, loss } = syntheticCurve(150, 5);
    const cut = 120;
    const withNulls = loss.map((v, i) => (i >= cut ? null : v));
    const res = await api('/v1/lr-range-tests', {
      body: { curve: { lr, loss: withNulls }, range: { smoothing: 0.9, diverge_factor: 1e6 } },
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as any;
    expect(out.steps_run).toBe(150);
    expect(out.stopped_early).toBe(true);
    expect(out.curve[cut]).toMatchObject({ loss: null, smoothed_loss: null });
    expect(out.curve[cut - 1].loss).toBe(loss[cut - 1]);
    expect(out.suggestion.reasons.join('\n')).toMatch(
      new RegExp(`diverges at point ${cut + 1} of 150 .*not the ${150 - cut - 1} after`),
    );
    expect(out.suggestion.reasons.join('\n')).toMatch(/ignored 1 non-finite point/);
    // The same as the curve cut before its first null.
    const before = await json(
      api('/v1/lr-range-tests', {
        body: {
          curve: { lr: lr.slice(0, cut), loss: loss.slice(0, cut) },
          range: { smoothing: 0.9, diverge_factor: 1e6 },
        },
      }),
    );
    expect(out.suggestion.candidates).toEqual(before.suggestion.candidates);
    expect(out.suggestion.max_stable_lr).toBe(before.suggestion.max_stable_lr);
    expect(out.suggestion.lr).toBe(before.suggestion.lr);
    // No optimizer and no lr: no schedule, said; a curve that is null from the start has no answer.
    const dead = await json(
      api('/v1/lr-range-tests', {
        body: { curve: { lr: lr.slice(0, 20), loss: new Array(20).fill(null) } },
      }),
    );
    expect(dead.suggestion.lr).toBeNull();
    expect(dead.suggestion.confidence).toBe('low');
    expect(dead.schedule).toBeNull();
    const deadAdam = await json(
      api('/v1/lr-range-tests', {
        body: {
          curve: { lr: lr.slice(0, 20), loss: new Array(20).fill(null) },
          optimizer: { name: 'adam' },
        },
      }),
    );
    expect(deadAdam.schedule.peak_lr).toBe(1e-3);
  });

  it('a curve that never descends claims no stable lr: lr and max_stable_lr null, low confidence, and what to do', async () => {
    // A loss that only wobbles around its start, then blows up: no lr of the sweep trained.
    const lr = logSpaced(100, -7, 1);
    const r = noise(11);
    const loss = lr.map((v) => 1.1 * (1 + 0.04 * r()) + 0.02 * Math.exp((Math.log10(v) + 1) / 0.3));
    const out = await json(
      api('/v1/lr-range-tests', { body: { curve: { lr, loss }, optimizer: { name: 'rmsprop' } } }),
    );
    expect(out.suggestion).toMatchObject({ lr: null, max_stable_lr: null, confidence: 'low' });
    const why = out.suggestion.reasons.join('\n');
    expect(why).toMatch(/no stable learning rate found/);
    expect(why).toMatch(/min_lr below 1\.00e-7/);
    expect(why).toMatch(/check the data and labels/);
    // No cap at the sweep's start: the schedule is around rmsprop's default.
    expect(out.schedule.peak_lr).toBe(1e-2);
  });

  it('validation losses sent with the curve are stored with it and decide max_stable_lr and the minimum', async () => {
    // The training loss of the synthetic curve; a validation loss that follows it down to lr 1e-2
    // and rises after (overfitting: the training loss still falls there), measured every 4th
    // point (null between) and null after the training loss diverged.
    const { lr, loss } = syntheticCurve(200, 3);
    const stop = lr.findIndex((v) => v > 1);
    const valAt = (v: number) => shape(Math.log10(v)) + 2 * Math.max(0, Math.log10(v) + 2) ** 2;
    const val_loss = lr.map((v, i) => (i % 4 === 0 && i < stop ? valAt(v) : null));
    const plain = await json(api('/v1/lr-range-tests', { body: { curve: { lr, loss } } }));
    const res = await api('/v1/lr-range-tests', { body: { curve: { lr, loss, val_loss } } });
    expect(res.status).toBe(200);
    const out = (await res.json()) as any;
    expect(out.suggestion.max_stable_lr).toBeLessThan(plain.suggestion.max_stable_lr / 3);
    expect(out.suggestion.max_stable_lr).toBeGreaterThan(1e-2);
    expect(out.suggestion.candidates.minimum).toBeLessThan(plain.suggestion.candidates.minimum);
    expect(out.suggestion.reasons.join('\n')).toMatch(/validation loss \(\d+ values\)/);
    // Stored with the curve: GET answers the same points, with their validation losses.
    const stored = await json(api(`/v1/lr-range-tests/${out.id}`));
    expect(stored.curve.map((p: any) => p.val_loss)).toEqual(val_loss);
    expect(stored.suggestion).toEqual(out.suggestion);
    expect(plain.curve[0]).not.toHaveProperty('val_loss');
  });

  it('answers a second identical post from D1 with cached: true, also with defaults spelled out and keys reordered', async () => {
    const curve = syntheticCurve(60, 9);
    const first = await json(
      api('/v1/lr-range-tests', { body: { curve, model: { name: 'tiny' } } }),
    );
    expect(first.cached).toBe(false);
    const second = await json(
      api('/v1/lr-range-tests', { body: { curve, model: { name: 'tiny' } } }),
    );
    expect(second.cached).toBe(true);
    expect(second.id).toBe(first.id);
    expect(second.suggestion).toEqual(first.suggestion);
    const explicit = await json(
      api('/v1/lr-range-tests', {
        body: {
          model: { name: 'tiny' },
          range: { diverge_factor: 4, smoothing: 0.98 },
          curve: { loss: curve.loss, lr: curve.lr },
        },
      }),
    );
    expect(explicit.cached).toBe(true);
    expect(explicit.id).toBe(first.id);
    // Context is part of the request: another model name is another range test.
    const other = await json(
      api('/v1/lr-range-tests', { body: { curve, model: { name: 'tiny-2' } } }),
    );
    expect(other.cached).toBe(false);
  });

  it('takes 100,000 points under the body limit: 200, stored with a digest of the request and a thinned curve, GET returns it', async () => {
    const n = 100_000;
    const curve = syntheticCurve(n, 3);
    const raw = JSON.stringify({
      curve,
      range: { mode: 'exponential', min_lr: 1e-6, max_lr: 10 },
      model: { name: 'big' },
    });
    expect(raw.length).toBeLessThan(Number(env.MAX_BODY_BYTES));
    const res = await api('/v1/lr-range-tests', {
      raw,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as any;
    expect(out.steps_run).toBe(n);
    expect(out.curve.length).toBeLessThanOrEqual(2000);
    expect(out.curve.length).toBeGreaterThan(1000);
    expect(out.curve[0].step).toBe(0);
    expect(out.curve.at(-1).step).toBe(n - 1);
    expect(out.suggestion.lr).toBeGreaterThan(1e-4);
    expect(out.suggestion.lr).toBeLessThan(0.1);
    const got = await api(`/v1/lr-range-tests/${out.id}`);
    expect(got.status).toBe(200);
    const stored = (await got.json()) as any;
    expect(stored.suggestion).toEqual(out.suggestion);
    expect(stored.curve).toEqual(out.curve);
    // The row stays far under D1's 2 MB: the request is kept as a digest, the curve thinned.
    const row = await env.DB.prepare(
      'SELECT length(request) AS req, length(result) AS res, json_extract(request, ?) AS omitted FROM lr_range_tests WHERE id = ?',
    )
      .bind('$.curve.omitted', out.id)
      .first<{ req: number; res: number; omitted: number }>();
    expect(row!.omitted).toBe(1);
    expect(row!.req + row!.res).toBeLessThan(500_000);
    const again = await json(
      api('/v1/lr-range-tests', { raw, headers: { 'Content-Type': 'application/json' } }),
    );
    expect(again).toMatchObject({ cached: true, id: out.id });
  });

  it('lists range tests newest first, curves and probes, page by page', async () => {
    const a = await json(
      api('/v1/lr-range-tests', {
        body: {
          curve: syntheticCurve(40, 21),
          model: { name: 'listed-<b>a</b>' },
          optimizer: { name: 'adamw' },
        },
      }),
    );
    await new Promise((r) => setTimeout(r, 5)); // ids order by the millisecond
    const b = await json(
      api('/v1/lr-range-tests', {
        body: smallRequest({ probe: { seed: 78 }, range: { steps: 20 } }),
      }),
    );
    const page = await json(api('/v1/lr-range-tests?limit=2'));
    expect(page.range_tests.map((r: any) => r.id)).toEqual([b.id, a.id]);
    expect(page.range_tests[1]).toMatchObject({
      source: 'curve',
      backend: 'client',
      label: 'listed-<b>a</b>',
      optimizer: 'adamw',
      steps_run: 40,
      suggested_lr: a.suggestion.lr,
      method: a.suggestion.method,
    });
    expect(page.range_tests[0]).toMatchObject({
      source: 'probe',
      backend: 'wasm-simd',
      label: 'mlp [32] · blobs',
      optimizer: 'sgd',
      steps_run: b.steps_run,
    });
    expect(page.next_cursor).toBe(a.id);
    const next = await json(api(`/v1/lr-range-tests?limit=2&cursor=${page.next_cursor}`));
    expect(next.range_tests.map((r: any) => r.id)).not.toContain(a.id);
    expect((await api('/v1/lr-range-tests?limt=2')).status).toBe(422);
  });
});

describe('a bad curve is a 422 naming the path', () => {
  const { lr, loss } = syntheticCurve(30, 11);
  const swap = <T>(xs: T[], i: number, v: T) => xs.map((x, k) => (k === i ? v : x));
  const cases: [string, unknown, string, RegExp][] = [
    [
      'learning rates out of order',
      { curve: { lr: swap(lr, 5, lr[3]), loss } },
      'curve.lr.5',
      /strictly increase/,
    ],
    [
      'a repeated learning rate (not strictly increasing)',
      { curve: { lr: swap(lr, 9, lr[8]), loss } },
      'curve.lr.9',
      /not above the lr before it/,
    ],
    ['a zero learning rate', { curve: { lr: swap(lr, 0, 0), loss } }, 'curve.lr.0', /above 0/],
    [
      'a negative learning rate',
      { curve: { lr: swap(lr, 3, -1e-3), loss } },
      'curve.lr.3',
      /above 0/,
    ],
    [
      'fewer losses than learning rates',
      { curve: { lr, loss: loss.slice(1) } },
      'curve.loss',
      /29 losses for 30 learning rates/,
    ],
    [
      'fewer than 10 points',
      { curve: { lr: lr.slice(0, 9), loss: loss.slice(0, 9) } },
      'curve.lr',
      /at least 10 points, got 9/,
    ],
    [
      'NaN sent as a string',
      { curve: { lr, loss: swap<unknown>(loss, 3, 'NaN') } },
      'curve.loss.3',
      /not JSON.*send null/,
    ],
    [
      'Infinity sent as a string',
      { curve: { lr, loss: swap<unknown>(loss, 3, 'Infinity') } },
      'curve.loss.3',
      /not JSON.*send null/,
    ],
    [
      '-inf sent as a learning rate',
      { curve: { lr: swap<unknown>(lr, 2, '-inf'), loss } },
      'curve.lr.2',
      /not JSON/,
    ],
    [
      'a loss that is an object',
      { curve: { lr, loss: swap<unknown>(loss, 4, { v: 1 }) } },
      'curve.loss.4',
      /expected number/,
    ],
    [
      'both a probe and a curve',
      { ...smallRequest(), curve: { lr, loss } },
      'curve',
      /either probe .* or curve .*not both/,
    ],
    ['neither a probe nor a curve', { range: {} }, '(body)', /send probe .* or curve/],
    ['a typo of curve', { curv: { lr, loss } }, 'curv', /did you mean 'curve'/],
    [
      'an unknown field in the curve',
      { curve: { lr, loss, smoothed: loss } },
      'curve.smoothed',
      /unknown field 'smoothed'/,
    ],
    [
      'an unknown top-level field',
      { curve: { lr, loss }, modle: { name: 'x' } },
      'modle',
      /did you mean 'model'/,
    ],
    [
      'a probe-only field next to a curve',
      { curve: { lr, loss }, seed: 3 },
      'seed',
      /unknown field/,
    ],
    [
      'an unknown field of model',
      { curve: { lr, loss }, model: { nmae: 'x' } },
      'model.nmae',
      /did you mean 'name'/,
    ],
    [
      'a misspelt optimizer',
      { curve: { lr, loss }, optimizer: { name: 'adma' } },
      'optimizer.name',
      /did you mean 'adam'/,
    ],
    [
      'a setting the optimizer lacks',
      { curve: { lr, loss }, optimizer: { name: 'adam', momentum: 0.9 } },
      'optimizer.momentum',
      /adam has no 'momentum'/,
    ],
    ['a zero batch size', { curve: { lr, loss }, batch_size: 0 }, 'batch_size', /.{4}/],
    [
      'min_lr above the start of the curve',
      { curve: { lr, loss }, range: { min_lr: 1e-5 } },
      'range.min_lr',
      /starts at lr .* below min_lr/,
    ],
    [
      'max_lr below the end of the curve',
      { curve: { lr, loss }, range: { max_lr: 1 } },
      'range.max_lr',
      /reaches lr 10.* above max_lr 1/,
    ],
    [
      'fewer steps than points',
      { curve: { lr, loss }, range: { steps: 20 } },
      'range.steps',
      /30 points, more than the sweep's 20 steps/,
    ],
    [
      'a linear mode for an exponential curve',
      { curve: { lr, loss }, range: { mode: 'linear' } },
      'range.mode',
      /not evenly spaced in lr/,
    ],
    [
      'a dropped point in an exponential sweep',
      {
        curve: { lr: lr.filter((_, i) => i !== 12), loss: loss.filter((_, i) => i !== 12) },
        range: { mode: 'exponential' },
      },
      'range.mode',
      /from point 11 to 12 is 2\.00x.*send null/,
    ],
    [
      'a typo in range',
      { curve: { lr, loss }, range: { smoothign: 0.9 } },
      'range.smoothign',
      /did you mean 'smoothing'/,
    ],
    ['smoothing of 1', { curve: { lr, loss }, range: { smoothing: 1 } }, 'range.smoothing', /.{4}/],
    [
      'validation losses of another length',
      { curve: { lr, loss, val_loss: loss.slice(1) } },
      'curve.val_loss',
      /29 validation losses for 30 learning rates: send one per lr/,
    ],
    [
      'a validation loss sent as the string NaN',
      { curve: { lr, loss, val_loss: swap<unknown>(loss, 4, 'NaN') } },
      'curve.val_loss.4',
      /send null/,
    ],
  ];
  for (const [name, body, path, message] of cases) {
    it(`${name}: 422 at ${path}`, async () => {
      const res = await api('/v1/lr-range-tests', { body });
      expect(res.status).toBe(422);
      const p = await problem(res);
      const hit = p.errors?.find((e) => e.path === path);
      expect(hit, JSON.stringify(p.errors)).toBeTruthy();
      expect(hit!.message).toMatch(message);
    });
  }

  it('a curve with many bad points, sent with its context, is reported on the curve (not as an unknown probe field), at most 100 issues', async () => {
    const strings = loss.map(() => 'NaN');
    const res = await api('/v1/lr-range-tests', {
      body: {
        curve: { lr, loss: strings },
        model: { name: 'm' },
        optimizer: { name: 'sgd' },
        batch_size: 8,
      },
    });
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(p.errors!.map((e) => e.path)).toEqual(loss.map((_, i) => `curve.loss.${i}`));
    const many = await problem(
      await api('/v1/lr-range-tests', {
        body: { curve: { lr: logSpaced(500), loss: new Array(500).fill('NaN') } },
      }),
    );
    expect(many.errors).toHaveLength(100);
    expect(many.detail).toMatch(/^500 problems/);
  });

  it('over 100,000 points is a 422 at curve.lr', async () => {
    const n = 100_001;
    const res = await api('/v1/lr-range-tests', {
      body: { curve: { lr: logSpaced(n), loss: new Array(n).fill(1) } },
    });
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(p.errors?.find((e) => e.path === 'curve.lr')?.message).toMatch(
      /at most 100000 points, got 100001/,
    );
  });
});

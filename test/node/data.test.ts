import { describe, it, expect } from 'vitest';
import { Rng } from '../../src/tuning/rng';
import { MAX_DATA_CELLS } from '../../src/contract/limits';
import {
  loadDataset,
  loadWithinLimits,
  BatchSampler,
  gatherBatch,
  type DataSpec,
  type Dataset,
  type Task,
} from '../../src/probe/data';
import { ProbeInputError } from '../../src/probe/errors';

/** Run fn, expect a ProbeInputError with one issue at `path`; returns the issue message. */
function issueOf(fn: () => unknown, path: string, status: 422 | 413 = 422): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProbeInputError);
  const err = caught as ProbeInputError;
  expect(err.kind).toBe(status === 413 ? 'over_budget' : 'invalid');
  expect(err.issues).toHaveLength(1);
  expect(err.issues[0].path).toBe(path);
  return err.issues[0].message;
}

function columnStats(ds: Dataset, j: number): { mean: number; std: number } {
  let m = 0;
  for (let i = 0; i < ds.n; i++) m += ds.x[i * ds.features + j];
  m /= ds.n;
  let v = 0;
  for (let i = 0; i < ds.n; i++) v += (ds.x[i * ds.features + j] - m) ** 2;
  return { mean: m, std: Math.sqrt(v / ds.n) };
}

function stats(a: ArrayLike<number>): { mean: number; std: number } {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return { mean: m, std: Math.sqrt(v / a.length) };
}

function classCounts(ds: Dataset): number[] {
  const counts = new Array(ds.outputs).fill(0);
  for (let i = 0; i < ds.n; i++) {
    const c = ds.y[i];
    expect(Number.isInteger(c)).toBe(true);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThan(ds.outputs);
    counts[c]++;
  }
  return counts;
}

function allFinite(a: Float32Array): boolean {
  return a.every((v) => Number.isFinite(v));
}

function syn(
  name: Extract<DataSpec, { kind: 'synthetic' }>['name'],
  extra: Partial<Extract<DataSpec, { kind: 'synthetic' }>> = {},
) {
  return { kind: 'synthetic' as const, name, ...extra };
}

// ---------------------------------------------------------------------------

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return Array.from({ length: 20 }, () => r.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(1));
    // any finite integer is a valid seed, and they are all distinct
    for (const s of [-1, -(2 ** 40), 2 ** 32, 2 ** 32 + 1, 2 ** 53 + 2, 1e20]) {
      expect(draw(s)).toEqual(draw(s));
    }
    expect(draw(2 ** 32)).not.toEqual(draw(0));
    expect(draw(-1)).not.toEqual(draw(1));
    expect(draw(2 ** 32 + 1)).not.toEqual(draw(1));
    expect(draw(-0)).toEqual(draw(0));
    expect(() => new Rng(NaN)).toThrow(RangeError);
    expect(() => new Rng(Infinity)).toThrow(RangeError);
  });

  it('is pinned: the streams do not change between versions (sfc32, fmix32 seeding)', () => {
    const r = new Rng(0);
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([965814425, 4215183483, 4134362070]);
    const q = new Rng(42).fork(7);
    expect([q.nextU32(), q.nextU32()]).toEqual([3930434130, 1387868596]);
  });

  it('next() is uniform in [0, 1)', () => {
    const r = new Rng(7);
    const bins = new Array(10).fill(0);
    let sum = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      bins[Math.floor(u * 10)]++;
      sum += u;
    }
    expect(sum / N).toBeCloseTo(0.5, 2);
    for (const b of bins) expect(Math.abs(b - N / 10)).toBeLessThan(500); // ~5 sigma
  });

  it('normal() has mean ~0 and variance ~1 over 1e5 draws', () => {
    const r = new Rng(123);
    const N = 100_000;
    let s = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (let i = 0; i < N; i++) {
      const z = r.normal();
      expect(Number.isFinite(z)).toBe(true);
      s += z;
      s2 += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    const mean = s / N;
    const variance = s2 / N - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    expect(beyond2 / N).toBeCloseTo(0.0455, 2); // P(|Z| > 2)
  });

  it('int(n) stays in [0, n) and hits every value', () => {
    const r = new Rng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(7);
    expect(r.int(1)).toBe(0);
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(2.5)).toThrow(RangeError);
  });

  it('shuffle is a permutation, deterministic, and not the identity', () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const b = Int32Array.from(a);
    new Rng(9).shuffle(a);
    new Rng(9).shuffle(b);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(b)).toEqual(a);
    expect(a).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    const c = Array.from({ length: 100 }, (_, i) => i);
    new Rng(10).shuffle(c);
    expect(c).not.toEqual(a);
  });

  it('fork(label) depends only on seed and label, and streams differ', () => {
    const r = new Rng(1);
    const f1 = r.fork(3);
    r.next();
    r.normal();
    const f2 = r.fork(3); // position of the parent does not matter
    const take = (g: Rng) => Array.from({ length: 10 }, () => g.next());
    const a = take(f1);
    expect(take(f2)).toEqual(a);
    expect(take(new Rng(1).fork(3))).toEqual(a);
    expect(take(new Rng(1).fork(4))).not.toEqual(a);
    expect(take(new Rng(2).fork(3))).not.toEqual(a);
    expect(take(new Rng(1))).not.toEqual(a);
    // seed+label is not a plain sum
    expect(take(new Rng(0).fork(4))).not.toEqual(a);
    expect(take(new Rng(1).fork(3).fork(1))).not.toEqual(take(new Rng(1).fork(3)));
  });
});

// ---------------------------------------------------------------------------

describe('synthetic data', () => {
  const cases: [Extract<DataSpec, { kind: 'synthetic' }>['name'], Task][] = [
    ['blobs', 'classification'],
    ['moons', 'classification'],
    ['spirals', 'classification'],
    ['linear', 'classification'],
    ['linear', 'regression'],
    ['teacher', 'classification'],
    ['teacher', 'regression'],
  ];

  it.each(cases)('%s (%s) has the right shapes and is standardised', (name, task) => {
    const spec = syn(name, name === 'moons' ? { classes: 2 } : {});
    const ds = loadDataset(spec, task);
    expect(ds.n).toBe(1024);
    expect(ds.features).toBe(2);
    expect(ds.task).toBe(task);
    expect(ds.x).toBeInstanceOf(Float32Array);
    expect(ds.x.length).toBe(1024 * 2);
    expect(ds.y.length).toBe(1024);
    expect(ds.outputs).toBe(task === 'regression' ? 1 : name === 'moons' ? 2 : 3);
    expect(allFinite(ds.x) && allFinite(ds.y)).toBe(true);
    for (let j = 0; j < ds.features; j++) {
      const { mean, std } = columnStats(ds, j);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(Math.abs(std - 1)).toBeLessThan(1e-4);
    }
    if (task === 'regression') {
      const { mean, std } = stats(ds.y);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(Math.abs(std - 1)).toBeLessThan(1e-4);
    } else {
      const counts = classCounts(ds);
      for (const c of counts) expect(c).toBeGreaterThan(0); // every class present
    }
  });

  it.each(cases)('%s (%s) is deterministic in its seed', (name, task) => {
    const extra = name === 'moons' ? { classes: 2 } : {};
    const a = loadDataset(syn(name, { ...extra, seed: 11, n: 200, features: 3 }), task);
    const b = loadDataset(syn(name, { ...extra, seed: 11, n: 200, features: 3 }), task);
    const c = loadDataset(syn(name, { ...extra, seed: 12, n: 200, features: 3 }), task);
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    expect(Array.from(b.y)).toEqual(Array.from(a.y));
    expect(Array.from(c.x)).not.toEqual(Array.from(a.x));
  });

  it('honours n, features and classes', () => {
    const ds = loadDataset(
      syn('blobs', { n: 500, features: 7, classes: 5, seed: 3 }),
      'classification',
    );
    expect(ds.n).toBe(500);
    expect(ds.features).toBe(7);
    expect(ds.outputs).toBe(5);
    expect(ds.x.length).toBe(3500);
    expect(classCounts(ds)).toEqual([100, 100, 100, 100, 100]);
  });

  it('blobs: points sit nearer their own cluster centre than the others', () => {
    const ds = loadDataset(
      syn('blobs', { n: 600, features: 4, classes: 3, seed: 1 }),
      'classification',
    );
    const k = ds.outputs;
    const f = ds.features;
    const centres = new Float64Array(k * f);
    const counts = classCounts(ds);
    for (let i = 0; i < ds.n; i++)
      for (let j = 0; j < f; j++) centres[ds.y[i] * f + j] += ds.x[i * f + j] / counts[ds.y[i]];
    let correct = 0;
    for (let i = 0; i < ds.n; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        let d = 0;
        for (let j = 0; j < f; j++) d += (ds.x[i * f + j] - centres[c * f + j]) ** 2;
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      if (best === ds.y[i]) correct++;
    }
    expect(correct / ds.n).toBeGreaterThan(0.9);
  });

  it('moons: two balanced classes with different means; the upper moon is above on average', () => {
    const ds = loadDataset(
      syn('moons', { classes: 2, n: 1000, noise: 0.05, seed: 2 }),
      'classification',
    );
    expect(ds.outputs).toBe(2);
    expect(classCounts(ds)).toEqual([500, 500]);
    const mean = [
      [0, 0],
      [0, 0],
    ];
    for (let i = 0; i < ds.n; i++)
      for (let j = 0; j < 2; j++) mean[ds.y[i]][j] += ds.x[i * 2 + j] / 500;
    // class 0 (upper moon, centred at (0, ~0.64)) is left of and above class 1 (centred at (1, ~-0.14))
    expect(mean[0][0]).toBeLessThan(mean[1][0] - 0.5);
    expect(mean[0][1]).toBeGreaterThan(mean[1][1] + 0.5);
    // and the classes are separable-ish: 1-nearest-neighbour agrees with the label nearly always
    expect(nearestNeighbourAgreement(ds)).toBeGreaterThan(0.97);
  });

  it('moons: extra features are uncorrelated noise', () => {
    const ds = loadDataset(syn('moons', { classes: 2, features: 5, seed: 4 }), 'classification');
    expect(ds.features).toBe(5);
    for (let j = 2; j < 5; j++) {
      let m0 = 0;
      let m1 = 0;
      for (let i = 0; i < ds.n; i++) {
        if (ds.y[i] === 0) m0 += ds.x[i * 5 + j];
        else m1 += ds.x[i * 5 + j];
      }
      expect(Math.abs(m0 / 512 - m1 / 512)).toBeLessThan(0.3);
    }
  });

  it('spirals: one arm per class, each a contiguous curve', () => {
    for (const classes of [2, 3, 5, 12]) {
      const ds = loadDataset(
        syn('spirals', { classes, n: 1200, noise: 0, seed: 8 }),
        'classification',
      );
      expect(ds.outputs).toBe(classes);
      const counts = classCounts(ds);
      for (const c of counts) expect(Math.abs(c - 1200 / classes)).toBeLessThanOrEqual(1);
      // noiseless arms: the nearest neighbour of a point (away from the shared centre) is on its own arm
      expect(nearestNeighbourAgreement(ds)).toBeGreaterThan(0.9);
    }
  });

  it('teacher regression targets have variance and depend on x', () => {
    const ds = loadDataset(
      syn('teacher', { n: 2000, features: 4, noise: 0, seed: 5 }),
      'regression',
    );
    const { std } = stats(ds.y);
    expect(std).toBeGreaterThan(0.99);
    // With no noise, nearby inputs have nearby targets: the target is a smooth function of x.
    let close = 0;
    let diffSum = 0;
    for (let i = 0; i < 200; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let k = 0; k < ds.n; k++) {
        if (k === i) continue;
        let d = 0;
        for (let j = 0; j < 4; j++) d += (ds.x[i * 4 + j] - ds.x[k * 4 + j]) ** 2;
        if (d < bestD) {
          bestD = d;
          best = k;
        }
      }
      diffSum += Math.abs(ds.y[i] - ds.y[best]);
      close++;
    }
    expect(diffSum / close).toBeLessThan(0.5); // vs ~1.13 for unrelated standard normal pairs
  });

  it('linear regression with no noise is exactly linear in x', () => {
    const ds = loadDataset(syn('linear', { n: 64, features: 3, noise: 0, seed: 6 }), 'regression');
    // Solve least squares y ~ x.w + b via normal equations (4x4) and check the residual is ~0.
    const f = 3;
    const A = Array.from({ length: f + 1 }, () => new Array(f + 2).fill(0));
    for (let i = 0; i < ds.n; i++) {
      const row = [...Array.from(ds.x.subarray(i * f, i * f + f)), 1];
      for (let p = 0; p <= f; p++) {
        for (let q = 0; q <= f; q++) A[p][q] += row[p] * row[q];
        A[p][f + 1] += row[p] * ds.y[i];
      }
    }
    for (let p = 0; p <= f; p++) {
      for (let r = p + 1; r <= f; r++) {
        const m = A[r][p] / A[p][p];
        for (let c = p; c <= f + 1; c++) A[r][c] -= m * A[p][c];
      }
    }
    const w = new Array(f + 1).fill(0);
    for (let p = f; p >= 0; p--) {
      let s = A[p][f + 1];
      for (let c = p + 1; c <= f; c++) s -= A[p][c] * w[c];
      w[p] = s / A[p][p];
    }
    let maxRes = 0;
    for (let i = 0; i < ds.n; i++) {
      let pred = w[f];
      for (let j = 0; j < f; j++) pred += ds.x[i * f + j] * w[j];
      maxRes = Math.max(maxRes, Math.abs(pred - ds.y[i]));
    }
    expect(maxRes).toBeLessThan(1e-4);
  });

  it('rejects classification-only generators for regression at probe.data.name', () => {
    for (const name of ['blobs', 'moons', 'spirals'] as const) {
      const msg = issueOf(() => loadDataset(syn(name), 'regression'), 'probe.data.name');
      expect(msg).toContain('classification');
    }
  });

  it('validates parameters with their paths', () => {
    expect(
      issueOf(
        () => loadDataset(syn('moons', { classes: 3 }), 'classification'),
        'probe.data.classes',
      ),
    ).toContain('2');
    issueOf(() => loadDataset(syn('blobs', { n: 7 }), 'classification'), 'probe.data.n');
    issueOf(() => loadDataset(syn('blobs', { n: 200_001 }), 'classification'), 'probe.data.n');
    issueOf(() => loadDataset(syn('blobs', { n: 10.5 }), 'classification'), 'probe.data.n');
    issueOf(
      () => loadDataset(syn('blobs', { features: 0 }), 'classification'),
      'probe.data.features',
    );
    issueOf(
      () => loadDataset(syn('blobs', { classes: 1 }), 'classification'),
      'probe.data.classes',
    );
    issueOf(
      () => loadDataset(syn('blobs', { classes: 1001 }), 'classification'),
      'probe.data.classes',
    );
    issueOf(
      () => loadDataset(syn('blobs', { n: 8, classes: 9 }), 'classification'),
      'probe.data.classes',
    );
    issueOf(() => loadDataset(syn('blobs', { noise: -1 }), 'classification'), 'probe.data.noise');
    issueOf(() => loadDataset(syn('blobs', { seed: 0.5 }), 'classification'), 'probe.data.seed');
    issueOf(
      () => loadDataset(syn('spirals', { features: 1 }), 'classification'),
      'probe.data.features',
    );
    issueOf(() => loadDataset(syn('nope' as 'blobs'), 'classification'), 'probe.data.name');
    // moons without classes means 2
    expect(loadDataset(syn('moons'), 'classification').outputs).toBe(2);
    // classes is ignored for regression
    expect(loadDataset(syn('linear', { classes: 1 }), 'regression').outputs).toBe(1);
  });

  it('refuses datasets over the size limits with 413', () => {
    issueOf(
      () => loadDataset(syn('blobs', { n: 200_000, features: 4096 }), 'classification'),
      'probe.data',
      413,
    );
    expect(200_000 * 4096).toBeGreaterThan(MAX_DATA_CELLS);
    issueOf(
      () =>
        loadDataset(syn('linear', { n: 200_000, features: 20, classes: 1000 }), 'classification'),
      'probe.data',
      413,
    );
  });

  it('accepts negative and large seeds', () => {
    const a = loadDataset(syn('blobs', { seed: -5, n: 50 }), 'classification');
    const b = loadDataset(syn('blobs', { seed: 2 ** 40, n: 50 }), 'classification');
    expect(Array.from(a.x)).not.toEqual(Array.from(b.x));
  });
});

/** Fraction of points whose nearest other point (in x) has the same label. */
function nearestNeighbourAgreement(ds: Dataset): number {
  const f = ds.features;
  let agree = 0;
  for (let i = 0; i < ds.n; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let k = 0; k < ds.n; k++) {
      if (k === i) continue;
      let d = 0;
      for (let j = 0; j < f; j++) d += (ds.x[i * f + j] - ds.x[k * f + j]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    if (ds.y[best] === ds.y[i]) agree++;
  }
  return agree / ds.n;
}

// ---------------------------------------------------------------------------

describe('inline data', () => {
  it('standardises features and keeps class ids', () => {
    const ds = loadDataset(
      {
        kind: 'inline',
        x: [
          [1, 10, 5],
          [2, 20, 5],
          [3, 30, 5],
          [4, 40, 5],
        ],
        y: [0, 1, 2, 1],
      },
      'classification',
    );
    expect(ds.n).toBe(4);
    expect(ds.features).toBe(3);
    expect(ds.outputs).toBe(3);
    expect(Array.from(ds.y)).toEqual([0, 1, 2, 1]);
    const s = 1 / Math.sqrt(1.25); // population std of 1,2,3,4
    const expected = [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s];
    for (let i = 0; i < 4; i++) {
      expect(ds.x[i * 3]).toBeCloseTo(expected[i], 6);
      expect(ds.x[i * 3 + 1]).toBeCloseTo(expected[i], 6);
      expect(ds.x[i * 3 + 2]).toBe(0); // constant column → 0, not NaN
    }
  });

  it('constant columns of awkward values become exactly 0', () => {
    const ds = loadDataset(
      {
        kind: 'inline',
        x: Array.from({ length: 10 }, (_, i) => [0.1, i, -1e-300]),
        y: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
      },
      'classification',
    );
    for (let i = 0; i < 10; i++) {
      expect(ds.x[i * 3]).toBe(0);
      expect(ds.x[i * 3 + 2]).toBe(0);
    }
  });

  it('standardises regression targets', () => {
    const ds = loadDataset(
      { kind: 'inline', x: [[1], [2], [3], [4], [5]], y: [10, 20, 30, 40, 50] },
      'regression',
    );
    expect(ds.outputs).toBe(1);
    const { mean, std } = stats(ds.y);
    expect(Math.abs(mean)).toBeLessThan(1e-6);
    expect(std).toBeCloseTo(1, 5);
    for (let i = 0; i < 5; i++) expect(ds.y[i]).toBeCloseTo(ds.x[i], 6); // both are the same linear sequence
  });

  it('handles values far beyond the float32 range without producing non-finite values', () => {
    const ds = loadDataset(
      { kind: 'inline', x: [[1e300], [-1e300], [3e299], [0]], y: [1e200, -1e200, 5e199, 0] },
      'regression',
    );
    expect(allFinite(ds.x) && allFinite(ds.y)).toBe(true);
    expect(stats(ds.x).std).toBeCloseTo(1, 5);
    expect(stats(ds.y).std).toBeCloseTo(1, 5);
  });

  it('reports ragged rows at the first bad row', () => {
    const x = [[1, 2], [3, 4], [5, 6], [7], [8, 9, 10]];
    const msg = issueOf(
      () => loadDataset({ kind: 'inline', x, y: [0, 1, 0, 1, 0] }, 'classification'),
      'probe.data.x.3',
    );
    expect(msg).toContain('1');
    issueOf(
      () => loadDataset({ kind: 'inline', x: [[], []], y: [0, 1] }, 'classification'),
      'probe.data.x.0',
    );
  });

  it('reports non-finite cells at probe.data.x.i.j', () => {
    const x = [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, NaN],
    ];
    expect(
      issueOf(
        () => loadDataset({ kind: 'inline', x, y: [0, 1, 0, 1] }, 'classification'),
        'probe.data.x.3.1',
      ),
    ).toContain('NaN');
    issueOf(
      () => loadDataset({ kind: 'inline', x: [[1], [Infinity]], y: [0, 1] }, 'regression'),
      'probe.data.x.1.0',
    );
    issueOf(
      () =>
        loadDataset(
          { kind: 'inline', x: [[1], ['2' as unknown as number]], y: [0, 1] },
          'regression',
        ),
      'probe.data.x.1.0',
    );
  });

  it('reports empty or too short x', () => {
    issueOf(() => loadDataset({ kind: 'inline', x: [], y: [] }, 'classification'), 'probe.data.x');
    issueOf(() => loadDataset({ kind: 'inline', x: [[1]], y: [0] }, 'regression'), 'probe.data.x');
  });

  it('reports a y of the wrong length at probe.data.y', () => {
    expect(
      issueOf(
        () => loadDataset({ kind: 'inline', x: [[1], [2], [3]], y: [0, 1] }, 'classification'),
        'probe.data.y',
      ),
    ).toContain('3');
  });

  it('reports bad class labels at probe.data.y.i', () => {
    const x = [[1], [2], [3], [4]];
    issueOf(
      () => loadDataset({ kind: 'inline', x, y: [0, 1, 1.5, 0] }, 'classification'),
      'probe.data.y.2',
    );
    issueOf(
      () => loadDataset({ kind: 'inline', x, y: [0, 1, 0, -1] }, 'classification'),
      'probe.data.y.3',
    );
    expect(
      issueOf(
        () => loadDataset({ kind: 'inline', x, y: [0, 5000, 1, 0] }, 'classification'),
        'probe.data.y.1',
      ),
    ).toContain('out of range');
    issueOf(
      () => loadDataset({ kind: 'inline', x, y: [0, 1, NaN, 0] }, 'classification'),
      'probe.data.y.2',
    );
    issueOf(
      () => loadDataset({ kind: 'inline', x, y: [0, 1, 2, Infinity] }, 'regression'),
      'probe.data.y.3',
    );
  });

  it('reports a single class at probe.data.y', () => {
    issueOf(
      () => loadDataset({ kind: 'inline', x: [[1], [2], [3]], y: [0, 0, 0] }, 'classification'),
      'probe.data.y',
    );
    // a single distinct label is one class however high it is
    issueOf(
      () => loadDataset({ kind: 'inline', x: [[1], [2], [3]], y: [1, 1, 1] }, 'classification'),
      'probe.data.y',
    );
    // labels need not all be present: classes = max label + 1
    expect(
      loadDataset({ kind: 'inline', x: [[1], [2], [3]], y: [0, 2, 2] }, 'classification').outputs,
    ).toBe(3);
  });
});

// ---------------------------------------------------------------------------

describe('CSV data', () => {
  const csv = (text: string, target: string, task: Task = 'classification', delimiter?: string) =>
    loadDataset({ kind: 'csv', text, target, ...(delimiter ? { delimiter } : {}) }, task);

  it('parses a header, numbers, quotes, \\r\\n and a trailing newline', () => {
    const text =
      'age, "height" ,species\r\n30,1.8,cat\r\n" 40 ",1.6,dog\r\n50 , 1.7 ,"cat"\r\n60,2e0,bird\r\n';
    const ds = csv(text, 'species');
    expect(ds.n).toBe(4);
    expect(ds.features).toBe(2);
    expect(ds.outputs).toBe(3);
    expect(ds.labels).toEqual(['bird', 'cat', 'dog']); // sorted
    expect(Array.from(ds.y)).toEqual([1, 2, 1, 0]);
    expect(Math.abs(columnStats(ds, 0).mean)).toBeLessThan(1e-6);
    expect(columnStats(ds, 0).std).toBeCloseTo(1, 5);
    // the age column (30..60) is first, the height column second
    expect(ds.x[0]).toBeLessThan(ds.x[2]);
    expect(ds.x[3 * 2 + 1]).toBeGreaterThan(ds.x[1 * 2 + 1]);
  });

  it('accepts the target in any column, and other delimiters', () => {
    const ds = csv('y;a;b\n1;1;0\n0;2;0\n1;3;0\n', 'y', 'classification', ';');
    expect(ds.features).toBe(2);
    expect(Array.from(ds.y)).toEqual([1, 0, 1]);
    expect(ds.x[1]).toBe(0); // constant column b
  });

  it('sorts integer labels numerically', () => {
    const ds = csv('a,t\n1,10\n2,9\n3,-1\n4,10\n5,100\n', 't');
    expect(ds.labels).toEqual(['-1', '9', '10', '100']);
    expect(Array.from(ds.y)).toEqual([2, 1, 0, 2, 3]);
  });

  it('standardises numeric regression targets', () => {
    const ds = csv('a,t\n1,10\n2,20\n3,30\n', 't', 'regression');
    expect(ds.outputs).toBe(1);
    expect(Math.abs(stats(ds.y).mean)).toBeLessThan(1e-6);
    expect(stats(ds.y).std).toBeCloseTo(1, 5);
  });

  it('reports a non-numeric cell with its line and column', () => {
    const text = 'name,age,label\n1,20,a\n2,30,b\n3,40,a\n4,abc,b\n';
    const msg = issueOf(() => csv(text, 'label'), 'probe.data.text');
    expect(msg).toContain('line 5');
    expect(msg).toContain("'age'");
    expect(msg).toContain("'abc'");
    expect(msg).toContain('not a number');
    // NaN / Infinity / hex are not numbers either
    for (const bad of ['NaN', 'Infinity', '0x10', '']) {
      const m = issueOf(() => csv(`a,b\n1,0\n${bad},1\n`, 'b'), 'probe.data.text');
      expect(m).toContain('line 3');
    }
  });

  it('reports an unknown target column, listing the columns', () => {
    const msg = issueOf(() => csv('a,b,c\n1,2,0\n3,4,1\n', 'd'), 'probe.data.target');
    expect(msg).toContain("'d'");
    expect(msg).toContain("'a', 'b', 'c'");
  });

  it('reports a row with the wrong number of cells, with its line', () => {
    const msg = issueOf(() => csv('a,b,c\n1,2,0\n3,4,1\n5,6\n', 'c'), 'probe.data.text');
    expect(msg).toContain('line 4');
    expect(msg).toContain('2 cells');
  });

  it('reports a single class', () => {
    expect(issueOf(() => csv('a,b\n1,x\n2,x\n3,x\n', 'b'), 'probe.data.text')).toContain(
      'single class',
    );
  });

  it('reports non-numeric regression targets and too few rows', () => {
    expect(issueOf(() => csv('a,b\n1,2\n2,x\n', 'b', 'regression'), 'probe.data.text')).toContain(
      'line 3',
    );
    issueOf(() => csv('a,b\n1,2\n', 'b', 'regression'), 'probe.data.text');
    issueOf(() => csv('b\n1\n2\n', 'b', 'regression'), 'probe.data.text');
    issueOf(() => csv('   \n', 'b', 'regression'), 'probe.data.text');
  });
});

// ---------------------------------------------------------------------------

describe('validation rows (probe.data.validation)', () => {
  const x = [[0], [2], [4], [6]];
  const inline = (validation: unknown, task: Task = 'classification', y = [0, 1, 0, 1]) =>
    loadDataset({ kind: 'inline', x, y, validation } as DataSpec, task);

  it("are standardised with the data's statistics, not their own", () => {
    // The data's column has mean 3 and std sqrt(5): 3 maps to 0, 3 + sqrt(5) to 1.
    const ds = inline({ x: [[3], [3 + Math.sqrt(5)]], y: [1, 0] });
    expect(ds.n).toBe(4);
    expect(ds.validation!.n).toBe(2);
    expect(ds.validation!.features).toBe(1);
    expect(ds.validation!.outputs).toBe(2);
    expect(ds.validation!.x[0]).toBeCloseTo(0, 6);
    expect(ds.validation!.x[1]).toBeCloseTo(1, 6);
    expect(Array.from(ds.validation!.y)).toEqual([1, 0]);
    // Regression targets too: the data's y [0, 2, 4, 6] puts 6 at 3/sqrt(5).
    const r = inline({ x: [[0]], y: [6] }, 'regression', [0, 2, 4, 6]);
    expect(r.validation!.y[0]).toBeCloseTo(3 / Math.sqrt(5), 6);
    expect(loadDataset({ kind: 'inline', x, y: [0, 1, 0, 1] }, 'classification').validation).toBe(
      undefined,
    );
  });

  it('must be as wide as the data: a 422 at the row that is not', () => {
    const msg = issueOf(() => inline({ x: [[1], [1, 2]], y: [0, 1] }), 'probe.data.validation.x.1');
    expect(msg).toContain('row has 2 values but the data has 1 feature');
    issueOf(
      () =>
        loadDataset(
          {
            kind: 'synthetic',
            name: 'blobs',
            n: 64,
            features: 3,
            validation: { x: [[1, 2]], y: [0] },
          },
          'classification',
        ),
      'probe.data.validation.x.0',
    );
  });

  it('takes class ids of the data (CSV: labels of its target column), one target per row', () => {
    expect(issueOf(() => inline({ x: [[1]], y: [2] }), 'probe.data.validation.y.0')).toContain(
      'class ids are integers 0..1',
    );
    issueOf(() => inline({ x: [[1], [2]], y: [0] }), 'probe.data.validation.y');
    issueOf(() => inline({ x: [[1]], y: ['a'] }, 'regression'), 'probe.data.validation.y.0');
    issueOf(() => inline({ x: [[Number.NaN]], y: [0] }), 'probe.data.validation.x.0.0');
    const text = 'a,label\n1,cat\n2,dog\n3,cat\n4,dog\n';
    const ds = loadDataset(
      { kind: 'csv', text, target: 'label', validation: { x: [[1], [4]], y: ['dog', 'cat'] } },
      'classification',
    );
    expect(ds.labels).toEqual(['cat', 'dog']);
    expect(Array.from(ds.validation!.y)).toEqual([1, 0]);
    expect(
      issueOf(
        () =>
          loadDataset(
            { kind: 'csv', text, target: 'label', validation: { x: [[1]], y: ['cow'] } },
            'classification',
          ),
        'probe.data.validation.y.0',
      ),
    ).toContain('cat, dog');
  });

  it("count toward the data's size limits", () => {
    issueOf(
      () =>
        loadDataset(
          {
            kind: 'synthetic',
            name: 'linear',
            n: 200_000,
            features: 1,
            validation: { x: [[1]], y: [0] },
          },
          'regression',
        ),
      'probe.data.validation',
      413,
    );
    const spec: DataSpec = {
      kind: 'inline',
      x: [[1], [2], [3]],
      y: [0, 1, 0],
      validation: { x: [[1], [2]], y: [0, 1] },
    };
    // 3 + 2 rows of 2 cells: over a cap of 9, within one of 10.
    issueOf(() => loadWithinLimits(spec, 'classification', 9), 'probe.data', 413);
    expect(loadWithinLimits(spec, 'classification', 10).validation!.n).toBe(2);
  });
});

// ---------------------------------------------------------------------------

describe('BatchSampler', () => {
  it('covers every index exactly once per epoch, dropping the incomplete tail', () => {
    const n = 103;
    const b = 10;
    const s = new BatchSampler(n, b, 1);
    for (let epoch = 0; epoch < 3; epoch++) {
      const seen = new Set<number>();
      for (let k = 0; k < Math.floor(n / b); k++) {
        const batch = s.next();
        expect(batch).toBeInstanceOf(Int32Array);
        expect(batch.length).toBe(b);
        for (const i of batch) {
          expect(i >= 0 && i < n).toBe(true);
          expect(seen.has(i)).toBe(false);
          seen.add(i);
        }
      }
      expect(seen.size).toBe(100); // 3 rows are dropped this epoch
    }
  });

  it('covers all rows when the batch size divides n, and reshuffles each epoch', () => {
    const s = new BatchSampler(40, 8, 3);
    const epochs: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const order: number[] = [];
      for (let k = 0; k < 5; k++) order.push(...s.next());
      expect([...order].sort((p, q) => p - q)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      epochs.push(order);
    }
    expect(epochs[1]).not.toEqual(epochs[0]);
    expect(epochs[2]).not.toEqual(epochs[1]);
    expect(s.epoch).toBe(2);
  });

  it('is reproducible from its seed', () => {
    const take = (seed: number) => {
      const s = new BatchSampler(50, 7, seed);
      return Array.from({ length: 20 }, () => Array.from(s.next()));
    };
    expect(take(4)).toEqual(take(4));
    expect(take(4)).not.toEqual(take(5));
  });

  it('rejects impossible batch sizes', () => {
    expect(() => new BatchSampler(10, 11, 0)).toThrow(RangeError);
    expect(() => new BatchSampler(10, 0, 0)).toThrow(RangeError);
  });
});

describe('gatherBatch', () => {
  it('copies the chosen rows into the buffers', () => {
    const ds = loadDataset(syn('blobs', { n: 30, features: 3, seed: 2 }), 'classification');
    const idx = Int32Array.from([29, 0, 7, 7]);
    const xOut = new Float32Array(4 * 3).fill(NaN);
    const yOut = new Float32Array(4).fill(NaN);
    gatherBatch(ds, idx, xOut, yOut);
    for (let i = 0; i < idx.length; i++) {
      expect(Array.from(xOut.subarray(i * 3, i * 3 + 3))).toEqual(
        Array.from(ds.x.subarray(idx[i] * 3, idx[i] * 3 + 3)),
      );
      expect(yOut[i]).toBe(ds.y[idx[i]]);
    }
  });

  it('works with the sampler and checks buffer sizes', () => {
    const ds = loadDataset(syn('teacher', { n: 64, features: 5, seed: 1 }), 'regression');
    const s = new BatchSampler(ds.n, 16, 9);
    const xOut = new Float32Array(16 * 5);
    const yOut = new Float32Array(16);
    const idx = s.next();
    gatherBatch(ds, idx, xOut, yOut);
    expect(yOut[15]).toBe(ds.y[idx[15]]);
    expect(xOut[15 * 5 + 4]).toBe(ds.x[idx[15] * 5 + 4]);
    expect(() => gatherBatch(ds, idx, new Float32Array(10), yOut)).toThrow(RangeError);
    expect(() => gatherBatch(ds, Int32Array.from([64]), xOut, yOut)).toThrow(RangeError);
  });
});

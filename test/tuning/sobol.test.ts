import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tuning/rng';
import { SOBOL_MAX_DIMS, sobolPoint, sobolPointUnscrambled } from '../../src/tuning/sobol';
import { MAX_PARAMS } from '../../src/tuning/validate';

/** L2-star discrepancy (Warnock's closed form): lower is more uniform. */
function l2Star(points: number[][]): number {
  const n = points.length;
  const d = points[0].length;
  let a = 0;
  for (const p of points) a += p.reduce((acc, x) => acc * (1 - x * x), 1);
  let b = 0;
  for (const p of points)
    for (const q of points) b += p.reduce((acc, x, k) => acc * (1 - Math.max(x, q[k])), 1);
  return Math.sqrt(3 ** -d - (2 ** (1 - d) / n) * a + b / (n * n));
}

describe('Sobol sequence', () => {
  it('supports more dimensions than a space has parameters', () => {
    expect(SOBOL_MAX_DIMS).toBeGreaterThanOrEqual(Math.max(40, MAX_PARAMS));
  });

  it('matches the reference unscrambled sequence (scipy.stats.qmc.Sobol, Joe-Kuo 6.21201, 32 bits)', () => {
    // Reference values from scipy 1.17: Sobol(d, scramble=False, bits=32), fast_forward(index).
    const first8 = [
      [0.0, 0.0, 0.0, 0.0],
      [0.5, 0.5, 0.5, 0.5],
      [0.75, 0.25, 0.25, 0.25],
      [0.25, 0.75, 0.75, 0.75],
      [0.375, 0.375, 0.625, 0.875],
      [0.875, 0.875, 0.125, 0.375],
      [0.625, 0.125, 0.875, 0.625],
      [0.125, 0.625, 0.375, 0.125],
    ];
    for (let i = 0; i < 8; i++) {
      const p = sobolPointUnscrambled(i, 40);
      expect([p[0], p[1], p[2], p[39]]).toEqual(first8[i]);
    }
    const dims = [0, 1, 2, 39, 63, 127];
    const reference: [number, number[]][] = [
      [8, [0.1875, 0.3125, 0.9375, 0.5625, 0.6875, 0.0625]],
      [
        1000003,
        [
          0.2764749526977539, 0.5619192123413086, 0.07799625396728516, 0.26140880584716797,
          0.3081216812133789, 0.4584512710571289,
        ],
      ],
      [
        123456789,
        [
          0.9758977368474007, 0.792431928217411, 0.006405912339687347, 0.9974938705563545,
          0.2532354071736336, 0.6704075857996941,
        ],
      ],
    ];
    for (const [index, values] of reference) {
      const p = sobolPointUnscrambled(index, 128);
      expect(dims.map((d) => p[d])).toEqual(values);
    }
  });

  it('gives points in [0, 1), deterministically, with prefix-stable dimensions', () => {
    for (const seed of [0, 1, 42, -3.5, 2 ** 40]) {
      for (const index of [0, 1, 2, 1023, 65_537, 2 ** 32 - 1]) {
        const p = sobolPoint(index, SOBOL_MAX_DIMS, seed);
        expect(p).toHaveLength(SOBOL_MAX_DIMS);
        for (const x of p) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThan(1);
        }
        expect(sobolPoint(index, SOBOL_MAX_DIMS, seed)).toEqual(p);
        expect(sobolPoint(index, 3, seed)).toEqual(p.slice(0, 3));
      }
    }
  });

  it('scrambles: different seeds give different points, and point 0 is not the origin', () => {
    const a = sobolPoint(0, 8, 1);
    const b = sobolPoint(0, 8, 2);
    expect(a).not.toEqual(b);
    expect(a.every((x) => x > 0)).toBe(true);
    expect(sobolPoint(5, 8, 1)).not.toEqual(sobolPoint(5, 8, 2));
  });

  it('keeps the net property: each block of 2^m points has one point per 1/2^m bin of every axis', () => {
    for (const seed of [0, 7, 12345]) {
      for (let m = 1; m <= 9; m++) {
        const n = 2 ** m;
        for (const start of [0, n]) {
          const pts = Array.from({ length: n }, (_, i) =>
            sobolPoint(start + i, SOBOL_MAX_DIMS, seed),
          );
          for (let d = 0; d < SOBOL_MAX_DIMS; d++) {
            const bins = new Set(pts.map((p) => Math.floor(p[d] * n)));
            expect(bins.size).toBe(n);
          }
        }
      }
    }
  });

  it('keeps the (0, m, 2)-net property of its first two dimensions', () => {
    const m = 8;
    const n = 2 ** m;
    for (const seed of [3, 99]) {
      const pts = Array.from({ length: n }, (_, i) => sobolPoint(i, 2, seed));
      for (let a = 0; a <= m; a++) {
        const b = m - a;
        const boxes = new Set(
          pts.map(([x, y]) => `${Math.floor(x * 2 ** a)},${Math.floor(y * 2 ** b)}`),
        );
        expect(boxes.size).toBe(n);
      }
    }
  });

  it('has a far lower star discrepancy than random points in 2-D', () => {
    const n = 256;
    let sobol = 0;
    let random = 0;
    const seeds = [1, 2, 3, 4, 5];
    for (const seed of seeds) {
      sobol += l2Star(Array.from({ length: n }, (_, i) => sobolPoint(i, 2, seed)));
      const rng = new Rng(seed);
      random += l2Star(Array.from({ length: n }, () => [rng.next(), rng.next()]));
    }
    expect(sobol / seeds.length).toBeLessThan(random / seeds.length / 4);
  });

  it('rejects bad arguments', () => {
    expect(() => sobolPoint(-1, 2, 0)).toThrow(RangeError);
    expect(() => sobolPoint(1.5, 2, 0)).toThrow(RangeError);
    expect(() => sobolPoint(2 ** 32, 2, 0)).toThrow(RangeError);
    expect(() => sobolPoint(0, 0, 0)).toThrow(RangeError);
    expect(() => sobolPoint(0, SOBOL_MAX_DIMS + 1, 0)).toThrow(RangeError);
    expect(() => sobolPoint(0, 2, NaN)).toThrow(RangeError);
  });
});

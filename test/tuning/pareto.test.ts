import { describe, expect, it } from 'vitest';
import {
  constrainedDominates,
  crowdingDistance,
  dominates,
  greedyHypervolumeSubset,
  hypervolume,
  hypervolumeContributions,
  nonDominatedFronts,
  nonDominatedRanks,
  paretoFront,
} from '../../src/tuning/pareto';
import { Rng } from '../../src/tuning/rng';
import type { Direction, FrozenTrial } from '../../src/tuning/types';

function moTrial(
  number: number,
  values: number[] | null,
  constraints?: number[] | null,
  state: FrozenTrial['state'] = 'complete',
): FrozenTrial {
  return { number, state, params: {}, value: null, values, constraints, intermediate: [] };
}

/** Exact hypervolume by inclusion-exclusion over every subset (small n only). */
function bruteHv(points: number[][], ref: number[]): number {
  const inside = points.filter((p) => p.every((v, i) => v < ref[i]));
  let hv = 0;
  for (let mask = 1; mask < 1 << inside.length; mask++) {
    const corner = ref.map(() => -Infinity);
    let bits = 0;
    inside.forEach((p, i) => {
      if (mask & (1 << i)) {
        bits++;
        p.forEach((v, k) => (corner[k] = Math.max(corner[k], v)));
      }
    });
    hv += (bits % 2 ? 1 : -1) * corner.reduce((s, c, k) => s * (ref[k] - c), 1);
  }
  return hv;
}

function randomPoints(rng: Rng, n: number, d: number, grid = 0): number[][] {
  return Array.from({ length: n }, () =>
    Array.from({ length: d }, () => (grid ? rng.int(grid) / grid : rng.next())),
  );
}

describe('dominance', () => {
  it('respects each direction', () => {
    const dirs: Direction[] = ['minimize', 'maximize'];
    expect(dominates([1, 5], [2, 4], dirs)).toBe(true);
    expect(dominates([1, 4], [2, 5], dirs)).toBe(false);
    expect(dominates([2, 5], [1, 4], dirs)).toBe(false);
    expect(dominates([1, 5], [1, 5], dirs)).toBe(false);
    expect(dominates([1, 5], [1, 4], dirs)).toBe(true);
  });

  it("constrained domination is Optuna's: feasible first, then the smaller violation", () => {
    const dirs: Direction[] = ['minimize', 'minimize'];
    const good = moTrial(0, [5, 5], [0, -1]);
    const better = moTrial(1, [1, 1], [-2, 0]);
    const slightly = moTrial(2, [0, 0], [0.5, -3]);
    const badly = moTrial(3, [0, 0], [0.5, 2]);
    const none = moTrial(4, [0, 0], null);
    const running = moTrial(5, null, [0], 'running');
    expect(constrainedDominates(better, good, dirs)).toBe(true);
    expect(constrainedDominates(good, better, dirs)).toBe(false);
    expect(constrainedDominates(good, slightly, dirs)).toBe(true); // feasible beats infeasible, whatever the values
    expect(constrainedDominates(slightly, good, dirs)).toBe(false);
    expect(constrainedDominates(slightly, badly, dirs)).toBe(true); // 0.5 < 2.5
    expect(constrainedDominates(badly, slightly, dirs)).toBe(false);
    expect(constrainedDominates(badly, none, dirs)).toBe(true); // constraints told beats none told
    expect(constrainedDominates(none, badly, dirs)).toBe(false);
    expect(constrainedDominates(badly, running, dirs)).toBe(true);
    expect(constrainedDominates(running, badly, dirs)).toBe(false);
  });
});

describe('non-dominated sorting', () => {
  it('matches the definition on random point sets with ties', () => {
    const rng = new Rng(5);
    for (let rep = 0; rep < 30; rep++) {
      const d = 2 + (rep % 2);
      const pts = randomPoints(rng, 25, d, 6);
      const ranks = nonDominatedRanks(pts);
      const dom = (a: number[], b: number[]) =>
        a.every((v, k) => v <= b[k]) && a.some((v, k) => v < b[k]);
      for (let i = 0; i < pts.length; i++) {
        // No point of the same or a later rank dominates i; rank > 0 means some point of rank - 1 does.
        for (let j = 0; j < pts.length; j++)
          if (ranks[j] >= ranks[i]) expect(dom(pts[j], pts[i])).toBe(false);
        if (ranks[i] > 0)
          expect(pts.some((p, j) => ranks[j] === ranks[i] - 1 && dom(p, pts[i]))).toBe(true);
      }
    }
  });

  it('fronts partition the indices, each in ascending order', () => {
    const pts = [
      [3, 1],
      [1, 3],
      [2, 2],
      [3, 3],
      [4, 4],
      [2, 2],
    ];
    const fronts = nonDominatedFronts(
      pts.length,
      (i, j) => pts[i].every((v, k) => v <= pts[j][k]) && pts[i].some((v, k) => v < pts[j][k]),
    );
    expect(fronts).toEqual([[0, 1, 2, 5], [3], [4]]);
  });
});

describe('crowding distance', () => {
  it('is the normalised neighbour gap, infinite at the extremes', () => {
    // Sorted by f1: (0,4) (1,2) (3,1) (4,0); ranges 4 and 4.
    const cd = crowdingDistance([
      [1, 2],
      [4, 0],
      [0, 4],
      [3, 1],
    ]);
    expect(cd[2]).toBe(Infinity);
    expect(cd[1]).toBe(Infinity);
    expect(cd[0]).toBeCloseTo((3 - 0) / 4 + (4 - 1) / 4, 12);
    expect(cd[3]).toBeCloseTo((4 - 1) / 4 + (2 - 0) / 4, 12);
  });

  it('an objective where every point is equal adds nothing', () => {
    expect(
      crowdingDistance([
        [1, 5],
        [2, 5],
        [3, 5],
      ]),
    ).toEqual([Infinity, 1, Infinity]);
  });
});

describe('paretoFront', () => {
  it('keeps the feasible complete trials nobody dominates, in number order, under mixed directions', () => {
    const dirs: Direction[] = ['minimize', 'maximize'];
    const trials = [
      moTrial(0, [1, 1]),
      moTrial(1, [2, 3]),
      moTrial(2, [0.5, 0.5]),
      moTrial(3, [2, 2]), // dominated by 1
      moTrial(4, [0, 10], [1]), // infeasible: ignored even though it would dominate everything
      moTrial(5, [3, 3]), // dominated by 1
      moTrial(6, null, null, 'running'),
      moTrial(7, [2, 3], [-1]), // equal to 1: both stay
      moTrial(8, [Number.NaN, 1]),
    ];
    expect(paretoFront(trials, dirs).map((t) => t.number)).toEqual([0, 1, 2, 7]);
  });

  it('with one objective it is the best trials', () => {
    const trials: FrozenTrial[] = [3, 1, 2, 1].map((v, i) => ({
      number: i,
      state: 'complete',
      params: {},
      value: v,
      intermediate: [],
    }));
    expect(paretoFront(trials, ['minimize']).map((t) => t.number)).toEqual([1, 3]);
    expect(paretoFront(trials, ['maximize']).map((t) => t.number)).toEqual([0]);
  });
});

describe('hypervolume', () => {
  it('hand-computed 2-D and 3-D cases', () => {
    expect(
      hypervolume(
        [
          [1, 3],
          [2, 2],
          [3, 1],
        ],
        [4, 4],
      ),
    ).toBeCloseTo(3 + 2 + 1, 12);
    expect(hypervolume([[0, 0, 0]], [1, 2, 3])).toBeCloseTo(6, 12);
    // Boxes of volume 4 ([0,2]x[0,2]x[1,2]) and 2 ([1,2]x[1,2]x[0,2]) overlapping in a unit cube: 4 + 2 - 1.
    expect(
      hypervolume(
        [
          [0, 0, 1],
          [1, 1, 0],
        ],
        [2, 2, 2],
      ),
    ).toBeCloseTo(5, 12);
    // Points on or beyond the reference point add nothing.
    expect(
      hypervolume(
        [
          [4, 0],
          [5, 5],
        ],
        [4, 4],
      ),
    ).toBe(0);
  });

  it('matches inclusion-exclusion on random sets in 2, 3 and 4 objectives', () => {
    const rng = new Rng(11);
    for (let rep = 0; rep < 40; rep++) {
      const d = 2 + (rep % 3);
      const pts = randomPoints(rng, 3 + rng.int(7), d, rep % 4 === 0 ? 5 : 0);
      const ref = Array.from({ length: d }, () => 0.8 + 0.4 * rng.next());
      expect(hypervolume(pts, ref)).toBeCloseTo(bruteHv(pts, ref), 10);
    }
  });

  it('contributions are zero for dominated points and exclusive boxes otherwise', () => {
    const c = hypervolumeContributions(
      [
        [1, 3],
        [2, 2],
        [3, 1],
        [3, 3],
      ],
      [4, 4],
    );
    expect(c.map((v) => +v.toFixed(12))).toEqual([1, 1, 1, 0]);
  });

  it('the greedy subset takes the largest added volume each time', () => {
    // (2,2) alone has the largest box (4); then the two extremes each add 1.5 * 0.5 + ..., more than (2.1, 2.1) adds (0).
    const pts = [
      [0.5, 3.5],
      [2, 2],
      [3.5, 0.5],
      [2.1, 2.1],
    ];
    const pick = greedyHypervolumeSubset(pts, 3, [4, 4]);
    expect(pick[0]).toBe(1);
    expect(pick.slice(1).sort()).toEqual([0, 2]);
    // And the chosen subset's volume equals the best 3-subset by brute force here.
    const best = Math.max(
      ...[
        [0, 1, 2],
        [0, 1, 3],
        [0, 2, 3],
        [1, 2, 3],
      ].map((s) =>
        bruteHv(
          s.map((i) => pts[i]),
          [4, 4],
        ),
      ),
    );
    expect(
      hypervolume(
        pick.map((i) => pts[i]),
        [4, 4],
      ),
    ).toBeCloseTo(best, 12);
  });
});

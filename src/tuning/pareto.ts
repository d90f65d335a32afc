/**
 * Several objectives: Pareto dominance, non-dominated sorting, crowding
 * distance, Optuna's constrained domination, the Pareto front of a study and
 * hypervolume. Pure TypeScript, shared by the samplers (NSGA-II, TPE) and the
 * API (`best_trials`).
 *
 * Conventions: a trial's objective vector is `values` (several objectives) or
 * `[value]` (one); "loss" vectors are the objectives turned to minimisation
 * (maximised ones negated). A trial is feasible when it has no constraints or
 * every constraint is <= 0 (Optuna's `constraints_func`).
 */
import type { Direction, FrozenTrial } from './types';

/** The objective values of a complete trial with one finite value per direction; null otherwise. */
export function objectiveValues(t: FrozenTrial, nObjectives: number): number[] | null {
  if (t.state !== 'complete') return null;
  const vs = t.values != null ? t.values : t.value != null ? [t.value] : null;
  if (!vs || vs.length !== nObjectives) return null;
  for (const v of vs) if (typeof v !== 'number' || Number.isNaN(v)) return null;
  return [...vs];
}

/** `values` turned to minimisation: maximised objectives negated. */
export function toLoss(values: readonly number[], directions: readonly Direction[]): number[] {
  return values.map((v, i) => (directions[i] === 'maximize' ? -v : v));
}

/** Whether loss vector `a` Pareto-dominates `b`: no worse in every objective and better in one. */
export function dominatesLoss(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/** Whether objective vector `a` Pareto-dominates `b` under `directions`. */
export function dominates(
  a: readonly number[],
  b: readonly number[],
  directions: readonly Direction[],
): boolean {
  return dominatesLoss(toLoss(a, directions), toLoss(b, directions));
}

/** Total violation: the sum of the positive constraint values (0: feasible); null when no constraints were told. */
export function violation(constraints: readonly number[] | null | undefined): number | null {
  if (constraints == null) return null;
  let s = 0;
  for (const c of constraints) s += Number.isNaN(c) ? Infinity : Math.max(0, c);
  return s;
}

/** Feasible: no constraints told, or all of them <= 0. */
function isFeasible(t: FrozenTrial): boolean {
  const v = violation(t.constraints);
  return v === null || v === 0;
}

/**
 * Optuna's constrained domination (`_constrained_dominates`) of two trials:
 * a complete trial beats one that is not; a trial with constraints beats one
 * without; feasible beats infeasible; two infeasible: the smaller total
 * violation wins; two feasible (or two without constraints): Pareto dominance.
 */
export function constrainedDominates(
  a: FrozenTrial,
  b: FrozenTrial,
  directions: readonly Direction[],
): boolean {
  const va = objectiveValues(a, directions.length);
  const vb = objectiveValues(b, directions.length);
  if (!va) return false;
  if (!vb) return true;
  const ca = violation(a.constraints);
  const cb = violation(b.constraints);
  if (ca === null && cb === null) return dominates(va, vb, directions);
  if (cb === null) return true;
  if (ca === null) return false;
  if (ca === 0 && cb === 0) return dominates(va, vb, directions);
  if (ca === 0) return true;
  if (cb === 0) return false;
  return ca < cb;
}

/**
 * Fast non-dominated sort (Deb et al.) of n items under a dominance relation:
 * the indices of each front, best front first, each in ascending index order.
 */
export function nonDominatedFronts(n: number, dom: (i: number, j: number) => boolean): number[][] {
  const dominatedBy = new Int32Array(n);
  const dominated: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dom(i, j)) {
        dominated[i].push(j);
        dominatedBy[j]++;
      } else if (dom(j, i)) {
        dominated[j].push(i);
        dominatedBy[i]++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) current.push(i);
  while (current.length > 0) {
    fronts.push(current);
    const next: number[] = [];
    for (const i of current) {
      for (const j of dominated[i]) if (--dominatedBy[j] === 0) next.push(j);
    }
    next.sort((a, b) => a - b);
    current = next;
  }
  return fronts;
}

/** Non-dominated rank (0 = Pareto front) of each loss vector. */
export function nonDominatedRanks(losses: readonly (readonly number[])[]): number[] {
  const ranks = new Array<number>(losses.length).fill(0);
  nonDominatedFronts(losses.length, (i, j) => dominatesLoss(losses[i], losses[j])).forEach(
    (f, r) => {
      for (const i of f) ranks[i] = r;
    },
  );
  return ranks;
}

/**
 * Crowding distance of each point of one front (Optuna's `_calc_crowding_distance`):
 * per objective, the gap between the two neighbours in sorted order divided by the
 * objective's finite range, summed; the extremes get Infinity; an objective where all
 * points are equal adds nothing.
 */
export function crowdingDistance(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const out = new Array<number>(n).fill(0);
  if (n === 0) return out;
  const m = points[0].length;
  for (let k = 0; k < m; k++) {
    const order = [...Array(n).keys()].sort((a, b) => points[a][k] - points[b][k] || a - b);
    const lo = points[order[0]][k];
    const hi = points[order[n - 1]][k];
    if (lo === hi) continue;
    const vs = [-Infinity, ...order.map((i) => points[i][k]), Infinity];
    const vMin = vs.find((x) => x !== -Infinity)!;
    const vMax = [...vs].reverse().find((x) => x !== Infinity)!;
    let width = vMax - vMin;
    if (!(width > 0)) width = 1;
    for (let j = 0; j < n; j++) {
      const gap = vs[j] === vs[j + 2] ? 0 : vs[j + 2] - vs[j];
      out[order[j]] += gap / width;
    }
  }
  return out;
}

/**
 * The Pareto front of a study: its feasible complete trials (one finite value per
 * direction) that no other such trial dominates, in number order. Trials with equal
 * values are all on the front.
 */
export function paretoFront(
  trials: readonly FrozenTrial[],
  directions: readonly Direction[],
): FrozenTrial[] {
  const cands: FrozenTrial[] = [];
  const losses: number[][] = [];
  for (const t of trials) {
    const v = objectiveValues(t, directions.length);
    if (!v || !isFeasible(t)) continue;
    cands.push(t);
    losses.push(toLoss(v, directions));
  }
  const front: FrozenTrial[] = [];
  outer: for (let i = 0; i < cands.length; i++) {
    for (let j = 0; j < cands.length; j++)
      if (j !== i && dominatesLoss(losses[j], losses[i])) continue outer;
    front.push(cands[i]);
  }
  return front.sort((a, b) => a.number - b.number);
}

/**
 * The hypervolume dominated by loss vectors `points` (minimisation) and bounded by
 * `ref`: the measure of { y : some point <= y < ref }. Points not strictly below `ref`
 * in every objective add nothing. Exact: a sweep in 2-D, slicing along the last
 * objective above that (fine for the few objectives and points of a study; the cost
 * grows as n^(d-1) log n).
 */
export function hypervolume(
  points: readonly (readonly number[])[],
  ref: readonly number[],
): number {
  const d = ref.length;
  const inside = points.filter((p) => p.length === d && p.every((v, i) => v < ref[i]));
  return hvRec(inside, ref, d);
}

function hvRec(points: readonly (readonly number[])[], ref: readonly number[], d: number): number {
  if (points.length === 0) return 0;
  if (d === 1) return ref[0] - Math.min(...points.map((p) => p[0]));
  if (d === 2) {
    const s = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let hv = 0;
    let yPrev = ref[1];
    for (const p of s) {
      if (p[1] < yPrev) {
        hv += (ref[0] - p[0]) * (yPrev - p[1]);
        yPrev = p[1];
      }
    }
    return hv;
  }
  // Slices along objective d-1: between consecutive distinct levels, the (d-1)-D volume of the points at or below.
  const s = [...points].sort((a, b) => a[d - 1] - b[d - 1]);
  let hv = 0;
  for (let i = 0; i < s.length; i++) {
    const z = s[i][d - 1];
    const zNext = i + 1 < s.length ? s[i + 1][d - 1] : ref[d - 1];
    if (zNext <= z) continue;
    hv += (zNext - z) * hvRec(s.slice(0, i + 1), ref, d - 1);
  }
  return hv;
}

/** Each point's exclusive hypervolume contribution: hv(all) - hv(all but it). */
export function hypervolumeContributions(
  points: readonly (readonly number[])[],
  ref: readonly number[],
): number[] {
  const total = hypervolume(points, ref);
  return points.map(
    (_, i) =>
      total -
      hypervolume(
        points.filter((__, j) => j !== i),
        ref,
      ),
  );
}

/**
 * Greedy hypervolume subset selection (Optuna's `_solve_hssp`): `k` of the points
 * chosen one at a time by largest added hypervolume; their indices, in choice order.
 */
export function greedyHypervolumeSubset(
  points: readonly (readonly number[])[],
  k: number,
  ref: readonly number[],
): number[] {
  const chosen: number[] = [];
  const taken = new Array<boolean>(points.length).fill(false);
  let hvChosen = 0;
  while (chosen.length < Math.min(k, points.length)) {
    let best = -1;
    let bestGain = -Infinity;
    for (let i = 0; i < points.length; i++) {
      if (taken[i]) continue;
      const gain = hypervolume([...chosen.map((c) => points[c]), points[i]], ref) - hvChosen;
      if (gain > bestGain) {
        bestGain = gain;
        best = i;
      }
    }
    // Every gain NaN (a non-finite point or reference): the first point left, never none.
    if (best < 0) best = taken.indexOf(false);
    taken[best] = true;
    chosen.push(best);
    hvChosen += Number.isFinite(bestGain) ? bestGain : 0;
  }
  return chosen;
}

/**
 * Loss vectors with each infinite coordinate clamped to its objective's finite range (0 where
 * none is finite), as Optuna's GP clamps infinite values: what hypervolumes are measured on,
 * since an infinite reference point or coordinate makes every volume infinite or NaN.
 */
export function finiteLosses(points: readonly (readonly number[])[]): number[][] {
  if (points.length === 0) return [];
  const d = points[0].length;
  const lo = new Array<number>(d).fill(Infinity);
  const hi = new Array<number>(d).fill(-Infinity);
  for (const p of points)
    for (let k = 0; k < d; k++)
      if (Number.isFinite(p[k])) [lo[k], hi[k]] = [Math.min(lo[k], p[k]), Math.max(hi[k], p[k])];
  return points.map((p) =>
    p.map((v, k) => (Number.isFinite(v) ? v : lo[k] > hi[k] ? 0 : v === -Infinity ? lo[k] : hi[k])),
  );
}

/** Optuna's MOTPE reference point for a set of loss vectors: max(1.1 w, 0.9 w) of the worst point, 0 replaced by EPS. */
export function nadirReference(points: readonly (readonly number[])[]): number[] {
  const d = points[0].length;
  const ref: number[] = [];
  for (let k = 0; k < d; k++) {
    let w = -Infinity;
    for (const p of points) w = Math.max(w, p[k]);
    let r = Math.max(1.1 * w, 0.9 * w);
    if (r === 0) r = 1e-12;
    ref.push(r);
  }
  return ref;
}

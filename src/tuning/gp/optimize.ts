/**
 * Maximising an acquisition function over the unit box with mixed
 * dimensions: quasi-random candidates (Roberts' R_d Kronecker sequence with a
 * random Cranley-Patterson shift), then a pattern (coordinate) search from
 * the best few candidates and any extra starting points. Deterministic given
 * the Rng.
 */
import type { Rng } from '../rng';

export type SearchDim =
  /** A value in [0, 1]. */
  | { kind: 'continuous' }
  /** A value in [0, 1] restricted to a grid: `snap` maps to the nearest grid value, `neighbor` to the next one up/down (or the same at an end). */
  | { kind: 'discrete'; snap: (u: number) => number; neighbor: (u: number, dir: 1 | -1) => number }
  /** A choice index 0..nChoices-1. */
  | { kind: 'categorical'; nChoices: number }
  /** A constant (a one-valued parameter). */
  | { kind: 'fixed'; value: number };

export interface AcqOptimizeOptions {
  nCandidates: number;
  /** Pattern searches from the best candidates (in addition to `extraStarts`). */
  nLocalSearch: number;
  /** Cap on score evaluations per pattern search. */
  maxEvalsPerStart: number;
  /** Initial and smallest pattern step, in unit-box coordinates (defaults 0.1 and 1e-3). */
  initialStep?: number;
  minStep?: number;
}

/** The R_d generators: alpha_j = phi_d^-(j+1), phi_d the positive root of x^(d+1) = x + 1. */
function kroneckerAlphas(d: number): Float64Array {
  let phi = 2;
  for (let i = 0; i < 60; i++) phi = Math.pow(1 + phi, 1 / (d + 1));
  const a = new Float64Array(d);
  for (let j = 0; j < d; j++) a[j] = Math.pow(1 / phi, j + 1) % 1;
  return a;
}

/** Point i (0-based) of the shifted R_d sequence in [0,1)^d, written into out. */
function kroneckerPoint(
  i: number,
  alphas: Float64Array,
  shift: Float64Array,
  out: Float64Array,
): Float64Array {
  for (let j = 0; j < alphas.length; j++) {
    const v = shift[j] + (i + 1) * alphas[j];
    out[j] = v - Math.floor(v);
  }
  return out;
}

/** Maps a point of [0,1)^d onto the search dimensions (in place). */
function projectToDims(u: Float64Array, dims: readonly SearchDim[]): Float64Array {
  for (let j = 0; j < dims.length; j++) {
    const dim = dims[j];
    if (dim.kind === 'discrete') u[j] = dim.snap(u[j]);
    else if (dim.kind === 'categorical')
      u[j] = Math.min(dim.nChoices - 1, Math.floor(u[j] * dim.nChoices));
    else if (dim.kind === 'fixed') u[j] = dim.value;
  }
  return u;
}

/** Pattern search from x (modified in place); returns the final score. */
function patternSearch(
  x: Float64Array,
  fx: number,
  dims: readonly SearchDim[],
  score: (x: Float64Array) => number,
  maxEvals: number,
  initialStep = 0.1,
  minStep = 1e-3,
): number {
  const d = dims.length;
  const xt = Float64Array.from(x);
  let step = initialStep;
  let evals = 0;
  const tryValue = (j: number, v: number): boolean => {
    if (v === x[j] || evals >= maxEvals) return false;
    xt.set(x);
    xt[j] = v;
    const ft = score(xt);
    evals++;
    if (ft > fx) {
      x[j] = v;
      fx = ft;
      return true;
    }
    return false;
  };
  while (evals < maxEvals) {
    let improved = false;
    for (let j = 0; j < d && evals < maxEvals; j++) {
      const dim = dims[j];
      if (dim.kind === 'fixed') continue;
      if (dim.kind === 'categorical') {
        const cur = x[j];
        for (let c = 0; c < dim.nChoices; c++) {
          if (c !== cur && tryValue(j, c)) {
            improved = true;
            break;
          }
        }
      } else if (dim.kind === 'continuous') {
        const cur = x[j];
        if (tryValue(j, Math.min(1, cur + step)) || tryValue(j, Math.max(0, cur - step)))
          improved = true;
      } else {
        const cur = x[j];
        for (const dir of [1, -1] as const) {
          let v = dim.snap(Math.min(1, Math.max(0, cur + dir * step)));
          if (v === cur) v = dim.neighbor(cur, dir);
          if (tryValue(j, v)) {
            improved = true;
            break;
          }
        }
      }
    }
    if (!improved) {
      if (step <= minStep) break;
      step = Math.max(minStep, step / 2);
    }
  }
  return fx;
}

export interface AcqResult {
  x: Float64Array;
  value: number;
}

/**
 * Best point found for `score` (higher is better; -Infinity allowed): scores
 * nCandidates quasi-random points, then pattern-searches from the top
 * nLocalSearch of them and from each of `extraStarts`.
 */
export function maximizeAcquisition(
  dims: readonly SearchDim[],
  score: (x: Float64Array) => number,
  rng: Rng,
  opts: AcqOptimizeOptions,
  extraStarts: readonly Float64Array[] = [],
): AcqResult {
  const d = dims.length;
  const alphas = kroneckerAlphas(d);
  const shift = new Float64Array(d);
  for (let j = 0; j < d; j++) shift[j] = rng.next();
  const nCand = Math.max(1, Math.floor(opts.nCandidates));
  const cands = new Float64Array(nCand * d);
  const scores = new Float64Array(nCand);
  const u = new Float64Array(d);
  for (let i = 0; i < nCand; i++) {
    projectToDims(kroneckerPoint(i, alphas, shift, u), dims);
    cands.set(u, i * d);
    scores[i] = score(u);
  }
  // Top candidates by score (ties: lower index first), then the extra starts.
  const idx = Array.from({ length: nCand }, (_, i) => i);
  idx.sort((a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    if (sa === sb || (Number.isNaN(sa) && Number.isNaN(sb))) return a - b;
    if (Number.isNaN(sa)) return 1;
    if (Number.isNaN(sb)) return -1;
    return sb - sa;
  });
  let best: Float64Array = Float64Array.from(cands.subarray(idx[0] * d, idx[0] * d + d));
  let bestVal = scores[idx[0]];
  const starts: { x: Float64Array; f: number }[] = [];
  const nLocal = Math.max(0, Math.min(nCand, Math.floor(opts.nLocalSearch)));
  for (let r = 0; r < nLocal; r++) {
    const i = idx[r];
    starts.push({ x: Float64Array.from(cands.subarray(i * d, i * d + d)), f: scores[i] });
  }
  for (const s of extraStarts) {
    const x = Float64Array.from(s);
    starts.push({ x, f: score(x) });
  }
  for (const s of starts) {
    const f = patternSearch(
      s.x,
      s.f,
      dims,
      score,
      opts.maxEvalsPerStart,
      opts.initialStep,
      opts.minStep,
    );
    if (f > bestVal || Number.isNaN(bestVal)) {
      bestVal = f;
      best = s.x;
    }
  }
  return { x: best, value: bestVal };
}

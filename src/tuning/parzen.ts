/**
 * Parzen estimators for TPE: a mixture of product kernels, one component per
 * observation plus a prior component, after Optuna 3.x's `_ParzenEstimator`.
 *
 * Each dimension is either numerical (a truncated normal per component on
 * [low, high]; with `step > 0` a discretised one on the grid low, low + step,
 * ..., high, truncated to [low - step/2, high + step/2]) or categorical (a
 * probability vector per component). Components share their index across
 * dimensions, so with several dimensions the estimator is the joint
 * (multivariate) product kernel; with one it is the classic univariate TPE.
 *
 * All numbers are in the sampler's internal scale (logarithms for log
 * parameters, choice indices for categoricals). Pure arithmetic on
 * Float64Arrays: sampling costs O(components + dims) per draw, a density
 * evaluation O(components * dims) per point.
 */
import type { Rng } from './rng';
import { logNdtr } from './special';

export { erf, logNdtr } from './special';

const EPS = 1e-12;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log(Phi(b) - Phi(a)) for a <= b: the log of the standard normal mass of [a, b], stable in the tails.
 *
 * Narrow intervals (width <= 0.1, |midpoint| <= 10: a discrete kernel much wider than its grid step) use
 * the midpoint expansion phi(m) w sum_j He_2j(m) (w/2)^2j / ((2j)! (2j + 1)) to j = 4, relative error
 * below 1e-10 and several times faster than two erfc evaluations; the rest goes through log Phi.
 */
export function logGaussMass(a: number, b: number): number {
  if (!(b > a)) return -Infinity;
  const width = b - a;
  const mid = 0.5 * (a + b);
  if (width <= 0.1 && Math.abs(mid) <= 10) {
    const m2 = mid * mid;
    const w2 = width * width;
    const he2 = m2 - 1;
    const he4 = (m2 - 6) * m2 + 3;
    const he6 = ((m2 - 15) * m2 + 45) * m2 - 15;
    const he8 = (((m2 - 28) * m2 + 210) * m2 - 420) * m2 + 105;
    const c = w2 * (he2 / 24 + w2 * (he4 / 1920 + w2 * (he6 / 322560 + (w2 * he8) / 92897280)));
    return -0.5 * m2 - LOG_SQRT_2PI + Math.log(width) + Math.log1p(c);
  }
  if (a > 0) return logGaussMass(-b, -a); // symmetry: work in the lower tail, where Phi has precision
  if (width < 1e-6 && Math.abs(mid) * width < 1e-6)
    return -0.5 * mid * mid - LOG_SQRT_2PI + Math.log(width);
  const la = logNdtr(a);
  const lb = logNdtr(b);
  if (la === -Infinity) return lb;
  return lb + Math.log(-Math.expm1(la - lb));
}

// ---------------------------------------------------------------------------
// Weights.

/** Optuna's `default_weights`: all ones below 25 observations, else a linear ramp from 1/n for the oldest n - 25 and ones for the newest 25. */
export function defaultWeights(n: number): Float64Array {
  const w = new Float64Array(Math.max(0, n)).fill(1);
  if (n < 25) return w;
  const m = n - 25;
  const start = 1 / n;
  for (let i = 0; i < m; i++) w[i] = m === 1 ? start : start + ((1 - start) * i) / (m - 1);
  return w;
}

// ---------------------------------------------------------------------------
// The estimator.

export type ParzenDim =
  /** Internal-scale bounds; `step` 0 for continuous, else the grid spacing (low and high on the grid). */
  | { kind: 'numerical'; low: number; high: number; step: number }
  | { kind: 'categorical'; n: number };

export interface ParzenParameters {
  /** Weight of the prior component (positive). */
  priorWeight: number;
  /** Lower-bound bandwidths by range / min(100, 1 + n_components). */
  considerMagicClip: boolean;
  /** Let the first/last sorted observation use its distance to the range endpoint. */
  considerEndpoints: boolean;
  /** Bandwidth rule: Optuna's multivariate (Scott-like) rule instead of the neighbour rule. */
  multivariate: boolean;
  /** Observation weights for n observations, oldest first. */
  weights: (n: number) => ArrayLike<number>;
}

interface NumericalModel {
  kind: 'numerical';
  low: number;
  high: number;
  step: number;
  /** Truncation bounds: [low, high], widened by step/2 each side when discrete. */
  lo: number;
  hi: number;
  mus: Float64Array;
  sigmas: Float64Array;
  /** Per component: log of the truncation mass (discrete), or that plus log(sigma sqrt(2 pi)) (continuous). */
  logNorm: Float64Array;
  /**
   * Discrete only: components with equal (mu, sigma) share a group, so each grid point's mass is
   * computed once per group (coarse grids repeat both a lot; Optuna dedups the same way).
   */
  groupOf?: Int32Array;
  groupFirst?: Int32Array;
}

interface CategoricalModel {
  kind: 'categorical';
  n: number;
  /** nComponents x n, row-major. */
  logProbs: Float64Array;
  cumProbs: Float64Array;
}

type DimModel = NumericalModel | CategoricalModel;

function sanitizedWeights(fn: (n: number) => ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n);
  let raw: ArrayLike<number> | undefined;
  try {
    raw = fn(n);
  } catch {
    raw = undefined;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = raw && i < raw.length ? Number(raw[i]) : 1;
    out[i] = Number.isFinite(v) && v > 0 ? v : 0;
    sum += out[i];
  }
  if (!(sum > 0) || !Number.isFinite(sum)) out.fill(1);
  return out;
}

/** Index of the first cumulative value above u (the last index if none, against rounding). */
function pick(cum: Float64Array, offset: number, len: number, u: number): number {
  let lo = 0;
  let hi = len - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[offset + mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class ParzenEstimator {
  readonly nComponents: number;
  private readonly logWeights: Float64Array;
  private readonly cumWeights: Float64Array;
  private readonly models: DimModel[];

  /**
   * @param observations one array per dimension, all of the same length n, oldest observation first
   *   (values in internal scale; numerical ones are clamped into [low, high]).
   */
  constructor(
    observations: readonly ArrayLike<number>[],
    dims: readonly ParzenDim[],
    params: ParzenParameters,
  ) {
    const n = dims.length === 0 ? 0 : (observations[0]?.length ?? 0);
    const priorWeight =
      Number.isFinite(params.priorWeight) && params.priorWeight > 0 ? params.priorWeight : 1;
    const nK = n + 1; // observations + the prior (always considered)
    this.nComponents = nK;

    const w = new Float64Array(nK);
    if (n > 0) w.set(sanitizedWeights(params.weights, n));
    w[n] = n > 0 ? priorWeight : 1;
    let total = 0;
    for (let i = 0; i < nK; i++) total += w[i];
    this.logWeights = new Float64Array(nK);
    this.cumWeights = new Float64Array(nK);
    let acc = 0;
    for (let i = 0; i < nK; i++) {
      const p = w[i] / total;
      this.logWeights[i] = Math.log(p);
      acc += p;
      this.cumWeights[i] = acc;
    }

    this.models = dims.map((dim, d) =>
      dim.kind === 'categorical'
        ? categoricalModel(observations[d], n, dim.n, priorWeight)
        : numericalModel(observations[d], n, dim, params, dims.length),
    );
  }

  /** `size` draws; one Float64Array of internal values per dimension (discrete ones on their grid). */
  sample(rng: Rng, size: number): Float64Array[] {
    const out = this.models.map(() => new Float64Array(size));
    const nK = this.nComponents;
    for (let s = 0; s < size; s++) {
      const k = pick(this.cumWeights, 0, nK, rng.next());
      for (let d = 0; d < this.models.length; d++) {
        const m = this.models[d];
        if (m.kind === 'categorical') {
          out[d][s] = pick(m.cumProbs, k * m.n, m.n, rng.next());
        } else {
          let x = truncatedNormal(rng, m.mus[k], m.sigmas[k], m.lo, m.hi);
          if (m.step > 0)
            x = Math.min(
              m.high,
              Math.max(m.low, m.low + Math.round((x - m.low) / m.step) * m.step),
            );
          out[d][s] = x;
        }
      }
    }
    return out;
  }

  /** Log density (log mass for discrete/categorical dimensions) at each point; `xs` one array per dimension. */
  logPdf(xs: readonly ArrayLike<number>[]): Float64Array {
    const size = xs.length > 0 ? xs[0].length : 0;
    const nK = this.nComponents;
    const out = new Float64Array(size);
    const acc = new Float64Array(nK);
    const cache = this.models.map(() => new Map<number, Float64Array>());
    for (let s = 0; s < size; s++) {
      acc.set(this.logWeights);
      for (let d = 0; d < this.models.length; d++) {
        const m = this.models[d];
        const x = xs[d][s];
        if (m.kind === 'categorical') {
          const j = Math.min(m.n - 1, Math.max(0, Math.round(x)));
          for (let k = 0; k < nK; k++) acc[k] += m.logProbs[k * m.n + j];
        } else if (m.step > 0) {
          const vals = discreteLogMass(m, x, cache[d]);
          const groupOf = m.groupOf!;
          for (let k = 0; k < nK; k++) acc[k] += vals[groupOf[k]];
        } else {
          for (let k = 0; k < nK; k++) {
            const z = (x - m.mus[k]) / m.sigmas[k];
            acc[k] += -0.5 * z * z - m.logNorm[k];
          }
        }
      }
      let max = -Infinity;
      for (let k = 0; k < nK; k++) if (acc[k] > max) max = acc[k];
      if (max === -Infinity || Number.isNaN(max)) {
        out[s] = -Infinity;
        continue;
      }
      let sum = 0;
      for (let k = 0; k < nK; k++) sum += Math.exp(acc[k] - max);
      out[s] = max + Math.log(sum);
    }
    return out;
  }
}

/** Per group of a discrete model: log mass of the grid point x minus the log truncation mass (memoised per x). */
function discreteLogMass(
  m: NumericalModel,
  x: number,
  cache: Map<number, Float64Array>,
): Float64Array {
  const hit = cache.get(x);
  if (hit) return hit;
  const first = m.groupFirst!;
  const vals = new Float64Array(first.length);
  const half = m.step / 2;
  for (let g = 0; g < first.length; g++) {
    const k = first[g];
    const mu = m.mus[k];
    const sg = m.sigmas[k];
    vals[g] = logGaussMass((x - half - mu) / sg, (x + half - mu) / sg) - m.logNorm[k];
  }
  cache.set(x, vals);
  return vals;
}

function categoricalModel(
  obs: ArrayLike<number>,
  n: number,
  nChoices: number,
  priorWeight: number,
): CategoricalModel {
  const c = Math.max(1, nChoices);
  const nK = n + 1;
  const probs = new Float64Array(nK * c).fill(priorWeight / nK);
  for (let i = 0; i < n; i++) {
    const j = Math.min(c - 1, Math.max(0, Math.round(obs[i])));
    probs[i * c + j] += 1;
  }
  const logProbs = new Float64Array(nK * c);
  const cumProbs = new Float64Array(nK * c);
  for (let k = 0; k < nK; k++) {
    let rowSum = 0;
    for (let j = 0; j < c; j++) rowSum += probs[k * c + j];
    let acc = 0;
    for (let j = 0; j < c; j++) {
      const p = probs[k * c + j] / rowSum;
      logProbs[k * c + j] = Math.log(p);
      acc += p;
      cumProbs[k * c + j] = acc;
    }
  }
  return { kind: 'categorical', n: c, logProbs, cumProbs };
}

function numericalModel(
  obs: ArrayLike<number>,
  n: number,
  dim: { low: number; high: number; step: number },
  params: ParzenParameters,
  nDims: number,
): NumericalModel {
  const { low, high } = dim;
  const step = dim.step > 0 ? dim.step : 0;
  const width = high - low + step; // Optuna's (high - low + step_or_0)
  const priorMu = 0.5 * (low + high);
  const nK = n + 1;
  const mus = new Float64Array(nK);
  for (let i = 0; i < n; i++) {
    const v = obs[i];
    mus[i] = Number.isFinite(v) ? Math.min(high, Math.max(low, v)) : priorMu;
  }
  mus[n] = priorMu;

  const sigmas = new Float64Array(nK);
  if (params.multivariate) {
    const s = 0.2 * Math.pow(Math.max(n, 1), -1 / (nDims + 4)) * width;
    sigmas.fill(s, 0, n);
  } else if (n > 0) {
    // Neighbour rule over the sorted observations + prior mean, with the range endpoints as sentinels.
    const order = Array.from({ length: nK }, (_, i) => i);
    order.sort((a, b) => mus[a] - mus[b] || a - b);
    const ext = new Float64Array(nK + 2);
    ext[0] = low - step / 2;
    for (let i = 0; i < nK; i++) ext[i + 1] = mus[order[i]];
    ext[nK + 1] = high + step / 2;
    const sorted = new Float64Array(nK);
    for (let i = 0; i < nK; i++) sorted[i] = Math.max(ext[i + 1] - ext[i], ext[i + 2] - ext[i + 1]);
    if (!params.considerEndpoints && ext.length >= 4) {
      sorted[0] = ext[2] - ext[1];
      sorted[nK - 1] = ext[nK] - ext[nK - 1];
    }
    for (let i = 0; i < nK; i++) sigmas[order[i]] = sorted[i];
  }
  const maxSigma = width;
  const minSigma = params.considerMagicClip ? width / Math.min(100, 1 + nK) : EPS;
  for (let i = 0; i < n; i++) sigmas[i] = Math.min(maxSigma, Math.max(minSigma, sigmas[i]));
  sigmas[n] = width; // the prior

  const lo = low - step / 2;
  const hi = high + step / 2;
  const logNorm = new Float64Array(nK);
  for (let k = 0; k < nK; k++) {
    const sg = sigmas[k] > 0 ? sigmas[k] : EPS;
    sigmas[k] = sg;
    const logZ = logGaussMass((lo - mus[k]) / sg, (hi - mus[k]) / sg);
    logNorm[k] = step > 0 ? logZ : logZ + Math.log(sg) + LOG_SQRT_2PI;
  }
  const model: NumericalModel = {
    kind: 'numerical',
    low,
    high,
    step,
    lo,
    hi,
    mus,
    sigmas,
    logNorm,
  };
  if (step > 0) {
    const order = Array.from({ length: nK }, (_, i) => i);
    order.sort((a, b) => mus[a] - mus[b] || sigmas[a] - sigmas[b] || a - b);
    const groupOf = new Int32Array(nK);
    const first: number[] = [];
    for (let i = 0; i < nK; i++) {
      const k = order[i];
      const prev = i > 0 ? order[i - 1] : -1;
      if (prev < 0 || mus[prev] !== mus[k] || sigmas[prev] !== sigmas[k]) first.push(k);
      groupOf[k] = first.length - 1;
    }
    model.groupOf = groupOf;
    model.groupFirst = Int32Array.from(first);
  }
  return model;
}

/**
 * A draw from N(mu, sigma) truncated to [lo, hi], by rejection. Every component's mean lies in
 * [lo, hi] and its sigma is at most hi - lo, so at least ~34% of proposals are accepted.
 */
function truncatedNormal(rng: Rng, mu: number, sigma: number, lo: number, hi: number): number {
  for (let t = 0; t < 200; t++) {
    const x = mu + sigma * rng.normal();
    if (x >= lo && x <= hi) return x;
  }
  return Math.min(hi, Math.max(lo, mu));
}

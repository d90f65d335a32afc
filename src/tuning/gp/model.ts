/**
 * Gaussian-process regression with the Matern-5/2 ARD kernel of kernel.ts:
 * MAP hyperparameters (log marginal likelihood plus log-normal priors, with
 * analytic gradients, optimised by box-constrained L-BFGS in log space) and
 * the posterior used by the acquisition function.
 *
 * Conventions: outputs are standardised by the caller (mean 0, std 1), so
 * the prior mean is 0 and the signal variance is O(1). Hyperparameter vector
 * theta = [log l_1 .. log l_d, log signal, log noise].
 */
import { cholesky, cholInverse, cholLogDet, cholSolve, solveLowerInPlace } from './linalg';
import { kernelMatrix } from './kernel';
import { minimizeLbfgsB } from './lbfgs';

// A module-local copy: transpilers that turn imports into property reads (tsx, vitest) make an imported constant slow in hot loops.
const SQRT5 = Math.sqrt(5);

export interface GpData {
  /** n rows of d inputs (see kernel.ts for the encoding). */
  readonly X: Float64Array;
  readonly n: number;
  readonly d: number;
  /** 1 where dimension j is categorical (Hamming term), else 0. */
  readonly isCat: Uint8Array;
  /** Standardised outputs, length n. */
  readonly y: Float64Array;
}

export interface GpHyper {
  readonly lengthscales: Float64Array;
  readonly signal: number;
  readonly noise: number;
}

/** Gaussian priors on the log hyperparameters (i.e. log-normal priors), and box bounds. */
export interface HyperPrior {
  lengthscaleLogMean: number;
  lengthscaleLogSd: number;
  signalLogMean: number;
  signalLogSd: number;
  noiseLogMean: number;
  noiseLogSd: number;
}

/**
 * Default prior. Lengthscales: median 0.5 * d^(1/4) on the [0, 1] inputs
 * (0.5 in 1-D, ~0.7 in 4-D, 1 in 16-D: a mild version of the dimension
 * scaling of Hvarfner et al. 2024), log-sd 1. Signal variance: median 1 (the
 * outputs are standardised), log-sd 1. Noise variance: median 1e-3, log-sd 2,
 * i.e. "probably nearly noiseless", which the likelihood overrides when the
 * data are noisy.
 */
export function defaultPrior(d: number): HyperPrior {
  return {
    lengthscaleLogMean: Math.log(0.5) + 0.25 * Math.log(Math.max(1, d)),
    lengthscaleLogSd: 1,
    signalLogMean: 0,
    signalLogSd: 1,
    noiseLogMean: Math.log(1e-3),
    noiseLogSd: 2,
  };
}

const BOUNDS = {
  logLengthscale: [Math.log(1e-2), Math.log(1e2)] as const,
  logSignal: [Math.log(1e-2), Math.log(1e2)] as const,
  logNoise: [Math.log(1e-6), Math.log(1)] as const,
};

function hyperFromTheta(theta: ArrayLike<number>, d: number): GpHyper {
  const lengthscales = new Float64Array(d);
  for (let j = 0; j < d; j++) lengthscales[j] = Math.exp(theta[j]);
  return { lengthscales, signal: Math.exp(theta[d]), noise: Math.exp(theta[d + 1]) };
}

function thetaFromHyper(h: GpHyper): Float64Array {
  const d = h.lengthscales.length;
  const t = new Float64Array(d + 2);
  for (let j = 0; j < d; j++) t[j] = Math.log(h.lengthscales[j]);
  t[d] = Math.log(h.signal);
  t[d + 1] = Math.log(h.noise);
  return t;
}

/**
 * Negative log posterior of theta (up to a constant) and its gradient:
 *   -[log N(y | 0, K_theta + noise I) + log p(theta)].
 * With W = alpha alpha^T - K^{-1}, d(log ml)/d theta = tr(W dK/dtheta) / 2.
 * Precomputes the per-pair, per-dimension deltas once.
 */
export function makeNegLogPosterior(
  data: GpData,
  prior: HyperPrior,
): (theta: Float64Array, grad: Float64Array) => number {
  const { X, n, d, isCat, y } = data;
  const nPairs = (n * (n - 1)) / 2;
  const delta = new Float64Array(nPairs * d);
  {
    let p = 0;
    for (let a = 1; a < n; a++) {
      for (let b = 0; b < a; b++, p++) {
        for (let j = 0; j < d; j++) {
          const u = X[a * d + j];
          const v = X[b * d + j];
          delta[p * d + j] = isCat[j] ? (u === v ? 0 : 1) : (u - v) * (u - v);
        }
      }
    }
  }
  const K = new Float64Array(n * n);
  const cPair = new Float64Array(nPairs);
  const invL2 = new Float64Array(d);
  const gl = new Float64Array(d);
  const halfLog2Pi = 0.5 * Math.log(2 * Math.PI);

  return (theta, grad) => {
    for (let j = 0; j < d; j++) invL2[j] = Math.exp(-2 * theta[j]);
    const s2 = Math.exp(theta[d]);
    const noise = Math.exp(theta[d + 1]);
    let p = 0;
    for (let a = 0; a < n; a++) {
      K[a * n + a] = s2 + noise;
      for (let b = 0; b < a; b++, p++) {
        let r2 = 0;
        const o = p * d;
        for (let j = 0; j < d; j++) r2 += delta[o + j] * invL2[j];
        const sr = SQRT5 * Math.sqrt(r2);
        const e = Math.exp(-sr);
        const kv = s2 * (1 + sr + (sr * sr) / 3) * e;
        K[a * n + b] = kv; // lower triangle only: all that cholesky reads
        cPair[p] = (5 / 3) * s2 * (1 + sr) * e;
      }
    }
    const ch = cholesky(K, n);
    const L = ch.L;
    const alpha = cholSolve(L, n, y);
    let yAlpha = 0;
    for (let i = 0; i < n; i++) yAlpha += y[i] * alpha[i];
    const nll = 0.5 * yAlpha + 0.5 * cholLogDet(L, n) + n * halfLog2Pi;

    // Gradient of the log marginal likelihood.
    const Kinv = cholInverse(L, n, false);
    gl.fill(0);
    let gSignal = 0;
    let trW = 0;
    p = 0;
    for (let a = 0; a < n; a++) {
      const waa = alpha[a] * alpha[a] - Kinv[a * n + a];
      trW += waa;
      gSignal += 0.5 * waa * s2;
      for (let b = 0; b < a; b++, p++) {
        const w = alpha[a] * alpha[b] - Kinv[a * n + b];
        gSignal += w * K[a * n + b];
        const wc = w * cPair[p];
        const o = p * d;
        for (let j = 0; j < d; j++) gl[j] += wc * delta[o + j];
      }
    }
    const gNoise = 0.5 * noise * trW;

    // Priors (Gaussian in log space) and the negated totals.
    let nlp = nll;
    for (let j = 0; j < d; j++) {
      const z = (theta[j] - prior.lengthscaleLogMean) / prior.lengthscaleLogSd;
      nlp += 0.5 * z * z;
      grad[j] = -gl[j] * invL2[j] + z / prior.lengthscaleLogSd;
    }
    {
      const z = (theta[d] - prior.signalLogMean) / prior.signalLogSd;
      nlp += 0.5 * z * z;
      grad[d] = -gSignal + z / prior.signalLogSd;
    }
    {
      const z = (theta[d + 1] - prior.noiseLogMean) / prior.noiseLogSd;
      nlp += 0.5 * z * z;
      grad[d + 1] = -gNoise + z / prior.noiseLogSd;
    }
    return Number.isFinite(nlp) ? nlp : Infinity;
  };
}

export interface FitOptions {
  prior?: HyperPrior;
  /** Cap on objective evaluations (each one Cholesky plus an inverse: ~n^3/2 multiply-adds). */
  maxEvals?: number;
  /** Starting point (default: the prior medians). */
  init?: GpHyper;
}

export interface FitResult {
  hyper: GpHyper;
  negLogPosterior: number;
  evals: number;
}

/** MAP hyperparameters by L-BFGS-B in log space from the prior medians. Never throws. */
export function fitHyperparameters(data: GpData, opts: FitOptions = {}): FitResult {
  const d = data.d;
  const prior = opts.prior ?? defaultPrior(d);
  const lower = new Float64Array(d + 2);
  const upper = new Float64Array(d + 2);
  for (let j = 0; j < d; j++) {
    lower[j] = BOUNDS.logLengthscale[0];
    upper[j] = BOUNDS.logLengthscale[1];
  }
  [lower[d], upper[d]] = BOUNDS.logSignal;
  [lower[d + 1], upper[d + 1]] = BOUNDS.logNoise;
  let theta0: Float64Array;
  if (opts.init) {
    theta0 = thetaFromHyper(opts.init);
  } else {
    theta0 = new Float64Array(d + 2);
    theta0.fill(prior.lengthscaleLogMean, 0, d);
    theta0[d] = prior.signalLogMean;
    theta0[d + 1] = prior.noiseLogMean;
  }
  const f = makeNegLogPosterior(data, prior);
  const res = minimizeLbfgsB(f, theta0, { lower, upper, maxEvals: opts.maxEvals ?? 40 });
  if (!Number.isFinite(res.fx)) {
    // Degenerate data (should not happen after jitter): fall back to the prior medians.
    return { hyper: hyperFromTheta(theta0, d), negLogPosterior: res.fx, evals: res.evals };
  }
  return { hyper: hyperFromTheta(res.x, d), negLogPosterior: res.fx, evals: res.evals };
}

/** The GP posterior at fixed hyperparameters: mean and variance of the latent f (noise excluded). */
export class GpPosterior {
  readonly n: number;
  readonly d: number;
  readonly X: Float64Array;
  readonly isCat: Uint8Array;
  readonly hyper: GpHyper;
  readonly invL2: Float64Array;
  readonly L: Float64Array;
  readonly alpha: Float64Array;
  readonly jitter: number;
  // Numeric columns pre-multiplied by 1/l (so r^2 is a plain sum of squares) and categorical codes, per row.
  private readonly numIdx: Int32Array;
  private readonly catIdx: Int32Array;
  private readonly numScale: Float64Array;
  private readonly catW: Float64Array;
  private readonly Xs: Float64Array;
  private readonly Xc: Float64Array;
  private readonly xs: Float64Array;
  private readonly vbuf: Float64Array;

  constructor(
    X: Float64Array,
    n: number,
    d: number,
    isCat: Uint8Array,
    y: ArrayLike<number>,
    hyper: GpHyper,
  ) {
    this.n = n;
    this.d = d;
    this.X = X;
    this.isCat = isCat;
    this.hyper = hyper;
    this.invL2 = new Float64Array(d);
    for (let j = 0; j < d; j++) this.invL2[j] = 1 / (hyper.lengthscales[j] * hyper.lengthscales[j]);
    const K = kernelMatrix(X, n, d, this.invL2, isCat, hyper.signal, hyper.noise);
    const ch = cholesky(K, n);
    this.L = ch.L;
    this.jitter = ch.jitter;
    this.alpha = cholSolve(ch.L, n, y);
    const num: number[] = [];
    const cat: number[] = [];
    for (let j = 0; j < d; j++) (isCat[j] ? cat : num).push(j);
    this.numIdx = Int32Array.from(num);
    this.catIdx = Int32Array.from(cat);
    this.numScale = Float64Array.from(num, (j) => 1 / hyper.lengthscales[j]);
    this.catW = Float64Array.from(cat, (j) => this.invL2[j]);
    const dn = num.length;
    const dc = cat.length;
    this.Xs = new Float64Array(n * dn);
    this.Xc = new Float64Array(n * dc);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < dn; t++) this.Xs[i * dn + t] = X[i * d + num[t]] * this.numScale[t];
      for (let t = 0; t < dc; t++) this.Xc[i * dc + t] = X[i * d + cat[t]];
    }
    this.xs = new Float64Array(dn);
    this.vbuf = new Float64Array(n);
  }

  /** Posterior mean and variance of f at row `row` of `x` (default: x is one point). */
  predict(
    x: ArrayLike<number>,
    row = 0,
    out: { mean: number; variance: number } = { mean: 0, variance: 0 },
  ): { mean: number; variance: number } {
    const { n, d, alpha, numIdx, catIdx, numScale, catW, Xs, Xc, xs } = this;
    const dn = numIdx.length;
    const dc = catIdx.length;
    const s2 = this.hyper.signal;
    const o = row * d;
    for (let t = 0; t < dn; t++) xs[t] = x[o + numIdx[t]] * numScale[t];
    const k = this.vbuf;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      const on = i * dn;
      for (let t = 0; t < dn; t++) {
        const q = xs[t] - Xs[on + t];
        r2 += q * q;
      }
      if (dc > 0) {
        const oc = i * dc;
        for (let t = 0; t < dc; t++) if (x[o + catIdx[t]] !== Xc[oc + t]) r2 += catW[t];
      }
      const sr = SQRT5 * Math.sqrt(r2);
      const kv = s2 * (1 + sr + (sr * sr) / 3) * Math.exp(-sr);
      k[i] = kv;
      mean += kv * alpha[i];
    }
    solveLowerInPlace(this.L, n, k, 0, 0);
    let q = 0;
    for (let i = 0; i < n; i++) q += k[i] * k[i];
    out.mean = mean;
    out.variance = Math.max(s2 - q, 1e-12 * s2);
    return out;
  }
}

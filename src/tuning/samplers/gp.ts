/**
 * GP-based Bayesian optimisation (GP-BO), in the spirit of Optuna's
 * GPSampler: a Gaussian process with a Matern-5/2 ARD kernel, MAP
 * hyperparameters, and log expected improvement maximised over quasi-random
 * candidates plus a local pattern search. Pure float64 TypeScript; the math
 * lives in ../gp/.
 *
 * Design choices:
 * - Startup: until `n_startup_trials` trials have finished, independent
 *   uniform sampling in the internal scale (log-uniform for log parameters,
 *   uniform choice for categoricals), from new Rng(seed).fork(trialNumber).
 * - Inputs: each float/int parameter is its internal value (log where `log`
 *   is set) normalised to [0, 1] by its internal bounds. Step/int parameters
 *   are snapped to their grid in that space while the acquisition function is
 *   optimised (so the GP scores the point that will really be evaluated) and
 *   rounded again by `fromInternal` on output. Categoricals are one dimension
 *   each holding the choice index, with a Hamming-distance kernel term and
 *   their own lengthscale (no one-hot blow-up of the dimension).
 * - Conditional parameters: a numeric parameter with `when` takes two GP
 *   columns, its value u on a half circle R (cos(pi u), sin(pi u)) and
 *   "inactive" at the centre, equally far from every active value (the arc
 *   kernel; see `GpColumns`): a constant such as 0.5 for "inactive" would pile
 *   the other branches' trials up in the middle of the range and draw the
 *   branch's own acquisition to the ends (bench/RESULTS.md, "Sampler quality",
 *   the LR/optimizer problem). An inactive categorical is the index -1 (a "choice" that differs
 *   from every real one). The parent categorical, always present when the
 *   child could be, separates the regimes. Inactive parameters are absent
 *   from the output (buildParams). The acquisition is searched in the plain
 *   encoding (one value per parameter) and lifted to the GP's columns.
 * - Outputs: values of complete trials, negated for `maximize` so the GP
 *   always minimises, then standardised (mean 0, std 1; std 1 when all equal),
 *   then (`warp_output`, default on) warped by a Yeo-Johnson power transform
 *   with maximum-likelihood λ and standardised again (HEBO's output warping):
 *   a long tail of bad values no longer flattens the region near the best.
 *   A complete trial whose value is NaN or infinitely bad counts as the
 *   worst finite value seen, one infinitely good as the best (no finite value
 *   at all: random sampling). A pruned trial counts with its intermediate
 *   value at the latest step it reported (as Optuna's TPE ranks it), a failed
 *   one (a diverged run, an out-of-memory batch) as the worst value seen.
 * - Failed trials are also a learned infeasible region (`failureModel`): a
 *   GP on failed (+1) vs finished (-1) whose probability of "not failed"
 *   enters the acquisition as a constraint's does. Both measured on a study
 *   whose best runs sit at the edge of divergence (bench/RESULTS.md,
 *   "Failures and pruning"): ignoring failed trials, the GP proposed the
 *   failing region again and again (and, pruned trials ignored, the same
 *   params three times).
 * - Startup counts complete, pruned and failed trials alike.
 * - Running/waiting trials with parameters are "fantasised" at the posterior
 *   mean (kriging believer): added to the GP with y = mu(x) after the
 *   hyperparameters are fitted, which leaves the mean unchanged but shrinks
 *   the variance, and hence the EI, around points already being evaluated.
 * - Kernel hyperparameters: MAP (log marginal likelihood + log-normal priors),
 *   analytic gradients, L-BFGS-B in log space from the prior medians, with an
 *   evaluation budget bounded as n grows (see `fitMap`: beyond 96 trials it
 *   starts from a fit on 64 evenly spaced trials).
 * - Acquisition: LogEI (Ament et al. 2023) against the best standardised
 *   observed value, maximised over `n_candidates` quasi-random points (an R_d
 *   Kronecker sequence with a random shift, see ../gp/optimize.ts) plus
 *   pattern searches from the best `n_local_search` of them and from the two
 *   best observed points. All randomness from new Rng(seed).fork(trialNumber).
 * - Constraints (FrozenTrial.constraints, feasible when all <= 0), as
 *   Optuna's GPSampler: one GP per constraint on the complete trials that
 *   told it (standardised values, threshold 0 standardised alike); the
 *   acquisition is log EI against the best *feasible* value plus
 *   sum_i log P(c_i <= 0); with no feasible trial yet, the sum alone (the
 *   probability of feasibility). A trial told without constraints in a
 *   constrained study counts as infeasible.
 * - Never throws: any unexpected numerical failure falls back to the random
 *   startup sample (recorded in `lastInfo.mode === 'fallback'`).
 */
import { Rng } from '../rng';
import {
  buildParams,
  fromInternal,
  internalBounds,
  isActive,
  paramOrder,
  toInternal,
} from '../space';
import {
  lastPoint,
  type FrozenTrial,
  type ParamSpec,
  type ParamValue,
  type Params,
  type SampleContext,
  type Sampler,
  type Space,
} from '../types';
import { logEI, logProbBelow } from '../gp/acquisition';
import { fitHyperparameters, GpPosterior } from '../gp/model';
import type { FitResult, GpData, GpHyper } from '../gp/model';
import { maximizeAcquisition } from '../gp/optimize';
import type { SearchDim } from '../gp/optimize';
import { fromUnit } from './random';

export interface GpSamplerOptions {
  /** Complete trials sampled at random before the GP takes over (default 10). */
  n_startup_trials?: number;
  /** Quasi-random candidates scored per suggestion (default 1024). */
  n_candidates?: number;
  /** Local (pattern) searches from the best candidates (default 5; plus 2 from the best observed points). */
  n_local_search?: number;
  /** Warp the objective values with a fitted Yeo-Johnson power transform before the GP sees them (default true). */
  warp_output?: boolean;
}

/** What the last `sample` call did; for tests and diagnostics. */
export interface GpSampleInfo {
  mode: 'startup' | 'gp' | 'fallback';
  /** Points the GP was conditioned on (complete + fantasised). */
  nTrain?: number;
  nPending?: number;
  /** Points each constraint's GP was conditioned on (the same trials as the objective's). */
  nConstraintTrain?: number[];
  hyper?: GpHyper;
  fitEvals?: number;
  /** Hyperparameter evaluations of the failure model's fit (0: cached); absent without a failed trial. */
  failureFitEvals?: number;
  /** log EI (standardised units) of the returned point. */
  acquisition?: number;
  /** Milliseconds spent fitting the hyperparameters and maximising the acquisition (performance.now). */
  fitMs?: number;
  acqMs?: number;
  error?: unknown;
}

/** Value used for an absent numeric parameter (categoricals use -1). */
const INACTIVE_NUMERIC = 0.5;
const INACTIVE_CATEGORICAL = -1;

interface DimInfo {
  name: string;
  spec: ParamSpec;
  isCat: boolean;
  lo: number;
  hi: number;
  search: SearchDim;
  /** A conditional numeric parameter: two GP columns on an arc (see `GpColumns`). */
  arc?: boolean;
}

function isDiscrete(spec: ParamSpec): boolean {
  return spec.type === 'int' || (spec.type === 'float' && spec.step !== undefined);
}

function makeDims(space: Space, order: readonly string[]): DimInfo[] {
  return order.map((name) => {
    const spec = space[name];
    const [lo, hi] = internalBounds(spec);
    if (spec.type === 'categorical') {
      const k = spec.choices.length;
      const search: SearchDim =
        k <= 1 ? { kind: 'fixed', value: 0 } : { kind: 'categorical', nChoices: k };
      return { name, spec, isCat: true, lo, hi, search };
    }
    const width = hi - lo;
    if (!(width > 0))
      return {
        name,
        spec,
        isCat: false,
        lo,
        hi,
        search: { kind: 'fixed', value: INACTIVE_NUMERIC },
      };
    const norm = (x: number) => (x - lo) / width;
    if (!isDiscrete(spec))
      return { name, spec, isCat: false, lo, hi, search: { kind: 'continuous' } };
    const grid = spec.step ?? 1;
    const snap = (u: number) => norm(toInternal(spec, fromInternal(spec, lo + u * width)));
    const neighbor = (u: number, dir: 1 | -1) => {
      const v = fromInternal(spec, lo + u * width) as number;
      return norm(
        toInternal(
          spec,
          fromInternal(
            spec,
            spec.log ? Math.log(Math.max(spec.low, v + dir * grid)) : v + dir * grid,
          ),
        ),
      );
    };
    return { name, spec, isCat: false, lo, hi, search: { kind: 'discrete', snap, neighbor } };
  });
}

/** Encodes a trial's params as a GP input row (see the header for inactive parameters). */
function encodeParams(
  dims: readonly DimInfo[],
  params: Readonly<Params>,
  out: Float64Array,
  off: number,
): void {
  for (let j = 0; j < dims.length; j++) {
    const dim = dims[j];
    const v = params[dim.name];
    if (dim.isCat) {
      out[off + j] = v === undefined ? INACTIVE_CATEGORICAL : toInternal(dim.spec, v); // -1 also for unknown choices
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      out[off + j] = dim.arc ? NaN : INACTIVE_NUMERIC;
      continue;
    }
    const x = toInternal(dim.spec, v);
    const width = dim.hi - dim.lo;
    const u = width > 0 ? (x - dim.lo) / width : INACTIVE_NUMERIC;
    out[off + j] = Number.isFinite(u) ? u : INACTIVE_NUMERIC;
  }
}

/** Radius of the arc a conditional numeric parameter lies on (GpColumns): its span's chord is 2 * ARC_RADIUS = 1, as a plain column's. */
const ARC_RADIUS = 0.5;

/**
 * The GP's input columns for a row of the search encoding. A conditional
 * numeric parameter (one with `when`) takes two columns: u in [0, 1] becomes
 * the point R (cos(pi u), sin(pi u)) of a half circle, and "inactive" (NaN in
 * the search encoding) its centre (0, 0), at the same distance R from every
 * active value (the arc kernel of Swersky et al. 2014, "Raiders of the lost
 * architecture"). With one column and a constant for "inactive", the trials
 * of the other branches pile up at that constant, and the acquisition of the
 * parameter's own branch is drawn to the values farthest from it, the ends
 * of the range. Every other parameter is one column, as in the search
 * encoding; without conditional numeric parameters the two encodings are the same.
 */
class GpColumns {
  readonly cols: number;
  readonly isCat: Uint8Array;
  readonly identity: boolean;
  private readonly arc: Uint8Array;

  constructor(dims: readonly DimInfo[]) {
    this.arc = Uint8Array.from(dims, (dm) => (dm.arc ? 1 : 0));
    const extra = this.arc.reduce((a, b) => a + b, 0);
    this.identity = extra === 0;
    this.cols = dims.length + extra;
    const isCat: number[] = [];
    for (const dm of dims) {
      isCat.push(dm.isCat ? 1 : 0);
      if (dm.arc) isCat.push(0);
    }
    this.isCat = Uint8Array.from(isCat);
  }

  /** Row `row` (d values) of src into row `dstRow` (cols values) of dst. */
  lift(src: ArrayLike<number>, row: number, dst: Float64Array, dstRow: number): void {
    const d = this.arc.length;
    let o = dstRow * this.cols;
    for (let j = 0; j < d; j++) {
      const v = src[row * d + j];
      if (!this.arc[j]) {
        dst[o++] = v;
        continue;
      }
      if (Number.isNaN(v)) {
        dst[o++] = 0;
        dst[o++] = 0;
      } else {
        dst[o++] = ARC_RADIUS * Math.cos(Math.PI * v);
        dst[o++] = ARC_RADIUS * Math.sin(Math.PI * v);
      }
    }
  }

  /** All n rows of X. */
  liftAll(X: Float64Array, n: number): Float64Array {
    if (this.identity) return X;
    const G = new Float64Array(n * this.cols);
    for (let i = 0; i < n; i++) this.lift(X, i, G, i);
    return G;
  }
}

function decodeValue(dim: DimInfo, u: number): ParamValue {
  if (dim.spec.type === 'categorical') {
    const i = Math.min(dim.spec.choices.length - 1, Math.max(0, Math.round(u)));
    return dim.spec.choices[i];
  }
  const width = dim.hi - dim.lo;
  return fromInternal(dim.spec, width > 0 ? dim.lo + u * width : dim.lo);
}

/** Above this many training points the fit starts from a fit on an evenly spaced subset of this size. */
const FIT_SUBSET = 64;

/**
 * Above this many complete trials the GP is fitted and conditioned on a subset of this size
 * (trainingSet): every ask costs O(MAX_TRAIN^3) to fit and O(MAX_TRAIN^2) per scored candidate,
 * however long the study (exact GP: O(n^3) and O(n^2), seconds at 1,000 trials).
 */
export const MAX_TRAIN = 192;
/** Of which: the most recent trials (so the model knows where it has just been) ... */
const TRAIN_RECENT = 32;
/** ... and the best ones (the region EI works in); the rest evenly spaced over the others, in trial order. */
const TRAIN_BEST = 96;

/**
 * The points the GP learns from: all n complete trials up to MAX_TRAIN, else a subset of
 * MAX_TRAIN of them, chosen from the history alone (same history, same subset): the last
 * TRAIN_RECENT trials, the TRAIN_BEST best of the others (lowest y, ties by trial order), and the
 * rest spread evenly over the remaining trials in trial order, so the model still sees the poor
 * regions it has explored. `y` is standardised (and warped) over all n trials before the subset is
 * taken, so the subset keeps the scale of the whole history. Rows stay in trial order.
 */
export function trainingSet(
  X: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
): { X: Float64Array; y: Float64Array; n: number; rows: Int32Array | null } {
  if (n <= MAX_TRAIN) return { X, y, n, rows: null };
  const take = new Uint8Array(n);
  for (let i = n - TRAIN_RECENT; i < n; i++) take[i] = 1;
  const ranked = Array.from({ length: n - TRAIN_RECENT }, (_, i) => i).sort(
    (a, b) => y[a] - y[b] || a - b,
  );
  for (let k = 0; k < TRAIN_BEST; k++) take[ranked[k]] = 1;
  const rest: number[] = [];
  for (let i = 0; i < n; i++) if (!take[i]) rest.push(i);
  const spread = MAX_TRAIN - TRAIN_RECENT - TRAIN_BEST;
  for (let t = 0; t < spread; t++)
    take[rest[Math.round((t * (rest.length - 1)) / (spread - 1))]] = 1;
  const rows = new Int32Array(MAX_TRAIN);
  let m = 0;
  for (let i = 0; i < n; i++) if (take[i]) rows[m++] = i;
  const Xs = new Float64Array(m * d);
  const ys = new Float64Array(m);
  for (let t = 0; t < m; t++) {
    Xs.set(X.subarray(rows[t] * d, rows[t] * d + d), t * d);
    ys[t] = y[rows[t]];
  }
  return { X: Xs, y: ys, n: m, rows: rows.subarray(0, m) };
}

/**
 * MAP hyperparameters within a bounded budget. One objective evaluation costs
 * ~n^3/2 multiply-adds (Cholesky plus inverse). Up to n = 96: up to 40
 * L-BFGS evaluations from the prior medians. Beyond: 30 evaluations on an
 * evenly spaced subset of 64 trials (cheap), then a few (~5e7/n^3, at least
 * 4: 6 at n = 200) on all the data from there. Deterministic.
 */
function fitMap(data: GpData): FitResult {
  const { n, d } = data;
  if (n <= 1.5 * FIT_SUBSET) return fitHyperparameters(data, { maxEvals: 40 });
  const m = FIT_SUBSET;
  const Xs = new Float64Array(m * d);
  const ys = new Float64Array(m);
  for (let t = 0; t < m; t++) {
    const i = Math.round((t * (n - 1)) / (m - 1));
    Xs.set(data.X.subarray(i * d, i * d + d), t * d);
    ys[t] = data.y[i];
  }
  const sub = fitHyperparameters({ X: Xs, n: m, d, isCat: data.isCat, y: ys }, { maxEvals: 30 });
  const full = fitHyperparameters(data, {
    maxEvals: Math.max(4, Math.floor(5e7 / (n * n * n))),
    init: sub.hyper,
  });
  return { ...full, evals: full.evals + sub.evals };
}

export class GpSampler implements Sampler {
  readonly name = 'gp';
  private readonly nStartup: number;
  private readonly nCandidates: number;
  private readonly nLocal: number;
  private readonly warp: boolean;
  /** Diagnostics of the last `sample` call. */
  lastInfo: GpSampleInfo = { mode: 'startup' };

  /** Options within registry.ts's bounds, not checked again; absent ones take the defaults of GpSamplerOptions. */
  constructor(options: GpSamplerOptions = {}) {
    this.nStartup = options.n_startup_trials ?? 10;
    this.nCandidates = options.n_candidates ?? 1024;
    this.nLocal = options.n_local_search ?? 5;
    this.warp = options.warp_output ?? true;
  }

  sample(ctx: SampleContext): Params {
    const rng = new Rng(ctx.seed).fork(ctx.trialNumber);
    const observed = ctx.trials.filter(
      (t) =>
        t.state === 'complete' ||
        ((t.state === 'pruned' || t.state === 'failed') && Object.keys(t.params).length > 0),
    );
    if (Object.keys(ctx.space).length === 0) {
      this.lastInfo = { mode: 'startup' };
      return {};
    }
    if (observed.length < this.nStartup || observed.length === 0) {
      this.lastInfo = { mode: 'startup' };
      return randomParams(ctx.space, rng);
    }
    try {
      return this.sampleGp(ctx, observed, rng);
    } catch (error) {
      this.lastInfo = { mode: 'fallback', error };
      return randomParams(ctx.space, new Rng(ctx.seed).fork(ctx.trialNumber));
    }
  }

  private sampleGp(ctx: SampleContext, observed: readonly FrozenTrial[], rng: Rng): Params {
    const space = ctx.space;
    const order = paramOrder(space);
    const dims = makeDims(space, order);
    for (const dm of dims)
      dm.arc = !dm.isCat && dm.spec.when !== undefined && dm.search.kind !== 'fixed';
    const d = dims.length;
    const gpCols = new GpColumns(dims);
    const isCat = gpCols.isCat;
    const dg = gpCols.cols;

    // Outputs: minimise internally; non-finite values clamped to the finite range.
    const sign = ctx.direction === 'maximize' ? -1 : 1;
    const raw = observed.map((t) => {
      const v = t.state === 'pruned' ? lastIntermediate(t) : t.state === 'failed' ? null : t.value;
      return v === null ? NaN : sign * v;
    });
    const finite = raw.filter((v) => Number.isFinite(v));
    if (finite.length === 0) {
      this.lastInfo = { mode: 'startup' };
      return randomParams(space, rng);
    }
    const n = observed.length;
    const y = gpOutputs(raw, n, this.warp);

    const X = new Float64Array(n * d);
    observed.forEach((t, i) => encodeParams(dims, t.params, X, i * d));
    const G = gpCols.liftAll(X, n);

    // Hyperparameters on the observed trials only (beyond MAX_TRAIN of them, on a subset: trainingSet,
    // with the hyperparameters of a recent prefix of the history: scheduledFit).
    const t0 = performance.now();
    const train = trainingSet(G, y, n, dg);
    const data: GpData = { X: train.X, n: train.n, d: dg, isCat, y: train.y };
    const fit = n > MAX_TRAIN ? scheduledFit(G, raw, n, dg, isCat, this.warp) : fitMap(data);
    const t1 = performance.now();
    const pending = ctx.trials.filter(
      (t) => (t.state === 'running' || t.state === 'waiting') && Object.keys(t.params).length > 0,
    );
    const post = believePending(data, fit.hyper, pending, dims, gpCols);

    // Constraints (Optuna's GPSampler): one GP per constraint, the acquisition adds
    // sum_i log P(c_i <= 0) and improves on the best *feasible* value.
    const failure = failureModel(ctx.trials, observed, dims, gpCols);
    const constraints = withFailures(
      constraintModels(observed, G, dg, isCat, train.rows),
      failure,
      observed.length,
    );
    let best = Infinity;
    for (let i = 0; i < n; i++)
      if (!constraints || constraints.feasible[i]) best = Math.min(best, y[i]);
    const score = acquisition(dims, gpCols, post, constraints, best);
    const extra = bestStarts(X, y, observed, dims, constraints, rng);

    const t2 = performance.now();
    const searchDims = dims.map((dm) => dm.search);
    const res = maximizeAcquisition(
      searchDims,
      score,
      rng,
      {
        nCandidates: this.nCandidates,
        nLocalSearch: this.nLocal,
        maxEvalsPerStart: Math.max(30, 8 * d),
      },
      extra,
    );

    const params = buildParams(space, (name) => {
      const j = order.indexOf(name);
      return decodeValue(dims[j], res.x[j]);
    });
    this.lastInfo = {
      mode: 'gp',
      nTrain: post.n,
      nPending: pending.length,
      ...(constraints ? { nConstraintTrain: constraints.models.map((m) => m.post.n) } : {}),
      hyper: fit.hyper,
      fitEvals: fit.evals,
      ...(failure ? { failureFitEvals: failure.evals } : {}),
      acquisition: res.value,
      fitMs: t1 - t0,
      acqMs: performance.now() - t2,
    };
    return params;
  }
}

/**
 * The GP of the training data, with the pending trials (running or waiting, with params) as a
 * kriging believer: each joins the data at the posterior mean there.
 */
function believePending(
  data: GpData,
  hyper: GpHyper,
  pending: readonly FrozenTrial[],
  dims: readonly DimInfo[],
  gpCols: GpColumns,
): GpPosterior {
  const dg = gpCols.cols;
  const post = new GpPosterior(data.X, data.n, dg, gpCols.isCat, data.y, hyper);
  if (pending.length === 0) return post;
  const m = pending.length;
  const nt = data.n;
  const X2 = new Float64Array((nt + m) * dg);
  X2.set(data.X);
  const y2 = new Float64Array(nt + m);
  y2.set(data.y);
  const pred = { mean: 0, variance: 0 };
  const row = new Float64Array(dims.length);
  pending.forEach((t, i) => {
    encodeParams(dims, t.params, row, 0);
    gpCols.lift(row, 0, X2, nt + i);
    y2[nt + i] = post.predict(X2, nt + i, pred).mean;
  });
  return new GpPosterior(X2, nt + m, dg, gpCols.isCat, y2, hyper);
}

/**
 * The acquisition of a raw search vector: log EI over `best` under `post`, plus the log
 * probability of each constraint holding (only that while no trial is feasible: `best` is
 * Infinity). Conditional parameters inactive in the vector are masked before scoring.
 */
function acquisition(
  dims: readonly DimInfo[],
  gpCols: GpColumns,
  post: GpPosterior,
  constraints: ConstraintModels | null,
  best: number,
): (x: Float64Array) => number {
  const d = dims.length;
  const parents = new Set<string>();
  for (const dm of dims) for (const p of Object.keys(dm.spec.when ?? {})) parents.add(p);
  const masked = new Float64Array(d);
  const lifted = new Float64Array(gpCols.cols);
  const pred = { mean: 0, variance: 0 };
  return (x: Float64Array): number => {
    masked.set(x);
    if (parents.size > 0) {
      const sofar: Params = {};
      for (let j = 0; j < d; j++) {
        const dm = dims[j];
        if (!isActive(dm.spec, sofar)) {
          masked[j] = dm.isCat ? INACTIVE_CATEGORICAL : dm.arc ? NaN : INACTIVE_NUMERIC;
        } else if (parents.has(dm.name)) {
          sofar[dm.name] = decodeValue(dm, x[j]);
        }
      }
    }
    gpCols.lift(masked, 0, lifted, 0);
    let feas = 0;
    if (constraints) {
      for (const c of constraints.models) {
        c.post.predict(lifted, 0, pred);
        feas += logProbBelow(pred.mean, Math.sqrt(pred.variance), c.threshold);
      }
    }
    // No feasible trial yet: best is Infinity and only the probability of feasibility counts.
    if (best === Infinity) return feas;
    post.predict(lifted, 0, pred);
    return logEI(pred.mean, Math.sqrt(pred.variance), best) + feas;
  };
}

/**
 * Extra starts of the acquisition's search: the two best observed points (feasible ones first;
 * `X` their encoded params, `y` their outputs), made valid search vectors (absent parameters drawn
 * at random, numeric values clamped and snapped).
 */
function bestStarts(
  X: Float64Array,
  y: Float64Array,
  complete: readonly FrozenTrial[],
  dims: readonly DimInfo[],
  constraints: ConstraintModels | null,
  rng: Rng,
): Float64Array[] {
  const d = dims.length;
  const penalty = (i: number) => (constraints && !constraints.feasible[i] ? 1 : 0);
  const ranked = Array.from({ length: complete.length }, (_, i) => i).sort(
    (a, b) => penalty(a) - penalty(b) || y[a] - y[b] || a - b,
  );
  const extra: Float64Array[] = [];
  for (const i of ranked.slice(0, 2)) {
    const x = X.slice(i * d, i * d + d);
    const present = complete[i].params;
    for (let j = 0; j < d; j++) {
      const s = dims[j].search;
      const absent = !(dims[j].name in present);
      if (s.kind === 'fixed') x[j] = s.value;
      else if (s.kind === 'categorical') {
        if (!(x[j] >= 0 && x[j] < s.nChoices)) x[j] = rng.int(s.nChoices);
      } else {
        const u = absent || Number.isNaN(x[j]) ? rng.next() : Math.min(1, Math.max(0, x[j]));
        x[j] = s.kind === 'discrete' ? s.snap(u) : u;
      }
    }
    extra.push(x);
  }
  return extra;
}

/** The value of a pruned trial: its intermediate value at the latest step it reported (null: none). */
function lastIntermediate(t: FrozenTrial): number | null {
  return lastPoint(t)?.value ?? null;
}

/**
 * Failed trials (a diverged run, an out-of-memory batch) as a learned infeasible region: a GP on
 * the label +1 (failed) or -1 (complete or pruned) of every finished trial with params,
 * standardised like a constraint, whose P(label <= 0) multiplies the acquisition, as a told
 * constraint's does. Null without a failed trial. Past MAX_TRAIN labelled trials, the failed and
 * finished ones are thinned evenly (in trial order) to MAX_TRAIN, so an ask stays bounded. Its
 * hyperparameters are fitted on the labelled trials up to the last whole REFIT_EVERY block and
 * cached by that data (failureFit), so the asks in between do not fit it again.
 */
function failureModel(
  trials: readonly FrozenTrial[],
  observed: readonly FrozenTrial[],
  dims: readonly DimInfo[],
  gpCols: GpColumns,
): { post: GpPosterior; threshold: number; evals: number } | null {
  const failed = trials.filter((t) => t.state === 'failed' && Object.keys(t.params).length > 0);
  if (failed.length === 0) return null;
  const labelled = [
    ...failed.map((t) => ({ t, c: 1 })),
    ...observed.filter((t) => t.state !== 'failed').map((t) => ({ t, c: -1 })),
  ].sort((a, b) => a.t.number - b.t.number);
  const all = labelledData(thinned(labelled, MAX_TRAIN), dims, gpCols);
  const fit = failureFit(labelled, all, dims, gpCols);
  return {
    post: new GpPosterior(all.X, all.n, gpCols.cols, gpCols.isCat, all.y, fit.hyper),
    threshold: all.threshold,
    evals: fit.evals,
  };
}

/** `xs` thinned evenly (in their order) to at most `k`. */
function thinned<T>(xs: readonly T[], k: number): readonly T[] {
  if (xs.length <= k) return xs;
  return Array.from({ length: k }, (_, j) => xs[Math.round((j * (xs.length - 1)) / (k - 1))]);
}

/** Labelled trials as GP data: the labels standardised, and where 0 (the told threshold) lands. */
function labelledData(
  rows: readonly { t: FrozenTrial; c: number }[],
  dims: readonly DimInfo[],
  gpCols: GpColumns,
): GpData & { threshold: number } {
  const m = rows.length;
  const row = new Float64Array(dims.length);
  const X = new Float64Array(m * gpCols.cols);
  const y = new Float64Array(m);
  let mean = 0;
  rows.forEach(({ t, c }, i) => {
    encodeParams(dims, t.params, row, 0);
    gpCols.lift(row, 0, X, i);
    y[i] = c;
    mean += c / m;
  });
  let v = 0;
  for (let i = 0; i < m; i++) v += (y[i] - mean) ** 2 / m;
  const std = v > 1e-12 ? Math.sqrt(v) : 1;
  for (let i = 0; i < m; i++) y[i] = (y[i] - mean) / std;
  return { X, n: m, d: gpCols.cols, isCat: gpCols.isCat, y, threshold: -mean / std };
}

/**
 * The failure model's hyperparameters: fitted on the labelled trials of the whole REFIT_EVERY
 * blocks (thinned the same way), cached by that data; all of them when those hold no failure or
 * fewer than two blocks. A function of the history alone, as scheduledFit's.
 */
function failureFit(
  labelled: readonly { t: FrozenTrial; c: number }[],
  all: GpData,
  dims: readonly DimInfo[],
  gpCols: GpColumns,
): FitResult {
  const n0 = labelled.length - (labelled.length % REFIT_EVERY);
  const prefix = labelled.slice(0, n0);
  if (n0 < 2 * REFIT_EVERY || !prefix.some((l) => l.c > 0)) return fitMap(all);
  return cachedFitMap(labelledData(thinned(prefix, MAX_TRAIN), dims, gpCols));
}

/** The constraints' models with the failure model beside them (n: the observed trials, all feasible without constraints). */
function withFailures(
  constraints: ConstraintModels | null,
  failure: { post: GpPosterior; threshold: number; evals: number } | null,
  n: number,
): ConstraintModels | null {
  if (!failure) return constraints;
  if (!constraints) return { models: [failure], feasible: new Array<boolean>(n).fill(true) };
  return { models: [...constraints.models, failure], feasible: constraints.feasible };
}

/** The GPs of a study's constraints: each with its standardised threshold (0 in the told units). */
interface ConstraintModels {
  models: { post: GpPosterior; threshold: number }[];
  /** Per complete trial: every constraint told and <= 0 (a trial told without constraints is not feasible). */
  feasible: boolean[];
}

/**
 * One GP per constraint, on the complete trials that told it (finite values;
 * standardised, not warped), with the threshold 0 in the same units. Null
 * when no complete trial told constraints. Past MAX_TRAIN complete trials,
 * only those of `subset` (the objective's training rows, `trainingSet`), so a
 * constrained study asks as fast as one without; `feasible` covers them all.
 */
function constraintModels(
  complete: readonly FrozenTrial[],
  X: Float64Array,
  d: number,
  isCat: Uint8Array,
  subset: Int32Array | null,
): ConstraintModels | null {
  let nc = 0;
  for (const t of complete) nc = Math.max(nc, t.constraints?.length ?? 0);
  if (nc === 0) return null;
  const feasible = complete.map(
    (t) => (t.constraints?.length ?? 0) === nc && t.constraints!.every((c) => c <= 0),
  );
  const models: ConstraintModels['models'] = [];
  for (let k = 0; k < nc; k++) {
    const rows: number[] = [];
    for (const i of subset ?? complete.keys()) {
      const c = complete[i].constraints?.[k];
      if (typeof c === 'number' && Number.isFinite(c)) rows.push(i);
    }
    if (rows.length === 0) continue;
    const m = rows.length;
    const Xc = new Float64Array(m * d);
    const yc = new Float64Array(m);
    let mean = 0;
    rows.forEach((i, r) => {
      Xc.set(X.subarray(i * d, i * d + d), r * d);
      yc[r] = complete[i].constraints![k];
      mean += yc[r] / m;
    });
    let v = 0;
    for (let r = 0; r < m; r++) v += (yc[r] - mean) ** 2 / m;
    const std = Math.sqrt(v) > 1e-12 * Math.max(1, Math.abs(mean)) ? Math.sqrt(v) : 1;
    for (let r = 0; r < m; r++) yc[r] = (yc[r] - mean) / std;
    const fit = fitMap({ X: Xc, n: m, d, isCat, y: yc });
    models.push({ post: new GpPosterior(Xc, m, d, isCat, yc, fit.hyper), threshold: -mean / std });
  }
  return { models, feasible };
}

/**
 * The GP's outputs from the first n raw values (minimised; NaN for a missing value): non-finite
 * ones clamped to the finite range (NaN and +Infinity to the worst, -Infinity to the best), then
 * standardised and (warp) Yeo-Johnson warped and standardised again. At least one must be finite.
 */
function gpOutputs(raw: readonly number[], n: number, warp: boolean): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    y[i] = Number.isFinite(v) ? v : v === -Infinity ? lo : hi;
  }
  standardize(y);
  if (warp) {
    yeoJohnson(y);
    standardize(y);
  }
  return y;
}

/** Beyond MAX_TRAIN complete trials, the hyperparameters are refitted once every this many. */
export const REFIT_EVERY = 16;

interface FitEntry {
  X: Float64Array;
  y: Float64Array;
  isCat: Uint8Array;
  fit: FitResult;
}

/** Recent scheduled fits, newest last (a few studies may share an isolate). */
const fitCache: FitEntry[] = [];
const FIT_CACHE_SIZE = 8;

/** Forget every cached fit (what a restarted isolate starts with); for tests. */
export function clearFitCache(): void {
  fitCache.length = 0;
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * The hyperparameters beyond MAX_TRAIN complete trials: those fitted (fitMap) on the training set
 * of the first n0 complete trials, n0 = n rounded down to a multiple of REFIT_EVERY (outputs
 * standardised and warped over those n0 alone). They are a function of the history only, so the
 * same history gives the same suggestion whether or not the fit is cached; cached by the exact
 * data it was computed on, so the next REFIT_EVERY - 1 asks of the study do not fit at all.
 */
function scheduledFit(
  X: Float64Array,
  raw: readonly number[],
  n: number,
  d: number,
  isCat: Uint8Array,
  warp: boolean,
): FitResult {
  const n0 = Math.max(MAX_TRAIN + 1, n - (n % REFIT_EVERY));
  let m = Math.min(n, n0);
  // A prefix with no finite value cannot be fitted: the whole history then (it has one).
  if (!raw.slice(0, m).some((v) => Number.isFinite(v))) m = n;
  const y0 = gpOutputs(raw, m, warp);
  const train = trainingSet(X.subarray(0, m * d), y0, m, d);
  return cachedFitMap({ X: Float64Array.from(train.X), n: train.n, d, isCat, y: train.y });
}

/** fitMap, cached by the exact data it was fitted on (FIT_CACHE_SIZE fits, newest last). */
function cachedFitMap(data: GpData): FitResult {
  const X = data.X.subarray(0, data.n * data.d);
  const y = data.y.subarray(0, data.n);
  for (let k = fitCache.length - 1; k >= 0; k--) {
    const e = fitCache[k];
    if (sameArray(e.y, y) && sameArray(e.isCat, data.isCat) && sameArray(e.X, X)) {
      fitCache.splice(k, 1);
      fitCache.push(e);
      return { ...e.fit, evals: 0 };
    }
  }
  const fit = fitMap(data);
  fitCache.push({
    X: Float64Array.from(X),
    y: Float64Array.from(y),
    isCat: Uint8Array.from(data.isCat),
    fit,
  });
  if (fitCache.length > FIT_CACHE_SIZE) fitCache.shift();
  return fit;
}

/**
 * In place: (y - mean) / std, with std taken as 1 when the values are (all
 * but) equal. Values are first divided by max |y| so that sums of squares
 * cannot overflow, even for values near 1e308.
 */
export function standardize(y: Float64Array): void {
  const n = y.length;
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(y[i]));
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] / scale;
  mean /= n;
  let varSum = 0;
  for (let i = 0; i < n; i++) varSum += (y[i] / scale - mean) ** 2;
  let std = Math.sqrt(varSum / n);
  if (!(std > 1e-12)) std = 1;
  for (let i = 0; i < n; i++) y[i] = (y[i] / scale - mean) / std;
}

/**
 * In place: the Yeo-Johnson power transform with the λ in [-2, 2] that makes
 * y look most normal (maximum profile likelihood, golden-section search), as
 * HEBO does. Order preserving; a long tail of bad values (Rosenbrock's 1e5
 * next to minima near 0) is pulled in so the GP's stationary kernel and
 * standardised scale are spent on the region that matters. Returns λ.
 */
export function yeoJohnson(y: Float64Array): number {
  const n = y.length;
  if (n < 3) return 1;
  const out = new Float64Array(n);
  let logJacobianBase = 0;
  for (let i = 0; i < n; i++) logJacobianBase += Math.sign(y[i]) * Math.log1p(Math.abs(y[i]));
  const transform = (lambda: number, dst: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      const v = y[i];
      if (v >= 0)
        dst[i] = Math.abs(lambda) < 1e-9 ? Math.log1p(v) : ((v + 1) ** lambda - 1) / lambda;
      else
        dst[i] =
          Math.abs(lambda - 2) < 1e-9
            ? -Math.log1p(-v)
            : -((1 - v) ** (2 - lambda) - 1) / (2 - lambda);
    }
  };
  const negLogLik = (lambda: number): number => {
    transform(lambda, out);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += out[i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (out[i] - mean) ** 2;
    v /= n;
    if (!(v > 1e-300) || !Number.isFinite(v)) return Infinity;
    return (n / 2) * Math.log(v) - (lambda - 1) * logJacobianBase;
  };
  let a = -2;
  let b = 2;
  const r = (Math.sqrt(5) - 1) / 2;
  let c = b - r * (b - a);
  let d = a + r * (b - a);
  let fc = negLogLik(c);
  let fd = negLogLik(d);
  for (let it = 0; it < 40; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - r * (b - a);
      fc = negLogLik(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + r * (b - a);
      fd = negLogLik(d);
    }
  }
  const lambda = (a + b) / 2;
  if (!Number.isFinite(negLogLik(lambda))) return 1;
  transform(lambda, out);
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i])) return 1;
  y.set(out);
  return lambda;
}

/**
 * Independent uniform sample in the internal scale (the startup phase): the random sampler's
 * `fromUnit`, so int and stepped values are equally likely at the ends and in the middle (a draw
 * over [low, high] rounded to the grid gave the two end values half the chance).
 */
export function randomParams(space: Space, rng: Rng): Params {
  return buildParams(space, (_name, spec) => fromUnit(spec, rng.next()));
}

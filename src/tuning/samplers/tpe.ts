/**
 * Tree-structured Parzen Estimator sampler, after Optuna 3.x's TPESampler.
 *
 * - Until `n_startup_trials` trials have finished (complete or pruned), it
 *   samples uniformly at random in the internal scale.
 * - Then finished trials are split into "below" (the best gamma(n)) and
 *   "above" (the rest): complete trials ranked by value (direction-aware),
 *   then pruned trials by (-last step, last intermediate value). With
 *   `constant_liar`, running trials join "above", so concurrent asks are
 *   pushed away from points already being evaluated.
 * - Failed trials (a diverged run told `failed`, an out-of-memory batch) are
 *   a learned infeasible region, in two ways (measured: bench/RESULTS.md,
 *   "Failures and pruning"; each alone fails about twice as often as both):
 *   they join "above" (not counted in n), so g(x) is high where runs fail;
 *   and each candidate's score adds log P(not failed | x), from Parzen
 *   estimators of the failed trials' params and of the finished ones'
 *   (a density-ratio classifier, as c-TPE does for constraints; Watanabe &
 *   Hutter 2023). Optuna 3.x ignores failed trials, and its TPE keeps
 *   proposing the region that fails when the best runs sit at its edge.
 * - Per parameter (or jointly for the unconditional parameters when
 *   `multivariate`), Parzen estimators l(x) (below) and g(x) (above) are
 *   built; `n_ei_candidates` draws from l(x) are scored by
 *   log l(x) - log g(x), and the best one wins.
 *
 * Several objectives (`ctx.directions`, Optuna's MOTPE as in its 3.x
 * TPESampler): only complete trials count; "below" is filled by whole
 * non-dominated fronts, the last one cut by greedy hypervolume subset
 * selection, and the below observations are weighted by their hypervolume
 * contribution (reference: 1.1 x the worst point of "below"). Past
 * HV_MAX_OBJECTIVES objectives, where exact hypervolume grows like n^(d-1)
 * (too slow for an ask), the last front is cut by
 * crowding distance instead (NSGA-II's rule) and "below" weighs uniformly.
 *
 * Constraints (any finished trial told `constraints`; Optuna 3.x's
 * `constraints_func`): feasible trials rank first; when fewer than gamma(n)
 * are feasible, "below" is the feasible ones and the least violating others
 * (violation = sum of the positive constraint values; a trial without
 * constraints counts as violating without bound); otherwise "below" is the
 * best feasible trials and every infeasible trial goes "above". Infeasible
 * trials in "below" weigh almost nothing with several objectives.
 *
 * A pure function of the context: the random stream is
 * `new Rng(seed).fork(trialNumber)`.
 */
import {
  lastPoint,
  type Direction,
  type FrozenTrial,
  type ParamSpec,
  type ParamValue,
  type Params,
  type Sampler,
  type SampleContext,
} from '../types';
import { buildParams, fromInternal, internalBounds, paramOrder, toInternal } from '../space';
import { Rng } from '../rng';
import { ParzenEstimator, defaultWeights } from '../parzen';
import type { ParzenDim, ParzenParameters } from '../parzen';
import { fromUnit } from './random';
import {
  crowdingDistance,
  finiteLosses,
  greedyHypervolumeSubset,
  hypervolumeContributions,
  nadirReference,
  nonDominatedFronts,
  dominatesLoss,
  objectiveValues,
  toLoss,
  violation,
} from '../pareto';

/** Objectives up to which MOTPE uses exact hypervolume (beyond: crowding distance, uniform weights). */
const HV_MAX_OBJECTIVES = 3;

export interface TpeOptions {
  /** Finished (complete or pruned) trials sampled at random before TPE starts. Default 10. */
  n_startup_trials?: number;
  /** Candidates drawn from l(x) per suggestion. Default 24. */
  n_ei_candidates?: number;
  /** Joint kernel over the unconditional parameters (conditional ones stay univariate). Default false: multivariate is better in sequential runs (bench/RESULTS.md) but its shared bandwidth makes the constant liar weak, so parallel asks crowd together. */
  multivariate?: boolean;
  /** Treat running trials as bad ("above") observations. Default true. */
  constant_liar?: boolean;
  /** Weight of the prior component. Default 1. */
  prior_weight?: number;
  /** Lower-bound bandwidths by range / min(100, 1 + components). Default true. */
  consider_magic_clip?: boolean;
  /** Let extreme observations use their distance to the range end as bandwidth. Default false. */
  consider_endpoints?: boolean;
  /** Size of the "below" group for n finished trials. Default min(ceil(0.1 n), 25). */
  gamma?: (n: number) => number;
  /** Observation weights (oldest first) for n observations. Default Optuna's default_weights. */
  weights?: (n: number) => ArrayLike<number>;
}

/** Optuna's `default_gamma`: min(ceil(0.1 n), 25). */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

export { defaultWeights };

// ---------------------------------------------------------------------------
// Splitting the history.

function sortableValue(v: number | null | undefined, sign: number): number {
  return typeof v === 'number' && !Number.isNaN(v) ? sign * v : Infinity;
}

/** Optuna's pruned-trial score: (-step, value) of the report at the latest step; (1, 0) without reports. */
function prunedScore(t: FrozenTrial, sign: number): [number, number] {
  const last = lastPoint(t);
  if (last === null) return [1, 0];
  return [-last.step, sortableValue(last.value, sign)];
}

/**
 * Split a study's trials into the best `gamma(n)` ("below") and the rest ("above"), each in trial-number
 * order, where n counts complete and pruned trials. Complete trials rank first (by value), then pruned ones
 * (by latest step reached, descending, then last intermediate value); failed trials with params go "above"
 * (not counted in n); waiting trials are ignored; with `constantLiar`, running trials go "above".
 */
export function splitTrials(
  trials: readonly FrozenTrial[],
  direction: Direction,
  gamma: (n: number) => number,
  constantLiar: boolean,
  exclude?: number,
): { below: FrozenTrial[]; above: FrozenTrial[] } {
  const sign = direction === 'maximize' ? -1 : 1;
  const complete: FrozenTrial[] = [];
  const pruned: FrozenTrial[] = [];
  const running: FrozenTrial[] = [];
  const failed: FrozenTrial[] = [];
  for (const t of trials) {
    if (t.number === exclude) continue;
    if (t.state === 'complete') complete.push(t);
    else if (t.state === 'pruned') pruned.push(t);
    else if (t.state === 'running' && constantLiar) running.push(t);
    else if (t.state === 'failed' && Object.keys(t.params).length > 0) failed.push(t);
  }
  const n = complete.length + pruned.length;
  let g = Number(gamma(n));
  if (!Number.isFinite(g)) g = 0;
  let nBelow = Math.max(0, Math.min(n, Math.floor(g)));

  complete.sort(
    (a, b) => sortableValue(a.value, sign) - sortableValue(b.value, sign) || a.number - b.number,
  );
  const scores = new Map<FrozenTrial, [number, number]>();
  for (const t of pruned) scores.set(t, prunedScore(t, sign));
  pruned.sort((a, b) => {
    const sa = scores.get(a)!;
    const sb = scores.get(b)!;
    return sa[0] - sb[0] || (sa[1] === sb[1] ? 0 : sa[1] < sb[1] ? -1 : 1) || a.number - b.number;
  });

  const nc = Math.min(nBelow, complete.length);
  const below = complete.slice(0, nc);
  const above = complete.slice(nc);
  nBelow -= nc;
  below.push(...pruned.slice(0, nBelow));
  above.push(...pruned.slice(nBelow), ...running, ...failed);
  below.sort((a, b) => a.number - b.number);
  above.sort((a, b) => a.number - b.number);
  return { below, above };
}

/** Optuna's EPS: the weight of infeasible "below" observations with several objectives. */
const EPS = 1e-12;

/**
 * The split with constraints or several objectives (Optuna 3.x's `_split_observation_pairs`
 * with violations; `_calculate_weights_below_for_multi_objective`): "below" and "above" in
 * trial-number order and, with several objectives, a weight per "below" trial. `constrained`:
 * rank by violation first. With one direction and no constraints it is `splitTrials`.
 */
export function splitTrialsMulti(
  trials: readonly FrozenTrial[],
  directions: readonly Direction[],
  gamma: (n: number) => number,
  constantLiar: boolean,
  constrained: boolean,
  exclude?: number,
): { below: FrozenTrial[]; above: FrozenTrial[]; weights?: Map<FrozenTrial, number> } {
  const multi = directions.length > 1;
  const obs: FrozenTrial[] = [];
  const viol = new Map<FrozenTrial, number>();
  const losses = new Map<FrozenTrial, number[]>();
  let n = 0;
  for (const t of trials) {
    if (t.number === exclude) continue;
    if (t.state === 'complete') {
      if (multi) {
        const v = objectiveValues(t, directions.length);
        if (!v) continue;
        losses.set(t, toLoss(v, directions));
      }
    } else if (t.state === 'pruned' || (t.state === 'running' && constantLiar)) {
      if (multi) continue; // MOTPE ignores pruned and running trials
    } else continue;
    if (t.state !== 'running') n++;
    obs.push(t);
    viol.set(
      t,
      t.state === 'running' ? Infinity : constrained ? (violation(t.constraints) ?? Infinity) : 0,
    );
  }
  let g = Number(gamma(n));
  if (!Number.isFinite(g)) g = 0;
  const nBelow = Math.max(0, Math.min(n, Math.floor(g)));

  const unconstrained = (list: FrozenTrial[]): { below: FrozenTrial[]; above: FrozenTrial[] } => {
    if (!multi) return splitTrials(list, directions[0], () => nBelow, constantLiar);
    const ls = list.map((t) => losses.get(t)!);
    const fronts = nonDominatedFronts(list.length, (i, j) => dominatesLoss(ls[i], ls[j]));
    const picked: number[] = [];
    for (const front of fronts) {
      if (picked.length >= nBelow) break;
      if (picked.length + front.length <= nBelow) picked.push(...front);
      else {
        const pts = finiteLosses(front.map((i) => ls[i]));
        const k = nBelow - picked.length;
        if (directions.length <= HV_MAX_OBJECTIVES)
          picked.push(...greedyHypervolumeSubset(pts, k, nadirReference(pts)).map((j) => front[j]));
        else {
          // Many objectives: the k most isolated points of the front (largest crowding distance; ties by trial order).
          const cd = crowdingDistance(pts);
          picked.push(
            ...[...front.keys()]
              .sort((a, b) => cd[b] - cd[a] || a - b)
              .slice(0, k)
              .map((j) => front[j]),
          );
        }
      }
    }
    const inBelow = new Set(picked);
    return {
      below: list.filter((_, i) => inBelow.has(i)),
      above: list.filter((_, i) => !inBelow.has(i)),
    };
  };

  let below: FrozenTrial[];
  let above: FrozenTrial[];
  if (constrained) {
    const order = [...obs].sort((a, b) => viol.get(a)! - viol.get(b)! || a.number - b.number);
    if (nBelow >= order.length || viol.get(order[nBelow])! > 0) {
      below = order.slice(0, nBelow);
      above = order.slice(nBelow);
    } else {
      const split = unconstrained(obs.filter((t) => viol.get(t) === 0));
      below = split.below;
      above = [...split.above, ...obs.filter((t) => viol.get(t)! > 0)];
    }
  } else {
    ({ below, above } = unconstrained(obs));
  }
  below.sort((a, b) => a.number - b.number);
  above.sort((a, b) => a.number - b.number);
  if (!multi) return { below, above };

  // Weights of "below": hypervolume contributions of the feasible ones, scaled to a maximum of 1.
  const weights = new Map<FrozenTrial, number>();
  const feasible = below.filter((t) => viol.get(t) === 0);
  for (const t of below) weights.set(t, EPS);
  if (feasible.length === 1 || directions.length > HV_MAX_OBJECTIVES)
    for (const t of feasible) weights.set(t, 1);
  else if (feasible.length > 1) {
    const pts = finiteLosses(feasible.map((t) => losses.get(t)!));
    const contrib = hypervolumeContributions(pts, nadirReference(pts)).map((c) => c + EPS);
    const top = Math.max(...contrib);
    feasible.forEach((t, i) => weights.set(t, Math.min(1, Math.max(0, contrib[i] / top))));
  }
  return { below, above, weights };
}

// ---------------------------------------------------------------------------
// Parameters in the estimators' scale.

interface ParamModel {
  /** Set when the parameter can take a single value only (nothing to sample). */
  single?: ParamValue;
  dim: ParzenDim;
  /** Internal value of an observed parameter value, or null when it does not fit the space. */
  toX(value: ParamValue): number | null;
  toValue(x: number): ParamValue;
  /** A uniform draw (Optuna's RandomSampler: ints and steps uniform over the grid). */
  random(rng: Rng): ParamValue;
}

function paramModel(spec: ParamSpec): ParamModel {
  if (spec.type === 'categorical') {
    const k = spec.choices.length;
    return {
      single: k <= 1 ? spec.choices[0] : undefined,
      dim: { kind: 'categorical', n: Math.max(1, k) },
      toX: (v) => {
        const i = toInternal(spec, v);
        return i >= 0 ? i : null;
      },
      toValue: (x) => fromInternal(spec, x),
      random: (rng) => spec.choices[rng.int(Math.max(1, k))],
    };
  }
  const step = spec.step !== undefined && spec.step > 0 ? spec.step : spec.type === 'int' ? 1 : 0;
  let [lo, hi] = internalBounds(spec);
  let gridStep = step;
  if (spec.log) {
    // Optuna's log-int hack: continuous in log space over [log(low - step/2), log(high + step/2)], rounded afterwards.
    if (step > 0) {
      if (spec.low - step / 2 > 0) lo = Math.log(spec.low - step / 2);
      hi = Math.log(spec.high + step / 2);
    }
    gridStep = 0;
  }
  const degenerate = !(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi);
  return {
    single: degenerate ? fromInternal(spec, internalBounds(spec)[0]) : undefined,
    dim: { kind: 'numerical', low: lo, high: hi, step: gridStep },
    toX: (v) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      const x = toInternal(spec, v);
      return Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : null;
    },
    toValue: (x) => fromInternal(spec, x),
    // The random sampler's draw (ends of an int or stepped range as likely as the middle).
    random: (rng) => fromUnit(spec, rng.next()),
  };
}

/** Internal observations of `names` from the trials that have all of them (in the given order). */
function observations(
  trials: readonly FrozenTrial[],
  names: readonly string[],
  models: readonly ParamModel[],
  kept?: FrozenTrial[],
): Float64Array[] {
  const cols: number[][] = names.map(() => []);
  const row: number[] = new Array(names.length);
  outer: for (const t of trials) {
    for (let d = 0; d < names.length; d++) {
      if (!Object.prototype.hasOwnProperty.call(t.params, names[d])) continue outer;
      const x = models[d].toX(t.params[names[d]]);
      if (x === null) continue outer;
      row[d] = x;
    }
    for (let d = 0; d < names.length; d++) cols[d].push(row[d]);
    kept?.push(t);
  }
  return cols.map((c) => Float64Array.from(c));
}

// ---------------------------------------------------------------------------

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  private readonly nStartup: number;
  private readonly nCandidates: number;
  private readonly multivariate: boolean;
  private readonly constantLiar: boolean;
  private readonly gamma: (n: number) => number;
  private readonly parzen: ParzenParameters;

  /** Options within registry.ts's bounds, not checked again; absent ones take the defaults of TpeOptions. */
  constructor(options: TpeOptions = {}) {
    const priorWeight = options.prior_weight ?? 1;
    this.nStartup = options.n_startup_trials ?? 10;
    this.nCandidates = options.n_ei_candidates ?? 24;
    this.multivariate = options.multivariate ?? false;
    this.constantLiar = options.constant_liar ?? true;
    this.gamma = options.gamma ?? defaultGamma;
    this.parzen = {
      priorWeight,
      considerMagicClip: options.consider_magic_clip ?? true,
      considerEndpoints: options.consider_endpoints ?? false,
      multivariate: this.multivariate,
      weights: options.weights ?? defaultWeights,
    };
  }

  sample(ctx: SampleContext): Params {
    const rng = new Rng(ctx.seed).fork(ctx.trialNumber);
    const space = ctx.space;
    const models = new Map<string, ParamModel>();
    const model = (name: string) => {
      let m = models.get(name);
      if (!m) models.set(name, (m = paramModel(space[name])));
      return m;
    };

    const directions = ctx.directions && ctx.directions.length > 1 ? ctx.directions : null;
    const constrained = ctx.trials.some(
      (t) =>
        t.number !== ctx.trialNumber &&
        (t.state === 'complete' || t.state === 'pruned') &&
        t.constraints != null,
    );
    let finished = 0;
    for (const t of ctx.trials) {
      if (t.number === ctx.trialNumber) continue;
      if (
        directions
          ? objectiveValues(t, directions.length) !== null
          : t.state === 'complete' || t.state === 'pruned'
      )
        finished++;
    }
    if (finished < this.nStartup) {
      return buildParams(space, (name) => {
        const m = model(name);
        return m.single !== undefined ? m.single : m.random(rng);
      });
    }

    const {
      below,
      above,
      weights,
    }: { below: FrozenTrial[]; above: FrozenTrial[]; weights?: Map<FrozenTrial, number> } =
      directions || constrained
        ? splitTrialsMulti(
            ctx.trials,
            directions ?? [ctx.direction],
            this.gamma,
            this.constantLiar,
            constrained,
            ctx.trialNumber,
          )
        : splitTrials(ctx.trials, ctx.direction, this.gamma, this.constantLiar, ctx.trialNumber);

    const failed = ctx.trials.filter(
      (t) =>
        t.state === 'failed' && t.number !== ctx.trialNumber && Object.keys(t.params).length > 0,
    );
    const feasibility: Feasibility | undefined =
      failed.length > 0 && !directions
        ? {
            failed,
            ok: ctx.trials.filter(
              (t) =>
                (t.state === 'complete' || t.state === 'pruned') && t.number !== ctx.trialNumber,
            ),
          }
        : undefined;

    // Multivariate: one joint draw for the unconditional, non-degenerate parameters.
    const joint = new Map<string, ParamValue>();
    if (this.multivariate) {
      // Over the parameters every finished trial has (Optuna's intersection search space): one
      // that some lack (a define-by-run parameter they never asked for) is drawn alone below.
      const seen = [...below, ...above];
      const names = paramOrder(space).filter(
        (n) =>
          space[n].when === undefined &&
          model(n).single === undefined &&
          seen.every((t) => Object.hasOwn(t.params, n)),
      );
      if (names.length > 0) {
        const x = this.choose(names.map(model), names, below, above, rng, weights, feasibility);
        names.forEach((n, d) => joint.set(n, model(n).toValue(x[d])));
      }
    }

    return buildParams(space, (name) => {
      const j = joint.get(name);
      if (j !== undefined) return j;
      const m = model(name);
      if (m.single !== undefined) return m.single;
      return m.toValue(this.choose([m], [name], below, above, rng, weights, feasibility)[0]);
    });
  }

  /** The best of `nCandidates` draws from l(x) by log l(x) - log g(x), in internal scale, one entry per name. */
  private choose(
    ms: readonly ParamModel[],
    names: readonly string[],
    below: readonly FrozenTrial[],
    above: readonly FrozenTrial[],
    rng: Rng,
    belowWeights?: ReadonlyMap<FrozenTrial, number>,
    feasibility?: Feasibility,
  ): number[] {
    const dims = ms.map((m) => m.dim);
    const kept: FrozenTrial[] = [];
    const obsBelow = observations(below, names, ms, kept);
    // Several objectives: the below observations weigh their hypervolume contribution (Optuna's predetermined weights).
    const parzenBelow = belowWeights
      ? { ...this.parzen, weights: () => kept.map((t) => belowWeights.get(t) ?? EPS) }
      : this.parzen;
    const l = new ParzenEstimator(obsBelow, dims, parzenBelow);
    const g = new ParzenEstimator(observations(above, names, ms), dims, this.parzen);
    const cands = l.sample(rng, this.nCandidates);
    const ll = l.logPdf(cands);
    const lg = g.logPdf(cands);
    const lf = feasibility ? this.logFeasible(feasibility, names, ms, dims, cands) : null;
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < this.nCandidates; i++) {
      const s = ll[i] - lg[i] + (lf ? lf[i] : 0);
      if (s > bestScore) {
        bestScore = s;
        best = i;
      }
    }
    return cands.map((c) => c[best]);
  }

  /**
   * log P(not failed | x) of each candidate, from Parzen estimators of the failed trials' params
   * (f) and of the finished ones' (s): log(ns s(x)) - log(ns s(x) + nf f(x)), 0 without data.
   */
  private logFeasible(
    feasibility: Feasibility,
    names: readonly string[],
    ms: readonly ParamModel[],
    dims: readonly ParzenDim[],
    cands: readonly Float64Array[],
  ): Float64Array | null {
    const obsFailed = observations(feasibility.failed, names, ms);
    const obsOk = observations(feasibility.ok, names, ms);
    const nf = obsFailed[0]?.length ?? 0;
    const ns = obsOk[0]?.length ?? 0;
    if (nf === 0) return null;
    const lf = new ParzenEstimator(obsFailed, dims, this.parzen).logPdf(cands);
    const ls = new ParzenEstimator(obsOk, dims, this.parzen).logPdf(cands);
    const out = new Float64Array(lf.length);
    for (let i = 0; i < out.length; i++) {
      const a = Math.log(ns + 1) + ls[i];
      const b = Math.log(nf) + lf[i];
      const m = Math.max(a, b);
      out[i] = a - (m + Math.log(Math.exp(a - m) + Math.exp(b - m)));
    }
    return out;
  }
}

/** The failed trials (with params) and the finished ones they are told apart from. */
interface Feasibility {
  failed: readonly FrozenTrial[];
  ok: readonly FrozenTrial[];
}

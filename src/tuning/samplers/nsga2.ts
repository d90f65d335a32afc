/**
 * NSGA-II, after Optuna 3.x's NSGAIISampler, as a pure function of the context.
 *
 * - Generations are formed from the complete trials in number order:
 *   generation g is the complete trials population_size * g ..
 *   population_size * (g + 1) - 1 (running, pruned and failed trials take no
 *   part). Until the first generation is full, trials are drawn at random.
 * - After each full generation, the parent population is the elite of that
 *   generation and the previous parents: whole non-dominated fronts while they
 *   fit, then the last front by crowding distance (largest first). With
 *   constraints (any complete trial told some), domination is Optuna's
 *   constrained domination: feasible beats infeasible, then smaller total
 *   violation.
 * - A child: with probability crossover_prob, two parents picked by binary
 *   tournament (lower rank wins, then larger crowding distance) and mixed by
 *   uniform crossover (each parameter from the second parent with probability
 *   swapping_prob); otherwise a copy of a random parent. Then each parameter
 *   is replaced by a fresh random value (the random sampler's draw) with
 *   probability mutation_prob (default 1 / number of parameters).
 * - Conditional parameters: a parameter the chosen parent lacks is taken from
 *   the other parent, else drawn at random (`buildParams` walks the space).
 *
 * One objective works too (a genetic algorithm then). The random stream is
 * `new Rng(seed).fork(trialNumber)`.
 */
import { Rng } from '../rng';
import {
  crowdingDistance,
  nonDominatedFronts,
  objectiveValues,
  toLoss,
  violation,
} from '../pareto';
import { buildParams, paramOrder } from '../space';
import type {
  Direction,
  FrozenTrial,
  ParamSpec,
  ParamValue,
  Params,
  SampleContext,
  Sampler,
} from '../types';
import { fromUnit } from './random';

export interface Nsga2Options {
  /** Trials per generation. Default 50; at least 2. */
  population_size?: number;
  /** Probability of replacing each parameter by a random value. Default 1 / number of parameters. */
  mutation_prob?: number;
  /** Probability of a crossover (else a parent is copied). Default 0.9. */
  crossover_prob?: number;
  /** Uniform crossover: probability of taking each parameter from the second parent. Default 0.5. */
  swapping_prob?: number;
}

interface Member {
  trial: FrozenTrial;
  rank: number;
  crowding: number;
}

function fits(spec: ParamSpec, v: ParamValue | undefined): v is ParamValue {
  if (v === undefined) return false;
  if (spec.type === 'categorical') return spec.choices.includes(v);
  return typeof v === 'number' && Number.isFinite(v) && v >= spec.low && v <= spec.high;
}

export class Nsga2Sampler implements Sampler {
  readonly name = 'nsga2';
  private readonly populationSize: number;
  private readonly mutationProb: number | undefined;
  private readonly crossoverProb: number;
  private readonly swappingProb: number;

  /** Options within registry.ts's bounds, not checked again; absent ones take the defaults of Nsga2Options. */
  constructor(options: Nsga2Options = {}) {
    this.populationSize = options.population_size ?? 50;
    this.mutationProb = options.mutation_prob;
    this.crossoverProb = options.crossover_prob ?? 0.9;
    this.swappingProb = options.swapping_prob ?? 0.5;
  }

  /** The parent population after the last full generation (empty before the first is full), with rank and crowding. */
  parents(
    trials: readonly FrozenTrial[],
    directions: readonly Direction[],
    exclude?: number,
  ): Member[] {
    const complete = trials.filter(
      (t) => t.number !== exclude && objectiveValues(t, directions.length) !== null,
    );
    const constrained = complete.some((t) => t.constraints != null);
    let parents: FrozenTrial[] = [];
    const P = this.populationSize;
    for (let g = 0; (g + 1) * P <= complete.length; g++) {
      parents = this.elite(
        [...complete.slice(g * P, (g + 1) * P), ...parents],
        directions,
        constrained,
      ).map((m) => m.trial);
    }
    return parents.length > 0 ? this.elite(parents, directions, constrained) : [];
  }

  /** The best population_size of `pop` (whole fronts, then the last by crowding distance), ranked. */
  private elite(
    pop: FrozenTrial[],
    directions: readonly Direction[],
    constrained: boolean,
  ): Member[] {
    pop = [...pop].sort((a, b) => a.number - b.number);
    const losses = pop.map((t) => toLoss(objectiveValues(t, directions.length)!, directions));
    const viol = pop.map((t) => violation(t.constraints));
    const pareto = (i: number, j: number): boolean => {
      const a = losses[i];
      const b = losses[j];
      let better = false;
      for (let k = 0; k < a.length; k++) {
        if (a[k] > b[k]) return false;
        if (a[k] < b[k]) better = true;
      }
      return better;
    };
    // Optuna's constrained domination (pareto.ts `constrainedDominates`) on precomputed violations.
    const dom = constrained
      ? (i: number, j: number): boolean => {
          const ca = viol[i];
          const cb = viol[j];
          if (ca === null && cb === null) return pareto(i, j);
          if (cb === null) return true;
          if (ca === null) return false;
          if (ca === 0 && cb === 0) return pareto(i, j);
          if (ca === 0 || cb === 0) return ca === 0;
          return ca < cb;
        }
      : pareto;
    const out: Member[] = [];
    const fronts = nonDominatedFronts(pop.length, dom);
    for (let r = 0; r < fronts.length && out.length < this.populationSize; r++) {
      const front = fronts[r];
      const cd = crowdingDistance(front.map((i) => losses[i]));
      const members = front.map((i, k) => ({ trial: pop[i], rank: r, crowding: cd[k] }));
      if (out.length + members.length > this.populationSize) {
        members.sort((a, b) => b.crowding - a.crowding || a.trial.number - b.trial.number);
        members.length = this.populationSize - out.length;
      }
      out.push(...members);
    }
    return out;
  }

  sample(ctx: SampleContext): Params {
    const rng = new Rng(ctx.seed).fork(ctx.trialNumber);
    const space = ctx.space;
    const directions =
      ctx.directions && ctx.directions.length > 0 ? ctx.directions : [ctx.direction];
    const pop = this.parents(ctx.trials, directions, ctx.trialNumber);
    if (pop.length === 0) return buildParams(space, (_name, spec) => fromUnit(spec, rng.next()));

    const tournament = (from: readonly Member[]): Member => {
      const a = from[rng.int(from.length)];
      const b = from[rng.int(from.length)];
      if (a.rank !== b.rank) return a.rank < b.rank ? a : b;
      return a.crowding > b.crowding ? a : b;
    };
    let first: Params;
    let second: Params;
    let swap: (name: string) => boolean;
    if (rng.next() < this.crossoverProb && pop.length >= 2) {
      const p0 = tournament(pop);
      const p1 = tournament(pop.filter((m) => m !== p0));
      first = p0.trial.params;
      second = p1.trial.params;
      swap = () => rng.next() < this.swappingProb;
    } else {
      first = second = pop[rng.int(pop.length)].trial.params;
      swap = () => false;
    }
    const names = paramOrder(space);
    const nParams = Math.max(1, names.filter((n) => space[n].when === undefined).length);
    const mutation = this.mutationProb ?? 1 / nParams;
    // Draw the crossover mask and mutation coins for every parameter in a fixed order, so the
    // stream does not depend on which conditional parameters turn out active.
    const plan = new Map<string, { second: boolean; mutate: boolean; fresh: number }>();
    for (const n of names)
      plan.set(n, { second: swap(n), mutate: rng.next() < mutation, fresh: rng.next() });
    return buildParams(space, (name, spec) => {
      const p = plan.get(name)!;
      const [a, b] = p.second ? [second, first] : [first, second];
      if (!p.mutate) {
        if (fits(spec, a[name])) return a[name];
        if (fits(spec, b[name])) return b[name];
      }
      return fromUnit(spec, p.fresh);
    });
  }
}

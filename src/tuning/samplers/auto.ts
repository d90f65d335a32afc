/**
 * `auto`, the default sampler (in the spirit of OptunaHub's AutoSampler):
 * it hands each trial to the sampler that suits the study's space and
 * budget, and says which (`proposer`, recorded on the trial as `sampler`).
 *
 * The rule, applied to every ask on the study's history (C = its complete
 * trials):
 *
 * 1. Several objectives: `tpe` (multi-objective TPE, which starts with its
 *    own 10 random draws) while C < MO_TPE_MAX_TRIALS (250), `nsga2` beyond.
 * 2. Start: while C < AUTO_STARTUP (10), `qmc` (scrambled Sobol' point number
 *    `trialNumber`, so the start covers every axis evenly); `random` instead
 *    when the space has more parameters than the Sobol' table holds.
 * 3. `gp` while C < GP_MAX_TRIALS (300), whatever the mix of parameter
 *    types: GP-BO has the lower regret on the numeric and conditional
 *    problems of the bench at 50 trials, and also on mostly or only
 *    categorical spaces (measured 2026-11-30, 50 trials, 10 seeds, median
 *    regret gp vs multivariate TPE: 3 categoricals of 4 choices + 1 float
 *    0.0000 vs 0.063; 6 categoricals of 4 choices 0.0000 vs 0.076; 3 of 20
 *    choices 0.014 vs 0.15; 3 of 20 + 2 floats 0.023 vs 0.48; 4 of 4 both 0),
 *    so there is no "mostly categorical" handover.
 * 4. `tpe` beyond. This threshold is about cost, not quality: the GP's edge
 *    has not gone at 200 trials (bench/samplers.ts --trials 200 --seeds 3,
 *    median regret gp vs multivariate TPE: Hartmann6 0.0014 vs 0.17,
 *    Rosenbrock-4D 1.7 vs 38, Levy-4D 0.023 vs 0.15, Styblinski-Tang-5D
 *    0.087 vs 24), but its ask grows like C^2-C^3 (about 120 ms at 200
 *    trials and 750 ms at 500 through HTTP before the GP's speed work) while
 *    TPE's stays O(C). Raise GP_MAX_TRIALS when the GP's ask is cheap at 1,000.
 *
 * Delegates keep their default options (TPE multivariate); their own startup
 * phases (10 complete trials) have passed by the time `auto` calls them.
 * Every choice is a pure function of the context (the space, the
 * complete-trial count, the trial number), so the same history and seed give
 * the same params and the same `proposer`. (A delegate may still
 * draw at random inside: the GP does when no complete value is finite.)
 */
import { SOBOL_MAX_DIMS } from '../sobol';
import { paramOrder } from '../space';
import type { Params, SampleContext, Sampler } from '../types';
import { GpSampler } from './gp';
import { Nsga2Sampler } from './nsga2';
import { QmcSampler } from './qmc';
import { RandomSampler } from './random';
import { TpeSampler } from './tpe';

/** Complete trials sampled by QMC (or random) before a model takes over. */
export const AUTO_STARTUP = 10;
/** Complete trials past which `auto` hands over from GP to TPE. */
export const GP_MAX_TRIALS = 300;

/**
 * Several objectives: complete trials past which `auto` hands over from multi-objective TPE to
 * NSGA-II (OptunaHub's AutoSampler does the same at 250). At 100 trials MOTPE is far ahead
 * (bench/RESULTS.md, "Several objectives"); at 500 trials (bench/multiobjective.ts, 10 seeds)
 * the hand-over gained on ZDT1 (median hypervolume 5.00 vs 4.92) and lost a little on the two
 * LR/throughput problems (87.2 vs 88.2, 76.6 vs 77.6) at half the time per sample.
 */
export const MO_TPE_MAX_TRIALS = 250;

export class AutoSampler implements Sampler {
  readonly name = 'auto';
  private readonly gp = new GpSampler();
  private readonly tpe = new TpeSampler({ multivariate: true });
  private readonly qmc = new QmcSampler();
  private readonly random = new RandomSampler();
  private readonly nsga2 = new Nsga2Sampler();

  /** The sampler that proposes trial `ctx.trialNumber` (see the rule above). */
  choose(ctx: SampleContext): Sampler {
    let complete = 0;
    for (const t of ctx.trials) if (t.state === 'complete') complete++;
    if (ctx.directions && ctx.directions.length > 1)
      return complete < MO_TPE_MAX_TRIALS ? this.tpe : this.nsga2;
    if (complete < AUTO_STARTUP)
      return paramOrder(ctx.space).length > SOBOL_MAX_DIMS ? this.random : this.qmc;
    return complete < GP_MAX_TRIALS ? this.gp : this.tpe;
  }

  sample(ctx: SampleContext): Params {
    return this.choose(ctx).sample(ctx);
  }

  proposer(ctx: SampleContext): string {
    return this.choose(ctx).name;
  }
}

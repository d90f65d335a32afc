/**
 * `auto`, the default sampler (in the spirit of OptunaHub's AutoSampler):
 * it hands each trial to the sampler that suits the study's space and
 * budget, and says which (`proposer`, recorded on the trial).
 *
 * - `gp` while the space is mostly numeric and the study has fewer than
 *   `GP_MAX_TRIALS` complete trials: GP-BO wins small budgets.
 * - `tpe` beyond that, or when categoricals are most of the space.
 *
 * Both delegates start with their own random draws, so the choice is a pure
 * function of the context like every sampler's.
 */
import type { Params, SampleContext, Sampler } from '../types';
import { GpSampler } from './gp';
import { Nsga2Sampler } from './nsga2';
import { TpeSampler } from './tpe';

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
  // Several objectives (fields of the branch below).
  private readonly moTpe = new TpeSampler({ multivariate: true });
  private readonly nsga2 = new Nsga2Sampler();

  private choose(ctx: SampleContext): Sampler {
    if ((ctx.directions?.length ?? 1) > 1) {
      // Several objectives: MOTPE for small budgets, NSGA-II for large ones.
      const complete = ctx.trials.filter((t) => t.state === 'complete').length;
      return complete < MO_TPE_MAX_TRIALS ? this.moTpe : this.nsga2;
    }
    const specs = Object.values(ctx.space);
    const categorical = specs.filter((s) => s.type === 'categorical').length;
    if (categorical * 2 > specs.length) return this.tpe;
    const complete = ctx.trials.filter((t) => t.state === 'complete').length;
    return complete < GP_MAX_TRIALS ? this.gp : this.tpe;
  }

  sample(ctx: SampleContext): Params {
    return this.choose(ctx).sample(ctx);
  }

  proposer(ctx: SampleContext): string {
    return this.choose(ctx).name;
  }
}

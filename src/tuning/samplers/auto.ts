/**
 * `auto`, the default sampler (in the spirit of OptunaHub's AutoSampler):
 * it hands each trial to the sampler that suits the study's space and
 * budget, and says which (`proposer`, recorded on the trial as `sampler`).
 *
 * The rule, applied to every ask on the study's history (C = its complete
 * trials; F = its finished ones: complete, pruned or failed, all of which the
 * GP learns from):
 *
 * 1. Several objectives: `tpe` (multi-objective TPE, which starts with its
 *    own 10 random draws) while C < MO_TPE_MAX_TRIALS (250), `nsga2` beyond.
 * 2. Start: while F < AUTO_STARTUP (10), `qmc` (scrambled Sobol' point number
 *    `trialNumber`, so the start covers every axis evenly); `random` instead
 *    when the space has more parameters than the Sobol' table holds.
 * 3. `gp` while F < GP_MAX_TRIALS (300), whatever the mix of parameter
 *    types: there is no "mostly categorical" hand-over, as the GP's regret
 *    is the lower one at these budgets (bench/RESULTS.md, "Sampler quality").
 * 4. `tpe` beyond: the threshold bounds the GP's cost, not its quality (an
 *    exact GP's ask grows like C^2-C^3, TPE's like C; past MAX_TRAIN the GP
 *    conditions on a subset, gp.ts). Per-ask times: bench/RESULTS.md, "Ask
 *    latency (HTTP + Durable Object)".
 *
 * Delegates keep their default options (TPE multivariate); their own startup
 * phases (10 complete trials) have passed by the time `auto` calls them.
 * Every choice is a pure function of the context (the space, the
 * complete and finished counts, the trial number), so the same history and seed give
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

/** Finished trials (complete, pruned or failed) sampled by QMC (or random) before a model takes over. */
export const AUTO_STARTUP = 10;
/** Finished trials past which `auto` hands over from GP to TPE. */
export const GP_MAX_TRIALS = 300;

/**
 * Several objectives: complete trials past which `auto` hands over from multi-objective TPE to
 * NSGA-II, as OptunaHub's AutoSampler does at 250: MOTPE is far ahead early (bench/RESULTS.md,
 * "Several objectives"), NSGA-II's sample costs less on a long history.
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
    let finished = 0;
    for (const t of ctx.trials) {
      if (t.state === 'complete') complete++;
      if (t.state === 'complete' || t.state === 'pruned' || t.state === 'failed') finished++;
    }
    if (ctx.directions && ctx.directions.length > 1)
      return complete < MO_TPE_MAX_TRIALS ? this.tpe : this.nsga2;
    if (finished < AUTO_STARTUP)
      return paramOrder(ctx.space).length > SOBOL_MAX_DIMS ? this.random : this.qmc;
    return finished < GP_MAX_TRIALS ? this.gp : this.tpe;
  }

  sample(ctx: SampleContext): Params {
    return this.choose(ctx).sample(ctx);
  }

  proposer(ctx: SampleContext): string {
    return this.choose(ctx).name;
  }
}

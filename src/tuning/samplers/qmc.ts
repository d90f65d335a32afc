/**
 * Quasi-Monte Carlo sampler: trial n gets point n of the Sobol' sequence
 * scrambled by the study's seed (`sobolPoint`), one dimension per parameter
 * in `paramOrder` (conditional ones included, so a parameter keeps its
 * dimension whatever is active; the coordinates of inactive ones are unused).
 * Coordinates map to values as in the random sampler (`fromUnit`). Ignores the
 * history, like Optuna's QMCSampler; the first 2^m trials of a study cover
 * every axis evenly.
 */
import { SamplerConfigError } from '../errors';
import { SOBOL_MAX_DIMS, sobolPoint } from '../sobol';
import { buildParams, paramOrder } from '../space';
import type { Params, SampleContext, Sampler } from '../types';
import { fromUnit } from './random';

export class QmcSampler implements Sampler {
  readonly name = 'qmc';

  sample(ctx: SampleContext): Params {
    const order = paramOrder(ctx.space);
    if (order.length === 0) return {};
    if (order.length > SOBOL_MAX_DIMS) {
      throw new SamplerConfigError(
        'space',
        `the qmc sampler supports at most ${SOBOL_MAX_DIMS} parameters, got ${order.length}`,
      );
    }
    const dim = new Map(order.map((name, i) => [name, i]));
    const point = sobolPoint(ctx.trialNumber, order.length, ctx.seed);
    return buildParams(ctx.space, (name, spec) => fromUnit(spec, point[dim.get(name)!]));
  }
}

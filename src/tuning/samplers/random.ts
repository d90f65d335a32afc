/**
 * Random sampler: every active parameter drawn independently and uniformly in
 * its internal scale (log-uniform for `log` parameters), conditional
 * parameters walked by `buildParams`. Ignores the history.
 *
 * Stepped and int parameters are drawn over the range widened by half a step
 * at each end (as Optuna's RandomSampler), so after rounding to the grid the
 * two end values are as likely as the others.
 *
 * A pure function of the context: the stream is `new Rng(seed).fork(trialNumber)`.
 */
import { Rng } from '../rng';
import { buildParams, fromInternal, internalBounds } from '../space';
import type { ParamSpec, ParamValue, Params, SampleContext, Sampler } from '../types';

/**
 * The value of `spec` at `u` in [0, 1): uniform `u` gives a value uniform in
 * the internal scale, with every grid value (choice, integer, step) equally
 * likely. Shared by the random and qmc samplers.
 */
export function fromUnit(spec: ParamSpec, u: number): ParamValue {
  if (spec.type === 'categorical') {
    const n = spec.choices.length;
    return spec.choices[Math.min(n - 1, Math.max(0, Math.floor(u * n)))];
  }
  let [lo, hi] = internalBounds(spec);
  if (spec.type === 'int' || spec.step !== undefined) {
    const half = (spec.step ?? 1) / 2;
    if (spec.log) {
      // A log int (step 1): low >= 1, so low - 1/2 > 0.
      lo = Math.log(spec.low - half);
      hi = Math.log(spec.high + half);
    } else {
      lo -= half;
      hi += half;
    }
  }
  return fromInternal(spec, lo + u * (hi - lo));
}

export class RandomSampler implements Sampler {
  readonly name = 'random';

  sample(ctx: SampleContext): Params {
    const rng = new Rng(ctx.seed).fork(ctx.trialNumber);
    return buildParams(ctx.space, (_name, spec) => fromUnit(spec, rng.next()));
  }
}

/**
 * No exact repeat of a finished trial's params: a finished trial (complete, pruned or failed) is
 * an answer already had, and evaluating its params again teaches nothing. Every sampler but
 * `grid` (whose points are distinct by construction) is made through this wrapper
 * (registry.ts `makeSampler`).
 *
 * When the sampler proposes the params of a finished trial, they are changed as little as it
 * takes: attempt k (1..MAX_REDRAWS) redraws 1 + floor((k - 1) / 4) of the active parameters,
 * picked at random, uniformly in their internal scale (the random sampler's draw; a parent
 * redrawn may switch its conditional children on, which are drawn too), keeping the others. A
 * space whose every combination is taken (a small discrete one) gives up after MAX_REDRAWS and
 * answers the sampler's proposal.
 *
 * A pure function of the context: redraws use `new Rng(seed).fork(trialNumber).fork(REDRAW_STREAM)`.
 */
import { Rng } from '../rng';
import { buildParams } from '../space';
import { proposerOf, type Params, type SampleContext, type Sampler } from '../types';
import { fromUnit } from './random';

/** Attempts at params no finished trial has, before the proposal is answered as it is. */
export const MAX_REDRAWS = 32;
/** The stream of the redraws, apart from the wrapped sampler's. */
const REDRAW_STREAM = 0x6e6f7270;

/** A canonical key of params: the same values give the same key, whatever the key order. */
export function paramsKey(params: Readonly<Params>): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
}

export class NoRepeatSampler implements Sampler {
  readonly name: string;

  constructor(readonly inner: Sampler) {
    this.name = inner.name;
  }

  sample(ctx: SampleContext): Params {
    const proposed = this.inner.sample(ctx);
    const taken = new Set<string>();
    for (const t of ctx.trials)
      if (t.state === 'complete' || t.state === 'pruned' || t.state === 'failed')
        taken.add(paramsKey(t.params));
    if (!taken.has(paramsKey(proposed))) return proposed;
    const rng = new Rng(ctx.seed).fork(ctx.trialNumber).fork(REDRAW_STREAM);
    const names = Object.keys(proposed);
    for (let k = 1; k <= MAX_REDRAWS; k++) {
      const redraw = new Set<string>();
      const count = Math.min(names.length, 1 + Math.floor((k - 1) / 4));
      while (redraw.size < count) redraw.add(names[rng.int(names.length)]);
      const params = buildParams(ctx.space, (name, spec) =>
        redraw.has(name) || !(name in proposed) ? fromUnit(spec, rng.next()) : proposed[name],
      );
      if (!taken.has(paramsKey(params))) return params;
    }
    return proposed;
  }

  proposer(ctx: SampleContext): string {
    return proposerOf(this.inner, ctx);
  }
}

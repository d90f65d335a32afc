/**
 * A learning-rate schedule derived from a range test's curve: peak lr,
 * warmup length and decay shape, with the reasoning. Pure arithmetic on the
 * curve and the suggestion (no TF.js).
 *
 * - Shape: one-cycle (Smith 2018) when the curve leaves room above the peak
 *   (max_stable_lr at least 4x the peak: its warm-up phase can ramp there
 *   safely); otherwise cosine decay with linear warmup.
 * - Warmup: 5% of training; 10% when the peak is within 2x of
 *   max_stable_lr, or for adaptive optimizers whose early steps are noisy
 *   (Adam's second-moment estimate starts at zero).
 * - Cosine decays to 1% of the peak; one-cycle starts at peak/25 and ends
 *   at peak/25e4 (PyTorch's OneCycleLR defaults).
 */
import type { ScheduleAdvice } from '../contract/lr-suggestion';
import { ADAPTIVE_OPTIMIZERS } from '../contract/names';

export type { ScheduleAdvice };
import type { Suggestion } from './suggest';
import { fmt } from '../lib/format';

export function adviseSchedule(
  peak: number,
  suggestion: Pick<Suggestion, 'max_stable_lr'>,
  optimizer: string,
  trainSteps?: number,
  /** The shape the caller trains with (the peak was validated with it): kept rather than derived. */
  kind?: 'one_cycle' | 'cosine',
): ScheduleAdvice {
  const why: string[] = [];
  const maxStable = suggestion.max_stable_lr;
  const headroom = maxStable !== null && maxStable > 0 ? maxStable / peak : null;
  const adaptive = (ADAPTIVE_OPTIMIZERS as readonly string[]).includes(optimizer);
  let warmup = 0.05;
  if (headroom !== null && headroom < 2) {
    warmup = 0.1;
    why.push(
      `the peak ${fmt(peak)} is within 2x of max_stable_lr ${fmt(maxStable!)}: a longer warmup (10%)`,
    );
  } else if (adaptive) {
    warmup = 0.1;
    why.push(
      `${optimizer}: its second-moment estimate starts at zero, so its first steps are large: warmup 10%`,
    );
  } else why.push('warmup 5% of training');
  const oneCycle = kind !== undefined ? kind === 'one_cycle' : headroom !== null && headroom >= 4;
  if (kind !== undefined)
    why.push(
      `${kind === 'one_cycle' ? 'one-cycle' : 'cosine'}, the schedule the request trains with (the peak was validated with it)`,
    );
  else if (oneCycle)
    why.push(
      `max_stable_lr ${fmt(maxStable!)} is ${headroom!.toFixed(1)}x the peak: room for one-cycle (it ramps up to the peak, then anneals)`,
    );
  else
    why.push(
      headroom === null
        ? 'no stable limit measured: cosine decay with warmup, the safe default'
        : `max_stable_lr is only ${headroom.toFixed(1)}x the peak: cosine decay with warmup rather than one-cycle`,
    );
  const warmupSteps = trainSteps ? Math.max(1, Math.round(warmup * trainSteps)) : null;
  const finalLr = oneCycle ? peak / 25 / 1e4 : peak / 100;
  const spec = oneCycle
    ? { kind: 'one_cycle', pct_start: Math.max(warmup, 0.1) }
    : { kind: 'cosine', eta_min: finalLr };
  return {
    kind: oneCycle ? 'one_cycle' : 'cosine',
    peak_lr: peak,
    warmup_fraction: warmup,
    warmup_steps: warmupSteps,
    final_lr: finalLr,
    spec,
    reasoning: why,
  };
}

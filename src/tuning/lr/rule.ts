/**
 * The zero-compute answer: the peak lr lr/suggest gives when the budget buys no training after
 * the range test. Pure.
 *
 * A range test's rules read how fast the training loss falls during a short sweep, which says
 * where training is fast, not which peak generalises best at the horizon; the valley, the minimum
 * over 10 and the optimizer's conventional default err in different directions, so the answer is
 * their geometric mean, kept at or below the range test's max_stable_lr:
 *
 *   lr = (valley x min_over_10 x default)^(1/3)
 *
 * with the rules the curve gives (a rule it cannot give is left out; with neither, no answer).
 * How it compares with each alone: bench/RESULTS.md, "LR cost-quality frontier" (stride@0).
 */
import type { Optimizer } from './priors';
import { DEFAULT_LR } from './priors';
import { fmt } from '../../lib/format';

/** What the zero-compute answer reads of a range test's suggestion. */
export interface RuleInputs {
  lr: number | null;
  candidates: { valley: number | null; min_over_10: number | null };
  max_stable_lr: number | null;
}

export interface ZeroComputeAnswer {
  lr: number;
  /** The lrs averaged, with where each came from. */
  parts: { source: 'valley' | 'min_over_10' | 'default'; lr: number }[];
  /** Whether max_stable_lr capped the mean. */
  capped: boolean;
  why: string;
}

/** The consensus of the range test's rules and the optimizer's default; null when the curve gives no rule. */
export function zeroComputeLr(s: RuleInputs, optimizer: Optimizer): ZeroComputeAnswer | null {
  if (s.lr === null) return null;
  const usable = (v: number | null): v is number => v !== null && v > 0 && Number.isFinite(v);
  const parts: ZeroComputeAnswer['parts'] = [];
  if (usable(s.candidates.valley)) parts.push({ source: 'valley', lr: s.candidates.valley });
  if (usable(s.candidates.min_over_10))
    parts.push({ source: 'min_over_10', lr: s.candidates.min_over_10 });
  if (parts.length === 0) return null;
  parts.push({ source: 'default', lr: DEFAULT_LR[optimizer] });
  const mean = 10 ** (parts.reduce((a, p) => a + Math.log10(p.lr), 0) / parts.length);
  const cap = usable(s.max_stable_lr) ? s.max_stable_lr : Number.POSITIVE_INFINITY;
  const lr = Number(Math.min(mean, cap).toPrecision(3));
  const capped = mean > cap;
  const list = parts.map((p) => `${p.source} ${fmt(p.lr)}`).join(', ');
  return {
    lr,
    parts,
    capped,
    why:
      `the geometric mean of ${list} (the range test's rules and ${optimizer}'s conventional default err in different directions): ${fmt(lr)}` +
      (capped ? `, capped at max_stable_lr ${fmt(cap)}` : ''),
  };
}

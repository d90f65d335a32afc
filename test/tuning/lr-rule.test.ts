// The zero-compute answer (src/tuning/lr/rule.ts): the geometric mean of the range test's valley
// and min_over_10 with the optimizer's default, capped at max_stable_lr.
import { describe, expect, it } from 'vitest';
import { zeroComputeLr } from '../../src/tuning/lr/rule';

const suggestion = (valley: number | null, m10: number | null, maxStable: number | null = 10) => ({
  lr: valley ?? m10,
  candidates: { valley, min_over_10: m10 },
  max_stable_lr: maxStable,
});

describe('zeroComputeLr', () => {
  it('averages valley, min_over_10 and the default in log lr', () => {
    const a = zeroComputeLr(suggestion(1e-2, 1e-1), 'adam')!;
    // (1e-2 * 1e-1 * 1e-3)^(1/3) = 1e-2
    expect(a.lr).toBeCloseTo(1e-2, 10);
    expect(a.parts.map((p) => p.source)).toEqual(['valley', 'min_over_10', 'default']);
    expect(a.capped).toBe(false);
    // The same rules under SGD (default 0.01) give a higher answer.
    expect(zeroComputeLr(suggestion(1e-2, 1e-1), 'sgd')!.lr).toBeCloseTo(10 ** (-5 / 3), 4);
  });

  it('leaves out a rule the curve does not give, and gives nothing without either', () => {
    const a = zeroComputeLr(suggestion(1e-3, null), 'adamw')!;
    expect(a.lr).toBeCloseTo(1e-3, 10);
    expect(a.parts).toHaveLength(2);
    expect(zeroComputeLr(suggestion(null, null), 'adam')).toBeNull();
    expect(zeroComputeLr({ ...suggestion(1e-3, 1e-2), lr: null }, 'adam')).toBeNull();
  });

  it('never answers above max_stable_lr', () => {
    const a = zeroComputeLr(suggestion(1, 10, 0.05), 'sgd')!;
    expect(a.lr).toBe(0.05);
    expect(a.capped).toBe(true);
    expect(a.why).toMatch(/capped at max_stable_lr/);
  });
});

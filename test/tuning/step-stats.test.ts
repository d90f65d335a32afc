// The median pruner judged from the coordinator's per-step statistics (PruneContext.stats,
// src/coordinator/step-stats.ts) answers what it answers from every trial's values, on random
// histories, in plain Node.
import { describe, expect, it } from 'vitest';
import { CompleteSteps } from '../../src/coordinator/step-stats';
import { MedianPruner, PercentilePruner } from '../../src/tuning/pruners';
import { Rng } from '../../src/tuning/rng';
import type { Direction, FrozenTrial, Pruner } from '../../src/tuning/types';
import { frozenTrial } from './builders';

type Pt = { step: number; value: number };

/** A random history: complete trials reporting some of steps 0..19, a running trial. */
function history(rng: Rng, nComplete: number): { complete: FrozenTrial[]; running: Pt[] } {
  const complete: FrozenTrial[] = [];
  for (let i = 0; i < nComplete; i++) {
    const curve: Pt[] = [];
    for (let step = 0; step < 20; step++)
      if (rng.next() < 0.8) curve.push({ step, value: Math.round(rng.next() * 8) / 4 });
    complete.push(frozenTrial(i, { x: i }, curve.at(-1)?.value ?? 1, 'complete', curve));
  }
  const running: Pt[] = [];
  for (let step = 0; step < 20; step++)
    if (rng.next() < 0.7) running.push({ step, value: Math.round(rng.next() * 8) / 4 });
  return { complete, running };
}

/** Every report of the running trial, one point or a batch at a time: the answer with and without stats. */
function answers(pruner: Pruner, direction: Direction, seed: number, batch: number) {
  const rng = new Rng(seed);
  const { complete, running } = history(rng, rng.int(9));
  const index = new CompleteSteps();
  for (const t of complete) index.add(t.number, t.intermediate);
  const out: [boolean, boolean][] = [];
  for (let k = 0; k < running.length; k += batch) {
    const before = running.slice(0, k);
    const added = running.slice(k, k + batch);
    const values = before.map((p) => p.value);
    const trial = frozenTrial(99, { x: 99 }, null, 'running', [...before, ...added]);
    const ctx = { trial, trials: [...complete, trial], direction };
    const plain =
      batch === 1
        ? pruner.shouldPrune(ctx)
        : pruner.shouldPruneAtAny!(
            ctx,
            added.map((_, i) => k + i + 1),
          );
    const fast = pruner.shouldPrune({
      ...ctx,
      stats: {
        lastStep: before.at(-1)?.step ?? -Infinity,
        min: values.length ? Math.min(...values) : NaN,
        max: values.length ? Math.max(...values) : NaN,
        added,
        completeCount: index.count,
        completeAt: (step) => index.at(step),
      },
    });
    out.push([plain, fast]);
  }
  return out;
}

describe('per-step statistics (PruneContext.stats)', () => {
  it('the median and percentile pruners answer the same from them as from every trial', () => {
    const pruners: Pruner[] = [
      new MedianPruner({ n_startup_trials: 1 }),
      new MedianPruner({ n_startup_trials: 2, n_warmup_steps: 3, interval_steps: 4 }),
      new MedianPruner({ n_startup_trials: 1, n_min_trials: 3 }),
      new PercentilePruner({ percentile: 25, n_startup_trials: 1 }),
    ];
    let pruned = 0;
    let total = 0;
    for (const pruner of pruners)
      for (const direction of ['minimize', 'maximize'] as const)
        for (const batch of [1, 3])
          for (let seed = 0; seed < 40; seed++)
            for (const [plain, fast] of answers(pruner, direction, seed, batch)) {
              expect(fast).toBe(plain);
              total++;
              if (plain) pruned++;
            }
    // Both answers occur often enough for the comparison to mean something.
    expect(pruned).toBeGreaterThan(0.05 * total);
    expect(pruned).toBeLessThan(0.9 * total);
  });

  it('keeps each step of the complete trials sorted, and adds a trial once', () => {
    const index = new CompleteSteps();
    index.add(0, [
      { step: 1, value: 3 },
      { step: 2, value: 1 },
    ]);
    index.add(1, [{ step: 1, value: 2 }]);
    index.add(2, [{ step: 1, value: 5 }]);
    index.add(1, [{ step: 1, value: 100 }]);
    expect(index.at(1)).toEqual([2, 3, 5]);
    expect(index.at(2)).toEqual([1]);
    expect(index.at(7)).toEqual([]);
    expect(index.count).toBe(3);
  });
  it('builds the same index at once (CompleteSteps.of) as trial by trial, and answers the median at each step', () => {
    const rng = new Rng(11);
    const byTrial = new Map<number, Pt[]>();
    for (let n = 0; n < 40; n++) {
      const curve: Pt[] = [];
      for (let step = 0; step < 10; step++)
        if (rng.next() < 0.7) curve.push({ step, value: Math.round(rng.next() * 40) / 8 });
      byTrial.set(n, curve);
    }
    byTrial.set(40, [{ step: 3, value: NaN }]);
    const one = new CompleteSteps();
    for (const [n, pts] of byTrial) one.add(n, pts);
    const all = CompleteSteps.of(byTrial);
    expect(all.count).toBe(one.count);
    for (let step = 0; step < 10; step++) expect(all.at(step)).toEqual(one.at(step));
    const medians = all.medians();
    expect(medians.map((p) => p.step)).toEqual([...Array(10).keys()]);
    for (const { step, value } of medians) {
      const xs = [...byTrial.values()]
        .flatMap((c) => c.filter((p) => p.step === step && !Number.isNaN(p.value)))
        .map((p) => p.value)
        .sort((a, b) => a - b);
      const m = xs.length >> 1;
      expect(value).toBe(xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2);
    }
  });
});

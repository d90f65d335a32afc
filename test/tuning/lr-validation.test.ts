// The judging of LR candidates by their validation losses (src/tuning/lr/validation.ts): the
// evidence a round leaves, and where to look next when the best is at an edge. Plain Node.
import { describe, expect, it } from 'vitest';
import {
  evidenceFromTrials,
  extensionPast,
  markUnstable,
  rankWithTies,
} from '../../src/tuning/lr/validation';

const trial = (lr: number, values: number[], state = 'complete', first = 1, seed?: number) => ({
  params: seed === undefined ? { lr } : { lr, seed },
  state,
  value: state === 'complete' ? values[values.length - 1] : null,
  intermediate: values.map((value, i) => ({ step: first + i, value })),
  error: null,
});

describe('lr-validation', () => {
  it("evidence: each candidate's trial by its lr; a pruned one keeps its last loss; one not yet asked waits", () => {
    const cands = [0.001, 0.01, 0.1].map((lr) => ({ lr, sources: ['log-spaced'] }));
    const ev = evidenceFromTrials(cands, [
      trial(0.01, [1, 0.5, 0.4, 0.41]),
      trial(0.1, [1, 0.9], 'pruned'),
    ]);
    expect(ev.map((e) => [e.lr, e.state, e.value, e.epochs_run, e.last_step])).toEqual([
      [0.001, 'waiting', null, 0, null],
      [0.01, 'complete', 0.41, 4, 4],
      [0.1, 'pruned', 0.9, 2, 2],
    ]);
    // Four values leave one degree of freedom to a fit of a + b r^t: a small spread, not none.
    expect(ev[1].spread).toBeGreaterThan(0);
    expect(ev[1].spread).toBeLessThan(0.05);
  });

  it('noise is what a converging curve does not explain: none on an exact decay, the jitter on a noisy one', () => {
    const decay = Array.from({ length: 10 }, (_, t) => 0.2 + 2 * Math.exp(-0.8 * t));
    const jitter = [0.02, -0.02, 0.02, -0.02, 0.02, -0.02, 0.02, -0.02];
    const noisy = Array.from({ length: 8 }, (_, t) => 0.5 + jitter[t]);
    const ev = evidenceFromTrials(
      [0.01, 0.1].map((lr) => ({ lr, sources: [] })),
      [trial(0.01, decay), trial(0.1, noisy)],
    );
    expect(ev[0].spread).toBeLessThan(0.005); // the fit tries 40 decay rates, not every one
    expect(ev[1].spread).toBeGreaterThan(0.015);
    expect(ev[1].spread).toBeLessThan(0.03);
  });

  it('a tail still descending is progress, not noise: 4% apart at the end is no tie', () => {
    // The character transformer under warmup + cosine: 0.0351 reached 2.296, 0.0118 2.386, both
    // still falling steadily; the spread of the last epochs once tied them and the lower lr won.
    const fast = [3.4, 3.0, 2.7, 2.5, 2.4, 2.296];
    const slow = [3.5, 3.1, 2.8, 2.6, 2.49, 2.386];
    const ev = evidenceFromTrials(
      [0.0118, 0.0351].map((lr) => ({ lr, sources: [] })),
      [trial(0.0351, fast), trial(0.0118, slow)],
    );
    const { ranked, tied } = rankWithTies(ev);
    expect(ranked[0].lr).toBe(0.0351);
    expect(tied.map((c) => c.lr)).toEqual([0.0351]);
  });

  it('extension: two points half a decade and a decade past the edge the best is at; none when it is inside', () => {
    const lrs = [0.001, 0.01, 0.1];
    const at = (values: Record<number, number>) =>
      evidenceFromTrials(
        lrs.map((lr) => ({ lr, sources: [] })),
        lrs.map((lr) => trial(lr, [1, values[lr]])),
      );
    expect(extensionPast(at({ 0.001: 0.2, 0.01: 0.3, 0.1: 0.4 }), lrs)).toEqual({
      dir: -1,
      edge: 0.001,
      lrs: [0.000316, 0.0001],
    });
    expect(extensionPast(at({ 0.001: 0.4, 0.01: 0.3, 0.1: 0.2 }), lrs)).toEqual({
      dir: 1,
      edge: 0.1,
      lrs: [0.316, 1],
    });
    expect(extensionPast(at({ 0.001: 0.4, 0.01: 0.2, 0.1: 0.3 }), lrs)).toBeNull();
    // A best that blew up (above 3x its early loss) is not the best: the edge is not followed.
    const blown = evidenceFromTrials(
      lrs.map((lr) => ({ lr, sources: [] })),
      [trial(0.001, [1, 0.4]), trial(0.01, [1, 0.3]), trial(0.1, [1, 40, 0.1])],
    );
    expect(extensionPast(blown, lrs)).toBeNull();
    expect(blown[2].unstable).toBe(true);
    // Nothing finished: nowhere to go.
    expect(
      extensionPast(
        evidenceFromTrials(
          lrs.map((lr) => ({ lr, sources: [] })),
          [trial(0.001, [1], 'failed')],
        ),
        lrs,
      ),
    ).toBeNull();
  });

  it('seeds: the trials of one lr on several seeds are one candidate, ranked by their mean, complete when every seed is', () => {
    const cands = [0.001, 0.01].map((lr) => ({ lr, sources: [] }));
    const seeded = (lr: number, finals: number[], states = finals.map(() => 'complete')) =>
      finals.map((v, seed) => trial(lr, [1, 0.5, v], states[seed], 1, seed));
    // 0.01 wins seed 0 by a lot and loses the two others: the mean picks 0.001 (bc120 in PyTorch: one 24-row split ranks high rates first).
    const ev = evidenceFromTrials(cands, [
      ...seeded(0.001, [0.3, 0.2, 0.25]),
      ...seeded(0.01, [0.05, 0.6, 0.7]),
    ]);
    expect(
      ev.map((e) => [e.lr, e.state, e.epochs_run, e.last_step, e.seeds?.map((s) => s.value)]),
    ).toEqual([
      [0.001, 'complete', 9, 3, [0.3, 0.2, 0.25]],
      [0.01, 'complete', 9, 3, [0.05, 0.6, 0.7]],
    ]);
    expect(ev[0].score).toBeCloseTo(0.25, 10);
    expect(ev[1].score).toBeCloseTo(0.45, 10);
    // The noise of the mean: the seeds' standard deviation over sqrt(3).
    expect(ev[0].spread).toBeCloseTo(0.05 / Math.sqrt(3), 10);
    expect(rankWithTies(ev).ranked.map((c) => c.lr)).toEqual([0.001, 0.01]);
    // A seed still running: the candidate is running, not a finalist yet.
    const partial = evidenceFromTrials(cands, [
      ...seeded(0.001, [0.3, 0.2, 0.25], ['complete', 'running', 'complete']),
      ...seeded(0.01, [0.05, 0.6, 0.7]),
    ]);
    expect(partial[0].state).toBe('running');
    expect(partial[0].seeds?.map((s) => s.value)).toEqual([0.3, null, 0.25]);
    expect(rankWithTies(partial).ranked.map((c) => c.lr)).toEqual([0.01]);
    // A seed that failed (diverged) fails the candidate.
    expect(
      evidenceFromTrials(
        cands,
        seeded(0.01, [0.05, 0.6, 0.7], ['complete', 'failed', 'complete']),
      )[1].state,
    ).toBe('failed');
  });

  it('unstable on any seed: a blow-up on one seed excludes the candidate; a slow start is not a blow-up', () => {
    const cands = [0.0004, 0.001, 0.01, 0.1].map((lr) => ({ lr, sources: [] }));
    const run = (lr: number, seed: number, curve: number[]) =>
      trial(lr, curve, 'complete', 1, seed);
    const ev = evidenceFromTrials(cands, [
      // The lowest lr starts slowly (its first epoch near the untrained loss, 0.69) and ends best.
      run(0.0004, 0, [0.6, 0.2, 0.06]),
      run(0.0004, 1, [0.62, 0.25, 0.08]),
      run(0.001, 0, [0.15, 0.1, 0.09]),
      run(0.001, 1, [0.18, 0.1, 0.1]),
      run(0.01, 0, [0.12, 0.1, 0.11]),
      run(0.01, 1, [0.1, 0.09, 0.12]),
      // Fine on seed 0, in the tens on seed 1.
      run(0.1, 0, [0.1, 0.08, 0.05]),
      run(0.1, 1, [0.2, 30, 0.3]),
    ]);
    markUnstable(ev);
    // The median first epoch is 0.15: 0.6 would read as a 3x blow-up against it; the lowest lr's first epoch sets the level.
    expect(ev.map((c) => c.unstable)).toEqual([false, false, false, true]);
    expect(rankWithTies(ev).ranked[0].lr).toBe(0.0004);
  });

  it("unstable per seed: a run is compared with the same seed's runs, also while some seeds have not started", () => {
    const cands = [0.001, 0.01, 0.1].map((lr) => ({ lr, sources: [] }));
    const run = (lr: number, seed: number, curve: number[]) =>
      trial(lr, curve, 'complete', 1, seed);
    const ev = evidenceFromTrials(cands, [
      // Seed 1's split starts high (10), seed 2's low (0.5).
      run(0.001, 0, [1, 0.5]),
      run(0.001, 1, [10, 5]),
      run(0.001, 2, [0.5, 0.3]),
      run(0.01, 0, [1, 0.4]),
      run(0.01, 1, [10, 4]),
      run(0.01, 2, [0.5, 0.2]),
      // 0.1 has no seed-1 run yet; on seed 2 it rises to 5: 10x seed 2's start, though below seed 1's.
      run(0.1, 0, [1, 0.3]),
      run(0.1, 2, [0.5, 5, 0.1]),
    ]);
    markUnstable(ev);
    expect(ev.map((c) => c.unstable)).toEqual([false, false, true]);
  });
});

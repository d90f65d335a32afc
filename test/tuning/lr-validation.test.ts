// The judging of LR candidates by their validation losses (src/tuning/lr-validation.ts): the
// evidence a round leaves, and where to look next when the best is at an edge. Plain Node.
import { describe, expect, it } from 'vitest';
import { evidenceFromTrials, extensionPast } from '../../src/tuning/lr-validation';

const trial = (lr: number, values: number[], state = 'complete', first = 1) => ({
  params: { lr },
  state,
  value: state === 'complete' ? values[values.length - 1] : null,
  intermediate: values.map((value, i) => ({ step: first + i, value })),
  error: null,
});

describe('lr-validation', () => {
  it("evidence: each candidate's trial by its lr; a pruned one keeps its last loss; one not yet asked waits", () => {
    const cands = [0.001, 0.01, 0.1].map((lr) => ({ lr, sources: ['log-spaced'] }));
    const ev = evidenceFromTrials(cands, [trial(0.01, [1, 0.5, 0.4, 0.41]), trial(0.1, [1, 0.9], 'pruned')]);
    expect(ev.map((e) => [e.lr, e.state, e.value, e.epochs_run, e.last_step])).toEqual([
      [0.001, 'waiting', null, 0, null],
      [0.01, 'complete', 0.41, 4, 4],
      [0.1, 'pruned', 0.9, 2, 2],
    ]);
    expect(ev[1].spread).toBeCloseTo(Math.sqrt(((0.5 - 0.4367) ** 2 + (0.4 - 0.4367) ** 2 + (0.41 - 0.4367) ** 2) / 3), 3);
  });

  it('extension: two points half a decade and a decade past the edge the best is at; none when it is inside', () => {
    const lrs = [0.001, 0.01, 0.1];
    const at = (values: Record<number, number>) => evidenceFromTrials(lrs.map((lr) => ({ lr, sources: [] })), lrs.map((lr) => trial(lr, [1, values[lr]])));
    expect(extensionPast(at({ 0.001: 0.2, 0.01: 0.3, 0.1: 0.4 }), lrs)).toEqual({ dir: -1, edge: 0.001, lrs: [0.000316, 0.0001] });
    expect(extensionPast(at({ 0.001: 0.4, 0.01: 0.3, 0.1: 0.2 }), lrs)).toEqual({ dir: 1, edge: 0.1, lrs: [0.316, 1] });
    expect(extensionPast(at({ 0.001: 0.4, 0.01: 0.2, 0.1: 0.3 }), lrs)).toBeNull();
    // A best that blew up (above 3x its early loss) is not the best: the edge is not followed.
    const blown = evidenceFromTrials(lrs.map((lr) => ({ lr, sources: [] })), [trial(0.001, [1, 0.4]), trial(0.01, [1, 0.3]), trial(0.1, [1, 40, 0.1])]);
    expect(extensionPast(blown, lrs)).toBeNull();
    expect(blown[2].unstable).toBe(true);
    // Nothing finished: nowhere to go.
    expect(extensionPast(evidenceFromTrials(lrs.map((lr) => ({ lr, sources: [] })), [trial(0.001, [1], 'failed')]), lrs)).toBeNull();
  });
});

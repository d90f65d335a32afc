// How a report merges into a trial's intermediate values (src/coordinator/reports.ts), in plain Node.
import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../../src/coordinator/errors';
import { MAX_INTERMEDIATE, mergeReport } from '../../src/coordinator/reports';

type Pts = { step: number; value: number }[];
const pts = (...pairs: [number, number][]): Pts => pairs.map(([step, value]) => ({ step, value }));
const lookup = (held: Pts) => {
  const m = new Map(held.map((p) => [p.step, p.value]));
  return (step: number) => m.get(step);
};

describe('mergeReport', () => {
  it.each<[string, Pts, Pts, Pts]>([
    ['appends later steps', pts([0, 1]), pts([1, 0.5], [2, 0.4]), pts([1, 0.5], [2, 0.4])],
    ['an earlier step is new too', pts([0, 1], [4, 0.2]), pts([2, 0.5]), pts([2, 0.5])],
    [
      'takes the new points of a batch, skipping held ones, in step order',
      pts([0, 1]),
      pts([3, 0.7], [0, 1], [1, 0.9]),
      pts([1, 0.9], [3, 0.7]),
    ],
    ['nothing new: empty', pts([0, 1], [1, 0.9]), pts([1, 0.9]), []],
  ])('%s', (_name, held, points, expected) => {
    expect(mergeReport(0, lookup(held), held.length, points, true)).toEqual(expected);
  });

  it.each<[string, boolean, string]>([
    ['a single report', false, '[conflict] trial 3 already reported 0.5 at step 1'],
    [
      'a batch names the point',
      true,
      '[conflict] points.1: trial 3 already reported 0.5 at step 1',
    ],
  ])('a different value at a held step is a 409: %s', (_name, batch, message) => {
    const held = pts([0, 1], [1, 0.5]);
    expect(() => mergeReport(3, lookup(held), 2, pts([2, 0.1], [1, 0.6]), batch)).toThrow(
      new CoordinatorError('conflict', message.replace('[conflict] ', '')),
    );
  });

  it('a batch that gives one step two values is a 409', () => {
    expect(() => mergeReport(0, () => undefined, 0, pts([1, 0.5], [1, 0.6]), true)).toThrow(
      'points.1: trial 0 already reported 0.5 at step 1',
    );
  });

  it(`takes at most ${MAX_INTERMEDIATE} values, all or nothing`, () => {
    expect(MAX_INTERMEDIATE).toBeGreaterThanOrEqual(1_000_000);
    const none = () => undefined;
    expect(mergeReport(0, none, MAX_INTERMEDIATE - 1, pts([MAX_INTERMEDIATE, 1]), false)).toEqual(
      pts([MAX_INTERMEDIATE, 1]),
    );
    expect(() =>
      mergeReport(
        0,
        none,
        MAX_INTERMEDIATE - 1,
        pts([MAX_INTERMEDIATE, 1], [MAX_INTERMEDIATE + 1, 1]),
        true,
      ),
    ).toThrow(
      `holds ${MAX_INTERMEDIATE - 1} intermediate values and takes at most ${MAX_INTERMEDIATE}: report every few steps instead of every step (the 2 new values were not stored)`,
    );
  });
});

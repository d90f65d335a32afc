// How a report merges into a trial's intermediate values (src/coordinator/reports.ts), in plain Node.
import { describe, expect, it } from 'vitest';
import { CoordinatorError } from '../../src/coordinator/errors';
import { MAX_INTERMEDIATE, mergeReport } from '../../src/coordinator/reports';

const pts = (...pairs: [number, number][]) => pairs.map(([step, value]) => ({ step, value }));

describe('mergeReport', () => {
  it.each<[string, ReturnType<typeof pts>, ReturnType<typeof pts>, ReturnType<typeof pts> | null]>([
    ['appends later steps', pts([0, 1]), pts([1, 0.5], [2, 0.4]), pts([0, 1], [1, 0.5], [2, 0.4])],
    [
      'sorts an earlier step in',
      pts([0, 1], [4, 0.2]),
      pts([2, 0.5]),
      pts([0, 1], [2, 0.5], [4, 0.2]),
    ],
    [
      'takes the new points of a batch, skipping held ones',
      pts([0, 1]),
      pts([0, 1], [1, 0.9]),
      pts([0, 1], [1, 0.9]),
    ],
    ['nothing new: null', pts([0, 1], [1, 0.9]), pts([1, 0.9]), null],
  ])('%s', (_name, held, points, expected) => {
    expect(mergeReport(0, held, points, true)).toEqual(expected);
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
    expect(() => mergeReport(3, held, pts([2, 0.1], [1, 0.6]), batch)).toThrow(
      new CoordinatorError('conflict', message.replace('[conflict] ', '')),
    );
    expect(held).toEqual(pts([0, 1], [1, 0.5]));
  });

  it(`takes at most ${MAX_INTERMEDIATE} values, all or nothing`, () => {
    const held = Array.from({ length: MAX_INTERMEDIATE - 1 }, (_, step) => ({ step, value: 1 }));
    expect(mergeReport(0, held, pts([MAX_INTERMEDIATE - 1, 1]), false)).toHaveLength(
      MAX_INTERMEDIATE,
    );
    expect(() =>
      mergeReport(0, held, pts([MAX_INTERMEDIATE - 1, 1], [MAX_INTERMEDIATE, 1]), true),
    ).toThrow(
      `holds ${MAX_INTERMEDIATE - 1} intermediate values and takes at most ${MAX_INTERMEDIATE}: report every few steps instead of every step (the 2 new values were not stored)`,
    );
  });
});

// The coordinator's lr/suggest round extension (src/coordinator/lr-round.ts) in plain Node.
import { describe, expect, it } from 'vitest';
import { extendRound, lrRoundEnded, lrsPastEdge } from '../../src/coordinator/lr-round';
import type { StudyConfig } from '../../src/contract/study';

function round(o: Partial<StudyConfig> = {}): StudyConfig {
  return {
    id: 'st_1',
    name: 'lr',
    direction: 'minimize',
    metric: 'val_loss',
    space: { lr: { type: 'categorical', choices: [0.001, 0.01, 0.1] } },
    sampler: { name: 'grid', seed: 0 },
    pruner: { name: 'none' },
    executor: { kind: 'client' },
    max_trials: 3,
    metadata: {},
    created_at: '2024-01-01T00:00:00.000Z',
    lr_extension: { done: false, lrs: [] },
    ...o,
  };
}
const done = (values: Record<number, number>) =>
  Object.entries(values).map(([lr, value]) => ({
    params: { lr: Number(lr) },
    state: 'complete' as const,
    value,
    intermediate: [{ step: 0, value }],
    error: null,
  }));

describe('lr round extension', () => {
  it.each<[string, StudyConfig, number, boolean]>([
    ['all trials ended', round(), 3, true],
    ['some still running', round(), 2, false],
    ['already extended', round({ lr_extension: { done: true, lrs: [] } }), 3, false],
    ['not an lr/suggest round', round({ lr_extension: undefined }), 3, false],
    ['no max_trials', round({ max_trials: null }), 3, false],
  ])('lrRoundEnded: %s', (_name, config, finished, expected) => {
    expect(lrRoundEnded(config, finished)).toBe(expected);
  });

  it.each<[string, Record<number, number>, number[]]>([
    [
      'best at the lowest lr: two below it',
      { 0.001: 0.2, 0.01: 0.3, 0.1: 0.4 },
      [0.000316, 0.0001],
    ],
    ['best at the highest lr: two above it', { 0.001: 0.4, 0.01: 0.3, 0.1: 0.2 }, [0.316, 1]],
    ['best inside: none', { 0.001: 0.4, 0.01: 0.2, 0.1: 0.3 }, []],
  ])('lrsPastEdge: %s', (_name, values, expected) => {
    expect(lrsPastEdge(round(), done(values))).toEqual(expected);
  });

  it('lrsPastEdge: none without a categorical lr', () => {
    expect(
      lrsPastEdge(
        round({ space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } } }),
        done({ 0.001: 0.1 }),
      ),
    ).toEqual([]);
  });

  it('extendRound grows the choices and max_trials in place, and marks the round done', () => {
    const config = round();
    expect(extendRound(config, [0.000316, 0.0001])).toEqual([{ lr: 0.000316 }, { lr: 0.0001 }]);
    expect(config).toMatchObject({
      lr_extension: { done: true, lrs: [0.000316, 0.0001] },
      max_trials: 5,
      space: { lr: { type: 'categorical', choices: [0.001, 0.01, 0.1, 0.000316, 0.0001] } },
    });
    const none = round();
    expect(extendRound(none, [])).toEqual([]);
    expect(none).toMatchObject({
      lr_extension: { done: true, lrs: [] },
      max_trials: 3,
      space: round().space,
    });
  });

  it('extendRound on several seeds: each fresh lr on every seed, max_trials grown by as many', () => {
    const base = round();
    const config = {
      ...base,
      space: { ...base.space, seed: { type: 'categorical' as const, choices: [0, 1, 2] } },
      max_trials: 9,
    };
    expect(extendRound(config, [0.316, 1])).toEqual(
      [0, 1, 2]
        .flatMap((seed) => [{ lr: 0.316, seed }])
        .concat([0, 1, 2].map((seed) => ({ lr: 1, seed }))),
    );
    expect(config.max_trials).toBe(15);
    expect(config.space.seed).toEqual({ type: 'categorical', choices: [0, 1, 2] });
  });
});

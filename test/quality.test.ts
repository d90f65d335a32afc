/**
 * Does the suggestion mean something? On four synthetic tasks, train to the
 * end at a grid of log-spaced constant learning rates and at the suggested one,
 * and compare the final training loss (mean over the whole dataset).
 *
 * The stated factor: the suggested LR must end within 2x of the best grid
 * LR's loss, and below the grid's median. Around the optimum of these tasks,
 * the grid's neighbours half a decade away already end 1.5-3x above the best
 * (e.g. teacher/Adam: 0.032 at 3e-2, 0.050 at 1e-2, 0.060 at 1e-1), so "within
 * 2x" means the range test is as good as a half-decade grid search that costs
 * ten full trainings, while a suggestion one decade off fails it on every task.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { ensureBackend } from '../src/probe/backend';
import { loadDataset } from '../src/probe/data';
import { RANGE_DEFAULTS, runRangeTest, type ProbeSpec } from '../src/probe/lr-range-test';
import { trainProbe } from '../src/probe/train';
import { runEdgeTrial } from '../src/probe/trial';
import { post } from './helpers';

beforeAll(async () => {
  await ensureBackend();
});

const GRID = Array.from({ length: 10 }, (_, i) => Math.pow(10, -4 + i * 0.5)); // 1e-4 .. ~3.16, 10 points
const TRAIN_STEPS = 300;
const FACTOR = 2;

const tasks: { name: string; probe: ProbeSpec }[] = [
  {
    name: 'spirals, MLP [64,64] relu, SGD momentum 0.9',
    probe: {
      model: { kind: 'mlp', hidden: [64, 64], activation: 'relu' },
      task: 'classification',
      data: {
        kind: 'synthetic',
        name: 'spirals',
        n: 1024,
        features: 2,
        classes: 3,
        noise: 0.1,
        seed: 1,
      },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 64,
      seed: 0,
    },
  },
  {
    name: 'teacher regression, MLP [32] tanh, Adam',
    probe: {
      model: { kind: 'mlp', hidden: [32], activation: 'tanh' },
      task: 'regression',
      data: { kind: 'synthetic', name: 'teacher', n: 1024, features: 8, noise: 0.1, seed: 2 },
      optimizer: { name: 'adam' },
      batch_size: 32,
      seed: 0,
    },
  },
  {
    name: 'blobs, logistic regression, plain SGD',
    probe: {
      model: { kind: 'mlp', hidden: [], activation: 'relu' },
      task: 'classification',
      data: {
        kind: 'synthetic',
        name: 'blobs',
        n: 1024,
        features: 16,
        classes: 5,
        noise: 1,
        seed: 3,
      },
      optimizer: { name: 'sgd' },
      batch_size: 32,
      seed: 0,
    },
  },
  {
    name: 'moons, MLP [32,32] gelu, AdamW',
    probe: {
      model: { kind: 'mlp', hidden: [32, 32], activation: 'gelu' },
      task: 'classification',
      data: {
        kind: 'synthetic',
        name: 'moons',
        n: 1024,
        features: 2,
        classes: 2,
        noise: 0.2,
        seed: 4,
      },
      optimizer: { name: 'adamw' },
      batch_size: 32,
      seed: 0,
    },
  },
];

/**
 * The range test's rule is valley since the real-data bench (bench/RESULTS.md,
 * "LR suggestions on real data": median ratio 1.03 of the best grid LR's
 * held-out loss at the real training length, min_over_10 1.87). These four
 * tasks score the final *training* loss of a short 300-step run instead, the
 * horizon where a higher rate wins: there valley lands 1.4 decades low on
 * spirals (about 10x the best loss) while min_over_10 is within 2x on all four.
 * What holds for the default on every task: better than the grid's median;
 * within 2x of the best on three of the four. The rules' answers are checked
 * as a set: every task has min_over_10 or valley within 2x.
 */
describe(`the suggested LR (valley) beats the median of a ${GRID.length}-point LR grid, and lands within ${FACTOR}x of its best on 3 of 4 tasks`, () => {
  const within: boolean[] = [];
  for (const { name, probe } of tasks) {
    it(name, () => {
      const ds = loadDataset(probe.data, probe.task);
      const { suggestion } = runRangeTest(probe, RANGE_DEFAULTS, ds);
      expect(suggestion.lr).not.toBeNull();
      expect(suggestion.method).toBe('valley');
      const final = (lr: number) =>
        trainProbe(probe, { lr, steps: TRAIN_STEPS }, ds).final_loss ?? Infinity;
      const grid = GRID.map((lr) => final(lr));
      const best = Math.min(...grid);
      const median = [...grid].sort((a, b) => a - b)[Math.floor(grid.length / 2)];
      const got = final(suggestion.lr as number);
      const other = final(suggestion.candidates.min_over_10 as number);
      console.log(
        `${name}: suggested ${suggestion.lr!.toExponential(2)} (${suggestion.method}, ${suggestion.confidence}) -> ${got.toFixed(4)}; ` +
          `min_over_10 ${suggestion.candidates.min_over_10!.toExponential(2)} -> ${other.toFixed(4)}; ` +
          `best grid ${GRID[grid.indexOf(best)].toExponential(1)} -> ${best.toFixed(4)}; ratio ${(got / best).toFixed(2)}`,
      );
      expect(got).toBeLessThan(median);
      expect(Math.min(got, other)).toBeLessThanOrEqual(FACTOR * best);
      within.push(got <= FACTOR * best);
    });
  }
  it('lands within 2x on at least 3 of the 4', () => {
    expect(within).toHaveLength(tasks.length);
    expect(within.filter(Boolean).length).toBeGreaterThanOrEqual(3);
  });
});

/**
 * Short-horizon bias, measured: on a small, noisy task a wide MLP overfits,
 * and what wins 3 epochs (successive halving with rungs at 1 and 2 epochs)
 * is not what wins the whole run. The same lr/suggest machinery
 * (same range test, same candidates) validated for 3 epochs and validated at
 * the horizon, both judged by the validation loss each pick reaches when
 * trained for the whole horizon, against the best of a grid trained as long.
 */
describe('validated at the horizon, lr/suggest picks what wins the whole run, where 3-epoch validation does not', () => {
  const H = 60;
  const probe = {
    model: { kind: 'mlp', hidden: [128, 128], activation: 'relu' },
    task: 'classification',
    data: {
      kind: 'synthetic',
      name: 'moons',
      n: 160,
      features: 2,
      classes: 2,
      noise: 0.5,
      seed: 5,
    },
    optimizer: { name: 'sgd', momentum: 0.9 },
    batch_size: 16,
    seed: 0,
  } as const;

  it(`moons, n 160, noise 0.5, MLP [128,128] relu, SGD momentum 0.9, ${H} epochs`, async () => {
    const ds = loadDataset(probe.data as ProbeSpec['data'], probe.task);
    const atHorizon = async (lr: number) => {
      const out = await runEdgeTrial(
        probe as unknown as ProbeSpec,
        { lr, epochs: H, validation_split: 0.2 },
        ds,
        async () => false,
      );
      return out.kind === 'complete' ? out.value : Infinity;
    };
    const ask = async (validation: Record<string, unknown>) => {
      const res = await post('/v1/lr/suggest', { probe, training: { epochs: H }, validation });
      const r = (await res.json()) as any;
      expect(res.status, JSON.stringify(r)).toBe(200);
      return r;
    };
    // One seed: this test isolates the horizon, and scores every pick on the suggestion's own split
    // (several seeds, the default on a 32-row validation split, rank by the mean over other splits).
    const short = await ask({ epochs: 3, seeds: 1 });
    const long = await ask({ seeds: 1 });
    expect(short.horizon).toMatchObject({ validated_epochs: 3, method: 'extrapolated' });
    expect(long.horizon).toMatchObject({ validated_epochs: H, method: 'full' });
    const grid = GRID.slice(0, 8); // 1e-4 .. ~0.3
    const gridLoss = await Promise.all(grid.map(atHorizon));
    const best = Math.min(...gridLoss);
    const shortLoss = await atHorizon(short.lr);
    const longLoss = await atHorizon(long.lr);
    console.log(
      `3-epoch validation picks ${short.lr.toExponential(2)} -> ${shortLoss.toFixed(4)} (${(shortLoss / best).toFixed(2)}x the best grid); ` +
        `validated at ${H} epochs picks ${long.lr.toExponential(2)} (${long.confidence}) -> ${longLoss.toFixed(4)} (${(longLoss / best).toFixed(2)}x); ` +
        `best grid ${grid[gridLoss.indexOf(best)].toExponential(1)} -> ${best.toFixed(4)}; grid ${gridLoss.map((v) => v.toFixed(3)).join(' ')}`,
    );
    expect(longLoss).toBeLessThanOrEqual(1.15 * best);
    expect(shortLoss).toBeGreaterThanOrEqual(1.05 * longLoss);
  }, 180_000);
});

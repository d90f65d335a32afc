import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../src/probe/backend';
import { RANGE_DEFAULTS } from '../src/contract/limits';
import { runRangeTest, type ProbeSpec } from '../src/probe/lr-range-test';
import { trainProbe } from '../src/probe/train';
import type { OptimizerSpec } from '../src/probe/optimizers';
import type { Activation } from '../src/probe/mlp';
import { api, smallRequest } from './helpers';

beforeAll(async () => {
  await ensureBackend();
});

function probe(
  optimizer: OptimizerSpec,
  activation: Activation,
  task: 'classification' | 'regression',
  seed: number,
): ProbeSpec {
  return {
    model: { kind: 'mlp', hidden: [16, 8], activation },
    task,
    data: {
      kind: 'synthetic',
      name: task === 'classification' ? 'blobs' : 'teacher',
      n: 128,
      features: 3,
      seed,
    },
    optimizer,
    batch_size: 16,
    seed,
  };
}

describe('no tensor leaks across probes', () => {
  it('leaves the tensor count and WASM memory in use unchanged after many probes', async () => {
    const optimizers: OptimizerSpec[] = [
      { name: 'sgd' },
      { name: 'momentum', weight_decay: 0.01 },
      { name: 'nesterov' },
      { name: 'adam' },
      { name: 'adamw' },
      { name: 'rmsprop', momentum: 0.5 },
      { name: 'adagrad' },
    ];
    const activations: Activation[] = ['relu', 'tanh', 'gelu', 'sigmoid'];
    // Warm up once so lazily created backend state is not counted.
    runRangeTest(probe({ name: 'sgd' }, 'relu', 'classification', 0), {
      ...RANGE_DEFAULTS,
      steps: 10,
    });
    const before = tf.memory();
    let runs = 0;
    for (const [i, optimizer] of optimizers.entries()) {
      for (const activation of activations) {
        const task = (i + runs) % 2 === 0 ? 'classification' : 'regression';
        // The default range ends in divergence (non-finite losses), which must free everything too.
        const out = runRangeTest(probe(optimizer, activation, task, runs), {
          ...RANGE_DEFAULTS,
          steps: 40,
        });
        expect(out.steps_run).toBeGreaterThan(0);
        runs++;
      }
      trainProbe(probe(optimizer, 'relu', 'classification', i), {
        lr: 0.05,
        steps: 20,
        schedule: { kind: 'one_cycle' },
      });
    }
    // A probe that fails validation after the dataset loads.
    expect(() =>
      runRangeTest(
        { ...probe({ name: 'sgd' }, 'relu', 'classification', 1), batch_size: 4096 },
        RANGE_DEFAULTS,
      ),
    ).toThrow();
    // And through the HTTP API, including a cached answer and an error.
    expect(
      (
        await api('/v1/lr-range-tests', {
          body: smallRequest({ probe: { seed: 901 }, range: { steps: 20 } }),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await api('/v1/lr-range-tests', {
          body: smallRequest({ probe: { seed: 901 }, range: { steps: 20 } }),
        })
      ).status,
    ).toBe(200);
    expect(
      (await api('/v1/lr-range-tests', { body: smallRequest({ probe: { batch_size: 5000 } }) }))
        .status,
    ).toBe(422);
    const after = tf.memory();
    expect(runs).toBe(28);
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});

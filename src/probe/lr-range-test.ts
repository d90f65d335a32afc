/**
 * The LR range test ("LR finder"): train a fresh model for `steps` mini-batches
 * while the learning rate sweeps from `min_lr` to `max_lr`, record the loss at
 * each step, stop once it diverges, and analyse the curve as any sweep is
 * (`./curve`: smoothing, the rules of `./suggest`, schedule advice).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadDataset, BatchSampler, gatherBatch, type DataSpec, type Dataset } from './data';
import { Mlp, stepFlops } from './mlp';
import { makeOptimizer } from './optimizers';
import { analyseSweep, DivergenceCheck, type SweepAnalysis } from './curve';
import { smoothLosses } from './suggest';
import { ProbeInputError } from './errors';
import { YIELD_EVERY_STEPS, yieldToEventLoop } from './yield';
import type { z } from 'zod';
import type { ProbeSchema, RangeSchema } from '../contract/schemas';

/** A probe as the engine takes it: the Probe schema's, defaults applied, but for its data, whose defaults loadDataset applies. */
export type ProbeSpec = Omit<z.output<typeof ProbeSchema>, 'data'> & { data: DataSpec };

/** A range test's sweep (the Range schema, defaults applied). */
export type RangeSpec = z.output<typeof RangeSchema>;

/** A probe's sweep, analysed as any sweep is (./curve). */
export type RangeTestResult = SweepAnalysis;

/** Learning rate of step `i` of the sweep. */
function sweepLr(range: RangeSpec, i: number): number {
  const t = range.steps === 1 ? 0 : i / (range.steps - 1);
  return range.mode === 'exponential'
    ? range.min_lr * Math.pow(range.max_lr / range.min_lr, t)
    : range.min_lr + (range.max_lr - range.min_lr) * t;
}

/** Estimated FLOPs of a range test, without loading its data. */
export function rangeTestFlops(
  inputs: number,
  outputs: number,
  probe: ProbeSpec,
  range: RangeSpec,
): number {
  return stepFlops({ inputs, hidden: probe.model.hidden, outputs }, probe.batch_size) * range.steps;
}

/**
 * A probe's dataset and model, ready to train: the part shared by the range
 * test and (later) edge trials.
 */
export class ProbeRun {
  readonly ds: Dataset;
  readonly model: Mlp;
  private readonly sampler: BatchSampler;
  private readonly xBuf: Float32Array;
  private readonly xTBuf: Float32Array;
  private readonly yBuf: Float32Array;

  constructor(
    readonly probe: ProbeSpec,
    ds?: Dataset,
  ) {
    this.ds = ds ?? loadDataset(probe.data, probe.task);
    if (probe.batch_size > this.ds.n) {
      throw new ProbeInputError({
        path: 'probe.batch_size',
        message: `batch_size ${probe.batch_size} is larger than the dataset (${this.ds.n} rows)`,
      });
    }
    this.model = new Mlp({
      inputs: this.ds.features,
      hidden: probe.model.hidden,
      outputs: this.ds.outputs,
      activation: probe.model.activation,
      task: probe.task,
      seed: probe.seed,
    });
    this.sampler = new BatchSampler(this.ds.n, probe.batch_size, probe.seed);
    this.xBuf = new Float32Array(probe.batch_size * this.ds.features);
    this.xTBuf = new Float32Array(this.xBuf.length);
    this.yBuf = new Float32Array(probe.batch_size);
  }

  /** Train on the next mini-batch; returns the batch loss before the update. */
  trainStep(
    optimizer: ReturnType<typeof makeOptimizer>,
    lr: number,
    momentum: number | null = null,
  ): number {
    const b = this.probe.batch_size;
    const f = this.ds.features;
    gatherBatch(this.ds, this.sampler.next(), this.xBuf, this.yBuf);
    for (let i = 0; i < b; i++)
      for (let j = 0; j < f; j++) this.xTBuf[j * b + i] = this.xBuf[i * f + j];
    const x = tf.tensor2d(this.xBuf, [b, f]);
    const xT = tf.tensor2d(this.xTBuf, [f, b]);
    try {
      return this.model.step(x, xT, this.yBuf, optimizer, lr, momentum);
    } finally {
      x.dispose();
      xT.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

export function runRangeTest(probe: ProbeSpec, range: RangeSpec, ds?: Dataset): RangeTestResult {
  const sweep = rangeSweep(probe, range, ds);
  for (;;) {
    const next = sweep.next();
    if (next.done) return next.value;
  }
}

/**
 * runRangeTest, pausing for workerd's event loop every YIELD_EVERY_STEPS
 * steps (src/probe/yield.ts): what the API runs, where a sweep may train for
 * seconds.
 */
export async function runRangeTestYielding(
  probe: ProbeSpec,
  range: RangeSpec,
  ds?: Dataset,
): Promise<RangeTestResult> {
  const sweep = rangeSweep(probe, range, ds);
  for (let step = 1; ; step++) {
    const next = sweep.next();
    if (next.done) return next.value;
    if (step % YIELD_EVERY_STEPS === 0) await yieldToEventLoop();
  }
}

/** The sweep, one training step per `next()`; returns the analysis. */
function* rangeSweep(
  probe: ProbeSpec,
  range: RangeSpec,
  ds?: Dataset,
): Generator<void, RangeTestResult, void> {
  const run = new ProbeRun(probe, ds);
  const optimizer = makeOptimizer(probe.optimizer);
  const losses: number[] = [];
  const lrs: number[] = [];
  // Stop training once the smoothed loss blows up (the rule analyseSweep reads the curve with).
  const divergence = new DivergenceCheck(range.diverge_factor);
  try {
    for (let i = 0; i < range.steps; i++) {
      const lr = sweepLr(range, i);
      losses.push(run.trainStep(optimizer, lr));
      lrs.push(lr);
      if (divergence.endsAt(smoothLosses(losses, range.smoothing)[i])) break;
      yield;
    }
  } finally {
    optimizer.dispose();
    run.dispose();
  }
  return analyseSweep(lrs, losses, {
    smoothing: range.smoothing,
    diverge_factor: range.diverge_factor,
    planned_steps: range.steps,
    optimizer: probe.optimizer.name,
  });
}

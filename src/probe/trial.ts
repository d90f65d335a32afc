/**
 * One edge trial: train a probe for a number of epochs and measure the loss
 * on held-out rows after each epoch, asking the caller (who reports it to
 * the study) whether to stop. The held-out rows are the probe's validation
 * set (`probe.data.validation`) when it has one, else a seeded split of its
 * data (`validation_split`).
 */
import { Rng } from '../tuning/rng';
import type { Dataset } from './data';
import { ProbeInputError } from './errors';
import { ProbeRun, type ProbeSpec } from './lr-range-test';
import { stepFlops } from './mlp';
import { makeOptimizer } from './optimizers';
import { makeSchedule, type ScheduleSpec, type WarmupSpec } from './schedules';
import { YIELD_EVERY_STEPS, yieldToEventLoop } from './yield';

export interface EdgeTrainSpec {
  lr: number;
  epochs: number;
  /** Share of the rows held out for validation (0 < f < 1); unused when the data has a validation set. */
  validation_split: number;
  schedule?: ScheduleSpec;
  warmup?: WarmupSpec;
}

export type EdgeTrialOutcome =
  | { kind: 'complete'; value: number; epochs: number }
  | { kind: 'pruned'; epoch: number; value: number }
  | { kind: 'diverged'; epoch: number };

/** The rows a split of `n` holds out: round(n * fraction), at least 1 and at most n - 1. */
const splitRows = (n: number, fraction: number): number =>
  Math.max(1, Math.min(n - 1, Math.round(n * fraction)));

/** Rows trained on and held out: all the data and its validation set, or the split's counts (as splitDataset cuts). */
export function heldOutRows(ds: Dataset, fraction: number): { train: number; val: number } {
  if (ds.validation) return { train: ds.n, val: ds.validation.n };
  const val = splitRows(ds.n, fraction);
  return { train: ds.n - val, val };
}

/** The training and validation sets: the data and its validation set, else splitDataset. */
function heldOut(ds: Dataset, fraction: number, seed: number): { train: Dataset; val: Dataset } {
  return ds.validation ? { train: ds, val: ds.validation } : splitDataset(ds, fraction, seed);
}

/**
 * Split rows into training and validation sets by a seeded shuffle.
 * @public bench/lr-real.mjs loads it (tsImport) to check its copy of the split.
 */
export function splitDataset(
  ds: Dataset,
  fraction: number,
  seed: number,
): { train: Dataset; val: Dataset } {
  const nVal = splitRows(ds.n, fraction);
  const order = Array.from({ length: ds.n }, (_, i) => i);
  const rng = new Rng(seed >>> 0).fork(7);
  for (let i = ds.n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (rows: number[]): Dataset => {
    const f = ds.features;
    const x = new Float32Array(rows.length * f);
    const y = new Float32Array(rows.length);
    rows.forEach((r, i) => {
      x.set(ds.x.subarray(r * f, r * f + f), i * f);
      y[i] = ds.y[r];
    });
    return { ...ds, x, y, n: rows.length };
  };
  return { val: take(order.slice(0, nVal)), train: take(order.slice(nVal)) };
}

/** Optimizer steps of an edge trial. */
export function edgeTrialSteps(trainRows: number, batchSize: number, epochs: number): number {
  return Math.ceil(trainRows / batchSize) * epochs;
}

/** Estimated FLOPs of an edge trial (training steps plus one validation pass per epoch). */
export function edgeTrialFlops(ds: Dataset, probe: ProbeSpec, spec: EdgeTrainSpec): number {
  const rows = heldOutRows(ds, spec.validation_split);
  const model = { inputs: ds.features, hidden: probe.model.hidden, outputs: ds.outputs };
  const steps = edgeTrialSteps(rows.train, probe.batch_size, spec.epochs);
  // A forward pass is a third of a training step's 6PB.
  return (
    stepFlops(model, probe.batch_size) * steps + (stepFlops(model, rows.val) / 3) * spec.epochs
  );
}

/**
 * Train and validate. `onEpoch(epoch, valLoss)` runs after every epoch
 * (1-based) and answers true to stop the trial there (pruned).
 */
export async function runEdgeTrial(
  probe: ProbeSpec,
  spec: EdgeTrainSpec,
  ds: Dataset,
  onEpoch: (epoch: number, valLoss: number) => Promise<boolean>,
): Promise<EdgeTrialOutcome> {
  const { train, val } = heldOut(ds, spec.validation_split, probe.seed);
  if (probe.batch_size > train.n) {
    throw new ProbeInputError({
      path: 'probe.batch_size',
      message: `batch_size ${probe.batch_size} is larger than the training ${ds.validation ? 'data' : 'split'} (${train.n} rows)`,
    });
  }
  const run = new ProbeRun(probe, train);
  const optimizer = makeOptimizer(probe.optimizer);
  try {
    const perEpoch = Math.ceil(train.n / probe.batch_size);
    const schedule = makeSchedule(spec.lr, perEpoch * spec.epochs, spec.schedule, spec.warmup);
    let step = 0;
    let last = NaN;
    for (let epoch = 1; epoch <= spec.epochs; epoch++) {
      for (let k = 0; k < perEpoch; k++, step++) {
        // Let workerd's event loop run now and then (src/probe/yield.ts): a trial may train for many seconds.
        if (step > 0 && step % YIELD_EVERY_STEPS === 0) await yieldToEventLoop();
        const { lr, momentum } = schedule.at(step);
        const loss = run.trainStep(optimizer, lr, optimizer.hasMomentum ? momentum : null);
        if (!Number.isFinite(loss)) return { kind: 'diverged', epoch };
      }
      last = run.model.evaluate(val.x, val.y, val.n);
      if (!Number.isFinite(last)) return { kind: 'diverged', epoch };
      if (epoch < spec.epochs && (await onEpoch(epoch, last)))
        return { kind: 'pruned', epoch, value: last };
    }
    await onEpoch(spec.epochs, last);
    return { kind: 'complete', value: last, epochs: spec.epochs };
  } finally {
    optimizer.dispose();
    run.dispose();
  }
}

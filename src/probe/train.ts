/**
 * Train a probe to the end under a learning-rate schedule: what an edge trial
 * runs, and what checks a suggested learning rate or schedule.
 */
import type { Dataset } from './data';
import { ProbeRun, type ProbeSpec } from './lr-range-test';
import { makeOptimizer } from './optimizers';
import { makeSchedule, type ScheduleSpec, type WarmupSpec } from './schedules';

export interface TrainSpec {
  lr: number;
  steps: number;
  schedule?: ScheduleSpec;
  warmup?: WarmupSpec;
  /** Record the full-dataset loss every `eval_every` steps (0 = only at the end). */
  eval_every?: number;
}

export interface TrainResult {
  /** Mean loss over the whole dataset after the last step (null if training diverged). */
  final_loss: number | null;
  /** Mini-batch loss of each step. */
  batch_losses: number[];
  evaluations: { step: number; loss: number }[];
  diverged: boolean;
}

export function trainProbe(probe: ProbeSpec, spec: TrainSpec, ds?: Dataset): TrainResult {
  const run = new ProbeRun(probe, ds);
  const optimizer = makeOptimizer(probe.optimizer);
  const schedule = makeSchedule(spec.lr, spec.steps, spec.schedule, spec.warmup);
  const batchLosses: number[] = [];
  const evaluations: { step: number; loss: number }[] = [];
  const evaluate = () => run.model.evaluate(run.ds.x, run.ds.y, run.ds.n);
  try {
    for (let step = 0; step < spec.steps; step++) {
      const { lr, momentum } = schedule.at(step);
      const loss = run.trainStep(optimizer, lr, optimizer.hasMomentum ? momentum : null);
      batchLosses.push(loss);
      if (!Number.isFinite(loss))
        return { final_loss: null, batch_losses: batchLosses, evaluations, diverged: true };
      if (spec.eval_every && (step + 1) % spec.eval_every === 0 && step + 1 < spec.steps) {
        evaluations.push({ step: step + 1, loss: evaluate() });
      }
    }
    const final = evaluate();
    evaluations.push({ step: spec.steps, loss: final });
    return {
      final_loss: Number.isFinite(final) ? final : null,
      batch_losses: batchLosses,
      evaluations,
      diverged: !Number.isFinite(final),
    };
  } finally {
    optimizer.dispose();
    run.dispose();
  }
}

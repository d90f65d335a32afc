/**
 * Learning-rate schedules as pure functions of the (0-based) optimizer step,
 * with PyTorch's `torch.optim.lr_scheduler` semantics where one exists: most
 * stride users come from PyTorch, so a schedule described here should mean
 * the same there. `at(0)` is the learning rate of the first optimizer step,
 * i.e. what PyTorch's scheduler has set before the first `optimizer.step()`.
 *
 * - constant: `lr` at every step.
 * - step (StepLR): `lr * gamma^floor(t / step_size)`, gamma default 0.1.
 * - exponential (ExponentialLR): `lr * gamma^t`.
 * - cosine (CosineAnnealingLR, closed form):
 *   `eta_min + (lr - eta_min) * (1 + cos(pi * t / t_max)) / 2`, eta_min
 *   default 0, t_max default the schedule's step count. Deviation from
 *   PyTorch: its closed form is periodic (past T_max the lr climbs back up
 *   towards `lr`); we clamp instead, so the lr stays at eta_min for t >= t_max.
 *   As in PyTorch, with t_max = total steps the last step (t = total - 1) is
 *   one step short of eta_min.
 * - one_cycle (OneCycleLR): the `lr` given is the PEAK (PyTorch's max_lr).
 *   initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor.
 *   Two phases (default): initial_lr -> max_lr until step
 *   `pct_start * T - 1`, then max_lr -> min_lr until step `T - 1`. With
 *   three_phase: initial_lr -> max_lr until `pct_start * T - 1`, back to
 *   initial_lr until `2 * pct_start * T - 2`, then initial_lr -> min_lr until
 *   `T - 1`. Annealing is `end + (start - end) / 2 * (1 + cos(pi * pct))`
 *   ('cos', default) or `start + (end - start) * pct` ('linear'), with pct
 *   measured from the previous phase's (possibly fractional) end step, exactly
 *   as PyTorch does. With cycle_momentum (default), momentum (beta1 for Adam)
 *   moves inversely: max_momentum -> base_momentum in phase 1 and back in
 *   phase 2 (three_phase: stays at max_momentum in phase 3). Defaults:
 *   pct_start 0.3, div_factor 25, final_div_factor 1e4, base_momentum 0.85,
 *   max_momentum 0.95.
 *
 * Warmup: a linear warmup can be put in front of any schedule but one_cycle
 * (which has its own). Over the first `steps` steps the lr is
 * `lr * f(t)`, `f(t) = start_factor + (1 - start_factor) * t / steps`
 * (start_factor default 0, so step 0 has lr 0), like LinearLR with
 * end_factor 1 and total_iters = steps. Unlike LinearLR, start_factor may be
 * 0 (PyTorch requires > 0, default 1/3). As with SequentialLR(milestones =
 * [steps]), the wrapped schedule starts counting at the end of warmup: step
 * `steps` is the wrapped schedule's step 0 (full lr), and the wrapped
 * schedule is given `total - steps` steps (so cosine's default t_max is the
 * number of steps left after warmup).
 *
 * Momentum is reported only by one_cycle with cycle_momentum; every other
 * schedule reports `null` (the optimizer keeps its own).
 */

export type ScheduleSpec =
  | { kind: 'constant' }
  | { kind: 'step'; step_size: number; gamma?: number }
  | { kind: 'exponential'; gamma: number }
  | { kind: 'cosine'; t_max?: number; eta_min?: number }
  | {
      kind: 'one_cycle';
      pct_start?: number;
      div_factor?: number;
      final_div_factor?: number;
      anneal?: 'cos' | 'linear';
      three_phase?: boolean;
      cycle_momentum?: boolean;
      base_momentum?: number;
      max_momentum?: number;
    };

export type ScheduleKind = ScheduleSpec['kind'];

/** Linear warmup in front of a schedule (not one_cycle); see the module comment. */
export interface WarmupSpec {
  steps: number;
  start_factor?: number;
}

export interface ScheduleAt {
  lr: number;
  /** Momentum (or Adam's beta1) set by the schedule; null when it sets none. */
  momentum: number | null;
}

export interface Schedule {
  /**
   * The lr (and momentum) of 0-based step `step`. Throws a RangeError unless
   * `step` is an integer in [0, totalSteps).
   */
  at(step: number): ScheduleAt;
  readonly totalSteps: number;
}

export interface ScheduleIssue {
  path: string;
  message: string;
}

const KINDS: readonly ScheduleKind[] = ['constant', 'step', 'exponential', 'cosine', 'one_cycle'];

/**
 * Compile a schedule. `baseLr` is the lr the schedule scales (for one_cycle:
 * the peak, PyTorch's max_lr). Throws a RangeError on invalid input (see
 * `validateSchedule`, which callers should run first to report issues).
 */
export function makeSchedule(
  baseLr: number,
  totalSteps: number,
  spec?: ScheduleSpec,
  warmup?: WarmupSpec,
): Schedule {
  if (!Number.isFinite(baseLr) || baseLr < 0)
    throw new RangeError(`baseLr must be a finite number >= 0, got ${baseLr}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new RangeError(`totalSteps must be an integer >= 1, got ${totalSteps}`);
  }
  const s: ScheduleSpec = spec ?? { kind: 'constant' };
  const issues = validateSchedule(warmup === undefined ? s : { ...s, warmup }, totalSteps);
  if (issues.length > 0)
    throw new RangeError(issues.map((i) => `${i.path || '(schedule)'}: ${i.message}`).join('; '));

  const w = warmup?.steps ?? 0;
  const inner = compile(baseLr, totalSteps - w, s);
  let fn: (t: number) => ScheduleAt = inner;
  if (w > 0) {
    const f0 = warmup?.start_factor ?? 0;
    fn = (t) =>
      t < w
        ? { lr: baseLr * (f0 + ((1 - f0) * t) / w), momentum: inner(0).momentum }
        : inner(t - w);
  }
  return {
    totalSteps,
    at(step: number): ScheduleAt {
      if (!Number.isInteger(step) || step < 0 || step >= totalSteps) {
        throw new RangeError(`step must be an integer in [0, ${totalSteps}), got ${step}`);
      }
      return fn(step);
    },
  };
}

function compile(lr: number, total: number, spec: ScheduleSpec): (t: number) => ScheduleAt {
  switch (spec.kind) {
    case 'constant':
      return () => ({ lr, momentum: null });
    case 'step': {
      const gamma = spec.gamma ?? 0.1;
      const size = spec.step_size;
      return (t) => ({ lr: lr * Math.pow(gamma, Math.floor(t / size)), momentum: null });
    }
    case 'exponential': {
      const gamma = spec.gamma;
      return (t) => ({ lr: lr * Math.pow(gamma, t), momentum: null });
    }
    case 'cosine': {
      const tMax = spec.t_max ?? total;
      const etaMin = spec.eta_min ?? 0;
      return (t) => ({
        lr: etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * Math.min(t, tMax)) / tMax))) / 2,
        momentum: null,
      });
    }
    case 'one_cycle':
      return oneCycle(lr, total, spec);
  }
}

type OneCycleSpec = Extract<ScheduleSpec, { kind: 'one_cycle' }>;

/** A transcription of PyTorch's OneCycleLR.get_lr (phase table and annealing). */
function oneCycle(maxLr: number, total: number, spec: OneCycleSpec): (t: number) => ScheduleAt {
  const pct = spec.pct_start ?? 0.3;
  const initialLr = maxLr / (spec.div_factor ?? 25);
  const minLr = initialLr / (spec.final_div_factor ?? 1e4);
  const cycle = spec.cycle_momentum ?? true;
  const baseM = spec.base_momentum ?? 0.85;
  const maxM = spec.max_momentum ?? 0.95;
  const anneal =
    (spec.anneal ?? 'cos') === 'cos'
      ? (start: number, end: number, p: number) =>
          end + ((start - end) / 2) * (Math.cos(Math.PI * p) + 1)
      : (start: number, end: number, p: number) => (end - start) * p + start;

  // [end_step, start_lr, end_lr, start_momentum, end_momentum]
  type Phase = [number, number, number, number, number];
  const phases: Phase[] = spec.three_phase
    ? [
        [pct * total - 1, initialLr, maxLr, maxM, baseM],
        [2 * pct * total - 2, maxLr, initialLr, baseM, maxM],
        [total - 1, initialLr, minLr, maxM, maxM],
      ]
    : [
        [pct * total - 1, initialLr, maxLr, maxM, baseM],
        [total - 1, maxLr, minLr, baseM, maxM],
      ];

  return (t) => {
    let startStep = 0;
    for (let i = 0; i < phases.length; i++) {
      const [endStep, lr0, lr1, m0, m1] = phases[i];
      if (t <= endStep || i === phases.length - 1) {
        const p = (t - startStep) / (endStep - startStep);
        return { lr: anneal(lr0, lr1, p), momentum: cycle ? anneal(m0, m1, p) : null };
      }
      startStep = endStep;
    }
    /* c8 ignore next */
    throw new Error('unreachable');
  };
}

/**
 * Semantic checks on a schedule object as it arrives from the API (shape is
 * checked elsewhere; a wrong type is still reported rather than trusted).
 * The object may carry a `warmup` ({ steps, start_factor? }) next to its
 * own fields. Paths are relative to the schedule object ("gamma",
 * "warmup.steps"); "" names the object itself. `undefined` (no schedule:
 * constant) is valid. Whether eta_min is below the base lr is left to the
 * caller, which knows the lr.
 */
export function validateSchedule(spec: unknown, totalSteps: number): ScheduleIssue[] {
  const issues: ScheduleIssue[] = [];
  if (spec === undefined) return issues;
  if (!isObject(spec)) return [{ path: '', message: 'must be an object' }];
  const kind = spec.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    return [{ path: 'kind', message: `must be one of ${KINDS.join(', ')}` }];
  }

  const add = (path: string, message: string) => issues.push({ path, message });
  /** The field as a finite number, or undefined (reporting it if present but not finite). */
  const num = (obj: Record<string, unknown>, key: string, prefix = ''): number | undefined => {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      add(prefix + key, 'must be a finite number');
      return undefined;
    }
    return v;
  };
  const required = (key: string): number | undefined => {
    if (spec[key] === undefined) add(key, `is required for ${kind}`);
    return num(spec, key);
  };
  const bool = (key: string) => {
    if (spec[key] !== undefined && typeof spec[key] !== 'boolean') add(key, 'must be a boolean');
  };

  switch (kind) {
    case 'constant':
      break;
    case 'step': {
      const size = required('step_size');
      if (size !== undefined && (!Number.isInteger(size) || size < 1))
        add('step_size', 'must be an integer >= 1');
      const gamma = num(spec, 'gamma');
      if (gamma !== undefined && !(gamma > 0 && gamma <= 1)) add('gamma', 'must be in (0, 1]');
      break;
    }
    case 'exponential': {
      const gamma = required('gamma');
      if (gamma !== undefined && !(gamma > 0)) add('gamma', 'must be > 0');
      break;
    }
    case 'cosine': {
      const tMax = num(spec, 't_max');
      if (tMax !== undefined && (!Number.isInteger(tMax) || tMax < 1))
        add('t_max', 'must be an integer >= 1');
      const etaMin = num(spec, 'eta_min');
      if (etaMin !== undefined && etaMin < 0) add('eta_min', 'must be >= 0');
      break;
    }
    case 'one_cycle': {
      const pct = num(spec, 'pct_start');
      if (pct !== undefined && !(pct > 0 && pct < 1)) add('pct_start', 'must be in (0, 1)');
      for (const key of ['div_factor', 'final_div_factor']) {
        const v = num(spec, key);
        if (v !== undefined && v < 1) add(key, 'must be >= 1');
      }
      if (spec.anneal !== undefined && spec.anneal !== 'cos' && spec.anneal !== 'linear') {
        add('anneal', "must be 'cos' or 'linear'");
      }
      bool('three_phase');
      bool('cycle_momentum');
      for (const key of ['base_momentum', 'max_momentum']) {
        const v = num(spec, key);
        if (v !== undefined && !(v >= 0 && v < 1)) add(key, 'must be in [0, 1)');
      }
      // Phase lengths (PyTorch divides by them): phase 1 ends at step
      // pct_start*T - 1, which must be past step 0; with three_phase, phase 2
      // ends at 2*pct_start*T - 2, which must come before the last step T - 1.
      const p = pct ?? 0.3;
      if (pct === undefined || (pct > 0 && pct < 1)) {
        if (!(p * totalSteps - 1 > 0)) {
          add(
            'pct_start',
            `pct_start * total steps (${p} * ${totalSteps}) must be > 1: the warm-up phase needs a step past step 0`,
          );
        } else if (spec.three_phase === true && !(2 * p * totalSteps - 2 < totalSteps - 1)) {
          add(
            'pct_start',
            `with three_phase, 2 * pct_start * total steps - 2 must be < total steps - 1 (pct_start below about 0.5)`,
          );
        }
      }
      break;
    }
  }

  const warmup = spec.warmup;
  if (warmup !== undefined) {
    if (kind === 'one_cycle') {
      add('warmup', 'one_cycle has its own warm-up (pct_start); remove warmup');
    } else if (!isObject(warmup)) {
      add('warmup', 'must be an object');
    } else {
      if (warmup.steps === undefined) add('warmup.steps', 'is required');
      const steps = num(warmup, 'steps', 'warmup.');
      if (steps !== undefined) {
        if (!Number.isInteger(steps) || steps < 0) add('warmup.steps', 'must be an integer >= 0');
        else if (steps >= totalSteps) add('warmup.steps', `must be < total steps (${totalSteps})`);
      }
      const f0 = num(warmup, 'start_factor', 'warmup.');
      if (f0 !== undefined && !(f0 >= 0 && f0 <= 1))
        add('warmup.start_factor', 'must be in [0, 1]');
    }
  }
  return issues;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

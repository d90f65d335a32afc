/**
 * Optimizers with PyTorch's `torch.optim` semantics and defaults, written as
 * a few element-wise TF.js kernels per parameter. Most stride users come from
 * PyTorch, so a learning rate found here should mean the same there.
 *
 * - sgd: `momentum` (default 0), `weight_decay` as L2 added to the gradient,
 *   momentum buffer initialised to the first gradient, no dampening.
 * - momentum: sgd with momentum default 0.9. nesterov: the same with Nesterov.
 * - adam: betas (0.9, 0.999), eps 1e-8, bias-corrected, L2 weight decay.
 * - adamw: as adam, with decoupled weight decay (default 0.01): p *= 1 - lr·wd.
 * - rmsprop: alpha 0.99, eps 1e-8 (added after the square root), optional momentum.
 * - adagrad: eps 1e-10, initial accumulator 0.
 *
 * A schedule may drive `momentum` (one-cycle): for sgd-family optimizers it is
 * the momentum factor, for adam/adamw it is beta1, for rmsprop its momentum.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerName } from '../contract/names';
import type { z } from 'zod';
import type { OptimizerSchema } from '../contract/schemas';

export type { OptimizerName };

/** An optimizer and its settings (the Optimizer schema). */
export type OptimizerSpec = z.output<typeof OptimizerSchema>;

export interface Optimizer {
  readonly name: OptimizerName;
  /** Whether a schedule's momentum has anything to drive. */
  readonly hasMomentum: boolean;
  /**
   * One update. Consumes (disposes) `params`, returns the new parameters;
   * `grads` stay owned by the caller.
   */
  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number, momentum: number | null): tf.Tensor[];
  dispose(): void;
}

/** Fully defaulted settings, as reported back to callers. */
export function optimizerDefaults(spec: OptimizerSpec): Required<OptimizerSpec> {
  const base = { momentum: 0, beta1: 0.9, beta2: 0.999, alpha: 0.99, eps: 1e-8, weight_decay: 0 };
  switch (spec.name) {
    case 'momentum':
    case 'nesterov':
      return { ...base, momentum: 0.9, ...spec };
    case 'adamw':
      return { ...base, weight_decay: 0.01, ...spec };
    case 'adagrad':
      return { ...base, eps: 1e-10, ...spec };
    default:
      return { ...base, ...spec };
  }
}

export function makeOptimizer(spec: OptimizerSpec): Optimizer {
  const o = optimizerDefaults(spec);
  switch (o.name) {
    case 'sgd':
    case 'momentum':
    case 'nesterov':
      return new Sgd(o.name, o.momentum, o.name === 'nesterov', o.weight_decay);
    case 'adam':
    case 'adamw':
      return new Adam(o.name, o.beta1, o.beta2, o.eps, o.weight_decay, o.name === 'adamw');
    case 'rmsprop':
      return new RmsProp(o.alpha, o.eps, o.momentum, o.weight_decay);
    case 'adagrad':
      return new Adagrad(o.eps, o.weight_decay);
  }
}

function withL2(p: tf.Tensor, g: tf.Tensor, wd: number): tf.Tensor {
  return wd === 0 ? g : tf.add(g, tf.mul(p, wd));
}

/**
 * What every optimizer shares: per-parameter state slots (momentum buffers,
 * moment estimates) that outlive a step, and the loop that updates each
 * parameter inside `tf.tidy` and frees the tensor it replaces.
 */
abstract class BaseOptimizer implements Optimizer {
  abstract readonly name: OptimizerName;
  abstract readonly hasMomentum: boolean;
  private slots = new Map<string, (tf.Tensor | undefined)[]>();

  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number, momentum: number | null): tf.Tensor[] {
    this.beginStep(lr, momentum);
    return params.map((p, i) => {
      const next = tf.tidy(() => this.update(p, grads[i], i, lr, momentum));
      p.dispose();
      return next;
    });
  }

  /** Called once per step before the per-parameter updates. */
  protected beginStep(_lr: number, _momentum: number | null): void {}

  /** The new value of parameter `i` (runs inside `tf.tidy`). */
  protected abstract update(
    p: tf.Tensor,
    g: tf.Tensor,
    i: number,
    lr: number,
    momentum: number | null,
  ): tf.Tensor;

  protected slot(name: string, i: number): tf.Tensor | undefined {
    return this.slots.get(name)?.[i];
  }

  /** Keep `value` as state `name` of parameter `i`, freeing what it replaces. */
  protected setSlot(name: string, i: number, value: tf.Tensor): tf.Tensor {
    let list = this.slots.get(name);
    if (!list) this.slots.set(name, (list = []));
    list[i]?.dispose();
    list[i] = tf.keep(value);
    return value;
  }

  dispose(): void {
    for (const list of this.slots.values()) for (const t of list) t?.dispose();
    this.slots.clear();
  }
}

class Sgd extends BaseOptimizer {
  readonly hasMomentum: boolean;

  constructor(
    readonly name: OptimizerName,
    private readonly momentum: number,
    private readonly nesterov: boolean,
    private readonly wd: number,
  ) {
    super();
    this.hasMomentum = momentum > 0;
  }

  protected update(
    p: tf.Tensor,
    grad: tf.Tensor,
    i: number,
    lr: number,
    momentum: number | null,
  ): tf.Tensor {
    const mu = momentum ?? this.momentum;
    let g = withL2(p, grad, this.wd);
    const prev = this.slot('buf', i);
    if (mu !== 0 || prev) {
      const b = this.setSlot('buf', i, prev ? tf.add(tf.mul(prev, mu), g) : tf.clone(g));
      g = this.nesterov ? tf.add(g, tf.mul(b, mu)) : b;
    }
    return tf.sub(p, tf.mul(g, lr));
  }
}

class Adam extends BaseOptimizer {
  readonly hasMomentum = true;
  private beta1Power = 1;
  private beta2Power = 1;
  private b1 = 0;
  private stepSize = 0;
  private bias2Sqrt = 0;

  constructor(
    readonly name: OptimizerName,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly eps: number,
    private readonly wd: number,
    private readonly decoupled: boolean,
  ) {
    super();
  }

  protected override beginStep(lr: number, momentum: number | null): void {
    this.b1 = momentum ?? this.beta1;
    // PyTorch's bias correction uses beta1^t; with a beta1 cycled by a
    // schedule we keep the running product, which equals beta1^t when fixed.
    this.beta1Power *= this.b1;
    this.beta2Power *= this.beta2;
    this.stepSize = lr / (1 - this.beta1Power);
    this.bias2Sqrt = Math.sqrt(1 - this.beta2Power);
  }

  protected update(p: tf.Tensor, grad: tf.Tensor, i: number, lr: number): tf.Tensor {
    const { b1, beta2: b2 } = this;
    let base = p;
    let g = grad;
    if (this.decoupled) {
      if (this.wd !== 0) base = tf.mul(p, 1 - lr * this.wd);
    } else {
      g = withL2(p, g, this.wd);
    }
    const mPrev = this.slot('m', i);
    const vPrev = this.slot('v', i);
    const m = this.setSlot(
      'm',
      i,
      mPrev ? tf.add(tf.mul(mPrev, b1), tf.mul(g, 1 - b1)) : tf.mul(g, 1 - b1),
    );
    const g2 = tf.mul(tf.square(g), 1 - b2);
    const v = this.setSlot('v', i, vPrev ? tf.add(tf.mul(vPrev, b2), g2) : g2);
    const denom = tf.add(tf.div(tf.sqrt(v), this.bias2Sqrt), this.eps);
    return tf.sub(base, tf.mul(tf.div(m, denom), this.stepSize));
  }
}

class RmsProp extends BaseOptimizer {
  readonly name = 'rmsprop' as const;
  readonly hasMomentum: boolean;

  constructor(
    private readonly alpha: number,
    private readonly eps: number,
    private readonly momentum: number,
    private readonly wd: number,
  ) {
    super();
    this.hasMomentum = momentum > 0;
  }

  protected update(
    p: tf.Tensor,
    grad: tf.Tensor,
    i: number,
    lr: number,
    momentum: number | null,
  ): tf.Tensor {
    const mu = momentum ?? this.momentum;
    const g = withL2(p, grad, this.wd);
    const g2 = tf.mul(tf.square(g), 1 - this.alpha);
    const sqPrev = this.slot('sq', i);
    const sq = this.setSlot('sq', i, sqPrev ? tf.add(tf.mul(sqPrev, this.alpha), g2) : g2);
    const scaled = tf.div(g, tf.add(tf.sqrt(sq), this.eps));
    const bufPrev = this.slot('buf', i);
    if (mu > 0 || bufPrev) {
      const b = this.setSlot('buf', i, bufPrev ? tf.add(tf.mul(bufPrev, mu), scaled) : scaled);
      return tf.sub(p, tf.mul(b, lr));
    }
    return tf.sub(p, tf.mul(scaled, lr));
  }
}

class Adagrad extends BaseOptimizer {
  readonly name = 'adagrad' as const;
  readonly hasMomentum = false;

  constructor(
    private readonly eps: number,
    private readonly wd: number,
  ) {
    super();
  }

  protected update(p: tf.Tensor, grad: tf.Tensor, i: number, lr: number): tf.Tensor {
    const g = withL2(p, grad, this.wd);
    const prev = this.slot('sum', i);
    const sum = this.setSlot('sum', i, prev ? tf.add(prev, tf.square(g)) : tf.square(g));
    return tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(sum), this.eps)), lr));
  }
}

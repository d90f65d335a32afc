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

export type OptimizerName = 'sgd' | 'momentum' | 'nesterov' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';

export interface OptimizerSpec {
  name: OptimizerName;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  alpha?: number;
  eps?: number;
  weight_decay?: number;
}

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

/** Replace a state slot, disposing what it held. */
function swap(state: (tf.Tensor | null)[], i: number, next: tf.Tensor): void {
  state[i]?.dispose();
  state[i] = next;
}

class Sgd implements Optimizer {
  readonly hasMomentum: boolean;
  private buf: (tf.Tensor | null)[] = [];

  constructor(
    readonly name: OptimizerName,
    private momentum: number,
    private readonly nesterov: boolean,
    private readonly wd: number,
  ) {
    this.hasMomentum = momentum > 0;
  }

  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number, momentum: number | null): tf.Tensor[] {
    const mu = momentum ?? this.momentum;
    return params.map((p, i) => {
      const next = tf.tidy(() => {
        let g = withL2(p, grads[i], this.wd);
        if (mu !== 0 || this.buf[i]) {
          const prev = this.buf[i];
          const b = prev ? tf.add(tf.mul(prev, mu), g) : tf.clone(g);
          swap(this.buf, i, tf.keep(b));
          g = this.nesterov ? tf.add(g, tf.mul(b, mu)) : b;
        }
        return tf.sub(p, tf.mul(g, lr));
      });
      p.dispose();
      return next;
    });
  }

  dispose(): void {
    for (const b of this.buf) b?.dispose();
    this.buf = [];
  }
}

class Adam implements Optimizer {
  readonly hasMomentum = true;
  private m: (tf.Tensor | null)[] = [];
  private v: (tf.Tensor | null)[] = [];
  private t = 0;
  private beta1Power = 1;
  private beta2Power = 1;

  constructor(
    readonly name: OptimizerName,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly eps: number,
    private readonly wd: number,
    private readonly decoupled: boolean,
  ) {}

  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number, momentum: number | null): tf.Tensor[] {
    const b1 = momentum ?? this.beta1;
    const b2 = this.beta2;
    this.t += 1;
    // PyTorch keeps beta1 in the bias correction as the current beta1; with a
    // cycled beta1 we track the running product, which equals beta1^t when fixed.
    this.beta1Power *= b1;
    this.beta2Power *= b2;
    const stepSize = lr / (1 - this.beta1Power);
    const bias2Sqrt = Math.sqrt(1 - this.beta2Power);
    return params.map((p, i) => {
      const next = tf.tidy(() => {
        let base = p;
        let g = grads[i];
        if (this.decoupled) {
          if (this.wd !== 0) base = tf.mul(p, 1 - lr * this.wd);
        } else {
          g = withL2(p, g, this.wd);
        }
        const m = this.m[i] ? tf.add(tf.mul(this.m[i]!, b1), tf.mul(g, 1 - b1)) : tf.mul(g, 1 - b1);
        const v = this.v[i] ? tf.add(tf.mul(this.v[i]!, b2), tf.mul(tf.square(g), 1 - b2)) : tf.mul(tf.square(g), 1 - b2);
        swap(this.m, i, tf.keep(m));
        swap(this.v, i, tf.keep(v));
        const denom = tf.add(tf.div(tf.sqrt(v), bias2Sqrt), this.eps);
        return tf.sub(base, tf.mul(tf.div(m, denom), stepSize));
      });
      p.dispose();
      return next;
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t?.dispose();
    this.m = [];
    this.v = [];
  }
}

class RmsProp implements Optimizer {
  readonly name = 'rmsprop' as const;
  readonly hasMomentum: boolean;
  private sq: (tf.Tensor | null)[] = [];
  private buf: (tf.Tensor | null)[] = [];

  constructor(
    private readonly alpha: number,
    private readonly eps: number,
    private readonly momentum: number,
    private readonly wd: number,
  ) {
    this.hasMomentum = momentum > 0;
  }

  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number, momentum: number | null): tf.Tensor[] {
    const mu = momentum ?? this.momentum;
    return params.map((p, i) => {
      const next = tf.tidy(() => {
        const g = withL2(p, grads[i], this.wd);
        const g2 = tf.mul(tf.square(g), 1 - this.alpha);
        const sq = this.sq[i] ? tf.add(tf.mul(this.sq[i]!, this.alpha), g2) : g2;
        swap(this.sq, i, tf.keep(sq));
        const scaled = tf.div(g, tf.add(tf.sqrt(sq), this.eps));
        if (mu > 0 || this.buf[i]) {
          const b = this.buf[i] ? tf.add(tf.mul(this.buf[i]!, mu), scaled) : scaled;
          swap(this.buf, i, tf.keep(b));
          return tf.sub(p, tf.mul(b, lr));
        }
        return tf.sub(p, tf.mul(scaled, lr));
      });
      p.dispose();
      return next;
    });
  }

  dispose(): void {
    for (const t of [...this.sq, ...this.buf]) t?.dispose();
    this.sq = [];
    this.buf = [];
  }
}

class Adagrad implements Optimizer {
  readonly name = 'adagrad' as const;
  readonly hasMomentum = false;
  private sum: (tf.Tensor | null)[] = [];

  constructor(
    private readonly eps: number,
    private readonly wd: number,
  ) {}

  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number): tf.Tensor[] {
    return params.map((p, i) => {
      const next = tf.tidy(() => {
        const g = withL2(p, grads[i], this.wd);
        const s = this.sum[i] ? tf.add(this.sum[i]!, tf.square(g)) : tf.square(g);
        swap(this.sum, i, tf.keep(s));
        return tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(s), this.eps)), lr));
      });
      p.dispose();
      return next;
    });
  }

  dispose(): void {
    for (const t of this.sum) t?.dispose();
    this.sum = [];
  }
}

import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../src/probe/backend';
import { makeOptimizer, optimizerDefaults, type OptimizerSpec } from '../src/probe/optimizers';

beforeAll(async () => {
  await ensureBackend();
});

/**
 * torch.optim's update rules written out for one scalar parameter, in float64,
 * straight from the PyTorch documentation's pseudo-code.
 */
function reference(spec: OptimizerSpec, p0: number, grads: number[], lr: number): number[] {
  const o = optimizerDefaults(spec);
  let p = p0;
  let buf: number | null = null;
  let m = 0,
    v = 0,
    sq = 0,
    sum = 0;
  const out: number[] = [];
  grads.forEach((g0, k) => {
    const t = k + 1;
    let g = g0;
    switch (o.name) {
      case 'sgd':
      case 'momentum':
      case 'nesterov': {
        g += o.weight_decay * p;
        if (o.momentum !== 0) {
          buf = buf === null ? g : o.momentum * buf + g;
          g = o.name === 'nesterov' ? g + o.momentum * buf : buf;
        }
        p -= lr * g;
        break;
      }
      case 'adam':
      case 'adamw': {
        if (o.name === 'adamw') p *= 1 - lr * o.weight_decay;
        else g += o.weight_decay * p;
        m = o.beta1 * m + (1 - o.beta1) * g;
        v = o.beta2 * v + (1 - o.beta2) * g * g;
        const mh = m / (1 - o.beta1 ** t);
        const vh = v / (1 - o.beta2 ** t);
        p -= (lr * mh) / (Math.sqrt(vh) + o.eps);
        break;
      }
      case 'rmsprop': {
        g += o.weight_decay * p;
        sq = o.alpha * sq + (1 - o.alpha) * g * g;
        const scaled = g / (Math.sqrt(sq) + o.eps);
        if (o.momentum > 0) {
          buf = (buf ?? 0) * o.momentum + scaled;
          p -= lr * buf;
        } else p -= lr * scaled;
        break;
      }
      case 'adagrad': {
        g += o.weight_decay * p;
        sum += g * g;
        p -= (lr * g) / (Math.sqrt(sum) + o.eps);
        break;
      }
    }
    out.push(p);
  });
  return out;
}

describe('optimizers follow torch.optim', () => {
  const grads = [0.5, -0.2, 0.3, 0.8, -1.1, 0.05];
  const specs: OptimizerSpec[] = [
    { name: 'sgd' },
    { name: 'sgd', momentum: 0.5, weight_decay: 0.1 },
    { name: 'momentum' },
    { name: 'nesterov', weight_decay: 0.01 },
    { name: 'adam' },
    { name: 'adam', beta1: 0.8, beta2: 0.99, weight_decay: 0.1 },
    { name: 'adamw' },
    { name: 'adamw', weight_decay: 0.3 },
    { name: 'rmsprop' },
    { name: 'rmsprop', momentum: 0.9, alpha: 0.9 },
    { name: 'adagrad', weight_decay: 0.05 },
  ];
  for (const spec of specs) {
    it(`${JSON.stringify(spec)}`, () => {
      const lr = 0.1;
      const want = reference(spec, 1.5, grads, lr);
      const opt = makeOptimizer(spec);
      let params: tf.Tensor[] = [tf.tensor1d([1.5])];
      grads.forEach((g, k) => {
        const gt = tf.tensor1d([g]);
        params = opt.apply(params, [gt], lr, null);
        gt.dispose();
        expect(params[0].dataSync()[0]).toBeCloseTo(want[k], 5);
      });
      params[0].dispose();
      opt.dispose();
    });
  }

  it('uses the PyTorch defaults', () => {
    expect(optimizerDefaults({ name: 'adam' })).toMatchObject({
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weight_decay: 0,
    });
    expect(optimizerDefaults({ name: 'adamw' }).weight_decay).toBe(0.01);
    expect(optimizerDefaults({ name: 'rmsprop' })).toMatchObject({ alpha: 0.99, eps: 1e-8 });
    expect(optimizerDefaults({ name: 'adagrad' }).eps).toBe(1e-10);
    expect(optimizerDefaults({ name: 'momentum' }).momentum).toBe(0.9);
    expect(optimizerDefaults({ name: 'sgd' }).momentum).toBe(0);
  });

  it('lets a schedule drive momentum (one-cycle)', () => {
    const opt = makeOptimizer({ name: 'momentum' });
    let params: tf.Tensor[] = [tf.tensor1d([0])];
    const g = tf.tensor1d([1]);
    params = opt.apply(params, [g], 1, 0.5); // buf = 1, p = -1
    params = opt.apply(params, [g], 1, 0.5); // buf = 0.5 + 1, p = -2.5
    expect(params[0].dataSync()[0]).toBeCloseTo(-2.5, 6);
    g.dispose();
    params[0].dispose();
    opt.dispose();
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { ensureBackend } from '../src/probe/backend';
import { Mlp, lossAndGrad, parameterCount, stepFlops, type Activation } from '../src/probe/mlp';
import { makeOptimizer } from '../src/probe/optimizers';

beforeAll(async () => {
  await ensureBackend();
});

/** The reference: the same network and loss through TF.js autodiff. */
function autodiffGrads(
  params: tf.Tensor[],
  x: tf.Tensor2D,
  y: Float32Array,
  act: Activation,
  task: 'classification' | 'regression',
  outputs: number,
) {
  const f = (...ps: tf.Tensor[]) => {
    let a: tf.Tensor = x;
    const L = ps.length / 2;
    for (let l = 0; l < L; l++) {
      a = tf.add(tf.matMul(a as tf.Tensor2D, ps[2 * l] as tf.Tensor2D, false, true), ps[2 * l + 1]); // weights stored (out x in)
      if (l < L - 1) {
        if (act === 'relu') a = tf.relu(a);
        else if (act === 'tanh') a = tf.tanh(a);
        else if (act === 'sigmoid') a = tf.sigmoid(a);
        else a = tf.mul(tf.mul(a, 0.5), tf.add(tf.erf(tf.div(a, Math.SQRT2)), 1));
      }
    }
    if (task === 'classification') {
      const onehot = tf.oneHot(tf.tensor1d(Array.from(y), 'int32'), outputs);
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(a)), 1)));
    }
    return tf.mean(tf.square(tf.sub(a, tf.tensor2d(y, [y.length, 1]))));
  };
  return tf.grads(f)(params);
}

describe('hand-written MLP step', () => {
  const cases: [Activation, 'classification' | 'regression', number[]][] = [
    ['relu', 'classification', [16, 8]],
    ['tanh', 'classification', [12]],
    ['sigmoid', 'regression', [10, 6]],
    ['gelu', 'regression', [9]],
    ['relu', 'classification', []],
  ];
  for (const [act, task, hidden] of cases) {
    it(`matches autodiff gradients: ${act}, ${task}, hidden [${hidden}]`, () => {
      const inputs = 5;
      const outputs = task === 'classification' ? 3 : 1;
      const batch = 7;
      const model = new Mlp({ inputs, hidden, outputs, activation: act, task, seed: 3 });
      const xs = new Float32Array(batch * inputs).map((_, i) => Math.sin(i * 1.7) * 1.5);
      const y = new Float32Array(batch).map((_, i) =>
        task === 'classification' ? i % 3 : Math.cos(i),
      );
      const x = tf.tensor2d(xs, [batch, inputs]);
      const xT = tf.transpose(x) as tf.Tensor2D;
      const before = model.params.map((p) => p.dataSync().slice());
      const expected = autodiffGrads(model.params, x, y, act, task, outputs).map((g) =>
        g.dataSync().slice(),
      );
      const sgd = makeOptimizer({ name: 'sgd' });
      const loss = model.step(x, xT, y, sgd, 1, null);
      expect(Number.isFinite(loss)).toBe(true);
      // With plain SGD and lr 1 the update is exactly the gradient.
      model.params.forEach((p, i) => {
        const after = p.dataSync();
        const grad = before[i].map((b, j) => b - after[j]);
        const ref = expected[i];
        const scale = Math.max(1e-3, ...Array.from(ref).map(Math.abs));
        for (let j = 0; j < ref.length; j++)
          expect(Math.abs(grad[j] - ref[j]) / scale).toBeLessThan(2e-3);
      });
      model.dispose();
      sgd.dispose();
      x.dispose();
      xT.dispose();
    });
  }

  it('computes softmax cross-entropy and MSE like their definitions', () => {
    // Transposed layout (outputs x batch): sample 0 has logits [1, 2, 3], sample 1 [0, 0, 0].
    const logits = new Float32Array([1, 0, 2, 0, 3, 0]);
    const { loss, grad } = lossAndGrad(logits, new Float32Array([2, 0]), 2, 3, 'classification');
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(loss).toBeCloseTo((lse - 3 + Math.log(3)) / 2, 6);
    expect(grad[4]).toBeCloseTo((Math.exp(3 - lse) - 1) / 2, 6);
    expect(grad[1]).toBeCloseTo((1 / 3 - 1) / 2, 6);
    const mse = lossAndGrad(new Float32Array([1, 3]), new Float32Array([0, 1]), 2, 1, 'regression');
    expect(mse.loss).toBeCloseTo((1 + 4) / 2, 6);
    expect(Array.from(mse.grad)).toEqual([1, 2]);
  });

  it('does not blow up on huge logits (log-sum-exp is stabilised)', () => {
    const { loss } = lossAndGrad(
      new Float32Array([1e4, 0]),
      new Float32Array([0]),
      1,
      2,
      'classification',
    ); // batch 1: logits [1e4, 0]
    expect(loss).toBeCloseTo(0, 6);
  });

  it('counts parameters and step FLOPs of the reference model', () => {
    const spec = { inputs: 784, hidden: [256, 128], outputs: 10 };
    expect(parameterCount(spec)).toBe(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    expect(stepFlops(spec, 64)).toBe(6 * 235146 * 64);
  });

  it('gives the same initial weights for the same seed, different for another', () => {
    const spec = {
      inputs: 4,
      hidden: [8],
      outputs: 2,
      activation: 'relu' as const,
      task: 'classification' as const,
    };
    const a = new Mlp({ ...spec, seed: 1 });
    const b = new Mlp({ ...spec, seed: 1 });
    const c = new Mlp({ ...spec, seed: 2 });
    expect(Array.from(a.params[0].dataSync())).toEqual(Array.from(b.params[0].dataSync()));
    expect(Array.from(a.params[0].dataSync())).not.toEqual(Array.from(c.params[0].dataSync()));
    // He-uniform bound for a relu layer with fan-in 4.
    const bound = Math.sqrt(6 / 4);
    expect(Math.max(...Array.from(a.params[0].dataSync()).map(Math.abs))).toBeLessThanOrEqual(
      bound,
    );
    [a, b, c].forEach((m) => m.dispose());
  });
});

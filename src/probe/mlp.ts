/**
 * The MLP probe model with a hand-written training step.
 *
 * Why not `tf.grads`: the default gradient of a dense layer multiplies with
 * `transposeA`/`transposeB`, which the WASM backend runs far slower than a
 * plain product (what each step below buys: bench/RESULTS.md, "Training-step
 * throughput (TF.js in workerd)", its notes). Here every product is a plain `matMul`:
 * - the first layer's `x` and `xᵀ` are both written by the batch gather in JS;
 * - the other activations and weights are transposed explicitly (a cheap copy)
 *   before a plain product;
 * - the input gradient of the first layer is never computed;
 * - everything runs in the transposed layout (features x batch) with weights
 *   stored as Wᵀ (out x in), so a weight is always the LEFT operand. XNNPACK
 *   packs the right operand of a product and caches that per tensor; weights
 *   are new tensors after every update, so as right operands they would be
 *   repacked on every step;
 * - the loss and its gradient w.r.t. the logits are computed in float64 JS on
 *   the (outputs x batch) logits, which is cheaper than a dozen tiny kernels.
 * The optimizer then updates the parameters with a few element-wise kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../tuning/rng';
import type { Optimizer } from './optimizers';
import type { Task } from './data';
import type { Activation } from '../contract/names';

export type { Activation };

export interface MlpSpec {
  inputs: number;
  hidden: number[];
  outputs: number;
  activation: Activation;
  task: Task;
  seed: number;
}

/** Number of trainable parameters (weights and biases). */
export function parameterCount(spec: Pick<MlpSpec, 'inputs' | 'hidden' | 'outputs'>): number {
  const widths = [spec.inputs, ...spec.hidden, spec.outputs];
  let n = 0;
  for (let l = 1; l < widths.length; l++) n += widths[l - 1] * widths[l] + widths[l];
  return n;
}

/** FLOPs of one training step: forward 2·P·B, backward ~4·P·B (the usual 6·P·B). */
export function stepFlops(
  spec: Pick<MlpSpec, 'inputs' | 'hidden' | 'outputs'>,
  batch: number,
): number {
  return 6 * parameterCount(spec) * batch;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export class Mlp {
  readonly spec: MlpSpec;
  /**
   * Parameters in order W1ᵀ, b1, W2ᵀ, b2, ...: each weight stored transposed,
   * as (out x in), and each bias as (out).
   */
  params: tf.Tensor[];
  private readonly widths: number[];

  constructor(spec: MlpSpec) {
    this.spec = spec;
    this.widths = [spec.inputs, ...spec.hidden, spec.outputs];
    this.params = initialParams(this.widths, spec.activation, spec.seed);
  }

  get layers(): number {
    return this.widths.length - 1;
  }

  /**
   * One optimizer step on a batch. `x` is the batch (batch x features) and
   * `xT` its transpose (features x batch), both as the gather wrote them; `y`
   * holds class ids or targets. Returns the loss before the update (may be
   * non-finite when training diverges; the parameters are then left as they
   * were, so nothing non-finite is kept).
   */
  step(
    x: tf.Tensor2D,
    xT: tf.Tensor2D,
    y: Float32Array,
    optimizer: Optimizer,
    lr: number,
    momentum: number | null,
  ): number {
    const L = this.layers;
    const batch = x.shape[0];
    const outputs = this.spec.outputs;
    // Forward in the transposed layout (features x batch), keeping what the
    // backward pass needs: activations, and pre-activations for gelu.
    const acts: tf.Tensor2D[] = [];
    const pre: (tf.Tensor2D | null)[] = [];
    let a = xT;
    for (let l = 0; l < L; l++) {
      const { out, z } = this.layerT(l, a, l === L - 1 ? 'linear' : this.spec.activation);
      acts.push(out);
      pre.push(z);
      a = out;
    }
    const release = () => {
      for (let l = 0; l < L; l++) {
        acts[l].dispose();
        pre[l]?.dispose();
      }
    };
    const { loss, grad } = lossAndGrad(
      acts[L - 1].dataSync() as Float32Array,
      y,
      batch,
      outputs,
      this.spec.task,
    );
    if (!Number.isFinite(loss)) {
      release();
      return loss;
    }
    const grads: tf.Tensor[] = new Array(2 * L);
    let dzT = tf.tensor2d(grad, [outputs, batch]);
    for (let l = L - 1; l >= 0; l--) {
      // dWᵀ = dZᵀ · A_prev. The weight never appears as the right-hand
      // operand of a product: XNNPACK packs that operand and caches the
      // packing per tensor, and weights are new tensors after every update.
      const prev = l === 0 ? x : (tf.transpose(acts[l - 1]) as tf.Tensor2D);
      grads[2 * l] = tf.matMul(dzT, prev);
      if (l > 0) prev.dispose();
      grads[2 * l + 1] = tf.sum(dzT, 1);
      if (l > 0) {
        const W = tf.transpose(this.params[2 * l]) as tf.Tensor2D;
        const daT = tf.matMul(W, dzT) as tf.Tensor2D;
        W.dispose();
        const next = activationGrad(this.spec.activation, daT, acts[l - 1], pre[l - 1]);
        daT.dispose();
        dzT.dispose();
        dzT = next;
      }
    }
    dzT.dispose();
    release();
    this.params = optimizer.apply(this.params, grads, lr, momentum);
    for (const g of grads) g.dispose();
    return loss;
  }

  /** One layer in the transposed layout: act(Wᵀ · aᵀ + b). Returns the output and, for gelu, the pre-activation. */
  private layerT(
    l: number,
    aT: tf.Tensor2D,
    act: Activation | 'linear',
  ): { out: tf.Tensor2D; z: tf.Tensor2D | null } {
    const Wt = this.params[2 * l] as tf.Tensor2D;
    const b = this.params[2 * l + 1];
    const z = tf.tidy(
      () => tf.add(tf.matMul(Wt, aT), tf.reshape(b, [b.shape[0], 1])) as tf.Tensor2D,
    );
    switch (act) {
      case 'linear':
        return { out: z, z: null };
      case 'gelu':
        return { out: gelu(z), z };
      default: {
        const out = (
          act === 'relu' ? tf.relu(z) : act === 'tanh' ? tf.tanh(z) : tf.sigmoid(z)
        ) as tf.Tensor2D;
        z.dispose();
        return { out, z: null };
      }
    }
  }

  /** Mean loss over a dataset (no update), computed in chunks. */
  evaluate(x: Float32Array, y: Float32Array, n: number, chunk = 1024): number {
    let total = 0;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const xs = tf.tensor2d(x.subarray(start * this.spec.inputs, (start + m) * this.spec.inputs), [
        m,
        this.spec.inputs,
      ]);
      const logitsT = tf.tidy(() => this.forwardT(tf.transpose(xs) as tf.Tensor2D));
      const { loss } = lossAndGrad(
        logitsT.dataSync() as Float32Array,
        y.subarray(start, start + m),
        m,
        this.spec.outputs,
        this.spec.task,
      );
      xs.dispose();
      logitsT.dispose();
      total += loss * m;
    }
    return total / n;
  }

  /** Logits, transposed (outputs x batch), for a transposed batch (call inside `tf.tidy`). */
  forwardT(xT: tf.Tensor2D): tf.Tensor2D {
    let a = xT;
    for (let l = 0; l < this.layers; l++) {
      a = this.layerT(l, a, l === this.layers - 1 ? 'linear' : this.spec.activation).out;
    }
    return a;
  }

  dispose(): void {
    for (const p of this.params) p.dispose();
    this.params = [];
  }
}

/** GELU, exact form: 0.5·z·(1 + erf(z/√2)) (PyTorch's default). */
function gelu(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(
    () => tf.mul(tf.mul(z, 0.5), tf.add(tf.erf(tf.mul(z, SQRT1_2)), 1)) as tf.Tensor2D,
  );
}

/** dz = da ⊙ f'(·), from the activation output `a` (or the pre-activation `z` for gelu); any layout. */
function activationGrad(
  act: Activation,
  da: tf.Tensor2D,
  a: tf.Tensor2D,
  z: tf.Tensor2D | null,
): tf.Tensor2D {
  return tf.tidy(() => {
    switch (act) {
      case 'relu':
        return tf.mul(da, tf.step(a));
      case 'tanh':
        return tf.mul(da, tf.sub(1, tf.square(a)));
      case 'sigmoid':
        return tf.mul(da, tf.mul(a, tf.sub(1, a)));
      case 'gelu': {
        const zz = z as tf.Tensor2D;
        // Φ(z) + z·φ(z)
        const cdf = tf.mul(tf.add(tf.erf(tf.mul(zz, SQRT1_2)), 1), 0.5);
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(zz), -0.5)), INV_SQRT_2PI);
        return tf.mul(da, tf.add(cdf, tf.mul(zz, pdf)));
      }
    }
  });
}

/**
 * Mean loss over the batch and its gradient w.r.t. the logits, in float64.
 * Logits and gradient are transposed: (outputs x batch), sample i's output k
 * at `k * batch + i`.
 * Classification: softmax cross-entropy (log-sum-exp stabilised).
 * Regression: mean squared error over batch and outputs (PyTorch's MSELoss).
 */
export function lossAndGrad(
  logits: Float32Array,
  y: Float32Array,
  batch: number,
  outputs: number,
  task: Task,
): { loss: number; grad: Float32Array } {
  const grad = new Float32Array(batch * outputs);
  let loss = 0;
  if (task === 'classification') {
    for (let i = 0; i < batch; i++) {
      let max = -Infinity;
      for (let k = 0; k < outputs; k++)
        if (logits[k * batch + i] > max) max = logits[k * batch + i];
      let sum = 0;
      for (let k = 0; k < outputs; k++) sum += Math.exp(logits[k * batch + i] - max);
      const lse = max + Math.log(sum);
      const label = y[i];
      loss += lse - logits[label * batch + i];
      for (let k = 0; k < outputs; k++) {
        grad[k * batch + i] =
          (Math.exp(logits[k * batch + i] - lse) - (k === label ? 1 : 0)) / batch;
      }
    }
    return { loss: loss / batch, grad };
  }
  const count = batch * outputs;
  for (let i = 0; i < count; i++) {
    const d = logits[i] - y[i % batch];
    loss += d * d;
    grad[i] = (2 * d) / count;
  }
  return { loss: loss / count, grad };
}

/**
 * Initialisation: Kaiming (He) uniform for layers followed by relu/gelu,
 * Glorot (Xavier) uniform for tanh/sigmoid and for the output layer; biases 0.
 * Drawn in JS from the seeded generator, so the same seed gives the same model
 * on every backend.
 */
function initialParams(widths: number[], act: Activation, seed: number): tf.Tensor[] {
  const rng = new Rng(seed).fork(0x1a17);
  const params: tf.Tensor[] = [];
  for (let l = 1; l < widths.length; l++) {
    const fanIn = widths[l - 1];
    const fanOut = widths[l];
    const last = l === widths.length - 1;
    const bound =
      !last && (act === 'relu' || act === 'gelu')
        ? Math.sqrt(6 / fanIn)
        : Math.sqrt(6 / (fanIn + fanOut));
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * bound;
    params.push(tf.tensor2d(w, [fanOut, fanIn]), tf.zeros([fanOut]));
  }
  return params;
}

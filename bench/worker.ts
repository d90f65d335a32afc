/**
 * The bench Worker (`npm run bench` starts it; see bench/run.mjs).
 *
 * One measurement per request, so no single request runs long:
 *   GET /clock                      does performance.now()/Date.now() advance?
 *   GET /run?variant=V&backend=B    V: naive | naive-transpose | stride | matmul-only; B: wasm | cpu
 *   GET /range                      the end-to-end LR range test (runRangeTest)
 * Each answers JSON.
 *
 * The reference probe: MLP 784-256-128-10, ReLU, batch 64, softmax
 * cross-entropy, plain SGD (lr 0.01). Data: random, seeded, pre-built batches
 * (x and its transpose) cycled so that data preparation is not timed.
 * Timing: WARMUP steps, then steps until >= `seconds` have elapsed (and at
 * least MIN_STEPS), the loss read with dataSync() every step.
 */
import * as tf from '@tensorflow/tfjs-core';
// The naive variants differentiate through the tape (tf.variableGrads).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { ensureBackend } from '../src/probe/backend';
import { Mlp, parameterCount, stepFlops } from '../src/probe/mlp';
import { makeOptimizer } from '../src/probe/optimizers';
import { RANGE_DEFAULTS } from '../src/contract/limits';
import { runRangeTest, type ProbeSpec, type RangeSpec } from '../src/probe/lr-range-test';
import { loadDataset } from '../src/probe/data';
import { Rng } from '../src/tuning/rng';

const INPUTS = 784;
const HIDDEN = [256, 128];
const OUTPUTS = 10;
const BATCH = 64;
const LR = 0.01;
const WARMUP = 5;
const MIN_STEPS = 20;
const N_BATCHES = 8;
const SPEC = {
  inputs: INPUTS,
  hidden: HIDDEN,
  outputs: OUTPUTS,
  activation: 'relu' as const,
  task: 'classification' as const,
  seed: 0,
};
const WIDTHS = [INPUTS, ...HIDDEN, OUTPUTS];

type Variant = 'naive' | 'naive-transpose' | 'stride' | 'matmul-only';
type BackendChoice = 'wasm' | 'cpu';

/** Uniform [0, 1) draws from the project's seeded generator. */
function uniform(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

interface Batch {
  x: tf.Tensor2D;
  xT: tf.Tensor2D;
  y: Float32Array;
  yOneHot: tf.Tensor2D;
}

function makeBatches(seed: number): Batch[] {
  const rand = uniform(seed);
  const out: Batch[] = [];
  for (let k = 0; k < N_BATCHES; k++) {
    const x = new Float32Array(BATCH * INPUTS);
    for (let i = 0; i < x.length; i++) x[i] = 2 * rand() - 1;
    const xT = new Float32Array(x.length);
    for (let i = 0; i < BATCH; i++)
      for (let j = 0; j < INPUTS; j++) xT[j * BATCH + i] = x[i * INPUTS + j];
    const y = new Float32Array(BATCH);
    const oh = new Float32Array(BATCH * OUTPUTS);
    for (let i = 0; i < BATCH; i++) {
      y[i] = Math.floor(rand() * OUTPUTS);
      oh[i * OUTPUTS + y[i]] = 1;
    }
    out.push({
      x: tf.tensor2d(x, [BATCH, INPUTS]),
      xT: tf.tensor2d(xT, [INPUTS, BATCH]),
      y,
      yOneHot: tf.tensor2d(oh, [BATCH, OUTPUTS]),
    });
  }
  return out;
}

function disposeBatches(batches: Batch[]): void {
  for (const b of batches) {
    b.x.dispose();
    b.xT.dispose();
    b.yOneHot.dispose();
  }
}

/** A training step: trains on batch i, returns the loss (read from the backend). */
interface Stepper {
  step(b: Batch): number;
  dispose(): void;
}

/**
 * The step everybody writes: variables, relu(matMul(x, W) + b), the
 * library's softmax cross-entropy, gradients from the tape, tf.train.sgd.
 * With `explicitTranspose`, the dense matMul is a customGrad whose gradient
 * uses explicit tf.transpose and plain matMuls instead of TF.js's default
 * (matMul with transposeA/transposeB).
 */
function naiveStepper(explicitTranspose: boolean): Stepper {
  const rand = uniform(1234);
  const vars: tf.Variable[] = [];
  for (let l = 1; l < WIDTHS.length; l++) {
    const fanIn = WIDTHS[l - 1];
    const fanOut = WIDTHS[l];
    const bound = Math.sqrt(6 / fanIn);
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rand() - 1) * bound;
    vars.push(tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true, `W${l}`));
    vars.push(tf.variable(tf.zeros([fanOut]), true, `b${l}`));
  }
  // customGrad passes the inputs then `save` as rest arguments.
  const dense = tf.customGrad(((x: tf.Tensor, W: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, W]);
    return {
      value: tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sW] = saved as tf.Tensor2D[];
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(sW)), tf.matMul(tf.transpose(sx), g)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (
    x: tf.Tensor2D,
    W: tf.Tensor2D,
  ) => tf.Tensor2D;
  const matMul = explicitTranspose ? dense : (x: tf.Tensor2D, W: tf.Tensor2D) => tf.matMul(x, W);
  const opt = tf.train.sgd(LR);
  const L = WIDTHS.length - 1;
  return {
    step(b) {
      const loss = opt.minimize(() => {
        let a: tf.Tensor2D = b.x;
        for (let l = 0; l < L; l++) {
          const z = tf.add(matMul(a, vars[2 * l] as tf.Tensor2D), vars[2 * l + 1]) as tf.Tensor2D;
          a = l < L - 1 ? tf.relu(z) : z;
        }
        return tf.losses.softmaxCrossEntropy(b.yOneHot, a) as tf.Scalar;
      }, true) as tf.Scalar;
      const v = loss.dataSync()[0];
      loss.dispose();
      return v;
    },
    dispose() {
      opt.dispose();
      for (const v of vars) v.dispose();
    },
  };
}

/** The project's hand-written step (src/probe/mlp.ts) with its sgd. */
function strideStepper(): Stepper {
  const model = new Mlp(SPEC);
  const opt = makeOptimizer({ name: 'sgd' });
  return {
    step(b) {
      return model.step(b.x, b.xT, b.y, opt, LR, null);
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}

/**
 * Not a training step: only the eight plain matMuls one step of the reference
 * probe needs (3 forward; per layer dW = aᵀ·dz, and dx = dz·Wᵀ for layers 2
 * and 3), on tensors of the right shapes. The ceiling for any step built on
 * the backend's matMul.
 */
function matmulOnlyStepper(): Stepper {
  const rand = uniform(99);
  const t = (r: number, c: number) => {
    const v = new Float32Array(r * c);
    for (let i = 0; i < v.length; i++) v[i] = 2 * rand() - 1;
    return tf.tensor2d(v, [r, c]);
  };
  const W = [t(784, 256), t(256, 128), t(128, 10)];
  const WT = [t(256, 784), t(128, 256), t(10, 128)];
  const a1 = t(BATCH, 256);
  const a1T = t(256, BATCH);
  const a2 = t(BATCH, 128);
  const a2T = t(128, BATCH);
  const dz = [t(BATCH, 256), t(BATCH, 128), t(BATCH, 10)];
  const owned = [...W, ...WT, a1, a1T, a2, a2T, ...dz];
  return {
    step(b) {
      const outs = [
        tf.matMul(b.x, W[0]),
        tf.matMul(a1, W[1]),
        tf.matMul(a2, W[2]),
        tf.matMul(b.xT, dz[0]),
        tf.matMul(a1T, dz[1]),
        tf.matMul(a2T, dz[2]),
        tf.matMul(dz[2], WT[2]),
        tf.matMul(dz[1], WT[1]),
      ];
      const v = outs[2].dataSync()[0];
      for (const o of outs) o.dispose();
      return v;
    },
    dispose() {
      for (const o of owned) o.dispose();
    },
  };
}

async function useBackend(choice: BackendChoice): Promise<string> {
  const initial = await ensureBackend();
  if (choice === 'cpu') {
    await tf.setBackend('cpu');
    return 'cpu';
  }
  if (initial === 'cpu') return 'cpu';
  await tf.setBackend('wasm');
  return initial;
}

async function runVariant(variant: Variant, choice: BackendChoice, seconds: number) {
  const backend = await useBackend(choice);
  const tensorsBefore = tf.memory().numTensors;
  const batches = makeBatches(42);
  const stepper =
    variant === 'stride'
      ? strideStepper()
      : variant === 'matmul-only'
        ? matmulOnlyStepper()
        : naiveStepper(variant === 'naive-transpose');
  const losses: number[] = [];
  const stepMs: number[] = [];
  let steps = 0;
  let elapsedMs = 0;
  let tensorsDuring = 0;
  let result;
  try {
    for (let i = 0; i < WARMUP; i++) stepper.step(batches[i % N_BATCHES]);
    const t0 = performance.now();
    const d0 = Date.now();
    let prev = t0;
    for (;;) {
      losses.push(stepper.step(batches[steps % N_BATCHES]));
      steps++;
      const now = performance.now();
      stepMs.push(now - prev);
      prev = now;
      elapsedMs = now - t0;
      if (elapsedMs >= seconds * 1000 && steps >= MIN_STEPS) break;
    }
    const dateElapsedMs = Date.now() - d0;
    tensorsDuring = tf.memory().numTensors;
    const flops = stepFlops(SPEC, BATCH);
    const sorted = [...stepMs].sort((a, b) => a - b);
    result = {
      variant,
      backend,
      tf_backend: tf.getBackend(),
      parameters: parameterCount(SPEC),
      batch: BATCH,
      steps,
      seconds: elapsedMs / 1000,
      date_seconds: dateElapsedMs / 1000,
      steps_per_s: steps / (elapsedMs / 1000),
      gflops: (steps * flops) / (elapsedMs / 1e3) / 1e9,
      step_ms_median: sorted[Math.floor(sorted.length / 2)],
      step_ms_min: sorted[0],
      first_loss: losses[0],
      last_loss: losses[losses.length - 1],
      /** Tensors alive after the timed loop beyond the model, optimizer and batches: should be small and constant. */
      tensors_alive: tensorsDuring - tensorsBefore,
    };
  } finally {
    stepper.dispose();
    disposeBatches(batches);
  }
  return { ...result, tensors_leaked: tf.memory().numTensors - tensorsBefore };
}

/**
 * Where the time of a step goes: `steps` steps under tf.profile, kernel time
 * summed by kernel name (1 ms timer resolution in workerd, so per-kernel
 * times are sampled; totals over many steps are what to read), and the rest
 * of the wall time (JS, allocation, data transfer) as "outside kernels".
 */
async function runProfile(variant: Variant, choice: BackendChoice, steps: number) {
  const backend = await useBackend(choice);
  const batches = makeBatches(42);
  const stepper =
    variant === 'stride'
      ? strideStepper()
      : variant === 'matmul-only'
        ? matmulOnlyStepper()
        : naiveStepper(variant === 'naive-transpose');
  try {
    for (let i = 0; i < WARMUP; i++) stepper.step(batches[i % N_BATCHES]);
    const t0 = performance.now();
    const info = await tf.profile(() => {
      for (let i = 0; i < steps; i++) stepper.step(batches[i % N_BATCHES]);
    });
    const wallMs = performance.now() - t0;
    const byKernel = new Map<string, { calls: number; ms: number }>();
    const tfBackend = tf.getBackend();
    for (const k of info.kernels) {
      // tf.profile also lists op wrappers (fusedMatMul__op, customGrad's
      // "forward") around the kernels they run; count registered kernels only.
      if (!tf.getKernel(k.name, tfBackend)) continue;
      const e = byKernel.get(k.name) ?? { calls: 0, ms: 0 };
      e.calls++;
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      byKernel.set(k.name, e);
    }
    const kernels = [...byKernel.entries()]
      .map(([name, e]) => ({ name, calls_per_step: e.calls / steps, ms_per_step: e.ms / steps }))
      .sort((a, b) => b.ms_per_step - a.ms_per_step);
    const kernelMs = kernels.reduce((s, k) => s + k.ms_per_step, 0);
    return {
      variant,
      backend,
      steps,
      wall_ms_per_step: wallMs / steps,
      kernel_ms_per_step: kernelMs,
      outside_kernels_ms_per_step: wallMs / steps - kernelMs,
      kernels,
    };
  } finally {
    stepper.dispose();
    disposeBatches(batches);
  }
}

async function runRange() {
  const backend = await useBackend('wasm');
  const probe: ProbeSpec = {
    model: { kind: 'mlp', hidden: [256, 128], activation: 'relu' },
    task: 'classification',
    data: {
      kind: 'synthetic',
      name: 'blobs',
      n: 4096,
      features: 784,
      classes: 10,
      noise: 1,
      seed: 0,
    },
    optimizer: { name: 'sgd' },
    batch_size: 64,
    seed: 0,
  } as ProbeSpec;
  const range: RangeSpec = { ...RANGE_DEFAULTS };
  // For the breakdown only: how long generating the dataset takes on its own
  // (the timed run below generates it again, as a request would).
  const d0 = performance.now();
  loadDataset(probe.data, probe.task);
  const dataMs = performance.now() - d0;
  const tensorsBefore = tf.memory().numTensors;
  const t0 = performance.now();
  const result = runRangeTest(probe, range);
  const ms = performance.now() - t0;
  const flops = stepFlops(SPEC, BATCH);
  return {
    variant: 'range-test',
    backend,
    steps: result.steps_run,
    stopped_early: result.stopped_early,
    seconds: ms / 1000,
    data_seconds: dataMs / 1000,
    steps_per_s: result.steps_run / (ms / 1000),
    train_steps_per_s: result.steps_run / ((ms - dataMs) / 1000),
    gflops: (result.steps_run * flops) / (ms / 1e3) / 1e9,
    suggestion: result.suggestion,
    tensors_leaked: tf.memory().numTensors - tensorsBefore,
    range,
  };
}

/** Busy work of a fixed size; reports how far the clocks moved meanwhile. */
function clockCheck() {
  const p0 = performance.now();
  const d0 = Date.now();
  let acc = 0;
  for (let i = 0; i < 30_000_000; i++) acc = (acc + Math.sqrt(i)) % 1e9;
  return { performance_ms: performance.now() - p0, date_ms: Date.now() - d0, acc };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      switch (url.pathname) {
        case '/clock':
          return json(clockCheck());
        case '/run': {
          const variant = (url.searchParams.get('variant') ?? 'stride') as Variant;
          const backend = (url.searchParams.get('backend') ?? 'wasm') as BackendChoice;
          const seconds = Number(url.searchParams.get('seconds') ?? '2');
          if (!['naive', 'naive-transpose', 'stride', 'matmul-only'].includes(variant))
            return json({ error: `unknown variant ${variant}` }, 400);
          if (!['wasm', 'cpu'].includes(backend))
            return json({ error: `unknown backend ${backend}` }, 400);
          return json(await runVariant(variant, backend, seconds));
        }
        case '/profile': {
          const variant = (url.searchParams.get('variant') ?? 'stride') as Variant;
          const backend = (url.searchParams.get('backend') ?? 'wasm') as BackendChoice;
          return json(
            await runProfile(variant, backend, Number(url.searchParams.get('steps') ?? '100')),
          );
        }
        case '/range':
          return json(await runRange());
        default:
          return json({ error: 'not found' }, 404);
      }
    } catch (e) {
      const err = e as Error;
      return json({ error: String(err?.message ?? e), stack: err?.stack }, 500);
    }
  },
};

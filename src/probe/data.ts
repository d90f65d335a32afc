/**
 * Probe datasets: synthetic generators, inline arrays and CSV text, turned
 * into standardised Float32Arrays, plus the seeded mini-batch sampler.
 *
 * Pure TypeScript (no TF.js): everything here is deterministic given the
 * request, so the same probe sees the same data and batch order everywhere.
 *
 * Invalid input raises ProbeInputError (422) with a path from the request
 * root (`probe.data.x.3.1`, `probe.data.text`, ...); data over the size
 * limits raises it with status 413.
 */
import {
  dataCells,
  declaredCells,
  MAX_CLASSES,
  MAX_DATA_CELLS,
  MAX_FEATURES,
  MAX_NOISE,
  MAX_ROWS,
  MIN_CLASSES,
  MIN_ROWS,
  SYNTHETIC_DEFAULTS,
} from '../contract/limits';
import { SYNTHETIC_DATASETS, TASKS, type Task } from '../contract/names';
import type { z } from 'zod';
import type { DataSchema } from '../contract/schemas';
import { ProbeInputError } from './errors';
import { Rng } from '../tuning/rng';
import { describeValue } from '../lib/values';

export type { Task };

/**
 * A probe's data as the request sends it (the Data schema's input: defaults not yet applied, which
 * loadDataset applies), with `validation`: held-out rows whose features follow the data's column
 * order (CSV: the columns other than the target) and whose `y` is a class id (CSV: a label of the
 * target column) or a target.
 */
export type DataSpec = z.input<typeof DataSchema>;
export type ValidationSpec = NonNullable<DataSpec['validation']>;

export interface Dataset {
  /** Row-major, n * features, standardised per feature (zero mean, unit variance; constant columns are 0). */
  x: Float32Array;
  /** Class ids as floats (classification) or standardised targets (regression). */
  y: Float32Array;
  n: number;
  features: number;
  /** Number of classes (classification) or 1 (regression). */
  outputs: number;
  task: Task;
  /** CSV classification only: the label of each class id, in id order. */
  labels?: string[];
  /**
   * The rows of `probe.data.validation`, standardised with this data's
   * statistics (features and regression targets): the held-out set edge
   * trials validate on instead of a split of these rows.
   */
  validation?: Dataset;
}

/** Most multiply-adds a synthetic generator may spend (linear/teacher classification with many classes). Larger → 413. */
const MAX_GENERATION_OPS = 2 ** 28;

const TEACHER_HIDDEN = 32;
/** Distinct labels an RNG stream is forked with, so the parts of a dataset are independent. */
const STREAM = { inputs: 1, params: 2, noise: 3, extra: 4, batches: 0xba7c4 } as const;

const CLASSIFICATION_ONLY = new Set(['blobs', 'moons', 'spirals']);

function fail(path: string, message: string, kind: 'invalid' | 'over_budget' = 'invalid'): never {
  throw new ProbeInputError({ path, message }, kind);
}

// ---------------------------------------------------------------------------
// Entry point

export function loadDataset(spec: DataSpec, task: Task): Dataset {
  if (!(TASKS as readonly string[]).includes(task)) {
    fail(
      'probe.task',
      `unknown task '${String(task)}' (expected ${TASKS.map((t) => `'${t}'`).join(' or ')})`,
    );
  }
  if (spec === null || typeof spec !== 'object') fail('probe.data', 'data must be an object');
  const fit: Fit = { x: null, y: null };
  const ds = loadRows(spec, task, fit);
  if (spec.validation !== undefined) ds.validation = validationSet(spec.validation, ds, fit);
  return ds;
}

function loadRows(spec: DataSpec, task: Task, fit: Fit): Dataset {
  switch (spec.kind) {
    case 'synthetic':
      return synthetic(spec, task, fit);
    case 'inline':
      return inline(spec, task, fit);
    case 'csv':
      return csv(spec, task, fit);
    default:
      return fail(
        'probe.data.kind',
        `unknown data kind '${String((spec as { kind?: unknown }).kind)}' (expected synthetic, inline or csv)`,
      );
  }
}

/**
 * Load a probe's dataset within the configured cap on its cells (Limits.maxCells,
 * counted by contract/limits.ts's dataCells): checked on what the spec declares
 * before generating or parsing it, and on the loaded dataset. POST
 * /v1/lr-range-tests and edge trials both load their data here, so a probe's
 * dataset is accepted by both or by neither. Over the cap: ProbeInputError
 * `over_budget` at `probe.data`.
 */
export function loadWithinLimits(spec: DataSpec, task: Task, maxCells: number): Dataset {
  const declared = declaredCells(spec);
  if (declared > maxCells) {
    fail(
      'probe.data',
      `the dataset has ${declared} cells, over the edge limit of ${maxCells}: send fewer rows or features`,
      'over_budget',
    );
  }
  const ds = loadDataset(spec, task);
  const cells = dataCells(ds.n + (ds.validation?.n ?? 0), ds.features);
  if (cells > maxCells) {
    fail(
      'probe.data',
      `the dataset has ${cells} cells${ds.validation ? ' (with its validation rows)' : ''}, over the edge limit of ${maxCells}: send fewer rows or columns`,
      'over_budget',
    );
  }
  return ds;
}

// ---------------------------------------------------------------------------
// Standardisation and the final checks

/** Per-column standardisation: v -> (v * scale - mean) * inv (0 where inv is 0). */
interface Scaling {
  scale: Float64Array;
  mean: Float64Array;
  inv: Float64Array;
}

/** The scalings a loader fitted on the data, applied to its validation rows (y: regression only). */
interface Fit {
  x: Scaling | null;
  y: Scaling | null;
}

/**
 * Standardise each column of a row-major n x f matrix into `out` (which may
 * be `src` itself). Statistics are computed in float64 on the column divided
 * by its largest magnitude, so huge values cannot overflow; a constant column
 * (max == min) becomes 0. Returns the scaling, for rows held out from it.
 */
function standardise(
  src: Float64Array | Float32Array,
  n: number,
  f: number,
  out: Float32Array,
): Scaling {
  const min = new Float64Array(f).fill(Infinity);
  const max = new Float64Array(f).fill(-Infinity);
  for (let i = 0, o = 0; i < n; i++, o += f) {
    for (let j = 0; j < f; j++) {
      const v = src[o + j];
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  const scale = new Float64Array(f);
  for (let j = 0; j < f; j++)
    scale[j] = max[j] === min[j] ? 0 : 1 / Math.max(Math.abs(min[j]), Math.abs(max[j]));
  const mean = new Float64Array(f);
  for (let i = 0, o = 0; i < n; i++, o += f)
    for (let j = 0; j < f; j++) mean[j] += src[o + j] * scale[j];
  for (let j = 0; j < f; j++) mean[j] /= n;
  const sq = new Float64Array(f);
  for (let i = 0, o = 0; i < n; i++, o += f) {
    for (let j = 0; j < f; j++) {
      const d = src[o + j] * scale[j] - mean[j];
      sq[j] += d * d;
    }
  }
  const inv = new Float64Array(f);
  for (let j = 0; j < f; j++) inv[j] = scale[j] === 0 || sq[j] === 0 ? 0 : 1 / Math.sqrt(sq[j] / n);
  const scaling = { scale, mean, inv };
  applyScaling(scaling, src, n, f, out);
  return scaling;
}

function applyScaling(
  s: Scaling,
  src: Float64Array | Float32Array,
  n: number,
  f: number,
  out: Float32Array,
): void {
  for (let i = 0, o = 0; i < n; i++, o += f) {
    for (let j = 0; j < f; j++)
      out[o + j] = s.inv[j] === 0 ? 0 : (src[o + j] * s.scale[j] - s.mean[j]) * s.inv[j];
  }
}

function checkSize(n: number, features: number, path: string, what = 'rows'): void {
  if (n > MAX_ROWS) fail(path, `${n} ${what} is over the limit of ${MAX_ROWS}`, 'over_budget');
  if (features > MAX_FEATURES)
    fail(path, `${features} features is over the limit of ${MAX_FEATURES}`, 'over_budget');
  if (dataCells(n, features) > MAX_DATA_CELLS) {
    fail(
      path,
      `${n} ${what} x (${features} features + 1) = ${dataCells(n, features)} cells is over the limit of ${MAX_DATA_CELLS}`,
      'over_budget',
    );
  }
}

/** Never hand non-finite values to the trainer. */
function finish(ds: Dataset, path = 'probe.data'): Dataset {
  for (const [name, arr] of [
    ['x', ds.x],
    ['y', ds.y],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i])) {
        fail(
          path,
          `the data produced a non-finite value in ${name} (row ${Math.floor(i / (name === 'x' ? ds.features : 1))}); are some values too large?`,
        );
      }
    }
  }
  return ds;
}

function regressionTargets(raw: Float64Array | Float32Array, fit: Fit): Float32Array {
  const y = new Float32Array(raw.length);
  fit.y = standardise(raw, raw.length, 1, y);
  return y;
}

// ---------------------------------------------------------------------------
// Synthetic data

type Synthetic = Extract<DataSpec, { kind: 'synthetic' }>;

function intParam(
  value: number | undefined,
  dflt: number,
  lo: number,
  hi: number,
  path: string,
  name: string,
): number {
  const v = value ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v))
    fail(path, `${name} must be an integer, got ${String(v)}`);
  if (v < lo || v > hi) fail(path, `${name} must be between ${lo} and ${hi}, got ${v}`);
  return v;
}

function synthetic(spec: Synthetic, task: Task, fit: Fit): Dataset {
  const name = spec.name;
  if (!(SYNTHETIC_DATASETS as readonly string[]).includes(name)) {
    fail(
      'probe.data.name',
      `unknown synthetic dataset '${String(name)}' (expected ${SYNTHETIC_DATASETS.slice(0, -1).join(', ')} or ${SYNTHETIC_DATASETS[SYNTHETIC_DATASETS.length - 1]})`,
    );
  }
  if (task === 'regression' && CLASSIFICATION_ONLY.has(name)) {
    fail(
      'probe.data.name',
      `'${name}' is a classification dataset and supports only task 'classification'; for regression use 'linear' or 'teacher'`,
    );
  }
  const n = intParam(spec.n, SYNTHETIC_DEFAULTS.n, MIN_ROWS, MAX_ROWS, 'probe.data.n', 'n');
  const f = intParam(
    spec.features,
    SYNTHETIC_DEFAULTS.features,
    1,
    MAX_FEATURES,
    'probe.data.features',
    'features',
  );
  let classes = 1;
  if (task === 'classification') {
    if (name === 'moons') {
      // Two half-moons: the only valid class count is 2 (an absent `classes` means 2).
      classes = spec.classes ?? 2;
      if (classes !== 2)
        fail(
          'probe.data.classes',
          `'moons' has exactly 2 classes, got classes = ${String(classes)}`,
        );
    } else {
      classes = intParam(
        spec.classes,
        SYNTHETIC_DEFAULTS.classes,
        MIN_CLASSES,
        MAX_CLASSES,
        'probe.data.classes',
        'classes',
      );
    }
    if (classes > n)
      fail('probe.data.classes', `classes (${classes}) cannot be more than n (${n})`);
  }
  const noise = spec.noise ?? SYNTHETIC_DEFAULTS.noise;
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0 || noise > MAX_NOISE) {
    fail(
      'probe.data.noise',
      `noise must be a number between 0 and ${MAX_NOISE}, got ${String(noise)}`,
    );
  }
  const seed = spec.seed ?? SYNTHETIC_DEFAULTS.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed))
    fail('probe.data.seed', `seed must be an integer, got ${String(seed)}`);
  if ((name === 'moons' || name === 'spirals') && f < 2) {
    fail(
      'probe.data.features',
      `'${name}' is two-dimensional: features must be at least 2, got ${f}`,
    );
  }
  checkSize(n, f, 'probe.data');
  const ops =
    name === 'linear'
      ? n * f * classes
      : name === 'teacher'
        ? n * TEACHER_HIDDEN * (f + classes)
        : n * f;
  if (ops > MAX_GENERATION_OPS) {
    fail(
      'probe.data',
      `generating '${name}' with n = ${n}, features = ${f}, classes = ${classes} is too much work; make it smaller`,
      'over_budget',
    );
  }

  const rng = new Rng(seed);
  const x = new Float32Array(n * f); // raw features, standardised in place below
  const yRaw = new Float32Array(n);
  const args: GenArgs = { n, f, classes, noise, rng, x, y: yRaw, task };
  GENERATORS[name](args);
  fit.x = standardise(x, n, f, x);
  const y = task === 'regression' ? regressionTargets(yRaw, fit) : yRaw;
  return finish({ x, y, n, features: f, outputs: task === 'regression' ? 1 : classes, task });
}

interface GenArgs {
  n: number;
  f: number;
  classes: number;
  noise: number;
  rng: Rng;
  x: Float32Array;
  y: Float32Array;
  task: Task;
}

/** Fill columns 2..f-1 with independent standard normal noise (moons, spirals). */
function noiseColumns(a: GenArgs): void {
  if (a.f <= 2) return;
  const r = a.rng.fork(STREAM.extra);
  for (let i = 0; i < a.n; i++) for (let j = 2; j < a.f; j++) a.x[i * a.f + j] = r.normal();
}

/** Balanced class assignment: row i belongs to class i mod classes (so every class is present when n >= classes). */
function balancedLabel(i: number, classes: number): number {
  return i % classes;
}

/** Standard normal inputs for linear/teacher. */
function normalInputs(a: GenArgs): void {
  const r = a.rng.fork(STREAM.inputs);
  for (let i = 0; i < a.x.length; i++) a.x[i] = r.normal();
}

/** Rescale a vector of scores to unit standard deviation (zero-variance vectors are left alone). */
function unitStd(v: Float64Array): void {
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i];
  mean /= v.length;
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += (v[i] - mean) ** 2;
  const sd = Math.sqrt(sq / v.length);
  if (sd > 0) for (let i = 0; i < v.length; i++) v[i] /= sd;
}

/** y for classification from n x k scores: argmax of (scores + noise). */
function argmaxLabels(a: GenArgs, scores: Float64Array, k: number): void {
  const r = a.rng.fork(STREAM.noise);
  for (let i = 0; i < a.n; i++) {
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = scores[i * k + c] + a.noise * r.normal();
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    a.y[i] = best;
  }
}

const GENERATORS: Record<Synthetic['name'], (a: GenArgs) => void> = {
  /**
   * Gaussian clusters: centres uniform in [-1, 1]^features, each cluster
   * isotropic with std 2.5 * noise (the default 0.1 gives clusters that
   * overlap a little in 2-D); classes balanced.
   */
  blobs(a) {
    const { n, f, classes, x, y } = a;
    const pr = a.rng.fork(STREAM.params);
    const centres = new Float64Array(classes * f);
    for (let i = 0; i < centres.length; i++) centres[i] = 2 * pr.next() - 1;
    const sd = 2.5 * a.noise;
    const r = a.rng.fork(STREAM.inputs);
    for (let i = 0; i < n; i++) {
      const c = balancedLabel(i, classes);
      y[i] = c;
      for (let j = 0; j < f; j++) x[i * f + j] = centres[c * f + j] + sd * r.normal();
    }
  },

  /**
   * sklearn's make_moons: the upper half circle (cos t, sin t) is class 0,
   * the lower one (1 - cos t, 1/2 - sin t) class 1, t evenly spaced over
   * [0, pi], Gaussian noise of std `noise` on both coordinates; extra
   * features are pure noise.
   */
  moons(a) {
    const { n, f, x, y } = a;
    const nOut = Math.floor(n / 2);
    const nIn = n - nOut;
    const r = a.rng.fork(STREAM.inputs);
    for (let i = 0; i < n; i++) {
      const outer = i < nOut;
      const k = outer ? i : i - nOut;
      const m = outer ? nOut : nIn;
      const t = m > 1 ? (Math.PI * k) / (m - 1) : 0;
      const px = outer ? Math.cos(t) : 1 - Math.cos(t);
      const py = outer ? Math.sin(t) : 0.5 - Math.sin(t);
      x[i * f] = px + a.noise * r.normal();
      x[i * f + 1] = py + a.noise * r.normal();
      y[i] = outer ? 0 : 1;
    }
    noiseColumns(a);
  },

  /**
   * The CS231n spiral: arm c has radius r running over [0, 1] and angle
   * 2*pi*c/classes + 4r (+ Gaussian jitter of std 2 * noise radians, so the
   * default matches the classic 0.2), point (r sin t, r cos t); arms start
   * evenly spaced so they never coincide; extra features are pure noise.
   */
  spirals(a) {
    const { n, f, classes, x, y } = a;
    const r = a.rng.fork(STREAM.inputs);
    // Rows are arm-major: arm c holds rows [start_c, start_c + count_c).
    let row = 0;
    for (let c = 0; c < classes; c++) {
      const count = Math.floor(n / classes) + (c < n % classes ? 1 : 0);
      for (let k = 0; k < count; k++, row++) {
        const rad = count > 1 ? k / (count - 1) : 0;
        const t = (2 * Math.PI * c) / classes + 4 * rad + 2 * a.noise * r.normal();
        x[row * f] = rad * Math.sin(t);
        x[row * f + 1] = rad * Math.cos(t);
        y[row] = c;
      }
    }
    noiseColumns(a);
  },

  /**
   * x ~ N(0, I). Regression: y = x.w + b + noise * N(0, 1), w ~ N(0, 1/features),
   * b ~ N(0, 1) (x.w has variance about 1, so noise is a noise-to-signal
   * ratio). Classification: class = argmax(x W + b + noise * N(0, 1)) with unit-norm
   * columns of W and b ~ N(0, 0.1^2).
   */
  linear(a) {
    const { n, f, x, y } = a;
    normalInputs(a);
    const pr = a.rng.fork(STREAM.params);
    if (a.task === 'regression') {
      const w = new Float64Array(f);
      for (let j = 0; j < f; j++) w[j] = pr.normal() / Math.sqrt(f);
      const b = pr.normal();
      const nr = a.rng.fork(STREAM.noise);
      for (let i = 0; i < n; i++) {
        let s = b;
        for (let j = 0; j < f; j++) s += x[i * f + j] * w[j];
        y[i] = s + a.noise * nr.normal();
      }
      return;
    }
    const k = a.classes;
    const w = new Float64Array(f * k); // column c = W[:, c], stored at w[c * f + j]
    for (let c = 0; c < k; c++) {
      let norm = 0;
      for (let j = 0; j < f; j++) {
        const v = pr.normal();
        w[c * f + j] = v;
        norm += v * v;
      }
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < f; j++) w[c * f + j] /= norm;
    }
    const b = new Float64Array(k);
    for (let c = 0; c < k; c++) b[c] = 0.1 * pr.normal();
    const scores = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        let s = b[c];
        for (let j = 0; j < f; j++) s += x[i * f + j] * w[c * f + j];
        scores[i * k + c] = s;
      }
    }
    argmaxLabels(a, scores, k);
  },

  /**
   * A random teacher network: x ~ N(0, I), h = tanh(x W1 + b1) with 32 units,
   * W1 ~ N(0, 1.5^2 / features), b1 ~ N(0, 0.5^2), out = h W2 with
   * W2 ~ N(0, 1/32). Each output is centred over the sample and the outputs
   * are scaled to unit standard deviation; then noise * N(0, 1) is added.
   * Regression: one output. Classification: argmax over `classes` outputs.
   */
  teacher(a) {
    const { n, f, x, y } = a;
    const hdim = TEACHER_HIDDEN;
    const k = a.task === 'regression' ? 1 : a.classes;
    normalInputs(a);
    const pr = a.rng.fork(STREAM.params);
    const w1 = new Float64Array(hdim * f); // row u: the input weights of hidden unit u
    for (let i = 0; i < w1.length; i++) w1[i] = (1.5 * pr.normal()) / Math.sqrt(f);
    const b1 = new Float64Array(hdim);
    for (let u = 0; u < hdim; u++) b1[u] = 0.5 * pr.normal();
    const w2 = new Float64Array(k * hdim); // row c: the hidden weights of output c
    for (let i = 0; i < w2.length; i++) w2[i] = pr.normal() / Math.sqrt(hdim);

    const out = new Float64Array(n * k);
    const h = new Float64Array(hdim);
    for (let i = 0; i < n; i++) {
      const xo = i * f;
      for (let u = 0; u < hdim; u++) {
        const wo = u * f;
        let s = b1[u];
        for (let j = 0; j < f; j++) s += x[xo + j] * w1[wo + j];
        h[u] = Math.tanh(s);
      }
      for (let c = 0; c < k; c++) {
        const wo = c * hdim;
        let s = 0;
        for (let u = 0; u < hdim; u++) s += h[u] * w2[wo + u];
        out[i * k + c] = s;
      }
    }
    // Centre each output (an output bias that balances the classes), then unit scale overall.
    for (let c = 0; c < k; c++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += out[i * k + c];
      m /= n;
      for (let i = 0; i < n; i++) out[i * k + c] -= m;
    }
    unitStd(out);
    if (a.task === 'regression') {
      const nr = a.rng.fork(STREAM.noise);
      for (let i = 0; i < n; i++) y[i] = out[i] + a.noise * nr.normal();
      return;
    }
    argmaxLabels(a, out, k);
  },
};

// ---------------------------------------------------------------------------
// Inline arrays

type Inline = Extract<DataSpec, { kind: 'inline' }>;

function inline(spec: Inline, task: Task, fit: Fit): Dataset {
  const rows = spec.x;
  if (!Array.isArray(rows)) fail('probe.data.x', 'x must be an array of rows');
  if (rows.length === 0) fail('probe.data.x', 'x is empty: it needs at least 2 rows');
  if (rows.length < 2) fail('probe.data.x', `x has ${rows.length} row; it needs at least 2`);
  const first = rows[0];
  if (!Array.isArray(first))
    fail('probe.data.x.0', `row must be an array of numbers, got ${describeValue(first)}`);
  const f = first.length;
  if (f < 1) fail('probe.data.x.0', 'row is empty: rows need at least one feature');
  const n = rows.length;
  checkSize(n, f, 'probe.data.x');
  const raw = new Float64Array(n * f);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (!Array.isArray(row))
      fail(`probe.data.x.${i}`, `row must be an array of numbers, got ${describeValue(row)}`);
    if (row.length !== f)
      fail(
        `probe.data.x.${i}`,
        `row has ${row.length} values but row 0 has ${f}; all rows must have the same length`,
      );
    for (let j = 0; j < f; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v))
        fail(`probe.data.x.${i}.${j}`, `${describeValue(v)} is not a finite number`);
      raw[i * f + j] = v;
    }
  }

  const ys = spec.y;
  if (!Array.isArray(ys)) fail('probe.data.y', 'y must be an array of numbers');
  if (ys.length !== n)
    fail('probe.data.y', `y has ${ys.length} values but x has ${n} rows; they must match`);
  const x = new Float32Array(n * f);
  fit.x = standardise(raw, n, f, x);

  if (task === 'classification') {
    const y = new Float32Array(n);
    let maxLabel = -1;
    let minLabel = Infinity;
    for (let i = 0; i < n; i++) {
      const v = ys[i];
      if (typeof v !== 'number' || !Number.isFinite(v))
        fail(`probe.data.y.${i}`, `${describeValue(v)} is not a finite number`);
      if (!Number.isInteger(v)) fail(`probe.data.y.${i}`, `class label ${v} is not an integer`);
      if (v < 0)
        fail(
          `probe.data.y.${i}`,
          `class label ${v} is negative; labels are class ids 0, 1, 2, ...`,
        );
      if (v >= MAX_CLASSES)
        fail(
          `probe.data.y.${i}`,
          `class label ${v} is out of range: at most ${MAX_CLASSES} classes (ids 0..${MAX_CLASSES - 1})`,
        );
      if (v > maxLabel) maxLabel = v;
      if (v < minLabel) minLabel = v;
      y[i] = v;
    }
    const classes = maxLabel + 1;
    if (minLabel === maxLabel) {
      fail(
        'probe.data.y',
        `all labels are ${maxLabel}: classification needs rows of at least 2 different classes`,
      );
    }
    return finish({ x, y, n, features: f, outputs: classes, task });
  }

  const yRaw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = ys[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(`probe.data.y.${i}`, `${describeValue(v)} is not a finite number`);
    yRaw[i] = v;
  }
  return finish({ x, y: regressionTargets(yRaw, fit), n, features: f, outputs: 1, task });
}

// ---------------------------------------------------------------------------
// CSV

type Csv = Extract<DataSpec, { kind: 'csv' }>;

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumber(s: string): number {
  return NUMBER_RE.test(s) ? Number(s) : NaN;
}

function cleanCell(s: string): string {
  let t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"'))
    t = t.slice(1, -1).replace(/""/g, '"').trim();
  return t;
}

function columnLabel(name: string, j: number): string {
  return name === '' ? `#${j + 1} (unnamed)` : `'${name}'`;
}

/** A CSV's header: its line (the first non-blank one, 0-based) and its column names, each named once. */
interface CsvHeader {
  line: number;
  names: string[];
  /** The target column's index. */
  target: number;
}

/** The delimiter: one or more characters, neither a quote nor a line break (default `,`). */
function csvDelimiter(spec: Csv): string {
  const delimiter = spec.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length === 0)
    fail('probe.data.delimiter', 'delimiter must be a non-empty string');
  if (delimiter === '"' || /[\r\n]/.test(delimiter))
    fail('probe.data.delimiter', `${JSON.stringify(delimiter)} cannot be a delimiter`);
  return delimiter;
}

/**
 * The header (the first non-blank line): no column named twice, the target among them, at least
 * one and at most MAX_FEATURES feature columns.
 */
function csvHeader(spec: Csv, lines: string[], delimiter: string): CsvHeader {
  // Line numbers are 1-based physical lines; blank lines (e.g. a trailing newline) are skipped.
  const line = lines.findIndex((l) => l.trim() !== '');
  if (line < 0)
    fail('probe.data.text', 'the CSV text is empty: it needs a header line and at least 2 rows');
  const names = lines[line].split(delimiter).map(cleanCell);
  const seen = new Set<string>();
  for (const h of names) {
    if (seen.has(h))
      fail('probe.data.text', `line ${line + 1}: the header names column '${h}' twice`);
    seen.add(h);
  }
  const targetName = typeof spec.target === 'string' ? spec.target.trim() : spec.target;
  const target = names.indexOf(targetName);
  if (target < 0) {
    fail(
      'probe.data.target',
      `there is no column '${String(spec.target)}'; the columns are: ${names.map((h, j) => columnLabel(h, j)).join(', ')}`,
    );
  }
  const f = names.length - 1;
  if (f < 1)
    fail(
      'probe.data.text',
      `the only column is the target '${targetName}': there must be at least one feature column`,
    );
  if (f > MAX_FEATURES)
    fail(
      'probe.data.text',
      `${f} feature columns is over the limit of ${MAX_FEATURES}`,
      'over_budget',
    );
  return { line, names, target };
}

/**
 * The data rows (the non-blank lines after the header, as indexes into `lines`): their features,
 * row-major (every cell a number, none missing), and their target cells as written.
 */
function csvRows(
  lines: string[],
  header: CsvHeader,
  delimiter: string,
): { dataLines: number[]; raw: Float64Array; targets: string[] } {
  const { names, target: t } = header;
  const f = names.length - 1;
  const dataLines: number[] = [];
  for (let i = header.line + 1; i < lines.length; i++)
    if (lines[i].trim() !== '') dataLines.push(i);
  const n = dataLines.length;
  if (n < 2)
    fail(
      'probe.data.text',
      `the CSV has ${n} data row${n === 1 ? '' : 's'} after the header; it needs at least 2`,
    );
  checkSize(n, f, 'probe.data.text');
  const raw = new Float64Array(n * f);
  const targets: string[] = new Array(n);
  const where = (lineNo: number, j: number) => `line ${lineNo}, column ${columnLabel(names[j], j)}`;
  for (let r = 0; r < n; r++) {
    const lineNo = dataLines[r] + 1;
    const cells = lines[dataLines[r]].split(delimiter);
    if (cells.length !== names.length) {
      fail(
        'probe.data.text',
        `line ${lineNo} has ${cells.length} cells but the header has ${names.length}`,
      );
    }
    let o = r * f;
    for (let j = 0; j < cells.length; j++) {
      const cell = cleanCell(cells[j]);
      if (j === t) {
        if (cell === '') fail('probe.data.text', `${where(lineNo, j)}: the target is empty`);
        targets[r] = cell;
        continue;
      }
      if (cell === '')
        fail(
          'probe.data.text',
          `${where(lineNo, j)}: the cell is empty (missing values are not supported)`,
        );
      const v = parseNumber(cell);
      if (!Number.isFinite(v))
        fail('probe.data.text', `${where(lineNo, j)}: ${describeValue(cell)} is not a number`);
      raw[o++] = v;
    }
  }
  return { dataLines, raw, targets };
}

/** Regression: every target cell a number. */
function csvRegressionTargets(
  targets: string[],
  dataLines: number[],
  header: CsvHeader,
): Float64Array {
  const t = header.target;
  const yRaw = new Float64Array(targets.length);
  for (let r = 0; r < targets.length; r++) {
    const v = parseNumber(targets[r]);
    if (!Number.isFinite(v)) {
      fail(
        'probe.data.text',
        `line ${dataLines[r] + 1}, column ${columnLabel(header.names[t], t)}: ${describeValue(targets[r])} is not a number (regression targets must be numeric)`,
      );
    }
    yRaw[r] = v;
  }
  return yRaw;
}

/**
 * Classification: distinct labels → ids in sorted order (numerically if all are integers), from
 * MIN_CLASSES to MAX_CLASSES of them; `labels` are the distinct labels, `y` each row's id.
 */
function csvClasses(targets: string[], header: CsvHeader): { y: Float32Array; labels: string[] } {
  const column = columnLabel(header.names[header.target], header.target);
  const numeric = targets.map(parseNumber);
  const allIntegers = numeric.every((v) => Number.isInteger(v));
  const keys: (string | number)[] = allIntegers ? numeric : targets;
  const distinct = [...new Set<string | number>(keys)];
  if (allIntegers) (distinct as number[]).sort((p, q) => p - q);
  else (distinct as string[]).sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
  if (distinct.length < MIN_CLASSES) {
    fail(
      'probe.data.text',
      `column ${column} has a single class (${describeValue(distinct[0])}); classification needs at least 2`,
    );
  }
  if (distinct.length > MAX_CLASSES) {
    fail(
      'probe.data.text',
      `column ${column} has ${distinct.length} distinct labels; at most ${MAX_CLASSES} classes are supported`,
    );
  }
  const id = new Map<string | number, number>();
  distinct.forEach((k, i) => id.set(k, i));
  const y = new Float32Array(targets.length);
  for (let r = 0; r < targets.length; r++) y[r] = id.get(keys[r])!;
  return { y, labels: distinct.map(String) };
}

/** A CSV text with a header line: the target column by name, every other column a numeric feature. */
function csv(spec: Csv, task: Task, fit: Fit): Dataset {
  const text = spec.text;
  if (typeof text !== 'string') fail('probe.data.text', 'text must be a string');
  const delimiter = csvDelimiter(spec);
  const lines = text.split(/\r\n|\n|\r/);
  const header = csvHeader(spec, lines, delimiter);
  const { dataLines, raw, targets } = csvRows(lines, header, delimiter);
  const n = dataLines.length;
  const f = header.names.length - 1;
  const x = new Float32Array(n * f);
  fit.x = standardise(raw, n, f, x);
  if (task === 'regression') {
    const y = regressionTargets(csvRegressionTargets(targets, dataLines, header), fit);
    return finish({ x, y, n, features: f, outputs: 1, task });
  }
  const { y, labels } = csvClasses(targets, header);
  return finish({ x, y, n, features: f, outputs: labels.length, task, labels });
}

// ---------------------------------------------------------------------------
// Validation rows

const VALIDATION = 'probe.data.validation';

/**
 * The rows of `probe.data.validation` as a Dataset like `ds`: as wide as its
 * features, labels among its classes (CSV: its target column's labels),
 * standardised with its statistics (`fit`). Its rows count with the data's
 * against the size limits.
 */
function validationSet(v: ValidationSpec, ds: Dataset, fit: Fit): Dataset {
  if (v === null || typeof v !== 'object') fail(VALIDATION, 'validation must be an object {x, y}');
  const rows = v.x;
  const f = ds.features;
  if (!Array.isArray(rows) || rows.length === 0)
    fail(`${VALIDATION}.x`, 'x must be a non-empty array of rows');
  const n = rows.length;
  checkSize(ds.n + n, f, VALIDATION, 'rows (data and validation)');
  const raw = new Float64Array(n * f);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (!Array.isArray(row))
      fail(`${VALIDATION}.x.${i}`, `row must be an array of numbers, got ${describeValue(row)}`);
    if (row.length !== f)
      fail(
        `${VALIDATION}.x.${i}`,
        `row has ${row.length} values but the data has ${f} feature${f === 1 ? '' : 's'}: validation rows must be as wide as the data's`,
      );
    for (let j = 0; j < f; j++) {
      const val = row[j];
      if (typeof val !== 'number' || !Number.isFinite(val))
        fail(`${VALIDATION}.x.${i}.${j}`, `${describeValue(val)} is not a finite number`);
      raw[i * f + j] = val;
    }
  }
  const ys = v.y;
  if (!Array.isArray(ys)) fail(`${VALIDATION}.y`, 'y must be an array, one value per row');
  if (ys.length !== n)
    fail(`${VALIDATION}.y`, `y has ${ys.length} values but x has ${n} rows; they must match`);
  const x = new Float32Array(n * f);
  applyScaling(fit.x!, raw, n, f, x);
  const y = new Float32Array(n);
  if (ds.task === 'classification') {
    for (let i = 0; i < n; i++) y[i] = validationLabel(ys[i], ds, `${VALIDATION}.y.${i}`);
  } else {
    const yRaw = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = typeof ys[i] === 'string' ? parseNumber((ys[i] as string).trim()) : ys[i];
      if (typeof t !== 'number' || !Number.isFinite(t))
        fail(`${VALIDATION}.y.${i}`, `${describeValue(ys[i])} is not a finite number`);
      yRaw[i] = t;
    }
    applyScaling(fit.y!, yRaw, n, 1, y);
  }
  const { labels: _labels, validation: _validation, ...shape } = ds;
  return finish({ ...shape, x, y, n }, VALIDATION);
}

/** A validation row's class id: one of the data's class ids, or (CSV) a label of its target column. */
function validationLabel(value: number | string, ds: Dataset, path: string): number {
  if (ds.labels) {
    // As the CSV's labels were read: integers compare as numbers ("01" is 1), other labels as text.
    const text = String(value).trim();
    const asInt = parseNumber(text);
    const numeric = ds.labels.every((l) => Number.isInteger(parseNumber(l)));
    const key = numeric && Number.isInteger(asInt) ? String(asInt) : text;
    const id = ds.labels.indexOf(key);
    if (id < 0)
      fail(
        path,
        `${describeValue(value)} is not a label of the target column (its labels: ${ds.labels.slice(0, 20).join(', ')}${ds.labels.length > 20 ? ', ...' : ''})`,
      );
    return id;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= ds.outputs)
    fail(
      path,
      `${describeValue(value)} is not a class of the data: class ids are integers 0..${ds.outputs - 1}`,
    );
  return value;
}

// ---------------------------------------------------------------------------
// Mini-batches

/**
 * Deterministic mini-batch order from a seed: each epoch is a fresh
 * Fisher-Yates shuffle of the row indices (an Rng stream forked from the
 * seed, independent of the model initialisation's), cut into batches of
 * exactly `batchSize`; the incomplete tail of an epoch is dropped.
 */
export class BatchSampler {
  private readonly perm: Int32Array;
  private readonly rng: Rng;
  private pos: number;
  /** The epoch the last batch came from, counted from 0 (-1 before the first batch). */
  epoch = -1;

  constructor(
    readonly n: number,
    readonly batchSize: number,
    seed: number,
  ) {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`BatchSampler: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > n) {
      throw new RangeError(
        `BatchSampler: batchSize must be an integer in 1..${n}, got ${batchSize}`,
      );
    }
    this.perm = new Int32Array(n);
    for (let i = 0; i < n; i++) this.perm[i] = i;
    this.rng = new Rng(seed).fork(STREAM.batches);
    this.pos = n; // forces a shuffle on the first call
  }

  /** The next batch: a new Int32Array of `batchSize` distinct row indices. */
  next(): Int32Array {
    if (this.pos + this.batchSize > this.n) {
      this.rng.shuffle(this.perm);
      this.pos = 0;
      this.epoch++;
    }
    const batch = this.perm.slice(this.pos, this.pos + this.batchSize);
    this.pos += this.batchSize;
    return batch;
  }
}

/** Copy the rows `idx` of a dataset into preallocated buffers (xOut: batch * features, yOut: batch). */
export function gatherBatch(
  ds: Dataset,
  idx: Int32Array,
  xOut: Float32Array,
  yOut: Float32Array,
): void {
  const b = idx.length;
  const f = ds.features;
  if (xOut.length < b * f)
    throw new RangeError(`gatherBatch: xOut holds ${xOut.length} values, needs ${b * f}`);
  if (yOut.length < b)
    throw new RangeError(`gatherBatch: yOut holds ${yOut.length} values, needs ${b}`);
  for (let i = 0; i < b; i++) {
    const r = idx[i];
    if (r < 0 || r >= ds.n)
      throw new RangeError(`gatherBatch: row ${r} is out of range 0..${ds.n - 1}`);
    const src = r * f;
    const dst = i * f;
    for (let j = 0; j < f; j++) xOut[dst + j] = ds.x[src + j];
    yOut[i] = ds.y[r];
  }
}

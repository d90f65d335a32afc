// Sampler quality (part of `npm run bench`; bench/run.mjs runs it with
// `npx tsx bench/samplers.ts` and reads the JSON it prints on stdout).
//
// Seven standard test functions on their standard domains, with known global
// minima, one conditional learning-rate/optimizer problem, and four surfaces
// tabulated from real PyTorch training (bench/surfaces.json). For each
// sampler and seed: a plain sequential loop of N trials (ask = sampler.sample
// on the full history, evaluate, record a complete trial), then the simple
// regret = best value found - known minimum. bench/optuna_ref.py holds the
// same problems in Python; both print `checks` (values at fixed points) so
// run.mjs can tell if the two definitions ever drift apart.
//
// Usage: npx tsx bench/samplers.ts [--trials 50] [--seeds 10] [--samplers random,qmc,tpe,gp]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSampler } from '../src/tuning/registry';
import type { FrozenTrial, Params, Space } from '../src/tuning/types';

interface Problem {
  name: string;
  /** Number of parameters (conditional ones included). */
  dim: number;
  space: Space;
  f: (p: Params) => number;
  /** Known global minimum of f on the domain. */
  min: number;
  /** A point where f attains `min` (used to check the definition). */
  argmin: Params;
}

function box(d: number, low: number, high: number): Space {
  const s: Space = {};
  for (let i = 0; i < d; i++) s[`x${i}`] = { type: 'float', low, high };
  return s;
}

const xs = (p: Params, d: number): number[] =>
  Array.from({ length: d }, (_, i) => p[`x${i}`] as number);
const pt = (v: number[]): Params => Object.fromEntries(v.map((x, i) => [`x${i}`, x]));

function branin(p: Params): number {
  const [x1, x2] = xs(p, 2);
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

function hartmann6(p: Params): number {
  const x = xs(p, 6);
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let e = 0;
    for (let j = 0; j < 6; j++) e += H_A[i][j] * (x[j] - H_P[i][j]) ** 2;
    s += H_ALPHA[i] * Math.exp(-e);
  }
  return -s;
}

function rosenbrock(d: number) {
  return (p: Params): number => {
    const x = xs(p, d);
    let s = 0;
    for (let i = 0; i < d - 1; i++) s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
    return s;
  };
}

function ackley(d: number) {
  return (p: Params): number => {
    const x = xs(p, d);
    let sq = 0;
    let cs = 0;
    for (const v of x) {
      sq += v * v;
      cs += Math.cos(2 * Math.PI * v);
    }
    return -20 * Math.exp(-0.2 * Math.sqrt(sq / d)) - Math.exp(cs / d) + 20 + Math.E;
  };
}

function levy(d: number) {
  return (p: Params): number => {
    const w = xs(p, d).map((v) => 1 + (v - 1) / 4);
    let s = Math.sin(Math.PI * w[0]) ** 2;
    for (let i = 0; i < d - 1; i++)
      s += (w[i] - 1) ** 2 * (1 + 10 * Math.sin(Math.PI * w[i] + 1) ** 2);
    s += (w[d - 1] - 1) ** 2 * (1 + Math.sin(2 * Math.PI * w[d - 1]) ** 2);
    return s;
  };
}

function styblinskiTang(d: number) {
  return (p: Params): number =>
    xs(p, d).reduce((s, v) => s + 0.5 * (v ** 4 - 16 * v ** 2 + 5 * v), 0);
}

/** The minimiser of the 1-D Styblinski-Tang term: the root of 4x^3 - 32x + 5 near -2.9 (Newton). */
function stMinimizer(): number {
  let x = -2.9;
  for (let k = 0; k < 50; k++) x -= (4 * x ** 3 - 32 * x + 5) / (12 * x ** 2 - 32);
  return x;
}

function sixHumpCamel(p: Params): number {
  const [x1, x2] = xs(p, 2);
  return (4 - 2.1 * x1 ** 2 + x1 ** 4 / 3) * x1 ** 2 + x1 * x2 + (-4 + 4 * x2 ** 2) * x2 ** 2;
}

/**
 * A synthetic "validation loss" of a training run, by optimizer:
 * - sgd: best 0.25, at lr = 0.1 (1 - momentum) and momentum 0.9 (lr and
 *   momentum trade off along a ridge: the effective step lr / (1 - m) matters);
 * - adam: best 0.20 (the global minimum), at lr = 10^-3.5 and beta2 = 1 - 10^-2.5;
 * - rmsprop: best 0.23, at lr = 1e-3;
 * plus a weight-decay bowl (best at 1e-4) for all, and a steep "divergence"
 * wall when lr exceeds an optimizer-specific limit. Smooth (C1) everywhere.
 */
function lrOptimizer(p: Params): number {
  const opt = p.optimizer as string;
  const u = Math.log10(p.lr as number);
  const w = Math.log10(p.weight_decay as number);
  const wall = (lim: number) => 3 * Math.max(0, u - lim) ** 2;
  let loss: number;
  if (opt === 'sgd') {
    const m = p.momentum as number;
    loss = 0.25 + 0.1 * (u - Math.log10(0.1 * (1 - m))) ** 2 + 0.5 * (m - 0.9) ** 2 + wall(-0.5);
  } else if (opt === 'adam') {
    const b2 = p.beta2 as number;
    loss = 0.2 + 0.1 * (u + 3.5) ** 2 + 0.04 * (Math.log10(1 - b2) + 2.5) ** 2 + wall(-2);
  } else {
    loss = 0.23 + 0.12 * (u + 3) ** 2 + wall(-2);
  }
  return loss + 0.02 * (w + 4) ** 2;
}

const stX = stMinimizer();

/**
 * Tabulated training surfaces (bench/surfaces.json, from bench/make_surfaces.py: small PyTorch MLPs
 * on bundled scikit-learn datasets, final validation loss over a grid of two hyperparameters),
 * interpolated bilinearly in the parameters' internal scale (log10 for log parameters). The minimum
 * of a bilinear interpolant is at a grid node, so the known minimum is the table's.
 */
interface SurfaceParam {
  name: string;
  low: number;
  high: number;
  log: boolean;
  n: number;
}
interface Surface {
  name: string;
  params: [SurfaceParam, SurfaceParam];
  values: number[][];
}

function surfaceProblem(sf: Surface): Problem {
  const [a, b] = sf.params;
  const pos = (q: SurfaceParam, v: number) => {
    const t = q.log
      ? (Math.log10(v) - Math.log10(q.low)) / (Math.log10(q.high) - Math.log10(q.low))
      : (v - q.low) / (q.high - q.low);
    return Math.min(q.n - 1, Math.max(0, t * (q.n - 1)));
  };
  const f = (p: Params): number => {
    const u = pos(a, p[a.name] as number);
    const v = pos(b, p[b.name] as number);
    const i = Math.min(a.n - 2, Math.floor(u));
    const j = Math.min(b.n - 2, Math.floor(v));
    const du = u - i;
    const dv = v - j;
    const t = sf.values;
    return (
      (1 - du) * ((1 - dv) * t[i][j] + dv * t[i][j + 1]) +
      du * ((1 - dv) * t[i + 1][j] + dv * t[i + 1][j + 1])
    );
  };
  let min = Infinity;
  let at: [number, number] = [0, 0];
  sf.values.forEach((row, i) =>
    row.forEach((v, j) => {
      if (v < min) {
        min = v;
        at = [i, j];
      }
    }),
  );
  const node = (q: SurfaceParam, k: number) =>
    q.log
      ? 10 ** (Math.log10(q.low) + (k * (Math.log10(q.high) - Math.log10(q.low))) / (q.n - 1))
      : q.low + (k * (q.high - q.low)) / (q.n - 1);
  const space: Space = {};
  for (const q of sf.params)
    space[q.name] = { type: 'float', low: q.low, high: q.high, ...(q.log ? { log: true } : {}) };
  return {
    name: `${sf.name} (real, 2-D)`,
    dim: 2,
    space,
    f,
    min,
    argmin: { [a.name]: node(a, at[0]), [b.name]: node(b, at[1]) },
  };
}

const SURFACES: Surface[] = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'surfaces.json'), 'utf8'),
).surfaces;

const PROBLEMS: Problem[] = [
  {
    name: 'Branin (2-D)',
    dim: 2,
    space: { x0: { type: 'float', low: -5, high: 10 }, x1: { type: 'float', low: 0, high: 15 } },
    f: branin,
    min: 5 / (4 * Math.PI),
    argmin: pt([Math.PI, 2.275]),
  },
  {
    name: 'Hartmann6 (6-D)',
    dim: 6,
    space: box(6, 0, 1),
    f: hartmann6,
    min: -3.322368011415515,
    argmin: pt([0.20168951, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054]),
  },
  {
    name: 'Rosenbrock-4D',
    dim: 4,
    space: box(4, -5, 10),
    f: rosenbrock(4),
    min: 0,
    argmin: pt([1, 1, 1, 1]),
  },
  {
    name: 'Ackley-5D',
    dim: 5,
    space: box(5, -32.768, 32.768),
    f: ackley(5),
    min: 0,
    argmin: pt([0, 0, 0, 0, 0]),
  },
  { name: 'Levy-4D', dim: 4, space: box(4, -10, 10), f: levy(4), min: 0, argmin: pt([1, 1, 1, 1]) },
  {
    name: 'Styblinski-Tang-5D',
    dim: 5,
    space: box(5, -5, 5),
    f: styblinskiTang(5),
    min: 5 * 0.5 * (stX ** 4 - 16 * stX ** 2 + 5 * stX),
    argmin: pt([stX, stX, stX, stX, stX]),
  },
  {
    name: 'Six-hump camel (2-D)',
    dim: 2,
    space: { x0: { type: 'float', low: -3, high: 3 }, x1: { type: 'float', low: -2, high: 2 } },
    f: sixHumpCamel,
    min: -1.0316284534898774,
    argmin: pt([0.08984201368301331, -0.7126564032704135]),
  },
  {
    name: 'LR/optimizer (conditional)',
    dim: 5,
    space: {
      optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      weight_decay: { type: 'float', low: 1e-6, high: 0.1, log: true },
      momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: 'sgd' } },
      beta2: { type: 'float', low: 0.9, high: 0.9999, when: { optimizer: 'adam' } },
    },
    f: lrOptimizer,
    min: 0.2,
    argmin: { optimizer: 'adam', lr: 10 ** -3.5, weight_decay: 1e-4, beta2: 1 - 10 ** -2.5 },
  },
  ...SURFACES.map(surfaceProblem),
];

/**
 * A deterministic point of a space for the cross-language check: every
 * numeric parameter at fraction u of its range (of log-range when `log`),
 * a categorical at choice floor(u * k), conditional parameters only when
 * active. optuna_ref.py has the same rule.
 */
function probePoint(space: Space, u: number): Params {
  const p: Params = {};
  for (const [name, spec] of Object.entries(space)) {
    if (spec.type === 'categorical')
      p[name] =
        spec.choices[Math.min(spec.choices.length - 1, Math.floor(u * spec.choices.length))];
  }
  for (const [name, spec] of Object.entries(space)) {
    if (spec.type === 'categorical') continue;
    if (
      spec.when &&
      !Object.entries(spec.when).every(([k, v]) => (Array.isArray(v) ? v : [v]).includes(p[k]))
    )
      continue;
    p[name] = spec.log
      ? Math.exp(Math.log(spec.low) + u * (Math.log(spec.high) - Math.log(spec.low)))
      : spec.low + u * (spec.high - spec.low);
  }
  return p;
}

const PROBE_FRACTIONS = [0.1, 0.37, 0.5, 0.83];

// ---------------------------------------------------------------------------
// The runs.

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** Quantile with linear interpolation between order statistics (numpy's default). */
function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

interface Cell {
  regrets: number[];
  median: number;
  q25: number;
  q75: number;
  /** Mean and median wall time of one sample() call, in ms, over all trials and seeds. */
  ms_per_sample_mean: number;
  ms_per_sample_median: number;
  /** Mean time of one sample() call once the history has 40+ trials (the model-based phase). */
  ms_per_sample_late: number;
}

/** A sampler spec: `name` or `name:option=value;option=value` (values parsed as JSON), e.g. `tpe:multivariate=true`. */
function samplerFromSpec(spec: string, seed: number) {
  const [name, opts = ''] = spec.split(':');
  const options: Record<string, unknown> = { seed };
  for (const kv of opts.split(';').filter(Boolean)) {
    const [k, v] = kv.split('=');
    options[k] = JSON.parse(v);
  }
  return makeSampler({ ...options, name });
}

function runOne(
  problem: Problem,
  samplerSpec: string,
  seed: number,
  nTrials: number,
  times: number[],
  late: number[],
): number {
  const sampler = samplerFromSpec(samplerSpec, seed);
  const trials: FrozenTrial[] = [];
  let best = Infinity;
  for (let i = 0; i < nTrials; i++) {
    const t0 = performance.now();
    const params = sampler.sample({
      space: problem.space,
      trials,
      direction: 'minimize',
      seed,
      trialNumber: i,
    });
    const dt = performance.now() - t0;
    times.push(dt);
    if (i >= 40) late.push(dt);
    const value = problem.f(params);
    if (!Number.isFinite(value))
      throw new Error(`${problem.name}: f(${JSON.stringify(params)}) = ${value}`);
    trials.push({ number: i, state: 'complete', params, value, intermediate: [] });
    if (value < best) best = value;
  }
  return best - problem.min;
}

function main(): void {
  const nTrials = Number(arg('trials', '50'));
  const nSeeds = Number(arg('seeds', '10'));
  const samplers = arg('samplers', 'random,qmc,tpe,gp').split(',');
  const only = arg('problems', '');
  const problems = only
    ? PROBLEMS.filter((p) =>
        only.split(',').some((s) => p.name.toLowerCase().startsWith(s.toLowerCase())),
      )
    : PROBLEMS;
  const seeds = Array.from({ length: nSeeds }, (_, i) => i);
  const started = performance.now();
  const results: Record<string, Record<string, Cell>> = {};
  for (const problem of problems) {
    results[problem.name] = {};
    for (const s of samplers) {
      const times: number[] = [];
      const late: number[] = [];
      const t0 = performance.now();
      const regrets = seeds.map((seed) => runOne(problem, s, seed, nTrials, times, late));
      results[problem.name][s] = {
        regrets,
        median: quantile(regrets, 0.5),
        q25: quantile(regrets, 0.25),
        q75: quantile(regrets, 0.75),
        ms_per_sample_mean: times.reduce((a, b) => a + b, 0) / times.length,
        ms_per_sample_median: quantile(times, 0.5),
        ms_per_sample_late: late.length ? late.reduce((a, b) => a + b, 0) / late.length : NaN,
      };
      process.stderr.write(
        `[samplers] ${problem.name} / ${s}: median regret ${quantile(regrets, 0.5).toPrecision(3)} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
      );
    }
  }
  const checks = Object.fromEntries(
    problems.map((p) => [
      p.name,
      [p.f(p.argmin), ...PROBE_FRACTIONS.map((u) => p.f(probePoint(p.space, u)))],
    ]),
  );
  const out = {
    trials: nTrials,
    seeds,
    samplers,
    problems: problems.map((p) => ({ name: p.name, dim: p.dim, min: p.min, space: p.space })),
    results,
    checks,
    node: process.version,
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();

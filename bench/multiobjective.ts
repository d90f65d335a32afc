// Several objectives (part of `npm run bench`, section `multiobjective`; bench/run.mjs runs it
// with `npx tsx bench/multiobjective.ts` and reads the JSON it prints on stdout).
//
// Three two-objective problems, all minimised:
// - zdt1: ZDT1 with 5 variables in [0, 1] (f1 = x0, g = 1 + 9 mean(x1..x4), f2 = g (1 - sqrt(f1 / g))).
// - lr-throughput: a smooth synthetic training run over lr (log), batch size (int, log), width
//   (int, log) and dropout: validation loss against training seconds (see `trainRun`).
// - lr-throughput-mem: the same with a memory constraint, batch * width <= 16384
//   (constraint batch * width / 16384 - 1 <= 0), which cuts through the unconstrained front.
// For each sampler and seed: a plain sequential loop of N trials (ask = sampler.sample on the
// full history with `directions`, evaluate, record a complete trial with `values` and
// `constraints`), then the hypervolume of the feasible trials against the problem's fixed
// reference point. bench/optuna_mo_ref.py holds the same problems in Python; both print
// `checks` (values at fixed points) so run.mjs can tell if the two definitions drift apart.
//
// Usage: npx tsx bench/multiobjective.ts [--trials 100] [--seeds 20] [--samplers auto,tpe,nsga2,random]
import { hypervolume, toLoss } from '../src/tuning/pareto';
import type { SamplerName } from '../src/contract/names';
import { makeSampler } from '../src/tuning/registry';
import {
  proposerOf,
  type Direction,
  type FrozenTrial,
  type Params,
  type SampleContext,
  type Space,
} from '../src/tuning/types';

interface Problem {
  name: string;
  space: Space;
  directions: Direction[];
  f: (p: Params) => number[];
  constraints?: (p: Params) => number[];
  /** Fixed reference point of the hypervolume (in the objectives' own scale, minimised). */
  ref: number[];
  /** Fixed points where both implementations must agree. */
  probes: Params[];
}

const ZDT_N = 5;

function zdt1(p: Params): number[] {
  const x = Array.from({ length: ZDT_N }, (_, i) => p[`x${i}`] as number);
  const f1 = x[0];
  let s = 0;
  for (let i = 1; i < ZDT_N; i++) s += x[i];
  const g = 1 + (9 * s) / (ZDT_N - 1);
  return [f1, g * (1 - Math.sqrt(f1 / g))];
}

/**
 * A synthetic training run: 10 epochs over 50,000 examples.
 * - validation loss = 0.1 + 0.6 sqrt(32 / width)            (capacity)
 *                   + 0.6 log10(lr / lr*)^2, lr* = 3e-3 sqrt(batch / 64)   (the LR valley, moving with the batch)
 *                   + 0.03 log2(batch / 64)^2               (large and tiny batches generalise worse)
 *                   + 2 (dropout - d*)^2, d* = 0.4 ln(width / 16) / ln(64)  (wider nets want more dropout)
 * - training seconds = 10 * (50000 / batch) * (0.004 + 4e-8 * batch * width)  (per-step overhead + compute)
 */
function trainRun(p: Params): number[] {
  const lr = p.lr as number;
  const b = p.batch_size as number;
  const w = p.width as number;
  const d = p.dropout as number;
  const lrStar = 3e-3 * Math.sqrt(b / 64);
  const dStar = (0.4 * Math.log(w / 16)) / Math.log(64);
  const loss =
    0.1 +
    0.6 * Math.sqrt(32 / w) +
    0.6 * Math.log10(lr / lrStar) ** 2 +
    0.03 * Math.log2(b / 64) ** 2 +
    2 * (d - dStar) ** 2;
  const seconds = 10 * (50000 / b) * (0.004 + 4e-8 * b * w);
  return [loss, seconds];
}

const trainSpace: Space = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  batch_size: { type: 'int', low: 16, high: 1024, log: true },
  width: { type: 'int', low: 16, high: 1024, log: true },
  dropout: { type: 'float', low: 0, high: 0.5 },
};

const trainProbes: Params[] = [
  { lr: 3e-3, batch_size: 64, width: 1024, dropout: 0.4 },
  { lr: 1e-5, batch_size: 16, width: 16, dropout: 0 },
  { lr: 0.1, batch_size: 1024, width: 16, dropout: 0.5 },
  { lr: 0.01, batch_size: 256, width: 64, dropout: 0.15 },
];

export const PROBLEMS: Problem[] = [
  {
    name: 'zdt1',
    space: Object.fromEntries(
      Array.from({ length: ZDT_N }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }]),
    ),
    directions: ['minimize', 'minimize'],
    f: zdt1,
    ref: [1.1, 5],
    probes: [
      { x0: 0.25, x1: 0, x2: 0, x3: 0, x4: 0 },
      { x0: 1, x1: 1, x2: 1, x3: 1, x4: 1 },
      { x0: 0, x1: 0.5, x2: 0.25, x3: 0.75, x4: 0.1 },
      { x0: 0.6, x1: 0.1, x2: 0.2, x3: 0.3, x4: 0.4 },
    ],
  },
  {
    name: 'lr-throughput',
    space: trainSpace,
    directions: ['minimize', 'minimize'],
    f: trainRun,
    ref: [1.2, 100],
    probes: trainProbes,
  },
  {
    name: 'lr-throughput-mem',
    space: trainSpace,
    directions: ['minimize', 'minimize'],
    f: trainRun,
    constraints: (p) => [((p.batch_size as number) * (p.width as number)) / 16384 - 1],
    ref: [1.2, 100],
    probes: trainProbes,
  },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** `name` or `name:option=value,...` (values parsed as JSON when they can be). */
function parseSpec(spec: string): { name: SamplerName; options: Record<string, unknown> } {
  const [name, rest] = spec.split(':');
  const options: Record<string, unknown> = {};
  for (const kv of rest ? rest.split('+') : []) {
    const [k, v] = kv.split('=');
    try {
      options[k] = JSON.parse(v);
    } catch {
      options[k] = v;
    }
  }
  return { name: name as SamplerName, options };
}

/** Hypervolume of the feasible complete trials against the problem's reference point. */
export function studyHypervolume(problem: Problem, trials: readonly FrozenTrial[]): number {
  if (problem.directions.length > 3)
    throw new Error('the bench measures hypervolume for 2 or 3 objectives only');
  const pts = trials
    .filter((t) => t.values && (!t.constraints || t.constraints.every((c) => c <= 0)))
    .map((t) => toLoss(t.values!, problem.directions));
  return hypervolume(pts, problem.ref);
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function run(
  problem: Problem,
  spec: string,
  seed: number,
  nTrials: number,
): { hv: number; ms: number; proposers: Record<string, number> } {
  const { name, options } = parseSpec(spec);
  const sampler = makeSampler({ ...options, name, seed });
  const trials: FrozenTrial[] = [];
  const proposers: Record<string, number> = {};
  let ms = 0;
  for (let i = 0; i < nTrials; i++) {
    const ctx: SampleContext = {
      space: problem.space,
      trials,
      direction: problem.directions[0],
      directions: problem.directions,
      seed,
      trialNumber: i,
    };
    const t0 = performance.now();
    const params = sampler.sample(ctx);
    ms += performance.now() - t0;
    const who = proposerOf(sampler, ctx);
    proposers[who] = (proposers[who] ?? 0) + 1;
    const values = problem.f(params);
    const constraints = problem.constraints ? problem.constraints(params) : null;
    trials.push({
      number: i,
      state: 'complete',
      params,
      value: null,
      values,
      constraints,
      intermediate: [],
    });
  }
  return { hv: studyHypervolume(problem, trials), ms: ms / nTrials, proposers };
}

function main(): void {
  const nTrials = Number(arg('trials', '100'));
  const nSeeds = Number(arg('seeds', '20'));
  const samplers = arg('samplers', 'auto,tpe,tpe:multivariate=true,nsga2,random').split(',');
  const only = arg('problems', '');
  const problems = only ? PROBLEMS.filter((p) => only.split(',').includes(p.name)) : PROBLEMS;
  const started = performance.now();
  const results: Record<
    string,
    Record<
      string,
      {
        hv: number[];
        median: number;
        q25: number;
        q75: number;
        ms_per_sample: number;
        proposers: Record<string, number>;
      }
    >
  > = {};
  for (const problem of problems) {
    results[problem.name] = {};
    for (const s of samplers) {
      const t0 = performance.now();
      const hv: number[] = [];
      let ms = 0;
      const proposers: Record<string, number> = {};
      for (let seed = 0; seed < nSeeds; seed++) {
        const r = run(problem, s, seed, nTrials);
        hv.push(r.hv);
        ms += r.ms / nSeeds;
        for (const [k, v] of Object.entries(r.proposers)) proposers[k] = (proposers[k] ?? 0) + v;
      }
      results[problem.name][s] = {
        hv,
        median: quantile(hv, 0.5),
        q25: quantile(hv, 0.25),
        q75: quantile(hv, 0.75),
        ms_per_sample: ms,
        proposers,
      };
      process.stderr.write(
        `[multiobjective] ${problem.name} / ${s}: median hv ${quantile(hv, 0.5).toPrecision(5)} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
      );
    }
  }
  const checks = Object.fromEntries(
    problems.map((p) => [
      p.name,
      p.probes.map((q) => ({
        values: p.f(q),
        constraints: p.constraints ? p.constraints(q) : null,
      })),
    ]),
  );
  const out = {
    trials: nTrials,
    seeds: nSeeds,
    samplers,
    problems: problems.map((p) => ({
      name: p.name,
      dim: Object.keys(p.space).length,
      ref: p.ref,
      constrained: !!p.constraints,
    })),
    results,
    checks,
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();

// Failures and pruning (part of `npm run bench`, section `failures`; bench/failures.mjs runs it
// with `npx tsx bench/failures.ts` and reads the JSON it prints on stdout). Issue 22, item 5.
//
// A synthetic deep-learning study: 5 parameters (lr, momentum, weight decay, optimizer, batch
// size), EPOCHS reported validation losses per trial, a median pruner (stride's `median` with its
// defaults, Optuna's MedianPruner()). Two kinds of failure, told `failed` as the Python client does:
// - divergence: the effective rate (lr / (1 - momentum) for SGD, 30 lr for Adam, both divided by
//   sqrt(batch / 64)) above the variant's stability edge trains well for a while, then the loss is
//   NaN at epoch ceil(EPOCHS (edge / eff)^4) (slightly past the edge: late; far past: at once);
// - out of memory: a batch above the variant's memory limit fails before its first report.
// The final loss is smallest at an effective rate of `ratio` x the edge, so the best runs sit near
// the edge of divergence, as in real LR tuning. See `finalLoss` and `curve`.
//
// VARIANTS are split before any tuning: the first half (design) is what the samplers' choices
// were made on, the second half (held out) only measured. bench/optuna_failures_ref.py holds the
// same problem; both print `checks` (curves at fixed points) so run.mjs can tell if they drift.
//
// Usage: npx tsx bench/failures.ts [--trials 50] [--seeds 20] [--samplers random,tpe,gp,auto]
import type { SamplerName } from '../src/contract/names';
import { makePruner, makeSampler } from '../src/tuning/registry';
import type { FrozenTrial, Params, Space, TrialState } from '../src/tuning/types';

export const EPOCHS = 20;
const L0 = 2.3;
const BASE = 0.2;
const ADAM_SCALE = 30;
const SPEED = 6;

interface Variant {
  name: string;
  half: 'design' | 'held-out';
  /** Effective rate above which training diverges. */
  edge: number;
  /** The best effective rate, as a share of the edge. */
  ratio: number;
  wdStar: number;
  /** Added to Adam's final loss (negative: Adam is better). */
  adamGain: number;
  /** Largest batch that fits in memory. */
  mem: number;
  batchStar: number;
}

export const VARIANTS: Variant[] = [
  {
    name: 'v0',
    half: 'design',
    edge: 0.5,
    ratio: 0.5,
    wdStar: 1e-4,
    adamGain: 0.05,
    mem: 512,
    batchStar: 128,
  },
  {
    name: 'v1',
    half: 'design',
    edge: 0.2,
    ratio: 0.7,
    wdStar: 1e-3,
    adamGain: -0.05,
    mem: 4096,
    batchStar: 64,
  },
  {
    name: 'v2',
    half: 'design',
    edge: 1.0,
    ratio: 0.35,
    wdStar: 3e-5,
    adamGain: 0,
    mem: 256,
    batchStar: 256,
  },
  {
    name: 'v3',
    half: 'design',
    edge: 0.1,
    ratio: 0.6,
    wdStar: 5e-4,
    adamGain: -0.1,
    mem: 128,
    batchStar: 64,
  },
  {
    name: 'v4',
    half: 'held-out',
    edge: 0.3,
    ratio: 0.8,
    wdStar: 2e-4,
    adamGain: 0.02,
    mem: 1024,
    batchStar: 96,
  },
  {
    name: 'v5',
    half: 'held-out',
    edge: 2.0,
    ratio: 0.4,
    wdStar: 1e-5,
    adamGain: -0.02,
    mem: 192,
    batchStar: 160,
  },
  {
    name: 'v6',
    half: 'held-out',
    edge: 0.05,
    ratio: 0.5,
    wdStar: 2e-3,
    adamGain: 0.1,
    mem: 4096,
    batchStar: 32,
  },
  {
    name: 'v7',
    half: 'held-out',
    edge: 0.7,
    ratio: 0.65,
    wdStar: 1e-4,
    adamGain: -0.08,
    mem: 384,
    batchStar: 512,
  },
];

export const SPACE: Space = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  momentum: { type: 'float', low: 0, high: 0.99 },
  weight_decay: { type: 'float', low: 1e-6, high: 1e-2, log: true },
  optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
  batch_size: { type: 'int', low: 16, high: 1024, log: true },
};

function effectiveLr(p: Params): number {
  const lr = p.lr as number;
  const raw = p.optimizer === 'adam' ? lr * ADAM_SCALE : lr / (1 - (p.momentum as number));
  return raw / Math.sqrt((p.batch_size as number) / 64);
}

function finalLoss(v: Variant, p: Params, eff: number): number {
  const lrStar = v.edge * v.ratio;
  const adam = p.optimizer === 'adam' ? v.adamGain + 0.3 * ((p.momentum as number) - 0.9) ** 2 : 0;
  return (
    BASE +
    0.5 * Math.log10(eff / lrStar) ** 2 +
    0.15 * Math.log10((p.weight_decay as number) / v.wdStar) ** 2 +
    0.02 * Math.log2((p.batch_size as number) / v.batchStar) ** 2 +
    adam
  );
}

/** The losses a run reports, epoch 1..EPOCHS; NaN from the epoch it diverges; null: out of memory. */
export function curve(v: Variant, p: Params): number[] | null {
  if ((p.batch_size as number) > v.mem) return null;
  const eff = effectiveLr(p);
  const fin = finalLoss(v, p, eff);
  const speed = Math.sqrt(Math.min(1, eff / (v.edge * v.ratio)));
  const diverge = eff > v.edge ? Math.max(1, Math.ceil(EPOCHS * (v.edge / eff) ** 4)) : Infinity;
  const out: number[] = [];
  for (let t = 1; t <= EPOCHS; t++)
    out.push(t >= diverge ? NaN : fin + (L0 - fin) * Math.exp((-SPEED * speed * t) / EPOCHS));
  return out;
}

/** The best final loss of the variant (analytic: the best rate, decay, batch and optimizer). */
export function optimum(v: Variant): number {
  const batch = Math.min(v.batchStar, v.mem);
  const fin = BASE + Math.min(0, v.adamGain) + 0.02 * Math.log2(batch / v.batchStar) ** 2;
  return fin + (L0 - fin) * Math.exp(-SPEED);
}

const PROBES: Params[] = [
  { lr: 0.1, momentum: 0.5, weight_decay: 1e-4, optimizer: 'sgd', batch_size: 64 },
  { lr: 0.01, momentum: 0.9, weight_decay: 1e-3, optimizer: 'adam', batch_size: 128 },
  { lr: 1e-4, momentum: 0, weight_decay: 1e-6, optimizer: 'sgd', batch_size: 300 },
  { lr: 0.5, momentum: 0.95, weight_decay: 1e-2, optimizer: 'sgd', batch_size: 16 },
];

interface RunResult {
  regret: number;
  failed: number;
  pruned: number;
  complete: number;
  /** Trials whose params exactly repeat an earlier finished trial's. */
  repeats: number;
  ms: number;
}

function sameParams(a: Params, b: Params): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** `name` or `name:option=value+...` (values parsed as JSON when they can be). */
function parseSpec(spec: string): Record<string, unknown> {
  const [name, rest] = spec.split(':');
  const options: Record<string, unknown> = { name: name as SamplerName };
  for (const kv of rest ? rest.split('+') : []) {
    const [k, v] = kv.split('=');
    try {
      options[k] = JSON.parse(v);
    } catch {
      options[k] = v;
    }
  }
  return options;
}

function run(v: Variant, sampler: string, seed: number, nTrials: number): RunResult {
  const s = makeSampler(parseSpec(sampler));
  const pruner = makePruner({ name: 'median' });
  const trials: FrozenTrial[] = [];
  let ms = 0;
  let repeats = 0;
  let best = Infinity;
  for (let n = 0; n < nTrials; n++) {
    const t0 = performance.now();
    const params = s.sample({ space: SPACE, trials, direction: 'minimize', seed, trialNumber: n });
    ms += performance.now() - t0;
    if (trials.some((t) => t.state !== 'running' && sameParams(t.params, params))) repeats++;
    const losses = curve(v, params);
    const intermediate: { step: number; value: number }[] = [];
    let state: TrialState = 'complete';
    let value: number | null = null;
    if (losses === null) state = 'failed';
    else {
      for (let t = 1; t <= EPOCHS; t++) {
        const loss = losses[t - 1];
        if (Number.isNaN(loss)) {
          state = 'failed';
          break;
        }
        intermediate.push({ step: t, value: loss });
        const trial: FrozenTrial = {
          number: n,
          state: 'running',
          params,
          value: null,
          intermediate,
        };
        if (
          t < EPOCHS &&
          pruner.shouldPrune({ trial, trials: [...trials, trial], direction: 'minimize' })
        ) {
          state = 'pruned';
          break;
        }
      }
      if (state === 'complete') {
        value = losses[EPOCHS - 1];
        best = Math.min(best, value);
      }
    }
    trials.push({ number: n, state, params, value, intermediate: [...intermediate] });
  }
  const count = (st: TrialState) => trials.filter((t) => t.state === st).length;
  return {
    regret: best - optimum(v),
    failed: count('failed'),
    pruned: count('pruned'),
    complete: count('complete'),
    repeats,
    ms: ms / nTrials,
  };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function main(): void {
  const nTrials = Number(arg('trials', '50'));
  const nSeeds = Number(arg('seeds', '20'));
  const samplers = arg('samplers', 'random,tpe,gp,auto').split(',');
  const only = arg('variants', '');
  const variants = only ? VARIANTS.filter((v) => only.split(',').includes(v.name)) : VARIANTS;
  const started = performance.now();
  const results: Record<string, Record<string, Record<string, number[]>>> = {};
  for (const v of variants) {
    results[v.name] = {};
    for (const s of samplers) {
      const t0 = performance.now();
      const cell: Record<string, number[]> = {
        regret: [],
        failed: [],
        pruned: [],
        complete: [],
        repeats: [],
        ms: [],
      };
      for (let seed = 0; seed < nSeeds; seed++) {
        const r = run(v, s, seed, nTrials);
        for (const k of Object.keys(cell)) cell[k].push(r[k as keyof RunResult]);
      }
      results[v.name][s] = cell;
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      process.stderr.write(
        `[failures] ${v.name} / ${s}: failed ${mean(cell.failed).toFixed(1)}, pruned ${mean(cell.pruned).toFixed(1)}, mean regret ${mean(cell.regret).toPrecision(3)}, repeats ${mean(cell.repeats)} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
      );
    }
  }
  const out = {
    trials: nTrials,
    seeds: nSeeds,
    epochs: EPOCHS,
    samplers,
    variants: variants.map((v) => ({ ...v, optimum: optimum(v) })),
    results,
    checks: Object.fromEntries(variants.map((v) => [v.name, PROBES.map((p) => curve(v, p))])),
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();

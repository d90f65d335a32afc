// Bench section "LR suggestions on real data" (issue 11): how good POST /v1/lr/suggest's answers
// are on scikit-learn's bundled datasets (bench/data/*.csv), judged against a full-training LR grid.
//
// For each task: POST /v1/lr/suggest with the probe (seed 0) and the task's training horizon
// (`"training": {"epochs": H}`; a server that does not know `training` answers 422 and the bench
// falls back to `"validation": {"epochs": H}`, and says so), and once more with the defaults. Then
// the ground truth: a 12-point log grid of LRs plus every method's LR (each range-test rule, the
// suggestion, both validated answers, the optimizer's default), all trained for H epochs on seeds
// 1, 2 and 3 (held-out split and initialisation the suggestion did not see; one edge study per
// seed, grid sampler, no pruner), final validation loss averaged over the seeds.
//
// Used by bench/run.mjs (`--only lr-real`); exports the section runner and its Markdown renderer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { startStride } from '../scripts/local-worker.mjs';
import { log, mulberry32 } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const KEY = 'bench-key';

/** Seeds of the ground truth; the suggestions see seed 0 (another split and initialisation). */
export const TRUTH_SEEDS = [1, 2, 3];
const GRID_POINTS = 12;
const GRID_STEP_DECADES = 0.4;
/** First grid point per optimizer: SGD+momentum 1e-4..2.5, adaptive ones 1e-5..0.25 (12 points, 0.4 decades apart). */
const GRID_START = {
  sgd: -4,
  momentum: -4,
  nesterov: -4,
  adam: -5,
  adamw: -5,
  rmsprop: -5,
  adagrad: -4,
};
/** The optimizers' conventional defaults (torch.optim's; Keras's 0.01 for SGD), as the server's DEFAULT_LR. */
export const DEFAULT_LR = {
  sgd: 0.01,
  momentum: 0.01,
  nesterov: 0.01,
  adam: 1e-3,
  adamw: 1e-3,
  rmsprop: 1e-2,
  adagrad: 1e-2,
};
/** The issue's compute yardstick: a 10-point grid trained to the horizon. */
const GRID_COMPUTE_POINTS = 10;
const VALIDATION_SPLIT = 0.2; // the edge executor's and lr/suggest's default
const NOISE = 0.3;
const SMALL_N = 120;

export const grid = (optimizer) =>
  Array.from({ length: GRID_POINTS }, (_, i) =>
    Number((10 ** (GRID_START[optimizer] + GRID_STEP_DECADES * i)).toPrecision(6)),
  );

/**
 * The tasks. `data`: a CSV in bench/data; `subsample`: a deterministic row subsample;
 * `noise`: share of each seed's training-split labels flipped to another class.
 */
export const TASKS = [
  {
    id: 'iris-sgdm',
    name: 'iris, MLP 32, SGD+momentum',
    data: 'iris',
    task: 'classification',
    hidden: [32],
    optimizer: { name: 'sgd', momentum: 0.9 },
    batch: 16,
    epochs: 40,
  },
  {
    id: 'wine-wide-adam',
    name: 'wine, wide MLP 512-512, Adam',
    data: 'wine',
    task: 'classification',
    hidden: [512, 512],
    optimizer: { name: 'adam' },
    batch: 32,
    epochs: 20,
  },
  {
    id: 'bc120-adamw',
    name: 'breast cancer, 120-row subsample, MLP 256-256, AdamW (wd 0.01)',
    data: 'breast_cancer',
    subsample: SMALL_N,
    task: 'classification',
    hidden: [256, 256],
    optimizer: { name: 'adamw', weight_decay: 0.01 },
    batch: 16,
    epochs: 40,
  },
  {
    id: 'bc-rmsprop',
    name: 'breast cancer, MLP 64-64, RMSprop',
    data: 'breast_cancer',
    task: 'classification',
    hidden: [64, 64],
    optimizer: { name: 'rmsprop' },
    batch: 32,
    epochs: 20,
  },
  {
    id: 'digits-adam',
    name: 'digits, MLP 128, Adam',
    data: 'digits',
    task: 'classification',
    hidden: [128],
    optimizer: { name: 'adam' },
    batch: 32,
    epochs: 20,
  },
  {
    id: 'digits-noisy-sgdm',
    name: 'digits, 30% of training labels flipped, MLP 256, SGD+momentum',
    data: 'digits',
    noise: NOISE,
    task: 'classification',
    hidden: [256],
    optimizer: { name: 'sgd', momentum: 0.9 },
    batch: 32,
    epochs: 30,
  },
  {
    id: 'diabetes-adam',
    name: 'diabetes (regression), MLP 64-64, Adam',
    data: 'diabetes',
    task: 'regression',
    hidden: [64, 64],
    optimizer: { name: 'adam' },
    batch: 32,
    epochs: 40,
  },
  {
    id: 'diabetes-sgdm',
    name: 'diabetes (regression), MLP 128, SGD+momentum',
    data: 'diabetes',
    task: 'regression',
    hidden: [128],
    optimizer: { name: 'sgd', momentum: 0.9 },
    batch: 16,
    epochs: 30,
  },
];

/** The README's probe (Quick start: spirals, MLP 64-64, SGD+momentum): the wall-time target's yardstick. */
const README_PROBE = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../examples/probe.json'),
    'utf8',
  ),
);
const README_EPOCHS = 20;

/** Methods, in the report's order. */
const METHODS = [
  'validated',
  'validated_defaults',
  'suggestion',
  'valley',
  'steepest',
  'minimum',
  'min_over_10',
  'default',
];
const METHOD_LABELS = {
  validated: 'validated (horizon)',
  validated_defaults: 'validated without training',
  suggestion: 'range-test suggestion',
  valley: 'valley',
  steepest: 'steepest',
  minimum: 'minimum',
  min_over_10: 'min_over_10',
  default: 'default',
};

/** The issue's targets for `validated` with the training horizon. */
export const TARGETS = {
  median: 1.02,
  worst: 1.1,
  within: 1.05,
  within_share: 0.9,
  vs_default: 1.02,
  compute_share: 0.3,
  readme_wall_s: 5,
};

function shuffled(n, rand) {
  const o = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [o[i], o[j]] = [o[j], o[i]];
  }
  return o;
}

function readCsv(name) {
  const lines = readFileSync(path.join(here, 'data', `${name}.csv`), 'utf8')
    .trim()
    .split('\n');
  return { header: lines[0], rows: lines.slice(1) };
}

/**
 * The server's held-out split (src/probe/trial.ts splitDataset: a Fisher-Yates shuffle by
 * Rng(seed).fork(7), the first round(n * fraction) rows held out), so label noise can go into the
 * training rows only. The bench checks it against splitDataset itself before use.
 */
export async function splitter() {
  const { Rng } = await tsImport('../src/tuning/rng.ts', import.meta.url);
  const split = (n, fraction, seed) => {
    const nVal = Math.max(1, Math.min(n - 1, Math.round(n * fraction)));
    const order = Array.from({ length: n }, (_, i) => i);
    const rng = new Rng(seed >>> 0).fork(7);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return { val: order.slice(0, nVal), train: order.slice(nVal) };
  };
  const { splitDataset } = await tsImport('../src/probe/trial.ts', import.meta.url);
  for (const seed of [0, ...TRUTH_SEEDS]) {
    const n = 300;
    const ds = {
      x: new Float32Array(n),
      y: Float32Array.from({ length: n }, (_, i) => i),
      n,
      features: 1,
      outputs: 1,
      task: 'regression',
    };
    const ref = splitDataset(ds, VALIDATION_SPLIT, seed);
    const mine = split(n, VALIDATION_SPLIT, seed);
    if (Array.from(ref.val.y).join() !== mine.val.join())
      throw new Error(
        "lr-real: the bench's copy of splitDataset no longer matches src/probe/trial.ts",
      );
  }
  return split;
}

/** The CSV text of a task as probe `seed` sees it (subsample and label noise applied). */
export function taskCsv(task, seed, split) {
  const { header, rows: all } = readCsv(task.data);
  let rows = all;
  if (task.subsample) {
    const pick = shuffled(all.length, mulberry32(1234))
      .slice(0, task.subsample)
      .sort((a, b) => a - b);
    rows = pick.map((i) => all[i]);
  }
  if (task.noise) {
    const labels = rows.map((r) => Number(r.slice(r.lastIndexOf(',') + 1)));
    const classes = Math.max(...labels) + 1;
    const { train } = split(rows.length, VALIDATION_SPLIT, seed);
    const rand = mulberry32(5000 + seed);
    const flip = shuffled(train.length, rand)
      .slice(0, Math.round(task.noise * train.length))
      .map((k) => train[k]);
    rows = rows.slice();
    for (const i of flip) {
      const y = labels[i];
      const other = (y + 1 + Math.floor(rand() * (classes - 1))) % classes; // always another class
      rows[i] = rows[i].slice(0, rows[i].lastIndexOf(',') + 1) + other;
    }
  }
  return { text: [header, ...rows].join('\n') + '\n', n: rows.length };
}

function probeOf(task, csvText, seed) {
  return {
    model: { kind: 'mlp', hidden: task.hidden, activation: 'relu' },
    task: task.task,
    data: { kind: 'csv', text: csvText, target: 'target' },
    optimizer: task.optimizer,
    batch_size: task.batch,
    seed,
  };
}

/** No request may hang the section: each gets this long (a local Durable Object has been seen to stop answering). */
const REQUEST_TIMEOUT_MS = 120_000;
/** How long one ground-truth study may take before its unfinished trials count as missing. */
const STUDY_DEADLINE_MS = 300_000;
/** No trial reporting an epoch for this long: the local queue is stuck. */
const STALL_MS = 40_000;

async function call(base, method, pathname, body) {
  const t0 = performance.now();
  const res = await fetch(new URL(pathname, base), {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    method,
    headers: {
      Authorization: `Bearer ${KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, ok: res.ok, body: json, text, s: (performance.now() - t0) / 1000 };
}

async function api(base, method, pathname, body) {
  const r = await call(base, method, pathname, body);
  if (!r.ok) throw new Error(`${method} ${pathname}: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  return r;
}

/**
 * lr/suggest with the horizon: `training.epochs`, or on a server without `training` (422 naming it)
 * `validation.epochs`. Returns the answer, its wall time and which input carried the horizon.
 */
async function suggestWithHorizon(base, probe, epochs) {
  let r = await call(base, 'POST', '/v1/lr/suggest', { probe, training: { epochs } });
  let via = 'training.epochs';
  if (r.status === 422 && /training/.test(r.text)) {
    // The refused request's time is not counted: r is replaced by the retry.
    r = await call(base, 'POST', '/v1/lr/suggest', { probe, validation: { epochs } });
    via = 'validation.epochs';
  }
  if (!r.ok) throw new Error(`POST /v1/lr/suggest: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  const done = await followPoll(base, r);
  return { answer: done.body, s: done.s, post_s: r.s, via };
}

/**
 * A 202 of lr/suggest (the edge's training outlasted its wait): GET its poll until complete.
 * Answers the final answer and the seconds from the POST to it (`r.s` is the POST's own wait).
 */
async function followPoll(base, r) {
  if (r.status !== 202) return { body: r.body, s: r.s };
  let s = r.s;
  for (;;) {
    await new Promise((ok) => setTimeout(ok, 500));
    const g = await api(base, 'GET', r.body.poll);
    s += 0.5 + g.s;
    if (g.body.status === 'complete') return { body: g.body, s };
  }
}

/**
 * Train `lrs` for `epochs` on `probe` as one edge study (grid sampler over the lrs, no pruner,
 * parallelism 4) and read back each lr's final validation loss (null when its trial failed,
 * e.g. diverged). The mechanism of run.mjs's suggestQuality.
 */
async function trainLrs(base, name, probe, lrs, epochs) {
  const { body: study } = await api(base, 'POST', '/v1/studies', {
    name,
    space: { lr: { type: 'categorical', choices: lrs } },
    sampler: { name: 'grid', seed: 0 },
    max_trials: lrs.length,
    // A short lease: a trial the local queue stops delivering is re-sent after a minute, not five.
    executor: {
      kind: 'edge',
      probe,
      epochs,
      validation_split: VALIDATION_SPLIT,
      parallelism: 4,
      lease_seconds: 60,
    },
  });
  await api(base, 'POST', `/v1/studies/${study.id}/run`);
  const t0 = performance.now();
  let s = study;
  let stalled = null;
  let progress = -1;
  let progressAt = performance.now();
  let lastCheck = 0;
  for (;;) {
    try {
      ({ body: s } = await api(base, 'GET', `/v1/studies/${study.id}`));
    } catch (e) {
      stalled = String(e.cause?.code ?? e.name ?? e);
      log(`  ${name}: GET study failed (${stalled}); still waiting`);
    }
    if (s.state === 'completed' || performance.now() - t0 > STUDY_DEADLINE_MS) break;
    // The local queue has been seen to stop delivering edge trials for good: no epoch reported
    // by any trial for STALL_MS means this Worker is stuck (the caller restarts it).
    if (performance.now() - lastCheck > 5_000) {
      lastCheck = performance.now();
      try {
        const { body } = await api(base, 'GET', `/v1/studies/${study.id}/trials`);
        const p = body.trials.reduce(
          (a, t) =>
            a + t.intermediate.length + (t.state === 'running' || t.state === 'waiting' ? 0 : 1000),
          0,
        );
        if (p !== progress) {
          progress = p;
          progressAt = performance.now();
        }
      } catch {
        /* counted as no progress */
      }
      if (performance.now() - progressAt > STALL_MS) {
        stalled = `no progress for ${STALL_MS / 1000} s`;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  let trials = [];
  try {
    trials = (await api(base, 'GET', `/v1/studies/${study.id}/trials`)).body.trials;
  } catch (e) {
    log(`  ${name}: could not read the trials (${e.cause?.code ?? e}); every lr counts as missing`);
  }
  if (s.state !== 'completed')
    log(
      `  ${name}: did not complete within ${STUDY_DEADLINE_MS / 1000} s (${stalled ?? 'state ' + s.state}); unfinished lrs count as missing`,
    );
  const out = new Map();
  for (const lr of lrs) {
    const t = trials.find((x) => x.params.lr === lr);
    // A final validation loss of exactly 0 has been seen from runs whose losses jumped to the
    // hundreds (a wide MLP at a high lr): not a real loss, so it counts as diverged.
    if (t && t.state === 'complete' && t.value === 0)
      out.set(lr, {
        loss: null,
        error: 'reported a validation loss of exactly 0 (bogus: diverged)',
      });
    else
      out.set(
        lr,
        t && t.state === 'complete'
          ? { loss: t.value, error: null }
          : { loss: null, error: t?.error ?? t?.state ?? 'missing' },
      );
  }
  return {
    results: out,
    seconds: (performance.now() - t0) / 1000,
    completed: s.state === 'completed',
    stalled,
  };
}

const log10 = Math.log10;

function methodLrs(task, withH, defaults) {
  const rt = withH.answer.range_test?.suggestion;
  const c = rt?.candidates ?? {};
  const pos = (v) => (typeof v === 'number' && v > 0 && Number.isFinite(v) ? v : null);
  return {
    validated: pos(withH.answer.lr),
    validated_defaults: pos(defaults.answer.lr),
    suggestion: pos(rt?.lr),
    valley: pos(c.valley),
    steepest: pos(c.steepest),
    minimum: pos(c.minimum),
    min_over_10: pos(c.min_over_10),
    default: DEFAULT_LR[task.optimizer.name],
  };
}

/** Candidate-epochs the validation spent: the server's count (every round and seed) when it gives one, else the sum of epochs_run. */
function candidateEpochs(answer) {
  if (typeof answer.validation?.candidate_epochs === 'number')
    return answer.validation.candidate_epochs;
  return (answer.validation?.candidates ?? []).reduce((a, c) => a + (c.epochs_run ?? 0), 0);
}

async function runTask(base, task, split, attempt) {
  const t0 = performance.now();
  const seen = taskCsv(task, 0, split);
  const probe0 = probeOf(task, seen.text, 0);
  const withH = await suggestWithHorizon(base, probe0, task.epochs);
  // Second call: the same probe, so its range test comes from the cache.
  const d = await followPoll(base, await api(base, 'POST', '/v1/lr/suggest', { probe: probe0 }));
  const defaults = { answer: d.body, s: d.s };
  const points = methodLrs(task, withH, defaults);
  const g = grid(task.optimizer.name);
  const lrs = [...new Set([...g, ...Object.values(points).filter((v) => v !== null)])];
  const perSeed = [];
  const incomplete = [];
  let trainS = 0;
  for (const seed of TRUTH_SEEDS) {
    const csv = seed === 0 ? seen : taskCsv(task, seed, split);
    const r = await trainLrs(
      base,
      `bench lr-real ${task.id} seed ${seed}`,
      probeOf(task, csv.text, seed),
      lrs,
      task.epochs,
    );
    trainS += r.seconds;
    if (!r.completed) {
      if (attempt < 2)
        throw Object.assign(new Error(`${task.id} seed ${seed}: ${r.stalled ?? 'deadline'}`), {
          stalled: true,
        });
      incomplete.push({ seed, reason: r.stalled ?? 'deadline' });
    }
    perSeed.push(r.results);
  }
  // Mean final validation loss over the seeds; null if any seed failed (diverged).
  const mean = new Map(
    lrs.map((lr) => {
      const v = perSeed.map((m) => m.get(lr));
      const ok = v.every((x) => x.loss !== null);
      return [
        lr,
        {
          loss: ok ? v.reduce((a, x) => a + x.loss, 0) / v.length : null,
          per_seed: v.map((x) => x.loss),
          errors: v.map((x) => x.error).filter(Boolean),
        },
      ];
    }),
  );
  const gridRows = g.map((lr) => ({ lr, ...mean.get(lr) }));
  const okGrid = gridRows.filter((x) => x.loss !== null);
  const best = okGrid.reduce((a, b) => (b.loss < a.loss ? b : a), okGrid[0]);
  const pool = lrs.map((lr) => mean.get(lr).loss);
  const rankOf = (loss) =>
    loss === null ? null : 1 + pool.filter((x) => x !== null && x < loss - 1e-12).length;
  const methods = {};
  for (const k of METHODS) {
    const lr = points[k];
    const m = lr === null ? null : mean.get(lr);
    methods[k] = {
      lr,
      loss: m?.loss ?? null,
      diverged: lr !== null && m.loss === null,
      ratio: m && m.loss !== null && best ? m.loss / best.loss : null,
      rank: m ? rankOf(m.loss) : null,
      decades_off: lr !== null && best ? log10(lr / best.lr) : null,
    };
  }
  const rtId = withH.answer.range_test?.id;
  let rangeSteps = null;
  if (rtId) {
    const r = await call(base, 'GET', `/v1/lr-range-tests/${rtId}`);
    if (r.ok) rangeSteps = r.body.steps_run;
  }
  const nTrain = seen.n - Math.max(1, Math.min(seen.n - 1, Math.round(seen.n * VALIDATION_SPLIT)));
  const stepsPerEpoch = Math.ceil(nTrain / task.batch);
  const candEpochs = candidateEpochs(withH.answer);
  const gridCompute = GRID_COMPUTE_POINTS * task.epochs;
  const row = {
    id: task.id,
    task: task.name,
    data: task.data,
    kind: task.task,
    hidden: task.hidden,
    optimizer: task.optimizer,
    batch_size: task.batch,
    epochs: task.epochs,
    n: seen.n,
    horizon_via: withH.via,
    grid: gridRows,
    best_grid: best ? { lr: best.lr, loss: best.loss } : null,
    lrs_trained: lrs.length,
    methods,
    suggest_s: withH.s,
    // What the POST itself held the connection (the rest was polled), and the compute spent.
    suggest_post_s: withH.post_s,
    compute_runs: withH.answer.compute?.runs ?? null,
    suggest_defaults_s: defaults.s,
    method: withH.answer.method,
    validation: withH.answer.validation
      ? {
          epochs: withH.answer.validation.epochs,
          complete: withH.answer.validation.complete,
          seeds: withH.answer.validation.seeds ?? null,
          candidates: withH.answer.validation.candidates.map((c) => ({
            lr: c.lr,
            sources: c.sources,
            state: c.state,
            value: c.value,
            score: c.score ?? null,
            unstable: c.unstable ?? null,
            epochs_run: c.epochs_run,
          })),
        }
      : null,
    validation_defaults: defaults.answer.validation
      ? {
          epochs: defaults.answer.validation.epochs,
          candidate_epochs: candidateEpochs(defaults.answer),
        }
      : null,
    candidate_epochs: candEpochs,
    compute_share: candEpochs / gridCompute,
    range_test_steps: rangeSteps,
    range_test_epoch_equiv: rangeSteps === null ? null : rangeSteps / stepsPerEpoch,
    compute_share_with_range_test:
      rangeSteps === null ? null : (candEpochs + rangeSteps / stepsPerEpoch) / gridCompute,
    reasoning: withH.answer.reasoning,
    train_s: trainS,
    incomplete_studies: incomplete,
    seconds: (performance.now() - t0) / 1000,
  };
  const v = methods.validated;
  log(
    `  lr-real ${task.id}: grid best ${best?.lr.toPrecision(2)} (${best?.loss.toFixed(4)}); validated ${v.lr?.toPrecision(2)} ratio ${v.ratio?.toFixed(3) ?? 'div'} (via ${withH.via}, ${withH.s.toFixed(1)} s, ${candEpochs} cand-epochs = ${(100 * row.compute_share).toFixed(0)}% of grid); default ratio ${methods.default.ratio?.toFixed(3) ?? 'div'}; ${lrs.length} lrs x ${TRUTH_SEEDS.length} seeds in ${trainS.toFixed(0)} s`,
  );
  return row;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)] + s[Math.ceil(m)]) / 2;
};

/** Per method over the tasks: median and worst ratio (diverged counts as infinitely bad), share within 1.05x, tasks worse than the default by > 2%. */
function summarise(rows) {
  const out = {};
  for (const k of METHODS) {
    const ratios = rows
      .map((r) => (r.methods[k].lr === null ? null : (r.methods[k].ratio ?? Infinity)))
      .filter((x) => x !== null);
    const worseThanDefault = rows.filter((r) => {
      const m = r.methods[k];
      const d = r.methods.default;
      if (m.lr === null) return false;
      const ml = m.loss ?? Infinity;
      const dl = d.loss ?? Infinity;
      return Number.isFinite(dl) ? ml > dl * TARGETS.vs_default : false;
    }).length;
    out[k] = {
      tasks: ratios.length,
      median: ratios.length ? median(ratios) : null,
      worst: ratios.length ? Math.max(...ratios) : null,
      within: ratios.length
        ? ratios.filter((x) => x <= TARGETS.within).length / ratios.length
        : null,
      worse_than_default: worseThanDefault,
      median_abs_decades: median(
        rows
          .map((r) => r.methods[k].decades_off)
          .filter((x) => x !== null)
          .map(Math.abs),
      ),
    };
  }
  return out;
}

export async function lrRealSection() {
  const started = performance.now();
  const split = await splitter();
  // A fresh Worker (and store) per task: the local queue has been seen to stop delivering edge
  // trials after a few hundred of them; a task whose ground truth stalls runs once more on
  // another fresh Worker.
  const fresh = async () => {
    const w = await startStride({ devKey: KEY });
    log(`lr-real: main Worker at ${w.url} (temporary store)`);
    return w;
  };
  let stride = await fresh();
  const restarts = [];
  try {
    // The README-sized probe first, on a cold cache: the wall-time target.
    const readme = await suggestWithHorizon(stride.url, README_PROBE, README_EPOCHS);
    log(
      `  lr-real README probe: ${readme.s.toFixed(2)} s (via ${readme.via}; lr ${readme.answer.lr}, ${candidateEpochs(readme.answer)} candidate-epochs)`,
    );
    const rows = [];
    // BENCH_LR_REAL_TASKS=id,id (development): only those tasks.
    const only = process.env.BENCH_LR_REAL_TASKS?.split(',');
    for (const task of TASKS.filter((t) => !only || only.includes(t.id))) {
      for (let attempt = 1; ; attempt++) {
        if (rows.length > 0 || attempt > 1) {
          await stride.dispose();
          stride = await fresh();
        }
        try {
          rows.push(await runTask(stride.url, task, split, attempt));
          break;
        } catch (e) {
          if (!e.stalled) throw e;
          log(`  lr-real ${task.id}: ${e.message}; again on a fresh Worker`);
          restarts.push(e.message);
        }
      }
    }
    const vias = [...new Set(rows.map((r) => r.horizon_via))];
    return {
      seeds: TRUTH_SEEDS,
      grid_points: GRID_POINTS,
      grid_step_decades: GRID_STEP_DECADES,
      validation_split: VALIDATION_SPLIT,
      horizon_via: vias.length === 1 ? vias[0] : vias.join(', '),
      readme: {
        s: readme.s,
        via: readme.via,
        epochs: README_EPOCHS,
        lr: readme.answer.lr,
        method: readme.answer.method,
        candidate_epochs: candidateEpochs(readme.answer),
      },
      rows,
      restarts,
      summary: summarise(rows),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stride.dispose();
    log('worker stopped');
  }
}

// ---------------------------------------------------------------------------

const f = (v, d = 2) =>
  typeof v === 'number' && Number.isFinite(v)
    ? Math.abs(v) >= 1000
      ? v.toExponential(0).replace('e+', 'e')
      : v.toFixed(d)
    : v === Infinity
      ? 'div.'
      : '—';
const lrFmt = (v) => (typeof v === 'number' ? v.toPrecision(2) : '—');
const pct = (v) => (typeof v === 'number' ? `${Math.round(100 * v)}%` : '—');
const met = (ok) => (ok ? 'met' : '**NOT met**');

export function renderLrReal(q, lines) {
  const m = q.machine;
  lines.push('## LR suggestions on real data', '');
  if (m) {
    lines.push(
      `Machine: ${m.cpu_model}, ${m.cores} cores; Node ${m.node}; wrangler ${m.wrangler}, workerd ${m.workerd}; TF.js ${m.tfjs}; ${m.date} (load average at start ${m.loadavg_start.map((v) => v.toFixed(2)).join(', ')}). Section wall time ${f(q.seconds / 60, 1)} min.`,
      '',
    );
  }
  const viaNote =
    q.horizon_via === 'training.epochs'
      ? 'and the horizon as `"training": {"epochs": H}`'
      : q.horizon_via === 'validation.epochs'
        ? 'and the horizon H — **this server does not know `training` (422), so it went in as `"validation": {"epochs": H}`**, the candidates validated for H epochs with successive halving'
        : `and the horizon as ${q.horizon_via}`;
  lines.push(
    `Tasks on scikit-learn's bundled datasets (bench/data/, CSV probes \`{"kind": "csv", "target": "target"}\`). Per task: \`POST /v1/lr/suggest\` with the probe on seed 0 ${viaNote} ("validated"), and once with the defaults ("validated without training"; its range test comes from the cache). ` +
      `Ground truth: a ${q.grid_points}-point log grid (${q.grid_step_decades} decades apart: 1e-4..2.5 for SGD+momentum, 1e-5..0.25 for Adam/AdamW/RMSprop) plus every method's lr, each trained for the task's H epochs with validation split ${q.validation_split} on seeds ${q.seeds.join(', ')} — held-out splits and initialisations the suggestion did not see — as one edge study per seed (grid sampler, no pruner); the score is the final validation loss averaged over the ${q.seeds.length} seeds (a lr that diverged on any seed counts as diverged). ` +
      "Ratio: that loss / the best grid loss (below 1: better than every grid point). Rank: among all lrs trained for the task (grid and methods; 1 = best). Decades: log10(lr / best grid lr). Label noise flips 30% of each seed's training-split labels (to another class, deterministically; the held-out labels stay clean); the subsample is a fixed random 120 rows.",
    '',
  );
  lines.push(
    '| Task | n | H | batch | grid best lr (loss) | validated lr | ratio | rank | decades | suggest (s) | cand.-epochs (share of 10×H) |',
  );
  lines.push('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of q.rows) {
    const v = r.methods.validated;
    lines.push(
      `| ${r.task} | ${r.n} | ${r.epochs} | ${r.batch_size} | ${r.best_grid ? `${lrFmt(r.best_grid.lr)} (${r.best_grid.loss.toFixed(4)})` : '—'} | ${lrFmt(v.lr)} | ${v.diverged ? 'div.' : f(v.ratio, 3)} | ${v.rank ?? '—'}/${r.lrs_trained} | ${f(v.decades_off, 2)} | ${f(r.suggest_s, 1)} | ${r.candidate_epochs} (${pct(r.compute_share)}) |`,
    );
  }
  lines.push('');
  lines.push(
    'Every method, per task: ratio, rank among the lrs trained, decades off the best grid lr (lr in brackets).',
    '',
  );
  lines.push(`| Task | ${METHODS.map((k) => METHOD_LABELS[k]).join(' | ')} |`);
  lines.push(`|---|${METHODS.map(() => '---').join('|')}|`);
  for (const r of q.rows) {
    const cell = (k) => {
      const p = r.methods[k];
      if (p.lr === null) return '—';
      return `${p.diverged ? 'div.' : f(p.ratio, 3)}, #${p.rank ?? '—'}, ${p.decades_off >= 0 ? '+' : ''}${f(p.decades_off, 1)} (${lrFmt(p.lr)})`;
    };
    lines.push(`| ${r.id} | ${METHODS.map(cell).join(' | ')} |`);
  }
  lines.push('');
  const s = q.summary;
  lines.push(
    `| Method | median ratio | worst ratio | within 1.05× | worse than default by > 2% | median |decades| |`,
  );
  lines.push('|---|---:|---:|---:|---:|---:|');
  for (const k of METHODS) {
    const x = s[k];
    lines.push(
      `| ${METHOD_LABELS[k]} | ${f(x.median, 3)} | ${f(x.worst, 3)} | ${pct(x.within)} (${Math.round((x.within ?? 0) * x.tasks)}/${x.tasks}) | ${k === 'default' ? '—' : `${x.worse_than_default}/${x.tasks}`} | ${f(x.median_abs_decades, 2)} |`,
    );
  }
  lines.push('');
  const v = s.validated;
  const shares = q.rows.map((r) => r.compute_share);
  const sharesRt = q.rows.map((r) => r.compute_share_with_range_test).filter((x) => x !== null);
  const T = TARGETS;
  const posts = q.rows.map((r) => r.suggest_post_s).filter((x) => typeof x === 'number');
  const runs = q.rows.map((r) => r.compute_runs).filter((x) => typeof x === 'number');
  if (posts.length > 0)
    lines.push(
      `The request itself (POST /v1/lr/suggest, the range test included; a search that outlasts ${'LR_SUGGEST_WAIT_MS'} answers 202 and is polled): median ${f(median(posts), 1)} s, longest ${f(Math.max(...posts), 1)} s. Compute spent by the default budget (the answer's \`compute.runs\`, full runs at the horizon, the range test included): median ${f(median(runs), 2)}, most ${f(Math.max(...runs), 2)}.`,
      '',
    );
  lines.push('| Target (issue 11, validated with the horizon) | Measured | |');
  lines.push('|---|---:|---|');
  lines.push(
    `| median ratio ≤ ${T.median} | ${f(v.median, 3)} | ${met(v.median !== null && v.median <= T.median)} |`,
  );
  lines.push(
    `| worst ratio ≤ ${T.worst} | ${f(v.worst, 3)} | ${met(v.worst !== null && v.worst <= T.worst)} |`,
  );
  lines.push(
    `| within ${T.within}× on ≥ ${100 * T.within_share}% of tasks | ${pct(v.within)} | ${met(v.within !== null && v.within >= T.within_share)} |`,
  );
  lines.push(
    `| never worse than the default by > 2% | ${v.worse_than_default} of ${v.tasks} tasks | ${met(v.worse_than_default === 0)} |`,
  );
  lines.push(
    `| compute ≤ ${100 * T.compute_share}% of the grid's (candidate-epochs / 10×H; worst task) | median ${pct(median(shares))}, worst ${pct(Math.max(...shares))} | ${met(Math.max(...shares) <= T.compute_share)} |`,
  );
  lines.push(
    `| wall time ≤ ${T.readme_wall_s} s for the README-sized probe (spirals 2048, MLP 64-64, SGD+momentum, H = ${q.readme.epochs}) | ${f(q.readme.s, 2)} s | ${met(q.readme.s <= T.readme_wall_s)} |`,
  );
  lines.push('');
  lines.push('Notes:', '');
  lines.push(
    `- Horizon input: ${q.horizon_via === 'training.epochs' ? 'the server took `training.epochs`.' : 'the server answered 422 to `training` (it predates it), so these numbers are the baseline with the candidates validated for the full horizon through `validation.epochs` (default 3 for "validated without training").'} The README probe answered with method \`${q.readme.method}\`, lr ${lrFmt(q.readme.lr)}, ${q.readme.candidate_epochs} candidate-epochs (via ${q.readme.via}); its wall time includes the range test (cold cache).`,
  );
  lines.push(
    `- Compute: candidate-epochs are the \`epochs_run\` of the answer's \`validation.candidates\` (so successive halving counts), over the issue's yardstick of a 10-point grid trained for H epochs. Counting the range test too (its steps_run as epochs of the training split): median ${pct(median(sharesRt))}, worst ${pct(sharesRt.length ? Math.max(...sharesRt) : null)}.`,
  );
  lines.push(
    `- Wall time per suggestion (local workerd on this machine, range test included, from Node): ${q.rows.map((r) => `${r.id} ${f(r.suggest_s, 1)} s`).join(', ')}; without training (cached range test): median ${f(median(q.rows.map((r) => r.suggest_defaults_s)), 1)} s.`,
  );
  const zeros = q.rows.filter(
    (r) =>
      r.grid.some((g) => g.errors?.some((e) => /exactly 0/.test(e))) ||
      Object.values(r.methods).some(() => false),
  );
  if (zeros.length)
    lines.push(
      `- Some ground-truth trials finished \`complete\` with a validation loss of exactly 0 after epochs with losses in the hundreds (${zeros.map((r) => r.id).join(', ')}, high lrs: saturated outputs); the bench counts them as diverged, and lr/suggest counts such candidates as unstable (they cannot win).`,
    );
  lines.push(
    `- Default lrs (torch.optim's; Keras's 0.01 for SGD): SGD 0.01, Adam/AdamW 1e-3, RMSprop 1e-2. "div." = diverged (the trial failed) on at least one seed; it counts as infinitely bad in the medians and worst ratios.`,
  );
  if (q.restarts?.length)
    lines.push(
      `- The local queue stalled (no trial progress for ${STALL_MS / 1000} s) and the task ran again on a fresh Worker: ${q.restarts.join('; ')}.`,
    );
  lines.push(
    "- Each task runs on a fresh local Worker and store, and a task whose ground truth stalls runs once more. The local stall itself (miniflare's queue broker dying on a dead loopback keep-alive socket, cloudflare/workers-sdk#14848) is fixed: training yields to workerd's event loop and scripts/loopback-keepalive.mjs applies the upstream fix.",
  );
  if (q.wine_rerun)
    lines.push(
      `- wine-wide-adam was rerun alone after ${q.wine_rerun.after}; the README probe took ${q.wine_rerun.readme_s_in_rerun.toFixed(1)} s in that rerun (the full run's ${q.readme.s.toFixed(1)} s had three other test runs on the same 2 cores).`,
    );
  const inc = q.rows.filter((r) => r.incomplete_studies?.length);
  if (inc.length) {
    lines.push(
      `- **Incomplete ground truth**: ${inc.map((r) => `${r.id} seed(s) ${r.incomplete_studies.map((x) => `${x.seed} (${x.reason})`).join(', ')}`).join('; ')}: the local Worker stopped answering or the study ran past ${STUDY_DEADLINE_MS / 1000} s; lrs without a result on every seed count as diverged there, so those rows are not trustworthy.`,
    );
  }
  lines.push(
    "- bench/data/README.md gives the datasets' sources and licence; linnerud (20 rows) is exported but too small for a held-out grid, so no task uses it.",
  );
  lines.push('');
}

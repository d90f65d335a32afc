// `npm run bench`: training-step throughput of the reference probe inside
// workerd (TF.js WASM-SIMD and CPU backends), the end-to-end LR range test,
// and a native anchor (PyTorch, one CPU thread); then sampler quality
// (bench/samplers.ts, with Optuna's TPE as the anchor: bench/optuna_ref.py)
// and the latency of an ask through HTTP and the study's Durable Object.
// Writes bench/RESULTS.md and bench/results.json. Starts the bench Worker
// (bench/worker.ts) and then the main Worker (wrangler.toml, on a temporary
// local D1/Durable Object store) through wrangler's programmatic API, and
// stops each before going on.
//
// Then the LR suggestions on scikit-learn's bundled datasets against a
// full-training LR grid (bench/lr-real.mjs, data in bench/data/), and the same tasks from the
// Python client in PyTorch, with what its reports cost a training loop (bench/lr-client.mjs,
// bench/lr_client.py), and the LR cost-quality frontier on the PyTorch tasks of bench/lr_tasks.py
// (bench/lr-frontier.mjs, bench/lr_frontier.py; writes bench/lr-frontier.svg).
//
// Usage: node bench/run.mjs [--seconds 2] [--only tfjs,samplers,latency,lr-real,lr-client,lr-frontier,multiobjective,optuna-storage,failures,reports,fleet,dashboard] | --render
//   --only runs just the named sections and replaces only theirs in
//   bench/results.json and bench/RESULTS.md; the other sections keep their
//   last results (and the machine line of the run that measured them).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStride, startWorker } from '../scripts/local-worker.mjs';
import {
  findOptunaPython,
  findTorchPython,
  lastJsonLine,
  runTsJson,
  log,
  mannWhitneyU,
  mulberry32,
  quantile,
  scipyMannWhitney,
} from './common.mjs';
import { dashboardSection, renderDashboard } from './dashboard.mjs';
import { lrClientSection, renderLrClient } from './lr-client.mjs';
import { lrFrontierSection, renderLrFrontier } from './lr-frontier.mjs';
import { DEFAULT_LR, lrRealSection, renderLrReal } from './lr-real.mjs';
import { multiobjectiveSection, renderMultiobjective } from './multiobjective.mjs';
import { optunaStorageSection, renderOptunaStorage } from './optuna-storage.mjs';
import { failuresSection, renderFailures } from './failures.mjs';
import { renderReports, reportsSection } from './reports.mjs';
import { fleetSection, renderFleet } from './fleet.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 2;
const argOnly = process.argv.indexOf('--only');
const ALL_SECTIONS = [
  'tfjs',
  'samplers',
  'latency',
  'lr-real',
  'lr-client',
  'lr-frontier',
  'multiobjective',
  'optuna-storage',
  'failures',
  'reports',
  'fleet',
  'dashboard',
];
const SECTIONS = new Set(argOnly > 0 ? process.argv[argOnly + 1].split(',') : ALL_SECTIONS);
for (const s of SECTIONS)
  if (!ALL_SECTIONS.includes(s))
    throw new Error(`--only: unknown section '${s}' (sections: ${ALL_SECTIONS.join(', ')})`);

const PARAMS = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10; // 235146
const BATCH = 64;
const FLOPS_PER_STEP = 6 * PARAMS * BATCH;

const RUNS = [
  { variant: 'naive', backend: 'wasm' },
  { variant: 'naive-transpose', backend: 'wasm' },
  { variant: 'stride', backend: 'wasm' },
  { variant: 'matmul-only', backend: 'wasm' },
  { variant: 'naive', backend: 'cpu' },
  { variant: 'stride', backend: 'cpu' },
];

const LABELS = {
  naive: 'naive (tf.variable + minimize)',
  'naive-transpose': 'naive + explicit transposes (customGrad)',
  stride: 'stride (hand-written step)',
  'matmul-only': 'only the 8 plain matMuls of a step (ceiling, not training)',
  'range-test': 'LR range test, end to end (100 steps)',
  pytorch: 'PyTorch, 1 thread (native anchor)',
};

function version(pkg) {
  try {
    return JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8'))
      .version;
  } catch {
    return 'unknown';
  }
}

async function getJson(base, pathAndQuery) {
  const t0 = performance.now();
  const res = await fetch(new URL(pathAndQuery, base));
  const text = await res.text();
  const wallMs = performance.now() - t0;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${pathAndQuery}: HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (!res.ok || body.error)
    throw new Error(`${pathAndQuery}: HTTP ${res.status}: ${body.error}\n${body.stack ?? ''}`);
  return { ...body, request_wall_s: wallMs / 1000 };
}

/** A Worker in local workerd on a free loopback port, without watching, inspector or remote calls. */
async function workerdRuns() {
  // Local only: do not try to download the `Request.cf` object.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  log('starting the bench Worker (wrangler unstable_startWorker)...');
  const worker = await startWorker(path.join(here, 'wrangler.toml'), { persist: false });
  try {
    await worker.ready;
    const base = await worker.url;
    log(`worker at ${base}`);
    // Do the clocks advance inside a request? (Deployed Workers freeze them
    // during execution; local workerd should not.)
    // The first request also pays for isolate start-up; check on the second.
    await getJson(base, '/clock');
    const clock = await getJson(base, '/clock');
    const wallMs = clock.request_wall_s * 1000;
    const clockOk =
      clock.performance_ms > 0.5 * wallMs &&
      clock.performance_ms <= wallMs + 5 &&
      Math.abs(clock.date_ms - clock.performance_ms) < 50;
    clock.ok = clockOk;
    log(
      `clock check: performance.now() moved ${clock.performance_ms.toFixed(0)} ms, Date.now() ${clock.date_ms} ms, request took ${(clock.request_wall_s * 1000).toFixed(0)} ms -> ${clockOk ? 'ok' : 'NOT OK'}`,
    );
    if (!clockOk)
      throw new Error(
        'timers inside workerd do not advance during a request; timings would be meaningless',
      );
    const rows = [];
    for (const r of RUNS) {
      log(`running ${r.variant} on ${r.backend}...`);
      const row = await getJson(
        base,
        `/run?variant=${r.variant}&backend=${r.backend}&seconds=${SECONDS}`,
      );
      log(
        `  ${row.steps} steps in ${row.seconds.toFixed(2)} s: ${row.steps_per_s.toFixed(1)} steps/s, ${row.gflops.toFixed(2)} GFLOP/s (backend ${row.backend}, request ${row.request_wall_s.toFixed(2)} s)`,
      );
      rows.push(row);
    }
    log('running the LR range test...');
    const range = await getJson(base, '/range');
    log(
      `  ${range.steps} steps in ${range.seconds.toFixed(2)} s: ${range.steps_per_s.toFixed(1)} steps/s`,
    );
    rows.push(range);
    return { clock, rows };
  } finally {
    await worker.dispose();
    log('worker stopped');
  }
}

function torchRun() {
  const py = findTorchPython();
  if (!py)
    return {
      skipped: 'torch not found (tried /usr/bin/python3, python3): apt-get install python3-torch',
    };
  // One thread for BLAS/OpenMP too, not only torch's intra-op pool.
  const env = {
    ...process.env,
    OMP_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
  };
  log(`running bench/torch_ref.py with ${py}...`);
  const r = spawnSync(py, [path.join(here, 'torch_ref.py'), String(SECONDS)], {
    encoding: 'utf8',
    timeout: 120_000,
    env,
  });
  if (r.status !== 0)
    return {
      skipped: `torch_ref.py failed (${py}, exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')}`,
    };
  const line = r.stdout.trim().split('\n').pop();
  const row = { ...JSON.parse(line), python_path: py };
  log(
    `  ${row.steps} steps in ${row.seconds.toFixed(2)} s: ${row.steps_per_s.toFixed(1)} steps/s, ${row.gflops.toFixed(2)} GFLOP/s`,
  );
  return row;
}

const fmt = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');

function ratioLine(name, num, den, target) {
  if (!num || !den) return { name, value: null, target, pass: null };
  const value = num.steps_per_s / den.steps_per_s;
  return { name, value, target, pass: target == null ? null : value >= target };
}

function render(results) {
  const { machine } = results;
  const lines = [];
  lines.push('# stride bench results', '');
  lines.push('Generated by `npm run bench` (bench/run.mjs). Do not edit by hand.', '');
  lines.push(
    `Machine: ${machine.cpu_model}, ${machine.cores} cores; Node ${machine.node}; wrangler ${machine.wrangler}, workerd ${machine.workerd}; TF.js ${machine.tfjs}; ${machine.date} (load average at start ${machine.loadavg_start.map((v) => v.toFixed(2)).join(', ')}).`,
    '',
  );
  if (results.rows) renderTfjs(results, lines);
  else
    lines.push(
      '## Training-step throughput (TF.js in workerd)',
      '',
      'Not run this time (`--only` without `tfjs`).',
      '',
    );
  if (results.samplers) {
    sectionMachine(results.samplers, machine, lines, 'Sampler quality');
    renderSamplers(results.samplers, lines);
  }
  if (results.latency) {
    sectionMachine(
      results.latency,
      machine,
      lines,
      'Ask latency, runners, edge study and LR suggestions against a synthetic grid',
    );
    renderLatency(results.latency, lines);
  }
  if (results.lr_real) renderLrReal(results.lr_real, lines);
  if (results.lr_client) renderLrClient(results.lr_client, lines);
  if (results.lr_frontier) renderLrFrontier(results.lr_frontier, lines);
  if (results.multiobjective) {
    sectionMachine(results.multiobjective, machine, lines, 'Several objectives');
    renderMultiobjective(results.multiobjective, lines);
  }
  if (results.optuna_storage) {
    sectionMachine(results.optuna_storage, machine, lines, 'Optuna storages');
    renderOptunaStorage(results.optuna_storage, lines);
  }
  if (results.failures) {
    sectionMachine(results.failures, machine, lines, 'Failures and pruning');
    renderFailures(results.failures, lines);
  }
  if (results.reports) {
    sectionMachine(results.reports, machine, lines, 'Reports at scale');
    renderReports(results.reports, lines);
  }
  if (results.fleet) {
    sectionMachine(results.fleet, machine, lines, 'A fleet, simulated');
    renderFleet(results.fleet, lines);
  }
  if (results.dashboard) {
    sectionMachine(results.dashboard, machine, lines, 'The dashboard at scale');
    renderDashboard(results.dashboard, lines);
  }
  return lines.join('\n');
}

/** Sections measured by a later `--only` run say so, with that run's machine line. */
function sectionMachine(section, top, lines, what) {
  const m = section.machine;
  if (!m || m.date === top.date) return;
  lines.push(
    `(${what}: measured separately, \`--only\` on ${m.date}: ${m.cpu_model}, ${m.cores} cores; Node ${m.node}; wrangler ${m.wrangler}, workerd ${m.workerd}; load average at start ${m.loadavg_start.map((v) => v.toFixed(2)).join(', ')}.)`,
    '',
  );
}

function renderTfjs(results, lines) {
  const { clock, rows, torch, ratios } = results;
  lines.push('## Training-step throughput (TF.js in workerd)', '');
  lines.push(
    'Reference probe: MLP 784-256-128-10, ReLU, batch 64, softmax cross-entropy, plain SGD (lr 0.01), random data (8 pre-built batches, cycled).',
    `GFLOP/s counts 6 × parameters × batch FLOPs per step (forward 2·P·B + backward 4·P·B) with P = 784·256+256 + 256·128+128 + 128·10+10 = ${PARAMS}, i.e. ${(FLOPS_PER_STEP / 1e6).toFixed(1)} MFLOP per step.`,
    `Timing: 5 warm-up steps, then steps until ≥ ${SECONDS} s elapsed (and ≥ 20 steps), reading the loss with dataSync() every step; measured with performance.now() inside workerd (one variant per request).`,
    '',
  );
  lines.push(
    '| Variant | Backend | Steps | Time (s) | Steps/s | GFLOP/s | Median step (ms) | Last loss |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const label = LABELS[r.variant] ?? r.variant;
    const backend = `${r.backend} (workerd)`;
    lines.push(
      `| ${label} | ${backend} | ${r.steps}${r.stopped_early ? ' (stopped early)' : ''} | ${fmt(r.seconds)} | ${fmt(r.steps_per_s, 1)} | ${fmt(r.gflops)} | ${fmt(r.step_ms_median ?? (r.seconds * 1000) / r.steps, 1)} | ${fmt(r.last_loss, 3)} |`,
    );
  }
  if (torch.skipped) {
    lines.push(`| ${LABELS.pytorch} | — | — | — | — | — | — | — |`);
  } else {
    lines.push(
      `| ${LABELS.pytorch} | torch ${torch.torch} CPU, ${torch.threads} thread | ${torch.steps} | ${fmt(torch.seconds)} | ${fmt(torch.steps_per_s, 1)} | ${fmt(torch.gflops)} | ${fmt((torch.seconds * 1000) / torch.steps, 1)} | ${fmt(torch.last_loss, 3)} |`,
    );
  }
  lines.push('');
  lines.push('| Ratio (steps/s) | Value | Target |');
  lines.push('|---|---:|---|');
  for (const q of ratios) {
    const target =
      q.target == null
        ? ''
        : `≥ ${q.target} ${q.pass == null ? '' : q.pass ? '(met)' : '(NOT met)'}`;
    lines.push(`| ${q.name} | ${q.value == null ? '—' : q.value.toFixed(2) + '×'} | ${target} |`);
  }
  lines.push('');
  lines.push('Notes:', '');
  lines.push(
    `- Clock check: inside one request, a busy loop moved performance.now() by ${fmt(clock.performance_ms, 0)} ms and Date.now() by ${clock.date_ms} ms while the request took ${fmt(clock.request_wall_s * 1000, 0)} ms as seen from Node: timers advance in local workerd. performance.now() there has 1 ms resolution, hence the round per-step medians.`,
  );
  const range = rows.find((r) => r.variant === 'range-test');
  if (range) {
    lines.push(
      `- The LR range test row is \`runRangeTest\` end to end (dataset generation, model init and suggestion included; default range ${range.range.min_lr}..${range.range.max_lr}, ${range.range.steps} steps, ${range.range.mode}) on the reference probe with the synthetic blobs dataset (n 4096); ${range.steps} steps run${range.stopped_early ? ' (stopped early: divergence)' : ''}; its GFLOP/s counts training steps only. Generating the dataset alone took ${fmt(range.data_seconds)} s (timed separately), so the training part runs at about ${fmt(range.train_steps_per_s, 1)} steps/s.`,
    );
  }
  if (torch.skipped) lines.push(`- PyTorch row skipped: ${torch.skipped}.`);
  else {
    lines.push(
      `- PyTorch: ${torch.python_path} (Python ${torch.python}), torch ${torch.torch}, torch.set_num_threads(1), loss.item() every step (bench/torch_ref.py); BLAS_INFO=${torch.blas_info}, MKL ${torch.mkl ? 'yes' : 'no'}, BLAS library ${torch.blas_libs?.join(', ') || 'none found'}.`,
    );
    if (torch.reference_blas) {
      lines.push(
        '- **Caveat: this PyTorch multiplies with the netlib reference BLAS** (Debian\'s python3-torch links libblas.so.3, and no optimised provider such as libopenblas0 or libblis4 is installed as its alternative). Its GEMMs are an order of magnitude slower than those of a PyTorch wheel (MKL/oneDNN) or an OpenBLAS-backed build, so this row understates native single-thread speed and the "/ PyTorch" ratios overstate stride. Set BENCH_TORCH_PYTHON to a Python whose torch uses an optimised BLAS for a fair anchor.',
      );
    }
  }
  lines.push(
    "- The matmul-only row is not a training step: it times just the eight plain matMuls one step needs (x·W1, a1·W2, a2·W3; x\u1d40·dz1, a1\u1d40·dz2, a2\u1d40·dz3; dz3·W3\u1d40, dz2·W2\u1d40) on pre-transposed inputs, i.e. the ceiling for any step built on the backend's matMul.",
  );
  lines.push(
    '- What each change to the training step bought (reference probe, WASM-SIMD, this machine, measured while it was built on 2026-11-28; the rows above re-measure the first, second and last): ' +
      'naive tf.variableGrads step ~23-25 steps/s; explicit transposes so every product is a plain matMul (customGrad) ~79 (3.1x: the transposed matMuls were the bottleneck); ' +
      'hand-written forward/backward with loss and logit gradient in JS, no first-layer input gradient, no autodiff tape ~104 (1.3x); ' +
      'transposed layout with weights stored as W\u1d40 so a weight is never the operand XNNPACK packs (it repacked the 784x256 weight every step, since an update makes a new tensor) ~170 (1.6x).',
  );
  lines.push(
    '- Naive variants: tf.variable parameters, relu(matMul(x, W) + b), tf.losses.softmaxCrossEntropy, tf.train.sgd(0.01).minimize (tf.variableGrads); the "explicit transposes" variant wraps the dense matMul in tf.customGrad with dx = matMul(dy, transpose(W)), dW = matMul(transpose(x), dy).',
  );
  lines.push('');
}

// ---------------------------------------------------------------------------
// Sampler quality: stride's samplers (bench/samplers.ts, through tsx) and
// Optuna's TPE (bench/optuna_ref.py) on the same problems and seeds.

const QUALITY_TRIALS = 50;
const QUALITY_SEEDS = 20;
const QUALITY_SAMPLERS = ['random', 'qmc', 'tpe', 'tpe:multivariate=true', 'gp', 'auto'];
/** Two-sided significance level of the Mann-Whitney U tests. */
const ALPHA = 0.05;
/** Column label of a sampler spec (bench/samplers.ts takes `name:option=value`). */
const samplerLabel = (s) => (s === 'tpe:multivariate=true' ? 'tpe (multivariate)' : s);

function strideSamplers() {
  log(
    `sampler quality: npx tsx bench/samplers.ts (${QUALITY_SAMPLERS.join(', ')}; ${QUALITY_TRIALS} trials x ${QUALITY_SEEDS} seeds x all problems)...`,
  );
  const out = runTsJson(
    'samplers.ts',
    { trials: QUALITY_TRIALS, seeds: QUALITY_SEEDS, samplers: QUALITY_SAMPLERS },
    1_800_000,
  );
  log(`  done in ${out.seconds.toFixed(1)} s`);
  return out;
}

/** Optuna's TPE on the problems; `fixLogpdf`: with the upstream fix of optuna#5109 patched in (see optuna_ref.py). */
function optunaRun(fixLogpdf = false) {
  const py = findOptunaPython();
  if (!py)
    return {
      skipped: 'optuna not found (tried /usr/bin/python3, python3): apt-get install python3-optuna',
    };
  log(
    `running bench/optuna_ref.py${fixLogpdf ? ' --fix-logpdf' : ''} with ${py} (TPESampler defaults; ${QUALITY_TRIALS} trials x ${QUALITY_SEEDS} seeds x all problems)...`,
  );
  const args = [
    path.join(here, 'optuna_ref.py'),
    '--trials',
    String(QUALITY_TRIALS),
    '--seeds',
    String(QUALITY_SEEDS),
    ...(fixLogpdf ? ['--fix-logpdf'] : []),
  ];
  const r = spawnSync(py, args, {
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0)
    return {
      skipped: `optuna_ref.py failed (${py}, exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' ')}`,
    };
  const out = lastJsonLine(r.stdout);
  for (const cell of Object.values(out.results)) {
    cell.median = quantile(cell.regrets, 0.5);
    cell.q25 = quantile(cell.regrets, 0.25);
    cell.q75 = quantile(cell.regrets, 0.75);
  }
  log(`  done in ${out.seconds.toFixed(1)} s (optuna ${out.optuna})`);
  return out;
}

const sameNumber = (a, b) => Math.abs(a - b) <= 1e-12 + 1e-9 * Math.max(Math.abs(a), Math.abs(b));

/** wins/ties/losses of medians (lower regret wins) of `a` against `b` over the problems. */
function tally(problems, a, b) {
  const t = { wins: 0, ties: 0, losses: 0 };
  for (const p of problems) {
    const x = a(p);
    const y = b(p);
    if (sameNumber(x, y)) t.ties++;
    else if (x < y) t.wins++;
    else t.losses++;
  }
  return t;
}

function samplerSection() {
  const stride = strideSamplers();
  const optuna = optunaRun();
  // An Optuna with the logpdf bug (optuna#5109; Debian's 3.1.0 has it) runs a second time with the fix.
  const optunaFixed = !optuna.skipped && optuna.logpdf_scale_bug ? optunaRun(true) : null;
  const problems = stride.problems.map((p) => p.name);
  const section = {
    trials: stride.trials,
    seeds: stride.seeds,
    samplers: stride.samplers,
    problems: stride.problems,
    stride: stride.results,
    optuna,
    optuna_fixed: optunaFixed,
    checks: stride.checks,
    node_seconds: stride.seconds,
  };
  // The two implementations of the problems must agree (argmin and four fixed points).
  if (!optuna.skipped) {
    const mismatches = [];
    for (const p of problems) {
      const a = stride.checks[p];
      const b = optuna.checks?.[p];
      if (
        !b ||
        a.length !== b.length ||
        a.some((v, i) => !sameNumber(v, b[i]) && Math.abs(v - b[i]) > 1e-12)
      )
        mismatches.push(p);
    }
    section.check_mismatches = mismatches;
    const med = (p, s) => stride.results[p][s].median;
    const opt = (p) => optuna.results[p].median;
    const best = (p) => Math.min(...stride.samplers.map((s) => med(p, s)));
    section.comparison = {
      best_stride_vs_optuna: tally(problems, best, opt),
      per_sampler: Object.fromEntries(
        stride.samplers.map((s) => [s, tally(problems, (p) => med(p, s), opt)]),
      ),
      // Geometric mean over problems of (stride TPE median / Optuna TPE median); < 1: stride lower.
      tpe_median_ratio_geomean: Math.exp(
        problems.reduce(
          (acc, p) => acc + Math.log(Math.max(med(p, 'tpe'), 1e-300) / Math.max(opt(p), 1e-300)),
          0,
        ) / problems.length,
      ),
    };
    // auto against Optuna TPE, problem by problem: medians and a two-sided Mann-Whitney U test.
    if (stride.samplers.includes('auto')) {
      const tests = problems.map((p) => {
        const a = stride.results[p].auto.regrets;
        const b = optuna.results[p].regrets;
        const { u, p: pValue } = mannWhitneyU(a, b);
        const lower = med(p, 'auto') < opt(p);
        return {
          problem: p,
          auto: med(p, 'auto'),
          gp: med(p, 'gp'),
          tpe: med(p, 'tpe'),
          optuna: opt(p),
          u,
          p: pValue,
          lower,
          significant: pValue < ALPHA,
        };
      });
      // The check of mannWhitneyU: scipy's p-values on the same vectors.
      const scipy = scipyMannWhitney(
        problems.map((p) => [stride.results[p].auto.regrets, optuna.results[p].regrets]),
      );
      const check = scipy
        ? { max_abs_diff: Math.max(...scipy.map((v, i) => Math.abs(v - tests[i].p))), scipy }
        : null;
      section.auto_vs_optuna = {
        alpha: ALPHA,
        tests,
        lower: tests.filter((t) => t.lower).length,
        lower_significant: tests.filter((t) => t.lower && t.significant).length,
        higher_significant: tests.filter((t) => !t.lower && t.significant).length,
        scipy_check: check,
      };
    }
    if (optunaFixed && !optunaFixed.skipped) {
      const fixed = (p) => optunaFixed.results[p].median;
      section.comparison.vs_fixed = {
        best_stride: tally(problems, best, fixed),
        per_sampler: Object.fromEntries(
          stride.samplers.map((s) => [s, tally(problems, (p) => med(p, s), fixed)]),
        ),
        tpe_median_ratio_geomean: Math.exp(
          problems.reduce(
            (acc, p) =>
              acc + Math.log(Math.max(med(p, 'tpe'), 1e-300) / Math.max(fixed(p), 1e-300)),
            0,
          ) / problems.length,
        ),
      };
    }
  }
  return section;
}

/** Three significant digits; exponent form for very small or large values. */
function sig(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(2).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

function renderSamplers(q, lines) {
  const { optuna } = q;
  const fixed = q.optuna_fixed && !q.optuna_fixed.skipped ? q.optuna_fixed : null;
  const problems = q.problems.map((p) => p.name);
  const cols = [
    ...q.samplers.map((s) => ({ label: samplerLabel(s), cell: (p) => q.stride[p][s] })),
  ];
  if (!optuna.skipped) cols.push({ label: 'optuna-tpe', cell: (p) => optuna.results[p] });
  if (fixed) cols.push({ label: 'optuna-tpe + #5110 fix', cell: (p) => fixed.results[p] });
  lines.push('## Sampler quality', '');
  lines.push(
    `Simple regret (best value found − known global minimum; lower is better) after ${q.trials} sequential trials, median [25th–75th percentile] over seeds ${q.seeds[0]}..${q.seeds[q.seeds.length - 1]} (${q.seeds.length} runs per cell; quantiles interpolate linearly). ` +
      `stride: \`makeSampler({ name, seed })\` with default options (tpe (multivariate): \`{ multivariate: true }\`; gp warps the values with a fitted Yeo-Johnson transform by default), one \`sample()\` per trial on the full history (bench/samplers.ts, Node ${process.version}). ` +
      (optuna.skipped
        ? ''
        : `optuna-tpe: Optuna ${optuna.optuna} \`TPESampler(seed=seed)\` with defaults (Python ${optuna.python}, ${optuna.python_path}; bench/optuna_ref.py). `) +
      'Bold: lowest median in the row.',
    '',
  );
  lines.push(`| Problem | ${cols.map((c) => c.label).join(' | ')} |`);
  lines.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const p of problems) {
    const medians = cols.map((c) => c.cell(p).median);
    const lowest = Math.min(...medians);
    const cells = cols.map((c) => {
      const x = c.cell(p);
      const m = sig(x.median);
      return `${sameNumber(x.median, lowest) ? `**${m}**` : m} [${sig(x.q25)}, ${sig(x.q75)}]`;
    });
    lines.push(`| ${p} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  if (optuna.skipped) {
    lines.push(`Optuna anchor skipped: ${optuna.skipped}.`, '');
  } else {
    const c = q.comparison;
    const n = problems.length;
    const b = c.best_stride_vs_optuna;
    const t = c.per_sampler.tpe;
    lines.push(
      '| Comparison of medians with Optuna TPE | stride lower | tie | Optuna lower | Target |',
    );
    lines.push('|---|---:|---:|---:|---|');
    lines.push(
      `| best stride sampler per problem | ${b.wins} | ${b.ties} | ${b.losses} | lower on ≥ 6 of ${n}: ${b.wins >= 6 ? 'met' : '**NOT met**'} |`,
    );
    for (const s of q.samplers) {
      const x = c.per_sampler[s];
      const target =
        s === 'tpe'
          ? `at least as good (lower or tied on ≥ as many problems as it loses): ${t.wins + t.ties >= t.losses ? 'met' : '**NOT met**'}`
          : '';
      lines.push(`| stride ${samplerLabel(s)} | ${x.wins} | ${x.ties} | ${x.losses} | ${target} |`);
    }
    lines.push('');
    const av = q.auto_vs_optuna;
    if (av) {
      const met = av.lower === n && av.lower_significant * 2 > n;
      lines.push(
        `**Target: \`auto\` lower median regret than Optuna TPE on every problem, significantly (two-sided Mann–Whitney U, p < ${av.alpha}) on most: ${met ? 'met' : '**NOT met**'}** — lower on ${av.lower} of ${n}, significantly on ${av.lower_significant}; significantly higher on ${av.higher_significant}.`,
        '',
      );
      lines.push(
        '| Problem | auto | gp | tpe | optuna-tpe | U (auto) | p (two-sided) | auto vs Optuna |',
      );
      lines.push('|---|---:|---:|---:|---:|---:|---:|---|');
      for (const t of av.tests) {
        const verdict = t.significant
          ? t.lower
            ? 'lower, significant'
            : '**higher, significant**'
          : t.lower
            ? 'lower, n.s.'
            : '**higher**, n.s.';
        lines.push(
          `| ${t.problem} | ${sig(t.auto)} | ${sig(t.gp)} | ${sig(t.tpe)} | ${sig(t.optuna)} | ${t.u} | ${t.p < 1e-4 ? t.p.toExponential(1) : t.p.toFixed(4)} | ${verdict} |`,
        );
      }
      lines.push('');
      lines.push(
        av.scipy_check
          ? `The test (\`mannWhitneyU\` in bench/common.mjs: normal approximation, tie-corrected variance, continuity correction) was checked on these ${n} pairs of vectors against scipy.stats.mannwhitneyu(alternative='two-sided', method='asymptotic'): largest difference in p ${av.scipy_check.max_abs_diff.toExponential(1)}.`
          : 'scipy was not found, so the test was not checked against scipy.stats.mannwhitneyu in this run.',
        '',
      );
    }
    lines.push(
      `Geometric mean over the ${n} problems of (stride TPE median regret / Optuna TPE median regret): ${c.tpe_median_ratio_geomean.toFixed(2)} (< 1: stride's TPE lower).`,
      '',
    );
    if (optuna.logpdf_scale_bug) {
      lines.push(
        `**Caveat: this Optuna (${optuna.optuna}) has the TPE density bug optuna/optuna#5109**: \`_truncnorm.logpdf\` omits the −log(σ) term, so its Parzen estimators l(x) and g(x) are not normalised densities (a kernel of width σ counts σ times too much) and it is a different algorithm from the TPE of Optuna ≥ 3.5 (fixed by optuna/optuna#5110) — and from stride's, which follows the corrected formula. The targets above are judged against it as installed, as asked; the last column runs the same Optuna with the upstream fix patched in (bench/optuna_ref.py --fix-logpdf), i.e. like-for-like with stride's TPE:`,
        '',
      );
      if (c.vs_fixed) {
        const f = c.vs_fixed;
        lines.push(
          '| Comparison of medians with Optuna TPE + fix | stride lower | tie | Optuna lower |',
        );
        lines.push('|---|---:|---:|---:|');
        lines.push(
          `| best stride sampler per problem | ${f.best_stride.wins} | ${f.best_stride.ties} | ${f.best_stride.losses} |`,
        );
        for (const s of q.samplers)
          lines.push(
            `| stride ${samplerLabel(s)} | ${f.per_sampler[s].wins} | ${f.per_sampler[s].ties} | ${f.per_sampler[s].losses} |`,
          );
        lines.push('');
        lines.push(
          `Geometric mean of (stride TPE median / fixed Optuna TPE median): ${f.tpe_median_ratio_geomean.toFixed(2)}.`,
          '',
        );
      } else if (q.optuna_fixed?.skipped) {
        lines.push(`(The fixed run failed: ${q.optuna_fixed.skipped}.)`, '');
      }
    }
  }
  lines.push(
    'Time per suggestion (ms): stride = mean wall time of one `sample()` call over all trials and seeds (in brackets: trials 41–50 only, where the model-based samplers work on 40+ trials); optuna-tpe = mean time per trial of `study.optimize` (sampling, in-memory storage and the objective).',
    '',
  );
  lines.push(`| Problem | ${cols.map((c) => c.label).join(' | ')} |`);
  lines.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const p of problems) {
    const cells = q.samplers.map(
      (s) =>
        `${fmt(q.stride[p][s].ms_per_sample_mean, 2)} [${fmt(q.stride[p][s].ms_per_sample_late, 2)}]`,
    );
    if (!optuna.skipped) cells.push(fmt(optuna.results[p].ms_per_trial, 2));
    if (fixed) cells.push(fmt(fixed.results[p].ms_per_trial, 2));
    lines.push(`| ${p} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Notes:', '');
  lines.push(
    '- Problems and domains: Branin x1 ∈ [−5, 10], x2 ∈ [0, 15] (min 0.397887); Hartmann6 [0, 1]^6 (min −3.32237); Rosenbrock [−5, 10]^4 (min 0); Ackley [−32.768, 32.768]^5 (min 0); Levy [−10, 10]^4 (min 0); Styblinski-Tang [−5, 5]^5 (min −39.16617 × 5); six-hump camel x1 ∈ [−3, 3], x2 ∈ [−2, 2] (min −1.031628). All parameters plain (linear) floats.',
  );
  lines.push(
    '- LR/optimizer (conditional): `optimizer` ∈ {sgd, adam, rmsprop}; `lr` log-uniform [1e−5, 1]; `weight_decay` log-uniform [1e−6, 0.1]; `momentum` [0, 0.99] only for sgd; `beta2` [0.9, 0.9999] only for adam. A smooth synthetic validation loss: sgd 0.25 + 0.1·(log10 lr − log10(0.1·(1 − m)))² + 0.5·(m − 0.9)²; adam 0.20 + 0.1·(log10 lr + 3.5)² + 0.04·(log10(1 − β2) + 2.5)²; rmsprop 0.23 + 0.12·(log10 lr + 3)²; plus 0.02·(log10 wd + 4)² for all and a divergence wall 3·max(0, log10 lr − limit)² (limit −0.5 for sgd, −2 otherwise). Global minimum 0.20 (adam, lr 10^−3.5, β2 = 1 − 10^−2.5, wd 1e−4); the best sgd and rmsprop runs reach 0.25 and 0.23, so a regret below 0.03 means the search found adam. In Optuna the conditional parameters are suggested inside `if` branches.',
  );
  lines.push(
    '- Real surfaces (bench/surfaces.json, written by `/usr/bin/python3 bench/make_surfaces.py`): the final validation loss of small PyTorch MLPs (one thread, fixed seeds) over a grid of two hyperparameters, interpolated bilinearly in the internal scale (log10 for log parameters), so the known minimum is the best grid node. digits-sgd: digits, MLP 64-64-10, SGD, 15 epochs, lr log-uniform [1e−4, 1] (17 nodes) × momentum [0, 0.99] (10 nodes). breast-cancer-adam: breast_cancer, MLP 30-32-2, Adam, 30 epochs, lr log-uniform [1e−5, 1] (16 nodes) × weight_decay log-uniform [1e−6, 0.1] (11 nodes). digits-noisy-sgd: digits with 30% of the training labels replaced by random classes (clean validation labels), as digits-sgd: fitting the noise costs, so the best lr and momentum sit inside the range. digits-adamw: digits, MLP 64-64-10, AdamW (decoupled decay), 10 epochs, lr log-uniform [1e−5, 1] (16 nodes) × weight_decay log-uniform [1e−4, 1] (9 nodes). Diverged runs score 5. The first two minima are single grid nodes on a noisy plateau (breast-cancer-adam: 0.061 against ~0.07 around it), so regrets there are small for every model-based sampler.',
  );
  if (q.check_mismatches) {
    lines.push(
      q.check_mismatches.length === 0
        ? '- Cross-check: both implementations of each problem give the same values (to 1e−9) at its known minimiser and at four fixed points of its space.'
        : `- **Cross-check FAILED**: the TypeScript and Python definitions disagree on ${q.check_mismatches.join(', ')}; the Optuna column is not comparable there.`,
    );
  }
  lines.push(
    `- Random and QMC do not learn; they are there as the floor a model-based sampler should beat. With ${q.seeds.length} seeds per cell, differences within the IQRs are rarely significant; the Mann–Whitney table above tests auto against Optuna.`,
  );
  lines.push(
    "- `auto` (the default): QMC for the first 10 complete trials, then GP for spaces that are not mostly categorical while the study has fewer than 300 complete trials, TPE (multivariate) otherwise (src/tuning/samplers/auto.ts). On these 50-trial runs it is the GP after a Sobol' start instead of a random one.",
  );
  lines.push(
    "- Optuna's TPE defaults are those of the installed version (3.x/4.x: univariate, as stride's `tpe` default; Optuna 5 switched single-objective studies to the multivariate TPE). BENCH_OPTUNA_PYTHON names another Python (with another Optuna) to try first.",
  );
  lines.push(
    "- stride's `tpe` stays univariate by default although the multivariate column is usually better in these sequential runs: the multivariate kernel's shared (Scott) bandwidth is wide, so the constant liar barely moves g(x) and parallel workers' asks crowd around the same point (test/tuning/tpe.test.ts measures the liar on the univariate kernel). Pick `multivariate: true` for sequential studies.",
  );
  lines.push(
    "- gp's output warping (Yeo-Johnson with maximum-likelihood λ, as in HEBO) pulls in the long tail of bad values before standardising; it took Rosenbrock-4D from ~585 to ~25 and Levy-4D from ~1.3 to ~0.5 median regret when it was added (2026-11-29; `warp_output: false` turns it off).",
  );
  lines.push('');
}

// ---------------------------------------------------------------------------
// Ask latency through HTTP and the study's Durable Object (the main Worker).

const LATENCY_SAMPLERS = ['auto', 'tpe', 'gp', 'random'];
const LATENCY_POINTS = [50, 200, 500, 1000];
/** The targets of issue 14: [sampler, complete trials, median ask below (ms)]; random stands for the fixed cost. */
const LATENCY_TARGETS = [
  ['tpe', 200, 10],
  ['random', 200, 10],
  ['gp', 1000, 150],
];
/** Trials enqueued (and then asked back) per batch while filling: requests in flight at once. */
const FILL_CONCURRENCY = 16;
const LATENCY_ASKS = 15;
/**
 * At this many complete trials, SHARE_ASKS asks are timed instead (the point budget still
 * applies), so that the server-side shares' 99th percentile means something.
 */
const SHARE_POINT = 200;
const SHARE_ASKS = 100;
/** The targets of issue 22: [sampler, complete trials, its sampler share below (ms)]. */
const SHARE_TARGETS = [
  ['tpe', 200, 2],
  ['auto', 200, 30],
];
const LATENCY_WARMUP = 3;
/** Measuring at one point stops after this much time once at least LATENCY_MIN_ASKS asks are timed. */
const LATENCY_POINT_BUDGET_MS = 20_000;
const LATENCY_MIN_ASKS = 5;
const BENCH_KEY = 'bench-key';

const LATENCY_SPACE = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  weight_decay: { type: 'float', low: 1e-6, high: 0.1, log: true },
  momentum: { type: 'float', low: 0, high: 0.99 },
  batch_size: { type: 'int', low: 16, high: 512, log: true },
};

/** A smooth synthetic validation loss over LATENCY_SPACE (values only need to be plausible). */
function latencyObjective(p) {
  const u = Math.log10(p.lr);
  return (
    0.3 +
    0.1 * (u + 2.5 - 0.15 * Math.log2(p.batch_size / 64)) ** 2 +
    0.02 * (Math.log10(p.weight_decay) + 4) ** 2 +
    0.3 * (p.momentum - 0.9) ** 2
  );
}

function randomParams(rand) {
  const logU = (lo, hi) => Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo)));
  return {
    lr: logU(1e-5, 1),
    weight_decay: logU(1e-6, 0.1),
    momentum: rand() * 0.99,
    batch_size: Math.min(512, Math.max(16, Math.round(logU(16, 512)))),
  };
}

async function api(base, method, pathname, body) {
  const t0 = performance.now();
  const res = await fetch(new URL(pathname, base), {
    method,
    headers: {
      Authorization: `Bearer ${BENCH_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${method} ${pathname}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return { body: JSON.parse(text), ms, server: serverTiming(res.headers.get('Server-Timing')) };
}

/** `Server-Timing: total;dur=6.2, sampler;dur=0.84, ...` (src/api/timing.ts) as {total: 6.2, ...}. */
function serverTiming(header) {
  const out = {};
  for (const m of (header ?? '').split(',')) {
    const [name, ...params] = m.trim().split(';');
    const dur = params.find((p) => p.startsWith('dur='));
    if (name && dur) out[name] = Number(dur.slice(4));
  }
  return out;
}

/** Median, mean and 99th percentile of a list of ms. */
function spread(values) {
  return {
    median: quantile(values, 0.5),
    mean: values.reduce((a, v) => a + v, 0) / values.length,
    p99: quantile(values, 0.99),
  };
}

/** Run fn over items with at most n in flight. */
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Add `count` complete trials with fixed random params, in batches of 100: enqueue a batch
 * (FILL_CONCURRENCY requests in flight), ask it back in one call (ask-batch), tell each its
 * value. Enqueued trials are asked without the sampler, so filling costs the same for every sampler.
 */
async function fill(base, id, count, rand) {
  for (let done = 0; done < count;) {
    const batch = Math.min(100, count - done);
    const params = Array.from({ length: batch }, () => randomParams(rand));
    await pool(params, FILL_CONCURRENCY, (p) =>
      api(base, 'POST', `/v1/studies/${id}/trials`, { params: p }),
    );
    const { body } = await api(base, 'POST', `/v1/studies/${id}/ask-batch`, { count: batch });
    if (body.trials.length !== batch)
      throw new Error(`fill: asked for ${batch} enqueued trials, got ${body.trials.length}`);
    await pool(body.trials, FILL_CONCURRENCY, (t) =>
      api(base, 'POST', `/v1/studies/${id}/trials/${t.number}/tell`, {
        value: latencyObjective(t.params),
      }),
    );
    done += batch;
  }
}

/**
 * The timed asks of one point of a study at `complete` complete trials: each ask is told `failed`
 * at once, so nothing stays running and the history the sampler learns from stays at exactly
 * `complete` complete trials. Enqueued trials never reach the sampler, so first LATENCY_WARMUP
 * untimed asks let V8 compile its code, as in a study whose asks all come from it; the first of
 * them is the first ask on this history, where GP refits its hyperparameters (first_ms).
 */
async function timeAsks(base, id, complete) {
  const ask = async (error) => {
    const r = await api(base, 'POST', `/v1/studies/${id}/ask`);
    await api(base, 'POST', `/v1/studies/${id}/trials/${r.body.number}/tell`, {
      state: 'failed',
      error,
    });
    return r;
  };
  let firstMs = null;
  for (let w = 0; w < LATENCY_WARMUP; w++) {
    const { ms } = await ask('bench: warm-up');
    firstMs ??= ms;
  }
  const times = [];
  // What the Worker says of the same asks (Server-Timing): total, sampler, storage.
  const server = { total: [], sampler: [], storage: [] };
  const asks = complete === SHARE_POINT ? SHARE_ASKS : LATENCY_ASKS;
  const t1 = performance.now();
  while (
    times.length < asks &&
    (times.length < LATENCY_MIN_ASKS || performance.now() - t1 < LATENCY_POINT_BUDGET_MS)
  ) {
    const { ms, server: st } = await ask('bench: latency probe');
    times.push(ms);
    for (const k of Object.keys(server)) server[k].push(st[k]);
  }
  return {
    asks: times.length,
    capped: times.length < asks,
    median_ms: quantile(times, 0.5),
    p25_ms: quantile(times, 0.25),
    p75_ms: quantile(times, 0.75),
    min_ms: Math.min(...times),
    max_ms: Math.max(...times),
    first_ms: firstMs,
    times_ms: times,
    server: {
      total: spread(server.total),
      sampler: spread(server.sampler),
      storage: spread(server.storage),
    },
    server_ms: server,
  };
}

async function latencySection() {
  const started = performance.now();
  log('latency: starting the main Worker on a temporary store (scripts/local-worker.mjs)...');
  const stride = await startStride({ devKey: BENCH_KEY });
  try {
    const base = stride.url;
    log(`worker at ${base}`);
    const rows = [];
    for (const [k, sampler] of LATENCY_SAMPLERS.entries()) {
      const { body: study } = await api(base, 'POST', '/v1/studies', {
        name: `bench-latency-${sampler}`,
        direction: 'minimize',
        metric: 'val_loss',
        space: LATENCY_SPACE,
        sampler: { name: sampler, seed: 1 },
        max_trials: null,
      });
      const rand = mulberry32(1000 + k);
      let complete = 0;
      const points = [];
      for (const target of LATENCY_POINTS) {
        const t0 = performance.now();
        await fill(base, study.id, target - complete, rand);
        const fillS = (performance.now() - t0) / 1000;
        complete = target;
        const point = {
          complete: target,
          fill_s: fillS,
          ...(await timeAsks(base, study.id, target)),
        };
        points.push(point);
        log(
          `  ${sampler} at ${target} complete trials: median ask ${point.median_ms.toFixed(1)} ms over ${point.asks} asks (filled in ${fillS.toFixed(1)} s)`,
        );
      }
      rows.push({ sampler, study_id: study.id, points });
    }
    const runners = await runnerRuns(base);
    const edge = await edgeRun(base);
    const suggest = await suggestQuality(base);
    return {
      rows,
      targets: LATENCY_TARGETS,
      share_targets: SHARE_TARGETS,
      runners,
      edge,
      suggest,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stride.dispose();
    log('worker stopped');
  }
}

const RUNNER_CONCURRENCY = [1, 8, 32];
const RUNNER_SECONDS = 5;

/** Lease + tell round trips per second with n runners at once (each loops: lease, tell, repeat). */
async function runnerRuns(base) {
  const out = [];
  for (const n of RUNNER_CONCURRENCY) {
    const { body: study } = await api(base, 'POST', '/v1/studies', {
      name: `bench-runners-${n}`,
      space: LATENCY_SPACE,
      sampler: { name: 'random', seed: 1 },
      executor: { kind: 'runner' },
    });
    // Warm-up: a few cycles so the object and the code are warm.
    for (let i = 0; i < 5; i++) {
      const { body: g } = await api(base, 'POST', '/v1/runners/lease', { study_id: study.id });
      await api(base, 'POST', `/v1/studies/${study.id}/trials/${g.trial.number}/tell`, {
        value: 1,
        lease_token: g.lease.token,
      });
    }
    const leaseMs = [];
    let cycles = 0;
    const t0 = performance.now();
    const deadline = t0 + RUNNER_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (performance.now() < deadline) {
          const { body: g, ms } = await api(base, 'POST', '/v1/runners/lease', {
            study_id: study.id,
            runner: { name: 'bench' },
          });
          leaseMs.push(ms);
          await api(base, 'POST', `/v1/studies/${study.id}/trials/${g.trial.number}/tell`, {
            value: latencyObjective(g.trial.params),
            lease_token: g.lease.token,
          });
          cycles++;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const row = {
      runners: n,
      cycles,
      seconds,
      cycles_per_s: cycles / seconds,
      lease_median_ms: quantile(leaseMs, 0.5),
      lease_p75_ms: quantile(leaseMs, 0.75),
    };
    log(
      `  ${n} runners: ${row.cycles_per_s.toFixed(1)} lease+tell round trips/s (${cycles} in ${seconds.toFixed(1)} s), lease median ${row.lease_median_ms.toFixed(1)} ms`,
    );
    out.push(row);
  }
  return out;
}

const EDGE_BENCH_STUDY = {
  name: 'bench-edge',
  space: {
    lr: { type: 'float', low: 1e-4, high: 1, log: true },
    momentum: { type: 'float', low: 0, high: 0.95 },
    width: { type: 'int', low: 16, high: 128, log: true },
  },
  sampler: { name: 'tpe', seed: 1 },
  pruner: { name: 'asha', min_resource: 1, reduction_factor: 3 },
  max_trials: 20,
  executor: {
    kind: 'edge',
    probe: {
      model: { kind: 'mlp', hidden: [64, 64], activation: 'relu' },
      task: 'classification',
      data: {
        kind: 'synthetic',
        name: 'spirals',
        n: 2048,
        features: 2,
        classes: 3,
        noise: 0.1,
        seed: 1,
      },
      optimizer: { name: 'sgd' },
      batch_size: 64,
      seed: 0,
    },
    epochs: 5,
    parallelism: 4,
  },
};

const SUGGEST_TASKS = [
  {
    name: 'spirals, MLP 64-64, SGD+momentum',
    probe: {
      model: { hidden: [64, 64] },
      data: {
        kind: 'synthetic',
        name: 'spirals',
        n: 2048,
        features: 2,
        classes: 3,
        noise: 0.1,
        seed: 1,
      },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 64,
      seed: 0,
    },
  },
  {
    name: 'moons, MLP 32, Adam',
    probe: {
      model: { hidden: [32] },
      data: { kind: 'synthetic', name: 'moons', n: 2048, features: 2, noise: 0.25, seed: 2 },
      optimizer: { name: 'adam' },
      batch_size: 32,
      seed: 0,
    },
  },
  {
    name: 'blobs 10-D 5 classes, MLP 128, Nesterov',
    probe: {
      model: { hidden: [128] },
      data: {
        kind: 'synthetic',
        name: 'blobs',
        n: 2048,
        features: 10,
        classes: 5,
        noise: 2,
        seed: 3,
      },
      optimizer: { name: 'nesterov', momentum: 0.9 },
      batch_size: 64,
      seed: 0,
    },
  },
  {
    name: 'teacher regression, MLP 64, RMSprop',
    probe: {
      model: { hidden: [64] },
      task: 'regression',
      data: { kind: 'synthetic', name: 'teacher', n: 2048, features: 8, noise: 0.1, seed: 4 },
      optimizer: { name: 'rmsprop' },
      batch_size: 64,
      seed: 0,
    },
  },
];
const SUGGEST_EPOCHS = 20;
const SUGGEST_GRID = Array.from({ length: 10 }, (_, i) => 10 ** (-4 + (4.5 * i) / 9)); // 1e-4 .. ~3.2

/**
 * Quality of the suggestions: for each task, POST /v1/lr/suggest (validated), then train at every
 * rule's lr, the validated one, the optimizer's default and a 10-point log grid for SUGGEST_EPOCHS
 * epochs, as one edge study (grid sampler over those lrs, no pruner), on another seed (another
 * held-out split and initialisation than the suggestion saw); ratio = final validation loss / best
 * of the grid.
 */
async function suggestQuality(base) {
  const out = [];
  for (const task of SUGGEST_TASKS) {
    const t0 = performance.now();
    let { body: sug } = await api(base, 'POST', '/v1/lr/suggest', {
      probe: task.probe,
      training: { epochs: SUGGEST_EPOCHS },
    });
    // Training that outlasts LR_SUGGEST_WAIT_MS answers 202 {"status": "running", "poll"}: GET
    // the poll (which answers "running" with the evidence so far) until it is complete.
    const poll = sug.poll;
    while (sug.status === 'running') {
      await new Promise((r) => setTimeout(r, 250));
      ({ body: sug } = await api(base, 'GET', poll));
    }
    const suggestS = (performance.now() - t0) / 1000;
    const c = sug.range_test.suggestion.candidates;
    const points = {
      ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null && v > 0)),
      suggestion: sug.range_test.suggestion.lr,
      validated: sug.lr,
      // The optimizer's conventional default, whether or not the search trained it.
      default: DEFAULT_LR[task.probe.optimizer.name] ?? null,
    };
    const lrs = [
      ...new Set([...SUGGEST_GRID, ...Object.values(points).filter((v) => v !== null && v > 0)]),
    ];
    const { body: study } = await api(base, 'POST', '/v1/studies', {
      name: `bench-suggest ${task.name}`,
      space: { lr: { type: 'categorical', choices: lrs } },
      sampler: { name: 'grid', seed: 0 },
      max_trials: lrs.length,
      executor: {
        kind: 'edge',
        probe: { ...task.probe, seed: 1 },
        epochs: SUGGEST_EPOCHS,
        parallelism: 4,
      },
    });
    await api(base, 'POST', `/v1/studies/${study.id}/run`);
    let s;
    const t1 = performance.now();
    for (;;) {
      ({ body: s } = await api(base, 'GET', `/v1/studies/${study.id}`));
      if (s.state === 'completed' || performance.now() - t1 > 600_000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const { body: tr } = await api(base, 'GET', `/v1/studies/${study.id}/trials`);
    const lossAt = (lr) => {
      const t = tr.trials.find((x) => x.params.lr === lr);
      return t && t.state === 'complete' ? t.value : null; // diverged or failed: no loss
    };
    const grid = SUGGEST_GRID.map((lr) => ({ lr, loss: lossAt(lr) })).filter(
      (g) => g.loss !== null,
    );
    const best = grid.reduce((a, b) => (b.loss < a.loss ? b : a), grid[0]);
    const sorted = grid.map((g) => g.loss).sort((a, b) => a - b);
    const row = {
      task: task.name,
      best_grid: best,
      grid_median: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null,
      points: Object.fromEntries(
        Object.entries(points).map(([k, lr]) => [
          k,
          {
            lr,
            loss: lr === null ? null : lossAt(lr),
            ratio: lr === null || lossAt(lr) === null ? null : lossAt(lr) / best.loss,
          },
        ]),
      ),
      validation_candidates: sug.validation?.candidates.length ?? 0,
      suggest_s: suggestS,
      train_s: (performance.now() - t1) / 1000,
    };
    log(
      `  suggest quality, ${task.name}: validated ${row.points.validated.lr?.toPrecision(3)} ratio ${row.points.validated.ratio?.toFixed(2)}; default ratio ${row.points.default.ratio?.toFixed(2)} (suggest ${suggestS.toFixed(1)} s, grid ${row.train_s.toFixed(1)} s)`,
    );
    out.push(row);
  }
  return out;
}

/** Wall time of a 20-trial edge study (POST run until the study reads completed). */
async function edgeRun(base) {
  const { body: study } = await api(base, 'POST', '/v1/studies', EDGE_BENCH_STUDY);
  const t0 = performance.now();
  await api(base, 'POST', `/v1/studies/${study.id}/run`);
  let s;
  for (;;) {
    ({ body: s } = await api(base, 'GET', `/v1/studies/${study.id}`));
    if (s.state === 'completed' || performance.now() - t0 > 600_000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - t0) / 1000;
  const { body: tr } = await api(base, 'GET', `/v1/studies/${study.id}/trials`);
  const count = (st) => tr.trials.filter((t) => t.state === st).length;
  const row = {
    seconds,
    completed: s.state === 'completed',
    complete: count('complete'),
    pruned: count('pruned'),
    failed: count('failed'),
    best: s.best_trial?.value ?? null,
  };
  log(
    `  edge study of 20 trials: ${seconds.toFixed(1)} s (${row.complete} complete, ${row.pruned} pruned, ${row.failed} failed; best ${row.best})`,
  );
  return row;
}

/** The Worker's own account of the asks at SHARE_POINT trials (Server-Timing), beside the client's. */
function renderShares(lat, lines) {
  const at = (r) => r.points.find((p) => p.complete === SHARE_POINT && p.server);
  const rows = lat.rows.filter(at);
  if (rows.length === 0) return;
  const ms = (s) => `${fmt(s.median, 1)} / ${fmt(s.mean, 2)} / ${fmt(s.p99, 0)}`;
  lines.push(
    `Server-side shares at ${SHARE_POINT} complete trials: the \`Server-Timing\` header of the same asks (src/api/timing.ts). \`total\` is the Worker's time from the request reaching the app to its answer being ready; \`sampler\` and \`storage\` are the study's Durable Object's shares of it (proposing the params; its SQLite reads and writes), measured inside the object. Client − total is what the rest costs: Node's fetch, wrangler's local proxy and workerd's HTTP. ms: median / mean / 99th percentile; workerd's clock ticks in whole milliseconds, so a share below 1 ms reads 0 or 1 ask by ask and its mean is the better estimate.`,
    '',
  );
  lines.push(
    '| Sampler | n | Client median | Server total median | Client − total (median) | Sampler share | Storage share |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const p = at(r);
    lines.push(
      `| ${r.sampler} | ${p.asks} | ${fmt(p.median_ms, 1)} | ${fmt(p.server.total.median, 1)} | ${fmt(
        quantile(
          p.times_ms.map((t, i) => t - p.server_ms.total[i]),
          0.5,
        ),
        1,
      )} | ${ms(p.server.sampler)} | ${ms(p.server.storage)} |`,
    );
  }
  lines.push('');
  const share = ([s, n, limit]) => {
    const p = lat.rows.find((r) => r.sampler === s)?.points.find((q) => q.complete === n);
    const v = p?.server?.sampler;
    const phase = s === 'auto' ? ' (GP phase)' : '';
    if (!v) return `- ${s}${phase} at ${n} trials: sampler share —, target < ${limit} ms: —`;
    const met = v.median < limit && v.mean < limit;
    return `- ${s}${phase} at ${n} trials: sampler share median ${fmt(v.median, 1)} ms, mean ${fmt(v.mean, 2)} ms, p99 ${fmt(v.p99, 0)} ms; target < ${limit} ms (median and mean): ${met ? 'met' : '**NOT met**'}`;
  };
  lines.push('Targets (issue 22):', '', ...(lat.share_targets ?? SHARE_TARGETS).map(share), '');
}

function renderLatency(lat, lines) {
  lines.push('## Ask latency (HTTP + Durable Object)', '');
  lines.push(
    `The main Worker (wrangler.toml) in local workerd through \`unstable_startWorker\`, on a temporary D1/Durable Object store. For each sampler a study over a 4-parameter space (lr and weight_decay log-scale floats, momentum float, batch_size log-scale int), seed 1, filled with complete trials at fixed random params (enqueue, ask, tell); at ${LATENCY_POINTS.join(', ')} complete trials, ${LATENCY_ASKS} single \`POST /v1/studies/{id}/ask\` calls (${SHARE_ASKS} at ${SHARE_POINT}) are timed from Node after ${LATENCY_WARMUP} untimed ones (the fill's trials are enqueued, so without them the sampler's code would still be cold) (request sent to answer read), each followed by a tell \`{"state": "failed"}\` (not timed) so no trial stays running and the history stays at that number of complete trials. ms: median [25th–75th percentile], max; n: asks timed.`,
    '',
  );
  lines.push(`| Sampler | ${LATENCY_POINTS.map((p) => `${p} trials`).join(' | ')} |`);
  lines.push(`|---|${LATENCY_POINTS.map(() => '---:').join('|')}|`);
  for (const r of lat.rows) {
    const cells = r.points.map(
      (p) =>
        `${fmt(p.median_ms, 1)} [${fmt(p.p25_ms, 1)}, ${fmt(p.p75_ms, 1)}], max ${fmt(p.max_ms, 0)}; n ${p.asks}${p.capped ? ' (capped)' : ''}`,
    );
    lines.push(`| ${r.sampler} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const at = (s, n) =>
    lat.rows.find((r) => r.sampler === s)?.points.find((p) => p.complete === n)?.median_ms;
  const target = ([s, n, ms]) => {
    const v = at(s, n);
    const who = s === 'random' ? 'the fixed cost (random)' : s.toUpperCase();
    return `- ${who} at ${n} trials: median ${fmt(v, 1)} ms, target < ${ms} ms: ${v == null ? '—' : v < ms ? 'met' : '**NOT met**'}`;
  };
  lines.push('Targets (issue 14):', '', ...(lat.targets ?? LATENCY_TARGETS).map(target), '');
  renderShares(lat, lines);
  lines.push('Notes:', '');
  lines.push(
    `- Random is the floor: its ask is HTTP, the Worker (auth, validation), the Durable Object call and the trial history (kept in the object's memory, re-reading only the rows written since the last ask), with almost no sampling work. Auto is GP on this all-numeric space below 300 complete trials, TPE from there. Past 192 complete trials GP is conditioned on 192 of them (the last 32, the best 96, an even spread of the rest) and refits its hyperparameters once every 16 trials, cached by the data they were fitted on; the asks timed here follow one another on the same history, so they reuse that fit (the ask that refits is slower: the first ask after each fill, untimed above, took ${
      lat.rows
        .find((r) => r.sampler === 'gp')
        ?.points.map((p) => `${fmt(p.first_ms, 0)} ms at ${p.complete}`)
        .join(', ') ?? '—'
    } for gp). The section took ${fmt(lat.seconds, 0)} s (filling included: ${lat.rows
      .map(
        (r) =>
          `${r.sampler} ${fmt(
            r.points.reduce((a, p) => a + p.fill_s, 0),
            1,
          )} s`,
      )
      .join(', ')}).`,
  );
  if (lat.rows.some((r) => r.points.some((p) => p.capped))) {
    lines.push(
      `- (capped): measuring at that point stopped after ${LATENCY_POINT_BUDGET_MS / 1000} s with fewer than ${LATENCY_ASKS} asks timed (${SHARE_ASKS} at ${SHARE_POINT} trials; at least ${LATENCY_MIN_ASKS}).`,
    );
  }
  lines.push(
    "- GP's regret with the subset and the scheduled refit, against the exact GP before it (`npx tsx bench/samplers.ts --samplers gp`, the same seeds; the two are identical up to 192 trials): Hartmann6 at 500 trials, seeds 0 and 1: 0.00116 and 0.00144 before, the same after; Rosenbrock-4D at 300 trials, seeds 0 and 1: 1.22 and 2.87 before, 1.67 and 2.87 after; Levy-4D at 300 trials, seeds 0 and 1: 0.0235 and 0.0177 before, 0.0165 and 0.0177 after. One run of six worse, one better: no sign of a loss, on too few seeds to rule out a small one. Per ask in Node on the loaded machine: 0.8 to 3.4 s at 300 to 500 trials before, 0.05 to 0.5 s after.",
  );
  lines.push(
    "- Local workerd on this machine, not Cloudflare's edge: no network, no cold starts, and a different CPU; deployed latency adds the round trip to the nearest data centre and to the Durable Object's home.",
  );
  lines.push('');
  if (lat.runners) {
    lines.push('## Runners: lease round trips', '');
    lines.push(
      `The same local Worker. For each row a runner study (random sampler, the space above, no max_trials, no max_parallel) and n concurrent runners from Node, each looping for ${RUNNER_SECONDS} s: \`POST /v1/runners/lease\` with the study's id, then a tell with the lease token (no training in between). A round trip is one lease plus one tell; all of a study's leases are serialised by its one Durable Object.`,
      '',
    );
    lines.push('| Runners | Round trips/s | Round trips | Lease median (ms) | Lease p75 (ms) |');
    lines.push('|---:|---:|---:|---:|---:|');
    for (const r of lat.runners)
      lines.push(
        `| ${r.runners} | ${fmt(r.cycles_per_s, 1)} | ${r.cycles} | ${fmt(r.lease_median_ms, 1)} | ${fmt(r.lease_p75_ms, 1)} |`,
      );
    lines.push('');
  }
  if (lat.suggest) {
    lines.push('## Learning-rate suggestions against a full-training grid', '');
    lines.push(
      `For each task, \`POST /v1/lr/suggest\` with the probe and \`"training": {"epochs": ${SUGGEST_EPOCHS}}\` (range test, then the budgeted search at that horizon, its default budget). Then every rule's lr, the validated one, the optimizer's conventional default (the one the suggestion also validated: torch.optim's, Keras's 0.01 for SGD) and a 10-point log grid from 1e-4 to 3.2 are each trained for ${SUGGEST_EPOCHS} epochs as one edge study, on another seed than the suggestion saw (another held-out split and initialisation). Ratio = final validation loss at that lr / best final validation loss of the grid (1.00: as good as the grid's best; — : diverged).`,
      '',
    );
    const keys = [
      'validated',
      'suggestion',
      'valley',
      'steepest',
      'minimum',
      'min_over_10',
      'default',
    ];
    lines.push(`| Task | grid best (lr, loss) | ${keys.join(' | ')} |`);
    lines.push(`|---|---|${keys.map(() => '---:').join('|')}|`);
    for (const r of lat.suggest) {
      const cell = (k) => {
        const p = r.points[k];
        if (!p || p.lr === null) return '—';
        return `${p.ratio === null ? '—' : p.ratio.toFixed(2)} (${p.lr.toPrecision(2)})`;
      };
      lines.push(
        `| ${r.task} | ${r.best_grid ? `${r.best_grid.lr.toPrecision(2)}, ${r.best_grid.loss.toFixed(4)}` : '—'} | ${keys.map(cell).join(' | ')} |`,
      );
    }
    const gm = (k) => {
      const v = lat.suggest
        .map((r) => r.points[k]?.ratio)
        .filter((x) => x !== null && x !== undefined);
      return v.length ? Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length) : null;
    };
    lines.push(
      '',
      `Geometric mean of the ratios over the tasks: ${keys.map((k) => `${k} ${gm(k) === null ? '—' : gm(k).toFixed(2)}`).join(', ')}. Time of one validated suggestion: ${lat.suggest.map((r) => `${r.suggest_s.toFixed(1)} s`).join(', ')} (local workerd, range test included).`,
      '',
    );
  }
  if (lat.edge) {
    const e = lat.edge;
    const ex = EDGE_BENCH_STUDY.executor;
    lines.push('## Edge study: wall time', '');
    lines.push(
      `A 20-trial edge study on the same local Worker: ${ex.probe.data.name} (n ${ex.probe.data.n}), MLP with the space's width (hidden ${JSON.stringify(ex.probe.model.hidden)} resized), SGD with the space's lr and momentum, batch ${ex.probe.batch_size}, ${ex.epochs} epochs with a 20% validation split, TPE, ASHA (min_resource 1, reduction_factor 3), parallelism ${ex.parallelism}; timed from \`POST /v1/studies/{id}/run\` until the study reads \`completed\` (polled every 100 ms). Trials run in the Worker's queue consumer (miniflare's local queue), one per invocation.`,
      '',
    );
    lines.push('| Wall time (s) | Complete | Pruned | Failed | Best validation loss |');
    lines.push('|---:|---:|---:|---:|---:|');
    lines.push(
      `| ${fmt(e.seconds, 1)}${e.completed ? '' : ' (did not complete)'} | ${e.complete} | ${e.pruned} | ${e.failed} | ${fmt(e.best, 4)} |`,
    );
    lines.push(
      '',
      'Locally the queue consumer runs in the same workerd process on this 2-core machine, so the 4 trials in flight share the CPU; deployed, each runs in its own invocation.',
      '',
    );
  }
}

async function main() {
  if (process.argv.includes('--render')) {
    // Re-render RESULTS.md from results.json (after editing or merging results), running nothing.
    writeFileSync(
      path.join(here, 'RESULTS.md'),
      render(JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8'))),
    );
    return;
  }
  const started = Date.now();
  const cpus = os.cpus();
  const machine = {
    cpu_model: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    wrangler: version('wrangler'),
    workerd: version('workerd'),
    tfjs: version('@tensorflow/tfjs-core'),
    date: new Date().toISOString(),
    loadavg_start: os.loadavg(),
  };
  // A partial run (--only) replaces just its sections in the last results.
  let results = { machine };
  if (argOnly > 0) {
    try {
      results = JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8'));
    } catch {
      results = { machine };
    }
  }
  if (SECTIONS.has('tfjs')) {
    const { clock, rows } = await workerdRuns();
    const torch = torchRun();
    const find = (variant, backend) =>
      rows.find((r) => r.variant === variant && (backend == null || r.backend.startsWith(backend)));
    const sW = find('stride', 'wasm');
    const sC = find('stride', 'cpu');
    const nW = find('naive', 'wasm');
    const nC = find('naive', 'cpu');
    const tW = find('naive-transpose', 'wasm');
    const pt = torch.skipped ? null : torch;
    const ratios = [
      ratioLine('stride-WASM / stride-CPU', sW, sC, 5),
      ratioLine('stride-WASM / naive-WASM', sW, nW, null),
      ratioLine('stride-WASM / PyTorch', sW, pt, 0.25),
      ratioLine('naive-transpose-WASM / naive-WASM', tW, nW, null),
      ratioLine('naive-WASM / naive-CPU', nW, nC, null),
      ratioLine('naive-WASM / PyTorch', nW, pt, null),
      ratioLine('naive-transpose-WASM / PyTorch', tW, pt, null),
      ratioLine('range test / stride-WASM step rate', find('range-test'), sW, null),
      ratioLine(
        'stride-WASM / matmul-only-WASM (share of the GEMM ceiling)',
        sW,
        find('matmul-only', 'wasm'),
        null,
      ),
    ];
    results = {
      ...results,
      machine,
      flops_per_step: FLOPS_PER_STEP,
      parameters: PARAMS,
      batch: BATCH,
      seconds: SECONDS,
      clock,
      rows,
      torch,
      ratios,
    };
  }
  if (SECTIONS.has('samplers')) results.samplers = { ...samplerSection(), machine };
  if (SECTIONS.has('latency')) results.latency = { ...(await latencySection()), machine };
  if (SECTIONS.has('lr-real')) results.lr_real = { ...(await lrRealSection()), machine };
  if (SECTIONS.has('lr-client')) results.lr_client = { ...(await lrClientSection()), machine };
  if (SECTIONS.has('lr-frontier'))
    results.lr_frontier = { ...(await lrFrontierSection()), machine };
  if (SECTIONS.has('multiobjective'))
    results.multiobjective = { ...multiobjectiveSection(), machine };
  if (SECTIONS.has('optuna-storage'))
    results.optuna_storage = { ...(await optunaStorageSection()), machine };
  if (SECTIONS.has('failures')) results.failures = { ...failuresSection(), machine };
  if (SECTIONS.has('reports')) results.reports = { ...(await reportsSection()), machine };
  if (SECTIONS.has('fleet')) results.fleet = { ...(await fleetSection()), machine };
  if (SECTIONS.has('dashboard')) results.dashboard = { ...(await dashboardSection()), machine };
  writeFileSync(path.join(here, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const md = render(results);
  writeFileSync(path.join(here, 'RESULTS.md'), md);
  process.stdout.write(md + '\n');
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

// Bench section "LR from Python (lr_find)" (issue 12): the Python client against a local Worker.
// bench/lr_client.py does the work in PyTorch (what trial.report costs a training loop; lr_find,
// fastai's valley and, when the client has it, lr_suggest on the real-data tasks of lr-real.mjs,
// judged by a grid trained to each task's horizon on held-out seeds); this file prepares its
// input (each seed's CSV and the server's split, from lr-real.mjs), runs it with STRIDE_URL and
// STRIDE_API_KEY set, and renders the Markdown.
//
// Used by bench/run.mjs (`--only lr-client`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStride } from '../scripts/local-worker.mjs';
import { findTorchPython, log, runPythonJson } from './common.mjs';
import { DEFAULT_LR, grid, splitter, TASKS, TARGETS, taskCsv, TRUTH_SEEDS } from './lr-real.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const KEY = 'bench-key';
const VALIDATION_SPLIT = 0.2;
/**
 * The splits lr_suggest's train_fn trains trial.seed k > 0 on (seed 1000k: its rows, label noise,
 * initialisation and batch order), as a user's code seeds its split; never a truth seed.
 */
const VALIDATION_SPLIT_SEEDS = [1000, 2000, 3000, 4000];
/** The whole section may take this long before it is stopped. */
const SECTION_TIMEOUT_MS = 30 * 60_000;

/** Methods, in the report's order. */
const CLIENT_METHODS = [
  'validated',
  'suggestion',
  'valley',
  'fastai_valley',
  'steepest',
  'minimum',
  'min_over_10',
  'default',
];
const LABELS = {
  validated: 'lr_suggest (validated)',
  suggestion: 'lr_find suggestion',
  valley: 'valley',
  fastai_valley: 'fastai valley (torch)',
  steepest: 'steepest',
  minimum: 'minimum',
  min_over_10: 'min_over_10',
  default: 'default',
};

/** bench/lr_client.py's input: every task with each seed's CSV (subsample and label noise applied) and the server's split. */
async function lrClientSpec() {
  const split = await splitter();
  const tasks = TASKS.map((task) => {
    const seeds = {};
    for (const seed of [0, ...TRUTH_SEEDS, ...VALIDATION_SPLIT_SEEDS]) {
      const csv = taskCsv(task, seed, split);
      seeds[seed] = { csv: csv.text, ...split(csv.n, VALIDATION_SPLIT, seed) };
    }
    return {
      id: task.id,
      name: task.name,
      kind: task.task,
      hidden: task.hidden,
      optimizer: task.optimizer,
      batch: task.batch,
      epochs: task.epochs,
      grid: grid(task.optimizer.name),
      default_lr: DEFAULT_LR[task.optimizer.name],
      seeds,
    };
  });
  return { tasks, truth_seeds: TRUTH_SEEDS };
}

export async function lrClientSection() {
  const started = performance.now();
  const py = findTorchPython();
  if (!py)
    return {
      skipped: 'torch not found (tried /usr/bin/python3, python3): apt-get install python3-torch',
    };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stride-lr-client-'));
  const input = path.join(dir, 'spec.json');
  writeFileSync(input, JSON.stringify(await lrClientSpec()));
  const stride = await startStride({ devKey: KEY });
  log(`lr-client: main Worker at ${stride.url}; running bench/lr_client.py with ${py}`);
  try {
    const env = {
      ...process.env,
      STRIDE_URL: stride.url,
      STRIDE_API_KEY: KEY,
      PYTHONPATH:
        path.join(root, 'python') +
        (process.env.PYTHONPATH ? path.delimiter + process.env.PYTHONPATH : ''),
      OMP_NUM_THREADS: '1',
      MKL_NUM_THREADS: '1',
      OPENBLAS_NUM_THREADS: '1',
    };
    const out = await runPythonJson(py, [path.join(here, 'lr_client.py'), input], {
      cwd: root,
      env,
      timeoutMs: SECTION_TIMEOUT_MS,
    });
    return {
      ...out,
      python_path: py,
      summary: summariseClient(out.rows),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stride.dispose();
    rmSync(dir, { recursive: true, force: true });
    log('worker stopped');
  }
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)] + s[Math.ceil(m)]) / 2;
};

/** Per method over the tasks: median and worst ratio (diverged counts as infinitely bad), share within 1.05x, median compute in epochs. */
function summariseClient(rows) {
  const out = {};
  for (const k of CLIENT_METHODS) {
    const present = rows.filter(
      (r) => r.methods[k] && r.methods[k].lr !== null && r.methods[k].lr !== undefined,
    );
    const ratios = present.map((r) => r.methods[k].ratio ?? Infinity);
    out[k] = {
      tasks: ratios.length,
      median: ratios.length ? median(ratios) : null,
      worst: ratios.length ? Math.max(...ratios) : null,
      within: ratios.length
        ? ratios.filter((x) => x <= TARGETS.within).length / ratios.length
        : null,
      compute_epochs: present.length
        ? median(present.map((r) => r.methods[k].compute_epochs ?? 0))
        : null,
    };
  }
  return out;
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

export function renderLrClient(q, lines) {
  lines.push('## LR from Python (lr_find)', '');
  if (q.skipped) {
    lines.push(`Not run: ${q.skipped}.`, '');
    return;
  }
  const m = q.machine;
  if (m) {
    lines.push(
      `Machine: ${m.cpu_model}, ${m.cores} cores; Node ${m.node}; wrangler ${m.wrangler}, workerd ${m.workerd}; ${q.python_path} (Python ${q.python}), torch ${q.torch}, ${q.threads} thread; ${m.date} (load average at start ${m.loadavg_start.map((v) => v.toFixed(2)).join(', ')}). Section wall time ${f(q.seconds / 60, 1)} min. The local Worker runs on the same cores.`,
      '',
    );
  }
  const o = q.overhead;
  if (o) {
    lines.push('### What `trial.report` costs a training loop', '');
    lines.push(
      `bench/lr_client.py against the local Worker, stride's Python client with its defaults (buffered: a background thread sends batches at most ${o.interval_s} s after a point, or at once when ${o.batch} are pending). ` +
        `Per call: ${o.calls.toLocaleString('en')} \`trial.report(step, value)\` in a tight loop (5 trials of 20,000 steps; mean = loop time / calls), and as many more timed one by one (perf_counter_ns, whose own cost is ${f(o.timer_us, 2)} µs, included). ` +
        `Tiny loop: MLP 32-64-64-1, batch 64, SGD, \`loss.item()\` every step, ${o.loop.steps} steps per run, median of ${o.loop.repeats} runs alternating without reports, with the defaults, with fewer and larger batches (each against the local Worker, in a fresh study with the median pruner) and with the defaults against a stub server that answers at once; the synchronous row (\`wait=True\`, one HTTP call per report, as every report was before) is ${o.loop.sync_steps} steps.`,
      '',
    );
    lines.push('| | mean | p50 | p99 | max |');
    lines.push('|---|---:|---:|---:|---:|');
    lines.push(
      `| \`trial.report\`, buffered (µs per call) | ${f(o.mean_us, 2)} | ${f(o.p50_us, 2)} | ${f(o.p99_us, 2)} | ${f(o.max_us, 0)} |`,
    );
    lines.push(
      `| \`trial.report(..., wait=True)\` (ms per call) | — | ${f(o.sync_ms_median, 1)} | ${f(o.sync_ms_p99, 1)} | — |`,
    );
    lines.push('');
    const L = o.loop;
    const over = (k) =>
      `${L[k].wall_us >= L.none.wall_us ? '+' : ''}${f((100 * (L[k].wall_us - L.none.wall_us)) / L.none.wall_us, 1)}%`;
    lines.push('| Tiny training loop | wall µs/step | process CPU µs/step | wall vs no reports |');
    lines.push('|---|---:|---:|---:|');
    lines.push(`| no reports | ${f(L.none.wall_us, 0)} | ${f(L.none.cpu_us, 0)} | — |`);
    lines.push(
      `| a report every step (buffered, the default) | ${f(L.buffered.wall_us, 0)} | ${f(L.buffered.cpu_us, 0)} | ${over('buffered')} |`,
    );
    if (L.stub)
      lines.push(
        `| a report every step (the defaults) to a stub server in another process: the client's own cost | ${f(L.stub.wall_us, 0)} | ${f(L.stub.cpu_us, 0)} | ${over('stub')} |`,
      );
    if (L.coarse)
      lines.push(
        `| a report every step, \`stride.reports.configure(client, interval=1.0, batch=1000)\` | ${f(L.coarse.wall_us, 0)} | ${f(L.coarse.cpu_us, 0)} | ${over('coarse')} |`,
      );
    lines.push(
      `| a report every step with \`wait=True\` | ${f(L.sync.wall_us, 0)} | ${f(L.sync.cpu_us, 0)} | ${over('sync')} |`,
    );
    lines.push('');
    lines.push(
      `Process CPU counts the client's background thread too (its HTTP calls); wall time on this 2-core machine also pays for the local Worker's work on each batch (the median pruner reads every value of the trial), which a deployed Worker does elsewhere: the stub row is the client's own share. Differences of a few percent are noise here (other work shared the cores: see the load average), as the negative ones show. After the 20,000-call loops, sending what was still buffered took ${f(o.drain_s, 2)} s (median; the loop itself does not wait for it).`,
      '',
    );
  }
  lines.push('### Learning rates from `lr_find`, against a trained grid', '');
  lines.push(
    `The tasks of "LR suggestions on real data" (bench/lr-real.mjs: the same CSVs, the server's 80/20 split, label noise, MLP shapes, optimizers, batch sizes and horizons H), with the MLP in PyTorch (bench/lr_client.py: features standardised over all rows as src/probe/data.ts does, torch's default initialisation, one thread). ` +
      "Per task: `stride.lr_find` on seed 0's training split (its defaults: 1e-7 to 10 over 100 steps, stopped at divergence) posts the curve, and the service answers with its rules (`suggestion` is its pick, valley by default); fastai's `valley` rule, reimplemented in PyTorch from fastai's `lr_find` (smoothed loss, points 10 to the fifth from the end), reads the same measured curve; `default` is the optimizer's conventional lr (torch.optim's; 0.01 for SGD). " +
      '`lr_suggest` is called as a user calls it, with `range_test=` the lr_find result, `training={"epochs": H}` and its other defaults (about 8 candidates, every one trained to H, on 3 seeds since every task has fewer than 5,000 examples); its train_fn trains `trial.seed` 0 on the sweep\'s split and seed k on the split, initialisation and batch order of seed 1000k (never a truth seed). ' +
      `Ground truth: the ${q.rows[0]?.grid.length ?? '—'}-point log grid of lr-real.mjs plus every method's lr, each trained in PyTorch for H epochs on seeds ${q.truth_seeds.join(', ')} (the server's held-out split of that seed, and that seed's initialisation and batch order: nothing the sweep saw), final validation loss averaged over the seeds (a lr that diverged on any seed counts as diverged). Ratio = that loss / the best grid loss.`,
    '',
  );
  const shown = CLIENT_METHODS.filter((k) => q.rows.some((r) => r.methods[k]));
  lines.push(`| Task | H | grid best lr (loss) | ${shown.map((k) => LABELS[k]).join(' | ')} |`);
  lines.push(`|---|---:|---|${shown.map(() => '---:').join('|')}|`);
  for (const r of q.rows) {
    const cell = (k) => {
      const p = r.methods[k];
      if (!p || p.lr === null || p.lr === undefined) return '—';
      return `${p.diverged ? 'div.' : f(p.ratio, 3)} (${lrFmt(p.lr)})`;
    };
    lines.push(
      `| ${r.task} | ${r.epochs} | ${r.best_grid ? `${lrFmt(r.best_grid.lr)} (${r.best_grid.loss.toFixed(4)})` : '—'} | ${shown.map(cell).join(' | ')} |`,
    );
  }
  lines.push('');
  const s = q.summary;
  lines.push(
    '| Method | median ratio | worst ratio | within 1.05× | compute (epochs, median over tasks) |',
  );
  lines.push('|---|---:|---:|---:|---:|');
  for (const k of CLIENT_METHODS) {
    const x = s[k];
    if (!x.tasks) {
      lines.push(`| ${LABELS[k]} | — | — | — | — |`);
      continue;
    }
    lines.push(
      `| ${LABELS[k]} | ${f(x.median, 3)} | ${f(x.worst, 3)} | ${pct(x.within)} (${Math.round((x.within ?? 0) * x.tasks)}/${x.tasks}) | ${f(x.compute_epochs, 1)} |`,
    );
  }
  const gridEpochs = median(q.rows.map((r) => 10 * r.epochs));
  lines.push(
    `| (a 10-point grid trained to H, for scale) | 1.000 | 1.000 | — | ${f(gridEpochs, 0)} |`,
  );
  lines.push('');
  const v = s.validated;
  const valley = s.fastai_valley;
  if (v.tasks) {
    const ok = v.median <= TARGETS.median && v.median < valley.median && v.worst < valley.worst;
    lines.push(
      `Target (issue 12): lr_suggest's validated answer, median ratio ≤ ${TARGETS.median} and better than fastai's valley on median and worst: median ${f(v.median, 3)} vs ${f(valley.median, 3)}, worst ${f(v.worst, 3)} vs ${f(valley.worst, 3)}: ${ok ? 'met' : '**NOT met**'}.`,
      '',
    );
  } else {
    lines.push(
      `Target (issue 12): lr_suggest's validated answer, median ratio ≤ ${TARGETS.median} and better than fastai's valley on median and worst: **not measured**: ${q.lr_suggest ?? 'no lr_suggest answer'}; bench/lr_client.py fills the column when the client has it.`,
      '',
    );
  }
  lines.push('Notes:', '');
  lines.push(
    `- Compute, in epochs of the task's training split: the sweep's steps (${q.rows.map((r) => `${r.id} ${r.sweep_steps}`).join(', ')}) over the steps per epoch for every rule of the sweep; for lr_suggest, the sweep plus every epoch its train_fn trained; 0 for the default.`,
  );
  lines.push(
    `- Range-test confidence per task: ${q.rows.map((r) => `${r.id} ${r.confidence ?? '—'}`).join(', ')}. lr_find's wall time (sweep and the service's answer): median ${f(median(q.rows.map((r) => r.find_s)), 1)} s.`,
  );
  lines.push(
    '- "div." = the run diverged (a NaN or infinite loss) on at least one seed; it counts as infinitely bad in the medians and worst ratios.',
  );
  if (q.rows.some((r) => r.validated?.seeds))
    lines.push(
      `- lr_suggest's seeds per task: ${q.rows.map((r) => `${r.id} ${r.validated?.seeds ? r.validated.seeds.length : '—'}`).join(', ')}; its candidates per task: ${q.rows.map((r) => `${r.id} ${r.validated?.candidates ?? '—'}`).join(', ')}.`,
    );
  lines.push(
    "- PyTorch here multiplies with the reference BLAS (see the training-step section), which slows the wide MLP's steps but not the losses.",
  );
  lines.push('');
}

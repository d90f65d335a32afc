// Bench section "LR cost-quality frontier": what each way of picking a peak learning rate costs
// (full training runs) and what it gets (final validation loss over the truth grid's best), on
// the PyTorch tasks of bench/lr_tasks.py, by split (SPLITS): the optimizer's default, fastai's
// valley on the range test's curve, stride's lr/suggest at budgets 0, 1, 2, 3 and 5, and the truth
// grid itself.
// bench/lr_frontier.py does the work against the local Worker started here; this file runs it,
// renders the Markdown and writes the chart (bench/lr-frontier.svg, echarts' server-side SVG).
//
// Used by bench/run.mjs (`--only lr-frontier`). BENCH_LR_FRONTIER_TASKS (comma-separated ids)
// and BENCH_LR_FRONTIER_BUDGETS (default 0,1,2,3,5) narrow a run.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as echarts from 'echarts';
import { startStride } from '../scripts/local-worker.mjs';
import { findTorchPython, log, runPythonJson } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const KEY = 'bench-key';
/** The whole section may take this long before it is stopped. */
const SECTION_TIMEOUT_MS = 120 * 60_000;
const SVG_NAME = 'lr-frontier.svg';

/** What the scored set has seen: said above the targets. */
const SCORED_NOTE =
  'The sixth set (fresh5) was scored once by the method as it stood when the set was defined; the cliff rule (`CLIFF_MARGIN` in src/tuning/lr/ladder.ts) was then chosen on all the tasks, this set included. It changes no fresh5 answer at budgets 0 to 3 and one at budget 5 (cnn300-plain-sgdm-wc, 1.840 to 0.964); the budget-5 column is therefore not unseen.';

/** The issue's targets: held-out half scored, design half beside it. */
const FRONTIER_TARGETS = {
  within: 1.05,
  b0: { median: 1.1, worst: 1.5 },
  b1: { median: 1.05 },
  b3: { median: 1.02, worst: 1.1, within_share: 0.9 },
};

/**
 * The splits, the scored one first. Each held-out set was defined, with its truth, before the
 * method changes it scores; once its results were looked at and the method changed again, it is
 * "seen" and the next set scores: `fresh5` (unseen until scored), `fresh4`, `fresh3`, `fresh2`, `fresh`
 * and `heldout` (seen since), `design`.
 */
const SPLITS = [
  ['fresh5', 'Held-out tasks, sixth set'],
  ['fresh4', 'Held-out tasks, fifth set (seen since)'],
  ['fresh3', 'Held-out tasks, fourth set (seen since)'],
  ['fresh2', 'Held-out tasks, third set (seen since)'],
  ['fresh', 'Held-out tasks, second set (seen since)'],
  ['heldout', 'Held-out tasks, first set (seen since)'],
  ['design', 'Design tasks'],
];

export async function lrFrontierSection() {
  const started = performance.now();
  const py = findTorchPython();
  if (!py)
    return {
      skipped: 'torch not found (tried /usr/bin/python3, python3): apt-get install python3-torch',
    };
  const stride = await startStride({ devKey: KEY });
  log(`lr-frontier: main Worker at ${stride.url}; running bench/lr_frontier.py with ${py}`);
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
    const args = [path.join(here, 'lr_frontier.py')];
    if (process.env.BENCH_LR_FRONTIER_TASKS)
      args.push('--only', process.env.BENCH_LR_FRONTIER_TASKS);
    if (process.env.BENCH_LR_FRONTIER_BUDGETS)
      args.push('--budgets', process.env.BENCH_LR_FRONTIER_BUDGETS);
    const out = await runPythonJson(py, args, { cwd: root, env, timeoutMs: SECTION_TIMEOUT_MS });
    return {
      ...out,
      python_path: py,
      methods: methodsOf(out),
      summary: summariseFrontier(out),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stride.dispose();
    log('worker stopped');
  }
}

/**
 * Methods in the report's order: default, context (when measured), valley, stride at each budget,
 * grid10 (one seed), grid10x2 (two seeds) and truth when the run has them (results before them
 * scored grid10 as the truth).
 */
function methodsOf(q) {
  const context = q.rows?.some((r) => r.methods?.context) ? ['context'] : [];
  const truth = q.rows?.some((r) => r.methods?.truth) ? ['truth'] : [];
  const x2 = q.rows?.some((r) => r.methods?.grid10x2) ? ['grid10x2'] : [];
  return [
    'default',
    ...context,
    'valley',
    ...q.budgets.map((b) => `stride@${b}`),
    'grid10',
    ...x2,
    ...truth,
  ];
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)] + s[Math.ceil(m)]) / 2;
};

/** A method's ratio on a task: Infinity when it gave no lr (an error). */
const ratioOf = (m) => (m && typeof m.ratio === 'number' ? m.ratio : Infinity);

/** Per split (and all tasks), per method: median and worst ratio, share within 1.05, median compute in runs. */
function summariseFrontier(q) {
  const out = {};
  for (const split of [...SPLITS.map(([s]) => s), 'all']) {
    const rows = q.rows.filter((r) => split === 'all' || r.split === split);
    out[split] = {};
    for (const k of methodsOf(q)) {
      const ratios = rows.map((r) => ratioOf(r.methods[k]));
      const compute = rows
        .map((r) => r.methods[k]?.compute_runs)
        .filter((c) => typeof c === 'number');
      out[split][k] = {
        tasks: ratios.length,
        failed: rows.filter((r) => !r.methods[k] || r.methods[k].lr == null).length,
        diverged: rows.filter((r) => r.methods[k]?.diverged).length,
        median: ratios.length ? median(ratios) : null,
        worst: ratios.length ? Math.max(...ratios) : null,
        within: ratios.length
          ? ratios.filter((x) => x <= FRONTIER_TARGETS.within).length / ratios.length
          : null,
        compute_runs: compute.length ? median(compute) : null,
        train_s: median(
          rows.map((r) => r.methods[k]?.train_s).filter((v) => typeof v === 'number'),
        ),
      };
    }
  }
  return out;
}

/** The issue's targets on one split's summary: [what, value, met]. */
function frontierTargets(s) {
  const T = FRONTIER_TARGETS;
  const b0 = s['stride@0'];
  const b1 = s['stride@1'];
  const b3 = s['stride@3'];
  const rows = [];
  if (b0) {
    rows.push([`stride@0 median ≤ ${T.b0.median}`, f(b0.median, 3), b0.median <= T.b0.median]);
    rows.push([`stride@0 worst ≤ ${T.b0.worst}`, f(b0.worst, 3), b0.worst <= T.b0.worst]);
    for (const other of ['valley', 'default'])
      if (s[other])
        rows.push([
          `stride@0 better than ${other} on median and worst`,
          `${f(b0.median, 3)} vs ${f(s[other].median, 3)}; ${f(b0.worst, 3)} vs ${f(s[other].worst, 3)}`,
          b0.median < s[other].median && b0.worst < s[other].worst,
        ]);
  }
  if (b1)
    rows.push([`stride@1 median ≤ ${T.b1.median}`, f(b1.median, 3), b1.median <= T.b1.median]);
  if (b3) {
    rows.push([`stride@3 median ≤ ${T.b3.median}`, f(b3.median, 3), b3.median <= T.b3.median]);
    rows.push([`stride@3 worst ≤ ${T.b3.worst}`, f(b3.worst, 3), b3.worst <= T.b3.worst]);
    rows.push([
      `stride@3 within ${T.within}× on ≥ ${Math.round(100 * T.b3.within_share)}% of tasks`,
      `${pct(b3.within)} (${Math.round(b3.within * b3.tasks)}/${b3.tasks})`,
      b3.within >= T.b3.within_share,
    ]);
  }
  return rows;
}

// ---------------------------------------------------------------------------

const f = (v, d = 2) =>
  typeof v === 'number' && Number.isFinite(v)
    ? Math.abs(v) >= 1000
      ? v.toExponential(0).replace('e+', 'e')
      : v.toFixed(d)
    : v === Infinity
      ? '∞'
      : '—';
const lrFmt = (v) => (typeof v === 'number' ? v.toPrecision(2) : '—');
const pct = (v) => (typeof v === 'number' ? `${Math.round(100 * v)}%` : '—');
const horizonOf = (h) => ('epochs' in h ? `${h.epochs} ep` : `${h.steps} steps`);

/** Where a method that costs nothing sits on the chart's log axis (in full runs). */
const ZERO_COST_X = 0.02;
/** A method's name on the chart: stride@R as @R. */
const short = (k) => k.replace(/^stride@/, '@');
/** Ratios above this are drawn on it (a triangle), labelled with their value. */
const Y_CAP = 2.5;

/**
 * The chart: per split a panel, x the full runs spent (log), y the median and worst ratio over
 * the split's tasks (linear, from 0.8; above Y_CAP drawn at the cap with the value in the label).
 */
function frontierSvg(q, width = null, height = 480) {
  const summary = q.summary ?? summariseFrontier(q);
  const methods = methodsOf(q);
  const splits = SPLITS.filter(([s]) => q.rows.some((r) => r.split === s));
  // 300 px a panel, so that a split's title fits above it.
  width ??= Math.max(1000, 100 + 300 * splits.length);
  const xs = splits.flatMap(([s]) => methods.map((k) => summary[s][k].compute_runs ?? 0));
  const xMax = 10 ** Math.ceil(Math.log10(Math.max(10, ...xs)));
  const gap = 50;
  const left = 70;
  const panelW = (width - left - 30 - gap * (splits.length - 1)) / splits.length;
  const grid = splits.map((_, i) => ({
    left: left + i * (panelW + gap),
    width: panelW,
    top: 80,
    bottom: 60,
  }));
  const xAxis = splits.map((_, i) => ({
    gridIndex: i,
    type: 'log',
    min: ZERO_COST_X / 2,
    max: xMax,
    name: `full-run equivalents spent (log; cost 0 drawn at ${ZERO_COST_X})`,
    nameLocation: 'middle',
    nameGap: 30,
    axisLabel: { formatter: (v) => String(Number(v.toPrecision(2))) },
    splitLine: { show: true, lineStyle: { color: '#eee' } },
  }));
  const yAxis = splits.map((_, i) => ({
    gridIndex: i,
    type: 'value',
    min: 0.8,
    max: Y_CAP,
    interval: 0.1,
    name: 'mean loss / truth best',
    nameLocation: 'middle',
    nameGap: 40,
    axisLabel: {
      formatter: (v) =>
        Math.abs(v - Y_CAP) < 1e-9 ? `≥${Y_CAP}` : Math.round(v * 10) % 2 ? '' : v.toFixed(1),
    },
    splitLine: { show: true, lineStyle: { color: '#eee' } },
  }));
  const series = [];
  const colors = { median: '#2563eb', worst: '#dc2626' };
  splits.forEach(([s], i) => {
    for (const stat of ['median', 'worst']) {
      const pts = methods
        .map((k) => {
          const v = summary[s][k][stat];
          if (v === null || v === undefined) return null;
          const capped = !(v <= Y_CAP);
          const x = summary[s][k].compute_runs;
          return {
            value: [x > 0 ? x : ZERO_COST_X, capped ? Y_CAP : v],
            name: capped ? `${short(k)} ${Number.isFinite(v) ? v.toFixed(1) : '∞'}` : short(k),
            symbol: capped ? 'triangle' : 'circle',
          };
        })
        .filter(Boolean);
      // Labels of points close to one drawn before go beside them instead (left, then right).
      const base = stat === 'median' ? 'bottom' : 'top';
      pts.forEach((p, j) => {
        const near = pts
          .slice(0, j)
          .filter(
            (o) =>
              Math.abs(Math.log10(o.value[0] / p.value[0])) < 0.3 &&
              Math.abs(o.value[1] - p.value[1]) < 0.08,
          );
        const used = new Set(near.map((o) => o.label?.position ?? base));
        const position = [base, 'right', 'left', stat === 'median' ? 'top' : 'bottom'].find(
          (x) => !used.has(x),
        );
        if (position !== base) p.label = { position };
      });
      series.push({
        name: stat,
        type: 'scatter',
        xAxisIndex: i,
        yAxisIndex: i,
        symbolSize: 8,
        itemStyle: { color: colors[stat] },
        data: pts,
        label: {
          show: true,
          formatter: (p) => p.name,
          position: stat === 'median' ? 'bottom' : 'top',
          fontSize: 10,
          color: colors[stat],
        },
      });
      series.push({
        name: stat,
        type: 'line',
        xAxisIndex: i,
        yAxisIndex: i,
        showSymbol: false,
        lineStyle: { color: colors[stat], type: stat === 'worst' ? 'dashed' : 'solid', width: 1.5 },
        data: pts.filter((p) => p.name.startsWith('@')).map((p) => p.value),
        silent: true,
      });
    }
  });
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({
    animation: false,
    backgroundColor: '#fff',
    title: [
      ...splits.map(([split, label], i) => ({
        text: `${label} (${q.rows.filter((r) => r.split === split).length})`,
        left: grid[i].left + grid[i].width / 2,
        textAlign: 'center',
        top: 38,
        textStyle: { fontSize: 14 },
      })),
      {
        text: 'LR cost-quality frontier: median and worst ratio over the tasks against full runs spent (@R: stride at budget R)',
        left: 'center',
        top: 6,
        textStyle: { fontSize: 15 },
      },
    ],
    legend: {
      data: [
        { name: 'median', itemStyle: { color: colors.median } },
        { name: 'worst', itemStyle: { color: colors.worst } },
      ],
      top: 38,
      right: 10,
      orient: 'vertical',
    },
    grid,
    xAxis,
    yAxis,
    series,
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

/** One line for scale: the one- and two-seed grids beside stride@3, on all tasks (null without them). */
function gridScale(q, methods, summary) {
  const grids = ['grid10', 'grid10x2'].filter((k) => methods.includes(k));
  if (!grids.length) return null;
  const all = summary.all;
  const stat = (x) =>
    `median ${f(x?.median, 3)}, worst ${f(x?.worst, 3)}, within ${FRONTIER_TARGETS.within}× on ${pct(x?.within)}`;
  return (
    `For scale, the grid searches that pick on one or two seeds, on all ${q.rows.length} tasks: ${grids
      .map((k) => `${k} (${f(all[k].compute_runs, 0)} runs) ${stat(all[k])}`)
      .join('; ')}; stride@3 ${stat(all['stride@3'])}. ` +
    "The budget-3 targets are measured against a best that averages 3 seeds the method never saw; a pick made on one seed's runs carries that seed's noise, which is what separates grid10 from the truth."
  );
}

export function renderLrFrontier(q, lines) {
  lines.push('## LR cost-quality frontier', '');
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
  const methods = methodsOf(q);
  const summary = q.summary ?? summariseFrontier(q);
  lines.push(
    `The ${q.rows.length} PyTorch tasks of bench/lr_tasks.py (MLPs, CNNs and sequence models), each picked lr scored against bench/lr-truth.json. The design half and the first held-out half were fixed before any tuning; each later held-out set was defined, with its truth, before the changes it scores, and became "seen" once its results led to a change: the targets are scored on the newest set, the rest are shown beside it. ` +
      `Everything a method does uses seed 0: \`stride.lr_find\` on \`lr_find_setup(task, 0)\` (${q.sweep_steps} steps from 1e-7 to 10, stopped at divergence) measures the curve; ` +
      "`default` is the optimizer's conventional lr (costs nothing); `valley` is fastai's valley rule (bench/lr_client.py's `fastai_valley`) on that curve (costs the sweep); " +
      "`stride@R` is `stride.lr_suggest(train_fn, range_test=found, training=<horizon>, schedule=<the task's>, budget=R)`, whose train_fn trains `lr_tasks.train` at the trial's lr, length and seed (the service's seeds, 0, 1, ..., are the task's seeds 0, 1, ...) and reports every evaluation; its cost is the answer's `compute.runs` (the sweep's share included); " +
      "`grid10` is the grid search a user would run: the truth grid's lrs (10, more where the truth extended it) each trained to the horizon once on seed 0, the lowest final validation loss picked (its points, in full runs); `grid10x2` the same on seeds 0 and 1, the lowest mean picked (2 × its points); `truth` is the same grid on the 3 truth seeds (3 × its points; ratio 1 by definition: the yardstick, out of reach of any pick made on one seed). " +
      `Score: the picked lr trained at the full horizon on seeds ${q.truth_seeds.join(', ')} (never seen by a method), mean final validation loss over the truth's best mean; an lr that diverged on any seed scores the truth's diverged_penalty (2 × the worst finite loss on the task). Cost: full-run equivalents (a run of the whole horizon = 1); training s: the seconds its runs took when trained (the sweep's included; truth: the truth's median seconds per run × 3 × its points), one thread on this machine.`,
    '',
  );
  lines.push(`![LR cost-quality frontier: ratio against full runs spent](${SVG_NAME})`, '');
  for (const [split, label] of SPLITS) {
    const s = summary[split];
    const n = q.rows.filter((r) => r.split === split).length;
    if (!n) continue;
    lines.push(`### ${label} (${n})`, '');
    lines.push(
      `| Method | median ratio | worst ratio | within ${FRONTIER_TARGETS.within}× | compute (runs, median) | training s (median) |`,
    );
    lines.push('|---|---:|---:|---:|---:|---:|');
    for (const k of methods) {
      const x = s[k];
      const notes = [
        x.failed ? `${x.failed} failed` : null,
        x.diverged ? `${x.diverged} diverged` : null,
      ].filter(Boolean);
      lines.push(
        `| ${k}${notes.length ? ` (${notes.join(', ')})` : ''} | ${f(x.median, 3)} | ${f(x.worst, 3)} | ${pct(x.within)} (${Math.round((x.within ?? 0) * x.tasks)}/${x.tasks}) | ${f(x.compute_runs, 2)} | ${f(x.train_s, 1)} |`,
      );
    }
    lines.push('');
  }
  lines.push('### Targets', '', SCORED_NOTE, '');
  const present = SPLITS.filter(([s]) => q.rows.some((r) => r.split === s));
  const byTarget = present.map(([s]) => frontierTargets(summary[s]));
  lines.push(
    `| Target | ${present.map(([, label], i) => `${label.replace(/ \(.*\)$/, '')}${i === 0 ? ' (scored)' : ''} | `).join(' | ')}|`,
  );
  lines.push(`|---|${present.map(() => '---:|---').join('|')}|`);
  (byTarget[0] ?? []).forEach(([what], i) => {
    const cells = byTarget.map((t, k) => {
      const x = t[i];
      if (!x) return '— | ';
      return `${x[1]} | ${x[2] ? 'met' : k === 0 ? '**not met**' : 'not met'}`;
    });
    lines.push(`| ${what} | ${cells.join(' | ')} |`);
  });
  lines.push('');
  const scale = gridScale(q, methods, summary);
  if (scale) lines.push(scale, '');
  lines.push('### Per task', '');
  lines.push(
    'Ratio (and the lr picked) per method; the truth column is the grid\'s best lr and mean loss; "div." = diverged on a truth seed (scored with the penalty).',
    '',
  );
  lines.push(`| Task | split | horizon | truth best lr (loss) | ${methods.join(' | ')} |`);
  lines.push(`|---|---|---|---|${methods.map(() => '---:').join('|')}|`);
  for (const r of q.rows) {
    const cell = (k) => {
      const p = r.methods[k];
      if (!p || p.lr == null) return p?.error ? 'error' : '—';
      return `${p.diverged ? 'div.' : f(p.ratio, 3)} (${lrFmt(p.lr)})`;
    };
    lines.push(
      `| ${r.id} | ${r.split} | ${horizonOf(r.horizon)} | ${lrFmt(r.best_lr)} (${r.best_mean.toFixed(4)}) | ${methods.map(cell).join(' | ')} |`,
    );
  }
  lines.push('');
  lines.push('Notes:', '');
  lines.push(
    `- Compute per task for stride@R (the answer's \`compute.runs\`): ${q.budgets
      .map(
        (b) =>
          `@${b}: ${q.rows.map((r) => `${r.id} ${f(r.methods[`stride@${b}`]?.compute_runs, 2)}`).join(', ')}`,
      )
      .join('; ')}.`,
  );
  const over = [];
  const errors = [];
  for (const r of q.rows)
    for (const b of q.budgets) {
      const p = r.methods[`stride@${b}`];
      if (p?.overspent)
        over.push(
          `${r.id} @${b} (compute ${f(p.compute_runs, 3)}, runs trained ${f(p.runs_tally, 3)})`,
        );
      if (p?.error) errors.push(`${r.id} @${b}: ${p.error}`);
    }
  lines.push(
    over.length
      ? `- Budget overspent (the runs train_fn trained above what the sweep left of the budget, or \`compute.runs\` above the budget and the sweep): ${over.join('; ')}.`
      : "- No budget overspent: the runs each train_fn trained fit in what the sweep left of the budget, and no answer's `compute.runs` exceeds the budget (a budget below the sweep's share answers the range test's rule, and spends just the sweep).",
  );
  if (errors.length) lines.push(`- Errors: ${errors.join('; ')}.`);
  lines.push(
    `- The sweep's share of a full run per task: ${q.rows.map((r) => `${r.id} ${f(r.sweep_runs, 3)}`).join(', ')}. Range-test suggestion (rule, confidence) per task: ${q.rows.map((r) => `${r.id} ${lrFmt(r.range_test.lr)} (${r.range_test.method ?? '—'}, ${r.range_test.confidence ?? '—'})`).join(', ')}.`,
  );
  const calls = q.rows.flatMap((r) => q.budgets.map((bud) => r.methods[`stride@${bud}`] ?? {}));
  const total = calls.reduce((a, c) => a + (c.runs_trained ?? 0), 0);
  const replayed = calls.reduce((a, c) => a + (c.replayed ?? 0), 0);
  lines.push(
    `- Wall time per task (lr_find, every stride budget, scoring): median ${f(median(q.rows.map((r) => r.seconds)), 0)} s; stride@3's own (sweep plus its training) median ${f(median(q.rows.map((r) => r.methods['stride@3']?.seconds).filter((v) => typeof v === 'number')), 1)} s. Runs are cached (bench/.out/lr-cache, keyed by the task's definition, lr, seed and length) and replayed through the same reports: this run replayed ${replayed} of stride's ${total} training runs and trained the rest, so its wall times understate an uncached run; the training-s column is the uncached cost.`,
  );
  lines.push('');
  writeFileSync(path.join(here, SVG_NAME), frontierSvg({ ...q, summary }));
}

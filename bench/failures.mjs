// Bench section "Failures and pruning" (issue 22, item 5): stride's samplers with the median
// pruner on a synthetic deep-learning study whose best rates sit near a stability edge
// (bench/failures.ts, through tsx), against Optuna's TPESampler with its MedianPruner
// (bench/optuna_failures_ref.py) on the same problem and seeds, and against the numbers of
// stride before the samplers learned from failed and pruned trials (bench/failures-before.json,
// the same bench at the commit it names). Failed trials per study, regret of the best complete
// trial, exact repeats of a finished trial's params; two-sided Mann–Whitney U per variant.
//
// Used by bench/run.mjs (`--only failures`); exports the section runner and its renderer.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  findOptunaPython,
  lastJsonLine,
  log,
  mannWhitneyU,
  quantile,
  runTsJson,
} from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const TRIALS = 50;
const SEEDS = 20;
const SAMPLERS = ['random', 'tpe', 'gp', 'auto'];
const ALPHA = 0.05;

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function strideRun() {
  log(
    `failures: npx tsx bench/failures.ts (${SAMPLERS.join(', ')}; ${TRIALS} trials x ${SEEDS} seeds)...`,
  );
  return runTsJson('failures.ts', { trials: TRIALS, seeds: SEEDS, samplers: SAMPLERS }, 1_800_000);
}

function optunaRun() {
  const py = findOptunaPython();
  if (!py)
    return {
      skipped: 'optuna not found (tried /usr/bin/python3, python3): apt-get install python3-optuna',
    };
  log(`running bench/optuna_failures_ref.py with ${py} (${TRIALS} trials x ${SEEDS} seeds)...`);
  const o = spawnSync(
    py,
    [
      path.join(here, 'optuna_failures_ref.py'),
      '--trials',
      String(TRIALS),
      '--seeds',
      String(SEEDS),
    ],
    {
      cwd: here,
      encoding: 'utf8',
      timeout: 1_800_000,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (o.status !== 0)
    return {
      skipped: `optuna_failures_ref.py failed (${py}, exit ${o.status}): ${(o.stderr || '').trim().split('\n').slice(-3).join(' ')}`,
    };
  return lastJsonLine(o.stdout);
}

const sameCurve = (a, b) =>
  a === null || b === null
    ? a === b
    : a.length === b.length &&
      a.every((x, i) =>
        x === null || b[i] === null
          ? x === b[i]
          : Math.abs(x - b[i]) <= 1e-12 + 1e-9 * Math.max(Math.abs(x), Math.abs(b[i])),
      );

/** One cell's summary: mean failed, pruned and repeats per study, median and quartiles of regret. */
function summary(cell) {
  return {
    failed: mean(cell.failed),
    pruned: mean(cell.pruned),
    repeats: cell.repeats ? mean(cell.repeats) : null,
    median: quantile(cell.regret, 0.5),
    q25: quantile(cell.regret, 0.25),
    q75: quantile(cell.regret, 0.75),
    ms: cell.ms ? mean(cell.ms) : null,
  };
}

export function failuresSection() {
  const stride = strideRun();
  log(`  done in ${stride.seconds.toFixed(1)} s`);
  const optuna = optunaRun();
  let before = null;
  try {
    before = JSON.parse(readFileSync(path.join(here, 'failures-before.json'), 'utf8'));
  } catch {
    before = null;
  }
  const names = stride.variants.map((v) => v.name);
  const section = {
    trials: stride.trials,
    seeds: stride.seeds,
    epochs: stride.epochs,
    samplers: stride.samplers,
    variants: stride.variants,
    stride: stride.results,
    summary: Object.fromEntries(
      names.map((v) => [
        v,
        Object.fromEntries(stride.samplers.map((s) => [s, summary(stride.results[v][s])])),
      ]),
    ),
    optuna: optuna.skipped
      ? optuna
      : {
          ...optuna,
          summary: Object.fromEntries(names.map((v) => [v, summary(optuna.results[v])])),
        },
    before: before && {
      commit: before.commit,
      summary: Object.fromEntries(
        names.map((v) => [
          v,
          Object.fromEntries(stride.samplers.map((s) => [s, summary(before.results[v][s])])),
        ]),
      ),
    },
    node_seconds: stride.seconds,
  };
  section.tests = Object.fromEntries(
    names.map((v) => {
      const now = stride.results[v];
      const t = {};
      for (const s of stride.samplers) {
        if (before && s !== 'random')
          t[`${s}_vs_before`] = mannWhitneyU(now[s].regret, before.results[v][s].regret);
        if (!optuna.skipped)
          t[`${s}_vs_optuna`] = mannWhitneyU(now[s].regret, optuna.results[v].regret);
      }
      return [v, t];
    }),
  );
  if (!optuna.skipped)
    section.check_mismatches = names.filter(
      (v) => !stride.checks[v].every((c, i) => sameCurve(c, optuna.checks[v][i])),
    );
  return section;
}

function sig(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return String(Number(v.toPrecision(3)));
}
const pv = (p) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(3));

/** Mean over the variants of a half of a summary field. */
function halfMean(q, names, pick) {
  return mean(names.map(pick));
}

function renderHalf(q, half, lines) {
  const names = q.variants.filter((v) => v.half === half).map((v) => v.name);
  const cols = q.samplers.map((s) => ({ label: `stride ${s}`, get: (v) => q.summary[v][s] }));
  if (!q.optuna.skipped) cols.push({ label: 'optuna tpe', get: (v) => q.optuna.summary[v] });
  const beforeCols = q.before
    ? q.samplers
        .filter((s) => s !== 'random')
        .map((s) => ({ label: `${s} before`, get: (v) => q.before.summary[v][s] }))
    : [];
  const all = [...cols, ...beforeCols];
  lines.push(
    `### ${half === 'design' ? 'Design variants' : 'Held-out variants'} (${names.join(', ')})`,
    '',
  );
  lines.push('Failed trials per study of ' + q.trials + ' (mean over seeds):', '');
  lines.push(`| Variant | ${all.map((c) => c.label).join(' | ')} |`);
  lines.push(`|---|${all.map(() => '---:').join('|')}|`);
  for (const v of names)
    lines.push(`| ${v} | ${all.map((c) => c.get(v).failed.toFixed(1)).join(' | ')} |`);
  lines.push(
    `| mean | ${all.map((c) => `**${halfMean(q, names, (v) => c.get(v).failed).toFixed(1)}**`).join(' | ')} |`,
    '',
  );
  lines.push('Regret of the best complete trial, median [25th–75th percentile] over seeds:', '');
  lines.push(`| Variant | ${all.map((c) => c.label).join(' | ')} |`);
  lines.push(`|---|${all.map(() => '---:').join('|')}|`);
  for (const v of names)
    lines.push(
      `| ${v} | ${all.map((c) => `${sig(c.get(v).median)} [${sig(c.get(v).q25)}, ${sig(c.get(v).q75)}]`).join(' | ')} |`,
    );
  lines.push('');
  const tests = Object.keys(q.tests[names[0]]);
  lines.push(
    'Two-sided Mann–Whitney U of the regrets (U of stride now; p < ' + ALPHA + ' in bold):',
    '',
  );
  lines.push(`| Variant | ${tests.map((t) => t.replace(/_/g, ' ')).join(' | ')} |`);
  lines.push(`|---|${tests.map(() => '---:').join('|')}|`);
  for (const v of names)
    lines.push(
      `| ${v} | ${tests
        .map((t) => {
          const x = q.tests[v][t];
          const cell = `${x.u}, ${pv(x.p)}`;
          return x.p < ALPHA ? `**${cell}**` : cell;
        })
        .join(' | ')} |`,
    );
  lines.push('');
}

export function renderFailures(q, lines) {
  lines.push('## Failures and pruning', '');
  lines.push(
    `A synthetic deep-learning study (bench/failures.ts): lr (log), momentum, weight decay (log), optimizer (sgd/adam), batch size (int, log); ${q.epochs} epochs reported per trial to a median pruner (stride \`median\` and Optuna \`MedianPruner()\`, defaults); ${q.trials} sequential trials, seeds 0..${q.seeds - 1}. ` +
      "An effective rate above the variant's stability edge trains well, then goes NaN (told `failed`); a batch above its memory limit fails at once (OOM); the best final loss is at a fixed share of the edge. " +
      'Regret: best complete final loss minus the analytic optimum. The variants were split before tuning: the design half is what the choices were made on; the held-out half was only measured. ' +
      (q.before
        ? `"before": the same bench at ${q.before.commit} (samplers that ignored failed trials and, for the GP, pruned ones). `
        : '') +
      (q.optuna.skipped
        ? `Optuna skipped: ${q.optuna.skipped}.`
        : `Optuna ${q.optuna.optuna}: \`TPESampler(seed=seed)\` (bench/optuna_failures_ref.py).`),
    '',
  );
  renderHalf(q, 'design', lines);
  renderHalf(q, 'held-out', lines);
  lines.push(
    `Exact repeats of a finished trial's params per study (mean): ${q.samplers.map((s) => `${s} ${sig(mean(q.variants.map((v) => q.summary[v.name][s].repeats)))}`).join(', ')}` +
      (q.before
        ? `; before: ${q.samplers
            .filter((s) => s !== 'random')
            .map(
              (s) =>
                `${s} ${sig(mean(q.variants.map((v) => q.before.summary[v.name][s].repeats)))}`,
            )
            .join(', ')}`
        : '') +
      '.',
    '',
  );
  if (q.check_mismatches)
    lines.push(
      q.check_mismatches.length === 0
        ? 'Cross-check: the TypeScript and Python problems give the same curves (to 1e−9) at four fixed points of every variant.'
        : `**Cross-check FAILED** on ${q.check_mismatches.join(', ')}: the Optuna columns are not comparable there.`,
      '',
    );
}

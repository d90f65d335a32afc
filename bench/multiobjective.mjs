// Bench section "Several objectives" (issue 14): hypervolume after N trials of stride's samplers
// (bench/multiobjective.ts, through tsx) and of Optuna's NSGAIISampler and TPESampler
// (bench/optuna_mo_ref.py) on the same two-objective problems and seeds, with a two-sided
// Mann–Whitney U test of stride `auto` against Optuna NSGA-II per problem.
//
// Used by bench/run.mjs (`--only multiobjective`); exports the section runner and its renderer.
import { spawnSync } from 'node:child_process';
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

const MO_TRIALS = 100;
const MO_SEEDS = 20;
const MO_SAMPLERS = ['auto', 'tpe', 'tpe:multivariate=true', 'nsga2', 'random'];
const MO_OPTUNA = ['nsga2', 'tpe'];
const label = (s) => (s === 'tpe:multivariate=true' ? 'tpe (multivariate)' : s);

const sameNumber = (a, b) => Math.abs(a - b) <= 1e-12 + 1e-9 * Math.max(Math.abs(a), Math.abs(b));

export function multiobjectiveSection() {
  log(
    `several objectives: npx tsx bench/multiobjective.ts (${MO_SAMPLERS.join(', ')}; ${MO_TRIALS} trials x ${MO_SEEDS} seeds)...`,
  );
  const stride = runTsJson(
    'multiobjective.ts',
    { trials: MO_TRIALS, seeds: MO_SEEDS, samplers: MO_SAMPLERS },
    1_200_000,
  );
  log(`  done in ${stride.seconds.toFixed(1)} s`);

  let optuna;
  const py = findOptunaPython();
  if (!py)
    optuna = {
      skipped: 'optuna not found (tried /usr/bin/python3, python3): apt-get install python3-optuna',
    };
  else {
    log(
      `running bench/optuna_mo_ref.py with ${py} (NSGAIISampler, TPESampler defaults; ${MO_TRIALS} trials x ${MO_SEEDS} seeds)...`,
    );
    const o = spawnSync(
      py,
      [
        path.join(here, 'optuna_mo_ref.py'),
        '--trials',
        String(MO_TRIALS),
        '--seeds',
        String(MO_SEEDS),
        '--samplers',
        MO_OPTUNA.join(','),
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
      optuna = {
        skipped: `optuna_mo_ref.py failed (${py}, exit ${o.status}): ${(o.stderr || '').trim().split('\n').slice(-3).join(' ')}`,
      };
    else {
      optuna = lastJsonLine(o.stdout);
      for (const cells of Object.values(optuna.results)) {
        for (const c of Object.values(cells))
          Object.assign(c, {
            median: quantile(c.hv, 0.5),
            q25: quantile(c.hv, 0.25),
            q75: quantile(c.hv, 0.75),
          });
      }
      log(`  done in ${optuna.seconds.toFixed(1)} s (optuna ${optuna.optuna})`);
    }
  }

  const problems = stride.problems.map((p) => p.name);
  const section = {
    trials: stride.trials,
    seeds: stride.seeds,
    samplers: stride.samplers,
    problems: stride.problems,
    stride: stride.results,
    optuna,
    checks: stride.checks,
    node_seconds: stride.seconds,
  };
  if (!optuna.skipped) {
    section.check_mismatches = problems.filter((p) => {
      const a = stride.checks[p];
      const b = optuna.checks[p];
      const same = (x, y) => x.length === y.length && x.every((v, i) => sameNumber(v, y[i]));
      return (
        !b ||
        a.length !== b.length ||
        a.some(
          (c, i) =>
            !same(c.values, b[i].values) ||
            (c.constraints === null) !== (b[i].constraints === null) ||
            (c.constraints && !same(c.constraints, b[i].constraints)),
        )
      );
    });
    section.tests = Object.fromEntries(
      problems.map((p) => {
        const auto = stride.results[p].auto;
        const nsga = optuna.results[p].nsga2;
        const tpe = optuna.results[p].tpe;
        return [
          p,
          {
            auto_vs_optuna_nsga2: {
              ...mannWhitneyU(auto.hv, nsga.hv),
              target_met: auto.median >= nsga.median,
            },
            auto_vs_optuna_tpe: tpe ? mannWhitneyU(auto.hv, tpe.hv) : null,
            nsga2_vs_optuna_nsga2: mannWhitneyU(stride.results[p].nsga2.hv, nsga.hv),
            tpe_vs_optuna_tpe: tpe ? mannWhitneyU(stride.results[p].tpe.hv, tpe.hv) : null,
          },
        ];
      }),
    );
  }
  return section;
}

function sig(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return String(Number(v.toPrecision(4)));
}
const pv = (p) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

export function renderMultiobjective(q, lines) {
  const { optuna } = q;
  const problems = q.problems.map((p) => p.name);
  const cols = q.samplers.map((s) => ({
    label: `stride ${label(s)}`,
    cell: (p) => q.stride[p][s],
  }));
  if (!optuna.skipped)
    for (const s of Object.keys(optuna.results[problems[0]] ?? {}))
      cols.push({ label: `optuna ${s}`, cell: (p) => optuna.results[p][s] });
  lines.push('## Several objectives', '');
  lines.push(
    `Hypervolume (higher is better) of the feasible trials after ${q.trials} sequential trials against a fixed reference point, median [25th–75th percentile] over seeds 0..${q.seeds - 1} (${q.seeds} runs per cell). ` +
      `stride: \`makeSampler({ name, seed })\` with default options, one \`sample()\` per trial on the full history with \`directions\`, results told as \`values\` and \`constraints\` (bench/multiobjective.ts). ` +
      (optuna.skipped
        ? ''
        : `optuna: Optuna ${optuna.optuna} \`NSGAIISampler(seed=seed)\` and \`TPESampler(seed=seed)\` with defaults, \`constraints_func\` on the constrained problem (bench/optuna_mo_ref.py). `) +
      'Bold: highest median in the row.',
    '',
  );
  lines.push(`| Problem (reference point) | ${cols.map((c) => c.label).join(' | ')} |`);
  lines.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const p of q.problems) {
    const top = Math.max(...cols.map((c) => c.cell(p.name).median));
    const cells = cols.map((c) => {
      const x = c.cell(p.name);
      const m = sig(x.median);
      return `${sameNumber(x.median, top) ? `**${m}**` : m} [${sig(x.q25)}, ${sig(x.q75)}]`;
    });
    lines.push(`| ${p.name} (${p.ref.join(', ')}) | ${cells.join(' | ')} |`);
  }
  lines.push('');
  if (optuna.skipped) {
    lines.push(`Optuna anchor skipped: ${optuna.skipped}.`, '');
  } else {
    lines.push(
      'Two-sided Mann–Whitney U (normal approximation with tie and continuity corrections; checked against `scipy.stats.mannwhitneyu` on these samples), U of the first sample:',
      '',
    );
    lines.push(
      '| Problem | auto vs optuna nsga2: U, p | Target: median auto ≥ optuna nsga2 | auto vs optuna tpe: U, p | stride nsga2 vs optuna nsga2: U, p | stride tpe vs optuna tpe: U, p |',
    );
    lines.push('|---|---:|---|---:|---:|---:|');
    for (const p of problems) {
      const t = q.tests[p];
      const cell = (x) => (x ? `${x.u}, ${pv(x.p)}` : '—');
      lines.push(
        `| ${p} | ${cell(t.auto_vs_optuna_nsga2)} | ${t.auto_vs_optuna_nsga2.target_met ? 'met' : '**NOT met**'} | ${cell(t.auto_vs_optuna_tpe)} | ${cell(t.nsga2_vs_optuna_nsga2)} | ${cell(t.tpe_vs_optuna_tpe)} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    'Time per suggestion (ms): stride = mean wall time of one `sample()`; optuna = mean time per trial of `study.optimize` (sampling, storage and the objective).',
    '',
  );
  lines.push(`| Problem | ${cols.map((c) => c.label).join(' | ')} |`);
  lines.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const p of problems) {
    const cells = q.samplers.map((s) => q.stride[p][s].ms_per_sample.toFixed(2));
    if (!optuna.skipped)
      for (const s of Object.keys(optuna.results[p]))
        cells.push((optuna.results[p][s].seconds_per_trial * 1000).toFixed(2));
    lines.push(`| ${p} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const chose = problems.map(
    (p) =>
      `${p}: ${Object.entries(q.stride[p].auto.proposers)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
  );
  lines.push('Notes:', '');
  lines.push(
    `- What \`auto\` used (trials over all seeds): ${chose.join('; ')}. With several objectives it hands trials to the multi-objective TPE (multivariate) below 250 complete trials and to NSGA-II from there (OptunaHub's AutoSampler's rule); at 100 trials NSGA-II has had one generation to breed, which is why the GA columns sit near random here.`,
  );
  lines.push(
    '- zdt1: ZDT1 with 5 variables in [0, 1], f1 = x0, g = 1 + 9·mean(x1..x4), f2 = g·(1 − √(f1/g)).',
  );
  lines.push(
    '- lr-throughput: `lr` log [1e−5, 1], `batch_size` int log [16, 1024], `width` int log [16, 1024], `dropout` [0, 0.5]; validation loss = 0.1 + 0.6·√(32/width) + 0.6·log10(lr/lr*)² (lr* = 3e−3·√(batch/64)) + 0.03·log2(batch/64)² + 2·(dropout − d*)² (d* = 0.4·ln(width/16)/ln 64); training seconds = 10·(50000/batch)·(0.004 + 4e−8·batch·width). lr-throughput-mem: the same with the constraint batch·width/16384 − 1 ≤ 0 (a memory budget), which cuts the low-loss end of the unconstrained front.',
  );
  if (q.check_mismatches) {
    lines.push(
      q.check_mismatches.length === 0
        ? '- Cross-check: the TypeScript and Python definitions give the same objective and constraint values (to 1e−9) at four fixed points of each problem.'
        : `- **Cross-check FAILED** on ${q.check_mismatches.join(', ')}: the Optuna columns are not comparable there.`,
    );
  }
  if (!optuna.skipped && optuna.logpdf_scale_bug)
    lines.push(
      `- Optuna ${optuna.optuna}'s TPE has the density bug optuna/optuna#5109 (see "Sampler quality"); its TPE column is as installed.`,
    );
  lines.push('');
}

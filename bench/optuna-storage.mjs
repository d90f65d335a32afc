// Bench section "Optuna storages" (issue 23): an Optuna study's ask and tell through
// stride.integrations.optuna.StrideStorage against a local stride, beside Optuna's in-memory and
// SQLite storages. bench/optuna_storage.py does the work; this file starts the Worker, runs it
// and renders the Markdown.
//
// Used by bench/run.mjs (`--only optuna-storage`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStride } from '../scripts/local-worker.mjs';
import { findOptunaPython, log, quantile, runPythonJson } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const KEY = 'bench-key';
/** The target of issue 23: ask+tell through StrideStorage within this factor of SQLite's. */
const TARGET_VS_SQLITE = 3;
const STORAGES = ['in-memory', 'sqlite', 'stride'];

export async function optunaStorageSection() {
  const py = findOptunaPython();
  if (!py) return { skipped: 'optuna not found: apt-get install python3-optuna' };
  const stride = await startStride({ devKey: KEY });
  log(`optuna-storage: Worker at ${stride.url}; running bench/optuna_storage.py with ${py}`);
  try {
    const env = {
      ...process.env,
      PYTHONPATH:
        path.join(root, 'python') +
        (process.env.PYTHONPATH ? path.delimiter + process.env.PYTHONPATH : ''),
    };
    const out = await runPythonJson(py, [path.join(here, 'optuna_storage.py'), stride.url, KEY], {
      cwd: root,
      env,
      timeoutMs: 20 * 60_000,
    });
    // The per-trial times are summarised; results.json keeps the summary and the calls.
    const storages = Object.fromEntries(
      Object.entries(out.storages).map(([name, r]) => [
        name,
        { calls_per_trial: r.calls_per_trial },
      ]),
    );
    return { ...out, storages, summary: summarise(out), python_path: py };
  } finally {
    await stride.dispose();
    log('worker stopped');
  }
}

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;

/** Per storage: mean, median and p90 ms per trial, the mean of the last 50; stride's ratio to SQLite. */
function summarise(out) {
  const rows = {};
  for (const name of STORAGES) {
    const ms = out.storages[name]?.ms;
    if (!ms) continue;
    rows[name] = {
      mean: mean(ms),
      median: quantile(ms, 0.5),
      p90: quantile(ms, 0.9),
      last50: mean(ms.slice(-50)),
    };
  }
  const ratio = rows.stride && rows.sqlite ? rows.stride.mean / rows.sqlite.mean : null;
  return {
    rows,
    ratio,
    target: TARGET_VS_SQLITE,
    pass: ratio === null ? null : ratio <= TARGET_VS_SQLITE,
  };
}

const f1 = (v) => (v === null || v === undefined ? '—' : v.toFixed(1));

export function renderOptunaStorage(section, lines) {
  lines.push('## Optuna storages: ask and tell through StrideStorage', '');
  if (section.skipped) {
    lines.push(`Skipped: ${section.skipped}.`, '');
    return;
  }
  const { rows, ratio, target, pass } = section.summary;
  lines.push(
    `One Optuna study of ${section.n_trials} trials with Optuna ${section.optuna}'s TPESampler (seed 7), three suggestions a trial (a log-scale float, an int, a categorical), timed from \`study.ask()\` to the end of \`study.tell()\` (bench/optuna_storage.py), through each storage on this machine: Optuna's in-memory storage, its SQLite storage (RDB, a file in a temporary directory) and \`stride.integrations.optuna.StrideStorage\` against a local Worker (scripts/local-worker.mjs: HTTP through wrangler's proxy, the Worker, the study's Durable Object).`,
    '',
    '| storage | mean ms/trial | median | p90 | mean of the last 50 |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const name of STORAGES) {
    const r = rows[name];
    if (r)
      lines.push(`| ${name} | ${f1(r.mean)} | ${f1(r.median)} | ${f1(r.p90)} | ${f1(r.last50)} |`);
  }
  const calls = section.storages.stride?.calls_per_trial ?? {};
  lines.push(
    '',
    `- StrideStorage / SQLite, mean per trial: ${ratio === null ? '—' : ratio.toFixed(2)}x (target: within ${target}x: ${pass ? 'met' : 'not met'}).`,
    `- HTTP calls per trial through StrideStorage: ${Object.entries(calls)
      .map(([m, n]) => `${n.toFixed(1)} ${m}`)
      .join(
        ', ',
      )} (the ask; one POST per suggestion, the value Optuna's sampler chose; the tell; reads of the trials from the first unfinished one on, since finished trials are cached).`,
    '',
  );
}

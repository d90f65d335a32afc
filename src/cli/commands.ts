/**
 * The CI commands of `stride`: lr-find, check, and study create/wait/best/export.
 * Each takes parsed options and writes to `out` (results) and `err`
 * (messages, progress); it resolves to the exit code: 0 success, 1 the
 * check failed (or the study timed out / failed), 2 usage or service errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { LrRangeTest } from '../contract/schemas';
import type { StudyView, TrialView } from '../contract/study';
import type { LrSuggestion } from '../contract/lr-suggestion';
import { fmtCell } from '../lib/format';
import type { LrSchedule } from '../contract/names';
import { StrideClient } from './client';

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  tty: boolean;
}

export class UsageError extends Error {}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

/** A file holds either a whole range-test request ({"probe", "range"}) or just the probe. */
function rangeTestRequest(file: string): Record<string, unknown> {
  const v = readJson(file);
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new UsageError(
      `${file} must hold a JSON object: a probe, or {"probe": ..., "range": ...}`,
    );
  const o = v as Record<string, unknown>;
  return 'probe' in o ? o : { probe: o };
}

/**
 * The loss-vs-LR curve as text: a log-LR x axis (the sweep's steps), the
 * smoothed loss on y (clipped to the range that matters), the suggestion
 * marked with `|` and max_stable_lr with `:`.
 */
function plotCurve(result: LrRangeTest, width = 64, height = 14): string {
  const pts = result.curve.filter(
    (p) => p.smoothed_loss !== null && Number.isFinite(p.smoothed_loss),
  ) as { lr: number; smoothed_loss: number }[];
  if (pts.length < 2) return '(no finite points to plot)\n';
  const xs = pts.map((p) => Math.log10(p.lr));
  const ys = pts.map((p) => p.smoothed_loss);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const yMin = Math.min(...ys);
  // Divergence at the end would squash the interesting part: clip at 3x the starting loss.
  const yMax = Math.min(Math.max(...ys), Math.max(ys[0] * 3, yMin + 1e-9));
  const grid = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  const col = (x: number) => Math.round(((x - x0) / (x1 - x0 || 1)) * (width - 1));
  const row = (y: number) =>
    height - 1 - Math.round(((Math.min(y, yMax) - yMin) / (yMax - yMin || 1)) * (height - 1));
  const mark = (lr: number | null | undefined, ch: string) => {
    if (lr === null || lr === undefined || lr <= 0) return;
    const c = col(Math.log10(lr));
    if (c < 0 || c >= width) return;
    for (let r = 0; r < height; r++) if (grid[r][c] === ' ') grid[r][c] = ch;
  };
  mark(result.suggestion.max_stable_lr, ':');
  mark(result.suggestion.lr, '|');
  for (let i = 0; i < pts.length; i++) grid[row(ys[i])][col(xs[i])] = '*';
  const label = (v: number) => v.toPrecision(3).padStart(9);
  const lines = grid.map(
    (r, i) =>
      `${i === 0 ? label(yMax) : i === height - 1 ? label(yMin) : ' '.repeat(9)} ┤${r.join('')}`,
  );
  const axis = `${' '.repeat(10)}└${'─'.repeat(width)}`;
  const left = `lr ${pts[0].lr.toExponential(0)}`;
  const right = `${pts[pts.length - 1].lr.toExponential(0)}`;
  const ticks = `${' '.repeat(11)}${left}${' '.repeat(Math.max(1, width - left.length - right.length))}${right}`;
  return (
    [
      ...lines,
      axis,
      ticks,
      `${' '.repeat(11)}* smoothed loss   | suggested lr   : max stable lr`,
    ].join('\n') + '\n'
  );
}

function describeSuggestion(r: LrRangeTest): string {
  const s = r.suggestion;
  const lines = [
    s.lr === null
      ? 'no suggestion (see the curve)'
      : `suggested lr ${fmtCell(s.lr)} (${s.method}, confidence ${s.confidence})`,
    `max stable lr ${fmtCell(s.max_stable_lr)}`,
    `candidates: ${Object.entries(s.candidates)
      .map(([k, v]) => `${k} ${fmtCell(v as number | null)}`)
      .join(', ')}`,
    `${r.steps_run} steps${r.stopped_early ? ' (stopped early: diverged)' : ''}, ${r.backend}, ${r.duration_ms} ms${r.cached ? ', cached' : ''}; id ${r.id}`,
  ];
  return lines.join('\n') + '\n';
}

/** The real run's length and LR schedule (`--epochs`/`--steps`, `--schedule`): lr-find then validates at it. */
export interface TrainingHorizon {
  training: { epochs: number } | { steps: number };
  schedule?: LrSchedule;
  /** Full runs at the horizon lr/suggest may spend (the service's default when absent). */
  budget?: number;
}

/** How long a validated lr/suggest may take in all: the range test, then the edge's training. */
const SUGGEST_TIMEOUT_MS = 10 * 60_000;
/** Between two looks at a suggestion still training. */
const SUGGEST_POLL_MS = 1_000;

/**
 * POST /v1/lr/suggest, then, when the edge answers 202 (training outlasts a few seconds), GET
 * its `poll` until the suggestion is complete (at most SUGGEST_TIMEOUT_MS in all).
 */
async function suggestAndWait(
  client: StrideClient,
  body: unknown,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<LrSuggestion> {
  const t0 = Date.now();
  const first = await client.post<LrSuggestion & { poll?: string }>('/v1/lr/suggest', body, {
    timeoutMs: SUGGEST_TIMEOUT_MS,
  });
  if (first.status !== 202) return first.body!;
  const poll = first.body!.poll!;
  for (;;) {
    if (Date.now() - t0 > SUGGEST_TIMEOUT_MS)
      throw new Error(
        `lr/suggest: still training after ${SUGGEST_TIMEOUT_MS / 1000} s (GET ${poll})`,
      );
    await sleep(SUGGEST_POLL_MS);
    const { body: now } = await client.get<LrSuggestion>(poll);
    if (now!.status === 'complete') return now!;
  }
}

const pad = (cells: string[][]) => {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
};

/** The lr/suggest answer for a person: the lr, the horizon it was validated at, the candidates, the reasoning. */
function describeValidated(v: LrSuggestion): string {
  const h = v.horizon;
  const lines: string[] = [];
  lines.push(
    v.method === 'validated'
      ? `validated lr ${fmtCell(v.lr)} (confidence ${v.confidence})`
      : `lr ${fmtCell(v.lr)} (${v.method}, not validated; confidence ${v.confidence})`,
  );
  if (h) {
    const steps =
      h.steps !== undefined ? `${h.steps} steps = ${h.epochs} epochs of this probe; ` : '';
    lines.push(
      h.method === 'none'
        ? `horizon: ${steps}${h.epochs} epochs, not validated (none)`
        : `horizon: ${steps}validated at ${h.validated_epochs} of ${h.epochs} epochs (${h.method}), ${h.schedule} schedule`,
    );
  }
  if (v.stable_range)
    lines.push(`stable range ${fmtCell(v.stable_range.min)} .. ${fmtCell(v.stable_range.max)}`);
  if (v.compute)
    lines.push(
      `compute: ${v.compute.runs} of ${v.budget?.runs ?? '?'} full runs (the sweep included)`,
    );
  const cands = v.validation?.candidates ?? [];
  if (cands.length > 0) {
    lines.push(
      '',
      `runs (validation loss at the end of each; ${v.validation!.complete ? 'complete' : 'still training'}):`,
    );
    const rows = [
      ['', 'lr', 'sources', 'length', 'state', 'value', 'epochs run', 'tied'],
      ...cands.map((c) => [
        c.lr === v.lr ? '*' : '',
        fmtCell(c.lr),
        c.sources.join(', '),
        String((c as { length?: number }).length ?? h?.validated_epochs ?? '—'),
        c.state,
        c.value === null ? '—' : c.value.toPrecision(4),
        String(c.epochs_run),
        c.tied ? 'tied' : '',
      ]),
    ];
    lines.push(...pad(rows).map((l) => `  ${l}`), '  (* the answer)');
  }
  if (v.reasoning.length > 0) lines.push('', 'why:', ...v.reasoning.map((r) => `  - ${r}`));
  return lines.join('\n') + '\n';
}

/**
 * `stride lr-find FILE [--epochs N | --steps N] [--schedule S]`: the range
 * test's curve and rules; with a horizon, then POST /v1/lr/suggest with the
 * same probe and range, which validates candidates at that length.
 * --json: the range test as before; with a horizon {"range_test", "suggestion"}.
 */
export async function lrFind(
  client: StrideClient,
  file: string,
  json: boolean,
  io: Io,
  horizon?: TrainingHorizon,
): Promise<number> {
  const request = rangeTestRequest(file);
  if (!json) io.err.write('running the LR range test on the edge...\n');
  const { body } = await client.post<LrRangeTest>('/v1/lr-range-tests', request);
  const r = body!;
  if (!horizon) {
    if (json) io.out.write(JSON.stringify(r, null, 2) + '\n');
    else
      io.out.write(
        plotCurve(r) +
          '\n' +
          describeSuggestion(r) +
          '\nfor a validated lr at your training length: --epochs N (or --steps N) [--schedule constant|cosine|one_cycle]\n',
      );
    return 0;
  }
  if (!json) {
    io.out.write(plotCurve(r) + '\n' + describeSuggestion(r) + '\n');
    const length =
      'epochs' in horizon.training
        ? `${horizon.training.epochs} epochs`
        : `${horizon.training.steps} steps`;
    io.err.write(
      `validating candidates at ${length} (${horizon.schedule ?? 'constant'} schedule) on the edge; this can take a minute...\n`,
    );
  }
  // The same probe and range: the service reuses the range test it just ran.
  const suggestBody = {
    probe: request.probe,
    ...(request.range !== undefined ? { range: request.range } : {}),
    training: horizon.training,
    ...(horizon.schedule ? { schedule: horizon.schedule } : {}),
    ...(horizon.budget !== undefined ? { budget: { runs: horizon.budget } } : {}),
  };
  const suggestion = await suggestAndWait(client, suggestBody);
  if (json) io.out.write(JSON.stringify({ range_test: r, suggestion }, null, 2) + '\n');
  else io.out.write(describeValidated(suggestion!));
  return 0;
}

/**
 * `stride check probe.json --lr X`: 0 when X is within the stable region
 * (at most max_stable_lr, and no more than `factor` times below the
 * suggestion); 1 when it is above max_stable_lr or far below the suggestion.
 */
export async function check(
  client: StrideClient,
  file: string,
  lr: number,
  factor: number,
  json: boolean,
  io: Io,
): Promise<number> {
  const request = rangeTestRequest(file);
  const { body } = await client.post<LrRangeTest>('/v1/lr-range-tests', request);
  const r = body!;
  const s = r.suggestion;
  let verdict: 'ok' | 'above_max_stable' | 'far_below_suggestion' | 'inconclusive';
  let message: string;
  if (s.max_stable_lr !== null && lr > s.max_stable_lr) {
    verdict = 'above_max_stable';
    message = `lr ${fmtCell(lr)} is above max_stable_lr ${fmtCell(s.max_stable_lr)}: training is likely to diverge (suggested ${fmtCell(s.lr)})`;
  } else if (s.lr !== null && lr < s.lr / factor) {
    verdict = 'far_below_suggestion';
    message = `lr ${fmtCell(lr)} is more than ${factor}x below the suggested ${fmtCell(s.lr)}: training is likely to be slow`;
  } else if (s.lr === null && s.max_stable_lr === null) {
    verdict = 'inconclusive';
    message = `the range test gives no suggestion and no stable limit (confidence ${s.confidence}): lr ${fmtCell(lr)} not judged`;
  } else {
    verdict = 'ok';
    message = `lr ${fmtCell(lr)} is within the stable region (suggested ${fmtCell(s.lr)}, max stable ${fmtCell(s.max_stable_lr)})`;
  }
  const code = verdict === 'above_max_stable' || verdict === 'far_below_suggestion' ? 1 : 0;
  if (json)
    io.out.write(
      JSON.stringify({ verdict, lr, message, suggestion: s, range_test_id: r.id }, null, 2) + '\n',
    );
  else io.out.write(`${code === 0 ? 'ok' : 'FAIL'}: ${message}\n`);
  return code;
}

/** What runs the study's trials, for a person: the next step after creating it. */
function nextStep(s: StudyView): string {
  switch (s.executor.kind) {
    case 'edge':
      return `its trials train on the edge; follow it with \`stride study wait ${s.id}\``;
    case 'runner':
      return `its trials wait for runners: start \`stride agent --study ${s.id} -- <your training command>\``;
    default:
      return `ask and tell its trials (POST /v1/studies/${s.id}/ask, then .../trials/{number}/tell)`;
  }
}

/** `stride study create FILE`: create the study; an edge study is started at once (POST .../run) unless `start` is false. */
export async function studyCreate(
  client: StrideClient,
  file: string,
  start: boolean,
  json: boolean,
  io: Io,
): Promise<number> {
  const body = readJson(file);
  const { body: created } = await client.post<StudyView>('/v1/studies', body);
  let study = created!;
  const edge = study.executor.kind === 'edge';
  if (edge && start)
    study = {
      ...(await client.post<StudyView>(`/v1/studies/${encodeURIComponent(study.id)}/run`)).body!,
      dispatch_secret: created!.dispatch_secret,
    };
  if (json) io.out.write(JSON.stringify(study, null, 2) + '\n');
  else {
    io.out.write(`${study.id}\n`);
    io.err.write(
      `created study ${study.id} (${study.name}, ${study.executor.kind} executor${study.max_trials ? `, ${study.max_trials} trials` : ''})\n`,
    );
    if (study.dispatch_secret)
      io.err.write(`dispatch secret (shown once): ${study.dispatch_secret}\n`);
    io.err.write(
      edge && !start
        ? `not started (--no-start): start it with \`stride study run ${study.id}\`\n`
        : `${edge ? 'started: ' : ''}${nextStep(study)}\n`,
    );
  }
  return 0;
}

/** `stride study run ID`: start an edge study (its trials train on the edge, `parallelism` at a time). */
export async function studyRun(
  client: StrideClient,
  id: string,
  json: boolean,
  io: Io,
): Promise<number> {
  const { body } = await client.post<StudyView>(`/v1/studies/${encodeURIComponent(id)}/run`);
  const s = body!;
  if (json) io.out.write(JSON.stringify(s, null, 2) + '\n');
  else io.err.write(`started study ${s.id} (${s.name}): ${nextStep(s)}\n`);
  return 0;
}

/**
 * Why a study that is not completed makes no progress, as far as the client
 * can tell: an edge study that was never started, a runner study that no
 * runner serves, a client study waiting for its ask/tell loop.
 */
async function stallHint(client: StrideClient, s: StudyView): Promise<string> {
  if (s.executor.kind === 'edge') {
    return s.n_trials === 0
      ? `not started: run \`stride study run ${s.id}\``
      : 'its trials train on the edge';
  }
  if (s.executor.kind === 'runner') {
    if (s.n_trials === 0)
      return `no runner has leased a trial: start \`stride agent --study ${s.id} -- <your training command>\``;
    const { body } = await client.get<{ trials: TrialView[] }>(
      `/v1/studies/${encodeURIComponent(s.id)}/trials`,
    );
    const leased = body!.trials.filter((t) => t.state === 'running').length;
    return leased > 0
      ? `${leased} trial${leased === 1 ? '' : 's'} leased by runners`
      : `no runner holds a trial now: start \`stride agent --study ${s.id} -- <your training command>\``;
  }
  return `waiting for your ask/tell loop (POST /v1/studies/${s.id}/ask, then .../trials/{number}/tell)`;
}

/** "30m", "90s", "2h", "1500ms" or plain seconds, in ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`not a duration: '${text}' (try 30m, 90s, 2h)`);
  const n = Number(m[1]);
  return (
    n *
    ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  );
}

/** Wait until the study completes: 0 with a best trial; 1 on timeout or when no trial completed. */
export async function studyWait(
  client: StrideClient,
  id: string,
  timeoutMs: number,
  intervalMs: number,
  json: boolean,
  io: Io,
): Promise<number> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    const { body } = await client.get<StudyView>(`/v1/studies/${encodeURIComponent(id)}`);
    const s = body!;
    const best = s.best_trial
      ? `best ${s.best_trial.value} (trial ${s.best_trial.number})`
      : 'no complete trial yet';
    const progress = `${s.n_trials}${s.max_trials ? `/${s.max_trials}` : ''} trials`;
    const hint = s.state === 'completed' ? '' : await stallHint(client, s);
    const line = `${s.name}: ${progress}, ${best}${hint ? `; ${hint}` : ''}`;
    if (!json && line !== last) {
      io.err.write(io.tty ? `\r\x1b[2K${line}` : `${line}\n`);
      last = line;
    }
    if (s.state === 'completed') {
      if (!json && io.tty) io.err.write('\n');
      const ok = s.best_trial !== null;
      if (json) io.out.write(JSON.stringify({ state: s.state, ok, study: s }, null, 2) + '\n');
      else
        io.err.write(
          ok
            ? `completed: ${best}\n`
            : 'completed, but no trial completed (all failed or pruned)\n',
        );
      return ok ? 0 : 1;
    }
    if (Date.now() - t0 >= timeoutMs) {
      if (!json && io.tty) io.err.write('\n');
      if (json)
        io.out.write(
          JSON.stringify({ state: s.state, ok: false, timed_out: true, hint, study: s }, null, 2) +
            '\n',
        );
      else
        io.err.write(
          `timed out after ${Math.round((Date.now() - t0) / 1000)} s: the study is still ${s.state} (${progress}): ${hint}\n`,
        );
      return 1;
    }
    await new Promise((r) =>
      setTimeout(r, Math.min(intervalMs, Math.max(0, timeoutMs - (Date.now() - t0)))),
    );
  }
}

export async function studyBest(
  client: StrideClient,
  id: string,
  json: boolean,
  io: Io,
): Promise<number> {
  const { body } = await client.get<StudyView>(`/v1/studies/${encodeURIComponent(id)}`);
  const best = body!.best_trial;
  if (!best) {
    io.err.write(`study ${id} has no complete trial yet\n`);
    if (json) io.out.write('null\n');
    return 1;
  }
  if (json) io.out.write(JSON.stringify(best, null, 2) + '\n');
  else {
    io.out.write(`trial ${best.number}: ${body!.metric} = ${best.value}\n`);
    for (const [k, v] of Object.entries(best.params)) io.out.write(`  ${k} = ${v}\n`);
  }
  return 0;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The trials as CSV: number, state, value, error, times, attempts, then one column per parameter (param_<name>). */
function trialsCsv(trials: TrialView[]): string {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  const header = [
    'number',
    'state',
    'value',
    'error',
    'started_at',
    'completed_at',
    'attempts',
    'steps_reported',
    ...names.map((n) => `param_${n}`),
  ];
  const rows = trials.map((t) =>
    [
      t.number,
      t.state,
      t.value,
      t.error,
      t.started_at,
      t.completed_at,
      t.attempts,
      t.intermediate.length,
      ...names.map((n) => t.params[n]),
    ]
      .map(csvCell)
      .join(','),
  );
  return [header.join(','), ...rows].join('\n') + '\n';
}

export async function studyExport(
  client: StrideClient,
  id: string,
  format: string,
  output: string | undefined,
  io: Io,
): Promise<number> {
  if (format !== 'csv' && format !== 'json')
    throw new UsageError(`--format must be csv or json, got '${format}'`);
  const [{ body: study }, { body: trials }] = await Promise.all([
    client.get<StudyView>(`/v1/studies/${encodeURIComponent(id)}`),
    client.get<{ trials: TrialView[] }>(`/v1/studies/${encodeURIComponent(id)}/trials`),
  ]);
  const text =
    format === 'csv'
      ? trialsCsv(trials!.trials)
      : JSON.stringify({ study, trials: trials!.trials }, null, 2) + '\n';
  if (output) {
    writeFileSync(output, text);
    io.err.write(`wrote ${trials!.trials.length} trials to ${output}\n`);
  } else io.out.write(text);
  return 0;
}

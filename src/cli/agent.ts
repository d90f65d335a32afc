/**
 * `stride agent`: lease trials of runner studies and run the user's own
 * training command for each, in any language.
 *
 * Per trial the command's `${name}` placeholders get the trial's params
 * (`${name:-default}` for a param the trial may lack, such as a conditional
 * one), and the child gets STRIDE_PARAMS (JSON), STRIDE_TRIAL, STRIDE_STUDY
 * and STRIDE_METRICS_FILE in its environment (with `--gpus`, also
 * CUDA_VISIBLE_DEVICES: one trial per GPU at a time). Metrics come from the
 * child's stdout lines `stride: {"step": 3, "value": 0.41}` and a final
 * `stride: {"value": 0.37}` (for a study with several objectives
 * `stride: {"values": [0.37, 12.5]}`, one per direction; either with
 * `"constraints": [c1, ...]`, feasible when every one is <= 0), or the same
 * JSON objects as lines of the file STRIDE_METRICS_FILE names; every other
 * line passes through.
 *
 * While the child runs the agent heartbeats, reports intermediate values and
 * obeys `should_prune` (SIGTERM, then SIGKILL after the grace period, then
 * tells `pruned`); a study with several objectives takes no intermediate
 * values (the agent warns once and sends none). A non-zero exit, or an exit
 * without a final value, tells `failed` with the last lines of stderr; a NaN
 * final value tells `failed` ("diverged"), and so does a final result the
 * study cannot take (as many values as it has objectives, finite
 * constraints), saying what was wrong. Stopping the agent (Ctrl-C) stops the children and hands
 * their trials back. Losing a lease (it expired and another runner has the
 * trial) stops the child and tells nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { z } from 'zod';
import type { TellSchema } from '../contract/schemas';
import { directionsOf, metricsOf, type LeaseGrant } from '../contract/study';
import { fmtMetric } from '../lib/format';
import { editDistance } from '../lib/names';
import { ApiError, StrideClient } from './client';

export interface AgentOptions {
  client: StrideClient;
  /** Lease only from this study (else from any runner study with work). */
  study?: string;
  /** Trials to run in all, then stop. */
  count?: number;
  /** One slot per GPU id (CUDA_VISIBLE_DEVICES); none: one slot. */
  gpus?: string[];
  /** The runner's name in leases (default: the host name). */
  name: string;
  /** The command, with `${param}` placeholders. */
  command: string[];
  /** Between SIGTERM and SIGKILL when stopping a child (ms). */
  graceMs: number;
  /** Keep asking when the study has no more work (default: only without --study). */
  wait: boolean;
  out: Writable;
  err: Writable;
  /** Progress for a person (colours, symbols) rather than plain lines. */
  tty: boolean;
}

export interface AgentSummary {
  ran: number;
  complete: number;
  pruned: number;
  failed: number;
  /** Trials given back (interrupted) or lost (lease expired). */
  released: number;
  lost: number;
  interrupted: boolean;
  /** Why the command cannot run the study's trials (a placeholder no param fills): exit 2. */
  usageError: string | null;
}

/** An intermediate value (`{"step", "value"}`); NaN and infinities are null. */
type Report = { step: number; value: number | null };
/**
 * The final result as the script gave it: `{"value": v}` (`list` false) or
 * `{"values": [...]}` (`list` true), and `"constraints"` when given; NaN and
 * infinities are null. Checked against the study by `tellBody`.
 */
export type Final = {
  values: (number | null)[];
  list: boolean;
  constraints: (number | null)[] | null;
};
type Metric = Report | Final;

const isReport = (m: Metric): m is Report => 'step' in m;

/** The lease answer's study (directionsOf and metricsOf read its objectives). */
type LeasedStudy = LeaseGrant['study'];

/** What the agent tells: a result, or failed/pruned with the reason (the forms of the Tell schema it uses; `finish` checks them against it). */
type TellBody =
  | { value: number; constraints?: number[] }
  | { values: number[]; constraints?: number[] }
  | { state: 'failed' | 'pruned'; error?: string };

/** Reports sent at once per trial: enough to keep up with a fast script over a slow link. */
const REPORT_WINDOW = 16;

/**
 * The intermediate values of one trial on their way to the service: queued in
 * the order the script printed them and sent as fast as the service answers,
 * up to REPORT_WINDOW requests in flight (the service takes one report per
 * request and orders them by step), so a script printing thousands of steps
 * never waits for the agent nor leaves it far behind. `drained()` resolves
 * when every queued report has its answer; `clear()` drops the rest.
 */
class ReportQueue {
  private readonly queue: { step: number; value: number }[] = [];
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly send: (step: number, value: number) => Promise<void>,
    private readonly window = REPORT_WINDOW,
  ) {}

  push(step: number, value: number): void {
    this.queue.push({ step, value });
    this.pump();
  }

  clear(): void {
    this.queue.length = 0;
    this.settle();
  }

  drained(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.window && this.queue.length > 0) {
      const r = this.queue.shift()!;
      this.inFlight++;
      this.send(r.step, r.value)
        .catch(() => {})
        .finally(() => {
          this.inFlight--;
          this.pump();
          this.settle();
        });
    }
  }

  private settle(): void {
    if (this.inFlight > 0 || this.queue.length > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Parse one metrics object: `{"step": 3, "value": 0.41}`, or a final `{"value": 0.37}` or
 * `{"values": [0.37, 12.5]}`, either with `"constraints": [...]`; NaN and infinities become
 * null. Null for anything else (the caller warns of a malformed line).
 */
function parseMetric(text: string): Metric | null {
  let v: unknown;
  try {
    v = JSON.parse(text.replace(/(?<![\w"])(-?Infinity|NaN)(?![\w"])/g, 'null'));
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const num = (x: unknown): number | null | undefined =>
    typeof x === 'number' && Number.isFinite(x) ? x : x === null ? null : undefined;
  const nums = (x: unknown): (number | null)[] | undefined => {
    if (!Array.isArray(x)) return undefined;
    const out = x.map(num);
    return out.some((e) => e === undefined) ? undefined : (out as (number | null)[]);
  };
  if (o.step !== undefined && o.step !== null) {
    if (!('value' in o) || 'values' in o || 'constraints' in o) return null;
    const value = num(o.value);
    if (value === undefined) return null;
    if (typeof o.step !== 'number' || !Number.isInteger(o.step) || o.step < 0) return null;
    return { step: o.step, value };
  }
  if ('value' in o === 'values' in o) return null; // one of them
  let constraints: (number | null)[] | null = null;
  if (o.constraints !== undefined && o.constraints !== null) {
    const c = nums(o.constraints);
    if (c === undefined) return null;
    constraints = c;
  }
  if ('value' in o) {
    const value = num(o.value);
    return value === undefined ? null : { values: [value], list: false, constraints };
  }
  const values = nums(o.values);
  return values === undefined || values.length === 0 ? null : { values, list: true, constraints };
}

/**
 * What to tell for a final result, checked against the study's objectives: `{value}` for a
 * single-objective study (from `{"value"}` or a one-element `{"values"}`), `{values}` for one
 * with several, with the constraints when given; or `failed` saying what was wrong (a count
 * that does not match the study's directions, a NaN or infinite value or constraint).
 */
function tellBody(final: Final, study: LeasedStudy): TellBody {
  const directions = directionsOf(study);
  const metrics = metricsOf(study);
  const n = directions.length;
  const fail = (error: string): TellBody => ({ state: 'failed', error });
  const want =
    n === 1
      ? 'print {"value": <number>}'
      : `print {"values": [${metrics.map((m) => `<${m}>`).join(', ')}]}`;
  const objectives =
    n === 1 ? `1 objective (${metrics[0]})` : `${n} objectives (${metrics.join(', ')})`;
  if (final.values.length !== n) {
    const got = final.list
      ? `${final.values.length} value${final.values.length === 1 ? '' : 's'}`
      : 'a single "value"';
    return fail(`the final result has ${got}; the study has ${objectives}: ${want}`);
  }
  if (n === 1 && final.values[0] === null)
    return fail('diverged: the final value was NaN or infinite');
  const bad = final.values.findIndex((v) => v === null);
  if (bad >= 0) return fail(`diverged: values[${bad}] (${metrics[bad]}) was NaN or infinite`);
  const values = final.values as number[];
  let constraints: number[] | undefined;
  if (final.constraints !== null) {
    if (final.constraints.length === 0)
      return fail(
        'the final result has "constraints": []: give one number per constraint, or leave it out',
      );
    const badC = final.constraints.findIndex((c) => c === null);
    if (badC >= 0)
      return fail(
        `constraints[${badC}] was NaN or infinite: constraints must be finite numbers (feasible when every one is <= 0)`,
      );
    constraints = final.constraints as number[];
  }
  const result = n === 1 ? { value: values[0] } : { values };
  return constraints ? { ...result, constraints } : result;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_.-]*)(?::-([^}]*))?\}/g;

/**
 * The command for one trial: `${name}` replaced by the param's value,
 * `${name:-default}` by the default when the trial lacks the param, and
 * `${trial}`/`${study}` by the trial number and study id. Throws for a
 * placeholder the trial cannot fill.
 */
function substitute(
  command: readonly string[],
  params: Record<string, unknown>,
  trial: number,
  study: string,
): string[] {
  return command.map((arg) =>
    arg.replace(PLACEHOLDER, (_m, name: string, dflt: string | undefined) => {
      if (Object.hasOwn(params, name)) return String(params[name]);
      if (name === 'trial') return String(trial);
      if (name === 'study') return study;
      if (dflt !== undefined) return dflt;
      throw new Error(
        `the command uses \${${name}}, which trial ${trial} does not have (a conditional parameter?): write \${${name}:-<default>} or read STRIDE_PARAMS`,
      );
    }),
  );
}

/** The placeholders of a command that need a param: `${name}` without a default, other than `${trial}` and `${study}`. */
function requiredPlaceholders(command: readonly string[]): string[] {
  const names = new Set<string>();
  for (const arg of command)
    for (const m of arg.matchAll(PLACEHOLDER))
      if (m[2] === undefined && m[1] !== 'trial' && m[1] !== 'study') names.add(m[1]);
  return [...names];
}

/** The parameter name closest to `name`: an abbreviation of it (`lr` for learning_rate), else the fewest edits. */
function closestName(name: string, candidates: readonly string[]): string | null {
  if (candidates.length === 0) return null;
  const lower = name.toLowerCase();
  const initials = (s: string) =>
    s
      .split(/[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])/)
      .filter(Boolean)
      .map((w) => w[0].toLowerCase())
      .join('');
  const abbreviation = candidates.find(
    (c) => initials(name) === c.toLowerCase() || initials(c) === lower,
  );
  if (abbreviation) return abbreviation;
  const contains = candidates.find(
    (c) => c.length > 1 && (lower.includes(c.toLowerCase()) || c.toLowerCase().includes(lower)),
  );
  if (contains) return contains;
  return [...candidates].sort(
    (a, b) => editDistance(lower, a.toLowerCase()) - editDistance(lower, b.toLowerCase()),
  )[0];
}

/**
 * Why the command cannot run trials of a study whose parameters are `names`
 * (`conditional`: those with a `when`, absent from some trials), or null
 * when every placeholder can be filled.
 */
function placeholderProblem(
  command: readonly string[],
  names: readonly string[],
  conditional: readonly string[] = [],
): string | null {
  for (const p of requiredPlaceholders(command)) {
    if (!names.includes(p)) {
      const near = closestName(p, names);
      return `the command uses \${${p}}, which names no parameter of the study (it has ${names.join(', ') || 'none'})${near ? `: did you mean \${${near}}?` : ''}`;
    }
    if (conditional.includes(p)) {
      return `the command uses \${${p}}, a conditional parameter that some trials lack: write \${${p}:-<default>} or read STRIDE_PARAMS`;
    }
  }
  return null;
}

function fmtParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? fmtMetric(v) : String(v)}`)
    .join(' ');
}

interface RunningTrial {
  number: number;
  child: ChildProcess | null;
  interrupted: boolean;
}

/** One leased trial while it runs: where it is, and what the agent has heard and decided of it. */
interface TrialRun {
  study: LeasedStudy;
  n: number;
  /** `/v1/studies/{id}/trials/{n}`. */
  base: string;
  token: string;
  heartbeatSeconds: number;
  state: RunningTrial;
  lost: boolean;
  pruned: boolean;
  /** The final result the script gave, if any. */
  final: Final | null;
  /** Steps already queued (a step is sent once). */
  reported: Set<number>;
  reports: ReportQueue;
  /** The last lines of stderr (told with a failure). */
  stderrTail: string[];
}

/** How the child ended: its exit code or signal, or why it could not start. */
interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** The failure to tell when the command could not start or exited non-zero; null when it exited 0. */
function exitFailure(exit: ChildExit, program: string, stderrTail: string[]): TellBody | null {
  if (exit.error)
    return {
      state: 'failed',
      error: `could not start ${JSON.stringify(program)}: ${exit.error.message}`,
    };
  if (exit.code === 0) return null;
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  const tail = stderrTail.slice(-10).join('\n');
  return {
    state: 'failed',
    error: `${how}${tail ? `; last stderr lines:\n${tail}` : ''}`.slice(0, 4000),
  };
}

/** The failure of a command that exited 0 without a final value: what it should print. */
function noFinalValue(study: LeasedStudy): TellBody {
  const shape =
    directionsOf(study).length > 1
      ? `{"values": [${metricsOf(study)
          .map((m) => `<${m}>`)
          .join(', ')}]}`
      : '{"value": <number>}';
  return {
    state: 'failed',
    error: `the command exited 0 without a final value: print \`stride: ${shape}\` or write it to $STRIDE_METRICS_FILE`,
  };
}

export class Agent {
  private readonly o: AgentOptions;
  private stopping = false;
  private readonly stopController = new AbortController();
  private readonly running = new Set<RunningTrial>();
  private started = 0;
  private best: { value: number; trial: number; study: string } | null = null;
  private readonly summary: AgentSummary = {
    ran: 0,
    complete: 0,
    pruned: 0,
    failed: 0,
    released: 0,
    lost: 0,
    interrupted: false,
    usageError: null,
  };
  /** Leasing stopped for good (a command that cannot run the study's trials); running trials finish. */
  private halted = false;
  /** Studies with several objectives whose intermediate values were already warned of (once each). */
  private readonly warnedReports = new Set<string>();

  constructor(options: AgentOptions) {
    this.o = options;
  }

  /** Run until the study has no more work, --count trials ran, or stop() was called. */
  async run(): Promise<AgentSummary> {
    const slots =
      this.o.gpus && this.o.gpus.length > 0
        ? this.o.gpus.map((g) => g as string | undefined)
        : [undefined];
    this.say(
      `stride agent '${this.o.name}': ${this.o.study ? `study ${this.o.study}` : 'any runner study'}, ${slots.length} slot${slots.length > 1 ? 's' : ''}${this.o.gpus?.length ? ` (GPUs ${this.o.gpus.join(', ')})` : ''}, at ${this.o.client.url}`,
    );
    if (this.o.study) {
      const problem = await this.checkAgainstStudy(this.o.study);
      if (problem) {
        this.summary.usageError = problem;
        this.o.err.write(`stride agent: ${problem}\n`);
        return this.summary;
      }
    }
    await Promise.all(slots.map((gpu) => this.slot(gpu)));
    const s = this.summary;
    if (s.usageError) {
      this.o.err.write(`stride agent: ${s.usageError}\n`);
      return s;
    }
    this.say(
      `${s.interrupted ? 'stopped' : 'done'}: ${s.ran} trial${s.ran === 1 ? '' : 's'} (${s.complete} complete, ${s.pruned} pruned, ${s.failed} failed${s.released ? `, ${s.released} handed back` : ''}${s.lost ? `, ${s.lost} lost` : ''})` +
        (this.best ? `; best ${fmtMetric(this.best.value)} (trial ${this.best.trial})` : ''),
    );
    return this.summary;
  }

  /**
   * With a key that may read the study: why the command's placeholders cannot
   * be filled from its space, before any trial is leased. A runner key may not
   * read studies: then each leased trial's params are checked instead.
   */
  private async checkAgainstStudy(id: string): Promise<string | null> {
    let space: Record<string, { when?: unknown }>;
    try {
      const { body } = await this.o.client.get<{ space: Record<string, { when?: unknown }> }>(
        `/v1/studies/${encodeURIComponent(id)}`,
      );
      space = body!.space;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return null;
      throw err;
    }
    const names = Object.keys(space);
    return placeholderProblem(
      this.o.command,
      names,
      names.filter((n) => space[n].when !== undefined && space[n].when !== null),
    );
  }

  /** Stop leasing; stop the running children and hand their trials back. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.summary.interrupted = true;
    this.stopController.abort();
    for (const r of this.running) {
      r.interrupted = true;
      if (r.child) this.kill(r.child);
    }
  }

  private async slot(gpu: string | undefined): Promise<void> {
    const runner = gpu === undefined ? this.o.name : `${this.o.name}/gpu${gpu}`;
    while (
      !this.stopping &&
      !this.halted &&
      (this.o.count === undefined || this.started < this.o.count)
    ) {
      this.started++;
      let res;
      try {
        res = await this.o.client.post<LeaseGrant>('/v1/runners/lease', {
          ...(this.o.study ? { study_id: this.o.study } : {}),
          runner: { name: runner },
        });
      } catch (err) {
        this.started--;
        throw err;
      }
      if (res.status === 204 || !res.body) {
        this.started--;
        const retry = Number(res.headers.get('retry-after'));
        if (!(retry > 0) && !this.o.wait) return; // the study has no more work
        await sleep((retry > 0 ? retry : 5) * 1000, this.stopController.signal);
        continue;
      }
      await this.runTrial(res.body, gpu);
    }
  }

  private async runTrial(grant: LeaseGrant, gpu: string | undefined): Promise<void> {
    const { study, trial } = grant;
    const n = trial.number;
    const run: TrialRun = {
      study,
      n,
      base: `/v1/studies/${study.id}/trials/${n}`,
      token: grant.lease.token,
      heartbeatSeconds: grant.lease.heartbeat_seconds,
      state: { number: n, child: null, interrupted: false },
      lost: false,
      pruned: false,
      final: null,
      reported: new Set(),
      reports: new ReportQueue((step, value) => this.sendReport(run, step, value)),
      stderrTail: [],
    };
    this.running.add(run.state);
    this.summary.ran++;
    this.event(
      'start',
      `trial ${n}${gpu !== undefined ? ` [gpu ${gpu}]` : ''}${trial.attempts > 1 ? ` (attempt ${trial.attempts})` : ''}: ${fmtParams(trial.params)}`,
    );
    let args: string[];
    try {
      args = substitute(this.o.command, trial.params, n, study.id);
    } catch {
      await this.giveBackUnrunnable(run, trial.params);
      return;
    }
    const exit = await this.runChild(run, args, trial.params, gpu);
    this.running.delete(run.state);
    await this.conclude(run, args, exit);
  }

  /** Sends one intermediate value; the service's should_prune stops the child. */
  private async sendReport(run: TrialRun, step: number, value: number): Promise<void> {
    if (run.lost || run.pruned) return;
    try {
      const r = await this.o.client.post<{ should_prune: boolean }>(`${run.base}/report`, {
        step,
        value,
        lease_token: run.token,
      });
      if (r.body?.should_prune && !run.state.interrupted && !run.pruned) {
        run.pruned = true;
        run.reports.clear();
        this.event('prune', `trial ${run.n}: pruned at step ${step}; stopping it`);
        if (run.state.child) this.kill(run.state.child);
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) this.loseLease(run, err.detail);
      else this.warn(`trial ${run.n}: report of step ${step} failed: ${errorText(err)}`);
    }
  }

  /** The lease expired and another runner has the trial: stop the child and tell nothing. */
  private loseLease(run: TrialRun, why: string): void {
    if (run.lost) return;
    run.lost = true;
    run.reports.clear();
    this.event('lost', `trial ${run.n}: lease lost (${why}); stopping it`);
    if (run.state.child) this.kill(run.state.child);
  }

  /** A metric the child printed or wrote: the final result is kept, an intermediate value sent. */
  private onMetric(run: TrialRun, m: Metric): void {
    const { study, n } = run;
    if (!isReport(m)) {
      run.final = m;
      return;
    }
    const { step, value } = m;
    if (directionsOf(study).length > 1) {
      // The service takes no intermediate values for several objectives (a report is a 409).
      if (!this.warnedReports.has(study.id)) {
        this.warnedReports.add(study.id);
        this.warn(
          `study ${study.id} has ${directionsOf(study).length} objectives, which take no intermediate values: the {"step", "value"} lines are not sent (print the final {"values": [...]})`,
        );
      }
      return;
    }
    if (value === null) return; // a NaN intermediate: the final value tells the story
    if (run.lost || run.pruned || run.reported.has(step)) return;
    run.reported.add(step);
    // Said now, in the order the script printed it; the service hears of it as soon as it can take it.
    this.event(
      'report',
      `trial ${n} step ${step}: ${fmtMetric(value)}${this.best ? ` (best ${fmtMetric(this.best.value)})` : ''}`,
    );
    run.reports.push(step, value);
  }

  /**
   * The command cannot run this trial (a placeholder its params do not fill): hand it back unspent
   * and stop leasing (exit 2).
   */
  private async giveBackUnrunnable(run: TrialRun, params: Record<string, unknown>): Promise<void> {
    const { study, n } = run;
    const names = Object.keys(params);
    const missing = requiredPlaceholders(this.o.command).find((p) => !names.includes(p))!;
    const near = closestName(missing, names);
    this.summary.usageError ??=
      `the command uses \${${missing}}, which trial ${n} of study ${study.id} lacks (its params: ${names.join(', ') || 'none'})` +
      `${near ? `: did you mean \${${near}}?` : ''} (for a conditional parameter write \${${missing}:-<default>})`;
    this.halted = true;
    this.stopController.abort();
    this.summary.ran--;
    await this.release(run);
    this.running.delete(run.state);
  }

  /** Hands the trial back unspent; false (with a warning) when that failed: its lease will expire. */
  private async release(run: TrialRun): Promise<boolean> {
    try {
      await this.o.client.post(`${run.base}/release`, { lease_token: run.token });
      return true;
    } catch (err) {
      this.warn(
        `trial ${run.n}: could not hand it back (${errorText(err)}); its lease will expire`,
      );
      return false;
    }
  }

  /**
   * Runs the trial's command to its end: heartbeats the lease, reads the metrics of its stdout and
   * of STRIDE_METRICS_FILE (onMetric), passes every other line through (with a `[trial n]` tag
   * when several GPUs run trials at once) and keeps the last lines of stderr.
   */
  private async runChild(
    run: TrialRun,
    args: string[],
    params: Record<string, unknown>,
    gpu: string | undefined,
  ): Promise<ChildExit> {
    const { study, n, base, token } = run;
    const tag = this.o.gpus && this.o.gpus.length > 1 ? `[trial ${n}] ` : '';
    const metricsFile = path.join(
      os.tmpdir(),
      `stride-${study.id}-${n}-${randomBytes(4).toString('hex')}.jsonl`,
    );
    const metrics = new MetricsFile(metricsFile);
    const child = spawn(args[0], args.slice(1), {
      env: {
        ...process.env,
        STRIDE_PARAMS: JSON.stringify(params),
        STRIDE_TRIAL: String(n),
        STRIDE_STUDY: study.id,
        STRIDE_METRICS_FILE: metricsFile,
        ...(gpu !== undefined ? { CUDA_VISIBLE_DEVICES: gpu } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    run.state.child = child;
    if (run.state.interrupted) this.kill(child);
    const heartbeat = setInterval(
      () => {
        this.o.client.post(`${base}/heartbeat`, { lease_token: token }).catch((err) => {
          if (err instanceof ApiError && err.status === 409) this.loseLease(run, err.detail);
          else this.warn(`trial ${n}: heartbeat failed: ${errorText(err)}`);
        });
      },
      Math.max(1, run.heartbeatSeconds) * 1000,
    );
    const poll = setInterval(() => metrics.read().forEach((m) => this.onMetric(run, m)), 1000);
    lines(child.stdout!, (line) => {
      const m = /^\s*stride:\s*(.*)$/.exec(line);
      if (m) {
        const metric = parseMetric(m[1]);
        if (metric) this.onMetric(run, metric);
        else this.warn(`trial ${n}: ignored a malformed metrics line: ${line.slice(0, 200)}`);
      } else this.o.out.write(tag + line + '\n');
    });
    lines(child.stderr!, (line) => {
      run.stderrTail.push(line);
      if (run.stderrTail.length > 20) run.stderrTail.shift();
      this.o.err.write(tag + line + '\n');
    });
    const exit = await new Promise<ChildExit>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    clearInterval(heartbeat);
    clearInterval(poll);
    metrics.read(true).forEach((m) => this.onMetric(run, m));
    metrics.remove();
    await run.reports.drained();
    return exit;
  }

  /**
   * What the trial's end tells: nothing when the lease was lost; a result printed before an
   * interruption stands, else the trial is handed back; pruned; failed (the command did not start,
   * exited non-zero, or without a final value); else its result.
   */
  private async conclude(run: TrialRun, args: string[], exit: ChildExit): Promise<void> {
    const { study, n, base, token } = run;
    if (run.lost) {
      this.summary.lost++;
      return;
    }
    const f = run.final;
    if (run.state.interrupted && !run.pruned && f !== null) {
      // Stopped after the script printed its result: that result stands.
      await this.finish(base, token, n, tellBody(f, study), study);
      return;
    }
    if (run.state.interrupted && !run.pruned) {
      if (await this.release(run)) {
        this.summary.released++;
        this.event('release', `trial ${n}: handed back`);
      }
      return;
    }
    if (run.pruned) {
      await this.finish(base, token, n, { state: 'pruned' });
      return;
    }
    const failure = exitFailure(exit, args[0], run.stderrTail);
    if (failure) await this.finish(base, token, n, failure);
    else if (f === null) await this.finish(base, token, n, noFinalValue(study));
    else await this.finish(base, token, n, tellBody(f, study), study);
  }

  private async finish(
    base: string,
    token: string,
    n: number,
    result: TellBody,
    study?: LeasedStudy,
  ): Promise<void> {
    try {
      await this.o.client.post(`${base}/tell`, {
        ...result,
        lease_token: token,
      } satisfies z.input<typeof TellSchema>);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        this.summary.lost++;
        this.event('lost', `trial ${n}: the result was refused (${err.detail})`);
        return;
      }
      if (err instanceof ApiError && err.status === 422 && !('state' in result)) {
        // A result the study cannot take (such as a different number of constraints than the
        // trials before): running the trial again would not change it.
        await this.finish(base, token, n, {
          state: 'failed',
          error: `the service refused the result ${JSON.stringify(result)}: ${err.detail}`.slice(
            0,
            4000,
          ),
        });
        return;
      }
      this.warn(
        `trial ${n}: could not tell its result (${errorText(err)}); its lease will expire and it will run again`,
      );
      return;
    }
    if ('value' in result || 'values' in result) {
      this.summary.complete++;
      const feasible = !result.constraints || result.constraints.every((c) => c <= 0);
      const cons = result.constraints
        ? `; constraints ${result.constraints.map(fmtMetric).join(', ')} (${feasible ? 'feasible' : 'infeasible'})`
        : '';
      if ('value' in result) {
        const better =
          feasible &&
          (!this.best ||
            (study?.direction === 'maximize'
              ? result.value > this.best.value
              : result.value < this.best.value));
        if (better && study) this.best = { value: result.value, trial: n, study: study.id };
        this.event(
          'complete',
          `trial ${n} complete: ${fmtMetric(result.value)}${cons}${this.best ? ` (best ${fmtMetric(this.best.value)}, trial ${this.best.trial})` : ''}`,
        );
      } else {
        // Several objectives have no single best (the study's best_trials is the Pareto front): say the values.
        const names = study ? metricsOf(study) : result.values.map((_, i) => `objective_${i}`);
        this.event(
          'complete',
          `trial ${n} complete: ${result.values.map((v, i) => `${names[i]}=${fmtMetric(v)}`).join(' ')}${cons}`,
        );
      }
    } else if (result.state === 'pruned') {
      this.summary.pruned++;
      this.event('pruned', `trial ${n} pruned`);
    } else {
      this.summary.failed++;
      this.event('failed', `trial ${n} failed: ${result.error ?? ''}`);
    }
  }

  private kill(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, this.o.graceMs);
    t.unref();
  }

  private event(
    kind: 'start' | 'report' | 'prune' | 'complete' | 'pruned' | 'failed' | 'lost' | 'release',
    text: string,
  ): void {
    if (!this.o.tty) {
      this.o.err.write(`stride: ${text}\n`);
      return;
    }
    const style: Record<typeof kind, [string, string]> = {
      start: ['▶', '36'],
      report: ['·', '2'],
      prune: ['✂', '33'],
      complete: ['✔', '32'],
      pruned: ['✂', '33'],
      failed: ['✖', '31'],
      lost: ['!', '33'],
      release: ['↩', '36'],
    };
    const [sym, colour] = style[kind];
    this.o.err.write(`\x1b[${colour}m${sym} ${text}\x1b[0m\n`);
  }

  private say(text: string): void {
    this.o.err.write(this.o.tty ? `\x1b[1m${text}\x1b[0m\n` : `stride: ${text}\n`);
  }

  private warn(text: string): void {
    this.o.err.write(
      this.o.tty ? `\x1b[33mwarning: ${text}\x1b[0m\n` : `stride: warning: ${text}\n`,
    );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Call `fn` for each complete line of a stream (and the last unterminated one at the end). */
function lines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      fn(buf.slice(0, i).replace(/\r$/, ''));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (buf.length > 0) fn(buf);
    buf = '';
  });
}

/** New complete JSON lines of the file STRIDE_METRICS_FILE names, read incrementally. */
class MetricsFile {
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {}

  /** With `atEnd`, a last line without its newline counts too. */
  read(atEnd = false): Metric[] {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return [];
    }
    const out: Metric[] = [];
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.partial += buf.subarray(0, n).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    const parts = this.partial.split('\n');
    this.partial = parts.pop() ?? '';
    if (atEnd && this.partial.trim()) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (const line of parts) {
      if (!line.trim()) continue;
      const m = parseMetric(line);
      if (m) out.push(m);
    }
    return out;
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}

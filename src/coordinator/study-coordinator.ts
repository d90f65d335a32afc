/**
 * StudyCoordinator: one Durable Object per study; this class is its RPC surface.
 *
 * Every ask, report and tell of a study runs here, one at a time: the
 * methods do all their reads and writes on the object's synchronous SQLite
 * storage without awaiting in between, so workerd's input gate orders them
 * and trial numbers are dense and unique under any concurrency. Decisions
 * (which params, whether to prune) are delegated to the pure samplers and
 * pruners in `tuning/`, fed read-only snapshots; the same history and seed
 * give the same suggestion, so a restarted object answers as before.
 *
 * The object's storage is the live truth; each method reads and writes it,
 * then `commit`s: the change goes to the outbox in the same synchronous
 * block, a flush to D1 is started, a job notice is marked due and the alarm
 * is set, as the change needs. What each part owns:
 * - store.ts: the SQLite schema and migrations, trial rows and their mapping;
 * - leases.ts: lease decisions (pure): who holds a trial, what expires, what is available;
 * - outbox.ts: the D1 write-through, its retries and parked writes;
 * - dispatch.ts: the signed job notices to a runner study's dispatch_url;
 * - edge-queue.ts: an edge study's trials sent to the queue, and their retry;
 * - events.ts: which notification events a change caused (pure);
 * - reports.ts: the intermediate values a report adds to a trial (pure);
 * - lr-round.ts: an lr/suggest study's next trials: the budgeted search's next
 *   level, or an older round's extension past an edge (no storage).
 *
 * Every trial runs under a lease (leases.ts): a client's `ask`, a runner's
 * `lease` and the edge's pump start a trial (a waiting one first, else a new
 * one from the sampler, so suggestions see every result so far) under a
 * random token with an expiry. Heartbeats and reports extend it; the tell
 * ends it. Runner and edge calls must carry the token; a client's may leave
 * it out while the trial is on its first lease. An expired lease sends the
 * trial back to `waiting` (or to `failed` after `max_attempts` leases), by
 * the object's alarm or by the next call that looks; the next ask or lease
 * hands it out again. The one alarm also retries D1 flushes, pushes job
 * notices to `dispatch_url` and re-sends edge trials, whichever is due first.
 *
 * Every RPC method that reads the study runs its body in `overRpc`
 * (errors.ts) and answers an RpcResult: a DomainError it throws reaches the
 * caller whole (kind, detail, issues) as data, thrown again by `callStudy`
 * (`valueOf`), and is not logged as an uncaught exception in the object.
 */
import { DurableObject } from 'cloudflare:workers';
import { isFinished } from '../contract/names';
import { canonicalJson } from '../lib/hash';
import { randomBase64Url } from '../lib/ids';
import { Stopwatch } from '../lib/stopwatch';
import { fmtMetric } from '../lib/format';
import type { Point } from '../db/intermediate';
import { GridExhaustedError } from '../tuning/errors';
import { NopPruner, prunesAtAnyStep, trialsInSameBracket } from '../tuning/pruners';
import { makePruner, makeSampler } from '../tuning/registry';
import {
  proposerOf,
  type Direction,
  type ParamSpec,
  type ParamValue,
  type Params,
  type PruneContext,
  type Space,
  type SampleContext,
  type StepStats,
  type TrialState,
} from '../tuning/types';
import { inputError } from '../contract/errors';
import { describeValue } from '../lib/values';
import { validateParams, valueProblem } from '../tuning/validate';
import {
  checkAsk,
  sameDistribution,
  declaredSpace,
  mergeAttrs,
  paramSeed,
  splitProposal,
  withLearned,
} from './define-by-run';
import { Dispatch } from './dispatch';
import { EdgeQueue } from './edge-queue';
import { CoordinatorError, invalidField, NO_SUCH_STUDY, overRpc, type RpcResult } from './errors';
import { detectEvents } from './events';
import * as leases from './leases';
import { extendRound, lrRoundEnded, lrsPastEdge, nextLadderTrials } from './lr-round';
import { Outbox } from './outbox';
import { mergeReport } from './reports';
import { studySummary, type StudySummary } from './summary';
import {
  CoordinatorStore,
  trialView,
  type PointSummary,
  type Snapshot,
  type TrialRow,
} from './store';
import {
  directionsOf,
  metricsOf,
  type AskedTrial,
  type AttrsView,
  type Caller,
  type EdgeExecutor,
  type HeartbeatAnswer,
  type LeaseGrant,
  type ReportAnswer,
  type RunnerExecutor,
  type StudyConfig,
  type StudyView,
  type SuggestedParam,
  type TellBody,
  type Timed,
  type TrialView,
} from '../contract/study';

/** Which trial an ask starts: `number`, a waiting one; `fresh`, a new one (waiting ones left). */
interface AskPick {
  number?: number;
  fresh?: boolean;
}

/** A complete result as stored: `value` with one objective, `values` with several. */
interface Result {
  value: number | null;
  values: number[] | null;
  constraints: number[] | null;
}

/** The one form of a complete tell, to recognise a repeat whichever form it came in. */
function tellForm(r: Result): Record<string, unknown> {
  return {
    ...(r.values === null ? { value: r.value } : { values: r.values }),
    ...(r.constraints ? { constraints: r.constraints } : {}),
  };
}

/** The parts of an ask or tell that it times (CoordinatorTiming). */
type CallWatch = Stopwatch<'sampler' | 'storage'>;
const callWatch = (): CallWatch => new Stopwatch(['sampler', 'storage']);
const timingOf = (watch: CallWatch) => {
  const t = watch.read();
  return { sampler_ms: t.sampler, storage_ms: t.storage };
};

export { PARK_AFTER } from './outbox';
export { MAX_INTERMEDIATE } from './reports';
export type { EdgeTrialMessage } from './edge-queue';

/** The steps after a write (`commit`), each when asked, always in this order. */
interface Commit {
  /** Trials whose rows changed: to the outbox. */
  trials?: number[];
  /** A trial ended: extend an lr/suggest round whose trials have all ended (extendLrRound). */
  lrRound?: boolean;
  /** The study row (counts, best): to the outbox. */
  study?: boolean;
  /** Record the notification events of the change (`before`: the study before it; `changed`: its trials). */
  events?: { before: Snapshot; changed: number[] };
  /** Mark a job notice due (runner studies with a dispatch_url) when trials are available. */
  notice?: boolean;
  /** Set the alarm to whatever is due first (awaited). */
  alarm?: boolean;
}

export class StudyCoordinator extends DurableObject<Env> {
  private readonly store: CoordinatorStore;
  private readonly outbox: Outbox;
  private readonly dispatch: Dispatch;
  private readonly edge: EdgeQueue;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new CoordinatorStore(ctx.storage.sql);
    this.outbox = new Outbox(this.store, env, () => this.scheduleAlarm());
    this.dispatch = new Dispatch(this.store);
    this.edge = new EdgeQueue(this.store, this.outbox, env);
    // A constructor cannot await: the runtime holds every request until the migration resolves.
    void ctx.blockConcurrencyWhile(async () => this.store.migrate());
  }

  /**
   * Create the study; creating it again with the same config is a no-op.
   * `dispatchSecret` signs the job notices of a runner study with a dispatch_url.
   */
  async create(config: StudyConfig, dispatchSecret?: string): Promise<RpcResult<StudyView>> {
    return overRpc(async () => {
      if (this.store.config) {
        if (canonicalJson(this.store.config) !== canonicalJson(config)) {
          throw new CoordinatorError(
            'conflict',
            `study ${config.id} already exists with another configuration`,
          );
        }
        return this.view();
      }
      this.store.createConfig(config);
      if (dispatchSecret) this.dispatch.setSecret(dispatchSecret);
      // A budgeted lr/suggest search enqueues its first level at once (lrRound).
      await this.commit({ study: true, notice: true, alarm: true, lrRound: !!config.lr_ladder });
      return this.view();
    });
  }

  async getStudy(): Promise<RpcResult<StudyView>> {
    return overRpc(async () => {
      await this.expireOverdue();
      return this.view();
    });
  }

  /** The trials by number: those numbered from `from` on, at most `limit` (default: all). */
  async listTrials(from = 0, limit?: number): Promise<RpcResult<TrialView[]>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      await this.expireOverdue();
      const points = this.store.pointsByTrial();
      return this.store
        .rowsFrom(from, limit)
        .map((r) => trialView(config.id, r, points.get(r.number) ?? []));
    });
  }

  /** The dashboard's summary of the study (summary.ts): at most `curves` full curves, and `trial`'s. */
  async summary(query: { curves?: number; trial?: number }): Promise<RpcResult<StudySummary>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      await this.expireOverdue();
      return studySummary(this.store, config, query);
    });
  }

  /**
   * Enqueue fixed params (warm start): the next ask returns this trial first. They are checked
   * against the declared space (every active parameter given); learned parameters are optional.
   */
  async enqueue(params: Params, distributions: Space = {}): Promise<RpcResult<TrialView>> {
    return overRpc(async () => {
      let config = this.requireConfig();
      // Define-by-run: the distributions of new params join the space first (checked like an ask).
      for (const [name, spec] of Object.entries(distributions)) {
        checkAsk(config, name, spec);
        config = withLearned(config, name, spec);
      }
      const { declared, learned } = declaredSpace(config);
      const fixed = Object.fromEntries(Object.entries(params).filter(([k]) => !learned.has(k)));
      const issues = validateParams(declared, fixed);
      for (const k of Object.keys(params).filter((k) => learned.has(k))) {
        // A distribution given with the trial (another range of the same kind) is the trial's own.
        const problem = valueProblem(distributions[k] ?? config.space[k], params[k]);
        if (problem) issues.push({ path: `params.${k}`, message: problem });
      }
      if (issues.length > 0) throw inputError(issues);
      if (config !== this.store.config) this.store.saveConfig(config);
      const number = this.store.count();
      if (config.max_trials !== null && number >= config.max_trials) {
        throw new CoordinatorError(
          'conflict',
          `the study already has max_trials (${config.max_trials}) trials`,
        );
      }
      this.store.insertWaiting(number, params);
      await this.commit({ trials: [number], study: true, notice: true, alarm: true });
      return this.trialView(number);
    });
  }

  /**
   * Start `count` trials for a client (ask, ask-batch), each under its own lease (the executor's
   * lease_seconds): waiting ones first (a trial whose lease expired among them, on its next
   * attempt), else new ones from the sampler; with where the call spent its time.
   */
  async ask(count: number, pick: AskPick = {}): Promise<RpcResult<Timed<AskedTrial[]>>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      if (config.executor.kind === 'runner') {
        throw new CoordinatorError(
          'conflict',
          'the trials of a runner study are leased by runners (POST /v1/runners/lease), not asked',
        );
      }
      if (config.executor.kind === 'edge') {
        throw new CoordinatorError(
          'conflict',
          `the trials of an edge study run on the edge: start them with POST /v1/studies/${config.id}/run`,
        );
      }
      const now = Date.now();
      this.expireLeases(now);
      const watch = callWatch();
      const terms = leases.leaseTerms(config.executor);
      const out: AskedTrial[] = [];
      for (let k = 0; k < count; k++) {
        const started = this.startTrial(config, now, out.length === 0, watch, pick);
        if (started === null) break;
        const row = watch.time('storage', () => this.leaseTrial(started, terms, now, null));
        out.push({ ...this.store.view(config.id, row), lease: leases.leaseView(terms, row) });
      }
      await watch.timeAsync('storage', () => this.commit({ study: true, alarm: true }));
      return { result: out, timing: timingOf(watch) };
    });
  }

  /**
   * A trial asks for a parameter (define-by-run): the value it holds, else `value` (an external
   * sampler's), else the sampler's hidden proposal from the ask, else one sampled alone. A new
   * name joins the study's space (define-by-run.ts decides what is refused). Every check runs
   * before the first write: nothing is half-written.
   */
  async suggestParam(
    number: number,
    name: string,
    spec: ParamSpec,
    value: ParamValue | undefined,
    caller: Caller = {},
  ): Promise<RpcResult<SuggestedParam>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      const token = leases.callerToken(config, caller);
      if (this.expireLeases(Date.now())) await this.scheduleAlarm();
      const row = this.requireTrial(number);
      checkAsk(config, name, spec);
      // The study's space keeps the first distribution; a trial asking for another range of the
      // same kind (as Optuna allows) gets a value of its own distribution, sampled alone.
      const known = config.space[name];
      const own = known !== undefined && !sameDistribution(known, spec);
      const distribution = own ? spec : (known ?? spec);
      const params = JSON.parse(row.params) as Params;
      if (Object.hasOwn(params, name)) {
        if (value !== undefined && params[name] !== value)
          throw new CoordinatorError(
            'conflict',
            `trial ${number} already has ${name} = ${describeValue(params[name])}; it cannot become ${describeValue(value)}`,
          );
        return { name, value: params[name], distribution };
      }
      if (row.state !== 'running')
        throw new CoordinatorError(
          'conflict',
          `trial ${number} is ${row.state}; it asks for parameters while it runs`,
        );
      leases.checkLease(row, token, false);
      if (value !== undefined) {
        const problem = valueProblem(distribution, value);
        if (problem) throw invalidField('value', problem);
      }
      const proposed = row.proposed === null ? {} : (JSON.parse(row.proposed) as Params);
      const chosen =
        value ??
        (Object.hasOwn(proposed, name) && !own
          ? proposed[name]
          : this.sampleAlone(config, number, name, distribution));
      const next = withLearned(config, name, distribution);
      if (next !== config) this.store.saveConfig(next);
      this.store.setParams(number, { ...params, [name]: chosen });
      await this.commit({ trials: [number], study: next !== config });
      return { name, value: chosen, distribution };
    });
  }

  /** Merge attributes into the study's (`number` null) or a trial's; a finished trial takes none (as in Optuna). */
  async setAttrs(
    number: number | null,
    sent: Partial<AttrsView>,
    caller: Caller = {},
  ): Promise<RpcResult<AttrsView>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      if (number === null) {
        const merged = mergeAttrs(this.store.studyAttrs(), sent);
        this.store.setStudyAttrs(merged);
        return merged;
      }
      const token = leases.callerToken(config, caller);
      const row = this.requireTrial(number);
      if (isFinished(row.state))
        throw new CoordinatorError(
          'conflict',
          `trial ${number} is ${row.state}: a finished trial's attributes do not change (as in Optuna)`,
        );
      if (row.state === 'running') leases.checkLease(row, token, false);
      const merged = mergeAttrs(
        { user_attrs: JSON.parse(row.user_attrs), system_attrs: JSON.parse(row.system_attrs) },
        sent,
      );
      this.store.setTrialAttrs(number, merged);
      await this.commit({ trials: [number] });
      return merged;
    });
  }

  /**
   * Lease the next trial of a runner study: a waiting one first, else a new
   * one from the sampler. Null when there is nothing to do (max_trials
   * reached, every trial leased, or max_parallel leases out).
   */
  async lease(runner: {
    name: string | null;
  }): Promise<RpcResult<{ grant: LeaseGrant | null; retry_after_s: number | null }>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      const executor = config.executor;
      if (executor.kind !== 'runner') {
        throw new CoordinatorError(
          'conflict',
          `study ${config.id} is not a runner study (executor '${executor.kind}'): its trials are not leased`,
        );
      }
      const now = Date.now();
      this.expireLeases(now);
      const grant = this.grantLease(config, executor, now, runner.name);
      await this.commit({ study: grant !== null, alarm: true });
      if (grant) return { grant, retry_after_s: null };
      // Nothing now. Leases out may still come back (expiry) or free a slot (max_parallel): ask again soon.
      // Nothing out at all: the study has no more work for runners.
      return {
        grant: null,
        retry_after_s: leases.retryAfterSeconds(this.store.earliestLeaseExpiry(), now),
      };
    });
  }

  /** Extend a lease by lease_seconds from now (any executor; `runnerOnly`: a runner key, which sees no client study). */
  async heartbeat(
    number: number,
    token: string,
    runnerOnly = false,
  ): Promise<RpcResult<HeartbeatAnswer>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      leases.callerToken(config, { lease_token: token, runner_only: runnerOnly });
      const terms = leases.leaseTerms(config.executor);
      const now = Date.now();
      if (this.expireLeases(now)) await this.scheduleAlarm();
      const row = this.requireTrial(number);
      leases.checkLease(row, token, false);
      const expires = leases.leaseExpiry(terms, now);
      this.store.heartbeat(number, expires, now);
      return { lease: leases.leaseView(terms, { ...row, lease_expires_at: expires }) };
    });
  }

  /** Hand a leased trial back (a runner or client stopping): it waits for the next lease or ask, and the attempt does not count. */
  async release(number: number, token: string, runnerOnly = false): Promise<RpcResult<TrialView>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      leases.callerToken(config, { lease_token: token, runner_only: runnerOnly });
      this.expireLeases(Date.now());
      leases.checkLease(this.requireTrial(number), token, false);
      this.store.release(number);
      await this.commit({ trials: [number], study: true, notice: true, alarm: true });
      return this.trialView(number);
    });
  }

  /**
   * Start the edge trials of an edge study: up to `parallelism` at once, each
   * sent to the queue; every tell starts the next until max_trials.
   */
  async run(): Promise<RpcResult<StudyView>> {
    return overRpc(async () => {
      const config = this.requireConfig();
      if (config.executor.kind !== 'edge') {
        throw new CoordinatorError(
          'conflict',
          `study ${config.id} is not an edge study (executor '${config.executor.kind}'): ask and tell, or lease its trials`,
        );
      }
      this.edge.start();
      this.expireLeases(Date.now());
      await this.pumpEdge(config, config.executor);
      await this.scheduleAlarm();
      return this.view();
    });
  }

  /** One intermediate value: the pruner judges the trial at its latest step. */
  async report(
    number: number,
    step: number,
    value: number,
    caller: Caller = {},
  ): Promise<RpcResult<ReportAnswer>> {
    return overRpc(() => this.record(number, [{ step, value }], caller, false));
  }

  /**
   * A batch of intermediate values (steps strictly increasing; the API checks the body), taken
   * all or none: one that conflicts with a value the trial holds is a 409 and nothing is written.
   * The pruner judges the trial at each step of the batch on its values up to that step, as
   * single reports in step order would have been: prune when any says so.
   */
  async reportBatch(
    number: number,
    points: Point[],
    caller: Caller = {},
  ): Promise<RpcResult<ReportAnswer>> {
    return overRpc(() => this.record(number, points, caller, true));
  }

  /** Finish a trial with its result, with where the call spent its time (a repeat: nothing timed). */
  async tell(
    number: number,
    body: TellBody,
    caller: Caller = {},
  ): Promise<RpcResult<Timed<TrialView>>> {
    return overRpc(async () => {
      const watch = callWatch();
      const config = this.requireConfig();
      const token = leases.callerToken(config, caller);
      if (this.expireLeases(Date.now())) await this.scheduleAlarm();
      const row = this.requireTrial(number);
      // A complete result is checked against the study (objectives, constraints) and told in one
      // form: {value} with one objective, {values} with several, so either form repeats the other.
      const result = 'value' in body || 'values' in body ? this.checkResult(config, body) : null;
      const fingerprint = canonicalJson(result ? tellForm(result) : body);
      if (row.tell !== null) {
        if (row.tell === fingerprint)
          return { result: this.store.view(config.id, row), timing: timingOf(watch) };
        throw new CoordinatorError(
          'conflict',
          `trial ${number} was already told ${row.tell}; a different tell is refused`,
        );
      }
      if (isFinished(row.state)) {
        throw new CoordinatorError(
          'conflict',
          `trial ${number} is ${row.state}${row.error ? ` (${row.error})` : ''}; it takes no tell`,
        );
      }
      // A late tell whose lease expired is still taken while nobody else holds the trial.
      leases.checkLease(row, token, true);
      if (result) this.checkConstraintsCount(result);
      const state: TrialState = result ? 'complete' : (body.state as TrialState);
      const error = 'error' in body && typeof body.error === 'string' ? body.error : null;
      if (state === 'pruned')
        this.store.setPruned(
          number,
          this.store.pointSummary(number).lastStep,
          'told pruned by its caller, without a prune decision of the study’s pruner',
        );
      const before = watch.time('storage', () => this.store.snapshot(config));
      watch.time('storage', () =>
        this.store.finish(
          number,
          state,
          result ?? { value: null, values: null, constraints: null },
          error,
          Date.now(),
          fingerprint,
        ),
      );
      // A finished trial makes new work available only when it frees one of max_parallel's slots.
      await watch.timeAsync('storage', () =>
        this.commit({
          trials: [number],
          lrRound: true,
          study: true,
          events: { before, changed: [number] },
          notice: leases.finishFreesSlot(config),
        }),
      );
      if (config.executor.kind !== 'client') {
        // An edge study's tell starts its next trials: their sampling and rows count here too.
        if (config.executor.kind === 'edge') await this.pumpEdge(config, config.executor, watch);
        await watch.timeAsync('storage', () => this.scheduleAlarm());
      }
      return {
        result: watch.time('storage', () => this.trialView(number)),
        timing: timingOf(watch),
      };
    });
  }

  /** Whatever is due: expire leases, retry the D1 flush, push a job notice, re-send edge trials. */
  override async alarm(): Promise<void> {
    const config = this.store.config;
    if (!config) return;
    const now = Date.now();
    this.expireLeases(now);
    if (this.outbox.pendingCount() > 0) await this.flush();
    await this.dispatch.sendIfDue(config, now);
    if (config.executor.kind === 'edge') await this.pumpEdge(config, config.executor);
    await this.scheduleAlarm();
  }

  /** The D1 statements each flush since the object started issued, oldest first (for tests and diagnostics). */
  async flushStatements(): Promise<number[]> {
    return [...this.outbox.statementLog];
  }

  /** Rows still waiting for D1 (for tests and diagnostics). */
  async pendingWrites(): Promise<number> {
    return this.outbox.pendingCount();
  }

  /** Write the outbox to D1 now; resolves when it is empty or a write failed. */
  async flush(): Promise<void> {
    return this.outbox.flush();
  }

  /** Put every parked entry back in the outbox and write now; answers the study with its storage state. */
  async retryStorage(): Promise<RpcResult<StudyView>> {
    return overRpc(async () => {
      this.requireConfig();
      this.outbox.requeueParked();
      this.outbox.enqueue('study');
      await this.flush();
      // A flush already finishing when these were enqueued may have missed them.
      if (this.outbox.pendingCount() > 0) await this.flush();
      return this.view();
    });
  }

  // --- internals -----------------------------------------------------------

  /**
   * The steps after a write, in one place and this order: the changed trials to the outbox, the
   * lr round's extension, the study row to the outbox, the change's events, a flush to D1 (when
   * anything went to the outbox), a job notice, the alarm. All but the alarm run before this
   * returns (in the caller's synchronous block); the returned promise is the alarm's.
   */
  private commit(c: Commit): Promise<void> {
    const config = this.requireConfig();
    for (const n of c.trials ?? []) this.outbox.enqueue('trial', n);
    if (c.lrRound) this.extendLrRound(config);
    if (c.study) this.outbox.enqueue('study');
    if (c.events) {
      const after = this.store.snapshot(config);
      const best = after.best === null ? undefined : this.store.row(after.best);
      const found = detectEvents(
        config,
        c.events.before,
        after,
        c.events.changed.map((n) => this.store.row(n)),
        best,
        this.store.count(),
      );
      for (const e of found)
        this.outbox.enqueue('event', this.store.insertEvent(e.type, e.data, Date.now()));
    }
    if ((c.trials?.length ?? 0) > 0 || c.study || c.events) this.ctx.waitUntil(this.flush());
    if (c.notice) this.dispatch.note(this.store.config);
    return c.alarm ? this.scheduleAlarm() : Promise.resolve();
  }

  private async record(
    number: number,
    points: readonly Point[],
    caller: Caller,
    batch: boolean,
  ): Promise<ReportAnswer> {
    const config = this.requireConfig();
    const n = directionsOf(config).length;
    if (n > 1) {
      throw new CoordinatorError(
        'conflict',
        `study ${config.id} has ${n} objectives: intermediate values are for single-objective studies (as in Optuna, whose pruners judge one objective); tell the trial's values when it ends`,
      );
    }
    const token = leases.callerToken(config, caller);
    const now = Date.now();
    if (this.expireLeases(now)) await this.scheduleAlarm();
    const row = this.requireTrial(number);
    const held = (step: number) => this.store.pointAt(number, step);
    if (row.state !== 'running') {
      // A late or repeated report after the trial ended: answer, change nothing.
      if (row.state !== 'waiting' && points.every((p) => held(p.step) === p.value))
        return { should_prune: row.state === 'pruned' };
      // Why not, as the lease sees it (expired, handed out again, never asked), for a waiting
      // trial or a token's holder; else the trial's state.
      if (row.state === 'waiting' || token !== null) leases.checkLease(row, token, false);
      throw new CoordinatorError(
        'conflict',
        `trial ${number} is ${row.state}; reports are taken while it runs`,
      );
    }
    leases.checkLease(row, token, false);
    // A report shows the holder is alive: it extends the lease like a heartbeat (a trial started
    // before client leases has none to extend).
    if (row.lease_token !== null)
      this.store.extendLease(number, leases.leaseExpiry(leases.leaseTerms(config.executor), now));
    // Every point is checked before anything is written: a batch is taken whole or not at all.
    const summary = { ...this.store.pointSummary(number) };
    const added = mergeReport(number, held, summary.count, points, batch);
    if (added.length > 0) {
      this.store.addPoints(number, added);
      this.outbox.enqueue('trial', number);
      // Reports are coalesced: at most one flush per REPORT_FLUSH_MS, the alarm doing the rest.
      const flush = this.outbox.flushSoon();
      if (flush) this.ctx.waitUntil(flush);
      else void this.scheduleAlarm();
    }
    const pruner = makePruner(config.pruner);
    // Without a pruner there is nothing to judge: no need to read every trial's values.
    if (pruner instanceof NopPruner) return { should_prune: false };
    const trials = this.store.frozen();
    const trial = trials.find((t) => t.number === number)!;
    const ctx: PruneContext = {
      trial,
      trials,
      direction: config.direction as Direction,
      stats: this.stepStats(summary, added, points.length),
    };
    const prune = batch
      ? prunesAtAnyStep(
          pruner,
          ctx,
          points.map((p) => p.step),
        )
      : pruner.shouldPrune(ctx);
    if (prune) this.notePruned(number, pruner.name, config.direction as Direction, batch);
    return { should_prune: prune };
  }

  /** The pruner's first prune decision for the trial, kept with it (pruned_at_step, prune_reason). */
  private notePruned(number: number, pruner: string, direction: Direction, batch: boolean): void {
    const { lastStep, min, max } = this.store.pointSummary(number);
    if (lastStep === null) return;
    const value = this.store.pointAt(number, lastStep);
    const best = direction === 'maximize' ? max : min;
    this.store.setPruned(
      number,
      lastStep,
      `the ${pruner} pruner answered should_prune at step ${fmtMetric(lastStep)}${batch ? ' (the last of a batch of reports)' : ''}: value ${value === undefined ? 'none' : fmtMetric(value)}, best so far ${fmtMetric(best)}`,
    );
  }

  /**
   * The statistics a pruner may judge a report by (`PruneContext.stats`), when every point of the
   * report was new and after the trial's latest step (`before`: its summary before the report);
   * else undefined, and the pruner reads the trials' values.
   */
  private stepStats(before: PointSummary, added: Point[], reported: number): StepStats | undefined {
    if (added.length === 0 || added.length !== reported) return undefined;
    if (before.lastStep !== null && added[0].step <= before.lastStep) return undefined;
    const complete = this.store.completeSteps();
    return {
      lastStep: before.lastStep ?? -Infinity,
      min: before.min,
      max: before.max,
      added,
      completeCount: complete.count,
      completeAt: (step: number) => complete.at(step),
    };
  }

  /**
   * Start the next trial (state running): a waiting one first, else a new one
   * from the sampler. Null when there is none to start (max_trials reached or
   * the grid exhausted); with `throwIfNone`, a 409 instead. `watch` gets the sampler's time and
   * the storage's (the history read, the row and its outbox entry), in disjoint laps.
   */
  private startTrial(
    config: StudyConfig,
    now: number,
    throwIfNone: boolean,
    watch: CallWatch = callWatch(),
    pick: AskPick = {},
  ): number | null {
    if (pick.number !== undefined) return this.startWaitingTrial(pick.number, now);
    const waiting = watch.time('storage', () => {
      const n = pick.fresh ? undefined : this.store.firstWaiting();
      if (n !== undefined) {
        this.store.startWaiting(n, now);
        this.outbox.enqueue('trial', n);
      }
      return n;
    });
    if (waiting !== undefined) return waiting;
    const number = watch.time('storage', () => this.store.count());
    if (config.max_trials !== null && number >= config.max_trials) {
      if (throwIfNone)
        throw new CoordinatorError(
          'conflict',
          `the study has reached max_trials (${config.max_trials})`,
        );
      return null;
    }
    const sampler = makeSampler(config.sampler);
    const pruner = makePruner(config.pruner);
    const directions = directionsOf(config);
    const history = watch.time('storage', () => this.store.frozen());
    const ctx: SampleContext = {
      space: config.space,
      // With Hyperband, a trial learns only from the trials of its own bracket.
      trials: trialsInSameBracket(pruner, number, history),
      direction: config.direction as Direction,
      ...(directions.length > 1 ? { directions } : {}),
      seed: config.sampler.seed,
      trialNumber: number,
    };
    let params: Params;
    let proposer: string;
    try {
      // The proposer is named with the same context as the sample: with auto, the delegate that sampled.
      proposer = watch.time('sampler', () => proposerOf(sampler, ctx));
      params = watch.time('sampler', () => sampler.sample(ctx));
    } catch (err) {
      if (!(err instanceof GridExhaustedError)) throw err;
      if (throwIfNone)
        throw new CoordinatorError(
          'conflict',
          'the grid is exhausted: every combination of the space has been asked',
        );
      return null;
    }
    // Define-by-run: the learned parameters' values stay hidden until the trial asks for them.
    const split = splitProposal(config, params);
    watch.time('storage', () => {
      this.store.insertRunning(number, split.params, now, proposer, split.proposed);
      this.outbox.enqueue('trial', number);
    });
    return number;
  }

  /**
   * One parameter sampled alone for trial `number` (a define-by-run parameter without a proposal),
   * by the study's sampler over the other trials, from a seed of its own (paramSeed).
   */
  private sampleAlone(
    config: StudyConfig,
    number: number,
    name: string,
    spec: ParamSpec,
  ): ParamValue {
    const pruner = makePruner(config.pruner);
    const directions = directionsOf(config);
    const history = this.store.frozen().filter((t) => t.number !== number);
    const ctx: SampleContext = {
      space: { [name]: spec },
      trials: trialsInSameBracket(pruner, number, history),
      direction: config.direction as Direction,
      ...(directions.length > 1 ? { directions } : {}),
      seed: paramSeed(config.sampler.seed, name),
      trialNumber: number,
    };
    return makeSampler(config.sampler).sample(ctx)[name];
  }

  /** Start waiting trial `number` (an ask that names it); a 409 when it is not waiting. */
  private startWaitingTrial(number: number, now: number): number {
    const row = this.requireTrial(number);
    if (row.state !== 'waiting')
      throw new CoordinatorError(
        'conflict',
        `trial ${number} is ${row.state}, not waiting: another caller started it`,
      );
    this.store.startWaiting(number, now);
    this.outbox.enqueue('trial', number);
    return number;
  }

  /** Put a just-started trial under a new lease (one more attempt): a random token, lease_seconds from `now`. */
  private leaseTrial(
    number: number,
    terms: leases.LeaseTerms,
    now: number,
    runner: string | null,
  ): TrialRow {
    this.store.setLease(
      number,
      `lease_${randomBase64Url(18)}`,
      leases.leaseExpiry(terms, now),
      runner,
    );
    return this.store.row(number)!;
  }

  /** Start a trial under a new lease, unless the bound on leases at once is reached or nothing is left. */
  private grantLease(
    config: StudyConfig,
    executor: RunnerExecutor | EdgeExecutor,
    now: number,
    runner: string | null,
    watch?: CallWatch,
  ): LeaseGrant | null {
    if (!leases.hasLeaseSlot(executor, this.store.runningCount())) return null;
    const number = this.startTrial(config, now, false, watch);
    if (number === null) return null;
    const terms = leases.leaseTerms(executor);
    const row = this.leaseTrial(number, terms, now, runner);
    return {
      study: {
        id: config.id,
        name: config.name,
        metric: config.metric,
        direction: config.direction,
        metrics: metricsOf(config),
        directions: directionsOf(config),
      },
      trial: this.store.view(config.id, row),
      lease: leases.leaseView(terms, row),
    };
  }

  /**
   * A read answers no lease past its expiry: the alarm expires leases, but an alarm can come late
   * or, after its retries, not at all, and a client waiting for a dead holder's trial (Python's
   * optimize(resume=True)) only reads the study. The same expiry as the alarm's, then the alarm.
   */
  private async expireOverdue(): Promise<void> {
    if (this.expireLeases(Date.now())) await this.scheduleAlarm();
  }

  /** Requeue (or fail, after max_attempts) every trial whose lease has expired by `now`, whatever the executor. True if any did. */
  private expireLeases(now: number): boolean {
    const config = this.store.config;
    if (!config) return false;
    const expired = leases.expiryDecisions(config, this.store.expiredLeases(now), now);
    if (expired.length === 0) return false;
    // Read before the writes: the events compare the study before and after.
    const before = this.store.snapshot(config);
    for (const d of expired) {
      if (d.state === 'failed') this.store.failExpired(d.number, d.error, now);
      else this.store.requeueExpired(d.number, d.error);
    }
    const changed = expired.map((d) => d.number);
    void this.commit({
      trials: changed,
      lrRound: true,
      study: true,
      events: { before, changed },
      notice: true,
    });
    return true;
  }

  /**
   * An lr/suggest round of a client or runners whose trials have all ended: when the best candidate
   * is the lowest or highest lr, enqueue two trials past that edge, once (lr-round.ts). Changes
   * `config` in place (the caller's view of the study, events included, sees it running again).
   */
  private extendLrRound(config: StudyConfig): void {
    if (config.lr_ladder) return this.climbLadder(config);
    if (!lrRoundEnded(config, this.store.finished())) return;
    const points = this.store.pointsByTrial();
    const trials = this.store.rows().map((r) => ({
      params: JSON.parse(r.params) as Params,
      state: r.state,
      value: r.value,
      intermediate: points.get(r.number) ?? [],
      error: r.error,
    }));
    const fresh = lrsPastEdge(config, trials);
    for (const params of extendRound(config, fresh)) {
      const number = this.store.count();
      this.store.insertWaiting(number, params);
      this.outbox.enqueue('trial', number);
    }
    this.store.saveConfig(config);
    this.dispatch.note(this.store.config);
  }

  /** A budgeted lr/suggest search: when every trial has ended, enqueue the ladder's next level (lr-round.ts). */
  private climbLadder(config: StudyConfig): void {
    const rows = this.store.rows();
    const points = this.store.pointsByTrial();
    const trials = rows.map((r) => ({
      params: JSON.parse(r.params) as Params,
      state: r.state,
      value: r.value,
      intermediate: points.get(r.number) ?? [],
    }));
    const fresh = nextLadderTrials(config, trials);
    if (fresh.length === 0) return;
    for (const params of fresh) {
      const number = this.store.count();
      this.store.insertWaiting(number, params);
      this.outbox.enqueue('trial', number);
    }
    this.store.saveConfig(config);
    this.dispatch.note(this.store.config);
  }

  /** Keep `parallelism` edge trials in flight while the study runs: lease them and send them to the queue. */
  private async pumpEdge(
    config: StudyConfig,
    executor: EdgeExecutor,
    watch?: CallWatch,
  ): Promise<void> {
    if (!this.edge.running()) return;
    const now = Date.now();
    const grants: LeaseGrant[] = [];
    for (;;) {
      const grant = this.grantLease(config, executor, now, 'edge', watch);
      if (!grant) break;
      grants.push(grant);
    }
    if (grants.length === 0) return;
    void this.commit({ study: true });
    await this.edge.send(config, grants);
  }

  /** Set the alarm to the earliest of: a lease expiry, a D1 flush retry, a job notice, an edge retry. */
  private async scheduleAlarm(): Promise<void> {
    const times = [
      this.store.earliestLeaseExpiry(),
      ...this.outbox.retryTimes(),
      this.dispatch.dueAt(),
      this.edge.retryAt(),
    ].filter((t): t is number => t !== null);
    if (times.length === 0) return;
    const next = Math.min(...times);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(next);
  }

  private view(): StudyView {
    const config = this.requireConfig();
    const { executor } = config;
    return this.store.studyView(config, {
      ...(executor.kind === 'runner' && executor.dispatch_url
        ? { dispatch: this.dispatch.status() }
        : {}),
      storage: this.outbox.status(),
    });
  }

  /**
   * A complete result checked against the study: one value per objective (`value`, or `values` of
   * that length), and as many constraints as the study's first tell with constraints gave.
   * Problems are 422s naming the field.
   */
  private checkResult(config: StudyConfig, body: TellBody): Result {
    const directions = directionsOf(config);
    const n = directions.length;
    const b = body as { value?: number; values?: number[]; constraints?: number[] };
    const names = metricsOf(config).join(', ');
    if (b.value !== undefined && n > 1) {
      throw invalidField(
        'value',
        `study ${config.id} has ${n} objectives (${names}): tell "values" with ${n} numbers, one per direction`,
      );
    }
    const values = b.values ?? [b.value!];
    if (values.length !== n) {
      throw invalidField(
        'values',
        `${values.length} value${values.length === 1 ? '' : 's'} for ${n} objective${n === 1 ? '' : 's'} (${names}): send one per direction`,
      );
    }
    const constraints = b.constraints ?? null;
    return n > 1
      ? { value: null, values, constraints }
      : { value: values[0], values: null, constraints };
  }

  /** A new result gives as many constraints as the study's first tell with constraints did (checked after the repeat rule). */
  private checkConstraintsCount(r: Result): void {
    const expected = this.store.constraintsCount();
    if (expected !== null && (r.constraints?.length ?? 0) !== expected) {
      throw invalidField(
        'constraints',
        `this study's trials were told ${expected} constraint${expected === 1 ? '' : 's'}; send ${expected}${r.constraints ? `, not ${r.constraints.length}` : ' with every result'}`,
      );
    }
  }

  private trialView(number: number): TrialView {
    return this.store.view(this.requireConfig().id, this.store.row(number)!);
  }

  private requireConfig(): StudyConfig {
    if (!this.store.config) throw new CoordinatorError('not_found', NO_SUCH_STUDY);
    return this.store.config;
  }

  private requireTrial(number: number): TrialRow {
    const row = this.store.row(number);
    if (!row)
      throw new CoordinatorError(
        'not_found',
        `study ${this.store.config?.id} has no trial ${number}`,
      );
    return row;
  }
}

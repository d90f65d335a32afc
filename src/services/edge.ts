/**
 * Edge studies: each trial is a probe trained in a Worker invocation (the
 * queue consumer below), never inside the study's Durable Object.
 *
 * A trial's params are mapped onto the study's probe template by name:
 * - `lr` (else the executor's `lr`);
 * - `optimizer` (a name: sgd, momentum, nesterov, adam, adamw, rmsprop,
 *   adagrad) and its settings `momentum`, `beta1`, `beta2`, `alpha`, `eps`,
 *   `weight_decay`;
 * - `batch_size`, `epochs`;
 * - `seed`: the probe's seed (its validation split and initialisation);
 * - the model: `width` (every hidden layer), `layers` (how many hidden
 *   layers, each `width` wide or as wide as the template's first),
 *   `hidden_0`, `hidden_1`, ... (one layer's width), `activation`;
 * - the LR schedule: `schedule` (constant, step, exponential, cosine,
 *   one_cycle) and its settings `step_size`, `gamma`, `t_max`, `eta_min`,
 *   `pct_start`, `div_factor`, `final_div_factor`; `warmup_steps`.
 * Any other name is a 422 when the study is created.
 */
import { ProbeSchema } from '../contract/schemas';
import { zodIssues } from '../contract/issues';
import { domainErrorOf, valueOf } from '../coordinator/errors';
import type { EdgeTrialMessage } from '../coordinator/study-coordinator';
import type { EdgeExecutor, StudyView, TellBody } from '../contract/study';
import { ensureBackend } from '../probe/backend';
import { loadWithinLimits } from '../probe/data';
import type { InputIssue } from '../contract/issues';
import { ProbeInputError } from '../probe/errors';
import type { ProbeSpec } from '../probe/lr-range-test';
import { validateSchedule, type ScheduleSpec, type WarmupSpec } from '../probe/schedules';
import {
  edgeTrialFlops,
  edgeTrialSteps,
  heldOutRows,
  runEdgeTrial,
  type EdgeTrainSpec,
} from '../probe/trial';
import { RandomSampler } from '../tuning/samplers';
import type { Params, Space } from '../tuning/types';
import { studyStub } from '../coordinator/stub';
import { DEFAULT_PROJECT_ID } from '../db/schema';
import { readConfig } from '../lib/config';
import { MAX_EDGE_EPOCHS, type Limits } from '../contract/limits';

const OPTIMIZER_SETTINGS = ['momentum', 'beta1', 'beta2', 'alpha', 'eps', 'weight_decay'] as const;
const SCHEDULE_SETTINGS = [
  'step_size',
  'gamma',
  't_max',
  'eta_min',
  'pct_start',
  'div_factor',
  'final_div_factor',
] as const;
const TOP_LEVEL = [
  'lr',
  'optimizer',
  'batch_size',
  'epochs',
  'seed',
  'width',
  'layers',
  'activation',
  'schedule',
  'warmup_steps',
] as const;

const EDGE_PARAM_NAMES: readonly string[] = [
  ...TOP_LEVEL,
  ...OPTIMIZER_SETTINGS,
  ...SCHEDULE_SETTINGS,
  'hidden_<i>',
];

function isKnown(name: string): boolean {
  return (
    (TOP_LEVEL as readonly string[]).includes(name) ||
    (OPTIMIZER_SETTINGS as readonly string[]).includes(name) ||
    (SCHEDULE_SETTINGS as readonly string[]).includes(name) ||
    /^hidden_(0|[1-9]\d?)$/.test(name)
  );
}

export interface EdgeTrialPlan {
  probe: ProbeSpec;
  train: EdgeTrainSpec;
}

/**
 * The probe and training spec of one trial. Throws ProbeInputError with
 * paths like `params.batch_size` when the mapped probe is not valid.
 */
function planEdgeTrial(executor: EdgeExecutor, params: Params): EdgeTrialPlan {
  const issues: InputIssue[] = [];
  const template = executor.probe as Record<string, unknown>;
  const probe = structuredClone(template) as Record<string, any>;
  probe.model = { ...(probe.model ?? {}) };
  probe.optimizer = { ...(probe.optimizer ?? { name: 'sgd' }) };
  let schedule: Record<string, unknown> | undefined = executor.schedule
    ? { ...executor.schedule }
    : undefined;
  let warmup: WarmupSpec | undefined = executor.warmup ? { ...executor.warmup } : undefined;
  let lr = executor.lr;
  let epochs = executor.epochs;

  for (const [name, value] of Object.entries(params)) {
    if (!isKnown(name)) {
      issues.push({
        path: `params.${name}`,
        message: `an edge trial cannot take '${name}': known names are ${EDGE_PARAM_NAMES.join(', ')}`,
      });
      continue;
    }
    if (name === 'lr') lr = value as number;
    else if (name === 'optimizer') {
      // Settings the new optimizer lacks are dropped rather than rejected: the template was written for another one.
      const keep = Object.fromEntries(
        Object.entries(probe.optimizer).filter(([k]) => k !== 'name'),
      );
      probe.optimizer = { name: value, ...keep };
    } else if ((OPTIMIZER_SETTINGS as readonly string[]).includes(name))
      probe.optimizer[name] = value;
    else if (name === 'batch_size') probe.batch_size = value;
    else if (name === 'seed') probe.seed = value;
    else if (name === 'epochs') epochs = value as number;
    else if (name === 'activation') probe.model.activation = value;
    else if (name === 'schedule') schedule = { ...(schedule ?? {}), kind: value };
    else if ((SCHEDULE_SETTINGS as readonly string[]).includes(name))
      schedule = { kind: 'constant', ...(schedule ?? {}), [name]: value };
    else if (name === 'warmup_steps') warmup = { ...(warmup ?? {}), steps: value as number };
  }
  // The model's widths: layers first, then width, then single layers.
  const hidden = [...((probe.model.hidden as number[] | undefined) ?? [64, 64])];
  let widths = hidden;
  if (params.layers !== undefined)
    widths = Array.from(
      { length: params.layers as number },
      (_, i) => hidden[i] ?? hidden[0] ?? 64,
    );
  if (params.width !== undefined) widths = widths.map(() => params.width as number);
  for (const [name, value] of Object.entries(params)) {
    const m = /^hidden_(\d+)$/.exec(name);
    if (!m) continue;
    const i = Number(m[1]);
    if (i >= widths.length)
      issues.push({
        path: `params.${name}`,
        message: `the model has ${widths.length} hidden layers: there is no layer ${i}`,
      });
    else widths[i] = value as number;
  }
  probe.model.hidden = widths;
  // Drop optimizer settings the (possibly new) optimizer does not take, unless the trial set them.
  const parsedFirst = ProbeSchema.safeParse(probe);
  if (!parsedFirst.success) {
    for (const issue of parsedFirst.error.issues) {
      const key = issue.path[0] === 'optimizer' ? String(issue.path[1]) : undefined;
      if (
        key &&
        (OPTIMIZER_SETTINGS as readonly string[]).includes(key) &&
        params[key] === undefined
      )
        delete probe.optimizer[key];
    }
  }
  const parsed = ProbeSchema.safeParse(probe);
  if (!parsed.success) {
    for (const i of zodIssues(parsed.error))
      issues.push({ path: paramPathOf(i.path, params), message: i.message });
  }
  if (lr === undefined)
    issues.push({
      path: 'params.lr',
      message: "no learning rate: add an 'lr' parameter to the space or set executor.lr",
    });
  else if (!(lr > 0) || !Number.isFinite(lr))
    issues.push({ path: 'params.lr', message: `lr must be a number > 0, got ${lr}` });
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > MAX_EDGE_EPOCHS)
    issues.push({
      path: 'params.epochs',
      message: `epochs must be an integer in 1..${MAX_EDGE_EPOCHS}, got ${epochs}`,
    });
  if (issues.length > 0 || !parsed.success) throw new ProbeInputError(issues);

  const out: ProbeSpec = parsed.data as ProbeSpec;
  const train: EdgeTrainSpec = { lr: lr!, epochs, validation_split: executor.validation_split };
  if (schedule) train.schedule = schedule as ScheduleSpec;
  if (warmup) train.warmup = warmup;
  if (schedule || warmup) {
    // Check against a plausible step count; the real one depends on the dataset and is checked again in the trial.
    const steps = Math.max(2, epochs * 1000);
    const sIssues = validateSchedule(
      warmup === undefined
        ? (schedule ?? { kind: 'constant' })
        : { ...(schedule ?? { kind: 'constant' }), warmup },
      steps,
    );
    for (const i of sIssues)
      throw new ProbeInputError({ path: schedulePath(i.path, params), message: i.message });
  }
  return { probe: out, train };
}

/** The trial param behind a probe path (e.g. `optimizer.momentum` → `params.momentum`), else the template's path. */
function paramPathOf(path: string, params: Params): string {
  const [head, key] = path.split('.');
  if (head === 'optimizer' && key === 'name' && params.optimizer !== undefined)
    return 'params.optimizer';
  if (head === 'optimizer' && key && params[key] !== undefined) return `params.${key}`;
  if (head === 'batch_size' && params.batch_size !== undefined) return 'params.batch_size';
  if (head === 'seed' && params.seed !== undefined) return 'params.seed';
  if (head === 'model' && key === 'activation' && params.activation !== undefined)
    return 'params.activation';
  if (head === 'model' && key === 'hidden')
    return params.width !== undefined
      ? 'params.width'
      : params.layers !== undefined
        ? 'params.layers'
        : 'executor.probe.model.hidden';
  return `executor.probe.${path}`;
}

function schedulePath(path: string, params: Params): string {
  const key = path.split('.')[0];
  if (key === 'warmup' && params.warmup_steps !== undefined) return 'params.warmup_steps';
  if (key && params[key] !== undefined) return `params.${key}`;
  if (!key && params.schedule !== undefined) return 'params.schedule';
  return `executor.schedule${path ? '.' + path : ''}`;
}

/**
 * Problems of an edge study's space, for its creation (422): names the
 * template cannot take, and probes that would not be valid, found by mapping
 * a few dozen random points of the space (paths `space.<name>`).
 */
export function checkEdgeSpace(
  space: Space,
  executor: EdgeExecutor,
  maxTrials: number | null,
): InputIssue[] {
  const issues: InputIssue[] = [];
  if (maxTrials === null)
    issues.push({ path: 'max_trials', message: 'an edge study runs until max_trials: set it' });
  for (const name of Object.keys(space)) {
    if (!isKnown(name))
      issues.push({
        path: `space.${name}`,
        message: `an edge trial cannot take '${name}': known names are ${EDGE_PARAM_NAMES.join(', ')}`,
      });
  }
  if (!('lr' in space) && executor.lr === undefined)
    issues.push({
      path: 'space',
      message: "no learning rate: add an 'lr' parameter to the space or set executor.lr",
    });
  if (issues.length > 0) return issues;
  const sampler = new RandomSampler();
  const seen = new Set<string>();
  for (let i = 0; i < 32 && issues.length < 5; i++) {
    const params = sampler.sample({
      space,
      trials: [],
      direction: 'minimize',
      seed: 12345,
      trialNumber: i,
    });
    try {
      planEdgeTrial(executor, params);
    } catch (err) {
      if (!(err instanceof ProbeInputError)) throw err;
      for (const issue of err.issues) {
        const path = issue.path.startsWith('params.')
          ? `space.${issue.path.slice('params.'.length)}`
          : issue.path;
        if (seen.has(path)) continue;
        seen.add(path);
        issues.push({
          path,
          message: `${issue.message} (for example with ${JSON.stringify(params)})`,
        });
      }
    }
  }
  return issues;
}

/** Run one edge trial: map, check the budget, train, report each epoch, tell. */
async function runEdgeTrialMessage(env: Env, msg: EdgeTrialMessage): Promise<void> {
  const stub = studyStub(env, msg.project_id ?? DEFAULT_PROJECT_ID, msg.study_id);
  const caller = { lease_token: msg.token };
  const tell = async (body: TellBody) => {
    try {
      valueOf(await stub.tell(msg.number, body, caller));
    } catch (err) {
      // A stale lease (the trial was re-leased after this one expired) is not this message's business any more.
      if (domainErrorOf(err)?.kind !== 'conflict') throw err;
    }
  };
  const study = valueOf(await stub.getStudy()) as StudyView;
  if (study.executor.kind !== 'edge') return;
  const executor = study.executor;
  let plan: EdgeTrialPlan;
  let ds;
  try {
    plan = planEdgeTrial(executor, msg.params);
    // The same cap on the dataset as POST /v1/lr-range-tests applies to the same probe.
    const budget = readConfig(env).probe;
    ds = loadWithinLimits(plan.probe.data, plan.probe.task, budget.maxCells);
    const gflop = edgeTrialFlops(ds, plan.probe, plan.train) / 1e9;
    if (gflop > budget.maxGflop) {
      const steps = edgeTrialSteps(
        heldOutRows(ds, plan.train.validation_split).train,
        plan.probe.batch_size,
        plan.train.epochs,
      );
      await tell({ state: 'failed', error: overBudget(gflop, steps, budget) });
      return;
    }
  } catch (err) {
    if (err instanceof ProbeInputError) {
      await tell({
        state: 'failed',
        error:
          err.kind === 'over_budget'
            ? `over the edge budget: ${err.message}`
            : `invalid probe for these params: ${err.message}`,
      });
      return;
    }
    throw err;
  }
  await ensureBackend();
  let outcome;
  try {
    outcome = await runEdgeTrial(plan.probe, plan.train, ds, async (epoch, value) => {
      const r = valueOf(await stub.report(msg.number, epoch, value, caller));
      return r.should_prune;
    });
  } catch (err) {
    if (domainErrorOf(err)?.kind === 'conflict') return; // the lease was lost: someone else runs (or ran) this trial
    if (err instanceof ProbeInputError || err instanceof RangeError) {
      await tell({ state: 'failed', error: `the probe failed: ${err.message}` });
      return;
    }
    throw err;
  }
  if (outcome.kind === 'complete') await tell({ value: outcome.value });
  else if (outcome.kind === 'pruned') await tell({ state: 'pruned' });
  else
    await tell({
      state: 'failed',
      error: `diverged in epoch ${outcome.epoch} (the loss became NaN or infinite)`,
    });
}

function overBudget(gflop: number, steps: number, limits: Limits): string {
  return `over the edge budget: this trial needs about ${gflop.toFixed(1)} GFLOP (${steps} steps), the limit is ${limits.maxGflop} GFLOP; lower epochs, batch_size or the widths, or run the study with executor 'runner'`;
}

/** Deliveries of one message: the first plus wrangler.toml's max_retries. */
const MAX_DELIVERIES = 3;

/**
 * The queue consumer: one edge trial per message. An unexpected error retries
 * the message; on its last delivery the trial is told `failed` with the error.
 */
export async function handleEdgeBatch(
  batch: MessageBatch<EdgeTrialMessage>,
  env: Env,
): Promise<void> {
  for (const message of batch.messages) {
    const { study_id, number, token } = message.body;
    try {
      await runEdgeTrialMessage(env, message.body);
      message.ack();
    } catch (err) {
      // A coordinator's error reads as its detail, not its wire form.
      const detail =
        domainErrorOf(err)?.detail ?? (err instanceof Error ? err.message : String(err));
      console.error(`edge trial ${study_id}#${number} crashed (delivery ${message.attempts})`, err);
      if (message.attempts < MAX_DELIVERIES) {
        message.retry({ delaySeconds: 1 });
        continue;
      }
      try {
        const stub = studyStub(env, message.body.project_id ?? DEFAULT_PROJECT_ID, study_id);
        valueOf(
          await stub.tell(
            number,
            { state: 'failed', error: `the probe crashed ${message.attempts} times: ${detail}` },
            { lease_token: token },
          ),
        );
      } catch (tellErr) {
        // Then the lease expires and the coordinator leases the trial again.
        console.error(`edge trial ${study_id}#${number}: could not tell the failure`, tellErr);
      }
      message.ack();
    }
  }
}

/**
 * POST /v1/lr/suggest: a learning rate worth using, validated at the length
 * of the real training run.
 *
 * With a probe: run (or reuse from the cache) a range test, then validate
 * candidates that can contain the answer, at the training horizon:
 * - the horizon is `training.epochs`, or `training.steps` (alias
 *   `train_steps`) over the probe's training rows and batch size, else
 *   DEFAULT_TRAINING_EPOCHS (said in the reasoning; confidence at most medium);
 * - candidates: log-spaced from about max_stable_lr/1000 (never below where
 *   the range test's loss first moves) up to max_stable_lr, plus every rule
 *   and the optimizer's default, near ones merged (pickCandidates);
 * - they train with the request's schedule, on a held-out split, as an edge
 *   study of their own (one queue invocation per candidate, all in parallel),
 *   where successive halving (ASHA, reduction factor 2, rungs at a quarter
 *   and a half of the validated length) drops the worse half; the survivors
 *   train to the whole horizon when one edge trial may (PROBE_MAX_GFLOP and
 *   200 epochs), else to what it may, with the schedule compressed to that
 *   length (`horizon.method: "extrapolated"`);
 * - a best at the edge of the set extends it by two points half a decade
 *   apart past that edge, validated the same way;
 * - finalists within noise of the best (the spread of their last epochs'
 *   validation losses, at least 1%) are ties: the lowest lr among them wins.
 * Validating for a few epochs instead picks rates that win short runs and
 * lose long ones (test/quality.test.ts measures it).
 *
 * Without a probe: the priors of tuning/lr-priors.ts from the context,
 * refined by the project's completed studies that declared the same context
 * in `metadata.context`.
 */
import { ProblemError } from '../api/problem';
import { DEFAULT_TRAINING_EPOCHS, MAX_TRAINING_EPOCHS, StudyCreateSchema, type LrRangeTest, type LrSuggestRequest } from '../api/schemas';
import type { StudyView, TrialView } from '../coordinator/types';
import { findLrEvidence } from '../db/studies';
import { adviseSchedule, type ScheduleAdvice } from '../probe/schedule-advice';
import { DEFAULT_LR, suggestFromPriors, type LrContext, type ModelFamily, type Optimizer } from '../tuning/lr-priors';
import { loadDataset, type Dataset } from '../probe/data';
import type { ProbeSpec } from '../probe/lr-range-test';
import { edgeTrialFlops } from '../probe/trial';
import { limitsFrom, lrRangeTest, type Limits } from './lr-range-tests';
import { createStudy, getStudy, listTrials, run } from './studies';

/** How long one suggestion may wait for its validation trials (each round). */
const VALIDATION_DEADLINE_MS = 60_000;
/** Most epochs one edge trial trains (the edge executor's limit). */
const MAX_EDGE_EPOCHS = 200;
/** Two finalists closer than this share of the best loss are tied whatever their spread. */
const MIN_TIE_TOLERANCE = 0.01;

interface Candidate {
  lr: number;
  sources: string[];
}

export interface CandidateEvidence {
  lr: number;
  sources: string[];
  state: string;
  /** The validation loss at the end (complete), or at the epoch it was stopped (pruned). */
  value: number | null;
  epochs_run: number;
  /** Standard deviation of the last (up to 3) epochs' validation losses: the noise its value carries. */
  spread: number | null;
  /** Within noise of the best complete candidate. */
  tied: boolean;
  error: string | null;
}

export interface ValidationEvidence {
  study_id: string;
  /** Every study that validated candidates: the first round, then the extension past an edge. */
  study_ids: string[];
  epochs: number;
  schedule: string;
  candidates: CandidateEvidence[];
  complete: boolean;
}

export interface Horizon {
  /** The real run's length in epochs of the probe's training split. */
  epochs: number;
  /** The real run's optimizer steps, when the request gave them. */
  steps?: number;
  steps_per_epoch: number;
  source: 'training.epochs' | 'training.steps' | 'train_steps' | 'default';
  /** Epochs the finalists trained (0: no validation). */
  validated_epochs: number;
  /** full: validated at the horizon; extrapolated: shorter, with the schedule compressed; none: not validated. */
  method: 'full' | 'extrapolated' | 'none';
  schedule: 'constant' | 'cosine' | 'one_cycle';
  budget: { max_gflop: number; gflop_per_epoch: number; affordable_epochs: number };
}

export interface LrSuggestion {
  lr: number | null;
  method: string;
  confidence: 'low' | 'medium' | 'high';
  stable_range: { min: number | null; max: number | null } | null;
  schedule: ScheduleAdvice | null;
  range_test: { id: string; cached: boolean; suggestion: LrRangeTest['suggestion'] } | null;
  horizon: Horizon | null;
  validation: ValidationEvidence | null;
  prior: { lr: number; studies_used: number; range: { min: number; max: number } } | null;
  reasoning: string[];
}

const fmt = (v: number) => (v >= 0.01 ? String(Number(v.toPrecision(3))) : v.toExponential(2));
const decades = (a: number, b: number) => Math.abs(Math.log10(a / b));

/**
 * Candidates that can contain the answer: the curve's rules (at most
 * max_stable_lr) and the optimizer's default, merged when within 0.1 decades,
 * then log-spaced points from max(max_stable_lr / 1000, where the loss first
 * moves) up to max_stable_lr, skipping those near a rule, until there are at
 * least min(6, max) and at most `max`. Sorted by lr.
 */
export function pickCandidates(rt: LrRangeTest, optimizer: Optimizer, max: number): Candidate[] {
  const s = rt.suggestion;
  const ordered: [string, number | null][] = [
    [`suggestion (${s.method})`, s.lr],
    ['default', DEFAULT_LR[optimizer]],
    ['min_over_10', s.candidates.min_over_10],
    ['valley', s.candidates.valley],
    ['steepest', s.candidates.steepest],
    ['minimum', s.candidates.minimum],
  ];
  const rules: Candidate[] = [];
  for (const [source, lr] of ordered) {
    if (lr === null || !(lr > 0) || !Number.isFinite(lr)) continue;
    // Above the stable limit a rule's lr would only diverge; the default is kept as the baseline to beat.
    if (source !== 'default' && s.max_stable_lr !== null && lr > s.max_stable_lr) continue;
    const near = rules.find((c) => decades(c.lr, lr) < 0.1);
    if (near) near.sources.push(source);
    else if (rules.length < max) rules.push({ lr, sources: [source] });
  }
  const lastLr = [...rt.curve].reverse().find((p) => p.smoothed_loss !== null)?.lr ?? null;
  const hi = s.max_stable_lr ?? lastLr;
  if (hi === null || !(hi > 0)) return rules.sort((a, b) => a.lr - b.lr);
  const moves = stableRange(rt).min;
  const lo = moves !== null && moves < hi ? Math.max(hi / 1000, moves) : hi / 1000;
  const want = Math.min(6, max);
  let out = rules;
  for (let points = Math.max(2, max - rules.length); points <= 16; points++) {
    out = rules.map((c) => ({ lr: c.lr, sources: [...c.sources] }));
    const span = Math.log10(hi / lo);
    const gap = Math.min(0.25, span / Math.max(1, points - 1) / 2);
    // The ends first (the range must be covered), then the inside.
    const order = [points - 1, 0, ...Array.from({ length: Math.max(0, points - 2) }, (_, k) => k + 1)];
    for (const i of order) {
      if (out.length >= max) break;
      const lr = i === points - 1 ? hi : Math.min(hi, Number((lo * Math.pow(10, (span * i) / (points - 1))).toPrecision(3)));
      if (out.some((c) => decades(c.lr, lr) < gap)) continue;
      out.push({ lr, sources: ['log-spaced'] });
    }
    if (out.length >= want || out.length >= max) break;
  }
  return out.sort((a, b) => a.lr - b.lr);
}

/** From the first lr where the smoothed loss is 2% below its start, to max_stable_lr. */
export function stableRange(rt: LrRangeTest): { min: number | null; max: number | null } {
  const pts = rt.curve.filter((p) => p.smoothed_loss !== null);
  const start = pts[0]?.smoothed_loss ?? null;
  const first = start === null ? undefined : pts.find((p) => (p.smoothed_loss as number) <= start * 0.98);
  return { min: first?.lr ?? null, max: rt.suggestion.max_stable_lr };
}

/** The horizon of the request, with the steps converted to epochs of the probe's training split. */
export function resolveHorizon(req: LrSuggestRequest, ds: Dataset, probe: ProbeSpec, limits: Limits): Horizon {
  if (req.train_steps !== undefined && req.training !== undefined) {
    throw new ProblemError(422, 'invalid-request', 'train_steps: it is an alias of training.steps; send one of them', [
      { path: 'train_steps', message: 'train_steps is an alias of training.steps: send training alone' },
    ]);
  }
  const split = req.validation.validation_split;
  const nVal = Math.max(1, Math.min(ds.n - 1, Math.round(ds.n * split)));
  const spe = Math.ceil((ds.n - nVal) / probe.batch_size);
  const steps = req.training?.steps ?? req.train_steps;
  let epochs: number;
  let source: Horizon['source'];
  if (req.training?.epochs !== undefined) [epochs, source] = [req.training.epochs, 'training.epochs'];
  else if (steps !== undefined) {
    epochs = Math.max(1, Math.round(steps / spe));
    source = req.training ? 'training.steps' : 'train_steps';
    if (epochs > MAX_TRAINING_EPOCHS) {
      const path = source;
      throw new ProblemError(422, 'invalid-request', `${path}: ${steps} steps are ${epochs} epochs of this probe, over the maximum of ${MAX_TRAINING_EPOCHS}`, [
        { path, message: `${steps} steps are ${epochs} epochs of this probe (${spe} steps per epoch), over the maximum of ${MAX_TRAINING_EPOCHS}` },
      ]);
    }
  } else [epochs, source] = [DEFAULT_TRAINING_EPOCHS, 'default'];
  const perEpoch = edgeTrialFlops(ds, probe, { lr: 1, epochs: 1, validation_split: split }) / 1e9;
  const affordable = Math.min(MAX_EDGE_EPOCHS, Math.floor(limits.maxGflop / perEpoch));
  const validated = Math.max(0, Math.min(epochs, affordable, req.validation.epochs ?? epochs));
  return {
    epochs,
    ...(steps !== undefined ? { steps } : {}),
    steps_per_epoch: spe,
    source,
    validated_epochs: validated,
    method: validated >= epochs ? 'full' : 'extrapolated',
    schedule: req.schedule,
    budget: { max_gflop: limits.maxGflop, gflop_per_epoch: Number(perEpoch.toPrecision(3)), affordable_epochs: affordable },
  };
}

/** Standard deviation of the last (up to) 3 values. */
function spreadOf(values: number[]): number | null {
  const tail = values.slice(-3);
  if (tail.length < 2) return null;
  const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
  return Math.sqrt(tail.reduce((a, b) => a + (b - mean) ** 2, 0) / tail.length);
}

/** Train the candidates as an edge study with successive halving; wait for it (up to the deadline). */
async function validateRound(env: Env, projectId: string, req: LrSuggestRequest, rt: LrRangeTest, h: Horizon, cands: Candidate[], round: number): Promise<{ studyId: string; complete: boolean; evidence: CandidateEvidence[] }> {
  const epochs = h.validated_epochs;
  const minResource = Math.max(1, Math.floor(epochs / 4));
  const body = StudyCreateSchema.parse({
    name: `lr-suggest ${rt.id}${round > 0 ? ' (extension)' : ''}`,
    metric: 'val_loss',
    space: { lr: { type: 'categorical', choices: cands.map((c) => c.lr) } },
    sampler: { name: 'grid', seed: 0 },
    // Rungs at a quarter and a half of the validated length: earlier rungs would judge by the short run again.
    pruner: { name: 'asha', min_resource: minResource, reduction_factor: 2, max_resource: epochs },
    max_trials: cands.length,
    executor: {
      kind: 'edge',
      probe: req.probe,
      epochs,
      validation_split: req.validation.validation_split,
      parallelism: Math.min(16, cands.length),
      ...(h.schedule !== 'constant' ? { schedule: { kind: h.schedule } } : {}),
    },
    metadata: { kind: 'lr-suggest', range_test_id: rt.id, horizon_epochs: h.epochs, validated_epochs: epochs, schedule: h.schedule },
  });
  const study = await createStudy(env, projectId, body);
  await run(env, projectId, study.id);
  const t0 = Date.now();
  let s: StudyView = study;
  while (s.state !== 'completed' && Date.now() - t0 < VALIDATION_DEADLINE_MS) {
    await new Promise((r) => setTimeout(r, 100));
    s = await getStudy(env, projectId, study.id);
  }
  const trials: TrialView[] = await listTrials(env, projectId, study.id);
  return {
    studyId: study.id,
    complete: s.state === 'completed',
    evidence: cands.map((c) => {
      const t = trials.find((x) => x.params.lr === c.lr);
      const values = (t?.intermediate ?? []).map((p) => p.value);
      return {
        lr: c.lr,
        sources: c.sources,
        state: t?.state ?? 'waiting',
        // A pruned candidate's evidence is its last validation loss.
        value: t?.value ?? values[values.length - 1] ?? null,
        epochs_run: values.length,
        spread: spreadOf(values),
        tied: false,
        error: t?.error ?? null,
      };
    }),
  };
}

/**
 * The finalists (complete candidates) best first, and the ties: those whose
 * loss is within the sum of the two spreads (at least 1% of the best) of the
 * best's, the candidate's spread counted at most as the best's: a candidate
 * whose last epochs swing wildly (diverging) is unstable, not tied. Marks
 * `tied` on the evidence.
 */
export function rankWithTies(cands: CandidateEvidence[]): { ranked: CandidateEvidence[]; tied: CandidateEvidence[]; tolerance: (c: CandidateEvidence) => number } {
  const ranked = cands.filter((c) => c.state === 'complete' && c.value !== null && Number.isFinite(c.value)).sort((a, b) => (a.value as number) - (b.value as number));
  for (const c of cands) c.tied = false;
  if (ranked.length === 0) return { ranked, tied: [], tolerance: () => 0 };
  const best = ranked[0];
  const tolerance = (c: CandidateEvidence) => Math.max((best.spread ?? 0) + Math.min(c.spread ?? 0, best.spread ?? 0), MIN_TIE_TOLERANCE * Math.abs(best.value as number));
  const tied = ranked.filter((c) => (c.value as number) - (best.value as number) <= tolerance(c));
  if (tied.length > 1) for (const c of tied) c.tied = true;
  return { ranked, tied, tolerance };
}

async function validate(env: Env, projectId: string, req: LrSuggestRequest, rt: LrRangeTest, h: Horizon, cands: Candidate[], why: string[]): Promise<ValidationEvidence> {
  const first = await validateRound(env, projectId, req, rt, h, cands, 0);
  const evidence: ValidationEvidence = {
    study_id: first.studyId,
    study_ids: [first.studyId],
    epochs: h.validated_epochs,
    schedule: h.schedule,
    candidates: first.evidence,
    complete: first.complete,
  };
  // A best at the edge of the set: the answer may lie past it.
  const { ranked } = rankWithTies(evidence.candidates);
  const lrs = cands.map((c) => c.lr);
  const best = ranked[0];
  if (best && first.complete && (best.lr === Math.min(...lrs) || best.lr === Math.max(...lrs))) {
    const dir = best.lr === Math.min(...lrs) ? -1 : 1;
    const more = [0.5, 1].map((d) => ({ lr: Number((best.lr * Math.pow(10, dir * d)).toPrecision(3)), sources: ['extension'] }));
    why.push(`the best, ${fmt(best.lr)}, is the ${dir < 0 ? 'lowest' : 'highest'} candidate: validating ${more.map((c) => fmt(c.lr)).join(' and ')} past that edge`);
    const ext = await validateRound(env, projectId, req, rt, h, more, 1);
    evidence.study_ids.push(ext.studyId);
    evidence.candidates = [...evidence.candidates, ...ext.evidence].sort((a, b) => a.lr - b.lr);
    evidence.complete = evidence.complete && ext.complete;
  }
  return evidence;
}

function horizonReason(h: Horizon): string {
  const said =
    h.source === 'default'
      ? `no training length given: assuming ${h.epochs} epochs (send "training": {"epochs": N} or {"steps": N} for an answer at your run's length)`
      : h.source === 'training.epochs'
        ? `training horizon ${h.epochs} epochs (${h.epochs * h.steps_per_epoch} steps of this probe)`
        : `training horizon ${h.steps} steps = ${h.epochs} epochs of this probe (${h.steps_per_epoch} steps per epoch)`;
  const budget = `edge budget PROBE_MAX_GFLOP ${h.budget.max_gflop} GFLOP at ${h.budget.gflop_per_epoch} GFLOP per epoch: one trial may train ${h.budget.affordable_epochs} epochs (at most ${MAX_EDGE_EPOCHS})`;
  return `${said}; ${budget}`;
}

export async function suggestLr(env: Env, projectId: string, req: LrSuggestRequest): Promise<LrSuggestion> {
  const why: string[] = [];
  if (!req.probe) {
    const ctx = req.context!;
    const evidence = await findLrEvidence(env.DB, projectId, ctx.optimizer);
    const p = suggestFromPriors(ctx as LrContext, evidence.map((e) => ({ study_id: e.studyId, lr: e.lr, batch_size: e.batchSize ?? undefined, model_family: (e.family ?? undefined) as ModelFamily | undefined })));
    return {
      lr: p.lr,
      method: 'prior',
      confidence: p.confidence,
      stable_range: null,
      schedule: adviseSchedule(p.lr, { max_stable_lr: null }, ctx.optimizer, req.training?.steps ?? req.train_steps),
      range_test: null,
      horizon: null,
      validation: null,
      prior: { lr: p.lr, studies_used: p.studies_used, range: p.range },
      reasoning: p.reasoning,
    };
  }

  const probe = req.probe;
  const optimizer = probe.optimizer.name as Optimizer;
  const limits = limitsFrom(env);
  const rt = await lrRangeTest(env, projectId, { probe, range: req.range });
  const ds = loadDataset(probe.data as ProbeSpec['data'], probe.task);
  const horizon = resolveHorizon(req, ds, probe as ProbeSpec, limits);
  const s = rt.suggestion;
  why.push(`range test ${rt.id}${rt.cached ? ' (cached)' : ''}: ${s.lr === null ? 'no rule gave an lr' : `${s.method} suggests ${fmt(s.lr)}`}, max stable lr ${s.max_stable_lr === null ? 'not reached' : fmt(s.max_stable_lr)}`);
  why.push(horizonReason(horizon));
  const cands = pickCandidates(rt, optimizer, req.validation.max_candidates);
  let lr = s.lr;
  let method: string = s.method;
  let confidence = s.confidence;
  let evidence: ValidationEvidence | null = null;
  let clear = false;
  const validating = req.validate && cands.length >= 2 && horizon.validated_epochs >= 1;
  if (validating) {
    const v = horizon.validated_epochs;
    if (horizon.method === 'full') why.push(`validated at the horizon: the finalists trained all ${v} epochs with the ${horizon.schedule} schedule`);
    else {
      const cause = req.validation.epochs !== undefined && req.validation.epochs < Math.min(horizon.epochs, horizon.budget.affordable_epochs) ? `validation.epochs asks for ${req.validation.epochs}` : `the horizon is over what one edge trial may train`;
      why.push(
        `extrapolated: ${cause}, so the finalists trained ${v} of ${horizon.epochs} epochs with the ${horizon.schedule} schedule compressed to that length; shorter runs favour higher learning rates, so ties go to the lower one`,
      );
    }
    evidence = await validate(env, projectId, req, rt, horizon, cands, why);
    const { ranked, tied } = rankWithTies(evidence.candidates);
    if (ranked.length > 0) {
      const best = ranked[0];
      const pick = tied.reduce((a, b) => (b.lr < a.lr ? b : a), best);
      lr = pick.lr;
      method = 'validated';
      why.push(
        `validated ${cands.length} candidates (${cands.map((c) => `${fmt(c.lr)} [${c.sources.join(', ')}]`).join('; ')}) with successive halving (reduction factor 2, rungs at ${Math.max(1, Math.floor(v / 4))} and ${2 * Math.max(1, Math.floor(v / 4))} epochs): ` +
          `${fmt(best.lr)} [${best.sources.join(', ')}] reached the lowest validation loss, ${best.value!.toPrecision(4)}` +
          (ranked.length > 1 ? ` (next: ${fmt(ranked[1].lr)} at ${ranked[1].value!.toPrecision(4)})` : ''),
      );
      if (tied.length > 1) {
        why.push(
          `tied within noise (the spread of the last epochs' validation losses, at least ${MIN_TIE_TOLERANCE * 100}%): ${tied.map((c) => `${fmt(c.lr)} (${c.value!.toPrecision(4)})`).join(', ')}; the lowest, ${fmt(pick.lr)}, is the more stable choice`,
        );
      } else if (ranked.length > 1) why.push(`a clear winner: the next is ${(ranked[1].value! / best.value! - 1) * 100 > 0 ? ((ranked[1].value! / best.value! - 1) * 100).toFixed(1) : '0'}% worse, beyond the noise`);
      const lrs = evidence.candidates.map((c) => c.lr);
      const atEdge = pick.lr === Math.min(...lrs) || pick.lr === Math.max(...lrs);
      if (atEdge) why.push(`${fmt(pick.lr)} is still at the edge of the candidates: the best may lie further out`);
      clear = tied.length <= 1 && ranked.length > 1 && !atEdge && horizon.method === 'full' && evidence.complete;
      confidence = clear ? 'high' : 'medium';
    } else {
      why.push(`validation ${evidence.complete ? 'finished' : 'ran out of time'} without a complete candidate: the range test's rule stands`);
    }
  } else if (req.validate && horizon.validated_epochs < 1) {
    why.push(`one epoch of this probe is over the edge budget (${horizon.budget.gflop_per_epoch} GFLOP > ${horizon.budget.max_gflop}): nothing validated`);
  } else if (req.validate) {
    why.push('only one candidate: nothing to validate');
  }
  if (!evidence) {
    horizon.method = 'none';
    horizon.validated_epochs = 0;
  }
  if (lr === null) {
    // No usable curve and no validation: fall back to the default, said plainly.
    lr = DEFAULT_LR[optimizer];
    method = 'default';
    confidence = 'low';
    why.push(`falling back to ${optimizer}'s conventional default ${fmt(lr)}`);
  }
  if (horizon.source === 'default' && confidence === 'high') {
    confidence = 'medium';
    why.push('confidence at most medium: the training length was assumed, not given');
  }
  const trainSteps = req.training?.steps ?? req.train_steps;
  const schedule = adviseSchedule(lr, s, optimizer, trainSteps, req.schedule === 'constant' ? undefined : req.schedule);
  if (req.schedule === 'constant' && method === 'validated') schedule.reasoning.push(`the peak was validated with a constant lr; send "schedule": "${schedule.kind}" to validate it with this schedule`);
  return {
    lr,
    method,
    confidence,
    stable_range: stableRange(rt),
    schedule,
    range_test: { id: rt.id, cached: rt.cached, suggestion: s },
    horizon,
    validation: evidence,
    prior: null,
    reasoning: [...why, ...schedule.reasoning.map((r) => `schedule: ${r}`)],
  };
}

export function requireProbeOrContext(req: { probe?: unknown; context?: unknown }): void {
  if (!req.probe && !req.context) {
    throw new ProblemError(422, 'invalid-request', 'probe: send a probe (to measure) or a context (for priors)', [
      { path: 'probe', message: 'send a probe (to measure) or a context with at least the optimizer (for priors)' },
    ]);
  }
}

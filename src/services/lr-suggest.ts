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
import { DEFAULT_TRAINING_EPOCHS, MAX_TRAINING_EPOCHS, SMALL_VALIDATION_ROWS, SMALL_VALIDATION_SEEDS, StudyCreateSchema, type LrRangeTest, type LrSuggestRequest } from '../api/schemas';
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
/** A candidate whose validation loss rose above this many times the early loss blew up: it cannot win. */
const BLOW_UP_FACTOR = 3;
/** How many of the best finalists are validated again on the other seeds. */
const CONFIRMED_FINALISTS = 3;
/** The other seeds: the probe's seed plus this many times k. */
const SEED_STRIDE = 1000;

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
  /** Its validation loss blew up during the run (above 3x the early loss): it cannot win, whatever it ended at. */
  unstable: boolean;
  /** Finalists validated on several seeds: each seed's final validation loss (null: that run failed). */
  seeds: { seed: number; value: number | null }[] | null;
  /** What it is ranked by: the mean over `seeds` when there are several, else `value`. */
  score: number | null;
  error: string | null;
}

export interface ValidationEvidence {
  study_id: string;
  /** Every study that validated candidates: the first round, then the extension past an edge. */
  study_ids: string[];
  epochs: number;
  schedule: string;
  /** The seeds the finalists were validated on (the probe's first). */
  seeds: number[];
  candidates: CandidateEvidence[];
  /** Epochs trained over every candidate, round and seed: the compute this answer cost. */
  candidate_epochs: number;
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

interface Round {
  studyId: string;
  complete: boolean;
  trials: TrialView[];
}

/** Train one edge study over `space` for the validated epochs (with the request's schedule); wait for it (up to the deadline). */
async function trainRound(
  env: Env,
  projectId: string,
  req: LrSuggestRequest,
  rt: LrRangeTest,
  h: Horizon,
  round: { label: string; space: Record<string, unknown>; trials: number; pruner: Record<string, unknown> },
): Promise<Round> {
  const epochs = h.validated_epochs;
  const body = StudyCreateSchema.parse({
    name: `lr-suggest ${rt.id}${round.label ? ` (${round.label})` : ''}`,
    metric: 'val_loss',
    space: round.space,
    sampler: { name: 'grid', seed: 0 },
    pruner: round.pruner,
    max_trials: round.trials,
    executor: {
      kind: 'edge',
      probe: req.probe,
      epochs,
      validation_split: req.validation.validation_split,
      parallelism: Math.min(16, round.trials),
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
  return { studyId: study.id, complete: s.state === 'completed', trials: await listTrials(env, projectId, study.id) };
}

/** Train the candidates with successive halving (ASHA, factor 2, rungs at a quarter and a half of the validated length). */
async function validateRound(env: Env, projectId: string, req: LrSuggestRequest, rt: LrRangeTest, h: Horizon, cands: Candidate[], label: string): Promise<{ round: Round; evidence: CandidateEvidence[] }> {
  const epochs = h.validated_epochs;
  const round = await trainRound(env, projectId, req, rt, h, {
    label,
    space: { lr: { type: 'categorical', choices: cands.map((c) => c.lr) } },
    trials: cands.length,
    // Rungs at a quarter and a half of the validated length: earlier rungs would judge by the short run again.
    pruner: { name: 'asha', min_resource: Math.max(1, Math.floor(epochs / 4)), reduction_factor: 2, max_resource: epochs },
  });
  return {
    round,
    evidence: cands.map((c) => {
      const t = round.trials.find((x) => x.params.lr === c.lr);
      const values = (t?.intermediate ?? []).map((p) => p.value);
      // A pruned candidate's evidence is its last validation loss.
      const value = t?.value ?? values[values.length - 1] ?? null;
      return { lr: c.lr, sources: c.sources, state: t?.state ?? 'waiting', value, epochs_run: values.length, spread: spreadOf(values), tied: false, unstable: false, seeds: null, score: value, error: t?.error ?? null, curve: values };
    }),
  };
}

type Evidence = CandidateEvidence & { curve?: number[] };

/**
 * Mark candidates whose validation loss blew up: above BLOW_UP_FACTOR times
 * the early loss (the larger of their first epoch's and the median first
 * epoch over the candidates) at any epoch. A run that swings to losses in the
 * hundreds and back can end at a tiny loss on a small split; it is not a rate
 * to train with.
 */
export function markUnstable(cands: Evidence[]): void {
  const firsts = cands.map((c) => c.curve?.[0]).filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (firsts.length === 0) return;
  const median = firsts[Math.floor((firsts.length - 1) / 2)];
  for (const c of cands) {
    const curve = c.curve ?? [];
    if (curve.length < 2) continue;
    const early = Math.max(curve[0], median);
    if (Math.max(...curve) > BLOW_UP_FACTOR * early) c.unstable = true;
  }
}

/**
 * The finalists (complete, stable candidates) best first by `score`, and the
 * ties: those whose score is within the sum of the two spreads (at least 1%
 * of the best) of the best's, the candidate's spread counted at most as the
 * best's: a candidate whose last epochs swing wildly (diverging) is unstable,
 * not tied. Marks `tied` on the evidence.
 */
export function rankWithTies(cands: CandidateEvidence[]): { ranked: CandidateEvidence[]; tied: CandidateEvidence[]; tolerance: (c: CandidateEvidence) => number } {
  const scoreOf = (c: CandidateEvidence) => (c.score === undefined ? c.value : c.score);
  const ranked = cands
    .filter((c) => c.state === 'complete' && !c.unstable && scoreOf(c) !== null && Number.isFinite(scoreOf(c)))
    .sort((a, b) => (scoreOf(a) as number) - (scoreOf(b) as number));
  for (const c of cands) c.tied = false;
  if (ranked.length === 0) return { ranked, tied: [], tolerance: () => 0 };
  const best = ranked[0];
  const tolerance = (c: CandidateEvidence) => Math.max((best.spread ?? 0) + Math.min(c.spread ?? 0, best.spread ?? 0), MIN_TIE_TOLERANCE * Math.abs(scoreOf(best) as number));
  const tied = ranked.filter((c) => (scoreOf(c) as number) - (scoreOf(best) as number) <= tolerance(c));
  if (tied.length > 1) for (const c of tied) c.tied = true;
  return { ranked, tied, tolerance };
}

/** The seeds to validate the finalists on: the probe's, then seed + 1000k (seed - 1000k past the int range). */
export function validationSeeds(probeSeed: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => {
    const up = probeSeed + SEED_STRIDE * k;
    return up <= 2 ** 31 - 1 ? up : probeSeed - SEED_STRIDE * k;
  });
}

async function validate(env: Env, projectId: string, req: LrSuggestRequest, rt: LrRangeTest, h: Horizon, cands: Candidate[], seedCount: number, why: string[]): Promise<ValidationEvidence> {
  const first = await validateRound(env, projectId, req, rt, h, cands, '');
  const seeds = validationSeeds(req.probe!.seed, seedCount);
  let evidence: Evidence[] = first.evidence;
  const studyIds = [first.round.studyId];
  let complete = first.round.complete;
  markUnstable(evidence);
  // A best at the edge of the set: the answer may lie past it.
  const lrs = cands.map((c) => c.lr);
  const best = rankWithTies(evidence).ranked[0];
  if (best && complete && (best.lr === Math.min(...lrs) || best.lr === Math.max(...lrs))) {
    const dir = best.lr === Math.min(...lrs) ? -1 : 1;
    const more = [0.5, 1].map((d) => ({ lr: Number((best.lr * Math.pow(10, dir * d)).toPrecision(3)), sources: ['extension'] }));
    why.push(`the best, ${fmt(best.lr)}, is the ${dir < 0 ? 'lowest' : 'highest'} candidate: validating ${more.map((c) => fmt(c.lr)).join(' and ')} past that edge`);
    const ext = await validateRound(env, projectId, req, rt, h, more, 'extension');
    studyIds.push(ext.round.studyId);
    evidence = [...evidence, ...ext.evidence].sort((a, b) => a.lr - b.lr);
    complete = complete && ext.round.complete;
    markUnstable(evidence);
  }
  const unstable = evidence.filter((c) => c.unstable && c.state === 'complete');
  if (unstable.length > 0) {
    why.push(`unstable, so not eligible: ${unstable.map((c) => `${fmt(c.lr)} (its validation loss rose to ${Math.max(...(c.curve ?? [NaN])).toPrecision(3)} before ending at ${c.value?.toPrecision(3)})`).join(', ')}`);
  }
  // Several seeds: the best finalists again on other splits and initialisations, ranked by their mean.
  const finalists = rankWithTies(evidence).ranked.slice(0, CONFIRMED_FINALISTS);
  let extraEpochs = 0;
  if (seeds.length > 1 && finalists.length >= 2 && complete) {
    const others = seeds.slice(1);
    const conf = await trainRound(env, projectId, req, rt, h, {
      label: 'seeds',
      space: { lr: { type: 'categorical', choices: finalists.map((c) => c.lr) }, seed: { type: 'categorical', choices: others } },
      trials: finalists.length * others.length,
      pruner: { name: 'none' },
    });
    studyIds.push(conf.studyId);
    complete = complete && conf.complete;
    extraEpochs = conf.trials.reduce((a, t) => a + t.intermediate.length, 0);
    for (const c of finalists) {
      const runs = others.map((seed) => {
        const t = conf.trials.find((x) => x.params.lr === c.lr && x.params.seed === seed);
        const curve = (t?.intermediate ?? []).map((p) => p.value);
        const blewUp = curve.length > 1 && Math.max(...curve) > BLOW_UP_FACTOR * Math.max(curve[0], (c as Evidence).curve?.[0] ?? curve[0]);
        return { seed, value: t?.state === 'complete' && !blewUp ? (t.value ?? null) : null };
      });
      c.seeds = [{ seed: seeds[0], value: c.value }, ...runs];
      const values = c.seeds.map((x) => x.value);
      if (values.some((v) => v === null || !Number.isFinite(v))) {
        c.unstable = true;
        c.score = null;
        continue;
      }
      const v = values as number[];
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
      c.score = mean;
      // The noise of a mean over the seeds.
      c.spread = sd / Math.sqrt(v.length);
    }
    // Ranked among the finalists only: one split's loss does not compare with a mean over several.
    for (const c of evidence) if (!finalists.includes(c)) c.score = null;
    why.push(
      `validated the ${finalists.length} best again on seeds ${others.join(', ')} (other validation splits and initialisations; ${seedCount} seeds in all): ` +
        finalists.map((c) => `${fmt(c.lr)} ${c.score === null ? 'failed or blew up on one of them' : `mean ${c.score.toPrecision(4)}`}`).join(', '),
    );
  }
  const candidates: CandidateEvidence[] = evidence.map(({ curve: _curve, ...c }) => c);
  return {
    study_id: studyIds[0],
    study_ids: studyIds,
    epochs: h.validated_epochs,
    schedule: h.schedule,
    seeds: finalists.length >= 2 && seeds.length > 1 ? seeds : seeds.slice(0, 1),
    candidates,
    candidate_epochs: candidates.reduce((a, c) => a + c.epochs_run, 0) + extraEpochs,
    complete,
  };
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
  const validationRows = Math.max(1, Math.min(ds.n - 1, Math.round(ds.n * req.validation.validation_split)));
  const seedCount = req.validation.seeds ?? (validationRows < SMALL_VALIDATION_ROWS ? SMALL_VALIDATION_SEEDS : 1);
  if (validating) {
    const v = horizon.validated_epochs;
    if (horizon.method === 'full') why.push(`validated at the horizon: the finalists trained all ${v} epochs with the ${horizon.schedule} schedule`);
    else {
      const cause = req.validation.epochs !== undefined && req.validation.epochs < Math.min(horizon.epochs, horizon.budget.affordable_epochs) ? `validation.epochs asks for ${req.validation.epochs}` : `the horizon is over what one edge trial may train`;
      why.push(
        `extrapolated: ${cause}, so the finalists trained ${v} of ${horizon.epochs} epochs with the ${horizon.schedule} schedule compressed to that length; shorter runs favour higher learning rates, so ties go to the lower one`,
      );
    }
    if (seedCount > 1 && req.validation.seeds === undefined) {
      why.push(`the validation split has ${validationRows} rows (< ${SMALL_VALIDATION_ROWS}): one split is too noisy to rank on, so the best finalists are validated on ${seedCount} seeds`);
    }
    evidence = await validate(env, projectId, req, rt, horizon, cands, seedCount, why);
    const { ranked, tied } = rankWithTies(evidence.candidates);
    if (ranked.length > 0) {
      const best = ranked[0];
      const pick = tied.reduce((a, b) => (b.lr < a.lr ? b : a), best);
      lr = pick.lr;
      method = 'validated';
      why.push(
        `validated ${cands.length} candidates (${cands.map((c) => `${fmt(c.lr)} [${c.sources.join(', ')}]`).join('; ')}) with successive halving (reduction factor 2, rungs at ${Math.max(1, Math.floor(v / 4))} and ${2 * Math.max(1, Math.floor(v / 4))} epochs): ` +
          `${fmt(best.lr)} [${best.sources.join(', ')}] reached the lowest validation loss, ${best.score!.toPrecision(4)}${best.seeds ? ' (mean over the seeds)' : ''}` +
          (ranked.length > 1 ? ` (next: ${fmt(ranked[1].lr)} at ${ranked[1].score!.toPrecision(4)})` : ''),
      );
      if (tied.length > 1) {
        why.push(
          `tied within noise (${best.seeds ? "the standard error of the seeds' mean" : "the spread of the last epochs' validation losses"}, at least ${MIN_TIE_TOLERANCE * 100}%): ${tied.map((c) => `${fmt(c.lr)} (${c.score!.toPrecision(4)})`).join(', ')}; the lowest, ${fmt(pick.lr)}, is the more stable choice`,
        );
      } else if (ranked.length > 1) why.push(`a clear winner: the next is ${(ranked[1].score! / best.score! - 1) * 100 > 0 ? ((ranked[1].score! / best.score! - 1) * 100).toFixed(1) : '0'}% worse, beyond the noise`);
      const lrs = evidence.candidates.map((c) => c.lr);
      const atEdge = pick.lr === Math.min(...lrs) || pick.lr === Math.max(...lrs);
      if (atEdge) why.push(`${fmt(pick.lr)} is still at the edge of the candidates: the best may lie further out`);
      clear = tied.length <= 1 && ranked.length > 1 && !atEdge && horizon.method === 'full' && evidence.complete;
      confidence = clear ? 'high' : 'medium';
    } else {
      // No stable candidate finished: the best of those that got furthest, said plainly.
      const stable = evidence.candidates.filter((c) => !c.unstable && c.state !== 'failed' && c.value !== null && Number.isFinite(c.value) && c.epochs_run > 0);
      const far = Math.max(0, ...stable.map((c) => c.epochs_run));
      const pick = stable.filter((c) => c.epochs_run === far).sort((a, b) => (a.value as number) - (b.value as number))[0];
      if (pick) {
        lr = pick.lr;
        method = 'validated';
        confidence = 'low';
        why.push(
          `validation ${evidence.complete ? 'finished' : 'ran out of time'} without a stable candidate that trained to the end: ${fmt(pick.lr)} had the lowest validation loss (${pick.value!.toPrecision(4)}) of those that got furthest (${far} of ${v} epochs)`,
        );
      } else why.push(`validation ${evidence.complete ? 'finished' : 'ran out of time'} without a usable candidate: the range test's rule stands`);
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

/**
 * POST /v1/lr/suggest: a learning rate worth using, validated at the length
 * of the real training run.
 *
 * By default, the budgeted search of tuning/lr/ (ladder.ts, plan.ts): runs with
 * the schedule compressed into a fraction of the horizon, level by level, then
 * the horizon as the budget allows, as the trials of one study whose
 * coordinator enqueues each level (coordinator/lr-round.ts): edge trials with a
 * probe (startEdgeLadder), the caller's loop or runners with a range test or a
 * curve (startLadder). A budget that buys no run answers the range test's rule.
 *
 * The older rounds, when the request sets `validation.seeds` (or, with a probe,
 * `validation.epochs`), follow.
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
 * On your hardware (executor client or runner, with a stored range test or a
 * posted curve): candidates log-spaced over the three decades below the
 * stable limit (a caller's run is longer than its sweep, so where the sweep
 * first moved is no floor), plus the rules and the default, become the trials
 * of one study that the caller's loop (ask and tell) or runners (stride agent)
 * train for the whole horizon, without pruning (measured: rungs dropped the
 * slow-starting low rates that win at the horizon), on `validation.seeds`
 * seeds each (params.seed, which the caller's code seeds its model, data
 * order and split with); its coordinator adds the two points past an edge to
 * that study when the first round ends there (StudyConfig.lr_extension). The
 * answer is read from the study's trials at GET /v1/lr/suggest/{id}. Both
 * ways share the judging: the evidence from the trials, grouped by lr over
 * the seeds, and the ranking (tuning/lr/validation.ts), the answer from the
 * evidence (judge).
 *
 * Without a probe: the priors of tuning/lr/priors.ts from the context,
 * refined by the project's completed studies that declared the same context
 * in `metadata.context`.
 */
import { DomainError } from '../contract/errors';
import {
  CurveRangeSchema,
  DEFAULT_TRAINING_EPOCHS,
  LrRangeTestCurveRequestSchema,
  MAX_TRAINING_EPOCHS,
  SMALL_VALIDATION_ROWS,
  SMALL_VALIDATION_SEEDS,
  StudyCreateSchema,
  type LrRangeTest,
  type LrSuggestExternalRequest,
  type LrSuggestRequest,
} from '../contract/schemas';
import type {
  ExternalHorizon,
  Horizon,
  LrSuggestion,
  LrSuggestionStart,
  ScheduleAdvice,
  ValidationEvidence,
} from '../contract/lr-suggestion';
import type { StudyView, TrialView } from '../contract/study';

export type { ExternalHorizon, Horizon, LrSuggestion, ValidationEvidence };
import { findRangeTestById } from '../db/lr-range-tests';
import { findLrEvidence } from '../db/studies';
import { adviseSchedule } from '../probe/schedule-advice';
import {
  DEFAULT_LR,
  suggestFromPriors,
  type ModelFamily,
  type Optimizer,
} from '../tuning/lr/priors';
import {
  blewUp,
  curvesBySeed,
  earlyLoss,
  MIN_TIE_TOLERANCE,
  evidenceFromTrials,
  extensionPast,
  markUnstable,
  rankWithTies,
  type Evidence,
  type LrCandidate,
} from '../tuning/lr/validation';
import { loadDataset, type Dataset } from '../probe/data';
import type { ProbeSpec } from '../probe/lr-range-test';
import { edgeTrialFlops, heldOutRows } from '../probe/trial';
import { lrRangeTest } from './lr-range-tests';
import { readConfig } from '../lib/config';
import { MAX_EDGE_EPOCHS, type Limits } from '../contract/limits';
import { createStudy, getStudy, listTrials, run } from './studies';
import type { LadderConfig } from '../contract/lr-suggestion';
import {
  budgetOf,
  computeOf,
  firstLevel,
  ladderConfig,
  ladderSpace,
  ladderVerdict,
  noSpan,
  planReason,
  rangeTestRuns,
} from '../tuning/lr/plan';
import { spentRuns } from '../tuning/lr/ladder';
import { zeroComputeLr } from '../tuning/lr/rule';
import { fmt } from '../lib/format';
import { meanWithError } from '../lib/stats';

export { markUnstable, rankWithTies, type CandidateEvidence } from '../tuning/lr/validation';

/** How long one suggestion may wait for its validation trials (each round). */
const VALIDATION_DEADLINE_MS = 60_000;
/** How many of the best finalists are validated again on the other seeds. */
const CONFIRMED_FINALISTS = 3;
/** The other seeds: the probe's seed plus this many times k. */
const SEED_STRIDE = 1000;

type Candidate = LrCandidate;

const decades = (a: number, b: number) => Math.abs(Math.log10(a / b));

/** The range test's rules and the optimizer's default, each with its source, in the order candidates take them. */
function ruleLrs(rt: LrRangeTest, optimizer: Optimizer): [string, number | null][] {
  const s = rt.suggestion;
  return [
    [`suggestion (${s.method})`, s.lr],
    ['default', DEFAULT_LR[optimizer]],
    ['min_over_10', s.candidates.min_over_10],
    ['valley', s.candidates.valley],
    ['steepest', s.candidates.steepest],
    ['minimum', s.candidates.minimum],
  ];
}

/**
 * Candidates that can contain the answer: the curve's rules (at most
 * max_stable_lr) and the optimizer's default, merged when within 0.1 decades,
 * then log-spaced points from max(max_stable_lr / 1000, where the loss first
 * moves) up to max_stable_lr, skipping those near a rule, until there are at
 * least min(6, max) and at most `max`. Sorted by lr.
 */
export function pickCandidates(rt: LrRangeTest, optimizer: Optimizer, max: number): Candidate[] {
  const s = rt.suggestion;
  const ordered = ruleLrs(rt, optimizer);
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
    const order = [
      points - 1,
      0,
      ...Array.from({ length: Math.max(0, points - 2) }, (_, k) => k + 1),
    ];
    for (const i of order) {
      if (out.length >= max) break;
      const lr =
        i === points - 1
          ? hi
          : Math.min(hi, Number((lo * Math.pow(10, (span * i) / (points - 1))).toPrecision(3)));
      if (out.some((c) => decades(c.lr, lr) < gap)) continue;
      out.push({ lr, sources: ['log-spaced'] });
    }
    if (out.length >= want || out.length >= max) break;
  }
  return out.sort((a, b) => a.lr - b.lr);
}

/**
 * The candidates a caller's run validates (executor client or runner): `max` points evenly
 * log-spaced over the three decades below max_stable_lr (the last finite lr of the curve without
 * one), the range test's rules and the optimizer's default (those in that range) each in place of
 * the free point nearest it (within a spacing; its sources say which). Unlike pickCandidates (the edge's), the range is
 * not floored where the sweep's loss first moved and the rules do not crowd out the low end: a
 * caller's run is thousands of steps against its sweep's hundred, and on the bench's real-data
 * tasks in PyTorch the best lr lay 0.5-1 decade below every rule on half of them (breast cancer:
 * rules at 1.9e-3 to 3.4e-3, best 4e-4). Falls back to pickCandidates without a stable range.
 */
export function spreadCandidates(rt: LrRangeTest, optimizer: Optimizer, max: number): Candidate[] {
  const s = rt.suggestion;
  const lastLr = [...rt.curve].reverse().find((p) => p.smoothed_loss !== null)?.lr ?? null;
  const hi = s.max_stable_lr ?? lastLr;
  if (hi === null || !(hi > 0) || max < 2) return pickCandidates(rt, optimizer, max);
  const spacing = SPREAD_DECADES / (max - 1);
  const points: Candidate[] = Array.from({ length: max }, (_, i) => ({
    lr: Number((hi * Math.pow(10, -SPREAD_DECADES + i * spacing)).toPrecision(3)),
    sources: [],
  }));
  const rules = ruleLrs(rt, optimizer);
  const taken = new Set<number>();
  for (const [source, lr] of rules) {
    if (
      lr === null ||
      !(lr > 0) ||
      !Number.isFinite(lr) ||
      lr > hi * 1.0001 ||
      lr < points[0].lr / 1.0001
    )
      continue;
    // A rule within 0.1 decades of one already placed shares its point; else it takes the nearest
    // free point within a spacing (two rules near one point: the second moves to a neighbour).
    const same = [...taken].find((k) => decades(points[k].lr, lr) < 0.1);
    if (same !== undefined) {
      points[same].sources.push(source);
      continue;
    }
    // The two ends keep the range covered: a rule takes one only when within half a spacing of it.
    const inner = (i: number) => i > 0 && i < points.length - 1;
    const free = points
      .map((_, i) => i)
      .filter(
        (i) => !taken.has(i) && decades(points[i].lr, lr) <= (inner(i) ? spacing : spacing / 2),
      );
    if (free.length === 0) continue;
    const k = free.reduce((a, b) =>
      decades(points[b].lr, lr) < decades(points[a].lr, lr) ? b : a,
    );
    taken.add(k);
    points[k] = { lr, sources: [source] };
  }
  for (const p of points) if (p.sources.length === 0) p.sources.push('log-spaced');
  return points.sort((a, b) => a.lr - b.lr);
}

/** How many decades below max_stable_lr a caller's candidates start. */
const SPREAD_DECADES = 3;

/** From the first lr where the smoothed loss is 2% below its start, to max_stable_lr. */
function stableRange(rt: LrRangeTest): { min: number | null; max: number | null } {
  const pts = rt.curve.filter((p) => p.smoothed_loss !== null);
  const start = pts[0]?.smoothed_loss ?? null;
  const first =
    start === null ? undefined : pts.find((p) => (p.smoothed_loss as number) <= start * 0.98);
  return { min: first?.lr ?? null, max: rt.suggestion.max_stable_lr };
}

/** The horizon of the request, with the steps converted to epochs of the probe's training split. */
export function resolveHorizon(
  req: LrSuggestRequest,
  ds: Dataset,
  probe: ProbeSpec,
  limits: Limits,
): Horizon {
  if (req.train_steps !== undefined && req.training !== undefined) {
    throw new DomainError(
      'invalid',
      'train_steps: it is an alias of training.steps; send one of them',
      {
        issues: [
          {
            path: 'train_steps',
            message: 'train_steps is an alias of training.steps: send training alone',
          },
        ],
      },
    );
  }
  const split = req.validation.validation_split;
  const spe = Math.ceil(heldOutRows(ds, split).train / probe.batch_size);
  const steps = req.training?.steps ?? req.train_steps;
  let epochs: number;
  let source: Horizon['source'];
  if (req.training?.epochs !== undefined)
    [epochs, source] = [req.training.epochs, 'training.epochs'];
  else if (steps !== undefined) {
    epochs = Math.max(1, Math.round(steps / spe));
    source = req.training ? 'training.steps' : 'train_steps';
    if (epochs > MAX_TRAINING_EPOCHS) {
      const path = source;
      throw new DomainError(
        'invalid',
        `${path}: ${steps} steps are ${epochs} epochs of this probe, over the maximum of ${MAX_TRAINING_EPOCHS}`,
        {
          issues: [
            {
              path,
              message: `${steps} steps are ${epochs} epochs of this probe (${spe} steps per epoch), over the maximum of ${MAX_TRAINING_EPOCHS}`,
            },
          ],
        },
      );
    }
  } else [epochs, source] = [DEFAULT_TRAINING_EPOCHS, 'default'];
  const perEpoch = edgeTrialFlops(ds, probe, { lr: 1, epochs: 1, validation_split: split }) / 1e9;
  const affordable = Math.min(MAX_EDGE_EPOCHS, Math.floor(limits.maxGflop / perEpoch));
  const validated = Math.max(0, Math.min(epochs, affordable, req.validation.epochs ?? epochs));
  return {
    executor: 'edge',
    unit: 'epochs',
    epochs,
    ...(steps !== undefined ? { steps } : {}),
    steps_per_epoch: spe,
    source,
    validated_epochs: validated,
    method: validated >= epochs ? 'full' : 'extrapolated',
    schedule: req.schedule,
    budget: {
      max_gflop: limits.maxGflop,
      gflop_per_epoch: Number(perEpoch.toPrecision(3)),
      affordable_epochs: affordable,
    },
  };
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
  round: {
    label: string;
    space: Record<string, unknown>;
    trials: number;
    pruner: Record<string, unknown>;
  },
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
    metadata: {
      kind: 'lr-suggest',
      range_test_id: rt.id,
      horizon_epochs: h.epochs,
      validated_epochs: epochs,
      schedule: h.schedule,
    },
  });
  const study = await createEdgeStudy(env, projectId, body);
  await run(env, projectId, study.id);
  const t0 = Date.now();
  let s: StudyView = study;
  while (s.state !== 'completed' && Date.now() - t0 < VALIDATION_DEADLINE_MS) {
    await new Promise((r) => setTimeout(r, 100));
    s = await getStudy(env, projectId, study.id);
  }
  return {
    studyId: study.id,
    complete: s.state === 'completed',
    trials: await listTrials(env, projectId, study.id),
  };
}

/**
 * The pruner of a validation round of `length` epochs (or steps): ASHA with reduction factor 2
 * and rungs at a quarter and a half of it (earlier rungs would judge by the short run again);
 * none when the round is too short for a rung below its end.
 */
function validationPruner(length: number): Record<string, unknown> {
  const first = Math.max(1, Math.floor(length / 4));
  return length > first
    ? { name: 'asha', min_resource: first, reduction_factor: 2, max_resource: length }
    : { name: 'none' };
}

/** The rungs of validationPruner(length), below its end. */
function validationRungs(length: number): number[] {
  const first = Math.max(1, Math.floor(length / 4));
  return [first, 2 * first].filter((r) => r < length);
}

/** Train the candidates with successive halving (ASHA, factor 2, rungs at a quarter and a half of the validated length). */
async function validateRound(
  env: Env,
  projectId: string,
  req: LrSuggestRequest,
  rt: LrRangeTest,
  h: Horizon,
  cands: Candidate[],
  label: string,
): Promise<{ round: Round; evidence: Evidence[] }> {
  const round = await trainRound(env, projectId, req, rt, h, {
    label,
    space: { lr: { type: 'categorical', choices: cands.map((c) => c.lr) } },
    trials: cands.length,
    pruner: validationPruner(h.validated_epochs),
  });
  return { round, evidence: evidenceFromTrials(cands, round.trials) };
}

/** The seeds to validate the finalists on: the probe's, then seed + 1000k (seed - 1000k past the int range). */
export function validationSeeds(probeSeed: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => {
    const up = probeSeed + SEED_STRIDE * k;
    return up <= 2 ** 31 - 1 ? up : probeSeed - SEED_STRIDE * k;
  });
}

/** Validation evidence with each candidate's curve (ValidationEvidence once the curves are dropped). */
type ValidationRun = Omit<ValidationEvidence, 'candidates'> & { candidates: Evidence[] };

/** The evidence as answered: without the curves. */
function publicValidation(v: ValidationRun): ValidationEvidence {
  return { ...v, candidates: v.candidates.map(({ curve: _curve, last_step: _last, ...c }) => c) };
}

/** The reasoning line of an extension past an edge. */
function extensionReason(edge: number, dir: -1 | 1, lrs: number[]): string {
  return `the best, ${fmt(edge)}, is the ${dir < 0 ? 'lowest' : 'highest'} candidate: validating ${lrs.map(fmt).join(' and ')} past that edge`;
}

/** The reasoning line of the candidates that blew up, if any. */
function unstableReason(evidence: Evidence[]): string[] {
  const unstable = evidence.filter((c) => c.unstable && c.state === 'complete');
  if (unstable.length === 0) return [];
  // The highest loss over every seed's run: the blow-up may be on any of them.
  const peak = (c: Evidence) =>
    [...curvesBySeed(c).values()].flat().reduce((a, b) => (b > a ? b : a), -Infinity);
  return [
    `unstable, so not eligible: ${unstable.map((c) => `${fmt(c.lr)} (its validation loss rose to ${peak(c).toPrecision(3)} before ending at ${c.value?.toPrecision(3)})`).join(', ')}`,
  ];
}

async function validate(
  env: Env,
  projectId: string,
  req: LrSuggestRequest,
  rt: LrRangeTest,
  h: Horizon,
  cands: Candidate[],
  seedCount: number,
  why: string[],
): Promise<ValidationRun> {
  const first = await validateRound(env, projectId, req, rt, h, cands, '');
  const seeds = validationSeeds(req.probe!.seed, seedCount);
  let evidence: Evidence[] = first.evidence;
  const studyIds = [first.round.studyId];
  let complete = first.round.complete;
  // A best at the edge of the set: the answer may lie past it.
  const ext = complete
    ? extensionPast(
        evidence,
        cands.map((c) => c.lr),
      )
    : (markUnstable(evidence), null);
  if (ext) {
    why.push(extensionReason(ext.edge, ext.dir, ext.lrs));
    const more = await validateRound(
      env,
      projectId,
      req,
      rt,
      h,
      ext.lrs.map((lr) => ({ lr, sources: ['extension'] })),
      'extension',
    );
    studyIds.push(more.round.studyId);
    evidence = [...evidence, ...more.evidence].sort((a, b) => a.lr - b.lr);
    complete = complete && more.round.complete;
    markUnstable(evidence);
  }
  why.push(...unstableReason(evidence));
  // Several seeds: the best finalists again on other splits and initialisations, ranked by their mean.
  const finalists = rankWithTies(evidence).ranked.slice(0, CONFIRMED_FINALISTS);
  const early = earlyLoss(evidence);
  let extraEpochs = 0;
  if (seeds.length > 1 && finalists.length >= 2 && complete) {
    const others = seeds.slice(1);
    const conf = await trainRound(env, projectId, req, rt, h, {
      label: 'seeds',
      space: {
        lr: { type: 'categorical', choices: finalists.map((c) => c.lr) },
        seed: { type: 'categorical', choices: others },
      },
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
        return {
          seed,
          value: t?.state === 'complete' && !blewUp(curve, early) ? (t.value ?? null) : null,
        };
      });
      c.seeds = [{ seed: seeds[0], value: c.value }, ...runs];
      const values = c.seeds.map((x) => x.value);
      if (values.some((v) => v === null || !Number.isFinite(v))) {
        c.unstable = true;
        c.score = null;
        continue;
      }
      const { mean, stderr } = meanWithError(values as number[]);
      c.score = mean;
      // The noise of a mean over the seeds.
      c.spread = stderr;
    }
    // Ranked among the finalists only: one split's loss does not compare with a mean over several.
    for (const c of evidence) if (!finalists.includes(c)) c.score = null;
    why.push(
      `validated the ${finalists.length} best again on seeds ${others.join(', ')} (other validation splits and initialisations; ${seedCount} seeds in all): ` +
        finalists
          .map(
            (c) =>
              `${fmt(c.lr)} ${c.score === null ? 'failed or blew up on one of them' : `mean ${c.score.toPrecision(4)}`}`,
          )
          .join(', '),
    );
  }
  return {
    study_id: studyIds[0],
    study_ids: studyIds,
    epochs: h.validated_epochs,
    schedule: h.schedule,
    seeds: finalists.length >= 2 && seeds.length > 1 ? seeds : seeds.slice(0, 1),
    candidates: evidence,
    candidate_epochs: evidence.reduce((a, c) => a + c.epochs_run, 0) + extraEpochs,
    complete,
  };
}

/** Every candidate with two or more finished seeds ended at exactly the same loss on all of them (and there is at least one such). */
function seedsIgnored(evidence: readonly Evidence[]): boolean {
  const seeded = evidence
    .map((c) => (c.seeds ?? []).map((x) => x.value).filter((v): v is number => v !== null))
    .filter((v) => v.length >= 2);
  return seeded.length > 0 && seeded.every((v) => v.every((x) => x === v[0]));
}

/** What a validation's evidence answers: the lr, and how sure. */
interface Verdict {
  lr: number;
  confidence: 'low' | 'medium' | 'high';
}

/**
 * The answer from a validation's evidence, for the edge's rounds and for those a client or
 * runners train alike: the finalists (complete, stable) ranked with their ties (rankWithTies), and
 * the lowest lr among those tied with the best; `high` confidence only for a clear winner inside
 * the candidates, validated at the full horizon (`full`), every candidate done. Without a stable
 * finalist, the best of the candidates that got furthest, with `low` confidence; null when no
 * candidate is usable. Says why on `why`.
 */
function judge(
  v: ValidationRun,
  o: {
    first: Candidate[];
    rungs: number[];
    unit: 'epochs' | 'steps';
    length: number;
    full: boolean;
    allSeeded?: boolean;
  },
  why: string[],
): Verdict | null {
  const { ranked, tied } = rankWithTies(v.candidates);
  const halving =
    o.rungs.length > 0
      ? `with successive halving (reduction factor 2, rungs at ${o.rungs.join(' and ')} ${o.unit})`
      : `without pruning (${o.length} ${o.unit} leave no room for a rung)`;
  if (ranked.length > 0) {
    const best = ranked[0];
    // Every candidate trained on the same several seeds (a caller's seeded round): each mean is an
    // estimate of the held-out loss as good as a grid's on those seeds, so the best mean is the
    // answer and a tie only lowers the confidence. Measured on the bench's real-data tasks in
    // PyTorch, the lowest tied lr lost 6% on both diabetes tasks (a flat optimum, 3x lower rates
    // tied) and gained nowhere. One seed, or seeds for the finalists only (the edge): the lowest
    // tied lr, the more stable choice.
    const pick = o.allSeeded ? best : tied.reduce((a, b) => (b.lr < a.lr ? b : a), best);
    why.push(
      `validated ${o.first.length} candidates (${o.first.map((c) => `${fmt(c.lr)} [${c.sources.join(', ')}]`).join('; ')}) ${halving}: ` +
        `${fmt(best.lr)} [${best.sources.join(', ')}] reached the lowest validation loss, ${best.score!.toPrecision(4)}${best.seeds ? ' (mean over the seeds)' : ''}` +
        (ranked.length > 1
          ? ` (next: ${fmt(ranked[1].lr)} at ${ranked[1].score!.toPrecision(4)})`
          : ''),
    );
    if (tied.length > 1) {
      why.push(
        `tied within noise (${best.seeds ? 'the standard error of their per-seed differences from the best' : "the spread of the last epochs' validation losses"}, at least ${MIN_TIE_TOLERANCE * 100}%): ${tied.map((c) => `${fmt(c.lr)} (${c.score!.toPrecision(4)})`).join(', ')}; ${o.allSeeded ? `every candidate trained on the same seeds: the best mean, ${fmt(pick.lr)}, stands (at medium confidence)` : `the lowest, ${fmt(pick.lr)}, is the more stable choice`}`,
      );
    } else if (ranked.length > 1)
      why.push(
        `a clear winner: the next is ${(ranked[1].score! / best.score! - 1) * 100 > 0 ? ((ranked[1].score! / best.score! - 1) * 100).toFixed(1) : '0'}% worse, beyond the noise`,
      );
    const lrs = v.candidates.map((c) => c.lr);
    const atEdge = pick.lr === Math.min(...lrs) || pick.lr === Math.max(...lrs);
    if (atEdge)
      why.push(
        `${fmt(pick.lr)} is still at the edge of the candidates: the best may lie further out`,
      );
    const clear = tied.length <= 1 && ranked.length > 1 && !atEdge && o.full && v.complete;
    return { lr: pick.lr, confidence: clear ? 'high' : 'medium' };
  }
  // No stable candidate finished: the best of those that got furthest, said plainly.
  const progress = (c: Evidence) => c.last_step ?? c.epochs_run;
  const stable = v.candidates.filter(
    (c) =>
      !c.unstable &&
      c.state !== 'failed' &&
      c.value !== null &&
      Number.isFinite(c.value) &&
      c.epochs_run > 0,
  );
  const far = Math.max(0, ...stable.map(progress));
  const pick = stable
    .filter((c) => progress(c) === far)
    .sort((a, b) => (a.value as number) - (b.value as number))[0];
  const ended = v.complete ? 'finished' : 'ran out of time';
  if (!pick) {
    why.push(`validation ${ended} without a usable candidate: the range test's rule stands`);
    return null;
  }
  why.push(
    `validation ${ended} without a stable candidate that trained to the end: ${fmt(pick.lr)} had the lowest validation loss (${pick.value!.toPrecision(4)}) of those that got furthest (${far} of ${o.length} ${o.unit})`,
  );
  return { lr: pick.lr, confidence: 'low' };
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

/** An answer before its schedule: the lr (null: none yet), the rule or 'validated', how sure. */
interface LrPick {
  lr: number | null;
  method: string;
  confidence: Verdict['confidence'];
}

/**
 * POST /v1/lr/suggest on the edge: the probe's range test, then (with `validate`) the budgeted
 * search (startEdgeLadder), or the older rounds when validation.seeds or .epochs ask for them
 * (validateOnEdge). Without a probe, the priors of the context (suggestFromContext).
 */
export async function suggestLr(
  env: Env,
  projectId: string,
  req: LrSuggestRequest,
): Promise<LrSuggestion | LrSuggestionStart> {
  if (!req.probe) return suggestFromContext(env, projectId, req);
  const why: string[] = [];
  const probe = req.probe;
  const optimizer = probe.optimizer.name as Optimizer;
  const limits = readConfig(env).probe;
  // The request's wait (LR_SUGGEST_WAIT_MS) counts from here: the range test spends it first.
  const started = Date.now();
  const rt = await lrRangeTest(env, projectId, { probe, range: req.range });
  const ds = loadDataset(probe.data as ProbeSpec['data'], probe.task);
  const horizon = resolveHorizon(req, ds, probe as ProbeSpec, limits);
  const s = rt.suggestion;
  why.push(
    `range test ${rt.id}${rt.cached ? ' (cached)' : ''}: ${s.lr === null ? 'no rule gave an lr' : `${s.method} suggests ${fmt(s.lr)}`}, max stable lr ${s.max_stable_lr === null ? 'none found' : fmt(s.max_stable_lr)}`,
  );
  why.push(horizonReason(horizon));
  // The budgeted search, unless the request asks for the older rounds (validation.seeds or .epochs).
  if (req.validate && req.validation.seeds === undefined && req.validation.epochs === undefined)
    return startEdgeLadder(env, projectId, req, rt, optimizer, horizon, why, started);
  const cands = pickCandidates(rt, optimizer, req.validation.max_candidates);
  let pick: LrPick = { lr: s.lr, method: s.method, confidence: s.confidence };
  let evidence: ValidationEvidence | null = null;
  // No stable range (max_stable_lr null): candidates would sit below the sweep's start.
  const stable = s.max_stable_lr !== null;
  if (req.validate && stable && cands.length >= 2 && horizon.validated_epochs >= 1) {
    const edge = await validateOnEdge(env, projectId, req, rt, horizon, cands, ds, why);
    evidence = edge.evidence;
    if (edge.verdict)
      pick = { lr: edge.verdict.lr, method: 'validated', confidence: edge.verdict.confidence };
  } else if (req.validate) {
    why.push(notValidatedReason(stable, horizon));
  }
  return probeAnswer(req, rt, optimizer, horizon, pick, evidence, why);
}

/** Without a probe: the priors of tuning/lr/priors.ts for the context, refined by the project's studies of the same context. */
async function suggestFromContext(
  env: Env,
  projectId: string,
  req: LrSuggestRequest,
): Promise<LrSuggestion> {
  const ctx = req.context!;
  const evidence = await findLrEvidence(env.DB, projectId, ctx.optimizer);
  const p = suggestFromPriors(
    ctx,
    evidence.map((e) => ({
      study_id: e.studyId,
      lr: e.lr,
      batch_size: e.batchSize ?? undefined,
      model_family: (e.family ?? undefined) as ModelFamily | undefined,
      kind: e.kind,
    })),
  );
  return {
    lr: p.lr,
    method: 'prior',
    confidence: p.confidence,
    stable_range: null,
    schedule: adviseSchedule(
      p.lr,
      { max_stable_lr: null },
      ctx.optimizer,
      req.training?.steps ?? req.train_steps,
    ),
    range_test: null,
    horizon: null,
    validation: null,
    prior: { lr: p.lr, studies_used: p.studies_used, range: p.range },
    reasoning: p.reasoning,
  };
}

/**
 * The older rounds on the edge: the candidates trained to the horizon's validated length (with
 * its schedule compressed to that length when it is short of the horizon), on several seeds when
 * the validation split is small; the verdict (null when no candidate is usable) and its evidence.
 */
async function validateOnEdge(
  env: Env,
  projectId: string,
  req: LrSuggestRequest,
  rt: LrRangeTest,
  horizon: Horizon,
  cands: Candidate[],
  ds: Dataset,
  why: string[],
): Promise<{ verdict: Verdict | null; evidence: ValidationEvidence }> {
  const validationRows = heldOutRows(ds, req.validation.validation_split).val;
  const seedCount =
    req.validation.seeds ?? (validationRows < SMALL_VALIDATION_ROWS ? SMALL_VALIDATION_SEEDS : 1);
  const v = horizon.validated_epochs;
  if (horizon.method === 'full')
    why.push(
      `validated at the horizon: the finalists trained all ${v} epochs with the ${horizon.schedule} schedule`,
    );
  else {
    const cause =
      req.validation.epochs !== undefined &&
      req.validation.epochs < Math.min(horizon.epochs, horizon.budget.affordable_epochs)
        ? `validation.epochs asks for ${req.validation.epochs}`
        : `the horizon is over what one edge trial may train`;
    why.push(
      `extrapolated: ${cause}, so the finalists trained ${v} of ${horizon.epochs} epochs with the ${horizon.schedule} schedule compressed to that length; shorter runs favour higher learning rates, so ties go to the lower one`,
    );
  }
  if (seedCount > 1 && req.validation.seeds === undefined) {
    why.push(
      `the validation split has ${validationRows} rows (< ${SMALL_VALIDATION_ROWS}): one split is too noisy to rank on, so the best finalists are validated on ${seedCount} seeds`,
    );
  }
  const run = await validate(env, projectId, req, rt, horizon, cands, seedCount, why);
  const verdict = judge(
    run,
    {
      first: cands,
      rungs: validationRungs(v),
      unit: 'epochs',
      length: v,
      full: horizon.method === 'full',
    },
    why,
  );
  // After judging: the evidence shows the ties the answer was picked from.
  return { verdict, evidence: publicValidation(run) };
}

/** Why a request that asked for validation was not validated. */
function notValidatedReason(stable: boolean, horizon: Horizon): string {
  if (!stable) return `the range test found no stable learning rate: nothing to validate`;
  if (horizon.validated_epochs < 1)
    return `one epoch of this probe is over the edge budget (${horizon.budget.gflop_per_epoch} GFLOP > ${horizon.budget.max_gflop}): nothing validated`;
  return 'only one candidate: nothing to validate';
}

/**
 * The edge's answer: the pick (else the optimizer's conventional default), at most `medium` on an
 * assumed training length, with its schedule; the horizon says `none` when nothing was validated.
 */
function probeAnswer(
  req: LrSuggestRequest,
  rt: LrRangeTest,
  optimizer: Optimizer,
  horizon: Horizon,
  pick: LrPick,
  evidence: ValidationEvidence | null,
  why: string[],
): LrSuggestion {
  const s = rt.suggestion;
  let { lr, method, confidence } = pick;
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
  const schedule = adviseSchedule(
    lr,
    s,
    optimizer,
    trainSteps,
    req.schedule === 'constant' ? undefined : req.schedule,
  );
  if (req.schedule === 'constant' && method === 'validated')
    schedule.reasoning.push(
      `the peak was validated with a constant lr; send "schedule": "${schedule.kind}" to validate it with this schedule`,
    );
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
    throw new DomainError('invalid', 'probe: send a probe (to measure) or a context (for priors)', {
      issues: [
        {
          path: 'probe',
          message:
            'send a probe (to measure) or a context with at least the optimizer (for priors)',
        },
      ],
    });
  }
}

// --- validated on your hardware: a client's loop or runners train the candidates ---------------

/** What a suggestion's study keeps in its metadata: GET /v1/lr/suggest/{id} answers from it and the trials. */
interface ExternalMeta {
  kind: 'lr-suggest';
  executor: 'client' | 'runner';
  range_test_id: string;
  optimizer: Optimizer;
  /** The first round, as picked from the range test (extension points are added to the space only). */
  candidates: Candidate[];
  horizon: { unit: 'epochs' | 'steps'; length: number; source: ExternalHorizon['source'] };
  horizon_epochs?: number;
  horizon_steps?: number;
  schedule: 'constant' | 'cosine' | 'one_cycle';
  /** The seeds each candidate trains on (params.seed), when more than one. */
  seeds?: number[];
}

/** The body of POST /v1/lr/suggest with a client or runner executor (LrSuggestExternalRequest). */
export function isExternal(
  body: LrSuggestRequest | LrSuggestExternalRequest,
): body is LrSuggestExternalRequest {
  return body.executor !== undefined && body.executor.kind !== 'edge';
}

const rangeTestReason = (rt: LrRangeTest) => {
  const s = rt.suggestion;
  return `range test ${rt.id}${rt.cached ? ' (cached)' : ''}: ${s.lr === null ? 'no rule gave an lr' : `${s.method} suggests ${fmt(s.lr)}`}, max stable lr ${s.max_stable_lr === null ? 'none found' : fmt(s.max_stable_lr)}`;
};

/** The range test whose candidates to validate: stored (range_test_id, 404 naming it when unknown), or the posted curve's (analysed as POST /v1/lr-range-tests does). */
async function externalRangeTest(
  env: Env,
  projectId: string,
  req: LrSuggestExternalRequest,
): Promise<{ rt: LrRangeTest; optimizer: string | null }> {
  if (req.curve !== undefined) {
    const { curve, range, model, optimizer, batch_size } = req;
    const defined = Object.fromEntries(
      Object.entries({
        curve,
        range: range ?? CurveRangeSchema.parse({}),
        model,
        optimizer,
        batch_size,
      }).filter(([, v]) => v !== undefined),
    );
    // The same request POST /v1/lr-range-tests would parse: the same cache entry as the curve posted there.
    const rt = await lrRangeTest(env, projectId, LrRangeTestCurveRequestSchema.parse(defined));
    return { rt, optimizer: optimizer?.name ?? null };
  }
  const id = req.range_test_id!;
  const row = await findRangeTestById(env.DB, id);
  if (!row || row.projectId !== projectId) {
    throw new DomainError(
      'not_found',
      `range_test_id: no LR range test with id '${id}' in this project`,
      {
        issues: [
          {
            path: 'range_test_id',
            message: `no LR range test with id '${id}' in this project (GET /v1/lr-range-tests lists them; stride.lr_find answers the id of the one it posts)`,
          },
        ],
      },
    );
  }
  const stored = (row.request ?? {}) as {
    optimizer?: { name?: string };
    probe?: { optimizer?: { name?: string } };
  };
  return {
    rt: { ...(row.result as LrRangeTest), cached: true },
    optimizer: stored.optimizer?.name ?? stored.probe?.optimizer?.name ?? null,
  };
}

function externalHorizonReason(
  unit: 'epochs' | 'steps',
  length: number,
  source: ExternalHorizon['source'],
  who: 'client' | 'runner',
): string {
  const trainer = who === 'client' ? 'your loop' : 'your runners';
  const per =
    unit === 'epochs'
      ? 'each epoch (step = the epoch, from 1)'
      : 'as it goes (step = the optimizer step)';
  if (source === 'default') {
    return `no training length given: assuming ${length} epochs (send "training": {"epochs": N} or {"steps": N} for an answer at your run's length); ${trainer} trains each candidate for them, reporting its validation loss ${per}`;
  }
  return `training horizon ${length} ${unit}: ${trainer} trains each candidate for the whole of it, reporting its validation loss ${per}`;
}

/**
 * POST /v1/lr/suggest with executor client or runner: the budgeted search (startLadder) unless
 * the request sets validation.seeds; then the range test's candidates (spreadCandidates) become a
 * study of its own: space {lr: categorical} (and {seed: categorical}
 * with validation.seeds > 1), grid sampler, no pruner, max_trials the candidates times the
 * seeds, trained by the caller's loop (ask
 * and tell) or by runners (stride agent). When the round ends with the best at an edge, its
 * coordinator adds two trials past that edge (StudyConfig.lr_extension). The answer is at
 * GET /v1/lr/suggest/{id} (getExternalSuggestion).
 */
export async function startExternalSuggestion(
  env: Env,
  projectId: string,
  req: LrSuggestExternalRequest,
): Promise<LrSuggestionStart | (LrSuggestion & { status: 'complete' })> {
  const { rt, optimizer: known } = await externalRangeTest(env, projectId, req);
  const optimizer = externalOptimizer(req, rt, known);
  const cands = spreadCandidates(rt, optimizer, req.validation.max_candidates);
  if (cands.length < 2) {
    const field = req.curve !== undefined ? 'curve' : 'range_test_id';
    throw new DomainError(
      'invalid',
      `${field}: range test ${rt.id} gives ${cands.length} candidate: nothing to validate`,
      {
        issues: [
          {
            path: field,
            message: `range test ${rt.id} gives no stable range (${rt.suggestion.reasons.join('; ')}): only ${cands.map((c) => fmt(c.lr)).join(', ') || 'no lr'} to try, nothing to compare it with; sweep over a wider range of learning rates`,
          },
        ],
      },
    );
  }
  const unit: 'epochs' | 'steps' = req.training?.steps !== undefined ? 'steps' : 'epochs';
  const length = req.training?.epochs ?? req.training?.steps ?? DEFAULT_TRAINING_EPOCHS;
  const source: ExternalHorizon['source'] =
    req.training?.epochs !== undefined
      ? 'training.epochs'
      : req.training?.steps !== undefined
        ? 'training.steps'
        : 'default';
  // The budgeted search unless the request asks for the grid on several seeds (validation.seeds).
  if (req.validation.seeds === undefined) {
    return startLadder(env, projectId, req, rt, optimizer, { unit, length, source });
  }
  return startGrid(env, projectId, req, rt, optimizer, cands, { unit, length, source });
}

/**
 * The optimizer whose candidates to validate: the request's, else the range test's; 422 when they
 * differ (a stored range test's curve is its optimizer's) or when neither names one.
 */
function externalOptimizer(
  req: LrSuggestExternalRequest,
  rt: LrRangeTest,
  known: string | null,
): Optimizer {
  const asked = req.optimizer?.name ?? null;
  if (req.range_test_id !== undefined && asked !== null && known !== null && asked !== known) {
    throw new DomainError(
      'invalid',
      `optimizer.name: range test ${rt.id} was measured with ${known}, not ${asked}`,
      {
        issues: [
          {
            path: 'optimizer.name',
            message: `range test ${rt.id} was measured with ${known}: its curve, and so its candidates, are ${known}'s (send "${known}", or leave optimizer out)`,
          },
        ],
      },
    );
  }
  const optimizer = (asked ?? known) as Optimizer | null;
  if (optimizer === null) {
    const what =
      req.curve !== undefined
        ? 'the curve was sent without one'
        : `range test ${rt.id} was stored without one`;
    throw new DomainError('invalid', `optimizer: required: ${what}`, {
      issues: [
        {
          path: 'optimizer',
          message: `required: ${what}, and the optimizer's conventional default lr is one of the candidates: send "optimizer": {"name": "sgd"} (or nesterov, adam, adamw, rmsprop, adagrad)`,
        },
      ],
    });
  }
  return optimizer;
}

/**
 * The grid on several seeds (validation.seeds): a study of every candidate on every seed, each
 * trained for the whole horizon; 202 with the candidates and what the client or runners do next.
 */
async function startGrid(
  env: Env,
  projectId: string,
  req: LrSuggestExternalRequest,
  rt: LrRangeTest,
  optimizer: Optimizer,
  cands: Candidate[],
  h: ExternalMeta['horizon'],
): Promise<LrSuggestionStart> {
  const { unit, length, source } = h;
  const kind = req.executor.kind;
  const meta: ExternalMeta = {
    kind: 'lr-suggest',
    executor: kind,
    range_test_id: rt.id,
    optimizer,
    candidates: cands,
    horizon: { unit, length, source },
    ...(unit === 'epochs' ? { horizon_epochs: length } : { horizon_steps: length }),
    schedule: req.schedule,
  };
  const seeds = Array.from({ length: req.validation.seeds ?? 1 }, (_, k) => k);
  if (seeds.length > 1) meta.seeds = seeds;
  // No successive halving here: measured on the bench's real-data tasks in PyTorch (bench/RESULTS.md,
  // "LR from Python"), rungs at a quarter and a half of the run dropped the low rates that win at
  // the horizon (they start slower), and the answer lost 25% at the median. Every candidate trains
  // the whole run; a diverging one ends itself (a NaN is told failed).
  const pruner = { name: 'none' };
  const space: Record<string, unknown> = {
    lr: { type: 'categorical', choices: cands.map((c) => c.lr) },
  };
  if (seeds.length > 1) space.seed = { type: 'categorical', choices: seeds };
  const trialsNeeded = cands.length * seeds.length;
  const body = StudyCreateSchema.parse({
    name: `lr-suggest ${rt.id} (${kind})`,
    metric: 'val_loss',
    space,
    sampler: { name: 'grid', seed: 0 },
    pruner,
    max_trials: trialsNeeded,
    executor: req.executor,
    metadata: meta,
  });
  const study = await createStudy(env, projectId, body, { lr_extension: { done: false, lrs: [] } });
  const poll = `/v1/lr/suggest/${study.id}`;
  return startedAnswer(study, rt, {
    candidates: cands,
    horizon: externalStartHorizon(kind, { unit, length, source }, req.schedule),
    pruner,
    seeds,
    max_trials: trialsNeeded,
    reasoning: [
      rangeTestReason(rt),
      externalHorizonReason(unit, length, source, kind),
      `${cands.length} candidates (${cands.map((c) => `${fmt(c.lr)} [${c.sources.join(', ')}]`).join('; ')}), log-spaced over the three decades below the stable limit, each trained for the whole horizon (no pruning: shorter runs favour higher rates)` +
        (seeds.length > 1
          ? ` on ${seeds.length} seeds (params.seed ${seeds.join(', ')}: ${trialsNeeded} trials), ranked by their mean`
          : '') +
        `; a best at the lowest or highest candidate adds two more past that edge to the same study`,
      `next: ${gridNextStep(kind, study.id, unit, seeds.length > 1)}; then GET ${poll}`,
    ],
  });
}

/** The horizon of a client or runner study as it starts: nothing validated yet, every candidate trains its whole run. */
function externalStartHorizon(
  kind: 'client' | 'runner',
  h: ExternalMeta['horizon'],
  schedule: ExternalMeta['schedule'],
): ExternalHorizon {
  return {
    executor: kind,
    unit: h.unit,
    epochs: h.unit === 'epochs' ? h.length : null,
    ...(h.unit === 'steps' ? { steps: h.length } : {}),
    steps_per_epoch: null,
    source: h.source,
    validated_epochs: null,
    method: 'none',
    schedule,
    budget: null,
    rungs: [],
  };
}

/** What a suggestion says while its candidates train: no lr yet, nothing to advise. */
const RUNNING = {
  status: 'running',
  lr: null,
  method: 'validating',
  confidence: 'low',
  schedule: null,
} as const;

/**
 * The 202 of POST /v1/lr/suggest: a running suggestion (lr null, nothing validated) with the
 * study of the candidates, its first round, and where to poll; `running` (the edge's answer so
 * far) replaces the evidence fields.
 */
function startedAnswer(
  study: StudyView,
  rt: LrRangeTest,
  o: Pick<LrSuggestionStart, 'candidates' | 'horizon' | 'pruner' | 'seeds' | 'max_trials'> & {
    reasoning: string[];
    budget?: { runs: number };
    running?: LrSuggestion;
  },
): LrSuggestionStart {
  const { running, ...rest } = o;
  return {
    id: study.id,
    ...RUNNING,
    stable_range: stableRange(rt),
    range_test: { id: rt.id, cached: rt.cached, suggestion: rt.suggestion },
    validation: null,
    prior: null,
    ...rest,
    ...(running
      ? { horizon: running.horizon, validation: running.validation, compute: running.compute }
      : {}),
    study_id: study.id,
    // An edge study's executor holds the probe and its data: not echoed.
    executor:
      study.executor.kind === 'edge'
        ? { kind: 'edge' }
        : (study.executor as unknown as Record<string, unknown>),
    poll: `/v1/lr/suggest/${study.id}`,
    ...(study.dispatch_secret ? { dispatch_secret: study.dispatch_secret } : {}),
  };
}

/** What the client's loop or the runners do with the grid's study. */
function gridNextStep(
  kind: 'client' | 'runner',
  studyId: string,
  unit: 'epochs' | 'steps',
  seeded: boolean,
): string {
  const seedWord = seeded ? `, seeding its model, data order and split with params.seed` : '';
  return kind === 'client'
    ? `ask a trial (POST /v1/studies/${studyId}/ask), train a fresh model at its params.lr${seedWord}, report the validation loss (POST .../report, step = the ${unit === 'epochs' ? 'epoch, from 1' : 'optimizer step'}) and tell the final validation loss; until ask answers 409 (stride.lr_suggest does all this)`
    : `runners lease the trials: STRIDE_API_KEY=<runner key> npx stride agent --study ${studyId} -- python train.py, whose script reads stride.current_trial().params["lr"]${seeded ? ' and params["seed"]' : ''} and reports its validation loss each ${unit === 'epochs' ? 'epoch' : 'step'}`;
}

/**
 * GET /v1/lr/suggest/{id}: the answer of a suggestion a client or runners validate, from its
 * study's trials: while they train, `status: "running"` with the evidence so far; once the study
 * is complete, the lr the evidence picks (judge, as on the edge), with the schedule and reasoning.
 */
export async function getExternalSuggestion(
  env: Env,
  projectId: string,
  id: string,
): Promise<LrSuggestion & { id: string; status: 'running' | 'complete' }> {
  const study = await getStudy(env, projectId, id);
  const meta = study.metadata as Partial<ExternalMeta>;
  if (meta.kind === 'lr-suggest' && (meta as Partial<LadderMeta>).ladder)
    return getLadderSuggestion(env, projectId, study, meta as unknown as LadderMeta);
  const { m, lrSpec } = externalMetaOf(study, meta, id);
  const { unit, length } = m.horizon;
  const trials = await listTrials(env, projectId, id);
  const row = await findRangeTestById(env.DB, m.range_test_id);
  const rt = row ? ({ ...(row.result as LrRangeTest), cached: true } as LrRangeTest) : null;
  const extra = lrSpec.choices.filter(
    (lr): lr is number => typeof lr === 'number' && !m.candidates.some((c) => c.lr === lr),
  );
  const all = [...m.candidates, ...extra.map((lr) => ({ lr, sources: ['extension'] }))].sort(
    (a, b) => a.lr - b.lr,
  );
  const evidence = evidenceFromTrials(all, trials);
  markUnstable(evidence);
  const complete = study.state === 'completed';
  const run: ValidationRun = {
    study_id: id,
    study_ids: [id],
    epochs: unit === 'epochs' ? length : null,
    schedule: m.schedule,
    seeds: m.seeds ?? [],
    candidates: evidence,
    candidate_epochs: evidence.reduce((a, c) => a + c.epochs_run, 0),
    complete,
  };
  const why: string[] = [
    rt ? rangeTestReason(rt) : `range test ${m.range_test_id}: no longer stored`,
    externalHorizonReason(unit, length, m.horizon.source, m.executor),
  ];
  if (extra.length > 0) {
    const lo = Math.min(...m.candidates.map((c) => c.lr));
    const hi = Math.max(...m.candidates.map((c) => c.lr));
    const dir = extra[0] < lo ? -1 : 1;
    why.push(extensionReason(dir < 0 ? lo : hi, dir, extra));
  }
  why.push(...unstableReason(evidence));
  const ranked = rankWithTies(evidence).ranked as Evidence[];
  const horizon = reportedHorizon(m, ranked, why);
  const base = {
    id,
    stable_range: rt ? stableRange(rt) : null,
    range_test: rt ? { id: rt.id, cached: true, suggestion: rt.suggestion } : null,
    horizon,
    validation: publicValidation(run),
    prior: null,
  };
  if (!complete) {
    why.push(progressReason(study, trials, ranked[0]));
    return {
      ...base,
      ...RUNNING,
      reasoning: why,
    };
  }
  const answer = externalAnswer(study, m, run, horizon, rt?.suggestion, why);
  // The evidence as judged (its ties marked by judge).
  return { ...base, validation: publicValidation(run), status: 'complete', ...answer };
}

/** The metadata of suggestion `id` (one a client or runners validate) and its lr space; 404 for any other study. */
function externalMetaOf(
  study: StudyView,
  meta: Partial<ExternalMeta>,
  id: string,
): { m: ExternalMeta; lrSpec: Extract<StudyView['space'][string], { type: 'categorical' }> } {
  const lrSpec = study.space.lr;
  if (
    meta.kind !== 'lr-suggest' ||
    (study.executor.kind !== 'client' && study.executor.kind !== 'runner') ||
    !Array.isArray(meta.candidates) ||
    !meta.horizon ||
    lrSpec?.type !== 'categorical'
  ) {
    const why =
      meta.kind === 'lr-suggest'
        ? 'it validated an edge suggestion, answered by its POST'
        : 'it is not an LR suggestion';
    throw new DomainError(
      'not_found',
      `no LR suggestion with id '${id}': study ${id} exists, but ${why}`,
    );
  }
  return { m: meta as ExternalMeta, lrSpec };
}

/**
 * The horizon as far as the finalists reported, in its unit: to the end (within one step: epochs
 * counted from 0 or 1), or short of it (extrapolated); says so on `why`.
 */
function reportedHorizon(m: ExternalMeta, ranked: Evidence[], why: string[]): ExternalHorizon {
  const { unit, length, source } = m.horizon;
  const reported = ranked
    .map((c) => c.last_step)
    .filter((x): x is number => x !== null && x !== undefined);
  const reached =
    ranked.length === 0 ? null : reported.length === 0 ? length : Math.min(length, ...reported);
  const horizon: ExternalHorizon = {
    executor: m.executor,
    unit,
    epochs: unit === 'epochs' ? length : null,
    ...(unit === 'steps' ? { steps: length, validated_steps: reached } : {}),
    steps_per_epoch: null,
    source,
    validated_epochs: unit === 'epochs' ? reached : null,
    method: reached === null ? 'none' : reached >= length - 1 ? 'full' : 'extrapolated',
    schedule: m.schedule,
    budget: null,
  };
  if (ranked.length > 0 && reported.length < ranked.length)
    why.push(
      'some finalists reported no validation loss along the way: they are ranked by the value told, without a spread (ties at 1%)',
    );
  if (horizon.method === 'extrapolated')
    why.push(
      `the finalists reported up to ${reached} of ${length} ${unit}, short of the horizon: shorter runs favour higher learning rates`,
    );
  return horizon;
}

/** While the candidates train: the trials ended, running and to start, and the best so far. */
function progressReason(
  study: StudyView,
  trials: TrialView[],
  leader: Evidence | undefined,
): string {
  const counts = (state: string) => trials.filter((t) => t.state === state).length;
  const done = counts('complete') + counts('pruned') + counts('failed');
  return (
    `validating: ${done} of ${study.max_trials} trials ended (${counts('complete')} complete, ${counts('pruned')} pruned, ${counts('failed')} failed), ${counts('running')} running, ${study.max_trials! - done - counts('running')} to start` +
    (leader ? `; the best so far is ${fmt(leader.lr)} at ${leader.value!.toPrecision(4)}` : '')
  );
}

/**
 * A complete suggestion's answer: the lr the evidence picks (judge), else the range test's rule
 * (low confidence), else the optimizer's conventional default; at most `medium` on an assumed
 * training length; with its schedule and the reasoning.
 */
function externalAnswer(
  study: StudyView,
  m: ExternalMeta,
  run: ValidationRun,
  horizon: ExternalHorizon,
  s: LrRangeTest['suggestion'] | undefined,
  why: string[],
): LrPick & { lr: number; schedule: ScheduleAdvice; reasoning: string[] } {
  const { unit, length, source } = m.horizon;
  if (m.seeds && m.seeds.length > 1)
    why.push(
      `each candidate trained on ${m.seeds.length} seeds (params.seed ${m.seeds.join(', ')}): ranked by the mean of their final validation losses, ties judged on the per-seed differences`,
    );
  if (m.seeds && m.seeds.length > 1 && seedsIgnored(run.candidates)) {
    why.push(
      `every candidate ended at exactly the same validation loss on each of its ${m.seeds.length} seeds: the training code seems not to use params.seed (trial.seed), so each run was repeated ${m.seeds.length} times for nothing; seed the initialisation, data order and split with it, or send "validation": {"seeds": 1}`,
    );
  }
  // Studies started before the client path stopped pruning ran ASHA; their rungs are said as they were.
  const rungs = study.pruner.name === 'asha' ? validationRungs(length) : [];
  const verdict = judge(
    run,
    {
      first: m.candidates,
      rungs,
      unit,
      length,
      full: horizon.method === 'full',
      allSeeded: (m.seeds?.length ?? 0) > 1,
    },
    why,
  );
  let lr: number;
  let method: string;
  let confidence: Verdict['confidence'];
  if (verdict) [lr, method, confidence] = [verdict.lr, 'validated', verdict.confidence];
  else if (s && s.lr !== null) [lr, method, confidence] = [s.lr, s.method, 'low'];
  else {
    [lr, method, confidence] = [DEFAULT_LR[m.optimizer], 'default', 'low'];
    why.push(`falling back to ${m.optimizer}'s conventional default ${fmt(lr)}`);
  }
  if (source === 'default' && confidence === 'high') {
    confidence = 'medium';
    why.push('confidence at most medium: the training length was assumed, not given');
  }
  const schedule = adviseSchedule(
    lr,
    s ?? { max_stable_lr: null },
    m.optimizer,
    unit === 'steps' ? length : undefined,
    m.schedule === 'constant' ? undefined : m.schedule,
  );
  if (m.schedule === 'constant' && method === 'validated')
    schedule.reasoning.push(
      `the peak was validated with a constant lr; train the candidates with "schedule": "${schedule.kind}" to validate it with this schedule`,
    );
  return {
    lr,
    method,
    confidence,
    schedule,
    reasoning: [...why, ...schedule.reasoning.map((r) => `schedule: ${r}`)],
  };
}

// --- the budgeted search (tuning/lr/plan.ts, tuning/lr/ladder.ts) ---------------------------

/** The ladder's settings as the suggestion's study keeps them in its metadata. */
interface LadderMeta {
  kind: 'lr-suggest';
  executor: 'client' | 'runner' | 'edge';
  /** The edge: the horizon as resolved against the probe and the edge's work limit. */
  edge_horizon?: Horizon;
  range_test_id: string;
  optimizer: Optimizer;
  horizon: { unit: 'epochs' | 'steps'; length: number; source: ExternalHorizon['source'] };
  schedule: 'constant' | 'cosine' | 'one_cycle';
  budget: { runs: number };
  range_test_runs: number;
  steps_per_epoch: number | null;
  ladder: LadderConfig;
}

/**
 * POST /v1/lr/suggest (client or runner) under a budget: a study whose coordinator enqueues the
 * ladder's levels; 202 with its first level. A budget of 0 (or one the range test already spent)
 * answers at once with the range test's rule (200).
 */
async function startLadder(
  env: Env,
  projectId: string,
  req: LrSuggestExternalRequest,
  rt: LrRangeTest,
  optimizer: Optimizer,
  h: { unit: 'epochs' | 'steps'; length: number; source: ExternalHorizon['source'] },
): Promise<LrSuggestionStart | (LrSuggestion & { status: 'complete' })> {
  const budget = budgetOf(req);
  const spe = req.steps_per_epoch ?? null;
  const horizonSteps = h.unit === 'steps' ? h.length : spe === null ? null : h.length * spe;
  const rtRuns = rangeTestRuns(rt, horizonSteps);
  const field = req.curve !== undefined ? 'curve' : 'range_test_id';
  const cfg = ladderConfig(rt, optimizer, {
    unit: h.unit,
    horizon: h.length,
    budget,
    rtRuns,
    seed: 0,
    stepsPerEpoch: h.unit === 'steps' ? 1 : spe,
  });
  if (cfg === null) throw noSpan(rt, field);
  const kind = req.executor.kind;
  const first = firstLevel(cfg);
  if (first.length === 0)
    return ruleAnswer(rt, optimizer, {
      budget,
      rtRuns,
      unit: h.unit,
      length: h.length,
      stepsPerEpoch: spe,
      trainSteps: h.unit === 'steps' ? h.length : undefined,
      schedule: req.schedule,
      horizon: null,
      assumed: h.source === 'default',
      why: [rangeTestReason(rt)],
    });
  const meta: LadderMeta = {
    kind: 'lr-suggest',
    executor: kind,
    range_test_id: rt.id,
    optimizer,
    horizon: h,
    schedule: req.schedule,
    budget: { runs: budget },
    range_test_runs: rtRuns,
    steps_per_epoch: spe,
    ladder: cfg,
  };
  const body = StudyCreateSchema.parse({
    name: `lr-suggest ${rt.id} (${kind}, budget ${budget})`,
    metric: 'val_loss',
    space: ladderSpace(cfg),
    sampler: { name: 'random', seed: 0 },
    pruner: { name: 'none' },
    max_trials: first.length,
    executor: req.executor,
    metadata: meta,
  });
  const study = await createStudy(env, projectId, body, { lr_ladder: cfg });
  const per = h.unit === 'epochs' ? 'epoch, from 1' : 'optimizer step';
  const how =
    kind === 'client'
      ? `ask a trial (POST /v1/studies/${study.id}/ask), train a fresh model at params.lr for params.${h.unit} ${h.unit} (the whole schedule compressed into that length), seeded with params.seed, report the validation loss (step = the ${per}) and tell the final one; until ask answers 409 (stride.lr_suggest does all this)`
      : `runners lease the trials: STRIDE_API_KEY=<runner key> npx stride agent --study ${study.id} -- python train.py, whose script reads stride.current_trial().params["lr"] and .horizon (params["${h.unit}"]) and reports its validation loss each ${h.unit === 'epochs' ? 'epoch' : 'step'}`;
  return ladderStarted(study, first, cfg, {
    budget,
    rt,
    horizon: externalStartHorizon(kind, h, req.schedule),
    reasoning: [
      rangeTestReason(rt),
      externalHorizonReason(h.unit, h.length, h.source, kind),
      planReason(cfg, budget, rtRuns),
      `next: ${how}; then GET /v1/lr/suggest/${study.id}`,
    ],
  });
}

/** The 202 of a budgeted search: its study, the first level's runs, the budget, where to poll. */
function ladderStarted(
  study: StudyView,
  first: { lr: number; sources: string[] }[],
  cfg: LadderConfig,
  o: {
    budget: number;
    rt: LrRangeTest;
    horizon: LrSuggestionStart['horizon'];
    reasoning: string[];
    running?: LrSuggestion;
  },
): LrSuggestionStart {
  return startedAnswer(study, o.rt, {
    candidates: first.map((r) => ({ lr: r.lr, sources: r.sources })),
    horizon: o.horizon,
    pruner: { name: 'none' },
    seeds: [cfg.seed],
    max_trials: first.length,
    budget: { runs: o.budget },
    reasoning: o.reasoning,
    ...(o.running ? { running: o.running } : {}),
  });
}

/**
 * The answer when the budget buys no training: the range test's rule (the optimizer's default
 * when it gives none), what the range test cost, and why (`reason`, else from the budget).
 */
function ruleAnswer(
  rt: LrRangeTest,
  optimizer: Optimizer,
  o: {
    budget: number;
    rtRuns: number;
    unit: 'epochs' | 'steps';
    length: number;
    stepsPerEpoch: number | null;
    trainSteps: number | undefined;
    schedule: 'constant' | 'cosine' | 'one_cycle';
    horizon: Horizon | null;
    assumed: boolean;
    why: string[];
    reason?: string;
  },
): LrSuggestion & { status: 'complete' } {
  const s = rt.suggestion;
  const consensus = zeroComputeLr(s, optimizer);
  const [lr, method, confidence] = consensus
    ? [consensus.lr, 'consensus', s.confidence]
    : s.lr !== null
      ? [s.lr, s.method as string, s.confidence]
      : [DEFAULT_LR[optimizer], 'default', 'low' as const];
  const why = [...o.why];
  why.push(
    s.max_stable_lr === null
      ? 'the range test found no stable learning rate: nothing to validate'
      : (o.reason ??
          (o.budget === 0
            ? "budget 0: the range test's rule alone, nothing trained"
            : `budget ${o.budget} full runs buys no training after the range test's ${o.rtRuns.toFixed(2)}: its rule alone`)),
  );
  if (consensus) why.push(consensus.why);
  if (s.lr === null) why.push(`falling back to ${optimizer}'s conventional default ${fmt(lr)}`);
  const schedule = adviseSchedule(
    lr,
    s,
    optimizer,
    o.trainSteps,
    o.schedule === 'constant' ? undefined : o.schedule,
  );
  return {
    status: 'complete',
    lr,
    method,
    confidence: o.assumed && confidence === 'high' ? 'medium' : confidence,
    stable_range: stableRange(rt),
    schedule,
    range_test: { id: rt.id, cached: rt.cached, suggestion: s },
    horizon: o.horizon,
    validation: null,
    prior: null,
    budget: { runs: o.budget },
    compute: computeOf(o.unit, o.length, o.rtRuns, o.stepsPerEpoch),
    reasoning: [...why, ...schedule.reasoning.map((r) => `schedule: ${r}`)],
  };
}

/** GET /v1/lr/suggest/{id} of a ladder study: running with the runs so far, or the ladder's answer. */
async function getLadderSuggestion(
  env: Env,
  projectId: string,
  study: StudyView,
  m: LadderMeta,
): Promise<LrSuggestion & { id: string; status: 'running' | 'complete' }> {
  const cfg = m.ladder;
  const trials = await listTrials(env, projectId, study.id);
  const row = await findRangeTestById(env.DB, m.range_test_id);
  const rt = row ? ({ ...(row.result as LrRangeTest), cached: true } as LrRangeTest) : null;
  const v = ladderVerdict(cfg, study, trials);
  const { unit, length, source } = m.horizon;
  const why: string[] = [
    rt ? rangeTestReason(rt) : `range test ${m.range_test_id}: no longer stored`,
    planReason(cfg, m.budget.runs, m.range_test_runs),
    ...v.why,
  ];
  const compute = computeOf(
    unit,
    length,
    m.range_test_runs + spentRuns(v.observed, cfg.horizon),
    m.steps_per_epoch,
  );
  const reached = v.answer?.length ?? null;
  const validated = reached === null ? 'none' : reached >= length ? 'full' : 'extrapolated';
  const horizon: ExternalHorizon | Horizon = m.edge_horizon
    ? { ...m.edge_horizon, validated_epochs: reached ?? 0, method: validated }
    : {
        executor: m.executor as 'client' | 'runner',
        unit,
        epochs: unit === 'epochs' ? length : null,
        ...(unit === 'steps' ? { steps: length, validated_steps: reached } : {}),
        steps_per_epoch: null,
        source,
        validated_epochs: unit === 'epochs' ? reached : null,
        method: validated,
        schedule: m.schedule,
        budget: null,
      };
  const validation: ValidationEvidence = {
    study_id: study.id,
    study_ids: [study.id],
    epochs: unit === 'epochs' ? length : null,
    schedule: m.schedule,
    seeds: [cfg.seed],
    candidates: v.candidates,
    candidate_epochs: v.candidates.reduce((a, c) => a + c.epochs_run, 0),
    complete: v.status === 'complete',
  };
  const base = {
    id: study.id,
    stable_range: rt ? stableRange(rt) : null,
    range_test: rt ? { id: rt.id, cached: true, suggestion: rt.suggestion } : null,
    horizon,
    validation,
    prior: null,
    budget: m.budget,
    compute,
  };
  if (v.status === 'running') {
    return {
      ...base,
      ...RUNNING,
      reasoning: why,
    };
  }
  const s = rt?.suggestion;
  let lr: number;
  let method: string;
  let confidence: 'low' | 'medium' | 'high';
  if (v.answer) [lr, method, confidence] = [v.answer.lr, 'validated', v.answer.confidence];
  else if (s && s.lr !== null) {
    [lr, method, confidence] = [s.lr, s.method, 'low'];
    why.push(`no run trained stably: the range test's rule stands`);
  } else {
    [lr, method, confidence] = [DEFAULT_LR[m.optimizer], 'default', 'low'];
    why.push(
      `no run trained stably and no rule gave an lr: ${m.optimizer}'s conventional default ${fmt(lr)}`,
    );
  }
  if (source === 'default' && confidence === 'high') {
    confidence = 'medium';
    why.push('confidence at most medium: the training length was assumed, not given');
  }
  const schedule = adviseSchedule(
    lr,
    s ?? { max_stable_lr: null },
    m.optimizer,
    unit === 'steps' ? length : undefined,
    m.schedule === 'constant' ? undefined : m.schedule,
  );
  why.push(
    `spent ${compute.runs} full runs of the budget's ${m.budget.runs} (range test included)`,
  );
  return {
    ...base,
    status: 'complete',
    lr,
    method,
    confidence,
    schedule,
    reasoning: [...why, ...schedule.reasoning.map((r) => `schedule: ${r}`)],
  };
}

/**
 * POST /v1/lr/suggest with a probe under a budget: the ladder's runs as edge trials of one study
 * (params lr, epochs, seed: the probe's schedule compressed into each run's epochs), its
 * coordinator enqueueing each level. Answers the suggestion (200) when the ladder ends within
 * LR_SUGGEST_WAIT_MS of `started` (before the range test, which spends the wait first), else the
 * study to poll (202, GET /v1/lr/suggest/{id}). A budget that buys no training answers the
 * zero-compute answer at once.
 */
async function startEdgeLadder(
  env: Env,
  projectId: string,
  req: LrSuggestRequest,
  rt: LrRangeTest,
  optimizer: Optimizer,
  h: Horizon,
  why: string[],
  started: number,
): Promise<LrSuggestion | LrSuggestionStart> {
  const budget = budgetOf(req);
  const rtRuns = rangeTestRuns(rt, h.epochs * h.steps_per_epoch);
  const found = ladderConfig(rt, optimizer, {
    unit: 'epochs',
    horizon: h.epochs,
    budget,
    rtRuns,
    seed: req.probe!.seed,
    stepsPerEpoch: h.steps_per_epoch,
  });
  const cfg = found && { ...found, maxLength: Math.max(1, h.budget.affordable_epochs) };
  const first = cfg && h.budget.affordable_epochs >= 1 ? firstLevel(cfg) : [];
  if (!cfg || first.length === 0 || rt.suggestion.max_stable_lr === null) {
    return ruleAnswer(rt, optimizer, {
      budget,
      rtRuns,
      unit: 'epochs',
      length: h.epochs,
      stepsPerEpoch: h.steps_per_epoch,
      trainSteps: req.training?.steps ?? req.train_steps,
      schedule: req.schedule,
      horizon: { ...h, validated_epochs: 0, method: 'none' },
      assumed: h.source === 'default',
      why,
      ...(cfg && h.budget.affordable_epochs < 1
        ? {
            reason: `one epoch of this probe is over the edge budget (${h.budget.gflop_per_epoch} GFLOP > ${h.budget.max_gflop}): nothing trained`,
          }
        : {}),
    });
  }
  const meta: LadderMeta = {
    kind: 'lr-suggest',
    executor: 'edge',
    edge_horizon: h,
    range_test_id: rt.id,
    optimizer,
    horizon: {
      unit: 'epochs',
      length: h.epochs,
      source: h.source === 'train_steps' ? 'training.steps' : h.source,
    },
    schedule: req.schedule,
    budget: { runs: budget },
    range_test_runs: rtRuns,
    steps_per_epoch: h.steps_per_epoch,
    ladder: cfg,
  };
  const body = StudyCreateSchema.parse({
    name: `lr-suggest ${rt.id} (edge, budget ${budget})`,
    metric: 'val_loss',
    space: ladderSpace(cfg),
    sampler: { name: 'random', seed: 0 },
    pruner: { name: 'none' },
    max_trials: first.length,
    executor: {
      kind: 'edge',
      probe: req.probe,
      epochs: first[0].length,
      validation_split: req.validation.validation_split,
      parallelism: 16,
      ...(h.schedule !== 'constant' ? { schedule: { kind: h.schedule } } : {}),
    },
    metadata: meta,
  });
  const study = await createEdgeStudy(env, projectId, body, { lr_ladder: cfg });
  await run(env, projectId, study.id);
  let s: StudyView = study;
  // What is left of the wait after the range test: the request as a whole answers within it.
  const deadline = started + readConfig(env).lrSuggestWaitMs;
  while (s.state !== 'completed' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    s = await getStudy(env, projectId, study.id);
  }
  const answer = await getLadderSuggestion(env, projectId, s, meta);
  if (answer.status === 'complete') return answer;
  return ladderStarted(study, first, cfg, {
    budget,
    rt,
    horizon: { ...h, validated_epochs: 0, method: 'none', rungs: [] },
    running: answer,
    reasoning: [
      ...why,
      planReason(cfg, budget, rtRuns),
      `training on the edge: GET /v1/lr/suggest/${study.id} for the answer`,
    ],
  });
}

/**
 * createStudy for lr/suggest's edge studies: a probe too large to keep with a study (413 at
 * executor.probe.data) is said at the request's field, probe.data, with what to do instead.
 */
async function createEdgeStudy(
  env: Env,
  projectId: string,
  body: Parameters<typeof createStudy>[2],
  internal: Parameters<typeof createStudy>[3] = {},
): Promise<StudyView> {
  try {
    return await createStudy(env, projectId, body, internal);
  } catch (err) {
    if (!(err instanceof DomainError) || err.kind !== 'too_large') throw err;
    const issue = err.issues?.find((i) => i.path === 'executor.probe.data');
    if (!issue) throw err;
    throw new DomainError('too_large', `probe.data: too large to train on the edge`, {
      issues: [
        {
          path: 'probe.data',
          message: `${issue.message}. The range test ran and is cached: "budget": {"runs": 0} answers its rule at once; for a validated lr on this data, post the curve with executor client (stride.lr_suggest) or runner`,
        },
      ],
    });
  }
}

/**
 * POST /v1/lr/suggest: a learning rate worth using, quickly.
 *
 * With a probe: run (or reuse from the cache) a range test, then validate:
 * the candidates the curve offers (the suggestion and the rules below
 * max_stable_lr) plus the optimizer's conventional default are trained
 * briefly with a held-out split, as an edge study of their own (one queue
 * invocation per candidate, all in parallel), where successive halving
 * (ASHA, reduction factor 2, on the per-epoch validation loss) drops the
 * worse half as they go; the best validation loss wins (`method:
 * "validated"`) and every candidate's result is the evidence. A schedule is
 * derived from the curve around the winner.
 *
 * Without a probe: the priors of tuning/lr-priors.ts from the context,
 * refined by the project's completed studies that declared the same context
 * in `metadata.context`.
 */
import { ProblemError } from '../api/problem';
import { StudyCreateSchema, type LrRangeTest, type LrSuggestRequest } from '../api/schemas';
import type { StudyView, TrialView } from '../coordinator/types';
import { findLrEvidence } from '../db/studies';
import { adviseSchedule, type ScheduleAdvice } from '../probe/schedule-advice';
import { suggestFromPriors, type LrContext, type ModelFamily, type Optimizer } from '../tuning/lr-priors';
import { lrRangeTest } from './lr-range-tests';
import { createStudy, getStudy, listTrials, run } from './studies';

/** The optimizers' conventional default learning rates (torch.optim where it has one; Keras's 0.01 for SGD). */
export const DEFAULT_LR: Record<Optimizer, number> = {
  sgd: 0.01,
  momentum: 0.01,
  nesterov: 0.01,
  adam: 1e-3,
  adamw: 1e-3,
  rmsprop: 1e-2,
  adagrad: 1e-2,
};

/** How long one suggestion may wait for its validation trials. */
const VALIDATION_DEADLINE_MS = 25_000;

interface Candidate {
  lr: number;
  sources: string[];
}

export interface ValidationEvidence {
  study_id: string;
  epochs: number;
  candidates: { lr: number; sources: string[]; state: string; value: number | null; epochs_run: number; error: string | null }[];
  complete: boolean;
}

export interface LrSuggestion {
  lr: number | null;
  method: string;
  confidence: 'low' | 'medium' | 'high';
  stable_range: { min: number | null; max: number | null } | null;
  schedule: ScheduleAdvice | null;
  range_test: { id: string; cached: boolean; suggestion: LrRangeTest['suggestion'] } | null;
  validation: ValidationEvidence | null;
  prior: { lr: number; studies_used: number; range: { min: number; max: number } } | null;
  reasoning: string[];
}

const fmt = (v: number) => (v >= 0.01 ? String(Number(v.toPrecision(3))) : v.toExponential(2));

/** Candidates from the curve and the optimizer's default, merged when within 0.1 decades, best sources first. */
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
  const out: Candidate[] = [];
  for (const [source, lr] of ordered) {
    if (lr === null || !(lr > 0) || !Number.isFinite(lr)) continue;
    // Above the stable limit a rule's lr would only diverge; the default is kept as the baseline to beat.
    if (source !== 'default' && s.max_stable_lr !== null && lr > s.max_stable_lr) continue;
    const near = out.find((c) => Math.abs(Math.log10(c.lr / lr)) < 0.1);
    if (near) near.sources.push(source);
    else if (out.length < max) out.push({ lr, sources: [source] });
  }
  return out;
}

/** From the first lr where the smoothed loss is 2% below its start, to max_stable_lr. */
export function stableRange(rt: LrRangeTest): { min: number | null; max: number | null } {
  const pts = rt.curve.filter((p) => p.smoothed_loss !== null);
  const start = pts[0]?.smoothed_loss ?? null;
  const first = start === null ? undefined : pts.find((p) => (p.smoothed_loss as number) <= start * 0.98);
  return { min: first?.lr ?? null, max: rt.suggestion.max_stable_lr };
}

async function validate(env: Env, projectId: string, req: LrSuggestRequest, rt: LrRangeTest, cands: Candidate[]): Promise<ValidationEvidence> {
  const v = req.validation;
  const body = StudyCreateSchema.parse({
    name: `lr-suggest ${rt.id}`,
    metric: 'val_loss',
    space: { lr: { type: 'categorical', choices: cands.map((c) => c.lr) } },
    sampler: { name: 'grid', seed: 0 },
    pruner: { name: 'asha', min_resource: 1, reduction_factor: 2 },
    max_trials: cands.length,
    executor: { kind: 'edge', probe: req.probe, epochs: v.epochs, validation_split: v.validation_split, parallelism: cands.length },
    metadata: { kind: 'lr-suggest', range_test_id: rt.id },
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
    study_id: study.id,
    epochs: v.epochs,
    complete: s.state === 'completed',
    candidates: cands.map((c) => {
      const t = trials.find((x) => x.params.lr === c.lr);
      return {
        lr: c.lr,
        sources: c.sources,
        state: t?.state ?? 'waiting',
        // A pruned candidate's evidence is its last validation loss.
        value: t?.value ?? t?.intermediate[t.intermediate.length - 1]?.value ?? null,
        epochs_run: t?.intermediate.length ?? 0,
        error: t?.error ?? null,
      };
    }),
  };
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
      schedule: adviseSchedule(p.lr, { max_stable_lr: null }, ctx.optimizer, req.train_steps),
      range_test: null,
      validation: null,
      prior: { lr: p.lr, studies_used: p.studies_used, range: p.range },
      reasoning: p.reasoning,
    };
  }

  const probe = req.probe;
  const optimizer = probe.optimizer.name as Optimizer;
  const rt = await lrRangeTest(env, projectId, { probe, range: req.range });
  const s = rt.suggestion;
  why.push(`range test ${rt.id}${rt.cached ? ' (cached)' : ''}: ${s.lr === null ? 'no rule gave an lr' : `${s.method} suggests ${fmt(s.lr)}`}, max stable lr ${s.max_stable_lr === null ? 'not reached' : fmt(s.max_stable_lr)}`);
  const cands = pickCandidates(rt, optimizer, req.validation.max_candidates);
  let lr = s.lr;
  let method: string = s.method;
  let confidence = s.confidence;
  let evidence: ValidationEvidence | null = null;
  if (req.validate && cands.length >= 2) {
    evidence = await validate(env, projectId, req, rt, cands);
    const ranked = evidence.candidates.filter((c) => c.state === 'complete' && c.value !== null).sort((a, b) => (a.value as number) - (b.value as number));
    if (ranked.length > 0) {
      const w = ranked[0];
      lr = w.lr;
      method = 'validated';
      why.push(
        `validated ${cands.length} candidates (${cands.map((c) => `${fmt(c.lr)} [${c.sources.join(', ')}]`).join('; ')}) for ${evidence.epochs} epochs each with successive halving: ${fmt(w.lr)} [${w.sources.join(', ')}] reached the lowest validation loss, ${w.value!.toPrecision(4)}` +
          (ranked.length > 1 ? ` (next: ${fmt(ranked[1].lr)} at ${ranked[1].value!.toPrecision(4)})` : ''),
      );
      if (confidence === 'low') confidence = 'medium';
    } else {
      why.push(`validation ${evidence.complete ? 'finished' : 'ran out of time'} without a complete candidate: the range test's rule stands`);
    }
  } else if (req.validate) {
    why.push('only one candidate below max_stable_lr: nothing to validate');
  }
  if (lr === null) {
    // No usable curve and no validation: fall back to the default, said plainly.
    lr = DEFAULT_LR[optimizer];
    method = 'default';
    confidence = 'low';
    why.push(`falling back to ${optimizer}'s conventional default ${fmt(lr)}`);
  }
  const schedule = adviseSchedule(lr, s, optimizer, req.train_steps);
  return {
    lr,
    method,
    confidence,
    stable_range: stableRange(rt),
    schedule,
    range_test: { id: rt.id, cached: rt.cached, suggestion: s },
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

/**
 * Learning-rate priors: a suggestion in microseconds from the training
 * context alone, and its refinement by the project's own evidence.
 * Pure arithmetic, documented rules:
 *
 * - Base rates at a reference batch of 256, by optimizer (the conventions of
 *   the literature and frameworks): SGD/momentum/Nesterov 0.1 for CNNs
 *   (Goyal et al. 2017, ResNet on ImageNet) and 0.05 otherwise; Adam/AdamW
 *   1e-3 (Kingma & Ba), 3e-4 for transformers (the common "Karpathy
 *   constant", with warmup); RMSprop 1e-3; Adagrad 1e-2.
 * - Batch size, above 256: SGD scales linearly (Goyal et al.: lr = base x
 *   B/256, with warmup above B = 1024); adaptive methods scale with the
 *   square root (Malladi et al. 2022, "On the SDEs and scaling rules for
 *   adaptive gradient algorithms"): lr = base x sqrt(B/256). Below 256 the
 *   base rate stands: those rules were measured scaling up, and scaled down
 *   they land far under the best rate of small-batch runs (bench/RESULTS.md,
 *   "LR cost-quality frontier", the context column).
 * - Model size, Adam/AdamW transformers (`parameters`, non-embedding): from
 *   GPT-3's smallest model up, GPT-3's table (Brown et al. 2020, table 2.1:
 *   6e-4 at 125M falling to 6e-5 at 175B, interpolated in log(parameters));
 *   below it, Kaplan et al. 2020's fit of the best lr against non-embedding
 *   parameters N, 0.003239 - 0.0001395 ln N (appendix D; 6.4e-4 at 125M, so
 *   the two meet), N from 768 (their smallest model). Both at those papers'
 *   batches (~0.5M tokens), so no batch rescaling. Other families and
 *   optimizers have no published rule by parameter count: stride's heuristic
 *   x 0.5 per decade above 1e8 parameters, said as such.
 * - Evidence, the project's own first: the best lr of each completed
 *   lr/suggest (kind 'lr-suggest': candidates validated on the project's data
 *   at its horizon) with the same optimizer and family, rescaled to the batch
 *   asked; with any, their geometric mean is the answer and the published
 *   rules are only said beside it. Without, the best `lr` of the project's
 *   completed studies that declared the context (kind 'study'), rescaled so,
 *   blended with the prior in log space with weight n / (n + 2) (two
 *   pseudo-observations for the prior). Confidence: low with no evidence,
 *   medium with 1-2 or scattered ones, high with 3+ within half a decade.
 */
import { ADAPTIVE_OPTIMIZERS, type ModelFamily, type OptimizerName } from '../../contract/names';
import type { LrContext } from '../../contract/schemas';
import { fmt } from '../../lib/format';

export type Optimizer = OptimizerName;
export type { ModelFamily };

/** A finished study's best lr and the batch size it was found at (if known). */
export interface LrEvidence {
  study_id: string;
  lr: number;
  batch_size?: number;
  model_family?: ModelFamily;
  /** 'lr-suggest': a validated lr/suggest answer (ranked first); 'study' (default): a study that declared the context. */
  kind?: 'lr-suggest' | 'study';
}

export interface PriorSuggestion {
  lr: number;
  /** A range worth searching: a decade around the suggestion, in log space. */
  range: { min: number; max: number };
  confidence: 'low' | 'medium' | 'high';
  /** How many finished studies refined it. */
  studies_used: number;
  reasoning: string[];
  /** Where the lr comes from: the project's validated answers, studies blended with the prior, or the prior alone. */
  source: 'validated' | 'studies' | 'prior';
}

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

const REFERENCE_BATCH = 256;
const ADAPTIVE: readonly Optimizer[] = ADAPTIVE_OPTIMIZERS;

/** GPT-3 table 2.1: (parameters, lr). */
const GPT3: [number, number][] = [
  [125e6, 6e-4],
  [350e6, 3e-4],
  [760e6, 2.5e-4],
  [1.3e9, 2e-4],
  [2.7e9, 1.6e-4],
  [6.7e9, 1.2e-4],
  [13e9, 1e-4],
  [175e9, 0.6e-4],
];

/** The multiplier that moves an lr found at batch `from` to batch `to`. */
export function batchScale(optimizer: Optimizer, from: number, to: number): number {
  const r = to / from;
  return ADAPTIVE.includes(optimizer) ? Math.sqrt(r) : r;
}

function baseRate(ctx: LrContext, why: string[]): number {
  const fam = ctx.model_family ?? 'other';
  switch (ctx.optimizer) {
    case 'sgd':
    case 'momentum':
    case 'nesterov':
      why.push(
        `${ctx.optimizer}: base lr ${fam === 'cnn' ? '0.1 (CNNs, Goyal et al. 2017)' : '0.05'} at batch ${REFERENCE_BATCH}`,
      );
      return fam === 'cnn' ? 0.1 : 0.05;
    case 'adam':
    case 'adamw':
      why.push(
        `${ctx.optimizer}: base lr ${fam === 'transformer' ? '3e-4 (transformers)' : '1e-3 (Kingma & Ba)'} at batch ${REFERENCE_BATCH}`,
      );
      return fam === 'transformer' ? 3e-4 : 1e-3;
    case 'rmsprop':
      why.push(`rmsprop: base lr 1e-3 at batch ${REFERENCE_BATCH}`);
      return 1e-3;
    case 'adagrad':
      why.push(`adagrad: base lr 1e-2 at batch ${REFERENCE_BATCH}`);
      return 1e-2;
  }
}

/** Kaplan et al. 2020's smallest model (non-embedding parameters): the fit's lower end. */
const KAPLAN_MIN_PARAMS = 768;

/** Kaplan et al. 2020 (appendix D): the best Adam lr of a transformer with N non-embedding parameters. */
function kaplanRate(params: number): number {
  return 0.003239 - 0.0001395 * Math.log(Math.max(KAPLAN_MIN_PARAMS, params));
}

function gpt3Rate(params: number): number {
  const pts = GPT3;
  const x = Math.log(params);
  if (x <= Math.log(pts[0][0])) return pts[0][1];
  if (x >= Math.log(pts[pts.length - 1][0])) return pts[pts.length - 1][1];
  for (let i = 1; i < pts.length; i++) {
    const [p1, l1] = pts[i];
    const [p0, l0] = pts[i - 1];
    if (x <= Math.log(p1)) {
      const t = (x - Math.log(p0)) / (Math.log(p1) - Math.log(p0));
      return Math.exp(Math.log(l0) + t * (Math.log(l1) - Math.log(l0)));
    }
  }
  return pts[pts.length - 1][1];
}

/** The prior alone, at the context's batch size. */
export function priorLr(ctx: LrContext): { lr: number; reasoning: string[] } {
  const why: string[] = [];
  let lr = baseRate(ctx, why);
  const batch = ctx.batch_size ?? REFERENCE_BATCH;
  if (
    ctx.model_family === 'transformer' &&
    ctx.parameters &&
    (ctx.optimizer === 'adam' || ctx.optimizer === 'adamw')
  ) {
    const table = ctx.parameters >= GPT3[0][0];
    lr = table ? gpt3Rate(ctx.parameters) : kaplanRate(ctx.parameters);
    why.push(
      table
        ? `transformer of ${fmt(ctx.parameters)} parameters: ${fmt(lr)} from GPT-3's table (Brown et al. 2020, table 2.1), at batch ~0.5M tokens, so no batch rescaling`
        : `transformer of ${fmt(ctx.parameters)} parameters: ${fmt(lr)} = 0.003239 - 0.0001395 ln N (Kaplan et al. 2020, appendix D, N non-embedding parameters), at batch ~0.5M tokens, so no batch rescaling`,
    );
    return { lr, reasoning: why };
  }
  if (ctx.parameters && ctx.parameters > 1e8) {
    const f = Math.pow(0.5, Math.log10(ctx.parameters / 1e8));
    lr *= f;
    why.push(
      `${fmt(ctx.parameters)} parameters: x${fmt(f)} (stride's heuristic, half per decade above 1e8: no published rule by parameter count for this family and optimizer)`,
    );
  }
  if (batch > REFERENCE_BATCH) {
    const s = batchScale(ctx.optimizer, REFERENCE_BATCH, batch);
    lr *= s;
    why.push(
      `batch ${batch}: x${fmt(s)} (${ADAPTIVE.includes(ctx.optimizer) ? 'square-root scaling for adaptive methods, Malladi et al. 2022' : 'linear scaling, Goyal et al. 2017'})`,
    );
  } else if (batch < REFERENCE_BATCH) {
    why.push(
      `batch ${batch}: not scaled down (the scaling rules were measured from batch ${REFERENCE_BATCH} up; below it they land a decade or more under the best rate of small-batch runs)`,
    );
  }
  return { lr, reasoning: why };
}

/** Geometric mean of the evidence's lrs, each rescaled to `batch`, and their spread in decades. */
function pooled(
  ctx: LrContext,
  evidence: readonly LrEvidence[],
  batch: number,
): { mean: number; sd: number } {
  const logs = evidence.map((e) =>
    Math.log(e.lr * (e.batch_size ? batchScale(ctx.optimizer, e.batch_size, batch) : 1)),
  );
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length) / Math.LN10;
  return { mean, sd };
}

/**
 * The answer from the context: the project's validated lr/suggest answers when there are any,
 * else the published rules (priorLr) blended with the project's studies of the same context, else
 * the rules alone (confidence low). The first reasoning line says which.
 */
export function suggestFromPriors(
  ctx: LrContext,
  evidence: readonly LrEvidence[],
): PriorSuggestion {
  const prior = priorLr(ctx);
  const batch = ctx.batch_size ?? REFERENCE_BATCH;
  const fam = ctx.model_family;
  const usable = evidence.filter((e) => Number.isFinite(e.lr) && e.lr > 0);
  // A validated answer is of one model: it counts for the family asked only when it is that family's.
  const validated = usable.filter(
    (e) => e.kind === 'lr-suggest' && (!fam || e.model_family === fam),
  );
  const studies = usable.filter(
    (e) => e.kind !== 'lr-suggest' && (!fam || !e.model_family || e.model_family === fam),
  );
  const what = `${ctx.optimizer}${fam ? ` (${fam})` : ''}`;
  const rules = prior.reasoning.map((r) => `published rule: ${r}`);
  if (validated.length > 0) {
    const { mean, sd } = pooled(ctx, validated, batch);
    const lr = Math.exp(mean);
    const n = validated.length;
    const half = Math.max(0.25, Math.min(1, sd + 0.25));
    return {
      lr,
      range: { min: lr / Math.pow(10, half), max: lr * Math.pow(10, half) },
      confidence: n >= 3 && sd <= 0.5 ? 'high' : 'medium',
      studies_used: n,
      source: 'validated',
      reasoning: [
        `from this project's own evidence first: ${n} validated lr/suggest answer${n === 1 ? '' : 's'} with ${what} (best lr of each, rescaled to batch ${batch}): geometric mean ${fmt(lr)}, spread ${sd.toFixed(2)} decades`,
        ...rules,
        `the published rules give ${fmt(prior.lr)}, ${Math.abs(Math.log10(lr / prior.lr)).toFixed(1)} decades from the validated answers: not used`,
      ],
    };
  }
  if (studies.length === 0) {
    return {
      lr: prior.lr,
      range: { min: prior.lr / Math.sqrt(10), max: prior.lr * Math.sqrt(10) },
      confidence: 'low',
      studies_used: 0,
      source: 'prior',
      reasoning: [
        `from published rules alone: no validated lr/suggest answer and no completed study of this project with ${what} to learn from`,
        ...rules,
      ],
    };
  }
  const { mean, sd } = pooled(ctx, studies, batch);
  const w = studies.length / (studies.length + 2);
  const lr = Math.exp(w * mean + (1 - w) * Math.log(prior.lr));
  const half = Math.max(0.25, Math.min(1, sd + 0.25));
  return {
    lr,
    range: { min: lr / Math.pow(10, half), max: lr * Math.pow(10, half) },
    confidence: studies.length >= 3 && sd <= 0.5 ? 'high' : 'medium',
    studies_used: studies.length,
    source: 'studies',
    reasoning: [
      `from published rules refined by this project's studies: no validated lr/suggest answer with ${what}`,
      ...rules,
      `${studies.length} finished stud${studies.length === 1 ? 'y' : 'ies'} of this project (best lr, rescaled to batch ${batch}): geometric mean ${fmt(Math.exp(mean))}, spread ${sd.toFixed(2)} decades; blended with the prior at weight ${w.toFixed(2)}`,
    ],
  };
}

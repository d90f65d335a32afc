/**
 * Learning-rate priors: a suggestion in microseconds from the training
 * context alone, and its refinement by a project's own finished studies.
 * Pure arithmetic, documented rules:
 *
 * - Base rates at a reference batch of 256, by optimizer (the conventions of
 *   the literature and frameworks): SGD/momentum/Nesterov 0.1 for CNNs
 *   (Goyal et al. 2017, ResNet on ImageNet) and 0.05 otherwise; Adam/AdamW
 *   1e-3 (Kingma & Ba), 3e-4 for transformers (the common "Karpathy
 *   constant", with warmup); RMSprop 1e-3; Adagrad 1e-2.
 * - Batch size: SGD scales linearly (Goyal et al.: lr = base x B/256, with
 *   warmup above B = 1024); adaptive methods scale with the square root
 *   (Malladi et al. 2022, "On the SDEs and scaling rules for adaptive
 *   gradient algorithms"): lr = base x sqrt(B/256).
 * - Model size, transformers: GPT-3's table (Brown et al. 2020, table 2.1),
 *   6e-4 at 125M parameters falling to 6e-5 at 175B, interpolated in
 *   log(parameters), replaces the base rate. Other families: x 0.5 per
 *   decade above 1e8 parameters (larger models want smaller steps).
 * - History: the geometric mean of the best `lr` of the project's finished
 *   studies with the same optimizer (and family, when given), each first
 *   rescaled to the requested batch size by the rule above, blended with the
 *   prior in log space with weight n / (n + 2) (two pseudo-observations for
 *   the prior). Confidence: low with no history, medium with 1-2 studies or
 *   scattered ones, high with 3+ studies within half a decade of each other.
 */
import { ADAPTIVE_OPTIMIZERS, type OptimizerName } from '../contract/names';

export type Optimizer = OptimizerName;
export type ModelFamily = 'mlp' | 'cnn' | 'transformer' | 'rnn' | 'other';

export interface LrContext {
  optimizer: Optimizer;
  batch_size?: number;
  model_family?: ModelFamily;
  /** Number of trainable parameters. */
  parameters?: number;
  /** Training examples. */
  dataset_size?: number;
}

/** A finished study's best lr and the batch size it was found at (if known). */
export interface LrEvidence {
  study_id: string;
  lr: number;
  batch_size?: number;
  model_family?: ModelFamily;
}

export interface PriorSuggestion {
  lr: number;
  /** A range worth searching: a decade around the suggestion, in log space. */
  range: { min: number; max: number };
  confidence: 'low' | 'medium' | 'high';
  /** How many finished studies refined it. */
  studies_used: number;
  reasoning: string[];
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

const fmt = (v: number) => (v >= 0.01 ? String(Number(v.toPrecision(3))) : v.toExponential(2));

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
    ctx.parameters >= 1e8 &&
    (ctx.optimizer === 'adam' || ctx.optimizer === 'adamw')
  ) {
    lr = gpt3Rate(ctx.parameters);
    why.push(
      `transformer of ${fmt(ctx.parameters)} parameters: ${fmt(lr)} from GPT-3's table (Brown et al. 2020), which is at batch ~0.5M tokens, so no batch rescaling`,
    );
    return { lr, reasoning: why };
  }
  if (ctx.parameters && ctx.parameters > 1e8) {
    const f = Math.pow(0.5, Math.log10(ctx.parameters / 1e8));
    lr *= f;
    why.push(`${fmt(ctx.parameters)} parameters: x${fmt(f)} (half per decade above 1e8)`);
  }
  if (batch !== REFERENCE_BATCH) {
    const s = batchScale(ctx.optimizer, REFERENCE_BATCH, batch);
    lr *= s;
    why.push(
      `batch ${batch}: x${fmt(s)} (${ADAPTIVE.includes(ctx.optimizer) ? 'square-root scaling for adaptive methods, Malladi et al. 2022' : 'linear scaling, Goyal et al. 2017'})`,
    );
  }
  return { lr, reasoning: why };
}

/** The prior, refined by finished studies with the same optimizer (and family). */
export function suggestFromPriors(
  ctx: LrContext,
  evidence: readonly LrEvidence[],
): PriorSuggestion {
  const prior = priorLr(ctx);
  const why = [...prior.reasoning];
  const batch = ctx.batch_size ?? REFERENCE_BATCH;
  const usable = evidence.filter(
    (e) =>
      Number.isFinite(e.lr) &&
      e.lr > 0 &&
      (!ctx.model_family || !e.model_family || e.model_family === ctx.model_family),
  );
  if (usable.length === 0) {
    why.push(
      'no finished studies of this project with the same optimizer to learn from: the prior alone',
    );
    return {
      lr: prior.lr,
      range: { min: prior.lr / Math.sqrt(10), max: prior.lr * Math.sqrt(10) },
      confidence: 'low',
      studies_used: 0,
      reasoning: why,
    };
  }
  const logs = usable.map((e) =>
    Math.log(e.lr * (e.batch_size ? batchScale(ctx.optimizer, e.batch_size, batch) : 1)),
  );
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length) / Math.LN10; // decades
  const w = usable.length / (usable.length + 2);
  const lr = Math.exp(w * mean + (1 - w) * Math.log(prior.lr));
  why.push(
    `${usable.length} finished stud${usable.length === 1 ? 'y' : 'ies'} of this project (best lr, rescaled to batch ${batch}): geometric mean ${fmt(Math.exp(mean))}, spread ${sd.toFixed(2)} decades; blended with the prior at weight ${w.toFixed(2)}`,
  );
  const confidence = usable.length >= 3 && sd <= 0.5 ? 'high' : 'medium';
  const half = Math.max(0.25, Math.min(1, sd + 0.25));
  return {
    lr,
    range: { min: lr / Math.pow(10, half), max: lr * Math.pow(10, half) },
    confidence,
    studies_used: usable.length,
    reasoning: why,
  };
}

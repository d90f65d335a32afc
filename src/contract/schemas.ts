/**
 * Request and response schemas of the HTTP API (API.md). The same zod schemas
 * validate requests (messages name the offending path) and produce the
 * OpenAPI document at /openapi.json.
 */
import { z } from '@hono/zod-openapi';
import { boundedJson, MAX_JSON_BYTES, MAX_JSON_DEPTH } from '../lib/json-bounds';
import { SCOPES } from './auth';
import { fmtCount } from '../lib/format';
import { closest } from '../lib/names';
import { numberOfJson } from '../lib/values';
import {
  MAX_ATTRS_BYTES,
  MAX_CLASSES,
  MAX_EDGE_EPOCHS,
  MAX_FEATURES,
  MAX_NOISE,
  MAX_PARAM_NAME,
  MAX_PRUNE_REASON,
  MAX_ROWS,
  MAX_SWEEP_STEPS,
  MIN_CLASSES,
  MIN_ROWS,
  RANGE_DEFAULTS,
  SYNTHETIC_DEFAULTS,
} from './limits';
import {
  ACTIVATIONS,
  BACKENDS,
  CONFIDENCES,
  DIRECTIONS,
  EVENT_TYPES,
  EXECUTOR_KINDS,
  LR_SCHEDULES,
  MODEL_FAMILIES,
  OPTIMIZER_NAMES,
  OPTIMIZER_SETTINGS,
  PRUNER_NAMES,
  SAMPLER_NAMES,
  LISTED_STUDY_STATES,
  STUDY_STATES,
  SUBSCRIPTION_STATES,
  SUGGEST_METHODS,
  SWEEP_MODES,
  SYNTHETIC_DATASETS,
  TASKS,
  TRIAL_STATES,
  TRIGGER_KINDS,
  UNITS,
} from './names';

const finite = () => z.number();
const positive = () => z.number().positive();

const ActivationSchema = z.enum(ACTIVATIONS);

const ModelSchema = z
  .strictObject({
    kind: z.literal('mlp').default('mlp'),
    hidden: z.array(z.int().min(1).max(4096)).max(16).default([64, 64]).openapi({
      description:
        'Widths of the hidden layers; [] is a linear (regression) or logistic (classification) model.',
    }),
    activation: ActivationSchema.default('relu'),
  })
  .openapi('Model');

const ValidationData = z
  .strictObject({
    x: z.array(z.array(finite())).min(1).openapi({
      description:
        "Held-out rows, as wide as the data's: its features in its column order (CSV: the columns other than the target).",
    }),
    y: z
      .array(z.union([finite(), z.string()]))
      .min(1)
      .openapi({
        description:
          'One per row: a class id of the data (CSV: a label of its target column) or a regression target.',
      }),
  })
  .openapi('ValidationData', {
    description:
      "Your own held-out rows: edge trials and lr/suggest validate on them instead of cutting validation_split from the data (standardised with the data's statistics; they count toward the data's size limits).",
  });
const validationField = () => ValidationData.optional();
/** The share of the probe's rows held out to validate on (edge trials, lr/suggest on the edge). */
const validationSplitField = () => z.number().min(0.05).max(0.5).default(0.2);

const SyntheticData = z.strictObject({
  kind: z.literal('synthetic'),
  name: z.enum(SYNTHETIC_DATASETS),
  n: z.int().min(MIN_ROWS).max(MAX_ROWS).default(SYNTHETIC_DEFAULTS.n),
  features: z.int().min(1).max(MAX_FEATURES).default(SYNTHETIC_DEFAULTS.features),
  classes: z
    .int()
    .min(MIN_CLASSES)
    .max(MAX_CLASSES)
    .optional()
    .openapi({ description: `Default ${SYNTHETIC_DEFAULTS.classes} (2 for moons).` }),
  noise: finite().min(0).max(MAX_NOISE).default(SYNTHETIC_DEFAULTS.noise),
  seed: z.int().default(SYNTHETIC_DEFAULTS.seed),
  validation: validationField(),
});
const InlineData = z.strictObject({
  kind: z.literal('inline'),
  x: z.array(z.array(finite())).min(2).openapi({ description: 'Rows of feature values.' }),
  y: z
    .array(finite())
    .min(2)
    .openapi({ description: 'Class ids (classification) or targets (regression), one per row.' }),
  validation: validationField(),
});
const CsvData = z.strictObject({
  kind: z.literal('csv'),
  text: z.string().min(1).openapi({ description: 'CSV text; the first line is the header.' }),
  target: z.string().min(1).openapi({ description: 'Name of the target column.' }),
  delimiter: z.string().length(1).default(','),
  validation: validationField(),
});
export const DataSchema = z
  .discriminatedUnion('kind', [SyntheticData, InlineData, CsvData])
  .openapi('Data');

const unit = () => z.number().min(0).lt(1);
export const OptimizerSchema = z
  .strictObject({
    name: z.enum(OPTIMIZER_NAMES),
    momentum: unit().optional(),
    beta1: unit().optional(),
    beta2: unit().optional(),
    alpha: unit().optional(),
    eps: positive().optional(),
    weight_decay: finite().min(0).optional(),
  })
  .superRefine((o, ctx) => {
    // Reject settings the optimizer does not have, as torch.optim does.
    const allowed = OPTIMIZER_SETTINGS;
    for (const key of ['momentum', 'beta1', 'beta2', 'alpha', 'eps', 'weight_decay'] as const) {
      if (o[key] !== undefined && !allowed[o.name].includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${o.name} has no '${key}' setting (it takes: ${allowed[o.name].join(', ')})`,
        });
      }
    }
    if (o.name === 'nesterov' && o.momentum === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['momentum'],
        message: 'nesterov needs a momentum above 0',
      });
    }
  })
  .openapi('Optimizer', { 'x-settings': OPTIMIZER_SETTINGS });

export const ProbeSchema = z
  .strictObject({
    model: ModelSchema.prefault({}),
    task: z.enum(TASKS).default('classification'),
    data: DataSchema,
    optimizer: OptimizerSchema.prefault({ name: 'sgd' }),
    batch_size: z.int().min(1).max(4096).default(64),
    seed: z
      .int()
      .min(-(2 ** 31))
      .max(2 ** 31 - 1)
      .default(0),
  })
  .openapi('Probe');

/** Fields of `range` that read a curve, whoever measured it. */
const smoothingField = () =>
  z
    .number()
    .min(0)
    .lt(1)
    .default(RANGE_DEFAULTS.smoothing)
    .openapi({ description: 'EMA factor of the smoothed loss (0 = none).' });
const divergeFactorField = () =>
  z.number().gt(1).default(RANGE_DEFAULTS.diverge_factor).openapi({
    description:
      'The sweep ends at the first point whose smoothed loss is non-finite or above diverge_factor x the best before it.',
  });

export const RangeSchema = z
  .strictObject({
    min_lr: positive().default(RANGE_DEFAULTS.min_lr),
    max_lr: positive().default(RANGE_DEFAULTS.max_lr),
    steps: z.int().min(5).max(MAX_SWEEP_STEPS).default(RANGE_DEFAULTS.steps),
    mode: z.enum(SWEEP_MODES).default(RANGE_DEFAULTS.mode),
    smoothing: smoothingField(),
    diverge_factor: divergeFactorField(),
  })
  .superRefine((r, ctx) => {
    if (r.min_lr >= r.max_lr) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_lr'],
        message: `min_lr (${r.min_lr}) must be below max_lr (${r.max_lr})`,
      });
    }
  })
  .openapi('Range');

/** A posted curve has at least this many points. */
const MIN_CURVE_POINTS = 10;
/** ... and at most this many: 100,000 points are about 4 MB of JSON, half of MAX_BODY_BYTES' default. */
const MAX_CURVE_POINTS = 100_000;

/** NaN and the infinities are not JSON: a client that sends them as strings is told what to send instead. */
const NOT_JSON_NUMBER = /^\s*[-+]?(nan|inf|infinity)\s*$/i;
const curveNumber = (instead: string) =>
  z.number({
    error: (iss) =>
      typeof iss.input === 'string' && NOT_JSON_NUMBER.test(iss.input)
        ? `'${iss.input}' is a string: NaN and Infinity are not JSON numbers; ${instead}`
        : undefined,
  });
/**
 * An objective value told: a number, or an infinite one as a string ("Infinity", "-Infinity", or
 * Python's "inf", "-inf"), since JSON has no infinite number; NaN is refused (tell the trial failed).
 */
const INFINITE_SPELLINGS = {
  Infinity: Infinity,
  '-Infinity': -Infinity,
  inf: Infinity,
  '-inf': -Infinity,
};
const toldValue = () =>
  z
    .union([
      z.number({
        error: (iss) =>
          typeof iss.input === 'string' && iss.input.toLowerCase().includes('nan')
            ? `'${iss.input}' is not a value: a NaN result is told {"state": "failed"}`
            : 'expected a number, or "Infinity" or "-Infinity" (also "inf", "-inf")',
      }),
      z
        .enum(Object.keys(INFINITE_SPELLINGS) as ['Infinity', '-Infinity', 'inf', '-inf'])
        .transform((v) => INFINITE_SPELLINGS[v]),
    ])
    .openapi({
      description:
        'A number; an infinite one as the string "Infinity" or "-Infinity" (also "inf", "-inf"): JSON has none. NaN is not a value: a diverged trial is told {"state": "failed"}.',
    });
/**
 * An objective value answered: a number, an infinite one as the string "Infinity" or "-Infinity"
 * (the Worker writes every infinite number of an answer so: app.ts). The code's type is number.
 */
const answeredValue = (description: string) =>
  z.union([z.number(), z.enum(['Infinity', '-Infinity']).transform(numberOfJson)]).openapi({
    description: `${description} An infinite value is the string "Infinity" or "-Infinity" (JSON has no infinite number).`,
  });
const points = (iss: { input?: unknown }) => (Array.isArray(iss.input) ? iss.input.length : 0);

const CurveSchema = z
  .strictObject({
    lr: z
      .array(
        curveNumber('every lr is a finite number above 0').positive('a learning rate is above 0'),
      )
      .min(MIN_CURVE_POINTS, {
        error: (iss) => `a curve needs at least ${MIN_CURVE_POINTS} points, got ${points(iss)}`,
      })
      .max(MAX_CURVE_POINTS, {
        error: (iss) => `a curve has at most ${MAX_CURVE_POINTS} points, got ${points(iss)}`,
      })
      .openapi({
        description: `The learning rate of each step of the sweep: positive, strictly increasing; ${MIN_CURVE_POINTS} to ${MAX_CURVE_POINTS} points.`,
      }),
    loss: z
      .array(curveNumber('send null for a loss that was NaN or infinite').nullable())
      .max(MAX_CURVE_POINTS, {
        error: (iss) => `a curve has at most ${MAX_CURVE_POINTS} points, got ${points(iss)}`,
      })
      .openapi({
        description:
          'The training loss measured at each lr (not smoothed), one per lr. null where it was NaN or infinite (JSON has neither): the sweep diverged there, and the rules read the points before it.',
      }),
    val_loss: z
      .array(
        curveNumber(
          'send null for a validation loss that was not measured or not finite',
        ).nullable(),
      )
      .max(MAX_CURVE_POINTS, {
        error: (iss) => `a curve has at most ${MAX_CURVE_POINTS} points, got ${points(iss)}`,
      })
      .optional()
      .openapi({
        description:
          'Optional: the loss on held-out data at each lr, one per lr; null where it was not measured (the last one measured carries forward) or after divergence. With 5 or more measured, max_stable_lr and the minimum-based rules read it: a training loss that still falls while the validation loss rises is not a stable rate.',
      }),
  })
  .superRefine((c, ctx) => {
    if (c.loss.length !== c.lr.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['loss'],
        message: `${c.loss.length} losses for ${c.lr.length} learning rates: send one loss per lr (null where it was NaN)`,
      });
    }
    if (c.val_loss !== undefined && c.val_loss.length !== c.lr.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['val_loss'],
        message: `${c.val_loss.length} validation losses for ${c.lr.length} learning rates: send one per lr (null where it was not measured)`,
      });
    }
    for (let i = 1; i < c.lr.length; i++) {
      if (!(c.lr[i] > c.lr[i - 1])) {
        ctx.addIssue({
          code: 'custom',
          path: ['lr', i],
          message: `lr ${c.lr[i]} is not above the lr before it (${c.lr[i - 1]}): the learning rates of a sweep strictly increase`,
        });
        break;
      }
    }
  })
  .openapi('Curve', {
    description:
      'A learning-rate sweep you measured: the loss at each learning rate, in the order the sweep ran.',
  });

/**
 * `range` with a posted curve. The curve's own learning rates are what is analysed: the fields that
 * describe a sweep to run (min_lr, max_lr, steps, mode) have no defaults here and, when sent, are
 * checked against the curve (a mismatch is a client sending the wrong curve, or the wrong range).
 */
export const CurveRangeSchema = z
  .strictObject({
    min_lr: positive().optional().openapi({
      description: 'The lr the sweep started from: no lr of the curve may be below it.',
    }),
    max_lr: positive().optional().openapi({
      description: 'The lr the sweep was to end at: no lr of the curve may be above it.',
    }),
    steps: z.int().min(1).max(100_000_000).optional().openapi({
      description:
        'The steps the sweep was planned for: at least the points sent. stopped_early is true when the curve diverges before the last planned step (without steps: before its last point).',
    }),
    mode: z.enum(SWEEP_MODES).optional().openapi({
      description:
        'How the sweep spaced its learning rates: the curve must be evenly spaced so (in log lr, or in lr; to 1%). The rules read log10(lr) either way.',
    }),
    smoothing: smoothingField(),
    diverge_factor: divergeFactorField(),
  })
  .superRefine((r, ctx) => {
    if (r.min_lr !== undefined && r.max_lr !== undefined && r.min_lr >= r.max_lr) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_lr'],
        message: `min_lr (${r.min_lr}) must be below max_lr (${r.max_lr})`,
      });
    }
  })
  .openapi('CurveRange', {
    description:
      'How to read a posted curve (smoothing, diverge_factor) and, optionally, the sweep it was measured with, checked against it.',
  });

const CurveModelSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'What was trained, e.g. resnet18: shown with the result.' }),
    parameters: z
      .number()
      .positive()
      .max(1e13)
      .optional()
      .openapi({ description: 'Its trainable parameters.' }),
  })
  .openapi('CurveModel', { description: 'What the curve was measured on (descriptive).' });

/** Learning rates of a posted sweep may differ from what its range says by this share (float32 clients round). */
const LR_TOLERANCE = 1e-3;

/** `range` (min_lr, max_lr, steps, mode), where sent, against the curve it describes. */
function checkCurveAgainstRange(
  req: { curve: { lr: number[] }; range: z.infer<typeof CurveRangeSchema> },
  ctx: z.RefinementCtx,
): void {
  const { lr } = req.curve;
  const { min_lr, max_lr, steps, mode } = req.range;
  const n = lr.length;
  const at = (field: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: ['range', field], message });
  const leaveOut = (field: string) =>
    `send the range the curve was measured with, or leave ${field} out (the curve's own learning rates are what is analysed)`;
  if (min_lr !== undefined && lr[0] < min_lr * (1 - LR_TOLERANCE))
    at('min_lr', `the curve starts at lr ${lr[0]}, below min_lr ${min_lr}: ${leaveOut('min_lr')}`);
  if (max_lr !== undefined && lr[n - 1] > max_lr * (1 + LR_TOLERANCE))
    at(
      'max_lr',
      `the curve reaches lr ${lr[n - 1]}, above max_lr ${max_lr}: ${leaveOut('max_lr')}`,
    );
  if (steps !== undefined && n > steps)
    at(
      'steps',
      `the curve has ${n} points, more than the sweep's ${steps} steps: ${leaveOut('steps')}`,
    );
  if (mode !== undefined && n >= 3) {
    const log = mode === 'exponential';
    const gaps = lr.slice(1).map((v, i) => (log ? Math.log(v / lr[i]) : v - lr[i]));
    const usual = [...gaps].sort((a, b) => a - b)[gaps.length >> 1];
    // 1% of the usual step, and never less than float32's rounding of the values.
    const i = gaps.findIndex(
      (g, k) => Math.abs(g - usual) > Math.max(0.01 * usual, log ? 1e-6 : 1e-6 * lr[k + 1]),
    );
    if (i >= 0) {
      at(
        'mode',
        `the curve's learning rates are not evenly spaced ${log ? 'in log(lr)' : 'in lr'}: the step from point ${i} to ${i + 1} is ${(gaps[i] / usual).toPrecision(3)}x the usual one, ` +
          `and ${log ? 'an' : 'a'} ${mode} sweep's steps are all the same (send null for a diverged loss rather than dropping its point, or leave mode out)`,
      );
    }
  }
}

const LrRangeTestProbeRequestSchema = z
  .strictObject({
    probe: ProbeSchema,
    range: RangeSchema.prefault({}),
  })
  .openapi('LrRangeTestProbeRequest', {
    description: 'stride trains the probe on the edge while the learning rate sweeps over range.',
  });

export const LrRangeTestCurveRequestSchema = z
  .strictObject({
    curve: CurveSchema,
    range: CurveRangeSchema.prefault({}),
    model: CurveModelSchema.optional(),
    optimizer: OptimizerSchema.optional().openapi({
      description:
        "The optimizer the sweep ran with: its name shapes the schedule advice (adaptive ones warm up longer) and gives the peak when the curve gives no lr (the optimizer's conventional default).",
    }),
    batch_size: z
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .openapi({ description: 'The batch size the sweep ran with (descriptive).' }),
  })
  .superRefine(checkCurveAgainstRange)
  .openapi('LrRangeTestCurveRequest', {
    description:
      'A sweep measured on your own hardware: stride analyses it as it analyses a probe’s.',
  });

const PROBE_OR_CURVE =
  'probe (a model and data: stride runs the sweep on the edge) or curve (a sweep you measured: {"lr": [...], "loss": [...]})';
const REQUEST_FIELDS = new Set([
  ...Object.keys(LrRangeTestProbeRequestSchema.shape),
  ...Object.keys(LrRangeTestCurveRequestSchema.shape),
]);

/**
 * Exactly one of probe and curve, said plainly before the union is tried (its branches would
 * only call the other one an unknown field); a typo of either is named.
 */
function probeOrCurve(body: unknown, ctx: z.RefinementCtx): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const has = (k: string) => Object.hasOwn(body, k);
  if (has('probe') && has('curve')) {
    ctx.addIssue({
      code: 'custom',
      path: ['curve'],
      message: `send either ${PROBE_OR_CURVE}, not both`,
    });
  } else if (!has('probe') && !has('curve')) {
    for (const k of Object.keys(body)) {
      const near = REQUEST_FIELDS.has(k) ? null : closest(k, ['probe', 'curve']);
      if (near)
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `unknown field '${k}': did you mean '${near}'?`,
        });
    }
    ctx.addIssue({ code: 'custom', path: [], message: `send ${PROBE_OR_CURVE}` });
  }
  return body;
}

export const LrRangeTestRequestSchema = z
  .preprocess(probeOrCurve, z.union([LrRangeTestProbeRequestSchema, LrRangeTestCurveRequestSchema]))
  .openapi('LrRangeTestRequest', {
    description:
      'Either {"probe", "range"}: stride runs the sweep on the edge; or {"curve", "range", "model", "optimizer", "batch_size"}: a sweep you measured, analysed the same way. Exactly one of probe and curve.',
  });

export type LrRangeTestRequest = z.infer<typeof LrRangeTestRequestSchema>;

/** Longest training horizon lr/suggest takes, in epochs of the probe's training split. */
export const MAX_TRAINING_EPOCHS = 10_000;
/** The horizon assumed when a request does not say (stated in the answer's reasoning). */
export const DEFAULT_TRAINING_EPOCHS = 20;
/** lr/suggest: a validation split with fewer rows than this validates the finalists on several seeds. */
export const SMALL_VALIDATION_ROWS = 100;
/** lr/suggest: how many seeds then (the probe's and two more). */
export const SMALL_VALIDATION_SEEDS = 3;

/** lr/suggest: full runs spent when the request names no budget (bench/RESULTS.md, "LR cost-quality frontier"). */
export const DEFAULT_BUDGET_RUNS = 3;
/** lr/suggest: the most full runs a budget may name. */
const MAX_BUDGET_RUNS = 50;

const BudgetSchema = z
  .strictObject({
    runs: z
      .number()
      .min(0)
      .max(MAX_BUDGET_RUNS)
      .openapi({
        description: `Compute to spend, in full training runs at your horizon (0-${MAX_BUDGET_RUNS}): every run counts its share (a run of a quarter of the horizon is 0.25), the range test's steps included. 0: the range test's rule alone.`,
      }),
  })
  .openapi('LrBudget', {
    description: `How much compute the suggestion may spend (default ${DEFAULT_BUDGET_RUNS} runs). The answer's compute says what it spent.`,
  });

const TrainingSchema = z
  .strictObject({
    epochs: z.int().min(1).max(MAX_TRAINING_EPOCHS).optional().openapi({
      description: 'Epochs of the real training run (over the probe’s training split).',
    }),
    steps: z.int().min(1).max(100_000_000).optional().openapi({
      description:
        'Optimizer steps of the real training run; converted to epochs with the probe’s training rows and batch size.',
    }),
  })
  .superRefine((t, ctx) => {
    if (t.epochs !== undefined && t.steps !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['steps'],
        message: 'send training.epochs or training.steps, not both',
      });
    if (t.epochs === undefined && t.steps === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['epochs'],
        message: 'send training.epochs or training.steps',
      });
  })
  .openapi('Training', {
    description: 'How long the real run trains: the candidates are validated at this horizon.',
  });

/** What is trained, without a probe: the priors' inputs (lr/suggest's context). */
export const LrContextSchema = z.strictObject({
  optimizer: z.enum(OPTIMIZER_NAMES),
  batch_size: z.int().min(1).max(1_000_000).optional(),
  model_family: z.enum(MODEL_FAMILIES).optional(),
  parameters: z
    .number()
    .positive()
    .max(1e13)
    .optional()
    .openapi({ description: 'Trainable parameters of the model.' }),
  dataset_size: z.int().min(1).optional().openapi({ description: 'Training examples.' }),
});
export type LrContext = z.output<typeof LrContextSchema>;

export const LrSuggestRequestSchema = z
  .strictObject({
    executor: z
      .strictObject({ kind: z.literal('edge') })
      .optional()
      .openapi({
        description:
          'Where the candidates train: the edge (the default; with a probe). For your own model, executor client or runner with range_test_id or curve (LrSuggestExternalRequest).',
      }),
    probe: ProbeSchema.optional().openapi({
      description:
        'Measure: a range test, then validation of its candidates. Without it, `context` gives priors.',
    }),
    range: RangeSchema.prefault({}),
    validate: z.boolean().default(true).openapi({
      description:
        'Train the candidates to the training horizon and pick by validation loss (with a probe).',
    }),
    training: TrainingSchema.optional().openapi({
      description: `The real run's length, {"epochs": N} or {"steps": N}. Without it ${DEFAULT_TRAINING_EPOCHS} epochs are assumed (said in the reasoning) and confidence is at most medium.`,
    }),
    schedule: z.enum(LR_SCHEDULES).default('constant').openapi({
      description:
        'The LR schedule of the real run: the candidates are validated with it, over the horizon.',
    }),
    budget: BudgetSchema.optional(),
    validation: z
      .strictObject({
        epochs: z.int().min(1).max(MAX_EDGE_EPOCHS).optional().openapi({
          description:
            'Validate for this many epochs instead of the training horizon (at most it). Shorter validation favours learning rates that win short runs: the answer says `extrapolated`.',
        }),
        max_candidates: z.int().min(2).max(10).default(8),
        validation_split: validationSplitField(),
        seeds: z
          .int()
          .min(1)
          .max(5)
          .optional()
          .openapi({
            description: `Splits and initialisations the finalists are validated on (the probe's seed and seed + 1000k). Default: ${SMALL_VALIDATION_SEEDS} when the validation split has fewer than ${SMALL_VALIDATION_ROWS} rows (one split is too noisy to rank on), else 1.`,
          }),
      })
      .prefault({}),
    train_steps: z
      .int()
      .min(1)
      .max(100_000_000)
      .optional()
      .openapi({ description: 'Alias of training.steps (kept for older clients).' }),
    context: LrContextSchema.optional().openapi({
      description:
        'Without a probe: what is trained, for the priors and the project’s studies with the same metadata.context.',
    }),
  })
  .superRefine((r, ctx) => {
    if (r.budget === undefined) return;
    const at = (message: string) => ctx.addIssue({ code: 'custom', path: ['budget'], message });
    if (r.probe === undefined)
      at(
        'a budget buys training runs of a probe: send a probe with it (without one, context answers from priors at no cost)',
      );
    else if (!r.validate)
      at(
        '"validate": false asks for the range test alone, which trains nothing: send "budget": {"runs": 0} or leave validate out',
      );
    else if (r.validation.seeds !== undefined || r.validation.epochs !== undefined)
      at(
        `the budget decides the seeds and lengths of the runs: send budget or validation.${r.validation.seeds !== undefined ? 'seeds' : 'epochs'}, not both`,
      );
  })
  .openapi('LrSuggestRequest');

export type LrSuggestRequest = z.infer<typeof LrSuggestRequestSchema>;

const nullableNumber = () => z.number().nullable();
export const SuggestionSchema = z
  .object({
    lr: nullableNumber().openapi({
      description: 'The suggested learning rate; null when the curve gives no clear answer.',
    }),
    method: z.enum(SUGGEST_METHODS),
    candidates: z.object({
      valley: nullableNumber(),
      steepest: nullableNumber(),
      minimum: nullableNumber(),
      min_over_10: nullableNumber(),
    }),
    max_stable_lr: nullableNumber(),
    confidence: z.enum(CONFIDENCES),
    reasons: z.array(z.string()),
  })
  .openapi('Suggestion');

export const ScheduleAdviceSchema = z
  .object({
    kind: z.enum(['one_cycle', 'cosine']),
    peak_lr: z.number(),
    warmup_fraction: z.number(),
    warmup_steps: z
      .int()
      .nullable()
      .openapi({ description: 'With a training length in steps: the warmup in steps.' }),
    final_lr: z.number(),
    spec: z.record(z.string(), z.unknown()).openapi({
      description: 'The same, as a probe schedule (an edge study’s executor.schedule).',
    }),
    reasoning: z.array(z.string()),
  })
  .openapi('ScheduleAdvice', {
    description:
      'A schedule read from the curve: one-cycle when there is room above the peak, else cosine with warmup.',
  });

export const LrRangeTestSchema = z
  .object({
    id: z.string(),
    cached: z.boolean(),
    suggestion: SuggestionSchema,
    curve: z
      .array(
        z.object({
          step: z.int(),
          lr: z.number(),
          loss: nullableNumber(),
          smoothed_loss: nullableNumber(),
          val_loss: nullableNumber()
            .optional()
            .openapi({ description: 'A posted curve sent with curve.val_loss: the value sent.' }),
        }),
      )
      .openapi({
        description: `The sweep, point by point. A posted curve over ${fmtCount(MAX_SWEEP_STEPS)} points shows ${fmtCount(MAX_SWEEP_STEPS)} of them (evenly spaced, with the last and the divergent one; \`step\` is the index in the curve sent).`,
      }),
    steps_run: z
      .int()
      .openapi({ description: 'Points in the sweep: the steps trained, or the points posted.' }),
    stopped_early: z
      .boolean()
      .openapi({ description: 'The sweep diverged before its planned last step.' }),
    backend: z.enum([...BACKENDS, 'client']).openapi({
      description:
        'Where the sweep ran: a TF.js backend on the edge, or client for a posted curve.',
    }),
    duration_ms: z.number(),
    created_at: z.string(),
    schedule: ScheduleAdviceSchema.nullable().optional().openapi({
      description:
        "A schedule around the suggested lr; when the curve gives none, around the optimizer's default (capped at max_stable_lr), null without an optimizer. Absent from results stored before it.",
    }),
    context: z
      .object({
        model: z
          .object({ name: z.string().optional(), parameters: z.number().optional() })
          .optional(),
        optimizer: z.record(z.string(), z.unknown()).optional(),
        batch_size: z.int().optional(),
      })
      .optional()
      .openapi({
        description: 'A posted curve: the model, optimizer and batch size sent with it.',
      }),
  })
  .openapi('LrRangeTest');

export type LrRangeTest = z.infer<typeof LrRangeTestSchema>;

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    instance: z.string().optional(),
    request_id: z.string().optional(),
  })
  .openapi('Problem');

// --- studies -----------------------------------------------------------------

const ParamValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** A client study's lease on an asked trial, when the executor does not say: 300 s, 3 attempts. */
export const CLIENT_LEASE_SECONDS = 300;
export const CLIENT_MAX_ATTEMPTS = 3;

const ClientExecutorSchema = z.strictObject({
  kind: z.literal('client'),
  lease_seconds: z.int().min(5).max(86_400).default(CLIENT_LEASE_SECONDS).openapi({
    description:
      'How long an asked trial is held without a heartbeat, report or tell (each extends it by as much again); the Python client heartbeats every third of it while the objective runs. When it expires, the trial waits to be asked again.',
  }),
  max_attempts: z.int().min(1).max(100).default(CLIENT_MAX_ATTEMPTS).openapi({
    description:
      'Leases (asks) a trial may have; when the last expires, the trial fails with the reason.',
  }),
});

const RunnerExecutorSchema = z.strictObject({
  kind: z.literal('runner'),
  max_parallel: z
    .int()
    .min(1)
    .max(10_000)
    .nullable()
    .default(null)
    .openapi({ description: 'Most trials leased at once (null: no bound).' }),
  max_attempts: z
    .int()
    .min(1)
    .max(100)
    .default(3)
    .openapi({ description: 'Leases a trial may have; when the last expires, the trial fails.' }),
  lease_seconds: z.int().min(5).max(86_400).default(120).openapi({
    description: 'Lease length; each heartbeat or report extends it by as much again.',
  }),
  dispatch_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .nullable()
    .default(null)
    .openapi({
      description:
        'POSTed a signed job notice when trials become available (stride-signature: v1=HMAC-SHA256(secret, "<stride-timestamp>.<body>")).',
    }),
});

const EdgeExecutorSchema = z.strictObject({
  kind: z.literal('edge'),
  probe: ProbeSchema.openapi({
    description:
      "API.md's probe; each trial's params are mapped onto it (docs/studies.md, edge trials).",
  }),
  lr: positive()
    .optional()
    .openapi({ description: "The learning rate when the space has no 'lr' parameter." }),
  epochs: z.int().min(1).max(MAX_EDGE_EPOCHS).default(5),
  validation_split: validationSplitField(),
  parallelism: z.int().min(1).max(16).default(4),
  max_attempts: z.int().min(1).max(10).default(2),
  lease_seconds: z.int().min(10).max(3600).default(300),
  schedule: boundedJson(z.record(z.string(), z.unknown())).optional().openapi({
    description:
      'LR schedule of every trial: {"kind": "constant"|"step"|"exponential"|"cosine"|"one_cycle", ...}.',
  }),
  warmup: z
    .strictObject({ steps: z.int().min(0), start_factor: z.number().gt(0).max(1).optional() })
    .optional(),
});

export const ExecutorSchema = z
  .discriminatedUnion('kind', [ClientExecutorSchema, RunnerExecutorSchema, EdgeExecutorSchema])
  .openapi('Executor', {
    description:
      'Who runs the trials: the caller (client), leasing runners (runner), or the edge (edge).',
  });

/** The most objectives a study takes (`directions`). */
const MAX_OBJECTIVES = 8;
/** The most constraint values one tell takes. */
const MAX_CONSTRAINTS = 16;

const DirectionSchema = z.enum(DIRECTIONS);
const MetricName = () => z.string().min(1).max(200);

export const StudyCreateSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    direction: DirectionSchema.optional().openapi({
      description: 'minimize (default) or maximize: the one objective. Not with directions.',
    }),
    metric: MetricName()
      .optional()
      .openapi({ description: "The name of the objective (default 'value'). Not with metrics." }),
    directions: z
      .array(DirectionSchema)
      .min(1)
      .max(MAX_OBJECTIVES)
      .optional()
      .openapi({
        description: `Several objectives (2-${MAX_OBJECTIVES}; one entry is a single-objective study): one direction each. Trials are told {"values": [...]}, one per direction; the study answers best_trials, the Pareto front. Not with direction.`,
      }),
    metrics: z.array(MetricName()).min(1).max(MAX_OBJECTIVES).optional().openapi({
      description:
        'The names of the objectives, one per direction (default objective_0, objective_1, ...). Not with metric.',
    }),
    space: boundedJson(z.record(z.string(), z.unknown())).default({}).openapi({
      description:
        'Parameter name -> {"type": "float"|"int"|"categorical", ...}; see API.md. Empty or partial (the default: {}): the parameters a trial asks for (POST /v1/studies/{id}/trials/{number}/params) join it at first use.',
    }),
    sampler: boundedJson(
      z.looseObject({
        name: z.enum(SAMPLER_NAMES).default('auto'),
        seed: z
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .optional(),
      }),
    ).prefault({}),
    pruner: boundedJson(z.looseObject({ name: z.enum(PRUNER_NAMES).default('none') })).prefault({}),
    max_trials: z.int().min(1).max(100_000).nullable().default(null),
    executor: ExecutorSchema.prefault({ kind: 'client' }),
    metadata: boundedJson(z.record(z.string(), z.unknown()))
      .default({})
      .openapi({ description: 'Free-form JSON, at most 32 levels deep and 64 KB.' }),
  })
  .superRefine((s, ctx) => {
    const at = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (s.directions !== undefined && s.direction !== undefined)
      at('direction', 'send direction (one objective) or directions (one per objective), not both');
    if (s.metrics !== undefined && s.metric !== undefined)
      at('metric', 'send metric (one objective) or metrics (one per objective), not both');
    const n = s.directions?.length ?? 1;
    if (s.metrics !== undefined && s.metrics.length !== n) {
      at(
        'metrics',
        `${s.metrics.length} metric${s.metrics.length === 1 ? '' : 's'} for ${n} direction${n === 1 ? '' : 's'}: send one metric per direction${s.directions === undefined ? ' (with several metrics, send directions too)' : ''}`,
      );
    }
    if (s.metrics !== undefined) {
      const dup = s.metrics.find((m, i) => s.metrics!.indexOf(m) !== i);
      if (dup !== undefined)
        at('metrics', `'${dup}' is named twice: each objective needs its own name`);
    }
  })
  .openapi('StudyCreate');

export type StudyCreate = z.infer<typeof StudyCreateSchema>;

/** An attribute's value: any JSON (typed without `unknown`, which the Durable Object's RPC types refuse). */
export type AttrValue = string | number | boolean | null | object;
const AttrValueSchema = z.unknown() as unknown as z.ZodType<AttrValue>;
const AttrsField = (description: string) =>
  z.record(z.string(), AttrValueSchema).openapi({ description });

export const TrialSchema = z
  .object({
    study_id: z.string(),
    number: z.int(),
    params: z.record(z.string(), ParamValueSchema),
    state: z.enum(TRIAL_STATES),
    value: answeredValue(
      'The value of a complete trial of a single-objective study; null otherwise (and always null with several objectives: see values).',
    ).nullable(),
    values: z.array(answeredValue('One objective value.')).nullable().openapi({
      description:
        "A complete trial's objective values, one per direction (single-objective studies: [value]); null otherwise.",
    }),
    constraints: z.array(z.number()).nullable().openapi({
      description:
        'The constraint values told with the result (feasible when every one is <= 0); null when none were told.',
    }),
    sampler: z.string().nullable().openapi({
      description:
        "The sampler that proposed the params (with auto, the one it delegated to: qmc, gp, tpe, ...); null for params that were given (enqueued trials, an lr round's candidates).",
    }),
    intermediate: z.array(z.object({ step: z.int(), value: z.number() })),
    error: z.string().nullable(),
    attempts: z.int().openapi({
      description:
        'Leases granted so far: asks of a client study, leases of a runner or edge study (a trial asked again after its lease expired is on attempt 2).',
    }),
    runner: z
      .string()
      .nullable()
      .openapi({ description: 'The runner holding (or that last held) the lease.' }),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    lease_expires_at: z.string().nullable().openapi({
      description:
        'When the lease of a running trial runs out unless a heartbeat or report extends it (the trial then waits for its next attempt, or fails after max_attempts); null when no lease is out.',
    }),
    heartbeats: z.int().openapi({
      description:
        'Heartbeats received (POST /v1/studies/{id}/trials/{number}/heartbeat), over all its attempts. A report extends the lease too and is not counted here.',
    }),
    last_heartbeat_at: z
      .string()
      .nullable()
      .openapi({ description: 'When the latest heartbeat came; null before any.' }),
    pruned_at_step: z.number().nullable().openapi({
      description:
        'The step at which the pruner first answered should_prune (the trial may have gone on regardless), or, for a trial told pruned without that, its last reported step (null when it reported none); null otherwise.',
    }),
    prune_reason: z
      .string()
      .nullable()
      .openapi({
        description: `Why, in words: the pruner's name and the trial's value at that step, or that the caller told it pruned (at most ${MAX_PRUNE_REASON} characters); null when pruned_at_step is.`,
      }),
    user_attrs: AttrsField('The trial’s user attributes (Optuna’s trial.user_attrs).'),
    system_attrs: AttrsField(
      'The trial’s system attributes (what Optuna’s samplers and storages keep on a trial).',
    ),
  })
  .openapi('Trial');

const StudyStorageSchema = z
  .object({
    d1: z.enum(['ok', 'behind', 'parked']).openapi({
      description:
        'ok: D1 has all of the study; behind: writes wait or are retried; parked: some were parked after repeated failures (POST /v1/studies/{id}/storage/retry).',
    }),
    pending: z
      .int()
      .openapi({ description: 'Writes waiting (the study row, trials, event batches).' }),
    parked: z.array(
      z.object({
        kind: z.enum(['trial', 'event']),
        ref: z.int(),
        reason: z.string(),
        attempts: z.int(),
        at: z.string(),
      }),
    ),
    reason: z.string().nullable().openapi({ description: 'The latest write failure, if any.' }),
    next_attempt_at: z.string().nullable(),
  })
  .openapi('StudyStorage', {
    description:
      "Where the durable copy (D1, which lists studies) stands against the study's live state.",
  });

export const StudySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    direction: z
      .enum(['minimize', 'maximize'])
      .openapi({ description: 'The (first) objective’s direction.' }),
    metric: z.string().openapi({ description: 'The (first) objective’s name.' }),
    directions: z.array(z.enum(DIRECTIONS)).openapi({
      description: 'One direction per objective (a single-objective study: [direction]).',
    }),
    metrics: z
      .array(z.string())
      .openapi({ description: 'One name per objective (a single-objective study: [metric]).' }),
    space: z.record(z.string(), z.unknown()),
    sampler: z.record(z.string(), z.unknown()),
    pruner: z.record(z.string(), z.unknown()),
    executor: z.record(z.string(), z.unknown()),
    max_trials: z.int().nullable(),
    state: z.enum(LISTED_STUDY_STATES).openapi({
      description:
        "running or completed. unavailable: only in a listing, for a study whose live state (its Durable Object) is gone: what D1's copy holds (config, n_trials), without trials; storage.reason says so, and GET /v1/studies/{id} answers 404.",
    }),
    n_trials: z.int(),
    // A union, not .nullable(): that would make the Trial component itself nullable in the document.
    // The best feasible complete trial of a single-objective study (ties: the first); null before
    // one, and always null with several objectives (see best_trials).
    best_trial: z.union([TrialSchema, z.null()]),
    best_trials: z.array(TrialSchema).openapi({
      description:
        'The Pareto front of the feasible complete trials (feasible: no constraints told, or every one <= 0), by number: those no other feasible trial is at least as good as on every objective and better on one. One objective: [best_trial], or [].',
    }),
    created_at: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    user_attrs: AttrsField('The study’s user attributes (Optuna’s study.user_attrs).'),
    system_attrs: AttrsField('The study’s system attributes (what Optuna keeps on a study).'),
    dispatch: z
      .object({
        pending: z.boolean(),
        next_attempt_at: z.string().nullable(),
        last: z
          .object({ at: z.string(), attempt: z.int(), ok: z.boolean(), detail: z.string() })
          .nullable(),
      })
      .optional()
      .openapi({ description: 'Runner studies with a dispatch_url: the job notices.' }),
    dispatch_secret: z.string().optional().openapi({
      description:
        'Only in the answer to the creation of a study with a dispatch_url: the HMAC key of its job notices. Store it; it is not shown again.',
    }),
    storage: StudyStorageSchema,
  })
  .openapi('Study');

/** What GET /v1/studies/{id}/importance answers: each parameter's share of one objective's variance. */
export const ImportanceSchema = z.object({
  method: z.string(),
  objective: z
    .object({ index: z.int(), metric: z.string() })
    .openapi({ description: 'The objective explained.' }),
  n_trials: z.int(),
  min_trials: z
    .int()
    .openapi({ description: 'The complete trials the figures need to mean anything.' }),
  meaningful: z.boolean().openapi({
    description: 'n_trials >= min_trials; below it, treat the figures as noise.',
  }),
  params: z.array(z.object({ name: z.string(), importance: z.number(), eta_squared: z.number() })),
});

/** The longest note on a study or a trial, in characters. */
const MAX_NOTE_CHARS = 20_000;

/** PUT /v1/studies/{id}/note and /v1/studies/{id}/trials/{number}/note: the note's new text. */
export const NotePutSchema = z
  .strictObject({
    note: z
      .string()
      .max(MAX_NOTE_CHARS)
      .openapi({
        description: `Markdown, at most ${MAX_NOTE_CHARS} characters (an empty string clears the note). The dashboard renders headings, lists, emphasis, code and http(s)/mailto links; HTML in it is shown as text.`,
      }),
  })
  .openapi('NotePut');

export const NoteSchema = z
  .object({
    study_id: z.string(),
    trial: z
      .int()
      .nullable()
      .openapi({ description: "The trial's number; null for the study's own note." }),
    note: z.string().openapi({ description: 'Markdown, as written.' }),
    updated_at: z.string(),
  })
  .openapi('Note');

/** GET /v1/studies/{id}/notes: the study's note and its trials' notes. */
export const NotesSchema = z
  .object({
    // A union, not .nullable(): that would make the Note component itself nullable in the document.
    study: z.union([NoteSchema, z.null()]),
    trials: z.array(NoteSchema).openapi({ description: 'The trials that have a note, by number.' }),
  })
  .openapi('Notes');

/** The most full curves GET /v1/studies/{id}/summary answers (`curves`). */
const MAX_SUMMARY_CURVES = 1000;

export const SummaryQuerySchema = z.strictObject({
  curves: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,5})$/, 'expected a decimal integer')
    .transform(Number)
    .pipe(z.int().min(0).max(MAX_SUMMARY_CURVES))
    .optional()
    .openapi({
      description: `How many trials' full curves to answer (0-${MAX_SUMMARY_CURVES}, default 200): the running ones, then the best complete ones, then the latest others.`,
    }),
  trial: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,6})$/, 'expected a decimal integer')
    .transform(Number)
    .optional()
    .openapi({ description: 'A trial whose full curve is answered whatever `curves` picks.' }),
});

const StepValueSchema = z.object({ step: z.int(), value: z.number() });

/** GET /v1/studies/{id}/summary: what the dashboard draws, without every report of every trial. */
export const StudySummarySchema = z
  .object({
    trials: z
      .array(
        TrialSchema.omit({ intermediate: true }).extend({
          steps: z.int().openapi({ description: 'How many intermediate values it reported.' }),
          last: z.union([StepValueSchema, z.null()]).openapi({
            description: 'Its report of the highest step; null before any.',
          }),
        }),
      )
      .openapi({
        description:
          'Every trial as in GET /v1/studies/{id}/trials, by number, without its intermediate values.',
      }),
    median: z.array(StepValueSchema).openapi({
      description: 'At each step, the median of the complete and pruned trials’ reports there.',
    }),
    curves: z.array(z.object({ number: z.int(), intermediate: z.array(StepValueSchema) })).openapi({
      description: 'The full curves of at most `curves` trials (and of `trial`), by number.',
    }),
  })
  .openapi('StudySummary');

/** The most trials one batch ask starts. */
const MAX_ASK_BATCH = 100;
/** Where a batch ask goes: /ask answers one Trial, always. */
const ASK_BATCH_MOVED = `a batch ask is POST /v1/studies/{id}/ask-batch with {"count": k} (1-${MAX_ASK_BATCH}), which answers {"trials": [...]}; /ask takes no count and answers one trial`;
/**
 * The body of /ask: nothing (or `{}`). A `count`, which /ask once took for a batch, is a 422 at
 * `count` that says where batches went (said before the object is checked, which would only call
 * it unknown).
 */
export const AskSchema = z
  .preprocess(
    (v, ctx) => {
      if (v && typeof v === 'object' && !Array.isArray(v) && 'count' in v)
        ctx.issues.push({ code: 'custom', path: ['count'], input: v, message: ASK_BATCH_MOVED });
      return v;
    },
    z.strictObject({
      number: z.int().min(0).optional().openapi({
        description:
          'Start this waiting trial (a 409 when it is not waiting: another caller started it). Not with fresh.',
      }),
      fresh: z.boolean().optional().openapi({
        description:
          'true: start a new trial from the sampler, leaving waiting ones to be asked by number (as Optuna’s storages do).',
      }),
    }),
  )
  .openapi('Ask', {
    description:
      'Nothing (or {}): /ask starts the next trial, a waiting one first. For several at once, POST /v1/studies/{id}/ask-batch.',
  });
export type AskOptions = z.output<typeof AskSchema>;
export const AskBatchSchema = z
  .strictObject({
    count: z
      .int()
      .min(1)
      .max(MAX_ASK_BATCH)
      .openapi({ description: `How many trials to start, 1-${MAX_ASK_BATCH}.` }),
  })
  .openapi('AskBatch');
/** A trial asking for a parameter (define-by-run): POST /v1/studies/{id}/trials/{number}/params. */
export const SuggestParamSchema = z
  .strictObject({
    name: z.string().min(1).max(MAX_PARAM_NAME).openapi({ description: 'The parameter.' }),
    distribution: boundedJson(z.record(z.string(), z.unknown())).openapi({
      description:
        'Its distribution, as an entry of a space without `when`: {"type": "float"|"int", "low", "high", "log"?, "step"?} or {"type": "categorical", "choices": [...]}. The same name with another kind of distribution (another type, log or choices) is a 409; another range or step of the same kind is this trial’s own (as Optuna).',
    }),
    value: ParamValueSchema.optional().openapi({
      description:
        'The value an external sampler chose (Optuna’s, through StrideStorage); absent: the study’s sampler picks it.',
    }),
    lease_token: z.string().min(1).max(200).optional(),
  })
  .openapi('SuggestParam');
export type SuggestParam = z.output<typeof SuggestParamSchema>;

export const SuggestedParamSchema = z
  .object({
    name: z.string(),
    value: ParamValueSchema,
    distribution: z.record(z.string(), z.unknown()),
  })
  .openapi('SuggestedParam', {
    description:
      'The value of the parameter in this trial: the same answer each time the trial asks.',
  });

const AttrsBody = () =>
  boundedJson(z.record(z.string().min(1).max(MAX_PARAM_NAME), AttrValueSchema)).optional();

/** POST /v1/studies/{id}/attrs and .../trials/{number}/attrs: attributes merged in (key by key). */
export const AttrsSchema = z
  .strictObject({
    user_attrs: AttrsBody(),
    system_attrs: AttrsBody(),
    lease_token: z.string().min(1).max(200).optional(),
  })
  .openapi('Attrs', {
    description: `Attributes set key by key (a key sent again replaces its value); a study's or trial's attributes hold at most ${MAX_ATTRS_BYTES / 1024} KB of JSON together.`,
  });

export const AttrsAnswerSchema = z
  .object({
    user_attrs: AttrsField('User attributes.'),
    system_attrs: AttrsField('System attributes.'),
  })
  .openapi('AttrsAnswer');

export const EnqueueSchema = z
  .strictObject({
    params: z.record(z.string(), ParamValueSchema),
    distributions: boundedJson(z.record(z.string().min(1).max(MAX_PARAM_NAME), z.unknown()))
      .optional()
      .openapi({
        description:
          'Define-by-run: the distributions of params that are not in the space yet (they join it, as a trial asking for them would).',
      }),
  })
  .openapi('Enqueue');
const LeaseToken = z.string().min(1).max(200).openapi({
  description:
    "The lease token: required for the trials of runner and edge studies. Optional for a client study's: without it, a report or tell acts for the trial's first lease (attempt 1), and is a 409 once the trial was asked again.",
});
/** The most intermediate values one report takes (`points`). */
export const MAX_REPORT_POINTS = 1000;
const reportValue = () =>
  curveNumber('report only finite values (a diverged trial is told {"state": "failed"})');
const ReportPointSchema = z
  .strictObject({ step: z.int().min(0), value: reportValue() })
  .openapi('ReportPoint');
export const ReportSchema = z
  .strictObject({
    step: z
      .int()
      .min(0)
      .optional()
      .openapi({ description: 'The step of one value (with `value`; not with `points`).' }),
    value: reportValue().optional(),
    points: z
      .array(ReportPointSchema)
      .min(1, { error: 'send at least one point (or step and value)' })
      .max(MAX_REPORT_POINTS, {
        error: (iss) =>
          `at most ${MAX_REPORT_POINTS} points per report, got ${points(iss)}: send them in several`,
      })
      .optional()
      .openapi({
        description: `A batch of values instead of one: 1 to ${MAX_REPORT_POINTS} points, steps strictly increasing (a repeated step with the same value is taken). The pruner judges the trial at each step; should_prune is true when any says prune.`,
      }),
    lease_token: LeaseToken.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.points !== undefined) {
      if (r.step !== undefined || r.value !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [r.step !== undefined ? 'step' : 'value'],
          message: 'send step and value, or points, not both',
        });
      }
      for (let i = 1; i < r.points.length; i++) {
        const [a, b] = [r.points[i - 1], r.points[i]];
        if (b.step < a.step) {
          ctx.addIssue({
            code: 'custom',
            path: ['points', i, 'step'],
            message: `steps must increase: ${b.step} after ${a.step}`,
          });
        } else if (b.step === a.step && b.value !== a.value) {
          ctx.addIssue({
            code: 'custom',
            path: ['points', i, 'value'],
            message: `step ${b.step} twice with different values (${a.value}, then ${b.value})`,
          });
        }
      }
      return;
    }
    if (r.step === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['step'],
        message: 'required (or send points: [{"step", "value"}, ...])',
      });
    if (r.value === undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'required' });
  })
  .openapi('Report', {
    description:
      '{"step", "value"}: one intermediate value; or {"points": [{"step", "value"}, ...]}: a batch, taken whole or not at all.',
  });
/** What a report answers: whether the pruner stops the trial. */
export const ReportAnswerSchema = z.object({ should_prune: z.boolean() });
export const LeaseTokenSchema = z.strictObject({ lease_token: LeaseToken }).openapi('LeaseToken');
export const LeaseRequestSchema = z
  .strictObject({
    study_id: z.string().min(1).max(64).optional().openapi({
      description: 'Lease only from this study (else from any runner study with work).',
    }),
    runner: z
      .strictObject({
        name: z.string().min(1).max(200).optional(),
        labels: z.array(z.string().min(1).max(100)).max(50).default([]),
      })
      .prefault({}),
  })
  .openapi('LeaseRequest');
export const LeaseSchema = z
  .object({
    token: z.string(),
    expires_at: z.string(),
    attempt: z.int(),
    heartbeat_seconds: z.int(),
  })
  .openapi('Lease');
/** A trial as ask answers it: the Trial with the caller's lease on it. */
export const AskedTrialSchema = TrialSchema.extend({ lease: LeaseSchema }).openapi('AskedTrial', {
  description:
    "A trial as ask answers it, with the caller's lease: send lease.token with reports, heartbeats (every lease.heartbeat_seconds) and the tell. When the lease expires (the executor's lease_seconds without one of them), the trial waits to be asked again.",
});
/** What a heartbeat answers: the extended lease. */
export const HeartbeatAnswerSchema = z.object({ lease: LeaseSchema });
export const LeaseGrantSchema = z
  .object({
    study: z.object({
      id: z.string(),
      name: z.string(),
      metric: z.string(),
      direction: z.enum(DIRECTIONS),
      metrics: z.array(z.string()).openapi({ description: 'One name per objective.' }),
      directions: z.array(z.enum(DIRECTIONS)).openapi({
        description:
          'One direction per objective: tell "values" with as many numbers when there are several.',
      }),
    }),
    trial: TrialSchema,
    lease: LeaseSchema,
  })
  .openapi('LeaseGrant');
export const TellSchema = z
  .union([
    z
      .strictObject({
        value: toldValue().optional().openapi({
          description:
            'The objective value (single-objective studies); an infinite one as "Infinity" or "-Infinity".',
        }),
        values: z.array(toldValue()).min(1).max(MAX_OBJECTIVES).optional().openapi({
          description:
            'The objective values, one per direction of the study (also [v] for a single objective); an infinite one as "Infinity" or "-Infinity".',
        }),
        constraints: z
          .array(z.number())
          .min(1)
          .max(MAX_CONSTRAINTS)
          .optional()
          .openapi({
            description: `Constraint values, 1-${MAX_CONSTRAINTS} (the trial is feasible when every one is <= 0, as Optuna's constraints_func); every tell of a study gives as many as the first that gave any.`,
          }),
        state: z.literal('complete').optional(),
        lease_token: LeaseToken.optional(),
      })
      .superRefine((t, ctx) => {
        if (t.value !== undefined && t.values !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['values'],
            message: 'send value (one objective) or values (one per objective), not both',
          });
        else if (t.value === undefined && t.values === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['value'],
            message: 'required: {"value": v}, or {"values": [v1, ...]} with several objectives',
          });
      }),
    z.strictObject({
      state: z.enum(['failed', 'pruned']),
      error: z.string().max(10_000).optional(),
      lease_token: LeaseToken.optional(),
    }),
  ])
  .openapi('Tell', {
    description:
      '{"value": v} (or {"values": [v1, ...]}, one per objective) for a finished trial, with optional "constraints": [c1, ...]; or {"state": "failed"|"pruned", "error": "..."}. An infinite value is the string "Infinity" or "-Infinity" (JSON has none); NaN is not a value: report divergence as failed.',
  });

// --- lr/suggest validated on your hardware -----------------------------------

/** What a suggestion validated on your hardware starts from: one of the two. */
const EXTERNAL =
  'range_test_id (a stored range test: the id stride.lr_find or POST /v1/lr-range-tests answered) or curve (a sweep you measured: {"lr": [...], "loss": [...]})';

export const LrSuggestExternalRequestSchema = z
  .strictObject({
    executor: z.discriminatedUnion('kind', [ClientExecutorSchema, RunnerExecutorSchema]).openapi({
      description:
        'Who trains the candidates: your loop with ask and tell (client; stride.lr_suggest does it), or runners leasing them (runner; stride agent), with the runner options of a study.',
    }),
    range_test_id: z.string().min(1).max(64).optional().openapi({
      description: 'A stored range test of this project whose candidates to validate (lrt_...).',
    }),
    curve: CurveSchema.optional().openapi({
      description:
        'A sweep you measured, analysed (and stored) as POST /v1/lr-range-tests analyses a curve; its candidates are validated.',
    }),
    range: CurveRangeSchema.optional().openapi({
      description: 'With curve: how to read it, as for POST /v1/lr-range-tests.',
    }),
    model: CurveModelSchema.optional().openapi({
      description: 'With curve: what it was measured on (descriptive).',
    }),
    optimizer: OptimizerSchema.optional().openapi({
      description:
        'The optimizer your run trains with: its conventional default lr is a candidate. Needed when the range test was stored without one; with one, the same name.',
    }),
    batch_size: z
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .openapi({ description: 'With curve: the batch size the sweep ran with (descriptive).' }),
    training: TrainingSchema.optional().openapi({
      description: `The real run's length, {"epochs": N} or {"steps": N}: each candidate trains it, reporting its validation loss per epoch (per step with steps). Without it ${DEFAULT_TRAINING_EPOCHS} epochs are assumed (said in the reasoning) and confidence is at most medium.`,
    }),
    schedule: z.enum(LR_SCHEDULES).default('constant').openapi({
      description:
        "The LR schedule your run uses, with the candidate lr as its peak: the answer's schedule keeps that shape.",
    }),
    budget: BudgetSchema.optional(),
    steps_per_epoch: z.int().min(1).max(100_000_000).optional().openapi({
      description:
        "With training.epochs: your loader's batches per epoch, so that the range test's steps count in the budget (stride.lr_suggest sends it).",
    }),
    validation: z
      .strictObject({
        max_candidates: z.int().min(2).max(10).default(8),
        seeds: z.int().min(1).max(5).optional().openapi({
          description:
            'Train every candidate on this many seeds (default 1): each trial gets params.seed (0, 1, ...), which your code uses to seed its initialisation, data order and, where it can, its validation split; candidates are ranked by the mean over the seeds. One small validation set ranks by its own noise: 3 seeds are worth their cost below a few hundred validation examples.',
        }),
      })
      .prefault({}),
  })
  .superRefine((r, ctx) => {
    const at = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (r.budget !== undefined && r.validation.seeds !== undefined)
      at(
        ['validation', 'seeds'],
        'the budget decides which runs train on which seed: send budget or validation.seeds, not both',
      );
    if (r.steps_per_epoch !== undefined && r.training?.epochs === undefined)
      at(
        ['steps_per_epoch'],
        'steps_per_epoch converts a horizon in epochs: send it with training.epochs',
      );
    if (r.range_test_id !== undefined && r.curve !== undefined)
      at(['curve'], `send either ${EXTERNAL}, not both`);
    else if (r.range_test_id === undefined && r.curve === undefined)
      at(['range_test_id'], `send ${EXTERNAL}`);
    if (r.curve === undefined) {
      for (const k of ['range', 'model', 'batch_size'] as const) {
        if (r[k] !== undefined)
          at(
            [k],
            `${k} describes a posted curve: the stored range test was read when it was posted (send curve instead of range_test_id, or leave ${k} out)`,
          );
      }
    } else
      checkCurveAgainstRange({ curve: r.curve, range: r.range ?? CurveRangeSchema.parse({}) }, ctx);
  })
  .openapi('LrSuggestExternalRequest', {
    description: `Validate the candidates of a range test on your own hardware: a study of the candidate lrs, trained by your loop (executor client) or by runners (executor runner) for the training horizon. Exactly one of range_test_id and curve.`,
  });

export type LrSuggestExternalRequest = z.infer<typeof LrSuggestExternalRequestSchema>;

/**
 * Which request this is, said before the union is tried (its branches would only call each
 * other's fields unknown): executor client or runner is LrSuggestExternalRequest, anything else
 * LrSuggestRequest. The chosen schema's issues are the answer's.
 */
function suggestRequest(body: unknown, ctx: z.RefinementCtx): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  const has = (k: string) => Object.hasOwn(b, k);
  const executor = b.executor;
  const kind =
    executor && typeof executor === 'object' && !Array.isArray(executor)
      ? (executor as Record<string, unknown>).kind
      : undefined;
  if (typeof kind === 'string' && !(EXECUTOR_KINDS as readonly string[]).includes(kind)) {
    const near = closest(kind, EXECUTOR_KINDS);
    ctx.addIssue({
      code: 'custom',
      path: ['executor', 'kind'],
      message: `expected one of ${EXECUTOR_KINDS.map((k) => `'${k}'`).join(', ')}${near ? `: did you mean '${near}'?` : ''}`,
    });
    return body;
  }
  const external = kind === 'client' || kind === 'runner';
  if (!external && (has('range_test_id') || has('curve'))) {
    const field = has('range_test_id') ? 'range_test_id' : 'curve';
    if (kind === 'edge') {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `the edge executor trains a probe (a model and data sent as "probe") on the edge, and cannot train the model behind a ${field === 'curve' ? 'curve' : 'stored range test'}: send "executor": {"kind": "client"} (your loop trains the candidates) or {"kind": "runner"} (stride agent does), or a probe for the edge`,
      });
    } else {
      ctx.addIssue({
        code: 'custom',
        path: ['executor'],
        message: `required with ${field}: {"kind": "client"} (your loop trains the candidates, e.g. stride.lr_suggest) or {"kind": "runner"} (stride agent trains them); the edge validates only a probe it trains itself`,
      });
    }
    return body;
  }
  if (external && (has('probe') || has('context'))) {
    const field = has('probe') ? 'probe' : 'context';
    ctx.addIssue({
      code: 'custom',
      path: [field],
      message: `executor ${kind} validates on your hardware the candidates of ${EXTERNAL}; a ${field} is for ${field === 'probe' ? 'the edge executor' : 'priors'} (leave the executor out)`,
    });
  }
  const parsed = (external ? LrSuggestExternalRequestSchema : LrSuggestRequestSchema).safeParse(
    external
      ? Object.fromEntries(Object.entries(b).filter(([k]) => k !== 'probe' && k !== 'context'))
      : body,
  );
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
  return body;
}

export const LrSuggestBodySchema = z
  .preprocess(suggestRequest, z.union([LrSuggestRequestSchema, LrSuggestExternalRequestSchema]))
  .openapi('LrSuggestBody', {
    description:
      'Either LrSuggestRequest (a probe validated on the edge, answered at once; or a context, for priors) or LrSuggestExternalRequest (executor client or runner with range_test_id or curve: a study you or your runners train, answered 202 and then at GET /v1/lr/suggest/{id}).',
  });

// --- lr/suggest's answers ----------------------------------------------------

export const LrHorizonSchema = z
  .object({
    executor: z.enum(EXECUTOR_KINDS).openapi({
      description: 'Who validated: the edge (a probe), your loop (client) or your runners.',
    }),
    unit: z.enum(UNITS).openapi({
      description:
        'The unit of the horizon and of the steps reported: epochs (the edge always), or steps when a client or runner suggestion was given training.steps.',
    }),
    epochs: z.int().nullable().openapi({
      description:
        'The real run’s length in epochs (of the probe’s training split on the edge); null for a client or runner horizon in steps.',
    }),
    steps: z
      .int()
      .optional()
      .openapi({ description: 'The real run’s steps, when the request gave them.' }),
    steps_per_epoch: z.int().nullable().openapi({
      description:
        'The probe’s steps per epoch; null for a client or runner (your data loader knows it).',
    }),
    source: z.enum(['training.epochs', 'training.steps', 'train_steps', 'default']).openapi({
      description: 'Where the horizon came from; default: not given, 20 epochs assumed.',
    }),
    validated_epochs: z.int().nullable().openapi({
      description:
        'Epochs the finalists trained (0: nothing validated on the edge); for a client or runner, how far they reported (null: nothing finished, or a horizon in steps).',
    }),
    validated_steps: z.int().nullable().optional().openapi({
      description: 'A client or runner horizon in steps: how far the finalists reported.',
    }),
    method: z.enum(['full', 'extrapolated', 'none']).openapi({
      description:
        'full: validated at the horizon; extrapolated: over the edge budget (or validation.epochs), validated shorter with the schedule compressed to that length, or a client’s finalists reported short of the horizon; none: not validated.',
    }),
    schedule: z.enum(LR_SCHEDULES),
    budget: z
      .object({ max_gflop: z.number(), gflop_per_epoch: z.number(), affordable_epochs: z.int() })
      .nullable()
      .openapi({
        description:
          'The edge: PROBE_MAX_GFLOP, the estimated work of one epoch, and the epochs one edge trial may train; null for a client or runner.',
      }),
    rungs: z.array(z.int()).optional().openapi({
      description:
        'The answer that starts a study (202): where successive halving judges, in the unit reported (empty: every candidate trains its whole run).',
    }),
  })
  .openapi('LrHorizon');

const LrComputeSchema = z
  .object({
    runs: z.number().openapi({
      description:
        'Full training runs at the horizon spent so far: every run counts its share of the horizon, the range test’s steps included (when known).',
    }),
    epochs: z.number().nullable().openapi({
      description: 'The same in epochs (null: a horizon in steps without steps_per_epoch).',
    }),
    steps: z
      .int()
      .nullable()
      .optional()
      .openapi({ description: 'A horizon in steps: the same in steps.' }),
  })
  .openapi('LrCompute');

const LrCandidateSchema = z.object({ lr: z.number(), sources: z.array(z.string()) });

/**
 * What the answer that starts a study (202: your loop or your runners train, or the edge goes on
 * after the request) adds to a running suggestion: the study, what to train, and where to poll.
 */
const LrStartedFields = {
  study_id: z.string().optional().openapi({
    description:
      'The answer that starts a study (202): the study whose trials are the candidates: ask and tell them (client), or lease them (runner); the edge trains its own.',
  }),
  executor: z.record(z.string(), z.unknown()).optional().openapi({
    description: 'The answer that starts a study (202): who trains (an edge probe is not echoed).',
  }),
  candidates: z.array(LrCandidateSchema).optional().openapi({
    description:
      'The answer that starts a study (202): the candidate lrs of its first round and where each came from.',
  }),
  pruner: z.record(z.string(), z.unknown()).optional(),
  max_trials: z.int().optional().openapi({
    description:
      'The answer that starts a study (202): trials in the study now; under a budget, each level the search adds grows it.',
  }),
  seeds: z.array(z.int()).optional().openapi({
    description: 'The answer that starts a study (202): the seeds each candidate trains on.',
  }),
  poll: z.string().optional().openapi({
    description: 'The answer that starts a study (202): where the answer is, /v1/lr/suggest/{id}.',
  }),
  dispatch_secret: z.string().optional().openapi({
    description:
      'A runner executor with a dispatch_url (202): the secret of its job notices, shown once.',
  }),
};

export const LrSuggestionSchema = z
  .object({
    id: z
      .string()
      .optional()
      .openapi({ description: 'GET /v1/lr/suggest/{id}: the suggestion’s id (its study’s).' }),
    status: z.enum(['running', 'complete']).optional().openapi({
      description:
        'running while candidates train (lr null, method "validating", the evidence so far: the 202 of POST /v1/lr/suggest, and GET /v1/lr/suggest/{id} until it ends), then complete.',
    }),
    lr: z.number().nullable(),
    method: z.string().openapi({
      description:
        "validated; consensus (budget 0, or a budget that buys no training: the geometric mean of the range test's valley and min_over_10 with the optimizer's default); a range-test rule, prior, or default; validating while a client or runner suggestion runs",
    }),
    // Least sure first, as this answer has always listed them.
    confidence: z.enum([...CONFIDENCES].reverse()),
    stable_range: z.object({ min: z.number().nullable(), max: z.number().nullable() }).nullable(),
    schedule: z.record(z.string(), z.unknown()).nullable(),
    range_test: z.record(z.string(), z.unknown()).nullable(),
    horizon: LrHorizonSchema.nullable().openapi({
      description:
        'With a probe, or on your hardware: the training horizon and how it was validated.',
    }),
    validation: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        'The studies that validated the candidates, and each candidate’s state, validation loss, spread of its last epochs and whether it is tied with the best.',
    }),
    prior: z.record(z.string(), z.unknown()).nullable(),
    budget: z.object({ runs: z.number() }).optional().openapi({
      description: 'The compute the request allowed, in full training runs at its horizon.',
    }),
    compute: LrComputeSchema.optional(),
    reasoning: z.array(z.string()),
    ...LrStartedFields,
  })
  .openapi('LrSuggestion');

// --- range test summaries ------------------------------------------------------

export const RangeTestSummarySchema = z
  .object({
    id: z.string(),
    source: z
      .enum(['probe', 'curve'])
      .openapi({ description: 'probe: swept on the edge; curve: posted by a client.' }),
    backend: z.string(),
    label: z.string().nullable().openapi({
      description:
        'What the sweep ran on: a curve\'s model.name, or a probe\'s model and data ("mlp [64,64] · spirals").',
    }),
    optimizer: z.string().nullable(),
    suggested_lr: z.number().nullable(),
    method: z.string().nullable(),
    confidence: z.enum(CONFIDENCES),
    steps_run: z.int().nullable(),
    created_at: z.string(),
  })
  .openapi('LrRangeTestSummary');

/** One lr/suggest made from a range test (GET /v1/lr-range-tests/{id}/suggestions). */
export const RangeTestSuggestionSchema = z
  .object({
    id: z.string().openapi({
      description:
        "The suggestion's id: its study, whose trials are the runs that validated the candidates.",
    }),
    name: z.string(),
    executor: z.enum(EXECUTOR_KINDS).nullable().openapi({
      description: "Who trained the candidates: the edge, a client's loop or runners.",
    }),
    state: z.enum(STUDY_STATES).openapi({
      description: 'running: candidates still training; completed: the answer is in.',
    }),
    answered_at: z.string().nullable().openapi({
      description:
        'Where the suggestion is answered: /v1/lr/suggest/{id} (a budgeted search, or one a client or runners validate); null for an edge validation round of the older search, answered only by its POST (its runs are the study /v1/studies/{id}).',
    }),
    budget_runs: z.number().nullable().openapi({
      description: 'The budget asked for, in full training runs; null before budgets.',
    }),
    horizon: z
      .union([z.object({ unit: z.enum(['epochs', 'steps']), length: z.number() }), z.null()])
      .openapi({ description: 'The training length the candidates were validated for.' }),
    n_trials: z.int().openapi({ description: 'Runs so far.' }),
    best_run: z
      .union([z.object({ lr: z.number(), value: z.number().nullable() }), z.null()])
      .openapi({
        description:
          'The run with the lowest final validation loss so far, and its lr (not necessarily the answer, which weighs seeds and the horizon).',
      }),
    created_at: z.string(),
  })
  .openapi('LrRangeTestSuggestion');

// --- projects and keys ---------------------------------------------------------

/** The body of POST /v1/projects. */
export const ProjectCreateSchema = z.strictObject({ name: z.string().min(1).max(200) });
export const ProjectSchema = z
  .object({ id: z.string(), name: z.string(), created_at: z.string() })
  .openapi('Project');
export const KeySchema = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    prefix: z.string().openapi({ description: 'The first characters of the secret.' }),
    rate_limit_per_minute: z.int().nullable(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');
export const KeyCreateSchema = z
  .strictObject({
    project_id: z.string().min(1).max(64).optional().openapi({
      description: 'Required with the admin token; an admin key creates keys in its own project.',
    }),
    name: z.string().min(1).max(200),
    scopes: z.array(z.enum(SCOPES)).min(1).default(['read', 'write']),
    rate_limit_per_minute: z.int().min(1).max(100_000).nullable().optional().openapi({
      description:
        'Expensive calls (range tests, study creation) a minute; default the service’s RATE_LIMIT_PER_MINUTE.',
    }),
  })
  .openapi('ApiKeyCreate');

// --- notifications -------------------------------------------------------------

/** The body of POST /v1/subscriptions. */
export const SubscriptionCreateSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  events: z
    .array(z.enum(EVENT_TYPES))
    .min(1)
    .default([...EVENT_TYPES]),
  study_id: z.string().min(1).max(64).optional().openapi({
    description: "Only this study's events (default: every study of the project).",
  }),
});
export const SubscriptionSchema = z
  .object({
    id: z.string(),
    study_id: z.string().nullable(),
    url: z.string(),
    events: z.array(z.string()),
    state: z.enum(SUBSCRIPTION_STATES),
    disabled_reason: z.string().nullable(),
    consecutive_failures: z.int(),
    created_at: z.string(),
    secret: z.string().optional().openapi({
      description:
        'Only in the answer to the creation: the Standard Webhooks secret (whsec_...) that signs deliveries.',
    }),
  })
  .openapi('Subscription');
export const AttemptSchema = z
  .object({
    message_id: z.string(),
    event: z.string(),
    attempt: z.int(),
    ok: z.boolean(),
    response_status: z.int().nullable(),
    error: z.string().nullable(),
    at: z.string(),
  })
  .openapi('DeliveryAttempt');

// --- templates, triggers and hooks ---------------------------------------------

/** The body of POST /v1/templates: a study body, twice as deep and four times as large as a study's free-form fields (placeholders included). */
export const TemplateCreateSchema = z.strictObject({
  name: z.string().min(1).max(200),
  study: boundedJson(z.record(z.string(), z.unknown()), {
    depth: 2 * MAX_JSON_DEPTH,
    bytes: 4 * MAX_JSON_BYTES,
  }),
});
export const TemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    study: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('Template', {
    description:
      'A study body whose name and metadata strings may hold {{placeholders}}: repository, sha, ref, branch, event, action, sender, pr_number, label, delivery (GitHub); type and the data fields (Standard Webhooks).',
  });
const FilterSchema = z
  .strictObject({
    events: z.array(z.string().min(1).max(100)).max(50).optional(),
    branches: z.array(z.string().min(1).max(200)).max(50).optional(),
    labels: z.array(z.string().min(1).max(200)).max(50).optional(),
    actions: z.array(z.string().min(1).max(100)).max(50).optional(),
  })
  .openapi('TriggerFilter');
export const TriggerSchema = z
  .object({
    id: z.string(),
    template_id: z.string(),
    kind: z.enum(TRIGGER_KINDS),
    filter: z.object({
      events: z.array(z.string()),
      branches: z.array(z.string()),
      labels: z.array(z.string()),
      actions: z.array(z.string()),
    }),
    url: z
      .string()
      .openapi({ description: 'Where to send events: POST, relative to the service.' }),
    created_at: z.string(),
    secret: z.string().optional().openapi({ description: 'Only in the answer to the creation.' }),
  })
  .openapi('Trigger');
export const HookAnswerSchema = z
  .object({
    status: z.enum(['created', 'ignored']),
    study_id: z.string().optional(),
    reason: z.string().optional(),
    delivery_id: z.string(),
  })
  .openapi('HookAnswer');

/** The body of POST /v1/triggers. */
export const TriggerCreateSchema = z.strictObject({
  template_id: z.string().min(1).max(64),
  kind: z.enum(TRIGGER_KINDS).default('github'),
  filter: FilterSchema.default({}),
  secret: z
    .string()
    .min(16)
    .max(200)
    .optional()
    .openapi({ description: 'Default: generated (whsec_... for standard).' }),
});

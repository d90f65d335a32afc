/**
 * The single lists of names the API speaks: states, kinds, samplers, pruners,
 * optimizers and the other closed sets of words of its requests and answers.
 * Schemas (contract/schemas.ts), the D1 schema, the tuning and probe code and
 * the CLI all read these, so a name is added in one place. A sampler's or
 * pruner's options and constructor are declared in tuning/registry.ts, whose
 * tables have exactly one entry per name here. A leaf module.
 */

/** A trial's states: waiting (enqueued, or handed back), running (asked or leased), then one of the three finished ones. */
export const TRIAL_STATES = ['waiting', 'running', 'complete', 'pruned', 'failed'] as const;
export type TrialState = (typeof TRIAL_STATES)[number];
/** The states a trial ends in: it takes no more reports or tells. */
export const FINISHED_STATES = [
  'complete',
  'pruned',
  'failed',
] as const satisfies readonly TrialState[];
export type FinishedState = (typeof FINISHED_STATES)[number];
/** Whether a trial in `state` has ended (FINISHED_STATES). */
export const isFinished = (state: TrialState): state is FinishedState =>
  (FINISHED_STATES as readonly TrialState[]).includes(state);

/** A study's states: completed once max_trials trials have finished. */
export const STUDY_STATES = ['running', 'completed'] as const;
export type StudyState = (typeof STUDY_STATES)[number];
/**
 * A study's states as an answer shows them: STUDY_STATES, and unavailable, only in a listing, for a
 * study whose live state (its Durable Object) is gone and whose D1 copy is shown. D1 stores STUDY_STATES only.
 */
export const LISTED_STUDY_STATES = [...STUDY_STATES, 'unavailable'] as const;

/** The directions of an objective. */
export const DIRECTIONS = ['minimize', 'maximize'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Who runs a study's trials: the edge (a probe), the caller's loop (client), or leasing runners. */
export const EXECUTOR_KINDS = ['edge', 'client', 'runner'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

/** The events a subscription can be sent. */
export const EVENT_TYPES = ['study.completed', 'study.best_improved', 'trial.failed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A subscription's states: disabled after NOTIFY_DISABLE_AFTER failed deliveries in a row. */
export const SUBSCRIPTION_STATES = ['active', 'disabled'] as const;

/** The units a horizon is counted in: epochs, or optimizer steps. */
export const UNITS = ['epochs', 'steps'] as const;
export type Unit = (typeof UNITS)[number];

/** The LR schedules of a real run that lr/suggest validates with (`schedule`). */
export const LR_SCHEDULES = ['constant', 'cosine', 'one_cycle'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** A probe's tasks. */
export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];

/** A probe model's activations. */
export const ACTIVATIONS = ['relu', 'tanh', 'gelu', 'sigmoid'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** The synthetic datasets of a probe (`data.name`). */
export const SYNTHETIC_DATASETS = ['blobs', 'moons', 'spirals', 'linear', 'teacher'] as const;

/** How a range test's learning rates are spaced. */
export const SWEEP_MODES = ['exponential', 'linear'] as const;
export type SweepMode = (typeof SWEEP_MODES)[number];

/** The rules that read a range test's curve (a suggestion's `method` and `candidates`). */
export const SUGGEST_METHODS = ['valley', 'steepest', 'minimum', 'min_over_10'] as const;
export type SuggestMethod = (typeof SUGGEST_METHODS)[number];

/** How sure an answer is, surest first. */
export const CONFIDENCES = ['high', 'medium', 'low'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** A trigger's kinds: how its deliveries are signed (GitHub, or Standard Webhooks). */
export const TRIGGER_KINDS = ['github', 'standard'] as const;

/** The TF.js backends a probe trains on. */
export const BACKENDS = ['wasm-simd', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export const SAMPLER_NAMES = ['auto', 'tpe', 'gp', 'random', 'qmc', 'grid', 'nsga2'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** Model families the LR priors know (lr/suggest's context.model_family). */
export const MODEL_FAMILIES = ['mlp', 'cnn', 'transformer', 'rnn', 'other'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const PRUNER_NAMES = ['none', 'median', 'asha', 'hyperband'] as const;
export type PrunerName = (typeof PRUNER_NAMES)[number];

export const OPTIMIZER_NAMES = [
  'sgd',
  'momentum',
  'nesterov',
  'adam',
  'adamw',
  'rmsprop',
  'adagrad',
] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** The optimizers with per-parameter adaptive step sizes (they warm up longer, and take smaller peak lrs). */
export const ADAPTIVE_OPTIMIZERS: readonly OptimizerName[] = [
  'adam',
  'adamw',
  'rmsprop',
  'adagrad',
];

/** The settings each optimizer takes (as torch.optim's): any other is a 422. Served to the dashboard in the OpenAPI document (the Optimizer schema's `x-settings`). */
export const OPTIMIZER_SETTINGS: Readonly<Record<OptimizerName, readonly string[]>> = {
  sgd: ['momentum', 'weight_decay'],
  momentum: ['momentum', 'weight_decay'],
  nesterov: ['momentum', 'weight_decay'],
  adam: ['beta1', 'beta2', 'eps', 'weight_decay'],
  adamw: ['beta1', 'beta2', 'eps', 'weight_decay'],
  rmsprop: ['alpha', 'eps', 'momentum', 'weight_decay'],
  adagrad: ['eps', 'weight_decay'],
};

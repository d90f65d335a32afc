/**
 * The single lists of names the API takes: samplers, pruners, optimizers.
 * Schemas (contract/schemas.ts), the tuning and probe code and the CLI all
 * read these, so a name is added in one place. A sampler's or pruner's
 * options and constructor are declared in tuning/registry.ts, whose tables
 * have exactly one entry per name here. A leaf module.
 */

export const SAMPLER_NAMES = ['auto', 'tpe', 'gp', 'random', 'qmc', 'grid', 'nsga2'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

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

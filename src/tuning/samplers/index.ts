/**
 * Samplers: which parameters to try next. Each is a pure function of (space,
 * trials, direction, seed, trial number).
 *
 * - `auto` (default): QMC, then GP, then TPE as complete trials accrue; TPE then NSGA-II
 *   with several objectives (`AutoSampler`, auto.ts).
 * - `tpe`: Tree-structured Parzen Estimator (`TpeSampler`).
 * - `gp`: Gaussian-process Bayesian optimisation with log EI (`GpSampler`).
 * - `random`: independent uniform draws in the internal (log) scale.
 * - `qmc`: scrambled Sobol' points.
 * - `grid`: every combination of a discrete space, once each.
 * - `nsga2`: the genetic algorithm NSGA-II, for several objectives (`Nsga2Sampler`).
 *
 * A study's `sampler` object is checked and turned into one of these by registry.ts
 * (`checkSampler`, `makeSampler`), where each sampler's options are declared.
 */
export { GridSampler, gridSize, type GridSamplerOptions } from './grid';
export { QmcSampler } from './qmc';
export { Nsga2Sampler, type Nsga2Options } from './nsga2';
export { RandomSampler } from './random';

/**
 * Define-by-run: a trial asking for a parameter (POST /v1/studies/{id}/trials/{number}/params),
 * and the attributes of studies and trials. Pure decisions: no storage, no clock, no randomness.
 *
 * A parameter a trial asks for joins the study's space at first use (`learned`). At ask the
 * sampler proposes every parameter of the space jointly; the learned ones' values are kept
 * hidden (`splitProposal`) and revealed when the trial asks, so a trial that never asks leaves
 * the parameter inactive, as Optuna's relative sampling does. A parameter the trial asks for
 * without a proposal (new to the space, or learned after the ask) is sampled alone, as Optuna's
 * independent sampling (the coordinator does that, with `paramSeed`).
 */
import { inputError } from '../contract/errors';
import { MAX_ATTRS_BYTES } from '../contract/limits';
import type { AttrsView, StudyConfig } from '../contract/study';
import { describeValue } from '../lib/values';
import type { ParamSpec, Params, Space } from '../tuning/types';
import { MAX_PARAMS } from '../tuning/validate';
import { CoordinatorError, invalidField } from './errors';

/** A distribution as people read it in a 409: `float [0.001, 1] log`, `categorical [a, b]`. */
function describeDistribution(spec: ParamSpec): string {
  if (spec.type === 'categorical')
    return `categorical [${spec.choices.map((c) => describeValue(c)).join(', ')}]`;
  const extra = [spec.log ? 'log' : '', spec.step !== undefined ? `step ${spec.step}` : '']
    .filter(Boolean)
    .join(' ');
  return `${spec.type} [${spec.low}, ${spec.high}]${extra ? ` ${extra}` : ''}`;
}

/** Whether two distributions are the same (an int's step 1 is its default; log false is absent). */
export function sameDistribution(a: ParamSpec, b: ParamSpec): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'categorical' || b.type === 'categorical') {
    const ca = (a as { choices: unknown[] }).choices;
    const cb = (b as { choices: unknown[] }).choices;
    return ca.length === cb.length && ca.every((c, i) => c === cb[i]);
  }
  const step = (s: typeof a) => s.step ?? (s.type === 'int' ? 1 : undefined);
  return a.low === b.low && a.high === b.high && !!a.log === !!b.log && step(a) === step(b);
}

/**
 * Whether a trial may ask for `name` with `b` where the study knows `a`, as Optuna's
 * check_distribution_compatibility: the same kind, the same log for numbers, the same choices in
 * the same order for a categorical; another range or step is the trial's own.
 */
function compatibleDistribution(a: ParamSpec, b: ParamSpec): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'categorical' || b.type === 'categorical') return sameDistribution(a, b);
  return !!a.log === !!b.log;
}

/**
 * Why `name` with `spec` cannot be asked in this study, or nothing: a distribution of another
 * kind under the same name (409 naming both; another range of the same kind is the trial's own,
 * as in Optuna), a space already full (422 at `name`), or a study whose space is fixed at creation
 * (grid: its combinations; edge: its probe's known names).
 */
export function checkAsk(config: StudyConfig, name: string, spec: ParamSpec): void {
  const known = Object.hasOwn(config.space, name) ? config.space[name] : undefined;
  if (known) {
    if (!compatibleDistribution(known, spec))
      throw new CoordinatorError(
        'conflict',
        `parameter '${name}' is ${describeDistribution(known)} in study ${config.id}; this trial asked for ${describeDistribution(spec)}. A name keeps one kind of distribution (as in Optuna: the same type, log and choices; another range is fine): use another name for another distribution`,
      );
    return;
  }
  if (config.sampler.name === 'grid')
    throw new CoordinatorError(
      'conflict',
      `study ${config.id} samples a grid, whose space is fixed when the study is created: '${name}' is not in it (declare it in the space, or use another sampler)`,
    );
  if (config.executor.kind === 'edge')
    throw new CoordinatorError(
      'conflict',
      `study ${config.id} is an edge study, whose trials train its probe with the space declared at creation: '${name}' is not in it`,
    );
  const n = Object.keys(config.space).length;
  if (n >= MAX_PARAMS)
    throw invalidField(
      'name',
      `study ${config.id} already has ${n} parameters, the most a space holds: '${name}' cannot join it`,
    );
}

/** The study's config with `name` joined to its space (learned), when it is new; the same config otherwise. */
export function withLearned(config: StudyConfig, name: string, spec: ParamSpec): StudyConfig {
  if (Object.hasOwn(config.space, name)) return config;
  return {
    ...config,
    space: { ...config.space, [name]: spec },
    learned: [...(config.learned ?? []), name],
  };
}

/**
 * A sampled trial's params split: the declared parameters' values (the trial's params at once)
 * and the learned ones' (hidden proposals, null when the space has none).
 */
export function splitProposal(
  config: StudyConfig,
  sampled: Params,
): { params: Params; proposed: Params | null } {
  const learned = new Set(config.learned ?? []);
  if (learned.size === 0) return { params: sampled, proposed: null };
  const params: Params = {};
  const proposed: Params = {};
  for (const [k, v] of Object.entries(sampled)) (learned.has(k) ? proposed : params)[k] = v;
  return { params, proposed };
}

/** The declared part of a space (what an enqueued trial must give) and its learned names. */
export function declaredSpace(config: StudyConfig): { declared: Space; learned: Set<string> } {
  const learned = new Set(config.learned ?? []);
  const declared: Space = {};
  for (const [k, v] of Object.entries(config.space)) if (!learned.has(k)) declared[k] = v;
  return { declared, learned };
}

/**
 * The seed of a parameter sampled alone: the study's seed mixed with the name (FNV-1a), so that
 * two parameters of one trial do not draw the same random stream.
 */
export function paramSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 1) & 0x7fffffff;
}

/**
 * Attributes merged key by key (a key sent again replaces its value), refused whole with a 413
 * at the field when the result would hold over MAX_ATTRS_BYTES of JSON.
 */
export function mergeAttrs(held: AttrsView, sent: Partial<AttrsView>): AttrsView {
  const merged: AttrsView = {
    user_attrs: { ...held.user_attrs, ...(sent.user_attrs ?? {}) },
    system_attrs: { ...held.system_attrs, ...(sent.system_attrs ?? {}) },
  };
  const bytes = new TextEncoder().encode(JSON.stringify(merged)).length;
  if (bytes > MAX_ATTRS_BYTES) {
    const path = sent.user_attrs ? 'user_attrs' : 'system_attrs';
    const message = `would hold ${bytes} bytes of JSON with the attributes already set, over the ${MAX_ATTRS_BYTES} one study or trial keeps`;
    throw inputError([{ path, message }], { kind: 'too_large' });
  }
  return merged;
}

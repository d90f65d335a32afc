/**
 * An lr/suggest study's next trials, as functions with no storage; the
 * coordinator inserts the trials and saves the config.
 *
 * - A budgeted search (config.lr_ladder): once every trial has ended, the
 *   ladder's next level (tuning/lr/ladder.ts's `decide`), until it is done.
 * - An older round a client or runners train (config.lr_extension): when its
 *   trials have all ended and the best candidate is the lowest or highest lr
 *   of the space, two trials past that edge, once (tuning/lr/validation.ts's
 *   extensionPast).
 */
import type { Point } from '../db/intermediate';
import { evidenceFromTrials, extensionPast } from '../tuning/lr/validation';
import type { Params, TrialState } from '../tuning/types';
import type { StudyConfig } from '../contract/study';
import { decide, observationOf, paramsOf, type Observation } from '../tuning/lr/ladder';

/** Whether the study is an lr/suggest round not yet extended whose trials (max_trials) have all ended (`finished` of them). */
export function lrRoundEnded(config: StudyConfig, finished: number): boolean {
  const ext = config.lr_extension;
  return !!ext && !ext.done && config.max_trials !== null && finished >= config.max_trials;
}

/** The lrs past the edge to try next (none when the best is inside the space's choices, or the space has no categorical lr). */
export function lrsPastEdge(
  config: StudyConfig,
  trials: readonly {
    params: Params;
    state: TrialState;
    value: number | null;
    intermediate: Point[];
    error: string | null;
  }[],
): number[] {
  const spec = config.space.lr;
  if (spec?.type !== 'categorical') return [];
  const lrs = spec.choices.filter((c): c is number => typeof c === 'number');
  const found = extensionPast(
    evidenceFromTrials(
      lrs.map((lr) => ({ lr, sources: [] })),
      trials,
    ),
    lrs,
  );
  return (found?.lrs ?? []).filter((lr) => !lrs.includes(lr));
}

/**
 * Mark the round extended with `fresh` and grow the space's lr choices and
 * max_trials by them (times the seeds, in a round on several: space.seed).
 * Changes `config` in place (the caller's view of the study, events
 * included, sees the study running again, not completed). Answers the params
 * of the trials to insert: each fresh lr on every seed.
 */
export function extendRound(config: StudyConfig, fresh: number[]): Params[] {
  config.lr_extension = { done: true, lrs: fresh };
  const spec = config.space.lr;
  if (spec?.type !== 'categorical' || fresh.length === 0) return [];
  const seedSpec = config.space.seed;
  const seeds = seedSpec?.type === 'categorical' ? seedSpec.choices : [null];
  config.space = { ...config.space, lr: { ...spec, choices: [...spec.choices, ...fresh] } };
  config.max_trials! += fresh.length * seeds.length;
  return fresh.flatMap((lr) =>
    seeds.map((seed): Params => (seed === null ? { lr } : { lr, seed })),
  );
}

/**
 * The ladder's next level, once every trial of the study has ended (`finished` of `count`): the
 * params of the trials to insert, with max_trials grown by them (in place on `config`); none
 * while trials run or when the ladder is done.
 */
export function nextLadderTrials(
  config: StudyConfig,
  trials: readonly {
    params: Params;
    state: TrialState;
    value: number | null;
    intermediate: Point[];
  }[],
): Params[] {
  const cfg = config.lr_ladder;
  if (!cfg || trials.some((t) => t.state === 'waiting' || t.state === 'running')) return [];
  const observed = trials
    .map((t) => observationOf(cfg, t))
    .filter((o): o is Observation => o !== null);
  const next = decide(cfg, observed);
  if (next.kind !== 'train') return [];
  config.max_trials = trials.length + next.runs.length;
  return next.runs.map((r) => paramsOf(cfg, r));
}

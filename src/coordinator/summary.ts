/**
 * A study's summary for the dashboard (GET /v1/studies/{id}/summary), answered by its object:
 * every trial without its reports (their count and the last one instead), the median curve of the
 * complete and pruned trials, and the full curves of the few trials worth drawing. Read from the
 * store's rows and the aggregates it keeps in memory (each trial's count and last report, the
 * finished trials' values by step), so a summary of 10,000 trials of 100 reports each reads the
 * trial rows and at most `curves` curves, not a million reports.
 */
import type { z } from 'zod';
import type { StudySummarySchema } from '../contract/schemas';
import { directionsOf, type StudyConfig } from '../contract/study';
import { trialView, type CoordinatorStore } from './store';

export type StudySummary = z.output<typeof StudySummarySchema>;
type SummaryTrial = StudySummary['trials'][number];

/** The curves answered when the query does not say. */
const DEFAULT_CURVES = 200;

/**
 * The numbers of the trials whose curves are answered, at most `max` of those with reports:
 * the running ones, then the best complete ones by the first objective (`sign` 1 minimizes,
 * -1 maximizes) up to half, then the latest others, then more complete ones.
 */
function curvesPicked(trials: readonly SummaryTrial[], max: number, sign: 1 | -1): Set<number> {
  const withReports = trials.filter((t) => t.steps > 0);
  if (withReports.length <= max) return new Set(withReports.map((t) => t.number));
  const first = (t: SummaryTrial) => t.values?.[0] ?? t.value;
  const complete = withReports
    .filter((t) => t.state === 'complete' && first(t) !== null)
    .sort((a, b) => sign * (first(a)! - first(b)!));
  const inComplete = new Set(complete);
  const others = withReports
    .filter((t) => t.state !== 'running' && !inComplete.has(t))
    .sort((a, b) => b.number - a.number);
  const picked = new Set<number>();
  const add = (t: SummaryTrial) => picked.size < max && picked.add(t.number);
  withReports.filter((t) => t.state === 'running').forEach(add);
  const half = picked.size + Math.floor((max - picked.size) / 2);
  complete.forEach((t) => picked.size < half && picked.add(t.number));
  others.forEach(add);
  complete.forEach(add);
  return picked;
}

/** The summary of the study in `store` (its config `config`): `curves` curves at most, and `trial`'s. */
export function studySummary(
  store: CoordinatorStore,
  config: StudyConfig,
  query: { curves?: number; trial?: number },
): StudySummary {
  store.loadPointSummaries();
  const trials = store.rows().map((r): SummaryTrial => {
    const { intermediate: _none, ...t } = trialView(config.id, r, []);
    const s = store.pointSummary(r.number);
    return {
      ...t,
      steps: s.count,
      last: s.lastStep === null ? null : { step: s.lastStep, value: s.lastValue! },
    };
  });
  const sign = directionsOf(config)[0] === 'maximize' ? -1 : 1;
  const picked = curvesPicked(trials, query.curves ?? DEFAULT_CURVES, sign);
  if (query.trial !== undefined) picked.add(query.trial);
  return {
    trials,
    median: store.finishedSteps().medians(),
    curves: trials
      .filter((t) => picked.has(t.number))
      .map((t) => ({ number: t.number, intermediate: store.points(t.number) })),
  };
}

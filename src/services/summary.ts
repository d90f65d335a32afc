/**
 * A study's summary for the dashboard: every trial without its reports (their count and the
 * last one instead), the median curve, and the full curves of the few trials worth drawing. A
 * study of 10,000 trials with 100 reports each answers a few megabytes, not every report.
 */
import type { StudySummarySchema } from '../contract/schemas';
import type { TrialView } from '../contract/study';
import type { z } from 'zod';
import { getStudy, listTrials } from './studies';

type Summary = z.output<typeof StudySummarySchema>;
type Point = { step: number; value: number };

/** The curves answered when the query does not say. */
const DEFAULT_CURVES = 200;

/** At each step, the median of the complete and pruned trials' reports there. */
function medianCurve(trials: TrialView[]): Point[] {
  const at = new Map<number, number[]>();
  for (const t of trials) {
    if (t.state !== 'complete' && t.state !== 'pruned') continue;
    for (const p of t.intermediate) {
      const a = at.get(p.step);
      if (a) a.push(p.value);
      else at.set(p.step, [p.value]);
    }
  }
  return [...at.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([step, vs]) => {
      vs.sort((a, b) => a - b);
      const m = vs.length >> 1;
      return { step, value: vs.length % 2 ? vs[m] : (vs[m - 1] + vs[m]) / 2 };
    });
}

/**
 * The numbers of the trials whose curves are answered, at most `max` of those with reports:
 * the running ones, then the best complete ones by the first objective (`sign` 1 minimizes,
 * -1 maximizes) up to half, then the latest others, then more complete ones.
 */
function curvesPicked(trials: TrialView[], max: number, sign: 1 | -1): Set<number> {
  const withReports = trials.filter((t) => t.intermediate.length > 0);
  if (withReports.length <= max) return new Set(withReports.map((t) => t.number));
  const first = (t: TrialView) => t.values?.[0] ?? t.value;
  const complete = withReports
    .filter((t) => t.state === 'complete' && first(t) !== null)
    .sort((a, b) => sign * (first(a)! - first(b)!));
  const others = withReports
    .filter((t) => t.state !== 'running' && !complete.includes(t))
    .sort((a, b) => b.number - a.number);
  const picked = new Set<number>();
  const add = (t: TrialView) => picked.size < max && picked.add(t.number);
  withReports.filter((t) => t.state === 'running').forEach(add);
  const half = picked.size + Math.floor((max - picked.size) / 2);
  complete.forEach((t) => picked.size < half && picked.add(t.number));
  others.forEach(add);
  complete.forEach(add);
  return picked;
}

export async function studySummary(
  env: Env,
  projectId: string,
  id: string,
  query: { curves?: number; trial?: number },
): Promise<Summary> {
  const [study, trials] = await Promise.all([
    getStudy(env, projectId, id),
    listTrials(env, projectId, id),
  ]);
  const sign = (study.directions[0] ?? study.direction) === 'maximize' ? -1 : 1;
  const picked = curvesPicked(trials, query.curves ?? DEFAULT_CURVES, sign);
  if (query.trial !== undefined) picked.add(query.trial);
  return {
    trials: trials.map(({ intermediate, ...t }) => {
      let last: Point | null = null;
      for (const p of intermediate) if (!last || p.step > last.step) last = p;
      return { ...t, steps: intermediate.length, last };
    }),
    median: medianCurve(trials),
    curves: trials
      .filter((t) => picked.has(t.number))
      .map((t) => ({ number: t.number, intermediate: t.intermediate })),
  };
}

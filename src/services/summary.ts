/**
 * A study's summary for the dashboard (GET /v1/studies/{id}/summary): every trial without its
 * reports, the median curve and a few full curves, answered by the study's object from what it
 * keeps (coordinator/summary.ts). A study of 10,000 trials with 100 reports each answers a few
 * megabytes, not every report.
 */
import type { StudySummary } from '../coordinator/summary';
import { callStudy, studyStub } from '../coordinator/stub';

export async function studySummary(
  env: Env,
  projectId: string,
  id: string,
  query: { curves?: number; trial?: number },
): Promise<StudySummary> {
  return callStudy(id, () => studyStub(env, projectId, id).summary(query));
}

/**
 * Notification events of a study, as pure functions: which events a change
 * caused (trial.failed, study.best_improved, study.completed), found by
 * comparing the study before and after it, and the queue messages that carry
 * them. The coordinator stores the events (store.ts, the events table) in the
 * same synchronous block as the change; the outbox hands them to the
 * notifications queue with its D1 writes.
 */
import { DEFAULT_PROJECT_ID } from '../db/schema';
import type { EventRow, Snapshot, TrialRow } from './store';
import type { NotificationMessage, StudyConfig } from '../contract/study';

export interface DetectedEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * The events of a change, in the order they are emitted: a trial.failed for
 * each changed trial that failed, then study.best_improved (a new best), then
 * study.completed (the study has just completed).
 */
export function detectEvents(
  config: StudyConfig,
  before: Snapshot,
  after: Snapshot,
  /** The changed trials as they are now (undefined: no such row). */
  changed: readonly (TrialRow | undefined)[],
  /** The row of `after.best` (undefined when there is none). */
  best: TrialRow | undefined,
  nTrials: number,
): DetectedEvent[] {
  const out: DetectedEvent[] = [];
  const study = {
    id: config.id,
    name: config.name,
    metric: config.metric,
    direction: config.direction,
  };
  for (const r of changed) {
    if (r?.state === 'failed')
      out.push({
        type: 'trial.failed',
        data: {
          study,
          trial: {
            number: r.number,
            params: JSON.parse(r.params),
            error: r.error,
            attempts: r.attempts,
          },
        },
      });
  }
  if (after.best !== null && after.best !== before.best) {
    const b = best!;
    out.push({
      type: 'study.best_improved',
      data: {
        study,
        trial: { number: b.number, value: b.value, params: JSON.parse(b.params) },
        previous_best: before.bestValue,
      },
    });
  }
  if (after.completed && !before.completed) {
    const b = after.best === null ? null : best!;
    out.push({
      type: 'study.completed',
      data: {
        study: {
          ...study,
          n_trials: nTrials,
          best_trial: b ? { number: b.number, value: b.value, params: JSON.parse(b.params) } : null,
        },
      },
    });
  }
  return out;
}

/** The notifications queue's messages of stored events. */
export function eventMessages(
  config: StudyConfig,
  rows: readonly EventRow[],
): NotificationMessage[] {
  const project = config.project_id ?? DEFAULT_PROJECT_ID;
  return rows.map((r) => ({
    kind: 'event',
    project_id: project,
    study_id: config.id,
    event: {
      id: `evt_${config.id}_${r.id}`,
      type: r.type,
      timestamp: new Date(r.at).toISOString(),
      data: JSON.parse(r.payload),
    },
  }));
}

/**
 * Outbound notifications: subscriptions (per project, or per study) to
 * `study.completed`, `study.best_improved` and `trial.failed`, delivered as
 * Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) from
 * the notifications queue, never inside the request that caused the event.
 *
 * The study's coordinator emits events into its outbox; the flush hands them
 * to the queue. The consumer fans an event out (one `deliver` message per
 * subscriber that wants it); a delivery that fails is retried by the queue
 * with exponential backoff (1, 2, 4, 8... s) up to MAX_ATTEMPTS. Every attempt
 * is logged in D1; after NOTIFY_DISABLE_AFTER failed attempts in a row a
 * subscription is disabled and says why.
 */
import { Webhook } from 'standardwebhooks';
import { newId, randomBase64 } from '../lib/ids';
import { exponentialBackoffMs } from '../lib/backoff';
import { readConfig } from '../lib/config';
import { DomainError } from '../contract/errors';
import type { NotificationMessage, StudyEvent } from '../contract/study';
import type { z } from 'zod';
import type {
  AttemptSchema,
  SubscriptionCreateSchema,
  SubscriptionSchema,
} from '../contract/schemas';
import {
  findSubscription,
  insertAttempt,
  insertSubscription,
  listAttempts,
  listSubscriptions,
  matchingSubscriptions,
  updateSubscription,
  type NotificationAttemptRow,
  type SubscriptionRow,
} from '../db/hooks';

/** Attempts per delivery (the first and the retries; wrangler.toml's max_retries allows them). */
const MAX_ATTEMPTS = 5;

/** A subscription as the API answers it, without its secret (the Subscription schema). */
export type SubscriptionView = Omit<z.output<typeof SubscriptionSchema>, 'secret'>;

const view = (s: SubscriptionRow): SubscriptionView => ({
  id: s.id,
  study_id: s.studyId,
  url: s.url,
  events: s.events,
  state: s.state,
  disabled_reason: s.disabledReason,
  consecutive_failures: s.consecutiveFailures,
  created_at: s.createdAt.toISOString(),
});

export async function createSubscription(
  env: Env,
  projectId: string,
  body: z.output<typeof SubscriptionCreateSchema>,
) {
  const secret = `whsec_${randomBase64(24)}`;
  const row: SubscriptionRow = {
    id: newId('sub'),
    projectId,
    studyId: body.study_id ?? null,
    url: body.url,
    events: [...new Set(body.events)],
    secret,
    state: 'active',
    disabledReason: null,
    consecutiveFailures: 0,
    createdAt: new Date(),
  };
  await insertSubscription(env.DB, row);
  return { ...view(row), secret };
}

async function own(env: Env, projectId: string, id: string): Promise<SubscriptionRow> {
  const s = await findSubscription(env.DB, id);
  if (!s || s.projectId !== projectId)
    throw new DomainError('not_found', `no subscription with id '${id}'`);
  return s;
}

export async function getSubscription(env: Env, projectId: string, id: string) {
  return view(await own(env, projectId, id));
}

export async function getSubscriptions(env: Env, projectId: string) {
  return (await listSubscriptions(env.DB, projectId)).map(view);
}

/** Re-enable a disabled subscription (after fixing the receiver). */
export async function enableSubscription(env: Env, projectId: string, id: string) {
  await own(env, projectId, id);
  await updateSubscription(env.DB, id, {
    state: 'active',
    disabledReason: null,
    consecutiveFailures: 0,
  });
  return view(await own(env, projectId, id));
}

const attemptView = (a: NotificationAttemptRow): z.output<typeof AttemptSchema> => ({
  message_id: a.messageId,
  event: a.event,
  attempt: a.attempt,
  ok: a.ok,
  response_status: a.responseStatus,
  error: a.error,
  at: a.at.toISOString(),
});

export async function getDeliveries(env: Env, projectId: string, id: string) {
  await own(env, projectId, id);
  return (await listAttempts(env.DB, id)).map(attemptView);
}

/** POST one signed delivery; the outcome of this attempt. */
async function deliver(
  sub: SubscriptionRow,
  messageId: string,
  event: StudyEvent,
): Promise<{ ok: boolean; status: number | null; error: string | null }> {
  const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
  const now = new Date();
  const signature = new Webhook(sub.secret).sign(messageId, now, body);
  try {
    const res = await fetch(sub.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'stride-notifications/1',
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    await res.body?.cancel();
    return { ok: res.ok, status: res.status, error: res.ok ? null : `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, status: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The queue consumer of notifications. */
export async function handleNotificationBatch(
  batch: MessageBatch<NotificationMessage>,
  env: Env,
): Promise<void> {
  for (const message of batch.messages) {
    const m = message.body;
    try {
      if (m.kind === 'event') {
        const subs = (await matchingSubscriptions(env.DB, m.project_id, m.study_id)).filter((s) =>
          s.events.includes(m.event.type),
        );
        if (subs.length > 0) {
          await env.NOTIFICATIONS.sendBatch(
            subs.map((s) => ({
              body: {
                kind: 'deliver',
                subscription_id: s.id,
                message_id: `msg_${m.event.id}_${s.id}`,
                event: m.event,
              } satisfies NotificationMessage,
              contentType: 'json' as const,
            })),
          );
        }
        message.ack();
        continue;
      }
      const sub = await findSubscription(env.DB, m.subscription_id);
      if (!sub || sub.state !== 'active') {
        message.ack();
        continue;
      }
      const attempt = message.attempts;
      const r = await deliver(sub, m.message_id, m.event);
      await insertAttempt(env.DB, {
        subscriptionId: sub.id,
        messageId: m.message_id,
        event: m.event.type,
        attempt,
        ok: r.ok,
        responseStatus: r.status,
        error: r.error,
        at: new Date(),
      });
      if (r.ok) {
        if (sub.consecutiveFailures !== 0)
          await updateSubscription(env.DB, sub.id, { consecutiveFailures: 0 });
        message.ack();
        continue;
      }
      const failures = sub.consecutiveFailures + 1;
      if (failures >= readConfig(env).notifyDisableAfter) {
        await updateSubscription(env.DB, sub.id, {
          consecutiveFailures: failures,
          state: 'disabled',
          disabledReason: `disabled after ${failures} failed deliveries in a row (last: ${r.error}); fix the receiver, then POST /v1/subscriptions/${sub.id}/enable`,
        });
        message.ack();
      } else {
        await updateSubscription(env.DB, sub.id, { consecutiveFailures: failures });
        if (attempt < MAX_ATTEMPTS)
          message.retry({ delaySeconds: exponentialBackoffMs(attempt, 1000) / 1000 });
        else message.ack(); // given up on this event; the log shows every attempt
      }
    } catch (err) {
      console.error('notification message failed', err);
      message.retry({ delaySeconds: 5 });
    }
  }
}

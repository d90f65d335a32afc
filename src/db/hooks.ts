/** Queries of templates, triggers, their deliveries, and outbound subscriptions with their attempt log. */
import { and, desc, eq, isNull, or } from 'drizzle-orm';
import { database } from './client';
import * as schema from './schema';

export type TemplateRow = typeof schema.templates.$inferSelect;
export type TriggerRow = typeof schema.triggers.$inferSelect;
export type HookDeliveryRow = typeof schema.hookDeliveries.$inferSelect;
export type SubscriptionRow = typeof schema.subscriptions.$inferSelect;
export type NotificationAttemptRow = typeof schema.notificationAttempts.$inferSelect;

export async function insertTemplate(d1: D1Database, row: TemplateRow): Promise<void> {
  await database(d1).insert(schema.templates).values(row);
}

export async function findTemplate(
  d1: D1Database,
  projectId: string,
  id: string,
): Promise<TemplateRow | undefined> {
  return database(d1).query.templates.findFirst({
    where: and(eq(schema.templates.id, id), eq(schema.templates.projectId, projectId)),
  });
}

export async function insertTrigger(d1: D1Database, row: TriggerRow): Promise<void> {
  await database(d1).insert(schema.triggers).values(row);
}

/** A trigger by id alone: /hooks/{id} has no API key, the signature proves the sender. */
export async function findTriggerById(d1: D1Database, id: string): Promise<TriggerRow | undefined> {
  return database(d1).query.triggers.findFirst({ where: eq(schema.triggers.id, id) });
}

export async function findTrigger(
  d1: D1Database,
  projectId: string,
  id: string,
): Promise<TriggerRow | undefined> {
  return database(d1).query.triggers.findFirst({
    where: and(eq(schema.triggers.id, id), eq(schema.triggers.projectId, projectId)),
  });
}

export async function findHookDelivery(
  d1: D1Database,
  triggerId: string,
  deliveryId: string,
): Promise<HookDeliveryRow | undefined> {
  return database(d1).query.hookDeliveries.findFirst({
    where: and(
      eq(schema.hookDeliveries.triggerId, triggerId),
      eq(schema.hookDeliveries.deliveryId, deliveryId),
    ),
  });
}

/** Record a delivery; false when one with the same id was recorded first. */
export async function insertHookDelivery(d1: D1Database, row: HookDeliveryRow): Promise<boolean> {
  const r = await database(d1)
    .insert(schema.hookDeliveries)
    .values(row)
    .onConflictDoNothing()
    .returning({ id: schema.hookDeliveries.deliveryId });
  return r.length > 0;
}

export async function updateHookDelivery(
  d1: D1Database,
  triggerId: string,
  deliveryId: string,
  set: Partial<HookDeliveryRow>,
): Promise<void> {
  await database(d1)
    .update(schema.hookDeliveries)
    .set(set)
    .where(
      and(
        eq(schema.hookDeliveries.triggerId, triggerId),
        eq(schema.hookDeliveries.deliveryId, deliveryId),
      ),
    );
}

export async function insertSubscription(d1: D1Database, row: SubscriptionRow): Promise<void> {
  await database(d1).insert(schema.subscriptions).values(row);
}

export async function findSubscription(
  d1: D1Database,
  id: string,
): Promise<SubscriptionRow | undefined> {
  return database(d1).query.subscriptions.findFirst({ where: eq(schema.subscriptions.id, id) });
}

export async function listSubscriptions(
  d1: D1Database,
  projectId: string,
): Promise<SubscriptionRow[]> {
  return database(d1)
    .select()
    .from(schema.subscriptions)
    .where(eq(schema.subscriptions.projectId, projectId))
    .orderBy(desc(schema.subscriptions.createdAt));
}

/** Active subscriptions that want `event` for this study (its own, or the project's). */
export async function matchingSubscriptions(
  d1: D1Database,
  projectId: string,
  studyId: string,
): Promise<SubscriptionRow[]> {
  return database(d1)
    .select()
    .from(schema.subscriptions)
    .where(
      and(
        eq(schema.subscriptions.projectId, projectId),
        eq(schema.subscriptions.state, 'active'),
        or(isNull(schema.subscriptions.studyId), eq(schema.subscriptions.studyId, studyId)),
      ),
    );
}

export async function updateSubscription(
  d1: D1Database,
  id: string,
  set: Partial<SubscriptionRow>,
): Promise<void> {
  await database(d1).update(schema.subscriptions).set(set).where(eq(schema.subscriptions.id, id));
}

export async function insertAttempt(
  d1: D1Database,
  row: Omit<NotificationAttemptRow, 'id'>,
): Promise<void> {
  await database(d1).insert(schema.notificationAttempts).values(row);
}

export async function listAttempts(
  d1: D1Database,
  subscriptionId: string,
  limit = 100,
): Promise<NotificationAttemptRow[]> {
  return database(d1)
    .select()
    .from(schema.notificationAttempts)
    .where(eq(schema.notificationAttempts.subscriptionId, subscriptionId))
    .orderBy(desc(schema.notificationAttempts.id))
    .limit(limit);
}

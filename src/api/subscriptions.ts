/** Routes of outbound notification subscriptions and their delivery log. */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import { DomainError, inputError } from '../contract/errors';
import * as notifications from '../services/notifications';
import { getStudy } from '../services/studies';
import { AttemptSchema, SubscriptionCreateSchema, SubscriptionSchema } from '../contract/schemas';
import { body, json, projectOf, route, secured } from './openapi';

const base = secured('Notifications');
const Id = z.object({ id: z.string().min(1).max(64) });

const NOT_FOUND = 'Unknown subscription (or another project’s)';
const create = route({
  ...base,
  operationId: 'createSubscription',
  method: 'post',
  path: '/v1/subscriptions',
  summary:
    "Subscribe a URL to a project's (or one study's) events, delivered as signed Standard Webhooks",
  request: body(SubscriptionCreateSchema),
  responses: {
    201: {
      description: 'The subscription, with its secret (shown once)',
      ...json(SubscriptionSchema),
    },
  },
});
const list = route({
  ...base,
  operationId: 'listSubscriptions',
  method: 'get',
  path: '/v1/subscriptions',
  summary: 'The subscriptions of the project',
  responses: {
    200: {
      description: 'Subscriptions',
      ...json(z.object({ subscriptions: z.array(SubscriptionSchema) })),
    },
  },
});
const get = route(
  {
    ...base,
    operationId: 'getSubscription',
    method: 'get',
    path: '/v1/subscriptions/{id}',
    summary: 'A subscription (state, and why it was disabled)',
    request: { params: Id },
    responses: { 200: { description: 'The subscription', ...json(SubscriptionSchema) } },
  },
  { 404: NOT_FOUND },
);
const deliveries = route(
  {
    ...base,
    operationId: 'listDeliveries',
    method: 'get',
    path: '/v1/subscriptions/{id}/deliveries',
    summary: 'The delivery log: every attempt, newest first',
    request: { params: Id },
    responses: {
      200: { description: 'Attempts', ...json(z.object({ deliveries: z.array(AttemptSchema) })) },
    },
  },
  { 404: NOT_FOUND },
);
const enable = route(
  {
    ...base,
    operationId: 'enableSubscription',
    method: 'post',
    path: '/v1/subscriptions/{id}/enable',
    summary: 'Re-enable a disabled subscription',
    request: { params: Id },
    responses: { 200: { description: 'The subscription', ...json(SubscriptionSchema) } },
  },
  { 404: NOT_FOUND },
);

export function subscriptionRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    if (body.study_id !== undefined) {
      try {
        await getStudy(c.env, projectOf(c), body.study_id);
      } catch (err) {
        if (err instanceof DomainError && err.kind === 'not_found') {
          throw inputError([{ path: 'study_id', message: `no study with id '${body.study_id}'` }]);
        }
        throw err;
      }
    }
    return c.json(await notifications.createSubscription(c.env, projectOf(c), body), 201);
  });
  app.openapi(list, async (c) =>
    c.json({ subscriptions: await notifications.getSubscriptions(c.env, projectOf(c)) }, 200),
  );
  app.openapi(get, async (c) =>
    c.json(await notifications.getSubscription(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
  app.openapi(deliveries, async (c) =>
    c.json(
      {
        deliveries: await notifications.getDeliveries(c.env, projectOf(c), c.req.valid('param').id),
      },
      200,
    ),
  );
  app.openapi(enable, async (c) =>
    c.json(
      await notifications.enableSubscription(c.env, projectOf(c), c.req.valid('param').id),
      200,
    ),
  );
}

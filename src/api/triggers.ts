/** Routes of templates, triggers and the webhook receiver (/hooks/{trigger_id}, no API key: the signature is the proof). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import * as triggers from '../services/triggers';
import {
  HookAnswerSchema,
  TemplateCreateSchema,
  TemplateSchema,
  TriggerCreateSchema,
  TriggerSchema,
} from '../contract/schemas';
import { body, json, problem, projectOf, route, secured } from './openapi';

const base = secured('Webhooks');
const Id = z.object({ id: z.string().min(1).max(64) });

const createTemplate = route({
  ...base,
  operationId: 'createTemplate',
  method: 'post',
  path: '/v1/templates',
  summary: 'Store a study template',
  request: body(TemplateCreateSchema),
  responses: { 201: { description: 'The template', ...json(TemplateSchema) } },
});
const getTemplate = route(
  {
    ...base,
    operationId: 'getTemplate',
    method: 'get',
    path: '/v1/templates/{id}',
    summary: 'A template',
    request: { params: Id },
    responses: { 200: { description: 'The template', ...json(TemplateSchema) } },
  },
  { 404: 'Unknown template (or another project’s)' },
);
const createTrigger = route({
  ...base,
  operationId: 'createTrigger',
  method: 'post',
  path: '/v1/triggers',
  summary: 'Bind a template to a webhook secret and a filter; events at /hooks/{id} create studies',
  request: body(TriggerCreateSchema),
  responses: {
    201: { description: 'The trigger, with its secret (shown once)', ...json(TriggerSchema) },
  },
});
const getTrigger = route(
  {
    ...base,
    operationId: 'getTrigger',
    method: 'get',
    path: '/v1/triggers/{id}',
    summary: 'A trigger (without its secret)',
    request: { params: Id },
    responses: { 200: { description: 'The trigger', ...json(TriggerSchema) } },
  },
  { 404: 'Unknown trigger (or another project’s)' },
);
const hook = createRoute({
  operationId: 'receiveHook',
  method: 'post',
  path: '/hooks/{id}',
  tags: ['Webhooks'],
  summary: 'Receive an event for a trigger (GitHub or Standard Webhooks signature; no API key)',
  request: { params: Id },
  responses: {
    202: {
      description:
        'Created a study, or ignored the event (with the reason); a repeated delivery id answers the same',
      ...json(HookAnswerSchema),
    },
    400: problem('The body is not JSON (checked after the signature), or no delivery id'),
    401: problem('Missing or bad signature, or a stale timestamp'),
    404: problem('Unknown trigger'),
    409: problem(
      "Another copy of this delivery is still being processed (retry it), or the trigger's template is gone",
    ),
    413: problem('The delivery body is over 1 MB'),
    422: problem(
      'An invalid trigger id, or the template filled with this event is not a valid study (a placeholder the event lacks, a bad value); redeliveries answer the same',
    ),
  },
});

export function triggerRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createTemplate, async (c) => {
    const b = c.req.valid('json');
    return c.json(await triggers.createTemplate(c.env, projectOf(c), b.name, b.study), 201);
  });
  app.openapi(getTemplate, async (c) =>
    c.json(await triggers.getTemplate(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
  app.openapi(createTrigger, async (c) =>
    c.json(await triggers.createTrigger(c.env, projectOf(c), c.req.valid('json')), 201),
  );
  app.openapi(getTrigger, async (c) =>
    c.json(await triggers.getTrigger(c.env, projectOf(c), c.req.valid('param').id), 200),
  );
  app.openapi(hook, async (c) =>
    c.json(
      await triggers.handleHook(
        c.env,
        c.req.valid('param').id,
        c.req.raw.headers,
        new Uint8Array(await c.req.arrayBuffer()),
      ),
      202,
    ),
  );
}

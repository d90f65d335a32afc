/** Routes of templates, triggers and the webhook receiver (/hooks/{trigger_id}, no API key: the signature is the proof). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import * as triggers from '../services/triggers';
import { boundedJson, MAX_JSON_BYTES, MAX_JSON_DEPTH } from '../lib/json-bounds';
import { body, json, problem, projectOf, route, secured } from './openapi';

const base = secured('Webhooks');
const Id = z.object({ id: z.string().min(1).max(64) });

const TemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    study: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('Template', {
    description:
      'A study body whose name and metadata strings may hold {{placeholders}}: repository, sha, ref, branch, event, action, sender, pr_number, label, delivery (GitHub); type and the data fields (Standard Webhooks).',
  });
const FilterSchema = z
  .strictObject({
    events: z.array(z.string().min(1).max(100)).max(50).optional(),
    branches: z.array(z.string().min(1).max(200)).max(50).optional(),
    labels: z.array(z.string().min(1).max(200)).max(50).optional(),
    actions: z.array(z.string().min(1).max(100)).max(50).optional(),
  })
  .openapi('TriggerFilter');
const TriggerSchema = z
  .object({
    id: z.string(),
    template_id: z.string(),
    kind: z.enum(['github', 'standard']),
    filter: z.object({
      events: z.array(z.string()),
      branches: z.array(z.string()),
      labels: z.array(z.string()),
      actions: z.array(z.string()),
    }),
    url: z
      .string()
      .openapi({ description: 'Where to send events: POST, relative to the service.' }),
    created_at: z.string(),
    secret: z.string().optional().openapi({ description: 'Only in the answer to the creation.' }),
  })
  .openapi('Trigger');
const HookAnswerSchema = z
  .object({
    status: z.enum(['created', 'ignored']),
    study_id: z.string().optional(),
    reason: z.string().optional(),
    delivery_id: z.string(),
  })
  .openapi('HookAnswer');

const createTemplate = route({
  ...base,
  operationId: 'createTemplate',
  method: 'post',
  path: '/v1/templates',
  summary: 'Store a study template',
  request: body(
    z.strictObject({
      name: z.string().min(1).max(200),
      study: boundedJson(z.record(z.string(), z.unknown()), {
        depth: 2 * MAX_JSON_DEPTH,
        bytes: 4 * MAX_JSON_BYTES,
      }),
    }),
  ),
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
  request: body(
    z.strictObject({
      template_id: z.string().min(1).max(64),
      kind: z.enum(['github', 'standard']).default('github'),
      filter: FilterSchema.default({}),
      secret: z
        .string()
        .min(16)
        .max(200)
        .optional()
        .openapi({ description: 'Default: generated (whsec_... for standard).' }),
    }),
  ),
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

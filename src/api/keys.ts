/** Routes of projects and API keys (the admin token, or a key with the admin scope). */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import * as keys from '../services/keys';
import {
  KeyCreateSchema,
  KeySchema,
  ProjectCreateSchema,
  ProjectSchema,
} from '../contract/schemas';
import { body, json, route, secured } from './openapi';

const base = secured('Projects and keys');

const createProject = route(
  {
    ...base,
    operationId: 'createProject',
    method: 'post',
    path: '/v1/projects',
    summary: 'Create a project (admin token)',
    request: body(ProjectCreateSchema),
    responses: { 201: { description: 'The project', ...json(ProjectSchema) } },
  },
  { 409: 'A project with that name exists' },
);
const listProjects = route({
  ...base,
  operationId: 'listProjects',
  method: 'get',
  path: '/v1/projects',
  summary: 'Projects (all with the admin token; its own with an admin key)',
  responses: {
    200: { description: 'The projects', ...json(z.object({ projects: z.array(ProjectSchema) })) },
  },
});
const createKey = route(
  {
    ...base,
    operationId: 'createKey',
    method: 'post',
    path: '/v1/keys',
    summary: 'Create an API key; its secret is in this answer only',
    request: body(KeyCreateSchema),
    responses: {
      201: {
        description: 'The key, with `secret`',
        ...json(KeySchema.extend({ secret: z.string() })),
      },
    },
  },
  { 404: 'Unknown project_id (or another project’s)' },
);
const listKeys = route(
  {
    ...base,
    operationId: 'listKeys',
    method: 'get',
    path: '/v1/keys',
    summary: 'The keys of a project (without secrets)',
    request: { query: z.strictObject({ project_id: z.string().max(64).optional() }) },
    responses: {
      200: { description: 'The keys', ...json(z.object({ keys: z.array(KeySchema) })) },
    },
  },
  { 404: 'Unknown project_id (or another project’s)' },
);
const revokeKey = route(
  {
    ...base,
    operationId: 'revokeKey',
    method: 'delete',
    path: '/v1/keys/{id}',
    summary: 'Revoke a key: it stops working at once',
    request: { params: z.object({ id: z.string().min(1).max(64) }) },
    responses: { 200: { description: 'The revoked key', ...json(KeySchema) } },
  },
  { 404: 'Unknown key (or another project’s)' },
);

export function keyRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createProject, async (c) =>
    c.json(await keys.createProject(c.env, c.get('auth'), c.req.valid('json').name), 201),
  );
  app.openapi(listProjects, async (c) =>
    c.json({ projects: await keys.getProjects(c.env, c.get('auth')) }, 200),
  );
  app.openapi(createKey, async (c) =>
    c.json(await keys.createKey(c.env, c.get('auth'), c.req.valid('json')), 201),
  );
  app.openapi(listKeys, async (c) =>
    c.json(
      { keys: await keys.getKeys(c.env, c.get('auth'), c.req.valid('query').project_id) },
      200,
    ),
  );
  app.openapi(revokeKey, async (c) =>
    c.json(await keys.deleteKey(c.env, c.get('auth'), c.req.valid('param').id), 200),
  );
}

/** Projects and API keys: created by the admin token (or a key with the admin scope, in its own project). */
import { sha256Hex } from '../lib/hash';
import { newId, randomBase64Url } from '../lib/ids';
import { DomainError } from '../contract/errors';
import type { Principal, Scope } from '../contract/auth';
import type { z } from 'zod';
import type { KeyCreateSchema, KeySchema, ProjectSchema } from '../contract/schemas';
import {
  findKey,
  findProject,
  findProjectByName,
  insertKey,
  insertProject,
  listKeys,
  listProjects,
  revokeKey,
  type ApiKeyRow,
  type ProjectRow,
} from '../db/keys';
import { DEFAULT_PROJECT_ID } from '../db/schema';

/** A project as the API answers it (the Project schema). */
export type ProjectView = z.output<typeof ProjectSchema>;
/** A key as the API answers it, without its secret (the ApiKey schema). */
export type KeyView = z.output<typeof KeySchema>;

const projectView = (p: ProjectRow): ProjectView => ({
  id: p.id,
  name: p.name,
  created_at: p.createdAt.toISOString(),
});
const keyView = (k: ApiKeyRow): KeyView => ({
  id: k.id,
  project_id: k.projectId,
  name: k.name,
  scopes: k.scopes as Scope[],
  prefix: k.prefix,
  rate_limit_per_minute: k.rateLimitPerMinute,
  created_at: k.createdAt.toISOString(),
  revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
});

/** The default project exists from its first use (it holds the development keys' resources). */
async function ensureDefaultProject(env: Env): Promise<void> {
  await insertProject(env.DB, { id: DEFAULT_PROJECT_ID, name: 'default', createdAt: new Date() });
}

export async function createProject(
  env: Env,
  principal: Principal,
  name: string,
): Promise<ProjectView> {
  if (principal.kind !== 'admin-token')
    throw new DomainError('forbidden', 'only the admin token creates projects');
  if (await findProjectByName(env.DB, name))
    throw new DomainError('conflict', `a project named '${name}' exists`);
  const row = { id: newId('prj'), name, createdAt: new Date() };
  if (!(await insertProject(env.DB, row)))
    throw new DomainError('conflict', `a project named '${name}' exists`);
  return projectView(row);
}

export async function getProjects(env: Env, principal: Principal): Promise<ProjectView[]> {
  await ensureDefaultProject(env);
  const all = await listProjects(env.DB);
  return all
    .filter((p) => principal.kind === 'admin-token' || p.id === principal.projectId)
    .map(projectView);
}

/** The project a key-management call acts on: the admin token names it; an admin key acts on its own. */
async function targetProject(
  env: Env,
  principal: Principal,
  projectId: string | undefined,
): Promise<string> {
  if (principal.kind === 'admin-token') {
    if (!projectId)
      throw new DomainError('invalid', 'project_id: required with the admin token', {
        issues: [{ path: 'project_id', message: 'required with the admin token' }],
      });
    if (projectId === DEFAULT_PROJECT_ID) await ensureDefaultProject(env);
    if (!(await findProject(env.DB, projectId)))
      throw new DomainError('not_found', `no project with id '${projectId}'`);
    return projectId;
  }
  const own = principal.projectId!;
  // Another project's id is unknown to this key: 404, not 403.
  if (projectId && projectId !== own)
    throw new DomainError('not_found', `no project with id '${projectId}'`);
  if (own === DEFAULT_PROJECT_ID) await ensureDefaultProject(env);
  return own;
}

export async function createKey(
  env: Env,
  principal: Principal,
  body: z.output<typeof KeyCreateSchema>,
): Promise<KeyView & { secret: string }> {
  const projectId = await targetProject(env, principal, body.project_id);
  const secret = `sk_${randomBase64Url(32)}`;
  const row: ApiKeyRow = {
    id: newId('key'),
    projectId,
    name: body.name,
    scopes: [...new Set(body.scopes)],
    secretHash: await sha256Hex(secret),
    prefix: secret.slice(0, 10),
    rateLimitPerMinute: body.rate_limit_per_minute ?? null,
    createdAt: new Date(),
    revokedAt: null,
  };
  await insertKey(env.DB, row);
  return { ...keyView(row), secret };
}

export async function getKeys(
  env: Env,
  principal: Principal,
  projectId: string | undefined,
): Promise<KeyView[]> {
  const target = await targetProject(env, principal, projectId);
  return (await listKeys(env.DB, target)).map(keyView);
}

export async function deleteKey(env: Env, principal: Principal, id: string): Promise<KeyView> {
  const row = await findKey(env.DB, id);
  if (!row || (principal.kind !== 'admin-token' && row.projectId !== principal.projectId))
    throw new DomainError('not_found', `no key with id '${id}'`);
  if (!row.revokedAt) await revokeKey(env.DB, id, new Date());
  return keyView((await findKey(env.DB, id))!);
}

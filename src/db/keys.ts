/** Queries of projects and API keys. */
import { and, asc, eq, isNull } from 'drizzle-orm';
import { database } from './client';
import * as schema from './schema';

export type ProjectRow = typeof schema.projects.$inferSelect;
export type ApiKeyRow = typeof schema.apiKeys.$inferSelect;

export async function insertProject(d1: D1Database, row: ProjectRow): Promise<boolean> {
  const r = await database(d1)
    .insert(schema.projects)
    .values(row)
    .onConflictDoNothing()
    .returning({ id: schema.projects.id });
  return r.length > 0;
}

export async function findProject(d1: D1Database, id: string): Promise<ProjectRow | undefined> {
  return database(d1).query.projects.findFirst({ where: eq(schema.projects.id, id) });
}

export async function findProjectByName(
  d1: D1Database,
  name: string,
): Promise<ProjectRow | undefined> {
  return database(d1).query.projects.findFirst({ where: eq(schema.projects.name, name) });
}

export async function listProjects(d1: D1Database): Promise<ProjectRow[]> {
  return database(d1).select().from(schema.projects).orderBy(asc(schema.projects.createdAt));
}

export async function insertKey(d1: D1Database, row: ApiKeyRow): Promise<void> {
  await database(d1).insert(schema.apiKeys).values(row);
}

/** The live (not revoked) key with this secret hash. */
export async function findKeyByHash(
  d1: D1Database,
  secretHash: string,
): Promise<ApiKeyRow | undefined> {
  return database(d1).query.apiKeys.findFirst({
    where: and(eq(schema.apiKeys.secretHash, secretHash), isNull(schema.apiKeys.revokedAt)),
  });
}

export async function findKey(d1: D1Database, id: string): Promise<ApiKeyRow | undefined> {
  return database(d1).query.apiKeys.findFirst({ where: eq(schema.apiKeys.id, id) });
}

export async function listKeys(d1: D1Database, projectId: string): Promise<ApiKeyRow[]> {
  return database(d1)
    .select()
    .from(schema.apiKeys)
    .where(eq(schema.apiKeys.projectId, projectId))
    .orderBy(asc(schema.apiKeys.createdAt));
}

export async function revokeKey(d1: D1Database, id: string, at: Date): Promise<void> {
  await database(d1)
    .update(schema.apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(schema.apiKeys.id, id), isNull(schema.apiKeys.revokedAt)));
}

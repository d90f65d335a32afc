/** Small helpers the route files share to describe their requests and answers in the OpenAPI document. */
import type { z } from '@hono/zod-openapi';
import type { Principal } from './auth';
import { ProblemSchema } from './schemas';

/** An error answer: problem+json, with what it means for this route. */
export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

/** A JSON body (of a request or an answer) with this schema. */
export const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });

/** A required JSON request body. */
export const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, ...json(schema) } });

/** Tags and bearer auth of a group of /v1 routes. */
export const secured = (tag: string) => ({ tags: [tag], security: [{ bearer: [] as string[] }] });

/** The caller's project: every /v1 call has an authenticated key with one (auth.ts). */
export const projectOf = (c: { get: (k: 'auth') => Principal }) => c.get('auth').projectId!;

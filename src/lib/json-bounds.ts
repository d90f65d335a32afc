/**
 * Bounds on free-form JSON fields (a study's metadata, sampler and pruner
 * options, a template's body): how deep they nest and how large they are.
 * Stored free-form JSON ends up inside D1 rows that SQL reads with
 * json_extract, and SQLite calls JSON nested deeper than 1000 levels
 * malformed; far below that, nothing real nests 32 levels deep.
 *
 * `boundedJson(schema)` adds the check as a zod refinement (no change to the
 * OpenAPI document): too deep is a 422 naming the field ("metadata: nested
 * deeper than 32 levels"), too large an issue marked with status 413, which
 * `boundsStatus` finds so the request answers 413.
 */
import type { z } from 'zod';

export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_BYTES = 64 * 1024;

/**
 * Whether `value` nests deeper than `max` levels (an object or array is one
 * level; scalars none). Iterative, and stops at the first too-deep point, so
 * any parsed body is safe to check.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The refinement: `schema`, with its value at most `depth` levels deep and `bytes` bytes of JSON. */
export function boundedJson<T extends z.ZodType>(
  schema: T,
  bounds: { depth?: number; bytes?: number } = {},
): T {
  const depth = bounds.depth ?? MAX_JSON_DEPTH;
  const bytes = bounds.bytes ?? MAX_JSON_BYTES;
  return schema.superRefine((value, ctx) => {
    if (nestsDeeperThan(value, depth)) {
      ctx.addIssue({
        code: 'custom',
        message: `nested deeper than ${depth} levels`,
        params: { status: 422 },
      });
      return;
    }
    const size = new TextEncoder().encode(JSON.stringify(value) ?? '').length;
    if (size > bytes) {
      ctx.addIssue({
        code: 'custom',
        message: `${size} bytes of JSON, over the limit of ${bytes}`,
        params: { status: 413 },
      });
    }
  }) as unknown as T;
}

/** 413 when a validation error holds a size bound's issue, else 422. */
export function boundsStatus(error: z.ZodError): 413 | 422 {
  return error.issues.some(
    (i) => i.code === 'custom' && (i as { params?: { status?: number } }).params?.status === 413,
  )
    ? 413
    : 422;
}

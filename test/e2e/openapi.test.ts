// The OpenAPI document validates as OpenAPI 3.1 (test/openapi.test.ts, in
// workerd, checks that every route is in it).
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { URL } from './helpers';

describe('OpenAPI document', () => {
  it('validates as OpenAPI 3.1', async () => {
    const doc = (await (await fetch(`${URL}/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc));
    expect(
      result.valid,
      JSON.stringify((result as { errors?: unknown[] }).errors?.slice(0, 5)),
    ).toBe(true);
  });
});

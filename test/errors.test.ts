// Bad input is a 422 that names the parameter or field, in words a client can act on: decimal trial
// numbers only, unknown query parameters and body fields refused with the closest known name,
// missing fields "required".
import { describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { z } from 'zod';
import { api, json, post } from './helpers';
import { closest, editDistance } from '../src/lib/names';
import { createApp } from '../src/app';
import { zodErrorMap } from '../src/api/problem';

async function studyWithRunningTrial() {
  const study = await json(
    post('/v1/studies', {
      name: 'errors',
      space: { lr: { type: 'float', low: 0.001, high: 1, log: true } },
    }),
  );
  await post(`/v1/studies/${study.id}/ask`);
  return study.id as string;
}

const problemOf = async (res: Response | Promise<Response>) => {
  const r = await res;
  expect(r.headers.get('content-type')).toMatch(/problem\+json/);
  return { status: r.status, ...((await r.json()) as any) };
};

describe('numbers in paths and queries are decimal integers', () => {
  it('refuses 0x1, 0e5, 01, -1, 1.5, +1 and 1e3 as trial numbers with a 422 naming the parameter', async () => {
    const id = await studyWithRunningTrial();
    for (const n of [
      '0x1',
      '0e5',
      '00',
      '01',
      '-1',
      '1.5',
      '+1',
      '1e3',
      'one',
      '99999999999999999999',
    ]) {
      for (const op of ['tell', 'report', 'heartbeat', 'release']) {
        const body =
          op === 'report'
            ? { step: 0, value: 1 }
            : op === 'tell'
              ? { value: 1 }
              : { lease_token: 'x' };
        const p = await problemOf(
          post(`/v1/studies/${id}/trials/${encodeURIComponent(n)}/${op}`, body),
        );
        expect(p.status, `${op} ${n}`).toBe(422);
        expect(
          p.errors.map((e: any) => e.path),
          `${op} ${n}`,
        ).toEqual(['number']);
        expect(p.detail).toMatch(/^number: expected a decimal integer/);
      }
    }
    // 0e5 was read as 0: trial 0 is untouched, and takes its tell at its own number.
    expect((await json(api(`/v1/studies/${id}/trials`))).trials[0].state).toBe('running');
    expect((await post(`/v1/studies/${id}/trials/0/tell`, { value: 0.5 })).status).toBe(200);
    expect((await post(`/v1/studies/${id}/trials/1000001/tell`, { value: 0.5 })).status).toBe(422);
  });

  it('refuses a limit that is not a decimal integer from 1 to 100', async () => {
    for (const limit of ['0x10', '1e1', '0', '101', '05']) {
      const p = await problemOf(api(`/v1/studies?limit=${limit}`));
      expect(p.status, limit).toBe(422);
      expect(p.errors[0].path).toBe('limit');
    }
    expect((await api('/v1/studies?limit=10')).status).toBe(200);
  });
});

describe('unknown query parameters are a 422, like unknown body fields', () => {
  it('names the parameter and the closest known one', async () => {
    const p = await problemOf(api('/v1/studies?curser=x'));
    expect(p.status).toBe(422);
    expect(p.errors).toEqual([
      { path: 'curser', message: "unknown query parameter 'curser': did you mean 'cursor'?" },
    ]);
    expect(p.detail).toBe("curser: unknown query parameter 'curser': did you mean 'cursor'?");
    const keys = await problemOf(api('/v1/keys?projectid=x', { key: env.STRIDE_ADMIN_TOKEN }));
    expect(keys.errors[0].message).toBe(
      "unknown query parameter 'projectid': did you mean 'project_id'?",
    );
  });

  it('on routes that take none, too', async () => {
    const id = await studyWithRunningTrial();
    const get = await problemOf(api(`/v1/studies/${id}?verbose=1`));
    expect(get.status).toBe(422);
    expect(get.errors).toEqual([
      { path: 'verbose', message: "unknown query parameter 'verbose' (there are none)" },
    ]);
    expect((await api(`/v1/studies/${id}/ask?count=2`, { method: 'POST' })).status).toBe(422);
    expect((await api('/v1/subscriptions?x=1')).status).toBe(422);
    // Without them, the same calls work.
    expect((await api(`/v1/studies/${id}`)).status).toBe(200);
  });
});

describe('body errors name the field, and the closest known one for a typo', () => {
  it('a typo on tell suggests the field; a missing one says required', async () => {
    const id = await studyWithRunningTrial();
    const typo = await problemOf(post(`/v1/studies/${id}/trials/0/tell`, { valeu: 0.5 }));
    expect(typo.status).toBe(422);
    expect(typo.errors[0]).toEqual({
      path: 'valeu',
      message: "unknown field 'valeu': did you mean 'value'?",
    });
    expect(typo.detail).toContain("valeu: unknown field 'valeu': did you mean 'value'?");
    const missing = await problemOf(post(`/v1/studies/${id}/trials/0/report`, { step: 1 }));
    expect(missing.errors).toEqual([{ path: 'value', message: 'required' }]);
    expect(missing.detail).toBe('value: required');
    expect(JSON.stringify(missing)).not.toMatch(/Invalid input|received undefined/);
    const far = await problemOf(post(`/v1/studies/${id}/ask`, { zzz: 1 }));
    // /ask takes number or fresh (define-by-run storages): a field far from both names them.
    expect(far.errors).toEqual([
      { path: 'zzz', message: "unknown field 'zzz' (known: 'number', 'fresh')" },
    ]);
    const batch = await problemOf(post(`/v1/studies/${id}/ask-batch`, { cuont: 2 }));
    expect(batch.errors).toEqual(
      expect.arrayContaining([
        { path: 'cuont', message: "unknown field 'cuont': did you mean 'count'?" },
      ]),
    );
  });

  it('nested fields, options and discriminators get suggestions too', async () => {
    const p = await problemOf(
      post('/v1/studies', {
        nme: 'x',
        space: { lr: { type: 'float', low: 0.1, high: 1 } },
        sampler: { name: 'tpee' },
        executor: { kind: 'runner', max_paralel: 2 },
      }),
    );
    expect(p.status).toBe(422);
    expect(p.errors).toEqual(
      expect.arrayContaining([
        { path: 'nme', message: "unknown field 'nme': did you mean 'name'?" },
        {
          path: 'executor.max_paralel',
          message: "unknown field 'max_paralel': did you mean 'max_parallel'?",
        },
        { path: 'name', message: 'required' },
        {
          path: 'sampler.name',
          message:
            "expected one of 'auto', 'tpe', 'gp', 'random', 'qmc', 'grid', 'nsga2': did you mean 'tpe'?",
        },
      ]),
    );
    const kind = await problemOf(
      post('/v1/studies', { name: 'x', space: {}, executor: { kind: 'runer' } }),
    );
    expect(kind.errors).toContainEqual({
      path: 'executor.kind',
      message: "expected one of 'client', 'runner', 'edge': did you mean 'runner'?",
    });
    const wrongType = await problemOf(post('/v1/studies', { name: 3, space: {} }));
    expect(wrongType.errors).toContainEqual({
      path: 'name',
      message: 'expected string, got a number',
    });
  });

  it('suggests only plausible typos', () => {
    expect(editDistance('valeu', 'value')).toBe(1);
    expect(editDistance('curser', 'cursor')).toBe(1);
    expect(closest('valeu', ['value', 'state'])).toBe('value');
    expect(closest('zzz', ['count'])).toBeNull();
    expect(closest('id', ['ok'])).toBeNull();
    expect(closest('Limit', ['limit', 'cursor'])).toBe('limit');
  });
});

describe("the API's zod messages are installed by createApp, not by an import", () => {
  it('importing api/problem.ts leaves zod config alone; createApp installs zodErrorMap', async () => {
    const before = z.config().customError;
    try {
      z.config({ customError: undefined });
      vi.resetModules();
      const fresh = await import('../src/api/problem');
      // A new instance of the module was evaluated (the check is not vacuous)...
      expect(fresh.zodErrorMap).not.toBe(zodErrorMap);
      // ...and it did not touch zod's config.
      expect(z.config().customError).toBeUndefined();
      const schema = z.strictObject({ name: z.string() });
      expect(schema.safeParse({}).error?.issues[0].message).not.toBe('required');
      createApp();
      expect(z.config().customError).toBe(zodErrorMap);
      expect(schema.safeParse({}).error?.issues[0].message).toBe('required');
      expect(schema.safeParse({ name: 'x', nmae: 'y' }).error?.issues[0].message).toBe(
        "unknown field 'nmae': did you mean 'name'?",
      );
    } finally {
      z.config({ customError: before });
    }
  });
});

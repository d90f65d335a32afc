// Free-form JSON fields are bounded (depth and size), and the queries that read
// stored study configs with json_extract survive any stored row, even one
// SQLite calls malformed (nested deeper than its 1000 levels).
import { describe, it, expect } from 'vitest';
import { env } from 'cloudflare:workers';
import { json, post } from './helpers';
import { nestsDeeperThan } from '../src/lib/json-bounds';

const SPACE = { lr: { type: 'float', low: 1e-5, high: 1, log: true } };

/** {"a": {"a": ... {"a": 1}}}: `levels` objects deep. */
function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

describe('free-form JSON bounds', () => {
  it('measures depth without recursion, objects and arrays alike', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 1)).toBe(true);
    expect(nestsDeeperThan(nested(32), 32)).toBe(false);
    expect(nestsDeeperThan(nested(33), 32)).toBe(true);
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(nestsDeeperThan(deep, 32)).toBe(true);
  });

  it('422 naming metadata for metadata nested 40 levels; 32 levels is fine', async () => {
    const ok = await post('/v1/studies', { name: 'm32', space: SPACE, metadata: nested(32) });
    expect(ok.status).toBe(201);
    const res = await post('/v1/studies', { name: 'm40', space: SPACE, metadata: nested(40) });
    expect(res.status).toBe(422);
    const p = (await res.json()) as any;
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(p.detail).toBe('metadata: nested deeper than 32 levels');
    expect(p.errors).toEqual([{ path: 'metadata', message: 'nested deeper than 32 levels' }]);
  });

  it('413 naming metadata for metadata over 64 KB', async () => {
    const res = await post('/v1/studies', {
      name: 'big',
      space: SPACE,
      metadata: { notes: 'x'.repeat(70_000) },
    });
    expect(res.status).toBe(413);
    const p = (await res.json()) as any;
    expect(p.type).toMatch(/too-large$/);
    expect(p.errors[0].path).toBe('metadata');
    expect(p.detail).toMatch(/^metadata: \d+ bytes of JSON, over the limit of 65536$/);
  });

  it('bounds sampler and pruner options and templates the same way', async () => {
    const sampler = await post('/v1/studies', {
      name: 's',
      space: SPACE,
      sampler: { name: 'random', extra: nested(40) },
    });
    expect(sampler.status).toBe(422);
    expect(((await sampler.json()) as any).errors[0]).toEqual({
      path: 'sampler',
      message: 'nested deeper than 32 levels',
    });
    const pruner = await post('/v1/studies', {
      name: 'p',
      space: SPACE,
      pruner: { name: 'median', extra: nested(40) },
    });
    expect(((await pruner.json()) as any).errors[0].path).toBe('pruner');
    const template = await post('/v1/templates', {
      name: 't',
      study: { name: 'x', space: SPACE, metadata: nested(40) },
    });
    expect(template.status).toBe(422);
    expect(((await template.json()) as any).errors[0]).toEqual({
      path: 'study.metadata',
      message: 'nested deeper than 32 levels',
    });
    const deepTemplate = await post('/v1/templates', {
      name: 't',
      study: { name: 'x', space: SPACE, metadata: nested(900) },
    });
    expect(deepTemplate.status).toBe(422);
    expect(((await deepTemplate.json()) as any).errors[0].path).toBe('study');
    const bigTemplate = await post('/v1/templates', {
      name: 't',
      study: { name: 'x', space: SPACE, metadata: { notes: 'x'.repeat(300_000) } },
    });
    expect(bigTemplate.status).toBe(413);
  });
});

describe('a stored study config SQLite cannot read', () => {
  it('does not break leasing without a study id, nor lr/suggest with a context, for its project', async () => {
    // Rows written straight into D1 (as a study stored before the bounds existed would be):
    // configs nested 1,100 levels deep, which json_extract calls malformed.
    const deep = JSON.stringify({
      executor: { kind: 'runner' },
      metadata: { context: { optimizer: 'adam' }, deep: nested(1100) },
    });
    const now = Date.now();
    for (const [id, state] of [
      ['std_01J0DEEPJS0N0000000000000R', 'running'],
      ['std_01J0DEEPJS0N0000000000000C', 'completed'],
    ] as const) {
      await env.DB.prepare(
        `INSERT INTO studies (id, project_id, name, direction, metric, config, state, n_trials, best_trial_number, best_value, created_at, updated_at)
         VALUES (?, 'prj_default', 'deep', 'minimize', 'value', ?, ?, 1, 0, 0.1, ?, ?)`,
      )
        .bind(id, deep, state, now, now)
        .run();
      await env.DB.prepare(
        `INSERT INTO trial_params (study_id, number, name, value) VALUES (?, 0, 'lr', '0.003')`,
      )
        .bind(id)
        .run();
    }
    // SQLite itself refuses the stored JSON.
    await expect(
      env.DB.prepare(
        `SELECT json_extract(config, '$.executor.kind') FROM studies WHERE id = 'std_01J0DEEPJS0N0000000000000R'`,
      ).all(),
    ).rejects.toThrow(/malformed JSON/);

    // A real runner study of the same project still gets leased.
    const study = await json(
      post('/v1/studies', {
        name: 'gpu',
        space: SPACE,
        max_trials: 2,
        executor: { kind: 'runner' },
      }),
    );
    await env.STUDY.get(env.STUDY.idFromName(study.id)).flush();
    const lease = await post('/v1/runners/lease', { runner: { name: 'gpu-0' } });
    expect(lease.status).toBe(200);
    expect(((await lease.json()) as any).study.id).toBe(study.id);

    const suggest = await post('/v1/lr/suggest', {
      context: { optimizer: 'adam', batch_size: 32 },
    });
    expect(suggest.status).toBe(200);
    expect(((await suggest.json()) as any).lr).toBeGreaterThan(0);
  });
});

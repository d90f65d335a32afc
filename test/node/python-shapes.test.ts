// The Python client cannot import the contract, so what it repeats of it is read here: the Trial
// schema's fields it keeps as attributes (the rest it keeps in `raw`), the finished states and the
// most points one report takes. A field added to the Trial schema fails this test until it is an
// attribute of python/stride/study.py's Trial or is named in RAW_ONLY below.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINISHED_STATES } from '../../src/contract/names';
import { MAX_REPORT_POINTS, TrialSchema } from '../../src/contract/schemas';

const PY = path.resolve(import.meta.dirname, '../../python/stride');
const read = (file: string) => readFileSync(path.join(PY, file), 'utf8');

/** The Trial fields the Python Trial leaves in `raw` (runner bookkeeping the client does not use, what the dashboard shows of leases and pruning). */
const RAW_ONLY = [
  'runner',
  'started_at',
  'completed_at',
  'lease_expires_at',
  'heartbeats',
  'last_heartbeat_at',
  'pruned_at_step',
  'prune_reason',
];

/** The body of `def <name>` in `cls` of `source`: the lines indented under it. */
function methodBody(source: string, cls: string, name: string): string {
  const classAt = source.indexOf(`\nclass ${cls}`);
  const at = source.indexOf(`def ${name}(`, classAt);
  expect(classAt, `class ${cls}`).toBeGreaterThanOrEqual(0);
  expect(at, `${cls}.${name}`).toBeGreaterThan(classAt);
  const lines = source.slice(at).split('\n');
  const indent = /^\s*/.exec(source.slice(source.lastIndexOf('\n', at) + 1, at))![0].length;
  const end = lines.findIndex(
    (l, i) => i > 0 && l.trim() !== '' && /^\s*/.exec(l)![0].length <= indent,
  );
  return lines.slice(0, end < 0 ? undefined : end).join('\n');
}

describe('what the Python client repeats of the contract', () => {
  const study = read('study.py');

  it('keeps every field of the Trial schema as an attribute of Trial, or in raw (RAW_ONLY)', () => {
    const update = methodBody(study, 'Trial', '_update');
    const read = new Set([...update.matchAll(/data(?:\.get\(|\[)"(\w+)"/g)].map((m) => m[1]));
    const fields = Object.keys(TrialSchema.shape);
    for (const field of RAW_ONLY)
      expect(fields, `RAW_ONLY names a field: ${field}`).toContain(field);
    expect(fields.filter((f) => !RAW_ONLY.includes(f)).sort()).toEqual([...read].sort());
  });

  it('calls a trial finished in the finished states', () => {
    const body = methodBody(study, 'Trial', 'is_finished');
    const states = /self\.state in \(([^)]*)\)/.exec(body)?.[1];
    expect(states?.split(',').map((s) => s.trim().replace(/"/g, ''))).toEqual([...FINISHED_STATES]);
  });

  it('sends at most as many points in one report as the service takes', () => {
    expect(/^MAX_POINTS = (\d+)$/m.exec(read('reports.py'))?.[1]).toBe(String(MAX_REPORT_POINTS));
  });
});

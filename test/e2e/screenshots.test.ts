// scripts/screenshots.mjs, which makes the README's dashboard screenshots, against the e2e
// Worker: every view it lists is written as a PNG of a real size.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHOTS, takeScreenshots } from '../../scripts/screenshots.mjs';
import { KEY, URL } from './helpers';

describe('scripts/screenshots.mjs', () => {
  it('writes a PNG of every view it lists', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'stride-shots-'));
    const files = await takeScreenshots({ url: URL, key: KEY, out });
    expect(files.map((f: string) => path.basename(f))).toEqual(SHOTS.map((s) => s[0]));
    for (const f of files) {
      const png = readFileSync(f);
      expect(png.subarray(1, 4).toString(), f).toBe('PNG');
      expect(png.length, f).toBeGreaterThan(5_000);
    }
  });
});

// `npm run lint` (ESLint, then knip; eslint.config.js and knip.jsonc) is part of CI.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('npm run lint', () => {
  it('runs ESLint and knip, and CI runs it after the format check', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.lint).toBe('eslint . && knip');
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    const at = (cmd: string) => ci.search(new RegExp(`^${cmd}$`, 'm'));
    expect(at('npm run format:check')).toBeGreaterThan(-1);
    expect(at('npm run lint')).toBeGreaterThan(at('npm run format:check'));
  });
});

// The README stays a front page (what stride is, the two commands, a first example, links) and
// every relative link of the README and the guides in docs/ points at a file of the repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pages = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('README and docs/', () => {
  it('the README is at most 250 lines and links every guide in docs/', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const page of pages.filter((p) => p.startsWith('docs/')))
      expect(readme, `README links ${page}`).toContain(`](${page})`);
  });

  it('every relative link points at a file', () => {
    for (const page of pages) {
      const text = readFileSync(path.join(ROOT, page), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // http:, mailto:
        const file = path.resolve(path.dirname(path.join(ROOT, page)), target);
        expect(existsSync(file), `${page} links ${target}`).toBe(true);
      }
    }
  });
});

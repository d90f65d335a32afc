// The README stays a front page (what stride is, the two commands, a first example, links) and
// every relative link of the README and the guides in docs/ points at a file of the repository,
// and at one of its headings when it names one (`API.md#a-curve-you-measured`).
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

/** The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces to hyphens. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const h = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (h)
      anchors.add(
        h[1]
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/ /g, '-'),
      );
  }
  return anchors;
}

describe('README and docs/', () => {
  it('the README is at most 250 lines and links every guide in docs/', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const page of pages.filter((p) => p.startsWith('docs/')))
      expect(readme, `README links ${page}`).toContain(`](${page})`);
  });

  it('every relative link points at a file, and at one of its headings when it names one', () => {
    for (const page of pages) {
      const text = readFileSync(path.join(ROOT, page), 'utf8');
      for (const [, target, anchor] of text.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // http:, mailto:
        const file = path.resolve(path.dirname(path.join(ROOT, page)), target || page);
        expect(existsSync(file), `${page} links ${target}`).toBe(true);
        if (anchor !== undefined && file.endsWith('.md'))
          expect(
            anchorsOf(readFileSync(file, 'utf8')).has(anchor),
            `${page} links ${target}#${anchor}`,
          ).toBe(true);
      }
    }
  });

  it('reads headings as GitHub anchors them', () => {
    expect([
      ...anchorsOf(
        '# The Python client\n## Python: `import stride`\n```sh\n# a comment\n```\n### Validated on your hardware: executor client or runner\n',
      ),
    ]).toEqual([
      'the-python-client',
      'python-import-stride',
      'validated-on-your-hardware-executor-client-or-runner',
    ]);
  });
});

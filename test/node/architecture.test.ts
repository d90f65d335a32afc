// docs/ARCHITECTURE.md's "Where to change what" keeps pointing at real code: every path it names
// exists, every symbol named in brackets after a file is in that file, and every `npm run` script
// is in package.json. The table's grammar (ARCHITECTURE.md says it too), in its "Change" column:
// - `path`: a file or (ending in `/`) a folder from the repository root; `<name>` in a path is a
//   file to create, whose folder must exist;
// - `path` (`symbol`, `Class.member`, ...): symbols to find, as whole words, in that file;
// - `npm run <script>` or `node <file> ...`: a command whose script or file must exist.
// Anything else in backticks fails, so nothing named there goes unchecked.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOC = 'docs/ARCHITECTURE.md';
const SECTION = '## Where to change what';

/** The rows every newcomer needs, by the start of their "To" cell. */
const REQUIRED = [
  'Add a sampler',
  'Add a pruner',
  'Add a field to a trial',
  'Change the LR candidates',
  'Add a route',
  'Add an optimizer name',
  'Change a limit',
  'Add a dashboard view',
  'Add a Python client method',
  'Add a bench section',
];

export interface Row {
  to: string;
  change: string;
}

/** The rows of the first table under `## Where to change what`. */
export function rowsOf(markdown: string): Row[] {
  const at = markdown.indexOf(`\n${SECTION}\n`);
  if (at < 0) throw new Error(`${DOC} has no "${SECTION}" section`);
  const rest = markdown.slice(at + SECTION.length + 2);
  const section = rest.slice(0, rest.search(/\n## |$/));
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  // Header, separator, then the rows; a cell holds no `|`.
  return lines.slice(2).map((l) => {
    const cells = l.split('|').slice(1, -1);
    if (cells.length !== 2) throw new Error(`a row of 2 cells expected: ${l}`);
    return { to: cells[0].trim(), change: cells[1].trim() };
  });
}

export type Ref =
  | { kind: 'path'; path: string; symbols: string[] }
  | { kind: 'command'; command: string }
  | { kind: 'other'; text: string };

const PATH = /^\.?[\w.-]+(\/[\w.<>-]+)*\/?$/;
const IDENT = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const EXT = /\.(ts|mts|js|mjs|py|md|toml|json|sql|example|svg|yml|sh)$/;

const isPath = (t: string) => PATH.test(t) && (t.includes('/') || EXT.test(t));

/** The references of a "Change" cell: paths with the symbols in brackets after them, commands, and anything else. */
export function refsOf(cell: string): Ref[] {
  const refs: Ref[] = [];
  // A backticked token, and the bracket group right after it when there is one.
  const token = /`([^`]+)`(\s*\(((?:[^()`]|`[^`]*`)*)\))?/g;
  for (const m of cell.matchAll(token)) {
    const [, text, , group] = m;
    const inGroup = group === undefined ? [] : [...group.matchAll(/`([^`]+)`/g)].map((g) => g[1]);
    if (isPath(text)) {
      refs.push({ kind: 'path', path: text, symbols: inGroup.filter((t) => IDENT.test(t)) });
      for (const t of inGroup.filter((t) => !IDENT.test(t))) refs.push(classify(t));
    } else {
      refs.push(classify(text));
      for (const t of inGroup) refs.push(classify(t));
    }
  }
  return refs;
}

function classify(t: string): Ref {
  if (isPath(t)) return { kind: 'path', path: t, symbols: [] };
  if (/^(npm run|node) \S/.test(t)) return { kind: 'command', command: t };
  return { kind: 'other', text: t };
}

/** What is wrong with one reference (empty: it holds). */
export function problemsOf(ref: Ref, root = ROOT): string[] {
  if (ref.kind === 'other')
    return [
      `\`${ref.text}\` is neither a path, a symbol in brackets after its file, nor a command`,
    ];
  if (ref.kind === 'command') {
    const [, tool, arg] = /^(npm run|node) (\S+)/.exec(ref.command)!;
    if (tool === 'npm run') {
      const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
      return scripts[arg] ? [] : [`\`${ref.command}\`: package.json has no script '${arg}'`];
    }
    return existsSync(path.join(root, arg)) ? [] : [`\`${ref.command}\`: ${arg} does not exist`];
  }
  const p = ref.path;
  if (p.includes('<')) {
    const folder = p.slice(0, p.lastIndexOf('/', p.indexOf('<')) + 1);
    const out = existsSync(path.join(root, folder))
      ? []
      : [`${p}: the folder ${folder} does not exist`];
    if (ref.symbols.length) out.push(`${p}: a file to create has no symbols to find`);
    return out;
  }
  const full = path.join(root, p);
  if (!existsSync(full)) return [`${p} does not exist`];
  const folder = statSync(full).isDirectory();
  if (folder !== p.endsWith('/'))
    return [`${p}: ${folder ? 'a folder is written with a trailing /' : 'not a folder'}`];
  if (folder)
    return ref.symbols.length ? [`${p}: symbols are looked for in a file, not a folder`] : [];
  const text = readFileSync(full, 'utf8');
  return ref.symbols.flatMap((s) =>
    s
      .split('.')
      .every((part) => new RegExp(`(^|[^\\w$])${part.replace(/\$/g, '\\$')}(?![\\w$])`).test(text))
      ? []
      : [`${p}: no \`${s}\` in it`],
  );
}

describe(`${DOC}: where to change what`, () => {
  const rows = rowsOf(readFileSync(path.join(ROOT, DOC), 'utf8'));

  it('has a row for each change a newcomer makes first', () => {
    for (const to of REQUIRED)
      expect(
        rows.some((r) => r.to.startsWith(to)),
        `a row "${to} ..."`,
      ).toBe(true);
  });

  it('names only paths that exist, symbols that are in their files and scripts that exist', () => {
    const problems = rows.flatMap((r) => refsOf(r.change).flatMap((ref) => problemsOf(ref)));
    expect(problems).toEqual([]);
    // Every row names at least one file, and the table names symbols to check.
    for (const r of rows)
      expect(
        refsOf(r.change).some((ref) => ref.kind === 'path'),
        r.to,
      ).toBe(true);
    const symbols = rows.flatMap((r) =>
      refsOf(r.change).flatMap((ref) => (ref.kind === 'path' ? ref.symbols : [])),
    );
    expect(symbols.length).toBeGreaterThan(50);
  });

  it('fails on a missing file, a symbol not in its file, an unknown script or a stray token', () => {
    const cell =
      '`src/nope.ts`; `src/app.ts` (`createApp`, `noSuchSymbol`); `npm run nope`; `src/tuning/samplers/<name>.ts`; `src/nope/<name>.ts`; `just words`; `src/api/` (`route`)';
    const problems = refsOf(cell).flatMap((ref) => problemsOf(ref));
    expect(problems).toEqual([
      'src/nope.ts does not exist',
      'src/app.ts: no `noSuchSymbol` in it',
      "`npm run nope`: package.json has no script 'nope'",
      'src/nope/<name>.ts: the folder src/nope/ does not exist',
      '`just words` is neither a path, a symbol in brackets after its file, nor a command',
      'src/api/: symbols are looked for in a file, not a folder',
    ]);
  });
});

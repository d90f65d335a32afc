/**
 * The one shape of a problem with a request's input: `path` names the
 * offending field from the request root, dot-separated, with array indices
 * as numbers (e.g. `probe.data.x.3.1`, `space.lr.low`, `pruner.max_resource`).
 */
import type { ZodError } from 'zod';

export interface InputIssue {
  path: string;
  message: string;
}

/** One line per unknown key (zodIssues splits them into one issue each; api/problem.ts's zodErrorMap writes them). */
export const UNKNOWN = 'unknown field';

type Issue = ZodError['issues'][number];

/**
 * The issues of the union option the input was most likely meant for: one that finds every section
 * (object field) it requires (a body with a `curve` and no `probe` meant the option that requires a
 * curve, however many problems its curve has), then fewest issues, then most unknown keys that look
 * like typos of that option's fields (`{"valeu": 0.5}` meant `{"value": ...}`).
 */
function bestBranch(branches: Issue[][]): Issue[] {
  const lacks = (b: Issue[]) =>
    b.some(
      (i) =>
        i.path.length === 1 &&
        i.code === 'invalid_type' &&
        (i as { expected?: string }).expected === 'object' &&
        i.message === 'required',
    )
      ? 1
      : 0;
  const typos = (b: Issue[]) =>
    b.filter((i) => i.code === 'unrecognized_keys' && i.message.includes('did you mean')).length;
  return (
    [...branches].sort(
      (a, b) => lacks(a) - lacks(b) || a.length - b.length || typos(b) - typos(a),
    )[0] ?? []
  );
}

/**
 * zod issues as `{path, message}` with dot paths from the request root. `where` names what the
 * paths are in: the body (fields) or the query string (query parameters).
 */
export function zodIssues(
  error: ZodError | { issues: Issue[] },
  prefix: (string | number)[] = [],
  where: 'body' | 'query' | 'path' = 'body',
): InputIssue[] {
  const noun =
    where === 'query'
      ? 'unknown query parameter'
      : where === 'path'
        ? 'unknown path parameter'
        : UNKNOWN;
  const out: InputIssue[] = [];
  const visit = (issues: Issue[], base: (string | number)[]) => {
    for (const issue of issues) {
      const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        visit(bestBranch(issue.errors), path);
      } else if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
        // An unknown key is reported on its parent object; point at each key itself.
        const lines = issue.message.split('\n');
        issue.keys.forEach((k, i) => {
          const line = lines.length === issue.keys.length ? lines[i] : `${UNKNOWN} '${k}'`;
          out.push({ path: [...path, k].join('.'), message: line.replace(UNKNOWN, noun) });
        });
      } else {
        out.push({
          path: path.length ? path.join('.') : where === 'body' ? '(body)' : `(${where})`,
          message: issue.message,
        });
      }
    }
  };
  visit(error.issues, prefix);
  // Unknown fields first: a typo there usually explains a "required" elsewhere.
  return [
    ...out.filter((i) => i.message.startsWith('unknown')),
    ...out.filter((i) => !i.message.startsWith('unknown')),
  ];
}

/** A problem lists at most this many issues (a 100,000-point curve of strings has 100,000); the detail counts them all. */
export const MAX_LISTED_ISSUES = 100;

/** The detail of a 422 from its issues: each one when there are few. */
export function issuesDetail(issues: InputIssue[], what = 'the request'): string {
  if (issues.length === 0) return `${what} is not valid`;
  if (issues.length <= 3) return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return `${issues.length} problems in ${what}: ${issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ')}; ...`;
}

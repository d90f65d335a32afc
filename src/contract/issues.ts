/**
 * The one shape of a problem with a request's input: `path` names the
 * offending field from the request root, dot-separated, with array indices
 * as numbers (e.g. `probe.data.x.3.1`, `space.lr.low`, `pruner.max_resource`).
 */
export interface InputIssue {
  path: string;
  message: string;
}

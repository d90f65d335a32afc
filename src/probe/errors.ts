/**
 * Errors the probe layer raises about its input. The API layer maps them to
 * problem+json (422 for invalid input, 413 for work or data over the limits);
 * `path` names the offending field from the request root, dot-separated,
 * with array indices as numbers (e.g. `probe.data.x.3.1`).
 */
import type { InputIssue } from '../contract/issues';

export class ProbeInputError extends Error {
  readonly status: 422 | 413;
  readonly issues: InputIssue[];

  constructor(issues: InputIssue[] | InputIssue, status: 422 | 413 = 422) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'ProbeInputError';
    this.status = status;
    this.issues = list;
  }
}

/**
 * Errors the probe layer raises about its input: `invalid` input, or work or
 * data `over_budget` (the edge's limits). api/problem.ts maps the kind to
 * problem+json; `path` names the offending field from the request root,
 * dot-separated, with array indices as numbers (e.g. `probe.data.x.3.1`).
 */
import { DomainError, inputErrorInit } from '../contract/errors';
import type { InputIssue } from '../contract/issues';

export class ProbeInputError extends DomainError {
  declare readonly kind: 'invalid' | 'over_budget';
  declare readonly issues: InputIssue[];

  constructor(issues: InputIssue[] | InputIssue, kind: 'invalid' | 'over_budget' = 'invalid') {
    const list = Array.isArray(issues) ? issues : [issues];
    const { detail, issues: listed } = inputErrorInit(list);
    super(kind, detail, {
      issues: listed,
      message: list.map((i) => `${i.path}: ${i.message}`).join('; '),
    });
    this.name = 'ProbeInputError';
  }
}

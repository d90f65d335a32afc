/** The pruner that never prunes (Optuna's NopPruner); the study default. */
import type { Pruner, PruneContext } from '../types';
import type { InputIssue } from '../../contract/issues';
import { OptionReader, orThrow } from './options';

/** 'none' takes no options; anything besides `name` is an issue. */
export function checkNoneOptions(
  raw: Readonly<Record<string, unknown>>,
  prefix = 'pruner',
): { options: Record<string, never>; issues: InputIssue[] } {
  const r = new OptionReader(raw, prefix, 'none', []);
  return { options: {}, issues: r.issues };
}

export class NopPruner implements Pruner {
  readonly name = 'none';

  constructor(options: Record<string, never> = {}) {
    orThrow(checkNoneOptions(options, ''));
  }

  shouldPrune(_ctx: PruneContext): boolean {
    return false;
  }

  shouldPruneAtAny(_ctx: PruneContext, _ends: readonly number[]): boolean {
    return false;
  }
}

/** The pruner that never prunes (Optuna's NopPruner); the study default. It takes no options. */
import type { Pruner, PruneContext } from '../types';

export class NopPruner implements Pruner {
  readonly name = 'none';

  shouldPrune(_ctx: PruneContext): boolean {
    return false;
  }

  shouldPruneAtAny(_ctx: PruneContext, _ends: readonly number[]): boolean {
    return false;
  }
}

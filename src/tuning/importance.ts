/**
 * Parameter importance from finished trials: for each parameter, the share
 * of the objective's variance its value explains (the correlation ratio,
 * eta squared). Numeric parameters are cut into up to 5 quantile bins of
 * their internal (log, when `log`) values, categoricals grouped by choice;
 * trials without the parameter (inactive conditionals) form a group of their
 * own. eta² = between-group sum of squares / total sum of squares, then
 * normalised so the importances sum to 1. A cheap, model-free cousin of
 * Optuna's fANOVA: it sees main effects only, not interactions.
 */
import { internalBounds, toInternal } from './space';
import type { FrozenTrial, Space } from './types';

export interface Importance {
  name: string;
  /** Normalised share (sums to 1 over the parameters; 0 when nothing varies). */
  importance: number;
  /** The raw correlation ratio, in [0, 1]. */
  eta_squared: number;
}

const BINS = 5;
/** Below this many complete trials the figures are noise (3 trials give 33/33/33): answered as `meaningful: false`. */
const MIN_TRIALS_FOR_IMPORTANCE = 10;

export function parameterImportance(
  space: Space,
  trials: readonly FrozenTrial[],
): { n_trials: number; min_trials: number; meaningful: boolean; params: Importance[] } {
  const done = trials.filter(
    (t) => t.state === 'complete' && typeof t.value === 'number' && Number.isFinite(t.value),
  );
  const ys = done.map((t) => t.value as number);
  const n = ys.length;
  const mean = n ? ys.reduce((a, b) => a + b, 0) / n : 0;
  const total = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  const raw: Importance[] = Object.keys(space).map((name) => {
    const spec = space[name];
    if (n < 2 || !(total > 0)) return { name, importance: 0, eta_squared: 0 };
    const keys: string[] = done.map((t) => {
      if (!Object.hasOwn(t.params, name)) return 'inactive';
      const v = t.params[name];
      if (spec.type === 'categorical') return `c:${String(v)}`;
      return 'x';
    });
    if (spec.type !== 'categorical') {
      const xs = done.map((t) =>
        Object.hasOwn(t.params, name) ? toInternal(spec, t.params[name]) : NaN,
      );
      const active = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
      const [lo, hi] = internalBounds(spec);
      const cuts = Array.from(
        { length: BINS - 1 },
        (_, i) => active[Math.floor(((i + 1) * active.length) / BINS)] ?? lo,
      );
      xs.forEach((x, i) => {
        if (!Number.isFinite(x)) return;
        let b = 0;
        while (b < cuts.length && x >= cuts[b] && cuts[b] < hi) b++;
        keys[i] = `b:${b}`;
      });
    }
    const groups = new Map<string, number[]>();
    keys.forEach((k, i) => groups.set(k, [...(groups.get(k) ?? []), ys[i]]));
    let between = 0;
    for (const g of groups.values()) {
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      between += g.length * (m - mean) ** 2;
    }
    const eta = Math.min(1, Math.max(0, between / total));
    return { name, importance: 0, eta_squared: eta };
  });
  const sum = raw.reduce((a, r) => a + r.eta_squared, 0);
  for (const r of raw) r.importance = sum > 0 ? r.eta_squared / sum : 0;
  raw.sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name));
  return {
    n_trials: n,
    min_trials: MIN_TRIALS_FOR_IMPORTANCE,
    meaningful: n >= MIN_TRIALS_FOR_IMPORTANCE,
    params: raw,
  };
}

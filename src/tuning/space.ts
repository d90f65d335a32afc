/**
 * Search spaces: the numeric form samplers work in, conditions, and (in
 * `validateSpace`) the path-precise checks of API.md.
 *
 * Internal form: a float or int parameter is a number in [lo, hi] where
 * lo/hi are low/high, or their natural logs when `log` is set; a categorical
 * parameter is the index of its choice. `fromInternal` maps back, rounding to
 * `step` (floats and ints) or to integers, and clamping into range.
 */
import type { ParamSpec, ParamValue, Params, Space } from './types';

export function internalBounds(spec: ParamSpec): [number, number] {
  if (spec.type === 'categorical') return [0, spec.choices.length - 1];
  return spec.log ? [Math.log(spec.low), Math.log(spec.high)] : [spec.low, spec.high];
}

export function toInternal(spec: ParamSpec, value: ParamValue): number {
  if (spec.type === 'categorical') return spec.choices.findIndex((c) => c === value);
  const v = value as number;
  return spec.log ? Math.log(v) : v;
}

export function fromInternal(spec: ParamSpec, x: number): ParamValue {
  if (spec.type === 'categorical') {
    const i = Math.min(spec.choices.length - 1, Math.max(0, Math.round(x)));
    return spec.choices[i];
  }
  let v = spec.log ? Math.exp(x) : x;
  if (spec.step !== undefined) {
    v = spec.low + Math.round((v - spec.low) / spec.step) * spec.step;
    // Undo float drift (0.1 + 3 * 0.1 = 0.30000000000000004) without moving
    // the value off its step: keep 15 significant digits.
    v = Number(v.toPrecision(15));
  } else if (spec.type === 'int') {
    v = Math.round(v);
  }
  return Math.min(spec.high, Math.max(spec.low, v));
}

/** Whether a parameter exists for these (partial) params: its condition, if any, holds. */
export function isActive(spec: ParamSpec, params: Params): boolean {
  if (!spec.when) return true;
  for (const [parent, allowed] of Object.entries(spec.when)) {
    if (!(parent in params)) return false;
    const values = Array.isArray(allowed) ? allowed : [allowed];
    if (!values.includes(params[parent])) return false;
  }
  return true;
}

/**
 * Parameter names in an order where every parameter comes after the ones its
 * condition names (ties by name, for determinism). Assumes a valid space.
 */
export function paramOrder(space: Space): string[] {
  const names = Object.keys(space).sort();
  const done = new Set<string>();
  const out: string[] = [];
  const visit = (name: string, stack: Set<string>) => {
    if (done.has(name) || stack.has(name)) return;
    stack.add(name);
    for (const parent of Object.keys(space[name].when ?? {}).sort())
      if (parent in space) visit(parent, stack);
    stack.delete(name);
    done.add(name);
    out.push(name);
  };
  for (const n of names) visit(n, new Set());
  return out;
}

/**
 * Fill params in `paramOrder`, asking `pick` for each active parameter.
 * The one place samplers walk a conditional space.
 */
export function buildParams(
  space: Space,
  pick: (name: string, spec: ParamSpec, sofar: Params) => ParamValue,
): Params {
  const params: Params = {};
  for (const name of paramOrder(space)) {
    const spec = space[name];
    if (isActive(spec, params)) params[name] = pick(name, spec, params);
  }
  return params;
}

/**
 * Grid sampler: every combination of the space's values, each suggested
 * exactly once: categorical choices, int values (low, low + step, ..., high)
 * and stepped floats. A float without `step` has no grid: the sampler throws
 * `SamplerConfigError` (path `space.<name>`), which study creation reports as
 * 422. Asked for more trials than the grid has points, it throws
 * `GridExhaustedError` (it never wraps around).
 *
 * Conditional spaces: the grid is the set of distinct valid param dicts, so
 * a parameter that is inactive in a branch does not multiply that branch
 * (`{opt: sgd}` counts once, `{opt: adam, beta1: b}` once per b).
 *
 * Order: trial n gets grid point perm(n), where perm is a fixed permutation of
 * [0, size) derived from the seed (`shuffle`, the default, like Optuna's
 * GridSampler, so a study stopped early still covers every axis), or the
 * identity (`shuffle: false`: lexicographic in `paramOrder`, values
 * ascending). Grid points are decoded from their index, never listed, so huge
 * grids cost nothing. A pure function of (space, seed, trialNumber).
 */
import { GridExhaustedError, SamplerConfigError } from '../errors';
import { Rng } from '../rng';
import { isActive, paramOrder } from '../space';
import type { ParamSpec, ParamValue, Params, SampleContext, Sampler, Space } from '../types';

export interface GridSamplerOptions {
  /** Visit the grid in a seeded pseudo-random order (default true) rather than lexicographically. */
  shuffle?: boolean;
}

interface Axis {
  name: string;
  spec: ParamSpec;
  size: bigint;
  /** Some other parameter's condition names this one: it splits the grid into branches. */
  branching: boolean;
  value(k: bigint): ParamValue;
}

function axisOf(name: string, spec: ParamSpec, branching: boolean): Axis {
  if (spec.type === 'categorical') {
    return {
      name,
      spec,
      branching,
      size: BigInt(spec.choices.length),
      value: (k) => spec.choices[Number(k)],
    };
  }
  if (spec.type === 'int') {
    const step = spec.step ?? 1;
    const n = Math.floor((spec.high - spec.low) / step);
    return {
      name,
      spec,
      branching,
      size: BigInt(n) + 1n,
      value: (k) => spec.low + Number(k) * step,
    };
  }
  if (spec.step === undefined) {
    throw new SamplerConfigError(
      `space.${name}`,
      `the grid sampler needs a step for float parameters (e.g. "step": ${niceStep(spec.high - spec.low)}), or use another sampler`,
    );
  }
  const step = spec.step;
  const n = Math.round((spec.high - spec.low) / step);
  return {
    name,
    spec,
    branching,
    size: BigInt(n) + 1n,
    value: (k) => {
      if (Number(k) === n) return spec.high;
      // 15 significant digits undo float drift (0.1 + 2 * 0.1) without merging grid values.
      const v = Number((spec.low + Number(k) * step).toPrecision(15));
      return Math.min(spec.high, Math.max(spec.low, v));
    },
  };
}

/** A round step giving about ten intervals over `range`, for the error message. */
function niceStep(range: number): number {
  return 10 ** Math.floor(Math.log10(range / 10));
}

/** The grid's axes in `paramOrder`; throws SamplerConfigError for a float without step. */
function axesOf(space: Space): Axis[] {
  const parents = new Set<string>();
  for (const spec of Object.values(space))
    for (const p of Object.keys(spec.when ?? {})) parents.add(p);
  return paramOrder(space).map((name) => axisOf(name, space[name], parents.has(name)));
}

/** Counts grid points of the axes from `i` on, given the branching values chosen so far (memoised). */
class Counter {
  private readonly memo = new Map<string, bigint>();
  constructor(private readonly axes: Axis[]) {}

  count(i: number, chosen: Params): bigint {
    if (i === this.axes.length) return 1n;
    const key = `${i}|${JSON.stringify(chosen)}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const axis = this.axes[i];
    let total: bigint;
    if (!isActive(axis.spec, chosen)) {
      total = this.count(i + 1, chosen);
    } else if (axis.branching) {
      total = 0n;
      for (let c = 0n; c < axis.size; c++)
        total += this.count(i + 1, { ...chosen, [axis.name]: axis.value(c) });
    } else {
      total = axis.size * this.count(i + 1, chosen);
    }
    this.memo.set(key, total);
    return total;
  }
}

/** The number of distinct points of the grid over `space`; throws SamplerConfigError for a float without step. */
export function gridSize(space: Space): number {
  return Number(new Counter(axesOf(space)).count(0, {}));
}

/** Grid point `index` (0 <= index < size) in lexicographic order. */
function decode(axes: Axis[], counter: Counter, index: bigint): Params {
  const params: Params = {};
  const chosen: Params = {};
  let k = index;
  for (let i = 0; i < axes.length; i++) {
    const axis = axes[i];
    if (!isActive(axis.spec, chosen)) continue;
    if (axis.branching) {
      let c = 0n;
      for (; c < axis.size - 1n; c++) {
        const sub = counter.count(i + 1, { ...chosen, [axis.name]: axis.value(c) });
        if (k < sub) break;
        k -= sub;
      }
      chosen[axis.name] = axis.value(c);
      params[axis.name] = axis.value(c);
    } else {
      const rest = counter.count(i + 1, chosen);
      params[axis.name] = axis.value(k / rest);
      k %= rest;
    }
  }
  return params;
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const GRID_LABEL = 0x6121d;
const FEISTEL_ROUNDS = 6;
const MAX_FEISTEL_BITS = 52;

/**
 * A seeded permutation of [0, n): a balanced Feistel network on the smallest
 * even number of bits that covers n, cycle-walked into range (fewer than four
 * steps on average). Grids beyond 2^52 points use an affine permutation.
 */
function permute(t: number, n: bigint, seed: number): bigint {
  const rng = new Rng(seed).fork(GRID_LABEL);
  if (n > 2n ** BigInt(MAX_FEISTEL_BITS)) {
    const b = BigInt(rng.nextU32()) % n;
    let a = ((BigInt(rng.nextU32()) << 20n) | 1n) % n;
    while (gcd(a, n) !== 1n) a += 1n;
    return (a * BigInt(t) + b) % n;
  }
  const size = Number(n);
  let bits = 2;
  while (2 ** bits < size) bits++;
  const half = Math.ceil(bits / 2);
  const base = 2 ** half;
  const mask = base - 1;
  const keys = Array.from({ length: FEISTEL_ROUNDS }, () => rng.nextU32());
  const encrypt = (x: number): number => {
    let l = Math.floor(x / base);
    let r = x % base;
    for (let i = 0; i < FEISTEL_ROUNDS; i++) {
      const next = (l ^ (fmix32((r ^ keys[i]) >>> 0) & mask)) >>> 0;
      l = r;
      r = next;
    }
    return l * base + r;
  };
  let y = encrypt(t);
  while (y >= size) y = encrypt(y);
  return BigInt(y);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export class GridSampler implements Sampler {
  readonly name = 'grid';
  private readonly shuffle: boolean;

  constructor(options: GridSamplerOptions = {}) {
    this.shuffle = options.shuffle ?? true;
  }

  sample(ctx: SampleContext): Params {
    const axes = axesOf(ctx.space);
    const counter = new Counter(axes);
    const size = counter.count(0, {});
    const t = ctx.trialNumber;
    if (!Number.isSafeInteger(t) || t < 0)
      throw new RangeError(`grid: trialNumber must be a non-negative integer, got ${t}`);
    if (BigInt(t) >= size) {
      throw new GridExhaustedError(
        `every point of the grid (${size} in all) has been suggested; trial ${t} has none left`,
      );
    }
    const index = this.shuffle && size > 1n ? permute(t, size, ctx.seed) : BigInt(t);
    return decode(axes, counter, index);
  }
}

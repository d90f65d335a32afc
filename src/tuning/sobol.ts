/**
 * Scrambled Sobol' sequence: the low-discrepancy points behind the `qmc`
 * sampler (and anything else that wants well-spread points in [0, 1)^d).
 *
 * Direction numbers: Joe and Kuo's `new-joe-kuo-6.21201` set (S. Joe and
 * F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
 * projections", SIAM J. Sci. Comput. 30, 2008), the same set scipy.stats.qmc
 * uses; the first 128 dimensions are embedded below (the first dimension is
 * van der Corput's sequence and has no row). 32 bits per coordinate, so
 * indices go up to 2^32 - 1.
 *
 * Scrambling (as scipy's `Sobol(scramble=True)`, after Matousek 1998 and
 * Owen 2003): per dimension, a random lower-triangular binary matrix with a
 * unit diagonal (linear matrix scrambling) is applied to the direction
 * numbers, then a random digital shift is XORed into every point. Both keep
 * the net structure: for every m, the points with indices in
 * [k 2^m, (k + 1) 2^m) fall one in each of the 2^m equal bins of every axis,
 * and (dimensions 1 and 2 being a (0, m, 2)-net) one in each elementary box
 * of area 2^-m of that projection. The scrambling randomness comes from
 * `new Rng(seed)` forked per dimension, so a point's first d coordinates do
 * not depend on how many dimensions are asked for.
 *
 * Points are computed directly from the index (Gray-code order, as every
 * Sobol' implementation), so `sobolPoint(i, ...)` costs O(dims * 32) and
 * needs no state: it is a pure function of (index, dims, seed).
 */
import { Rng } from './rng';

/**
 * Joe-Kuo rows for dimensions 2..128 (1-based): [s, a, m_1, ..., m_s], where s
 * is the degree of the primitive polynomial, a encodes its inner coefficients
 * and m_i are the initial direction numbers.
 */
const JOE_KUO: readonly (readonly number[])[] = [
  [1, 0, 1],
  [2, 1, 1, 3],
  [3, 1, 1, 3, 1],
  [3, 2, 1, 1, 1],
  [4, 1, 1, 1, 3, 3],
  [4, 4, 1, 3, 5, 13],
  [5, 2, 1, 1, 5, 5, 17],
  [5, 4, 1, 1, 5, 5, 5],
  [5, 7, 1, 1, 7, 11, 19],
  [5, 11, 1, 1, 5, 1, 1],
  [5, 13, 1, 1, 1, 3, 11],
  [5, 14, 1, 3, 5, 5, 31],
  [6, 1, 1, 3, 3, 9, 7, 49],
  [6, 13, 1, 1, 1, 15, 21, 21],
  [6, 16, 1, 3, 1, 13, 27, 49],
  [6, 19, 1, 1, 1, 15, 7, 5],
  [6, 22, 1, 3, 1, 15, 13, 25],
  [6, 25, 1, 1, 5, 5, 19, 61],
  [7, 1, 1, 3, 7, 11, 23, 15, 103],
  [7, 4, 1, 3, 7, 13, 13, 15, 69],
  [7, 7, 1, 1, 3, 13, 7, 35, 63],
  [7, 8, 1, 3, 5, 9, 1, 25, 53],
  [7, 14, 1, 3, 1, 13, 9, 35, 107],
  [7, 19, 1, 3, 1, 5, 27, 61, 31],
  [7, 21, 1, 1, 5, 11, 19, 41, 61],
  [7, 28, 1, 3, 5, 3, 3, 13, 69],
  [7, 31, 1, 1, 7, 13, 1, 19, 1],
  [7, 32, 1, 3, 7, 5, 13, 19, 59],
  [7, 37, 1, 1, 3, 9, 25, 29, 41],
  [7, 41, 1, 3, 5, 13, 23, 1, 55],
  [7, 42, 1, 3, 7, 3, 13, 59, 17],
  [7, 50, 1, 3, 1, 3, 5, 53, 69],
  [7, 55, 1, 1, 5, 5, 23, 33, 13],
  [7, 56, 1, 1, 7, 7, 1, 61, 123],
  [7, 59, 1, 1, 7, 9, 13, 61, 49],
  [7, 62, 1, 3, 3, 5, 3, 55, 33],
  [8, 14, 1, 3, 1, 15, 31, 13, 49, 245],
  [8, 21, 1, 3, 5, 15, 31, 59, 63, 97],
  [8, 22, 1, 3, 1, 11, 11, 11, 77, 249],
  [8, 38, 1, 3, 1, 11, 27, 43, 71, 9],
  [8, 47, 1, 1, 7, 15, 21, 11, 81, 45],
  [8, 49, 1, 3, 7, 3, 25, 31, 65, 79],
  [8, 50, 1, 3, 1, 1, 19, 11, 3, 205],
  [8, 52, 1, 1, 5, 9, 19, 21, 29, 157],
  [8, 56, 1, 3, 7, 11, 1, 33, 89, 185],
  [8, 67, 1, 3, 3, 3, 15, 9, 79, 71],
  [8, 70, 1, 3, 7, 11, 15, 39, 119, 27],
  [8, 84, 1, 1, 3, 1, 11, 31, 97, 225],
  [8, 97, 1, 1, 1, 3, 23, 43, 57, 177],
  [8, 103, 1, 3, 7, 7, 17, 17, 37, 71],
  [8, 115, 1, 3, 1, 5, 27, 63, 123, 213],
  [8, 122, 1, 1, 3, 5, 11, 43, 53, 133],
  [9, 8, 1, 3, 5, 5, 29, 17, 47, 173, 479],
  [9, 13, 1, 3, 3, 11, 3, 1, 109, 9, 69],
  [9, 16, 1, 1, 1, 5, 17, 39, 23, 5, 343],
  [9, 22, 1, 3, 1, 5, 25, 15, 31, 103, 499],
  [9, 25, 1, 1, 1, 11, 11, 17, 63, 105, 183],
  [9, 44, 1, 1, 5, 11, 9, 29, 97, 231, 363],
  [9, 47, 1, 1, 5, 15, 19, 45, 41, 7, 383],
  [9, 52, 1, 3, 7, 7, 31, 19, 83, 137, 221],
  [9, 55, 1, 1, 1, 3, 23, 15, 111, 223, 83],
  [9, 59, 1, 1, 5, 13, 31, 15, 55, 25, 161],
  [9, 62, 1, 1, 3, 13, 25, 47, 39, 87, 257],
  [9, 67, 1, 1, 1, 11, 21, 53, 125, 249, 293],
  [9, 74, 1, 1, 7, 11, 11, 7, 57, 79, 323],
  [9, 81, 1, 1, 5, 5, 17, 13, 81, 3, 131],
  [9, 82, 1, 1, 7, 13, 23, 7, 65, 251, 475],
  [9, 87, 1, 3, 5, 1, 9, 43, 3, 149, 11],
  [9, 91, 1, 1, 3, 13, 31, 13, 13, 255, 487],
  [9, 94, 1, 3, 3, 1, 5, 63, 89, 91, 127],
  [9, 103, 1, 1, 3, 3, 1, 19, 123, 127, 237],
  [9, 104, 1, 1, 5, 7, 23, 31, 37, 243, 289],
  [9, 109, 1, 1, 5, 11, 17, 53, 117, 183, 491],
  [9, 122, 1, 1, 1, 5, 1, 13, 13, 209, 345],
  [9, 124, 1, 1, 3, 15, 1, 57, 115, 7, 33],
  [9, 137, 1, 3, 1, 11, 7, 43, 81, 207, 175],
  [9, 138, 1, 3, 1, 1, 15, 27, 63, 255, 49],
  [9, 143, 1, 3, 5, 3, 27, 61, 105, 171, 305],
  [9, 145, 1, 1, 5, 3, 1, 3, 57, 249, 149],
  [9, 152, 1, 1, 3, 5, 5, 57, 15, 13, 159],
  [9, 157, 1, 1, 1, 11, 7, 11, 105, 141, 225],
  [9, 167, 1, 3, 3, 5, 27, 59, 121, 101, 271],
  [9, 173, 1, 3, 5, 9, 11, 49, 51, 59, 115],
  [9, 176, 1, 1, 7, 1, 23, 45, 125, 71, 419],
  [9, 181, 1, 1, 3, 5, 23, 5, 105, 109, 75],
  [9, 182, 1, 1, 7, 15, 7, 11, 67, 121, 453],
  [9, 185, 1, 3, 7, 3, 9, 13, 31, 27, 449],
  [9, 191, 1, 3, 1, 15, 19, 39, 39, 89, 15],
  [9, 194, 1, 1, 1, 1, 1, 33, 73, 145, 379],
  [9, 199, 1, 3, 1, 15, 15, 43, 29, 13, 483],
  [9, 218, 1, 1, 7, 3, 19, 27, 85, 131, 431],
  [9, 220, 1, 3, 3, 3, 5, 35, 23, 195, 349],
  [9, 227, 1, 3, 3, 7, 9, 27, 39, 59, 297],
  [9, 229, 1, 1, 3, 9, 11, 17, 13, 241, 157],
  [9, 230, 1, 3, 7, 15, 25, 57, 33, 189, 213],
  [9, 234, 1, 1, 7, 1, 9, 55, 73, 83, 217],
  [9, 236, 1, 3, 3, 13, 19, 27, 23, 113, 249],
  [9, 241, 1, 3, 5, 3, 23, 43, 3, 253, 479],
  [9, 244, 1, 1, 5, 5, 11, 5, 45, 117, 217],
  [9, 253, 1, 3, 3, 7, 29, 37, 33, 123, 147],
  [10, 4, 1, 3, 1, 15, 5, 5, 37, 227, 223, 459],
  [10, 13, 1, 1, 7, 5, 5, 39, 63, 255, 135, 487],
  [10, 19, 1, 3, 1, 7, 9, 7, 87, 249, 217, 599],
  [10, 22, 1, 1, 3, 13, 9, 47, 7, 225, 363, 247],
  [10, 50, 1, 3, 7, 13, 19, 13, 9, 67, 9, 737],
  [10, 55, 1, 3, 5, 5, 19, 59, 7, 41, 319, 677],
  [10, 64, 1, 1, 5, 3, 31, 63, 15, 43, 207, 789],
  [10, 69, 1, 1, 7, 9, 13, 39, 3, 47, 497, 169],
  [10, 98, 1, 3, 1, 7, 21, 17, 97, 19, 415, 905],
  [10, 107, 1, 3, 7, 1, 3, 31, 71, 111, 165, 127],
  [10, 115, 1, 1, 5, 11, 1, 61, 83, 119, 203, 847],
  [10, 121, 1, 3, 3, 13, 9, 61, 19, 97, 47, 35],
  [10, 127, 1, 1, 7, 7, 15, 29, 63, 95, 417, 469],
  [10, 134, 1, 3, 1, 9, 25, 9, 71, 57, 213, 385],
  [10, 140, 1, 3, 5, 13, 31, 47, 101, 57, 39, 341],
  [10, 145, 1, 1, 3, 3, 31, 57, 125, 173, 365, 551],
  [10, 152, 1, 3, 7, 1, 13, 57, 67, 157, 451, 707],
  [10, 158, 1, 1, 1, 7, 21, 13, 105, 89, 429, 965],
  [10, 161, 1, 1, 5, 9, 17, 51, 45, 119, 157, 141],
  [10, 171, 1, 3, 7, 7, 13, 45, 91, 9, 129, 741],
  [10, 181, 1, 3, 7, 1, 23, 57, 67, 141, 151, 571],
  [10, 194, 1, 1, 3, 11, 17, 47, 93, 107, 375, 157],
  [10, 199, 1, 3, 3, 5, 11, 21, 43, 51, 169, 915],
  [10, 203, 1, 1, 5, 3, 15, 55, 101, 67, 455, 625],
  [10, 208, 1, 3, 5, 9, 1, 23, 29, 47, 345, 595],
  [10, 227, 1, 3, 7, 7, 5, 49, 29, 155, 323, 589],
  [10, 242, 1, 3, 3, 7, 5, 41, 127, 61, 261, 717],
];

/** The number of dimensions `sobolPoint` supports. */
export const SOBOL_MAX_DIMS = JOE_KUO.length + 1;

const BITS = 32;
const TWO_POW_MINUS_32 = 2 ** -32;
/** Fork label that separates the scrambling stream from other uses of the same seed. */
const SCRAMBLE_LABEL = 0x50b01;

const directionCache: Uint32Array[] = [];

/** The 32 direction numbers of dimension `d` (0-based), as 32-bit fractions. */
function directionNumbers(d: number): Uint32Array {
  const cached = directionCache[d];
  if (cached) return cached;
  const v = new Uint32Array(BITS);
  if (d === 0) {
    for (let k = 0; k < BITS; k++) v[k] = 0x80000000 >>> k;
  } else {
    const row = JOE_KUO[d - 1];
    const s = row[0];
    const a = row[1];
    for (let k = 0; k < s; k++) v[k] = (row[2 + k] << (BITS - 1 - k)) >>> 0;
    for (let k = s; k < BITS; k++) {
      let x = v[k - s] ^ (v[k - s] >>> s);
      for (let j = 1; j < s; j++) if ((a >>> (s - 1 - j)) & 1) x ^= v[k - j];
      v[k] = x >>> 0;
    }
  }
  directionCache[d] = v;
  return v;
}

function parity(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

/** Direction numbers of dimension `d` after linear matrix scrambling, and the digital shift. */
interface Scrambled {
  v: Uint32Array;
  shift: number;
}

function scramble(d: number, seed: number): Scrambled {
  const rng = new Rng(seed).fork(SCRAMBLE_LABEL).fork(d);
  // Row k of the lower-triangular matrix acts on output digit k (bit 31 - k):
  // a one on the diagonal, random bits for the more significant digits.
  const rows = new Uint32Array(BITS);
  for (let k = 0; k < BITS; k++) {
    const above = k === 0 ? 0 : (0xffffffff << (BITS - k)) >>> 0;
    rows[k] = ((rng.nextU32() & above) | (1 << (BITS - 1 - k))) >>> 0;
  }
  const shift = rng.nextU32();
  const base = directionNumbers(d);
  const v = new Uint32Array(BITS);
  for (let j = 0; j < BITS; j++) {
    let out = 0;
    for (let k = 0; k < BITS; k++) if (parity(rows[k] & base[j])) out |= 1 << (BITS - 1 - k);
    v[j] = out >>> 0;
  }
  return { v, shift };
}

/** Scrambled tables of the last few seeds (a cache only: results never depend on it). */
const scrambleCache = new Map<number, Scrambled[]>();
const SCRAMBLE_CACHE_SEEDS = 8;

function scrambledTables(seed: number, dims: number): Scrambled[] {
  let tables = scrambleCache.get(seed);
  if (tables) {
    scrambleCache.delete(seed); // re-insert: most recently used last
  } else {
    tables = [];
    if (scrambleCache.size >= SCRAMBLE_CACHE_SEEDS)
      scrambleCache.delete(scrambleCache.keys().next().value!);
  }
  scrambleCache.set(seed, tables);
  for (let d = tables.length; d < dims; d++) tables.push(scramble(d, seed));
  return tables;
}

function checkArgs(index: number, dims: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** BITS) {
    throw new RangeError(`sobol: index must be an integer in [0, 2^32), got ${String(index)}`);
  }
  if (!Number.isInteger(dims) || dims < 1 || dims > SOBOL_MAX_DIMS) {
    throw new RangeError(
      `sobol: dims must be an integer in [1, ${SOBOL_MAX_DIMS}], got ${String(dims)}`,
    );
  }
}

/** XOR of the direction numbers selected by the Gray code of `index`, starting from `start`. */
function combine(v: Uint32Array, index: number, start: number): number {
  const gray = (index ^ (index >>> 1)) >>> 0;
  let x = start;
  for (let k = 0; k < BITS; k++) if ((gray >>> k) & 1) x ^= v[k];
  return x >>> 0;
}

/**
 * Point `index` (from 0) of the Sobol' sequence scrambled by `seed`, in
 * [0, 1)^dims. Deterministic; different seeds give independent scramblings.
 */
export function sobolPoint(index: number, dims: number, seed: number): number[] {
  checkArgs(index, dims);
  const tables = scrambledTables(seed, dims);
  const out = new Array<number>(dims);
  for (let d = 0; d < dims; d++)
    out[d] = combine(tables[d].v, index, tables[d].shift) * TWO_POW_MINUS_32;
  return out;
}

/** Point `index` of the plain (unscrambled) Sobol' sequence; point 0 is the origin. For tests and reference. */
export function sobolPointUnscrambled(index: number, dims: number): number[] {
  checkArgs(index, dims);
  const out = new Array<number>(dims);
  for (let d = 0; d < dims; d++) out[d] = combine(directionNumbers(d), index, 0) * TWO_POW_MINUS_32;
  return out;
}

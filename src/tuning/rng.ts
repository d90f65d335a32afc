/**
 * A small seeded pseudo-random generator, used everywhere randomness must be
 * reproducible (synthetic data, mini-batch order, weight initialisation).
 *
 * Generator: sfc32 ("Small Fast Chaotic", Chris Doty-Humphrey, from the
 * PractRand suite): 128 bits of state, 32-bit outputs, passes PractRand and
 * BigCrush, and needs nothing but 32-bit integer arithmetic, so it gives the
 * same stream on every JS engine and platform.
 *
 * Seeding: the seed may be any finite number (negative, above 2^32 or even
 * fractional; -0 counts as 0). Its IEEE-754 float64 bit pattern, read
 * big-endian so it does not depend on the platform, gives a 64-bit key
 * (two 32-bit words); distinct seeds give distinct keys. The key words are
 * hashed into the state words with murmur3's fmix32 finaliser (the mixing
 * step of splitmix32), sfc32's counter word starts at 1, and the generator is
 * run 15 rounds before the first output, as its author recommends.
 *
 * fork(label) derives a new key from the current key and the label only (not
 * from how many numbers were drawn), so `new Rng(s).fork(l)` is the same
 * stream wherever it is created, and different labels give unrelated streams.
 *
 * next() has 32 bits of resolution. normal() uses Box-Muller with Math.log,
 * Math.sqrt, Math.cos and Math.sin; these are deterministic within an engine
 * (V8/workerd uses the same fdlibm port on every platform).
 */

const TWO_POW_32 = 4294967296;
const GOLDEN = 0x9e3779b9;

/** murmur3's 32-bit finaliser: a bijection on 32-bit words with full avalanche. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const bitsView = new DataView(new ArrayBuffer(8));

/** The float64 bit pattern of a finite number as [high word, low word]. */
function keyWords(x: number, what: string): [number, number] {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new RangeError(`Rng: ${what} must be a finite number, got ${String(x)}`);
  }
  bitsView.setFloat64(0, x === 0 ? 0 : x, false); // normalise -0 to 0
  return [bitsView.getUint32(0, false), bitsView.getUint32(4, false)];
}

export class Rng {
  // sfc32 state
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  // 64-bit key the state was derived from (for fork)
  private k0 = 0;
  private k1 = 0;
  // second Box-Muller variate, if one is cached
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    const [hi, lo] = keyWords(seed, 'seed');
    this.init(hi, lo);
  }

  private init(k0: number, k1: number): void {
    this.k0 = k0 >>> 0;
    this.k1 = k1 >>> 0;
    // fmix32 is a bijection, so distinct keys give distinct (a, b) and, sfc32's
    // step being invertible, distinct states for ever after.
    this.a = fmix32((this.k0 ^ 0x2545f491) >>> 0);
    this.b = fmix32((this.k1 ^ GOLDEN) >>> 0);
    this.c = fmix32(((this.a ^ this.b) + 0x6c8e9cf5) >>> 0);
    this.d = 1; // sfc32's counter
    this.hasSpare = false;
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** The next raw 32-bit output, as an unsigned integer. */
  nextU32(): number {
    // sfc32
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Standard normal (mean 0, variance 1): Box-Muller, the second variate cached for the next call. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.next(); // (0, 1]: log is finite
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling); n an integer in 1..2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int: n must be an integer in 1..2^32, got ${String(n)}`);
    }
    // Largest multiple of n that fits in 32 bits; draws at or above it are rejected.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let u = this.nextU32();
    while (u >= limit) u = this.nextU32();
    return u % n;
  }

  /** Fisher-Yates shuffle, in place. */
  shuffle<T>(a: T[] | Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
  }

  /**
   * An independent stream derived from this generator's seed (or fork chain)
   * and `label` (any finite number); it does not depend on, nor advance, this
   * generator's position.
   */
  fork(label: number): Rng {
    const [lh, ll] = keyWords(label, 'fork label');
    const k0 = fmix32((this.k0 ^ fmix32((ll ^ 0x6a09e667) >>> 0)) + GOLDEN);
    const k1 = fmix32((this.k1 ^ fmix32((lh ^ 0xbb67ae85) >>> 0) ^ k0) + 0x3c6ef372);
    const child = new Rng(0);
    child.init(k0, k1);
    return child;
  }
}

/**
 * Special functions of the normal distribution, in float64 (JS has no erf).
 * One implementation shared by TPE's truncated normals and GP's expected
 * improvement, accurate in relative terms far into the tails.
 *
 * Two building blocks:
 * - the all-positive series S(x) = sum_n 2^n x^(2n+1) / (2n+1)!!, with
 *   erf(x) = 2/sqrt(pi) e^{-x^2} S(x) and erfcx(x) = e^{x^2} - 2/sqrt(pi) S(x)
 *   (used for small x, where it converges fast and nothing cancels);
 * - the continued fraction erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
 *   evaluated by modified Lentz (used for large x).
 */

const SQRT_PI = Math.sqrt(Math.PI);
const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const TWO_OVER_SQRT_PI = 2 / SQRT_PI;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

function series(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 300; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return sum;
}

/** The continued-fraction denominator f(x), erfc(x) = e^{-x^2} / (sqrt(pi) f(x)), for x >= ~1.5. */
function lentz(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let j = 1; j < 1000; j++) {
    const a = j / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    d = 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return f;
}

/** Scaled complementary error function erfcx(x) = e^{x^2} erfc(x). */
export function erfcx(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 * Math.exp(x * x) - erfcx(-x);
  if (x < 1.5) return Math.exp(x * x) - TWO_OVER_SQRT_PI * series(x);
  if (x > 1e8) return 1 / (SQRT_PI * x);
  return 1 / (SQRT_PI * lentz(x));
}

/** erfc(x), accurate in relative terms for large positive x (until it underflows). */
function erfc(x: number): number {
  if (x >= 0) return erfcx(x) * Math.exp(-x * x);
  return 2 - erfcx(-x) * Math.exp(-x * x);
}

/** log erfc(x) for x >= 2, without underflow. */
function logErfcLarge(x: number): number {
  return -x * x - LOG_SQRT_PI - Math.log(lentz(x));
}

/** The error function, to about 1e-15 relative accuracy. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  const r =
    ax < 2 ? TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * series(ax) : 1 - Math.exp(logErfcLarge(ax));
  return x < 0 ? -r : r;
}

/** log Phi(z), Phi the standard normal CDF; accurate in both tails (no underflow for very negative z). */
export function logNdtr(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  const t = -z * Math.SQRT1_2; // Phi(z) = erfc(t) / 2
  if (t >= 2) return -Math.LN2 + logErfcLarge(t);
  if (t <= -2) return Math.log1p(-0.5 * Math.exp(logErfcLarge(-t)));
  return Math.log(0.5 * (1 - erf(t)));
}

/** Standard normal density. */
export function normPdf(z: number): number {
  return Math.exp(-0.5 * z * z - HALF_LOG_2PI);
}

/** Standard normal CDF, accurate in relative terms in the lower tail. */
export function normCdf(z: number): number {
  return 0.5 * erfc(-z * Math.SQRT1_2);
}

/**
 * Log expected improvement (for minimisation), computed stably in the far
 * tail as in Ament et al. 2023, "Unexpected Improvements to Expected
 * Improvement for Bayesian Optimization" (LogEI).
 *
 *   EI(x) = sigma * h(z),  z = (best - mu) / sigma,  h(z) = phi(z) + z Phi(z)
 *   log EI = log sigma + log h(z)
 *
 * log h(z):
 *   z > -1          log(phi(z) + z Phi(z)) directly (no cancellation);
 *   -25 < z <= -1   -z^2/2 - log(2 pi)/2 + log1p(-|z| sqrt(pi/2) erfcx(|z|/sqrt2))
 *                   (the paper's log1mexp form; the relative error grows only
 *                   like eps * z^2, about 1e-13 at z = -25);
 *   z <= -25        the asymptotic expansion
 *                   -z^2/2 - log(2 pi)/2 - 2 log|z| + log(1 - 3/z^2 + 15/z^4 - ...),
 *                   whose truncation error there is below 1e-10.
 */

import { erfcx, logNdtr, normCdf, normPdf } from '../special';

export { erfcx, normCdf } from '../special';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_HALF_PI = Math.sqrt(Math.PI / 2);
const SQRT2 = Math.SQRT2;

/** log h(z), h(z) = phi(z) + z Phi(z) = E[max(z + N(0,1), 0)]: finite for every finite z. */
export function logH(z: number): number {
  if (Number.isNaN(z)) return -Infinity;
  if (z > -1) return Math.log(normPdf(z) + z * normCdf(z));
  const z2 = z * z;
  if (z > -25) {
    const r = -z * SQRT_HALF_PI * erfcx(-z / SQRT2);
    return -0.5 * z2 - HALF_LOG_2PI + Math.log1p(-r);
  }
  if (!Number.isFinite(z)) return -Infinity;
  const w = 1 / z2;
  // 1 - 3w + 15w^2 - 105w^3 + 945w^4 - 10395w^5
  const series = 1 + w * (-3 + w * (15 + w * (-105 + w * (945 + w * -10395))));
  return -0.5 * z2 - HALF_LOG_2PI - 2 * Math.log(-z) + Math.log(series);
}

/** log EI of improving below `best`, for a Gaussian with this mean and standard deviation (sd > 0). */
export function logEI(mean: number, sd: number, best: number): number {
  if (!(sd > 0)) return best > mean ? Math.log(best - mean) : -Infinity;
  return Math.log(sd) + logH((best - mean) / sd);
}

/** log P(c <= threshold) for a Gaussian c with this mean and standard deviation (a constraint's feasibility). */
export function logProbBelow(mean: number, sd: number, threshold: number): number {
  if (!(sd > 0)) return mean <= threshold ? 0 : -Infinity;
  return logNdtr((threshold - mean) / sd);
}

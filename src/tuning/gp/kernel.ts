/**
 * Matern-5/2 kernel with per-dimension (ARD) lengthscales over mixed inputs.
 *
 * A point is a row of `d` numbers. A numeric dimension holds a value in
 * [0, 1] and contributes ((x - y) / l)^2 to the scaled squared distance; a
 * categorical dimension holds a choice index (or -1 for "parameter absent")
 * and contributes [x != y] / l^2, i.e. a Hamming-distance term with its own
 * lengthscale, as in Optuna's GPSampler. Then
 *
 *   r^2 = sum_j delta_j(x, y) / l_j^2,
 *   k(x, y) = s2 (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r).
 */

const SQRT5 = Math.sqrt(5);

/** Matern-5/2 correlation at distance r >= 0 (unit signal variance). */
function matern52(r: number): number {
  const sr = SQRT5 * r;
  return (1 + sr + (sr * sr) / 3) * Math.exp(-sr);
}

/** Scaled squared distance between row i of X and row k of Y (both with d columns). */
function scaledSqDist(
  X: ArrayLike<number>,
  i: number,
  Y: ArrayLike<number>,
  k: number,
  d: number,
  invL2: ArrayLike<number>,
  isCat: ArrayLike<number>,
): number {
  const oi = i * d;
  const ok = k * d;
  let r2 = 0;
  for (let j = 0; j < d; j++) {
    const a = X[oi + j];
    const b = Y[ok + j];
    if (isCat[j]) {
      if (a !== b) r2 += invL2[j];
    } else {
      const t = a - b;
      r2 += t * t * invL2[j];
    }
  }
  return r2;
}

/**
 * Kernel matrix K[a][b] = s2 * matern52(r_ab) over the n rows of X, plus
 * `diag` on the diagonal. Row-major n*n, both triangles filled.
 */
export function kernelMatrix(
  X: ArrayLike<number>,
  n: number,
  d: number,
  invL2: ArrayLike<number>,
  isCat: ArrayLike<number>,
  signal: number,
  diag: number,
): Float64Array {
  const K = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    K[a * n + a] = signal + diag;
    for (let b = 0; b < a; b++) {
      const r = Math.sqrt(scaledSqDist(X, a, X, b, d, invL2, isCat));
      const v = signal * matern52(r);
      K[a * n + b] = v;
      K[b * n + a] = v;
    }
  }
  return K;
}

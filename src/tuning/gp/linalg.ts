/**
 * Dense linear algebra for the GP sampler: Cholesky with jitter escalation,
 * triangular solves and the inverse from a Cholesky factor. Matrices are
 * row-major Float64Arrays of n*n entries; only the lower triangle of a
 * symmetric input is read.
 *
 * Speed (V8 does not vectorise): inner products use several accumulators and
 * the O(n^3)/O(n^2) loops handle two rows at a time so each load of the
 * shared row serves two products.
 */

export interface Cholesky {
  /** Lower-triangular factor, row-major n*n (upper triangle zero): A + jitter*I = L L^T. */
  readonly L: Float64Array;
  readonly n: number;
  /** Absolute jitter that was added to the diagonal (0 when none was needed). */
  readonly jitter: number;
  /**
   * False only when even the largest jitter failed (non-finite entries): L is
   * then a diagonal fallback, so callers still get a usable (if crude) factor.
   */
  readonly ok: boolean;
}

/** sum_{t < len} a[ao + t] * b[bo + t], with four accumulators. */
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 3 < len; t += 4) {
    s0 += a[ao + t] * b[bo + t];
    s1 += a[ao + t + 1] * b[bo + t + 1];
    s2 += a[ao + t + 2] * b[bo + t + 2];
    s3 += a[ao + t + 3] * b[bo + t + 3];
  }
  for (; t < len; t++) s0 += a[ao + t] * b[bo + t];
  return s0 + s1 + (s2 + s3);
}

/** Relative jitters tried in turn, times the mean absolute diagonal. */
const JITTERS = [0, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2];

/** Attempt at L L^T = A + jitter I into `L`; false on a non-positive or non-finite pivot. */
function tryCholesky(A: Float64Array, n: number, jitter: number, L: Float64Array): boolean {
  L.fill(0);
  for (let i = 0; i < n; i += 2) {
    const r0 = i * n;
    if (i + 1 < n) {
      // Rows i and i+1 together against each earlier row j.
      const r1 = r0 + n;
      for (let j = 0; j < i; j++) {
        const rj = j * n;
        let a0 = 0;
        let a1 = 0;
        let c0 = 0;
        let c1 = 0;
        let t = 0;
        for (; t + 1 < j; t += 2) {
          const l0 = L[rj + t];
          const l1 = L[rj + t + 1];
          a0 += L[r0 + t] * l0;
          a1 += L[r0 + t + 1] * l1;
          c0 += L[r1 + t] * l0;
          c1 += L[r1 + t + 1] * l1;
        }
        if (t < j) {
          const l0 = L[rj + t];
          a0 += L[r0 + t] * l0;
          c0 += L[r1 + t] * l0;
        }
        const ljj = L[rj + j];
        L[r0 + j] = (A[r0 + j] - (a0 + a1)) / ljj;
        L[r1 + j] = (A[r1 + j] - (c0 + c1)) / ljj;
      }
      const s0 = A[r0 + i] + jitter - dot(L, r0, L, r0, i);
      if (!(s0 > 0) || !Number.isFinite(s0)) return false;
      const lii = Math.sqrt(s0);
      L[r0 + i] = lii;
      L[r1 + i] = (A[r1 + i] - dot(L, r1, L, r0, i)) / lii;
      const s1 = A[r1 + i + 1] + jitter - dot(L, r1, L, r1, i + 1);
      if (!(s1 > 0) || !Number.isFinite(s1)) return false;
      L[r1 + i + 1] = Math.sqrt(s1);
    } else {
      for (let j = 0; j < i; j++) {
        const rj = j * n;
        L[r0 + j] = (A[r0 + j] - dot(L, r0, L, rj, j)) / L[rj + j];
      }
      const s0 = A[r0 + i] + jitter - dot(L, r0, L, r0, i);
      if (!(s0 > 0) || !Number.isFinite(s0)) return false;
      L[r0 + i] = Math.sqrt(s0);
    }
  }
  return true;
}

/**
 * Cholesky factor of a symmetric positive (semi-)definite matrix. When the
 * plain factorisation fails (duplicate points, a singular kernel matrix) the
 * diagonal gets jitter 1e-8, 1e-7, ... up to 1e-2 times its mean magnitude.
 * Never throws.
 */
export function cholesky(A: Float64Array, n: number): Cholesky {
  const L = new Float64Array(n * n);
  let scale = 0;
  for (let i = 0; i < n; i++) scale += Math.abs(A[i * n + i]);
  scale = n > 0 && Number.isFinite(scale) && scale > 0 ? scale / n : 1;
  for (const rel of JITTERS) {
    const jitter = rel * scale;
    if (tryCholesky(A, n, jitter, L)) return { L, n, jitter, ok: true };
  }
  // Last resort (NaN/Inf in A): a diagonal factor.
  L.fill(0);
  for (let i = 0; i < n; i++) {
    const a = A[i * n + i];
    L[i * n + i] = Math.sqrt((Number.isFinite(a) && a > 0 ? a : 0) + 1e-2 * scale);
  }
  return { L, n, jitter: 1e-2 * scale, ok: false };
}

/**
 * In-place forward substitution on v[vo + start .. vo + n): on entry those
 * entries hold b, on exit x with (L x)_i = b_i for i >= start, taking
 * x_k = 0 for k < start.
 */
export function solveLowerInPlace(
  L: Float64Array,
  n: number,
  v: Float64Array,
  vo: number,
  start: number,
): void {
  let i = start;
  for (; i + 1 < n; i += 2) {
    const r0 = i * n;
    const r1 = r0 + n;
    let a0 = 0;
    let a1 = 0;
    let c0 = 0;
    let c1 = 0;
    let t = start;
    for (; t + 1 < i; t += 2) {
      const x0 = v[vo + t];
      const x1 = v[vo + t + 1];
      a0 += L[r0 + t] * x0;
      a1 += L[r0 + t + 1] * x1;
      c0 += L[r1 + t] * x0;
      c1 += L[r1 + t + 1] * x1;
    }
    if (t < i) {
      const x0 = v[vo + t];
      a0 += L[r0 + t] * x0;
      c0 += L[r1 + t] * x0;
    }
    const xi = (v[vo + i] - (a0 + a1)) / L[r0 + i];
    v[vo + i] = xi;
    v[vo + i + 1] = (v[vo + i + 1] - (c0 + c1) - L[r1 + i] * xi) / L[r1 + i + 1];
  }
  if (i < n) {
    const r0 = i * n;
    v[vo + i] = (v[vo + i] - dot(L, r0 + start, v, vo + start, i - start)) / L[r0 + i];
  }
}

/** Solves L x = b (L lower triangular, row-major); `out` may alias `b`. */
export function solveLower(
  L: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  if (out !== b) for (let i = 0; i < n; i++) out[i] = b[i];
  solveLowerInPlace(L, n, out, 0, 0);
  return out;
}

/** Solves L^T x = b (L lower triangular, row-major); `out` may alias `b`. */
export function solveUpperT(
  L: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  if (out !== b) for (let i = 0; i < n; i++) out[i] = b[i];
  // Column-oriented back substitution: once x_i is known, remove it from the rows above.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const xi = out[i] / L[ri + i];
    out[i] = xi;
    for (let k = 0; k < i; k++) out[k] -= L[ri + k] * xi;
  }
  return out;
}

/** Solves (L L^T) x = b. */
export function cholSolve(
  L: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  solveLower(L, n, b, out);
  return solveUpperT(L, n, out, out);
}

/** log det(L L^T) = 2 sum log L_ii. */
export function cholLogDet(L: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]);
  return 2 * s;
}

/**
 * (L L^T)^{-1}, symmetric, row-major. Computes U = L^{-T} row by row (row j
 * is the forward solve of L x = e_j, contiguous access) and then U U^T:
 * about n^3/3 multiply-adds. With `full` false only the lower triangle
 * (column <= row) is written.
 */
export function cholInverse(L: Float64Array, n: number, full = true): Float64Array {
  // U[j*n + k] = (L^{-1})_{kj}, zero for k < j.
  const U = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    U[j * n + j] = 1;
    solveLowerInPlace(L, n, U, j * n, j);
  }
  // inv[a][b] = sum_{k >= max(a,b)} U[a][k] U[b][k]; pairs of rows b share the loads of row a.
  const inv = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    const ra = a * n;
    let b = a;
    for (; b + 1 < n; b += 2) {
      const rb = b * n;
      const rc = rb + n;
      // Row b needs k >= b, row b+1 needs k >= b+1 (U[b+1][b] is 0, so start both at b).
      let s0 = 0;
      let s1 = 0;
      let c0 = 0;
      let c1 = 0;
      let k = b;
      for (; k + 1 < n; k += 2) {
        const u0 = U[ra + k];
        const u1 = U[ra + k + 1];
        s0 += u0 * U[rb + k];
        s1 += u1 * U[rb + k + 1];
        c0 += u0 * U[rc + k];
        c1 += u1 * U[rc + k + 1];
      }
      if (k < n) {
        const u0 = U[ra + k];
        s0 += u0 * U[rb + k];
        c0 += u0 * U[rc + k];
      }
      const sb = s0 + s1;
      const sc = c0 + c1;
      inv[rb + a] = sb;
      inv[rc + a] = sc;
      if (full) {
        inv[ra + b] = sb;
        inv[ra + b + 1] = sc;
      }
    }
    if (b < n) {
      const rb = b * n;
      const s = dot(U, ra + b, U, rb + b, n - b);
      inv[rb + a] = s;
      if (full) inv[ra + b] = s;
    }
  }
  return inv;
}

/**
 * A small box-constrained L-BFGS (projected two-loop direction, Armijo
 * backtracking along the projected path) for the GP hyperparameters: a
 * handful of variables, a bounded number of function evaluations.
 */

export interface MinimizeOptions {
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  /** Hard cap on objective evaluations (each returns value and gradient). */
  maxEvals: number;
  /** History pairs kept (default 8). */
  memory?: number;
  /** Stop when the largest projected-gradient component is below this (default 1e-5). */
  gtol?: number;
  /** Stop when an accepted step lowers f by less than ftol * max(1, |f|) (default 1e-9). */
  ftol?: number;
}

export interface MinimizeResult {
  x: Float64Array;
  fx: number;
  evals: number;
}

/** `f(x, grad)` returns the value and writes the gradient; a non-finite value means "infeasible". */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

function clip(x: Float64Array, lo: ArrayLike<number>, hi: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) x[i] = Math.min(hi[i], Math.max(lo[i], x[i]));
}

export function minimizeLbfgsB(
  f: Objective,
  x0: ArrayLike<number>,
  opts: MinimizeOptions,
): MinimizeResult {
  const m = x0.length;
  const { lower, upper } = opts;
  const mem = opts.memory ?? 8;
  const gtol = opts.gtol ?? 1e-5;
  const ftol = opts.ftol ?? 1e-9;
  const x = Float64Array.from(x0);
  clip(x, lower, upper);
  const g = new Float64Array(m);
  let fx = f(x, g);
  let evals = 1;
  if (!Number.isFinite(fx)) return { x, fx, evals };

  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const pg = new Float64Array(m);
  const dir = new Float64Array(m);
  const xn = new Float64Array(m);
  const gn = new Float64Array(m);
  const alpha = new Float64Array(mem);

  while (evals < opts.maxEvals) {
    // Projected gradient: zero where a bound blocks the descent direction.
    let pgMax = 0;
    for (let i = 0; i < m; i++) {
      const blocked = (x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0);
      pg[i] = blocked ? 0 : g[i];
      pgMax = Math.max(pgMax, Math.abs(pg[i]));
    }
    if (pgMax < gtol) break;

    // Two-loop recursion on the projected gradient.
    for (let i = 0; i < m; i++) dir[i] = pg[i];
    for (let h = S.length - 1; h >= 0; h--) {
      let a = 0;
      for (let i = 0; i < m; i++) a += S[h][i] * dir[i];
      a *= rho[h];
      alpha[h] = a;
      for (let i = 0; i < m; i++) dir[i] -= a * Y[h][i];
    }
    if (S.length > 0) {
      const h = S.length - 1;
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < m; i++) {
        sy += S[h][i] * Y[h][i];
        yy += Y[h][i] * Y[h][i];
      }
      const gamma = sy / yy;
      for (let i = 0; i < m; i++) dir[i] *= gamma;
    }
    for (let h = 0; h < S.length; h++) {
      let b = 0;
      for (let i = 0; i < m; i++) b += Y[h][i] * dir[i];
      b *= rho[h];
      for (let i = 0; i < m; i++) dir[i] += S[h][i] * (alpha[h] - b);
    }
    let slope = 0;
    for (let i = 0; i < m; i++) {
      dir[i] = -dir[i];
      if ((x[i] <= lower[i] && dir[i] < 0) || (x[i] >= upper[i] && dir[i] > 0)) dir[i] = 0;
      slope += g[i] * dir[i];
    }
    if (!(slope < 0)) {
      // Not a descent direction: restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      slope = 0;
      for (let i = 0; i < m; i++) {
        dir[i] = -pg[i];
        slope += g[i] * dir[i];
      }
      if (!(slope < 0)) break;
    }
    // First iteration (no curvature yet): keep the step within 1 unit per coordinate.
    let t = 1;
    if (S.length === 0) {
      let dmax = 0;
      for (let i = 0; i < m; i++) dmax = Math.max(dmax, Math.abs(dir[i]));
      if (dmax > 1) t = 1 / dmax;
    }
    let accepted = false;
    let fn = Infinity;
    for (let tries = 0; tries < 20 && evals < opts.maxEvals; tries++) {
      let dec = 0;
      for (let i = 0; i < m; i++) xn[i] = x[i] + t * dir[i];
      clip(xn, lower, upper);
      for (let i = 0; i < m; i++) dec += g[i] * (xn[i] - x[i]);
      fn = f(xn, gn);
      evals++;
      if (Number.isFinite(fn) && fn <= fx + 1e-4 * dec) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      if (S.length === 0) break;
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      continue;
    }
    const s = new Float64Array(m);
    const yv = new Float64Array(m);
    let sy = 0;
    for (let i = 0; i < m; i++) {
      s[i] = xn[i] - x[i];
      yv[i] = gn[i] - g[i];
      sy += s[i] * yv[i];
    }
    if (sy > 1e-12) {
      if (S.length === mem) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    const improvement = fx - fn;
    x.set(xn);
    g.set(gn);
    fx = fn;
    if (improvement < ftol * Math.max(1, Math.abs(fx))) break;
  }
  return { x, fx, evals };
}

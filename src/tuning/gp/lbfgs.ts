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

/** The curvature pairs kept: s (a step), y (its change of gradient) and 1 / (s . y), oldest first. */
interface History {
  S: Float64Array[];
  Y: Float64Array[];
  rho: number[];
}

function forget(h: History): void {
  h.S.length = 0;
  h.Y.length = 0;
  h.rho.length = 0;
}

/** The projected gradient into `pg` (zero where a bound blocks the descent direction); its largest component. */
function projectGradient(
  x: Float64Array,
  g: Float64Array,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  pg: Float64Array,
): number {
  let pgMax = 0;
  for (let i = 0; i < x.length; i++) {
    const blocked = (x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0);
    pg[i] = blocked ? 0 : g[i];
    pgMax = Math.max(pgMax, Math.abs(pg[i]));
  }
  return pgMax;
}

/**
 * The two-loop recursion: `dir` = the history's inverse-Hessian estimate applied to `pg` (the
 * initial one scaled by gamma = s.y / y.y of the last pair); `alpha` is its scratch.
 */
function twoLoop(pg: Float64Array, hist: History, alpha: Float64Array, dir: Float64Array): void {
  const { S, Y, rho } = hist;
  const m = pg.length;
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
}

/**
 * The search direction into `dir` (minus twoLoop's, zero where a bound blocks it) and its slope
 * g . dir. When that is no descent, steepest descent along `pg` with the history forgotten. A
 * slope that is not negative: no descent is left.
 */
function searchDirection(
  x: Float64Array,
  g: Float64Array,
  pg: Float64Array,
  bounds: { lower: ArrayLike<number>; upper: ArrayLike<number> },
  hist: History,
  alpha: Float64Array,
  dir: Float64Array,
): number {
  const { lower, upper } = bounds;
  twoLoop(pg, hist, alpha, dir);
  let slope = 0;
  for (let i = 0; i < x.length; i++) {
    dir[i] = -dir[i];
    if ((x[i] <= lower[i] && dir[i] < 0) || (x[i] >= upper[i] && dir[i] > 0)) dir[i] = 0;
    slope += g[i] * dir[i];
  }
  if (slope < 0) return slope;
  // Not a descent direction: restart from steepest descent.
  forget(hist);
  slope = 0;
  for (let i = 0; i < x.length; i++) {
    dir[i] = -pg[i];
    slope += g[i] * dir[i];
  }
  return slope;
}

/**
 * Armijo backtracking along the projected path: x + t dir clipped to the box, from step `t`,
 * halved up to 20 times within `evalsLeft` evaluations. The last point tried is in `xn` (its
 * gradient in `gn`, its value `fn`).
 */
function backtrack(
  f: Objective,
  at: { x: Float64Array; g: Float64Array; fx: number },
  dir: Float64Array,
  t: number,
  bounds: { lower: ArrayLike<number>; upper: ArrayLike<number> },
  next: { xn: Float64Array; gn: Float64Array },
  evalsLeft: number,
): { accepted: boolean; fn: number; evals: number } {
  const { x, g, fx } = at;
  const { xn, gn } = next;
  let fn = Infinity;
  let evals = 0;
  for (let tries = 0; tries < 20 && evals < evalsLeft; tries++) {
    let dec = 0;
    for (let i = 0; i < x.length; i++) xn[i] = x[i] + t * dir[i];
    clip(xn, bounds.lower, bounds.upper);
    for (let i = 0; i < x.length; i++) dec += g[i] * (xn[i] - x[i]);
    fn = f(xn, gn);
    evals++;
    if (Number.isFinite(fn) && fn <= fx + 1e-4 * dec) return { accepted: true, fn, evals };
    t *= 0.5;
  }
  return { accepted: false, fn, evals };
}

/** Keeps the pair (xn - x, gn - g) when its curvature s . y is positive (> 1e-12); at most `mem` pairs. */
function remember(
  hist: History,
  x: Float64Array,
  xn: Float64Array,
  g: Float64Array,
  gn: Float64Array,
  mem: number,
): void {
  const m = x.length;
  const s = new Float64Array(m);
  const yv = new Float64Array(m);
  let sy = 0;
  for (let i = 0; i < m; i++) {
    s[i] = xn[i] - x[i];
    yv[i] = gn[i] - g[i];
    sy += s[i] * yv[i];
  }
  if (sy > 1e-12) {
    if (hist.S.length === mem) {
      hist.S.shift();
      hist.Y.shift();
      hist.rho.shift();
    }
    hist.S.push(s);
    hist.Y.push(yv);
    hist.rho.push(1 / sy);
  }
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

  const hist: History = { S: [], Y: [], rho: [] };
  const pg = new Float64Array(m);
  const dir = new Float64Array(m);
  const xn = new Float64Array(m);
  const gn = new Float64Array(m);
  const alpha = new Float64Array(mem);

  while (evals < opts.maxEvals) {
    if (projectGradient(x, g, lower, upper, pg) < gtol) break;
    const slope = searchDirection(x, g, pg, opts, hist, alpha, dir);
    if (!(slope < 0)) break;
    // First iteration (no curvature yet): keep the step within 1 unit per coordinate.
    let t = 1;
    if (hist.S.length === 0) {
      let dmax = 0;
      for (let i = 0; i < m; i++) dmax = Math.max(dmax, Math.abs(dir[i]));
      if (dmax > 1) t = 1 / dmax;
    }
    const step = backtrack(f, { x, g, fx }, dir, t, opts, { xn, gn }, opts.maxEvals - evals);
    evals += step.evals;
    if (!step.accepted) {
      if (hist.S.length === 0) break;
      forget(hist);
      continue;
    }
    remember(hist, x, xn, g, gn, mem);
    const improvement = fx - step.fn;
    x.set(xn);
    g.set(gn);
    fx = step.fn;
    if (improvement < ftol * Math.max(1, Math.abs(fx))) break;
  }
  return { x, fx, evals };
}

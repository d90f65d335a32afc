// Small helpers the bench's sections share.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** mulberry32: a tiny seeded generator for the bench's own deterministic choices (fill params, subsamples, label noise). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Python that can import `module`: the one `envVar` names first, then Debian's, then PATH's; null when none can. */
function findPython(module, envVar) {
  const candidates = [process.env[envVar], '/usr/bin/python3', 'python3'].filter(Boolean);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', `import ${module}`], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

/** A Python that can import torch (BENCH_TORCH_PYTHON first), or null. */
export const findTorchPython = () => findPython('torch', 'BENCH_TORCH_PYTHON');

/** A Python that can import optuna (BENCH_OPTUNA_PYTHON first), or null. */
export const findOptunaPython = () => findPython('optuna', 'BENCH_OPTUNA_PYTHON');

/** Quantile with linear interpolation between order statistics (numpy's default; bench/samplers.ts uses the same). */
export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Two-sided Mann-Whitney U test of samples a and b: U of a, and the p-value from the normal
 * approximation with the tie correction of the variance and a continuity correction of 0.5
 * (scipy.stats.mannwhitneyu(a, b, alternative='two-sided', method='asymptotic'), which
 * samplerSection checks it against when scipy is there).
 */
export function mannWhitneyU(a, b) {
  const n1 = a.length;
  const n2 = b.length;
  const all = [...a.map((v) => [v, 0]), ...b.map((v) => [v, 1])].sort((x, y) => x[0] - y[0]);
  const n = n1 + n2;
  const ranks = new Array(n);
  let tieSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1][0] === all[i][0]) j++;
    const t = j - i + 1;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    tieSum += t * t * t - t;
    i = j + 1;
  }
  let r1 = 0;
  for (let k = 0; k < n; k++) if (all[k][1] === 0) r1 += ranks[k];
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieSum / (n * (n - 1))));
  if (!(sigma > 0)) return { u: u1, p: 1 };
  const z = (Math.abs(u1 - mu) - 0.5) / sigma;
  return { u: u1, p: Math.min(1, 2 * normalSf(Math.max(0, z))) };
}

/** P(Z > z) for a standard normal, z >= 0 (erfc by the Numerical Recipes Chebyshev fit, relative error < 1.2e-7). */
function normalSf(z) {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return erfc / 2;
}

/** scipy's p-values for the same pairs of samples (null when scipy is not there): the check of mannWhitneyU. */
export function scipyMannWhitney(pairs) {
  const py = findOptunaPython();
  if (!py) return null;
  const code =
    "import json,sys\nfrom scipy.stats import mannwhitneyu\nprint(json.dumps([float(mannwhitneyu(a,b,alternative='two-sided',method='asymptotic').pvalue) for a,b in json.load(sys.stdin)]))";
  const r = spawnSync(py, ['-c', code], { input: JSON.stringify(pairs), encoding: 'utf8' });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout);
}

/** The JSON object on the last line of a child's stdout. */
export function lastJsonLine(stdout) {
  const line = stdout.trim().split('\n').pop();
  return JSON.parse(line);
}

/**
 * Run a Python script of the bench (`args[0]`) in `cwd`, its stderr passed through, killed after
 * `timeoutMs`: the JSON object on the last line of its stdout; rejects when it exits non-zero.
 */
export function runPythonJson(py, args, { cwd, env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(py, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${args[0]} exited ${code}`));
      else resolve(lastJsonLine(out));
    });
  });
}

/**
 * Run a TypeScript script of the bench (bench/<script>) with tsx and its trials, seeds and
 * samplers, its stderr passed through: the JSON object on the last line of its stdout; throws
 * when it exits non-zero or outlasts `timeoutMs`.
 */
export function runTsJson(script, { trials, seeds, samplers }, timeoutMs) {
  const r = spawnSync(
    'npx',
    [
      'tsx',
      path.join(path.dirname(fileURLToPath(import.meta.url)), script),
      '--trials',
      String(trials),
      '--seeds',
      String(seeds),
      '--samplers',
      samplers.join(','),
    ],
    {
      cwd: path.dirname(path.dirname(fileURLToPath(import.meta.url))),
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (r.status !== 0)
    throw new Error(
      `bench/${script} failed (exit ${r.status}${r.error ? ', ' + r.error.message : ''})`,
    );
  return lastJsonLine(r.stdout);
}

// Small helpers the bench's sections share.
import { spawnSync } from 'node:child_process';

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

/** A Python that can import torch (BENCH_TORCH_PYTHON first, then Debian's, then PATH's), or null. */
export function findTorchPython() {
  const candidates = [process.env.BENCH_TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

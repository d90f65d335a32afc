// What the Node end-to-end tests share: the local Worker (global-setup.ts), a
// JSON client that throws on errors, waiting for a condition, and running the
// `stride` command line.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';

export const URL = inject('strideUrl').replace(/\/$/, '');
export const KEY = inject('devKey');
export const RUNNER_KEY = inject('runnerKey');
export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/stride.mjs');

/** Call the API with the development key; the parsed answer (null for an empty one), or an Error for 4xx/5xx. */
export async function apiJson(method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(URL + p, {
    method,
    headers: {
      Authorization: `Bearer ${KEY}`,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` every 100 ms until it is true; throw after `timeoutMs`. */
export async function until(
  what: string,
  fn: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Run `stride <args>` to its end, with STRIDE_URL and STRIDE_API_KEY (the dev key unless `env` says otherwise). */
export function stride(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, STRIDE_URL: URL, STRIDE_API_KEY: KEY, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

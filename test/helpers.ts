import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

const KEY = env.STRIDE_DEV_KEY;

/** Fetch the Worker in-process (SELF) with the test key unless `key` says otherwise: the Response as it came (test/e2e/helpers.ts apiJson is the JSON client over real HTTP). */
export function api(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    key?: string | null;
  } = {},
) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.key !== null) headers.Authorization = `Bearer ${init.key ?? KEY}`;
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['Content-Type'] ??= 'application/json';
  }
  return SELF.fetch(`https://stride.test${path}`, {
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers,
    body,
  });
}

/** POST a JSON body (with the test key unless another is given). */
export const post = (path: string, body: unknown = {}, key?: string) => api(path, { body, key });

/** The parsed JSON answer of a response (or of a pending one). */
export const json = async (res: Response | Promise<Response>) => (await (await res).json()) as any;

/** A small, fast probe: spirals, a 32-wide MLP, 60 steps. */
export function smallRequest(
  overrides: { probe?: Record<string, unknown>; range?: Record<string, unknown> } = {},
) {
  return {
    probe: {
      model: { kind: 'mlp', hidden: [32], activation: 'relu' },
      task: 'classification',
      data: {
        kind: 'synthetic',
        name: 'blobs',
        n: 256,
        features: 4,
        classes: 3,
        noise: 0.5,
        seed: 1,
      },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 32,
      seed: 0,
      ...(overrides.probe ?? {}),
    },
    range: { min_lr: 1e-5, max_lr: 10, steps: 60, ...(overrides.range ?? {}) },
  };
}

/**
 * A small HTTP client of the stride API for the Node programs in cli/: JSON
 * in and out, the bearer key, problem+json errors as `ApiError`, and retries
 * with backoff when the service cannot be reached or answers 5xx/429.
 */
import { exponentialBackoffMs } from '../lib/backoff';

export interface ClientOptions {
  url: string;
  key: string;
  /** Attempts for one call when the service is unreachable or answers 5xx/429 (default 5). */
  attempts?: number;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly problem: Record<string, unknown> | null,
  ) {
    super(`HTTP ${status}: ${detail}`);
    this.name = 'ApiError';
  }
}

export interface ApiResponse<T> {
  status: number;
  body: T | null;
  headers: Headers;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StrideClient {
  readonly url: string;
  private readonly key: string;
  private readonly attempts: number;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.key = options.key;
    this.attempts = options.attempts ?? 5;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * POST/GET a path; answers the status and parsed body (null for 204). Throws ApiError for 4xx/5xx.
   * `timeoutMs` overrides the client's per-request timeout (a validated lr/suggest trains for tens of seconds).
   */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { timeoutMs?: number } = {},
  ): Promise<ApiResponse<T>> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.url + path, {
          method,
          headers: {
            Authorization: `Bearer ${this.key}`,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
        });
      } catch (err) {
        lastError = err;
        if (attempt < this.attempts) await sleep(backoff(attempt));
        continue;
      }
      const text = await res.text();
      if (res.status >= 500 || res.status === 429) {
        lastError = new ApiError(res.status, problemDetail(text), parseJson(text));
        if (attempt < this.attempts) {
          const retryAfter = Number(res.headers.get('retry-after'));
          await sleep(
            Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff(attempt),
          );
          continue;
        }
        break;
      }
      if (res.status >= 400) throw new ApiError(res.status, problemDetail(text), parseJson(text));
      return {
        status: res.status,
        body: (text ? JSON.parse(text) : null) as T | null,
        headers: res.headers,
      };
    }
    if (lastError instanceof ApiError) throw lastError;
    const why =
      lastError instanceof Error
        ? lastError.cause instanceof Error
          ? lastError.cause.message
          : lastError.message
        : String(lastError);
    throw new Error(`cannot reach stride at ${this.url} (${why})`);
  }

  async post<T>(
    path: string,
    body: unknown = {},
    options: { timeoutMs?: number } = {},
  ): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, body, options);
  }

  async get<T>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }
}

function backoff(attempt: number): number {
  return exponentialBackoffMs(attempt, 250, 10_000) * (0.75 + Math.random() * 0.5);
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function problemDetail(text: string): string {
  const p = parseJson(text);
  if (p && typeof p.detail === 'string') return p.detail;
  return text.slice(0, 300) || '(empty answer)';
}

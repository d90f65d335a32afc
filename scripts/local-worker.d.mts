export const root: string;
export interface LocalStride {
  url: string;
  devKey: string;
  runnerKey: string;
  dispose(): Promise<void>;
}
export function startWorker(
  config: string,
  options?: { persist?: string | false; vars?: Record<string, string> },
): Promise<import('wrangler').Worker>;
export function startStride(options?: {
  devKey?: string;
  runnerKey?: string;
  vars?: Record<string, string>;
}): Promise<LocalStride>;

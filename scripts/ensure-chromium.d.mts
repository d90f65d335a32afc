export const NAMES: string[];
export const HOW_TO_FIX: string;
export interface Found {
  path: string | null;
  from: 'CHROMIUM_PATH' | 'PATH';
  problem?: string;
}
export type Plan =
  | { action: 'ok'; path: string }
  | { action: 'install'; commands: string[][] }
  | { action: 'fail'; message: string };
export function isExecutable(file: string): boolean;
export function onPath(
  name: string,
  envPath?: string,
  isExec?: (file: string) => boolean,
): string | null;
export function findChromium(options?: {
  env?: Record<string, string | undefined>;
  isExec?: (file: string) => boolean;
}): Found;
export function decide(facts: {
  found: Found;
  isRoot: boolean;
  hasSudo: boolean;
  hasApt: boolean;
}): Plan;
export function facts(env?: Record<string, string | undefined>): {
  found: Found;
  isRoot: boolean;
  hasSudo: boolean;
  hasApt: boolean;
};

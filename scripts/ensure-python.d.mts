export const SYSTEM_PYTHON: string;
export const MODULES: string[];
export const PACKAGES: string[];
export const HOW_TO_FIX: string;
export type Probe =
  | { version: number[]; missing: string[]; error?: undefined }
  | { error: string; version?: undefined; missing?: undefined };
export interface Found {
  path: string | null;
  from: 'STRIDE_PYTHON' | 'system';
  problem?: string;
}
export type Plan =
  | { action: 'ok'; path: string }
  | { action: 'install'; commands: string[][] }
  | { action: 'fail'; message: string };
export function probePython(python: string, modules?: string[]): Probe;
export function findPython(options?: {
  env?: Record<string, string | undefined>;
  probe?: (python: string, modules: string[]) => Probe;
  modules?: string[];
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

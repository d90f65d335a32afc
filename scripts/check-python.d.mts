import type { Found, Plan, Probe } from './ensure-python.mjs';

export const MODULES: string[];
export const PACKAGES: string[];
export const PYTHON_DIR: string;
export const CHECKS: { name: string; args: string[] }[];
export const HOW_TO_FIX: string;
export function findCheckPython(options?: {
  env?: Record<string, string | undefined>;
  probe?: (python: string, modules: string[]) => Probe;
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
export function runChecks(
  python: string,
  options?: {
    say?: (message: string) => void;
    dry?: boolean;
    run?: (
      cmd: string,
      args: string[],
      options: { cwd: string; stdio: 'inherit' },
    ) => { status: number | null };
  },
): string[];

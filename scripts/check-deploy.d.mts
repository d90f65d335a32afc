export const SIZE_LIMITS: Record<'free' | 'paid', { uncompressed: number }>;
export const SIZE_SOURCE: { url: string; read: string };
export const BINDING_FIELDS: { kind: string; path: string[]; key: string }[];
export function planOf(text: string): 'free' | 'paid' | null;
export function bindingsUsed(files: { path: string; text: string }[]): Map<string, string[]>;
export function secretsNamed(tomlText: string): string[];
export function bindingsDeclared(
  config: Record<string, unknown>,
  tomlText: string,
): Map<string, string>;
export function missingBindings(
  used: Map<string, string[]>,
  declared: Map<string, string>,
): { name: string; files: string[] }[];
export function uploadSize(
  outdir: string,
  main?: string,
): { files: string[]; bytes: number; gzipBytes: number };
export function sizeProblem(size: { bytes: number }, plan: string): string | null;

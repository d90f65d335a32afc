/**
 * Values of unknown shape, for checks and their messages: the one isRecord and
 * the one describeValue of src/. A leaf module: pure, imported by any layer.
 */

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short description of a value for messages: `'adam'`, `3`, `true`, `null`, `nothing`, `a list`, `an object`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** `defaults` with each value of `given` laid over it, except undefined ones (an option not given). */
export function withDefaults<D extends object, G extends object>(
  defaults: D,
  given: G,
): Omit<D, keyof G> & Required<G> {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out as Omit<D, keyof G> & Required<G>;
}

/**
 * JSON has no infinite number: stride writes one as the string "Infinity" or "-Infinity" (in
 * answers, and where its storage keeps JSON), and reads those back (`finiteOrInfinite`). NaN stays
 * what JSON.stringify makes of it, null.
 */
function infinityReplacer(_key: string, v: unknown): unknown {
  return v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
}

/** A number as JSON carries it in stride: an infinite one as the string "Infinity" or "-Infinity". */
export type WireNumber = number | 'Infinity' | '-Infinity';

/** A number as JSON carries it (see WireNumber). */
export function wireNumber(v: number): WireNumber {
  return v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
}

/** JSON.stringify, with an infinite number as the string "Infinity" or "-Infinity" (infinityReplacer). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, infinityReplacer);
}

/** A number as toJson wrote it: "Infinity" and "-Infinity" are the infinite numbers. */
export function numberOfJson(v: unknown): number {
  return v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number);
}

/** A JSON array of numbers as toJson wrote it. */
export function numbersOfJson(text: string): number[] {
  return (JSON.parse(text) as unknown[]).map(numberOfJson);
}

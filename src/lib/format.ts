/**
 * How numbers are written for people: in reasoning, reasons, CLI tables and
 * progress lines. The one place of src/ that formats a number for reading
 * (the API's answers carry the numbers themselves). A leaf module: pure,
 * imported by any layer.
 */

/** Three significant digits, as a number: the lrs a user reads and a study's categorical choices keep. */
export const round3 = (x: number): number => Number(x.toPrecision(3));

/** A number in reasoning: three significant digits from 0.01 up (`0.0123`, `3.5`), exponent notation below (`1.00e-3`). */
export const fmt = (v: number): string => (v >= 0.01 ? String(round3(v)) : v.toExponential(2));

/** A learning rate in a range test's reasons: always exponent notation, three significant digits (`1.00e-3`). */
export const fmtLr = (lr: number): string => lr.toExponential(2);

/** A fraction as a percentage: two decimals under 10% (`5.00%`), one from there (`12.5%`). */
export const fmtPct = (f: number): string => `${(f * 100).toFixed(f < 0.1 ? 2 : 1)}%`;

/** A whole number with thousands separators, as prose writes it (`2,000`, `200,000`). */
export const fmtCount = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** A value in a CLI table: three significant digits (`toPrecision(3)`), or `—` when there is none. */
export const fmtCell = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : v.toPrecision(3);

/** A param or metric in the agent's progress lines: four significant digits, exponent notation from 1e4 and under 1e-3; `0` as is. */
export function fmtMetric(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

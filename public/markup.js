// Markup and formatting helpers of the dashboard (no DOM): html`...` escapes
// every interpolated value (study names, metrics, params, choices, errors:
// anything from the API), so data is always text. Nested html`` results pass
// through as they are.
// app.js's setHTML() accepts only Markup.
const esc = (s) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
export class Markup {
  constructor(s) {
    this.s = s;
  }
  toString() {
    return this.s;
  }
}
const piece = (v) =>
  v instanceof Markup
    ? v.s
    : Array.isArray(v)
      ? v.map(piece).join('')
      : v === null || v === undefined || v === false
        ? ''
        : esc(v);
export const html = (strings, ...values) =>
  new Markup(strings.reduce((out, s, i) => out + piece(values[i - 1]) + s));
/** A tooltip line as HTML, every value escaped (ECharts renders tooltips as HTML). */
export const tip = (strings, ...values) => String(html(strings, ...values));

export const fmt = (v) =>
  v === null || v === undefined
    ? '—'
    : typeof v === 'number'
      ? Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
        ? v.toExponential(3)
        : String(Number(v.toPrecision(5)))
      : String(v);
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

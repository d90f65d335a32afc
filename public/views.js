// The study page's further views (slice, contour, rank, EDF, timeline) and what the trial page
// and the trial list compute, as pure functions of the API's data: no DOM, no ECharts instance.
// Parameters are the union of the study's space and the params trials carry (conditional and
// late-appearing ones included): a trial without a parameter is left out of that parameter's
// view, never drawn at zero.
import { hasParam, objectives, objectiveValue, paramInfo } from './charts.js';
import { fmt, tip } from './markup.js';

const GRID = { left: 56, right: 24, top: 30, bottom: 44 };
const STATE_COLORS = {
  complete: '#0b57d0',
  pruned: '#b26b00',
  failed: '#b3261e',
  running: '#146c2e',
  waiting: '#6b7280',
};
/** Colours from best to worst. */
const BEST_TO_WORST = ['#0b3d91', '#0b57d0', '#7ea6e8', '#e3ebf9'];

/** Positive values spanning at least two decades: draw them on a log axis. */
function spansDecades(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2 || v.some((x) => x <= 0)) return false;
  return Math.max(...v) / Math.min(...v) >= 100;
}

/** The complete trials with a value for objective `obj`, each as { t, v }. */
export function scored(trials, obj) {
  return trials
    .filter((t) => t.state === 'complete')
    .map((t) => ({ t, v: objectiveValue(t, obj) }))
    .filter((x) => x.v !== null && Number.isFinite(x.v));
}

/** An axis for parameter `p`: log for log params, every choice for categoricals. */
function paramAxis(p, extra = {}) {
  return p.type === 'categorical'
    ? { type: 'category', data: p.choices, name: p.name, ...extra }
    : {
        type: p.log ? 'log' : 'value',
        name: p.name,
        scale: true,
        ...(p.low !== null && p.high !== null && !p.log ? { min: p.low, max: p.high } : {}),
        ...extra,
      };
}

/**
 * Slice: one panel per parameter, the objective against the parameter's value, each point
 * coloured by its trial number (early light, late dark). Answers [{ name, note, option }]; a
 * trial without the parameter is not in its panel (the note says how many have it).
 */
export function sliceViews(study, trials, obj = 0) {
  const o = objectives(study)[obj];
  const done = scored(trials, obj);
  const maxN = Math.max(0, ...trials.map((t) => t.number));
  const logY = spansDecades(done.map((x) => x.v));
  return paramInfo(study, trials).map((p) => {
    const has = done.filter((x) => hasParam(x.t, p.name));
    return {
      name: p.name,
      note: `${has.length} of ${done.length} complete trials have ${p.name}`,
      option: {
        animation: false,
        grid: { ...GRID, right: 60 },
        tooltip: {
          trigger: 'item',
          formatter: (e) =>
            tip`trial ${e.value[2]}<br>${p.name}: ${fmt(e.value[0])}<br>${o.metric}: ${fmt(e.value[1])}`,
        },
        visualMap: {
          type: 'continuous',
          dimension: 2,
          min: 0,
          max: Math.max(1, maxN),
          right: 0,
          top: 'middle',
          itemHeight: 120,
          text: ['late', 'early'],
          inRange: { color: ['#d0dbf2', '#0b3d91'] },
          calculable: false,
        },
        xAxis: paramAxis(p, { nameLocation: 'middle', nameGap: 28 }),
        yAxis: { type: logY ? 'log' : 'value', name: o.metric, scale: true },
        series: [
          {
            type: 'scatter',
            symbolSize: 7,
            data: has.map(({ t, v }) => [
              p.type === 'categorical' ? String(t.params[p.name]) : t.params[p.name],
              v,
              t.number,
            ]),
          },
        ],
      },
    };
  });
}

/** Parameter `p`'s value on a linear drawing scale: log10 for log params, the choice's index for categoricals. */
function toScale(p, v) {
  if (p.type === 'categorical') return p.choices.indexOf(String(v));
  return p.log ? Math.log10(v) : v;
}
/** The extent of parameter `p` on its drawing scale. */
function scaleExtent(p, xs) {
  if (p.type === 'categorical') return [-0.5, Math.max(0, p.choices.length - 1) + 0.5];
  let lo = p.low ?? Math.min(...xs.map((x) => (p.log ? 10 ** x : x)));
  let hi = p.high ?? Math.max(...xs.map((x) => (p.log ? 10 ** x : x)));
  if (p.log) [lo, hi] = [Math.log10(lo), Math.log10(hi)];
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  return [lo, hi];
}
/** An axis over parameter `p`'s drawing scale, labelled in its own units. */
function scaleAxis(p, [lo, hi], extra) {
  return {
    type: 'value',
    name: p.log ? `${p.name} (log)` : p.name,
    min: lo,
    max: hi,
    ...(p.type === 'categorical' ? { interval: 1 } : {}),
    axisLabel: {
      formatter: (v) =>
        p.type === 'categorical'
          ? Number.isInteger(v)
            ? (p.choices[v] ?? '')
            : ''
          : p.log
            ? fmt(Number((10 ** v).toPrecision(3)))
            : fmt(v),
    },
    ...extra,
  };
}

/** The cells per side of the contour's interpolated surface. */
const CONTOUR_CELLS = 24;

/**
 * The contour's cells, [x0, x1, y0, y1, z] each: z interpolated at the cell's centre from the
 * points `xy` ([x, y, value] on the drawing scales) by inverse-distance weighting (power 4 on
 * distance in the unit square: nearby trials dominate).
 */
function surface(xy, [x0, x1], [y0, y1]) {
  const norm = xy.map(([x, y, v]) => [(x - x0) / (x1 - x0), (y - y0) / (y1 - y0), v]);
  const dx = (x1 - x0) / CONTOUR_CELLS;
  const dy = (y1 - y0) / CONTOUR_CELLS;
  const cells = [];
  for (let i = 0; i < CONTOUR_CELLS; i++)
    for (let j = 0; j < CONTOUR_CELLS; j++) {
      const cx = (i + 0.5) / CONTOUR_CELLS;
      const cy = (j + 0.5) / CONTOUR_CELLS;
      let num = 0;
      let den = 0;
      let exact = null;
      for (const [x, y, v] of norm) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        if (d2 < 1e-12) {
          exact = v;
          break;
        }
        const w = 1 / (d2 * d2);
        num += w * v;
        den += w;
      }
      cells.push([
        x0 + i * dx,
        x0 + (i + 1) * dx,
        y0 + j * dy,
        y0 + (j + 1) * dy,
        exact ?? num / den,
      ]);
    }
  return cells;
}

/** Draws a contour cell [x0, x1, y0, y1, z] as a rectangle in its colour (an ECharts custom series' renderItem). */
const cellRect = (_params, api) => {
  const a = api.coord([api.value(0), api.value(2)]);
  const b = api.coord([api.value(1), api.value(3)]);
  return {
    type: 'rect',
    shape: {
      x: Math.min(a[0], b[0]),
      y: Math.min(a[1], b[1]),
      width: Math.abs(b[0] - a[0]) + 0.5,
      height: Math.abs(b[1] - a[1]) + 0.5,
    },
    style: { fill: api.visual('color') },
  };
};

/** The contour's tooltip: a trial's params and value, or a cell's interpolated value. */
const contourTip = (metric, xName, yName) => (e) =>
  e.seriesName === 'trials'
    ? tip`trial ${e.value[3]}<br>${xName}: ${fmt(e.value[4])}<br>${yName}: ${fmt(e.value[5])}<br>${metric}: ${fmt(e.value[2])}`
    : tip`interpolated ${metric}: ${fmt(e.value[4])}`;

/**
 * Contour: the objective over two parameters, interpolated (inverse-distance weighting on the
 * parameters' drawing scales: log10 for log params) from the complete trials that have both,
 * and those trials as points. Answers { option, n, note }; option is null below 2 such trials.
 */
export function contourView(study, trials, obj, xName, yName) {
  const ps = paramInfo(study, trials);
  const px = ps.find((p) => p.name === xName);
  const py = ps.find((p) => p.name === yName);
  const o = objectives(study)[obj];
  const done = scored(trials, obj);
  const pts = px && py ? done.filter((x) => hasParam(x.t, xName) && hasParam(x.t, yName)) : [];
  const note = `${pts.length} of ${done.length} complete trials have both ${xName} and ${yName}`;
  if (!px || !py || xName === yName || pts.length < 2)
    return {
      option: null,
      n: pts.length,
      note: px && py && xName === yName ? 'Pick two different parameters.' : `${note}: too few.`,
    };
  const xy = pts.map(({ t, v }) => [toScale(px, t.params[xName]), toScale(py, t.params[yName]), v]);
  const [x0, x1] = scaleExtent(
    px,
    xy.map((p) => p[0]),
  );
  const [y0, y1] = scaleExtent(
    py,
    xy.map((p) => p[1]),
  );
  const cells = surface(xy, [x0, x1], [y0, y1]);
  const vs = pts.map((x) => x.v);
  const min = Math.min(...vs);
  const max = Math.max(...vs);
  const colors = o.direction === 'minimize' ? BEST_TO_WORST : [...BEST_TO_WORST].reverse();
  return {
    n: pts.length,
    note: `${note}; the surface is interpolated between them (inverse-distance weighting${px.log || py.log ? ' on log scales' : ''}).`,
    option: {
      animation: false,
      grid: { ...GRID, right: 80 },
      tooltip: { trigger: 'item', formatter: contourTip(o.metric, xName, yName) },
      visualMap: {
        type: 'continuous',
        seriesIndex: 0,
        dimension: 4,
        min,
        max: max > min ? max : min + 1,
        right: 0,
        top: 'middle',
        itemHeight: 160,
        text: [fmt(max), fmt(min)],
        inRange: { color: [...colors].reverse() },
        calculable: false,
      },
      xAxis: scaleAxis(px, [x0, x1], { nameLocation: 'middle', nameGap: 28 }),
      yAxis: scaleAxis(py, [y0, y1], {}),
      series: [
        {
          name: 'surface',
          type: 'custom',
          silent: false,
          encode: { x: [0, 1], y: [2, 3] },
          renderItem: cellRect,
          data: cells,
        },
        {
          name: 'trials',
          type: 'scatter',
          symbolSize: 7,
          itemStyle: { color: '#111827', borderColor: '#fff', borderWidth: 1 },
          data: pts.map(({ t, v }, k) => [
            xy[k][0],
            xy[k][1],
            v,
            t.number,
            t.params[xName],
            t.params[yName],
          ]),
        },
      ],
    },
  };
}

/**
 * Rank: the complete trials over two parameters (or one parameter against the objective, when
 * the study has one), each coloured by its rank on the objective (best dark). Answers { option, note }.
 */
export function rankView(study, trials, obj, xName, yName) {
  const o = objectives(study)[obj];
  const ps = paramInfo(study, trials);
  const px = ps.find((p) => p.name === xName);
  const py = yName === null ? null : ps.find((p) => p.name === yName);
  const done = scored(trials, obj);
  const pts = done.filter((x) => px && hasParam(x.t, xName) && (!py || hasParam(x.t, yName)));
  const order = [...pts].sort((a, b) => (o.direction === 'minimize' ? a.v - b.v : b.v - a.v));
  const rank = new Map(order.map((x, i) => [x.t.number, i]));
  const frac = (n) => (pts.length > 1 ? rank.get(n) / (pts.length - 1) : 0);
  const val = (p, t) => (p.type === 'categorical' ? String(t.params[p.name]) : t.params[p.name]);
  return {
    note: `${pts.length} of ${done.length} complete trials, coloured by their rank on ${o.metric} (darkest: best).`,
    option: px
      ? {
          animation: false,
          grid: { ...GRID, right: 80 },
          tooltip: {
            trigger: 'item',
            formatter: (e) =>
              tip`trial ${e.value[3]}: rank ${e.value[4] + 1} of ${pts.length}<br>${o.metric}: ${fmt(e.value[5])}`,
          },
          visualMap: {
            type: 'continuous',
            dimension: 2,
            min: 0,
            max: 1,
            right: 0,
            top: 'middle',
            itemHeight: 160,
            text: ['worst', 'best'],
            inRange: { color: BEST_TO_WORST },
            calculable: false,
          },
          xAxis: paramAxis(px, { nameLocation: 'middle', nameGap: 28 }),
          yAxis: py
            ? paramAxis(py)
            : {
                type: spansDecades(pts.map((x) => x.v)) ? 'log' : 'value',
                name: o.metric,
                scale: true,
              },
          series: [
            {
              type: 'scatter',
              symbolSize: 8,
              data: pts.map(({ t, v }) => [
                val(px, t),
                py ? val(py, t) : v,
                frac(t.number),
                t.number,
                rank.get(t.number),
                v,
              ]),
            },
          ],
        }
      : null,
  };
}

/**
 * Empirical distribution (EDF): for each series `{ name, values }`, the share of its trials with
 * a value at most x. Several studies share the chart (a log axis when the values span decades).
 */
export function edfOption(series, metric) {
  const all = series.flatMap((s) => s.values);
  return {
    animation: false,
    grid: { ...GRID },
    legend: { top: 0, type: 'scroll' },
    tooltip: {
      trigger: 'item',
      formatter: (e) =>
        tip`${e.seriesName}<br>${metric}: ${fmt(e.value[0])}: ${(e.value[1] * 100).toFixed(0)}% of trials at most this`,
    },
    xAxis: {
      type: spansDecades(all) ? 'log' : 'value',
      name: metric,
      nameLocation: 'middle',
      nameGap: 28,
      scale: true,
    },
    yAxis: { type: 'value', min: 0, max: 1, name: 'share of trials' },
    series: series.map((s) => {
      const v = s.values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
      return {
        name: s.name,
        type: 'line',
        step: 'end',
        showSymbol: v.length < 30,
        symbolSize: 5,
        data: v.map((x, i) => [x, (i + 1) / v.length]),
      };
    }),
  };
}

/**
 * Timeline: each trial from its start to its end (to `now` while it runs), one row per trial,
 * coloured by state; a trial leased more than once (an expired or abandoned lease) is outlined
 * in red. The runner and attempts are in the tooltip. Answers the option (trials never started are left out).
 */
export function timelineOption(trials, now) {
  const started = trials.filter((t) => t.started_at);
  const byState = new Map();
  for (const t of started) {
    const s = byState.get(t.state) ?? [];
    const start = Date.parse(t.started_at);
    const end = t.completed_at ? Date.parse(t.completed_at) : Math.max(now, start);
    s.push([start, end, t.number, t.attempts ?? 1, t.runner ?? '']);
    byState.set(t.state, s);
  }
  const states = [...byState.keys()].sort();
  return {
    animation: false,
    grid: { ...GRID, left: 48 },
    legend: { top: 0, data: states },
    tooltip: {
      trigger: 'item',
      formatter: (e) =>
        tip`trial ${e.value[2]} (${e.seriesName})<br>${new Date(e.value[0]).toLocaleTimeString()} – ${new Date(e.value[1]).toLocaleTimeString()} (${fmt((e.value[1] - e.value[0]) / 1000)} s)<br>attempt ${e.value[3]}${e.value[4] ? `, runner ${e.value[4]}` : ''}`,
    },
    xAxis: { type: 'time', scale: true },
    yAxis: {
      type: 'value',
      name: 'trial',
      inverse: true,
      minInterval: 1,
      min: 0,
      max: Math.max(1, ...started.map((t) => t.number)),
    },
    dataZoom: started.length > 200 ? [{ type: 'inside', yAxisIndex: 0 }] : [],
    series: states.map((state) => ({
      name: state,
      type: 'custom',
      color: STATE_COLORS[state] ?? '#6b7280',
      encode: { x: [0, 1], y: 2 },
      renderItem: (_params, api) => {
        const a = api.coord([api.value(0), api.value(2)]);
        const b = api.coord([api.value(1), api.value(2)]);
        const h = Math.max(2, Math.min(14, api.size([0, 1])[1] * 0.7));
        const releases = api.value(3) > 1;
        return {
          type: 'rect',
          shape: { x: a[0], y: a[1] - h / 2, width: Math.max(2, b[0] - a[0]), height: h },
          style: {
            fill: api.visual('color'),
            stroke: releases ? '#b3261e' : null,
            lineWidth: releases ? 2 : 0,
          },
        };
      },
      data: byState.get(state),
    })),
  };
}

/** A trial's learning curve against the study's median curve (the median at each step). */
export function trialCurveOption(trial, median) {
  const own = (trial.intermediate ?? []).map((p) => [p.step, p.value]).sort((a, b) => a[0] - b[0]);
  return {
    animation: false,
    grid: { ...GRID },
    legend: { top: 0 },
    tooltip: {
      trigger: 'item',
      formatter: (e) => tip`${e.seriesName}<br>step ${e.value[0]}: ${fmt(e.value[1])}`,
    },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: {
      type: spansDecades([...own, ...median].map((p) => p[1])) ? 'log' : 'value',
      scale: true,
    },
    series: [
      {
        name: 'study median',
        type: 'line',
        showSymbol: false,
        color: '#9aa9c7',
        lineStyle: { type: 'dashed' },
        data: median,
      },
      {
        name: `trial ${trial.number}`,
        type: 'line',
        showSymbol: own.length < 3,
        symbolSize: 8,
        color: STATE_COLORS[trial.state] ?? '#0b57d0',
        lineStyle: { width: 2 },
        data: own,
      },
    ],
  };
}

/**
 * A trial's state history as far as the API tells it: when it was first leased (and how many
 * times, by which runner), its reports, and how it ended. Answers [{ at, what }].
 */
export function trialHistory(t) {
  const steps = (t.intermediate ?? []).map((p) => p.step);
  const out = [];
  if (t.sampler === null && t.attempts === 0 && t.state === 'waiting')
    out.push({ at: null, what: 'enqueued: waits for the next ask' });
  if (t.started_at)
    out.push({
      at: t.started_at,
      what: `leased${t.runner ? ` by runner ${t.runner}` : ''} (attempt ${t.attempts}${t.attempts > 1 ? `: handed out again after ${t.attempts - 1} expired or released lease${t.attempts > 2 ? 's' : ''}` : ''})`,
    });
  if (steps.length)
    out.push({
      at: null,
      what: `reported ${steps.length} intermediate value${steps.length === 1 ? '' : 's'} (steps ${Math.min(...steps)} to ${Math.max(...steps)})`,
    });
  if (t.heartbeats > 0)
    out.push({
      at: t.last_heartbeat_at,
      what: `${t.heartbeats} heartbeat${t.heartbeats === 1 ? '' : 's'}, the latest`,
    });
  // The pruner's decision (or the caller's tell of pruned), with why; a running trial may go on regardless.
  const decided = t.prune_reason
    ? `${t.pruned_at_step === null ? 'no step reported' : `at step ${t.pruned_at_step}`}: ${t.prune_reason}`
    : null;
  if (decided && t.state !== 'pruned')
    out.push({ at: null, what: `the pruner said prune ${decided}` });
  const last = steps.length ? Math.max(...steps) : null;
  const ended = {
    complete: 'completed',
    pruned: decided
      ? `pruned ${decided}`
      : `pruned${last === null ? ' (no step reported)' : ` at step ${last}`}`,
    failed: `failed${t.error ? `: ${t.error}` : ''}`,
  }[t.state];
  if (ended) out.push({ at: t.completed_at, what: ended });
  else if (t.state === 'running') {
    out.push({ at: null, what: 'running' });
    if (t.lease_expires_at)
      out.push({
        at: t.lease_expires_at,
        what: 'its lease expires unless a heartbeat or report extends it',
      });
  }
  return out;
}

/**
 * The trial list's rows: `trials` in state `state` ('all' for every one) whose params match
 * `search` (words, each in some `name=value` of the trial's params, case-insensitive; `name`
 * alone matches trials that have that parameter).
 */
export function filterTrials(trials, state, search) {
  const words = String(search ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean);
  return trials.filter((t) => {
    if (state !== 'all' && t.state !== state) return false;
    if (!words.length) return true;
    const text = Object.entries(t.params ?? {}).map(([k, v]) => `${k}=${v}`.toLowerCase());
    return words.every((w) => text.some((x) => x.includes(w)));
  });
}

/** Page `page` (from 0) of `rows`, `size` a page: { rows, page, pages } (page clamped). */
export function pageOf(rows, page, size) {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(0, page), pages - 1);
  return { rows: rows.slice(p * size, (p + 1) * size), page: p, pages };
}

/**
 * Comparing studies: each study's best so far (its first objective, by its direction) against
 * the trial number, one line per study. `list`: [{ study, trials }].
 */
export function compareHistoryOption(list) {
  const metrics = [...new Set(list.map(({ study }) => objectives(study)[0].metric))];
  const series = list.map(({ study, trials }) => {
    const min = objectives(study)[0].direction === 'minimize';
    let best = null;
    return {
      name: study.name,
      type: 'line',
      step: 'end',
      showSymbol: false,
      data: scored(trials, 0).map(({ t, v }) => {
        best = best === null || (min ? v < best : v > best) ? v : best;
        return [t.number, best];
      }),
    };
  });
  return {
    animation: false,
    grid: { ...GRID },
    legend: { top: 0, type: 'scroll' },
    tooltip: {
      trigger: 'item',
      formatter: (e) => tip`${e.seriesName}<br>trial ${e.value[0]}: best ${fmt(e.value[1])}`,
    },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: {
      type: spansDecades(series.flatMap((s) => s.data.map((p) => p[1]))) ? 'log' : 'value',
      name: metrics.join(' / '),
      scale: true,
    },
    series,
  };
}

/** Distinct colours for a few series (candidates' lrs). */
const PALETTE = [
  '#0b57d0',
  '#b26b00',
  '#146c2e',
  '#b3261e',
  '#6f42c1',
  '#00796b',
  '#c2185b',
  '#5d4037',
];

/**
 * An lr suggestion's candidates: each one's final validation loss (its score: the mean over seeds
 * when there are several) against its lr on a log axis, each seed's value beside it, and the
 * answer marked. `candidates`: the answer's validation.candidates.
 */
export function lrCandidatesOption(candidates, answer) {
  const scored = candidates.filter((c) => (c.score ?? c.value) !== null);
  const done = scored.filter((c) => !c.unstable);
  const unstable = scored.filter((c) => c.unstable);
  const seeds = candidates.flatMap((c) =>
    (c.seeds ?? []).filter((s) => s.value !== null).map((s) => [c.lr, s.value, s.seed]),
  );
  return {
    animation: false,
    grid: { ...GRID },
    legend: { top: 0 },
    tooltip: {
      trigger: 'item',
      formatter: (e) =>
        e.seriesName === 'seeds'
          ? tip`lr ${fmt(e.value[0])}, seed ${e.value[2]}: ${fmt(e.value[1])}`
          : tip`lr ${fmt(e.value[0])}: ${fmt(e.value[1])}${e.value[2] ? ` ± ${fmt(e.value[2])}` : ''}`,
    },
    xAxis: { type: 'log', name: 'learning rate', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'validation loss', scale: true },
    series: [
      {
        name: 'candidates',
        type: 'scatter',
        symbolSize: 11,
        color: '#0b57d0',
        data: done.map((c) => [c.lr, c.score ?? c.value, c.spread ?? 0]),
        markLine:
          answer === null || answer === undefined
            ? undefined
            : {
                symbol: 'none',
                label: { formatter: `answer ${fmt(answer)}` },
                lineStyle: { color: '#146c2e', width: 2 },
                data: [{ xAxis: answer }],
              },
      },
      { name: 'seeds', type: 'scatter', symbolSize: 6, color: '#9aa9c7', data: seeds },
      // Runs judged unstable (blew up, or far worse than the same lr in a shorter run): never the answer.
      {
        name: 'unstable',
        type: 'scatter',
        symbol: 'triangle',
        symbolSize: 10,
        color: '#b3261e',
        data: unstable.map((c) => [c.lr, c.score ?? c.value, 0]),
      },
    ],
  };
}

/**
 * The learning curves of an lr suggestion's runs (its study's trials, params lr and epochs):
 * one line per run, one colour per lr, shorter runs (lower fidelity) dashed.
 */
export function lrCurvesOption(trials) {
  const runs = trials.filter((t) => t.intermediate.length > 0 && typeof t.params.lr === 'number');
  const lrs = [...new Set(runs.map((t) => t.params.lr))].sort((a, b) => a - b);
  const longest = Math.max(0, ...runs.map((t) => t.params.epochs ?? 0));
  return {
    animation: false,
    legend: { top: 0, type: 'scroll', data: lrs.map((lr) => `lr ${fmt(lr)}`) },
    grid: { ...GRID, top: 44 },
    tooltip: {
      trigger: 'item',
      formatter: (e) => tip`${e.seriesName}<br>step ${e.value[0]}: ${fmt(e.value[1])}`,
    },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    // A run that blew up would flatten every other curve on a linear axis.
    yAxis: {
      type: spansDecades(runs.flatMap((t) => t.intermediate.map((p) => p.value))) ? 'log' : 'value',
      name: 'validation loss',
      scale: true,
    },
    series: runs.map((t) => ({
      name: `lr ${fmt(t.params.lr)}`,
      type: 'line',
      showSymbol: t.intermediate.length < 3,
      color: PALETTE[lrs.indexOf(t.params.lr) % PALETTE.length],
      lineStyle: { type: (t.params.epochs ?? longest) < longest ? 'dashed' : 'solid' },
      data: t.intermediate.map((p) => [p.step, p.value]),
    })),
  };
}

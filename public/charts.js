// The dashboard's chart options, as pure functions of the data the API
// answered: no DOM, no ECharts instance (app.js creates the charts and sets
// these options), so the same data always gives the same option.
import { fmt, html, tip } from './markup.js';

const GRID = { left: 56, right: 16, top: 30, bottom: 40 };

/** The study's objectives, `[{ metric, direction }]`: one for a single-objective study, one per entry of `directions` otherwise. */
export function objectives(study) {
  const directions = study.directions ?? [study.direction];
  const metrics = study.metrics ?? [study.metric];
  return directions.map((direction, i) => ({ direction, metric: metrics[i] ?? `objective_${i}` }));
}

/**
 * A trial's value for objective `i` as a number, what the tables show: from `values` when the API
 * gave them, else `value` (objective 0); an infinite one (the API writes "Infinity" or
 * "-Infinity") is one.
 */
export function objectiveNumber(t, i) {
  const v = Array.isArray(t.values) ? (t.values[i] ?? null) : i === 0 ? t.value : null;
  return typeof v === 'string' ? Number(v) : v;
}

/** What the charts plot of a trial's value for objective `i`: a finite number, else null (a chart has no place for an infinite value; the table shows it). */
export function objectiveValue(t, i) {
  const v = objectiveNumber(t, i);
  return v !== null && Number.isFinite(v) ? v : null;
}

/**
 * The parameters to show: the study's space first (its bounds), then any name only trials
 * carry (a define-by-run or late-appearing one), its bounds read from the values seen.
 * Each: { name, type: 'float'|'int'|'categorical', log, low, high, choices, n } (n: trials with it).
 */
export function paramInfo(study, trials) {
  const out = new Map();
  for (const [name, sp] of Object.entries(study.space ?? {})) {
    const s = sp && typeof sp === 'object' ? sp : {};
    out.set(name, {
      name,
      type: s.type === 'categorical' ? 'categorical' : s.type === 'int' ? 'int' : 'float',
      log: s.log === true,
      low: s.low ?? null,
      high: s.high ?? null,
      choices: s.type === 'categorical' ? (s.choices ?? []).map(String) : null,
      n: 0,
    });
  }
  for (const t of trials)
    for (const [name, v] of Object.entries(t.params ?? {})) {
      let p = out.get(name);
      if (!p) {
        p = {
          name,
          type: typeof v === 'number' ? 'float' : 'categorical',
          log: false,
          low: null,
          high: null,
          choices: typeof v === 'number' ? null : [],
          n: 0,
          seen: true,
        };
        out.set(name, p);
      }
      p.n++;
      if (p.seen && p.type === 'categorical' && !p.choices.includes(String(v)))
        p.choices.push(String(v));
      if (p.seen && p.type === 'float' && typeof v === 'number') {
        p.low = p.low === null ? v : Math.min(p.low, v);
        p.high = p.high === null ? v : Math.max(p.high, v);
      }
    }
  return [...out.values()].map(({ seen, ...p }) => p);
}

/** Whether a trial has a value for parameter `name` (absent: conditional, or not yet asked for). */
export const hasParam = (t, name) =>
  t.params && Object.prototype.hasOwnProperty.call(t.params, name) && t.params[name] !== null;

/** Feasible: no constraints told, or every one <= 0 (the API's rule). */
export const isFeasible = (t) =>
  !Array.isArray(t.constraints) || t.constraints.every((c) => c <= 0);

/**
 * The Pareto front of a study with several objectives, on its first two: every
 * complete trial as a point, the front (the study's `best_trials`) joined as the
 * staircase that bounds what it dominates, infeasible trials as hollow red marks.
 * Answers the option and the note under the chart.
 */
export function paretoOption(study, trials) {
  const objs = objectives(study);
  const [ox, oy] = objs;
  const front = new Set((study.best_trials ?? []).map((t) => t.number));
  const done = trials.filter(
    (t) => t.state === 'complete' && objectiveValue(t, 0) !== null && objectiveValue(t, 1) !== null,
  );
  const point = (t) => [objectiveValue(t, 0), objectiveValue(t, 1), t.number];
  const onFront = done
    .filter((t) => front.has(t.number))
    .map(point)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const infeasible = done.filter((t) => !isFeasible(t));
  const rest = done.filter((t) => !front.has(t.number) && isFeasible(t));
  const fmtPoint = (p) =>
    tip`${p.seriesName}<br>trial ${p.value[2]}: ${ox.metric} ${fmt(p.value[0])}, ${oy.metric} ${fmt(p.value[1])}`;
  const more =
    objs.length > 2
      ? ` The study has ${objs.length} objectives; the plot shows the first two.`
      : '';
  return {
    note: `${onFront.length} of ${done.length} complete trial${done.length === 1 ? '' : 's'} on the Pareto front (${ox.direction} ${ox.metric}, ${oy.direction} ${oy.metric})${infeasible.length ? `; ${infeasible.length} infeasible` : ''}.${more}`,
    option: {
      animation: false,
      grid: { ...GRID, bottom: 44 },
      legend: { top: 0 },
      tooltip: { trigger: 'item', formatter: fmtPoint },
      xAxis: { type: 'value', name: ox.metric, nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: { type: 'value', name: oy.metric, scale: true },
      series: [
        {
          name: 'dominated',
          type: 'scatter',
          symbolSize: 7,
          color: '#9aa9c7',
          data: rest.map(point),
        },
        // The staircase: from each front point along x to the next, then along y (minimize x: the step comes at the next point).
        {
          name: 'Pareto front',
          type: 'line',
          step: ox.direction === 'minimize' ? 'end' : 'start',
          symbolSize: 9,
          color: '#0b57d0',
          lineStyle: { width: 2 },
          data: onFront,
        },
        {
          name: 'infeasible',
          type: 'scatter',
          symbol: 'emptyCircle',
          symbolSize: 8,
          color: '#b3261e',
          data: infeasible.map(point),
        },
      ],
    },
  };
}

/**
 * Optimization history of objective `obj`: every complete trial's value and the best so far
 * (by that objective's direction), on a log axis when the values span two decades or more.
 */
export function historyOption(study, trials, obj = 0) {
  const o = objectives(study)[obj];
  const dirMin = o.direction === 'minimize';
  const done = trials
    .filter((t) => t.state === 'complete')
    .map((t) => ({ number: t.number, value: objectiveValue(t, obj) }))
    .filter((t) => t.value !== null);
  let best = null;
  const bestLine = done.map((t) => {
    best = best === null || (dirMin ? t.value < best : t.value > best) ? t.value : best;
    return [t.number, best];
  });
  const vs = done.map((t) => t.value);
  const log = vs.length > 1 && vs.every((v) => v > 0) && Math.max(...vs) / Math.min(...vs) >= 100;
  return {
    animation: false,
    grid: { ...GRID },
    tooltip: {
      trigger: 'item',
      formatter: (p) => tip`${p.seriesName}<br>trial ${p.value[0]}: ${o.metric} ${fmt(p.value[1])}`,
    },
    legend: { top: 0 },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: { type: log ? 'log' : 'value', name: o.metric, scale: true },
    series: [
      { name: 'value', type: 'scatter', symbolSize: 7, data: done.map((t) => [t.number, t.value]) },
      // Silent: a click there reaches the trial's point beneath, not the line.
      {
        name: 'best so far',
        type: 'line',
        step: 'end',
        showSymbol: false,
        silent: true,
        data: bestLine,
      },
    ],
  };
}

/** The most trials whose curves the intermediate values chart draws. */
const MAX_CURVES = 200;

/**
 * The trials whose curves are drawn, at most `max`: every running one, then the best complete
 * ones (by objective 0 in `direction`), then the latest of the rest; in trial order.
 */
function curvesShown(trials, max = MAX_CURVES, direction = 'minimize') {
  const withReports = trials.filter((t) => t.intermediate.length > 0);
  if (withReports.length <= max) return withReports;
  const sign = direction === 'maximize' ? -1 : 1;
  const running = withReports.filter((t) => t.state === 'running');
  const complete = withReports
    .filter((t) => t.state === 'complete' && objectiveValue(t, 0) !== null)
    .sort((a, b) => sign * (objectiveValue(a, 0) - objectiveValue(b, 0)));
  const rest = withReports
    .filter((t) => t.state !== 'running' && t.state !== 'complete')
    .sort((a, b) => b.number - a.number);
  const picked = new Set(running.slice(0, max));
  const half = Math.floor((max - picked.size) / 2);
  complete.slice(0, half).forEach((t) => picked.add(t));
  rest.slice(0, max - picked.size).forEach((t) => picked.add(t));
  complete.slice(half).forEach((t) => picked.size < max && picked.add(t));
  return [...picked].sort((a, b) => a.number - b.number);
}

/**
 * Intermediate values: one line per trial; pruned ones dashed. A trial with a
 * single report is a filled dot (a one-point line draws nothing). Past MAX_CURVES
 * trials with reports, only curvesShown's are drawn, and the title says so.
 */
export function intermediateOption(trials, direction = 'minimize') {
  const all = trials.filter((t) => t.intermediate.length > 0);
  const shown = curvesShown(all, MAX_CURVES, direction);
  return {
    title:
      shown.length < all.length
        ? {
            text: `${shown.length} of ${all.length} trials' curves: running, the best complete, the latest others`,
            right: 8,
            bottom: 0,
            textStyle: { fontSize: 11, color: '#4b5563', fontWeight: 'normal' },
          }
        : undefined,
    animation: false,
    grid: { ...GRID },
    tooltip: {
      trigger: 'item',
      formatter: (p) => tip`${p.seriesName}<br>step ${p.value[0]}: ${fmt(p.value[1])}`,
    },
    legend: {
      top: 0,
      data: ['complete', 'pruned', 'running'].map((s) => ({ name: s })),
      selectedMode: false,
    },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
    yAxis: { type: 'value', scale: true },
    series: shown.map((t) => {
      const single = t.intermediate.length === 1;
      return {
        name: `trial ${t.number} (${t.state})`,
        type: 'line',
        showSymbol: t.intermediate.length < 3,
        symbol: single ? 'circle' : 'emptyCircle',
        symbolSize: single ? 10 : 4,
        lineStyle: {
          type: t.state === 'pruned' ? 'dashed' : 'solid',
          width: t.state === 'pruned' ? 1 : 2,
          opacity: t.state === 'pruned' ? 0.6 : 1,
        },
        color: t.state === 'pruned' ? '#b26b00' : t.state === 'complete' ? '#0b57d0' : '#6b7280',
        data: t.intermediate.map((p) => [p.step, p.value]),
      };
    }),
  };
}

/**
 * Parallel coordinates: each param's axis spans its space (low..high, log axes
 * for log params, every choice of a categorical), then the value, colored by value.
 */
export function parallelOption(study, trials) {
  const info = paramInfo(study, trials);
  const params = info.map((p) => p.name);
  const done = trials.filter((t) => t.state === 'complete');
  const axes = info.map((sp, i) =>
    sp.type === 'categorical'
      ? { dim: i, name: sp.name, type: 'category', data: sp.choices }
      : { dim: i, name: sp.name, type: sp.log ? 'log' : 'value', min: sp.low, max: sp.high },
  );
  const objs = objectives(study);
  objs.forEach((o, i) =>
    axes.push({ dim: params.length + i, name: o.metric, type: 'value', scale: true }),
  );
  const values = done.map((t) => objectiveValue(t, 0)).filter((v) => v !== null);
  return {
    animation: false,
    parallelAxis: axes,
    parallel: { left: 40, right: 60, top: 40, bottom: 30 },
    visualMap: values.length
      ? {
          show: false,
          dimension: params.length,
          min: Math.min(...values),
          max: Math.max(...values),
          inRange: {
            color:
              objs[0].direction === 'minimize' ? ['#0b57d0', '#d0dbf2'] : ['#d0dbf2', '#0b57d0'],
          },
        }
      : undefined,
    series: [
      {
        type: 'parallel',
        lineStyle: { width: 1.5, opacity: 0.8 },
        data: done.map((t) => [
          ...params.map((p) =>
            !hasParam(t, p)
              ? null
              : info[params.indexOf(p)].type === 'categorical'
                ? String(t.params[p])
                : t.params[p],
          ),
          ...objs.map((_, i) => objectiveValue(t, i)),
        ]),
      },
    ],
  };
}

/**
 * Importance (computed by the service): bars only from enough complete trials.
 * Answers the option, whether the figures are meaningful, and the texts around the chart.
 */
export function importanceView(imp) {
  const minTrials = imp.min_trials ?? 10;
  const meaningful = imp.meaningful ?? imp.n_trials >= minTrials;
  const trials = `${imp.n_trials} complete trial${imp.n_trials === 1 ? '' : 's'}`;
  return {
    meaningful,
    warning: meaningful
      ? ''
      : `Only ${trials}: importance figures are not meaningful yet, so none are shown. They need at least ${minTrials} complete trials.`,
    method: `From ${trials} (at least ${minTrials} needed). Method: ${imp.method}.`,
    option: meaningful
      ? {
          animation: false,
          grid: { left: 100, right: 30, top: 10, bottom: 30 },
          xAxis: {
            type: 'value',
            max: 1,
            axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` },
          },
          yAxis: { type: 'category', inverse: true, data: imp.params.map((p) => p.name) },
          tooltip: {
            trigger: 'item',
            formatter: (p) => tip`${p.name}: ${(p.value * 100).toFixed(1)}%`,
          },
          series: [
            {
              type: 'bar',
              data: imp.params.map((p) => p.importance),
              label: {
                show: true,
                position: 'right',
                formatter: (p) => `${(p.value * 100).toFixed(0)}%`,
              },
            },
          ],
        }
      : {
          title: {
            text: `Not enough complete trials (${imp.n_trials} of ${minTrials})`,
            left: 'center',
            top: 'middle',
            textStyle: { color: '#4b5563', fontSize: 14, fontWeight: 'normal' },
          },
        },
  };
}

/** A range test's loss against lr (log axis), its suggestion and max stable lr marked, and `validatedLr` when given. */
export function lrCurveOption(r, validatedLr) {
  const s = r.suggestion;
  const finite = r.curve.filter((p) => p.smoothed_loss !== null);
  const losses = r.curve
    .flatMap((p) => [p.loss, p.smoothed_loss])
    .filter((x) => x !== null && Number.isFinite(x));
  const top = finite.length
    ? Math.min(Math.max(...finite.map((p) => p.smoothed_loss)), finite[0].smoothed_loss * 3)
    : undefined;
  const yTop = top === undefined ? undefined : Number(top.toPrecision(2));
  // Vertical marks as two-point lines: ECharts drops an { xAxis } mark below
  // about 1e-3 on a log axis, which hid small suggestions.
  const bottom = losses.length ? Math.min(...losses) : 0;
  const mark = (x, text, color) => [
    {
      coord: [x, bottom],
      name: text,
      label: { formatter: `${text} ${fmt(x)}` },
      lineStyle: { color },
    },
    { coord: [x, yTop ?? Math.max(...losses, bottom + 1)] },
  ];
  const marks = [];
  if (s.lr) marks.push(mark(s.lr, 'suggested', '#146c2e'));
  if (s.max_stable_lr) marks.push(mark(s.max_stable_lr, 'max stable', '#b3261e'));
  // The validated lr: its label halfway up, clear of the suggestion's when they coincide.
  if (validatedLr)
    marks.push(
      mark(validatedLr, 'validated', '#0b57d0').map((p, i) =>
        i === 0
          ? {
              ...p,
              label: { ...p.label, position: 'middle', fontWeight: 'bold', color: '#0b57d0' },
              lineStyle: { ...p.lineStyle, width: 2 },
            }
          : p,
      ),
    );
  return {
    animation: false,
    grid: { left: 56, right: 24, top: 36, bottom: 44 },
    legend: { top: 0 },
    tooltip: {
      trigger: 'axis',
      formatter: (ps) =>
        tip`lr ${fmt(ps[0]?.value?.[0])}${ps.map((p) => html`<br>${p.seriesName}: ${fmt(p.value[1])}`)}`,
    },
    xAxis: { type: 'log', name: 'learning rate', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'loss', scale: true, max: yTop },
    series: [
      {
        name: 'loss',
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 1, opacity: 0.5 },
        data: r.curve.filter((p) => p.loss !== null).map((p) => [p.lr, p.loss]),
      },
      {
        name: 'smoothed loss',
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 2 },
        data: finite.map((p) => [p.lr, p.smoothed_loss]),
        markLine: { symbol: 'none', data: marks },
      },
    ],
  };
}

/** A finished trial's duration in seconds (null while it runs). */
export function duration(t) {
  return t.started_at && t.completed_at
    ? (Date.parse(t.completed_at) - Date.parse(t.started_at)) / 1000
    : null;
}

/** A trial's sort key by objective `i`: its value (an infinite one at its end), then the trials without one. */
function byValue(t, i) {
  const v = objectiveNumber(t, i);
  return v === null || Number.isNaN(v) ? [1, 0] : [0, v];
}

const SORTS = {
  number: (t) => t.number,
  state: (t) => t.state,
  value: (t) => byValue(t, 0),
  duration: (t) => duration(t) ?? Infinity,
  sampler: (t) => t.sampler ?? '',
  steps: (t) => t.steps ?? t.intermediate.length,
  error: (t) => t.error ?? '',
};

/**
 * How the table sorts by `key`: a column above, `value:i` for objective i, or `param:name`
 * (numbers before text; trials without the parameter last).
 */
function sortKey(key) {
  const m = /^value:(\d+)$/.exec(key);
  if (m) return (t) => byValue(t, Number(m[1]));
  if (key.startsWith('param:')) {
    const name = key.slice(6);
    return (t) => {
      const v = t.params?.[name];
      return v === undefined || v === null
        ? [2, 0]
        : typeof v === 'number'
          ? [0, v]
          : [1, String(v)];
    };
  }
  return SORTS[key] ?? SORTS.number;
}
const cmp = (x, y) =>
  Array.isArray(x) ? cmp(x[0], y[0]) || cmp(x[1], y[1]) : x < y ? -1 : x > y ? 1 : 0;

/** The trials sorted for the table by `sort` ({key, dir: 1 | -1}), ties by number. */
export function sortTrials(trials, sort) {
  const f = sortKey(sort.key);
  return [...trials].sort((a, b) => {
    const x = f(a);
    const y = f(b);
    return cmp(x, y) * sort.dir || a.number - b.number;
  });
}

// The dashboard's pure modules (public/lists.js, public/charts.js) in Node: the
// form lists read from the served /openapi.json, and chart options and the
// trial table's order as functions of the data, with no browser.
import { describe, expect, it } from 'vitest';
import { URL } from './helpers';

// Plain browser modules (no types): imported by a path the compiler does not follow.
const load = (file: string): Promise<any> => import(/* @vite-ignore */ `../../public/${file}`);

const study = {
  direction: 'minimize',
  metric: 'loss',
  space: {
    lr: { type: 'float', low: 1e-4, high: 1, log: true },
    opt: { type: 'categorical', choices: ['sgd', 'adam'] },
  },
};
const trial = (
  number: number,
  state: string,
  value: number | null,
  extra: Record<string, unknown> = {},
) => ({
  number,
  state,
  value,
  params: { lr: 0.01 * (number + 1), opt: number % 2 ? 'adam' : 'sgd' },
  intermediate: [],
  started_at: '2024-01-01T00:00:00.000Z',
  completed_at: state === 'running' ? null : `2024-01-01T00:00:0${number}.000Z`,
  ...extra,
});

describe('dashboard lists from the server', () => {
  it('reads the optimizers and their settings, synthetic datasets and LR schedules from the served OpenAPI document', async () => {
    const { listsFromOpenApi } = await load('lists.js');
    const doc = await (await fetch(`${URL}/openapi.json`)).json();
    expect(listsFromOpenApi(doc)).toEqual({
      optimizers: ['sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad'],
      datasets: ['blobs', 'moons', 'spirals', 'linear', 'teacher'],
      schedules: ['constant', 'cosine', 'one_cycle'],
      // What the API accepts for each optimizer (a setting outside it is a 422).
      optimizerSettings: {
        sgd: ['momentum', 'weight_decay'],
        momentum: ['momentum', 'weight_decay'],
        nesterov: ['momentum', 'weight_decay'],
        adam: ['beta1', 'beta2', 'eps', 'weight_decay'],
        adamw: ['beta1', 'beta2', 'eps', 'weight_decay'],
        rmsprop: ['alpha', 'eps', 'momentum', 'weight_decay'],
        adagrad: ['eps', 'weight_decay'],
      },
    });
    expect(() => listsFromOpenApi({ components: { schemas: {} } })).toThrow(/lists no optimizers/);
  });
});

describe('dashboard chart options and table order', () => {
  const trials = [
    trial(0, 'complete', 0.5),
    trial(1, 'complete', 0.3),
    trial(2, 'pruned', null, { intermediate: [{ step: 1, value: 0.9 }] }),
    trial(3, 'complete', 0.4),
    trial(4, 'running', null),
  ];

  it('history: the complete trials and the best so far (minimize and maximize)', async () => {
    const { historyOption } = await load('charts.js');
    const o = historyOption(study, trials);
    expect(o.series[0].data).toEqual([
      [0, 0.5],
      [1, 0.3],
      [3, 0.4],
    ]);
    expect(o.series[1].data).toEqual([
      [0, 0.5],
      [1, 0.3],
      [3, 0.3],
    ]);
    expect(historyOption({ ...study, direction: 'maximize' }, trials).series[1].data).toEqual([
      [0, 0.5],
      [1, 0.5],
      [3, 0.5],
    ]);
    expect(o.tooltip.formatter({ seriesName: '<b>', value: [1, 0.3] })).toBe(
      '&lt;b&gt;<br>trial 1: loss 0.3',
    );
  });

  it('intermediate values: a line per trial with values, pruned dashed, a single report a filled dot', async () => {
    const { intermediateOption } = await load('charts.js');
    const [s] = intermediateOption(trials).series;
    expect(s).toMatchObject({
      name: 'trial 2 (pruned)',
      symbol: 'circle',
      symbolSize: 10,
      lineStyle: { type: 'dashed' },
      data: [[1, 0.9]],
    });
  });

  it("parallel coordinates: the space's axes (log, every choice), then the value", async () => {
    const { parallelOption } = await load('charts.js');
    const o = parallelOption(study, trials);
    expect(o.parallelAxis).toEqual([
      { dim: 0, name: 'lr', type: 'log', min: 1e-4, max: 1 },
      { dim: 1, name: 'opt', type: 'category', data: ['sgd', 'adam'] },
      { dim: 2, name: 'loss', type: 'value', scale: true },
    ]);
    expect(o.series[0].data).toEqual([
      [0.01, 'sgd', 0.5],
      [0.02, 'adam', 0.3],
      [0.04, 'adam', 0.4],
    ]);
    expect(o.visualMap).toMatchObject({ min: 0.3, max: 0.5 });
  });

  it('importance: bars only from enough complete trials, and says so otherwise', async () => {
    const { importanceView } = await load('charts.js');
    const few = importanceView({ n_trials: 1, min_trials: 10, method: 'fanova', params: [] });
    expect(few).toMatchObject({
      meaningful: false,
      method: 'From 1 complete trial (at least 10 needed). Method: fanova.',
    });
    expect(few.warning).toMatch(
      /^Only 1 complete trial: importance figures are not meaningful yet/,
    );
    expect(few.option.title.text).toBe('Not enough complete trials (1 of 10)');
    const enough = importanceView({
      n_trials: 12,
      method: 'fanova',
      params: [{ name: 'lr', importance: 0.8 }],
    });
    expect(enough.meaningful).toBe(true);
    expect(enough.option.series[0].data).toEqual([0.8]);
  });

  it('range test curve: the suggestion, max stable and validated lr marked', async () => {
    const { lrCurveOption } = await load('charts.js');
    const r = {
      suggestion: { lr: 0.01, max_stable_lr: 0.1 },
      curve: [
        { lr: 0.001, loss: 2, smoothed_loss: 2 },
        { lr: 0.01, loss: 1, smoothed_loss: 1.5 },
        { lr: 0.1, loss: null, smoothed_loss: null },
      ],
    };
    const names = (o: any) => o.series[1].markLine.data.map((m: any) => m[0].name);
    expect(names(lrCurveOption(r, null))).toEqual(['suggested', 'max stable']);
    expect(names(lrCurveOption(r, 0.02))).toEqual(['suggested', 'max stable', 'validated']);
    expect(lrCurveOption(r, null).series[0].data).toEqual([
      [0.001, 2],
      [0.01, 1],
    ]);
  });

  it('sorts the trial table without fetching: by value (unfinished last), by state, descending, ties by number', async () => {
    const { sortTrials } = await load('charts.js');
    const order = (sort: object) => sortTrials(trials, sort).map((t: any) => t.number);
    expect(order({ key: 'value', dir: 1 })).toEqual([1, 3, 0, 2, 4]);
    expect(order({ key: 'value', dir: -1 })).toEqual([2, 4, 0, 3, 1]);
    expect(order({ key: 'state', dir: 1 })).toEqual([0, 1, 3, 2, 4]);
    expect(order({ key: 'duration', dir: 1 })).toEqual([0, 1, 2, 3, 4]);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4]);
  });

  it('infinite values (the API\'s "Infinity" strings): left out of the charts, shown and sorted at their end in the table', async () => {
    const { historyOption, objectiveNumber, sortTrials } = await load('charts.js');
    const inf = [
      trial(0, 'complete', 0.5),
      trial(1, 'complete', 'Infinity' as any),
      trial(2, 'complete', '-Infinity' as any),
      trial(3, 'running', null),
    ];
    expect(historyOption(study, inf).series[0].data).toEqual([[0, 0.5]]);
    expect(inf.map((t) => objectiveNumber(t, 0))).toEqual([0.5, Infinity, -Infinity, null]);
    const order = (dir: number) => sortTrials(inf, { key: 'value', dir }).map((t: any) => t.number);
    expect(order(1)).toEqual([2, 0, 1, 3]);
    expect(order(-1)).toEqual([3, 1, 0, 2]);
  });

  describe('several objectives', () => {
    const mo = {
      directions: ['minimize', 'maximize'],
      metrics: ['loss', 'acc'],
      space: study.space,
      best_trials: [] as { number: number }[],
    };
    const t = (number: number, values: number[] | null, extra: Record<string, unknown> = {}) =>
      trial(number, values ? 'complete' : 'running', null, { values, ...extra });
    // Trial 0 and 2 trade loss against accuracy; 1 is worse than 0 on both; 3 would dominate all but is infeasible; 4 runs.
    const ts = [
      t(0, [0.2, 0.8]),
      t(1, [0.3, 0.7]),
      t(2, [0.5, 0.9]),
      t(3, [0.1, 0.95], { constraints: [0.5, -1] }),
      t(4, null),
    ];
    const front = { ...mo, best_trials: [{ number: 2 }, { number: 0 }] };

    it("Pareto front: the study's best_trials joined in order of the first objective, dominated and infeasible trials apart", async () => {
      const { paretoOption } = await load('charts.js');
      const { option, note } = paretoOption(front, ts);
      const byName = Object.fromEntries(option.series.map((s: any) => [s.name, s.data]));
      expect(byName['Pareto front']).toEqual([
        [0.2, 0.8, 0],
        [0.5, 0.9, 2],
      ]);
      expect(byName.dominated).toEqual([[0.3, 0.7, 1]]);
      expect(byName.infeasible).toEqual([[0.1, 0.95, 3]]);
      expect(option.xAxis.name).toBe('loss');
      expect(option.yAxis.name).toBe('acc');
      expect(note).toBe(
        '2 of 4 complete trials on the Pareto front (minimize loss, maximize acc); 1 infeasible.',
      );
      // The staircase turns where what the front dominates ends: after the next point when x is minimised, before it when maximised.
      expect(option.series[1].step).toBe('end');
      expect(
        paretoOption({ ...front, directions: ['maximize', 'maximize'] }, ts).option.series[1].step,
      ).toBe('start');
      expect(option.tooltip.formatter({ seriesName: '<i>', value: [0.2, 0.8, 0] })).toBe(
        '&lt;i&gt;<br>trial 0: loss 0.2, acc 0.8',
      );
      const three = paretoOption(
        {
          ...front,
          directions: ['minimize', 'maximize', 'minimize'],
          metrics: ['loss', 'acc', 'secs'],
        },
        ts,
      );
      expect(three.note).toMatch(/has 3 objectives; the plot shows the first two\.$/);
    });

    it('parallel coordinates: one axis per objective, colored by the first', async () => {
      const { parallelOption } = await load('charts.js');
      const o = parallelOption(mo, ts);
      expect(o.parallelAxis.slice(2).map((a: any) => a.name)).toEqual(['loss', 'acc']);
      expect(o.series[0].data[0]).toEqual([0.01, 'sgd', 0.2, 0.8]);
      expect(o.visualMap).toMatchObject({ dimension: 2, min: 0.1, max: 0.5 });
    });

    it('sorts the table by any objective', async () => {
      const { sortTrials } = await load('charts.js');
      expect(sortTrials(ts, { key: 'value:1', dir: -1 }).map((x: any) => x.number)).toEqual([
        4, 3, 2, 0, 1,
      ]);
      expect(sortTrials(ts, { key: 'value:0', dir: 1 }).map((x: any) => x.number)).toEqual([
        3, 0, 1, 2, 4,
      ]);
    });
  });
});

describe('dashboard study views (views.js)', () => {
  // A conditional space: beta only with adam; trial 3 carries a parameter the space lacks.
  const space = {
    lr: { type: 'float', low: 1e-4, high: 1, log: true },
    opt: { type: 'categorical', choices: ['sgd', 'adam'] },
    beta: { type: 'float', low: 0.8, high: 0.99, when: { opt: 'adam' } },
  };
  const cstudy = { direction: 'minimize', metric: 'loss', space };
  const t = (n: number, params: Record<string, unknown>, value: number | null, extra = {}) => ({
    number: n,
    state: value === null ? 'pruned' : 'complete',
    value,
    params,
    intermediate: [],
    started_at: `2024-01-01T00:00:0${n}.000Z`,
    completed_at: `2024-01-01T00:00:0${n + 1}.000Z`,
    attempts: 1,
    runner: null,
    sampler: 'tpe',
    error: null,
    ...extra,
  });
  const ts = [
    t(0, { lr: 0.001, opt: 'sgd' }, 5),
    t(1, { lr: 0.01, opt: 'adam', beta: 0.9 }, 0.05),
    t(2, { lr: 0.1, opt: 'adam', beta: 0.95 }, 500),
    t(3, { lr: 0.02, opt: 'sgd', width: 64 }, 1),
    t(4, { lr: 0.5, opt: 'sgd' }, null, {
      intermediate: [
        { step: 1, value: 3 },
        { step: 2, value: 2 },
      ],
    }),
  ];

  it('parameters: the space first, then one only trials carry; conditional ones count only the trials that have them', async () => {
    const { paramInfo } = await load('charts.js');
    const info = paramInfo(cstudy, ts);
    expect(info.map((p: any) => [p.name, p.type, p.n])).toEqual([
      ['lr', 'float', 5],
      ['opt', 'categorical', 5],
      ['beta', 'float', 2],
      ['width', 'float', 1],
    ]);
    expect(info[3]).toMatchObject({ low: 64, high: 64, log: false });
  });

  it('history: a log axis when the values span two decades, linear otherwise', async () => {
    const { historyOption } = await load('charts.js');
    expect(historyOption(cstudy, ts).yAxis.type).toBe('log');
    expect(historyOption(cstudy, ts.slice(0, 1).concat(ts[3])).yAxis.type).toBe('value');
  });

  it('slice: one panel per parameter, absent values left out (not zero), log x for log params, colour by trial number', async () => {
    const { sliceViews } = await load('views.js');
    const s = sliceViews(cstudy, ts);
    expect(s.map((x: any) => x.name)).toEqual(['lr', 'opt', 'beta', 'width']);
    expect(s[0].option.xAxis.type).toBe('log');
    expect(s[1].option.xAxis).toMatchObject({ type: 'category', data: ['sgd', 'adam'] });
    expect(s[2].option.series[0].data).toEqual([
      [0.9, 0.05, 1],
      [0.95, 500, 2],
    ]);
    expect(s[2].note).toBe('2 of 4 complete trials have beta');
    expect(s[0].option.visualMap).toMatchObject({ dimension: 2, min: 0, max: 4 });
  });

  it('contour: an interpolated grid over the two params (log scale for log ones) through the trials that have both; too few says so', async () => {
    const { contourView } = await load('views.js');
    const c = contourView(cstudy, ts, 0, 'lr', 'opt');
    const [cells, pts] = c.option.series;
    expect(cells.data).toHaveLength(24 ** 2);
    expect(pts.data.map((p: number[]) => p[3])).toEqual([0, 1, 2, 3]);
    // lr on log10: the axis spans the space's -4..0; opt's choices are 0 and 1.
    expect(c.option.xAxis).toMatchObject({ min: -4, max: 0 });
    expect(pts.data[0].slice(0, 3)).toEqual([-3, 0, 5]);
    const zs = cells.data.map((x: number[]) => x[4]);
    expect(Math.min(...zs)).toBeGreaterThanOrEqual(0.05);
    expect(Math.max(...zs)).toBeLessThanOrEqual(500);
    const few = contourView(cstudy, ts, 0, 'beta', 'width');
    expect(few.option).toBeNull();
    expect(few.note).toMatch(/^0 of 4 complete trials have both beta and width: too few\.$/);
  });

  it('rank: colour by rank on the objective, best 0, worst 1', async () => {
    const { rankView } = await load('views.js');
    const r = rankView(cstudy, ts, 0, 'lr', 'opt');
    expect(r.option.series[0].data.map((p: any[]) => [p[3], p[2]])).toEqual([
      [0, 2 / 3],
      [1, 0],
      [2, 1],
      [3, 1 / 3],
    ]);
  });

  it('EDF: the share of trials at most each value, per series', async () => {
    const { edfOption } = await load('views.js');
    const o = edfOption(
      [
        { name: 'a', values: [3, 1, 2] },
        { name: 'b', values: [10] },
      ],
      'loss',
    );
    expect(o.series[0].data).toEqual([
      [1, 1 / 3],
      [2, 2 / 3],
      [3, 1],
    ]);
    expect(o.series[1]).toMatchObject({ name: 'b', data: [[10, 1]] });
  });

  it('timeline: a bar per started trial by state, a running one to now', async () => {
    const { timelineOption } = await load('views.js');
    const now = Date.parse('2024-01-01T00:01:00.000Z');
    const running = t(5, { lr: 0.1 }, null, {
      state: 'running',
      completed_at: null,
      attempts: 2,
      runner: 'gpu-1',
    });
    const waiting = t(6, {}, null, { state: 'waiting', started_at: null, completed_at: null });
    const o = timelineOption([...ts, running, waiting], now);
    expect(o.series.map((s: any) => [s.name, s.data.length])).toEqual([
      ['complete', 4],
      ['pruned', 1],
      ['running', 1],
    ]);
    expect(o.series[2].data[0]).toEqual([Date.parse(running.started_at), now, 5, 2, 'gpu-1']);
  });

  it('trial page: the state history of a pruned and a re-leased trial', async () => {
    const { trialHistory } = await load('views.js');
    const pruned = trialHistory(ts[4]).map((h: any) => h.what);
    expect(pruned).toEqual([
      'leased (attempt 1)',
      'reported 2 intermediate values (steps 1 to 2)',
      'pruned at step 2',
    ]);
    const again = trialHistory(
      t(7, {}, null, { state: 'failed', attempts: 3, runner: 'r<1>', error: 'lease expired' }),
    ).map((h: any) => h.what);
    expect(again).toEqual([
      'leased by runner r<1> (attempt 3: handed out again after 2 expired or released leases)',
      'failed: lease expired',
    ]);
    // The pruner's decision with why, its heartbeats, and a running trial's lease expiry.
    const why = 'the median pruner answered should_prune at step 1: value 3, best so far 3';
    const decided = trialHistory({
      ...ts[4],
      heartbeats: 2,
      last_heartbeat_at: '2024-01-01T00:00:05.000Z',
      pruned_at_step: 1,
      prune_reason: why,
    });
    expect(decided.map((h: any) => h.what).slice(2)).toEqual([
      '2 heartbeats, the latest',
      `pruned at step 1: ${why}`,
    ]);
    expect(decided[2].at).toBe('2024-01-01T00:00:05.000Z');
    const running = trialHistory(
      t(8, {}, null, {
        state: 'running',
        completed_at: null,
        heartbeats: 0,
        lease_expires_at: '2024-01-01T00:05:00.000Z',
        pruned_at_step: 4,
        prune_reason: why,
      }),
    );
    expect(running.map((h: any) => h.what)).toEqual([
      'leased (attempt 1)',
      `the pruner said prune at step 4: ${why}`,
      'running',
      'its lease expires unless a heartbeat or report extends it',
    ]);
    expect(running[3].at).toBe('2024-01-01T00:05:00.000Z');
  });

  it('trial list: filter by state, search name=value words, sort by a param (absent last), pages', async () => {
    const { filterTrials, pageOf } = await load('views.js');
    const { sortTrials } = await load('charts.js');
    expect(filterTrials(ts, 'pruned', '').map((x: any) => x.number)).toEqual([4]);
    expect(filterTrials(ts, 'all', 'opt=adam').map((x: any) => x.number)).toEqual([1, 2]);
    expect(filterTrials(ts, 'all', 'OPT=SGD width').map((x: any) => x.number)).toEqual([3]);
    expect(sortTrials(ts, { key: 'param:beta', dir: 1 }).map((x: any) => x.number)).toEqual([
      1, 2, 0, 3, 4,
    ]);
    expect(sortTrials(ts, { key: 'param:opt', dir: 1 }).map((x: any) => x.number)).toEqual([
      1, 2, 0, 3, 4,
    ]);
    const rows = Array.from({ length: 120 }, (_, i) => i);
    expect(pageOf(rows, 2, 50)).toEqual({ rows: rows.slice(100), page: 2, pages: 3 });
    expect(pageOf(rows, 9, 50).page).toBe(2);
    expect(pageOf([], 0, 50)).toEqual({ rows: [], page: 0, pages: 1 });
  });
});

describe('notes as Markdown (notes.js)', () => {
  const md = async (text: string) => String((await load('notes.js')).renderMarkdown(text));

  it('renders headings (below the page’s), paragraphs, lists, quotes, code and emphasis', async () => {
    expect(await md('# Plan\n\nTry **lower** lr and *more* `warmup`.\nSecond line.')).toBe(
      '<h3>Plan</h3><p>Try <strong>lower</strong> lr and <em>more</em> <code>warmup</code>. Second line.</p>',
    );
    expect(await md('- a\n- b\n\n1. one\n2. two')).toBe(
      '<ul><li>a</li><li>b</li></ul><ol><li>one</li><li>two</li></ol>',
    );
    expect(await md('> said\n\n```\nx = 1 < 2\n```')).toBe(
      '<blockquote><p>said</p></blockquote><pre><code>x = 1 &lt; 2</code></pre>',
    );
  });

  it('shows HTML as text and links only http(s) and mailto, as plain links', async () => {
    expect(await md('<img src=x onerror=alert(1)><script>alert(2)</script>')).toBe(
      '<p>&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;</p>',
    );
    expect(await md('[x](javascript:alert(1)) [y](data:text/html,hi)')).toBe(
      '<p>[x](javascript:alert(1)) [y](data:text/html,hi)</p>',
    );
    expect(await md('[run](https://x.test/a?b=1&c="2") <mailto:me@x.test>')).toBe(
      '<p><a href="https://x.test/a?b=1&amp;c=&quot;2&quot;" rel="nofollow noopener noreferrer" target="_blank">run</a> <a href="mailto:me@x.test" rel="nofollow noopener noreferrer" target="_blank">mailto:me@x.test</a></p>',
    );
    expect(await md('**<b>x</b>** [<i>y</i>](https://x.test)')).toBe(
      '<p><strong>&lt;b&gt;x&lt;/b&gt;</strong> <a href="https://x.test" rel="nofollow noopener noreferrer" target="_blank">&lt;i&gt;y&lt;/i&gt;</a></p>',
    );
  });
});

describe('lr suggestion views (views.js)', () => {
  it('candidates: score (mean over seeds) against lr, each seed beside it, the answer marked', async () => {
    const { lrCandidatesOption } = await load('views.js');
    const o = lrCandidatesOption(
      [
        {
          lr: 0.01,
          value: 0.5,
          score: 0.45,
          spread: 0.02,
          seeds: [
            { seed: 0, value: 0.4 },
            { seed: 1, value: 0.5 },
          ],
        },
        { lr: 0.1, value: 0.3, score: null, spread: null, seeds: null },
        { lr: 1, value: null, score: null, spread: null, seeds: null },
      ],
      0.1,
    );
    expect(o.xAxis.type).toBe('log');
    expect(o.series[0].data).toEqual([
      [0.01, 0.45, 0.02],
      [0.1, 0.3, 0],
    ]);
    expect(o.series[0].markLine.data).toEqual([{ xAxis: 0.1 }]);
    expect(o.series[1].data).toEqual([
      [0.01, 0.4, 0],
      [0.01, 0.5, 1],
    ]);
    expect(o.series[2].data).toEqual([]);
  });

  it('candidates: a run judged unstable is drawn apart, never as a candidate', async () => {
    const { lrCandidatesOption } = await load('views.js');
    const o = lrCandidatesOption(
      [
        { lr: 0.1, value: 0.17, score: null, spread: null, seeds: null, unstable: false },
        { lr: 1.29, value: 0.7, score: null, spread: null, seeds: null, unstable: true },
      ],
      0.1,
    );
    expect(o.series.map((s: any) => s.name)).toEqual(['candidates', 'seeds', 'unstable']);
    expect(o.series[0].data).toEqual([[0.1, 0.17, 0]]);
    expect(o.series[2].data).toEqual([[1.29, 0.7, 0]]);
  });

  it("runs' curves: one line per run, one colour per lr, the shorter runs dashed", async () => {
    const { lrCurvesOption } = await load('views.js');
    const run = (n: number, lr: number, epochs: number) => ({
      number: n,
      params: { lr, epochs },
      intermediate: Array.from({ length: epochs }, (_, k) => ({ step: k + 1, value: 1 / (k + 1) })),
    });
    const o = lrCurvesOption([
      run(0, 0.1, 2),
      run(1, 0.01, 4),
      run(2, 0.1, 4),
      { ...run(3, 1, 0) },
    ]);
    expect(o.series.map((s: any) => [s.name, s.lineStyle.type, s.data.length])).toEqual([
      ['lr 0.1', 'dashed', 2],
      ['lr 0.01', 'solid', 4],
      ['lr 0.1', 'solid', 4],
    ]);
    expect(o.series[0].color).toBe(o.series[2].color);
    expect(o.series[0].color).not.toBe(o.series[1].color);
    expect(o.legend.data).toEqual(['lr 0.01', 'lr 0.1']);
    expect(o.yAxis.type).toBe('value');
    // A run that blew up (200 against losses near 0.2): a log axis, so the others stay readable.
    const blown = lrCurvesOption([
      run(0, 0.1, 4),
      { number: 1, params: { lr: 1.29, epochs: 4 }, intermediate: [{ step: 1, value: 200 }] },
    ]);
    expect(blown.yAxis.type).toBe('log');
  });
});

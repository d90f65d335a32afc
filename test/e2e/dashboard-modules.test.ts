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

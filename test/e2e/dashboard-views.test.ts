// The study page's views (history, slice, contour, rank, EDF, timeline), the trial page and the
// trial list in Chromium, on a study with one objective, one with two, one with conditional
// parameters whose names, choices, metric and notes are hostile markup, and a define-by-run study
// whose trials ask for their params, one of them appearing late.
// Screenshots go to test/screenshots/ (ignored by git).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../scripts/ensure-chromium.mjs';
import { apiJson, KEY, URL } from './helpers';

// Callbacks run in the page by page.evaluate use (globalThis as any): the project's types have no DOM.
const SHOTS = path.resolve(import.meta.dirname, '../screenshots');
const CHROMIUM = findChromium();
const XSS = (n: number) => `<img src=x onerror="window.__xss=${n}">`;

/** A single-objective study whose values span decades: 60 trials, every fourth pruned at step 2, one failed. */
async function seedSingle() {
  const s = await apiJson('POST', '/v1/studies', {
    name: 'views: one objective',
    metric: 'val_loss',
    space: {
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      width: { type: 'int', low: 8, high: 256 },
      act: { type: 'categorical', choices: ['relu', 'tanh'] },
    },
    sampler: { name: 'random', seed: 5 },
  });
  for (let i = 0; i < 60; i++) {
    const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    const v = 10 ** (Math.abs(Math.log10(t.params.lr) + 3) - 1) + t.params.width / 1000;
    const steps = i % 4 === 3 ? 2 : 4;
    await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/report`, {
      points: Array.from({ length: steps }, (_, k) => ({ step: k + 1, value: v + 1 / (k + 1) })),
    });
    const result =
      i === 5
        ? { state: 'failed', error: 'CUDA out of memory' }
        : steps === 2
          ? { state: 'pruned' }
          : { value: v };
    await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, result);
  }
  return s;
}

/** Two objectives, 12 trials. */
async function seedTwo() {
  const s = await apiJson('POST', '/v1/studies', {
    name: 'views: two objectives',
    directions: ['minimize', 'maximize'],
    metrics: ['loss', 'accuracy'],
    space: {
      lr: { type: 'float', low: 1e-4, high: 1, log: true },
      depth: { type: 'int', low: 1, high: 8 },
    },
    sampler: { name: 'random', seed: 2 },
  });
  for (let i = 0; i < 12; i++) {
    const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    const loss = (Math.log10(t.params.lr) + 2) ** 2 + t.params.depth / 10;
    await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, {
      values: [loss, 1 / (1 + loss)],
    });
  }
  return s;
}

const hostile = {
  name: `${XSS(1)}<script>window.__xss=2</script> conditional`,
  metric: `${XSS(3)} loss`,
  opt: `${XSS(4)}optimizer`,
  choices: [XSS(5), 'sgd'],
  beta: `beta1${XSS(6)}`,
};

/** Conditional params: beta only with the hostile choice, momentum only with sgd; hostile names throughout. */
async function seedConditional() {
  const s = await apiJson('POST', '/v1/studies', {
    name: hostile.name,
    metric: hostile.metric,
    space: {
      lr: { type: 'float', low: 1e-4, high: 1, log: true },
      [hostile.opt]: { type: 'categorical', choices: hostile.choices },
      [hostile.beta]: {
        type: 'float',
        low: 0.8,
        high: 0.99,
        when: { [hostile.opt]: hostile.choices[0] },
      },
      momentum: { type: 'float', low: 0, high: 0.99, when: { [hostile.opt]: 'sgd' } },
    },
    sampler: { name: 'random', seed: 4 },
  });
  for (let i = 0; i < 16; i++) {
    const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, {
      value: Math.abs(Math.log10(t.params.lr) + 2) + (t.params.momentum ?? 0.5),
    });
  }
  return s;
}

/**
 * Define-by-run: a study created with an empty space whose 16 trials ask for their params
 * (POST /v1/studies/{id}/trials/{n}/params): lr and width from the first, dropout from trial 8 on
 * (a parameter that appears late: the first 8 trials never have it).
 */
async function seedDefineByRun() {
  const s = await apiJson('POST', '/v1/studies', {
    name: 'views: define-by-run',
    metric: 'val_loss',
    space: {},
    sampler: { name: 'random', seed: 7 },
  });
  const ask = async (n: number, name: string, distribution: unknown) =>
    (await apiJson('POST', `/v1/studies/${s.id}/trials/${n}/params`, { name, distribution })).value;
  for (let i = 0; i < 16; i++) {
    const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    const lr = await ask(t.number, 'lr', { type: 'float', low: 1e-4, high: 1, log: true });
    const width = await ask(t.number, 'width', { type: 'int', low: 8, high: 256 });
    const dropout =
      i >= 8 ? await ask(t.number, 'dropout', { type: 'float', low: 0.1, high: 0.5 }) : 0;
    await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, {
      value: Math.abs(Math.log10(lr) + 2) + width / 1000 + dropout,
    });
  }
  return s;
}

let browser: Browser;
const errors: string[] = [];
let single: any;
let two: any;
let cond: any;
let dbr: any;

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultNavigationTimeout(120_000);
  page.on('pageerror', (e) => errors.push(`${hash}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
      errors.push(`${hash}: ${m.text()}`);
  });
  await page.goto(`${URL}/`);
  await page.evaluate(`sessionStorage.setItem('stride-key', ${JSON.stringify(KEY)})`);
  await page.goto(`${URL}/${hash}`);
  return page;
}
const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The option ECharts holds for the chart in #`id`. */
const optionOf = (page: Page, id: string) =>
  page.evaluate(
    (id) =>
      (globalThis as any).echarts
        .getInstanceByDom((globalThis as any).document.getElementById(id))
        .getOption(),
    id,
  );
/** Draws at least `min` SVG paths in #`id`. */
const drawn = (page: Page, id: string, min = 5) =>
  expect
    .poll(() => page.locator(`#${id} svg path`).count(), { timeout: 15_000 })
    .toBeGreaterThan(min);
const injected = async (page: Page) => {
  await page.waitForTimeout(300); // a broken <img> fires onerror asynchronously
  return page.evaluate(() => ({
    xss: (globalThis as any).__xss,
    imgs: (globalThis as any).document.querySelectorAll('img').length,
    scripts: (globalThis as any).document.querySelectorAll('#app script').length,
  }));
};

describe('dashboard views in Chromium', () => {
  beforeAll(async () => {
    if (!CHROMIUM.path) throw new Error(`no Chromium for the browser tests (${CHROMIUM.problem})`);
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM.path, args: ['--no-sandbox'] });
    [single, two, cond, dbr] = await Promise.all([
      seedSingle(),
      seedTwo(),
      seedConditional(),
      seedDefineByRun(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('one objective: history on a log axis, slice per parameter, contour, rank, EDF and timeline drawn; a point opens its trial', async () => {
    const page = await open(`#/study/${single.id}`);
    await page.waitForSelector('#app[data-drawn]');
    for (const id of [
      'chart-history',
      'chart-contour',
      'chart-rank',
      'chart-edf',
      'chart-timeline',
    ])
      await drawn(page, id);
    expect((await optionOf(page, 'chart-history')).yAxis[0].type).toBe('log');
    // One slice per parameter; lr's on a log axis; every complete trial in each.
    expect(await page.locator('.slice h3').allTextContents()).toEqual(['lr', 'width', 'act']);
    const trials = (await apiJson('GET', `/v1/studies/${single.id}/trials`)).trials;
    const complete = trials.filter((t: any) => t.state === 'complete');
    const slice0 = await optionOf(page, 'chart-slice-0');
    expect(slice0.xAxis[0].type).toBe('log');
    expect(slice0.series[0].data.length).toBe(complete.length);
    expect(slice0.visualMap[0].dimension).toBe(2); // coloured by trial number
    // Contour: the surface's cells and the complete trials as points.
    const contour = await optionOf(page, 'chart-contour');
    expect(contour.series.map((s: any) => s.name)).toEqual(['surface', 'trials']);
    expect(contour.series[1].data.length).toBe(complete.length);
    expect(await page.locator('#contour-note').textContent()).toMatch(
      new RegExp(
        `^${complete.length} of ${complete.length} complete trials have both lr and width`,
      ),
    );
    // Timeline: every started trial, by state.
    const tl = await optionOf(page, 'chart-timeline');
    expect(tl.series.map((s: any) => s.name).sort()).toEqual(['complete', 'failed', 'pruned']);
    expect(tl.series.reduce((n: number, s: any) => n + s.data.length, 0)).toBe(60);
    await shot(page, 'views-single');
    // Clicking the first history point opens that trial's page.
    const [x, y] = await page.evaluate(() => {
      const el = (globalThis as any).document.getElementById('chart-history');
      const c = (globalThis as any).echarts.getInstanceByDom(el);
      const p = c.getOption().series[0].data[0];
      const px = c.convertToPixel({ seriesIndex: 0 }, p);
      const r = el.getBoundingClientRect();
      return [r.left + px[0], r.top + px[1]];
    });
    await page.mouse.click(x, y);
    await page.waitForFunction(
      `location.hash === '#/study/${single.id}/trial/${complete[0].number}'`,
    );
    await page.waitForSelector('#trial-title');
    expect(await page.locator('#trial-title').textContent()).toBe(`Trial ${complete[0].number}`);
    await page.close();
  });

  it('trial page: params with distributions, values, learning curve against the median, state history, sampler; a pruned trial says at which step', async () => {
    const trials = (await apiJson('GET', `/v1/studies/${single.id}/trials`)).trials;
    const pruned = trials.find((t: any) => t.state === 'pruned');
    const page = await open(`#/study/${single.id}/trial/${pruned.number}`);
    await page.waitForSelector('#trial-params-table');
    expect(await page.locator('#trial-state').textContent()).toBe('pruned');
    expect(await page.locator('#trial-sampler').textContent()).toBe(pruned.sampler);
    const rows = await page.locator('#trial-params-table tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^lrfloat|^lr[\d.e-]+float in \[1\.000e-5, 1\], log$/);
    // Where and why (the trial's pruned_at_step and prune_reason): told pruned, no pruner's decision.
    expect(await page.locator('#trial-history').textContent()).toMatch(
      /pruned at step 2: told pruned by its caller/,
    );
    expect(await page.locator('#trial-history').textContent()).toMatch(/leased \(attempt 1\)/);
    await drawn(page, 'chart-curve', 2);
    const curve = await optionOf(page, 'chart-curve');
    expect(curve.series.map((s: any) => s.name)).toEqual([
      'study median',
      `trial ${pruned.number}`,
    ]);
    expect(curve.series[1].data).toEqual([
      [1, pruned.intermediate[0].value],
      [2, pruned.intermediate[1].value],
    ]);
    expect(curve.series[0].data.map((p: number[]) => p[0])).toEqual([1, 2, 3, 4]);
    await shot(page, 'trial-pruned');
    // The failed trial shows its error.
    await page.goto(`${URL}/#/study/${single.id}/trial/5`);
    await expect.poll(() => page.locator('#trial-error').textContent()).toBe('CUDA out of memory');
    // A trial the study lacks: a clear error.
    await page.goto(`${URL}/#/study/${single.id}/trial/999`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/has no trial 999/);
    await page.close();
  });

  it('trial list: filters by state, searches params, sorts by a parameter, pages through 50 at a time', async () => {
    const page = await open(`#/study/${single.id}`);
    await page.waitForSelector('#app[data-drawn]');
    expect(await page.locator('#trials-table tbody tr').count()).toBe(50);
    expect(await page.locator('#trials-page').textContent()).toBe('page 1 of 2');
    await page.locator('#trials-next').click();
    expect(await page.locator('#trials-table tbody tr').count()).toBe(10);
    expect(await page.locator('#trials-table tbody tr').first().getAttribute('data-trial')).toBe(
      '50',
    );
    await page.getByLabel('State').selectOption('pruned');
    expect(await page.locator('#trial-count').textContent()).toBe('15 of 60 trials match');
    const states = await page.locator('#trials-table tbody td.state').allTextContents();
    expect(new Set(states)).toEqual(new Set(['pruned']));
    await page.getByLabel('State').selectOption('all');
    await page.getByLabel('Search params').fill('act=tanh');
    const acts = await page.locator('#trials-table tbody tr td:nth-child(8)').allTextContents();
    expect(acts.length).toBeGreaterThan(0);
    expect(new Set(acts)).toEqual(new Set(['tanh']));
    await page.getByLabel('Search params').fill('');
    await page.locator('[data-sort="param:width"]').click();
    const widths = (
      await page.locator('#trials-table tbody tr td:nth-child(7)').allTextContents()
    ).map(Number);
    expect(widths).toEqual([...widths].sort((a, b) => a - b));
    // A row's number opens the trial.
    const first = page.locator('#trials-table tbody tr').first();
    const n = await first.getAttribute('data-trial');
    await first.locator('a').click();
    await page.waitForFunction(`location.hash === '#/study/${single.id}/trial/${n}'`);
    await page.close();
  });

  it('two objectives: the objective picker redraws history, slices, contour and EDF for the second', async () => {
    const page = await open(`#/study/${two.id}`);
    await page.waitForSelector('#app[data-drawn]');
    for (const id of ['chart-pareto', 'chart-history', 'chart-contour', 'chart-rank', 'chart-edf'])
      await drawn(page, id);
    expect((await optionOf(page, 'chart-history')).yAxis[0].name).toBe('loss');
    await page.getByLabel('Objective shown').selectOption('1');
    await expect
      .poll(async () => (await optionOf(page, 'chart-history')).yAxis[0].name)
      .toBe('accuracy');
    const hist = await optionOf(page, 'chart-history');
    const best = hist.series[1].data.map((p: number[]) => p[1]);
    expect(best).toEqual([...best].sort((a, b) => a - b)); // maximize: best so far never falls
    // Each view redraws in its own task: the EDF and the slices may follow the history a moment later.
    await expect
      .poll(async () => (await optionOf(page, 'chart-edf')).xAxis[0].name)
      .toBe('accuracy');
    await expect
      .poll(async () => (await optionOf(page, 'chart-slice-0')).yAxis[0].name)
      .toBe('accuracy');
    await shot(page, 'views-two-objectives');
    await page.close();
  });

  it('conditional parameters: a slice and the contour hold only the trials that have the parameter; hostile names show as text', async () => {
    const trials = (await apiJson('GET', `/v1/studies/${cond.id}/trials`)).trials;
    const withBeta = trials.filter((t: any) => hostile.beta in t.params);
    expect(withBeta.length).toBeGreaterThan(0);
    expect(withBeta.length).toBeLessThan(trials.length);
    const page = await open(`#/study/${cond.id}`);
    await page.waitForSelector('#app[data-drawn]');
    const names = await page.locator('.slice h3').allTextContents();
    expect(names).toEqual(['lr', hostile.opt, hostile.beta, 'momentum']);
    const beta = await optionOf(page, 'chart-slice-2');
    expect(beta.series[0].data.length).toBe(withBeta.length);
    expect(await page.locator('#slice-note-2').textContent()).toBe(
      `${withBeta.length} of ${trials.length} complete trials have ${hostile.beta}`,
    );
    await page.locator('#contour-x').selectOption(hostile.beta);
    await page.locator('#contour-y').selectOption('lr');
    await expect
      .poll(async () => (await optionOf(page, 'chart-contour')).series?.[1]?.data?.length)
      .toBe(withBeta.length);
    // The table marks the absent values, never zeros.
    const row = trials.find((t: any) => !(hostile.beta in t.params));
    const cells = await page
      .locator(`#trials-table tbody tr[data-trial="${row.number}"] td`)
      .allTextContents();
    expect(cells).toContain(hostile.choices[1]);
    expect(cells).toContain('—');
    expect(await page.locator('#study-name').textContent()).toBe(hostile.name);
    expect(await page.locator('#chart-history').textContent()).toContain(hostile.metric);
    expect(await page.locator('#chart-slice-1').textContent()).toContain('<img src=x');
    await shot(page, 'views-conditional');
    expect(await injected(page)).toEqual({ xss: undefined, imgs: 0, scripts: 0 });
    // The trial page of a trial without beta: says it is not set, names as text.
    const t = await open(`#/study/${cond.id}/trial/${row.number}`);
    await t.waitForSelector('#trial-params-table');
    const params = await t.locator('#trial-params-table tbody tr').allTextContents();
    expect(params.find((p) => p.startsWith(hostile.beta))).toMatch(/not set \(conditional\)/);
    expect(await injected(t)).toEqual({ xss: undefined, imgs: 0, scripts: 0 });
    await t.close();
    await page.close();
  });

  it('define-by-run: the parameter that appears late has its slice, contour, parallel axis and column; the trials without it are left out, never drawn at zero', async () => {
    const trials = (await apiJson('GET', `/v1/studies/${dbr.id}/trials`)).trials;
    expect(trials).toHaveLength(16);
    const late = trials.filter((t: any) => 'dropout' in t.params);
    expect(late.map((t: any) => t.number)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect((await apiJson('GET', `/v1/studies/${dbr.id}`)).space.dropout).toBeTruthy();
    const page = await open(`#/study/${dbr.id}`);
    await page.waitForSelector('#app[data-drawn]');
    // Slice: a panel for dropout with only the 8 trials that have it (the lowest at 0.1 or more).
    expect(await page.locator('.slice h3').allTextContents()).toEqual(['lr', 'width', 'dropout']);
    const slice = await optionOf(page, 'chart-slice-2');
    const xs = slice.series[0].data.map((p: number[]) => p[0]);
    expect(xs).toHaveLength(8);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0.1);
    expect(await page.locator('#slice-note-2').textContent()).toBe(
      '8 of 16 complete trials have dropout',
    );
    expect((await optionOf(page, 'chart-slice-0')).series[0].data).toHaveLength(16);
    // Contour over dropout and lr: the 8 trials that have both.
    await page.locator('#contour-x').selectOption('dropout');
    await page.locator('#contour-y').selectOption('lr');
    await expect
      .poll(async () => (await optionOf(page, 'chart-contour')).series?.[1]?.data?.length)
      .toBe(8);
    expect(await page.locator('#contour-note').textContent()).toMatch(
      /^8 of 16 complete trials have both dropout and lr/,
    );
    const contourXs = (await optionOf(page, 'chart-contour')).series[1].data.map(
      (p: number[]) => p[0],
    );
    expect(Math.min(...contourXs)).toBeGreaterThanOrEqual(0.1);
    // Parallel coordinates: a dropout axis; the early trials' lines have a gap there (null), not 0.
    const par = await optionOf(page, 'chart-parallel');
    const dim = par.parallelAxis.findIndex((a: any) => a.name === 'dropout');
    expect(dim).toBe(2);
    const at = par.series[0].data.map((row: any[]) => row[dim]);
    expect(at.filter((v: unknown) => v === null || v === undefined)).toHaveLength(8);
    expect(at.filter((v: unknown) => typeof v === 'number' && v >= 0.1)).toHaveLength(8);
    // The table: a dropout column, "—" for a trial without it, its value for one with it.
    const heads = await page.locator('#trials-table thead th').allTextContents();
    const col = heads.findIndex((h) => h.startsWith('dropout'));
    expect(col).toBeGreaterThan(0);
    const cell = async (n: number) =>
      (await page.locator(`#trials-table tbody tr[data-trial="${n}"] td`).allTextContents())[col];
    expect(await cell(0)).toBe('—');
    expect(Number(await cell(8))).toBeCloseTo(trials[8].params.dropout, 2);
    await shot(page, 'views-define-by-run');
    // The trial page of an early trial: dropout is not set.
    const t = await open(`#/study/${dbr.id}/trial/0`);
    await t.waitForSelector('#trial-params-table');
    const params = await t.locator('#trial-params-table tbody tr').allTextContents();
    expect(params.find((p) => p.startsWith('dropout'))).toMatch(/not set/);
    await t.close();
    await page.close();
  });

  it('notes: written on the study page, stored through the API, rendered as Markdown; markup in a note stays text and links stay plain', async () => {
    const page = await open(`#/study/${cond.id}`);
    await page.locator('#study-note [data-edit]').click();
    const text = [
      '# Plan',
      '',
      `**bold** ${XSS(31)} [ok](https://example.com/a?b=1) [bad](javascript:window.__xss=32)`,
      '',
      '- one',
      '- two',
      '',
      '<script>window.__xss=33</script>',
    ].join('\n');
    await page.locator('#note-text').fill(text);
    await page.getByRole('button', { name: 'Save note' }).click();
    await page.waitForSelector('#study-note .md h3');
    expect(await page.locator('#study-note .md h3').textContent()).toBe('Plan');
    expect(await page.locator('#study-note .md strong').textContent()).toBe('bold');
    expect(await page.locator('#study-note .md li').allTextContents()).toEqual(['one', 'two']);
    const links = page.locator('#study-note .md a');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://example.com/a?b=1');
    const shown = await page.locator('#study-note .md').textContent();
    expect(shown).toContain(XSS(31));
    expect(shown).toContain('[bad](javascript:window.__xss=32)');
    expect(shown).toContain('<script>window.__xss=33</script>');
    expect(await injected(page)).toEqual({ xss: undefined, imgs: 0, scripts: 0 });
    expect((await apiJson('GET', `/v1/studies/${cond.id}/notes`)).study.note).toBe(text);
    // After a reload the note is read back from the API.
    await page.reload();
    await expect.poll(() => page.locator('#study-note .md h3').textContent()).toBe('Plan');
    await shot(page, 'study-note');
    await page.close();
    // A trial's note, written through the API, on its page.
    await apiJson('PUT', `/v1/studies/${cond.id}/trials/0/note`, {
      note: `diverged: *${XSS(34)}*`,
    });
    const t = await open(`#/study/${cond.id}/trial/0`);
    await t.waitForSelector('#trial-note .md em');
    expect(await t.locator('#trial-note .md em').textContent()).toBe(XSS(34));
    expect(await injected(t)).toEqual({ xss: undefined, imgs: 0, scripts: 0 });
    await t.close();
  });

  it('compares studies: best so far and EDF of each picked study on one chart, names as text', async () => {
    const page = await open(`#/compare?ids=${single.id},${cond.id}`);
    await page.waitForSelector('#compare-pick');
    await drawn(page, 'chart-compare-edf');
    const edf = await optionOf(page, 'chart-compare-edf');
    expect(edf.series.map((s: any) => s.name)).toEqual([single.name, cond.name]);
    const hist = await optionOf(page, 'chart-compare-history');
    expect(hist.series.map((s: any) => s.name)).toEqual([single.name, cond.name]);
    expect(await page.locator('#chart-compare-edf').textContent()).toContain(cond.name);
    expect(await page.locator('#compare-pick input:checked').count()).toBe(2);
    await page.locator(`#compare-pick input[value="${two.id}"]`).check();
    await page.waitForFunction(
      `location.hash === '#/compare?ids=${single.id},${two.id},${cond.id}' || location.hash.split(',').length === 3`,
    );
    await expect
      .poll(async () => (await optionOf(page, 'chart-compare-edf')).series?.length)
      .toBe(3);
    expect(await injected(page)).toEqual({ xss: undefined, imgs: 0, scripts: 0 });
    await shot(page, 'compare');
    await page.close();
  });

  it('operations: the storage state, the trials running under a lease, and the subscriptions that notify about the study', async () => {
    const s = await apiJson('POST', '/v1/studies', {
      name: 'ops',
      space: { x: { type: 'float', low: 0, high: 1 } },
    });
    const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/heartbeat`, {
      lease_token: t.lease.token,
    });
    const sub = await apiJson('POST', '/v1/subscriptions', {
      url: 'https://hooks.example.test/stride',
      study_id: s.id,
      events: ['trial.failed'],
    });
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#ops-leases-table');
    expect(await page.locator('#ops-d1').textContent()).toMatch(/^D1 ok/);
    const row = await page
      .locator(`#ops-leases-table tr[data-trial="${t.number}"] td`)
      .allTextContents();
    expect(row.slice(0, 3)).toEqual([String(t.number), '—', '1']);
    // Its lease's expiry (a client study's lease: 300 s from the heartbeat) and its heartbeat.
    expect(row[5]).not.toBe('—');
    expect(Number(row[6])).toBeGreaterThan(200);
    expect(Number(row[6])).toBeLessThanOrEqual(300);
    expect(row[7]).toBe('1');
    expect(row[8]).not.toBe('—');
    await page.waitForSelector(`#ops-subscriptions tr[data-subscription="${sub.id}"]`);
    const cells = await page
      .locator(`#ops-subscriptions tr[data-subscription="${sub.id}"] td`)
      .allTextContents();
    expect(cells.slice(0, 4)).toEqual([
      'https://hooks.example.test/stride',
      'trial.failed',
      'this study',
      'active',
    ]);
    await shot(page, 'operations');
    // The trial's page: its heartbeats, its lease's expiry, and both in its state history.
    await page.locator(`#ops-leases-table tr[data-trial="${t.number}"] a`).click();
    await page.waitForSelector('#trial-params-table');
    expect(await page.locator('#trial-heartbeats').textContent()).toBe('1');
    expect(await page.locator('#trial-lease').textContent()).not.toBe('—');
    const history = await page.locator('#trial-history li').allTextContents();
    expect(history.some((h) => /1 heartbeat, the latest$/.test(h))).toBe(true);
    expect(history.at(-1)).toMatch(/its lease expires unless a heartbeat or report extends it$/);
    await page.close();
  });

  it('logged no page errors', () => {
    expect(errors).toEqual([]);
  });
});

// The dashboard and the API docs in a real browser: Debian's Chromium driven
// by playwright-core, against the local Worker with seeded studies.
// Screenshots of every page go to test/screenshots/ (ignored by git).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, findChromium } from '../../scripts/ensure-chromium.mjs';
import { apiJson, KEY, ROOT, URL } from './helpers';

// Callbacks run in the page by page.evaluate use (globalThis as any): the project's types have no DOM.
const SHOTS = path.resolve(import.meta.dirname, '../screenshots');
// CHROMIUM_PATH, or chromium / chromium-browser / google-chrome on PATH; npm test's
// pretest (scripts/ensure-chromium.mjs) installs Debian's chromium when there is none.
const CHROMIUM = findChromium();

/** A study like the README's: a few complete trials with intermediate values, some pruned, one failed. */
async function seedStudy(name: string) {
  const study = await apiJson('POST', '/v1/studies', {
    name,
    metric: 'val_loss',
    space: {
      lr: { type: 'float', low: 1e-4, high: 1, log: true },
      momentum: { type: 'float', low: 0, high: 0.99 },
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
    },
    sampler: { name: 'tpe', seed: 3 },
    max_trials: 14,
  });
  for (let i = 0; i < 14; i++) {
    const t = await apiJson('POST', `/v1/studies/${study.id}/ask`);
    const base =
      (Math.log10(t.params.lr) + 2) ** 2 / 4 +
      (t.params.momentum - 0.9) ** 2 +
      (t.params.optimizer === 'adam' ? 0.05 : 0.1);
    const steps = i % 4 === 3 ? 2 : 5;
    for (let s = 1; s <= steps; s++)
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t.number}/report`, {
        step: s,
        value: base + 1 / s,
      });
    if (i === 6)
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t.number}/tell`, {
        state: 'failed',
        error: 'diverged',
      });
    else if (steps === 2)
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t.number}/tell`, { state: 'pruned' });
    else
      await apiJson('POST', `/v1/studies/${study.id}/trials/${t.number}/tell`, {
        value: base + 0.2,
      });
  }
  return study;
}

let browser: Browser;
const errors: string[] = [];

async function open(
  hash: string,
  opts: { width?: number; key?: string | null } = {},
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: 900 } });
  // The e2e Worker serves every e2e file at once on this 2-core machine (edge trials training in it,
  // the Python suite's studies): a page can take longer than Playwright's 30 s default to load then.
  // What is checked is what the page shows, not how fast.
  page.setDefaultNavigationTimeout(120_000);
  page.on('pageerror', (e) => errors.push(`${hash}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401|Failed to load resource/.test(m.text()))
      errors.push(`${hash}: ${m.text()}`);
  });
  await page.goto(`${URL}/`);
  if (opts.key !== null)
    await page.evaluate(`sessionStorage.setItem('stride-key', ${JSON.stringify(opts.key ?? KEY)})`);
  await page.goto(`${URL}/${hash}`);
  return page;
}
const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

describe('dashboard in Chromium', () => {
  let studyId: string;
  beforeAll(async () => {
    if (!CHROMIUM.path)
      throw new Error(
        `no Chromium for the browser tests (${CHROMIUM.problem}): run node scripts/ensure-chromium.mjs (npm test does), install chromium, or set CHROMIUM_PATH`,
      );
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM.path, args: ['--no-sandbox'] });
    studyId = (await seedStudy('mlp-lr (seeded)')).id;
    await apiJson('POST', '/v1/studies', {
      name: 'still running',
      space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a wrong key gets a clear message; a good one signs in to the studies list', async () => {
    const page = await open('#/login', { key: null });
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/That API key was not accepted/);
    await shot(page, 'login-wrong-key');
    await page.getByLabel('API key').fill(KEY);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#studies-table');
    expect(await page.evaluate("sessionStorage.getItem('stride-key')")).toBe(KEY);
    await page.close();
  });

  it('lists the studies with their state, trials and best value, and filters by state', async () => {
    const page = await open('#/studies');
    const row = page.locator(`tr[data-study="${studyId}"]`);
    await row.waitFor();
    await expect
      .poll(async () => (await row.textContent())?.replace(/\s+/g, ' '))
      .toMatch(/mlp-lr \(seeded\) ?completed ?14 \/ 14/);
    expect(await page.locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    await shot(page, 'studies');
    await page.getByLabel('State').selectOption('running');
    await page.waitForFunction("location.hash === '#/studies?state=running'");
    await page.waitForSelector('#studies-table, #studies-out p');
    expect(await page.locator(`tr[data-study="${studyId}"]`).count()).toBe(0);
    expect(await page.locator('tbody').textContent()).toMatch(/still running/);
    await page.close();
  });

  it('draws the study page: history, intermediate values with pruned trials, parallel coordinates, importance, a sortable trial table', async () => {
    const page = await open(`#/study/${studyId}`);
    await page.waitForSelector('#trials-table');
    // Each chart rendered SVG marks, not just an empty box.
    for (const id of [
      'chart-history',
      'chart-intermediate',
      'chart-parallel',
      'chart-importance',
    ]) {
      await expect
        .poll(() => page.locator(`#${id} svg path`).count(), { timeout: 10_000 })
        .toBeGreaterThan(5);
    }
    // Intermediate values: dashed lines for the pruned trials.
    expect(
      await page.locator('#chart-intermediate svg path[stroke-dasharray]').count(),
    ).toBeGreaterThan(0);
    // Importance names every parameter.
    const imp = await page.locator('#chart-importance').textContent();
    for (const p of ['lr', 'momentum', 'optimizer']) expect(imp).toContain(p);
    expect(await page.locator('#importance-method').textContent()).toMatch(
      /From 10 complete trials/,
    );
    expect(await page.locator('#summary').textContent()).toMatch(/completed/);
    // 14 rows; sorting by value puts the best first (keyboard: the header is a button).
    expect(await page.locator('#trials-table tbody tr').count()).toBe(14);
    const study = await apiJson('GET', `/v1/studies/${studyId}`);
    await page.locator('[data-sort="value"]').focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('#trials-table tbody tr').first().getAttribute('data-trial'))
      .toBe(String(study.best_trial.number));
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toMatch(/val_loss/);
    await shot(page, 'study');
    // Phone width: the page still fits (no horizontal overflow of the body).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
    ).toBe(true);
    await shot(page, 'study-phone');
    await page.close();
  });

  it('updates a running study live', async () => {
    const s = await apiJson('POST', '/v1/studies', {
      name: 'live',
      space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } },
    });
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#trials-table');
    expect(await page.locator('#trials-table tbody tr').count()).toBe(0);
    const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, { value: 0.5 });
    await expect
      .poll(() => page.locator('#trials-table tbody tr').count(), { timeout: 10_000 })
      .toBe(1);
    await page.close();
  });

  it('runs a range test from the form and shows the suggestion on a log-axis chart', async () => {
    const page = await open('#/lr');
    await page.getByLabel('Dataset').selectOption('moons');
    await page.getByLabel('Steps').fill('60');
    await page.getByRole('button', { name: 'Run range test' }).click();
    await page.waitForSelector('#suggested-lr, #lr-out .alert', { timeout: 60_000 });
    expect(
      await page.locator('#lr-out .alert').count(),
      (await page.locator('#lr-out').textContent()) ?? '',
    ).toBe(0);
    expect(Number(await page.locator('#suggested-lr').textContent())).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#chart-lr svg path').count()).toBeGreaterThan(5);
    const chartText = await page.locator('#chart-lr').textContent();
    await shot(page, 'lr-range-test');
    expect(chartText).toMatch(/suggested/);
    expect(chartText).toMatch(/learning rate/);
    expect(await page.locator('.candidates li').count()).toBe(4);
    await shot(page, 'lr-range-test');
    // A bad probe shows the service's problem with its path.
    await page
      .locator('#probe-json')
      .fill('{"data": {"kind": "synthetic", "name": "spirals"}, "batch_size": 0}');
    await page.getByRole('button', { name: 'Run range test' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/batch_size/);
    await page.close();
  });

  it('LR page: with a training length, validates candidates at it (POST /v1/lr/suggest) and shows the validated lr, horizon and candidates; without, says the suggestion is unvalidated', async () => {
    const page = await open('#/lr');
    // A small probe: every run trains in seconds.
    const small = {
      model: { kind: 'mlp', hidden: [16], activation: 'relu' },
      task: 'classification',
      data: { kind: 'synthetic', name: 'moons', n: 256, noise: 0.2, seed: 3 },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 32,
      seed: 0,
    };
    await page.locator('#probe-json').fill(JSON.stringify(small, null, 2));
    await page.getByLabel('Steps').fill('60');
    // No training length: the range test alone, with a note that its suggestion is not validated.
    await page.getByRole('button', { name: 'Run range test' }).click();
    await page.waitForSelector('#suggested-lr, #lr-out .alert', { timeout: 60_000 });
    await expect
      .poll(() => page.locator('#lr-unvalidated').textContent())
      .toMatch(/not validated.*Training length/s);
    expect(await page.locator('#validated-lr').count()).toBe(0);
    await shot(page, 'lr-unvalidated');
    await page.locator('#lr-fill-length').click();
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe(
      'f-train-epochs',
    );
    // Both epochs and steps: refused before anything is sent.
    await page.getByLabel('Training length (epochs)').fill('20');
    await page.getByLabel('or step count').fill('35');
    await page.getByRole('button', { name: 'Run range test' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/epochs or in steps, not both/);
    await page.getByLabel('or step count').fill('');
    // 20 epochs, cosine: the range test, then the budgeted search's runs.
    await page.getByLabel('Schedule').selectOption('cosine');
    const req = page.waitForRequest(
      (r) => r.url().endsWith('/v1/lr/suggest') && r.method() === 'POST',
      { timeout: 60_000 },
    );
    await page.getByRole('button', { name: 'Run range test' }).click();
    const body = (await req).postDataJSON();
    expect(body).toMatchObject({
      probe: small,
      training: { epochs: 20 },
      schedule: 'cosine',
      range: { steps: 60 },
    });
    await page.waitForSelector('#validated-lr, #lr-validated .alert', { timeout: 120_000 });
    expect(
      await page.locator('#lr-validated .alert').count(),
      (await page.locator('#lr-validated').textContent()) ?? '',
    ).toBe(0);
    const lr = Number(await page.locator('#validated-lr').textContent());
    expect(lr).toBeGreaterThan(0);
    // The budgeted search (3 runs by default, the 60-step sweep's share included; runs of at least
    // 50 steps, 8 of these 7-step epochs): runs shorter than the horizon first.
    expect(await page.locator('#lr-horizon').textContent()).toMatch(
      /^validated at (8|9|1\d|20) of 20 epochs \((full|extrapolated)\), cosine schedule$/,
    );
    expect(await page.locator('#validated-confidence').textContent()).toMatch(
      /^(high|medium|low)$/,
    );
    expect(await page.locator('#lr-unvalidated').count()).toBe(0);
    expect(await page.locator('#lr-compute').textContent()).toMatch(/^[\d.]+ of 3 full runs$/);
    // The runs: one row each, with the length it trained and the epochs it reported.
    const rows = page.locator('#validation-table tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#validation-table thead').textContent()).toMatch(
      /lr.*sources.*length.*state.*value.*epochs run/,
    );
    for (const row of await rows.all()) {
      const cells = row.locator('td');
      if ((await cells.nth(3).textContent()) === 'complete')
        expect(await cells.nth(5).textContent()).toBe(await cells.nth(2).textContent());
    }
    expect(await page.locator('#validated-reasoning li').count()).toBeGreaterThan(2);
    // The chart marks the validated lr.
    await expect.poll(() => page.locator('#chart-lr').textContent()).toMatch(/validated/);
    await shot(page, 'lr-validated');
    // The suggestion's own page: the answer, each candidate against lr, its runs' learning curves
    // and the range test it started from.
    await page.locator('#lr-suggestion-link').click();
    await page.waitForSelector('#validated-lr, main .alert');
    expect(await page.locator('main .alert').count()).toBe(0);
    expect(Number(await page.locator('#validated-lr').textContent())).toBe(lr);
    const option = (id: string) =>
      page.evaluate(
        (id) =>
          (globalThis as any).echarts
            .getInstanceByDom((globalThis as any).document.getElementById(id))
            .getOption(),
        id,
      );
    await expect
      .poll(async () => (await option('chart-lrs-candidates')).series[0].data.length)
      .toBeGreaterThanOrEqual(2);
    await expect
      .poll(async () => (await option('chart-lrs-curves')).series.length)
      .toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('#chart-lrs-range svg path').count()).toBeGreaterThan(5);
    expect(await page.locator('#lrs-about').textContent()).toMatch(/study .*range test/);
    expect(await page.locator('#lr-suggestion-link').count()).toBe(0); // no link to itself
    await shot(page, 'lr-suggestion');
    await page.close();
  });

  it('shows user data as text, never as markup (study name, metric, param name, choices, errors, chart tooltips)', async () => {
    const img = (n: number) => `<img src=x onerror="window.__xss=${n}">`;
    const name = `${img(1)}<script>window.__xss=2</script> study`;
    const metric = `${img(3)} loss`;
    const pname = `${img(4)}opt`;
    const choices = [img(5), '<script>window.__xss=6</script>'];
    const error = `${img(7)}<b>boom</b>`;
    const s = await apiJson('POST', '/v1/studies', {
      name,
      metric,
      space: { x: { type: 'float', low: 0, high: 1 }, [pname]: { type: 'categorical', choices } },
      sampler: { name: 'random', seed: 1 },
    });
    for (let i = 0; i < 12; i++) {
      const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
      await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/report`, {
        step: 1,
        value: t.params.x,
      });
      if (i === 0)
        await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, {
          state: 'failed',
          error,
        });
      else
        await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, {
          value: t.params.x + (t.params[pname] === choices[0] ? 1 : 0),
        });
    }
    const injected = async (page: Page) => {
      await page.waitForTimeout(500); // a broken <img> fires onerror asynchronously
      return page.evaluate(() => ({
        xss: (globalThis as any).__xss,
        imgs: (globalThis as any).document.querySelectorAll('img').length,
        scripts: (globalThis as any).document.querySelectorAll('main script, #app script').length,
      }));
    };
    // The studies list.
    const list = await open('#/studies');
    await list.locator(`tr[data-study="${s.id}"]`).waitFor();
    expect(await list.locator(`tr[data-study="${s.id}"] a`).textContent()).toBe(name);
    expect(await injected(list)).toEqual({ xss: undefined, imgs: 0, scripts: 0 });
    await list.close();
    // The study page: heading, summary, table headers and cells, charts.
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#trials-table');
    await expect
      .poll(() => page.locator('#chart-importance svg path').count(), { timeout: 10_000 })
      .toBeGreaterThan(3);
    expect(await page.locator('#study-name').textContent()).toBe(name);
    expect(await page.locator('#summary').textContent()).toContain(`Best ${metric}`);
    const headers = await page.locator('#trials-table thead th').allTextContents();
    expect(headers).toContain(pname);
    expect(headers.some((h) => h.startsWith(metric))).toBe(true);
    const cells = await page.locator('#trials-table tbody td').allTextContents();
    expect(cells).toContain(choices[0]);
    expect(cells).toContain(choices[1]);
    expect(cells).toContain(error);
    // Chart text (SVG) and tooltips (HTML): the param name and the metric, literally.
    // (Long axis labels are cut short with "…".)
    expect(await page.locator('#chart-importance').textContent()).toContain('<img src=x onerror=');
    expect(await page.locator('#chart-parallel').textContent()).toContain('<img src=x onerror=');
    expect(await page.locator('#chart-history').textContent()).toContain(metric);
    // Hovering shows HTML tooltips: the importance bar's names the param, the history point's the metric.
    const tooltip = async (id: string) => {
      await page.locator(`#${id}`).scrollIntoViewIfNeeded();
      await page.evaluate(
        (id) =>
          (globalThis as any).echarts
            .getInstanceByDom((globalThis as any).document.getElementById(id))
            .dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 }),
        id,
      );
      const tip = page.locator(`#${id} div[style*="z-index: 9999999"]`);
      await expect.poll(() => tip.count()).toBeGreaterThan(0);
      await expect.poll(() => tip.first().isVisible()).toBe(true);
      return tip.first();
    };
    expect(await (await tooltip('chart-importance')).textContent()).toContain(`${pname}:`);
    expect(await (await tooltip('chart-history')).textContent()).toContain(metric);
    expect(await injected(page)).toEqual({ xss: undefined, imgs: 0, scripts: 0 });
    await shot(page, 'study-markup-in-data');
    await page.close();
  });

  it('plots the Pareto front of a study with two objectives (best_trials highlighted, infeasible apart), one column per objective and the sampler of each trial; metric names as text', async () => {
    const lossName = '<img src=x onerror="window.__xss=11">val_loss';
    const s = await apiJson('POST', '/v1/studies', {
      name: 'two objectives',
      directions: ['minimize', 'minimize'],
      metrics: [lossName, 'train_seconds'],
      space: {
        lr: { type: 'float', low: 1e-4, high: 1, log: true },
        width: { type: 'int', low: 16, high: 512, log: true },
      },
      max_trials: 16,
    });
    await apiJson('POST', `/v1/studies/${s.id}/trials`, { params: { lr: 0.01, width: 64 } });
    for (let i = 0; i < 16; i++) {
      const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
      const loss = (Math.log10(t.params.lr) + 2.5) ** 2 / 4 + 8 / t.params.width;
      const secs = t.params.width / 100;
      // Trials 3 and 9 break the budget constraint (seconds over 4 are infeasible).
      const constraints = [i === 3 || i === 9 ? 1 : secs - 4 > 0 ? secs - 4 : -1];
      await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, {
        values: [loss, secs],
        constraints,
      });
    }
    const study = await apiJson('GET', `/v1/studies/${s.id}`);
    expect(study.best_trials.length).toBeGreaterThan(0);
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#trials-table');
    // The front: one point per best trial on the "Pareto front" series, in the chart the page drew.
    const series = async () =>
      page.evaluate(() => {
        const c = (globalThis as any).echarts.getInstanceByDom(
          (globalThis as any).document.getElementById('chart-pareto'),
        );
        return c.getOption().series.map((x: any) => ({
          name: x.name,
          n: x.data.length,
          numbers: x.data.map((d: number[]) => d[2]),
        }));
      });
    await expect
      .poll(async () => (await series()).find((x: any) => x.name === 'Pareto front')?.n, {
        timeout: 10_000,
      })
      .toBe(study.best_trials.length);
    const drawn = await series();
    expect(new Set(drawn.find((x: any) => x.name === 'Pareto front').numbers)).toEqual(
      new Set(study.best_trials.map((t: any) => t.number)),
    );
    const trials = (await apiJson('GET', `/v1/studies/${s.id}/trials`)).trials;
    // The first ask answers the enqueued trial, so loop i told trial i: 3 and 9 among the infeasible.
    const infeasible = trials
      .filter((t: any) => t.constraints.some((c: number) => c > 0))
      .map((t: any) => t.number);
    expect(infeasible).toEqual(expect.arrayContaining([3, 9]));
    expect(
      drawn.find((x: any) => x.name === 'infeasible').numbers.sort((a: number, b: number) => a - b),
    ).toEqual(infeasible);
    await expect
      .poll(() => page.locator('#chart-pareto svg path').count(), { timeout: 10_000 })
      .toBeGreaterThan(5);
    expect(await page.locator('#pareto-note').textContent()).toMatch(
      new RegExp(`^${study.best_trials.length} of 16 complete trials on the Pareto front`),
    );
    // One column per objective, a feasibility column, the sampler (the enqueued trial's params were given).
    const headers = await page.locator('#trials-table thead th').allTextContents();
    expect(headers).toEqual(
      expect.arrayContaining([lossName, 'train_seconds', 'Feasible', 'Sampler']),
    );
    expect(
      await page.locator('#trials-table tbody tr[data-trial="0"] td').allTextContents(),
    ).toContain('enqueued');
    const samplers = new Set(
      await page
        .locator('#trials-table tbody tr:not([data-trial="0"]) td:nth-child(7)')
        .allTextContents(),
    );
    expect(samplers).toEqual(
      new Set(trials.filter((t: any) => t.number > 0).map((t: any) => t.sampler)),
    );
    expect(await page.locator('#summary').textContent()).toContain(
      `Pareto front${study.best_trials.length} trial`,
    );
    expect(
      await page.evaluate(() => ({
        xss: (globalThis as any).__xss,
        imgs: (globalThis as any).document.querySelectorAll('img').length,
      })),
    ).toEqual({ xss: undefined, imgs: 0 });
    await shot(page, 'study-pareto');
    await page.close();
  });

  it('says so when every trial of a completed study failed (list and study page); some failures still read completed', async () => {
    const bad = await apiJson('POST', '/v1/studies', {
      name: 'all failed',
      space: { x: { type: 'float', low: 0, high: 1 } },
      max_trials: 2,
    });
    for (let i = 0; i < 2; i++) {
      const t = await apiJson('POST', `/v1/studies/${bad.id}/ask`);
      await apiJson('POST', `/v1/studies/${bad.id}/trials/${t.number}/tell`, {
        state: 'failed',
        error: 'CUDA out of memory',
      });
    }
    expect((await apiJson('GET', `/v1/studies/${bad.id}`)).state).toBe('completed');
    const list = await open('#/studies');
    const cell = list.locator(`tr[data-study="${bad.id}"] td.state`);
    await cell.waitFor();
    expect(await cell.textContent()).toMatch(/completed — no trial succeeded/);
    expect(await cell.evaluate((el) => (globalThis as any).getComputedStyle(el).color)).toBe(
      'rgb(179, 38, 30)',
    ); // --bad, not the green of --ok
    // The seeded study (one failed trial among 14) is plainly completed, in green.
    const ok = list.locator(`tr[data-study="${studyId}"] td.state`);
    expect((await ok.textContent())?.trim()).toBe('completed');
    expect(await ok.evaluate((el) => (globalThis as any).getComputedStyle(el).color)).toBe(
      'rgb(20, 108, 46)',
    );
    await shot(list, 'studies-all-failed');
    await list.close();
    const page = await open(`#/study/${bad.id}`);
    await page.waitForSelector('#trials-table');
    const state = page.locator('#summary .state');
    expect(await state.textContent()).toMatch(/completed — no trial succeeded/);
    expect(await state.evaluate((el) => (globalThis as any).getComputedStyle(el).color)).toBe(
      'rgb(179, 38, 30)',
    );
    await page.close();
  });

  it('shows a study with infinite values (told as "Infinity"): the table and the best value show them, the charts draw the finite ones', async () => {
    const study = await apiJson('POST', '/v1/studies', {
      name: 'infinite-values',
      space: { x: { type: 'float', low: -5, high: 5 } },
      sampler: { name: 'random', seed: 5 },
    });
    const told = ['Infinity', 1.5, '-Infinity', 0.5];
    for (let n = 0; n < told.length; n++) {
      await apiJson('POST', `/v1/studies/${study.id}/ask`);
      await apiJson('POST', `/v1/studies/${study.id}/trials/${n}/tell`, { value: told[n] });
    }
    const page = await open(`#/study/${study.id}`);
    await page.waitForSelector('#trials-table');
    const headers = await page.locator('#trials-table thead th').allTextContents();
    const col = headers.findIndex((h) => /value/i.test(h));
    const cells = await page
      .locator(`#trials-table tbody tr td:nth-child(${col + 1})`)
      .allTextContents();
    expect(cells).toEqual(expect.arrayContaining(['Infinity', '-Infinity', '1.5', '0.5']));
    expect(await page.locator('main').textContent()).toContain('-Infinity');
    await expect
      .poll(() => page.locator('#chart-history svg path').count(), { timeout: 10_000 })
      .toBeGreaterThan(2);
    await page.close();
  });

  it('shows a define-by-run study: every parameter, one that appeared late included, as a column and an axis; trials without it show a dash', async () => {
    const study = await apiJson('POST', '/v1/studies', {
      name: 'define-by-run',
      sampler: { name: 'random', seed: 5 },
    });
    const X = { type: 'float', low: -5, high: 5 };
    for (let n = 0; n < 6; n++) {
      await apiJson('POST', `/v1/studies/${study.id}/ask`);
      const path = `/v1/studies/${study.id}/trials/${n}`;
      const x = (await apiJson('POST', `${path}/params`, { name: 'x', distribution: X })).value;
      // From trial 3 on, the objective asks for one more parameter.
      if (n >= 3)
        await apiJson('POST', `${path}/params`, {
          name: 'late_param',
          distribution: { type: 'categorical', choices: ['a', 'b'] },
        });
      await apiJson('POST', `${path}/tell`, { value: x * x });
    }
    const page = await open(`#/study/${study.id}`);
    await page.waitForSelector('#trials-table');
    const headers = await page.locator('#trials-table thead th').allTextContents();
    expect(headers).toEqual(expect.arrayContaining(['x', 'late_param']));
    const col = headers.indexOf('late_param');
    const cells = await page
      .locator(`#trials-table tbody tr td:nth-child(${col + 1})`)
      .allTextContents();
    const byTrial = await page
      .locator('#trials-table tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => (r as unknown as { dataset: { trial: string } }).dataset.trial),
      );
    const shown = Object.fromEntries(byTrial.map((n, i) => [n, cells[i]]));
    for (const n of ['0', '1', '2']) expect(shown[n]).toBe('—');
    for (const n of ['3', '4', '5']) expect(['a', 'b']).toContain(shown[n]);
    expect(await page.locator('#chart-parallel').textContent()).toContain('late_param');
    await page.close();
  });

  it('warns that importance from too few complete trials is not meaningful, and shows no bars then', async () => {
    const s = await apiJson('POST', '/v1/studies', {
      name: 'three trials',
      space: {
        a: { type: 'float', low: 0, high: 1 },
        b: { type: 'float', low: 0, high: 1 },
        c: { type: 'float', low: 0, high: 1 },
      },
      sampler: { name: 'random', seed: 2 },
    });
    for (let i = 0; i < 3; i++) {
      const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
      await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, {
        value: t.params.a + 2 * t.params.b,
      });
    }
    const imp = await apiJson('GET', `/v1/studies/${s.id}/importance`);
    expect(imp).toMatchObject({ n_trials: 3, min_trials: 10, meaningful: false });
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#trials-table');
    const warn = page.locator('#importance-warning');
    await expect
      .poll(() => warn.textContent())
      .toMatch(/only 3 complete trials.*not meaningful.*at least 10/i);
    expect(await warn.isVisible()).toBe(true);
    expect(await page.locator('#chart-importance').textContent()).not.toMatch(/%/);
    await shot(page, 'study-importance-too-few');
    await page.close();
    // The seeded study has 10: bars, no warning.
    const seeded = await open(`#/study/${studyId}`);
    await seeded.waitForSelector('#trials-table');
    await expect.poll(() => seeded.locator('#chart-importance').textContent()).toMatch(/%/);
    expect(await seeded.locator('#importance-warning').isVisible()).toBe(false);
    await seeded.close();
  });

  it('draws a pruned trial with a single report as a visible mark', async () => {
    const s = await apiJson('POST', '/v1/studies', {
      name: 'one report',
      space: { x: { type: 'float', low: 0, high: 1 } },
    });
    const a = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    for (let step = 1; step <= 5; step++)
      await apiJson('POST', `/v1/studies/${s.id}/trials/${a.number}/report`, {
        step,
        value: 1 / step,
      });
    await apiJson('POST', `/v1/studies/${s.id}/trials/${a.number}/tell`, { value: 0.2 });
    const b = await apiJson('POST', `/v1/studies/${s.id}/ask`);
    await apiJson('POST', `/v1/studies/${s.id}/trials/${b.number}/report`, { step: 1, value: 3 });
    await apiJson('POST', `/v1/studies/${s.id}/trials/${b.number}/tell`, { state: 'pruned' });
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#trials-table');
    // A filled mark in the pruned color (#b26b00), at least 8×8 px: not a hairline ring nor a zero-length path.
    const pruned = () =>
      page.evaluate(
        () =>
          [...(globalThis as any).document.querySelectorAll('#chart-intermediate svg path')]
            .filter((el) => /b26b00/i.test(el.getAttribute('fill') ?? ''))
            .map((el) => el.getBoundingClientRect())
            .filter((r) => r.width >= 8 && r.height >= 8).length,
      );
    await expect.poll(pruned, { timeout: 5_000 }).toBeGreaterThan(0);
    await shot(page, 'study-single-report');
    await page.close();
  });

  it("spans the parallel-coordinate axes over the space's bounds (log for log params, every choice)", async () => {
    const s = await apiJson('POST', '/v1/studies', {
      name: 'narrow trials',
      space: {
        lr: { type: 'float', low: 1e-4, high: 1, log: true },
        width: { type: 'int', low: 0, high: 100 },
        act: { type: 'categorical', choices: ['relu', 'gelu', 'tanh'] },
      },
    });
    for (const [lr, width] of [
      [0.01, 40],
      [0.02, 50],
      [0.05, 60],
    ]) {
      await apiJson('POST', `/v1/studies/${s.id}/trials`, { params: { lr, width, act: 'relu' } });
      const t = await apiJson('POST', `/v1/studies/${s.id}/ask`);
      await apiJson('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, { value: lr * width });
    }
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#trials-table');
    await expect.poll(() => page.locator('#chart-parallel svg text').count()).toBeGreaterThan(5);
    const labels = await page.locator('#chart-parallel svg text').allTextContents();
    for (const l of ['0.0001', '1', '0', '100', 'relu', 'gelu', 'tanh'])
      expect(labels).toContain(l);
    await shot(page, 'study-parallel-bounds');
    await page.close();
  });

  it('LR page: form fields patch only their own entries into a pasted probe, never drop it; min/max LR are validated and sent', async () => {
    const page = await open('#/lr');
    const ta = page.locator('#probe-json');
    const mine = {
      model: { kind: 'mlp', hidden: [16], activation: 'tanh' },
      task: 'classification',
      data: {
        kind: 'synthetic',
        name: 'blobs',
        n: 512,
        features: 2,
        classes: 4,
        noise: 0.3,
        seed: 7,
      },
      optimizer: { name: 'sgd', momentum: 0.5, weight_decay: 0.001 },
      batch_size: 16,
      seed: 9,
    };
    await ta.fill(JSON.stringify(mine, null, 2));
    await page.getByLabel('Batch size').fill('32');
    await page.getByLabel('Batch size').dispatchEvent('change');
    expect(JSON.parse(await ta.inputValue())).toEqual({ ...mine, batch_size: 32 });
    await page.getByLabel('Hidden layers').fill('8, 8');
    await page.getByLabel('Hidden layers').dispatchEvent('change');
    expect(JSON.parse(await ta.inputValue())).toEqual({
      ...mine,
      batch_size: 32,
      model: { ...mine.model, hidden: [8, 8] },
    });
    // Text that is not JSON is left exactly as written, with a note saying why.
    await ta.fill('{"data": {"name": "moons"}, oops');
    await page.getByLabel('Dataset').selectOption('spirals');
    expect(await ta.inputValue()).toBe('{"data": {"name": "moons"}, oops');
    expect(await page.locator('#lr-sync').textContent()).toMatch(/not valid JSON/);
    // Min/max LR: validated before sending, then sent as range.min_lr / range.max_lr.
    await ta.fill(JSON.stringify(mine));
    await page.getByLabel('Min LR').fill('1');
    await page.getByLabel('Max LR').fill('0.1');
    await page.getByRole('button', { name: 'Run range test' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/min.*below.*max/i);
    await page.getByLabel('Min LR').fill('abc');
    await page.getByRole('button', { name: 'Run range test' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/Min LR.*positive number/i);
    await page.getByLabel('Min LR').fill('1e-5');
    await page.getByLabel('Max LR').fill('1');
    await page.getByLabel('Steps').fill('20');
    const req = page.waitForRequest(
      (r) => r.url().endsWith('/v1/lr-range-tests') && r.method() === 'POST',
    );
    await page.getByRole('button', { name: 'Run range test' }).click();
    const body = (await req).postDataJSON();
    expect(body.range).toEqual({ min_lr: 1e-5, max_lr: 1, steps: 20 });
    expect(body.probe).toEqual(mine);
    await page.waitForSelector('#suggested-lr, #lr-out .alert', { timeout: 60_000 });
    await shot(page, 'lr-range-test-own-probe');
    await page.close();
  });

  it('LR page: lists recent range tests, posted curves among them, and draws a posted curve on its own page, its model name as text', async () => {
    const name = `<img src=x onerror="window.__xss=21">resnet18<script>window.__xss=22</script>`;
    // A sweep measured elsewhere: a valley around lr 0.1, a blow-up past 1, NaN (null) at the end.
    const lr = Array.from({ length: 300 }, (_, i) => 10 ** (-6 + (7 * i) / 299));
    const loss = lr.map((v, i) =>
      i > 285
        ? null
        : 0.4 +
          1.9 / (1 + Math.exp((Math.log10(v) + 3) / 0.3)) +
          0.02 * Math.exp((Math.log10(v) + 0.5) / 0.12),
    );
    const posted = await apiJson('POST', '/v1/lr-range-tests', {
      curve: { lr, loss },
      range: { smoothing: 0.9 },
      model: { name, parameters: 11.2e6 },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 128,
    });
    expect(posted.suggestion.lr).toBeGreaterThan(0);
    const page = await open('#/lr');
    const row = page.locator(`#recent-table tr[data-id="${posted.id}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 4)).toEqual(['curve (client)', name, 'sgd']);
    expect(cells[6]).toBe('300');
    await row.locator('a').click();
    await page.waitForSelector('#suggested-lr, main .alert');
    expect(page.url()).toContain(`#/lr/${posted.id}`);
    expect(await page.locator('main .alert').count()).toBe(0);
    expect(await page.locator('#lr-model').textContent()).toBe(name);
    const about = await page.locator('#lr-about').textContent();
    expect(about).toMatch(/A curve of 300 points measured by the client/);
    expect(about).toMatch(/11\.2M parameters · optimizer sgd, momentum 0\.9 · batch 128/);
    expect(
      Number(await page.locator('#suggested-lr').textContent()) / posted.suggestion.lr,
    ).toBeCloseTo(1, 3);
    expect(await page.locator('#lr-schedule').textContent()).toMatch(/warmup 5%/);
    expect(await page.locator('.candidates li').count()).toBe(4);
    expect(await page.locator('#lr-reasons').textContent()).toMatch(/diverges at point/);
    await expect.poll(() => page.locator('#chart-lr svg path').count()).toBeGreaterThan(5);
    const chartText = await page.locator('#chart-lr').textContent();
    expect(chartText).toMatch(/suggested/);
    expect(chartText).toMatch(/max stable/);
    await page.waitForTimeout(500); // a broken <img> would fire onerror asynchronously
    expect(
      await page.evaluate(() => ({
        xss: (globalThis as any).__xss,
        imgs: (globalThis as any).document.querySelectorAll('main img').length,
      })),
    ).toEqual({ xss: undefined, imgs: 0 });
    await shot(page, 'lr-posted-curve');
    expect(await page.locator('#lr-suggestions').textContent()).toMatch(/None yet/);
    // A suggestion made from it (validated by a client): listed on the range test's page, linking
    // to the suggestion's page, which links back.
    const started = await apiJson('POST', '/v1/lr/suggest', {
      range_test_id: posted.id,
      executor: { kind: 'client' },
      training: { epochs: 4 },
    });
    expect(started.status).toBe('running');
    // Listed from D1, written through within a second.
    await expect
      .poll(async () =>
        (await apiJson('GET', `/v1/lr-range-tests/${posted.id}/suggestions`)).suggestions.map(
          (v: any) => v.id,
        ),
      )
      .toEqual([started.id]);
    await page.reload();
    const made = page.locator(`#lr-suggestions-table tr[data-id="${started.id}"]`);
    await made.waitFor();
    expect((await made.locator('td').allTextContents()).slice(1, 3)).toEqual(['client', 'running']);
    await made.locator('a').click();
    await page.waitForSelector('#validated-lr, #lrs-about, main .alert');
    expect(page.url()).toContain(`#/lr/suggest/${started.id}`);
    expect(await page.locator('main .alert').count()).toBe(0);
    await page.locator('#lrs-range-test').click();
    await page.waitForSelector('#lr-suggestions-table');
    expect(page.url()).toContain(`#/lr/${posted.id}`);
    // An unknown id: the service's 404, on the page.
    await page.goto(`${URL}/#/lr/lrt_nope`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/no LR range test/);
    await page.close();
  });

  it('serves interactive API docs at /docs from the OpenAPI document', async () => {
    const page = await open('docs/');
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    expect(await page.locator('body').textContent()).toContain('/v1/runners/lease');
    await shot(page, 'docs');
    await page.close();
  });

  it('logged no page errors', () => {
    expect(errors).toEqual([]);
  });
});

describe("npm test's Chromium (scripts/ensure-chromium.mjs)", () => {
  const missing = { path: null, from: 'PATH' as const, problem: 'no chromium on PATH' };
  it('uses a Chromium that is there, installs with apt-get (root, or passwordless sudo) when none is, and fails clearly otherwise', () => {
    expect(
      decide({
        found: { path: '/usr/bin/chromium', from: 'PATH' },
        isRoot: false,
        hasSudo: false,
        hasApt: false,
      }),
    ).toEqual({ action: 'ok', path: '/usr/bin/chromium' });
    const root = decide({ found: missing, isRoot: true, hasSudo: false, hasApt: true });
    expect(root).toEqual({
      action: 'install',
      commands: [
        ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'],
        [
          'env',
          'DEBIAN_FRONTEND=noninteractive',
          'apt-get',
          'install',
          '-y',
          '-q',
          '--no-install-recommends',
          'chromium',
        ],
      ],
    });
    const sudo = decide({ found: missing, isRoot: false, hasSudo: true, hasApt: true });
    expect(
      sudo.action === 'install' &&
        sudo.commands.every((c) => c.slice(0, 3).join(' ') === 'sudo -n env'),
    ).toBe(true);
    for (const f of [
      { isRoot: false, hasSudo: false, hasApt: true, why: /not root and has no passwordless sudo/ },
      { isRoot: true, hasSudo: false, hasApt: false, why: /apt-get is not available/ },
    ]) {
      const plan = decide({ found: missing, ...f });
      expect(plan.action).toBe('fail');
      expect(plan.action === 'fail' && plan.message).toMatch(f.why);
      expect(plan.action === 'fail' && plan.message).toMatch(
        /Install Chromium .*or set CHROMIUM_PATH/,
      );
    }
    // A CHROMIUM_PATH that is not there is an error, even where apt-get could install.
    const bad = findChromium({
      env: { CHROMIUM_PATH: '/nonexistent/chromium', PATH: process.env.PATH },
    });
    expect(bad.path).toBeNull();
    const plan = decide({ found: bad, isRoot: true, hasSudo: true, hasApt: true });
    expect(plan.action === 'fail' && plan.message).toMatch(
      /CHROMIUM_PATH=\/nonexistent\/chromium is not an executable/,
    );
  });

  it('finds chromium under its other names on PATH, and CHROMIUM_PATH first', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chromium-'));
    const fake = path.join(dir, 'google-chrome');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    writeFileSync(path.join(dir, 'chromium'), 'not executable');
    expect(findChromium({ env: { PATH: dir } })).toEqual({ path: fake, from: 'PATH' });
    expect(findChromium({ env: { PATH: dir, CHROMIUM_PATH: fake } })).toEqual({
      path: fake,
      from: 'CHROMIUM_PATH',
    });
    expect(findChromium({ env: { PATH: path.join(dir, 'none') } }).path).toBeNull();
  });

  it('--dry-run: says what it would do and exits non-zero only when it could not go on', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [path.join(ROOT, 'scripts/ensure-chromium.mjs'), '--dry-run'], {
        env,
        encoding: 'utf8',
      });
    const bad = run({ PATH: process.env.PATH!, CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/CHROMIUM_PATH=\/nonexistent\/chromium is not an executable file/);
    // No browser and no apt-get on PATH: it cannot install, and says what to do.
    const empty = mkdtempSync(path.join(tmpdir(), 'empty-'));
    const none = run({ PATH: empty });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(
      /need Chromium: no chromium, chromium-browser, google-chrome.*apt-get is not available.*set CHROMIUM_PATH/,
    );
    // No browser but apt-get: as root it would install (and installs nothing in a dry run).
    const apt = mkdtempSync(path.join(tmpdir(), 'apt-'));
    writeFileSync(path.join(apt, 'apt-get'), '#!/bin/sh\nexit 1\n');
    chmodSync(path.join(apt, 'apt-get'), 0o755);
    const install = run({ PATH: apt });
    if (process.getuid?.() === 0) {
      expect(install.status).toBe(0);
      expect(install.stdout).toMatch(
        /would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium/,
      );
    } else {
      expect(install.status).toBe(1);
      expect(install.stderr).toMatch(/not root and has no passwordless sudo/);
    }
    // Here: the Chromium the browser tests use.
    const here = run({
      PATH: process.env.PATH!,
      ...(process.env.CHROMIUM_PATH ? { CHROMIUM_PATH: process.env.CHROMIUM_PATH } : {}),
    });
    expect(here.status).toBe(0);
    expect(here.stdout).toContain(`using ${CHROMIUM.path}`);
  });
});

// The dashboard and the API docs in a real browser: Debian's Chromium driven
// by playwright-core, against the local Worker with seeded studies.
// Screenshots of every page go to test/screenshots/ (ignored by git).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, KEY, URL } from './helpers';

const SHOTS = path.resolve(import.meta.dirname, '../screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A study like the README's: a few complete trials with intermediate values, some pruned, one failed. */
async function seedStudy(name: string) {
  const study = await api('POST', '/v1/studies', {
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
    const t = await api('POST', `/v1/studies/${study.id}/ask`);
    const base = (Math.log10(t.params.lr) + 2) ** 2 / 4 + (t.params.momentum - 0.9) ** 2 + (t.params.optimizer === 'adam' ? 0.05 : 0.1);
    const steps = i % 4 === 3 ? 2 : 5;
    for (let s = 1; s <= steps; s++) await api('POST', `/v1/studies/${study.id}/trials/${t.number}/report`, { step: s, value: base + 1 / s });
    if (i === 6) await api('POST', `/v1/studies/${study.id}/trials/${t.number}/tell`, { state: 'failed', error: 'diverged' });
    else if (steps === 2) await api('POST', `/v1/studies/${study.id}/trials/${t.number}/tell`, { state: 'pruned' });
    else await api('POST', `/v1/studies/${study.id}/trials/${t.number}/tell`, { value: base + 0.2 });
  }
  return study;
}

let browser: Browser;
const errors: string[] = [];

async function open(hash: string, opts: { width?: number; key?: string | null } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: 900 } });
  page.on('pageerror', (e) => errors.push(`${hash}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401|Failed to load resource/.test(m.text())) errors.push(`${hash}: ${m.text()}`);
  });
  await page.goto(`${URL}/`);
  if (opts.key !== null) await page.evaluate(`sessionStorage.setItem('stride-key', ${JSON.stringify(opts.key ?? KEY)})`);
  await page.goto(`${URL}/${hash}`);
  return page;
}
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

describe('dashboard in Chromium', () => {
  let studyId: string;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    studyId = (await seedStudy('mlp-lr (seeded)')).id;
    await api('POST', '/v1/studies', { name: 'still running', space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } } });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a wrong key gets a clear message; a good one signs in to the studies list', async () => {
    const page = await open('#/login', { key: null });
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/That API key was not accepted/);
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
    await expect.poll(async () => (await row.textContent())?.replace(/\s+/g, ' ')).toMatch(/mlp-lr \(seeded\) ?completed ?14 \/ 14/);
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
    for (const id of ['chart-history', 'chart-intermediate', 'chart-parallel', 'chart-importance']) {
      await expect.poll(() => page.locator(`#${id} svg path`).count(), { timeout: 10_000 }).toBeGreaterThan(5);
    }
    // Intermediate values: dashed lines for the pruned trials.
    expect(await page.locator('#chart-intermediate svg path[stroke-dasharray]').count()).toBeGreaterThan(0);
    // Importance names every parameter.
    const imp = await page.locator('#chart-importance').textContent();
    for (const p of ['lr', 'momentum', 'optimizer']) expect(imp).toContain(p);
    expect(await page.locator('#importance-method').textContent()).toMatch(/From 10 complete trials/);
    expect(await page.locator('#summary').textContent()).toMatch(/completed/);
    // 14 rows; sorting by value puts the best first (keyboard: the header is a button).
    expect(await page.locator('#trials-table tbody tr').count()).toBe(14);
    const study = await api('GET', `/v1/studies/${studyId}`);
    await page.locator('[data-sort="value"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#trials-table tbody tr').first().getAttribute('data-trial')).toBe(String(study.best_trial.number));
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toMatch(/val_loss/);
    await shot(page, 'study');
    // Phone width: the page still fits (no horizontal overflow of the body).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
    await shot(page, 'study-phone');
    await page.close();
  });

  it('updates a running study live', async () => {
    const s = await api('POST', '/v1/studies', { name: 'live', space: { lr: { type: 'float', low: 1e-4, high: 1, log: true } } });
    const page = await open(`#/study/${s.id}`);
    await page.waitForSelector('#trials-table');
    expect(await page.locator('#trials-table tbody tr').count()).toBe(0);
    const t = await api('POST', `/v1/studies/${s.id}/ask`);
    await api('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, { value: 0.5 });
    await expect.poll(() => page.locator('#trials-table tbody tr').count(), { timeout: 10_000 }).toBe(1);
    await page.close();
  });

  it('runs a range test from the form and shows the suggestion on a log-axis chart', async () => {
    const page = await open('#/lr');
    await page.getByLabel('Dataset').selectOption('moons');
    await page.getByLabel('Steps').fill('60');
    await page.getByRole('button', { name: 'Run range test' }).click();
    await page.waitForSelector('#suggested-lr, #lr-out .alert', { timeout: 60_000 });
    expect(await page.locator('#lr-out .alert').count(), await page.locator('#lr-out').textContent() ?? '').toBe(0);
    expect(Number(await page.locator('#suggested-lr').textContent())).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#chart-lr svg path').count()).toBeGreaterThan(5);
    const chartText = await page.locator('#chart-lr').textContent();
    expect(chartText).toMatch(/suggested/);
    expect(chartText).toMatch(/learning rate/);
    expect(await page.locator('.candidates li').count()).toBe(4);
    await shot(page, 'lr-range-test');
    // A bad probe shows the service's problem with its path.
    await page.locator('#probe-json').fill('{"data": {"kind": "synthetic", "name": "spirals"}, "batch_size": 0}');
    await page.getByRole('button', { name: 'Run range test' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/batch_size/);
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

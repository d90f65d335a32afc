#!/usr/bin/env node
// Screenshots of the dashboard's views for the README: seeds a study with one objective, one with
// two and one with conditional parameters on a Worker, opens each view in Chromium
// (playwright-core, Debian's chromium: scripts/ensure-chromium.mjs) and writes one PNG per view.
// test/e2e/screenshots.test.ts runs it against the e2e Worker, so it keeps working.
//
// Usage: node scripts/screenshots.mjs [--out docs/screenshots] [--url http://... --key KEY]
//   Without --url it starts a local Worker (a temporary D1) and stops it at the end.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium } from './ensure-chromium.mjs';
import { startStride } from './local-worker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The views shot: file name, page (`{one}`, `{two}`, `{cond}`: the seeded studies' ids; `{lrs}`
 * and `{rt}`: an lr/suggest trained on the edge and the range test it started from) and the
 * element shown (null: the page).
 */
export const SHOTS = [
  ['study.png', '#/study/{one}', null],
  ['history.png', '#/study/{one}', '#chart-history'],
  ['intermediate.png', '#/study/{one}', '#chart-intermediate'],
  ['parallel.png', '#/study/{one}', '#chart-parallel'],
  ['importance.png', '#/study/{one}', '#chart-importance'],
  ['contour.png', '#/study/{one}', '#chart-contour'],
  ['rank.png', '#/study/{one}', '#chart-rank'],
  ['edf.png', '#/study/{one}', '#chart-edf'],
  ['timeline.png', '#/study/{one}', '#chart-timeline'],
  ['slice.png', '#/study/{one}', '#slices'],
  ['pareto.png', '#/study/{two}', '#chart-pareto'],
  ['slice-conditional.png', '#/study/{cond}', '#slices'],
  ['trial.png', '#/study/{one}/trial/7', null],
  ['compare.png', '#/compare?ids={one},{cond}', null],
  ['lr-suggestion.png', '#/lr/suggest/{lrs}', '#app'],
  ['lr-range-test.png', '#/lr/{rt}', '#app'],
];

function client(url, key) {
  return async (method, p, body) => {
    const res = await fetch(url + p, {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/**
 * An lr/suggest on a small probe, trained on the edge under the default budget, polled until it
 * answers: { lrs, rt } (its id and its range test's).
 */
async function seedLr(call) {
  let v = await call('POST', '/v1/lr/suggest', {
    probe: {
      model: { kind: 'mlp', hidden: [32, 32], activation: 'relu' },
      task: 'classification',
      data: {
        kind: 'synthetic',
        name: 'moons',
        n: 512,
        features: 2,
        classes: 2,
        noise: 0.2,
        seed: 1,
      },
      optimizer: { name: 'sgd', momentum: 0.9 },
      batch_size: 32,
      seed: 0,
    },
    training: { epochs: 8 },
    schedule: 'cosine',
  });
  for (let i = 0; v.status === 'running' && i < 240; i++) {
    await new Promise((ok) => setTimeout(ok, 500));
    v = await call('GET', `/v1/lr/suggest/${v.id}`);
  }
  if (v.status === 'running') throw new Error(`lr/suggest ${v.id} still running after 2 minutes`);
  return { lrs: v.id, rt: v.range_test.id };
}

/** The three studies the shots show: { one, two, cond } (their ids). */
async function seed(call) {
  const run = async (body, n, result) => {
    const s = await call('POST', '/v1/studies', { sampler: { name: 'tpe', seed: 7 }, ...body });
    for (let i = 0; i < n; i++) {
      const t = await call('POST', `/v1/studies/${s.id}/ask`);
      const r = result(t.params, i);
      if (r.curve)
        await call('POST', `/v1/studies/${s.id}/trials/${t.number}/report`, {
          points: r.curve.map((value, k) => ({ step: k + 1, value })),
        });
      await call('POST', `/v1/studies/${s.id}/trials/${t.number}/tell`, r.tell);
    }
    return s.id;
  };
  const one = await run(
    {
      name: 'resnet18-cifar10',
      metric: 'val_loss',
      space: {
        lr: { type: 'float', low: 1e-5, high: 1, log: true },
        weight_decay: { type: 'float', low: 1e-6, high: 1e-2, log: true },
        batch_size: { type: 'categorical', choices: [64, 128, 256] },
      },
    },
    40,
    (p, i) => {
      const v = 0.3 + (Math.log10(p.lr) + 2) ** 2 / 3 + (Math.log10(p.weight_decay) + 4) ** 2 / 30;
      const steps = i % 5 === 4 ? 3 : 10;
      const curve = Array.from({ length: steps }, (_, k) => v + 1.5 / (k + 1));
      return { curve, tell: steps < 10 ? { state: 'pruned' } : { value: v + 0.15 } };
    },
  );
  const two = await run(
    {
      name: 'accuracy vs latency',
      directions: ['maximize', 'minimize'],
      metrics: ['accuracy', 'latency_ms'],
      space: {
        width: { type: 'int', low: 16, high: 512, log: true },
        depth: { type: 'int', low: 1, high: 12 },
      },
    },
    24,
    (p) => ({
      tell: {
        values: [
          1 - 1 / Math.log2(p.width * p.depth + 2),
          (p.width * p.depth) / 50 + 2 + (p.depth % 3),
        ],
      },
    }),
  );
  const cond = await run(
    {
      name: 'optimizer and its settings',
      metric: 'val_loss',
      space: {
        optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
        lr: { type: 'float', low: 1e-4, high: 1, log: true },
        momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: 'sgd' } },
        beta1: { type: 'float', low: 0.8, high: 0.99, when: { optimizer: 'adam' } },
      },
    },
    30,
    (p) => ({
      tell: {
        value:
          0.4 +
          Math.abs(Math.log10(p.lr) + (p.optimizer === 'adam' ? 3 : 1.5)) / 2 +
          Math.abs((p.momentum ?? p.beta1) - 0.9),
      },
    }),
  );
  return { one, two, cond };
}

/** Seeds the studies on `url` and writes every shot of SHOTS into `out`; answers the files written. */
export async function takeScreenshots({ url, key, out }) {
  const chromiumPath = findChromium().path;
  if (!chromiumPath)
    throw new Error('no Chromium: run node scripts/ensure-chromium.mjs or set CHROMIUM_PATH');
  mkdirSync(out, { recursive: true });
  const call = client(url, key);
  const ids = { ...(await seed(call)), ...(await seedLr(call)) };
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const written = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}/`);
    await page.evaluate(`sessionStorage.setItem('stride-key', ${JSON.stringify(key)})`);
    for (const [file, hash, selector] of SHOTS) {
      const target = hash.replace(/\{(\w+)\}/g, (_, k) => ids[k]);
      await page.goto(`${url}/${target}`);
      await page.waitForFunction(
        "document.querySelector('#app[data-drawn], #trial-params-table, #compare-pick, #lrs-answer, #lr-suggestions-table') && document.querySelectorAll('.chart svg path').length > 20",
        null,
        { timeout: 60_000 },
      );
      await page.waitForTimeout(300); // the views after the first draw one task each
      const where = path.join(out, file);
      if (selector) await page.locator(selector).screenshot({ path: where });
      else await page.screenshot({ path: where });
      written.push(where);
    }
  } finally {
    await browser.close();
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const out = path.resolve(arg('--out', path.join(root, 'docs/screenshots')));
  let url = arg('--url', null);
  let key = arg('--key', 'stride-dev-key');
  let stride = null;
  if (!url) {
    stride = await startStride({ devKey: 'screenshots-key' });
    url = stride.url.replace(/\/$/, '');
    key = stride.devKey;
  }
  try {
    for (const f of await takeScreenshots({ url, key, out })) console.log(path.relative(root, f));
  } finally {
    await stride?.dispose();
  }
}

// Bench section "The dashboard at scale" (issue 24): a study's page (and a trial's) opened in
// Chromium on studies of 1,000 and 10,000 trials with 100 reports each (every third pruned at
// step 25); measures the time to the first chart drawn, to every view drawn, and the longest
// task (the longest the tab was frozen: PerformanceObserver 'longtask'), and what the page
// downloads: GET /v1/studies/{id}/summary against GET /v1/studies/{id}/trials.
//
// Used by bench/run.mjs (`--only dashboard`; DASHBOARD_SIZES=1000,10000 by default: seeding
// 10,000 trials takes tens of minutes on 2 cores); runs alone against a Worker too.
// Usage beside a running Worker: node bench/dashboard.mjs <url> <study id> [<trial number>]
// (STUDY_READY: the page's condition for every view drawn, for a dashboard without slices)
import { chromium } from 'playwright-core';
import { findChromium } from '../scripts/ensure-chromium.mjs';
import { startStride } from '../scripts/local-worker.mjs';
import { log } from './common.mjs';

/** Opens `hash` and measures: { first_chart_ms, all_drawn_ms, longest_task_ms, tasks_over_200ms }. */
async function measure(browser, url, key, hash, ready) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}/`);
  await page.evaluate(`sessionStorage.setItem('stride-key', ${JSON.stringify(key)})`);
  await page.evaluate(() => {
    globalThis.__tasks = [];
    new PerformanceObserver((l) =>
      l.getEntries().forEach((e) => globalThis.__tasks.push(e.duration)),
    ).observe({ type: 'longtask', buffered: true });
  });
  const t0 = Date.now();
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.waitForFunction("document.querySelector('.chart svg path, .chart canvas')", null, {
    timeout: 300_000,
    polling: 50,
  });
  const first = Date.now() - t0;
  await page.waitForFunction(ready, null, { timeout: 300_000, polling: 100 });
  const all = Date.now() - t0;
  await page.waitForTimeout(500);
  const tasks = await page.evaluate(() => globalThis.__tasks);
  await page.close();
  return {
    first_chart_ms: first,
    all_drawn_ms: all,
    longest_task_ms: Math.round(Math.max(0, ...tasks)),
    tasks_over_200ms: tasks.filter((d) => d > 200).length,
  };
}

/** The study page's figures and (unless `trial` is null) trial `trial`'s page's. */
async function dashboardBench(url, key, studyId, trial = 0) {
  const chromiumPath = findChromium().path;
  if (!chromiumPath) throw new Error('no Chromium (node scripts/ensure-chromium.mjs)');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const study = await measure(
      browser,
      url,
      key,
      `#/study/${studyId}`,
      // Every view drawn (the page marks it). STUDY_READY overrides it (the page before these views: '#trials-table').
      process.env.STUDY_READY ?? "document.querySelector('#app[data-drawn]')",
    );
    if (trial === null) return { study };
    const trialPage = await measure(
      browser,
      url,
      key,
      `#/study/${studyId}/trial/${trial}`,
      "document.querySelector('#trial-params-table')",
    );
    return { study, trial: trialPage };
  } finally {
    await browser.close();
  }
}

const STEPS = 100;

/** A JSON client of `url` that retries a 5xx or a dropped connection (a Worker under load). */
function client(url, key) {
  return async (method, p, body) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url + p, {
          method,
          headers: {
            Authorization: `Bearer ${key}`,
            ...(body ? { 'Content-Type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
        const text = await res.text();
        if (res.status >= 500) throw new Error(`${method} ${p}: ${res.status} ${text}`);
        if (!res.ok)
          throw Object.assign(new Error(`${method} ${p}: ${res.status} ${text}`), { final: true });
        return text ? JSON.parse(text) : null;
      } catch (err) {
        if (err.final || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
}

/** A study of `n` trials (random sampler, four params), each reporting STEPS values (every third pruned at a quarter). */
async function seedStudy(call, n) {
  const s = await call('POST', '/v1/studies', {
    name: `dashboard bench ${n}`,
    metric: 'val_loss',
    space: {
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      width: { type: 'int', low: 8, high: 512, log: true },
      dropout: { type: 'float', low: 0, high: 0.5 },
      opt: { type: 'categorical', choices: ['sgd', 'adam', 'adamw'] },
    },
    sampler: { name: 'random', seed: 1 },
    max_trials: n,
  });
  const finish = async (t) => {
    const base = Math.abs(Math.log10(t.params.lr) + 3) + t.params.dropout;
    const steps = t.number % 3 === 2 ? STEPS / 4 : STEPS;
    const points = Array.from({ length: steps }, (_, k) => ({
      step: k + 1,
      value: base + 2 / (k + 1),
    }));
    await call('POST', `/v1/studies/${s.id}/trials/${t.number}/report`, { points });
    await call(
      'POST',
      `/v1/studies/${s.id}/trials/${t.number}/tell`,
      steps < STEPS ? { state: 'pruned' } : { value: base + 2 / STEPS },
    );
  };
  let asked = 0;
  const worker = async () => {
    while (asked < n) {
      const count = Math.min(50, n - asked);
      asked += count;
      const { trials } = await call('POST', `/v1/studies/${s.id}/ask-batch`, { count });
      for (const t of trials) await finish(t);
      if (asked % 1000 < 50) log(`dashboard: seeded ${asked} of ${n} trials`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return s.id;
}

/** What a GET answers: its bytes and seconds. */
async function fetched(url, key, p) {
  const t0 = performance.now();
  const res = await fetch(url + p, { headers: { Authorization: `Bearer ${key}` } });
  const bytes = (await res.arrayBuffer()).byteLength;
  return { bytes, seconds: (performance.now() - t0) / 1000 };
}

export async function dashboardSection() {
  const sizes = (process.env.DASHBOARD_SIZES ?? '1000,10000').split(',').map(Number);
  log('dashboard: starting the main Worker on a temporary store (scripts/local-worker.mjs)...');
  const stride = await startStride({ devKey: 'bench-key' });
  try {
    const url = stride.url.replace(/\/$/, '');
    const call = client(url, stride.devKey);
    const rows = [];
    for (const n of sizes) {
      const id = await seedStudy(call, n);
      const trials = await fetched(url, stride.devKey, `/v1/studies/${id}/trials`);
      const summary = await fetched(url, stride.devKey, `/v1/studies/${id}/summary`);
      const pages = await dashboardBench(url, stride.devKey, id, 5);
      rows.push({ trials: n, steps: STEPS, download: { trials, summary }, ...pages });
      log(`dashboard: ${n} trials: ${JSON.stringify(rows.at(-1))}`);
    }
    return { rows };
  } finally {
    await stride.dispose();
  }
}

export function renderDashboard(d, lines) {
  lines.push('## The dashboard at scale', '');
  lines.push(
    `Studies of N trials (random sampler, 4 params), each reporting ${STEPS} intermediate values (every third pruned at step ${STEPS / 4}), opened in Chromium (playwright-core) at 1280×900 against a local Worker: the time from setting the page's hash to the first chart drawn and to every view drawn (the slices last), and the longest task (PerformanceObserver longtask: how long the tab could not answer input). The study page reads \`GET /v1/studies/{id}/summary\` (trials without their reports, the median curve, at most 200 full curves); \`/trials\` (every report) is shown for its size. (bench/dashboard.mjs)`,
    '',
    '| Trials | /trials (MB, s) | /summary (MB, s) | Study page: first chart (s) | every view (s) | longest task (ms) | Trial page: drawn (s) | longest task (ms) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of d.rows)
    lines.push(
      `| ${r.trials} | ${(r.download.trials.bytes / 1e6).toFixed(1)}, ${r.download.trials.seconds.toFixed(2)} | ${(r.download.summary.bytes / 1e6).toFixed(1)}, ${r.download.summary.seconds.toFixed(2)} | ${(r.study.first_chart_ms / 1000).toFixed(2)} | ${(r.study.all_drawn_ms / 1000).toFixed(2)} | ${r.study.longest_task_ms} | ${(r.trial.all_drawn_ms / 1000).toFixed(2)} | ${r.trial.longest_task_ms} |`,
    );
  lines.push('');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, id, n] = process.argv.slice(2);
  console.log(
    JSON.stringify(
      await dashboardBench(
        url,
        process.env.STRIDE_API_KEY ?? 'stride-dev-key',
        id,
        n === undefined ? null : Number(n),
      ),
    ),
  );
}

// The dashboard at scale, in Chromium: a study's page (and a trial's) opened on a study of many
// trials with many reports each; measures the time to the first chart drawn, to every view
// drawn, and the longest task (the longest the tab was frozen, PerformanceObserver 'longtask').
// Usage beside a running Worker: node bench/dashboard.mjs <url> <study id> [<trial number>]
import { chromium } from 'playwright-core';
import { findChromium } from '../scripts/ensure-chromium.mjs';

const KEY = process.env.STRIDE_API_KEY ?? 'stride-dev-key';

/** Opens `hash` and measures: { first_chart_ms, all_drawn_ms, longest_task_ms, tasks_over_200ms }. */
async function measure(browser, url, hash, ready) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}/`);
  await page.evaluate(`sessionStorage.setItem('stride-key', ${JSON.stringify(KEY)})`);
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

export async function dashboardBench(url, studyId, trial = 0) {
  const chromiumPath = findChromium().path;
  if (!chromiumPath) throw new Error('no Chromium (node scripts/ensure-chromium.mjs)');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const study = await measure(
      browser,
      url,
      `#/study/${studyId}`,
      "document.querySelector('#trials-table') && document.querySelectorAll('.slice .chart').length > 0",
    );
    const trialPage = await measure(
      browser,
      url,
      `#/study/${studyId}/trial/${trial}`,
      "document.querySelector('#trial-params-table')",
    );
    return { study, trial: trialPage };
  } finally {
    await browser.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, id, n] = process.argv.slice(2);
  console.log(JSON.stringify(await dashboardBench(url, id, Number(n ?? 0))));
}

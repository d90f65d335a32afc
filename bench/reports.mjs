// Bench section "Reports at scale" (issue 22, item 2): the latency of one report (HTTP through the
// local Worker into the study's Durable Object, with a median pruner judging it) as the study's
// stored intermediate values grow from 1,000 to 1,000,000 (100 trials x 10,000 steps), and the
// D1 write-through that follows them (every flush bounded, docs/ARCHITECTURE.md).
//
// Filling: trials of complete values reported in batches of 1,000 (the API's most per report),
// each told complete. At each size: a fresh trial, one report to warm, then REPORTS single reports
// (steps 0, 1, ...), each timed by the client and by the Worker's Server-Timing `total`; the trial
// is then told pruned, so it is not counted among the complete ones.
//
// Used by bench/run.mjs (`--only reports`); exports the section runner and its renderer.
import { startStride } from '../scripts/local-worker.mjs';
import { log, quantile } from './common.mjs';

const KEY = 'bench-key';
const REPORTS = 100;
/** Stored values at which reports are timed, and the trials (of `steps` each) that bring the study there. */
const SIZES = [
  { values: 1_000, add: [{ trials: 1, steps: 1_000 }] },
  { values: 10_000, add: [{ trials: 1, steps: 9_000 }] },
  { values: 100_000, add: [{ trials: 9, steps: 10_000 }] },
  { values: 1_000_000, add: [{ trials: 90, steps: 10_000 }] },
];
const TARGET_MS = 10;

async function call(base, method, pathname, body) {
  const t0 = performance.now();
  const res = await fetch(new URL(pathname, base), {
    method,
    headers: {
      Authorization: `Bearer ${KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${method} ${pathname}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  const total = /total;dur=([0-9.]+)/.exec(res.headers.get('Server-Timing') ?? '');
  return { body: JSON.parse(text), ms, server: total ? Number(total[1]) : null };
}

const loss = (trial, step) => (1 + (trial % 7) / 7) / Math.sqrt(step + 1);

/** A trial that reports `steps` values in batches of 1,000 and is told complete. */
async function completeTrial(base, id, steps) {
  const { body: t } = await call(base, 'POST', `/v1/studies/${id}/ask`, {});
  for (let from = 0; from < steps; from += 1000) {
    const points = [];
    for (let s = from; s < Math.min(steps, from + 1000); s++)
      points.push({ step: s, value: loss(t.number, s) });
    await call(base, 'POST', `/v1/studies/${id}/trials/${t.number}/report`, { points });
  }
  await call(base, 'POST', `/v1/studies/${id}/trials/${t.number}/tell`, {
    value: loss(t.number, steps - 1),
  });
}

/** REPORTS single reports of a fresh trial: client and server times. */
async function timeReports(base, id) {
  const { body: t } = await call(base, 'POST', `/v1/studies/${id}/ask`, {});
  const url = `/v1/studies/${id}/trials/${t.number}/report`;
  await call(base, 'POST', url, { step: 0, value: 1.2 });
  const client = [];
  const server = [];
  let pruned = 0;
  for (let s = 1; s <= REPORTS; s++) {
    const r = await call(base, 'POST', url, { step: s, value: 1.2 / Math.sqrt(s + 1) });
    client.push(r.ms);
    if (r.server !== null) server.push(r.server);
    if (r.body.should_prune) pruned++;
  }
  await call(base, 'POST', `/v1/studies/${id}/trials/${t.number}/tell`, { state: 'pruned' });
  const spread = (xs) => ({
    p50: quantile(xs, 0.5),
    p90: quantile(xs, 0.9),
    p99: quantile(xs, 0.99),
  });
  return { client: spread(client), server: server.length ? spread(server) : null, pruned };
}

export async function reportsSection() {
  const started = performance.now();
  log('reports: starting the main Worker on a temporary store (scripts/local-worker.mjs)...');
  const stride = await startStride({ devKey: KEY });
  try {
    const base = stride.url;
    const { body: study } = await call(base, 'POST', '/v1/studies', {
      name: 'bench-reports',
      space: { x: { type: 'float', low: 0, high: 1 } },
      sampler: { name: 'random', seed: 1 },
      pruner: { name: 'median', n_startup_trials: 1 },
      max_trials: null,
    });
    const rows = [];
    let trials = 0;
    for (const size of SIZES) {
      const t0 = performance.now();
      for (const { trials: n, steps } of size.add)
        for (let k = 0; k < n; k++) await completeTrial(base, study.id, steps);
      trials += size.add.reduce((a, x) => a + x.trials, 0);
      const fillS = (performance.now() - t0) / 1000;
      const timed = await timeReports(base, study.id);
      const { body: view } = await call(base, 'GET', `/v1/studies/${study.id}`);
      rows.push({
        values: size.values,
        complete_trials: trials,
        fill_s: fillS,
        ...timed,
        d1: view.storage,
      });
      log(
        `  ${size.values} values in ${trials} trials: report p50 ${timed.client.p50.toFixed(1)} ms (server ${timed.server?.p50?.toFixed(1)} ms), filled in ${fillS.toFixed(0)} s; D1 ${view.storage.d1}, ${view.storage.pending} pending`,
      );
    }
    // The D1 copy catches up after the load: bounded flushes, one after another by alarm.
    const t1 = performance.now();
    let storage;
    for (;;) {
      ({
        body: { storage },
      } = await call(base, 'GET', `/v1/studies/${study.id}`));
      if (storage.d1 === 'ok' || performance.now() - t1 > 900_000) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    return {
      reports: REPORTS,
      target_ms: TARGET_MS,
      rows,
      d1_catch_up_s: (performance.now() - t1) / 1000,
      d1_final: storage,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stride.dispose();
  }
}

const f1 = (v) => (typeof v === 'number' ? v.toFixed(1) : '—');

export function renderReports(q, lines) {
  lines.push('## Reports at scale', '');
  lines.push(
    `One report (HTTP through the local Worker into the study's Durable Object; a median pruner with \`n_startup_trials: 1\` judges each) as the study's stored intermediate values grow: complete trials reported in batches of 1,000 and told complete, then ${q.reports} single reports of a fresh trial, timed by the client and by the Worker's \`Server-Timing\` total (bench/reports.mjs). Target (issue 22): p50 under ${q.target_ms} ms with 100 trials × 10,000 steps stored, flat from 1,000 to 100,000 values. Before (issue 22's measurement, values in one JSON column re-read by every report): 22 ms per report at 10 trials × 2,000 steps, about 230 ms at 10 × 20,000, and no trial could hold more than 20,000.`,
    '',
  );
  lines.push(
    '| Stored values | Complete trials | Client p50 / p90 / p99 (ms) | Server p50 / p99 (ms) | Pruned of the timed reports | Fill (s) | D1 then |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---|');
  for (const r of q.rows)
    lines.push(
      `| ${r.values.toLocaleString('en-US')} | ${r.complete_trials} | ${f1(r.client.p50)} / ${f1(r.client.p90)} / ${f1(r.client.p99)} | ${f1(r.server?.p50)} / ${f1(r.server?.p99)} | ${r.pruned} of ${q.reports} | ${r.fill_s.toFixed(0)} | ${r.d1.d1}, ${r.d1.pending} pending |`,
    );
  lines.push('');
  lines.push(
    `D1 caught up ${q.d1_final.d1 === 'ok' ? `${q.d1_catch_up_s.toFixed(0)} s after the last report` : `not within ${q.d1_catch_up_s.toFixed(0)} s (${q.d1_final.pending} pending)`}: every flush writes at most 40 statements (docs/ARCHITECTURE.md, "Write-through to D1"), so a million values reach D1 over about 1,100 flushes, started by the requests and then by the object's alarm. Whole section: ${q.seconds.toFixed(0)} s.`,
    '',
  );
}

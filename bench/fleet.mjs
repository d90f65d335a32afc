// Bench section "A fleet, simulated" (issue 22, item 6): RUNNERS simulated runners (async loops in
// this process, loopback HTTP only) across STUDIES runner studies of a local stride, for SECONDS
// and then a drain that stops by itself. Each runner leases a trial, reports every REPORT_S
// seconds with its lease token (a report extends the lease), heartbeats between reports, and tells
// after STEPS reports; KILL_SHARE of the trials have their runner killed mid-trial (it vanishes
// without a tell; a new runner takes its place), so their leases (LEASE_S) expire and the trial
// goes back to waiting for the next runner. Measured: the throughput and latency of lease,
// heartbeat, report and tell; the expiry lag (from a killed trial's lease expiry to its next
// lease); and lost trials, which must be 0: a trial a runner told complete that the study does
// not show complete, or a trial still running after the drain (every runner stopped, every lease
// run out).
//
// Usage: node bench/run.mjs --only fleet (FLEET_RUNNERS, FLEET_SECONDS to scale it down).
import { startStride } from '../scripts/local-worker.mjs';
import { log, mulberry32, quantile } from './common.mjs';

const DEV_KEY = 'bench-key';
const RUNNER_KEY = 'bench-runner-key';
const RUNNERS = Number(process.env.FLEET_RUNNERS ?? 1000);
const STUDIES = 10;
const SECONDS = Number(process.env.FLEET_SECONDS ?? 90);
const LEASE_S = 30;
const REPORT_S = 3;
const STEPS = 5;
const KILL_SHARE = 0.1;
const OPS = ['lease', 'heartbeat', 'report', 'tell'];

async function call(base, key, method, pathname, body) {
  const t0 = performance.now();
  let res;
  let text;
  try {
    res = await fetch(new URL(pathname, base), {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    text = await res.text();
  } catch (err) {
    // The connection failed (the local server dropped it under load): status 0, kept as the error.
    const why = String(err?.cause?.code ?? err?.message ?? err);
    return {
      status: 0,
      body: { runtime_error: why },
      ms: performance.now() - t0,
      retryAfter: 1,
    };
  }
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the runtime's own answer (an overloaded or failed Worker); kept as the error.
    parsed = { runtime_error: text.slice(0, 120) };
  }
  return {
    status: res.status,
    body: parsed,
    ms: performance.now() - t0,
    retryAfter: Number(res.headers.get('Retry-After') ?? 0),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One runner slot: lease, report and heartbeat, tell; killed runners are replaced at once. */
async function runnerLoop(ctx, slot) {
  const rand = mulberry32(1000 + slot);
  const studyId = ctx.studies[slot % STUDIES];
  // Spread the fleet's start over one report period.
  await sleep(rand() * REPORT_S * 1000);
  while (performance.now() < ctx.stopAt) {
    const g = await ctx.op('lease', RUNNER_KEY, 'POST', '/v1/runners/lease', {
      study_id: studyId,
      runner: { name: `sim-${slot}` },
    });
    if (g.status !== 200) {
      await sleep(Math.max(1, g.retryAfter || 1) * 1000);
      continue;
    }
    const { trial, lease } = g.body;
    const key = `${studyId}/${trial.number}`;
    const expiredBefore = ctx.killedExpiry.get(key);
    if (expiredBefore !== undefined) {
      ctx.expiryLag.push(Date.now() - expiredBefore);
      ctx.killedExpiry.delete(key);
    }
    const token = lease.token;
    const url = `/v1/studies/${studyId}/trials/${trial.number}`;
    const killAt = rand() < KILL_SHARE ? 1 + Math.floor(rand() * (STEPS - 1)) : -1;
    let alive = true;
    for (let step = 0; step < STEPS && alive; step++) {
      await sleep(REPORT_S * 500);
      const hb = await ctx.op('heartbeat', RUNNER_KEY, 'POST', `${url}/heartbeat`, {
        lease_token: token,
      });
      await sleep(REPORT_S * 500);
      if (step === killAt) {
        // Killed mid-trial, after a heartbeat: no tell; the lease runs out when that heartbeat said.
        const expires = Date.parse(hb.body?.lease?.expires_at ?? '');
        if (Number.isFinite(expires)) ctx.killedExpiry.set(key, expires);
        ctx.killed++;
        alive = false;
        break;
      }
      await ctx.op('report', RUNNER_KEY, 'POST', `${url}/report`, {
        step,
        value: 1 / (step + 1 + (trial.number % 5)),
        lease_token: token,
      });
    }
    if (!alive) continue;
    const t = await ctx.op('tell', RUNNER_KEY, 'POST', `${url}/tell`, {
      value: 1 / (STEPS + (trial.number % 5)),
      lease_token: token,
    });
    if (t.status === 200) ctx.told.add(key);
  }
}

/** After the run: every trial complete, waiting, failed, or running on a live lease; none lost. */
async function audit(base, ctx) {
  let lost = 0;
  const states = {};
  for (const id of ctx.studies) {
    const { body } = await call(base, DEV_KEY, 'GET', `/v1/studies/${id}/trials`);
    for (const t of body.trials) {
      states[t.state] = (states[t.state] ?? 0) + 1;
      if (ctx.told.has(`${id}/${t.number}`) && t.state !== 'complete') lost++;
      // Every runner has stopped and every lease has run out: a trial still running is stuck.
      if (t.state === 'running') lost++;
    }
  }
  return { lost, states };
}

/** The STUDIES runner studies of the simulation. */
async function createStudies(base) {
  const studies = [];
  for (let k = 0; k < STUDIES; k++) {
    const r = await call(base, DEV_KEY, 'POST', '/v1/studies', {
      name: `fleet-${k}`,
      space: { lr: { type: 'float', low: 1e-5, high: 1, log: true } },
      sampler: { name: 'random', seed: k },
      pruner: { name: 'median' },
      executor: { kind: 'runner', lease_seconds: LEASE_S, max_attempts: 5 },
      max_trials: null,
    });
    studies.push(r.body.id);
  }
  return studies;
}

/** Count, rate and latency per call, from the samples the runners took. */
function summarise(samples, runS) {
  return Object.fromEntries(
    OPS.map((o) => {
      const s = samples[o];
      return [
        o,
        {
          count: s.ms.length,
          per_s: s.ms.length / runS,
          p50_ms: s.ms.length ? quantile(s.ms, 0.5) : null,
          p99_ms: s.ms.length ? quantile(s.ms, 0.99) : null,
          errors: s.errors,
          codes: s.codes,
          reasons: s.reasons,
        },
      ];
    }),
  );
}

export async function fleetSection() {
  const started = performance.now();
  log(
    `fleet: ${RUNNERS} runners, ${STUDIES} studies, ${SECONDS} s, leases ${LEASE_S} s, a report every ${REPORT_S} s, ${KILL_SHARE * 100}% killed...`,
  );
  const stride = await startStride({ devKey: DEV_KEY, runnerKey: RUNNER_KEY });
  try {
    const base = stride.url;
    const studies = await createStudies(base);
    const samples = Object.fromEntries(
      OPS.map((o) => [o, { ms: [], errors: 0, codes: {}, reasons: {} }]),
    );
    const ctx = {
      studies,
      stopAt: performance.now() + SECONDS * 1000,
      told: new Set(),
      killedExpiry: new Map(),
      expiryLag: [],
      killed: 0,
      async op(name, key, method, pathname, body) {
        const r = await call(base, key, method, pathname, body);
        const s = samples[name];
        s.ms.push(r.ms);
        s.codes[r.status] = (s.codes[r.status] ?? 0) + 1;
        if (r.status === 0 || r.status >= 500 || (r.status >= 400 && r.status !== 409)) {
          s.errors++;
          const why = r.body?.runtime_error ?? r.body?.detail ?? r.body?.title ?? '';
          if (why) s.reasons[why] = (s.reasons[why] ?? 0) + 1;
        }
        return r;
      },
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: RUNNERS }, (_, slot) => runnerLoop(ctx, slot)));
    const runS = (performance.now() - t0) / 1000;
    // Drain: the killed trials' leases expire and the alarm sends them back to waiting.
    await sleep((LEASE_S + 5) * 1000);
    const { lost, states } = await audit(base, ctx);
    const ops = summarise(samples, runS);
    const total = OPS.reduce((a, o) => a + ops[o].count, 0);
    log(
      `  ${(total / runS).toFixed(0)} req/s; p99 lease ${ops.lease.p99_ms?.toFixed(0)} ms, report ${ops.report.p99_ms?.toFixed(0)} ms; lost ${lost}`,
    );
    return {
      runners: RUNNERS,
      studies: STUDIES,
      seconds: SECONDS,
      lease_s: LEASE_S,
      report_s: REPORT_S,
      steps: STEPS,
      kill_share: KILL_SHARE,
      run_s: runS,
      requests_per_s: total / runS,
      offered_per_s: (RUNNERS * 2) / REPORT_S,
      ops,
      killed: ctx.killed,
      expiry_lag_s: ctx.expiryLag.length
        ? {
            n: ctx.expiryLag.length,
            p50: quantile(ctx.expiryLag, 0.5) / 1000,
            p99: quantile(ctx.expiryLag, 0.99) / 1000,
          }
        : null,
      told: ctx.told.size,
      lost,
      states,
      total_s: (performance.now() - started) / 1000,
    };
  } finally {
    await stride.dispose();
  }
}

const f0 = (v) => (typeof v === 'number' ? v.toFixed(0) : '—');

export function renderFleet(q, lines) {
  lines.push('## A fleet, simulated', '');
  lines.push(
    `${q.runners} simulated runners (async loops in one Node process, loopback HTTP) across ${q.studies} runner studies of a local stride, for ${q.seconds} s: each leases a trial, heartbeats and reports every ${q.report_s} s (${q.steps} reports, then the tell), leases of ${q.lease_s} s; ${q.kill_share * 100}% of the trials lose their runner mid-trial (no tell; a new runner takes the slot). Offered load: about ${f0(q.offered_per_s)} requests/s (a heartbeat and a report per runner per ${q.report_s} s, plus leases and tells). bench/fleet.mjs.`,
    '',
  );
  lines.push('| Call | Count | Per second | p50 (ms) | p99 (ms) | Errors (not 409) | Statuses |');
  lines.push('|---|---:|---:|---:|---:|---:|---|');
  for (const [name, o] of Object.entries(q.ops))
    lines.push(
      `| ${name} | ${o.count} | ${o.per_s.toFixed(1)} | ${f0(o.p50_ms)} | ${f0(o.p99_ms)} | ${o.errors} | ${Object.entries(
        o.codes,
      )
        .map(([c, n]) => `${c}: ${n}`)
        .join(', ')} |`,
    );
  lines.push('');
  const reasons = {};
  for (const o of Object.values(q.ops))
    for (const [why, n] of Object.entries(o.reasons ?? {})) reasons[why] = (reasons[why] ?? 0) + n;
  if (Object.keys(reasons).length > 0)
    lines.push(
      `Errors, by what the local runtime answered: ${Object.entries(reasons)
        .map(([why, n]) => `"${why}…" ${n}`)
        .join('; ')}. Status 0: a connection the local server dropped.`,
      '',
    );
  lines.push(
    `Served ${q.requests_per_s.toFixed(0)} requests/s in all. Killed ${q.killed} trials; expiry lag (a killed trial's lease expiry to its next lease) ${q.expiry_lag_s ? `p50 ${q.expiry_lag_s.p50.toFixed(1)} s, p99 ${q.expiry_lag_s.p99.toFixed(1)} s over ${q.expiry_lag_s.n}` : 'not seen'}. Trials told complete: ${q.told}; lost: **${q.lost}**; states after the drain: ${Object.entries(
      q.states,
    )
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}.`,
    '',
  );
}

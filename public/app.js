// The stride dashboard: a few hash-routed pages over the HTTP API, charts by
// ECharts (public/vendor/echarts.min.js). The API key lives in this browser
// session only (sessionStorage).
const app = document.getElementById('app');
const KEY = 'stride-key';
const charts = new Set();
let timer = null;

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (v) => (v === null || v === undefined ? '—' : typeof v === 'number' ? (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(Number(v.toPrecision(5)))) : String(v));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, init = {}) {
  const key = sessionStorage.getItem(KEY);
  const res = await fetch(path, {
    ...init,
    headers: { Authorization: `Bearer ${key}`, ...(init.body ? { 'Content-Type': 'application/json' } : {}), ...(init.headers || {}) },
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) {
    if (res.status === 401 && location.hash !== '#/login') {
      sessionStorage.removeItem(KEY);
      sessionStorage.setItem('stride-login-message', 'Your API key was not accepted (401). Sign in again.');
      location.hash = '#/login';
    }
    throw new ApiError(res.status, body);
  }
  return body;
}

function alertBox(err) {
  const paths = err.problem?.errors?.map((e) => `<li><code>${esc(e.path)}</code>: ${esc(e.message)}</li>`).join('') ?? '';
  return `<div class="alert" role="alert"><strong>${esc(err.status ? `Error ${err.status}` : 'Error')}:</strong> ${esc(err.message)}${paths ? `<ul>${paths}</ul>` : ''}</div>`;
}

function chart(el, option) {
  const c = echarts.init(el, null, { renderer: 'svg' });
  c.setOption(option);
  charts.add(c);
  return c;
}
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

function clear() {
  charts.forEach((c) => c.dispose());
  charts.clear();
  if (timer) clearInterval(timer);
  timer = null;
}

function setNav(page) {
  document.querySelectorAll('[data-nav]').forEach((a) => (a.dataset.nav === page ? a.setAttribute('aria-current', 'page') : a.removeAttribute('aria-current')));
  const s = document.getElementById('session');
  s.innerHTML = sessionStorage.getItem(KEY) ? '<button class="link" id="signout">Sign out</button>' : '';
  document.getElementById('signout')?.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    location.hash = '#/login';
  });
}

// --- sign in ---------------------------------------------------------------

function loginPage() {
  setNav('login');
  const message = sessionStorage.getItem('stride-login-message');
  sessionStorage.removeItem('stride-login-message');
  app.innerHTML = `
    <h1>Sign in</h1>
    <p class="muted">Paste an API key. It stays in this browser tab's session only.</p>
    <form id="login" novalidate>
      <label for="key">API key</label>
      <div class="row"><div style="flex: 1 1 320px"><input id="key" name="key" type="password" autocomplete="off" required style="width: 100%"></div>
      <div><button type="submit">Sign in</button></div></div>
    </form>
    <div id="login-error">${message ? `<div class="alert" role="alert">${esc(message)}</div>` : ''}</div>`;
  const input = document.getElementById('key');
  input.focus();
  document.getElementById('login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    const out = document.getElementById('login-error');
    if (!key) {
      out.innerHTML = '<div class="alert" role="alert">Enter an API key.</div>';
      return;
    }
    const res = await fetch('/v1/studies?limit=1', { headers: { Authorization: `Bearer ${key}` } });
    if (res.status === 401) {
      const p = await res.json().catch(() => ({}));
      out.innerHTML = `<div class="alert" role="alert">That API key was not accepted: ${esc(p.detail || 'unauthorized')}.</div>`;
      input.select();
      return;
    }
    if (res.status === 403) {
      out.innerHTML = '<div class="alert" role="alert">This key cannot read studies (it lacks the read scope). Use a key with read access.</div>';
      return;
    }
    sessionStorage.setItem(KEY, key);
    location.hash = '#/studies';
  });
}

// --- studies ---------------------------------------------------------------

async function studiesPage() {
  setNav('studies');
  const filter = new URLSearchParams(location.hash.split('?')[1] || '').get('state') || 'all';
  app.innerHTML = `
    <h1>Studies</h1>
    <div class="row"><div><label for="state-filter">State</label>
      <select id="state-filter"><option value="all">All</option><option value="running">Running</option><option value="completed">Completed</option></select></div></div>
    <div id="studies-out" aria-live="polite"><p class="muted">Loading…</p></div>`;
  const sel = document.getElementById('state-filter');
  sel.value = filter;
  sel.addEventListener('change', () => (location.hash = sel.value === 'all' ? '#/studies' : `#/studies?state=${sel.value}`));
  const out = document.getElementById('studies-out');
  try {
    let studies = [];
    let cursor = null;
    do {
      const page = await api(`/v1/studies?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      studies = studies.concat(page.studies);
      cursor = page.next_cursor;
    } while (cursor && studies.length < 500);
    const shown = studies.filter((s) => filter === 'all' || s.state === filter);
    if (shown.length === 0) {
      out.innerHTML = `<p>No ${filter === 'all' ? '' : filter + ' '}studies yet. Create one with <code>POST /v1/studies</code> (see the <a href="/docs">API docs</a>).</p>`;
      return;
    }
    out.innerHTML = `<p class="muted">${shown.length} stud${shown.length === 1 ? 'y' : 'ies'}</p>
      <div class="table-wrap"><table id="studies-table"><caption class="muted" style="text-align:left;padding:6px 10px">Studies, newest first</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col" class="num">Trials</th><th scope="col" class="num">Best value</th><th scope="col">Executor</th><th scope="col">Created</th></tr></thead>
      <tbody>${shown
        .map(
          (s) => `<tr data-study="${esc(s.id)}"><td><a href="#/study/${esc(s.id)}">${esc(s.name)}</a></td><td class="state state-${esc(s.state)}">${esc(s.state)}</td>
          <td class="num">${s.n_trials}${s.max_trials ? ` / ${s.max_trials}` : ''}</td><td class="num">${fmt(s.best_trial?.value)}</td><td>${esc(s.executor.kind)}</td><td>${esc(when(s.created_at))}</td></tr>`,
        )
        .join('')}</tbody></table></div>`;
  } catch (err) {
    out.innerHTML = alertBox(err);
  }
}

// --- one study -------------------------------------------------------------

const SORTS = {
  number: (t) => t.number,
  state: (t) => t.state,
  value: (t) => (t.value === null ? Infinity : t.value),
  duration: (t) => duration(t) ?? Infinity,
};
function duration(t) {
  return t.started_at && t.completed_at ? (Date.parse(t.completed_at) - Date.parse(t.started_at)) / 1000 : null;
}

async function studyPage(id) {
  setNav('studies');
  app.innerHTML = `<p class="muted">Loading…</p>`;
  let sort = { key: 'number', dir: 1 };
  const render = async (first) => {
    const [study, { trials }, imp] = await Promise.all([api(`/v1/studies/${id}`), api(`/v1/studies/${id}/trials`), api(`/v1/studies/${id}/importance`)]);
    const params = Object.keys(study.space);
    if (first) {
      app.innerHTML = `
        <p><a href="#/studies">← Studies</a></p>
        <h1 id="study-name">${esc(study.name)}</h1>
        <div class="cards" id="summary"></div>
        <div class="charts">
          <section><h2 id="h-history">Optimization history</h2><div class="chart" id="chart-history" role="img" aria-labelledby="h-history"></div></section>
          <section><h2 id="h-inter">Intermediate values</h2><div class="chart" id="chart-intermediate" role="img" aria-labelledby="h-inter"></div></section>
          <section><h2 id="h-par">Parameters and value</h2><div class="chart" id="chart-parallel" role="img" aria-labelledby="h-par"></div></section>
          <section><h2 id="h-imp">Parameter importance</h2><div class="chart" id="chart-importance" role="img" aria-labelledby="h-imp"></div>
            <p class="muted" id="importance-method"></p></section>
        </div>
        <h2>Trials</h2><div class="table-wrap" id="trials"></div>`;
      ['chart-history', 'chart-intermediate', 'chart-parallel', 'chart-importance'].forEach((cid) => chart(document.getElementById(cid), {}));
    }
    const dirMin = study.direction === 'minimize';
    document.getElementById('summary').innerHTML = [
      ['State', `<span class="state state-${esc(study.state)}">${esc(study.state)}</span>`],
      ['Trials', `${study.n_trials}${study.max_trials ? ` / ${study.max_trials}` : ''}`],
      [`Best ${esc(study.metric)}`, study.best_trial ? `${fmt(study.best_trial.value)} <span class="muted">(trial ${study.best_trial.number})</span>` : '—'],
      ['Direction', esc(study.direction)],
      ['Sampler · pruner', `${esc(study.sampler.name)} · ${esc(study.pruner.name)}`],
      ['Executor', esc(study.executor.kind)],
    ]
      .map(([k, v]) => `<div class="card"><div class="k">${k}</div><div class="v">${v}</div></div>`)
      .join('');
    const [cHist, cInter, cPar, cImp] = [...charts];
    // History: every complete trial's value and the best so far.
    const done = trials.filter((t) => t.state === 'complete');
    let best = null;
    const bestLine = done.map((t) => {
      best = best === null || (dirMin ? t.value < best : t.value > best) ? t.value : best;
      return [t.number, best];
    });
    cHist.setOption({
      animation: false,
      grid: { left: 56, right: 16, top: 30, bottom: 40 },
      tooltip: { trigger: 'item' },
      legend: { top: 0 },
      xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
      yAxis: { type: 'value', name: study.metric, scale: true },
      series: [
        { name: 'value', type: 'scatter', symbolSize: 7, data: done.map((t) => [t.number, t.value]) },
        { name: 'best so far', type: 'line', step: 'end', showSymbol: false, data: bestLine },
      ],
    });
    // Intermediate values: one line per trial; pruned ones dashed.
    cInter.setOption(
      {
        animation: false,
        grid: { left: 56, right: 16, top: 30, bottom: 40 },
        tooltip: { trigger: 'item', formatter: (p) => `${esc(p.seriesName)}<br>step ${p.value[0]}: ${fmt(p.value[1])}` },
        legend: { top: 0, data: ['complete', 'pruned', 'running'].map((s) => ({ name: s })), selectedMode: false },
        xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, minInterval: 1 },
        yAxis: { type: 'value', scale: true },
        series: trials
          .filter((t) => t.intermediate.length > 0)
          .map((t) => ({
            name: `trial ${t.number} (${t.state})`,
            type: 'line',
            showSymbol: t.intermediate.length < 3,
            lineStyle: { type: t.state === 'pruned' ? 'dashed' : 'solid', width: t.state === 'pruned' ? 1 : 2, opacity: t.state === 'pruned' ? 0.6 : 1 },
            color: t.state === 'pruned' ? '#b26b00' : t.state === 'complete' ? '#0b57d0' : '#6b7280',
            data: t.intermediate.map((p) => [p.step, p.value]),
          })),
      },
      { replaceMerge: ['series'] },
    );
    // Parallel coordinates: params (log axes for log params) and the value, colored by value.
    const axes = params.map((p, i) => {
      const sp = study.space[p];
      return sp.type === 'categorical' ? { dim: i, name: p, type: 'category', data: sp.choices.map(String) } : { dim: i, name: p, type: sp.log ? 'log' : 'value', scale: true };
    });
    axes.push({ dim: params.length, name: study.metric, type: 'value', scale: true });
    const values = done.map((t) => t.value);
    cPar.setOption(
      {
        animation: false,
        parallelAxis: axes,
        parallel: { left: 40, right: 60, top: 40, bottom: 30 },
        visualMap: values.length ? { show: false, dimension: params.length, min: Math.min(...values), max: Math.max(...values), inRange: { color: dirMin ? ['#0b57d0', '#d0dbf2'] : ['#d0dbf2', '#0b57d0'] } } : undefined,
        series: [{ type: 'parallel', lineStyle: { width: 1.5, opacity: 0.8 }, data: done.map((t) => [...params.map((p) => (t.params[p] === undefined ? null : study.space[p].type === 'categorical' ? String(t.params[p]) : t.params[p])), t.value]) }],
      },
      { replaceMerge: ['series', 'parallelAxis'] },
    );
    // Importance (computed by the service).
    cImp.setOption({
      animation: false,
      grid: { left: 100, right: 30, top: 10, bottom: 30 },
      xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
      yAxis: { type: 'category', inverse: true, data: imp.params.map((p) => p.name) },
      tooltip: { trigger: 'item', formatter: (p) => `${esc(p.name)}: ${(p.value * 100).toFixed(1)}%` },
      series: [{ type: 'bar', data: imp.params.map((p) => p.importance), label: { show: true, position: 'right', formatter: (p) => `${(p.value * 100).toFixed(0)}%` } }],
    });
    document.getElementById('importance-method').textContent = `From ${imp.n_trials} complete trials. Method: ${imp.method}.`;
    // The trial table, sortable by its header buttons.
    const sorted = [...trials].sort((a, b) => {
      const f = SORTS[sort.key];
      const x = f(a);
      const y = f(b);
      return (x < y ? -1 : x > y ? 1 : 0) * sort.dir || a.number - b.number;
    });
    const head = (key, label, cls = '') => {
      const aria = sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none';
      return `<th scope="col" class="${cls}" aria-sort="${aria}"><button data-sort="${key}">${label}${sort.key === key ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}</button></th>`;
    };
    document.getElementById('trials').innerHTML = `<table id="trials-table">
      <thead><tr>${head('number', '#', 'num')}${head('state', 'State')}${head('value', esc(study.metric), 'num')}${head('duration', 'Duration (s)', 'num')}${params.map((p) => `<th scope="col">${esc(p)}</th>`).join('')}<th scope="col">Steps</th><th scope="col">Error</th></tr></thead>
      <tbody>${sorted
        .map(
          (t) => `<tr data-trial="${t.number}"><td class="num">${t.number}</td><td class="state state-${esc(t.state)}">${esc(t.state)}</td><td class="num">${fmt(t.value)}</td>
          <td class="num">${duration(t) === null ? '—' : duration(t).toFixed(1)}</td>${params.map((p) => `<td>${fmt(t.params[p])}</td>`).join('')}<td class="num">${t.intermediate.length}</td><td>${esc(t.error ?? '')}</td></tr>`,
        )
        .join('')}</tbody></table>`;
    document.querySelectorAll('[data-sort]').forEach((b) =>
      b.addEventListener('click', () => {
        sort = { key: b.dataset.sort, dir: sort.key === b.dataset.sort ? -sort.dir : 1 };
        render(false).then(() => document.querySelector(`[data-sort="${b.dataset.sort}"]`)?.focus());
      }),
    );
    return study;
  };
  try {
    const study = await render(true);
    // Live: refresh while the study runs.
    if (study.state === 'running') {
      timer = setInterval(async () => {
        try {
          const s = await render(false);
          if (s.state !== 'running') clearInterval(timer);
        } catch {
          /* the next tick tries again */
        }
      }, 3000);
    }
  } catch (err) {
    app.innerHTML = `<p><a href="#/studies">← Studies</a></p>${alertBox(err)}`;
  }
}

// --- LR range test ---------------------------------------------------------

const EXAMPLE_PROBE = {
  model: { kind: 'mlp', hidden: [64, 64], activation: 'relu' },
  task: 'classification',
  data: { kind: 'synthetic', name: 'spirals', n: 2048, features: 2, classes: 3, noise: 0.1, seed: 1 },
  optimizer: { name: 'sgd', momentum: 0.9 },
  batch_size: 64,
  seed: 0,
};

function lrPage() {
  setNav('lr');
  app.innerHTML = `
    <h1>LR range test</h1>
    <form id="lr-form">
      <div class="row">
        <div><label for="f-data">Dataset</label><select id="f-data">${['spirals', 'moons', 'blobs', 'linear', 'teacher'].map((d) => `<option>${d}</option>`).join('')}</select></div>
        <div><label for="f-hidden">Hidden layers</label><input id="f-hidden" value="64, 64" size="10"></div>
        <div><label for="f-opt">Optimizer</label><select id="f-opt">${['sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad'].map((d) => `<option>${d}</option>`).join('')}</select></div>
        <div><label for="f-batch">Batch size</label><input id="f-batch" type="number" min="1" value="64" style="width: 7em"></div>
        <div><label for="f-steps">Steps</label><input id="f-steps" type="number" min="5" max="2000" value="100" style="width: 7em"></div>
      </div>
      <label for="probe-json">Probe (JSON; the fields above write it, or paste your own)</label>
      <textarea id="probe-json" spellcheck="false"></textarea>
      <p><button type="submit" id="run-lr">Run range test</button> <span id="lr-status" class="muted" aria-live="polite"></span></p>
    </form>
    <div id="lr-out"></div>`;
  const ta = document.getElementById('probe-json');
  ta.value = JSON.stringify(EXAMPLE_PROBE, null, 2);
  const sync = () => {
    let p;
    try {
      p = JSON.parse(ta.value);
    } catch {
      p = structuredClone(EXAMPLE_PROBE);
    }
    const name = document.getElementById('f-data').value;
    p.data = { ...(p.data || {}), kind: 'synthetic', name };
    p.task = name === 'teacher' || name === 'linear' ? 'regression' : 'classification';
    if (p.task === 'regression') delete p.data.classes;
    else p.data.classes = name === 'moons' ? 2 : p.data.classes && p.data.classes !== 2 ? p.data.classes : 3;
    p.model = { ...(p.model || {}), hidden: document.getElementById('f-hidden').value.split(',').map((x) => Number(x.trim())).filter((x) => x > 0) };
    const opt = document.getElementById('f-opt').value;
    p.optimizer = opt === 'sgd' || opt === 'momentum' || opt === 'nesterov' ? { name: opt, momentum: opt === 'sgd' ? 0 : 0.9 } : { name: opt };
    if (opt === 'sgd') delete p.optimizer.momentum;
    p.batch_size = Number(document.getElementById('f-batch').value);
    ta.value = JSON.stringify(p, null, 2);
  };
  ['f-data', 'f-hidden', 'f-opt', 'f-batch'].forEach((i) => document.getElementById(i).addEventListener('change', sync));
  document.getElementById('lr-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = document.getElementById('lr-out');
    const status = document.getElementById('lr-status');
    let probe;
    try {
      probe = JSON.parse(ta.value);
    } catch (err) {
      out.innerHTML = `<div class="alert" role="alert">The probe is not valid JSON: ${esc(err.message)}</div>`;
      return;
    }
    status.textContent = 'Training on the edge…';
    document.getElementById('run-lr').disabled = true;
    try {
      const r = await api('/v1/lr-range-tests', { method: 'POST', body: JSON.stringify({ probe, range: { steps: Number(document.getElementById('f-steps').value) } }) });
      status.textContent = `${r.steps_run} steps in ${r.duration_ms} ms on ${r.backend}${r.cached ? ' (cached)' : ''}.`;
      const s = r.suggestion;
      out.innerHTML = `
        <div class="cards" id="lr-result">
          <div class="card"><div class="k">Suggested lr</div><div class="v" id="suggested-lr">${fmt(s.lr)}</div></div>
          <div class="card"><div class="k">Method · confidence</div><div class="v">${esc(s.method)} · ${esc(s.confidence)}</div></div>
          <div class="card"><div class="k">Max stable lr</div><div class="v">${fmt(s.max_stable_lr)}</div></div>
        </div>
        <div class="chart" id="chart-lr" role="img" aria-label="Loss against learning rate, log scale"></div>
        <h2>Candidates</h2><ul class="candidates">${Object.entries(s.candidates).map(([k, v]) => `<li>${esc(k)}: ${fmt(v)}</li>`).join('')}</ul>
        ${s.reasons?.length ? `<h2>Why</h2><ul>${s.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}`;
      const marks = [];
      if (s.lr) marks.push({ xAxis: s.lr, name: 'suggested', label: { formatter: `suggested ${fmt(s.lr)}` }, lineStyle: { color: '#146c2e' } });
      if (s.max_stable_lr) marks.push({ xAxis: s.max_stable_lr, name: 'max stable', label: { formatter: `max stable ${fmt(s.max_stable_lr)}` }, lineStyle: { color: '#b3261e' } });
      const finite = r.curve.filter((p) => p.smoothed_loss !== null);
      const top = finite.length ? Math.min(Math.max(...finite.map((p) => p.smoothed_loss)), finite[0].smoothed_loss * 3) : undefined;
      chart(document.getElementById('chart-lr'), {
        animation: false,
        grid: { left: 56, right: 24, top: 36, bottom: 44 },
        legend: { top: 0 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'log', name: 'learning rate', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'value', name: 'loss', scale: true, max: top === undefined ? undefined : Number(top.toPrecision(2)) },
        series: [
          { name: 'loss', type: 'line', showSymbol: false, lineStyle: { width: 1, opacity: 0.5 }, data: r.curve.filter((p) => p.loss !== null).map((p) => [p.lr, p.loss]) },
          { name: 'smoothed loss', type: 'line', showSymbol: false, lineStyle: { width: 2 }, data: finite.map((p) => [p.lr, p.smoothed_loss]), markLine: { symbol: 'none', data: marks } },
        ],
      });
    } catch (err) {
      status.textContent = '';
      out.innerHTML = alertBox(err);
    } finally {
      document.getElementById('run-lr').disabled = false;
    }
  });
}

// --- routing ---------------------------------------------------------------

function route() {
  clear();
  const hash = location.hash || '#/studies';
  if (!sessionStorage.getItem(KEY) && hash !== '#/login') {
    location.hash = '#/login';
    return;
  }
  if (hash === '#/login') return loginPage();
  const m = /^#\/study\/([^/?]+)/.exec(hash);
  if (m) return studyPage(decodeURIComponent(m[1]));
  if (hash.startsWith('#/lr')) return lrPage();
  return studiesPage();
}
window.addEventListener('hashchange', route);
route();

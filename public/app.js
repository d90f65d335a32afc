// The stride dashboard: a few hash-routed pages over the HTTP API, charts by
// ECharts (public/vendor/echarts.min.js). The API key lives in this browser
// session only (sessionStorage). This module is the DOM side: pages, forms,
// routing. The chart options are pure functions in charts.js, the markup
// helpers in markup.js, and the forms' lists come from the server (lists.js).
import { lrCurveOption, objectives } from './charts.js';
import {
  $,
  alertBox,
  alertText,
  api,
  chart,
  clearPage,
  every,
  KEY,
  setHTML,
  setNav,
  studyState,
} from './dom.js';
import { listsFromOpenApi } from './lists.js';
import { fmt, html, when } from './markup.js';
import { comparePage, loadSummary, studyPage, trialPage } from './study-page.js';
import { lrCandidatesOption, lrCurvesOption } from './views.js';

const app = document.getElementById('app');

// --- sign in ---------------------------------------------------------------

function loginPage() {
  setNav('login');
  const message = sessionStorage.getItem('stride-login-message');
  sessionStorage.removeItem('stride-login-message');
  setHTML(
    app,
    html`
    <h1>Sign in</h1>
    <p class="muted">Paste an API key. It stays in this browser tab's session only.</p>
    <form id="login" novalidate>
      <label for="key">API key</label>
      <div class="row"><div style="flex: 1 1 320px"><input id="key" name="key" type="password" autocomplete="off" required style="width: 100%"></div>
      <div><button type="submit">Sign in</button></div></div>
    </form>
    <div id="login-error">${message ? alertText(message) : ''}</div>`,
  );
  const input = document.getElementById('key');
  input.focus();
  // The DOM does not wait for a listener: the sign-in runs on its own (void).
  document.getElementById('login').addEventListener('submit', (e) => void signIn(e, input));
}

/** Signs in with the key typed into `input` when the API accepts it; says why not otherwise. */
async function signIn(e, input) {
  e.preventDefault();
  const key = input.value.trim();
  const out = document.getElementById('login-error');
  if (!key) {
    setHTML(out, alertText('Enter an API key.'));
    return;
  }
  const res = await fetch('/v1/studies?limit=1', { headers: { Authorization: `Bearer ${key}` } });
  if (res.status === 401) {
    const p = await res.json().catch(() => ({}));
    setHTML(out, alertText(`That API key was not accepted: ${p.detail || 'unauthorized'}.`));
    input.select();
    return;
  }
  if (res.status === 403) {
    setHTML(
      out,
      alertText(
        'This key cannot read studies (it lacks the read scope). Use a key with read access.',
      ),
    );
    return;
  }
  sessionStorage.setItem(KEY, key);
  location.hash = '#/studies';
}

// --- studies ---------------------------------------------------------------

async function studiesPage() {
  setNav('studies');
  const filter = new URLSearchParams(location.hash.split('?')[1] || '').get('state') || 'all';
  setHTML(
    app,
    html`
    <h1>Studies</h1>
    <p><a href="#/compare">Compare studies</a>: their histories and EDFs on one chart.</p>
    <div class="row"><div><label for="state-filter">State</label>
      <select id="state-filter"><option value="all">All</option><option value="running">Running</option><option value="completed">Completed</option><option value="unavailable">Unavailable</option></select></div></div>
    <div id="studies-out" aria-live="polite"><p class="muted">Loading…</p></div>`,
  );
  const sel = document.getElementById('state-filter');
  sel.value = filter;
  sel.addEventListener(
    'change',
    () => (location.hash = sel.value === 'all' ? '#/studies' : `#/studies?state=${sel.value}`),
  );
  const out = document.getElementById('studies-out');
  try {
    let studies = [];
    let cursor = null;
    do {
      const page = await api(
        `/v1/studies?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      studies = studies.concat(page.studies);
      cursor = page.next_cursor;
    } while (cursor && studies.length < 500);
    const shown = studies.filter((s) => filter === 'all' || s.state === filter);
    if (shown.length === 0) {
      setHTML(
        out,
        html`<p>No ${filter === 'all' ? '' : filter + ' '}studies yet. Create one with <code>POST /v1/studies</code> (see the <a href="/docs">API docs</a>).</p>`,
      );
      return;
    }
    setHTML(
      out,
      html`<p class="muted">${shown.length} stud${shown.length === 1 ? 'y' : 'ies'}</p>
      <div class="table-wrap"><table id="studies-table"><caption class="muted" style="text-align:left;padding:6px 10px">Studies, newest first</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col" class="num">Trials</th><th scope="col" class="num">Best value</th><th scope="col">Executor</th><th scope="col">Created</th></tr></thead>
      <tbody>${shown.map((s) => {
        const st = studyState(s);
        return html`<tr data-study="${s.id}"><td><a href="#/study/${encodeURIComponent(s.id)}">${s.name}</a></td><td class="${st.cls}">${st.text}</td>
          <td class="num">${s.n_trials}${s.max_trials ? ` / ${s.max_trials}` : ''}</td><td class="num">${objectives(s).length > 1 ? `${s.best_trials?.length ?? 0} on the front` : fmt(s.best_trial?.value)}</td><td>${s.executor.kind}</td><td>${when(s.created_at)}</td></tr>`;
      })}</tbody></table></div>`,
    );
  } catch (err) {
    setHTML(out, alertBox(err));
  }
}

// --- LR range test ---------------------------------------------------------

const EXAMPLE_PROBE = {
  model: { kind: 'mlp', hidden: [64, 64], activation: 'relu' },
  task: 'classification',
  data: {
    kind: 'synthetic',
    name: 'spirals',
    n: 2048,
    features: 2,
    classes: 3,
    noise: 0.1,
    seed: 1,
  },
  optimizer: { name: 'sgd', momentum: 0.9 },
  batch_size: 64,
  seed: 0,
};

let formListsLoad = null;
/** The form's lists (optimizers, datasets, schedules) from the server's OpenAPI document, fetched once per page load. */
function formLists() {
  formListsLoad ??= fetch('/openapi.json')
    .then((res) => {
      if (!res.ok) throw new Error(`GET /openapi.json: HTTP ${res.status}`);
      return res.json();
    })
    .then(listsFromOpenApi)
    .catch((err) => {
      formListsLoad = null; // the next visit asks again
      throw err;
    });
  return formListsLoad;
}

/** A positive number from a text field, or null. */
function positive(text) {
  const t = text.trim();
  const x = t === '' ? NaN : Number(t);
  return Number.isFinite(x) && x > 0 ? x : null;
}

const horizonText = (h) =>
  !h
    ? '—'
    : `${h.steps !== undefined && h.steps !== null ? `${h.steps} steps = ` : ''}${h.method === 'none' ? `${h.epochs} epochs, not validated (none)` : `validated at ${h.validated_epochs} of ${h.epochs} epochs (${h.method}), ${h.schedule} schedule`}`;

/** POST /v1/lr/suggest's answer: the validated lr, confidence, horizon, the candidates and why (and, `linked`, a link to its own page). */
function validatedView(v, { linked = true } = {}) {
  const h = v.horizon;
  const cands = v.validation?.candidates ?? [];
  return html`
    <h2>Validated at your training length</h2>
    <div class="cards" id="lr-validated-result">
      <div class="card"><div class="k">${v.method === 'validated' ? 'Validated lr' : `lr (${v.method}, not validated)`}</div><div class="v" id="validated-lr">${fmt(v.lr)}</div></div>
      <div class="card"><div class="k">Confidence</div><div class="v" id="validated-confidence">${v.confidence}</div></div>
      <div class="card"><div class="k">Horizon</div><div class="v" id="lr-horizon">${horizonText(h)}</div></div>
      <div class="card"><div class="k">Stable range</div><div class="v">${v.stable_range ? `${fmt(v.stable_range.min)} – ${fmt(v.stable_range.max)}` : '—'}</div></div>
      ${v.compute ? html`<div class="card"><div class="k">Compute</div><div class="v" id="lr-compute">${fmt(v.compute.runs)} of ${fmt(v.budget?.runs)} full runs</div></div>` : ''}
    </div>
    ${
      cands.length
        ? html`<div class="table-wrap"><table id="validation-table">
          <caption class="muted">Runs: each lr trained for its length (the whole schedule compressed into it, shortest first), with its validation loss at the end${v.validation.complete ? '' : '; still training'}.</caption>
          <thead><tr><th class="num">lr</th><th>sources</th><th class="num">length</th><th>state</th><th class="num">value</th><th class="num">epochs run</th><th>tied</th></tr></thead>
          <tbody>${cands.map(
            (c) =>
              html`<tr data-lr="${c.lr}" class="${c.lr === v.lr ? 'answer' : ''}"><td class="num">${fmt(c.lr)}${c.lr === v.lr ? html` <span class="tag">answer</span>` : ''}</td><td>${c.sources.join(', ')}</td><td class="num">${c.length ?? (h?.validated_epochs || '—')}</td><td class="state state-${c.state}">${c.state}${c.unstable ? html` <span class="tag warn">unstable</span>` : ''}</td><td class="num">${fmt(c.value)}</td><td class="num">${c.epochs_run}</td><td>${c.tied ? 'tied' : ''}</td></tr>`,
          )}</tbody></table></div>`
        : ''
    }
    ${linked && (v.id || v.validation?.study_id) ? html`<p><a id="lr-suggestion-link" href="#/lr/suggest/${encodeURIComponent(v.id ?? v.validation.study_id)}">This suggestion's page</a>: its candidates against lr, their learning curves and the range test.</p>` : ''}
    ${v.reasoning?.length ? html`<h2>Why this lr</h2><ul id="validated-reasoning">${v.reasoning.map((x) => html`<li>${x}</li>`)}</ul>` : ''}`;
}

/** How a range test's sweep ran, in words. */
const ranText = (r) =>
  r.backend === 'client'
    ? `A curve of ${r.steps_run} points measured by the client${r.curve.length < r.steps_run ? ` (${r.curve.length} shown)` : ''}${r.cached ? ' (cached)' : ''}`
    : `${r.steps_run} steps in ${r.duration_ms} ms on ${r.backend}${r.cached ? ' (cached)' : ''}`;

/** A range test's result: its cards, `note` (what the page adds), the chart's place, the candidates and why. */
function rangeTestView(r, note = '') {
  const s = r.suggestion;
  const sch = r.schedule;
  return html`
    <div class="cards" id="lr-result">
      <div class="card"><div class="k">Suggested lr</div><div class="v" id="suggested-lr">${fmt(s.lr)}</div></div>
      <div class="card"><div class="k">Method · confidence</div><div class="v">${s.method} · ${s.confidence}</div></div>
      <div class="card"><div class="k">Max stable lr</div><div class="v">${fmt(s.max_stable_lr)}</div></div>
      ${sch ? html`<div class="card"><div class="k">Schedule</div><div class="v" id="lr-schedule">${sch.kind === 'one_cycle' ? 'one-cycle' : 'cosine'} to ${fmt(sch.peak_lr)}, warmup ${Math.round(sch.warmup_fraction * 100)}%</div></div>` : ''}
    </div>
    ${note}
    <div class="chart" id="chart-lr" role="img" aria-label="Loss against learning rate, log scale"></div>
    <h2>Candidates</h2><ul class="candidates">${Object.entries(s.candidates).map(([k, v]) => html`<li>${k}: ${fmt(v)}</li>`)}</ul>
    ${s.reasons?.length ? html`<h2>Why</h2><ul id="lr-reasons">${s.reasons.map((x) => html`<li>${x}</li>`)}${(sch?.reasoning ?? []).map((x) => html`<li>schedule: ${x}</li>`)}</ul>` : ''}`;
}

/** Draws a range test's loss against lr (log axis) into `el`; answers draw(validatedLr), which redraws with that lr marked. */
function rangeTestChart(el, r) {
  const lrChart = chart(el, {});
  const draw = (validatedLr) => lrChart.setOption(lrCurveOption(r, validatedLr), true); // replace, not merge: the marks change
  draw(null);
  return draw;
}

const SOURCE_TEXT = { probe: 'probe (edge)', curve: 'curve (client)' };

/** The project's recent range tests (GET /v1/lr-range-tests), each linking to its page; into #lr-recent when it is on the page. */
async function loadRecent() {
  const el = document.getElementById('lr-recent');
  if (!el) return;
  try {
    const { range_tests: rows } = await api('/v1/lr-range-tests?limit=20');
    if (!el.isConnected) return;
    setHTML(
      el,
      rows.length === 0
        ? html`<p class="muted">No range tests yet: run one above, or post a curve you measured (<code>POST /v1/lr-range-tests</code> with <code>"curve"</code>).</p>`
        : html`<div class="table-wrap"><table id="recent-table"><caption class="muted" style="text-align:left;padding:6px 10px">Range tests of this project, newest first: probes swept on the edge and curves posted by clients</caption>
          <thead><tr><th scope="col">Created</th><th scope="col">Source</th><th scope="col">Model</th><th scope="col">Optimizer</th><th scope="col" class="num">Suggested lr</th><th scope="col">Confidence</th><th scope="col" class="num">Points</th></tr></thead>
          <tbody>${rows.map(
            (
              t,
            ) => html`<tr data-id="${t.id}"><td><a href="#/lr/${encodeURIComponent(t.id)}">${when(t.created_at)}</a></td><td>${SOURCE_TEXT[t.source] ?? t.source}</td><td>${t.label ?? '—'}</td><td>${t.optimizer ?? '—'}</td>
              <td class="num">${fmt(t.suggested_lr)}</td><td>${t.confidence}</td><td class="num">${fmt(t.steps_run)}</td></tr>`,
          )}</tbody></table></div>`,
    );
  } catch (err) {
    if (el.isConnected) setHTML(el, alertBox(err));
  }
}

/** A count as people write it: 11.2M, 350k, 1.3B. */
const fmtCount = (n) =>
  n >= 1e9
    ? `${Number((n / 1e9).toPrecision(3))}B`
    : n >= 1e6
      ? `${Number((n / 1e6).toPrecision(3))}M`
      : n >= 1e3
        ? `${Number((n / 1e3).toPrecision(3))}k`
        : String(n);

/** What a posted curve was measured on, from its context. */
function curveAbout(c = {}) {
  const parts = [];
  if (c.model?.parameters) parts.push(`${fmtCount(c.model.parameters)} parameters`);
  if (c.optimizer?.name)
    parts.push(
      `optimizer ${c.optimizer.name}${Object.entries(c.optimizer)
        .filter(([k]) => k !== 'name')
        .map(([k, v]) => `, ${k} ${fmt(v)}`)
        .join('')}`,
    );
  if (c.batch_size) parts.push(`batch ${c.batch_size}`);
  return parts.join(' · ');
}

/** One stored range test (GET /v1/lr-range-tests/{id}): a probe's, or a curve a client posted. */
async function rangeTestPage(id) {
  setNav('lr');
  setHTML(app, html`<p class="muted">Loading…</p>`);
  try {
    const r = await api(`/v1/lr-range-tests/${encodeURIComponent(id)}`);
    const client = r.backend === 'client';
    const name = r.context?.model?.name;
    setHTML(
      app,
      html`
      <p><a href="#/lr">← LR range test</a></p>
      <h1>${client ? 'Posted curve' : 'Range test'}${name ? html`: <span id="lr-model">${name}</span>` : ''}</h1>
      <p class="muted" id="lr-about">${ranText({ ...r, cached: false })}; ${when(r.created_at)}${client && curveAbout(r.context) ? ` · ${curveAbout(r.context)}` : ''}.</p>
      ${rangeTestView(r, html`<p class="note" id="lr-unvalidated">The suggested lr is the range test's rule, read from a short sweep: it is <strong>not validated</strong> at your training length${client ? ' (train the candidates for your run’s length on your hardware)' : ''}.</p>`)}
      <section aria-labelledby="h-lr-suggestions"><h2 id="h-lr-suggestions">Suggestions made from it</h2><div id="lr-suggestions"><p class="muted">Loading…</p></div></section>`,
    );
    rangeTestChart(document.getElementById('chart-lr'), r);
    void loadSuggestions(id); // it shows its own failure in #lr-suggestions
  } catch (err) {
    setHTML(app, html`<p><a href="#/lr">← LR range test</a></p>${alertBox(err)}`);
  }
}

/** Where a suggestion of a range test is shown: its own page, or (an older edge round) its study's. */
const suggestionHref = (v) =>
  v.answered_at
    ? `#/lr/suggest/${encodeURIComponent(v.id)}`
    : `#/study/${encodeURIComponent(v.id)}`;

/** The lr/suggest answers made from range test `id` (GET /v1/lr-range-tests/{id}/suggestions), into #lr-suggestions. */
async function loadSuggestions(id) {
  const el = document.getElementById('lr-suggestions');
  try {
    const { suggestions: rows } = await api(
      `/v1/lr-range-tests/${encodeURIComponent(id)}/suggestions?limit=50`,
    );
    if (!el.isConnected) return;
    setHTML(
      el,
      rows.length === 0
        ? html`<p class="muted">None yet: <code>POST /v1/lr/suggest</code> with <code>"range_test_id": "${id}"</code> and a training length validates its candidates.</p>`
        : html`<div class="table-wrap"><table id="lr-suggestions-table"><thead><tr><th scope="col">Created</th><th scope="col">Trained by</th><th scope="col">State</th><th scope="col" class="num">Budget (runs)</th><th scope="col">Horizon</th><th scope="col" class="num">Runs</th><th scope="col" class="num">Best run's lr</th><th scope="col" class="num">Its loss</th></tr></thead>
          <tbody>${rows.map(
            (
              v,
            ) => html`<tr data-id="${v.id}"><td><a href="${suggestionHref(v)}">${when(v.created_at)}</a></td><td>${v.executor ?? '—'}</td><td><span class="state state-${v.state}">${v.state}</span></td>
              <td class="num">${v.budget_runs === null ? '—' : fmt(v.budget_runs)}</td><td>${v.horizon ? `${fmt(v.horizon.length)} ${v.horizon.unit}` : '—'}</td><td class="num">${fmt(v.n_trials)}</td>
              <td class="num">${v.best_run ? fmt(v.best_run.lr) : '—'}</td><td class="num">${v.best_run ? fmt(v.best_run.value) : '—'}</td></tr>`,
          )}</tbody></table></div><p class="muted">The best run is the lowest final loss so far; the answer on the suggestion's page weighs seeds and the horizon too.</p>`,
    );
  } catch (err) {
    if (el.isConnected) setHTML(el, alertBox(err));
  }
}

/**
 * One lr suggestion (GET /v1/lr/suggest/{id}; refreshed while its candidates train): the answer
 * and why, each candidate's validation loss against lr (its seeds beside it), the learning
 * curves of its runs (its study's trials), and the range test it started from.
 */
async function lrSuggestionPage(id) {
  setNav('lr');
  setHTML(app, html`<p class="muted">Loading…</p>`);
  const charts = {};
  const render = async (first) => {
    const v = await api(`/v1/lr/suggest/${encodeURIComponent(id)}`);
    const studyId = v.validation?.study_id ?? id;
    const rt = v.range_test?.id ?? null;
    if (first) {
      setHTML(
        app,
        html`<p><a href="#/lr">← LR range test</a></p><h1>LR suggestion</h1>
        <p class="muted" id="lrs-about">${v.status === 'running' ? 'Candidates still training (refreshed every 3 s). ' : ''}Its runs are the trials of <a href="#/study/${encodeURIComponent(studyId)}">study ${studyId}</a>${rt ? html`; it started from <a id="lrs-range-test" href="#/lr/${encodeURIComponent(rt)}">range test ${rt}</a>` : ''}.</p>
        <div id="lrs-answer"></div>
        <div class="charts">
          <section><h2 id="h-lrs-cand">Candidates</h2><div class="chart" id="chart-lrs-candidates" role="img" aria-labelledby="h-lrs-cand"></div></section>
          <section><h2 id="h-lrs-curves">Learning curves of the runs</h2><div class="chart" id="chart-lrs-curves" role="img" aria-labelledby="h-lrs-curves"></div><p class="muted">One colour per lr; dashed: a shorter (lower-fidelity) run.</p></section>
          ${rt ? html`<section><h2 id="h-lrs-range">The range test</h2><div class="chart" id="chart-lrs-range" role="img" aria-labelledby="h-lrs-range"></div></section>` : ''}
        </div>`,
      );
      charts.candidates = chart($('chart-lrs-candidates'), {});
      charts.curves = chart($('chart-lrs-curves'), {});
      if (rt) {
        const r = await api(`/v1/lr-range-tests/${encodeURIComponent(rt)}`);
        chart($('chart-lrs-range'), lrCurveOption(r, v.lr));
      }
    }
    setHTML($('lrs-answer'), validatedView(v, { linked: false }));
    charts.candidates.setOption(lrCandidatesOption(v.validation?.candidates ?? [], v.lr), true);
    const { trials } = await loadSummary(studyId);
    charts.curves.setOption(lrCurvesOption(trials), true);
    return v;
  };
  try {
    const v = await render(true);
    if (v.status === 'running') every(3000, async () => (await render(false)).status === 'running');
  } catch (err) {
    setHTML(app, html`<p><a href="#/lr">← LR range test</a></p>${alertBox(err)}`);
  }
}

async function lrPage() {
  setNav('lr');
  const hash = location.hash;
  let lists;
  try {
    lists = await formLists();
  } catch (err) {
    if (location.hash === hash) setHTML(app, html`<h1>LR range test</h1>${alertBox(err)}`);
    return;
  }
  if (location.hash !== hash) return; // the page changed meanwhile
  setHTML(app, lrFormMarkup(lists));
  void loadRecent(); // it shows its own failure in #lr-recent
  const ta = $('probe-json');
  ta.value = JSON.stringify(EXAMPLE_PROBE, null, 2);
  // The fields show what the probe says (after typing or pasting into it, and the example's at first).
  const showProbe = () => showProbeInFields(ta, lists);
  ta.addEventListener('input', showProbe);
  showProbe();
  // A field change patches only that field's entries into the probe as written.
  [
    ['f-data', 'Dataset'],
    ['f-hidden', 'Hidden layers'],
    ['f-opt', 'Optimizer'],
    ['f-batch', 'Batch size'],
  ].forEach(([i, label]) => $(i).addEventListener('change', () => patchProbe(ta, i, label, lists)));
  // The DOM does not wait for a listener: the range test runs on its own (void).
  $('lr-form').addEventListener('submit', (e) => void runRangeTest(e, ta));
}

/** Says `text` under the probe (#lr-sync), as a warning or not. */
function sayProbe(text, warn = false) {
  const note = $('lr-sync');
  note.textContent = text;
  note.className = warn ? 'warn' : 'muted';
}

/** The form's fields set from the probe's JSON (when it parses), and the note under it cleared. */
function showProbeInFields(ta, lists) {
  let p;
  try {
    p = JSON.parse(ta.value);
  } catch {
    return;
  }
  if (!p || typeof p !== 'object') return;
  if (lists.datasets.includes(p.data?.name)) $('f-data').value = p.data.name;
  if (Array.isArray(p.model?.hidden)) $('f-hidden').value = p.model.hidden.join(', ');
  if (lists.optimizers.includes(p.optimizer?.name)) $('f-opt').value = p.optimizer.name;
  if (Number.isInteger(p.batch_size)) $('f-batch').value = String(p.batch_size);
  sayProbe('');
}

/**
 * Field `id` (labelled `label`) patched into the probe as written (the example when the box is
 * empty): only its own entries change, and the note says which; a probe that is not a JSON object
 * is left alone, and the note says why.
 */
function patchProbe(ta, id, label, lists) {
  let p;
  if (ta.value.trim() === '') p = structuredClone(EXAMPLE_PROBE);
  else {
    try {
      p = JSON.parse(ta.value);
    } catch {
      return sayProbe(
        `The probe is not valid JSON, so the ${label} field did not change it: fix the JSON (or empty the box to start from the example).`,
        true,
      );
    }
  }
  if (!p || typeof p !== 'object' || Array.isArray(p))
    return sayProbe(
      `The probe is not a JSON object, so the ${label} field did not change it.`,
      true,
    );
  const set = FIELD_PATCHES[id](p, lists);
  if (typeof set === 'string') return sayProbe(set, true);
  ta.value = JSON.stringify(p, null, 2);
  sayProbe(`Set ${set.join(', ')}. The rest of the probe is as it was.`);
}

/** Each field's patch of the probe `p`: what it set, or why it changed nothing. */
const FIELD_PATCHES = {
  'f-data': patchDataset,
  'f-hidden': patchHidden,
  'f-opt': patchOptimizer,
  'f-batch': patchBatch,
};

/** Dataset: data.name (synthetic), the task it implies, and data.classes (none for regression). */
function patchDataset(p) {
  const set = [];
  const name = $('f-data').value;
  p.data = { ...(p.data && typeof p.data === 'object' ? p.data : {}), kind: 'synthetic', name };
  p.task = name === 'teacher' || name === 'linear' ? 'regression' : 'classification';
  set.push(`data.name = ${name}`, `task = ${p.task}`);
  if (p.task === 'regression') {
    if ('classes' in p.data) set.push('removed data.classes (regression)');
    delete p.data.classes;
  } else {
    const classes =
      name === 'moons' ? 2 : p.data.classes && p.data.classes !== 2 ? p.data.classes : 3;
    if (classes !== p.data.classes) set.push(`data.classes = ${classes}`);
    p.data.classes = classes;
  }
  return set;
}

/** Hidden layers: model.hidden, the field's positive whole numbers. */
function patchHidden(p) {
  const hidden = $('f-hidden')
    .value.split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x) && x > 0);
  p.model = { ...(p.model && typeof p.model === 'object' ? p.model : {}), hidden };
  return [`model.hidden = [${hidden.join(', ')}]`];
}

/** Optimizer: optimizer.name, without the settings the new one lacks, with a momentum where it needs one. */
function patchOptimizer(p, lists) {
  const set = [];
  const name = $('f-opt').value;
  const o = { ...(p.optimizer && typeof p.optimizer === 'object' ? p.optimizer : {}), name };
  set.push(`optimizer.name = ${name}`);
  for (const k of Object.keys(o)) {
    // The settings each optimizer takes, as the API checks them (lists.js, from the server):
    // switching the optimizer removes the ones the new one lacks, and says so.
    if (
      k !== 'name' &&
      lists.optimizerSettings[name] &&
      !lists.optimizerSettings[name].includes(k)
    ) {
      set.push(`removed optimizer.${k} (${name} has no such setting)`);
      delete o[k];
    }
  }
  if ((name === 'momentum' || name === 'nesterov') && !o.momentum) {
    o.momentum = 0.9;
    set.push('optimizer.momentum = 0.9');
  }
  p.optimizer = o;
  return set;
}

/** Batch size: batch_size, a whole number of at least 1. */
function patchBatch(p) {
  const b = Number($('f-batch').value);
  if (!Number.isInteger(b) || b < 1)
    return 'Batch size must be a whole number of at least 1; the probe was not changed.';
  p.batch_size = b;
  return [`batch_size = ${b}`];
}

/** Marks `field` invalid (and focuses it) and says why in #lr-out. */
function invalid(field, text) {
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
  setHTML($('lr-out'), alertText(text));
}

/** The sweep's range from the form: min and max LR, positive, min below max; null when invalid (said). */
function readRange() {
  for (const f of ['f-min-lr', 'f-max-lr', 'probe-json']) $(f).removeAttribute('aria-invalid');
  const minLr = positive($('f-min-lr').value);
  const maxLr = positive($('f-max-lr').value);
  if (minLr === null)
    return invalid(
      $('f-min-lr'),
      `Min LR must be a positive number (like 1e-7), not “${$('f-min-lr').value}”.`,
    );
  if (maxLr === null)
    return invalid(
      $('f-max-lr'),
      `Max LR must be a positive number (like 10), not “${$('f-max-lr').value}”.`,
    );
  if (minLr >= maxLr)
    return invalid($('f-min-lr'), `Min LR (${minLr}) must be below max LR (${maxLr}).`);
  return { minLr, maxLr };
}

/**
 * The training length from the form: `{ training }` with epochs or steps (not both), whole numbers;
 * `{ training: null }` when both are empty (the range test alone); null when invalid (said).
 */
function readTraining() {
  for (const f of ['f-train-epochs', 'f-train-steps']) $(f).removeAttribute('aria-invalid');
  const epochsText = $('f-train-epochs').value.trim();
  const stepsText = $('f-train-steps').value.trim();
  const whole = (t) => (/^\d+$/.test(t) && Number(t) >= 1 ? Number(t) : null);
  if (epochsText && stepsText)
    return invalid($('f-train-steps'), 'Give the training length in epochs or in steps, not both.');
  if (epochsText) {
    if (whole(epochsText) === null)
      return invalid(
        $('f-train-epochs'),
        `Training length must be a whole number of epochs (at least 1), not “${epochsText}”.`,
      );
    return { training: { epochs: whole(epochsText) } };
  }
  if (stepsText) {
    if (whole(stepsText) === null)
      return invalid(
        $('f-train-steps'),
        `Training steps must be a whole number (at least 1), not “${stepsText}”.`,
      );
    return { training: { steps: whole(stepsText) } };
  }
  return { training: null };
}

/**
 * The form's submit: the range test on the edge (POST /v1/lr-range-tests) with its chart; with a
 * training length, then its candidates validated at that length (validateAtLength).
 */
async function runRangeTest(e, ta) {
  e.preventDefault();
  const out = $('lr-out');
  const status = $('lr-status');
  const sweep = readRange();
  if (!sweep) return;
  const length = readTraining();
  if (!length) return;
  const { minLr, maxLr } = sweep;
  const { training } = length;
  const schedule = $('f-schedule').value;
  let probe;
  try {
    probe = JSON.parse(ta.value);
  } catch (err) {
    return invalid(ta, `The probe is not valid JSON: ${err.message}`);
  }
  setHTML(out, html``);
  status.textContent = 'Training on the edge…';
  $('run-lr').disabled = true;
  try {
    const range = { min_lr: minLr, max_lr: maxLr, steps: Number($('f-steps').value) };
    const r = await api('/v1/lr-range-tests', {
      method: 'POST',
      body: JSON.stringify({ probe, range }),
    });
    status.textContent = `${ranText(r)}.`;
    setHTML(
      out,
      rangeTestView(
        r,
        training
          ? html`<section id="lr-validated" aria-live="polite"><h2>Validated at your training length</h2><p class="muted" id="lr-validating">Validating candidates at ${training.epochs ? `${training.epochs} epochs` : `${training.steps} steps`} (${schedule} schedule) on the edge…</p></section>`
          : html`<p class="note" id="lr-unvalidated">The suggested lr is the range test's rule, read from a short sweep: it is <strong>not validated</strong> at your training length. Fill in <button type="button" class="link" id="lr-fill-length">Training length</button> and run again to train candidates that long and pick by validation loss.</p>`,
      ),
    );
    const draw = rangeTestChart($('chart-lr'), r);
    void loadRecent(); // it shows its own failure in #lr-recent
    if (!training) {
      $('lr-fill-length').addEventListener('click', () => $('f-train-epochs').focus());
      return;
    }
    await validateAtLength(r, draw, { probe, range, training, schedule });
  } catch (err) {
    status.textContent = '';
    setHTML(out, alertBox(err));
  } finally {
    $('run-lr').disabled = false;
  }
}

/**
 * The candidates of range test `r` trained to the training length (POST /v1/lr/suggest, polled
 * while it runs; the range test is reused from the cache): the answer in #lr-validated and its lr
 * marked on the chart (`draw`); a failure said there. Stops when the page changed meanwhile.
 */
async function validateAtLength(r, draw, body) {
  const status = $('lr-status');
  status.textContent = `${status.textContent} Validating candidates at your training length…`;
  const section = $('lr-validated');
  try {
    let v = await api('/v1/lr/suggest', { method: 'POST', body: JSON.stringify(body) });
    // 202: still training on the edge; its answer is at v.poll.
    while (v.status === 'running' && v.poll && section.isConnected) {
      await new Promise((r) => setTimeout(r, 1000));
      v = await api(v.poll);
    }
    if (!section.isConnected) return; // the page changed meanwhile
    status.textContent = `${ranText(r)}; candidates validated.`;
    setHTML(section, validatedView(v));
    if (v.lr) draw(v.lr);
  } catch (err) {
    if (!section.isConnected) return;
    status.textContent = '';
    setHTML(section, html`<h2>Validated at your training length</h2>${alertBox(err)}`);
  }
}

/** The range test's form, its result's place and the recent range tests'; the lists from the server (formLists). */
function lrFormMarkup(lists) {
  return html`
    <h1>LR range test</h1>
    <form id="lr-form" novalidate>
      <div class="row">
        <div><label for="f-data">Dataset</label><select id="f-data">${lists.datasets.map((d) => html`<option>${d}</option>`)}</select></div>
        <div><label for="f-hidden">Hidden layers</label><input id="f-hidden" value="64, 64" size="10"></div>
        <div><label for="f-opt">Optimizer</label><select id="f-opt">${lists.optimizers.map((d) => html`<option>${d}</option>`)}</select></div>
        <div><label for="f-batch">Batch size</label><input id="f-batch" type="number" min="1" value="64" style="width: 7em"></div>
      </div>
      <div class="row">
        <div><label for="f-min-lr">Min LR</label><input id="f-min-lr" inputmode="decimal" value="1e-7" style="width: 8em" aria-describedby="lr-range-help"></div>
        <div><label for="f-max-lr">Max LR</label><input id="f-max-lr" inputmode="decimal" value="10" style="width: 8em" aria-describedby="lr-range-help"></div>
        <div><label for="f-steps">Steps</label><input id="f-steps" type="number" min="5" max="2000" value="100" style="width: 7em"></div>
      </div>
      <p class="muted" id="lr-range-help">The sweep goes from min LR to max LR (positive numbers, min below max; <code>1e-7</code> notation works).</p>
      <div class="row">
        <div><label for="f-train-epochs">Training length (epochs)</label><input id="f-train-epochs" type="number" min="1" max="10000" placeholder="e.g. 20" style="width: 8em" aria-describedby="lr-train-help"></div>
        <div><label for="f-train-steps">or step count</label><input id="f-train-steps" type="number" min="1" placeholder="optional" style="width: 8em" aria-describedby="lr-train-help"></div>
        <div><label for="f-schedule">Schedule</label><select id="f-schedule" aria-describedby="lr-train-help">${lists.schedules.map((d) => html`<option>${d}</option>`)}</select></div>
      </div>
      <p class="muted" id="lr-train-help">Your real run's length (epochs, or steps; not both) and LR schedule: after the range test, candidate learning rates train that long on the edge and the best by validation loss is shown (tens of seconds). Leave it empty for the range test alone.</p>
      <label for="probe-json">Probe (JSON)</label>
      <p class="muted" id="probe-help">Edit it freely or paste your own. A field above writes only its own entries into it (Dataset: <code>data.name</code>, <code>task</code>, <code>data.classes</code>; Hidden layers: <code>model.hidden</code>; Optimizer: <code>optimizer.name</code>; Batch size: <code>batch_size</code>); everything else stays as you wrote it.</p>
      <textarea id="probe-json" spellcheck="false" aria-describedby="probe-help lr-sync"></textarea>
      <p id="lr-sync" class="muted" aria-live="polite"></p>
      <p><button type="submit" id="run-lr">Run range test</button> <span id="lr-status" class="muted" aria-live="polite"></span></p>
    </form>
    <div id="lr-out"></div>
    <h2>Recent range tests</h2>
    <div id="lr-recent" aria-live="polite"><p class="muted">Loading…</p></div>`;
}

// --- routing ---------------------------------------------------------------

function route() {
  clearPage();
  const hash = location.hash || '#/studies';
  if (!sessionStorage.getItem(KEY) && hash !== '#/login') {
    location.hash = '#/login';
    return;
  }
  if (hash === '#/login') return loginPage();
  if (hash.startsWith('#/compare')) return comparePage();
  const m = /^#\/study\/([^/?]+)(?:\/trial\/(\d+))?/.exec(hash);
  if (m && m[2] !== undefined) return trialPage(decodeURIComponent(m[1]), Number(m[2]));
  if (m) return studyPage(decodeURIComponent(m[1]));
  const sg = /^#\/lr\/suggest\/([^/?]+)/.exec(hash);
  if (sg) return lrSuggestionPage(decodeURIComponent(sg[1]));
  const t = /^#\/lr\/([^/?]+)/.exec(hash);
  if (t) return rangeTestPage(decodeURIComponent(t[1]));
  if (hash.startsWith('#/lr')) return lrPage();
  return studiesPage();
}
// Each page shows its own failures; a page loads on its own (void): nothing waits for it.
window.addEventListener('hashchange', () => void route());
void route();

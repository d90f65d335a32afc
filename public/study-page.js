// The study page (#/study/<id>) and the trial page (#/study/<id>/trial/<n>): the DOM side of
// the views whose options charts.js and views.js compute. Every chart point and table row that
// is a trial leads to its page.
import {
  duration,
  historyOption,
  importanceView,
  intermediateOption,
  isFeasible,
  objectives,
  objectiveNumber,
  paramInfo,
  parallelOption,
  paretoOption,
  sortTrials,
} from './charts.js';
import { $, alertBox, api, chart, dropChart, every, setHTML, setNav, studyState } from './dom.js';
import { fmt, html, when } from './markup.js';
import { renderMarkdown } from './notes.js';
import {
  compareHistoryOption,
  contourView,
  edfOption,
  filterTrials,
  pageOf,
  rankView,
  scored,
  sliceViews,
  timelineOption,
  trialCurveOption,
  trialHistory,
} from './views.js';

const app = document.getElementById('app');
/** Rows per page of the trial list. */
const PAGE_SIZE = 50;
const trialHref = (id, n) => `#/study/${encodeURIComponent(id)}/trial/${n}`;

/**
 * Which trial a click on a chart's point means, per chart: its number, or undefined (not a
 * trial: a line, a cell of the contour's surface).
 */
const TRIAL_OF = {
  'chart-history': (e) => (e.seriesName === 'value' ? e.value[0] : undefined),
  'chart-pareto': (e) => e.value?.[2],
  'chart-intermediate': (e) => Number(/^trial (\d+)/.exec(e.seriesName)?.[1]),
  'chart-contour': (e) => (e.seriesName === 'trials' ? e.value[3] : undefined),
  'chart-rank': (e) => e.value?.[3],
  'chart-timeline': (e) => e.value?.[2],
  slice: (e) => e.value?.[2],
};

/** Past this many trials, charts draw on canvas (SVG's thousands of elements freeze the tab). */
const CANVAS_FROM = 500;
/** Past this many trials, a running study refreshes every 15 s, not 3 s. */
const SLOW_REFRESH_FROM = 2000;
/** Lets the browser paint and handle input between views. */
const yieldToBrowser = () => new Promise((r) => setTimeout(r, 0));

/** A chart in #`id` whose trial points open their trial's page; on canvas for a study of `n` trials past CANVAS_FROM. */
function trialChart(studyId, id, kind = id, n = 0) {
  const c = chart($(id), {}, n > CANVAS_FROM ? 'canvas' : 'svg');
  c.on('click', (e) => {
    const n = TRIAL_OF[kind]?.(e);
    if (Number.isInteger(n)) location.hash = trialHref(studyId, n);
  });
  return c;
}

// --- the study page -------------------------------------------------------------

export async function studyPage(id) {
  setNav('studies');
  setHTML(app, html`<p class="muted">Loading…</p>`);
  // What the page shows and how: the data as last loaded, the objective the views plot, the
  // contour's two parameters, the trial list's filter, order and page.
  const view = {
    id,
    data: null,
    obj: 0,
    xy: null,
    list: { state: 'all', search: '', sort: { key: 'number', dir: 1 }, page: 0 },
    charts: {},
    slices: [],
  };
  const render = async (first) => {
    view.data = await loadStudy(id, view.obj);
    const { study } = view.data;
    if (first) {
      setHTML(app, studyLayout(study));
      wireStudyPage(view);
    }
    setHTML($('summary'), summaryCards(study));
    renderOperations(view);
    renderTrialList(view);
    await drawStudy(view);
    // Every view is drawn (tests and the bench wait for it): the count of draws so far.
    app.dataset.drawn = String(Number(app.dataset.drawn ?? 0) + 1);
    return study;
  };
  try {
    const study = await render(true);
    void showNote($('study-note'), id, null);
    void showNotifications($('ops-notifications'), id);
    // Live: refresh while the study runs.
    if (study.state === 'running')
      every(
        view.data.trials.length > SLOW_REFRESH_FROM ? 15_000 : 3000,
        async () => (await render(false)).state === 'running',
      );
  } catch (err) {
    setHTML(app, html`<p><a href="#/studies">← Studies</a></p>${alertBox(err)}`);
  }
}

/**
 * A study's summary (GET /v1/studies/{id}/summary: every trial without its reports, the median
 * curve, a few trials' full curves) as the trials the views take: each with the curve the
 * summary answered for it, or none (`steps` still counts its reports).
 */
export async function loadSummary(id, query = '') {
  const s = await api(`/v1/studies/${encodeURIComponent(id)}/summary${query}`);
  const curves = new Map(s.curves.map((c) => [c.number, c.intermediate]));
  return {
    trials: s.trials.map((t) => ({ ...t, intermediate: curves.get(t.number) ?? [] })),
    median: s.median.map((p) => [p.step, p.value]),
  };
}

async function loadStudy(id, obj) {
  const [study, { trials }, imp] = await Promise.all([
    api(`/v1/studies/${id}`),
    loadSummary(id),
    api(`/v1/studies/${id}/importance?objective=${obj}`),
  ]);
  return { study, trials, imp };
}

const section = (key, title, extra = html``) =>
  html`<section><h2 id="h-${key}">${title}</h2>${extra}<div class="chart" id="chart-${key}" role="img" aria-labelledby="h-${key}"></div></section>`;

/** The study page's frame: its name, the summary's place, the note's, the views' and the trial list's. */
function studyLayout(study) {
  const objs = objectives(study);
  const multi = objs.length > 1;
  return html`
    <p><a href="#/studies">← Studies</a> · <a href="#/compare?ids=${encodeURIComponent(study.id)}">Compare with other studies</a></p>
    <h1 id="study-name">${study.name}</h1>
    <div class="cards" id="summary"></div>
    <section aria-labelledby="h-note"><h2 id="h-note">Note</h2><div id="study-note" class="note-box"><p class="muted">Loading…</p></div></section>
    ${
      multi
        ? html`<div class="row"><div><label for="objective">Objective shown</label><select id="objective">${objs.map((o, i) => html`<option value="${i}">${o.direction} ${o.metric}</option>`)}</select></div></div>`
        : ''
    }
    <div class="charts">
      ${multi ? html`<section><h2 id="h-pareto">Pareto front</h2><div class="chart" id="chart-pareto" role="img" aria-labelledby="h-pareto"></div><p class="muted" id="pareto-note"></p></section>` : ''}
      ${section('history', 'Optimization history')}
      ${section('intermediate', 'Intermediate values')}
      ${section('parallel', multi ? 'Parameters and objectives' : 'Parameters and value')}
      <section><h2 id="h-imp">Parameter importance</h2><p class="warn" id="importance-warning" role="status" hidden></p><div class="chart" id="chart-importance" role="img" aria-labelledby="h-imp"></div>
        <p class="muted" id="importance-method"></p></section>
      <section><h2 id="h-contour">Contour</h2>
        <div class="row"><div><label for="contour-x">x</label><select id="contour-x"></select></div><div><label for="contour-y">y</label><select id="contour-y"></select></div></div>
        <div class="chart" id="chart-contour" role="img" aria-labelledby="h-contour"></div><p class="muted" id="contour-note"></p></section>
      <section><h2 id="h-rank">Rank</h2><p class="muted">The contour's two parameters.</p><div class="chart" id="chart-rank" role="img" aria-labelledby="h-rank"></div><p class="muted" id="rank-note"></p></section>
      ${section('edf', 'Empirical distribution (EDF)')}
      ${section('timeline', 'Timeline', html`<p class="muted">Each trial from its lease to its end, by state; outlined in red: leased more than once (an expired or released lease).</p>`)}
    </div>
    <h2 id="h-slice">Slice</h2>
    <div class="slices" id="slices" aria-labelledby="h-slice"></div>
    <section aria-labelledby="h-ops"><h2 id="h-ops">Operations</h2>
      <h3>Storage</h3><div id="ops-storage"></div>
      <h3>Leases in flight</h3><div id="ops-leases"></div>
      <h3>Notifications</h3><div id="ops-notifications"><p class="muted">Loading…</p></div>
    </section>
    <h2 id="h-trials">Trials</h2>
    <div class="row" role="search">
      <div><label for="trial-state">State</label><select id="trial-state">${['all', 'complete', 'pruned', 'failed', 'running', 'waiting'].map((s) => html`<option>${s}</option>`)}</select></div>
      <div style="flex: 1 1 240px"><label for="trial-search">Search params</label><input id="trial-search" type="search" placeholder="e.g. optimizer=adam lr=0.01" style="width: 100%"></div>
    </div>
    <p class="muted" id="trial-count" aria-live="polite"></p>
    <div class="table-wrap" id="trials"></div>
    <nav class="pager" aria-label="Trial pages"><button type="button" id="trials-prev">← Previous</button> <span id="trials-page"></span> <button type="button" id="trials-next">Next →</button></nav>`;
}

/** Creates the page's charts and wires its controls (objective, contour parameters, the list's filter and pages). */
function wireStudyPage(view) {
  const multi = objectives(view.data.study).length > 1;
  const ids = [
    'history',
    'intermediate',
    'parallel',
    'importance',
    'contour',
    'rank',
    'edf',
    'timeline',
  ];
  if (multi) ids.push('pareto');
  const n = view.data.trials.length;
  for (const k of ids) view.charts[k] = trialChart(view.id, `chart-${k}`, `chart-${k}`, n);
  view.charts.parallel.on('click', (e) => {
    const done = view.data.trials.filter((t) => t.state === 'complete');
    const n = done[e.dataIndex]?.number;
    if (Number.isInteger(n)) location.hash = trialHref(view.id, n);
  });
  // The DOM does not wait for a listener: the importance of the objective loads on its own (void).
  $('objective')?.addEventListener(
    'change',
    (e) => void showObjective(view, Number(e.target.value)),
  );
  for (const axis of ['contour-x', 'contour-y'])
    $(axis).addEventListener('change', () => {
      view.xy = [$('contour-x').value, $('contour-y').value];
      drawPair(view);
    });
  const list = view.list;
  $('trial-state').addEventListener('change', (e) => {
    list.state = e.target.value;
    list.page = 0;
    renderTrialList(view);
  });
  $('trial-search').addEventListener('input', (e) => {
    list.search = e.target.value;
    list.page = 0;
    renderTrialList(view);
  });
  $('trials-prev').addEventListener('click', () => {
    list.page--;
    renderTrialList(view);
  });
  $('trials-next').addEventListener('click', () => {
    list.page++;
    renderTrialList(view);
  });
}

/** Every view drawn again for objective `obj` (its importance loaded). */
async function showObjective(view, obj) {
  view.obj = obj;
  try {
    view.data.imp = await api(`/v1/studies/${view.id}/importance?objective=${obj}`);
  } catch {
    /* the importance stays the last one's until the next refresh */
  }
  await drawStudy(view);
}

/** The summary cards: state, trials, the best value (or the Pareto front and the objectives), sampler and executor. */
function summaryCards(study) {
  const st = studyState(study);
  const multi = objectives(study).length > 1;
  return html`${[
    ['State', html`<span class="${st.cls}">${st.text}</span>`],
    ['Trials', `${study.n_trials}${study.max_trials ? ` / ${study.max_trials}` : ''}`],
    ...(multi
      ? [
          [
            'Pareto front',
            `${study.best_trials.length} trial${study.best_trials.length === 1 ? '' : 's'}`,
          ],
          [
            'Objectives',
            objectives(study)
              .map((o) => `${o.direction} ${o.metric}`)
              .join(' · '),
          ],
        ]
      : [
          [
            `Best ${study.metric}`,
            study.best_trial
              ? html`${fmt(study.best_trial.value)} <span class="muted">(<a href="${trialHref(study.id, study.best_trial.number)}">trial ${study.best_trial.number}</a>)</span>`
              : '—',
          ],
          ['Direction', study.direction],
        ]),
    ['Sampler · pruner', `${study.sampler.name} · ${study.pruner.name}`],
    ['Executor', study.executor.kind],
  ].map(
    ([k, v]) => html`<div class="card"><div class="k">${k}</div><div class="v">${v}</div></div>`,
  )}`;
}

/** Every view of the study, from `view.data` and the objective shown. */
async function drawStudy(view) {
  const { study, trials, imp } = view.data;
  const c = view.charts;
  const o = objectives(study)[view.obj];
  if (c.pareto) {
    const pareto = paretoOption(study, trials);
    c.pareto.setOption(pareto.option, { replaceMerge: ['series'] });
    $('pareto-note').textContent = pareto.note;
  }
  c.history.setOption(historyOption(study, trials, view.obj), true);
  await yieldToBrowser();
  c.intermediate.setOption(intermediateOption(trials, objectives(study)[0].direction), {
    replaceMerge: ['series', 'title'],
  });
  await yieldToBrowser();
  c.parallel.setOption(parallelOption(study, trials), { replaceMerge: ['series', 'parallelAxis'] });
  await yieldToBrowser();
  const importance = importanceView(imp);
  const warn = $('importance-warning');
  warn.hidden = importance.meaningful;
  warn.textContent = importance.warning;
  c.importance.clear();
  c.importance.setOption(importance.option);
  $('importance-method').textContent = importance.method;
  c.edf.setOption(
    edfOption([{ name: study.name, values: scored(trials, view.obj).map((x) => x.v) }], o.metric),
    true,
  );
  await yieldToBrowser();
  c.timeline.setOption(timelineOption(trials, Date.now()), true);
  await yieldToBrowser();
  drawPair(view);
  await yieldToBrowser();
  await drawSlices(view);
}

/** The contour and the rank plot over the two parameters picked (the first two at first). */
function drawPair(view) {
  const { study, trials } = view.data;
  const names = paramInfo(study, trials).map((p) => p.name);
  if (!view.xy || !names.includes(view.xy[0]) || !names.includes(view.xy[1]))
    view.xy = [names[0] ?? '', names[1] ?? names[0] ?? ''];
  for (const [k, sel] of [
    [0, $('contour-x')],
    [1, $('contour-y')],
  ]) {
    if (
      sel.options.length !== names.length ||
      [...sel.options].some((op, i) => op.value !== names[i])
    )
      setHTML(sel, html`${names.map((n) => html`<option>${n}</option>`)}`);
    sel.value = view.xy[k];
  }
  const contour = contourView(study, trials, view.obj, ...view.xy);
  $('contour-note').textContent = contour.note;
  view.charts.contour.clear();
  if (contour.option) view.charts.contour.setOption(contour.option, true);
  const rank = rankView(study, trials, view.obj, view.xy[0], names.length > 1 ? view.xy[1] : null);
  $('rank-note').textContent = rank.note;
  view.charts.rank.clear();
  if (rank.option) view.charts.rank.setOption(rank.option, true);
}

/** One slice panel per parameter (made again when the parameters change). */
async function drawSlices(view) {
  const { study, trials } = view.data;
  const slices = sliceViews(study, trials, view.obj);
  const el = $('slices');
  if (
    view.slices.length !== slices.length ||
    view.slices.some((s, i) => s.name !== slices[i].name)
  ) {
    view.slices.forEach((s) => dropChart(s.chart));
    setHTML(
      el,
      html`${slices.map(
        (s, i) =>
          html`<section class="slice"><h3 id="h-slice-${i}">${s.name}</h3><div class="chart" id="chart-slice-${i}" role="img" aria-labelledby="h-slice-${i}"></div><p class="muted" id="slice-note-${i}"></p></section>`,
      )}`,
    );
    view.slices = slices.map((s, i) => ({
      name: s.name,
      chart: trialChart(view.id, `chart-slice-${i}`, 'slice', trials.length),
    }));
  }
  for (const [i, s] of slices.entries()) {
    const panel = view.slices[i];
    if (!panel || panel.chart.isDisposed()) return; // the page or its panels changed meanwhile
    panel.chart.setOption(s.option, true);
    $(`slice-note-${i}`).textContent = s.note;
    await yieldToBrowser();
  }
}

/** The trial list: `view.list`'s state and search, in its order, one page of it; its header buttons sort it. */
function renderTrialList(view) {
  const list = view.list;
  const sort = list.sort;
  const { study, trials } = view.data;
  const params = paramInfo(study, trials).map((p) => p.name);
  const objs = objectives(study);
  const valueKey = (i) => (objs.length > 1 ? `value:${i}` : 'value');
  const withConstraints = trials.some((t) => Array.isArray(t.constraints));
  const shown = filterTrials(trials, list.state, list.search);
  const pg = pageOf(sortTrials(shown, sort), list.page, PAGE_SIZE);
  list.page = pg.page;
  $('trial-count').textContent =
    `${shown.length} of ${trials.length} trial${trials.length === 1 ? '' : 's'}${list.state === 'all' && !list.search ? '' : ' match'}`;
  $('trials-page').textContent = `page ${pg.page + 1} of ${pg.pages}`;
  $('trials-prev').disabled = pg.page === 0;
  $('trials-next').disabled = pg.page >= pg.pages - 1;
  const head = (key, label, cls = '') => {
    const aria = sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none';
    return html`<th scope="col" class="${cls}" aria-sort="${aria}"><button data-sort="${key}">${label}${sort.key === key ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}</button></th>`;
  };
  setHTML(
    $('trials'),
    html`<table id="trials-table">
      <thead><tr>${head('number', '#', 'num')}${head('state', 'State')}${objs.map((o, i) => head(valueKey(i), o.metric, 'num'))}${withConstraints ? html`<th scope="col">Feasible</th>` : ''}${head('duration', 'Duration (s)', 'num')}${head('sampler', 'Sampler')}${params.map((p) => head(`param:${p}`, p))}${head('steps', 'Steps', 'num')}${head('error', 'Error')}</tr></thead>
      <tbody>${pg.rows.map(
        (
          t,
        ) => html`<tr data-trial="${t.number}"><td class="num"><a href="${trialHref(view.id, t.number)}">${t.number}</a></td><td class="state state-${t.state}">${t.state}</td>${objs.map((_, i) => html`<td class="num">${fmt(objectiveNumber(t, i))}</td>`)}${withConstraints ? html`<td>${Array.isArray(t.constraints) ? (isFeasible(t) ? 'yes' : 'no') : ''}</td>` : ''}
          <td class="num">${duration(t) === null ? '—' : duration(t).toFixed(1)}</td><td>${t.sampler ?? 'enqueued'}</td>${params.map((p) => html`<td>${t.params[p] === undefined ? html`<span class="muted" title="not set in this trial">—</span>` : fmt(t.params[p])}</td>`)}<td class="num">${t.steps ?? t.intermediate.length}</td><td>${t.error ?? ''}</td></tr>`,
      )}</tbody></table>`,
  );
  document.querySelectorAll('#trials [data-sort]').forEach((b) =>
    b.addEventListener('click', () => {
      const now = list.sort;
      list.sort = { key: b.dataset.sort, dir: now.key === b.dataset.sort ? -now.dir : 1 };
      renderTrialList(view);
      document.querySelector(`#trials [data-sort="${CSS.escape(b.dataset.sort)}"]`)?.focus();
    }),
  );
}

// --- operations -----------------------------------------------------------------

/**
 * The study's storage (D1's copy: ok, behind or parked, with a retry of the parked writes) and
 * the trials running under a lease (runner, attempt, how long).
 */
function renderOperations(view) {
  const { study, trials } = view.data;
  const st = study.storage;
  setHTML(
    $('ops-storage'),
    html`<p id="ops-d1"><span class="state ${st.d1 === 'ok' ? 'state-complete' : 'state-failed'}">D1 ${st.d1}</span>${st.pending ? ` · ${st.pending} write${st.pending === 1 ? '' : 's'} waiting` : ''}${st.next_attempt_at ? ` · next attempt ${when(st.next_attempt_at)}` : ''}</p>
    ${st.reason ? html`<p class="warn">${st.reason}</p>` : ''}
    ${
      st.parked.length
        ? html`<div class="table-wrap"><table id="ops-parked"><thead><tr><th scope="col">Parked</th><th scope="col" class="num">Ref</th><th scope="col">Reason</th><th scope="col" class="num">Attempts</th><th scope="col">At</th></tr></thead>
        <tbody>${st.parked.map((p) => html`<tr><td>${p.kind}</td><td class="num">${p.ref}</td><td>${p.reason}</td><td class="num">${p.attempts}</td><td>${when(p.at)}</td></tr>`)}</tbody></table></div>
        <p><button type="button" id="ops-retry">Retry the parked writes</button> <span id="ops-retry-out" aria-live="polite"></span></p>`
        : html`<p class="muted">Nothing parked.</p>`
    }`,
  );
  $('ops-retry')?.addEventListener('click', () => void retryStorage(view));
  const now = Date.now();
  const running = trials.filter((t) => t.state === 'running');
  setHTML(
    $('ops-leases'),
    running.length
      ? html`<div class="table-wrap"><table id="ops-leases-table"><thead><tr><th scope="col" class="num">Trial</th><th scope="col">Runner</th><th scope="col" class="num">Attempt</th><th scope="col">Since</th><th scope="col" class="num">Running (s)</th><th scope="col">Lease expires</th><th scope="col" class="num">In (s)</th><th scope="col" class="num">Heartbeats</th><th scope="col">Latest</th></tr></thead>
      <tbody>${running.map(
        (
          t,
        ) => html`<tr data-trial="${t.number}"><td class="num"><a href="${trialHref(view.id, t.number)}">${t.number}</a></td><td>${t.runner ?? '—'}</td><td class="num">${t.attempts}</td><td>${when(t.started_at)}</td><td class="num">${t.started_at ? ((now - Date.parse(t.started_at)) / 1000).toFixed(0) : '—'}</td>
        <td>${t.lease_expires_at ? when(t.lease_expires_at) : '—'}</td><td class="num${t.lease_expires_at && Date.parse(t.lease_expires_at) < now ? ' warn' : ''}">${t.lease_expires_at ? ((Date.parse(t.lease_expires_at) - now) / 1000).toFixed(0) : '—'}</td><td class="num">${t.heartbeats ?? 0}</td><td>${t.last_heartbeat_at ? when(t.last_heartbeat_at) : '—'}</td></tr>`,
      )}</tbody></table></div>
      <p class="muted">A heartbeat or a report extends a lease; one that expires (a negative "in") hands its trial out again (attempt + 1: outlined red on the timeline).</p>`
      : html`<p class="muted">No trial is running.</p>`,
  );
}

/** POST /v1/studies/{id}/storage/retry, then the storage shown again. */
async function retryStorage(view) {
  try {
    view.data.study = await api(`/v1/studies/${encodeURIComponent(view.id)}/storage/retry`, {
      method: 'POST',
    });
    renderOperations(view);
    $('ops-retry-out')?.replaceChildren('Retried.');
  } catch (err) {
    setHTML($('ops-retry-out'), alertBox(err));
  }
}

/** The subscriptions that notify about study `id` (its own and the project's) with their latest deliveries. */
async function showNotifications(el, id) {
  try {
    const { subscriptions } = await api('/v1/subscriptions');
    const mine = subscriptions.filter((x) => x.study_id === null || x.study_id === id);
    const logs = await Promise.all(
      mine.map((x) => api(`/v1/subscriptions/${encodeURIComponent(x.id)}/deliveries`)),
    );
    if (!el.isConnected) return;
    setHTML(
      el,
      mine.length
        ? html`<div class="table-wrap"><table id="ops-subscriptions"><thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Scope</th><th scope="col">State</th><th scope="col">Latest deliveries</th></tr></thead>
        <tbody>${mine.map(
          (x, i) =>
            html`<tr data-subscription="${x.id}"><td>${x.url}</td><td>${x.events.join(', ')}</td><td>${x.study_id ? 'this study' : 'the project'}</td><td class="state ${x.state === 'active' ? 'state-complete' : 'state-failed'}">${x.state}${x.disabled_reason ? `: ${x.disabled_reason}` : ''}</td>
            <td>${
              logs[i].deliveries.length
                ? logs[i].deliveries
                    .slice(0, 3)
                    .map(
                      (d) =>
                        html`<div>${d.event} #${d.attempt}: ${d.ok ? 'ok' : `failed${d.response_status ? ` (${d.response_status})` : ''}${d.error ? `: ${d.error}` : ''}`} <span class="muted">${when(d.at)}</span></div>`,
                    )
                : html`<span class="muted">none yet</span>`
            }</td></tr>`,
        )}</tbody></table></div>`
        : html`<p class="muted">No subscription notifies about this study (<code>POST /v1/subscriptions</code>, see the <a href="/docs">API docs</a>).</p>`,
    );
  } catch (err) {
    if (el.isConnected) setHTML(el, alertBox(err));
  }
}

// --- notes ----------------------------------------------------------------------

/**
 * The note of study `id` (trial `n`, or the study's own when n is null) into `el`: its Markdown
 * rendered safely (notes.js), and an editor that saves it (PUT .../note).
 */
async function showNote(el, id, n) {
  const study = `/v1/studies/${encodeURIComponent(id)}`;
  const path = n === null ? `${study}/note` : `${study}/trials/${n}/note`;
  let note;
  try {
    const notes = await api(`${study}/notes`);
    note = n === null ? notes.study : notes.trials.find((x) => x.trial === n);
  } catch (err) {
    if (el.isConnected) setHTML(el, alertBox(err));
    return;
  }
  if (!el.isConnected) return;
  noteView(el, path, note?.note ?? '', note?.updated_at ?? null);
}

function noteView(el, path, text, at) {
  setHTML(
    el,
    html`<div class="md" data-note>${text ? renderMarkdown(text) : html`<p class="muted">No note yet.</p>`}</div>
    <p class="muted">${at ? `Edited ${when(at)}. ` : ''}<button type="button" class="link" data-edit>${text ? 'Edit note' : 'Add a note'}</button></p>`,
  );
  el.querySelector('[data-edit]').addEventListener('click', () => noteEditor(el, path, text, at));
}

function noteEditor(el, path, text, at) {
  setHTML(
    el,
    html`<label for="note-text">Note (Markdown: headings, lists, **bold**, *emphasis*, \`code\`, links; no HTML)</label>
    <textarea id="note-text" style="min-height: 140px"></textarea>
    <p><button type="button" data-save>Save note</button> <button type="button" class="link" data-cancel>Cancel</button></p><div data-error></div>`,
  );
  const ta = el.querySelector('textarea');
  ta.value = text;
  ta.focus();
  el.querySelector('[data-cancel]').addEventListener('click', () => noteView(el, path, text, at));
  el.querySelector('[data-save]').addEventListener('click', async () => {
    try {
      const saved = await api(path, { method: 'PUT', body: JSON.stringify({ note: ta.value }) });
      noteView(el, path, saved.note, saved.updated_at);
    } catch (err) {
      setHTML(el.querySelector('[data-error]'), alertBox(err));
    }
  });
}

// --- the trial page -------------------------------------------------------------

/** Fields of a trial the page shows in its own places; any other (user attributes, ...) is listed as metadata. */
const SHOWN = new Set([
  'study_id',
  'number',
  'params',
  'state',
  'value',
  'values',
  'constraints',
  'sampler',
  'intermediate',
  'error',
  'attempts',
  'runner',
  'started_at',
  'completed_at',
  'lease_expires_at',
  'heartbeats',
  'last_heartbeat_at',
  'pruned_at_step',
  'prune_reason',
]);

export async function trialPage(id, n) {
  setNav('studies');
  setHTML(app, html`<p class="muted">Loading…</p>`);
  const render = async (first) => {
    const [study, { trials, median }] = await Promise.all([
      api(`/v1/studies/${id}`),
      loadSummary(id, `?curves=0&trial=${n}`),
    ]);
    const t = trials.find((x) => x.number === n);
    if (!t)
      throw Object.assign(new Error(`Study ${study.name} has no trial ${n}.`), { status: 404 });
    if (first) {
      setHTML(app, trialLayout(study, t, trials.length));
      view.curve = trialChart(id, 'chart-curve', 'none');
    }
    setHTML($('trial-cards'), trialCards(study, t));
    setHTML($('trial-params'), paramsTable(study, trials, t));
    setHTML(
      $('trial-history'),
      html`${trialHistory(t).map((h) => html`<li>${h.at ? html`<time>${when(h.at)}</time>: ` : ''}${h.what}</li>`)}`,
    );
    view.curve.setOption(trialCurveOption(t, median), true);
    const extra = Object.entries(t).filter(([k]) => !SHOWN.has(k));
    setHTML(
      $('trial-meta'),
      extra.length
        ? html`<dl>${extra.map(([k, v]) => html`<dt>${k}</dt><dd><pre>${JSON.stringify(v, null, 2)}</pre></dd>`)}</dl>`
        : html`<p class="muted">None.</p>`,
    );
    return t;
  };
  const view = {};
  try {
    const t = await render(true);
    void showNote($('trial-note'), id, n);
    if (t.state === 'running' || t.state === 'waiting')
      every(3000, async () => {
        const now = await render(false);
        return now.state === 'running' || now.state === 'waiting';
      });
  } catch (err) {
    setHTML(
      app,
      html`<p><a href="#/study/${encodeURIComponent(id)}">← Study</a></p>${alertBox(err)}`,
    );
  }
}

function trialLayout(study, t, count) {
  return html`
    <p><a href="#/study/${encodeURIComponent(study.id)}">← ${study.name}</a>
      ${t.number > 0 ? html` · <a href="${trialHref(study.id, t.number - 1)}" id="trial-prev">← trial ${t.number - 1}</a>` : ''}
      ${t.number < count - 1 ? html` · <a href="${trialHref(study.id, t.number + 1)}" id="trial-next">trial ${t.number + 1} →</a>` : ''}</p>
    <h1 id="trial-title">Trial ${t.number}</h1>
    <div class="cards" id="trial-cards"></div>
    <div class="charts">
      <section><h2>Parameters</h2><div class="table-wrap" id="trial-params"></div></section>
      <section><h2 id="h-curve">Learning curve</h2><div class="chart" id="chart-curve" role="img" aria-labelledby="h-curve"></div><p class="muted">Dashed: the median of the complete and pruned trials' reports at each step.</p></section>
      <section><h2>State history</h2><ol id="trial-history"></ol></section>
      <section><h2>Metadata</h2><div id="trial-meta"></div></section>
    </div>
    <section aria-labelledby="h-trial-note"><h2 id="h-trial-note">Note</h2><div id="trial-note" class="note-box"><p class="muted">Loading…</p></div></section>`;
}

function trialCards(study, t) {
  const objs = objectives(study);
  const dur = duration(t);
  return html`${[
    ['State', html`<span class="state state-${t.state}" id="trial-state">${t.state}</span>`],
    ...objs.map((o, i) => [
      o.metric,
      html`<span data-objective="${i}">${fmt(objectiveNumber(t, i))}</span>`,
    ]),
    ...(Array.isArray(t.constraints)
      ? [
          [
            'Constraints',
            `${t.constraints.map(fmt).join(', ')} (${isFeasible(t) ? 'feasible' : 'infeasible'})`,
          ],
        ]
      : []),
    [
      'Sampler',
      html`<span id="trial-sampler">${t.sampler ?? 'none: params given (enqueued)'}</span>`,
    ],
    ['Runner', t.runner ?? '—'],
    ['Attempts', String(t.attempts)],
    ['Heartbeats', html`<span id="trial-heartbeats">${t.heartbeats ?? 0}</span>`],
    ...(t.lease_expires_at
      ? [['Lease expires', html`<span id="trial-lease">${when(t.lease_expires_at)}</span>`]]
      : []),
    ['Duration', dur === null ? '—' : `${dur.toFixed(1)} s`],
    ...(t.error ? [['Error', html`<span id="trial-error">${t.error}</span>`]] : []),
  ].map(
    ([k, v]) => html`<div class="card"><div class="k">${k}</div><div class="v">${v}</div></div>`,
  )}`;
}

/** The trial's params with each one's distribution; a parameter of the study it lacks says so. */
function paramsTable(study, trials, t) {
  const info = paramInfo(study, trials);
  const dist = (p) =>
    study.space?.[p.name] === undefined
      ? 'not in the study’s space (set by the trial)'
      : p.type === 'categorical'
        ? `one of ${p.choices.join(', ')}`
        : `${p.type} in [${fmt(p.low)}, ${fmt(p.high)}]${p.log ? ', log' : ''}`;
  return html`<table id="trial-params-table"><thead><tr><th scope="col">Parameter</th><th scope="col">Value</th><th scope="col">Distribution</th></tr></thead>
    <tbody>${info.map(
      (p) =>
        html`<tr data-param="${p.name}"><td>${p.name}</td><td>${t.params[p.name] === undefined ? html`<span class="muted">not set (conditional)</span>` : fmt(t.params[p.name])}</td><td class="muted">${dist(p)}</td></tr>`,
    )}</tbody></table>`;
}

// --- comparing studies ------------------------------------------------------------

/**
 * #/compare?ids=a,b,...: the studies picked (from the project's, newest first) with their best
 * so far and their EDFs on one chart each (each study's first objective).
 */
export async function comparePage() {
  setNav('studies');
  const ids = (new URLSearchParams(location.hash.split('?')[1] || '').get('ids') || '')
    .split(',')
    .filter(Boolean);
  setHTML(app, html`<p class="muted">Loading…</p>`);
  try {
    const [{ studies }, picked] = await Promise.all([
      api('/v1/studies?limit=100'),
      Promise.all(
        ids.map(async (id) => ({
          study: await api(`/v1/studies/${encodeURIComponent(id)}`),
          trials: (await loadSummary(id, '?curves=0')).trials,
        })),
      ),
    ]);
    setHTML(
      app,
      html`<p><a href="#/studies">← Studies</a></p><h1>Compare studies</h1>
      <fieldset id="compare-pick"><legend>Studies (the first objective of each)</legend>
        ${studies
          .filter((s) => s.state !== 'unavailable')
          .map(
            (s) =>
              html`<label class="check"><input type="checkbox" value="${s.id}" ${ids.includes(s.id) ? html`checked` : ''}> ${s.name} <span class="muted">(${objectives(s)[0].metric}, ${s.n_trials} trials)</span></label>`,
          )}
      </fieldset>
      <div class="charts">${section('compare-history', 'Best so far')}${section('compare-edf', 'Empirical distribution (EDF)')}</div>`,
    );
    document.querySelectorAll('#compare-pick input').forEach((box) =>
      box.addEventListener('change', () => {
        const now = [...document.querySelectorAll('#compare-pick input:checked')].map(
          (b) => b.value,
        );
        location.hash = `#/compare?ids=${now.map(encodeURIComponent).join(',')}`;
      }),
    );
    chart($('chart-compare-history'), compareHistoryOption(picked));
    chart(
      $('chart-compare-edf'),
      edfOption(
        picked.map(({ study, trials }) => ({
          name: study.name,
          values: scored(trials, 0).map((x) => x.v),
        })),
        [...new Set(picked.map(({ study }) => objectives(study)[0].metric))].join(' / '),
      ),
    );
  } catch (err) {
    setHTML(app, html`<p><a href="#/studies">← Studies</a></p>${alertBox(err)}`);
  }
}

// What every page of the dashboard shares on the DOM side: setHTML (markup from html`...`
// only), the API client with the session's key, alerts, the charts on the page (disposed when
// the page changes) and the page's refresh timer.
import { html, Markup } from './markup.js';

export const KEY = 'stride-key';
const charts = new Set();
let timer = null;

// Markup is built only with html`...` (markup.js): it escapes every
// interpolated value, so data is always text. setHTML() accepts nothing else.
export function setHTML(el, markup) {
  if (!(markup instanceof Markup))
    throw new TypeError('setHTML takes html`...` markup, not a string');
  el.innerHTML = markup.s;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, init = {}) {
  const key = sessionStorage.getItem(KEY);
  const res = await fetch(path, {
    ...init,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
      ...(init.headers || {}),
    },
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) {
    if (res.status === 401 && location.hash !== '#/login') {
      sessionStorage.removeItem(KEY);
      sessionStorage.setItem(
        'stride-login-message',
        'Your API key was not accepted (401). Sign in again.',
      );
      location.hash = '#/login';
    }
    throw new ApiError(res.status, body);
  }
  return body;
}

export function alertBox(err) {
  const paths =
    err.problem?.errors?.map((e) => html`<li><code>${e.path}</code>: ${e.message}</li>`) ?? [];
  return html`<div class="alert" role="alert"><strong>${err.status ? `Error ${err.status}` : 'Error'}:</strong> ${err.message}${paths.length ? html`<ul>${paths}</ul>` : ''}</div>`;
}
export const alertText = (text) => html`<div class="alert" role="alert">${text}</div>`;

/** A study's state as shown: a completed study without one complete trial says so, in the error color. */
export function studyState(s) {
  const none = s.state === 'completed' && !s.best_trial && !s.best_trials?.length;
  return {
    cls: none ? 'state state-completed-none' : `state state-${s.state}`,
    text: none ? `completed — ${s.n_trials ? 'no trial succeeded' : 'no trials'}` : s.state,
  };
}

/**
 * An ECharts instance in `el` with `option`, disposed when the page changes: SVG (crisp, and
 * text a test can read), or canvas for views of thousands of marks.
 */
export function chart(el, option, renderer = 'svg') {
  const c = echarts.init(el, null, { renderer });
  c.setOption(option);
  charts.add(c);
  return c;
}
/** Disposes chart `c` now (its element is going). */
export function dropChart(c) {
  charts.delete(c);
  c.dispose();
}
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

/**
 * Runs `fn` every `ms` until the page changes or `fn` answers false; a tick while the last run
 * still runs (a slow network, a large study) is skipped.
 */
export function every(ms, fn) {
  if (timer) clearInterval(timer);
  let busy = false;
  const mine = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      if ((await fn()) === false && timer === mine) {
        clearInterval(timer);
        timer = null;
      }
    } catch {
      /* the next tick tries again */
    } finally {
      busy = false;
    }
  }, ms);
  timer = mine;
}

/** The page is changing: its charts and its timer go. */
export function clearPage() {
  delete document.getElementById('app').dataset.drawn;
  charts.forEach((c) => c.dispose());
  charts.clear();
  if (timer) clearInterval(timer);
  timer = null;
}

export const $ = (i) => document.getElementById(i);

/** Marks page `page`'s link in the header, and offers to sign out while signed in. */
export function setNav(page) {
  document
    .querySelectorAll('[data-nav]')
    .forEach((a) =>
      a.dataset.nav === page
        ? a.setAttribute('aria-current', 'page')
        : a.removeAttribute('aria-current'),
    );
  const s = document.getElementById('session');
  setHTML(
    s,
    sessionStorage.getItem(KEY)
      ? html`<button class="link" id="signout">Sign out</button>`
      : html``,
  );
  document.getElementById('signout')?.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    location.hash = '#/login';
  });
}

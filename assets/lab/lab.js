// gradtutor lab: the page of `gradtutor serve`. Plain ES2020, no framework, no build step,
// nothing loaded from elsewhere (the server's CSP forbids it). Views, chosen by the hash:
// #/ (home), #/lesson/ID, #/demo/NAME, #/train. The server escapes every HTML text it sends
// (a lesson's `html`, a chart's SVG); everything else is inserted as text.
//
// The class pages (assets/class/) load this file too: with `<body data-lab="manual">` it
// starts nothing itself and the page uses `window.gradtutorLab` (helpers, the control
// generation, the lesson and experiment views, `init`) and its `hooks` (where quiz answers
// go, what every demo request carries).
'use strict';

// The SVG charts' palette (src/render/svg/draw.rs): Okabe–Ito without its yellow.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const TEXT = '#1a1a1a';
const MUTED = '#555555';
const GRID = '#c8c8c8';
const FONT = '"DejaVu Sans", Verdana, Arial, Helvetica, sans-serif';

window.labTimings = [];

// ---------------------------------------------------------------- small helpers

/** An element: h('td', {class: 'x', dataset: {a: 1}}, 'text', child, ...). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'text') el.textContent = v;
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const $ = (sel, root = document) => root.querySelector(sel);

/** Replace the view's content; null and false children are left out. */
const show = (...children) => view().replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));

/** A number as the tables print it: 3 significant digits, exponent for tiny or huge. */
function fmt(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : (v > 0 ? '∞' : '−∞');
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(3)));
  return v.toExponential(2).replace('e+', 'e').replace('-', '−');
}

class HttpError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

/** This page's token: its training run and its demo requests (a newer demo request of the
 * page drops its older one still waiting on the server) carry it as `page=`. */
const PAGE_TOKEN = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');

/** The URL of a demo view (`''`, `/chart.svg`, `/text`, `/hist.svg`) with query `q`, sent as this page's
 * (with a class student's `token=` too, from `hooks.demoQuery()`). */
const demoUrl = (name, view, q) => {
  const full = [q, hooks.demoQuery(), `page=${PAGE_TOKEN}`].filter(Boolean).join('&');
  return `/api/demo/${encodeURIComponent(name)}${view}?${full}`;
};

/** How often a request answered 503 (the lab busy) is tried again, after its Retry-After. */
const BUSY_RETRIES = 3;

/** GET or POST JSON (extra `headers` allowed); a 4xx/5xx throws the server's `error` text. A busy lab (503 with
 * `Retry-After`) is asked again a few times first. */
async function api(path, opts = {}) {
  const init = { signal: opts.signal, headers: { ...(opts.headers || {}) } };
  if (opts.body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, init);
    const text = await res.text();
    const retry = Number(res.headers.get('Retry-After'));
    if (res.status === 503 && retry > 0 && attempt < BUSY_RETRIES && !(opts.signal && opts.signal.aborted)) {
      await new Promise((resolve) => setTimeout(resolve, retry * 1000));
      if (opts.signal && opts.signal.aborted) throw new DOMException('aborted', 'AbortError');
      continue;
    }
    if (!res.ok) throw new HttpError(errorText(text, res.status), res.status);
    return opts.raw ? text : JSON.parse(text);
  }
}

function errorText(text, status) {
  try {
    const j = JSON.parse(text);
    if (j && typeof j.error === 'string') return j.error;
  } catch (_) { /* not JSON */ }
  return `HTTP ${status}`;
}

/** A table from headers and rows of cells (numbers formatted; first column a row header). */
function table(caption, headers, rows, attrs) {
  const t = h('table', attrs);
  if (caption) t.append(h('caption', null, caption));
  const thead = h('thead', null, h('tr', null, headers.map((x, i) => h('th', { scope: 'col', class: i === 0 ? 'text' : null }, x))));
  const tbody = h('tbody');
  for (const r of rows) {
    tbody.append(h('tr', null, r.map((c, i) => i === 0
      ? h('th', { scope: 'row' }, fmt(c))
      : h('td', { class: typeof c === 'string' && !/^[−\-\d.e∞]/.test(c) ? 'text' : null }, fmt(c)))));
  }
  t.append(thead, tbody);
  return t;
}

const wrap = (t) => h('div', { class: 'table-wrap' }, t);

/**
 * What a page embedding the lab may change. `answer(q, item, answer)` sends a lesson's
 * quiz answer and resolves to `{correct?, key?, feedback?, recorded?, attempt?}` (no
 * `correct`: recorded, graded later); `demoQuery()` is extra query text for every demo
 * request (`token=…` in class mode), '' for none.
 */
const hooks = {
  answer: (q, item, answer) => api('/api/quiz/answer', { body: { question: q.id, item, answer } }),
  demoQuery: () => '',
};

// ---------------------------------------------------------------- data loaded once

let demosPromise = null;
const demos = () => {
  if (!demosPromise) demosPromise = api('/api/demos').then((j) => j.experiments);
  return demosPromise;
};
let questionsPromise = null;
const questions = () => {
  if (!questionsPromise) questionsPromise = api('/api/questions').then((j) => j.questions);
  return questionsPromise;
};

// ---------------------------------------------------------------- controls

/**
 * One labelled control for a CONTROL of the API. int/float with min/max → a range slider and
 * a number box; choice → select; bool → checkbox; text (or a number without bounds) → text
 * box. `value` is the starting value (string) or null for "the experiment's own".
 * Returns {el, input, get(), set(v)}; `input` carries name=KEY.
 */
function makeControl(c, value, idPrefix, unset = 'the experiment’s own') {
  const id = `${idPrefix}-${c.key}`;
  const helpId = `${id}-help`;
  const wrapEl = h('div', { class: 'ctl', dataset: { key: c.key } });
  const title = c.key.replace(/-/g, ' ');
  const label = h('label', { for: id }, title);
  const help = h('span', { class: 'help', id: helpId }, c.label || '');
  const start = value ?? c.default ?? null;
  let input;
  let get;
  let set;
  const ranged = (c.type === 'int' || c.type === 'float') && c.min !== undefined && c.min !== null
    && c.max !== undefined && c.max !== null;
  if (ranged) {
    // A float spanning three or more decades (a learning rate) gets a log-scale slider.
    const log = c.type === 'float' && c.min > 0 && c.max / c.min >= 1000;
    const toSlider = (v) => (log ? String(Math.log10(Number(v))) : String(v));
    const fromSlider = (v) => (log ? String(Number((10 ** Number(v)).toPrecision(2))) : String(v));
    const step = log ? 0.01 : (c.step ?? (c.type === 'int' ? 1 : 'any'));
    // name=KEY sits on the control whose value is the setting's: the slider, or for a log
    // slider (whose value is log₁₀ of it) the number box.
    input = h('input', { type: 'range', id, name: log ? null : c.key, min: toSlider(c.min), max: toSlider(c.max), step,
      'aria-describedby': helpId, dataset: log ? { log: '1' } : null });
    const box = h('input', { type: 'number', min: c.min, max: c.max, step: c.type === 'int' ? 1 : 'any', name: log ? c.key : null,
      'aria-label': `${title} (exact value)`, dataset: { for: c.key } });
    if (log) input.setAttribute('aria-valuetext', String(start ?? 'default'));
    const sync = () => { if (log) input.setAttribute('aria-valuetext', box.value || 'default'); };
    if (start !== null) { input.value = toSlider(start); box.value = start; }
    else { box.value = ''; box.placeholder = 'default'; input.dataset.unset = '1'; }
    input.addEventListener('input', () => { box.value = fromSlider(input.value); delete input.dataset.unset; sync(); });
    box.addEventListener('change', () => {
      if (box.value !== '') { input.value = toSlider(box.value); delete input.dataset.unset; }
      else input.dataset.unset = '1';
      sync();
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    get = () => (input.dataset.unset ? '' : (box.value !== '' ? box.value : fromSlider(input.value)));
    set = (v) => {
      if (v === null || v === '') { box.value = ''; input.dataset.unset = '1'; sync(); return; }
      input.value = toSlider(v); box.value = v; delete input.dataset.unset; sync();
    };
    wrapEl.append(label, h('div', { class: 'pair' }, input, box), help);
  } else if (c.type === 'choice') {
    input = h('select', { id, name: c.key, 'aria-describedby': helpId });
    if (start === null) input.append(h('option', { value: '' }, unset));
    const choices = c.choices || [];
    for (const ch of choices) input.append(h('option', { value: ch }, ch));
    // A value with a parameter (leaky-relu:0.1, orthogonal:0.5) gets an option of its own.
    const ensure = (v) => {
      if (v !== null && v !== '' && ![...input.options].some((o) => o.value === v)) input.append(h('option', { value: v }, v));
    };
    ensure(start);
    input.value = start ?? '';
    get = () => input.value;
    set = (v) => { ensure(v); input.value = v ?? ''; };
    wrapEl.append(label, input, help);
  } else if (c.type === 'bool') {
    input = h('input', { type: 'checkbox', id, name: c.key, 'aria-describedby': helpId });
    input.checked = start === 'true';
    get = () => (input.checked ? 'true' : 'false');
    set = (v) => { input.checked = v === 'true'; };
    wrapEl.classList.add('bool');
    wrapEl.append(input, label, help);
  } else {
    input = h('input', { type: 'text', id, name: c.key, 'aria-describedby': helpId, autocomplete: 'off',
      spellcheck: 'false', placeholder: start === null ? unset : '' });
    input.value = start ?? '';
    get = () => input.value.trim();
    set = (v) => { input.value = v ?? ''; };
    wrapEl.append(label, input, help);
  }
  return { el: wrapEl, input, get, set, control: c };
}

// ---------------------------------------------------------------- demo panel

/** Settings shown unfolded in every experiment panel (when the experiment has them). */
const PRIMARY = ['depth', 'width', 'activation', 'init', 'precision', 'cell', 'seq-len'];

/** Client-side memo of finished runs: query → {json, svg} (the server caches too). */
const demoMemo = new Map();
const MEMO_MAX = 40;

/**
 * The experiment panel: controls, error line, description, verdicts, chart and its table.
 * `preset`: the lesson's settings (always sent); other settings go into the query only
 * once the user changes them, so the experiment's own defaults stay its own.
 */
async function mountDemo(root, name, preset = {}) {
  const all = await demos();
  const exp = all.find((e) => e.name === name);
  if (!exp) throw new HttpError(`unknown experiment '${name}'`);
  const ctls = new Map();
  const initial = new Map();
  const form = h('form', { id: 'controls', 'aria-label': `Settings of demo ${name}`, novalidate: true });
  // The lesson's own settings and the usual ones first; the rest folded under "More".
  const more = h('div', { class: 'more-grid' });
  const moreBox = h('details', { class: 'more' }, h('summary', null, 'More settings'), more);
  for (const c of exp.controls) {
    const v = preset[c.key] ?? null;
    const ctl = makeControl(c, v, 'demo');
    ctls.set(c.key, ctl);
    initial.set(c.key, ctl.get());
    (c.key in preset || PRIMARY.includes(c.key) ? form : more).append(ctl.el);
  }
  if (more.childElementCount) {
    moreBox.querySelector('summary').textContent = `More settings (${more.childElementCount})`;
    form.append(moreBox);
  }
  const err = h('p', { id: 'demo-error', role: 'alert', 'aria-live': 'assertive' });
  const status = h('span', { class: 'status', 'aria-live': 'polite' });
  const fromLesson = Object.keys(preset).length > 0;
  const reset = h('button', { type: 'button', class: 'secondary' }, fromLesson ? 'Back to the lesson’s settings' : 'Back to the experiment’s settings');
  const cmd = h('code', { class: 'cmd' });
  const controlsBox = h('section', { class: 'controls-box', 'aria-label': 'Settings' },
    h('h2', null, 'Settings'), form, err,
    h('div', { class: 'demo-meta' }, reset, status), h('p', { class: 'demo-meta' }, 'Command: ', cmd));
  const description = h('p', { class: 'description' });
  const verdicts = h('ul', { class: 'verdicts', 'aria-label': 'Verdicts' });
  const notes = h('div', { class: 'notes' });
  const chart = h('div', { id: 'demo-chart', role: 'img', 'aria-label': `Chart of demo ${name}` });
  const tableBox = h('div', { class: 'table-wrap', id: 'demo-table-box' });
  const extra = h('div', { class: 'extra-tables' });
  const results = h('section', { class: 'card', 'aria-label': 'Verdicts' },
    h('h2', null, 'What the run shows'), verdicts);
  const figure = h('section', { class: 'figure', 'aria-label': 'Chart and its numbers' },
    chart, h('h3', null, 'The chart’s numbers'), tableBox, extra);
  const termPre = h('pre', { class: 'term', tabindex: '0' });
  const term = h('details', { class: 'term-box' }, h('summary', null, 'As the terminal prints it'), termPre);
  const about = h('section', { class: 'card', 'aria-label': 'About this run' },
    h('h2', null, 'About this run'), description, notes, term);
  let termQuery = null;
  const loadTerm = async () => {
    if (!term.open || lastQuery === null || termQuery === lastQuery) return;
    const q = lastQuery;
    termQuery = q;
    try {
      const text = await api(demoUrl(name, '/text', q), { raw: true });
      if (termQuery === q) termPre.textContent = text;
    } catch (e) {
      if (termQuery === q) { termPre.textContent = e.message; termQuery = null; }
    }
  };
  term.addEventListener('toggle', loadTerm);
  // Each hidden layer's distributions (`demo NAME --hist --plot`), drawn by the server's SVG
  // renderer, fetched when opened and after each run while open.
  const histChart = h('div', { id: 'demo-hist', role: 'img', 'aria-label': `Distributions per layer, demo ${name}` });
  const histBox = h('details', { class: 'hist-box', id: 'demo-hist-box' },
    h('summary', null, 'Distributions per layer (histograms of h, φ(h) and ∂L/∂h)'), histChart);
  let histQuery = null;
  const loadHist = async () => {
    if (!histBox.open || lastQuery === null || histQuery === lastQuery) return;
    const q = lastQuery;
    histQuery = q;
    try {
      const svg = await api(demoUrl(name, '/hist.svg', q), { raw: true });
      if (histQuery === q) { histChart.innerHTML = svg; histChart.dataset.state = 'drawn'; }
    } catch (e) {
      if (histQuery === q) {
        histChart.replaceChildren(h('p', { class: 'error' }, e.message));
        histChart.dataset.state = 'refused';
        histQuery = null;
      }
    }
  };
  histBox.addEventListener('toggle', loadHist);
  figure.append(histBox);
  root.classList.add('demo-host');
  root.replaceChildren(h('div', { class: 'demo' }, controlsBox, h('div', { class: 'results' }, figure, results, about)));

  // Which settings go into the query: the preset, plus what differs from the start.
  const query = () => {
    const p = new URLSearchParams();
    for (const [k, ctl] of ctls) {
      const v = ctl.get();
      const changed = v !== initial.get(k);
      ctl.el.classList.toggle('changed', changed);
      if (v === '') continue;
      if (k in preset || changed) p.set(k, v);
    }
    // A preset setting without a control of its own (the experiment fixes it) still goes.
    for (const [k, v] of Object.entries(preset)) if (!ctls.has(k)) p.set(k, v);
    return p.toString();
  };

  let controller = null;
  let lastQuery = null;
  let pendingT0 = null;
  let raf = 0;

  const run = async (t0) => {
    const q = query();
    if (q === lastQuery) return;
    lastQuery = q;
    cmd.textContent = `gradtutor demo ${name}` + [...new URLSearchParams(q)].map(([k, v]) => ` --${k} ${v}`).join('');
    if (controller) controller.abort();
    const ctrl = new AbortController();
    controller = ctrl;
    let json;
    let svg;
    const memo = demoMemo.get(`${name}?${q}`);
    if (memo) {
      ({ json, svg } = memo);
    } else {
      status.textContent = 'running…';
      figure.classList.add('busy');
      try {
        const [jtext, stext] = await Promise.all([
          api(demoUrl(name, '', q), { signal: ctrl.signal, raw: true }),
          api(demoUrl(name, '/chart.svg', q), { signal: ctrl.signal, raw: true }),
        ]);
        json = JSON.parse(jtext);
        svg = stext;
      } catch (e) {
        if (ctrl.signal.aborted) return;
        figure.classList.remove('busy');
        figure.classList.add('stale');
        status.textContent = 'The chart and table below still show the last run that worked.';
        err.textContent = e instanceof HttpError ? e.message : `The server did not answer: ${e.message}`;
        lastQuery = null;
        return;
      }
      if (ctrl.signal.aborted) return;
      demoMemo.set(`${name}?${q}`, { json, svg });
      if (demoMemo.size > MEMO_MAX) demoMemo.delete(demoMemo.keys().next().value);
    }
    controller = null;
    err.textContent = '';
    status.textContent = '';
    figure.classList.remove('busy', 'stale');
    draw(json, svg);
    const t1 = performance.now();
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    window.labTimings.push({ input: t0, drawn: t1 });
    showDefaults(json);
    loadTerm();
    loadHist();
  };

  const draw = (json, svg) => {
    chart.innerHTML = svg;
    const title = chart.querySelector('svg > title');
    if (title) chart.setAttribute('aria-label', `${title.textContent} (numbers in the table below)`);
    tableBox.replaceChildren(demoTable(json));
    extra.replaceChildren(...extraTables(json));
    // The phase map's own numbers first when the chart is the phase map.
    if (json.phase && extra.nextElementSibling !== tableBox) tableBox.before(extra);
    else if (!json.phase && tableBox.nextElementSibling !== extra) tableBox.after(extra);
    description.textContent = json.description || '';
    verdicts.replaceChildren(...(json.verdicts || []).map((v) => h('li', null, v)));
    notes.replaceChildren(...(json.notes || []).map((v) => h('p', null, v)));
  };

  // Untouched sliders show the values the experiment ran with (when every run agrees).
  const showDefaults = (json) => {
    const runs = json.runs || [];
    if (!runs.length) return;
    const pick = (f) => {
      const vals = runs.map((r) => f(r.config || {}));
      return vals.every((v) => v !== undefined && v !== null && v === vals[0]) ? String(vals[0]) : null;
    };
    const known = {
      depth: pick((c) => (Array.isArray(c.hidden) ? c.hidden.length : undefined)),
      width: pick((c) => (Array.isArray(c.hidden) ? c.hidden[0] : c.width)),
      batch: pick((c) => c.batch), classes: pick((c) => c.classes), seed: pick((c) => c.seed),
      'seq-len': pick((c) => c.seq_len),
    };
    for (const [k, v] of Object.entries(known)) {
      const ctl = ctls.get(k);
      if (!ctl || v === null || k in preset || ctl.get() !== initial.get(k)) continue;
      if (ctl.input.type !== 'range' || initial.get(k) !== '') continue;
      ctl.set(v);
      initial.set(k, ctl.get());
    }
  };

  // Sliders' input events are coalesced to one run per animation frame; every other
  // control runs on its change event (for text and number boxes: Enter or leaving them).
  const schedule = (ev) => {
    const slider = ev.target?.type === 'range';
    if (ev.type === 'input' && !slider) return;
    if (pendingT0 === null) pendingT0 = performance.now();
    if (ev.type === 'input') {
      if (!raf) raf = requestAnimationFrame(() => { raf = 0; const t = pendingT0; pendingT0 = null; run(t); });
      return;
    }
    if (raf) { cancelAnimationFrame(raf); raf = 0; }
    const t = pendingT0;
    pendingT0 = null;
    run(t);
  };
  form.addEventListener('input', schedule);
  form.addEventListener('change', schedule);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); schedule({ type: 'change', target: ev.target }); });
  reset.addEventListener('click', () => {
    for (const [k, ctl] of ctls) ctl.set(preset[k] ?? ctl.control.default ?? null);
    for (const [k, ctl] of ctls) initial.set(k, ctl.get());
    run(performance.now());
  });
  await run(performance.now());
}

/** The hidden layers of a report's first run (the `data-depth` hook). */
function depthOf(json) {
  const r = (json.runs || [])[0];
  if (!r) return 0;
  if (Array.isArray(r.config?.hidden) && r.config.hidden.length) return r.config.hidden.length;
  if (r.layers?.length) return r.layers.length - 1;
  if (r.steps?.length) return r.steps.length;
  return 0;
}

const METRIC_NAMES = {
  grad_norm: '‖∂L/∂W‖', signal_norm: '‖∂L/∂h‖', act_std: 'act std', act_mean: 'act mean',
  saturated: 'saturated', dead: 'dead', weight_norm: '‖W‖', weight_std: 'W std', unit_spread: 'unit spread',
};

/** table#demo-table: per layer (or per time step), each run's charted figures. */
function demoTable(json) {
  const runs = json.runs || [];
  const depth = depthOf(json);
  const attrs = { id: 'demo-table', dataset: { depth } };
  if (runs.some((r) => r.layers?.length)) {
    const metrics = ['grad_norm', 'signal_norm',
      ...(json.metrics || []).filter((m) => m !== 'grad_norm' && m !== 'signal_norm')];
    const withLayers = runs.filter((r) => r.layers?.length);
    const spread = withLayers.some((r) => r.layers.some((l) => 'grad_norm_min' in l));
    const headers = ['layer'];
    for (const r of withLayers) {
      for (const m of metrics) {
        headers.push(withLayers.length > 1 ? `${r.label}: ${METRIC_NAMES[m] || m}` : (METRIC_NAMES[m] || m));
        if (m === 'grad_norm' && spread) headers.push(`${withLayers.length > 1 ? r.label + ': ' : ''}min–max`);
      }
    }
    const n = Math.max(...withLayers.map((r) => r.layers.length));
    const rows = [];
    for (let i = 0; i < n; i++) {
      const row = [withLayers[0].layers[i]?.layer ?? i + 1];
      for (const r of withLayers) {
        const l = r.layers[i] || {};
        for (const m of metrics) {
          row.push(l[m] ?? null);
          if (m === 'grad_norm' && spread) row.push('grad_norm_min' in l ? `${fmt(l.grad_norm_min)} – ${fmt(l.grad_norm_max)}` : '—');
        }
      }
      rows.push(row);
    }
    return table('Per layer (layer 1 nearest the input, the last the output)', headers, rows, attrs);
  }
  if (runs.some((r) => r.steps?.length)) {
    const withSteps = runs.filter((r) => r.steps?.length);
    const headers = ['t', ...withSteps.map((r) => `${r.label}: ‖∂L/∂h_t‖`)];
    const n = Math.max(...withSteps.map((r) => r.steps.length));
    const rows = [];
    for (let i = 0; i < n; i++) rows.push([withSteps[0].steps[i]?.t ?? i + 1, ...withSteps.map((r) => r.steps[i]?.signal_norm ?? null)]);
    return table('Per time step', headers, rows, attrs);
  }
  return table('Runs', ['run', 'loss', '‖∂L/∂θ‖'], runs.map((r) => [r.label, r.loss, r.global_grad_norm]), attrs);
}

/** The report's own tables, the phase map, and per-run summaries the chart draws. */
function extraTables(json) {
  const out = [];
  if (json.phase) {
    const p = json.phase;
    const headers = ['σ_b \\ σ_w', ...p.sigma_w.map(fmt)];
    const rows = [];
    for (let b = p.sigma_b.length - 1; b >= 0; b--) {
      const row = [p.sigma_b[b]];
      for (let w = 0; w < p.sigma_w.length; w++) {
        const cell = p.cells[b * p.sigma_w.length + w];
        row.push(cell ? cell.log10_per_layer : null);
      }
      rows.push(row);
    }
    out.push(h('h3', null, 'Phase map: log₁₀ per-layer factor'), wrap(table(`${p.network}; χ = 1 at σ_w = ${p.critical_sigma_w.map(fmt).join(', ')} for these σ_b`, headers, rows)));
  }
  const spectra = (json.runs || []).filter((r) => r.spectrum && 'median' in r.spectrum);
  if (spectra.length) {
    out.push(wrap(table('Singular values of J per network', ['network', 'min', 'p5', 'median', 'p95', 'max', 'κ', 'null %'],
      spectra.map((r) => { const s = r.spectrum; return [r.label, s.min, s.p5, s.median, s.p95, s.max, s.condition_number, s.null_percent]; }))));
  }
  const side = (json.side_runs || []).filter((r) => r.layers?.length);
  if (side.length) {
    const n = Math.max(...side.map((r) => r.layers.length));
    const rows = [];
    for (let i = 0; i < n; i++) rows.push([side[0].layers[i]?.layer ?? i + 1, ...side.map((r) => r.layers[i]?.grad_norm ?? null)]);
    out.push(wrap(table('Side runs (the sweep): ‖∂L/∂W‖ per layer', ['layer', ...side.map((r) => r.label)], rows)));
  }
  for (const t of json.tables || []) {
    out.push(wrap(table(t.title, t.headers, t.rows)));
    if (t.legend) out.push(h('p', { class: 'legend' }, t.legend));
  }
  return out;
}

// ---------------------------------------------------------------- views

const view = () => $('#view');

/** Bumped on every navigation: a view whose data arrives after the next one started drops it. */
let routeSeq = 0;
const stale = (seq) => seq !== routeSeq;

async function homeView() {
  const seq = routeSeq;
  const [qs, ds] = await Promise.all([questions(), demos()]);
  if (stale(seq)) return;
  document.title = 'gradtutor lab';
  view().replaceChildren(
    h('h1', null, 'gradtutor lab'),
    h('p', null, 'Read a lesson with its experiment live beside it, steer any experiment, or train a network and watch its gradients as it learns. Every figure comes from the same code as the command line.'),
    h('p', null, h('a', { href: '#/train' }, 'Train a network, live →')),
    h('h2', null, 'Lessons'),
    h('ul', { class: 'cards' }, qs.map((q) => h('li', null, h('a', { href: `#/lesson/${q.id}` }, `${q.id}. ${q.title}`), h('p', null, `experiment: ${q.experiment}`)))),
    h('h2', null, 'Experiments'),
    h('ul', { class: 'cards' }, ds.map((d) => h('li', null, h('a', { href: `#/demo/${d.name}` }, d.name), h('p', null, d.summary)))),
  );
}

async function demoView(name) {
  document.title = `demo ${name} · gradtutor lab`;
  const seq = routeSeq;
  const ds = await demos();
  if (stale(seq)) return;
  const d = ds.find((x) => x.name === name);
  const panel = h('div');
  show(h('h1', null, `Experiment: ${name}`), d ? h('p', null, d.summary) : null, panel);
  await mountDemo(panel, name, {});
}

/** Lesson ID (id or slug) into `root` (the view unless a class page gives its own panel). */
async function lessonView(id, root = null) {
  const seq = routeSeq;
  const q = await api(`/api/questions/${encodeURIComponent(id)}`);
  if (!root && stale(seq)) return;
  if (!root) document.title = `${q.title} · gradtutor lab`;
  const text = h('article', { class: 'lesson-text', 'aria-labelledby': 'lesson-title' });
  const body = h('div');
  body.innerHTML = q.html; // escaped by the server
  text.append(body);
  if (q.train) {
    text.append(h('p', null, h('a', { href: `#/train?lesson=${encodeURIComponent(q.id)}` }, 'Train this lesson’s networks, live →')));
  }
  if (q.quiz?.length) text.append(quizSection(q));
  const panel = h('div');
  const side = h('section', { class: 'lesson-demo', 'aria-label': 'The lesson’s experiment' }, panel);
  (root || view()).replaceChildren(
    h('h1', { id: 'lesson-title' }, `${q.id}. ${q.title}`),
    h('div', { class: 'lesson' }, text, side),
  );
  if (q.experiment) await mountDemo(panel, q.experiment.name, q.experiment.settings || {});
}

function quizSection(q) {
  const box = h('section', { class: 'quiz', 'aria-labelledby': 'quiz-h', dataset: { question: q.slug } }, h('h2', { id: 'quiz-h' }, 'Quiz'));
  for (const item of q.quiz) {
    const fid = `quiz-${item.item}`;
    const result = h('div', { class: 'quiz-result', 'aria-live': 'polite' });
    const fs = h('fieldset', null, h('legend', null, `${item.item}. ${item.prompt}`));
    if (item.kind === 'choice') {
      for (const o of item.options) {
        const oid = `${fid}-${o.key}`;
        fs.append(h('div', { class: 'opt' }, h('input', { type: 'radio', name: 'answer', value: o.key, id: oid, required: true }),
          h('label', { for: oid }, `${o.key}) ${o.text}`)));
      }
    } else {
      fs.append(h('div', { class: 'opt' }, h('label', { for: `${fid}-n` }, 'Your answer'),
        h('input', { type: 'number', step: 'any', name: 'answer', id: `${fid}-n`, required: true })));
    }
    const submit = h('button', { type: 'submit' }, 'Check');
    const form = h('form', { class: 'quiz-item', dataset: { item: item.item }, 'aria-label': `Quiz item ${item.item}` }, fs, h('div', { class: 'row' }, submit), result);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const fd = new FormData(form);
      const answer = fd.get('answer');
      if (answer === null || answer === '') { result.textContent = 'Choose or type an answer first.'; delete result.dataset.correct; return; }
      submit.disabled = true;
      try {
        const r = await hooks.answer(q, item.item, String(answer));
        if (typeof r.correct !== 'boolean') {
          // Recorded for later grading (class mode: graded when the instructor reveals it).
          delete result.dataset.correct;
          result.dataset.state = 'sent';
          result.replaceChildren(h('span', { class: 'verdict' }, `Sent${r.attempt ? ` (attempt ${r.attempt})` : ''}.`),
            ' Graded when your instructor reveals the answer.');
          return;
        }
        result.dataset.correct = String(!!r.correct);
        result.replaceChildren(
          h('span', { class: 'verdict' }, r.correct ? 'Right.' : `Not quite: the answer is ${r.key}.`),
          r.recorded ? ' (recorded in your progress)' : '',
          h('div', null, r.feedback || ''));
      } catch (e) {
        delete result.dataset.correct;
        result.replaceChildren(h('span', { class: 'error' }, e.message));
      } finally {
        submit.disabled = false;
      }
    });
    box.append(form);
  }
  return box;
}

// ---------------------------------------------------------------- training


/** The live run's starting configuration where `train` has no default of its own. */
const TRAIN_START = { dataset: 'spiral', activation: 'relu' };

/** Training settings shown unfolded, besides the live ones and a lesson's own. */
const TRAIN_PRIMARY = ['dataset', 'depth', 'width', 'batch', 'activation', 'init', 'bn', 'residual', 'steps'];

/** The live training view's state; one per page load, the charts redrawn by rAF. */
let trainSession = null;

function newTrainData() {
  return {
    losses: [], evals: [], changes: [], changeKeys: new Set(), frame: null, diverged: null,
    hist: null, boundary: null, grads: [], ratios: [], dirty: true,
  };
}

async function trainView(params) {
  document.title = 'Training, live · gradtutor lab';
  const seq = routeSeq;
  const spec = await api('/api/train/controls');
  let preset = {};
  let lessonNote = null;
  if (params.get('lesson')) {
    try {
      const q = await api(`/api/questions/${encodeURIComponent(params.get('lesson'))}`);
      preset = { ...(q.train?.settings || {}) };
      // A lesson that compares networks (compare = "sigmoid/xavier-normal,relu/he-normal")
      // starts the live run with its first one, passed whole (scale:…, norms, @optimizer).
      if (preset.compare) preset.compare = String(preset.compare).split(',')[0];
      lessonNote = h('p', null, 'Settings from lesson ', h('a', { href: `#/lesson/${q.id}` }, `${q.id}. ${q.title}`), '.');
    } catch (_) { /* no preset */ }
  }
  if (stale(seq)) return;
  // A live run trains one configuration, while `train` alone compares several: start from
  // one (a 2-D dataset and ReLU) unless the lesson names its own.
  for (const [k, v] of Object.entries(TRAIN_START)) {
    const c = spec.controls.find((x) => x.key === k);
    if (k === 'activation' && preset.compare) continue; // the compare entry names it
    if (c && (c.default === null || c.default === undefined) && !(k in preset)) preset[k] = v;
  }
  if (trainSession) trainSession.close();
  const live = new Set(spec.live || []);
  const ctls = new Map();
  const initial = new Map();
  const form = h('form', { id: 'train-form', class: 'settings', 'aria-label': 'Training settings', novalidate: true });
  const more = h('div', { class: 'more-grid' });
  for (const c of spec.controls) {
    const ctl = makeControl(c, preset[c.key] ?? null, 'train', 'default');
    if (live.has(c.key)) ctl.el.classList.add('live');
    ctls.set(c.key, ctl);
    initial.set(c.key, ctl.get());
    (c.key in preset || live.has(c.key) || TRAIN_PRIMARY.includes(c.key) ? form : more).append(ctl.el);
  }
  if (more.childElementCount) {
    form.append(h('details', { class: 'more' }, h('summary', null, `More settings (${more.childElementCount})`), more));
  }
  const btn = (id, text, cls) => h('button', { type: 'button', id, class: cls }, text);
  const bStart = btn('train-start', 'Start');
  const bPause = btn('train-pause', 'Pause', 'secondary');
  const bResume = btn('train-resume', 'Resume', 'secondary');
  const bStep = btn('train-step', 'Step', 'secondary');
  const bReset = btn('train-reset', 'Reset', 'secondary');
  const state = h('span', { id: 'train-state', 'aria-live': 'polite' }, 'idle');
  const stepInfo = h('span', { class: 'step-info' });
  const err = h('p', { class: 'error', id: 'train-error', role: 'alert' });
  const divBox = h('div', { id: 'train-diverged', role: 'alert' });

  const card = (title, canvas, cls, tableId) => {
    const details = h('details', null, h('summary', null, 'Numbers'), h('div', { class: 'table-wrap', id: tableId }));
    return { el: h('section', { class: `chart-card ${cls || ''}`, 'aria-label': title }, h('h3', null, title), canvas, details), details };
  };
  const lossCanvas = h('canvas', { id: 'loss-chart', class: 'tall', role: 'img', dataset: { points: 0 }, 'aria-label': 'Loss per step: train minibatch line, evaluation points; numbers in the table below' });
  const gradCanvas = h('canvas', { id: 'grad-chart', class: 'mid', role: 'img', 'aria-label': 'Per-layer gradient norm bars, log scale' });
  const ratioCanvas = h('canvas', { id: 'ratio-chart', class: 'mid', role: 'img', 'aria-label': 'Per-layer update ratio bars against the 1e-3 guide, log scale' });
  const histCanvases = ['pre', 'act', 'grad'].map((k) => h('canvas', { id: `hist-${k}`, class: 'mid', role: 'img', 'aria-label': `Histograms of ${k} per layer` }));
  const boundCanvas = h('canvas', { id: 'boundary-chart', class: 'square', role: 'img', 'aria-label': 'Decision boundary heat map with the data points' });
  const cards = {
    loss: card('Loss: train minibatch (line), evaluation train ● and test ■', lossCanvas, 'wide', 'loss-table'),
    grad: card('‖∂L/∂W‖ per layer (log scale)', gradCanvas, '', 'grad-table'),
    ratio: card('Update ratio ‖ΔW‖/‖W‖ per layer (log scale), guide 10⁻³', ratioCanvas, '', 'ratio-table'),
    pre: card('Pre-activations per hidden layer', histCanvases[0], '', 'hist-pre-table'),
    act: card('Activations per hidden layer', histCanvases[1], '', 'hist-act-table'),
    grad_h: card('Gradients ∂L/∂h per hidden layer', histCanvases[2], '', 'hist-grad-table'),
    boundary: card('Decision boundary (2-D datasets)', boundCanvas, '', 'boundary-table'),
  };
  const histKey = h('div', { class: 'keyline', id: 'hist-key' });
  const controlsBox = h('section', { class: 'controls-box', 'aria-label': 'Settings and run controls' },
      h('h2', null, 'Run'),
      h('div', { class: 'row', role: 'group', 'aria-label': 'Run' }, bStart, bPause, bResume, bStep, bReset),
      h('p', { class: 'run-state' }, 'State: ', state, ' ', stepInfo),
      err,
      h('h2', null, 'Settings'),
      h('p', { class: 'legend' }, 'Settings marked “live” can change while the run goes; the change applies from the next step and is marked on the loss curve.'),
      form);
  show(
    h('h1', null, 'Training, live'),
    lessonNote,
    h('div', { class: 'train-host' }, h('div', { class: 'train-layout' }, controlsBox,
      h('div', { class: 'train-main' }, divBox,
        h('div', { class: 'train-grid' }, cards.loss.el, cards.grad.el, cards.ratio.el, h('div', { class: 'wide' }, histKey),
          cards.pre.el, cards.act.el, cards.grad_h.el, cards.boundary.el)))),
  );

  const s = {
    id: null, es: null, data: newTrainData(), raf: 0, closed: false, runState: 'idle',
    close() {
      // Leaving the view ends its run: one run per page, none left going unseen.
      if (!this.closed && this.id !== null && (this.runState === 'running' || this.runState === 'paused')) {
        api(`/api/train/${encodeURIComponent(this.id)}/control`, { body: { action: 'stop' } }).catch(() => {});
      }
      this.closed = true;
      if (this.es) this.es.close();
      this.es = null;
      if (this.raf) cancelAnimationFrame(this.raf);
      this.raf = 0;
    },
  };
  trainSession = s;

  const value = (ctl) => {
    const v = ctl.get();
    const t = ctl.control.type;
    if (v === '') return null;
    if (t === 'int' || t === 'float') { const n = Number(v); return Number.isFinite(n) ? n : v; }
    if (t === 'bool') return v === 'true';
    return v;
  };
  const body = () => {
    const b = {};
    for (const [k, ctl] of ctls) {
      const v = ctl.get();
      if (v === '') continue;
      if (k in preset || v !== initial.get(k)) b[k] = value(ctl);
    }
    return b;
  };

  const setButtons = () => {
    const st = s.runState;
    const active = st === 'running' || st === 'paused';
    bStart.textContent = active ? 'Restart' : 'Start';
    bPause.disabled = st !== 'running';
    bResume.disabled = st !== 'paused';
    bStep.disabled = st !== 'paused';
    bReset.disabled = s.id === null;
    state.textContent = st;
    for (const [k, ctl] of ctls) {
      const lock = active && !live.has(k);
      for (const el of ctl.el.querySelectorAll('input, select')) el.disabled = lock;
    }
  };
  setButtons();

  const control = async (payload) => {
    if (s.id === null) return;
    err.textContent = '';
    try {
      const r = await api(`/api/train/${encodeURIComponent(s.id)}/control`, { body: payload });
      if (r.state && s.runState !== r.state && !s.closed) { s.runState = r.state; setButtons(); }
    } catch (e) { err.textContent = e.message; }
  };

  const frameIn = (f) => {
    if (s.closed || f.id !== s.id) return;
    const d = s.data;
    for (const p of f.losses || []) d.losses.push(p);
    if (f.eval && !d.evals.some((e) => e.step === f.eval.step)) d.evals.push(f.eval);
    // A frame may repeat earlier changes (the server sends every change so far): keep each once.
    for (const c of f.changes || []) {
      const key = `${c.step}|${JSON.stringify(c.set)}`;
      if (!d.changeKeys.has(key)) { d.changeKeys.add(key); d.changes.push(c); }
    }
    if (f.diverged) d.diverged = f.diverged;
    // Histograms and boundary may come only now and then: keep the latest.
    if (f.hist) d.hist = f.hist;
    if (f.boundary) d.boundary = f.boundary;
    if (f.grad_norms?.length) d.grads = f.grad_norms;
    if (f.update_ratios?.length) d.ratios = f.update_ratios;
    d.frame = f;
    d.dirty = true;
    if (f.state !== s.runState) { s.runState = f.state; setButtons(); }
    stepInfo.textContent = `step ${f.step} of ${f.steps}`;
    if (['finished', 'stopped', 'diverged'].includes(f.state) && s.es) { s.es.close(); s.es = null; }
    if (f.settings) {
      for (const [k, v] of Object.entries(f.settings)) {
        const ctl = ctls.get(k);
        if (ctl && document.activeElement?.closest?.('.ctl') !== ctl.el && v !== null && v !== undefined) {
          // keep the live controls in step with the run (a refused value snaps back)
          if (ctl.get() !== String(v)) ctl.set(String(v));
        }
      }
    }
  };

  const start = async () => {
    err.textContent = '';
    let r;
    try {
      r = await api(`/api/train?page=${PAGE_TOKEN}`, { body: body() });
    } catch (e) { err.textContent = e.message; return; }
    if (s.es) s.es.close();
    s.id = String(r.id);
    s.data = newTrainData();
    s.runState = 'running';
    divBox.replaceChildren();
    setButtons();
    const es = new EventSource(`/api/train/${encodeURIComponent(s.id)}/events`);
    s.es = es;
    es.addEventListener('frame', (ev) => {
      try { frameIn(JSON.parse(ev.data)); } catch (e) { err.textContent = `bad frame: ${e.message}`; }
    });
    es.addEventListener('error', () => {
      if (s.es === es && ['finished', 'stopped', 'diverged'].includes(s.runState)) { es.close(); s.es = null; }
    });
  };

  bStart.addEventListener('click', start);
  bPause.addEventListener('click', () => control({ action: 'pause' }));
  bResume.addEventListener('click', () => control({ action: 'resume' }));
  bStep.addEventListener('click', () => control({ action: 'step' }));
  bReset.addEventListener('click', async () => {
    if (s.runState === 'running' || s.runState === 'paused') await control({ action: 'stop' });
    if (s.es) s.es.close();
    s.es = null;
    s.id = null;
    s.runState = 'idle';
    s.data = newTrainData();
    divBox.replaceChildren();
    stepInfo.textContent = '';
    setButtons();
  });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); if (s.runState !== 'running' && s.runState !== 'paused') start(); });
  form.addEventListener('change', (ev) => {
    const el = ev.target.closest('.ctl');
    const k = el?.dataset.key;
    if (!k || !live.has(k) || !(s.runState === 'running' || s.runState === 'paused')) return;
    control({ set: { [k]: value(ctls.get(k)) } });
  });

  // Draw at display rate whenever a frame brought something new.
  const tick = () => {
    if (s.closed) return;
    s.raf = requestAnimationFrame(tick);
    const d = s.data;
    if (!d.dirty) return;
    d.dirty = false;
    drawTraining(d, { lossCanvas, gradCanvas, ratioCanvas, histCanvases, boundCanvas, cards, histKey, divBox });
  };
  s.raf = requestAnimationFrame(tick);
  for (const c of Object.values(cards)) c.details.addEventListener('toggle', () => { c.filled = 0; s.data.dirty = true; });
  window.addEventListener('resize', () => { s.data.dirty = true; });
}

/** A canvas sized to its CSS box at the device's pixel ratio; returns its 2-D context. */
function prep(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, canvas.clientWidth);
  const hgt = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  ctx.font = `12px ${FONT}`;
  return { ctx, w, h: hgt };
}

/** A colour per layer, by depth: the palette for up to 7, else blue → vermillion. */
function depthColor(i, n) {
  if (n <= PALETTE.length) return PALETTE[i];
  const t = n > 1 ? i / (n - 1) : 0;
  const a = [0x00, 0x72, 0xb2];
  const b = [0xd5, 0x5e, 0x00];
  const c = a.map((x, j) => Math.round(x + (b[j] - x) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

const log10 = (v) => Math.log10(v);

function niceLogTicks(lo, hi) {
  const out = [];
  const a = Math.floor(lo);
  const b = Math.ceil(hi);
  const stepE = Math.max(1, Math.ceil((b - a) / 6));
  for (let e = a; e <= b; e += stepE) out.push(e);
  return out;
}

function linTicks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function axes(ctx, box, xTicks, yTicks, xf, yf, xLabel) {
  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const [v, label] of yTicks) {
    const y = yf(v);
    ctx.beginPath(); ctx.moveTo(box.x0, y); ctx.lineTo(box.x1, y); ctx.stroke();
    ctx.fillText(label, box.x0 - 4, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const [v, label] of xTicks) {
    const x = xf(v);
    ctx.fillText(label, x, box.y1 + 4);
  }
  if (xLabel) { ctx.textAlign = 'right'; ctx.fillText(xLabel, box.x1, box.y1 + 18); }
  ctx.strokeStyle = TEXT;
  ctx.beginPath(); ctx.moveTo(box.x0, box.y0); ctx.lineTo(box.x0, box.y1); ctx.lineTo(box.x1, box.y1); ctx.stroke();
}

const expLabel = (e) => (e === 0 ? '1' : `1e${e}`.replace('-', '−'));

function drawTraining(d, ui) {
  const f = d.frame;
  tablesThrottled = f?.state === 'running';
  drawLoss(ui.lossCanvas, d);
  fillTable(ui.cards.loss, () => lossTable(d));
  if (d.diverged) {
    const v = d.diverged;
    ui.divBox.className = 'diverged';
    const where = String(v.where || '');
    // `train`'s wording already says "diverged at step N: …"; otherwise say when.
    ui.divBox.textContent = /^diverged at step/i.test(where)
      ? where.charAt(0).toUpperCase() + where.slice(1)
      : `Diverged at step ${v.step}${v.loss === null || v.loss === undefined ? '' : ` (loss ${fmt(v.loss)})`}: ${where}`;
  }
  if (!f) {
    for (const c of [ui.gradCanvas, ui.ratioCanvas, ui.boundCanvas, ...ui.histCanvases]) prep(c);
    return;
  }
  const guide = f.guide ?? 1e-3;
  drawBars(ui.gradCanvas, d.grads, null);
  fillTable(ui.cards.grad, () => table(`step ${f.step}`, ['layer', '‖∂L/∂W‖'], d.grads.map((v, i) => [layerName(i, d.grads.length), v])));
  drawBars(ui.ratioCanvas, d.ratios, guide);
  fillTable(ui.cards.ratio, () => table(`step ${f.step}`, ['layer', '‖ΔW‖/‖W‖', `vs guide ${fmt(guide)}`],
    d.ratios.map((v, i) => [layerName(i, d.ratios.length), v, v > 0 ? `${fmt(v / guide)}×` : '—'])));
  const hist = d.hist || {};
  ['pre', 'act', 'grad'].forEach((k, j) => {
    drawHist(ui.histCanvases[j], hist[k] || []);
    const c = [ui.cards.pre, ui.cards.act, ui.cards.grad_h][j];
    fillTable(c, () => table(hist.step === undefined ? null : `step ${hist.step}`, ['layer', 'lo', 'hi', 'saturated', 'peak bin centre'], (hist[k] || []).map((H, i) => {
      const counts = H.counts || [];
      let m = 0;
      counts.forEach((v, b) => { if (v > counts[m]) m = b; });
      const centre = counts.length ? H.lo + (m + 0.5) * (H.hi - H.lo) / counts.length : null;
      return [`layer ${i + 1}`, H.lo, H.hi, H.saturated === null || H.saturated === undefined ? '—' : `${fmt(100 * H.saturated)} %`, centre];
    })));
  });
  const n = (hist.pre || hist.act || hist.grad || []).length;
  if (ui.histKey.childElementCount !== n + 1) {
    ui.histKey.replaceChildren(h('span', null, 'Histogram lines by layer:'),
      ...Array.from({ length: n }, (_, i) => h('span', null, h('span', { class: 'swatch', style: `background:${depthColor(i, n)}` }), `layer ${i + 1}`)));
  }
  drawBoundary(ui.boundCanvas, d.boundary);
  ui.cards.boundary.el.hidden = !d.boundary;
  fillTable(ui.cards.boundary, () => boundaryTable(d.boundary));
}

const layerName = (i, n) => (i === n - 1 ? `${i + 1} (output)` : String(i + 1));

/** A card's numbers, rebuilt only while its <details> is open. */
/** Whether tables may wait (a run is going); a paused or ended run's tables are exact. */
let tablesThrottled = false;

function fillTable(card, make) {
  if (!card.details.open) return;
  // Rebuilt at most 4 times a second: the canvases keep the display rate.
  const now = performance.now();
  if (card.filled && now - card.filled < 250 && tablesThrottled) return;
  card.filled = now;
  const box = card.details.querySelector('.table-wrap');
  box.replaceChildren(make() || '');
}

function lossTable(d) {
  const evals = d.evals.map((e) => [e.step, e.train?.loss ?? null, e.train?.accuracy ?? null, e.test?.loss ?? null, e.test?.accuracy ?? null]);
  const recent = d.losses.slice(-50).map(([s, v]) => [s, v]);
  const frag = document.createDocumentFragment();
  frag.append(
    table('Evaluations', ['step', 'train loss', 'train accuracy', 'test loss', 'test accuracy'], evals),
    table(`Minibatch loss, last ${recent.length} of ${d.losses.length} steps`, ['step', 'loss'], recent),
    table('Changes', ['step', 'set'], d.changes.map((c) => [c.step, Object.entries(c.set || {}).map(([k, v]) => `${k} = ${v}`).join(', ') + (c.note ? ` (${c.note})` : '')])));
  return frag;
}

function boundaryTable(b) {
  if (!b) return null;
  const counts = new Array(b.classes).fill(0);
  for (const c of b.cells) if (c >= 0 && c < b.classes) counts[c]++;
  const acc = new Array(b.classes).fill(0);
  const tot = new Array(b.classes).fill(0);
  for (const [x, y, label] of b.points) {
    tot[label] = (tot[label] || 0) + 1;
    const col = Math.min(b.n - 1, Math.max(0, Math.floor((x - b.x[0]) / (b.x[1] - b.x[0]) * b.n)));
    const row = Math.min(b.n - 1, Math.max(0, Math.floor((b.y[1] - y) / (b.y[1] - b.y[0]) * b.n)));
    if (b.cells[row * b.n + col] === label) acc[label]++;
  }
  return table(`Grid ${b.n} × ${b.n} over x ∈ [${fmt(b.x[0])}, ${fmt(b.x[1])}], y ∈ [${fmt(b.y[0])}, ${fmt(b.y[1])}]`,
    ['class', 'cells predicted', 'points', 'points in a cell of their class'],
    counts.map((c, k) => [k, `${fmt(100 * c / b.cells.length)} %`, tot[k] || 0, tot[k] ? `${fmt(100 * acc[k] / tot[k])} %` : '—']));
}

function drawLoss(canvas, d) {
  const { ctx, w, h: H } = prep(canvas);
  const box = { x0: 48, x1: w - 22, y0: 10, y1: H - 34 };
  const pts = d.losses;
  canvas.dataset.points = String(pts.length);
  const ev = d.evals;
  // The x axis spans the whole run up to 1000 steps; a longer run's axis grows with it.
  const total = d.frame?.steps || 1;
  const last = pts.length ? pts[pts.length - 1][0] : 0;
  let maxStep = Math.min(total, Math.max(last * 1.1, Math.min(total, 1000)));
  maxStep = Math.max(maxStep, last, 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, v] of pts) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  for (const e of ev) for (const v of [e.train?.loss, e.test?.loss]) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  lo = Math.min(0, lo);
  if (hi <= lo) hi = lo + 1;
  hi *= 1.05;
  const xf = (s) => box.x0 + (s / maxStep) * (box.x1 - box.x0);
  const yf = (v) => box.y1 - ((v - lo) / (hi - lo)) * (box.y1 - box.y0);
  axes(ctx, box, linTicks(0, maxStep).map((v) => [v, fmt(v)]), linTicks(lo, hi).map((v) => [v, fmt(v)]), xf, yf, 'step');
  // Train minibatch loss: min–max per pixel column when steps outnumber pixels.
  ctx.strokeStyle = PALETTE[0];
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  let pen = false;
  const cols = box.x1 - box.x0;
  if (pts.length > cols * 2) {
    let col = -1;
    let mn = 0;
    let mx = 0;
    const flush = () => { if (col >= 0) { const x = box.x0 + col; ctx.moveTo(x, yf(mn)); ctx.lineTo(x, yf(mx) - 0.5); } };
    for (const [s, v] of pts) {
      if (!Number.isFinite(v)) continue;
      const c = Math.floor(xf(s) - box.x0);
      if (c !== col) { flush(); col = c; mn = v; mx = v; } else { if (v < mn) mn = v; if (v > mx) mx = v; }
    }
    flush();
  } else {
    for (const [s, v] of pts) {
      if (!Number.isFinite(v)) { pen = false; continue; }
      if (pen) ctx.lineTo(xf(s), yf(v)); else { ctx.moveTo(xf(s), yf(v)); pen = true; }
    }
  }
  ctx.stroke();
  // Evaluations: train ● vermillion, test ■ green.
  for (const e of ev) {
    const x = xf(e.step);
    if (Number.isFinite(e.train?.loss)) { ctx.fillStyle = PALETTE[1]; ctx.beginPath(); ctx.arc(x, yf(e.train.loss), 4, 0, 2 * Math.PI); ctx.fill(); }
    if (Number.isFinite(e.test?.loss)) { ctx.fillStyle = PALETTE[2]; ctx.fillRect(x - 4, yf(e.test.loss) - 4, 8, 8); }
  }
  // Changes: a vertical dashed marker with its label.
  ctx.setLineDash([4, 4]);
  ctx.strokeStyle = MUTED;
  ctx.fillStyle = TEXT;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  d.changes.forEach((c, i) => {
    const x = xf(c.step);
    ctx.beginPath(); ctx.moveTo(x, box.y0); ctx.lineTo(x, box.y1); ctx.stroke();
    const label = Object.entries(c.set || {}).map(([k, v]) => `${k} ${v}`).join(', ') + (c.note ? ` (${c.note})` : '');
    const tw = ctx.measureText(label).width;
    ctx.fillText(label, Math.min(x + 3, box.x1 - tw), box.y0 + 2 + (i % 4) * 14);
  });
  ctx.setLineDash([]);
  if (d.diverged) {
    const x = xf(d.diverged.step);
    ctx.strokeStyle = PALETTE[1];
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x, box.y0); ctx.lineTo(x, box.y1); ctx.stroke();
    ctx.fillStyle = PALETTE[1];
    const label = `diverged at ${d.diverged.step}`;
    const left = x - 3 - ctx.measureText(label).width >= box.x0;
    ctx.textAlign = left ? 'right' : 'left';
    ctx.fillText(label, left ? x - 3 : x + 3, box.y1 - 16);
  }
}

/** Bars per layer on a log axis; `guide` draws a dashed horizontal line. */
function drawBars(canvas, vals, guide) {
  const { ctx, w, h: H } = prep(canvas);
  const box = { x0: 48, x1: w - 8, y0: 8, y1: H - 34 };
  const fin = vals.filter((v) => Number.isFinite(v) && v > 0);
  let lo = fin.length ? Math.floor(log10(Math.min(...fin))) : -6;
  let hi = fin.length ? Math.ceil(log10(Math.max(...fin))) : 0;
  if (guide) { lo = Math.min(lo, Math.floor(log10(guide)) - 1); hi = Math.max(hi, Math.ceil(log10(guide)) + 1); }
  if (hi <= lo) hi = lo + 1;
  const yf = (e) => box.y1 - ((e - lo) / (hi - lo)) * (box.y1 - box.y0);
  const n = Math.max(1, vals.length);
  const bw = (box.x1 - box.x0) / n;
  const xf = (i) => box.x0 + (i + 0.5) * bw;
  const step = Math.max(1, Math.ceil(n / 12));
  const xt = [];
  for (let i = 0; i < n; i += step) xt.push([i, layerName(i, n).replace(' (output)', ' out')]);
  axes(ctx, box, xt, niceLogTicks(lo, hi).map((e) => [e, expLabel(e)]), xf, yf, 'layer');
  vals.forEach((v, i) => {
    const x = box.x0 + i * bw + bw * 0.15;
    const bwid = bw * 0.7;
    if (Number.isFinite(v) && v > 0) {
      ctx.fillStyle = i === n - 1 ? PALETTE[3] : PALETTE[0];
      const y = yf(Math.max(lo, log10(v)));
      ctx.fillRect(x, y, bwid, box.y1 - y);
    } else {
      ctx.fillStyle = PALETTE[1];
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(v === 0 ? '0' : '∞', x + bwid / 2, box.y1 - 2);
    }
  });
  if (guide) {
    const y = yf(log10(guide));
    ctx.strokeStyle = TEXT;
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.beginPath(); ctx.moveTo(box.x0, y); ctx.lineTo(box.x1, y); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = TEXT;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`guide ${expLabel(Math.round(log10(guide)))}`, box.x1, y - 2);
  }
}

/** makemore-style: one density line per layer over a shared x range, coloured by depth. */
function drawHist(canvas, hs) {
  const { ctx, w, h: H } = prep(canvas);
  const box = { x0: 40, x1: w - 8, y0: 8, y1: H - 34 };
  if (!hs.length) return;
  let lo = Infinity;
  let hi = -Infinity;
  let top = 0;
  const dens = hs.map((Hh) => {
    const c = Hh.counts || [];
    const total = c.reduce((a, b) => a + b, 0) || 1;
    const bw = (Hh.hi - Hh.lo) / (c.length || 1) || 1;
    const dd = c.map((v) => v / total / bw);
    if (Number.isFinite(Hh.lo)) lo = Math.min(lo, Hh.lo);
    if (Number.isFinite(Hh.hi)) hi = Math.max(hi, Hh.hi);
    for (const v of dd) if (Number.isFinite(v)) top = Math.max(top, v);
    return dd;
  });
  if (!(hi > lo)) { lo = -1; hi = 1; }
  if (!(top > 0)) top = 1;
  const xf = (x) => box.x0 + ((x - lo) / (hi - lo)) * (box.x1 - box.x0);
  const yf = (v) => box.y1 - (v / top) * (box.y1 - box.y0);
  axes(ctx, box, linTicks(lo, hi, 6).map((v) => [v, fmt(v)]), [], xf, yf, '');
  ctx.lineWidth = 1.5;
  hs.forEach((Hh, i) => {
    const c = dens[i];
    const bw = (Hh.hi - Hh.lo) / (c.length || 1);
    ctx.strokeStyle = depthColor(i, hs.length);
    ctx.beginPath();
    c.forEach((v, b) => {
      const x = xf(Hh.lo + (b + 0.5) * bw);
      if (b === 0) ctx.moveTo(x, yf(v)); else ctx.lineTo(x, yf(v));
    });
    ctx.stroke();
  });
  // Saturated share per layer, top right.
  ctx.fillStyle = TEXT;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'top';
  const sat = hs.map((Hh) => Hh.saturated).filter((v) => Number.isFinite(v));
  if (sat.length) {
    const mean = sat.reduce((a, b) => a + b, 0) / sat.length;
    ctx.fillText(`saturated: mean ${fmt(100 * mean)} %, max ${fmt(100 * Math.max(...sat))} %`, box.x1, box.y0);
  }
}

/** The boundary: each cell in its class's colour, paler where less confident; points on top. */
function drawBoundary(canvas, b) {
  const { ctx, w, h: H } = prep(canvas);
  if (!b) return;
  const side = Math.min(w, H);
  const cell = side / b.n;
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const rgb = PALETTE.map(hex);
  for (let r = 0; r < b.n; r++) {
    for (let c = 0; c < b.n; c++) {
      const k = b.cells[r * b.n + c];
      const conf = b.confidence?.[r * b.n + c] ?? 1;
      const base = rgb[k % rgb.length] || [200, 200, 200];
      const t = 0.15 + 0.45 * Math.max(0, Math.min(1, (conf - 1 / b.classes) / (1 - 1 / b.classes)));
      const col = base.map((v) => Math.round(255 + (v - 255) * t));
      ctx.fillStyle = `rgb(${col[0]},${col[1]},${col[2]})`;
      ctx.fillRect(c * cell, r * cell, cell + 0.5, cell + 0.5);
    }
  }
  const xf = (x) => ((x - b.x[0]) / (b.x[1] - b.x[0])) * side;
  const yf = (y) => ((b.y[1] - y) / (b.y[1] - b.y[0])) * side;
  ctx.lineWidth = 1;
  ctx.strokeStyle = '#ffffff';
  for (const [x, y, k] of b.points) {
    ctx.fillStyle = PALETTE[k % PALETTE.length];
    const px = xf(x);
    const py = yf(y);
    ctx.beginPath();
    if (k % 3 === 0) ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    else if (k % 3 === 1) ctx.rect(px - 3.2, py - 3.2, 6.4, 6.4);
    else { ctx.moveTo(px, py - 4.2); ctx.lineTo(px + 4, py + 3); ctx.lineTo(px - 4, py + 3); ctx.closePath(); }
    ctx.fill();
    ctx.stroke();
  }
}

// ---------------------------------------------------------------- navigation and routing

async function buildNav() {
  const [qs, ds] = await Promise.all([questions().catch(() => []), demos().catch(() => [])]);
  $('#nav-lessons').replaceChildren(...qs.map((q) => h('li', null, h('a', { href: `#/lesson/${q.id}` }, h('span', { class: 'num' }, `${q.id}.`), ` ${q.title}`))));
  $('#nav-demos').replaceChildren(...ds.map((d) => h('li', null, h('a', { href: `#/demo/${d.name}` }, d.name))));
  markNav();
}

function markNav() {
  const here = location.hash || '#/';
  const path = here.split('?')[0];
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  const seq = ++routeSeq;
  const raw = (location.hash || '#/').slice(1);
  const [path, qs] = raw.split('?');
  const params = new URLSearchParams(qs || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  markNav();
  const nav = $('#nav');
  nav.classList.remove('open');
  $('#nav-toggle').setAttribute('aria-expanded', 'false');
  if (trainSession && parts[0] !== 'train') { trainSession.close(); trainSession = null; }
  try {
    if (parts[0] === 'lesson' && parts[1]) await lessonView(parts[1]);
    else if (parts[0] === 'demo' && parts[1]) await demoView(parts[1]);
    else if (parts[0] === 'train') await trainView(params);
    else await homeView();
  } catch (e) {
    if (seq !== routeSeq) return;
    view().replaceChildren(h('h1', null, 'Not available'), h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

function init() {
  const toggle = $('#nav-toggle');
  toggle.addEventListener('click', () => {
    const open = $('#nav').classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  window.addEventListener('hashchange', () => { route().then(() => view().focus({ preventScroll: false })); window.scrollTo(0, 0); });
  buildNav();
  route();
}

/** Stops the current view (a class push takes the screen): later data is dropped. */
function suspend() {
  routeSeq++;
  if (trainSession) { trainSession.close(); trainSession = null; }
  view().replaceChildren();
}

window.gradtutorLab = {
  h, $, api, HttpError, fmt, table, wrap, hooks, demos, questions, makeControl, mountDemo, lessonView,
  init, route, suspend,
};

if (document.body?.dataset.lab !== 'manual') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}

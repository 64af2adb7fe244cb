// gradtutor class: the instructor's dashboard (GET /teach#TOKEN). Plain ES2020, no build
// step, nothing loaded from elsewhere; lab.js (loaded first, not started) lends its helpers
// and its control generation. The instructor token comes from the URL fragment (never sent
// in a URL by the browser) and goes out as `Authorization: Bearer`, except on the event
// stream, which EventSource can only give a query. Names, answers and every server text are
// inserted as text.
'use strict';

(() => {
  const L = window.gradtutorLab;
  const { h, $, fmt } = L;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const token = decodeURIComponent((location.hash || '').slice(1)).trim();
  const auth = { Authorization: `Bearer ${token}` };
  const api = (path, opts = {}) => L.api(path, { ...opts, headers: { ...auth, ...(opts.headers || {}) } });

  let state = { push: null, locked: false, revealed: [] };
  let results = null;
  /** Question slug → {id, title, quiz} from /api/questions/ID, fetched once. */
  const lessons = new Map();
  /** Items whose answer list is open (kept across redraws). */
  const openLists = new Set();

  // ------------------------------------------------------------ lessons and demos

  async function lesson(slugOrId) {
    const k = String(slugOrId);
    if (lessons.has(k)) return lessons.get(k);
    const p = L.api(`/api/questions/${encodeURIComponent(k)}`);
    lessons.set(k, p);
    p.catch(() => lessons.delete(k));
    return p;
  }

  /** A pushed thing in words: "item 2 of lesson 3 (slug): prompt". */
  function describe(p) {
    if (!p || p.kind === 'clear') return 'Nothing pushed.';
    if (p.kind === 'item') return `Quiz item ${p.item} of ${p.question}: ${p.prompt || ''}`;
    if (p.kind === 'question') return `Lesson ${p.question}`;
    if (p.kind === 'experiment') {
      const s = Object.entries(p.settings || {}).map(([k, v]) => `--${k} ${v}`).join(' ');
      return `Experiment: gradtutor demo ${p.name}${s ? ` ${s}` : ''}`;
    }
    return String(p.kind);
  }

  // ------------------------------------------------------------ the push form

  const form = () => $('#class-push-form');
  let demoCtls = new Map();
  let demoInitial = new Map();

  function kind() { return new FormData(form()).get('kind'); }

  function showFields() {
    const k = kind();
    for (const f of form().querySelectorAll('.field[data-for]')) f.hidden = !f.dataset.for.split(' ').includes(k);
  }

  async function fillItems() {
    const sel = $('#push-item');
    const slug = $('#push-question').value;
    sel.replaceChildren();
    if (!slug) return;
    try {
      const q = await lesson(slug);
      if ($('#push-question').value !== slug) return;
      sel.replaceChildren(...(q.quiz || []).map((it) => h('option', { value: it.item },
        `${it.item}. ${it.kind === 'number' ? '(number) ' : ''}${it.prompt}`)));
      if (!q.quiz?.length) sel.append(h('option', { value: '' }, 'this lesson has no quiz'));
    } catch (e) {
      $('#class-push-error').textContent = e.message;
    }
  }

  async function fillControls() {
    const box = $('#push-controls');
    const name = $('#push-experiment').value;
    const exp = (await L.demos()).find((e) => e.name === name);
    demoCtls = new Map();
    demoInitial = new Map();
    if (!exp) { box.replaceChildren(); return; }
    const primary = h('div', { class: 'more-grid' });
    const more = h('div', { class: 'more-grid' });
    for (const c of exp.controls) {
      const ctl = L.makeControl(c, null, 'pushset');
      demoCtls.set(c.key, ctl);
      demoInitial.set(c.key, ctl.get());
      (['depth', 'width', 'activation', 'init', 'precision'].includes(c.key) ? primary : more).append(ctl.el);
    }
    box.replaceChildren(primary, more.childElementCount
      ? h('details', { class: 'more' }, h('summary', null, `More settings (${more.childElementCount})`), more) : '');
  }

  /** The experiment's settings that differ from its own, as the demo query keys. */
  function settings() {
    const s = {};
    for (const [k, ctl] of demoCtls) {
      const v = ctl.get();
      if (v !== '' && v !== demoInitial.get(k)) s[k] = v;
    }
    return s;
  }

  async function push(body) {
    $('#class-push-error').textContent = '';
    const button = $('#class-push-submit');
    button.disabled = true;
    try {
      const r = await api('/api/class/push', { body });
      state.push = r.pushed.kind === 'clear' ? null : r.pushed;
      renderNow();
      if (results) renderResults(results);
    } catch (e) {
      $('#class-push-error').textContent = e.message;
    } finally {
      button.disabled = false;
    }
  }

  function onSubmit(ev) {
    ev.preventDefault();
    const k = kind();
    const slug = $('#push-question').value;
    if (k === 'item') {
      const item = Number($('#push-item').value);
      if (!slug || !item) { $('#class-push-error').textContent = 'Choose a lesson and one of its quiz items.'; return; }
      push({ kind: 'item', question: slug, item });
    } else if (k === 'question') {
      if (!slug) { $('#class-push-error').textContent = 'Choose a lesson.'; return; }
      push({ kind: 'question', question: slug });
    } else if (k === 'experiment') {
      push({ kind: 'experiment', name: $('#push-experiment').value, settings: settings() });
    }
  }

  // ------------------------------------------------------------ reveal and lock

  async function reveal(question, item) {
    $('#class-action-error').textContent = '';
    try {
      await api('/api/class/reveal', { body: { question, item: Number(item) } });
      const k = `${question}#${item}`;
      if (!state.revealed.some((r) => `${r.question}#${r.item}` === k)) state.revealed.push({ question, item: Number(item) });
      renderNow();
      refreshResults();
    } catch (e) {
      $('#class-action-error').textContent = e.message;
    }
  }

  async function toggleLock() {
    $('#class-action-error').textContent = '';
    try {
      const r = await api('/api/class/lock', { body: { locked: !state.locked } });
      state.locked = !!r.locked;
      renderNow();
    } catch (e) {
      $('#class-action-error').textContent = e.message;
    }
  }

  const isRevealed = (question, item) => state.revealed.some((r) => r.question === question && Number(r.item) === Number(item));

  function renderNow() {
    const p = state.push;
    $('#class-now').textContent = describe(p);
    const rb = $('#class-reveal');
    const canReveal = p && p.kind === 'item';
    rb.disabled = !canReveal || isRevealed(p.question, p.item);
    rb.textContent = canReveal && isRevealed(p.question, p.item) ? 'Revealed' : 'Reveal the answer';
    const lb = $('#class-lock');
    lb.dataset.locked = String(state.locked);
    lb.textContent = state.locked ? 'Unlock answering' : 'Lock answering';
    lb.setAttribute('aria-pressed', String(state.locked));
  }

  // ------------------------------------------------------------ results

  let resultsBusy = false;
  let resultsAgain = false;

  async function refreshResults() {
    if (resultsBusy) { resultsAgain = true; return; }
    resultsBusy = true;
    try {
      renderResults(await api('/api/class/results'));
      $('#teach-error').textContent = '';
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        // The token is new on every start: an old address stops working.
        $('#teach-error').textContent = `${e.message}: this address's token is not this class's; open the instructor address gradtutor printed when it started.`;
      } else $('#class-action-error').textContent = e.message;
    } finally {
      resultsBusy = false;
      if (resultsAgain) { resultsAgain = false; refreshResults(); }
    }
  }

  /** Each student's latest attempt at an item. */
  function latest(item) {
    const by = new Map();
    for (const a of item.answers || []) {
      const prev = by.get(a.student);
      if (!prev || (a.attempt ?? 0) >= (prev.attempt ?? 0)) by.set(a.student, a);
    }
    return [...by.values()];
  }

  function renderResults(r) {
    results = r;
    renderStudents(r);
    const box = $('#class-results');
    const items = r.items || [];
    if (!items.length) { box.replaceChildren(h('p', { class: 'legend' }, 'No answers yet.')); scheduleRoster(); return; }
    // The item on the screens now first, then the latest first.
    const p = state.push;
    const now = (it) => p && p.kind === 'item' && p.question === it.question && Number(p.item) === Number(it.item);
    const ordered = [...items.filter(now), ...items.filter((it) => !now(it)).reverse()];
    box.replaceChildren(...ordered.map(itemResult));
    scheduleRoster();
  }

  function itemResult(it) {
    const revealed = !!it.revealed || isRevealed(it.question, it.item);
    const last = latest(it);
    const el = h('article', { class: 'class-item-result', dataset: { question: it.question, item: it.item, revealed: String(revealed), type: it.type } });
    const title = h('h3', null, `${it.id ?? ''}${it.id !== undefined ? '. ' : ''}${it.question} · item ${it.item}`);
    const prompt = h('p', { class: 'prompt' });
    lesson(it.question).then((q) => {
      const qi = (q.quiz || []).find((x) => Number(x.item) === Number(it.item));
      if (qi) prompt.textContent = qi.prompt;
    }).catch(() => {});
    const revealBtn = revealed ? h('span', { class: 'tag revealed' }, 'revealed')
      : h('button', { type: 'button', class: 'secondary class-reveal-item' }, 'Reveal');
    if (!revealed) revealBtn.addEventListener('click', () => reveal(it.question, it.item));
    el.append(h('div', { class: 'result-head' }, title, revealBtn), prompt,
      h('p', { class: 'legend' }, `${last.length} answered (latest answer each), ${(it.answers || []).length} attempts`));
    if (it.type === 'number') el.append(histogram(it, last, revealed));
    else el.append(optionBars(it, revealed));
    // Who answered what: the instructor's, hidden on the projector.
    const rows = last.sort((a, b) => String(a.name).localeCompare(String(b.name)))
      .map((a) => [a.name, a.answer, a.correct === true ? 'right' : a.correct === false ? 'wrong' : '—', String(a.attempt ?? ''), a.time || '']);
    const k = `${it.question}#${it.item}`;
    const details = h('details', { class: 'private' }, h('summary', null, `Answers by student (${rows.length})`),
      L.wrap(L.table(null, ['student', 'answer', 'graded', 'attempt', 'time'], rows)));
    details.open = openLists.has(k);
    details.addEventListener('toggle', () => { if (details.open) openLists.add(k); else openLists.delete(k); });
    el.append(details);
    return el;
  }

  /** One bar per option with its count (`.class-count[data-option]`); the key marked. */
  function optionBars(it, revealed) {
    const opts = it.options || [];
    const max = Math.max(1, ...opts.map((o) => o.count || 0));
    const list = h('ul', { class: 'class-options' });
    for (const o of opts) {
      const pct = (100 * (o.count || 0)) / max;
      const bar = h('span', { class: 'bar' });
      bar.style.width = `${pct}%`;
      list.append(h('li', { class: `class-option${o.correct ? ' key' : ''}`, dataset: { option: o.key, key: String(!!o.correct) } },
        h('span', { class: 'otext' }, h('strong', null, `${o.key})`), ' ', o.text,
          o.correct ? h('span', { class: `key-mark${revealed ? ' shown' : ''}` }, ' ✓ key') : null),
        h('span', { class: 'barbox' }, bar),
        h('span', { class: 'class-count', dataset: { option: o.key } }, String(o.count || 0))));
    }
    return list;
  }

  /** Numeric answers as an SVG histogram, the measured figure (and its tolerance) marked. */
  function histogram(it, last, revealed) {
    const vals = last.map((a) => Number(a.answer)).filter(Number.isFinite);
    // On the projector before the reveal, the axis does not stretch to the hidden key.
    const keyShown = revealed || !document.body.classList.contains('projector');
    const measured = Number.isFinite(it.measured) ? it.measured : null;
    const span = measured !== null && keyShown ? [measured - (Number.isFinite(it.tolerance) ? it.tolerance : 0), measured + (Number.isFinite(it.tolerance) ? it.tolerance : 0)] : [];
    const tol = Number.isFinite(it.tolerance) ? it.tolerance : 0;
    const W = 320;
    const H = 150;
    const box = { x0: 12, x1: W - 12, y0: 22, y1: H - 24 };
    let lo = Math.min(...vals, ...span);
    let hi = Math.max(...vals, ...span);
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (hi <= lo) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const pad = (hi - lo) * 0.05;
    lo -= pad; hi += pad;
    const bins = Math.max(5, Math.min(20, Math.ceil(Math.sqrt(vals.length || 1)) + 4));
    const counts = new Array(bins).fill(0);
    for (const v of vals) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
    const top = Math.max(1, ...counts);
    const xf = (v) => box.x0 + ((v - lo) / (hi - lo)) * (box.x1 - box.x0);
    const yf = (c) => box.y1 - (c / top) * (box.y1 - box.y0);
    const s = (tag, attrs, text) => {
      const el = document.createElementNS(SVG_NS, tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
      if (text !== undefined) el.textContent = text;
      return el;
    };
    const svg = s('svg', { class: 'class-hist', viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-n': vals.length,
      'data-measured': keyShown ? (measured ?? '') : '', 'aria-label': `Histogram of ${vals.length} answers${measured !== null && keyShown ? `; measured ${fmt(measured)}` : ''}` });
    svg.append(s('title', {}, `${vals.length} answers${measured !== null && keyShown ? `, measured ${fmt(measured)} ± ${fmt(tol)}` : ''}`));
    if (measured !== null && keyShown) {
      const key = s('g', { class: `key-mark${revealed ? ' shown' : ''}` });
      if (tol > 0) key.append(s('rect', { x: xf(measured - tol), y: box.y0, width: Math.max(1, xf(measured + tol) - xf(measured - tol)), height: box.y1 - box.y0, fill: '#009E73', 'fill-opacity': 0.15 }));
      key.append(s('line', { x1: xf(measured), x2: xf(measured), y1: box.y0 - 4, y2: box.y1, stroke: '#00704f', 'stroke-width': 2, 'stroke-dasharray': '5 3' }));
      const right = xf(measured) > (box.x0 + box.x1) / 2;
      key.append(s('text', { x: xf(measured) + (right ? -4 : 4), y: box.y0 - 8, 'text-anchor': right ? 'end' : 'start', 'font-size': 11, fill: '#00704f' }, `measured ${fmt(measured)}${tol ? ` ± ${fmt(tol)}` : ''}`));
      svg.append(key);
    }
    const bw = (box.x1 - box.x0) / bins;
    counts.forEach((c, i) => {
      if (!c) return;
      const x = box.x0 + i * bw;
      svg.append(s('rect', { class: 'bin', x: x + 1, y: yf(c), width: Math.max(1, bw - 2), height: box.y1 - yf(c), fill: '#0072B2', 'data-count': c }));
      svg.append(s('text', { x: x + bw / 2, y: yf(c) - 3, 'text-anchor': 'middle', 'font-size': 11, fill: '#1a1a1a' }, String(c)));
    });
    svg.append(s('line', { x1: box.x0, x2: box.x1, y1: box.y1, y2: box.y1, stroke: '#555555' }));
    for (const v of [lo + pad, (lo + hi) / 2, hi - pad]) {
      svg.append(s('text', { x: xf(v), y: box.y1 + 15, 'text-anchor': 'middle', 'font-size': 10, fill: '#555555' }, fmt(v)));
    }
    if (!vals.length) svg.append(s('text', { x: (box.x0 + box.x1) / 2, y: (box.y0 + box.y1) / 2, 'text-anchor': 'middle', 'font-size': 13, fill: '#555555' }, 'no answers yet'));
    return svg;
  }

  function renderStudents(r) {
    const students = r.students || [];
    // Latest answer per student per item, for the instructor's column.
    const byStudent = new Map();
    for (const it of r.items || []) {
      for (const a of latest(it)) {
        if (!byStudent.has(a.student)) byStudent.set(a.student, []);
        byStudent.get(a.student).push(`${it.id ?? it.question}.${it.item}: ${a.answer}${a.correct === true ? ' ✓' : a.correct === false ? ' ✗' : ''}`);
      }
    }
    const rows = students.map((s) => h('tr', { dataset: { student: s.student, connected: String(!!s.connected) } },
      h('th', { scope: 'row' }, s.name),
      h('td', { class: 'text' }, s.connected ? 'yes' : 'no'),
      h('td', null, String(s.answered ?? 0)),
      h('td', { class: 'private' }, String(s.right ?? 0)),
      h('td', { class: 'text private' }, (byStudent.get(s.student) || []).join(', '))));
    $('#class-students tbody').replaceChildren(...rows);
    const on = students.filter((s) => s.connected).length;
    $('#class-student-count').textContent = `${students.length} joined, ${on} connected`;
  }

  // ------------------------------------------------------------ the roster

  let rosterTimer = 0;
  let rosterBusy = false;

  function scheduleRoster() {
    if (rosterTimer) return;
    rosterTimer = setTimeout(async () => {
      rosterTimer = 0;
      if (rosterBusy) { scheduleRoster(); return; }
      rosterBusy = true;
      try {
        $('#class-roster').textContent = await api('/api/class/roster?format=text', { raw: true });
      } catch (e) {
        $('#class-roster').textContent = e.message;
      } finally {
        rosterBusy = false;
      }
    }, 500);
  }

  async function download(format) {
    try {
      const text = await api(`/api/class/roster?format=${format}`, { raw: true });
      const ext = { csv: 'csv', markdown: 'md', text: 'txt' }[format];
      const type = { csv: 'text/csv', markdown: 'text/markdown', text: 'text/plain' }[format];
      const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
      const a = h('a', { href: url, download: `class-roster.${ext}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      $('#class-action-error').textContent = e.message;
    }
  }

  // ------------------------------------------------------------ the event stream

  function connect() {
    const conn = $('#class-conn');
    const es = new EventSource(`/api/class/events?token=${encodeURIComponent(token)}`);
    const on = (name, f) => es.addEventListener(name, (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (_) { return; }
      f(data);
    });
    es.addEventListener('open', () => { conn.dataset.state = 'connected'; conn.textContent = 'connected'; });
    es.addEventListener('error', () => {
      conn.dataset.state = 'reconnecting';
      conn.textContent = 'reconnecting…';
      // Closed for good: again in 3 s, unless the token was refused.
      if (es.readyState === EventSource.CLOSED && !$('#teach-error').textContent) setTimeout(connect, 3000);
    });
    on('state', (s) => {
      state = { push: s.push || null, locked: !!s.locked, revealed: [...(s.revealed || [])] };
      renderNow();
      refreshResults();
    });
    on('push', (p) => { state.push = p.kind === 'clear' ? null : p; renderNow(); if (results) renderResults(results); });
    on('reveal', (r) => {
      if (!isRevealed(r.question, r.item)) state.revealed.push({ question: r.question, item: r.item });
      renderNow();
      if (results) renderResults(results);
    });
    on('lock', (l) => { state.locked = !!l.locked; renderNow(); });
    on('results', (r) => renderResults(r));
  }

  // ------------------------------------------------------------ start

  async function start() {
    // Another token in the address is another instructor: start afresh with it.
    window.addEventListener('hashchange', () => location.reload());
    if (!/^[0-9a-fA-F]{16,}$/.test(token)) {
      $('#teach-error').textContent = 'This dashboard needs the instructor address that `gradtutor serve --class` printed, with its #TOKEN part.';
      $('#class-conn').textContent = 'no instructor token';
      return;
    }
    const projector = $('#class-projector');
    projector.addEventListener('change', () => {
      document.body.classList.toggle('projector', projector.checked);
      if (results) renderResults(results);
    });
    form().addEventListener('submit', onSubmit);
    form().addEventListener('change', (ev) => {
      if (ev.target.name === 'kind') showFields();
      if (ev.target.id === 'push-question') fillItems();
      if (ev.target.id === 'push-experiment') fillControls();
    });
    $('#class-clear').addEventListener('click', () => push({ kind: 'clear' }));
    $('#class-reveal').addEventListener('click', () => { const p = state.push; if (p && p.kind === 'item') reveal(p.question, p.item); });
    $('#class-lock').addEventListener('click', toggleLock);
    for (const b of document.querySelectorAll('[data-export]')) b.addEventListener('click', () => download(b.dataset.export));
    showFields();
    renderNow();
    try {
      const [qs, ds] = await Promise.all([L.questions(), L.demos()]);
      $('#push-question').replaceChildren(...qs.map((q) => h('option', { value: q.slug }, `${q.id}. ${q.title}`)));
      $('#push-experiment').replaceChildren(...ds.map((d) => h('option', { value: d.name }, d.name)));
      await Promise.all([fillItems(), fillControls()]);
    } catch (e) {
      $('#class-push-error').textContent = e.message;
    }
    form().dataset.ready = 'true';
    connect();
    refreshResults();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

// gradtutor class: the student page of `gradtutor serve --class` (GET /join). Plain ES2020,
// no build step, nothing loaded from elsewhere. It joins the class (code and name), keeps
// its token in localStorage, and then shows the lab of lab.js (loaded first, started here)
// with a banner; what the instructor pushes (a lesson, a quiz item, an experiment) takes the
// screen in #class-push. Quiz answers, the lessons' included, go to /api/class/answer and
// are graded when the instructor reveals them. Every name and server text is inserted as
// text; the only HTML inserted is the lab's server-escaped lesson HTML, as in the lab.
'use strict';

(() => {
  const L = window.gradtutorLab;
  const { h, $, api } = L;
  const TOKEN_KEY = 'gradtutor-class-token';

  let token = null;
  /** This student: {name, student}. */
  let me = null;
  let events = null;
  /** The push on screen (as the server sent it), or null. */
  let current = null;
  let locked = false;
  /** "slug#item" → the reveal event ({key, explanation}) or {} when known only from `state`. */
  const revealed = new Map();
  /** "slug#item" → this student's latest answer: {answer, attempt, correct (bool or null)}. */
  const mine = new Map();
  let labStarted = false;

  const itemKey = (question, item) => `${question}#${item}`;

  const store = {
    get() { try { return localStorage.getItem(TOKEN_KEY); } catch (_) { return null; } },
    set(v) { try { localStorage.setItem(TOKEN_KEY, v); } catch (_) { /* private mode: this tab only */ } },
    clear() { try { localStorage.removeItem(TOKEN_KEY); } catch (_) { /* nothing kept */ } },
  };

  // ------------------------------------------------------------ joining

  function showJoin(message) {
    document.body.classList.remove('joined');
    $('#join-box').hidden = false;
    $('#class-banner').hidden = true;
    $('#class-push').hidden = true;
    $('#lab-shell').hidden = true;
    $('#join-error').textContent = message || '';
    const code = $('#join [name=code]');
    // A code in the address (/join?code=K7Q2MX, as a QR code may carry it) is filled in.
    const fromUrl = new URLSearchParams(location.search).get('code');
    if (fromUrl && !code.value) code.value = fromUrl.toUpperCase();
  }

  function fieldError(which, text) {
    const el = $(`#join-${which}-error`);
    el.textContent = text || '';
    const input = $(`#join [name=${which}]`);
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  async function join(ev) {
    ev.preventDefault();
    const form = $('#join');
    const code = form.elements.code.value.replace(/\s+/g, '').toUpperCase();
    const name = form.elements.name.value.trim();
    fieldError('code', '');
    fieldError('name', '');
    $('#join-error').textContent = '';
    if (!code) { fieldError('code', 'Type the join code your instructor shows.'); form.elements.code.focus(); return; }
    if (!name) { fieldError('name', 'Type your name.'); form.elements.name.focus(); return; }
    const button = $('#join-submit');
    button.disabled = true;
    try {
      const r = await api('/api/class/join', { body: { code, name } });
      token = r.token;
      store.set(token);
      me = { name: r.name, student: r.student };
      mine.clear();
      joined();
    } catch (e) {
      // The server's own message, next to the field it is about.
      if (e.status === 403) { fieldError('code', e.message); form.elements.code.focus(); }
      else if (e.status === 400 || e.status === 409) { fieldError('name', e.message); form.elements.name.focus(); }
      else $('#join-error').textContent = e.status ? e.message : `The class server did not answer: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  }

  /** Joined (or back with a kept token): the banner, the lab, the class's events. */
  function joined() {
    document.body.classList.add('joined');
    $('#join-box').hidden = true;
    $('#lab-shell').hidden = false;
    banner();
    if (!labStarted) { labStarted = true; L.init(); }
    connect();
  }

  // ------------------------------------------------------------ the banner

  let connState = 'connecting…';

  function banner() {
    const b = $('#class-banner');
    b.hidden = false;
    const minimized = current && current.kind !== 'clear' && $('#class-push').hidden;
    b.replaceChildren(...[
      h('span', { class: 'who' }, h('strong', null, me ? me.name : ''), ' · in class'),
      h('span', { class: 'conn', dataset: { state: connState } }, connState),
      locked ? h('span', { class: 'lockmark' }, 'answering locked') : null,
      minimized ? h('button', { type: 'button', id: 'class-show-push' }, 'Back to your instructor’s screen') : null,
    ].filter(Boolean));
    const show = $('#class-show-push');
    if (show) show.addEventListener('click', () => takeScreen(true));
  }

  // ------------------------------------------------------------ the class's events

  function connect() {
    if (events) events.close();
    connState = 'connecting…';
    banner();
    const es = new EventSource(`/api/class/events?token=${encodeURIComponent(token)}`);
    events = es;
    es.addEventListener('open', () => { connState = 'connected'; banner(); });
    es.addEventListener('error', () => {
      if (events !== es) return;
      connState = 'reconnecting…';
      banner();
      // Closed for good (a refused token, the server gone): ask who we are, then retry.
      if (es.readyState === EventSource.CLOSED) setTimeout(() => { if (events === es) checkToken(); }, 2000);
    });
    const on = (name, f) => es.addEventListener(name, (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (_) { return; }
      f(data);
    });
    on('state', onState);
    on('push', (p) => showPush(p));
    on('reveal', onReveal);
    on('lock', (l) => { locked = !!l.locked; banner(); refreshStates(); });
  }

  /** After the stream closed: a forgotten token → join again; else connect again. */
  async function checkToken() {
    try {
      await loadMe();
      connect();
    } catch (e) {
      if (e.status === 401) forget('Your instructor’s class does not know this page any more; join again.');
      else setTimeout(checkToken, 3000);
    }
  }

  function forget(message) {
    if (events) { events.close(); events = null; }
    store.clear();
    token = null;
    me = null;
    showJoin(message);
  }

  /** GET /api/class/me: this student's name and answers (correctness for revealed items). */
  async function loadMe() {
    const r = await api(`/api/class/me?token=${encodeURIComponent(token)}`);
    me = { name: r.name, student: r.student };
    mine.clear();
    for (const a of r.answers || []) {
      const k = itemKey(a.question, a.item);
      const prev = mine.get(k);
      mine.set(k, { answer: a.answer, attempt: (prev?.attempt || 0) + 1, correct: a.correct ?? null });
    }
    return r;
  }

  /** The whole state (first on every connection): applied at once, answers fetched after. */
  function onState(s) {
    locked = !!s.locked;
    for (const r of s.revealed || []) {
      const k = itemKey(r.question, r.item);
      if (!revealed.has(k)) revealed.set(k, {});
    }
    const p = s.push || null;
    if (!p || p.kind === 'clear') { if (current) clearPush(); }
    else if (!current || JSON.stringify(current) !== JSON.stringify(p)) showPush(p);
    banner();
    loadMe().then(refreshStates, () => { /* the answers shown stay as they were */ });
  }

  async function onReveal(r) {
    const k = itemKey(r.question, r.item);
    revealed.set(k, r);
    // Whether this student was right is the server's grading: ask for it.
    try { await loadMe(); } catch (_) { /* shown without it */ }
    refreshStates();
    // The verdict in sight on a phone, where the item may fill the screen.
    const shown = current && current.kind === 'item' && itemKey(current.question, current.item) === k
      && !panel().hidden && $('#class-push .class-reveal');
    if (shown) shown.scrollIntoView({ block: 'end' });
  }

  // ------------------------------------------------------------ pushed content

  const panel = () => $('#class-push');

  function clearPush() {
    current = null;
    const p = panel();
    p.dataset.kind = '';
    p.replaceChildren();
    p.hidden = true;
    if (!$('#lab-shell').hidden) { banner(); return; }
    $('#lab-shell').hidden = false;
    banner();
    L.route();
  }

  /** The push panel takes the screen (the lab's view stops until "Back to the lab"). */
  function takeScreen(focus) {
    panel().hidden = false;
    if (!$('#lab-shell').hidden) {
      L.suspend();
      $('#lab-shell').hidden = true;
    }
    banner();
    window.scrollTo(0, 0);
    if (focus) panel().focus({ preventScroll: true });
  }

  function backToLab() {
    panel().hidden = true;
    $('#lab-shell').hidden = false;
    banner();
    L.route();
  }

  function showPush(p) {
    if (!p || p.kind === 'clear') { clearPush(); return; }
    current = p;
    const box = panel();
    box.dataset.kind = p.kind;
    const back = h('button', { type: 'button', class: 'secondary back' }, 'Back to the lab');
    back.addEventListener('click', backToLab);
    const head = h('div', { class: 'push-head' }, h('p', { class: 'push-from' }, 'From your instructor'), back);
    const body = h('div', { class: 'push-body' });
    box.replaceChildren(head, body);
    takeScreen(true);
    if (p.kind === 'item') body.append(itemForm(p));
    else if (p.kind === 'question') {
      body.append(h('p', null, 'Loading the lesson…'));
      L.lessonView(p.question, body).then(() => refreshStates()).catch((e) => {
        if (current === p) body.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
      });
    } else if (p.kind === 'experiment') {
      const settings = Object.entries(p.settings || {}).map(([k, v]) => `${k} ${v}`).join(', ');
      const demo = h('div');
      body.append(h('h1', null, `Experiment: ${p.name}`), settings ? h('p', { class: 'legend' }, `Set by your instructor: ${settings}`) : null, demo);
      L.mountDemo(demo, p.name, { ...(p.settings || {}) }).catch((e) => {
        if (current === p) demo.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
      });
    } else {
      body.append(h('p', null, `Your instructor sent something this page does not know (${String(p.kind)}).`));
    }
  }

  /** form.class-item: the pushed quiz item, answered in place. */
  function itemForm(p) {
    const fid = 'class-item';
    const fs = h('fieldset', null, h('legend', null, p.prompt || `Item ${p.item}`));
    if (p.type === 'number') {
      fs.append(h('div', { class: 'num' }, h('label', { for: `${fid}-n` }, 'Your answer'),
        h('input', { type: 'number', step: 'any', inputmode: 'decimal', name: 'answer', id: `${fid}-n`, autocomplete: 'off' })));
    } else {
      for (const o of p.options || []) {
        const oid = `${fid}-${o.key}`;
        fs.append(h('label', { class: 'choice', for: oid },
          h('input', { type: 'radio', name: 'answer', value: o.key, id: oid }),
          h('span', { class: 'okey' }, `${o.key})`), ' ', h('span', null, o.text)));
      }
    }
    const submit = h('button', { type: 'submit' }, 'Send');
    const state = h('p', { class: 'class-answer-state', dataset: { state: '' }, 'aria-live': 'polite' });
    const reveal = h('div', { class: 'class-reveal-box', 'aria-live': 'polite' });
    const form = h('form', { class: 'class-item', novalidate: true, dataset: { question: p.question, item: p.item }, 'aria-label': `Quiz item ${p.item}` },
      fs, h('div', { class: 'row' }, submit), state, reveal);
    const mineNow = mine.get(itemKey(p.question, p.item));
    if (mineNow) {
      const input = p.type === 'number' ? form.querySelector('input[name=answer]') : form.querySelector(`input[name=answer][value="${CSS.escape(mineNow.answer)}"]`);
      if (input) { if (p.type === 'number') input.value = mineNow.answer; else input.checked = true; }
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const answer = new FormData(form).get('answer');
      if (answer === null || String(answer).trim() === '') {
        state.dataset.state = '';
        state.replaceChildren(h('span', { class: 'error' }, p.type === 'number' ? 'Type a number first.' : 'Choose an answer first.'));
        return;
      }
      submit.disabled = true;
      try {
        await send(p.question, p.item, String(answer).trim());
        refreshStates();
      } catch (e) {
        state.replaceChildren(h('span', { class: 'error' }, e.message));
        if (e.status === 409) { locked = true; banner(); }
      } finally {
        submit.disabled = locked || revealed.has(itemKey(p.question, p.item));
      }
    });
    renderItem(form, p);
    return form;
  }

  /** POST /api/class/answer; the reply is remembered as this student's latest answer. */
  async function send(question, item, answer) {
    const r = await api('/api/class/answer', { body: { token, question, item: Number(item), answer } });
    mine.set(itemKey(question, item), { answer, attempt: r.attempt, correct: typeof r.correct === 'boolean' ? r.correct : null });
    return r;
  }

  /** The lab's lesson quiz in class mode: recorded, graded when revealed. */
  L.hooks.answer = async (q, item, answer) => {
    const r = await send(q.slug, item, answer);
    return typeof r.correct === 'boolean' ? { ...r, feedback: revealed.get(itemKey(q.slug, item))?.explanation || '' } : r;
  };
  // Demo requests carry the token: the server sheds a student's superseded runs by it.
  L.hooks.demoQuery = () => (token ? `token=${encodeURIComponent(token)}` : '');

  /** An item's answer state (sent / locked / revealed) and, after the reveal, the key. */
  function renderItem(form, p) {
    const k = itemKey(p.question, p.item);
    const state = form.querySelector('.class-answer-state');
    const box = form.querySelector('.class-reveal-box');
    const a = mine.get(k);
    const rev = revealed.get(k);
    const closed = locked || !!rev;
    for (const el of form.querySelectorAll('input, button')) el.disabled = closed;
    const shown = (v) => {
      if (p.type === 'number') return v;
      const o = (p.options || []).find((x) => x.key === v);
      return o ? `${o.key}) ${o.text}` : v;
    };
    if (rev) {
      state.dataset.state = 'revealed';
      state.replaceChildren(...(a ? ['Revealed. Your answer: ', h('strong', null, shown(a.answer))] : ['Revealed. You did not answer.']));
      const parts = [];
      if (a && typeof a.correct === 'boolean') parts.push(h('p', { class: 'verdict' }, a.correct ? 'You were right.' : 'Not this time.'));
      if (rev.key !== undefined) parts.push(h('p', null, 'The answer: ', h('strong', null, shown(String(rev.key)))));
      if (rev.explanation) parts.push(h('p', { class: 'explanation' }, rev.explanation));
      const r = h('div', { class: 'class-reveal' }, parts);
      if (a && typeof a.correct === 'boolean') r.dataset.correct = String(a.correct);
      box.replaceChildren(r);
      for (const el of form.querySelectorAll('label.choice')) {
        const v = el.querySelector('input')?.value;
        el.classList.toggle('key', rev.key !== undefined && v === String(rev.key));
      }
    } else if (locked) {
      state.dataset.state = 'locked';
      state.replaceChildren(...(a ? ['Answering is locked. Your answer counts: ', h('strong', null, shown(a.answer))] : ['Answering is locked.']));
      box.replaceChildren();
    } else if (a) {
      state.dataset.state = 'sent';
      state.replaceChildren(`Sent${a.attempt ? ` (attempt ${a.attempt})` : ''}: `, h('strong', null, shown(a.answer)), h('br'),
        'You can change it until answering is locked.');
      box.replaceChildren();
    } else {
      state.dataset.state = '';
      state.replaceChildren();
      box.replaceChildren();
    }
  }

  /** Redraws every answer state on the page: the pushed item's and the lesson quiz's. */
  function refreshStates() {
    const p = current;
    const form = $('#class-push form.class-item');
    if (p && p.kind === 'item' && form) renderItem(form, p);
    // A lesson's quiz (pushed or in the lab): revealed items get their verdict.
    for (const quiz of document.querySelectorAll('section.quiz[data-question]')) {
      const slug = quiz.dataset.question;
      for (const f of quiz.querySelectorAll('form.quiz-item[data-item]')) {
        const k = itemKey(slug, f.dataset.item);
        const rev = revealed.get(k);
        const a = mine.get(k);
        const result = f.querySelector('.quiz-result');
        if (!result || !rev || !a || typeof a.correct !== 'boolean') continue;
        result.dataset.correct = String(a.correct);
        result.dataset.state = 'revealed';
        result.replaceChildren(h('span', { class: 'verdict' }, a.correct ? 'Right.' : `Not quite${rev.key !== undefined ? `: the answer is ${rev.key}` : ''}.`),
          rev.explanation ? h('div', null, rev.explanation) : '');
      }
    }
    banner();
  }

  // ------------------------------------------------------------ start

  async function start() {
    $('#join').addEventListener('submit', join);
    // A link inside the pushed content (a lesson's "train live") leads back into the lab.
    window.addEventListener('hashchange', () => { if (!panel().hidden && current) { panel().hidden = true; $('#lab-shell').hidden = false; banner(); } });
    token = store.get();
    if (!token) { showJoin(); return; }
    try {
      await loadMe();
      joined();
    } catch (e) {
      if (e.status === 401) forget('Your instructor’s class does not know this page; join again.');
      else { showJoin(e.status ? e.message : `The class server did not answer: ${e.message}`); token = null; }
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

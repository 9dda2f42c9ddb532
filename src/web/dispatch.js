/* onthedot dispatcher's board (/dispatch): desktop first.
 *
 * The server renders only a shell (<div id="app" data-csrf data-user>); this
 * script builds the page from the API:
 *   GET  /api/v1/dispatch/board?date=     the day: one row per visitor, the
 *                                         at-risk list, the header figures
 *   GET  /api/v1/dispatch/stream          live changes (Server-Sent Events)
 *   GET  /api/v1/appointments/{ref}/reassign-options, POST .../reassign
 *   GET  /api/v1/appointments/{ref}/messages
 *   POST /api/v1/visitors/{id}/unavailable, /api/v1/dispatch/disruptions,
 *        /api/v1/dispatch/rebalance (+ /{id}/apply), /api/v1/guarantees/{id}/exempt
 *   GET  /api/v1/dispatch/inbox (+ POST .../done), /api/v1/feedback (+ moderate)
 *
 * Each visitor's day is one SVG row on a shared hour axis in the
 * organisation's time zone. Stream events are applied to the data and only
 * the affected rows are redrawn, batched per animation frame; anything the
 * page cannot apply (a new booking, a visit that changed route, a reset)
 * refetches the board, and a refetch redraws only the rows that changed.
 * "Now" is always the server's (tests run a virtual clock): the board's
 * "now" plus the time elapsed since it arrived. Nothing from the data is ever
 * parsed as HTML. */
'use strict';
(function () {
  var app = document.getElementById('app');
  if (!app) return;
  var CSRF = app.getAttribute('data-csrf') || '';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var ROW_H = 48;
  var MIN_HOUR_PX = 64;

  var RISK_WORDS = { ok: 'On time', watch: 'Watch', at_risk: 'At risk', broken: 'Broken' };
  var RISK_GLYPH = { ok: '', watch: '?', at_risk: '!', broken: '\u2715' };
  var STATUS_WORDS = { booked: 'Booked', travelling: 'Travelling there', arrived: 'On site',
    done: 'Done', no_access: 'No access', cancelled: 'Cancelled' };
  var STATUS_GLYPH = { travelling: '\u2192', arrived: '\u25CF', done: '\u2713', no_access: '\u2298' };
  var STATE_WORDS = { not_started: 'Not started', travelling: 'Travelling', on_site: 'On site',
    idle: 'Between visits', on_break: 'On a break', unavailable: 'Unavailable' };
  var REASON_WORDS = { late: 'The visitor is running late', running_late: 'The visitor is running late',
    unavailable: 'The visitor is unavailable', cannot_attend: 'The visitor cannot attend',
    no_shift: 'No shift covers the window', projection: 'The projected arrival is late',
    projected_late: 'The projected arrival is late', broken: 'The window ended with no arrival',
    window_passed: 'The window ended with no arrival', no_route: 'The visit is on no route',
    silent: 'Nothing heard from the visitor' };
  var UNAVAILABLE_WORDS = { sick: 'sick', breakdown: 'vehicle breakdown', other: 'other reason' };

  var S = {
    board: null, date: null, tz: undefined,
    nowAt: 0, nowPerf: 0,      /* server now (ms) and performance.now() when it arrived */
    byRef: new Map(),          /* reference -> { stop, visitor } */
    rows: new Map(),           /* visitor id -> { li, svg, key } */
    visitors: new Map(),       /* visitor id -> visitor */
    axis: null,                /* { start, end, width } */
    dirty: new Set(), atRiskDirty: false, figuresDirty: false, frame: 0,
    refetchTimer: 0, fetching: null, refetchAgain: false,
    selected: null, drawerReturn: null, drawerKind: null,
    cases: null, firstDrawn: false, stream: null, buffered: null
  };

  /* ---- small helpers ------------------------------------------------------- */

  function h(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] == null || attrs[k] === false) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'className') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] === true) e.setAttribute(k, '');
      else e.setAttribute(k, String(attrs[k]));
    }
    add(e, kids);
    return e;
  }
  function add(e, kids) {
    if (kids == null) return e;
    if (!Array.isArray(kids)) kids = [kids];
    kids.forEach(function (c) {
      if (c == null || c === false) return;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return e;
  }
  function s(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) if (attrs[k] != null) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function mark(name) { try { performance.mark(name); } catch (e) { /* an old browser */ } }
  function ms(t) { return t ? Date.parse(t) : NaN; }
  function serverNow() { return S.nowAt + (performance.now() - S.nowPerf); }

  /* Local wall time in the organisation's zone (cached per minute). */
  var fmtCache = new Map();
  var hmFormat = null, dayFormat = null;
  function formats() {
    var o = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    var d = { weekday: 'long', day: 'numeric', month: 'long' };
    if (S.tz) { o.timeZone = S.tz; d.timeZone = S.tz; }
    try {
      hmFormat = new Intl.DateTimeFormat('en-GB', o);
      dayFormat = new Intl.DateTimeFormat('en-GB', d);
    } catch (e) { /* an unknown zone: the browser's */
      hmFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
      dayFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long' });
    }
    fmtCache.clear();
  }
  function hm(t) {
    if (typeof t === 'string') t = ms(t);
    if (!isFinite(t)) return '\u2013';
    var key = Math.floor(t / 60000);
    var v = fmtCache.get(key);
    if (v === undefined) {
      v = hmFormat.format(new Date(key * 60000));
      if (fmtCache.size > 20000) fmtCache.clear();
      fmtCache.set(key, v);
    }
    return v;
  }
  /* A date in the organisation's zone (the board's "timezone"), e.g. 18 March 2026. */
  function localDate(t) {
    var o = { day: 'numeric', month: 'long', year: 'numeric' };
    if (S.tz) o.timeZone = S.tz;
    try { return new Intl.DateTimeFormat('en-GB', o).format(new Date(ms(t))); }
    catch (e) { return new Date(ms(t)).toLocaleDateString('en-GB'); }
  }
  function localMinutes(t) { var p = hm(t).split(':'); return (+p[0]) * 60 + (+p[1]); }
  function span(a, b) { return hm(a) + '\u2013' + hm(b); }
  function pct(p) { return p == null ? '\u2013' : Math.round(p * 100) + '%'; }
  function money(minor, currency) {
    if (minor == null) return '\u2013';
    try {
      return new Intl.NumberFormat('en-GB', { style: 'currency', currency: currency || 'GBP' }).format(minor / 100);
    } catch (e) { return (minor / 100).toFixed(2) + ' ' + (currency || ''); }
  }
  /* The money at stake of an at-risk visit: what a missed window costs, and
   * what a change after the notice deadline costs when that differs. */
  function stake(c) {
    if (!c) return 'No guarantee applies';
    var t = money(c.missed_minor, c.currency) + ' if the window is missed';
    if (c.short_notice_minor && c.short_notice_minor !== c.missed_minor)
      t += '; ' + money(c.short_notice_minor, c.currency) + ' for a change at short notice';
    return t;
  }
  function duration(msLeft) {
    var sec = Math.max(0, Math.floor(msLeft / 1000));
    var hh = Math.floor(sec / 3600), mm = Math.floor(sec % 3600 / 60), ss = sec % 60;
    if (hh > 0) return hh + ' h ' + (mm < 10 ? '0' : '') + mm + ' min';
    if (mm > 0) return mm + ' min ' + (ss < 10 ? '0' : '') + ss + ' s';
    return ss + ' s';
  }
  function words(code, table) {
    if (!code) return '';
    return table[code] || String(code).replace(/_/g, ' ').replace(/^./, function (c) { return c.toUpperCase(); });
  }
  function firstName(name) { return String(name || '').split(/\s+/)[0]; }

  /* ---- the API ---------------------------------------------------------------- */

  function ApiError(status, body) {
    var e = body && body.error;
    this.status = status;
    this.code = e && e.code;
    this.field = e && e.field;
    this.message = (e && e.message) || ('The server answered ' + status + '. Please try again.');
  }

  function api(method, path, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opts.headers['X-CSRF-Token'] = CSRF;
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body || {});
    }
    return fetch(path, opts).then(function (r) {
      if (r.ok && (r.headers.get('Content-Type') || '').indexOf('application/json') === 0)
        return r.json();
      return r.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
        if (r.status === 401) signedOut();
        if (!r.ok) throw new ApiError(r.status, parsed);
        return parsed;
      });
    }, function () {
      throw new ApiError(0, { error: { message: 'The server cannot be reached. Check the connection and try again.' } });
    });
  }

  function refPath(ref, sub) { return '/api/v1/appointments/' + encodeURIComponent(ref) + sub; }

  /* ---- the page's frame ----------------------------------------------------------- */

  var ui = {};

  function figure(key, label) {
    var v = h('span', { className: 'fig-value', text: '\u2013' });
    ui['fig_' + key] = v;
    return h('div', { className: 'fig fig-' + key }, [v, h('span', { className: 'fig-label', text: label })]);
  }

  function buildFrame() {
    document.documentElement.classList.add('otd-dispatch');
    clear(app);
    ui.title = h('h1', { id: 'board-title', text: 'Dispatch board' });
    ui.live = h('p', { className: 'live', role: 'status', 'aria-live': 'polite' });
    ui.alert = h('div', { className: 'alert-area', role: 'alert' });
    ui.conn = h('span', { className: 'conn', text: 'Connecting\u2026' });

    ui.dateInput = h('input', { type: 'date', id: 'board-date', name: 'date' });
    var dateForm = h('form', { className: 'day-form', onsubmit: function (e) {
      e.preventDefault();
      if (ui.dateInput.value) loadDay(ui.dateInput.value);
    } }, [h('label', { for: 'board-date', text: 'Day' }), ui.dateInput,
      h('button', { type: 'submit', className: 'secondary', text: 'Show' })]);

    ui.search = h('input', { type: 'search', id: 'board-search', autocomplete: 'off',
      'aria-describedby': 'search-hint', 'aria-controls': 'search-results' });
    ui.searchResults = h('div', { id: 'search-results', className: 'search-results' });
    ui.search.addEventListener('input', function () { renderSearch(); });
    var searchBox = h('div', { className: 'search', role: 'search' }, [
      h('label', { for: 'board-search', text: 'Find an appointment' }),
      h('p', { id: 'search-hint', className: 'hint', text: 'Reference, customer name, phone or postcode' }),
      ui.search, ui.searchResults]);

    var actions = h('div', { className: 'actions' }, [
      h('button', { type: 'button', id: 'rebalance', text: 'Rebalance the day', onclick: openRebalance }),
      h('button', { type: 'button', className: 'secondary', id: 'disruption',
        text: 'Declare a disruption', onclick: openDisruption })]);

    var figures = h('div', { className: 'figures', 'aria-label': 'Today in figures', role: 'group' }, [
      figure('kept', 'kept today'), figure('at_risk', 'at risk'), figure('warned', 'customers warned'),
      figure('open_cases', 'open guarantee cases')]);

    var titleRow = h('div', { className: 'title-row' }, [ui.title, ui.conn]);
    /* the shell's sign-out form goes to the top right */
    var signOut = document.querySelector('form.sign-out');
    if (signOut) titleRow.appendChild(signOut);
    var top = h('div', { className: 'top' }, [titleRow, figures,
      h('div', { className: 'tools' }, [searchBox, dateForm, actions]), ui.live, ui.alert]);

    ui.atRisk = h('ol', { className: 'at-risk-list', id: 'at-risk-list' });
    ui.atRiskEmpty = h('p', { className: 'empty', text: 'Nothing at risk.' });
    ui.atRiskMore = h('button', { type: 'button', className: 'secondary small more', hidden: true, onclick: function () {
      S.atRiskShown = (S.atRiskShown || AT_RISK_SHOWN) + AT_RISK_SHOWN;
      renderAtRisk();
    } });
    var atRisk = h('section', { className: 'panel at-risk', 'aria-labelledby': 'at-risk-h' }, [
      h('h2', { id: 'at-risk-h', text: 'At risk' }),
      h('p', { className: 'hint', text: 'Most urgent first. The notice clock is the time left before a change costs compensation.' }),
      ui.atRiskEmpty, ui.atRisk, ui.atRiskMore]);

    ui.axis = h('div', { className: 'axis', 'aria-hidden': 'true' });
    ui.rowsList = h('ol', { className: 'rows', id: 'board-rows', 'aria-label': 'Visitors' });
    ui.nowLine = h('div', { className: 'now-line', 'aria-hidden': 'true' });
    ui.scroll = h('div', { className: 'board-scroll', tabindex: '0', role: 'region',
      'aria-label': 'Timeline of the day' }, [ui.axis,
      h('div', { className: 'rows-wrap' }, [ui.rowsList, ui.nowLine])]);
    var legend = h('ul', { className: 'legend', 'aria-label': 'Key' }, [
      legendItem('ok', 'On time'), legendItem('watch', '? Watch'), legendItem('at_risk', '! At risk'),
      legendItem('broken', '\u2715 Broken'), legendItem('done', '\u2713 Done'),
      h('li', null, [h('span', { className: 'key key-planned' }), 'Planned arrival']),
      h('li', null, [h('span', { className: 'key key-band' }), 'Projected arrival and its band']),
      h('li', null, [h('span', { className: 'key key-travel' }), 'Travel']),
      h('li', null, [h('span', { className: 'key key-break' }), 'Break'])]);
    var board = h('section', { className: 'panel board', 'aria-labelledby': 'board-h' }, [
      h('h2', { id: 'board-h', text: 'Visitors\u2019 day' }), legend, ui.scroll]);

    ui.inbox = h('div', { className: 'inbox-body' }, h('p', { className: 'empty', text: 'Loading\u2026' }));
    var inbox = h('section', { className: 'panel inbox', 'aria-labelledby': 'inbox-h' }, [
      h('h2', { id: 'inbox-h', text: 'Call list and inbox' }), ui.inbox]);
    ui.feedback = h('div', { className: 'feedback-body' }, h('p', { className: 'empty', text: 'Loading\u2026' }));
    var feedback = h('section', { className: 'panel feedback', 'aria-labelledby': 'feedback-h' }, [
      h('h2', { id: 'feedback-h', text: 'Feedback to moderate' }), ui.feedback]);

    ui.drawerTitle = h('h2', { id: 'drawer-h', tabindex: '-1' });
    ui.drawerBody = h('div', { className: 'drawer-body' });
    ui.drawer = h('aside', { className: 'drawer', id: 'drawer', 'aria-labelledby': 'drawer-h', hidden: true }, [
      h('div', { className: 'drawer-head' }, [ui.drawerTitle,
        h('button', { type: 'button', className: 'secondary close', 'aria-label': 'Close the panel',
          text: 'Close', onclick: closeDrawer })]), ui.drawerBody]);
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && !ui.drawer.hidden && !e.defaultPrevented) closeDrawer();
    });

    add(app, [top, h('div', { className: 'layout' }, [
      h('div', { className: 'side' }, [atRisk, inbox, feedback]), board]), ui.drawer]);
  }

  function legendItem(risk, text) {
    return h('li', null, [h('span', { className: 'key key-' + risk }), text]);
  }

  function say(text) {
    /* a polite live region: cleared first so the same words are read again */
    ui.live.textContent = '';
    setTimeout(function () { ui.live.textContent = text; }, 30);
  }
  function showAlert(text) {
    clear(ui.alert);
    if (text) ui.alert.appendChild(h('p', { className: 'error', text: text }));
  }
  function signedOut() {
    showAlert('');
    clear(ui.alert).appendChild(h('p', { className: 'error' }, ['Your session has ended. ',
      h('a', { href: '/login?next=/dispatch', text: 'Sign in again' }), ' to carry on.']));
    if (S.stream) { S.stream.close(); S.stream = null; }
  }

  /* ---- loading the board --------------------------------------------------------------- */

  function boardPath(date) {
    return '/api/v1/dispatch/board' + (date ? '?date=' + encodeURIComponent(date) : '');
  }

  function fetchBoard() {
    if (S.fetching) { S.refetchAgain = true; return S.fetching; }
    var asked = S.date;
    S.fetching = api('GET', boardPath(asked)).then(function (b) {
      S.fetching = null;
      if (!S.firstDrawn) mark('board-json');
      if (asked !== S.date) return fetchBoard();
      takeBoard(b);
      if (S.refetchAgain) { S.refetchAgain = false; scheduleRefetch(250); }
    }, function (e) {
      S.fetching = null;
      S.refetchAgain = false;
      showAlert(e.message);
      throw e;
    });
    return S.fetching;
  }

  function scheduleRefetch(delay) {
    if (S.refetchTimer) return;
    S.refetchTimer = setTimeout(function () {
      S.refetchTimer = 0;
      fetchBoard().catch(function () {});
    }, delay);
  }

  function loadDay(date) {
    S.date = date || null;
    var u = new URL(location.href);
    if (date) u.searchParams.set('date', date); else u.searchParams.delete('date');
    history.replaceState(null, '', u.pathname + u.search);
    closeDrawer();
    return fetchBoard();
  }

  /* A new snapshot: keep the rows that did not change, redraw the others. */
  function takeBoard(b) {
    var first = !S.board;
    S.nowAt = ms(b.now);
    S.nowPerf = performance.now();
    if (!isFinite(S.nowAt)) S.nowAt = Date.now(); /* never: the board always says */
    if (b.timezone !== S.tz || first) { S.tz = b.timezone || undefined; formats(); }
    var dayChanged = !S.board || S.board.date !== b.date;
    S.board = b;
    S.date = S.date || null;
    S.byRef.clear();
    S.visitors.clear();
    (b.visitors || []).forEach(function (v) {
      S.visitors.set(v.id, v);
      (v.stops || []).forEach(function (st) { S.byRef.set(st.reference, { stop: st, visitor: v }); });
    });
    var axis = computeAxis(b);
    var axisChanged = !S.axis || axis.start !== S.axis.start || axis.end !== S.axis.end ||
      axis.width !== S.axis.width;
    S.axis = axis;
    if (dayChanged) {
      ui.dateInput.value = b.date;
      ui.title.textContent = 'Dispatch board: ' + dayText(b.date);
      document.title = 'Dispatch board: ' + dayText(b.date) + document.title.replace(/^[^-]*/, ' ');
    }
    if (first || dayChanged || axisChanged) {
      drawAxis();
      drawAllRows();
      if (!S.firstDrawn) mark('board-built');
    } else {
      syncRows();
    }
    renderAtRisk();
    renderFigures();
    placeNowLine();
    if (S.selected && S.drawerKind === 'appointment') refreshDetailFacts();
    if (ui.search.value) renderSearch();
  }

  function dayText(date) {
    var p = String(date || '').split('-');
    if (p.length !== 3) return date || '';
    /* noon UTC of that date names the same day in every zone near Europe */
    var d = new Date(Date.UTC(+p[0], +p[1] - 1, +p[2], 12));
    return new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }).format(d);
  }

  /* The shared hour axis: whole local hours from the earliest shift or
   * window to the latest. */
  function computeAxis(b) {
    var lo = Infinity, hi = -Infinity;
    function see(a, z) {
      var x = ms(a), y = ms(z);
      if (isFinite(x) && x < lo) lo = x;
      if (isFinite(y) && y > hi) hi = y;
    }
    (b.visitors || []).forEach(function (v) {
      (v.shifts || []).forEach(function (sh) { see(sh.start, sh.end); });
      (v.stops || []).forEach(function (st) {
        see(st.window_start, st.window_end);
        see(st.planned_arrival, st.band_late);
      });
    });
    if (!isFinite(lo) || !isFinite(hi) || hi <= lo) {
      var now = ms(b.now);
      lo = now - 4 * 3600e3;
      hi = now + 8 * 3600e3;
    }
    lo -= localMinutes(lo) % 60 * 60000 + lo % 60000;
    var rem = localMinutes(hi) % 60;
    if (rem || hi % 60000) hi += (60 - rem) * 60000 - hi % 60000;
    var hours = Math.max(1, Math.round((hi - lo) / 3600e3));
    var avail = Math.max(320, (ui.scroll.clientWidth || 960) - nameW() - 4);
    var width = Math.max(hours * MIN_HOUR_PX, Math.floor(avail));
    return { start: lo, end: hi, hours: hours, width: width };
  }

  /* The visitor column's width (--name-w in dispatch.css). */
  function nameW() {
    return parseFloat(getComputedStyle(ui.scroll).getPropertyValue('--name-w')) || 208;
  }

  function xOf(t) {
    if (typeof t === 'string') t = ms(t);
    var a = S.axis;
    return (t - a.start) / (a.end - a.start) * a.width;
  }
  function clampX(x) { return Math.max(0, Math.min(S.axis.width, x)); }

  function drawAxis() {
    var a = S.axis;
    clear(ui.axis);
    ui.axis.appendChild(h('div', { className: 'axis-name', text: 'Visitor' }));
    var svg = s('svg', { width: a.width, height: 24, class: 'axis-svg' });
    for (var t = a.start; t <= a.end; t += 3600e3) {
      var x = Math.round(xOf(t)) + 0.5;
      svg.appendChild(s('line', { x1: x, x2: x, y1: 16, y2: 24, stroke: '#505a5f' }));
      var label = s('text', { x: Math.min(Math.max(x, 16), a.width - 16), y: 12, 'text-anchor': 'middle',
        'font-size': 12, fill: '#0b0c0c' });
      label.textContent = hm(t);
      svg.appendChild(label);
    }
    ui.axis.appendChild(svg);
    ui.scroll.style.setProperty('--tl-width', a.width + 'px');
  }

  function visitorKey(v) { return JSON.stringify(v); }

  function drawAllRows() {
    clear(ui.rowsList);
    S.rows.clear();
    var frag = document.createDocumentFragment();
    (S.board.visitors || []).forEach(function (v) {
      var r = makeRow(v);
      frag.appendChild(r.li);
    });
    ui.rowsList.appendChild(frag);
    ui.rowsList.classList.toggle('many', S.rows.size > 40);
    drawVisible();
    if (!S.board.visitors || !S.board.visitors.length)
      ui.rowsList.appendChild(h('li', { className: 'empty', text: 'No visitor works this day.' }));
  }

  function syncRows() {
    var seen = new Set();
    var order = [];
    (S.board.visitors || []).forEach(function (v) {
      seen.add(v.id);
      var r = S.rows.get(v.id);
      var key = visitorKey(v);
      if (!r) r = makeRow(v);
      else if (r.key !== key) { markStale(r, v); r.key = key; }
      order.push(r.li);
    });
    S.rows.forEach(function (r, id) {
      if (!seen.has(id)) { r.li.remove(); S.rows.delete(id); }
    });
    /* keep the server's order, moving only what is out of place */
    var cur = ui.rowsList.firstElementChild;
    order.forEach(function (li) {
      if (cur === li) { cur = cur.nextElementSibling; return; }
      ui.rowsList.insertBefore(li, cur);
    });
    var empty = ui.rowsList.querySelector('li.empty');
    if (empty && order.length) empty.remove();
    ui.rowsList.classList.toggle('many', S.rows.size > 40);
    drawVisible();
  }

  function makeRow(v) {
    var nameBtn = h('button', { type: 'button', className: 'vname', 'data-visitor': v.id,
      onclick: function () { openVisitor(v.id, nameBtn); } });
    var stateEl = h('span', { className: 'vstate' });
    var svg = s('svg', { class: 'line', height: ROW_H, width: S.axis.width, role: 'group' });
    svg.addEventListener('click', onStopClick);
    svg.addEventListener('keydown', onStopKey);
    var li = h('li', { className: 'row', 'data-visitor': v.id },
      [h('div', { className: 'who' }, [nameBtn, stateEl]), svg]);
    var r = { li: li, svg: svg, name: nameBtn, state: stateEl, key: visitorKey(v), stale: true };
    S.rows.set(v.id, r);
    fillWho(r, v);
    return r;
  }

  function visitorStateText(v) {
    var t = [];
    if (v.state === 'unavailable')
      t.push('Unavailable' + (v.unavailable_reason ? ' (' + words(v.unavailable_reason, UNAVAILABLE_WORDS) + ')' : ''));
    else if (v.state) t.push(words(v.state, STATE_WORDS));
    if (v.late_minutes > 0) t.push('late ' + v.late_minutes + ' min');
    if (v.silent) t.push('silent');
    return t.join(', ');
  }

  /* The visitor's cell of a row (cheap: drawn for every row). */
  function fillWho(r, v) {
    r.name.textContent = v.name;
    r.state.textContent = visitorStateText(v);
    r.li.classList.toggle('unavailable', v.state === 'unavailable');
    r.li.classList.toggle('late', v.late_minutes > 0);
    var n = 0;
    (v.stops || []).forEach(function (st) { if (st.status !== 'cancelled') n++; });
    r.svg.setAttribute('aria-label', v.name + ': ' + n + (n === 1 ? ' visit' : ' visits'));
  }

  /* A row's timeline is drawn when it is in view (or near it): rows have a
   * fixed height, so the rows in view follow from the board's scroll
   * position; a change to a row out of view only marks it stale. */
  var ROW_PX = 49; /* .row height in dispatch.css */
  var DRAW_MARGIN = 8; /* rows drawn beyond the view, each way */

  function drawVisible() {
    if (!S.board || !S.axis) return;
    var list = S.board.visitors || [];
    var top = ui.scroll.scrollTop, height = ui.scroll.clientHeight || window.innerHeight;
    var first = Math.max(0, Math.floor(top / ROW_PX) - DRAW_MARGIN);
    var last = Math.min(list.length, Math.ceil((top + height) / ROW_PX) + DRAW_MARGIN);
    for (var i = first; i < last; i++) {
      var r = S.rows.get(list[i].id);
      if (r && r.stale) drawLine(r, list[i]);
    }
  }

  function markStale(r, v) {
    fillWho(r, v);
    r.stale = true;
  }

  /* (Re)draws one visitor's timeline from the data. */
  function drawLine(r, v) {
    var svg = r.svg;
    var a = S.axis;
    r.stale = false;
    clear(svg);
    svg.setAttribute('width', a.width);
    var live = (v.stops || []).filter(function (st) { return st.status !== 'cancelled'; });
    svg.appendChild(s('path', { class: 'grid', d: gridPath() }));
    (v.shifts || []).forEach(function (sh) {
      var x1 = clampX(xOf(sh.start)), x2 = clampX(xOf(sh.end));
      if (x2 > x1) svg.appendChild(s('rect', { class: 'shift', x: x1, y: 2, width: x2 - x1, height: ROW_H - 4 }));
    });
    (v.breaks || []).forEach(function (bk) {
      var x1 = clampX(xOf(bk.start)), x2 = clampX(xOf(bk.end));
      if (x2 <= x1) return;
      var br = s('rect', { class: 'break', x: x1, y: 2, width: x2 - x1, height: ROW_H - 4 });
      var title = s('title');
      title.textContent = 'Break ' + span(bk.start, bk.end);
      br.appendChild(title);
      svg.appendChild(br);
    });
    live.sort(function (x, y) { return ms(x.window_start) - ms(y.window_start) || ms(x.window_end) - ms(y.window_end); });
    var lanes = laneOf(live);
    live.forEach(function (st, i) { svg.appendChild(stopGroup(st, v, lanes.lane[i], lanes.n)); });
    if (S.selected && S.drawerKind === 'appointment' && S.byRef.has(S.selected) &&
        S.byRef.get(S.selected).visitor.id === v.id) markSelected();
  }

  var gridCache = null;
  function gridPath() {
    var a = S.axis;
    if (gridCache && gridCache.axis === a) return gridCache.d;
    var d = '';
    for (var t = a.start + 3600e3; t < a.end; t += 3600e3) {
      var x = Math.round(xOf(t)) + 0.5;
      d += 'M' + x + ' 0V' + ROW_H;
    }
    gridCache = { axis: a, d: d || 'M0 0' };
    return gridCache.d;
  }


  /* The planned arrival as the visitor is told it: a visitor who would be
   * early waits for the window to open. */
  function plannedAt(st) {
    var a = ms(st.planned_arrival);
    return isFinite(a) ? Math.max(a, ms(st.window_start)) : NaN;
  }

  function stopLook(st) {
    if (st.status === 'done' || st.status === 'no_access') return 'done';
    return st.risk || 'ok';
  }

  function stopLabel(st, v) {
    var parts = [st.reference, st.customer_name || '', 'window ' + span(st.window_start, st.window_end),
      words(st.status, STATUS_WORDS), words(st.risk, RISK_WORDS)];
    if (st.p_late != null && st.status === 'booked') parts.push('P(late) ' + pct(st.p_late));
    if (st.planned_arrival) parts.push('planned ' + hm(plannedAt(st)));
    if (st.expected_arrival && st.status !== 'done') parts.push('expected ' + hm(st.expected_arrival));
    if (st.arrived_at) parts.push('arrived ' + hm(st.arrived_at));
    return parts.filter(Boolean).join(', ');
  }

  /* One visit on a row: its promised window (colour, line style, glyph and
   * postcode by risk and status), the travel into it, the planned arrival
   * (a black tick), the projected arrival (a diamond) and its band. Windows
   * of one visitor that overlap go in lanes of the row (at most 3). */
  function stopGroup(st, v, lane, lanes) {
    var look = stopLook(st);
    var label = stopLabel(st, v);
    var g = s('g', { class: 'stop look-' + look, 'data-ref': st.reference, role: 'button', tabindex: 0,
      'aria-label': label });
    var lh = (ROW_H - 8) / lanes;
    var y0 = 4 + lane * lh, wh = Math.round(lh * 0.65), bh = Math.max(2, Math.floor(lh * 0.25));
    var ws = xOf(st.window_start), we = xOf(st.window_end);
    var x1 = clampX(ws), x2 = clampX(we);
    var w = Math.max(4, x2 - x1);
    /* travel before the planned arrival */
    var arrive = ms(st.planned_arrival);
    if (isFinite(arrive) && st.travel_minutes > 0 && st.status === 'booked') {
      var tx2 = clampX(xOf(arrive)), tx1 = clampX(xOf(arrive - st.travel_minutes * 60000));
      if (tx2 > tx1) g.appendChild(s('line', { class: 'travel', x1: tx1, x2: tx2, y1: y0 + wh / 2, y2: y0 + wh / 2 }));
    }
    g.appendChild(s('rect', { class: 'window', x: x1, y: y0, width: w, height: wh }));
    /* planned arrival: a black tick */
    if (isFinite(arrive) && st.status === 'booked') {
      var px = clampX(xOf(plannedAt(st)));
      g.appendChild(s('line', { class: 'planned', x1: px, x2: px, y1: y0 - 2, y2: y0 + wh + 2 }));
    }
    /* projected arrival with its band, under the window */
    var be = ms(st.band_early), bl = ms(st.band_late), ex = ms(st.expected_arrival);
    if (st.status === 'booked' || st.status === 'travelling') {
      var by = y0 + wh + 1;
      if (isFinite(be) && isFinite(bl) && bl > be) {
        var bx1 = clampX(xOf(be)), bx2 = clampX(xOf(bl));
        g.appendChild(s('rect', { class: 'band', x: bx1, y: by, width: Math.max(2, bx2 - bx1), height: bh }));
      }
      if (isFinite(ex)) {
        var cx = clampX(xOf(ex)), r = Math.max(3, Math.min(5.5, bh + 1)), cy = by + bh / 2;
        g.appendChild(s('path', { class: 'expected', d: 'M' + cx + ' ' + (cy - r) + 'l' + r + ' ' + r + 'l' + (-r) + ' ' + r +
          'l' + (-r) + ' ' + (-r) + 'z' }));
      }
    }
    /* the words the colour stands for: a glyph, and the postcode when there is room */
    var fs = Math.min(12, wh - 2);
    if (fs >= 8) {
      var glyph = STATUS_GLYPH[st.status] || RISK_GLYPH[st.risk] || '';
      var cw = fs * 0.62;
      var text = glyph;
      if (w > 5 * cw) {
        text = (glyph ? glyph + ' ' : '') + (st.postcode || st.reference.slice(-4));
        text = text.slice(0, Math.max(1, Math.floor((w - 6) / cw)));
      }
      if (text) {
        var t = s('text', { x: x1 + 4, y: y0 + wh / 2 + fs * 0.36 });
        if (fs !== 12) t.style.fontSize = fs + 'px';
        t.textContent = text;
        g.appendChild(t);
      }
    }
    return g;
  }

  /* Lanes for overlapping windows: lane[i] for stops[i] (in window order), and
   * how many the row needs (at most 3; more overlap shares the last). */
  function laneOf(stops) {
    var ends = [], lane = [];
    stops.forEach(function (st) {
      var a = ms(st.window_start), k = 0;
      while (k < ends.length && ends[k] > a) k++;
      if (k >= 3) k = 2;
      ends[k] = Math.max(ends[k] || 0, ms(st.window_end));
      lane.push(k);
    });
    return { lane: lane, n: Math.max(1, Math.min(3, ends.length)) };
  }

  function onStopClick(e) {
    var g = e.target.closest && e.target.closest('g.stop');
    if (g) openAppointment(g.getAttribute('data-ref'), g);
  }
  function onStopKey(e) {
    var g = e.target.closest && e.target.closest('g.stop');
    if (!g) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      openAppointment(g.getAttribute('data-ref'), g);
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      var sib = e.key === 'ArrowRight' ? g.nextElementSibling : g.previousElementSibling;
      while (sib && !(sib.classList && sib.classList.contains('stop')))
        sib = e.key === 'ArrowRight' ? sib.nextElementSibling : sib.previousElementSibling;
      if (sib) { e.preventDefault(); sib.focus(); }
    }
  }

  function markSelected() {
    var old = ui.rowsList.querySelectorAll('g.stop.selected');
    for (var i = 0; i < old.length; i++) old[i].classList.remove('selected');
    if (S.selected && S.drawerKind === 'appointment') {
      var g = stopElement(S.selected);
      if (g) g.classList.add('selected');
    }
  }
  function stopElement(ref) {
    var cur = S.byRef.get(ref);
    if (!cur) return null;
    var r = S.rows.get(cur.visitor.id);
    return r ? r.svg.querySelector('g.stop[data-ref="' + CSS.escape(ref) + '"]') : null;
  }

  function placeNowLine() {
    if (!S.axis) return;
    var x = xOf(serverNow());
    if (x < 0 || x > S.axis.width) { ui.nowLine.hidden = true; return; }
    ui.nowLine.hidden = false;
    ui.nowLine.style.left = (nameW() + x) + 'px';
    ui.nowLine.title = 'Now ' + hm(serverNow());
  }

  /* ---- the at-risk list and the figures -------------------------------------------------- */

  /* The server's order (src/app/board.c): earliest window first, then the
   * highest P(late). */
  function sortAtRisk(list) {
    list.sort(function (a, b) {
      var da = ms(a.window_start), db = ms(b.window_start);
      if (da !== db) return da - db;
      var pa = a.p_late || 0, pb = b.p_late || 0;
      if (pa !== pb) return pb - pa;
      return a.reference < b.reference ? -1 : 1;
    });
  }

  /* Tracking's reasons are short phrases ("the visitor is unavailable") or
   * "P(late) 0.62 (cause)" where cause is what re-projected it. */
  var CAUSE_WORDS = { late: 'the visitor reported running late', tick: 'time passing', ticker: 'time passing',
    start_travel: 'the visitor set off', arrived: 'an arrival', done: 'a visit finished',
    position: 'the visitor\u2019s position', break_start: 'a break', break_end: 'a break ending',
    event: 'a change', cannot_attend: 'the visitor cannot attend', unavailable: 'the visitor is unavailable' };
  function reasonText(code) {
    if (!code) return 'The projected arrival is late';
    var m = /^P\(late\) [0-9.]+ \(([a-z_]+)\)$/.exec(code);
    if (m) return 'Projected to arrive after the window, since ' + words(m[1], CAUSE_WORDS).toLowerCase();
    if (REASON_WORDS[code]) return REASON_WORDS[code];
    return String(code).replace(/_/g, ' ').replace(/^./, function (c) { return c.toUpperCase(); });
  }

  /* The list shows the most urgent AT_RISK_SHOWN (more on request): a day
   * with hundreds at risk needs a rebalance, not a longer list. */
  var AT_RISK_SHOWN = 40;
  function renderAtRisk() {
    S.atRiskDirty = false;
    var list = S.board.at_risk || [];
    clear(ui.atRisk);
    ui.atRiskEmpty.hidden = list.length > 0;
    var frag = document.createDocumentFragment();
    var shown = Math.min(list.length, S.atRiskShown || AT_RISK_SHOWN);
    list.slice(0, shown).forEach(function (it) {
      var cur = S.byRef.get(it.reference);
      var v = cur ? cur.visitor : S.visitors.get(it.visitor_id);
      var st = cur ? cur.stop : null;
      var who = it.customer_name || (st && st.customer_name);
      var open = h('button', { type: 'button', className: 'ref-button', 'data-ref': it.reference,
        'aria-label': 'Open ' + it.reference + (who ? ', ' + who : ''),
        text: it.reference, onclick: function (e) { openAppointment(it.reference, e.currentTarget); } });
      var clock = h('dd', { className: 'clock', 'data-deadline': it.notice_deadline || '' });
      frag.appendChild(h('li', { className: 'risk-item risk-' + it.risk, 'data-ref': it.reference }, [
        h('p', { className: 'ri-head' }, [open, ' ', h('span', { className: 'tag tag-' + it.risk,
          text: (RISK_GLYPH[it.risk] ? RISK_GLYPH[it.risk] + ' ' : '') + words(it.risk, RISK_WORDS) }),
        h('span', { className: 'ri-who', text: [who, v && v.name].filter(Boolean).join(' \u00b7 ') })]),
        h('p', { className: 'ri-reason', text: reasonText(it.reason) }),
        h('dl', { className: 'ri-facts' }, [
          h('dt', { text: 'P(late)' }), h('dd', { className: 'p-late', text: pct(it.p_late) }),
          h('dt', { text: 'Expected' }), h('dd', { text: (it.expected_arrival ? hm(it.expected_arrival) : '\u2013') +
            ' (window ' + span(it.window_start, it.window_end) + ')' }),
          h('dt', { text: 'Notice' }), clock,
          h('dt', { text: 'At stake' }), h('dd', { className: 'stake', text: stake(it.compensation) })])]));
    });
    ui.atRisk.appendChild(frag);
    ui.atRiskMore.hidden = shown >= list.length;
    ui.atRiskMore.textContent = 'Show ' + Math.min(AT_RISK_SHOWN, list.length - shown) + ' more (' +
      (list.length - shown) + ' not shown)';
    tickClocks();
  }

  function tickClocks() {
    var now = serverNow();
    var clocks = ui.atRisk.querySelectorAll('.clock');
    for (var i = 0; i < clocks.length; i++) {
      var d = ms(clocks[i].getAttribute('data-deadline'));
      var text, late = false;
      if (!isFinite(d)) text = '\u2013';
      else if (d > now) text = duration(d - now) + ' left to change without compensation';
      else { text = 'Notice passed: a change now costs compensation'; late = true; }
      if (clocks[i].textContent !== text) clocks[i].textContent = text;
      clocks[i].classList.toggle('passed', late);
    }
  }

  function renderFigures() {
    S.figuresDirty = false;
    var f = S.board.figures || {};
    ui.fig_kept.textContent = f.kept != null ? f.kept + (f.booked != null ? ' of ' + f.booked : '') : '\u2013';
    ui.fig_at_risk.textContent = f.at_risk != null ? String(f.at_risk) : '\u2013';
    ui.fig_warned.textContent = f.warned != null ? String(f.warned) : '\u2013';
    ui.fig_open_cases.textContent = f.open_cases != null ? String(f.open_cases) : '\u2013';
  }

  /* ---- live changes ---------------------------------------------------------------------------- */

  function openStream() {
    if (!window.EventSource) { ui.conn.textContent = 'Not live: this browser has no live updates'; return; }
    var es = new EventSource('/api/v1/dispatch/stream');
    S.stream = es;
    es.addEventListener('open', function () {
      ui.conn.textContent = 'Live';
      ui.conn.className = 'conn on';
    });
    es.addEventListener('error', function () {
      if (es.readyState === EventSource.CLOSED) {
        ui.conn.textContent = 'Not live: reload the page';
        ui.conn.className = 'conn off';
        /* a closed stream is often an ended session: the API says which */
        api('GET', '/api/v1/auth/session').catch(function () {});
      } else {
        ui.conn.textContent = 'Reconnecting\u2026';
        ui.conn.className = 'conn off';
      }
    });
    function handler(type) {
      return function (e) {
        var d = null;
        try { d = e.data ? JSON.parse(e.data) : {}; } catch (err) { d = null; }
        if (!d) return;
        if (S.buffered) { S.buffered.push([type, d]); return; }
        applyEvent(type, d);
      };
    }
    ['appointment', 'route', 'visitor', 'risk', 'message', 'inbox', 'feedback', 'figures'].forEach(function (t) {
      es.addEventListener(t, handler(t));
    });
    es.addEventListener('reset', function () {
      if (S.buffered) S.buffered.length = 0;
      scheduleRefetch(0);
    });
    es.onmessage = handler('message');
  }

  var STOP_FIELDS = ['status', 'risk', 'p_late', 'expected_arrival', 'band_early', 'band_late', 'risk_reason',
    'window_start', 'window_end', 'planned_arrival', 'arrived_at', 'done_at', 'travel_minutes', 'promise_version'];

  /* Applies one stream event to the data; returns nothing. */
  function applyEvent(type, d) {
    if (!S.board) return;
    if (type === 'inbox' || (type === 'message' && d && d.inbox)) { loadInbox(); return; }
    if (type === 'feedback') { loadFeedback(); return; }
    if (type === 'visitor') {
      /* {change: visitor, visitor_id, date, state, late_minutes,
       * unavailable_reason, appointment_id}: applied to the row as it is */
      if (d.date && S.board.date && d.date !== S.board.date) return; /* another day's */
      var v = S.visitors.get(d.visitor_id);
      if (!v || !('state' in d || 'late_minutes' in d || 'silent' in d)) { scheduleRefetch(300); return; }
      ['state', 'late_minutes', 'unavailable_reason', 'silent', 'current'].forEach(function (k) {
        if (k in d) v[k] = d[k];
      });
      markDirty(v.id);
      if (S.drawerKind === 'visitor' && S.drawerVisitor === v.id && ui.visitorNow && ui.visitorNow.isConnected)
        ui.visitorNow.textContent = visitorStateText(v) || '\u2013';
      if (d.stops || d.shifts || d.breaks) scheduleRefetch(300);
      return;
    }
    if (type === 'route') {
      /* {change: reordered, visitor_id, date}, or {change: moved_away, ...} */
      if (d.change === 'reordered' && d.date && S.board.date && d.date !== S.board.date) return;
      scheduleRefetch(300);
      return;
    }
    if (type !== 'appointment' || !d.reference) {
      if (d && d.visitor_id) scheduleRefetch(500);
      return;
    }
    var cur = S.byRef.get(d.reference);
    var ddate = d.window && d.window.local_start ? d.window.local_start.slice(0, 10) : null;
    if (!cur) {
      /* a new booking on this day (or a visit that came here): refetch */
      if (d.change === 'cancelled') return;
      if (ddate && S.board.date && ddate !== S.board.date) return;
      scheduleRefetch(300);
      return;
    }
    if (d.change === 'booked' || d.change === 'rescheduled' ||
        (d.visitor_id != null && d.visitor_id !== cur.visitor.id)) {
      scheduleRefetch(300);
      return;
    }
    var st = cur.stop;
    var wasRisk = st.risk;
    STOP_FIELDS.forEach(function (k) { if (k in d) st[k] = d[k]; });
    if (d.window) {
      if (d.window.start) st.window_start = d.window.start;
      if (d.window.end) st.window_end = d.window.end;
    }
    if (d.change === 'cancelled') st.status = 'cancelled';
    markDirty(cur.visitor.id);
    updateAtRiskEntry(st, cur.visitor, wasRisk);
  }

  function inAtRisk(st) {
    return (st.status === 'booked' || st.status === 'travelling') &&
      (st.risk === 'at_risk' || st.risk === 'broken');
  }

  /* Keeps the at-risk list in step with one stop: its figures change in
   * place; one that enters gets what the page knows now and the board is
   * refetched soon for its notice deadline and the money at stake. */
  function updateAtRiskEntry(st, v, wasRisk) {
    var list = S.board.at_risk || (S.board.at_risk = []);
    var idx = -1;
    for (var i = 0; i < list.length; i++) if (list[i].reference === st.reference) { idx = i; break; }
    if (inAtRisk(st)) {
      if (idx < 0) {
        list.push({ reference: st.reference, visitor_id: v.id, risk: st.risk, p_late: st.p_late,
          customer_name: st.customer_name,
          reason: st.risk_reason, expected_arrival: st.expected_arrival, window_start: st.window_start,
          window_end: st.window_end, notice_deadline: null, compensation: null });
        scheduleRefetch(2000);
      } else {
        var it = list[idx];
        it.risk = st.risk;
        it.p_late = st.p_late;
        it.expected_arrival = st.expected_arrival;
        it.window_start = st.window_start;
        it.window_end = st.window_end;
        if (st.risk_reason) it.reason = st.risk_reason;
      }
      sortAtRisk(list);
      S.atRiskDirty = true;
    } else if (idx >= 0) {
      list.splice(idx, 1);
      S.atRiskDirty = true;
    }
    if (S.atRiskDirty && S.board.figures && wasRisk !== st.risk) {
      S.board.figures.at_risk = list.length;
      S.figuresDirty = true;
    }
    schedule();
  }

  function markDirty(id) {
    S.dirty.add(id);
    schedule();
  }

  function schedule() {
    if (S.frame) return;
    S.frame = requestAnimationFrame(flush);
  }

  function flush() {
    S.frame = 0;
    S.dirty.forEach(function (id) {
      var r = S.rows.get(id), v = S.visitors.get(id);
      if (r && v) { markStale(r, v); r.key = visitorKey(v); }
    });
    S.dirty.clear();
    drawVisible();
    if (S.atRiskDirty) renderAtRisk();
    if (S.figuresDirty) renderFigures();
    if (S.selected && S.drawerKind === 'appointment') refreshDetailFacts();
  }

  /* ---- search ------------------------------------------------------------------------------- */

  function norm(t) { return String(t || '').toLowerCase().replace(/[\s\-()]/g, ''); }
  function phoneDigits(t) {
    var d = String(t || '').replace(/\D/g, '');
    return d.indexOf('44') === 0 ? '0' + d.slice(2) : d; /* +44 7700 ... matches 07700 ... */
  }

  function renderSearch() {
    var q = ui.search.value.trim();
    clear(ui.searchResults);
    if (!q || !S.board) return;
    var nq = norm(q), dq = phoneDigits(q);
    var hits = [];
    S.byRef.forEach(function (cur) {
      var st = cur.stop;
      if (st.status === 'cancelled') return;
      if (norm(st.reference).indexOf(nq) >= 0 || norm(st.customer_name).indexOf(nq) >= 0 ||
          norm(st.postcode).indexOf(nq) >= 0 ||
          (dq.length >= 4 && phoneDigits(st.phone).indexOf(dq) >= 0))
        hits.push(cur);
    });
    hits.sort(function (a, b) { return ms(a.stop.window_start) - ms(b.stop.window_start); });
    var shown = hits.slice(0, 12);
    ui.searchResults.appendChild(h('p', { className: 'count', role: 'status',
      text: hits.length === 0 ? 'Nothing found.' : hits.length + (hits.length === 1 ? ' appointment found' : ' appointments found') +
        (hits.length > shown.length ? ' (first ' + shown.length + ' shown)' : '') }));
    if (!shown.length) return;
    ui.searchResults.appendChild(h('ul', null, shown.map(function (cur) {
      var st = cur.stop;
      return h('li', null, h('button', { type: 'button', className: 'result', 'data-ref': st.reference,
        onclick: function (e) { openAppointment(st.reference, e.currentTarget); } },
        [h('strong', { text: st.reference }), ' ' + (st.customer_name || '') + ' \u00b7 ' +
          span(st.window_start, st.window_end) + ' \u00b7 ' + cur.visitor.name + (st.postcode ? ' \u00b7 ' + st.postcode : '')]));
    })));
  }

  /* ---- the drawer (details, forms, proposals) --------------------------------------------------------- */

  function openDrawer(kind, title, from) {
    S.drawerKind = kind;
    if (from) S.drawerReturn = from;
    ui.drawerTitle.textContent = title;
    ui.drawerTitle.className = kind === 'appointment' ? 'ref' : '';
    clear(ui.drawerBody);
    ui.drawer.hidden = false;
    document.documentElement.classList.add('drawer-open');
    ui.drawerTitle.focus();
    return ui.drawerBody;
  }

  function closeDrawer() {
    if (ui.drawer.hidden) return;
    ui.drawer.hidden = true;
    document.documentElement.classList.remove('drawer-open');
    S.selected = null;
    S.drawerKind = null;
    S.drawerVisitor = null;
    markSelected();
    var back = S.drawerReturn;
    S.drawerReturn = null;
    if (back && back.isConnected) back.focus();
  }

  function section(title, kids) {
    return h('section', { className: 'dsec' }, [h('h3', { text: title })].concat(kids || []));
  }

  function formError(box, e) {
    clear(box);
    if (e) box.appendChild(h('p', { className: 'error', text: e.message || String(e) }));
  }

  function busy(btn, on, text) {
    btn.disabled = on;
    if (text) btn.textContent = text;
  }

  /* -- one appointment -- */

  function openAppointment(ref, from) {
    var cur = S.byRef.get(ref);
    if (!cur) { say(ref + ' is not on this day\u2019s board.'); return; }
    S.selected = ref;
    var body = openDrawer('appointment', ref, from);
    markSelected();
    var st = cur.stop, v = cur.visitor;
    ui.detailFacts = h('dl', { className: 'facts detail-facts' });
    body.appendChild(ui.detailFacts);
    refreshDetailFacts();
    var contact = h('p', { className: 'contact' });
    if (st.phone) contact.appendChild(h('a', { className: 'button secondary call', href: 'tel:' + st.phone,
      text: 'Call ' + (st.customer_name || 'the customer') + ' (' + st.phone + ')' }));
    else contact.appendChild(h('span', { text: 'No phone number given: write or visit.' }));
    body.appendChild(contact);

    if (st.status === 'booked') body.appendChild(reassignSection(st, v));
    body.appendChild(caseSection(st));
    var log = messagesSection(st);
    if (st.status === 'booked' || st.status === 'travelling' || st.status === 'arrived')
      body.appendChild(writeSection(st, log.reload));
    body.appendChild(log.sec);
  }

  function refreshDetailFacts() {
    var cur = S.byRef.get(S.selected);
    if (!cur || !ui.detailFacts || !ui.detailFacts.isConnected) return;
    var st = cur.stop, v = cur.visitor;
    var rows = [
      ['Customer', st.customer_name || '\u2013'],
      ['Address', [st.line1, st.postcode].filter(Boolean).join(', ') || '\u2013'],
      ['Visit', st.visit_type || '\u2013'],
      ['Window', span(st.window_start, st.window_end)],
      ['Visitor', v.name + (visitorStateText(v) ? ' (' + visitorStateText(v) + ')' : '')],
      ['Status', words(st.status, STATUS_WORDS)],
      ['Risk', words(st.risk, RISK_WORDS) + (st.p_late != null ? ', P(late) ' + pct(st.p_late) : '') +
        (st.risk_reason && st.risk !== 'ok' ? ': ' + reasonText(st.risk_reason).toLowerCase() : '')],
      ['Planned arrival', st.planned_arrival ? hm(plannedAt(st)) : '\u2013'],
      ['Projected arrival', st.expected_arrival ? hm(st.expected_arrival) +
        (st.band_early && st.band_late && hm(st.band_early) !== hm(st.band_late) ?
          ' (likely ' + span(st.band_early, st.band_late) + ')' : '') : '\u2013']];
    if (st.arrived_at) rows.push(['Arrived', hm(st.arrived_at)]);
    if (st.done_at) rows.push(['Done', hm(st.done_at)]);
    clear(ui.detailFacts);
    rows.forEach(function (r) {
      ui.detailFacts.appendChild(h('dt', { text: r[0] }));
      ui.detailFacts.appendChild(h('dd', { text: r[1] }));
    });
  }

  function reassignSection(st, v) {
    var box = h('div', { className: 'reassign-body' }, h('p', { text: 'Finding who can keep the window\u2026' }));
    var sec = section('Reassign', [box]);
    sec.id = 'reassign';
    api('GET', refPath(st.reference, '/reassign-options')).then(function (r) {
      clear(box);
      var opts = (r && r.options) || [];
      if (!opts.length) {
        box.appendChild(h('p', { className: 'empty', text: 'No other visitor can keep this window.' }));
        return;
      }
      var err = h('div', { className: 'form-error', role: 'alert' });
      var fs = h('fieldset', { className: 'options' }, [h('legend', { text: 'Who can keep ' + span(st.window_start, st.window_end) })]);
      opts.forEach(function (o, i) {
        var id = 'opt-' + o.visitor_id;
        fs.appendChild(h('div', { className: 'choice' }, [
          h('input', { type: 'radio', name: 'visitor', id: id, value: o.visitor_id, checked: i === 0 }),
          h('label', { for: id }, [h('span', { className: 'opt-name', text: o.name }),
            h('span', { className: 'opt-facts', text: ' \u00b7 adds ' + Math.round(o.travel_added_minutes || 0) +
              ' min travel' + (o.expected_arrival ? ' \u00b7 arrives about ' + hm(Math.max(ms(o.expected_arrival), ms(st.window_start))) : '') })])]));
      });
      var reason = h('input', { type: 'text', id: 'reassign-reason', name: 'reason', maxlength: 300,
        value: v.late_minutes > 0 ? firstName(v.name) + ' is running late' : '' });
      var btn = h('button', { type: 'submit', text: 'Reassign' });
      var form = h('form', { className: 'reassign-form' }, [fs,
        h('div', { className: 'field' }, [h('label', { for: 'reassign-reason', text: 'Reason (told to the customer)' }), reason]),
        err, btn]);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var chosen = form.querySelector('input[name=visitor]:checked');
        if (!chosen) { formError(err, { message: 'Choose who goes instead.' }); return; }
        var to = +chosen.value;
        var name = (opts.filter(function (o) { return o.visitor_id === to; })[0] || {}).name || 'them';
        busy(btn, true, 'Reassigning\u2026');
        var body = { visitor_id: to };
        if (reason.value.trim()) body.reason = reason.value.trim();
        api('POST', refPath(st.reference, '/reassign'), body).then(function () {
          formError(err, null);
          clear(box).appendChild(h('p', { className: 'done-note', text: st.reference + ' now goes to ' + name +
            '. The customer is told who comes.' }));
          say(st.reference + ' reassigned to ' + name + '.');
          return fetchBoard();
        }).catch(function (e2) {
          busy(btn, false, 'Reassign');
          formError(err, e2);
        });
      });
      box.appendChild(form);
    }).catch(function (e) { formError(box, e); });
    return sec;
  }

  /* The open guarantee cases (from GET /api/v1/guarantees?state=open, all
   * pages) by reference, fetched once per drawer opening at most. */
  function openCases() {
    return (function page(after, acc) {
      return api('GET', '/api/v1/guarantees?state=open&limit=100' + (after ? '&after=' + encodeURIComponent(after) : ''))
        .then(function (r) {
          (r.items || []).forEach(function (c) { acc.push(c); });
          return r.next && acc.length < 2000 ? page(r.next, acc) : acc;
        });
    })(null, []);
  }

  function caseSection(st) {
    var box = h('div', { className: 'case-body' });
    var sec = section('Guarantee', [box]);
    var p = st.case_id ? api('GET', '/api/v1/guarantees/' + st.case_id).then(function (c) { return [c]; }) :
      'case_id' in st ? Promise.resolve([]) :
      openCases().then(function (all) { return all.filter(function (c) { return c.reference === st.reference; }); });
    p.then(function (cases) {
      var open = cases.filter(function (c) { return !c.state || c.state === 'open'; });
      if (!open.length) { box.appendChild(h('p', { className: 'empty', text: 'No open guarantee case.' })); return; }
      open.forEach(function (c) { box.appendChild(exemptForm(c)); });
    }).catch(function (e) { formError(box, e); });
    return sec;
  }

  function exemptForm(c) {
    var id = 'exempt-' + c.id;
    var err = h('div', { role: 'alert' });
    var reason = h('select', { id: id + '-reason', name: 'reason' }, [
      ['force_majeure', 'Force majeure'], ['customer_cancelled', 'The customer cancelled'],
      ['no_access', 'No access (the visitor reported it)'], ['consent', 'The customer agreed to the change']
    ].map(function (o) { return h('option', { value: o[0], text: o[1] }); }));
    var note = h('input', { type: 'text', id: id + '-note', name: 'note', maxlength: 300, required: true });
    var btn = h('button', { type: 'submit', className: 'secondary', text: 'Mark exempt' });
    var form = h('form', { className: 'exempt-form', novalidate: true }, [
      h('p', { text: 'Case ' + c.id + ': ' + words(c.reason, {}) + ', ' + money(c.amount_minor, c.currency) +
        ' owed' + (c.deadline_at ? ', pay by ' + localDate(c.deadline_at) : '') + '.' }),
      h('div', { className: 'field' }, [h('label', { for: id + '-reason', text: 'Exemption' }), reason]),
      h('div', { className: 'field' }, [h('label', { for: id + '-note', text: 'Note (kept as evidence)' }), note]),
      err, btn]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!note.value.trim()) { formError(err, { message: 'Say why, in a note.' }); note.focus(); return; }
      busy(btn, true);
      api('POST', '/api/v1/guarantees/' + c.id + '/exempt', { reason: reason.value, note: note.value.trim() })
        .then(function () {
          form.replaceWith(h('p', { className: 'done-note', text: 'Case ' + c.id + ' is exempt.' }));
          say('Case ' + c.id + ' marked exempt.');
          fetchBoard().catch(function () {});
        }).catch(function (e2) { busy(btn, false); formError(err, e2); });
    });
    return form;
  }

  var DELIVERY_WORDS = { pending: 'Waiting to send', sending: 'Sending', sent: 'Sent', failed: 'Failed',
    uncertain: 'Uncertain: may not have gone', cancelled: 'Not sent', delivered: 'Delivered',
    undelivered: 'Not delivered', expired: 'Not delivered', rejected: 'Refused by the network', read: 'Read' };
  var CHANNEL_WORDS = { sms: 'SMS', email: 'Email', webhook: 'Webhook', record: 'Record' };
  var TEMPLATE_WORDS = { personal: 'personal message' };
  /* hh:mm on the board's day, else with the day: "Mon 9 Mar 23:00" */
  function whenText(t) {
    var o = { year: 'numeric', month: '2-digit', day: '2-digit' };
    if (S.tz) o.timeZone = S.tz;
    var d;
    try { d = new Intl.DateTimeFormat('en-CA', o).format(new Date(ms(t))); } catch (e) { d = null; }
    if (!d || !S.board || d === S.board.date) return hm(t);
    var w = { weekday: 'short', day: 'numeric', month: 'short' };
    if (S.tz) w.timeZone = S.tz;
    return new Intl.DateTimeFormat('en-GB', w).format(new Date(ms(t))) + ' ' + hm(t);
  }

  /* The message log: each message with its delivery status (the receipt's
   * when there is one, else the outbox state). */
  function messagesSection(st) {
    var box = h('div', { className: 'messages-body', 'aria-live': 'polite' }, h('p', { text: 'Loading\u2026' }));
    var sec = section('Messages', [box]);
    sec.id = 'message-log';
    function reload() {
      return api('GET', refPath(st.reference, '/messages')).then(fill).catch(function (e) { formError(box, e); });
    }
    reload();
    return { sec: sec, reload: reload };
    function fill(r) {
      clear(box);
      var items = (r && r.items) || [];
      if (!items.length) { box.appendChild(h('p', { className: 'empty', text: 'No message yet.' })); return; }
      box.appendChild(h('ol', { className: 'message-log' }, items.map(function (m) {
        var when = m.sent_at || m.created_at;
        var state = m.receipt && m.receipt.status ? m.receipt.status : m.state;
        var bits = [];
        if (m.attempts > 1) bits.push(m.attempts + ' attempts');
        if (m.provider) bits.push('via ' + m.provider);
        if (m.last_error && (m.state === 'failed' || m.state === 'uncertain' || m.state === 'pending'))
          bits.push(m.last_error);
        return h('li', { className: 'msg' }, [
          h('span', { className: 'msg-when', text: when ? whenText(when) : '' }), ' ',
          h('span', { className: 'msg-channel', text: words(m.channel, CHANNEL_WORDS) }), ' ',
          h('span', { className: 'msg-what', text: TEMPLATE_WORDS[m.template] || String(m.template || '').replace(/_/g, ' ') }), ' ',
          h('span', { className: 'msg-state state-' + state, text: words(state, DELIVERY_WORDS) }),
          bits.length ? h('p', { className: 'msg-text', text: bits.join(' \u00b7 ') }) : null]);
      })));
    }
  }

  /* "Write to the customer": one line in the dispatcher's own words (at most
   * MESSAGE_MAX characters, so a text message stays short), on every channel
   * the customer agreed to or on one; the log above is refreshed after. */
  var MESSAGE_MAX = 140;
  function writeSection(st, reloadLog) {
    var err = h('div', { className: 'form-error', role: 'alert' });
    var done = h('div', { className: 'write-done', role: 'status' });
    /* a textarea so the whole message can be read back; still one line:
     * Enter sends (as in a text input) and line breaks become spaces */
    var text = h('textarea', { id: 'write-text', name: 'text', maxlength: MESSAGE_MAX, rows: 3, autocomplete: 'off',
      spellcheck: 'true', 'aria-describedby': 'write-hint write-count' });
    text.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
    text.addEventListener('input', function () {
      if (/[\r\n]/.test(text.value)) text.value = text.value.replace(/[\r\n]+/g, ' ');
    });
    var count = h('p', { id: 'write-count', className: 'hint counter' });
    /* the count is read out only near the end, not at every key */
    var countSay = h('p', { className: 'visually-hidden', 'aria-live': 'polite' });
    var said = null;
    function left() { return MESSAGE_MAX - Array.from(text.value).length; }
    function showCount() {
      var n = left();
      count.textContent = n >= 0 ? n + (n === 1 ? ' character' : ' characters') + ' left of ' + MESSAGE_MAX
        : (-n) + ' too many: at most ' + MESSAGE_MAX;
      count.classList.toggle('few', n <= 20);
      var step = n <= 0 ? 0 : n <= 10 ? 10 : n <= 20 ? 20 : null;
      if (step !== said) {
        said = step;
        countSay.textContent = step == null ? '' : n + ' characters left';
      }
    }
    text.addEventListener('input', showCount);
    showCount();
    var channels = [['', 'Every channel the customer agreed to'], ['sms', 'Text message only'], ['email', 'Email only']];
    var fs = h('fieldset', { className: 'options channel' }, [h('legend', { text: 'Send by' })].concat(
      channels.map(function (c, i) {
        var id = 'write-channel-' + (c[0] || 'all');
        return h('div', { className: 'choice' }, [
          h('input', { type: 'radio', name: 'channel', id: id, value: c[0], checked: i === 0 }),
          h('label', { for: id, text: c[1] })]);
      })));
    var btn = h('button', { type: 'submit', text: 'Send' });
    var form = h('form', { className: 'write-form', novalidate: true }, [
      h('div', { className: 'field' }, [h('label', { for: 'write-text', text: 'Your message' }),
        h('p', { id: 'write-hint', className: 'hint', text: 'One line, at most ' + MESSAGE_MAX + ' characters. The customer\u2019s link is added. ' +
          (st.customer_name ? st.customer_name + ' reads it as it is written.' : '') }),
        text, count, countSay]),
      fs, err, btn, done]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      clear(done);
      var words = text.value.replace(/\s+/g, ' ').trim();
      if (!words) { formError(err, { message: 'Write the message first.' }); text.focus(); return; }
      if (left() < 0) { formError(err, { message: 'At most ' + MESSAGE_MAX + ' characters: shorten it.' }); text.focus(); return; }
      var chosen = form.querySelector('input[name=channel]:checked');
      var req = { text: words };
      if (chosen && chosen.value) req.channel = chosen.value;
      busy(btn, true, 'Sending\u2026');
      api('POST', refPath(st.reference, '/message'), req).then(function (r) {
        busy(btn, false, 'Send');
        formError(err, null);
        text.value = '';
        showCount();
        var n = r && r.queued;
        done.appendChild(h('p', { className: 'done-note', text: 'Sent to ' + (st.customer_name || 'the customer') +
          (n > 1 ? ' by text and email' : req.channel ? (req.channel === 'sms' ? ' by text' : ' by email') : '') + '.' }));
        say('Message sent to ' + (st.customer_name || st.reference) + '.');
        return reloadLog();
      }).catch(function (e2) {
        busy(btn, false, 'Send');
        formError(err, e2);
        if (e2.field === 'channel') { if (chosen) chosen.focus(); } else text.focus();
      });
    });
    var sec = section('Write to the customer', [form]);
    sec.id = 'write';
    return sec;
  }

  /* -- one visitor -- */

  function openVisitor(id, from) {
    var v = S.visitors.get(id);
    if (!v) return;
    var body = openDrawer('visitor', v.name, from);
    S.drawerVisitor = id;
    var live = (v.stops || []).filter(function (st) { return st.status !== 'cancelled'; });
    var left = live.filter(function (st) { return st.status === 'booked' || st.status === 'travelling'; });
    var facts = h('dl', { className: 'facts' });
    [['Now', visitorStateText(v) || '\u2013'], ['Skills', (v.skills || []).join(', ') || '\u2013'],
      ['Shift', (v.shifts || []).map(function (sh) { return span(sh.start, sh.end); }).join(', ') || 'None this day'],
      ['Visits', live.length + ' (' + left.length + ' still to reach)']].forEach(function (r, i) {
      facts.appendChild(h('dt', { text: r[0] }));
      var dd = h('dd', { text: r[1] });
      if (i === 0) ui.visitorNow = dd;
      facts.appendChild(dd);
    });
    body.appendChild(facts);
    body.appendChild(h('ol', { className: 'visit-list' }, live.map(function (st) {
      return h('li', null, h('button', { type: 'button', className: 'result', 'data-ref': st.reference,
        onclick: function (e) { openAppointment(st.reference, e.currentTarget); } },
        [h('strong', { text: st.reference }), ' ' + span(st.window_start, st.window_end) + ' \u00b7 ' +
          (st.customer_name || '') + ' \u00b7 ' + words(st.status, STATUS_WORDS) + ' \u00b7 ' + words(st.risk, RISK_WORDS)]));
    })));
    if (v.state === 'unavailable') {
      body.appendChild(section('Unavailable', [h('p', { text: v.name + ' is unavailable for the rest of the day.' })]));
      return;
    }
    body.appendChild(reorderSection(v));
    body.appendChild(unavailableSection(v, left.length));
  }

  /* Reorder: the visitor's visits still to start (booked), in route order
   * (the board lists stops so), moved with Move up / Move down buttons (no
   * dragging: keyboard and touch alike); Save sends the whole order. The
   * server keeps it only if every promise is still kept (else 409 naming the
   * visit that would be late). Visits under way and the break keep their
   * places on the server's side. */
  function reorderSection(v) {
    var booked = (v.stops || []).filter(function (st) { return st.status === 'booked'; });
    var box = h('div', { className: 'reorder-body' });
    var sec = section('Reorder the route', [box]);
    sec.id = 'reorder';
    function closed() {
      clear(box);
      if (booked.length < 2) {
        box.appendChild(h('p', { className: 'empty', text: 'Fewer than two visits still to start: nothing to reorder.' }));
        return;
      }
      box.appendChild(h('p', { className: 'hint', text: booked.length + ' visits still to start. Change their order by hand; ' +
        'it is kept only if every promised window is still met.' }));
      box.appendChild(h('button', { type: 'button', className: 'secondary', id: 'reorder-open',
        text: 'Reorder visits', onclick: open }));
    }
    function open() {
      clear(box);
      var order = booked.slice();
      var first = booked.map(function (st) { return st.reference; }).join(' ');
      var err = h('div', { className: 'form-error', role: 'alert' });
      var moved = h('p', { className: 'visually-hidden', 'aria-live': 'polite' });
      var list = h('ol', { className: 'reorder-list', id: 'reorder-list', 'aria-label': 'Visits still to start, in route order' });
      var save = h('button', { type: 'button', id: 'reorder-save', text: 'Save the order' });
      var cancel = h('button', { type: 'button', className: 'secondary', text: 'Cancel' });
      function draw(focusRef, dir) {
        clear(list);
        order.forEach(function (st, i) {
          var up = h('button', { type: 'button', className: 'secondary small move-up', disabled: i === 0 },
            ['Move up', h('span', { className: 'visually-hidden', text: ' ' + st.reference })]);
          var down = h('button', { type: 'button', className: 'secondary small move-down', disabled: i === order.length - 1 },
            ['Move down', h('span', { className: 'visually-hidden', text: ' ' + st.reference })]);
          up.addEventListener('click', function () { move(i, -1); });
          down.addEventListener('click', function () { move(i, 1); });
          list.appendChild(h('li', { className: 'ro-item', 'data-ref': st.reference }, [
            h('span', { className: 'ro-pos', 'aria-hidden': 'true', text: String(i + 1) }),
            h('span', { className: 'ro-what' }, [h('strong', { text: st.reference }), ' ',
              h('span', { className: 'ro-window', text: span(st.window_start, st.window_end) }),
              h('span', { className: 'ro-who', text: [st.customer_name, st.postcode].filter(Boolean).join(' \u00b7 ') })]),
            h('span', { className: 'ro-buttons' }, [up, down])]));
          if (st.reference === focusRef) {
            var want = dir < 0 ? up : down;
            (want.disabled ? (dir < 0 ? down : up) : want).focus();
          }
        });
        var changed = order.map(function (st) { return st.reference; }).join(' ') !== first;
        save.disabled = !changed;
      }
      function move(i, dir) {
        var j = i + dir;
        if (j < 0 || j >= order.length) return;
        var st = order[i];
        order[i] = order[j];
        order[j] = st;
        formError(err, null);
        draw(st.reference, dir);
        moved.textContent = st.reference + ' moved to place ' + (j + 1) + ' of ' + order.length + '.';
      }
      save.addEventListener('click', function () {
        formError(err, null);
        busy(save, true, 'Saving\u2026');
        var refs = order.map(function (st) { return st.reference; });
        api('POST', '/api/v1/visitors/' + v.id + '/route', { date: S.board.date, order: refs }).then(function () {
          say(v.name + '\u2019s route reordered.');
          return fetchBoard().catch(function () {}).then(function () {
            if (S.drawerKind !== 'visitor' || S.drawerVisitor !== v.id) return;
            openVisitor(v.id);
            var note = h('p', { className: 'done-note', id: 'reorder-done', text: 'Saved: ' + refs.length +
              ' visits in the new order. The windows stay as promised, so no customer is told.' });
            var box2 = document.querySelector('#reorder .reorder-body');
            if (box2) box2.insertBefore(note, box2.firstChild);
          });
        }).catch(function (e) {
          busy(save, false, 'Save the order');
          formError(err, e);
          save.focus();
        });
      });
      cancel.addEventListener('click', function () { closed(); var o = document.getElementById('reorder-open'); if (o) o.focus(); });
      add(box, [h('p', { className: 'hint', id: 'reorder-help', text: 'Visits under way and the break keep their places. ' +
        'The order is kept only if every promised window is still met; the windows do not change.' }),
        list, moved, err, h('p', { className: 'ro-actions' }, [save, ' ', cancel])]);
      draw(null, 0);
      var firstBtn = list.querySelector('button:not([disabled])');
      if (firstBtn) firstBtn.focus();
    }
    closed();
    return sec;
  }

  function unavailableSection(v, left) {
    var err = h('div', { role: 'alert' });
    var reason = h('select', { id: 'unavail-reason', name: 'reason' }, [['sick', 'Sick'], ['breakdown', 'Vehicle breakdown'],
      ['other', 'Other']].map(function (o) { return h('option', { value: o[0], text: o[1] }); }));
    var note = h('input', { type: 'text', id: 'unavail-note', name: 'note', maxlength: 2000 });
    var ask = h('button', { type: 'submit', className: 'danger', text: 'Mark ' + v.name + ' unavailable' });
    var confirmBox = h('div', { className: 'confirm', hidden: true });
    var form = h('form', { className: 'unavailable-form' }, [
      h('p', { text: 'For the rest of today (sick, breakdown). Their remaining visits go at risk and each customer gets an apology.' }),
      h('div', { className: 'field' }, [h('label', { for: 'unavail-reason', text: 'Reason' }), reason]),
      h('div', { className: 'field' }, [h('label', { for: 'unavail-note', text: 'Note (optional)' }), note]),
      err, ask, confirmBox]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      ask.hidden = true;
      confirmBox.hidden = false;
      clear(confirmBox);
      var yes = h('button', { type: 'button', className: 'danger', text: 'Yes, mark unavailable' });
      var no = h('button', { type: 'button', className: 'secondary', text: 'Cancel' });
      add(confirmBox, [h('p', { className: 'confirm-q', text: 'Mark ' + v.name + ' unavailable for the rest of today? ' +
        left + (left === 1 ? ' visit goes' : ' visits go') + ' at risk and ' + (left === 1 ? 'its customer is' : 'their customers are') + ' told.' }),
        yes, ' ', no]);
      yes.focus();
      no.addEventListener('click', function () { confirmBox.hidden = true; ask.hidden = false; ask.focus(); });
      yes.addEventListener('click', function () {
        busy(yes, true, 'Marking\u2026');
        var body = { reason: reason.value };
        if (note.value.trim()) body.note = note.value.trim();
        api('POST', '/api/v1/visitors/' + v.id + '/unavailable', body).then(function () {
          form.replaceWith(h('p', { className: 'done-note', text: v.name + ' is marked unavailable. Rebalance the day to give their visits to colleagues.' }));
          say(v.name + ' marked unavailable.');
          return fetchBoard();
        }).catch(function (e2) {
          confirmBox.hidden = true;
          ask.hidden = false;
          busy(yes, false);
          formError(err, e2);
        });
      });
    });
    return section('Mark unavailable', [form]);
  }

  /* -- the day: disruption and rebalance -- */

  function openDisruption(e) {
    var body = openDrawer('disruption', 'Declare a disruption', e && e.currentTarget);
    var date = S.board ? S.board.date : '';
    var err = h('div', { role: 'alert' });
    var note = h('textarea', { id: 'disruption-note', name: 'note', maxlength: 300, required: true, rows: 3 });
    var pcs = h('input', { type: 'text', id: 'disruption-postcodes', name: 'postcodes', 'aria-describedby': 'disruption-pc-hint' });
    var btn = h('button', { type: 'submit', className: 'danger', text: 'Declare the disruption' });
    var form = h('form', { className: 'disruption-form', novalidate: true }, [
      h('p', { text: 'Force majeure on ' + dayText(date) + ': every visit not yet reached in the area is exempt from compensation and each customer is told at once.' }),
      h('div', { className: 'field' }, [h('label', { for: 'disruption-note', text: 'What is happening (sent to customers)' }), note]),
      h('div', { className: 'field' }, [h('label', { for: 'disruption-postcodes', text: 'Postcode areas' }),
        h('p', { className: 'hint', id: 'disruption-pc-hint', text: 'Prefixes separated by commas (ZZ1, ZZ2 7); empty for the whole area.' }), pcs]),
      err, btn]);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!note.value.trim()) { formError(err, { message: 'Say what is happening: customers read it.' }); note.focus(); return; }
      var list = pcs.value.split(',').map(function (x) { return x.trim(); }).filter(Boolean);
      var req = { date: date, note: note.value.trim() };
      if (list.length) req.postcodes = list;
      busy(btn, true, 'Declaring\u2026');
      api('POST', '/api/v1/dispatch/disruptions', req).then(function (r) {
        form.replaceWith(h('p', { className: 'done-note', text: 'Declared: ' + r.affected + ' visits affected, ' +
          r.told + ' customers told.' }));
        say('Disruption declared.');
        return fetchBoard();
      }).catch(function (e2) { busy(btn, false, 'Declare the disruption'); formError(err, e2); });
    });
    body.appendChild(form);
    note.focus();
  }

  function visitorName(id) {
    if (id == null) return 'no one (unavailable)';
    var v = S.visitors.get(id);
    return v ? v.name : 'visitor ' + id;
  }

  function openRebalance(e) {
    var body = openDrawer('rebalance', 'Rebalance the day', e && e.currentTarget);
    var date = S.board ? S.board.date : null;
    var box = h('div', { className: 'proposal' }, h('p', { text: 'Asking the optimiser for ' + dayText(date) + '\u2026' }));
    body.appendChild(box);
    propose();

    function propose() {
      api('POST', '/api/v1/dispatch/rebalance', { date: date, scope: 'all' }).then(showProposal, function (e2) {
        formError(box, e2);
        box.appendChild(h('button', { type: 'button', className: 'secondary', text: 'Try again', onclick: function () {
          clear(box).appendChild(h('p', { text: 'Asking again\u2026' }));
          propose();
        } }));
      });
    }

    function showProposal(p) {
      clear(box);
      var facts = h('dl', { className: 'facts proposal-facts' });
      [['Promises saved', String(p.promises_saved)],
        ['Promises broken', p.promises_broken_before + ' now, ' + p.promises_broken_after + ' after'],
        ['Travel', Math.round(p.travel_before_minutes) + ' min now, ' + Math.round(p.travel_after_minutes) + ' min after (' +
          (p.travel_added_minutes >= 0 ? '+' : '') + Math.round(p.travel_added_minutes) + ')'],
        ['Customers affected', String(p.customers_affected)]].forEach(function (r) {
        facts.appendChild(h('dt', { text: r[0] }));
        facts.appendChild(h('dd', { text: r[1] }));
      });
      box.appendChild(facts);
      if (p.note) box.appendChild(h('p', { className: 'note', text: p.note }));
      var moves = (p.moves || []).filter(function (m) { return m.from_visitor_id !== m.to_visitor_id; });
      var reorders = (p.moves || []).length - moves.length;
      if (moves.length) {
        var tbl = h('table', { className: 'moves' }, [
          h('caption', { text: moves.length + (moves.length === 1 ? ' visit moves' : ' visits move') + ' to another visitor' +
            (reorders ? ' (' + reorders + ' more change place in their route)' : '') }),
          h('thead', null, h('tr', null, ['Visit', 'Window', 'From', 'To', 'Arrives', 'Kept'].map(function (t) {
            return h('th', { scope: 'col', text: t });
          }))),
          h('tbody', null, moves.map(function (m) {
            return h('tr', null, [h('td', { text: m.reference }), h('td', { text: span(m.window_start, m.window_end) }),
              h('td', { text: visitorName(m.from_visitor_id) }), h('td', { text: visitorName(m.to_visitor_id) }),
              h('td', { text: hm(m.expected_arrival) }),
              h('td', { text: (m.kept_before ? 'yes' : 'no') + ' \u2192 ' + (m.kept_after ? 'yes' : 'no') })]);
          }))]);
        box.appendChild(h('div', { className: 'table-scroll' }, tbl));
      } else if (reorders) {
        box.appendChild(h('p', { text: reorders + ' visits change place within their routes; no one else takes a visit.' }));
      }
      if (!p.id) {
        if (!p.note) box.appendChild(h('p', { className: 'note', text: 'Nothing to gain: the day stays as it is.' }));
        return;
      }
      var err = h('div', { role: 'alert' });
      var apply = h('button', { type: 'button', id: 'apply-proposal', text: 'Apply this proposal' });
      var until = ms(p.expires_at);
      box.appendChild(h('p', { className: 'hint', text: 'The proposal is kept until ' + hm(until) + '.' }));
      box.appendChild(err);
      box.appendChild(apply);
      apply.addEventListener('click', function () {
        busy(apply, true, 'Applying\u2026');
        api('POST', '/api/v1/dispatch/rebalance/' + encodeURIComponent(p.id) + '/apply', {}).then(function (r) {
          clear(box).appendChild(h('p', { className: 'done-note', text: 'Applied: ' + r.moved + (r.moved === 1 ? ' visit' : ' visits') +
            ' moved, ' + r.routes_ordered + ' routes reordered, ' + r.customers_told + ' customers told.' }));
          say('Rebalance applied.');
          return fetchBoard();
        }).catch(function (e2) {
          formError(err, e2);
          apply.remove();
          err.appendChild(h('button', { type: 'button', className: 'secondary', text: 'Propose again', onclick: function () {
            clear(box).appendChild(h('p', { text: 'Asking again\u2026' }));
            propose();
          } }));
        });
      });
    }
  }

  /* ---- inbox and call list ----------------------------------------------------------------------------- */

  var INBOX_KIND = { call: 'Call', rebook: 'Find a new window', message: 'Message' };
  var OUTCOME_WORDS = { unknown_sender: 'from a number we do not know', offer_gone: 'the offered window has gone',
    inbox: '' };

  /* One task of the call list (list 'calls') or one customer text or
   * address request (list 'messages'), with its "Done" button. */
  function inboxItem(it, list) {
    var ref = it.reference;
    var done = h('button', { type: 'button', className: 'secondary small', text: 'Done',
      'aria-label': 'Done: ' + words(it.kind, INBOX_KIND) + (it.customer_name ? ', ' + it.customer_name : '') });
    var err = h('div', { role: 'alert' });
    var outcome = it.outcome && OUTCOME_WORDS[it.outcome];
    var li = h('li', { className: 'inbox-item', 'data-id': it.id }, [
      h('p', { className: 'ii-head' }, [h('span', { className: 'tag', text: words(it.kind, INBOX_KIND) }), ' ',
        ref ? h('button', { type: 'button', className: 'ref-button', text: ref,
          onclick: function (e) { openAppointment(ref, e.currentTarget); } }) : null, ' ',
        h('span', { text: it.customer_name || '' }), it.at ? ' \u00b7 ' + whenText(it.at) : '']),
      it.text ? h('p', { className: 'msg-text', text: it.text }) : null,
      outcome ? h('p', { className: 'hint', text: outcome.replace(/^./, function (c) { return c.toUpperCase(); }) + '.' }) : null,
      h('p', { className: 'ii-actions' }, [
        it.phone ? h('a', { className: 'button secondary small', href: 'tel:' + it.phone, text: 'Call ' + it.phone }) : null,
        ' ', done]), err]);
    done.addEventListener('click', function () {
      busy(done, true);
      var path = '/api/v1/dispatch/' + (list === 'calls' ? 'tasks/' : 'inbound/') + encodeURIComponent(it.id) + '/done';
      api('POST', path, {}).then(function () {
        li.remove();
        say('Marked done.');
      }).catch(function (e) { busy(done, false); formError(err, e); });
    });
    return li;
  }

  function loadInbox() {
    return api('GET', '/api/v1/dispatch/inbox').then(renderInbox, function (e) {
      clear(ui.inbox);
      formError(ui.inbox, e);
    });
  }

  function renderInbox(r) {
    clear(ui.inbox);
    var calls = (r && r.calls) || [], msgs = (r && r.messages) || [];
    ui.inbox.appendChild(h('h3', { text: 'Call list' }));
    if (!calls.length) ui.inbox.appendChild(h('p', { className: 'empty', text: 'No one to call.' }));
    else ui.inbox.appendChild(h('ul', { className: 'inbox-list calls' }, calls.map(function (c) { return inboxItem(c, 'calls'); })));
    ui.inbox.appendChild(h('h3', { text: 'Replies and address requests' }));
    if (!msgs.length) ui.inbox.appendChild(h('p', { className: 'empty', text: 'Nothing new.' }));
    else ui.inbox.appendChild(h('ul', { className: 'inbox-list messages' }, msgs.map(function (m) { return inboxItem(m, 'messages'); })));
  }

  /* ---- feedback moderation ------------------------------------------------------------------------------------ */

  function loadFeedback() {
    return api('GET', '/api/v1/feedback?state=pending&limit=50').then(renderFeedback, function (e) {
      clear(ui.feedback);
      formError(ui.feedback, e);
    });
  }

  function renderFeedback(r) {
    clear(ui.feedback);
    var items = (r && r.items) || [];
    if (!items.length) { ui.feedback.appendChild(h('p', { className: 'empty', text: 'No feedback waits for moderation.' })); return; }
    ui.feedback.appendChild(h('ul', { className: 'feedback-queue' }, items.map(feedbackItem)));
    if (r.next) ui.feedback.appendChild(h('p', { className: 'hint', text: 'More wait after these.' }));
  }

  function feedbackItem(f) {
    var id = 'fb-' + f.id;
    var err = h('div', { role: 'alert' });
    var text = h('textarea', { id: id + '-text', name: 'comment', rows: 3, maxlength: 2000 });
    text.value = f.comment || '';
    var why = h('input', { type: 'text', id: id + '-why', name: 'reason', maxlength: 300 });
    var pub = h('button', { type: 'button', className: 'small', text: 'Publish as given', disabled: !f.publish_consent });
    var red = h('button', { type: 'button', className: 'secondary small', text: 'Publish the edited words', disabled: !f.publish_consent });
    var wh = h('button', { type: 'button', className: 'secondary small', text: 'Withhold' });
    var li = h('li', { className: 'fb-item' }, [
      h('p', { className: 'fb-head' }, [h('strong', { text: f.rating + ' of 5' }), ' \u00b7 ' + f.reference + ' \u00b7 ' +
        (f.visit_type || '') + ' \u00b7 ' + (f.visit_date || '') + (f.publish_consent ? '' : ' \u00b7 no consent to publish')]),
      h('blockquote', { text: f.comment || '' }),
      h('div', { className: 'field' }, [h('label', { for: id + '-text', text: 'Words to publish (remove personal data)' }), text]),
      h('div', { className: 'field' }, [h('label', { for: id + '-why', text: 'Reason (needed to withhold)' }), why]),
      err, h('p', { className: 'fb-actions' }, [pub, ' ', red, ' ', wh])]);
    function moderate(body, btn) {
      [pub, red, wh].forEach(function (b) { b.disabled = true; });
      api('POST', '/api/v1/feedback/' + f.id + '/moderate', body).then(function (res) {
        li.replaceWith(h('li', { className: 'fb-item done-note', text: f.reference + ': ' + words(res.moderation, {}) + '.' }));
        say('Feedback on ' + f.reference + ' ' + res.moderation + '.');
      }).catch(function (e) {
        pub.disabled = red.disabled = !f.publish_consent;
        wh.disabled = false;
        formError(err, e);
        btn.focus();
      });
    }
    pub.addEventListener('click', function () { moderate({ action: 'publish' }, pub); });
    red.addEventListener('click', function () {
      if (!text.value.trim()) { formError(err, { message: 'Write the words the public sees.' }); text.focus(); return; }
      moderate({ action: 'redact', comment: text.value.trim() }, red);
    });
    wh.addEventListener('click', function () {
      if (!why.value.trim()) { formError(err, { message: 'Say why it is withheld.' }); why.focus(); return; }
      moderate({ action: 'withhold', reason: why.value.trim() }, wh);
    });
    return li;
  }

  /* ---- start --------------------------------------------------------------------------------------------------- */

  function hatchDefs() {
    /* one pattern for the breaks, shared by every row's SVG */
    var svg = s('svg', { width: 0, height: 0, class: 'defs', 'aria-hidden': 'true', focusable: 'false' });
    var defs = s('defs');
    var p = s('pattern', { id: 'otd-hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse',
      patternTransform: 'rotate(45)' });
    p.appendChild(s('rect', { width: 6, height: 6, fill: '#e1e4e6' }));
    p.appendChild(s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#6f777b', 'stroke-width': 2 }));
    defs.appendChild(p);
    svg.appendChild(defs);
    return svg;
  }

  function onResize() {
    if (!S.board) return;
    var axis = computeAxis(S.board);
    if (axis.width === S.axis.width) return;
    S.axis = axis;
    drawAxis();
    S.rows.forEach(function (r) { r.stale = true; });
    drawVisible();
    placeNowLine();
  }

  function start() {
    buildFrame();
    app.appendChild(hatchDefs());
    var q = new URL(location.href).searchParams.get('date');
    S.date = q && /^\d{4}-\d{2}-\d{2}$/.test(q) ? q : null;
    S.buffered = [];
    openStream();
    fetchBoard().then(function () {
      /* drawn: force style and layout so the mark means what it says */
      void ui.rowsList.offsetHeight;
      if (!S.firstDrawn) {
        S.firstDrawn = true;
        mark('board-data-ready');
        app.setAttribute('data-ready', 'true');
      }
      var pending = S.buffered || [];
      S.buffered = null;
      loadInbox();
      loadFeedback();
      pending.forEach(function (x) { applyEvent(x[0], x[1]); });
    }, function () {
      S.buffered = null; /* the alert says why; a reload tries again */
    });
    setInterval(function () { tickClocks(); placeNowLine(); }, 1000);
    /* a slow safety net: the data the stream cannot carry (figures, deadlines) */
    setInterval(function () { if (!document.hidden) scheduleRefetch(0); }, 60000);
    var sf = 0;
    ui.scroll.addEventListener('scroll', function () {
      if (!sf) sf = requestAnimationFrame(function () { sf = 0; drawVisible(); });
    }, { passive: true });
    var rt = 0;
    window.addEventListener('resize', function () {
      clearTimeout(rt);
      rt = setTimeout(onResize, 150);
    });
  }

  start();
})();

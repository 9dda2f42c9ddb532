/* onthedot: the visitor's phone page (/visitor), journey 3 of DESIGN.md.
 *
 * The server sends a shell (<div id="app" data-csrf data-visitor-id>); this
 * script builds the page from GET /api/v1/visitor/day and sends the
 * visitor's taps to POST /api/v1/visitor/events.
 *
 *  - Every tap is kept first in IndexedDB (a client event id from
 *    crypto.randomUUID and its "at" on the server's clock), shown at once
 *    (optimistic), then sent in order as one batch {"events": [...]}. Without
 *    signal (or with the server unreachable or failing) the taps wait and are
 *    replayed on the "online" event, by a retry timer, when the live stream
 *    reconnects and on page load; "duplicate" counts as sent. An event the
 *    server refuses (400/422 naming events[i]) is dropped from the queue and
 *    shown to the visitor. 401: the session ended; the page says so and
 *    offers "Sign in"; the queue waits and is sent once signed in again.
 *  - Time: never the phone's clock. "now" is the server's "now" from the
 *    last day answer plus the time elapsed since it arrived (on the phone's
 *    monotonic-enough Date.now()).
 *  - While travelling within a shift the page shares its position
 *    (geolocation watch; a position event at most every 30 s unless it moved
 *    100 m), and says so; the watch stops at arrival, on a break, when
 *    unavailable and at the end of the shift.
 *  - The service worker (/visitor-sw.js) keeps the shell and the last day
 *    answer for opening without signal.
 *  - A dispatcher's changes arrive on GET /api/v1/visitor/stream: the day is
 *    reloaded and what changed (a visit moved, gone, new, cancelled) is
 *    called out in a live region.
 *
 * Everything is built with createElement/textContent (no innerHTML), no
 * inline style (the CSP forbids it). */
(function () {
  'use strict';

  var root = document.getElementById('app');
  if (!root) return;
  var CSRF = root.getAttribute('data-csrf') || '';
  var VISITOR = Number(root.getAttribute('data-visitor-id')) || 0;
  var DAY_URL = '/api/v1/visitor/day';
  var EVENTS_URL = '/api/v1/visitor/events';
  var STREAM_URL = '/api/v1/visitor/stream';
  var SIGN_IN = '/login?next=/visitor';
  var BATCH = 100;
  var POSITION_EVERY_MS = 30000;
  var POSITION_MOVE_M = 100;
  var RETRY_MIN_MS = 5000;
  var RETRY_MAX_MS = 60000;
  var REFRESH_MS = 60000;
  var NOTES_KEY = 'otd-visitor-refused-' + VISITOR;
  var ASKED_KEY = 'otd-visitor-asked-' + VISITOR;

  /* ---- state ---- */
  var day = null;          // the last day answer
  var clockBase = 0;       // Date.now() when day.now was the server's now
  var dayOffline = false;  // day came from the service worker's copy
  var dayStoredAt = 0;
  var dayLoads = 0;
  var queue = [];          // [{seq, visitor_id, event}] in tap order
  var justSent = [];       // events sent, shown until the next day answer
  var refused = loadJSON(NOTES_KEY, []);
  var asked = loadJSON(ASKED_KEY, {});
  var sessionExpired = false;
  var otherAccount = false; // the cookie is another account's (signed in elsewhere)
  var lastProblem = '';    // why the last send failed ('' when it did not)
  var sending = false, sendAgain = false;
  var retryTimer = null, retryDelay = RETRY_MIN_MS;
  var open = { cannot: null, unavailable: false, note: '', reason: 'sick', unavailNote: '' }; // forms shown, what is typed in them
  var focusAfter = null;   // data-key to focus after the next render
  var geo = { watch: null, fix: null, sent: null, denied: false, lastSentAt: null };
  var lastAt = 0;          // the last tap's "at" (ms): taps stay in order
  var stream = null, streamRetry = null;
  var movedAway = {};      // reference -> true, from the stream's "route" events
  var changed = {};        // reference -> the last "appointment" event with a change
  var db = null;
  var memoryQueue = false; // IndexedDB unavailable: the queue lives in memory
  var seqCounter = 0;

  /* ---- small helpers ---- */
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }
  function hidden(text) { return el('span', { class: 'visually-hidden', text: text }); }
  function loadJSON(key, dflt) {
    try { var v = JSON.parse(localStorage.getItem(key)); return v === null ? dflt : v; }
    catch (e) { return dflt; }
  }
  function saveJSON(key, v) { try { localStorage.setItem(key, JSON.stringify(v)); } catch (e) { /* full or off */ } }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /* ---- time: the server's clock ---- */
  function serverNow() {
    if (day && day.now) return Date.parse(day.now) + (Date.now() - clockBase);
    return Date.now();
  }
  function iso(ms) { return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'); }
  function ms(t) { return t ? Date.parse(t) : NaN; }
  function zone() { return (day && day.timezone) || undefined; }
  var fmtCache = {};
  function fmt(opts) {
    var key = JSON.stringify(opts) + (zone() || '');
    if (!fmtCache[key]) {
      var o = Object.assign({}, opts);
      if (zone()) o.timeZone = zone();
      fmtCache[key] = new Intl.DateTimeFormat('en-GB', o);
    }
    return fmtCache[key];
  }
  function hhmm(t) {
    var v = typeof t === 'number' ? t : ms(t);
    return isNaN(v) ? '' : fmt({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(v));
  }
  function range(a, b) { return hhmm(a) + '–' + hhmm(b); }
  function dayText(date) {
    var p = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
    if (!p) return '';
    var d = new Date(Date.UTC(+p[1], +p[2] - 1, +p[3], 12));
    return new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }).format(d);
  }
  // the local date of a window from the stream ({start, local_start: "2026-03-03T10:00:00+00:00"})
  function localDate(w) {
    if (w.local_start && /^\d{4}-\d\d-\d\d/.test(w.local_start)) return w.local_start.slice(0, 10);
    return new Date(ms(w.start)).toISOString().slice(0, 10);
  }
  function minutesText(m) {
    m = Math.max(0, Math.round(m));
    if (m < 60) return m + ' min';
    var h = Math.floor(m / 60), r = m % 60;
    return h + ' h' + (r ? ' ' + (r < 10 ? '0' : '') + r + ' min' : '');
  }
  function nextAt() {
    var t = Math.floor(serverNow() / 1000) * 1000;
    if (t <= lastAt) t = lastAt + 1000; // strictly after the last tap
    lastAt = t;
    return iso(t);
  }
  function inShift(t) {
    if (!day || !Array.isArray(day.shifts) || !day.shifts.length) return true; // not told: assume so
    return day.shifts.some(function (s) { return t >= ms(s.start) && t < ms(s.end); });
  }

  /* ---- the queue in IndexedDB ---- */
  function openDb() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { memoryQueue = true; resolve(null); return; }
      var req;
      try { req = indexedDB.open('otd-visitor', 1); } catch (e) { memoryQueue = true; resolve(null); return; }
      req.onupgradeneeded = function () {
        req.result.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { memoryQueue = true; resolve(null); };
      req.onblocked = function () { memoryQueue = true; resolve(null); };
    });
  }
  function tx(mode, fn) {
    return new Promise(function (resolve, reject) {
      var t = db.transaction('queue', mode);
      var out = fn(t.objectStore('queue'));
      t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
      t.onerror = function () { reject(t.error); };
      t.onabort = function () { reject(t.error); };
    });
  }
  function readQueue() {
    if (!db) return Promise.resolve(queue);
    return tx('readonly', function (s) { return s.getAll(); }).then(function (rows) {
      rows.sort(function (a, b) { return a.seq - b.seq; });
      return rows;
    });
  }
  function addToQueue(event) {
    var entry = { visitor_id: VISITOR, event: event };
    if (!db) {
      entry.seq = ++seqCounter;
      queue.push(entry);
      return Promise.resolve(entry);
    }
    return tx('readwrite', function (s) { return s.add(entry); }).then(function (seq) {
      entry.seq = seq;
      queue.push(entry);
      return entry;
    });
  }
  function removeFromQueue(entries) {
    var seqs = entries.map(function (e) { return e.seq; });
    queue = queue.filter(function (e) { return seqs.indexOf(e.seq) < 0; });
    if (!db) return Promise.resolve();
    return tx('readwrite', function (s) { seqs.forEach(function (k) { s.delete(k); }); });
  }
  function mine() { return queue.filter(function (e) { return e.visitor_id === VISITOR; }); }
  function waitingTaps() { return mine().filter(function (e) { return e.event.type !== 'position'; }).length; }
  function waitingPositions() { return mine().length - waitingTaps(); }

  /* ---- the day as the visitor sees it: the server's plus taps not yet in it ---- */
  var REMAINING = { booked: true, travelling: true };
  function effective() {
    if (!day) return null;
    var d = Object.assign({}, day);
    d.appointments = (day.appointments || []).map(function (a) { return Object.assign({}, a); });
    justSent.concat(mine().map(function (e) { return e.event; })).forEach(function (e) { applyLocal(d, e); });
    return d;
  }
  function stopOf(d, ref) {
    for (var i = 0; i < d.appointments.length; i++)
      if (d.appointments[i].reference === ref) return d.appointments[i];
    return null;
  }
  function setState(d, state, current, at) {
    d.state = state; d.current = current || null; d.since = at; d.late_minutes = 0;
  }
  function applyLocal(d, e) {
    var s = e.appointment ? stopOf(d, e.appointment) : null;
    var prev = d.current ? stopOf(d, d.current) : null;
    switch (e.type) {
      case 'start_travel':
        if (!s) return;
        if (d.state === 'travelling' && prev && prev !== s && prev.status === 'travelling') prev.status = 'booked';
        setState(d, 'travelling', s.reference, e.at);
        s.status = 'travelling';
        break;
      case 'arrived':
        if (!s) return;
        if (d.state === 'travelling' && prev && prev !== s && prev.status === 'travelling') prev.status = 'booked';
        setState(d, 'on_site', s.reference, e.at);
        s.status = 'arrived'; s.arrived_at = e.at;
        break;
      case 'done':
      case 'no_access':
        if (!s) return;
        s.status = e.type;
        if (e.type === 'done') s.done_at = e.at;
        if (d.state !== 'unavailable') setState(d, 'idle', null, e.at);
        else if (d.current === s.reference) d.current = null;
        break;
      case 'needs_another_visit':
        if (s) s.another_visit = true;
        break;
      case 'late':
        d.late_minutes = e.minutes;
        break;
      case 'cannot_attend':
        if (!s) return;
        if (s.status === 'travelling') { s.status = 'booked'; setState(d, 'idle', null, e.at); }
        s.forced = true; s.risk = 'at_risk'; s.risk_reason = 'cannot attend: ' + (e.note || '');
        break;
      case 'unavailable':
        d.appointments.forEach(function (x) {
          if (!REMAINING[x.status]) return;
          if (x.status === 'travelling') x.status = 'booked';
          x.forced = true; x.risk = 'at_risk'; x.risk_reason = 'the visitor is unavailable: ' + e.reason;
        });
        setState(d, 'unavailable', null, e.at);
        d.unavailable_reason = e.reason;
        break;
      case 'break_start':
        setState(d, 'on_break', null, e.at);
        break;
      case 'break_end':
        setState(d, 'idle', null, e.at);
        d.break_taken = true;
        break;
    }
  }
  function cannotAttended(s) { return s.forced && /^cannot attend/.test(s.risk_reason || ''); }
  function ordered(d) {
    var list = d.appointments.slice();
    var key = function (a) { return ms(a.planned_arrival) || ms(a.window_start) || 0; };
    // the server's order, unless it gives planned arrivals to sort by
    if (list.some(function (a) { return a.planned_arrival; }))
      list = list.map(function (a, i) { return [a, i]; }).sort(function (x, y) {
        return (key(x[0]) - key(y[0])) || (x[1] - y[1]);
      }).map(function (x) { return x[0]; });
    return list;
  }
  function focusStop(d) {
    if (d.state === 'unavailable') return null;
    if ((d.state === 'travelling' || d.state === 'on_site') && d.current) return stopOf(d, d.current);
    var list = ordered(d);
    for (var i = 0; i < list.length; i++)
      if (REMAINING[list[i].status] && !cannotAttended(list[i])) return list[i];
    return null;
  }

  /* ---- live regions (built once, never rebuilt: announcements need that) ---- */
  var header = el('div', { class: 'day-head' });
  var statusLine = el('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  var callouts = el('div', { class: 'callouts', role: 'alert', 'aria-live': 'assertive' });
  var sync = el('div', { class: 'sync', id: 'sync', role: 'status', 'aria-live': 'polite' });
  var sharing = el('p', { class: 'sharing', id: 'sharing', role: 'status', 'aria-live': 'polite' });
  var content = el('div', { class: 'day-body' });

  function announce(text) {
    statusLine.textContent = '';
    // a fresh text node, so the same words twice are still read out
    setTimeout(function () { statusLine.textContent = text; }, 50);
  }
  function callOut(text) {
    var p = el('div', { class: 'callout' }, [el('p', {}, [text])]);
    var close = el('button', { type: 'button', class: 'link-button', onclick: function () { p.remove(); } }, ['Dismiss', hidden(': ' + text)]);
    p.appendChild(close);
    callouts.appendChild(p);
    while (callouts.children.length > 4) callouts.removeChild(callouts.firstChild);
  }

  /* ---- rendering ---- */
  function render() {
    var d = effective();
    var active = document.activeElement;
    var key = focusAfter || (active && content.contains(active) ? active.getAttribute('data-key') : null);
    focusAfter = null;
    root.setAttribute('data-state', d ? d.state : 'loading');
    root.setAttribute('data-queue', String(mine().length));
    root.setAttribute('data-loads', String(dayLoads));
    renderHeader(d);
    renderSync();
    renderSharing(d);
    var body = document.createDocumentFragment();
    if (!d) {
      body.appendChild(el('p', { class: 'notice' }, [sessionExpired ? 'Sign in to see your route.'
        : dayOffline ? 'No signal, and no route saved on this phone yet. It shows as soon as there is signal.'
          : 'Loading your route…']));
    } else {
      body.appendChild(renderDayPanel(d));
      var list = ordered(d);
      if (!list.length) body.appendChild(el('p', { class: 'notice' }, ['No visits on your route today.']));
      else {
        var ol = el('ol', { class: 'route', 'aria-label': 'Visits in route order' });
        var focus = focusStop(d);
        list.forEach(function (s, i) { ol.appendChild(renderStop(d, s, i + 1, s === focus)); });
        body.appendChild(ol);
      }
      var end = renderDayEnd(d);
      if (end) body.appendChild(end);
    }
    content.textContent = '';
    content.appendChild(body);
    if (key) {
      var again = content.querySelector('[data-key="' + key.replace(/"/g, '') + '"]');
      if (again) again.focus();
    }
  }

  function renderHeader(d) {
    header.textContent = '';
    var bits = [];
    var name = (day && day.visitor_name) || root.getAttribute('data-user');
    if (d) bits.push(dayText(d.date));
    if (name) bits.push(name);
    header.appendChild(el('p', { class: 'who' }, [bits.join(' · ')]));
    if (d && Array.isArray(d.shifts) && d.shifts.length) {
      var s = d.shifts.map(function (x) { return range(x.start, x.end); }).join(', ');
      var b = (d.breaks || []).map(function (x) { return range(x.start, x.end); }).join(', ');
      header.appendChild(el('p', { class: 'shift' }, ['Shift ' + s + (b ? ' · break ' + b : '')]));
    }
    if (dayOffline && day && !sessionExpired) {
      header.appendChild(el('p', { class: 'offline' }, ['No signal: this is your route as last loaded' +
        (day.now ? ' at ' + hhmm(day.now) : '') + '.']));
    }
  }

  var syncSig = null;
  function renderSync() {
    var n = waitingTaps(), p = waitingPositions();
    root.setAttribute('data-waiting', String(n));
    var sig = JSON.stringify([n, p, sessionExpired, otherAccount, sending, lastProblem, navigator.onLine, refused.length, memoryQueue]);
    if (sig === syncSig) return;
    syncSig = sig;
    var hadFocus = sync.contains(document.activeElement) ? document.activeElement.getAttribute('data-key') : null;
    sync.textContent = '';
    if (sessionExpired) {
      sync.className = 'sync sync-expired';
      sync.appendChild(el('p', {}, [(otherAccount ? 'This phone is signed in with another account. Sign in as yourself'
        : 'Your session has ended. Sign in again') +
        (n ? ' to send ' + n + (n === 1 ? ' tap' : ' taps') + ' waiting on this phone.' : '.') +
        (n ? ' They stay here until then.' : '')]));
      sync.appendChild(el('a', { class: 'button', href: SIGN_IN }, ['Sign in']));
    } else if (n || p) {
      sync.className = 'sync sync-waiting';
      var why = sending ? 'sending now' : lastProblem || (navigator.onLine === false ? 'no signal' : 'sending soon');
      sync.appendChild(el('p', {}, [
        el('strong', {}, ['Waiting to be sent (' + n + ')']),
        p ? ' and ' + p + (p === 1 ? ' position' : ' positions') : '',
        ': ' + why + '. They are kept on this phone and sent in order when the signal returns.']));
      var retry = el('button', { type: 'button', class: 'secondary', 'data-key': 'retry', onclick: function () { retryDelay = RETRY_MIN_MS; flush(); } }, ['Try sending now']);
      sync.appendChild(retry);
    } else {
      sync.className = 'sync sync-ok';
      sync.appendChild(el('p', {}, [memoryQueue ? 'All taps sent (this browser cannot keep taps without signal).' : 'All taps sent.']));
    }
    if (refused.length) {
      var box = el('div', { class: 'refused' }, [el('h2', {}, ['Not accepted by the office system'])]);
      var ul = el('ul');
      refused.forEach(function (r) { ul.appendChild(el('li', {}, [r.text])); });
      box.appendChild(ul);
      box.appendChild(el('p', {}, ['These taps were not recorded. Call the office if they matter.']));
      box.appendChild(el('button', { type: 'button', class: 'secondary', 'data-key': 'dismiss-refused', onclick: function () {
        refused = []; saveJSON(NOTES_KEY, refused); render();
      } }, ['Dismiss these notes']));
      sync.appendChild(box);
    }
    if (hadFocus) {
      var f = sync.querySelector('[data-key="' + hadFocus + '"]');
      if (f) f.focus();
    }
  }

  function renderSharing(d) {
    var on = geo.watch !== null;
    root.setAttribute('data-sharing', on ? 'on' : 'off');
    sharing.className = 'sharing ' + (on ? 'sharing-on' : 'sharing-off');
    var text;
    if (on) text = 'Sharing your position while you travel' + (geo.lastSentAt ? ' (last at ' + hhmm(geo.lastSentAt) + ')' : '') + '.';
    else if (d && d.state === 'travelling' && geo.denied) text = 'Position not shared: this phone does not allow location for this page.';
    else if (d && d.state === 'travelling' && !inShift(serverNow())) text = 'Position not shared: outside your shift.';
    else if (d && d.state === 'travelling' && !navigator.geolocation) text = 'Position not shared: this browser has no location.';
    else text = 'Position not shared' + (d && d.state === 'on_break' ? ' (on a break).' : d && d.state === 'on_site' ? ' (on site).' : '.') + ' It is shared only while you travel.';
    if (sharing.textContent !== text) sharing.textContent = text;
  }

  var STATE_TEXT = {
    not_started: 'Not started yet.',
    idle: 'Between visits.',
    travelling: 'Travelling',
    on_site: 'On site',
    on_break: 'On a break',
    unavailable: 'Stopped for today'
  };
  var REASONS = { sick: 'sick', breakdown: 'vehicle breakdown', other: 'other reason' };

  function renderDayPanel(d) {
    var sec = el('section', { class: 'panel day-panel', 'aria-labelledby': 'day-state' });
    var st = STATE_TEXT[d.state] || d.state, refPart = null;
    if (d.state === 'travelling' || d.state === 'on_site') {
      var cur = d.current ? stopOf(d, d.current) : null;
      st += (d.state === 'travelling' ? ' to ' : ' at ');
      refPart = el('span', { class: 'nowrap' }, [cur ? cur.reference : 'a visit']);
    }
    if (d.state === 'on_break' && d.since) st += ' since ' + hhmm(d.since);
    sec.appendChild(el('h2', { id: 'day-state', class: 'state state-' + d.state, tabindex: '-1', 'data-key': 'day-state' }, [st, refPart]));
    if (d.state === 'unavailable')
      sec.appendChild(el('p', {}, ['Reason: ' + (REASONS[d.unavailable_reason] || d.unavailable_reason || 'unavailable') +
        '. The office is rearranging your remaining visits and telling the customers.']));
    if (d.late_minutes > 0) sec.appendChild(el('p', { class: 'late' }, ['You said you are running ' + d.late_minutes + ' minutes late.']));
    var remaining = d.appointments.some(function (a) { return REMAINING[a.status] && !cannotAttended(a); });
    var actions = el('div', { class: 'actions day-actions' });
    if (d.state !== 'unavailable' && d.state !== 'on_break' && remaining) {
      var g = el('div', { class: 'late-group', role: 'group', 'aria-labelledby': 'late-label' });
      g.appendChild(el('p', { id: 'late-label', class: 'group-label' }, ['Running late']));
      [15, 30, 60].forEach(function (m) {
        g.appendChild(el('button', { type: 'button', class: 'secondary', 'data-key': 'late-' + m, onclick: function () {
          tap('late', { minutes: m }, 'Running ' + m + ' minutes late: the office and customers are told if it matters.', 'day-state');
        } }, ['+' + m + ' min', hidden(' late')]));
      });
      actions.appendChild(g);
    }
    if (d.state === 'on_break')
      actions.appendChild(el('button', { type: 'button', 'data-key': 'break-end', onclick: function () {
        tap('break_end', {}, 'Back from the break.', 'day-state');
      } }, ['Back from break']));
    if (actions.children.length) sec.appendChild(actions);
    return sec;
  }

  /* Below the route: a break, and stopping for the day. */
  function renderDayEnd(d) {
    if (d.state === 'unavailable') return null;
    var sec = el('section', { class: 'panel day-end', 'aria-labelledby': 'day-end' }, [
      el('h2', { id: 'day-end' }, ['Breaks and stopping'])]);
    if (d.state === 'idle' || d.state === 'not_started')
      sec.appendChild(el('p', { class: 'stop-day' }, [el('button', { type: 'button', class: 'secondary', 'data-key': 'break', onclick: function () {
        tap('break_start', {}, 'On a break. Position not shared.', 'day-state');
      } }, ['On a break'])]));
    else if (d.state === 'on_break')
      sec.appendChild(el('p', {}, ['On a break since ' + hhmm(d.since) + ': “Back from break” is at the top.']));
    else
      sec.appendChild(el('p', { class: 'hint' }, ['A break starts between visits.']));
    sec.appendChild(unavailableBlock());
    return sec;
  }

  function unavailableBlock() {
    if (!open.unavailable)
      return el('p', { class: 'stop-day' }, [el('button', { type: 'button', class: 'danger', 'data-key': 'unavailable', onclick: function () {
        open.unavailable = true; focusAfter = 'unavail-sick'; render();
      } }, ['I can’t carry on today'])]);
    var form = el('form', { class: 'confirm', 'aria-labelledby': 'unavail-title', novalidate: true });
    form.appendChild(el('h3', { id: 'unavail-title' }, ['Stop for today?']));
    form.appendChild(el('p', {}, ['Your remaining visits go back to the office, who rearrange them and tell the customers.']));
    var fs = el('fieldset', { class: 'field' }, [el('legend', {}, ['Why?'])]);
    ['sick', 'breakdown', 'other'].forEach(function (r, i) {
      var id = 'unavail-' + r;
      fs.appendChild(el('div', { class: 'choice' }, [
        el('input', { type: 'radio', name: 'reason', id: id, value: r, checked: open.reason === r, 'data-key': id,
          onchange: function () { open.reason = r; } }),
        el('label', { for: id }, [r === 'sick' ? 'I am sick' : r === 'breakdown' ? 'My vehicle broke down' : 'Something else'])]));
    });
    form.appendChild(fs);
    form.appendChild(el('div', { class: 'field' }, [
      el('label', { for: 'unavail-note' }, ['Note for the office (optional)']),
      (function () {
        var t = el('textarea', { id: 'unavail-note', name: 'note', maxlength: '500', rows: '2', 'data-key': 'unavail-note',
          oninput: function () { open.unavailNote = t.value; } });
        t.value = open.unavailNote;
        return t;
      })()]));
    form.appendChild(el('div', { class: 'actions' }, [
      el('button', { type: 'submit', class: 'danger', 'data-key': 'unavail-confirm' }, ['Yes, stop for today']),
      el('button', { type: 'button', class: 'secondary', 'data-key': 'unavail-cancel', onclick: function () {
        open.unavailable = false; focusAfter = 'unavailable'; render();
      } }, ['No, keep working'])]));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var reason = (form.querySelector('input[name=reason]:checked') || {}).value || 'other';
      var note = form.querySelector('textarea').value.trim();
      open.unavailable = false;
      open.unavailNote = '';
      var f = { reason: reason };
      if (note) f.note = note;
      tap('unavailable', f, 'You have stopped for today. The office is told.', 'day-state');
    });
    return form;
  }

  function statusText(d, s) {
    var now = serverNow();
    switch (s.status) {
      case 'travelling': return 'You are on the way.';
      case 'arrived': return 'Arrived at ' + hhmm(s.arrived_at) + '.';
      case 'done': return 'Done' + (s.done_at ? ' at ' + hhmm(s.done_at) : '') + '.';
      case 'no_access': return 'No access: the office arranges another visit.';
      case 'cancelled': return 'Cancelled: do not go.';
    }
    if (cannotAttended(s)) return 'You said you cannot attend: the office is rearranging it.';
    if (d.state === 'unavailable') return 'Handed back to the office.';
    var opens = ms(s.window_start), ends = ms(s.window_end);
    if (now < opens) return 'Window opens at ' + hhmm(opens) + ' (in ' + minutesText((opens - now) / 60000) + '): never arrive early.';
    if (now < ends) return 'Window open now, until ' + hhmm(ends) + '.';
    return 'The window ended at ' + hhmm(ends) + '.';
  }

  var RISK_TEXT = { watch: 'Watch: may be late', at_risk: 'At risk of being late', broken: 'Window missed' };

  function renderStop(d, s, n, isFocus) {
    var ref = s.reference;
    var li = el('li', { class: 'stop stop-' + s.status + (isFocus ? ' focus' : '') + (d.current === ref ? ' current' : ''), id: 'stop-' + ref });
    var title = el('h2', { id: 'h-' + ref, tabindex: '-1', 'data-key': 'h-' + ref }, [
      el('span', { class: 'seq' }, [String(n)]), ' ',
      el('span', { class: 'window' }, [range(s.window_start, s.window_end)]), ' ',
      el('span', { class: 'ref' }, [ref])]);
    li.appendChild(title);
    li.appendChild(el('p', { class: 'when when-' + s.status }, [statusText(d, s)]));
    if (REMAINING[s.status] && s.band_early && s.band_late && d.state !== 'unavailable' && !cannotAttended(s)) {
      li.appendChild(el('p', { class: 'expected' }, ['Expected arrival ' +
        (hhmm(s.band_early) === hhmm(s.band_late) ? hhmm(s.band_early) : range(s.band_early, s.band_late)) + '.']));
    }
    if (REMAINING[s.status] && RISK_TEXT[s.risk] && d.state !== 'unavailable' && !cannotAttended(s))
      li.appendChild(el('p', { class: 'risk risk-' + s.risk }, [RISK_TEXT[s.risk] + (s.risk_reason && !cannotAttended(s) ? ': ' + s.risk_reason : '') + '.']));
    var facts = el('dl', { class: 'facts' });
    function fact(k, v, cls) {
      if (v === null || v === undefined || v === '') return;
      facts.appendChild(el('dt', {}, [k]));
      facts.appendChild(el('dd', cls ? { class: cls } : {}, [v]));
    }
    fact('Customer', s.customer_name);
    var a = s.address || {};
    fact('Address', [a.line1, a.line2, a.town, a.postcode].filter(Boolean).join(', '));
    fact('Visit', s.visit_type);
    fact('Access', s.access_notes);
    fact('Doorstep code', s.doorstep_code, 'code');
    li.appendChild(facts);
    if (s.doorstep_code && REMAINING[s.status] && d.state !== 'unavailable' && !cannotAttended(s))
      li.appendChild(el('p', { class: 'hint' }, ['Tell the customer this code at the door: it shows on their page too.']));
    var links = el('p', { class: 'links' });
    if (s.phone) links.appendChild(el('a', { class: 'button secondary', href: 'tel:' + s.phone }, ['Call', hidden(' ' + (s.customer_name || 'the customer') + ' about ' + ref)]));
    if (typeof s.lat === 'number' && typeof s.lon === 'number') {
      var lat = s.lat.toFixed(5), lon = s.lon.toFixed(5);
      links.appendChild(el('a', { class: 'button secondary', href: 'https://www.openstreetmap.org/?mlat=' + lat + '&mlon=' + lon + '#map=17/' + lat + '/' + lon, rel: 'noopener noreferrer', target: '_blank' },
        ['Map', hidden(' of ' + ref + ' (OpenStreetMap, opens a new tab)')]));
    }
    if (links.children.length) li.appendChild(links);
    var acts = stopActions(d, s, isFocus);
    if (acts) li.appendChild(acts);
    return li;
  }

  function btn(label, ref, cls, key, fn) {
    return el('button', { type: 'button', class: cls || '', 'data-key': key + '-' + ref, onclick: fn }, [label, hidden(' ' + ref)]);
  }

  function stopActions(d, s, isFocus) {
    var ref = s.reference, st = d.state, mineNow = d.current === ref;
    var box = el('div', { class: 'actions stop-actions' + (isFocus ? ' big' : '') });
    var add = function (b) { box.appendChild(b); };
    if (open.cannot === ref && REMAINING[s.status]) return cannotForm(s);
    if (st === 'unavailable') {
      if (s.status === 'arrived') {
        add(btn('Done', ref, '', 'done', function () { tap('done', { appointment: ref }, 'Done at ' + ref + '.', 'h-' + ref); }));
        add(btn('No access', ref, 'secondary', 'noaccess', function () { tap('no_access', { appointment: ref }, 'No access at ' + ref + '.', 'h-' + ref); }));
      }
    } else if (s.status === 'booked' && !cannotAttended(s)) {
      if (st !== 'on_site' && st !== 'on_break') {
        add(btn('Start travel', ref, isFocus ? '' : 'secondary', 'travel', function () {
          tap('start_travel', { appointment: ref }, 'Travelling to ' + ref + '. Your position is shared while you travel.', 'h-' + ref);
        }));
        if (isFocus)
          add(btn('Arrived', ref, 'secondary', 'arrived', function () { tap('arrived', { appointment: ref }, 'Arrived at ' + ref + '.', 'h-' + ref); }));
      }
      add(btn('Cannot attend', ref, 'secondary', 'cannot', function () { open.cannot = ref; open.note = ''; focusAfter = 'cannot-note'; render(); }));
    } else if (s.status === 'travelling' && mineNow) {
      add(btn('Arrived', ref, '', 'arrived', function () { tap('arrived', { appointment: ref }, 'Arrived at ' + ref + '. Position no longer shared.', 'h-' + ref); }));
      add(btn('No access', ref, 'secondary', 'noaccess', function () { tap('no_access', { appointment: ref }, 'No access at ' + ref + '.', 'h-' + ref); }));
      add(btn('Cannot attend', ref, 'secondary', 'cannot', function () { open.cannot = ref; open.note = ''; focusAfter = 'cannot-note'; render(); }));
    } else if (s.status === 'arrived' && mineNow) {
      add(btn('Done', ref, '', 'done', function () { tap('done', { appointment: ref }, 'Done at ' + ref + '.', 'h-' + ref); }));
      add(btn('No access', ref, 'secondary', 'noaccess', function () { tap('no_access', { appointment: ref }, 'No access at ' + ref + '.', 'h-' + ref); }));
    }
    if ((s.status === 'arrived' && (mineNow || st === 'unavailable')) || s.status === 'done') {
      if (s.another_visit || asked[ref])
        box.appendChild(el('p', { class: 'asked' }, ['Another visit asked for.']));
      else
        add(btn('Needs another visit', ref, 'secondary', 'another', function () {
          asked[ref] = true; saveJSON(ASKED_KEY, asked);
          tap('needs_another_visit', { appointment: ref }, 'Another visit asked for ' + ref + '.', 'h-' + ref);
        }));
    }
    return box.children.length ? box : null;
  }

  function cannotForm(s) {
    var ref = s.reference;
    var form = el('form', { class: 'confirm', novalidate: true, 'aria-label': 'Cannot attend ' + ref });
    var err = el('p', { class: 'error', id: 'cannot-error' });
    form.appendChild(el('div', { class: 'field' }, [
      el('label', { for: 'cannot-note' }, ['Why can’t you attend ' + ref + '?']),
      el('p', { class: 'hint', id: 'cannot-hint' }, ['The office reads this; the customer is told we cannot come and offered other times.']),
      err,
      (function () {
        var t = el('textarea', { id: 'cannot-note', name: 'note', rows: '3', maxlength: '500', 'aria-describedby': 'cannot-hint cannot-error',
          'data-key': 'cannot-note', required: true, oninput: function () { open.note = t.value; } });
        t.value = open.note;
        return t;
      })()]));
    form.appendChild(el('div', { class: 'actions' }, [
      el('button', { type: 'submit', class: 'danger', 'data-key': 'cannot-send' }, ['Send: cannot attend', hidden(' ' + ref)]),
      el('button', { type: 'button', class: 'secondary', 'data-key': 'cannot-back', onclick: function () {
        open.cannot = null; focusAfter = 'cannot-' + ref; render();
      } }, ['Back'])]));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var ta = form.querySelector('textarea');
      var note = ta.value.trim();
      if (!note) {
        err.textContent = 'Say why, in a few words.';
        ta.setAttribute('aria-invalid', 'true');
        ta.focus();
        return;
      }
      open.cannot = null;
      open.note = '';
      tap('cannot_attend', { appointment: ref, note: note }, 'Sent: you cannot attend ' + ref + '.', 'h-' + ref);
    });
    return form;
  }

  /* ---- taps ---- */
  var WITH_POSITION = { start_travel: true, arrived: true, no_access: true };
  function tap(type, fields, said, focusKey) {
    var ev = Object.assign({ client_event_id: uuid(), type: type, at: nextAt() }, fields);
    if (WITH_POSITION[type] && geo.fix && Date.now() - geo.fix.t < 120000) {
      ev.lat = geo.fix.lat; ev.lon = geo.fix.lon;
      if (geo.fix.accuracy !== null) ev.accuracy = geo.fix.accuracy;
    }
    return addToQueue(ev).then(function () {
      focusAfter = focusKey || null;
      render();
      updateSharing();
      announce(said);
      flush();
    }, function (e) {
      callOut('This phone could not keep the tap (' + (e && e.message || e) + '): try again.');
    });
  }

  /* ---- sending ---- */
  function errorOf(r) {
    return r.json().then(function (b) { return (b && b.error) || {}; }, function () { return {}; });
  }
  function describe(e) {
    var what = { start_travel: 'Start travel', arrived: 'Arrived', done: 'Done', no_access: 'No access',
      needs_another_visit: 'Needs another visit', late: 'Running late', cannot_attend: 'Cannot attend',
      unavailable: 'Can’t carry on today', break_start: 'On a break', break_end: 'Back from break', position: 'Position' }[e.type] || e.type;
    return what + (e.appointment ? ' ' + e.appointment : '') + (e.minutes ? ' +' + e.minutes + ' min' : '') + ' (' + hhmm(e.at) + ')';
  }
  function scheduleRetry() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (!mine().length || sessionExpired) { retryDelay = RETRY_MIN_MS; return; }
    retryTimer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(RETRY_MAX_MS, retryDelay * 2);
  }
  /* A 403: the page's CSRF token is out of date (signed in again in
   * another tab) or the cookie is another account's. The session says which;
   * nothing is dropped either way. */
  var csrfRefreshed = false;
  function refreshSession() {
    if (csrfRefreshed) { sessionExpired = true; return Promise.resolve(false); }
    csrfRefreshed = true;
    return fetch('/api/v1/auth/session', { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (b) {
        if (b && b.user && b.user.visitor_id === VISITOR && b.csrf_token) { CSRF = b.csrf_token; return true; }
        sessionExpired = true;
        otherAccount = !!b;
        return false;
      }, function () { lastProblem = 'the server cannot be reached'; return false; });
  }

  function flush() {
    if (sending) { sendAgain = true; return Promise.resolve(); }
    if (sessionExpired || !mine().length) { renderSync(); return Promise.resolve(); }
    sending = true;
    renderSync();
    var sentAny = false;
    function round() {
      var batch = mine().slice(0, BATCH);
      if (!batch.length) return Promise.resolve();
      return fetch(EVENTS_URL, {
        method: 'POST', cache: 'no-store', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': CSRF },
        body: JSON.stringify({ events: batch.map(function (e) { return e.event; }) })
      }).then(function (r) {
        if (r.ok) {
          csrfRefreshed = false;
          // applied, duplicate (sent before) and ignored all count as sent
          return r.json().catch(function () { return null; }).then(function () {
            justSent = justSent.concat(batch.map(function (e) { return e.event; }));
            sentAny = true;
            lastProblem = '';
            retryDelay = RETRY_MIN_MS;
            return removeFromQueue(batch).then(round);
          });
        }
        return errorOf(r).then(function (err) {
          if (r.status === 401) {
            sessionExpired = true;
            dayOffline = false;
            return;
          }
          if (r.status === 403)
            return refreshSession().then(function (ok) { if (ok) return round(); });
          if (r.status === 400 || r.status === 422 || r.status === 404) {
            var m = /^events\[(\d+)\]/.exec(err.field || '');
            var i = m ? Number(m[1]) : 0;
            if (i >= batch.length) i = 0;
            var bad = batch[i];
            var why = (err.message || ('refused (' + r.status + ')')).replace(/^Event \d+ \([a-z_]+\): /, '');
            var text = describe(bad.event) + ': ' + why;
            if (bad.event.type !== 'position') {
              refused.push({ text: text });
              saveJSON(NOTES_KEY, refused);
              announce('Not recorded: ' + text);
            }
            return removeFromQueue([bad]).then(round);
          }
          if (r.status === 413 && batch.length > 1) { BATCH = Math.max(1, Math.floor(batch.length / 2)); return round(); }
          lastProblem = r.status === 429 || r.status === 503 ? 'the server is busy' : 'the server is not answering properly (' + r.status + ')';
        });
      });
    }
    return round().catch(function () {
      lastProblem = navigator.onLine === false ? 'no signal' : 'the server cannot be reached';
    }).then(function () {
      sending = false;
      scheduleRetry();
      render();
      if (sendAgain) { sendAgain = false; return flush(); }
      if (sentAny) return loadDay();
    });
  }

  /* ---- loading the day ---- */
  var loading = null, loadAgain = false;
  function loadDay() {
    if (loading) { loadAgain = true; return loading; }
    loading = fetch(DAY_URL, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (r.status === 401) { sessionExpired = true; dayOffline = false; return null; }
        if (!r.ok) throw new Error('status ' + r.status);
        var offline = r.headers.get('X-OTD-Offline') === '1';
        var stored = Number(r.headers.get('X-OTD-Stored-At')) || 0;
        return r.json().then(function (b) { return { body: b, offline: offline, stored: stored }; });
      })
      .then(function (got) {
        if (!got) return;
        var b = got.body;
        if (b.visitor_id && VISITOR && b.visitor_id !== VISITOR) {
          // another account's saved route: not ours to show
          if (got.offline) { dayOffline = true; return; }
        }
        var before = day;
        day = b;
        clockBase = got.offline && got.stored ? got.stored : Date.now();
        dayOffline = got.offline;
        dayStoredAt = got.stored;
        if (!got.offline) {
          sessionExpired = false;
          justSent = [];
          if (navigator.serviceWorker && navigator.serviceWorker.controller) root.setAttribute('data-offline-ready', '1');
        }
        var last = Math.max(ms(b.last_event_at) || 0, ms(b.since) || 0);
        mine().forEach(function (e) { last = Math.max(last, ms(e.event.at) || 0); });
        if (last > lastAt) lastAt = last;
        dayLoads++;
        if (before && !got.offline) compare(before, b);
      })
      .catch(function () {
        if (!day) dayOffline = true;
      })
      .then(function () {
        loading = null;
        render();
        updateSharing();
        if (loadAgain) { loadAgain = false; return loadDay(); }
      });
    return loading;
  }

  /* What a dispatcher changed: called out (the visitor's own taps are not). */
  function compare(a, b) {
    if (a.date !== b.date) return;
    var old = {};
    (a.appointments || []).forEach(function (s) { old[s.reference] = s; });
    var seen = {};
    (b.appointments || []).forEach(function (s) {
      seen[s.reference] = true;
      var o = old[s.reference];
      var where = s.address && s.address.line1 ? ', ' + s.address.line1 : '';
      if (!o) callOut('New visit: ' + s.reference + ', ' + range(s.window_start, s.window_end) + where + '.');
      else if (s.status === 'cancelled' && o.status !== 'cancelled') callOut(s.reference + ' was cancelled: do not go.');
      else if (o.window_start !== s.window_start || o.window_end !== s.window_end)
        callOut(s.reference + ' moved to ' + range(s.window_start, s.window_end) + '.');
    });
    Object.keys(old).forEach(function (ref) {
      if (seen[ref]) return;
      var c = changed[ref], w = c && c.window;
      if (movedAway[ref]) callOut(ref + ' moved to another visitor: it is no longer on your route.');
      else if (c && c.change === 'cancelled') callOut(ref + ' was cancelled: do not go.');
      else if (c && w && w.start && c.change === 'rescheduled')
        callOut(ref + ' moved to ' + dayText(localDate(w)) + ', ' + range(w.start, w.end) + ': no longer on your route today.');
      else callOut(ref + ' is no longer on your route.');
      delete movedAway[ref];
      delete changed[ref];
    });
  }

  /* ---- the live stream ---- */
  var reloadTimer = null;
  function soon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(loadDay, 250);
  }
  function connect() {
    if (!window.EventSource || stream) return;
    clearTimeout(streamRetry);
    stream = new EventSource(STREAM_URL);
    stream.addEventListener('open', function () { loadDay(); flush(); });
    stream.addEventListener('appointment', function (m) {
      try {
        var d = JSON.parse(m.data);
        if (d && d.change && d.reference) changed[d.reference] = d;
      } catch (e) { /* not JSON */ }
      soon();
    });
    stream.addEventListener('route', function (m) {
      try { var d = JSON.parse(m.data); if (d && d.change === 'moved_away' && d.reference) movedAway[d.reference] = true; } catch (e) { /* not JSON */ }
      soon();
    });
    stream.addEventListener('reset', soon);
    stream.addEventListener('error', function () {
      // EventSource retries by itself, unless the server said no (401):
      // then try again later (after a sign-in the page reloads anyway).
      if (stream && stream.readyState === 2) {
        stream.close();
        stream = null;
        streamRetry = setTimeout(connect, 30000);
      }
    });
  }

  /* ---- position ---- */
  function metres(a, b) {
    var r = Math.PI / 180, la1 = a.lat * r, la2 = b.lat * r;
    var h = Math.pow(Math.sin((la2 - la1) / 2), 2) + Math.cos(la1) * Math.cos(la2) * Math.pow(Math.sin((b.lon - a.lon) * r / 2), 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function wantSharing() {
    var d = effective();
    return !!(d && d.state === 'travelling' && inShift(serverNow()) && navigator.geolocation && !geo.denied);
  }
  function updateSharing() {
    var want = wantSharing();
    if (want && geo.watch === null) {
      geo.sent = null;
      geo.watch = navigator.geolocation.watchPosition(onFix, onGeoError, { enableHighAccuracy: true, maximumAge: 15000, timeout: 60000 });
      renderSharing(effective());
    } else if (!want && geo.watch !== null) {
      navigator.geolocation.clearWatch(geo.watch);
      geo.watch = null;
      geo.fix = null;
      renderSharing(effective());
    }
  }
  function onFix(p) {
    var c = p.coords;
    geo.fix = { lat: c.latitude, lon: c.longitude, accuracy: typeof c.accuracy === 'number' ? Math.min(100000, Math.round(c.accuracy * 10) / 10) : null, t: Date.now() };
    if (!wantSharing()) { updateSharing(); return; }
    var due = !geo.sent || Date.now() - geo.sent.t >= POSITION_EVERY_MS || metres(geo.sent, geo.fix) >= POSITION_MOVE_M;
    if (!due) return;
    geo.sent = geo.fix;
    var at = serverNow();
    geo.lastSentAt = at;
    var ev = { client_event_id: uuid(), type: 'position', at: iso(at), lat: +c.latitude.toFixed(6), lon: +c.longitude.toFixed(6) };
    if (geo.fix.accuracy !== null) ev.accuracy = geo.fix.accuracy;
    addToQueue(ev).then(function () { renderSync(); renderSharing(effective()); flush(); }, function () { /* a lost position is no loss */ });
  }
  function onGeoError(e) {
    if (e && e.code === 1) {
      geo.denied = true;
      if (geo.watch !== null) navigator.geolocation.clearWatch(geo.watch);
      geo.watch = null;
      renderSharing(effective());
    }
  }

  /* ---- start ---- */
  function start() {
    root.textContent = '';
    root.appendChild(el('h1', {}, ['Today’s route']));
    root.appendChild(header);
    root.appendChild(callouts);
    root.appendChild(sync);
    root.appendChild(sharing);
    root.appendChild(statusLine);
    root.appendChild(content);
    render();
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/visitor-sw.js', { scope: '/visitor' }).catch(function () { /* no offline copy */ });
      navigator.serviceWorker.addEventListener('controllerchange', function () { loadDay(); });
    }
    var signOut = document.querySelector('form.sign-out');
    if (signOut && window.caches) signOut.addEventListener('submit', function (ev) {
      // the route on this phone is this visitor's: forget it (taps waiting stay, for them)
      ev.preventDefault();
      caches.delete('otd-visitor-day-v1').catch(function () {}).then(function () { signOut.submit(); });
    });
    openDb().then(function (d) {
      db = d;
      return readQueue().catch(function () { return []; });
    }).then(function (rows) {
      queue = rows;
      return loadDay();
    }).then(function () {
      flush();
      connect();
    });
    window.addEventListener('online', function () { lastProblem = ''; retryDelay = RETRY_MIN_MS; loadDay().then(flush); });
    window.addEventListener('offline', function () { lastProblem = 'no signal'; renderSync(); });
    window.addEventListener('focus', function () { loadDay(); });
    document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') { loadDay(); flush(); } });
    setInterval(function () { if (document.visibilityState !== 'hidden' && !sessionExpired) loadDay(); }, REFRESH_MS);
    // countdowns and the end of the shift (sharing stops there)
    setInterval(function () { updateSharing(); render(); }, 30000);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

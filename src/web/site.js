/* onthedot customer pages: small improvements on top of plain forms.
 * Everything here is optional: every page works with JavaScript off.
 *  - address autocomplete (ARIA 1.2 combobox) on input[data-autocomplete]
 *  - the countdown of a held window (.countdown[data-seconds])
 *  - live status on the manage page (section[data-stream]), through the
 *    customer's event stream: on each change the status part is fetched
 *    again from the server, so the words come from one place
 *  - focus on the error summary when a form comes back with errors */
'use strict';
(function () {
  function $(sel, root) { return (root || document).querySelector(sel); }

  /* ---- autocomplete ---- */
  function setupAutocomplete(input) {
    var url = input.getAttribute('data-autocomplete');
    var form = input.form;
    var list = document.createElement('ul');
    var status = document.createElement('p');
    var items = [], active = -1, timer = null, seq = 0;
    list.id = input.id + '-list';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Addresses');
    list.hidden = true;
    status.className = 'visually-hidden';
    status.setAttribute('role', 'status');
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    input.parentNode.appendChild(list);
    input.parentNode.appendChild(status);

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }
    function highlight(i) {
      var opts = list.children;
      for (var k = 0; k < opts.length; k++) opts[k].setAttribute('aria-selected', k === i ? 'true' : 'false');
      active = i; // -1: back in the text box
      if (i >= 0 && opts[i]) {
        input.setAttribute('aria-activedescendant', opts[i].id);
        opts[i].scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }
    function choose(i) {
      var it = items[i];
      if (!it) return;
      input.value = it.label;
      close();
      var hidden = form.querySelector('input[name=address]');
      if (!hidden) {
        hidden = document.createElement('input');
        hidden.type = 'hidden';
        hidden.name = 'address';
        form.appendChild(hidden);
      }
      hidden.value = String(it.id);
      var type = form.querySelector('[name=visit_type]');
      if (type && !type.value) {
        status.textContent = 'Address chosen. Now choose what the visit is for.';
        type.focus();
        return;
      }
      form.submit();
    }
    function render(data) {
      items = data.items || [];
      list.textContent = '';
      items.forEach(function (it, i) {
        var li = document.createElement('li');
        li.id = list.id + '-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.textContent = it.label;
        li.addEventListener('mousedown', function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      var open = items.length > 0;
      list.hidden = !open;
      input.setAttribute('aria-expanded', open ? 'true' : 'false');
      status.textContent = open ? items.length + (items.length === 1 ? ' address' : ' addresses') +
        ' found; use the up and down arrows to choose.' : 'No address found yet.';
      active = -1;
    }
    function search() {
      var q = input.value.trim();
      var hidden = form.querySelector('input[name=address]');
      if (hidden) hidden.remove();
      if (!q) { close(); return; }
      var mine = ++seq;
      fetch(url + '?limit=8&q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' } })
        .then(function (r) {
          if (r.status === 429) return { items: [], busy: true };
          return r.ok ? r.json() : { items: [] };
        })
        .then(function (data) {
          if (mine !== seq) return;
          render(data);
          // Too many searches: say so, not "nothing found".
          if (data.busy) status.textContent = 'Too many searches for a moment; wait a few seconds, or press Find my address.';
        })
        .catch(function () { /* the plain form still works */ });
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(search, 120);
    });
    input.addEventListener('keydown', function (e) {
      if (list.hidden) {
        if (e.key === 'ArrowDown' && items.length) { list.hidden = false; input.setAttribute('aria-expanded', 'true'); highlight(0); e.preventDefault(); }
        return;
      }
      if (e.key === 'ArrowDown') { highlight(Math.min(active + 1, items.length - 1)); e.preventDefault(); }
      else if (e.key === 'ArrowUp') { highlight(active - 1); e.preventDefault(); }
      else if (e.key === 'Enter' && active >= 0) { choose(active); e.preventDefault(); }
      else if (e.key === 'Escape') { close(); e.preventDefault(); }
    });
    input.addEventListener('blur', function () { setTimeout(close, 150); });
  }

  /* ---- the hold countdown ---- */
  function setupCountdown(el) {
    // Seconds left as the server counted them: the phone's own clock may be wrong.
    var seconds = Number(el.getAttribute('data-seconds'));
    if (isNaN(seconds)) return;
    var until = Date.now() + seconds * 1000;
    // A screen reader hears it once, two minutes before the hold ends.
    var warn = document.createElement('span');
    warn.className = 'visually-hidden';
    warn.setAttribute('role', 'status');
    el.parentNode.appendChild(warn);
    var warned = seconds <= 120;
    function tick() {
      var left = Math.round((until - Date.now()) / 1000);
      if (!warned && left <= 120) {
        warned = true;
        warn.textContent = 'Two minutes left to send the form before the hold ends.';
      }
      if (left <= 0) {
        el.textContent = '(the hold has run out: send the form and we will try to keep the time for you)';
        return;
      }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = '(' + m + ':' + (s < 10 ? '0' : '') + s + ' left)';
      setTimeout(tick, 1000);
    }
    tick();
  }

  /* ---- live status ---- */
  function setupLive(section) {
    if (!window.EventSource) return;
    var part = section.getAttribute('data-part');
    var busy = false, again = false;
    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      fetch(part, { headers: { Accept: 'text/html' }, cache: 'no-store' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) replace(html); })
        .catch(function () {})
        .then(function () { busy = false; if (again) { again = false; refresh(); } });
    }
    // Only a real change is written (and so announced), and the keyboard
    // focus stays on the same control when it is still there.
    function replace(html) {
      var tpl = document.createElement('template');
      tpl.innerHTML = html;
      if (tpl.innerHTML === section.innerHTML) return;
      var a = document.activeElement;
      var had = a && section.contains(a) && a.name ? [a.name, a.value] : null;
      section.innerHTML = tpl.innerHTML;
      if (had) {
        var same = Array.prototype.filter.call(section.querySelectorAll('[name]'), function (e) {
          return e.name === had[0] && e.value === had[1];
        });
        if (same.length) same[0].focus();
      }
    }
    var events = 0;
    var es = new EventSource(section.getAttribute('data-stream'));
    es.addEventListener('appointment', function () {
      section.setAttribute('data-events', String(++events));
    });
    // Each (re)connection starts with a fresh copy: what changed while the
    // stream was connecting (or the phone slept) is not missed.
    es.addEventListener('open', refresh);
    es.addEventListener('appointment', refresh);
    es.addEventListener('reset', refresh);
    window.addEventListener('pagehide', function () { es.close(); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('input[data-autocomplete]'), setupAutocomplete);
    Array.prototype.forEach.call(document.querySelectorAll('.countdown[data-seconds]'), setupCountdown);
    Array.prototype.forEach.call(document.querySelectorAll('section[data-stream]'), setupLive);
    var summary = $('#error-summary');
    if (summary) summary.focus();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

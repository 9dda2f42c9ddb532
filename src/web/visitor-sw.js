/* onthedot: the visitor page's service worker (served as /visitor-sw.js,
 * registered by /static/visitor.js with the scope /visitor).
 *
 * It lets the page open without signal:
 *  - the shell (/visitor and its style sheets, script and icon): network
 *    first, the saved copy when the network fails or the server answers 5xx;
 *  - the last GET /api/v1/visitor/day answer: network first; the saved copy
 *    is answered with X-OTD-Offline: 1 and X-OTD-Stored-At: <ms> (when it was
 *    saved), so the page knows it is not fresh and how old its "now" is.
 * Everything else (the events POST, the live stream, other pages) goes to
 * the network untouched: taps are queued by the page itself (IndexedDB). */
'use strict';

var SHELL = 'otd-visitor-shell-v1';
var DAY = 'otd-visitor-day-v1';
var SHELL_URLS = ['/visitor', '/static/site.css', '/static/visitor.css', '/static/visitor.js',
  '/static/icon.svg'];
var DAY_URL = '/api/v1/visitor/day';

function save(cacheName, key, response) {
  return caches.open(cacheName).then(function (c) { return c.put(key, response); });
}

self.addEventListener('install', function (event) {
  event.waitUntil(Promise.all(SHELL_URLS.map(function (u) {
    // /visitor needs the session cookie; a redirect (no session) is not kept
    return fetch(u, { credentials: 'same-origin', cache: 'no-store', redirect: 'manual' })
      .then(function (r) { if (r.ok && r.type === 'basic') return save(SHELL, u, r); })
      .catch(function () { /* saved when next fetched */ });
  })).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return /^otd-visitor-/.test(n) && n !== SHELL && n !== DAY;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function offlineCopy(cacheName, key) {
  return caches.open(cacheName).then(function (c) { return c.match(key); });
}

function shell(request, key) {
  return fetch(request).then(function (r) {
    if (r.ok && r.type === 'basic') {
      var copy = r.clone();
      save(SHELL, key, copy).catch(function () {});
      return r;
    }
    if (r.status >= 500)
      return offlineCopy(SHELL, key).then(function (c) { return c || r; });
    return r; // a redirect to the sign-in page, a 404: as it is
  }, function () {
    return offlineCopy(SHELL, key).then(function (c) {
      if (c) return c;
      if (request.mode === 'navigate')
        return new Response('<!doctype html><html lang="en-GB"><meta charset="utf-8">' +
          '<meta name="viewport" content="width=device-width, initial-scale=1">' +
          '<title>No signal</title><h1>No signal</h1><p>This phone has not saved the route page yet. ' +
          'It opens as soon as there is signal.</p></html>',
        { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
      return Response.error();
    });
  });
}

function day(request) {
  function fallback(r) {
    return offlineCopy(DAY, DAY_URL).then(function (c) {
      if (!c) return r || new Response(JSON.stringify({ error: { code: 'offline',
        message: 'No signal, and no route saved on this phone yet.' } }),
      { status: 503, headers: { 'Content-Type': 'application/json' } });
      var h = new Headers(c.headers);
      h.set('X-OTD-Offline', '1');
      return c.arrayBuffer().then(function (b) { return new Response(b, { status: 200, headers: h }); });
    });
  }
  return fetch(request).then(function (r) {
    if (r.ok) {
      var copy = r.clone();
      copy.arrayBuffer().then(function (b) {
        var h = new Headers(copy.headers);
        h.set('X-OTD-Stored-At', String(Date.now()));
        return save(DAY, DAY_URL, new Response(b, { status: 200, headers: h }));
      }).catch(function () {});
      return r;
    }
    if (r.status >= 500) return fallback(r);
    return r; // 401: the page asks to sign in again
  }, function () { return fallback(null); });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === DAY_URL && !url.search) {
    event.respondWith(day(request));
  } else if (url.pathname === '/visitor' && request.mode === 'navigate') {
    event.respondWith(shell(request, '/visitor'));
  } else if (url.pathname !== '/visitor' && SHELL_URLS.indexOf(url.pathname) >= 0) {
    event.respondWith(shell(request, url.pathname));
  }
});

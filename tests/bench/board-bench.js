// The browser side of tests/bench/board.py (which starts the server and runs
// this with NODE_PATH at the pinned playwright-core):
//
//   node board-bench.js BASE_URL SESSION_COOKIE RUNS SECONDS
//
// (a) RUNS fresh page loads of /dispatch (a new context each: nothing
//     cached), each timed from navigation start to the page's performance
//     mark 'board-data-ready';
// (b) one more page: records SECONDS idle (no events) first, then prints "@@events", waits for a line on stdin (the Python
//     side then drives the stream), and records for SECONDS the long tasks
//     (PerformanceObserver 'longtask'), every requestAnimationFrame delta, the
//     stream events the page received and the board refetches it made.
// Prints "@@result <json>" last; its own notes go to stdout too.
'use strict';

const readline = require('readline');
const { chromium } = require('playwright-core');

const [base, cookie, runsArg, secondsArg] = process.argv.slice(2);
const RUNS = Number(runsArg) || 5;
const SECONDS = Number(secondsArg) || 10;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

// Counts what the page's own EventSource receives (installed before the
// page's scripts run; the CSP does not govern an init script).
function countEvents() {
  window.__streamEvents = 0;
  const ES = window.EventSource;
  window.EventSource = function (url, opts) {
    const es = new ES(url, opts);
    const add = es.addEventListener.bind(es);
    es.addEventListener = function (type, fn, o) {
      if (type !== 'open' && type !== 'error')
        return add(type, function (e) { window.__streamEvents++; return fn.call(this, e); }, o);
      return add(type, fn, o);
    };
    return es;
  };
  window.EventSource.CLOSED = ES.CLOSED;
  window.EventSource.OPEN = ES.OPEN;
  window.EventSource.CONNECTING = ES.CONNECTING;
}

async function context(browser) {
  const c = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB',
    timezoneId: 'Europe/London' });
  const u = new URL(base);
  await c.addCookies([{ name: 'otd_session', value: cookie, domain: u.hostname, path: '/',
    httpOnly: true, sameSite: 'Strict' }]);
  return c;
}

async function load(browser) {
  const c = await context(browser);
  const page = await c.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript(countEvents);
  await page.goto(base + '/dispatch');
  await page.waitForFunction(() => performance.getEntriesByName('board-data-ready').length > 0,
    null, { timeout: 30000 });
  const t = await page.evaluate(() => {
    const m = performance.getEntriesByName('board-data-ready')[0];
    const r = performance.getEntriesByType('resource').filter((e) => e.name.includes('/dispatch/board'))[0];
    const at = (n) => { const e = performance.getEntriesByName(n)[0]; return e ? e.startTime : null; };
    return { mark: m.startTime, fetch: r ? r.responseEnd - r.startTime : null,
      fetchStart: r ? r.startTime : null, json: at('board-json'), built: at('board-built'),
      dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
      rows: document.querySelectorAll('li.row').length,
      stops: document.querySelectorAll('g.stop').length };
  });
  if (errors.length)
    throw new Error('errors on the page: ' + errors.join('\n'));
  return { c, page, t };
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true, args: FLAGS });
  try {
    // a warm-up load (Chromium's own first-run costs), not counted
    const w = await load(browser);
    console.log(`# warm-up load: ${w.t.mark.toFixed(0)} ms, ${w.t.rows} rows, ${w.t.stops} visits drawn`);
    await w.c.close();
    const loads = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await load(browser);
      loads.push(r.t.mark);
      const f = (x) => (x == null ? '?' : x.toFixed(0));
      console.log(`# load ${i + 1}: board-data-ready at ${f(r.t.mark)} ms: DOMContentLoaded ${f(r.t.dcl)}, `
        + `board fetched ${f(r.t.fetchStart)}+${f(r.t.fetch)}, parsed ${f(r.t.json)}, built ${f(r.t.built)}; `
        + `${r.t.rows} rows, ${r.t.stops} visits`);
      await r.c.close();
    }

    const r = await load(browser);
    const page = r.page;
    await page.waitForSelector('.conn.on');
    await page.evaluate(() => {
      window.__long = [];
      window.__frames = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
        .observe({ type: 'longtask' });
      window.__events0 = window.__streamEvents;
      window.__fetch0 = performance.getEntriesByType('resource').filter((e) => e.name.includes('/dispatch/board')).length;
      let last = performance.now();
      const tick = (t) => {
        window.__frames.push(t - last);
        last = t;
        if (!window.__stopFrames) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    // the same page idle for as long first: the frames the machine drops anyway
    await page.waitForTimeout(SECONDS * 1000);
    const idle = await page.evaluate(() => {
      const f = window.__frames.slice(1);
      const out = { longtasks: window.__long.length, longtask_max: Math.max(0, ...window.__long),
        frames: f.length, frame_max: Math.max(0, ...f), over50: f.filter((x) => x > 50).length };
      window.__long = [];
      window.__frames = [];
      window.__events0 = window.__streamEvents;
      return out;
    });
    console.log('@@events');
    const rl = readline.createInterface({ input: process.stdin });
    await new Promise((resolve) => rl.once('line', resolve));
    rl.close();
    const t0 = Date.now();
    await page.waitForTimeout(SECONDS * 1000);
    const live = await page.evaluate(() => {
      window.__stopFrames = true;
      return { longtasks: window.__long.length, longtask_max: Math.max(0, ...window.__long),
        frames: window.__frames.slice(1), frame_max: Math.max(0, ...window.__frames.slice(1)),
        events: window.__streamEvents - window.__events0,
        refetches: performance.getEntriesByType('resource').filter((e) => e.name.includes('/dispatch/board')).length - window.__fetch0 };
    });
    live.seconds = (Date.now() - t0) / 1000;
    await r.c.close();
    console.log('@@result ' + JSON.stringify({ load_ms: loads, live, idle }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.log('# failed: ' + (e && e.stack || e));
  process.exit(1);
});

// lib.js - the harness for the browser journeys (tests/browser/<journey>.js).
//
// A journey drives Debian's Chromium (never a downloaded browser) through npm
// playwright-core against a running onthedot, and prints TAP-like lines:
// "ok   - <step>" or "FAIL - <step>" with the reason indented below, notes as
// "# ...", and last "N passed, N failed". It exits non-zero on any failure
// (and when nothing passed at all).
//
//   NODE_PATH=<scratch>/node_modules node tests/browser/<journey>.js BASE_URL OUT_DIR
//
// tests/integration/test_pages.py runs every journey against a fresh server
// with the Wrenfield organisation (otd_booking.BookingTestCase); staff journeys
// (tests/browser/staff/*.js, require('../lib')) are run by their own test files
// through tests/integration/journeys.py, whose control channel j.control() uses.
//
// Environment:
//   CHROMIUM           browser binary (default /usr/bin/chromium)
//   OTD_ADMIN_TOKEN    the server's admin API token, for j.api()
//   OTD_STEP_TIMEOUT   milliseconds one step may take (default 30000)
//   OTD_JOURNEY_TIMEOUT milliseconds the whole journey may take (default 240000)
//
// A journey:
//
//   const { run } = require('./lib');
//   run('book', async (j) => {
//     await j.each(['mobile', 'desktop', 'nojs'], async (profile) => {
//       const page = await j.page(profile);
//       await j.step(`${profile}: search an address`, async () => {
//         await j.open(page, '/book');
//         await page.getByLabel('Address').fill('1 mill');
//         await j.look(page, 'search');          // axe + screenshot
//       });
//     });
//   });
//
// What every step checks besides its own code: no console error, no uncaught
// page error, no dialog (alert/confirm/prompt: a script someone injected), no
// renderer crash, on any page opened so far; a step fails when it throws, when
// j.check fails, or when it runs longer than its timeout. A failed step stops
// the rest of that profile's body in j.each (the other profiles still run) and
// saves a screenshot <journey>-<profile>-FAIL-<n>.png.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

const STEP_TIMEOUT = Number(process.env.OTD_STEP_TIMEOUT) || 30000;
const JOURNEY_TIMEOUT = Number(process.env.OTD_JOURNEY_TIMEOUT) || 240000;

// Settings every context gets: a customer in the United Kingdom.
const COMMON = { locale: 'en-GB', timezoneId: 'Europe/London', colorScheme: 'light' };

// The browser profiles the issue names. The screenshot names use these keys.
const PROFILES = {
  mobile: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1366, height: 768 } },
  // JavaScript off, on a phone: the plain-forms path.
  nojs: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true,
    javaScriptEnabled: false },
};

// Roles a name given as a string may belong to (tabTo, keyboardOnly).
const FOCUSABLE_ROLES = ['link', 'button', 'textbox', 'searchbox', 'combobox', 'checkbox', 'radio',
  'option', 'tab', 'menuitem', 'spinbutton', 'switch', 'slider', 'listbox'];

// Chromium asks every origin for /favicon.ico on its own; the server serves
// one, so a 404 there is an error like any other. (Set this to true to
// tolerate it, printed as a note, for a server that has none.)
const TOLERATE_FAVICON_404 = false;

const LOAD_ERROR = /^Failed to load resource: the server responded with a status of (\d+)/;

class StepFailed extends Error {}
// A failed check or a timeout: reported by its message alone (no stack).
class CheckFailed extends Error {}

// Turns a free text into a file-name part.
function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

// Rejects after ms with message what, unless promise settles first.
function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Indents text by four spaces, without the terminal colours of Playwright's
// call logs.
function indent(text) {
  return String(text).replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => '    ' + l)
    .join('\n');
}

class Journey {
  constructor(name, base, outDir, browser) {
    this.name = name;
    this.base = base.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.outDir = outDir;
    this.browser = browser;
    this.passed = 0;
    this.failed = 0;
    this.contexts = [];
    this.info = new Map(); // page -> { profile, js, errors, allowed, expected }
    this.lastPage = null;
    this.failShots = 0;
  }

  log(line) {
    console.log(line);
  }

  note(text) {
    this.log('# ' + String(text).replace(/\n/g, '\n# '));
  }

  // -- browser contexts --------------------------------------------------------

  // A new context (PROFILES[profile] plus COMMON plus extra) and a page in it,
  // with console, page-error, dialog and crash listeners. Closed by j.each at
  // the end of the profile's body, or at the end of the journey.
  async page(profile, extra = {}) {
    const p = PROFILES[profile];
    if (!p)
      throw new Error(`unknown profile "${profile}" (one of ${Object.keys(PROFILES).join(', ')})`);
    const context = await this.browser.newContext({ ...COMMON, ...p, ...extra });
    context.setDefaultTimeout(Math.min(10000, STEP_TIMEOUT));
    context.setDefaultNavigationTimeout(Math.min(20000, STEP_TIMEOUT));
    this.contexts.push(context);
    const page = await context.newPage();
    const info = { profile, js: (extra.javaScriptEnabled ?? p.javaScriptEnabled) !== false,
      errors: [], allowed: [], expected: [] };
    this.info.set(page, info);
    this.lastPage = page;
    page.on('console', (m) => this.onConsole(page, info, m));
    page.on('pageerror', (e) => info.errors.push(`uncaught page error: ${e && e.stack || e}`));
    page.on('crash', () => info.errors.push('the page crashed'));
    page.on('dialog', (d) => {
      info.errors.push(`a dialog (${d.type()}) opened: ${JSON.stringify(d.message())}`);
      d.dismiss().catch(() => {});
    });
    return page;
  }

  onConsole(page, info, m) {
    const type = m.type();
    const text = m.text();
    const url = (m.location() && m.location().url) || '';
    if (type !== 'error') {
      if (type === 'warning')
        this.note(`console warning on ${info.profile} ${page.url()}: ${text}`);
      return;
    }
    if (info.allowed.some((rx) => rx.test(text)))
      return;
    const load = LOAD_ERROR.exec(text);
    if (load) {
      const status = Number(load[1]);
      if (info.expected.some((e) => e.status === status && e.url === url))
        return;
      if (TOLERATE_FAVICON_404 && status === 404 && url === this.origin + '/favicon.ico') {
        this.note('tolerated: 404 for /favicon.ico (the server serves none yet)');
        return;
      }
    }
    info.errors.push(`console error: ${text}${url ? ` (${url})` : ''}`);
  }

  // Console errors matching regex are not failures on this page (a fetch that
  // is meant to answer 409, say). Use sparingly and as narrowly as possible.
  allow(page, regex) {
    this.info.get(page).allowed.push(regex);
  }

  // The absolute URL of a path on the server.
  url(p) {
    return /^https?:/.test(p) ? p : this.base + (p.startsWith('/') ? p : '/' + p);
  }

  // Navigates to path and checks the answer's status (default 200). A status
  // given here is expected: Chromium's "Failed to load resource" console
  // error for exactly that URL and status is not counted. Returns the response.
  async open(page, p, { status = 200, waitUntil = 'load' } = {}) {
    const url = this.url(p);
    const info = this.info.get(page);
    if (status >= 400)
      info.expected.push({ url, status });
    this.lastPage = page;
    const r = await page.goto(url, { waitUntil });
    if (!r)
      throw new Error(`GET ${p}: no response`);
    if (r.status() !== status)
      throw new Error(`GET ${p}: status ${r.status()}, expected ${status}`);
    return r;
  }

  // Marks a status as expected for a URL the page itself will load (a form
  // POST that answers 422, a fetch that answers 409).
  expectStatus(page, p, status) {
    this.info.get(page).expected.push({ url: this.url(p), status });
  }

  // -- steps ---------------------------------------------------------------------

  // Runs fn as one checked step named name: "ok" when fn resolves within
  // timeout and no page logged an error meanwhile, else "FAIL" with the
  // reason, a screenshot of the last page used, and StepFailed thrown.
  // Returns fn's result.
  async step(name, fn, { timeout = STEP_TIMEOUT } = {}) {
    const t0 = Date.now();
    let result;
    let err = null;
    try {
      result = await withTimeout(Promise.resolve().then(fn), timeout, 'step');
    } catch (e) {
      err = e;
    }
    const fresh = [];
    for (const [p, i] of this.info) {
      // errors since the last step's end count for this step
      for (const e of i.errors.slice(i.reported || 0))
        fresh.push(`[${i.profile} ${p.isClosed() ? '(closed)' : p.url()}] ${e}`);
    }
    for (const [p, i] of this.info)
      i.reported = i.errors.length;
    const ms = Date.now() - t0;
    if (!err && fresh.length === 0) {
      this.passed++;
      this.log(`ok   - ${name} (${ms} ms)`);
      return result;
    }
    this.failed++;
    this.log(`FAIL - ${name} (${ms} ms)`);
    if (err)
      this.log(indent(err instanceof CheckFailed ? err.message : (err.stack || err)));
    if (fresh.length)
      this.log(indent('errors in the page(s):\n' + fresh.join('\n')));
    await this.failureShot();
    throw new StepFailed(name);
  }

  async failureShot() {
    const page = this.lastPage;
    if (!page || page.isClosed())
      return;
    const i = this.info.get(page);
    const file = path.join(this.outDir,
      `${this.name}-${i ? i.profile : 'page'}-FAIL-${++this.failShots}.png`);
    try {
      // the whole page unless it is very long (a big JSON document)
      const h = await withTimeout(page.evaluate(() => document.documentElement.scrollHeight),
        5000, 'page height');
      await withTimeout(page.screenshot({ path: file, fullPage: h <= 8000 }), 15000, 'screenshot');
      this.note(`screenshot of the failure: ${file}`);
    } catch (e) {
      this.note(`no failure screenshot: ${e.message}`);
    }
  }

  // Fails the current step with message unless cond is truthy.
  check(cond, message) {
    if (!cond)
      throw new CheckFailed(message);
  }

  // Fails the current step unless actual === expected (message names both).
  equal(actual, expected, what) {
    if (actual !== expected)
      throw new CheckFailed(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }

  // Runs body(profile) for each profile; a failed step ends that profile's
  // body only. Contexts opened in the body are closed after it.
  async each(profiles, body) {
    for (const profile of profiles) {
      const from = this.contexts.length;
      try {
        await body(profile);
      } catch (e) {
        if (!(e instanceof StepFailed)) {
          this.failed++;
          this.log(`FAIL - ${profile}: outside any step`);
          this.log(indent(e && e.stack || e));
        }
      } finally {
        for (const c of this.contexts.splice(from))
          await this.closeContext(c);
      }
    }
  }

  async closeContext(context) {
    for (const p of context.pages()) {
      const i = this.info.get(p);
      if (i && i.errors.length > (i.reported || 0)) {
        this.failed++;
        this.log(`FAIL - ${i.profile}: errors after the last step`);
        this.log(indent(i.errors.slice(i.reported || 0).join('\n')));
      }
      this.info.delete(p);
    }
    await withTimeout(context.close(), 10000, 'closing a context').catch(() => {});
  }

  // -- what every page state gets ---------------------------------------------------

  // Runs axe-core on the page as it is now; throws listing every violation of
  // impact serious or critical (rule, impact, help, the nodes' targets), and
  // notes the minor and moderate ones. Returns all violations.
  //
  // axe is injected by evaluating its source over the DevTools protocol
  // (page.evaluate), which the page's Content-Security-Policy
  // (script-src 'self') does not govern. addScriptTag would add an inline
  // <script> that the CSP blocks; bypassCSP would switch the CSP off for the
  // whole context, and then a page that breaks its own CSP would pass here.
  // With JavaScript off the page runs no script of its own but timers never
  // fire, so axe's setTimeout and requestAnimationFrame are replaced by
  // microtasks for the run (and put back after).
  //
  // options: exclude (CSS selectors axe skips), disable (rule ids not run;
  // each is noted, so say why next to the call).
  async axe(page, { exclude = [], disable = [] } = {}) {
    const info = this.info.get(page);
    if (!info.js)
      await page.evaluate(() => {
        window.__otdTimers = [window.setTimeout, window.clearTimeout, window.requestAnimationFrame];
        window.setTimeout = (fn, ms, ...a) => { Promise.resolve().then(() => fn(...a)); return 0; };
        window.clearTimeout = () => {};
        window.requestAnimationFrame = (fn) => {
          Promise.resolve().then(() => fn(performance.now()));
          return 0;
        };
      });
    let violations;
    try {
      if (!(await page.evaluate(() => typeof window.axe === 'object' && !!window.axe.run)))
        await page.evaluate(AXE_SOURCE);
      for (const id of disable)
        this.note(`axe rule ${id} not run on ${page.url()}`);
      const opts = { exclude, disable, preload: info.js };
      violations = await withTimeout(page.evaluate(async (o) => {
        const rules = {};
        for (const id of o.disable)
          rules[id] = { enabled: false };
        const r = await window.axe.run(
          o.exclude.length ? { include: [document], exclude: o.exclude } : document,
          // preload (fetching the style sheets again for the CSSOM rules)
          // waits on timers, which do not run with JavaScript off
          { resultTypes: ['violations'], rules, preload: o.preload });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
          helpUrl: v.helpUrl,
          nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })) }));
      }, opts), 30000, 'axe.run');
    } finally {
      if (!info.js)
        await page.evaluate(() => {
          [window.setTimeout, window.clearTimeout, window.requestAnimationFrame] = window.__otdTimers;
          delete window.__otdTimers;
        }).catch(() => {});
    }
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of violations.filter((x) => !bad.includes(x)))
      this.note(`axe ${v.impact}: ${v.id} on ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`
        + ` - ${v.help}`);
    if (bad.length) {
      const text = bad.map((v) => `axe ${v.impact}: ${v.id} - ${v.help} (${v.helpUrl})\n`
        + v.nodes.map((n) => `  at ${n.target.join(' ')}: ${(n.summary || '').replace(/\n\s*/g, ' ')}`)
          .join('\n')).join('\n');
      throw new CheckFailed(`accessibility (${page.url()}):\n${text}`);
    }
    return violations;
  }

  // Saves a full-page screenshot OUT_DIR/<journey>-<profile>-<state>.png;
  // returns its path.
  async shot(page, state) {
    const i = this.info.get(page);
    const file = path.join(this.outDir, `${this.name}-${i.profile}-${slug(state)}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  // The checks for one page state: axe (serious/critical fail), nothing wider
  // than the viewport, and a screenshot named after state.
  async look(page, state, axeOptions) {
    await this.axe(page, axeOptions);
    await this.noHorizontalScroll(page);
    return this.shot(page, state);
  }

  // Fails when the page is wider than its viewport (mobile-first: nothing
  // may make a phone scroll sideways).
  async noHorizontalScroll(page) {
    const w = await page.evaluate(() => [document.documentElement.scrollWidth,
      document.documentElement.clientWidth]);
    this.check(w[0] <= w[1], `the page is ${w[0]} px wide in a ${w[1]} px viewport`);
  }

  // -- reading and keyboard ------------------------------------------------------------

  // A locator for target: a Locator as it is, a RegExp or a string as an
  // accessible name (exact for strings) of any focusable role.
  target(page, target) {
    if (typeof target !== 'string' && !(target instanceof RegExp))
      return target;
    let loc = null;
    for (const role of FOCUSABLE_ROLES) {
      const l = page.getByRole(role, { name: target, exact: typeof target === 'string' });
      loc = loc ? loc.or(l) : l;
    }
    return loc;
  }

  // The visible text of target (a CSS selector, or a Locator), whitespace
  // collapsed. The target must match exactly one element.
  async text(page, target) {
    const loc = typeof target === 'string' ? page.locator(target) : target;
    return (await loc.innerText()).replace(/\s+/g, ' ').trim();
  }

  // What has the keyboard focus now, for messages.
  async focused(page) {
    return page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body)
        return 'the page itself';
      const name = e.getAttribute('aria-label') || e.textContent || e.getAttribute('name') || '';
      return `<${e.tagName.toLowerCase()}${e.id ? ' id=' + e.id : ''}> "${name.trim().slice(0, 60)}"`;
    });
  }

  // Presses Tab (Shift+Tab when reverse) until target has the focus, at most
  // max times; returns the number of presses, or fails naming what has the
  // focus instead.
  async tabTo(page, target, { max = 40, reverse = false } = {}) {
    const want = this.target(page, target).and(page.locator(':focus'));
    for (let i = 1; i <= max; i++) {
      await page.keyboard.press(reverse ? 'Shift+Tab' : 'Tab');
      if ((await want.count()) > 0)
        return i;
    }
    throw new CheckFailed(`${JSON.stringify(String(target))} not focused after ${max} `
      + `${reverse ? 'Shift+Tab' : 'Tab'} presses (the focus is on ${await this.focused(page)})`);
  }

  // Keyboard only: Tab to target, then press key ('Enter', or 'Space' for a
  // checkbox or radio button). Returns the number of Tab presses.
  async keyboardOnly(page, target, { key = 'Enter', max = 40, reverse = false } = {}) {
    const n = await this.tabTo(page, target, { max, reverse });
    await page.keyboard.press(key);
    return n;
  }

  // Keyboard only: Tab to a field and type text into it.
  async typeInto(page, target, text, { max = 40 } = {}) {
    const n = await this.tabTo(page, target, { max });
    await page.keyboard.type(text);
    return n;
  }

  // -- the server's API ---------------------------------------------------------------

  // Calls the server's API (to move the virtual clock, or act as the
  // dispatcher); the admin token from OTD_ADMIN_TOKEN unless token is given.
  // Returns { status, body } (body parsed when JSON).
  async api(method, p, body, { token = process.env.OTD_ADMIN_TOKEN, headers = {} } = {}) {
    const h = { ...headers };
    if (token)
      h.Authorization = 'Bearer ' + token;
    if (body !== undefined)
      h['Content-Type'] = 'application/json';
    const r = await fetch(this.url(p), { method, headers: h,
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (e) { /* not JSON */ }
    return { status: r.status, body: parsed };
  }

  // -- the control channel (tests/integration/journeys.py) -----------------------------

  // Asks the Python side to do something the browser cannot (stop or start
  // the server, query its database): prints "@@control <json of obj>" and
  // resolves with the JSON line the runner writes back on stdin. An answer
  // {"error": ...} (no control channel, or the Python side failed) throws.
  async control(obj) {
    if (!this.stdinLines) {
      this.stdinLines = [];
      this.stdinWaiters = [];
      const rl = require('readline').createInterface({ input: process.stdin });
      rl.on('line', (line) => {
        const w = this.stdinWaiters.shift();
        if (w)
          w(line);
        else
          this.stdinLines.push(line);
      });
      rl.on('close', () => {
        for (const w of this.stdinWaiters.splice(0))
          w(null);
        this.stdinClosed = true;
      });
    }
    this.log('@@control ' + JSON.stringify(obj));
    const line = this.stdinLines.length ? this.stdinLines.shift()
      : this.stdinClosed ? null
        : await new Promise((resolve) => this.stdinWaiters.push(resolve));
    if (line === null)
      throw new CheckFailed(`control ${JSON.stringify(obj)}: standard input closed`);
    const answer = JSON.parse(line);
    if (answer && answer.error)
      throw new CheckFailed(`control ${JSON.stringify(obj)}: ${answer.error}`);
    return answer;
  }
}

// Runs one journey: reads BASE_URL and OUT_DIR from the command line,
// launches Chromium, calls body(journey), prints the summary and exits.
function run(name, body) {
  const [base, outDir] = process.argv.slice(2);
  if (!base || !outDir) {
    console.log(`usage: node ${name}.js BASE_URL OUT_DIR`);
    process.exit(2);
  }
  fs.mkdirSync(outDir, { recursive: true });
  let j = null;
  const summary = () => {
    const p = j ? j.passed : 0;
    const f = j ? j.failed : 1;
    console.log(`${p} passed, ${f} failed`);
    return f || !p ? 1 : 0;
  };
  const guard = setTimeout(() => {
    console.log(`FAIL - the journey ran longer than ${JOURNEY_TIMEOUT} ms`);
    if (j)
      j.failed++;
    summary();
    process.exit(1);
  }, JOURNEY_TIMEOUT);
  guard.unref();
  (async () => {
    const t0 = Date.now();
    const browser = await withTimeout(chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: FLAGS,
    }), 60000, 'launching Chromium');
    j = new Journey(name, base, outDir, browser);
    j.note(`${name}: Chromium ${browser.version()} launched in ${Date.now() - t0} ms; `
      + `screenshots in ${outDir}`);
    try {
      await body(j);
    } catch (e) {
      if (!(e instanceof StepFailed)) {
        j.failed++;
        j.log('FAIL - outside any step');
        j.log(indent(e && e.stack || e));
      }
    } finally {
      for (const c of j.contexts.splice(0))
        await j.closeContext(c);
      await withTimeout(browser.close(), 20000, 'closing Chromium').catch(() => {});
    }
    j.note(`${name}: ${Date.now() - t0} ms`);
  })().catch((e) => {
    console.log('FAIL - ' + (e && e.stack || e));
    if (j)
      j.failed++;
  }).finally(() => {
    // stdout is a pipe or a file here: written synchronously, so exit is safe
    process.exit(summary());
  });
}

module.exports = { run, PROFILES, FOCUSABLE_ROLES, slug, withTimeout };

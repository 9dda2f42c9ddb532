// visitor-offline.js - the visitor's page without signal (issue 8):
//   - signed in, the service worker keeps the shell and the day;
//   - the server stopped (control channel) and the context offline: three taps
//     (start travel, arrived, done) show at once and wait ("Waiting to be sent (3)");
//   - a reload is served by the service worker: the route, the taps still waiting;
//   - the server started again and the context online: the three taps are stored
//     once each, in order (read from the database through the control channel);
//   - offline again, a tap, and the session ends meanwhile: back online the page
//     says so and offers "Sign in"; signed in, the tap is replayed;
//   - a tap the server refuses (start travel to a visit the office cancelled
//     meanwhile) is dropped from the queue and shown to the visitor.
// OTD_SCENARIO: visitor_scenarios.scenario_visitor_offline.
'use strict';
const { run } = require('../lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');
const EVENTS = '/api/v1/visitor/events';
// Without signal, Chromium logs each failed request (the taps' POST, the live
// stream's reconnections) as a console error: expected here, and only these.
const NO_NETWORK = /net::ERR_(INTERNET_DISCONNECTED|CONNECTION_REFUSED|CONNECTION_RESET|NETWORK_CHANGED|EMPTY_RESPONSE|CONNECTION_CLOSED)/;

run('visitor-offline', async (j) => {
  const [v1, v2] = S.visits;
  let page = null;
  let context = null;
  const app = (name) => page.evaluate((n) => document.getElementById('app').getAttribute(n), name);
  const waitApp = (name, value, timeout = 20000) => page.waitForFunction(([n, v]) => {
    const a = document.getElementById('app');
    return !!a && a.getAttribute(n) === v;
  }, [name, String(value)], { timeout });
  async function signIn() {
    await page.getByLabel('Login').fill(S.login);
    await page.getByLabel('Password').fill(S.password);
    await Promise.all([page.waitForURL(/\/visitor$/), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.waitForFunction(() => Number(document.getElementById('app').getAttribute('data-loads')) >= 1);
  }
  async function tapOffline(name, n) {
    await page.getByRole('button', { name, exact: true }).click();
    await waitApp('data-waiting', n);
  }

  await j.step('signed in, the page is kept for use without signal', async () => {
    page = await j.page('mobile', { geolocation: { latitude: S.base.lat, longitude: S.base.lon, accuracy: 20 },
      permissions: ['geolocation'] });
    context = page.context();
    j.allow(page, NO_NETWORK);
    await j.open(page, '/login?next=/visitor');
    await signIn();
    // the service worker controls the page and has saved a day answer
    await waitApp('data-offline-ready', '1', 20000);
    await page.waitForFunction(async () => !!(await caches.match('/api/v1/visitor/day'))
      && !!(await caches.match('/visitor')), null, { timeout: 10000 });
    const sw = await page.evaluate(() => !!navigator.serviceWorker.controller);
    j.check(sw, 'a service worker controls /visitor');
    j.equal(await app('data-state'), 'not_started', 'state');
  });

  await j.step('the server stops and the signal goes: three taps wait', async () => {
    const r = await j.control({ op: 'stop' });
    j.check(r.stopped, 'server stopped');
    await context.setOffline(true);
    await tapOffline(`Start travel ${v1.reference}`, 1);
    await page.waitForTimeout(1100); // taps a second apart at least, as a visit takes
    await tapOffline(`Arrived ${v1.reference}`, 2);
    await page.waitForTimeout(1100);
    await tapOffline(`Done ${v1.reference}`, 3);
    const sync = await j.text(page, '#sync');
    j.check(sync.includes('Waiting to be sent (3)'), `the page shows what waits: ${sync}`);
    j.equal(await app('data-state'), 'idle', 'the taps show at once');
    j.check((await j.text(page, `#stop-${v1.reference}`)).includes('Done at'), 'visit shown done');
    await j.look(page, 'waiting');
  });

  await j.step('a reload without signal is served by the service worker', async () => {
    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => Number(document.getElementById('app').getAttribute('data-loads')) >= 1);
    j.equal(await j.text(page, 'h1'), 'Today’s route', 'heading');
    await waitApp('data-waiting', '3');
    const head = await j.text(page, '.day-head');
    j.check(head.includes('No signal'), `says it is offline: ${head}`);
    j.equal(await app('data-state'), 'idle', 'the waiting taps still show');
    j.check((await j.text(page, `#stop-${v1.reference}`)).includes(v1.line1), 'the route from the saved copy');
    await j.look(page, 'offline-reload');
  });

  await j.step(
      'signal back, server back: the three taps are stored once each, in order', async () => {
	      const r = await j.control({op : 'start', minutes : 10});
	      j.check(r.started, 'server started');
	      await context.setOffline(false);
	      // The "online" event replays at once; should that try meet a server still
	      // starting (a loaded machine), the retry timer's next try may be up to
	      // RETRY_MAX_MS (60 s) away.
	      await waitApp('data-waiting', '0', 70000);
	      await waitApp('data-queue', '0', 70000);
	      const got = await j.control({op : 'events', visitor_id : S.visitor_id});
	      const mine = got.events.filter((e) => e.reference === v1.reference);
	      j.equal(mine.map((e) => e.kind).join(','), 'start_travel,arrived,done',
		      'stored taps');
	      j.equal(new Set(mine.map((e) => e.client_event_id)).size, 3, 'distinct client ids');
	      j.check(mine[0].at < mine[1].at && mine[1].at < mine[2].at,
		      `in order: ${mine.map((e) => e.at)}`);
	      j.check((await j.text(page, '#sync')).includes('All taps sent'),
		      'the page says all is sent');
	      await page.waitForFunction(
		  () => !/No signal/.test(document.querySelector('.day-head').textContent));
      }, {timeout : 150000});

  await j.step('a tap without signal while the session ends: "Sign in", then replayed', async () => {
    await context.setOffline(true);
    await tapOffline('+15 min late', 1);
    const ex = await j.control({ op: 'expire', login: S.login });
    j.check(ex.revoked >= 1, 'the session was revoked');
    j.expectStatus(page, EVENTS, 401);
    j.expectStatus(page, '/api/v1/visitor/day', 401);
    j.expectStatus(page, '/api/v1/visitor/stream', 401);
    j.allow(page, /EventSource's response has a status 401/);
    await context.setOffline(false);
    const link = page.getByRole('link', { name: 'Sign in' });
    await link.waitFor({ timeout: 20000 });
    const sync = await j.text(page, '#sync');
    j.check(sync.includes('Your session has ended') && sync.includes('1 tap'), `says so: ${sync}`);
    j.equal(await app('data-waiting'), '1', 'the tap still waits');
    await j.look(page, 'session-ended');
    await link.click();
    await page.waitForURL(/\/login\?next=\/visitor$/);
    await signIn();
    await waitApp('data-waiting', '0', 20000);
    const got = await j.control({ op: 'events', visitor_id: S.visitor_id });
    j.equal(got.events.filter((e) => e.kind === 'late').length, 1, 'the late tap stored once');
  });

  await j.step('a refused tap is dropped from the queue and shown', async () => {
    await context.setOffline(true);
    await tapOffline(`Start travel ${v2.reference}`, 1);
    await j.control({ op: 'cancel', reference: v2.reference, reason: 'The customer is away.' });
    j.expectStatus(page, EVENTS, 422);
    await context.setOffline(false);
    await waitApp('data-waiting', '0', 20000);
    await page.locator('.refused').waitFor();
    const refused = await j.text(page, '.refused');
    j.check(refused.includes(`Start travel ${v2.reference}`) && !/Event 0/.test(refused) && refused.includes(v2.reference + ' is'),
      `the refused tap is named with the server's reason: ${refused}`);
    j.note(`refused: ${refused}`);
    await page.waitForFunction((ref) => document.querySelector('.callouts').textContent.includes(ref), v2.reference);
    await j.look(page, 'refused');
    await page.getByRole('button', { name: 'Dismiss these notes' }).click();
    j.equal(await page.locator('.refused').count(), 0, 'the notes dismissed');
  });
});

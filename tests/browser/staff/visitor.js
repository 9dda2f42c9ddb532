// visitor.js - journey 3 (the visitor's phone page), tapped through a day at
// 360x740 with faked geolocation, while the customer's page follows live:
//   - /visitor without a session leads to the real /login page; sign in;
//   - the route in order: windows ("never arrive early"), addresses, visit type,
//     doorstep codes, call and map links; nothing of another visitor's route;
//   - start travel (position shared: the page says so, positions are sent as the
//     phone moves), arrived (sharing stops), done; the customer's page goes
//     Booked -> On the way -> Arrived -> Visit done without a reload;
//   - running late +30, on a break / back, a dispatcher's changes called out
//     (a new visit, then moved), start travel again, cannot attend (with a
//     reason), "I can't carry on today" (confirmed);
//   - another visitor's route is out of reach with this session (API);
//   - axe and screenshots at each state; the route at 1366x768 too.
// test_visitor_page.py checks the database afterwards (taps once each,
// positions only while travelling). OTD_SCENARIO: visitor_scenarios.scenario_visitor.
'use strict';
const { run } = require('../lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');
const EVENTS = '/api/v1/visitor/events';

function geo(p) {
  return { latitude: p.lat, longitude: p.lon, accuracy: 12 };
}

run('visitor', async (j) => {
  const [v1, v2] = S.visits;
  const T = S.times;
  const posted = []; // every event the page POSTed: {type, at, ...}
  let page = null;
  let cust = null;

  const app = (name) => page.evaluate((n) => document.getElementById('app').getAttribute(n), name);
  const waitApp = (name, value, timeout = 15000) => page.waitForFunction(([n, v]) => {
    const a = document.getElementById('app');
    return !!a && a.getAttribute(n) === v;
  }, [name, String(value)], { timeout });
  // The page's idea of "now" comes from the server's day answer: after the
  // clock moves, the page is told by regaining focus (as a phone taken out of
  // a pocket), and its next day answer carries the new now.
  async function clock(to) {
    const r = await j.api('POST', '/api/v1/admin/clock', { to });
    j.equal(r.status, 200, `moving the clock to ${to}`);
    const n = Number(await app('data-loads'));
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.waitForFunction((k) => Number(document.getElementById('app').getAttribute('data-loads')) > k, n);
  }
  function sent(type) {
    return page.waitForResponse((r) => r.url() === j.url(EVENTS) && r.request().method() === 'POST'
      && (r.request().postData() || '').includes(`"type":"${type}"`), { timeout: 15000 });
  }
  async function tap(name, type, state) {
    const answer = sent(type);
    await page.getByRole('button', { name, exact: true }).click();
    const r = await answer;
    j.equal(r.status(), 200, `the ${type} tap's answer`);
    await waitApp('data-queue', '0');
    if (state)
      await waitApp('data-state', state);
  }
  async function customerSays(state) {
    await cust.waitForFunction((t) => {
      const e = document.querySelector('#status .state');
      return !!e && e.textContent.trim() === t;
    }, state, { timeout: 15000 }).catch(async () => {
      const now = await cust.evaluate(() => (document.querySelector('#status .state') || {}).textContent);
      j.check(false, `the customer's page says "${now}", expected "${state}"`);
    });
  }
  async function card(ref) {
    return j.text(page, `#stop-${ref}`);
  }
  async function sharing() {
    return j.text(page, '#sharing');
  }

  await j.step('no session: /visitor leads to the sign-in page', async () => {
    page = await j.page('mobile', { geolocation: geo(S.base), permissions: ['geolocation'] });
    page.on('request', (r) => {
      if (r.url() === j.url(EVENTS) && r.method() === 'POST') {
        try { posted.push(...JSON.parse(r.postData()).events); } catch (e) { /* not ours */ }
      }
    });
    await j.open(page, '/visitor');
    j.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/login?next=/visitor',
      'where /visitor leads');
    await j.look(page, 'login');
  });

  await j.step('sign in on the /login page: the route opens', async () => {
    await page.getByLabel('Login').fill(S.login);
    await page.getByLabel('Password').fill(S.password);
    await Promise.all([page.waitForURL(/\/visitor$/), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.waitForFunction(() => Number(document.getElementById('app').getAttribute('data-loads')) >= 1);
    j.equal(await app('data-state'), 'not_started', 'the day\'s state');
  });

  await j.step('the route in order, with codes, call and map links; nothing of another route', async () => {
    const stops = await page.locator('ol.route > li').evaluateAll((ls) => ls.map((l) => l.id));
    j.equal(stops.join(' '), [v1, v2].map((v) => `stop-${v.reference}`).join(' '), 'route order');
    const c1 = await card(v1.reference);
    for (const want of [v1.line1, 'Planning inspection', v1.code, v1.customer])
      j.check(c1.includes(want), `the first visit shows "${want}": ${c1}`);
    j.check(/Window opens at \d\d:\d\d \(in [^)]+\): never arrive early/.test(c1), `never arrive early: ${c1}`);
    const code = await j.text(page, `#stop-${v1.reference} dd.code`);
    j.equal(code, v1.code, 'the doorstep code (as on the customer\'s page)');
    const tel = await page.locator(`#stop-${v1.reference} a[href^="tel:"]`).getAttribute('href');
    j.check(/^tel:\+44\d+$/.test(tel), `call link: ${tel}`);
    const map = await page.locator(`#stop-${v1.reference} a`, { hasText: 'Map' }).getAttribute('href');
    j.check(map.includes('openstreetmap.org') && map.includes(`mlat=${v1.place.lat.toFixed(5)}`), `map link: ${map}`);
    const all = await j.text(page, 'main');
    for (const never of [S.other.reference, S.other.customer, S.other.line1])
      j.check(!all.includes(never), `another visitor's route shows: "${never}"`);
    j.check((await sharing()).startsWith('Position not shared'), `sharing before travel: ${await sharing()}`);
    j.check(!(await page.getByRole('button', { name: `Done ${v1.reference}` }).count()), 'no Done before arriving');
    await j.look(page, 'route');
  });

  await j.step('another visitor\'s route is out of reach with this session', async () => {
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = await app('data-csrf');
    const h = { headers: { Cookie: cookie, 'X-CSRF-Token': csrf }, token: null };
    let r = await j.api('GET', `/api/v1/visitors/${S.other.visitor_id}/day`, undefined, h);
    j.equal(r.status, 403, 'GET another visitor\'s day');
    r = await j.api('GET', `/api/v1/visitor/stream?visitor=${S.other.visitor_id}`, undefined, h);
    j.equal(r.status, 403, 'another visitor\'s live stream');
    r = await j.api('POST', EVENTS, { events: [{ client_event_id: 'not-mine-1', type: 'start_travel',
      at: T.open, appointment: S.other.reference }] }, h);
    j.equal(r.status, 422, 'a tap naming another visitor\'s appointment');
    j.equal(r.body.error.code, 'not_on_route', 'its error');
    r = await j.api('GET', '/api/v1/visitor/day', undefined, h);
    j.equal(r.status, 200, 'own day');
    j.check(!JSON.stringify(r.body).includes(S.other.reference), 'own day holds another\'s visit');
  });

  await j.step('the customer\'s page is open: Booked', async () => {
    cust = await j.page('desktop');
    await j.open(cust, `/a/${v1.token}`);
    await customerSays('Booked');
    j.lastPage = page;
  });

  await j.step('start travel: position shared, the customer sees "On the way"', async () => {
    await clock(T.travel1);
    await tap(`Start travel ${v1.reference}`, 'start_travel', 'travelling');
    await waitApp('data-sharing', 'on');
    j.check((await sharing()).startsWith('Sharing your position while you travel'), `sharing: ${await sharing()}`);
    j.check((await j.text(page, '#day-state')).includes(`Travelling to ${v1.reference}`), 'state line');
    await customerSays('On the way');
    await j.look(page, 'travelling');
  });

  await j.step('moving: positions are sent as the phone moves', async () => {
    for (const [i, p] of S.route1.entries()) {
      await clock(i === 0 ? T.move1 : T.move2);
      const answer = sent('position');
      await page.context().setGeolocation(geo(p));
      const r = await answer;
      j.equal(r.status(), 200, 'a position\'s answer');
    }
    const n = posted.filter((e) => e.type === 'position').length;
    j.check(n >= 3, `positions sent while travelling: ${n}`);
  });

  await j.step('arrived: sharing stops, the customer sees "Arrived"', async () => {
    await clock(T.arrive1);
    await tap(`Arrived ${v1.reference}`, 'arrived', 'on_site');
    await waitApp('data-sharing', 'off');
    j.check((await sharing()).startsWith('Position not shared'), `sharing after arrival: ${await sharing()}`);
    const before = posted.filter((e) => e.type === 'position').length;
    await page.context().setGeolocation(geo(v1.place));
    await page.waitForTimeout(1500);
    j.equal(posted.filter((e) => e.type === 'position').length, before, 'positions sent on site');
    await customerSays('Arrived');
    j.check(await page.getByRole('button', { name: `Done ${v1.reference}` }).isVisible(), 'Done offered on site');
    j.check(!(await page.getByRole('button', { name: `Start travel ${v2.reference}` }).count()),
      'no start travel while on site');
    await j.look(page, 'on-site');
  });

  await j.step('done: the customer sees "Visit done"', async () => {
    await clock(T.done1);
    await tap(`Done ${v1.reference}`, 'done', 'idle');
    await customerSays('Visit done');
    j.check((await card(v1.reference)).includes('Done at'), 'the card says done');
  });

  await j.step('running late +30 min', async () => {
    await clock(T.late);
    await tap('+30 min late', 'late');
    await page.waitForFunction(() => /running 30 minutes late/.test(document.querySelector('.day-panel').textContent));
    const late = posted.filter((e) => e.type === 'late');
    j.equal(late.length && late[late.length - 1].minutes, 30, 'the late event\'s minutes');
  });

  await j.step('on a break and back: no sharing on the break', async () => {
    await clock(T.break);
    await tap('On a break', 'break_start', 'on_break');
    j.equal(await app('data-sharing'), 'off', 'sharing on a break');
    j.check(!(await page.getByRole('button', { name: `Start travel ${v2.reference}` }).count()),
      'no start travel on a break');
    await j.look(page, 'on-break');
    await clock(T.break_end);
    await tap('Back from break', 'break_end', 'idle');
  });

  let v3 = null; // the visit a dispatcher adds
  await j.step('a dispatcher adds a visit and moves another: both called out', async () => {
    v3 = await j.control({ op: 'book', type: 'planning-inspection', line1: '9 Church Lane',
      date: '2026-03-02', pick: -1 });
    await page.waitForFunction((ref) => document.querySelector('.callouts').textContent.includes(`New visit: ${ref}`),
      v3.reference, { timeout: 15000 });
    j.check(await page.locator(`#stop-${v3.reference}`).isVisible(), 'the new visit is on the route');
    // the second visit moves to tomorrow: it leaves today's route, and the page says where it went
    const moved = await j.control({ op: 'reschedule', reference: v2.reference, line1: v2.line1,
      type: 'planning-inspection', date: '2026-03-03', pick: -1 });
    j.check(!!moved.window, 'the reschedule answered its window');
    await page.waitForFunction((ref) => document.querySelector('.callouts').textContent.includes(`${ref} moved to Tuesday 3 March`),
      v2.reference, { timeout: 15000 });
    j.equal(await page.locator(`#stop-${v2.reference}`).count(), 0, 'the moved visit left today\'s route');
    j.equal(await page.locator('.callouts').getAttribute('role'), 'alert', 'call-outs are an alert region');
    j.note(`call-outs: ${await j.text(page, '.callouts')}`);
    await j.look(page, 'called-out');
  });

  const minus = (t, m) => new Date(Date.parse(t) - m * 60000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await j.step('start travel to the new visit; a position on the way', async () => {
    await clock(minus(v3.window_start, 10));
    await tap(`Start travel ${v3.reference}`, 'start_travel', 'travelling');
    await waitApp('data-sharing', 'on');
    await clock(minus(v3.window_start, 5));
    // (the first position went at the start, from the last visit next door:
    // the next goes once the phone has moved 100 m)
    const answer = sent('position');
    await page.context().setGeolocation(geo(S.base));
    j.equal((await answer).status(), 200, 'a position on the way');
  });

  await j.step('still travelling when the shift ends: sharing stops, and says why', async () => {
    await clock(T.shift_end);
    await waitApp('data-sharing', 'off');
    j.equal(await sharing(), 'Position not shared: outside your shift.', 'the sharing line');
    const before = posted.filter((e) => e.type === 'position').length;
    await page.context().setGeolocation(geo(v3.place));
    await page.waitForTimeout(1500);
    j.equal(posted.filter((e) => e.type === 'position').length, before, 'positions sent after the shift');
    await j.look(page, 'shift-ended');
  });

  await j.step('cannot attend, with a reason', async () => {
    await page.getByRole('button', { name: `Cannot attend ${v3.reference}`, exact: true }).click();
    const note = page.getByLabel(`Why can’t you attend ${v3.reference}?`);
    j.check(await note.evaluate((e) => e === document.activeElement), 'the reason field has the focus');
    // an empty reason is refused on the page, next to the field
    await page.getByRole('button', { name: `Send: cannot attend ${v3.reference}` }).click();
    j.equal(await j.text(page, '#cannot-error'), 'Say why, in a few words.', 'empty reason');
    await j.look(page, 'cannot-attend-form');
    await note.fill('Road closed by a flood at the ford');
    const done = sent('cannot_attend');
    await page.getByRole('button', { name: `Send: cannot attend ${v3.reference}` }).click();
    j.equal((await done).status(), 200, 'cannot attend answered');
    await waitApp('data-queue', '0');
    await waitApp('data-state', 'idle');
    const c3 = await card(v3.reference);
    j.check(c3.includes('You said you cannot attend'), `the card: ${c3}`);
    const ev = posted.filter((e) => e.type === 'cannot_attend').pop();
    j.equal(ev.note, 'Road closed by a flood at the ford', 'the reason sent as note');
  });

  await j.step('"I can\'t carry on today": asked to confirm, then stopped', async () => {
    await clock(T.unavailable);
    await page.getByRole('button', { name: 'I can’t carry on today' }).click();
    await page.getByLabel('My vehicle broke down').check();
    await j.look(page, 'unavailable-confirm');
    await page.getByRole('button', { name: 'No, keep working' }).click();
    j.equal(await app('data-state'), 'idle', 'cancelling the question changes nothing');
    await page.getByRole('button', { name: 'I can’t carry on today' }).click();
    await page.getByLabel('My vehicle broke down').check();
    const answer = sent('unavailable');
    await page.getByRole('button', { name: 'Yes, stop for today' }).click();
    j.equal((await answer).status(), 200, 'unavailable answered');
    await waitApp('data-state', 'unavailable');
    await waitApp('data-queue', '0');
    j.check((await j.text(page, '.day-panel')).includes('Reason: vehicle breakdown'), 'the reason shown');
    j.equal(posted.filter((e) => e.type === 'unavailable').pop().reason, 'breakdown', 'reason sent');
    j.check(!(await page.getByRole('button', { name: /^Start travel/ }).count()), 'no travel once stopped');
    j.check(!(await page.getByRole('button', { name: /late$/ }).count()), 'no running late once stopped');
    await j.look(page, 'unavailable');
  });

  await j.step('taps were sent once each (client event ids unique)', async () => {
    const ids = posted.map((e) => e.client_event_id);
    j.equal(new Set(ids).size, ids.length, 'distinct client event ids');
    const r = await j.control({ op: 'events', visitor_id: S.visitor_id });
    const stored = r.events.filter((e) => e.client_event_id && ids.includes(e.client_event_id));
    j.equal(stored.length, posted.filter((e) => e.type !== 'position').length, 'taps stored');
  });

  await j.step('desktop: the same route at 1366x768', async () => {
    const d = await j.page('desktop');
    await j.open(d, '/login?next=/visitor');
    await d.getByLabel('Login').fill(S.login);
    await d.getByLabel('Password').fill(S.password);
    await Promise.all([d.waitForURL(/\/visitor$/), d.getByRole('button', { name: 'Sign in' }).click()]);
    await d.waitForFunction(() => Number(document.getElementById('app').getAttribute('data-loads')) >= 1);
    j.equal(await d.evaluate(() => document.getElementById('app').getAttribute('data-state')), 'unavailable', 'state');
    await j.look(d, 'route');
  });
});

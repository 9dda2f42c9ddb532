// manage.js - journey 2, the customer's own page behind the secret link,
// at 360x740 (touch), at 1366x768 and with JavaScript off:
//   - the booked visit: status, window, visitor's first name and role, the
//     doorstep code (the same the visitor's route shows), the calendar button;
//   - reschedule to another window (the link keeps working), then cancel
//     (with what the notice means);
//   - after an apology: the held windows, one taken in one tap;
//   - after the visit: feedback (an error next to the field first; a comment
//     `<img src=x onerror=alert(1)>` shown as text);
//   - live status (JavaScript on): the visitor sets off and the page says
//     "On the way" with the arrival band, without a reload;
//   - an invalid link: the one 404 page, and "send me a new link".
// OTD_SCENARIO (JSON from test_pages.py): per profile the tokens and what
// to expect; the visitor's session for the live step.
'use strict';
const { run } = require('./lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');
const EVIL = '<img src=x onerror=alert(1)>';

run('manage', async (j) => {
  await j.each(['mobile', 'desktop', 'nojs'], async (profile) => {
    const P = S.profiles[profile];
    const page = await j.page(profile);

    await j.step(`${profile}: the booked visit, with the doorstep code`, async () => {
      await j.open(page, `/a/${P.move}`);
      j.equal(await j.text(page, '.status .state'), 'Booked', 'state');
      const status = await j.text(page, '#status');
      j.check(status.includes(P.move_visitor), `the visitor named: "${status}"`);
      const code = await j.text(page, 'dl.facts .code');
      j.equal(code, P.move_code, 'doorstep code (as on the visitor\'s route)');
      j.check(await page.getByRole('link', { name: 'Add to my calendar' }).isVisible(), 'calendar');
      await j.look(page, 'booked');
    });

    let before = '';
    await j.step(`${profile}: reschedule to another window`, async () => {
      before = await j.text(page, 'dd.window-text');
      await page.getByRole('link', { name: 'Choose another time' }).click();
      await page.waitForURL(/\/reschedule$/);
      j.equal(await j.text(page, 'h1'), 'Choose another time', 'heading');
      await j.look(page, 'reschedule');
      await page.locator('details.day[open] button.window').nth(3).click();
      await page.waitForURL(/\?done=moved$/);
      const after = await j.text(page, 'dd.window-text');
      j.check(after !== before, `the window moved: "${before}" -> "${after}"`);
      j.check((await j.text(page, 'p.confirmation')).includes('your visit has moved'), 'banner');
      await j.look(page, 'moved');
    });

    await j.step(`${profile}: cancel, knowing what the notice means`, async () => {
      await page.getByRole('link', { name: 'Cancel the visit' }).click();
      await page.waitForURL(/\/cancel$/);
      const facts = await j.text(page, 'ul.notice-facts');
      j.check(facts.includes('costs you nothing') && facts.includes('notice'), `notice: ${facts}`);
      await j.look(page, 'cancel');
      await page.getByRole('button', { name: 'Yes, cancel the visit' }).click();
      await page.waitForURL(/\?done=cancelled$/);
      j.equal(await j.text(page, '.status .state'), 'Cancelled', 'state');
      j.equal(await page.getByRole('link', { name: 'Choose another time' }).count(), 0,
        'no more changes offered');
      await j.look(page, 'cancelled');
    });

    await j.step(`${profile}: after an apology, a held window in one tap`, async () => {
      await j.open(page, `/a/${P.apology}`);
      const text = await j.text(page, '.apology');
      j.check(text.includes('We are sorry'), `apology: ${text}`);
      const offers = page.getByRole('button', { name: /^Move to / });
      j.check((await offers.count()) >= 1, 'held windows offered');
      const label = await offers.first().innerText();
      await j.look(page, 'apology');
      await offers.first().click();
      await page.waitForURL(/\?done=moved$/);
      const now = await j.text(page, 'dd.window-text');
      j.check(label.includes(now), `moved to the held window: "${label}" / "${now}"`);
      j.equal(await page.locator('.apology').count(), 0, 'the apology is gone');
      await j.look(page, 'apology-moved');
    });

    await j.step(`${profile}: feedback after the visit`, async () => {
      await j.open(page, `/a/${P.feedback}`);
      j.equal(await j.text(page, '.status .state'), 'Visit done', 'state');
      j.expectStatus(page, `/a/${P.feedback}/feedback`, 400);
      await page.getByRole('button', { name: 'Send feedback' }).click();
      await page.waitForSelector('#rating-error');
      j.check((await j.text(page, '#rating-error')).includes('Choose a rating'), 'rating error');
      await j.look(page, 'feedback-error');
      await page.getByLabel('4', { exact: true }).check();
      await page.getByLabel('Anything you want to tell us (optional)').fill(EVIL + ' on time & polite');
      await page.getByLabel(/You may publish my rating/).check();
      await page.getByRole('button', { name: 'Send feedback' }).click();
      await page.waitForURL(/\?done=feedback$/);
      j.check((await j.text(page, '.feedback')).includes('you gave us 4 out of 5'), 'thanks');
      j.check((await j.text(page, '.feedback blockquote')).includes(EVIL), 'comment as text');
      j.equal(await page.locator('main img').count(), 0, 'no image made from the comment');
      await j.look(page, 'feedback-given');
    });

    if (profile !== 'nojs') {
      await j.step(`${profile}: live status: the visitor sets off`, async () => {
        await j.open(page, `/a/${P.live}`);
        j.equal(await j.text(page, '.status .state'), 'Booked', 'state before');
        // Give the page's event stream a moment to connect, then the visitor taps.
        await page.waitForTimeout(500);
        const r = await fetch(j.url('/api/v1/visitor/events'), { method: 'POST',
          headers: { 'Content-Type': 'application/json', Cookie: `otd_session=${P.visitor.cookie}`,
            'X-CSRF-Token': P.visitor.csrf },
          body: JSON.stringify({ client_event_id: `live-${profile}`, type: 'start_travel',
            at: P.visitor.at, appointment: P.live_reference }) });
        const answer = await r.text();
        j.equal(r.status, 200, `the visitor's tap: ${answer}`);
        j.equal(JSON.parse(answer).applied, 1, `the tap applied: ${answer}`);
        await page.waitForFunction(() =>
          document.querySelector('.status .state').textContent === 'On the way', null, { timeout: 10000 });
        const text = await j.text(page, '#status');
        j.check(/expected (about )?\d\d:\d\d/.test(text), `the arrival band: "${text}"`);
        // It came through the stream, not a reconnection's fresh copy.
        j.check(Number(await page.getAttribute('#status', 'data-events')) >= 1,
          'an appointment event reached the page');
        await j.look(page, 'on-the-way');
      });
    }

    await j.step(`${profile}: an invalid link gets the one 404 page and a new link`, async () => {
      await j.open(page, '/a/AAAAAAAAAAAAAAAAAAAAAA', { status: 404 });
      j.equal(await j.text(page, 'h1'), 'This link does not work', 'heading');
      await j.look(page, 'link-not-found');
      await page.getByLabel('Your booking reference').fill(P.move_reference);
      await page.getByLabel('The mobile number or email address you gave us').fill(P.move_phone);
      await page.getByRole('button', { name: 'Send me a new link' }).click();
      await page.waitForSelector('h1:has-text("Check your messages")');
      await j.look(page, 'new-link-sent');
    });
  });
});

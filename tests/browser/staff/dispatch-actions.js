// The dispatcher's board, the actions besides reassigning and rebalancing:
// reorder a visitor's route by hand (a refused order, then a good one), write
// to a customer from the visit's panel, a visitor running late shown live from
// the stream, clear an address request from the inbox, moderate feedback
// (publish one, withhold another) and exempt a guarantee case. Desktop
// (1440x900); then a phone in another time zone (America/New_York): the
// times shown stay the organisation's, and the reorder list and the message
// form are looked at.
//
// OTD_SCENARIO (tests/integration/dispatch_scenarios.py, scenario_actions):
//   login, password       the dispatcher
//   monday, tuesday       the days (the clock stands at Tuesday 07:30)
//   visitor, visitor_id   the visitor whose route is reordered (Tuesday)
//   order                 their visits still to start, in route order
//   late                  the one whose window is last (first: refused)
//   message_reference, message_customer, message_text, message_window
//   broken, case_id       Monday's visit never reached and its open case
//   inbox_text, inbox_id  words of the address request in the inbox
//   feedback              {publish: {id, reference, comment}, withhold: {...}}
// Control (test_dispatch_page.py): {"op": "route", visitor_id, date} -> {order};
// {"op": "late", visitor_id, minutes}: the visitor reports running late now.
'use strict';

const path = require('path');
const { run } = require('../lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');
const BIG = { viewport: { width: 1440, height: 900 } };

async function signIn(j, page) {
  await j.open(page, '/login?next=/dispatch');
  await page.getByLabel('Login').fill(S.login);
  await page.getByLabel('Password').fill(S.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/dispatch'),
    page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.locator('#app[data-ready=true]').waitFor();
}

function rowOf(page, name) {
  return page.locator(`li.row:has(button.vname:text-is("${name}"))`);
}

async function listOrder(page) {
  return page.locator('#reorder-list li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-ref')));
}

async function openVisitorPanel(j, page) {
  await rowOf(page, S.visitor).locator('button.vname').click();
  await page.locator('#drawer').waitFor();
  j.equal(await j.text(page, '#drawer-h'), S.visitor, 'the panel heading');
}

async function openVisit(j, page, ref) {
  const box = page.getByLabel('Find an appointment');
  await box.fill(ref);
  await page.locator(`#search-results button[data-ref="${ref}"]`).click();
  await box.fill('');
  j.equal(await j.text(page, '#drawer-h'), ref, 'the panel heading');
  await page.locator('#drawer .messages-body .message-log, #drawer .messages-body .empty').first().waitFor();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The drawer is fixed to the viewport, so a full-page shot shows only its top:
// this one scrolls the drawer to what is looked at and shoots the viewport.
async function drawerShot(j, page, selector, state) {
  await page.locator(selector).evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: path.join(j.outDir, `${j.name}-mobile-${state}.png`) });
}

run('dispatch-actions', async (j) => {
  j.check(S.order && S.order.length === 3, 'the scenario has no route of three visits');

  await j.each(['desktop'], async (profile) => {
    const page = await j.page(profile, BIG);
    const routePath = `/api/v1/visitors/${S.visitor_id}/route`;

    await j.step('sign in: Tuesday\'s board', async () => {
      await signIn(j, page);
      j.equal(await page.inputValue('#board-date'), S.tuesday, 'the day shown');
      for (const ref of S.order)
        await rowOf(page, S.visitor).locator(`g.stop[data-ref="${ref}"]`).waitFor();
    });

    await j.step('reorder with the keyboard: the list of visits still to start, in route order', async () => {
      await openVisitorPanel(j, page);
      await page.getByRole('button', { name: 'Reorder visits' }).click();
      j.equal(JSON.stringify(await listOrder(page)), JSON.stringify(S.order), 'the list\'s order');
      // the last visit to the top, by keyboard only: focus stays on its button
      await page.getByRole('button', { name: `Move up ${S.late}` }).focus();
      await page.keyboard.press('Enter');
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
      j.equal(focused, `Move up ${S.late}`, 'the focus after moving');
      await page.keyboard.press('Enter');
      j.equal(JSON.stringify(await listOrder(page)), JSON.stringify([S.late, S.order[0], S.order[1]]),
        'the list after two moves up');
      j.check(await page.getByRole('button', { name: `Move up ${S.late}` }).isDisabled(),
        'the first visit can still move up');
      await page.locator('#reorder-list li').first().locator('.ro-pos').waitFor();
      j.equal(await j.text(page, page.locator('#reorder-list li').first().locator('.ro-pos')), '1', 'the first place');
      await j.look(page, 'reorder');
    });

    await j.step('an order that breaks a promise is refused with the server\'s words; nothing changes', async () => {
      j.expectStatus(page, routePath, 409);
      await page.getByRole('button', { name: 'Save the order' }).click();
      const alert = page.locator('#reorder [role=alert] .error');
      await alert.waitFor();
      const text = await j.text(page, alert);
      j.check(/OTD-[0-9A-Z]{6}/.test(text), `the refusal does not name a visit: "${text}"`);
      j.check(/late|promise|window/i.test(text), `the refusal says "${text}"`);
      const db = await j.control({ op: 'route', visitor_id: S.visitor_id, date: S.tuesday });
      j.equal(JSON.stringify(db.order), JSON.stringify(S.order), 'the route in the database');
      // still the dispatcher's list, to change again
      j.equal(JSON.stringify(await listOrder(page)), JSON.stringify([S.late, S.order[0], S.order[1]]),
        'the list after the refusal');
      await j.look(page, 'reorder-refused');
    });

    await j.step('a good order is saved and the board follows', async () => {
      await page.locator('#reorder').getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('button', { name: 'Reorder visits' }).click();
      j.equal(JSON.stringify(await listOrder(page)), JSON.stringify(S.order), 'the list starts again from the route');
      await page.getByRole('button', { name: `Move up ${S.order[1]}` }).click();
      await page.getByRole('button', { name: 'Save the order' }).click();
      await page.locator('#reorder-done').waitFor();
      const want = [S.order[1], S.order[0], S.order[2]];
      const db = await j.control({ op: 'route', visitor_id: S.visitor_id, date: S.tuesday });
      j.equal(JSON.stringify(db.order), JSON.stringify(want), 'the route in the database');
      // the panel was redrawn from the refetched board: its list is the new order
      const listed = await page.locator('#drawer .visit-list button[data-ref]')
        .evaluateAll((bs) => bs.map((b) => b.getAttribute('data-ref')));
      j.equal(JSON.stringify(listed.filter((r) => want.includes(r))), JSON.stringify(want), 'the panel\'s visits');
    });

    await j.step('write to the customer: a counted one-liner, then the message log lists it', async () => {
      await page.locator(`#drawer .visit-list button[data-ref="${S.message_reference}"]`).click();
      j.equal(await j.text(page, '#drawer-h'), S.message_reference, 'the panel heading');
      const input = page.getByLabel('Your message');
      j.equal(await input.getAttribute('maxlength'), '140', 'the input\'s maxlength');
      j.equal(await j.text(page, '#write-count'), '140 characters left of 140', 'the counter when empty');
      await input.fill(S.message_text);
      const left = 140 - [...S.message_text].length;
      j.equal(await j.text(page, '#write-count'), `${left} characters left of 140`, 'the counter');
      await page.locator('#write').getByLabel('Email only').check();
      await page.locator('#write').getByLabel('Every channel the customer agreed to').check();
      await j.look(page, 'message');
      await page.locator('#write').getByRole('button', { name: 'Send' }).click();
      await page.locator('#write .done-note').waitFor();
      j.equal(await input.inputValue(), '', 'the input after sending');
      await page.locator('#message-log .message-log li:has-text("personal")').first().waitFor();
      await j.look(page, 'message-sent');
      await page.keyboard.press('Escape');
      await page.locator('#drawer').waitFor({ state: 'hidden' });
    });

    await j.step('a visitor running late shows on their row from the stream, with the board not refetched', async () => {
      const vstate = rowOf(page, S.visitor).locator('.vstate');
      j.check(!/late/.test(await j.text(page, vstate)), 'already late');
      let hold = true;
      let asked = 0;
      await page.route('**/api/v1/dispatch/board**', async (route) => {
        asked++;
        while (hold) await sleep(100);
        await route.continue().catch(() => {});
      });
      try {
        await j.control({ op: 'late', visitor_id: S.visitor_id, minutes: 30 });
        await page.waitForFunction((name) => {
          const b = [...document.querySelectorAll('li.row button.vname')].find((x) => x.textContent === name);
          const st = b && b.closest('li.row').querySelector('.vstate');
          return st && /late 30 min/.test(st.textContent);
        }, S.visitor, { timeout: 10000 });
        j.note(`board requests held while the row changed: ${asked}`);
      } finally {
        hold = false;
        await page.unroute('**/api/v1/dispatch/board**');
      }
    });

    await j.step('the inbox: the address request is marked done', async () => {
      const item = page.locator(`#app .inbox li.inbox-item:has-text("${S.inbox_text}")`);
      await item.waitFor();
      await item.getByRole('button', { name: /^Done/ }).click();
      await item.waitFor({ state: 'detached' });
      await page.locator('.live:has-text("Marked done.")').waitFor();
      await j.look(page, 'inbox-done');
    });

    await j.step('feedback: one published as given, one withheld with a reason', async () => {
      const pub = page.locator(`.feedback-queue li.fb-item:has-text("${S.feedback.publish.reference}")`);
      const wh = page.locator(`.feedback-queue li.fb-item:has-text("${S.feedback.withhold.reference}")`);
      await pub.waitFor();
      await wh.waitFor();
      j.check((await j.text(page, pub)).includes(S.feedback.publish.comment), 'the customer\'s words are not shown');
      await pub.getByRole('button', { name: 'Publish as given' }).click();
      await page.locator(`.feedback-queue li.done-note:has-text("${S.feedback.publish.reference}: Published")`).waitFor();
      // withholding needs a reason
      await wh.getByRole('button', { name: 'Withhold' }).click();
      await wh.locator('[role=alert] .error').waitFor();
      await wh.getByLabel('Reason (needed to withhold)').fill('a phone number and a neighbour');
      await wh.getByRole('button', { name: 'Withhold' }).click();
      await page.locator(`.feedback-queue li.done-note:has-text("${S.feedback.withhold.reference}: Withheld")`).waitFor();
      await j.look(page, 'feedback-done');
    });

    await j.step('Monday\'s board: the broken promise\'s case is marked exempt from its panel', async () => {
      await page.locator('#board-date').fill(S.monday);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.locator(`g.stop[data-ref="${S.broken}"]`).waitFor();
      await openVisit(j, page, S.broken);
      const form = page.locator('#drawer form.exempt-form');
      await form.waitFor();
      j.check((await j.text(page, form)).includes(`Case ${S.case_id}`), 'the case is not named');
      await form.getByLabel('Exemption').selectOption('consent');
      // the note is needed
      await form.getByRole('button', { name: 'Mark exempt' }).click();
      await form.locator('[role=alert] .error').waitFor();
      await form.getByLabel('Note (kept as evidence)').fill('Agreed a new day on the phone at 08:05');
      await j.look(page, 'exempt');
      await form.getByRole('button', { name: 'Mark exempt' }).click();
      await page.locator(`#drawer .done-note:has-text("Case ${S.case_id} is exempt.")`).waitFor();
      await j.look(page, 'exempt-done');
    });
  });

  // A phone in New York: the times are still the organisation's (London).
  await j.each(['mobile'], async (profile) => {
    const page = await j.page(profile, { timezoneId: 'America/New_York' });
    await j.step('phone (New York): the times shown are the organisation\'s', async () => {
      await signIn(j, page);
      await openVisit(j, page, S.message_reference);
      const facts = await j.text(page, '#drawer .detail-facts');
      j.check(facts.includes(S.message_window), `the panel says "${facts}", not the window ${S.message_window}`);
      await j.look(page, 'message');
      await page.getByLabel('Your message').fill(S.message_text);
      await drawerShot(j, page, '#write', 'message-form');
      await page.getByLabel('Your message').fill('');
      await page.getByRole('button', { name: 'Close the panel' }).click();
    });
    await j.step('phone: the reorder list', async () => {
      await openVisitorPanel(j, page);
      await page.getByRole('button', { name: 'Reorder visits' }).click();
      await page.locator('#reorder-list li').first().waitFor();
      await j.look(page, 'reorder');
      await drawerShot(j, page, '#reorder', 'reorder-list');
      const first = page.locator('#reorder-list li').first();
      const box = await first.locator('button.move-down').boundingBox();
      j.check(box && box.height >= 36, `the Move down button is ${box && box.height} px high`);
    });
  });
});

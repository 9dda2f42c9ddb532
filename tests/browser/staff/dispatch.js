// The dispatcher's board: sign in on the real /login page, find the visit at
// risk, reassign it to a visitor who can keep its window, and see the board,
// the customer's page and a live change follow. Desktop (1440x900) and phone.
//
// OTD_SCENARIO (tests/integration/dispatch_scenarios.py, scenario_reassign):
//   login, password        the dispatcher
//   reference, token       the visit at risk and its customer's link
//   customer               the customer's name
//   late_visitor           the visitor running late (not offered)
//   options                the names the server offers (who can keep the window)
//   not_options            other visitors, who must not be offered
//   others                 references of the day's other visits
// Control (test_dispatch_page.py): {"op": "start_travel", "reference": R}: the
// visitor of R sets off now.
'use strict';

const { run } = require('../lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');
const BIG = { viewport: { width: 1440, height: 900 } };

async function signIn(j, page) {
  await j.open(page, '/dispatch');
  j.check(new URL(page.url()).pathname === '/login', `/dispatch without a session led to ${page.url()}`);
  j.check(new URL(page.url()).searchParams.get('next') === '/dispatch', `no next=/dispatch in ${page.url()}`);
  await page.getByLabel('Login').fill(S.login);
  await page.getByLabel('Password').fill(S.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/dispatch'),
    page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.locator('#app[data-ready=true]').waitFor();
}

function stop(page, ref) {
  return page.locator(`g.stop[data-ref="${ref}"]`);
}

run('dispatch', async (j) => {
  j.check(S.reference && S.options && S.options.length, 'the scenario has no visit at risk');

  await j.each(['desktop'], async (profile) => {
    const page = await j.page(profile, BIG);

    await j.step('sign in on /login and land on the board', async () => {
      await signIn(j, page);
      const title = await j.text(page, 'h1');
      j.check(/^Dispatch board: \w+day \d+ \w+$/.test(title), `the title says "${title}"`);
      j.check(await page.locator('li.row').count() >= 4, 'fewer than four visitor rows');
      const marks = await page.evaluate(() => performance.getEntriesByName('board-data-ready').length);
      j.equal(marks, 1, "performance marks 'board-data-ready'");
      await page.locator('.conn.on').waitFor();
    });

    await j.step('the visit at risk heads the at-risk list with its reason, P(late), notice clock and stake', async () => {
      const item = page.locator(`#at-risk-list li[data-ref="${S.reference}"]`);
      await item.waitFor();
      const text = await j.text(page, item);
      j.check(text.includes(S.customer), `no customer name in "${text}"`);
      j.check(text.includes(S.late_visitor), `no visitor name in "${text}"`);
      j.check(/P\(late\) \d+%/.test(text), `no P(late) in "${text}"`);
      j.check(/Notice (\d+ h \d+ min|\d+ min \d+ s|\d+ s) left|Notice Notice passed|Notice passed/.test(text)
        || /Notice .*(left|passed)/.test(text), `no notice clock in "${text}"`);
      j.check(/£\d+\.\d\d/.test(text) || /No guarantee applies/.test(text), `no money at stake in "${text}"`);
      j.check(/At risk|Broken/.test(text), `no risk words in "${text}"`);
      const first = await page.locator('#at-risk-list li').first().getAttribute('data-ref');
      j.equal(first, S.reference, 'the first of the at-risk list');
      // the row shows the risk in words and a glyph, not colour alone
      const label = await stop(page, S.reference).getAttribute('aria-label');
      j.check(/At risk|Broken/.test(label), `the timeline's label says "${label}"`);
      const late = await j.text(page, `li.row:has(g.stop[data-ref="${S.reference}"]) .vstate`);
      j.check(/late 60 min/.test(late), `the late visitor's row says "${late}"`);
      await j.look(page, 'board');
    });

    await j.step('search finds the visit by name, phone, postcode and reference', async () => {
      const box = page.getByLabel('Find an appointment');
      for (const q of [S.customer.split(' ')[1], S.phone || '07700 900801', 'zz11aa', S.reference.slice(-4)]) {
        await box.fill(q);
        await page.locator(`#search-results button[data-ref="${S.reference}"]`).waitFor();
      }
      await box.fill('no such thing');
      await page.getByText('Nothing found.').waitFor();
      await box.fill('');
    });

    await j.step('open the visit: only visitors who can keep the window are offered', async () => {
      await page.locator(`#at-risk-list button[data-ref="${S.reference}"]`).click();
      const drawer = page.locator('#drawer');
      await drawer.waitFor();
      j.equal(await j.text(page, '#drawer-h'), S.reference, 'the panel heading');
      await drawer.locator('input[name=visitor]').first().waitFor();
      const offered = await drawer.locator('.opt-name').allInnerTexts();
      j.equal(JSON.stringify(offered.sort()), JSON.stringify([...S.options].sort()), 'the visitors offered');
      for (const name of S.not_options.concat([S.late_visitor]))
        j.check(!offered.includes(name), `${name} is offered`);
      const facts = await j.text(page, drawer.locator('.opt-facts').first());
      j.check(/adds \d+ min travel/.test(facts), `no travel added in "${facts}"`);
      const tel = await drawer.locator('a.call').getAttribute('href');
      j.check(/^tel:\+44\d+$/.test(tel), `the call link is ${tel}`);
      await j.look(page, 'detail');
    });

    await j.step('reassign: the board moves the visit to the new visitor', async () => {
      const drawer = page.locator('#drawer');
      const chosen = S.options[0];
      await drawer.getByLabel(new RegExp('^' + chosen.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).check();
      await drawer.getByLabel('Reason (told to the customer)').fill('Priya is delayed; Tom is nearby');
      await drawer.getByRole('button', { name: 'Reassign' }).click();
      await drawer.locator('.done-note').waitFor();
      const note = await j.text(page, drawer.locator('.done-note'));
      j.check(note.includes(chosen), `the confirmation says "${note}"`);
      await page.locator(`li.row:has(button.vname:text-is("${chosen}")) g.stop[data-ref="${S.reference}"]`)
        .waitFor();
      j.equal(await page.locator(`li.row:has(button.vname:text-is("${S.late_visitor}")) g.stop[data-ref="${S.reference}"]`)
        .count(), 0, 'the visit still on the late visitor\'s row');
    });

    await j.step('the message log lists the customer\'s messages with their delivery status', async () => {
      const drawer = page.locator('#drawer');
      await drawer.getByRole('button', { name: 'Close the panel' }).click();
      await page.locator('#drawer').waitFor({ state: 'hidden' });
      await stop(page, S.reference).click();
      await page.locator('#drawer .message-log li').first().waitFor();
      const log = await j.text(page, '#drawer .message-log');
      j.check(/visitor changed|visitor_changed|apology/i.test(log), `the log says "${log}"`);
      await page.keyboard.press('Escape');
      await page.locator('#drawer').waitFor({ state: 'hidden' });
    });

    await j.step('the customer\'s page names the new visitor', async () => {
      const p2 = await j.page('desktop');
      await j.open(p2, '/a/' + S.token);
      const text = await j.text(p2, 'main');
      const first = S.options[0].split(' ')[0];
      j.check(text.includes(first), `the customer's page does not name ${first}: "${text.slice(0, 300)}"`);
      await p2.close();
    });

    await j.step('a visitor setting off shows on the board live (no reload)', async () => {
      const ref = S.others[0];
      const before = await stop(page, ref).getAttribute('aria-label');
      j.check(!/Travelling there/.test(before), `already travelling: ${before}`);
      await page.evaluate(() => { window.__sameDocument = true; });
      await j.control({ op: 'start_travel', reference: ref });
      await page.waitForFunction((r) => {
        const g = document.querySelector(`g.stop[data-ref="${r}"]`);
        return g && /Travelling there/.test(g.getAttribute('aria-label'));
      }, ref, { timeout: 10000 });
      j.check(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
    });

    await j.step('keyboard: Tab reaches a visit on the timeline and Enter opens it', async () => {
      await page.locator('li.row button.vname').first().focus();
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-ref'));
      j.check(focused, 'Tab after a visitor\'s name does not reach a visit');
      await page.keyboard.press('Enter');
      j.equal(await j.text(page, '#drawer-h'), focused, 'the panel opened by Enter');
      await page.keyboard.press('Escape');
    });
  });

  await j.each(['mobile'], async (profile) => {
    const page = await j.page(profile);
    await j.step('phone: sign in and look at the board', async () => {
      await signIn(j, page);
      await j.look(page, 'board');
    });
    await j.step('phone: open a visit', async () => {
      await page.getByLabel('Find an appointment').fill(S.reference);
      await page.locator(`#search-results button[data-ref="${S.reference}"]`).click();
      await page.locator('#drawer .message-log, #drawer .messages-body .empty').first().waitFor();
      await j.look(page, 'detail');
    });
  });
});

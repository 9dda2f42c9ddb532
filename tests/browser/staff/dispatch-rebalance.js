// The dispatcher's board, a visitor off sick: mark them unavailable from the
// board (with confirmation), ask the optimiser for a rebalance, apply it in one
// click and see the board show the new routes; then an area-wide disruption,
// first refused by the server (its message shown), then declared.
//
// OTD_SCENARIO (tests/integration/dispatch_scenarios.py, scenario_rebalance):
//   login, password     the dispatcher
//   date                the day (today on the server's clock)
//   sick_visitor        the visitor to mark unavailable
//   theirs              that visitor's visits
'use strict';

const { run } = require('../lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');
const BIG = { viewport: { width: 1440, height: 900 } };

function rowOf(page, name) {
  return page.locator(`li.row:has(button.vname:text-is("${name}"))`);
}

run('dispatch-rebalance', async (j) => {
  await j.each(['desktop'], async (profile) => {
    const page = await j.page(profile, BIG);
    const names = {};

    await j.step('sign in and see the day', async () => {
      await j.open(page, '/login?next=/dispatch');
      await page.getByLabel('Login').fill(S.login);
      await page.getByLabel('Password').fill(S.password);
      await Promise.all([page.waitForURL((u) => u.pathname === '/dispatch'),
        page.getByRole('button', { name: 'Sign in' }).click()]);
      await page.locator('#app[data-ready=true]').waitFor();
      j.equal(await page.inputValue('#board-date'), S.date, 'the day shown');
      for (const ref of S.theirs)
        await rowOf(page, S.sick_visitor).locator(`g.stop[data-ref="${ref}"]`).waitFor();
      for (const b of await page.locator('button.vname').all())
        names[await b.getAttribute('data-visitor')] = await b.innerText();
    });

    await j.step('mark the visitor unavailable, after a confirmation', async () => {
      await rowOf(page, S.sick_visitor).locator('button.vname').click();
      const drawer = page.locator('#drawer');
      j.equal(await j.text(page, '#drawer-h'), S.sick_visitor, 'the panel heading');
      await drawer.getByLabel('Reason').selectOption('sick');
      await drawer.getByLabel('Note (optional)').fill('Phoned in at 06:45');
      await drawer.getByRole('button', { name: `Mark ${S.sick_visitor} unavailable` }).click();
      const q = await j.text(page, drawer.locator('.confirm-q'));
      j.check(q.includes(`${S.theirs.length} visit`), `the confirmation says "${q}"`);
      await j.look(page, 'confirm-unavailable');
      await drawer.getByRole('button', { name: 'Yes, mark unavailable' }).click();
      await drawer.locator('.done-note').waitFor();
      await page.waitForFunction((n) => [...document.querySelectorAll('li.row')].some((li) =>
        li.querySelector('button.vname').textContent === n &&
        /Unavailable \(sick\)/.test(li.querySelector('.vstate').textContent)), S.sick_visitor);
      await drawer.getByRole('button', { name: 'Close the panel' }).click();
      // its visits are at risk now, in the list
      for (const ref of S.theirs)
        await page.locator(`#at-risk-list li[data-ref="${ref}"]`).waitFor();
    });

    let proposal = null;
    await j.step('rebalance: the proposal shows moves, promises saved, travel and customers', async () => {
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/dispatch/rebalance'));
      await page.getByRole('button', { name: 'Rebalance the day' }).click();
      proposal = await (await answer).json();
      await page.locator('#drawer .proposal-facts').waitFor();
      const facts = await j.text(page, '#drawer .proposal-facts');
      j.check(facts.includes(`Promises saved ${proposal.promises_saved}`), `the facts say "${facts}"`);
      j.check(/Travel \d+ min now, \d+ min after/.test(facts), `no travel in "${facts}"`);
      j.check(facts.includes(`Customers affected ${proposal.customers_affected}`), `the facts say "${facts}"`);
      j.check(proposal.id, `no proposal to apply: ${JSON.stringify(proposal)}`);
      const moves = proposal.moves.filter((m) => m.from_visitor_id !== m.to_visitor_id);
      j.check(moves.length > 0, 'the proposal moves no visit');
      const rows = await page.locator('#drawer table.moves tbody tr').count();
      j.equal(rows, moves.length, 'the moves listed');
      const table = await j.text(page, '#drawer table.moves');
      for (const m of moves)
        j.check(table.includes(m.reference) && table.includes(names[m.to_visitor_id]),
          `the table lacks ${m.reference} to ${names[m.to_visitor_id]}: "${table}"`);
      await j.look(page, 'proposal');
    });

    await j.step('apply in one click: the board shows the new routes', async () => {
      await page.getByRole('button', { name: 'Apply this proposal' }).click();
      const note = page.locator('#drawer .done-note');
      await note.waitFor();
      const moves = proposal.moves.filter((m) => m.from_visitor_id !== m.to_visitor_id);
      j.check((await j.text(page, note)).startsWith(`Applied: ${moves.length} visit`),
        `the drawer says "${await j.text(page, note)}"`);
      for (const m of moves) {
        await rowOf(page, names[m.to_visitor_id]).locator(`g.stop[data-ref="${m.reference}"]`).waitFor();
        j.equal(await rowOf(page, S.sick_visitor).locator(`g.stop[data-ref="${m.reference}"]`).count(), 0,
          `${m.reference} still on the sick visitor's row`);
      }
      await page.keyboard.press('Escape');
      await j.look(page, 'after-rebalance');
    });

    await j.step('a disruption: the server\'s refusal is shown, then it is declared', async () => {
      await page.getByRole('button', { name: 'Declare a disruption' }).click();
      const drawer = page.locator('#drawer');
      await drawer.getByLabel('What is happening (sent to customers)').fill('Flooding has closed the ford on Forge Lane.');
      await drawer.getByLabel('Postcode areas').fill('ZZ2, Z!');
      j.expectStatus(page, '/api/v1/dispatch/disruptions', 400);
      await drawer.getByRole('button', { name: 'Declare the disruption' }).click();
      const err = drawer.locator('[role=alert] .error');
      await err.waitFor();
      const said = await j.text(page, err);
      j.check(/postcode/i.test(said), `the error says "${said}"`);
      await drawer.getByLabel('Postcode areas').fill('ZZ2');
      await drawer.getByRole('button', { name: 'Declare the disruption' }).click();
      const done = drawer.locator('.done-note');
      await done.waitFor();
      j.check(/^Declared: \d+ visits affected, \d+ customers told\.$/.test(await j.text(page, done)),
        `the drawer says "${await j.text(page, done)}"`);
      await page.keyboard.press('Escape');
    });
  });
});

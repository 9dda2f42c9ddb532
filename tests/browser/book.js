// book.js - journey 1, booking a visit in the browser, end to end:
//   - at 360x740 (touch), at 1366x768, and with JavaScript off (plain forms):
//     the address (autocomplete, or the search results without JavaScript),
//     the visit type, the windows by day, the held window with its
//     countdown, every field left wrong once (errors next to the fields),
//     then the booking; the confirmation with the reference, the calendar
//     button and the manage link; the customer's name
//     `<img src=x onerror=alert(1)>` shown as text everywhere;
//   - the keyboard alone completes a booking (desktop);
//   - a window taken meanwhile answers with the nearest others, and one of
//     them books;
//   - "my address isn't listed" with its errors, then sent.
// Each page state: axe (no serious or critical violation), no console error,
// nothing wider than the screen, a screenshot.
//   OTD_SCENARIO (JSON from test_pages.py): {"search": "1 mill", "address_label":
//   "1 Mill Road, Wrenfield, ZZ1 1AA", "visit_type": "Planning inspection", ...}
'use strict';
const { run } = require('./lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');
const EVIL = '<img src=x onerror=alert(1)>';

// Chooses the address: with JavaScript through the autocomplete, without it
// through the search results.
async function chooseAddress(j, page, profile, query) {
  await page.getByLabel('What is the visit for?').selectOption(String(S.visit_type_id));
  if (profile === 'nojs') {
    await page.getByLabel('Your address').fill(query);
    await page.getByRole('button', { name: 'Find my address' }).click();
    await page.waitForURL(/\/book\?/);
    await j.look(page, 'search-results');
    await page.getByLabel(S.address_label, { exact: true }).check();
    await page.getByRole('button', { name: 'Show the times' }).click();
  } else {
    await page.getByLabel('Your address').fill(query);
    const option = page.getByRole('option', { name: S.address_label });
    await option.waitFor();
    await j.look(page, 'autocomplete');
    await option.click();
  }
  await page.waitForURL(/address=\d+/);
}

run('book', async (j) => {
  await j.each(['mobile', 'desktop', 'nojs'], async (profile) => {
    const page = await j.page(profile);

    await j.step(`${profile}: the booking page opens`, async () => {
      await j.open(page, '/book');
      j.equal(await j.text(page, 'h1'), 'Book a visit', 'heading');
      await j.look(page, 'start');
    });

    await j.step(`${profile}: an empty search names the field to fix`, async () => {
      await page.getByLabel('Your address').fill('');
      j.expectStatus(page, '/book?visit_type=&q=', 400);
      await page.getByRole('button', { name: 'Find my address' }).click();
      await page.waitForSelector('#q-error');
      j.check((await j.text(page, '#q-error')).includes('Enter your postcode'), 'q error text');
      j.check((await j.text(page, '#visit_type-error')).includes('Choose what the visit is for'),
        'visit type error');
      await j.look(page, 'search-errors');
    });

    await j.step(`${profile}: the address and the visit type lead to the windows by day`, async () => {
      await chooseAddress(j, page, profile, S.search);
      j.equal(await j.text(page, 'h1'), 'Choose a time', 'heading');
      const summary = await j.text(page, 'p.summary');
      j.check(summary.includes(S.address_label), `the address in "${summary}"`);
      const day = await j.text(page, 'details.day summary h2 >> nth=0');
      j.check(/^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} [A-Z][a-z]+$/.test(day),
        `a day named en-GB: "${day}"`);
      j.check((await page.locator('button.window').count()) > 3, 'windows offered');
      j.check((await j.text(page, 'p.kept')).length > 10, 'how often such windows were kept');
      await j.look(page, 'windows');
    });

    await j.step(`${profile}: choosing a window holds it, with a countdown`, async () => {
      await page.locator('details.day[open] button.window').nth(profile === 'desktop' ? 1 : 0).click();
      await page.waitForSelector('#name');
      j.equal(await j.text(page, 'h1'), 'Your details', 'heading');
      const held = await j.text(page, 'p.held');
      j.check(/We are holding .+ for you until \d\d:\d\d/.test(held), `held: "${held}"`);
      if (profile !== 'nojs')
        await page.waitForFunction(() => /\d+:\d\d left\)$/.test(document.querySelector('.countdown').textContent));
      await j.look(page, 'details');
    });

    await j.step(`${profile}: bad input gets a message next to each field`, async () => {
      await page.getByLabel('Mobile phone number').fill('12345');
      await page.getByLabel('Email address').fill('not-an-email');
      j.expectStatus(page, '/book/confirm', 400);
      await page.getByRole('button', { name: 'Book this visit' }).click();
      await page.waitForSelector('.error-summary');
      j.check((await j.text(page, '#name-error')).includes('Enter your name'), 'name error');
      j.check((await j.text(page, '#phone-error')).includes('phone number'), 'phone error');
      j.check((await j.text(page, '#email-error')).includes('email address'), 'email error');
      j.check((await j.text(page, '#contact-error')).includes('Choose text message'), 'contact error');
      j.equal(await page.getByLabel('Email address').inputValue(), 'not-an-email', 'kept input');
      j.equal(await page.getAttribute('#phone', 'aria-invalid'), 'true', 'phone aria-invalid');
      await j.look(page, 'details-errors');
    });

    let reference = '';
    await j.step(`${profile}: the booking is made and confirmed`, async () => {
      await page.getByLabel('Your name').fill(EVIL);
      await page.getByLabel('Mobile phone number').fill(S.phones[profile]);
      await page.getByLabel('Email address').fill(`${profile}@example.org`);
      await page.getByLabel('By text message').check();
      await page.getByLabel('By email').check();
      await page.getByLabel('Access needs (optional)').fill('Please knock loudly & wait <a while>');
      await page.getByRole('button', { name: 'Book this visit' }).click();
      await page.waitForURL(/\/a\/[A-Za-z0-9_-]{22}\?booked=1$/);
      reference = await j.text(page, '.confirmation .reference');
      j.check(/^OTD-[2-9A-HJ-NP-Z]{6}$/.test(reference), `reference ${reference}`);
      j.check((await j.text(page, '.confirmation .link')).includes('/a/'), 'the manage link shown');
      const cal = page.getByRole('link', { name: 'Add to my calendar' });
      j.check(/\/api\/v1\/a\/[A-Za-z0-9_-]{22}\/ics$/.test(await cal.getAttribute('href')), 'calendar link');
      const ics = await j.api('GET', await cal.getAttribute('href'), undefined, { token: '' });
      j.equal(ics.status, 200, 'calendar file status');
      j.check(String(ics.body).includes('BEGIN:VCALENDAR'), 'an iCalendar file');
      await j.look(page, 'booked');
    });

    await j.step(`${profile}: the customer's name is text, never markup`, async () => {
      j.equal(await page.locator('main img').count(), 0, 'images in the page');
      j.check((await j.text(page, 'dl.facts')).includes(EVIL), 'the name shown as typed');
      // The dispatcher's view of it has it as data, not markup, too.
      const r = await j.api('GET', `/api/v1/appointments/${reference}`);
      j.equal(r.status, 200, 'appointment status');
      j.equal(r.body.customer.name, EVIL, 'stored name');
      j.check(r.body.customer.access_notes.includes('<a while>'), 'access needs stored');
    });
  });

  await j.each(['desktop'], async (profile) => {
    const page = await j.page(profile);
    await j.step('keyboard: the keyboard alone completes a booking', async () => {
      await j.open(page, '/book');
      await j.tabTo(page, 'What is the visit for?');
      await page.keyboard.press('ArrowDown');
      await j.typeInto(page, 'Your address', S.search);
      await page.getByRole('option', { name: S.address_label }).waitFor();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page.waitForURL(/address=\d+/);
      // The first window of the first day, by keyboard.
      const first = page.locator('details.day[open] button.window').nth(2);
      const label = await first.getAttribute('aria-label');
      await j.keyboardOnly(page, label, { max: 60 });
      await page.waitForSelector('#name');
      await j.typeInto(page, 'Your name', 'Keyboard Kay');
      await j.typeInto(page, 'Mobile phone number', S.phones.keyboard);
      await j.keyboardOnly(page, 'By text message', { key: 'Space' });
      await j.keyboardOnly(page, 'Book this visit');
      await page.waitForURL(/\/a\/[A-Za-z0-9_-]{22}\?booked=1$/);
      j.check(/^OTD-/.test(await j.text(page, '.confirmation .reference')), 'booked');
      await j.look(page, 'keyboard-booked');
    });
  });

  await j.each(['mobile'], async (profile) => {
    const page = await j.page(profile);
    await j.step('taken: a window taken meanwhile shows the nearest others', async () => {
      await j.open(page, `/book?visit_type=${S.visit_type_id}&address=${S.address_id}`);
      const button = page.locator('details.day[open] button.window').first();
      const start = await button.getAttribute('value');
      // Someone else books every visitor's place in that window first.
      for (let i = 0; i < 40; i++) {
        const h = await j.api('POST', '/api/v1/holds',
          { address: S.address_id, visit_type: S.visit_type_id, window_start: start });
        if (h.status !== 201)
          break;
        const b = await j.api('POST', '/api/v1/appointments', { hold: h.body.hold,
          name: `Other ${i}`, phone: `07700 9009${String(10 + i).padStart(2, '0')}`, consent: { sms: false, email: false } });
        j.equal(b.status, 201, `the other booking ${i}: ${JSON.stringify(b.body)}`);
      }
      j.expectStatus(page, '/book/hold', 409);
      await button.click();
      await page.waitForSelector('.notice[role=alert]');
      j.check((await j.text(page, '.notice[role=alert]')).includes('someone took that time'),
        'says the time went');
      const alts = page.locator('.notice button.window');
      j.check((await alts.count()) >= 1, 'nearest windows offered');
      await j.look(page, 'window-taken');
      await alts.first().click();
      await page.waitForSelector('#name');
      await page.getByLabel('Your name').fill('Second Choice');
      await page.getByLabel('Email address').fill('second@example.org');
      await page.getByLabel('By email').check();
      await page.getByRole('button', { name: 'Book this visit' }).click();
      await page.waitForURL(/\?booked=1$/);
    });

    await j.step('unlisted: "my address isn\'t listed" goes to the office', async () => {
      await j.open(page, '/book');
      await page.getByRole('link', { name: "My address isn't listed" }).click();
      await page.waitForURL(/\/book\/unlisted/);
      await j.look(page, 'unlisted');
      j.expectStatus(page, '/book/unlisted', 400);
      await page.getByRole('button', { name: 'Send to our office' }).click();
      await page.waitForSelector('.error-summary');
      j.check((await j.text(page, '#address-error')).length > 5, 'address error');
      await j.look(page, 'unlisted-errors');
      await page.getByLabel('The full address').fill('Flat 9, The New Mill, Wrenfield ZZ9 9ZZ');
      await page.getByLabel('Your name').fill(EVIL);
      await page.getByLabel('Phone number').fill('07700 900999');
      await page.getByRole('button', { name: 'Send to our office' }).click();
      await page.waitForSelector('h1:has-text("Thank you")');
      await j.look(page, 'unlisted-sent');
    });
  });
});

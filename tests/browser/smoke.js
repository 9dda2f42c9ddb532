// smoke.js - the harness itself, on the pages that every server has: the
// index page and the JSON 404 of an unknown page, at 360x740 (touch), at
// 1366x768 and with JavaScript off. Each: no console error, no serious or
// critical axe violation, nothing wider than the screen, a screenshot; the
// keyboard alone follows a link (JavaScript on), a tap follows one (off).
//   NODE_PATH=<scratch>/node_modules node tests/browser/smoke.js BASE_URL OUT_DIR
'use strict';
const { run } = require('./lib');

run('smoke', async (j) => {
  await j.each(['mobile', 'desktop', 'nojs'], async (profile) => {
    const page = await j.page(profile);

    await j.step(`${profile}: the index page renders`, async () => {
      await j.open(page, '/');
      j.equal(await page.title(), 'onthedot', 'title');
      j.equal(await j.text(page, 'h1'), 'onthedot', 'heading');
      j.equal(await page.getAttribute('html', 'lang'), 'en-GB', 'language');
      await j.look(page, 'index');
    });

    if (profile === 'nojs') {
      await j.step(`${profile}: a tap on "Health" follows the link`, async () => {
        await page.getByRole('link', { name: 'Health' }).tap();
        await page.waitForURL('**/healthz');
      });
    } else {
      await j.step(`${profile}: the keyboard alone reaches and follows the API link`, async () => {
        await j.keyboardOnly(page, 'API document (OpenAPI 3)');
        await page.waitForURL('**/api/v1/openapi.json');
        const doc = JSON.parse(await j.text(page, 'body pre'));
        j.check(doc.openapi && doc.openapi.startsWith('3.'), 'an OpenAPI 3 document');
      });
    }

    await j.step(`${profile}: an unknown page answers 404 with a JSON error`, async () => {
      const r = await j.open(page, '/no-such-page', { status: 404 });
      const body = await r.json();
      j.equal(body.error && body.error.code, 'not_found', 'error code');
      j.equal(await j.text(page, 'body pre'), JSON.stringify(body), 'the body shown');
      // The document is Chromium's own view of a JSON body: its missing
      // <title> and lang are the browser's, not the server's.
      await j.look(page, 'not-found', { disable: ['document-title', 'html-has-lang'] });
    });
  });
});

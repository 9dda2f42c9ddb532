// public.js - journey 6 and the privacy notice, at 360x740 (touch), at
// 1366x768 and with JavaScript off: /trust shows promises kept by window
// width as readable SVG charts (role img, a title), the median notice, the
// compensation paid, and the published feedback after moderation (the
// redacted text, never the words withheld, the number withheld); /privacy
// reads as a page; the home page links both.
// OTD_SCENARIO (JSON from test_pages.py): {"published": "...", "redacted": "...",
//   "withheld_text": "...", "withheld": 1, "paid": "£40.00"}
'use strict';
const { run } = require('./lib');

const S = JSON.parse(process.env.OTD_SCENARIO || '{}');

run('public', async (j) => {
  await j.each(['mobile', 'desktop', 'nojs'], async (profile) => {
    const page = await j.page(profile);

    await j.step(`${profile}: the trust page`, async () => {
      await j.open(page, '/trust');
      j.equal(await j.text(page, 'h1'), 'How well we keep our promises', 'heading');
      const charts = page.locator('figure.chart svg[role=img]');
      j.check((await charts.count()) >= 2, 'charts drawn');
      const name = await charts.first().evaluate((svg) => {
        const id = svg.getAttribute('aria-labelledby').split(' ')[0];
        return document.getElementById(id).textContent;
      });
      j.check(/Promises kept in the last 30 days/.test(name), `chart name: ${name}`);
      const figures = await j.text(page, 'section.period >> nth=0');
      j.check(/\d+% of promised windows kept/.test(figures), `kept: ${figures}`);
      j.check(figures.includes('median notice before a delay'), 'median notice');
      j.check(figures.includes(`${S.paid} compensation paid`), `paid ${S.paid}: ${figures}`);
      const said = await j.text(page, 'ul.feedback-list');
      j.check(said.includes(S.published), 'the published comment');
      j.check(said.includes(S.redacted), 'the redacted comment');
      j.check(!said.includes(S.withheld_text), 'nothing of the withheld comment');
      j.check((await j.text(page, 'main')).includes(`we withheld ${S.withheld} comment`), 'withheld count');
      j.equal(await page.locator('main img').count(), 0, 'no markup from comments');
      await j.look(page, 'trust');
    });

    await j.step(`${profile}: the privacy notice`, async () => {
      await j.open(page, '/');
      await page.getByRole('link', { name: 'How we use your details' }).click();
      await page.waitForURL(/\/privacy$/);
      j.equal(await j.text(page, 'h1'), 'How we use your details', 'heading');
      j.check((await j.text(page, 'main')).includes('never sell your details'), 'the notice');
      await j.look(page, 'privacy');
    });
  });
});

// Measures, in Chromium, how long the console's card look-up (click to rendered result) and
// dashboard (page load to rendered charts) take against a running server, from the marks the
// console itself sets with the Performance API. It reports, never judges:
//
//   node console/e2e/measure.mjs http://127.0.0.1:8080 5425:484765 1782:467458 ...
//
// Each further argument is a card to look up, as last4:iin.
import { chromium } from 'playwright-core';

const [base, ...cards] = process.argv.slice(2);
if (!base || cards.length === 0) {
  console.error('usage: node measure.mjs BASE_URL LAST4:IIN...');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
    '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
const measure = async (name) => {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout: 60000 });
  return page.evaluate((n) => performance.getEntriesByName(n).at(-1).duration, name);
};
await page.goto(`${base}/console/cards`);
await page.locator('#last4').waitFor();
const lookups = [];
for (const c of cards) {
  const [last4, iin] = c.split(':');
  await page.evaluate(() => performance.clearMeasures());
  await page.fill('#last4', last4);
  await page.fill('#iin', iin ?? '');
  await page.click('button[type=submit]');
  lookups.push(await measure('console:lookup'));
}
const dashboards = [];
for (let i = 0; i < 5; i++) {
  await page.goto(`${base}/console/dashboard`);
  await page.locator('main[data-rendered="dashboard"]').waitFor({ timeout: 60000 });
  dashboards.push(await measure('console:dashboard'));
}
await browser.close();
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const show = (a) => `${a.map((x) => x.toFixed(0)).join(' ')} (median ${median(a).toFixed(0)})`;
console.log(`look-up, click to rendered, ms: ${show(lookups)}`);
console.log(`dashboard, load to rendered, ms: ${show(dashboards)}`);

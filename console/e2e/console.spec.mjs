// End-to-end test of the console in headless Chromium, against a real server on demo data:
// the embedded store and PostgreSQL, in open mode and with bearer tokens. Run with
// `npm run test:e2e` (node e2e/run.mjs). Needs Go (or PORTFOLIO_GRAPH_BIN), /usr/bin/chromium,
// and for PostgreSQL TEST_DATABASE_URL (mandatory under CI=true).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shots = join(resolve(repo, process.env.CI_ARTIFACTS || 'artifacts'), 'console');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'console-e2e-'));
const secret = 'console-e2e-secret-0123456789abcdef0123456789';
const timings = [];

function binary() {
  if (process.env.PORTFOLIO_GRAPH_BIN) return process.env.PORTFOLIO_GRAPH_BIN;
  const bin = join(work, 'portfolio-graph');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit' });
  return bin;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Starts the server and waits for /readyz. */
async function startServer(bin, databaseURL, { demo = false, authSecret = null } = {}) {
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: databaseURL, LOG_LEVEL: 'warn' };
  delete env.AUTH_JWT_SECRET;
  if (authSecret) env.AUTH_JWT_SECRET = authSecret;
  const args = ['-listen', `127.0.0.1:${port}`];
  if (demo) args.push('-demo');
  const proc = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (b) => (log += b));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${log}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, proc, log: () => log };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  proc.kill();
  throw new Error(`server not ready: ${log}`);
}

function stopServer(s) {
  if (!s || s.proc.exitCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    s.proc.once('exit', ok);
    s.proc.kill('SIGTERM');
  });
}

function mint(bin, role, org, ttl = '1h') {
  return execFileSync(bin, ['token', '-role', role, '-org', org, '-ttl', ttl, '-sub', `${role}-${org}`], {
    env: { ...process.env, AUTH_JWT_SECRET: secret },
  })
    .toString()
    .trim();
}

/** A token signed with the right secret that expired an hour ago (the token command refuses a negative ttl). */
function expiredToken(org) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'expired', role: 'reader', orgs: [org], iat: now - 7200, exp: now - 3600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

async function api(server, query, variables = {}, token = null) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${server.url}/query`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

const lookupCount = `query($f: CardFilter!) { cards(filter: $f, first: 500) { nodes { sourceCustomerId customer { organizationId } } } }`;

const statsQuery = `query($filter: CustomerFilter) { portfolioStats(filter: $filter) {
  customers accounts cards
  customersByEnrollmentOptInStatus { key count } customersByTargetingIndicator { key count }
  accountsByType { key count } accountsByStatus { key count }
  cardsByNetwork { key count } cardsByStatus { key count } enrollmentsByMonth { key count } } }`;

let browser;
let bin;

before(async () => {
  bin = binary();
  browser = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Record every Content-Security-Policy violation the page meets.
  await browser.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
});

after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
  for (const t of timings) console.log(`console e2e timing (reported, not asserted): ${t}`);
});

/** A fresh tab (fresh sessionStorage) that fails the test on page errors and CSP violations. */
async function open(t) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  t.after(async () => {
    const csp = await page.evaluate(() => window.__csp).catch(() => []);
    await page.close();
    assert.deepEqual([...problems, ...csp.map((c) => `CSP violation: ${c}`)], []);
  });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function measure(page, name) {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name);
  return page.evaluate((n) => performance.getEntriesByName(n).at(-1).duration, name);
}

const stores = ['sqlite'];
if (process.env.TEST_DATABASE_URL) stores.push('postgres');
else if (process.env.CI === 'true') {
  test('PostgreSQL is configured', () => assert.fail('TEST_DATABASE_URL is not set: under CI=true the PostgreSQL run must happen'));
}

for (const store of stores) {
  describe(`console on ${store}`, () => {
    let openSrv;
    let authSrv;
    let dbURL;
    let pgDrop = null;
    // Demo data found through the API.
    let card; // a card whose last4+iin match only it
    let several; // a last4 that matches several cards
    const isolation = {}; // a card only organization A sees, and one B sees

    before(async () => {
      if (store === 'sqlite') {
        dbURL = join(work, `${store}.db`);
      } else {
        const base = new URL(process.env.TEST_DATABASE_URL);
        const name = `console_e2e_${process.pid}_${Date.now()}`;
        execFileSync('psql', [base.toString(), '-qc', `CREATE DATABASE ${name}`]);
        const u = new URL(base);
        u.pathname = `/${name}`;
        dbURL = u.toString();
        pgDrop = () => execFileSync('psql', [base.toString(), '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
      }
      openSrv = await startServer(bin, dbURL, { demo: true });
      // The same database behind a server that verifies bearer tokens.
      authSrv = await startServer(bin, dbURL, { authSecret: secret });

      const c1 = await api(openSrv, `{ customer(sourceCustomerId: "DEMO-C000001") { cards { last4 iin sourceCustomerId } } }`);
      for (const c of c1.customer.cards) {
        const n = (await api(openSrv, lookupCount, { f: { last4: c.last4, iin: c.iin } })).cards.nodes.length;
        if (n === 1) {
          card = c;
          break;
        }
      }
      assert.ok(card, 'a demo card with a unique last4 and IIN');
      const page = await api(openSrv, `{ cards(first: 500) { nodes { last4 } } }`);
      const byLast4 = new Map();
      for (const { last4 } of page.cards.nodes) byLast4.set(last4, (byLast4.get(last4) ?? 0) + 1);
      several = [...byLast4].find(([, n]) => n > 1)?.[0];
      assert.ok(several, 'a last4 shared by several demo cards');

      // A card of organization 50001 whose account has no holder elsewhere, and whose last4 and
      // IIN match no card that organization 50002 may see.
      const readerB = mint(bin, 'reader', '50002');
      const a = await api(openSrv, `{ customers(filter: {organizationIds: ["50001"]}, first: 100) { nodes { sourceCustomerId
        cards { last4 iin account { sourceCustomerIds } } } } }`);
      for (const cust of a.customers.nodes) {
        for (const c of cust.cards) {
          if (c.account.sourceCustomerIds.length !== 1) continue;
          const seenByB = (await api(authSrv, lookupCount, { f: { last4: c.last4, iin: c.iin } }, readerB)).cards.nodes.length;
          if (seenByB === 0) {
            isolation.a = { ...c, holder: cust.sourceCustomerId };
            break;
          }
        }
        if (isolation.a) break;
      }
      assert.ok(isolation.a, 'a card only organization 50001 sees');
      const b = await api(authSrv, `{ cards(first: 1, filter: {organizationIds: ["50002"]}) { nodes { last4 iin sourceCustomerId } } }`, {}, readerB);
      isolation.b = b.cards.nodes[0];
      assert.ok(isolation.b, 'a card organization 50002 sees');
      isolation.readerB = readerB;
    });

    after(async () => {
      await stopServer(openSrv);
      await stopServer(authSrv);
      pgDrop?.();
    });

    test('the console is served with a strict policy and index.html for every view', async () => {
      for (const path of ['/console/', '/console/cards?last4=1234', '/console/customers/DEMO-C000001', '/console/dashboard']) {
        const res = await fetch(openSrv.url + path);
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/);
        assert.equal(res.headers.get('cache-control'), 'no-cache');
        assert.match(await res.text(), /<main id="main"/);
      }
    });

    test('open mode: look up a known demo card and open its customer', async (t) => {
      const page = await open(t);
      await page.goto(`${openSrv.url}/console/cards`);
      await page.getByText('open mode').waitFor();
      await page.fill('#last4', card.last4);
      await page.fill('#iin', card.iin);
      const requests = [];
      page.on('request', (r) => r.url().endsWith('/query') && requests.push(r));
      await page.click('button[type=submit]');
      const row = page.locator(`tr[data-card$="/${card.sourceCustomerId}/${card.last4}"]`);
      await row.waitFor();
      const ms = await measure(page, 'console:lookup');
      timings.push(`${store} look-up ${ms.toFixed(1)} ms (click to rendered)`);
      assert.equal(requests.length, 1, 'the look-up is one GraphQL request');
      assert.match(await page.locator('#results .summary').innerText(), /^One card ending in/);
      assert.equal(new URL(page.url()).search, `?last4=${card.last4}&iin=${card.iin}`);
      await shot(page, `${store}-lookup-one`);
      await row.locator('td').first().click();
      await page.waitForURL(`**/console/customers/${card.sourceCustomerId}`);
      await page.locator(`[data-customer="${card.sourceCustomerId}"]`).waitFor();
      assert.match(await page.locator('main').innerText(), /Last changed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      await shot(page, `${store}-customer`);
    });

    test('zero and several matches read clearly; bad input is refused before sending', async (t) => {
      const page = await open(t);
      await page.goto(`${openSrv.url}/console/cards`);
      let sent = 0;
      page.on('request', (r) => r.url().endsWith('/query') && sent++);
      await page.fill('#last4', '12a');
      await page.fill('#iin', '1234567');
      await page.click('button[type=submit]');
      assert.match(await page.locator('#last4-error').innerText(), /exactly 4 digits/);
      assert.match(await page.locator('#iin-error').innerText(), /6 or 8 digits/);
      assert.equal(await page.getAttribute('#last4', 'aria-invalid'), 'true');
      await shot(page, `${store}-lookup-invalid`);
      assert.equal(sent, 0, 'nothing is sent for invalid input');

      await page.fill('#last4', card.last4);
      await page.fill('#iin', '12345678');
      await page.click('button[type=submit]');
      await page.locator('#results [data-count="0"]').waitFor();
      assert.match(await page.locator('#results').innerText(), new RegExp(`No card ending in ${card.last4} with IIN 12345678`));
      await shot(page, `${store}-lookup-none`);

      const want = (await api(openSrv, lookupCount, { f: { last4: several } })).cards.nodes.length;
      await page.fill('#last4', several);
      await page.fill('#iin', '');
      await page.click('button[type=submit]');
      await page.locator(`#results [data-count="${want}"]`).waitFor();
      assert.equal(await page.locator('#results tbody tr').count(), want);
      assert.match(await page.locator('#results .summary').innerText(), new RegExp(`^${want} cards ending in ${several}\\.`));
      await shot(page, `${store}-lookup-several`);
    });

    test('a joint account shows both holders, linked', async (t) => {
      const page = await open(t);
      await page.goto(`${openSrv.url}/console/customers/DEMO-C000007`);
      const joint = page.locator('[data-account="DEMO-J000007"]');
      await joint.waitFor();
      assert.match(await joint.innerText(), /joint · 2 holders/i);
      assert.equal(await joint.locator('li[data-holder]').count(), 2);
      const other = joint.locator('li[data-holder="DEMO-C000006"] a');
      assert.equal(await other.getAttribute('href'), '/console/customers/DEMO-C000006');
      await shot(page, `${store}-customer-joint`);
      await other.click();
      await page.locator('[data-customer="DEMO-C000006"]').waitFor();
      assert.equal(await page.locator('[data-account="DEMO-J000007"] li[data-holder]').count(), 2);
    });

    test('the dashboard shows portfolioStats exactly', async (t) => {
      const page = await open(t);
      await page.goto(`${openSrv.url}/console/dashboard`);
      await page.locator('main[data-rendered="dashboard"]').waitFor();
      const ms = await measure(page, 'console:dashboard');
      timings.push(`${store} dashboard ${ms.toFixed(1)} ms (page load to rendered)`);
      await shot(page, `${store}-dashboard`);
      const check = async (filter) => {
        const want = (await api(openSrv, statsQuery, { filter })).portfolioStats;
        const shown = await page.evaluate(() => {
          const out = {};
          for (const el of document.querySelectorAll('.totals [data-total]')) out[el.dataset.total] = Number(el.querySelector('.total-value').textContent.replaceAll(',', ''));
          for (const p of document.querySelectorAll('[data-stat]')) {
            out[p.dataset.stat] = [...p.querySelectorAll('tbody tr[data-key]')].map((tr) => ({ key: tr.dataset.key, count: Number(tr.querySelector('[data-count]').dataset.count) }));
          }
          return out;
        });
        assert.deepEqual(shown, want);
        for (const [k, v] of Object.entries(want)) {
          if (!Array.isArray(v)) continue;
          const total = await page.locator(`[data-stat="${k}"] tfoot [data-total]`).getAttribute('data-total');
          assert.equal(Number(total), v.reduce((s, b) => s + b.count, 0), k);
        }
      };
      await check(null);
      // The chooser lists the organizations of an all-organizations caller.
      const orgs = await page.locator('#org option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
      assert.deepEqual(orgs, ['50001', '50002', '50003', '50004', '50005']);
      await page.selectOption('#org', '50003');
      await page.waitForURL('**/console/dashboard?org=50003');
      await page.locator('main[data-rendered="dashboard"] .totals').waitFor();
      await page.waitForFunction(() => document.querySelector('#org')?.value === '50003');
      await check({ organizationIds: ['50003'] });
      await shot(page, `${store}-dashboard-org`);
    });

    test('deep links load directly', async (t) => {
      const page = await open(t);
      await page.goto(`${openSrv.url}/console/cards?last4=${card.last4}&iin=${card.iin}`);
      await page.locator(`tr[data-card$="/${card.sourceCustomerId}/${card.last4}"]`).waitFor();
      assert.equal(await page.inputValue('#last4'), card.last4);
      await page.goto(`${openSrv.url}/console/customers/DEMO-C000021`);
      await page.locator('[data-customer="DEMO-C000021"]').waitFor();
      assert.ok((await page.locator('[data-children]').count()) === 1, 'DEMO-C000021 is a business with sub-customers');
      await shot(page, `${store}-customer-children`);
      await page.goto(`${openSrv.url}/console/dashboard?org=50002`);
      await page.locator('main[data-rendered="dashboard"]').waitFor();
      assert.equal(await page.inputValue('#org'), '50002');
      await page.goBack();
      await page.locator('[data-customer="DEMO-C000021"]').waitFor();
    });

    test('a reader of one organization never sees another organization\'s card or customer', async (t) => {
      const page = await open(t);
      await page.goto(`${authSrv.url}/console/cards?last4=${isolation.a.last4}&iin=${isolation.a.iin}`);
      await page.locator('#token').waitFor();
      await shot(page, `${store}-signin`);
      await page.fill('#token', isolation.readerB);
      await page.click('button[type=submit]');
      await page.locator('[data-role="READER"]').waitFor();
      assert.match(await page.locator('#who').innerText(), /reader-50002 · READER · organization 50002/i);
      // The deep link survives sign-in, and the other organization's card is not shown.
      await page.locator('#results [data-count="0"]').waitFor();
      const text = await page.locator('main').innerText();
      assert.ok(!text.includes(isolation.a.holder), 'the other organization\'s holder is not shown');
      await shot(page, `${store}-reader-hidden-card`);
      await page.goto(`${authSrv.url}/console/customers/${encodeURIComponent(isolation.a.holder)}`);
      await page.getByText(`No customer ${isolation.a.holder} is visible to you.`).waitFor();
      // The reader's own organization's card is found (the look-up works for this token).
      await page.click('nav a[href="/console/cards"]');
      await page.fill('#last4', isolation.b.last4);
      await page.fill('#iin', isolation.b.iin);
      await page.click('button[type=submit]');
      await page.locator(`tr[data-card$="/${isolation.b.sourceCustomerId}/${isolation.b.last4}"]`).waitFor();
      await shot(page, `${store}-reader-own-card`);
    });

    test('an expired token leads to sign-in', async (t) => {
      const page = await open(t);
      await page.goto(`${authSrv.url}/console/cards`);
      await page.fill('#token', expiredToken('50002'));
      await page.click('button[type=submit]');
      await page.getByText('The server refused this token.').waitFor();
      assert.match(await page.locator('main').innerText(), /expired.*\(error code UNAUTHENTICATED\)/s);
      // A token that expires while in use: the next request leads to "Sign in again".
      await page.fill('#token', mint(bin, 'reader', '50002'));
      await page.click('button[type=submit]');
      await page.locator('#last4').waitFor();
      await page.evaluate((tok) => sessionStorage.setItem('portfolio-graph.console.token', tok), expiredToken('50002'));
      await page.fill('#last4', isolation.b.last4);
      await page.click('button[type=submit]');
      await page.getByRole('heading', { name: 'Sign in again' }).waitFor();
      assert.match(await page.locator('#signin-reason').innerText(), /Your session has ended\. The token has expired\. Sign in again/);
      assert.equal(await page.evaluate(() => sessionStorage.getItem('portfolio-graph.console.token')), null);
      assert.ok(!page.url().includes('eyJ'), 'no token in the URL');
      await shot(page, `${store}-signin-again`);
      // Reloading with the expired token kept would ask again too.
      await page.evaluate((tok) => sessionStorage.setItem('portfolio-graph.console.token', tok), expiredToken('50002'));
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in again' }).waitFor();
    });
  });
}

// Drives the playground in a real Chromium: run by TestPlaygroundInBrowser (playground_browser_test.go),
// which starts the servers and passes them in the environment:
//
//   PLAYGROUND_URL       a server in open mode with the demo portfolio
//   AUTH_PLAYGROUND_URL  a server that checks bearer tokens; ADMIN_TOKEN is one it accepts
//   CHROMIUM             the browser (default /usr/bin/chromium)
//   ARTIFACTS            folder for the screenshots
//   INTROSPECTION_OUT    file to write the introspection query GraphiQL sent
//
// Every request of every page is recorded, and any URL not on the server's origin fails the
// run (and is aborted, so nothing leaves the machine). Exits non-zero on the first failure.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const TIMEOUT = 60_000; // waits, not assertions: the machine may be busy

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

let passed = 0;
let currentPage = null; // shown in a screenshot when a step fails
function ok(what) {
  passed++;
  console.log(`ok ${passed} - ${what}`);
}

async function main() {
  const artifacts = env('ARTIFACTS');
  fs.mkdirSync(artifacts, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playground-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    await openMode(context, env('PLAYGROUND_URL'), artifacts);
    await authMode(context, env('AUTH_PLAYGROUND_URL'), env('ADMIN_TOKEN'));
  } catch (err) {
    if (currentPage && !currentPage.isClosed()) {
      const shot = path.join(artifacts, 'playground-failure.png');
      await currentPage.screenshot({ path: shot }).catch(() => {});
      console.error(`screenshot of the failure: ${shot}`);
    }
    throw err;
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, 0 failed`);
}

// watch records every request of page and fails on any that leaves origin, on a page error
// and on a Content-Security-Policy violation.
async function watch(context, origin) {
  const requests = [];
  const problems = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin !== origin && !url.startsWith('data:')) {
      problems.push(`request outside the server's origin: ${url}`);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  const page = await context.newPage();
  currentPage = page;
  page.on('request', (r) => requests.push(r));
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  page.setDefaultTimeout(TIMEOUT);
  const check = (stage) => {
    for (const r of requests) {
      const url = r.url();
      if (new URL(url).origin !== origin && !url.startsWith('data:')) problems.push(`request outside the server's origin: ${url}`);
    }
    if (problems.length) throw new Error(`${stage}:\n  ${[...new Set(problems)].join('\n  ')}`);
  };
  return { page, requests, check };
}

// introspections are the bodies of the introspection requests page sent.
function introspections(requests) {
  return requests
    .filter((r) => r.method() === 'POST' && (r.postData() || '').includes('__schema'))
    .map((r) => JSON.parse(r.postData()));
}

async function docsShowRootTypes(page) {
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.getByText('Root Types').waitFor();
  await docs.locator('a', { hasText: /^Query$/ }).first().waitFor();
  await docs.locator('a', { hasText: /^Mutation$/ }).first().waitFor();
}

async function runDefaultQuery(page, want) {
  await page.locator('.graphiql-execute-button').click();
  const response = page.locator('.graphiql-response');
  for (const text of want) {
    await response.getByText(text).first().waitFor();
  }
}

async function openMode(context, base, artifacts) {
  const origin = new URL(base).origin;
  const { page, requests, check } = await watch(context, origin);
  const resp = await page.goto(base);
  if (resp.status() !== 200) throw new Error(`GET ${base}: ${resp.status()}`);
  await page.locator('.graphiql-container').waitFor();
  ok('GraphiQL renders');

  await docsShowRootTypes(page);
  ok('the Docs explorer shows the root types Query and Mutation');
  await page.screenshot({ path: path.join(artifacts, 'playground-docs.png') });

  // The docs of the Query type lead to its fields.
  await page.locator('.graphiql-doc-explorer a', { hasText: /^Query$/ }).first().click();
  await page.locator('.graphiql-doc-explorer a', { hasText: /^customers$/ }).first().waitFor();
  ok('the Docs explorer lists the fields of Query');

  await runDefaultQuery(page, ['"sourceCustomerId"', '"DEMO-C', '"totalCount": 1000']);
  ok('the default query runs and shows demo data');
  const shot = path.join(artifacts, 'playground.png');
  await page.screenshot({ path: shot });
  ok(`screenshot ${shot}`);

  // Autocompletion from the schema: typing a field prefix offers the schema's fields.
  await page.locator('.graphiql-query-editor .CodeMirror').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('{ portf', { delay: 50 });
  await page.locator('.CodeMirror-hints').getByText('portfolioStats').first().waitFor();
  ok('autocompletion offers portfolioStats');

  const sent = introspections(requests);
  if (sent.length === 0) throw new Error('GraphiQL sent no introspection query');
  if (process.env.INTROSPECTION_OUT) fs.writeFileSync(process.env.INTROSPECTION_OUT, sent[0].query);

  check('open mode');
  const own = requests.filter((r) => r.url().startsWith(origin)).length;
  ok(`all ${requests.length} requests of the page went to ${origin} (${own} to the server)`);
  await page.close();
  await context.unrouteAll();
}

async function authMode(context, base, token) {
  const origin = new URL(base).origin;
  const { page, requests, check } = await watch(context, origin);
  // Without a token the server answers 401; the playground still renders.
  const refused = page.waitForResponse((r) => r.url().endsWith('/query') && r.status() === 401);
  await page.goto(base);
  await page.locator('.graphiql-container').waitFor();
  await refused;
  ok('without a token, introspection is refused with 401');

  await page.locator('#token').fill(token);
  await page.locator('#token').press('Enter');
  await docsShowRootTypes(page);
  ok('with the token pasted, the Docs explorer shows the root types');
  await runDefaultQuery(page, ['"role": "ADMIN"', '"totalCount": 0']);
  ok('the default query runs with the token');

  const withToken = requests.filter((r) => r.url().endsWith('/query') && r.headers().authorization === `Bearer ${token}`);
  if (withToken.length < 2) throw new Error(`want the introspection and the query sent with the token, got ${withToken.length} requests`);
  ok('the token is sent as Authorization: Bearer');
  check('auth mode');
  await page.close();
}

main().catch((err) => {
  console.error(`not ok - ${err.stack || err}`);
  console.log(`${passed} passed, 1 failed`);
  process.exit(1);
});

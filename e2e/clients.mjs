// Runs the server's common operations through the client libraries its users run: Apollo
// Client 3 and 4 (InMemoryCache, HttpLink) and urql (@urql/core with its default exchanges and
// Accept header). Prints one line per check:
//
//   ok <client> <check>
//   error <client> <check>: <what went wrong>
//
// and exits 1 when a check failed. Used by TestRealClients (clients_test.go); by hand:
// `node --conditions=development e2e/clients.mjs http://127.0.0.1:8080/query` against an empty
// server in open mode. Apollo Client 4 prints its warnings only in its development build, which
// bundlers pick in development by the "development" export condition, and Node by that flag.
//
//   URL    the GraphQL endpoint; its store must not hold testdata/reference-example.json yet
//   TOKEN  sent as "Authorization: Bearer TOKEN" if set (an admin's: the checks ingest)
//   ROLE   the role the viewer query must answer (default ADMIN, as in open mode)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const url = process.argv[2];
if (!url || !process.execArgv.includes('--conditions=development')) {
  console.error('usage: node --conditions=development clients.mjs URL');
  process.exit(2);
}
const headers = process.env.TOKEN ? { authorization: `Bearer ${process.env.TOKEN}` } : {};
const role = process.env.ROLE || 'ADMIN';
const reference = JSON.parse(fs.readFileSync(path.join(here, '..', 'testdata', 'reference-example.json'), 'utf8'));
const customerId = reference.customers[0].sourceCustomerId;
const accountId = reference.customers[0].accounts[0].sourceAccountId;
const last4 = reference.customers[0].accounts[0].cards[0].last4;

// What Apollo and urql print through console.warn / console.error, to find cache warnings;
// shown with a check that fails.
const printed = [];
for (const level of ['warn', 'error']) {
  console[level] = (...args) => printed.push(args.map(String).join(' '));
}

let failed = false;
async function check(name, fn) {
  const before = printed.length;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('no final result within 10 s')), 10_000);
  });
  try {
    await Promise.race([fn(), timeout]);
    console.log(`ok ${name}`);
  } catch (err) {
    failed = true;
    console.log(`error ${name}: ${(err && err.stack) || err}`);
    for (const p of printed.slice(before)) console.log(`  printed: ${p}`);
  } finally {
    clearTimeout(timer);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function same(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  assert(g === w, `${what}: got ${g}, want ${w}`);
}

const documents = {
  ingest: `mutation Ingest($customers: [CustomerInput!]!) {
    ingestCustomers(customers: $customers) {
      summary { customers { created updated } accounts { created } cards { created } }
      userErrors { path code message }
      customers { id sourceCustomerId }
    }
  }`,
  update: `mutation Update($id: String!, $postalCode: String!) {
    updateCustomer(sourceCustomerId: $id, patch: {postalCode: $postalCode}) {
      customer { id sourceCustomerId postalCode }
      userErrors { path code message }
    }
  }`,
  customers: `query Customers {
    customers(first: 10) {
      totalCount
      nodes { id sourceCustomerId accounts { id sourceAccountId cards { id last4 } } }
    }
  }`,
  deferred: `query Deferred($id: String!) {
    customer(sourceCustomerId: $id) { id sourceCustomerId ...CustomerAccounts @defer }
  }
  fragment CustomerAccounts on Customer { accounts { id sourceAccountId cards { id last4 } } }`,
  viewerA: `query ViewerRole { viewer { role subject } }`,
  viewerB: `query ViewerOrganizations { viewer { role organizationIds } }`,
  statsA: `query StatsCounts { portfolioStats { customers accounts } }`,
  statsB: `query StatsCards { portfolioStats { cards customersByCountry { key count } } }`,
  badInput: `query BadLast4 { cards(filter: {last4: "234"}) { totalCount } }`,
};

// The customers query's answer once the reference example is ingested.
function checkCustomers(data) {
  const c = data.customers;
  assert(c.totalCount === 1 && c.nodes.length === 1, `customers: ${JSON.stringify(c)}`);
  const n = c.nodes[0];
  assert(n.sourceCustomerId === customerId && n.accounts.length === 1, `customer: ${JSON.stringify(n)}`);
  const a = n.accounts[0];
  assert(a.sourceAccountId === accountId && a.cards.length === 1 && a.cards[0].last4 === last4, `account: ${JSON.stringify(a)}`);
}

function checkDeferred(data) {
  const c = data.customer;
  assert(c && c.sourceCustomerId === customerId, `customer: ${JSON.stringify(c)}`);
  assert(Array.isArray(c.accounts) && c.accounts.length === 1 && c.accounts[0].sourceAccountId === accountId,
    `the deferred fragment's accounts: ${JSON.stringify(c)}`);
  assert(c.accounts[0].cards.length === 1 && c.accounts[0].cards[0].last4 === last4, `cards: ${JSON.stringify(c.accounts[0])}`);
}

const cacheWarning = /Cache data may be lost/;

// Apollo Client 3 and 4 differ in where they are imported from, how @defer is enabled and how
// a GraphQL error reaches the caller; the checks are the same.
function apollo(version) {
  if (version === 3) {
    const a = require('apollo-client-3/core');
    require('apollo-client-3/dev').loadDevMessages();
    require('apollo-client-3/dev').loadErrorMessages();
    return {
      ...a,
      options: {},
      codeOf: (err) => err.graphQLErrors && err.graphQLErrors[0] && err.graphQLErrors[0].extensions.code,
    };
  }
  const a = require('@apollo/client');
  const { Defer20220824Handler } = require('@apollo/client/incremental');
  require('@apollo/client/dev').loadDevMessages();
  require('@apollo/client/dev').loadErrorMessages();
  return {
    ...a,
    options: { incrementalHandler: new Defer20220824Handler() },
    codeOf: (err) => a.CombinedGraphQLErrors.is(err) && err.errors[0] && err.errors[0].extensions.code,
  };
}

const typePolicies = { Viewer: { keyFields: [] }, PortfolioStats: { merge: true } };

async function apolloChecks(version) {
  const A = apollo(version);
  const name = `apollo${version}`;
  const client = (policies) =>
    new A.ApolloClient({
      link: new A.HttpLink({ uri: url, headers }),
      cache: new A.InMemoryCache(policies ? { typePolicies: policies } : {}),
      ...A.options,
    });
  const c = client(typePolicies);
  const q = (doc, variables) => c.query({ query: A.gql(doc), variables, fetchPolicy: 'network-only' });

  // Version 3 ingests the reference example; version 4 finds it there (updated 0, unchanged).
  await check(`${name} mutation`, async () => {
    const { data } = await c.mutate({ mutation: A.gql(documents.ingest), variables: { customers: reference.customers } });
    const r = data.ingestCustomers;
    same(r.userErrors, [], 'ingestCustomers userErrors');
    same(r.customers.map((x) => x.sourceCustomerId), [customerId], 'ingested customers');
    const created = version === 3 ? 1 : 0;
    same([r.summary.customers.created, r.summary.customers.updated], [created, 0], 'summary.customers created, updated');
    const postal = `7875${version}`;
    const u = (await c.mutate({ mutation: A.gql(documents.update), variables: { id: customerId, postalCode: postal } })).data.updateCustomer;
    same(u.userErrors, [], 'updateCustomer userErrors');
    assert(u.customer.postalCode === postal && u.customer.id === r.customers[0].id, `updateCustomer: ${JSON.stringify(u)}`);
    // The cache normalized the customer by its id: the mutation's answer updated it.
    const cached = c.readFragment({ id: c.cache.identify(u.customer), fragment: A.gql`fragment P on Customer { postalCode }` });
    assert(cached && cached.postalCode === postal, `the cached customer: ${JSON.stringify(cached)}`);
  });

  await check(`${name} customers`, async () => {
    const { data } = await q(documents.customers);
    checkCustomers(data);
  });

  await check(`${name} defer`, async () => {
    const { data, error, errors } = await q(documents.deferred, { id: customerId });
    assert(!error && !errors, `errors: ${error || JSON.stringify(errors)}`);
    checkDeferred(data);
  });

  // The viewer and the stats, read twice with different selections: no warning with the
  // documented type policies, and each read answers what it selected.
  for (const [label, policies] of [['with typePolicies', typePolicies], ['without typePolicies', null]]) {
    await check(`${name} cache ${label}`, async () => {
      const cc = policies ? c : client(null);
      const before = printed.length;
      const qq = (doc) => cc.query({ query: A.gql(doc), fetchPolicy: 'network-only' });
      const v1 = (await qq(documents.viewerA)).data.viewer;
      const v2 = (await qq(documents.viewerB)).data.viewer;
      assert(v1.role === role && v2.role === role, `viewer: ${JSON.stringify([v1, v2])}`);
      const s1 = (await qq(documents.statsA)).data.portfolioStats;
      const s2 = (await qq(documents.statsB)).data.portfolioStats;
      assert(s1.customers === 1 && s1.accounts === 1 && s2.cards === 1, `portfolioStats: ${JSON.stringify([s1, s2])}`);
      // Read back from the cache alone: with the policies both selections are kept.
      const again = (doc) => cc.readQuery({ query: A.gql(doc) });
      const kept = [documents.viewerA, documents.viewerB, documents.statsA, documents.statsB].map((d) => again(d) !== null);
      const warnings = printed.slice(before).filter((p) => cacheWarning.test(p));
      if (policies) {
        same(warnings, [], 'cache warnings');
        same(kept, [true, true, true, true], 'selections kept in the cache');
      } else {
        // Without them Apollo warns for both fields, as REFERENCE.md says, and drops the first selections.
        assert(warnings.some((w) => /viewer/.test(w)) && warnings.some((w) => /portfolioStats/.test(w)),
          `no cache warning for viewer and portfolioStats without typePolicies: ${JSON.stringify(printed.slice(before))}`);
        same(kept, [false, true, false, true], 'selections kept in the cache');
      }
    });
  }

  await check(`${name} error`, async () => {
    let got;
    try {
      const r = await q(documents.badInput);
      got = r.error;
      assert(got, `no error, got ${JSON.stringify(r)}`);
    } catch (err) {
      got = err;
    }
    assert(A.codeOf(got) === 'BAD_USER_INPUT', `want a GraphQL error with extensions.code BAD_USER_INPUT, got ${got && got.constructor.name}: ${got && got.message} ${JSON.stringify(got)}`);
  });
}

async function urqlChecks() {
  const { Client, fetchExchange, cacheExchange, gql } = require('@urql/core');
  const accepts = [];
  const client = new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { headers },
    // Node's fetch, recording the Accept header urql sends itself.
    fetch: (input, init) => {
      accepts.push(new Headers(init.headers).get('accept'));
      return fetch(input, init);
    },
    requestPolicy: 'network-only',
  });
  await check('urql customers', async () => {
    const r = await client.query(gql(documents.customers), {}).toPromise();
    assert(!r.error, `error: ${r.error}`);
    checkCustomers(r.data);
    assert(/^application\/graphql-response\+json/.test(accepts[0]), `urql sent Accept ${accepts[0]}`);
  });
  await check('urql defer', async () => {
    const r = await client.query(gql(documents.deferred), { id: customerId }).toPromise();
    assert(!r.error, `error: ${r.error}`);
    assert(!r.hasNext, 'hasNext on the final result');
    checkDeferred(r.data);
  });
  await check('urql error', async () => {
    const r = await client.query(gql(documents.badInput), {}).toPromise();
    const e = r.error;
    assert(e && !e.networkError && e.graphQLErrors.length === 1, `want one GraphQL error, got ${e} ${JSON.stringify(r)}`);
    assert(e.graphQLErrors[0].extensions.code === 'BAD_USER_INPUT', `extensions: ${JSON.stringify(e.graphQLErrors[0].extensions)}`);
  });
}

await apolloChecks(3);
await apolloChecks(4);
await urqlChecks();
process.exit(failed ? 1 : 0);

// Fetches the schema by introspection with Node's built-in fetch (undici), as the Node tools
// that read a schema from a server do (GraphQL Codegen, graphql-config), and checks that the
// answer decodes and parses as an introspection result. Prints one line:
//
//   ok content-encoding=<encoding or none> types=<n>
//
// Used by TestNodeFetchIntrospection (node_fetch_test.go); by hand:
// `node e2e/node-fetch.js http://127.0.0.1:8080/query ['gzip, deflate, br, zstd']`.
//
//   URL              the GraphQL endpoint
//   ACCEPT_ENCODING  sent as Accept-Encoding instead of what fetch sends itself, if given;
//                    fetch still decodes the answer as it would its own
//   QUERY_FILE       the introspection query (default: testdata/introspection-graphql-js.graphql)
//
// Exits 1 when the answer does not decode or parse, 2 on a usage error.
'use strict';

const fs = require('fs');
const path = require('path');

async function main() {
  const [url, acceptEncoding] = process.argv.slice(2);
  if (!url) {
    console.error('usage: node node-fetch.js URL [ACCEPT_ENCODING]');
    return 2;
  }
  const file = process.env.QUERY_FILE || path.join(__dirname, '..', 'testdata', 'introspection-graphql-js.graphql');
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (acceptEncoding) headers['accept-encoding'] = acceptEncoding;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: fs.readFileSync(file, 'utf8'), operationName: 'IntrospectionQuery' }),
  });
  const encoding = res.headers.get('content-encoding') || 'none';
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch (err) {
    console.log(`error status=${res.status} content-encoding=${encoding}: the answer does not parse as JSON (${err.message})`);
    return 1;
  }
  const types = body && body.data && body.data.__schema && body.data.__schema.types;
  if (res.status !== 200 || !Array.isArray(types) || body.errors) {
    console.log(`error status=${res.status} content-encoding=${encoding}: not an introspection result: ${text.slice(0, 300)}`);
    return 1;
  }
  console.log(`ok content-encoding=${encoding} types=${types.length}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);

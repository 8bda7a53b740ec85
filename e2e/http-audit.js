// Runs the GraphQL-over-HTTP conformance audits of graphql-http (serverAudits) against a
// server and prints each result, one line each:
//
//   <ok|warn|notice|error> <id> <name>[: <reason>]
//
// then a count of each status. Used by TestGraphQLOverHTTPAudits (http_audit_test.go), which
// requires every audit to be ok; by hand: `node e2e/http-audit.js http://127.0.0.1:8080/query`.
//
//   argument or AUDIT_URL  the GraphQL endpoint
//   AUDIT_TOKEN            sent as Authorization: Bearer <token> with every request, if set
//
// Exits 1 when an audit is not ok, 2 when the audits could not run.
'use strict';

const { serverAudits } = require('graphql-http');

async function main() {
  const url = process.argv[2] || process.env.AUDIT_URL;
  if (!url) throw new Error('usage: node http-audit.js URL (or AUDIT_URL)');
  const token = process.env.AUDIT_TOKEN;
  const fetchFn = (input, init = {}) => {
    if (!token) return fetch(input, init);
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const audits = serverAudits({ url, fetchFn });
  const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
  // One at a time, in the library's order: the output reads like its list.
  for (const audit of audits) {
    const result = await audit.fn();
    counts[result.status]++;
    let line = `${result.status} ${result.id} ${result.name}`;
    if (result.status !== 'ok') {
      let body = '';
      try {
        body = await result.response.text();
      } catch {
        // already read by the audit
      }
      line += `: ${result.reason}` + (body ? ` (status ${result.response.status}, body ${body.slice(0, 300)})` : '');
    }
    console.log(line);
  }
  console.log(`${audits.length} audits: ${counts.ok} ok, ${counts.warn} warn, ${counts.notice} notice, ${counts.error} error`);
  return counts.ok === audits.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);

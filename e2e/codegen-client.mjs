// Sends the documents GraphQL Codegen's client preset generated (persistedDocuments: true) as
// its documentation has clients send them: the DocumentNode's __meta__.hash as documentId, no
// query text. Prints one JSON line per request: {"operation", "status", "body"}. Used by
// TestGraphQLCodegenPersistedDocuments (clients_test.go); by hand, after codegen.config.cjs:
//
//   TOKEN=… node e2e/codegen-client.mjs http://127.0.0.1:8080/query "$CODEGEN_OUT" Viewer CustomerCards='{"first":2}'
//
//   URL        the GraphQL endpoint
//   DIR        the folder codegen wrote into (its graphql.ts holds the documents)
//   OPERATION  a document's operation name, with its variables as JSON after "=" if any
//   TOKEN      sent as "Authorization: Bearer TOKEN" if set
import fs from 'node:fs';
import path from 'node:path';

const [url, dir, ...operations] = process.argv.slice(2);
if (!url || !dir || operations.length === 0) {
  console.error('usage: node codegen-client.mjs URL DIR OPERATION[=VARIABLES]...');
  process.exit(2);
}

// graphql.ts declares each document as a JSON literal:
//   export const ViewerDocument = {"__meta__":{"hash":"sha256:…"},"kind":"Document",…} as unknown as DocumentNode<…>;
const documents = {};
const source = fs.readFileSync(path.join(dir, 'graphql.ts'), 'utf8');
for (const m of source.matchAll(/^export const (\w+)Document = (\{.*\}) as unknown as DocumentNode</gm)) {
  documents[m[1]] = JSON.parse(m[2]);
}

for (const op of operations) {
  const [name, vars] = op.split(/=(.*)/s);
  const document = documents[name];
  if (!document) {
    console.error(`no document ${name} in ${dir}/graphql.ts (it has ${Object.keys(documents).join(', ')})`);
    process.exit(2);
  }
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(process.env.TOKEN ? { authorization: `Bearer ${process.env.TOKEN}` } : {}),
    },
    body: JSON.stringify({ documentId: document.__meta__.hash, variables: vars ? JSON.parse(vars) : undefined }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  console.log(JSON.stringify({ operation: name, documentId: document.__meta__.hash, status: res.status, body }));
}

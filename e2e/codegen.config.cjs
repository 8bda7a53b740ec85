// GraphQL Codegen's client preset with persisted documents over e2e/codegen/*.graphql and the
// repository's schema, as an application would configure it. It writes its TypeScript and
// persisted-documents.json into $CODEGEN_OUT/ (TestGraphQLCodegenPersistedDocuments).
//
//   CODEGEN_OUT=/tmp/out npx graphql-codegen --config codegen.config.cjs
const path = require('path');

const out = process.env.CODEGEN_OUT;
if (!out) throw new Error('set CODEGEN_OUT to the folder to write into');

module.exports = {
  schema: path.join(__dirname, '..', 'schema.graphqls'),
  documents: [path.join(__dirname, 'codegen', '*.graphql')],
  ignoreNoDocuments: false,
  generates: {
    [out.replace(/\/?$/, '/')]: {
      preset: 'client',
      presetConfig: { persistedDocuments: true },
    },
  },
};

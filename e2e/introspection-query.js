// Prints graphql-js's standard introspection query with every option on: the document that
// testdata/introspection-graphql-js.graphql holds (npm run introspection-query rewrites it).
'use strict';
const { getIntrospectionQuery } = require('graphql');

process.stdout.write(getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
}));

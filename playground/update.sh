#!/usr/bin/env bash
# Re-fetches the playground's third-party assets from npm at the pinned versions below, so the
# binary serves GraphiQL with no request leaving the machine. To move to other versions, edit
# the two pins, run this script, check the playground (go test -run TestPlaygroundInBrowser)
# and commit assets/ together with this file.
#
# GraphiQL 4.1 is the last major version that ships a UMD build usable as plain script tags
# (5.x is ESM only, built around Monaco); its UMD build expects React and ReactDOM as globals,
# which React 18 provides (React 19 ships no UMD build).
set -euo pipefail

GRAPHIQL_VERSION=4.1.2
REACT_VERSION=18.3.1

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --json "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION" > packs.json)
for pkg in "graphiql-$GRAPHIQL_VERSION" "react-$REACT_VERSION" "react-dom-$REACT_VERSION"; do
  mkdir -p "$tmp/$pkg"
  tar -xzf "$tmp/$pkg.tgz" -C "$tmp/$pkg" --strip-components=1
done

rm -rf assets
mkdir -p assets
# The builds end with a sourceMappingURL comment naming maps that are not shipped here; it is
# removed so that no tool asks for them.
copy() { sed -e '/^\/[/*]# sourceMappingURL=/d' "$1" > "assets/$2"; }
copy "$tmp/graphiql-$GRAPHIQL_VERSION/graphiql.min.js" graphiql.min.js
copy "$tmp/graphiql-$GRAPHIQL_VERSION/graphiql.min.css" graphiql.min.css
copy "$tmp/react-$REACT_VERSION/umd/react.production.min.js" react.production.min.js
copy "$tmp/react-dom-$REACT_VERSION/umd/react-dom.production.min.js" react-dom.production.min.js
cp "$tmp/graphiql-$GRAPHIQL_VERSION/LICENSE" assets/LICENSE.graphiql
cp "$tmp/react-$REACT_VERSION/LICENSE" assets/LICENSE.react
cp "$tmp/react-dom-$REACT_VERSION/LICENSE" assets/LICENSE.react-dom

{
  echo "# Fetched from npm by update.sh; do not edit by hand."
  node -e '
    for (const p of require(process.argv[1])) console.log(`${p.name}@${p.version} ${p.integrity}`);
  ' "$tmp/packs.json"
  echo
  (cd assets && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js)
} > assets/VERSIONS
cat assets/VERSIONS

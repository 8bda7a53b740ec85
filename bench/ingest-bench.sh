#!/usr/bin/env bash
# The ingest figures of BENCHMARKS.md: the file loader's first load and identical replay into a
# fresh database, then the ingestCustomers mutation over HTTP (one client, the benchmark's 100
# chunks of 1,000 customers in turn) into another, first load and replay. Needs the harness set
# up in /tmp/bench (setup-both.sh: data, cluster on 127.0.0.1:55432); drops and recreates the
# databases ing_f and ing_m there.
#
#   bench/ingest-bench.sh SERVER_BIN
#
# Prints RESULT lines: file_first/file_replay in customers/s; mutation_first/mutation_replay
# as the load driver's rps, batches of 1,000 per second.
set -euo pipefail
BIN=$(readlink -f "${1:?usage: ingest-bench.sh SERVER_BIN}")
B=/tmp/bench
PSQL="psql -X -qAt -h 127.0.0.1 -p 55432 -U postgres"
U=postgres://postgres@127.0.0.1:55432
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$B/data/json" "$WORK/chunks.ndjson" <<'PY'
import glob, json, sys
with open(sys.argv[2], "w") as out:
    for f in sorted(glob.glob(sys.argv[1] + "/customers-*.json")):
        out.write(json.dumps(json.load(open(f)), separators=(",", ":")) + "\n")
PY
echo 'mutation($customers: [CustomerInput!]!) { ingestCustomers(customers: $customers) { summary { customers { created updated unchanged } } userErrors { path message } } }' > "$WORK/ingest.graphql"
for db in ing_f ing_m; do $PSQL -d postgres -c "drop database if exists $db" -c "create database $db" 2>/dev/null; done
cd "$WORK"
for run in first replay; do
  s=$(date +%s.%N); "$BIN" ingest -database-url "$U/ing_f?sslmode=disable" "$B/data/customers.ndjson" >/dev/null 2>&1; e=$(date +%s.%N)
  python3 -c "print('RESULT file_$run s=%.2f customers_per_s=%.0f' % ($e-$s, 100000/($e-$s)))"
done
"$BIN" -listen 127.0.0.1:8182 -database-url "$U/ing_m?sslmode=disable" > "$WORK/server.log" 2>&1 &
P=$!
trap 'kill $P 2>/dev/null; wait $P 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:8182/readyz >/dev/null && break; sleep 0.1; done
for run in first replay; do
  "$B/bin/load" -url http://127.0.0.1:8182/query -query "$WORK/ingest.graphql" -varsfile-list "$WORK/chunks.ndjson" -c 1 -n 100 -d 600s 2>&1 |
    grep '^RESULT' | awk -v run="$run" '{printf "RESULT mutation_%s", run; for (i = 2; i <= NF; i++) if ($i ~ /^(rps|fail|d_s|reqs)=/) printf " %s", $i; print ""}'
done

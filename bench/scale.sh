#!/usr/bin/env bash
# The 1,000,000-customer scale check of BENCHMARKS.md: the p50 of (a), (b) and (c) at c=8 and c=32
# against the harness database ours (100,000 customers) and ours1m (1,000,000: gen -customers
# 1000000 -seed 1 -out /tmp/data1m, loaded by SERVER_BIN ingest), two interleaved rounds of 10 s
# runs after 3 s of warm-up.
#
#   bench/scale.sh SERVER_BIN
set -euo pipefail
BIN=$1; B=/tmp/bench
declare -A VARS=([ours]=$B/peer/queries/vars [ours1m]=/tmp/data1m/vars)
for round in 1 2; do
  for db in ours ours1m; do
    (cd "$(mktemp -d)" && exec env DATABASE_URL="postgres://postgres@127.0.0.1:55432/$db?sslmode=disable" "$BIN" -listen 127.0.0.1:8184 > /dev/null 2>&1) &
    P=$!
    for _ in $(seq 200); do curl -sf http://127.0.0.1:8184/readyz >/dev/null && break; sleep 0.1; done
    for q in a b c; do
      case $q in a) QF=a-customer-by-id; V=customer-ids;; b) QF=b-customers-by-org; V=orgs;; c) QF=c-cards-by-last4-iin; V=cards-last4-iin;; esac
      for c in 8 32; do
        r=$($B/bin/load -url http://127.0.0.1:8184/query -query $B/ours/queries/$QF.graphql -vars ${VARS[$db]}/$V.ndjson -c $c -d 10s -warmup 3s 2>/dev/null | grep RESULT)
        echo "SCALE round=$round db=$db q=$q c=$c $(echo "$r" | grep -o 'rps=[0-9.]* ' | head -1) $(echo "$r" | grep -o 'p50_ms=[0-9.]*') $(echo "$r" | grep -o 'fail=[0-9]*')"
      done
    done
    kill $P; wait $P 2>/dev/null || true
  done
done

#!/usr/bin/env bash
# One first load of the benchmark's customers.ndjson by the file loader into a fresh database
# ing_cpu on the harness cluster (127.0.0.1:55432, set up by /tmp/bench/setup-both.sh), with
# where its CPU went: the loader's user+system time, and the cluster's (the postmaster, its
# live children and the children it reaped, from /proc). Run builds in turn, interleaved, and
# compare pairs: the machine's speed drifts.
#
#   bench/ingest-cpu.sh SERVER_BIN [INGEST FLAGS...]
set -euo pipefail
BIN=$(readlink -f "${1:?usage: ingest-cpu.sh SERVER_BIN [FLAGS...]}"); shift
PSQL="psql -X -qAt -h 127.0.0.1 -p 55432 -U postgres"
U="postgres://postgres@127.0.0.1:55432/ing_cpu?sslmode=disable"
cluster_cpu() { # CPU seconds the cluster has used so far
  local pm tot c t
  pm=$(head -1 /tmp/bench/pgdata/postmaster.pid)
  tot=$(awk '{print $14+$15+$16+$17}' "/proc/$pm/stat")
  for c in $(cat "/proc/$pm/task/$pm/children"); do
    t=$(awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null || echo 0); tot=$((tot + t))
  done
  python3 -c "print($tot / $(getconf CLK_TCK))"
}
$PSQL -d postgres -c "drop database if exists ing_cpu" -c "create database ing_cpu" 2>/dev/null
"$BIN" ingest -database-url "$U" /dev/null >/dev/null 2>&1 # the schema, before the clock starts
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
p0=$(cluster_cpu); s=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$WORK/time" "$BIN" ingest -database-url "$U" "$@" /tmp/bench/data/customers.ndjson >/dev/null 2>&1
e=$(date +%s.%N); sleep 0.5; p1=$(cluster_cpu)
read -r u sy < "$WORK/time"
python3 -c "print('RESULT first_s=%.2f customers_per_s=%.0f loader_cpu_s=%.2f postgres_cpu_s=%.2f' % ($e-$s, 100000/($e-$s), $u+$sy, $p1-$p0))"

#!/usr/bin/env bash
# How a server build behaves under the faults a production pipeline meets, in four probes:
#
#   locks   concurrent ingestCustomers calls on PostgreSQL with the cluster's default settings:
#           k = 2 4 8 16 32 calls of 1,000 distinct customers at once, then 100 of ~1 MB at once,
#           while a session on the database postgres runs transactions that need entries of the
#           shared lock table (a temporary table and four advisory locks); per burst the answers
#           by HTTP status and code and that session's errors ("out of shared memory")
#   bodies  30 ingest bodies of 15 MB at once (more customers than one call takes) on a fresh
#           SQLite file: the server's peak RSS (VmHWM), its RSS 10 s later, the answers, and
#           the time from sending to the answer
#   outage  a server on PostgreSQL through a TCP proxy (bench/faultproxy), the load driver at
#           c=8 on a one-customer query for 20 s with the link cut for the middle 10 s, and a
#           poller sending one request at a time: the connection attempts reaching the proxy per
#           second of the cut, the answers by status and code, the server's WARN/ERROR log lines
#           during the cut, and the time from restoring to the first 200
#   start   the link cut before the server starts: whether it stays up (/healthz) for 3 s, then,
#           the link restored, the time until /readyz is 200
#
#   bench/fault-probes.sh SERVER_BIN
#
# Environment: HARNESS (the benchmark harness with bin/gen and bin/load built; /tmp/bench),
# PGPORT (the PostgreSQL cluster on 127.0.0.1, trust auth as postgres; 5432), PROBES (which
# probes, in order; "locks bodies outage start"), KEEP (a directory to copy the server logs and
# raw answers to; none). Each probe uses a fresh database probe_<random>_<probe> (or SQLite file)
# and a fresh server on a free loopback port, and drops or removes them at the end. Needs curl,
# jq, psql, python3 and Go (to build bench/faultproxy). Takes about 2 minutes (more on a busy machine).
#
# Every measurement is one line "RESULT probe=NAME key=value ...". Answers are counted as
# status/CODE:N, CODE being the first error's extensions.code, user_CODE the first userErrors
# code of an ingest, OK for an answer without either, not_json for a body that is not JSON, and
# status 000 for no answer.
set -euo pipefail
export LC_ALL=C
BIN=$(readlink -f "${1:?usage: fault-probes.sh SERVER_BIN}")
HARNESS=${HARNESS:-/tmp/bench}
PGPORT=${PGPORT:-5432}
PROBES=${PROBES:-locks bodies outage start}
KEEP=${KEEP:-}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PSQL="psql -X -qAt -h 127.0.0.1 -p $PGPORT -U postgres"
PGURL=postgres://postgres@127.0.0.1:$PGPORT
RUN=probe_$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')
WORK=$(mktemp -d /tmp/fault-probes.XXXXXX)
cd "$WORK"

PIDS=()     # servers, proxies and the load driver, stopped by id at the end
DBS=()      # databases to drop at the end
cleanup() {
  touch "$WORK/lockloop.stop" "$WORK/poll.stop"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${DBS[@]}"; do $PSQL -d postgres -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq psql python3 go; do command -v $tool >/dev/null || { echo "fault-probes: $tool is missing" >&2; exit 1; }; done
for tool in gen load; do [ -x "$HARNESS/bin/$tool" ] || { echo "fault-probes: $HARNESS/bin/$tool is missing (build the harness's tools)" >&2; exit 1; }; done
(cd "$ROOT" && go build -o "$WORK/faultproxy" ./bench/faultproxy)

now() { echo "$EPOCHREALTIME"; }
since() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "${2:-$EPOCHREALTIME}"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
code_of() { curl -s -o /dev/null -w '%{http_code}' --max-time "${2:-3}" "$1" 2>/dev/null || true; }
keep() { [ -z "$KEEP" ] || { mkdir -p "$KEEP" && cp -a "$@" "$KEEP/"; }; }
# new_db NAME: creates the database ${RUN}_NAME, to be dropped at the end; sets DB.
new_db() { DB=${RUN}_$1; DBS+=("$DB"); $PSQL -d postgres -c "create database $DB" >/dev/null; }

# The first problem of an answer, as in the header.
CLASSIFY='if type != "object" then "not_object"
  elif ((.errors // []) | length) > 0 then (.errors[0].extensions.code // "no_code")
  elif ((.data.ingestCustomers.userErrors // []) | length) > 0 then "user_" + .data.ingestCustomers.userErrors[0].code
  else "OK" end'

# start_server NAME DATABASE_URL: the build on a free port, logging to NAME.log; sets SPID, SURL.
start_server() {
  local port; port=$(free_port)
  SHUTDOWN_DRAIN=0s "$BIN" -listen "127.0.0.1:$port" -database-url "$2" >"$WORK/$1.log" 2>&1 &
  SPID=$!; PIDS+=("$SPID"); SURL=http://127.0.0.1:$port
}
wait_ready() { # wait_ready SECONDS: 0 when /readyz answers 200 in time
  local end=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    [ "$(code_of "$SURL/readyz")" = 200 ] && return 0
    kill -0 "$SPID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
stop_server() { stop "$SPID"; }
# stop PID: ends one of our servers or proxies, and forgets it.
stop() {
  kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
  local p rest=(); for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || rest+=("$p"); done; PIDS=("${rest[@]}")
}
start_proxy() { # start_proxy [-cut]: sets XPID, XPORT; per-second counts in proxy.log
  rm -f "$WORK/proxy.addr"
  "$WORK/faultproxy" -listen 127.0.0.1:0 -target "127.0.0.1:$PGPORT" -addr-file "$WORK/proxy.addr" "$@" >"$WORK/proxy.log" 2>&1 &
  XPID=$!; PIDS+=("$XPID")
  for _ in $(seq 50); do [ -s "$WORK/proxy.addr" ] && break; sleep 0.1; done
  XPORT=$(sed 's/.*://' "$WORK/proxy.addr")
}
stop_proxy() { stop "$XPID"; }
# count WORD...: how often each word occurs, as word:N,...
count() { printf '%s\n' "$@" | sort | uniq -c | awk '{printf "%s%s:%s", s, $2, $1; s=","}'; }
log_at() { stat -c %s "$WORK/$1.log"; }
# warn_lines NAME FROM TO: the WARN and ERROR lines the server wrote between two log offsets.
log_part() { tail -c +"$(( $2 + 1 ))" "$WORK/$1.log" | head -c "$(( $3 - $2 ))"; }
warn_lines() { log_part "$@" | grep -cE 'level=(WARN|ERROR)' || true; }
# warn_msgs NAME FROM TO: the four commonest messages of those lines, as msg:N,...
warn_msgs() {
  log_part "$@" | grep -E 'level=(WARN|ERROR)' | sed -E 's/.*msg=("[^"]*"|[^ ]*).*/\1/; s/"//g; s/[^A-Za-z0-9]+/_/g; s/^(.{40}).*/\1/' |
    sort | uniq -c | sort -rn | head -4 | awk '{printf "%s%s:%s", s, $2, $1; s=","} END {if (!NR) printf "none"}'
}

# burst NAME URL FILE...: POSTs every FILE at once; NAME.tsv gets "status seconds class" a line,
# NAME.wall the seconds from the first sending to the last answer.
burst() {
  local name=$1 url=$2 i=0 f p; shift 2
  local pids=()
  mkdir -p "$WORK/$name"
  local s=$EPOCHREALTIME
  for f in "$@"; do
    i=$((i + 1))
    curl -s -o "$WORK/$name/$i.resp" -w '%{http_code} %{time_total}\n' --max-time 180 \
      -H 'Content-Type: application/json' --data-binary @"$f" "$url" >"$WORK/$name/$i.st" 2>/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  since "$s" >"$WORK/$name.wall"
  for ((f = 1; f <= i; f++)); do
    local st cls=empty
    st=$(cat "$WORK/$name/$f.st")
    if [ -s "$WORK/$name/$f.resp" ]; then cls=$(jq -r "$CLASSIFY" "$WORK/$name/$f.resp" 2>/dev/null) || cls=not_json; fi
    echo "${st:-000 0} $cls"
  done >"$WORK/$name.tsv"
}
# summary NAME: answers, failures and answer times of a burst, as key=value.
summary() {
  python3 - "$WORK/$1.tsv" <<'PY'
import collections, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
c = collections.Counter("%s/%s" % (r[0], r[2]) for r in rows)
t = sorted(float(r[1]) for r in rows)
print("reqs=%d fail=%d answers=%s answer_s_median=%.2f answer_s_max=%.2f" % (
    len(rows), sum(n for k, n in c.items() if k != "200/OK"),
    ",".join("%s:%d" % kv for kv in sorted(c.items())), statistics.median(t), t[-1]))
PY
}

# ---------------------------------------------------------------------------------------------
# Data: bodies of the ingestCustomers mutation, each from its own generated portfolio (seed), so
# that every body holds distinct customers and refers only to customers it holds.
T0=$(now)
echo 'mutation Ingest($customers: [CustomerInput!]!) { ingestCustomers(customers: $customers) { summary { customers { created updated unchanged } } userErrors { path code message } } }' >"$WORK/ingest.graphql"
echo 'query Probe($id: String!) { customer(sourceCustomerId: $id) { sourceCustomerId organizationId accounts { sourceAccountId } } }' >"$WORK/probe.graphql"
python3 - "$HARNESS/bin/gen" "$WORK" "$PROBES" <<'PY'
import json, os, shutil, subprocess, sys
gen, work, probes = sys.argv[1], sys.argv[2], sys.argv[3].split()
mutation = open(work + "/ingest.graphql").read().strip()
seen = set()

def portfolio(seed, n):
    out = "%s/gen-%d" % (work, seed)
    subprocess.run([gen, "-customers", str(n), "-seed", str(seed), "-out", out, "-vars", "1"], check=True, stdout=subprocess.DEVNULL)
    customers = [json.loads(l) for l in open(out + "/customers.ndjson")]
    shutil.rmtree(out)
    ids = {"c:" + c["sourceCustomerId"] for c in customers} | {"a:" + a["sourceAccountId"] for c in customers for a in c.get("accounts", [])}
    if ids & seen:
        sys.exit("fault-probes: seed %d repeats ids of an earlier portfolio" % seed)
    seen.update(ids)
    return customers

def body(customers):
    return json.dumps({"query": mutation, "variables": {"customers": customers}}, separators=(",", ":"))

def prefix(customers, limit):
    # The longest prefix whose body stays within limit bytes; referenced customers come first
    # in a portfolio, so a prefix refers only to customers it holds.
    size, n = len(body([])), 0
    for c in customers:
        size += len(json.dumps(c, separators=(",", ":"))) + (1 if n else 0)
        if size > limit:
            break
        n += 1
    return customers[:n]

os.makedirs(work + "/k")
os.makedirs(work + "/mb")
first = portfolio(1001, 1000)
open(work + "/k/001.json", "w").write(body(first))
with open(work + "/ids.ndjson", "w") as f:
    for c in first:
        f.write(json.dumps({"id": c["sourceCustomerId"]}) + "\n")
if "locks" in probes:
    for i in range(2, 64):
        open(work + "/k/%03d.json" % i, "w").write(body(portfolio(1000 + i, 1000)))
    sizes = []
    for i in range(1, 101):
        cs = prefix(portfolio(2000 + i, 1000), 1_000_000)
        sizes.append(len(cs))
        open(work + "/mb/%03d.json" % i, "w").write(body(cs))
    print("RESULT probe=data mb_bodies=100 mb_customers_min=%d mb_customers_max=%d" % (min(sizes), max(sizes)))
if "bodies" in probes:
    cs = prefix(portfolio(3001, 12000), 15_000_000)
    b = body(cs)
    open(work + "/big.json", "w").write(b)
    print("RESULT probe=data big_body_bytes=%d big_body_customers=%d" % (len(b), len(cs)))
PY
echo "RESULT probe=run bin=$BIN sha256=$(sha256sum "$BIN" | cut -c1-12) cores=$(nproc) data_s=$(since "$T0")"

# ---------------------------------------------------------------------------------------------
probe_locks() {
  local t0 db k batch files first=2 n
  t0=$(now); new_db locks; db=$DB
  echo "RESULT probe=locks max_locks_per_transaction=$($PSQL -d postgres -c 'show max_locks_per_transaction') max_connections=$($PSQL -d postgres -c 'show max_connections') max_prepared_transactions=$($PSQL -d postgres -c 'show max_prepared_transactions')"
  start_server locks "$PGURL/$db?sslmode=disable"
  wait_ready 60 || { echo "RESULT probe=locks error=server_not_ready"; tail -5 "$WORK/locks.log" >&2; stop_server; return; }
  for batch in 2 4 8 16 32 100; do
    if [ "$batch" = 100 ]; then files=("$WORK"/mb/*.json); label="k=100 body=1MB"
    else files=(); for ((n = first; n < first + batch; n++)); do files+=("$(printf '%s/k/%03d.json' "$WORK" "$n")"); done
      first=$((first + batch)); label="k=$batch body=1000_customers"; fi
    local before after off0 off1
    before=$($PSQL -d "$db" -c 'select count(*) from customers')
    lockloop_start "$WORK/lockloop-$batch"
    sleep 1
    off0=$(log_at locks)
    burst "locks-$batch" "$SURL/query" "${files[@]}"
    off1=$(log_at locks)
    sleep 1
    lockloop_stop
    after=$($PSQL -d "$db" -c 'select count(*) from customers')
    echo "RESULT probe=locks $label $(summary "locks-$batch") wall_s=$(cat "$WORK/locks-$batch.wall") stored_customers=$((after - before)) server_warn_error_lines=$(warn_lines locks "$off0" "$off1") server_warn_error_msgs=$(warn_msgs locks "$off0" "$off1") $(lockloop_counts "$WORK/lockloop-$batch")"
    keep "$WORK/locks-$batch.tsv" "$WORK/lockloop-$batch.err"
  done
  stop_server; keep "$WORK/locks.log"
  echo "RESULT probe=locks elapsed_s=$(since "$t0")"
}
# A session on the database postgres: each transaction creates a temporary table and takes four
# advisory locks, one after another with 10 ms between them, until the stop file appears.
lockloop_start() {
  rm -f "$WORK/lockloop.stop"
  ( while [ ! -e "$WORK/lockloop.stop" ]; do
      echo "BEGIN; CREATE TEMP TABLE fault_probe(x int) ON COMMIT DROP; SELECT pg_advisory_xact_lock(1), pg_advisory_xact_lock(2), pg_advisory_xact_lock(3), pg_advisory_xact_lock(4); COMMIT; SELECT 'iteration';"
      sleep 0.01
    done | $PSQL -d postgres -v ON_ERROR_STOP=0 >"$1.out" 2>"$1.err" || true ) &
  LPID=$!
}
lockloop_stop() { touch "$WORK/lockloop.stop"; wait "$LPID" || true; }
lockloop_counts() {
  echo "other_session_iterations=$(grep -c '^iteration$' "$1.out" || true) other_session_errors=$(grep 'ERROR:' "$1.err" | grep -vc 'current transaction is aborted' || true) other_session_out_of_shared_memory=$(grep -c 'out of shared memory' "$1.err" || true)"
}

# ---------------------------------------------------------------------------------------------
probe_bodies() {
  local t0 rss0 peak rss10
  t0=$(now)
  start_server bodies "$WORK/bodies.db"
  wait_ready 60 || { echo "RESULT probe=bodies error=server_not_ready"; tail -5 "$WORK/bodies.log" >&2; stop_server; return; }
  rss0=$(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$SPID/status")
  local files=(); for _ in $(seq 30); do files+=("$WORK/big.json"); done
  burst bodies "$SURL/query" "${files[@]}"
  peak=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$SPID/status" 2>/dev/null || echo gone)
  sleep 10
  rss10=$(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$SPID/status" 2>/dev/null || echo gone)
  echo "RESULT probe=bodies k=30 body_mb=$(stat -c %s "$WORK/big.json" | awk '{printf "%.1f", $1 / 1e6}') $(summary bodies) wall_s=$(cat "$WORK/bodies.wall") rss_before_mb=$rss0 peak_rss_mb=$peak rss_10s_after_mb=$rss10 alive=$(kill -0 "$SPID" 2>/dev/null && echo 1 || echo 0)"
  stop_server; keep "$WORK/bodies.log" "$WORK/bodies.tsv"
  rm -f "$WORK"/bodies.db*
  echo "RESULT probe=bodies elapsed_s=$(since "$t0")"
}

# ---------------------------------------------------------------------------------------------
# The poller: one request at a time, 10 a second at most; poll.log gets "start end status
# seconds class" a line.
poll_start() {
  rm -f "$WORK/poll.stop"
  local body; body=$(jq -c '{query: $q, variables: .}' --rawfile q "$WORK/probe.graphql" <<<"$(head -1 "$WORK/ids.ndjson")")
  ( while [ ! -e "$WORK/poll.stop" ]; do
      rm -f "$WORK/poll.resp"
      s=$EPOCHREALTIME
      r=$(curl -s -o "$WORK/poll.resp" -w '%{http_code} %{time_total}' --max-time 35 -H 'Content-Type: application/json' -d "$body" "$1/query" 2>/dev/null) || true
      e=$EPOCHREALTIME
      k=empty; [ -s "$WORK/poll.resp" ] && { k=$(jq -r "$CLASSIFY" "$WORK/poll.resp" 2>/dev/null) || k=not_json; }
      echo "$s $e ${r:-000 0} $k"
      sleep 0.1
    done >"$WORK/poll.log" ) &
  QPID=$!
}
poll_stop() { touch "$WORK/poll.stop"; wait "$QPID" || true; }

probe_outage() {
  local t0 db cut res off0 off1 load_out
  t0=$(now); new_db outage; db=$DB
  start_proxy
  start_server outage "postgres://postgres@127.0.0.1:$XPORT/$db?sslmode=disable"
  wait_ready 60 || { echo "RESULT probe=outage error=server_not_ready"; tail -5 "$WORK/outage.log" >&2; stop_server; stop_proxy; return; }
  burst outage-load "$SURL/query" "$WORK/k/001.json"
  grep -q '^200 .* OK$' "$WORK/outage-load.tsv" || { echo "RESULT probe=outage error=preload_failed $(summary outage-load)"; stop_server; stop_proxy; return; }
  poll_start "$SURL"
  "$HARNESS/bin/load" -url "$SURL/query" -query "$WORK/probe.graphql" -varsfile-list "$WORK/ids.ndjson" -c 8 -d 20s -timeout 35s >"$WORK/outage-driver.out" 2>"$WORK/outage-driver.err" &
  local dpid=$!; PIDS+=("$dpid")
  sleep 5
  off0=$(log_at outage); cut=$(now); kill -USR1 "$XPID"
  sleep 10
  off1=$(log_at outage); res=$(now); kill -USR2 "$XPID"
  wait "$dpid" || true; stop "$dpid"
  # Until the poller has seen a 200 after the restore, for 30 s at most.
  for _ in $(seq 300); do
    awk -v r="$res" '$3 == 200 && $5 == "OK" && $2 >= r {f = 1} END {exit !f}' "$WORK/poll.log" && break
    sleep 0.1
  done
  poll_stop
  local driver; driver=$(grep '^requests:' "$WORK/outage-driver.out" | sed 's/.*status codes: //; s/ /,/g' || true)
  echo "RESULT probe=outage driver_status=${driver:-none} driver_$(grep '^RESULT' "$WORK/outage-driver.out" | grep -o 'reqs=[0-9]*') driver_$(grep '^RESULT' "$WORK/outage-driver.out" | grep -o 'fail=[0-9]*') driver_$(grep '^RESULT' "$WORK/outage-driver.out" | grep -o 'max_ms=[0-9.]*') server_warn_error_lines_during_cut=$(warn_lines outage "$off0" "$off1") server_warn_error_msgs_during_cut=$(warn_msgs outage "$off0" "$off1") server_warn_error_lines_total=$(grep -cE 'level=(WARN|ERROR)' "$WORK/outage.log" || true)"
  python3 - "$WORK/poll.log" "$WORK/proxy.log" "$cut" "$res" <<'PY'
import collections, statistics, sys
poll, proxy, cut, res = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
rows = [l.split() for l in open(poll) if l.strip()]
during = [r for r in rows if cut <= float(r[0]) < res]
c = collections.Counter("%s/%s" % (r[2], r[4]) for r in during)
t = sorted(float(r[3]) for r in during) or [0]
first = min((float(r[1]) for r in rows if r[2] == "200" and r[4] == "OK" and float(r[1]) >= res), default=None)
per_s = [int(kv.split("=")[1]) for l in open(proxy) if "state=cut" in l
         for kv in l.split() if kv.startswith("accepted=")]
print("RESULT probe=outage cut_s=%.1f poller_answers_during_cut=%s poller_answer_s_median=%.3f poller_answer_s_max=%.3f "
      "attempts_during_cut=%d attempts_per_s_median=%.1f attempts_per_s_max=%d restore_to_first_200_s=%s" % (
    res - cut, ",".join("%s:%d" % kv for kv in sorted(c.items())) or "none", statistics.median(t), t[-1],
    sum(per_s), statistics.median(per_s or [0]), max(per_s, default=0),
    "none" if first is None else "%.2f" % (first - res)))
PY
  stop_server; stop_proxy
  keep "$WORK/outage.log" "$WORK/poll.log" "$WORK/proxy.log" "$WORK/outage-driver.out" "$WORK/outage-driver.err"
  echo "RESULT probe=outage elapsed_s=$(since "$t0")"
}

# ---------------------------------------------------------------------------------------------
probe_start() {
  local t0 db s res alive=1 exit_code=none healthz=() readyz=() ready=none off1
  t0=$(now); new_db start; db=$DB
  start_proxy -cut
  s=$(now)
  start_server start "postgres://postgres@127.0.0.1:$XPORT/$db?sslmode=disable"
  while [ $(( ${EPOCHREALTIME/./} - ${s/./} )) -lt 3000000 ]; do
    sleep 0.25
    healthz+=("$(code_of "$SURL/healthz" 1)"); readyz+=("$(code_of "$SURL/readyz" 3)")
  done
  if ! kill -0 "$SPID" 2>/dev/null; then alive=0; wait "$SPID" && exit_code=0 || exit_code=$?; fi
  off1=$(log_at start); res=$(now); kill -USR2 "$XPID"
  if [ "$alive" = 1 ]; then
    for _ in $(seq 1200); do
      [ "$(code_of "$SURL/readyz")" = 200 ] && { ready=$(since "$res"); break; }
      kill -0 "$SPID" 2>/dev/null || { wait "$SPID" && exit_code=0 || exit_code=$?; break; }
      sleep 0.05
    done
  fi
  local attempts; attempts=$(awk '/state=cut/ {sub("accepted=", "", $3); n += $3} END {print n + 0}' "$WORK/proxy.log")
  echo "RESULT probe=start cut_s=$(since "$s" "$res") alive_at_restore=$alive healthz_during_cut=$(count "${healthz[@]}") readyz_during_cut=$(count "${readyz[@]}") attempts_during_cut=$attempts server_warn_error_lines_during_cut=$(warn_lines start 0 "$off1") server_warn_error_msgs_during_cut=$(warn_msgs start 0 "$off1") restore_to_ready_s=$ready exit_code=$exit_code"
  stop_server; stop_proxy; keep "$WORK/start.log"
  echo "RESULT probe=start elapsed_s=$(since "$t0")"
}

for p in $PROBES; do
  case $p in
    locks) probe_locks ;; bodies) probe_bodies ;; outage) probe_outage ;; start) probe_start ;;
    *) echo "fault-probes: unknown probe $p (locks bodies outage start)" >&2; exit 2 ;;
  esac
done
echo "RESULT probe=run elapsed_s=$(since "$T0")"

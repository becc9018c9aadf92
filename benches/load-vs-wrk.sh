#!/usr/bin/env bash
# Benchmark, not a test: how many requests/s `ba-harness load` drives (with its per-response
# checks on) against wrk, oha, autocannon and Locust, in one run on this machine.
#
# A minimal fast server (examples/canned_server.rs, one thread) answers get-session with a canned
# body; it is pinned to one core and each client to another (taskset), one client at a time,
# with the same number of connections. Each client's requests/s is reported as a ratio to wrk's,
# and so is its CPU time per request. A fourth row, examples/reqwest_loop.rs, is the harness's
# get-session loop without goose (same reqwest client settings, same check): it shows how much of
# the cost is goose's and how much the HTTP client's. Then what users would pick instead:
# autocannon (Node, no check) and Locust with FastHttpUser and the same check
# (benches/locustfile.py), one process each on the same core.
# Then: peak RSS of ba-harness for a 100k- and a 1M-request run against the same server (memory
# must stay flat), and the JWT verification microbenchmark (examples/jwt_verify_bench.rs).
#
#   bash benches/load-vs-wrk.sh              # defaults: 10 s per client, 8 connections
#   DURATION=20 CONNS=16 bash benches/load-vs-wrk.sh
#   SKIP_RSS=1 SKIP_JWT=1 SKIP_OHA=1 bash benches/load-vs-wrk.sh
#
# Needs: taskset (util-linux), wrk (Debian: apt-get install -y wrk), oha (cargo install oha),
# GNU time (/usr/bin/time), node and npm (autocannon, installed under target/bench/node),
# python3 with venv (Locust, installed into target/bench/locust-venv). Installs what is missing;
# not run in CI. SKIP_LOCUST=1 / SKIP_AUTOCANNON=1 leave those rows out.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
PORT=${PORT:-18088}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RSS_REQUESTS=${RSS_REQUESTS:-1000000}
OUT=${OUT:-target/bench}
URL="http://127.0.0.1:${PORT}/api/auth/get-session"
mkdir -p "$OUT"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  echo "installing wrk (Debian package)…" >&2
  apt-get update >/dev/null && apt-get install -y wrk >/dev/null
fi
if [ -z "${SKIP_OHA:-}" ] && ! need oha; then
  echo "installing oha from crates.io (cargo install oha)…" >&2
  cargo install oha --locked >/dev/null
fi
need taskset || { echo "taskset is missing (util-linux)" >&2; exit 2; }
[ -x /usr/bin/time ] || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
if [ -z "${SKIP_AUTOCANNON:-}" ] && [ ! -x "$OUT/node/node_modules/.bin/autocannon" ]; then
  echo "installing autocannon from npm…" >&2
  npm install --silent --prefix "$OUT/node" autocannon@9 >/dev/null
fi
if [ -z "${SKIP_LOCUST:-}" ] && [ ! -x "$OUT/locust-venv/bin/locust" ]; then
  echo "installing Locust from PyPI into a venv…" >&2
  python3 -m venv "$OUT/locust-venv" && "$OUT/locust-venv/bin/pip" install --quiet locust
fi

echo "building (release)…" >&2
cargo build --release --quiet --bin ba-harness --example canned_server --example jwt_verify_bench \
  --example reqwest_loop
BIN=target/release/ba-harness

taskset -c "$SERVER_CPU" target/release/examples/canned_server "$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "$URL" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" | tee "$OUT/summary.txt"
echo "server on core $SERVER_CPU, each client on core $CLIENT_CPU; ${DURATION} s, ${CONNS} connections" | tee -a "$OUT/summary.txt"

# Each client runs under GNU time: requests/s is what it drove; CPU µs per request (user + sys
# over requests) is what each request cost it, a figure that holds even when other work on the
# machine takes part of the client's core (the load average is printed with the table).
cpu_of() { awk '{print $1 + $2}' "$1"; }

# wrk: one thread, CONNS connections.
taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %e" -o "$OUT/wrk.time" \
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$URL" >"$OUT/wrk.txt"
WRK=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk.txt")
WRK_N=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")

# oha: CONNS connections, no TUI, JSON summary.
OHA=0; OHA_N=0; rm -f "$OUT/oha.time"
if [ -z "${SKIP_OHA:-}" ]; then
  taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %e" -o "$OUT/oha.time" \
    oha -z "${DURATION}s" -c "$CONNS" --no-tui --output-format json "$URL" >"$OUT/oha.json"
  read -r OHA OHA_N < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["requestsPerSec"], round(s["requestsPerSec"]*s["total"]))' "$OUT/oha.json")
fi

# The same loop without goose (examples/reqwest_loop.rs): reqwest, same client settings, same
# check. What separates it from ba-harness is goose's per-request scheduling and metrics.
taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %e" -o "$OUT/reqwest-loop.time" \
  target/release/examples/reqwest_loop "http://127.0.0.1:${PORT}" "$CONNS" "$DURATION" >"$OUT/reqwest-loop.json"
read -r RL RL_N < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["failures"]==0, "reqwest loop saw failures"; print(r["per_second"], r["requests"])' "$OUT/reqwest-loop.json")

# ba-harness: CONNS virtual users, every answer parsed and checked (200, JSON, the user's id).
taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %e" -o "$OUT/ba-harness.time" \
  "$BIN" load --scenario get-session --target "http://127.0.0.1:${PORT}" \
  --users "$CONNS" --hatch-rate 1000 --run-time "${DURATION}s" \
  --report "$OUT/ba-harness.json" --report "$OUT/ba-harness.md" >"$OUT/ba-harness.txt"
read -r BA BA_N < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["ba_harness"]; assert r["observed"]["failures"]==0, "ba-harness saw failures"; print(r["rows"][0]["per_second"], r["observed"]["requests"])' "$OUT/ba-harness.json")

# autocannon: CONNS connections, one process, no check (it cannot check a body).
AC=0; AC_N=0; rm -f "$OUT/autocannon.time"
if [ -z "${SKIP_AUTOCANNON:-}" ]; then
  taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %e" -o "$OUT/autocannon.time" \
    "$OUT/node/node_modules/.bin/autocannon" -c "$CONNS" -d "$DURATION" -j "$URL" >"$OUT/autocannon.json" 2>/dev/null
  read -r AC AC_N < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["non2xx"]==0 and r["errors"]==0, "autocannon saw failures"; print(r["requests"]["total"]/r["duration"], r["requests"]["total"])' "$OUT/autocannon.json")
fi

# Locust: one process (one core), CONNS FastHttpUsers, no wait, the same check.
LO=0; LO_N=0; rm -f "$OUT/locust.time"
if [ -z "${SKIP_LOCUST:-}" ]; then
  taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %e" -o "$OUT/locust.time" \
    "$OUT/locust-venv/bin/locust" -f benches/locustfile.py --headless -u "$CONNS" -r "$CONNS" \
    -t "${DURATION}s" --host "http://127.0.0.1:${PORT}" --only-summary --csv "$OUT/locust" \
    --loglevel WARNING >"$OUT/locust.txt" 2>&1 || true
  read -r LO LO_N < <(python3 -c '
import csv, sys
row = next(r for r in csv.DictReader(open(sys.argv[1])) if r["Name"] == "Aggregated")
assert int(row["Failure Count"]) == 0, "Locust saw failures"
print(row["Requests/s"], row["Request Count"])' "$OUT/locust_stats.csv")
fi

{
  echo "load average after the clients ran: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| client | requests/s | ratio to wrk | CPU µs per request | CPU ratio (wrk / client) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  python3 - "$WRK" "$WRK_N" "$(cpu_of "$OUT/wrk.time")" \
    "$OHA" "$OHA_N" "$( [ -f "$OUT/oha.time" ] && cpu_of "$OUT/oha.time" || echo 0)" \
    "$RL" "$RL_N" "$(cpu_of "$OUT/reqwest-loop.time")" \
    "$BA" "$BA_N" "$(cpu_of "$OUT/ba-harness.time")" \
    "$AC" "$AC_N" "$( [ -f "$OUT/autocannon.time" ] && cpu_of "$OUT/autocannon.time" || echo 0)" \
    "$LO" "$LO_N" "$( [ -f "$OUT/locust.time" ] && cpu_of "$OUT/locust.time" || echo 0)" <<'EOF'
import sys
v = [float(x) for x in sys.argv[1:]]
rows = [("wrk (1 thread)", *v[0:3]), ("oha", *v[3:6]),
        ("reqwest loop, same check, no goose", *v[6:9]), ("ba-harness load (checks on)", *v[9:12]),
        ("autocannon (no check)", *v[12:15]), ("Locust FastHttpUser (same check)", *v[15:18])]
rows = [r for r in rows if r[2] > 0]
wrk_rps, wrk_us = rows[0][1], rows[0][3] / rows[0][2] * 1e6
per = {}
for name, rps, n, cpu in rows:
    us = cpu / n * 1e6
    per[name] = (rps, us)
    print(f"| {name} | {rps:,.0f} | {rps / wrk_rps:.2f}× | {us:.1f} | {wrk_us / us:.2f}× |")
ba = per["ba-harness load (checks on)"]
print()
# Per client core: requests per CPU second (each client had one core).
if "Locust FastHttpUser (same check)" in per:
    lo = per["Locust FastHttpUser (same check)"]
    print(f"ba-harness / Locust, checked requests per CPU second: {lo[1] / ba[1]:.2f}× (goal ≥ 5×)")
if "autocannon (no check)" in per:
    ac = per["autocannon (no check)"]
    print(f"ba-harness / autocannon, requests per CPU second: {ac[1] / ba[1]:.2f}× (goal > 1×); requests/s {ba[0] / ac[0]:.2f}×")
rl = per["reqwest loop, same check, no goose"]
print(f"ba-harness CPU per request / the reqwest loop's: {ba[1] / rl[1]:.2f}× (goal ≤ 1.25×)")
EOF
} | tee -a "$OUT/summary.txt"

if [ -z "${SKIP_RSS:-}" ]; then
  echo | tee -a "$OUT/summary.txt"
  echo "| ba-harness run against the canned server | requests | peak RSS | wall time |" | tee -a "$OUT/summary.txt"
  echo "| --- | ---: | ---: | ---: |" | tee -a "$OUT/summary.txt"
  for total in $((RSS_REQUESTS / 10)) "$RSS_REQUESTS"; do
    per_user=$((total / CONNS))
    taskset -c "$CLIENT_CPU" /usr/bin/time -v "$BIN" load --scenario get-session \
      --target "http://127.0.0.1:${PORT}" --users "$CONNS" --hatch-rate 1000 --iterations "$per_user" \
      --report "$OUT/rss-$total.json" >"$OUT/rss-$total.txt" 2>"$OUT/rss-$total.time"
    python3 - "$OUT/rss-$total.json" "$OUT/rss-$total.time" <<'EOF'
import json, re, sys
report = json.load(open(sys.argv[1]))["ba_harness"]
timing = open(sys.argv[2]).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", timing).group(1)
requests = report["observed"]["requests"]
assert report["observed"]["failures"] == 0, "failures in the RSS run"
print(f"| --iterations {report['iterations']} × {report['users']} users | {requests:,} | {rss_kb / 1024:.1f} MiB | {wall} |")
EOF
  done | tee -a "$OUT/summary.txt"
fi

if [ -z "${SKIP_JWT:-}" ]; then
  echo | tee -a "$OUT/summary.txt"
  taskset -c "$CLIENT_CPU" target/release/examples/jwt_verify_bench 3 | tee -a "$OUT/summary.txt"
fi
echo >&2
echo "raw outputs and summary.txt in $OUT/" >&2

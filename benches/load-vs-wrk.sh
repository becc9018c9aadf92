#!/usr/bin/env bash
# Benchmark, not a test: how many requests/s `ba-harness load` drives (with its per-response
# checks on) against wrk and oha, in one run on this machine.
#
# A minimal fast server (examples/canned_server.rs, one thread) answers get-session with a canned
# body; it is pinned to one core and each client to another (taskset), one client at a time,
# with the same number of connections. Each client's requests/s is reported as a ratio to wrk's,
# and so is its CPU time per request. A fourth row, examples/reqwest_loop.rs, is the harness's
# get-session loop without goose (same reqwest client settings, same check): it shows how much of
# the cost is goose's and how much the HTTP client's.
# Then: peak RSS of ba-harness for a 100k- and a 1M-request run against the same server (memory
# must stay flat), and the JWT verification microbenchmark (examples/jwt_verify_bench.rs).
#
#   bash benches/load-vs-wrk.sh              # defaults: 10 s per client, 8 connections
#   DURATION=20 CONNS=16 bash benches/load-vs-wrk.sh
#   SKIP_RSS=1 SKIP_JWT=1 bash benches/load-vs-wrk.sh
#
# Needs: taskset (util-linux), wrk (Debian: apt-get install -y wrk), oha (cargo install oha),
# GNU time (/usr/bin/time). Installs wrk and oha if missing; not run in CI.
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
if ! need oha; then
  echo "installing oha from crates.io (cargo install oha)…" >&2
  cargo install oha --locked >/dev/null
fi
need taskset || { echo "taskset is missing (util-linux)" >&2; exit 2; }
[ -x /usr/bin/time ] || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }

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
taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %e" -o "$OUT/oha.time" \
  oha -z "${DURATION}s" -c "$CONNS" --no-tui --output-format json "$URL" >"$OUT/oha.json"
read -r OHA OHA_N < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["requestsPerSec"], round(s["requestsPerSec"]*s["total"]))' "$OUT/oha.json")

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

{
  echo "load average after the clients ran: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| client | requests/s | ratio to wrk | CPU µs per request | CPU ratio (wrk / client) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  python3 - "$WRK" "$WRK_N" "$(cpu_of "$OUT/wrk.time")" "$OHA" "$OHA_N" "$(cpu_of "$OUT/oha.time")" \
    "$RL" "$RL_N" "$(cpu_of "$OUT/reqwest-loop.time")" \
    "$BA" "$BA_N" "$(cpu_of "$OUT/ba-harness.time")" <<'EOF'
import sys
v = [float(x) for x in sys.argv[1:]]
rows = [("wrk (1 thread)", *v[0:3]), ("oha", *v[3:6]),
        ("reqwest loop, same check, no goose", *v[6:9]), ("ba-harness load (checks on)", *v[9:12])]
wrk_rps, wrk_us = rows[0][1], rows[0][3] / rows[0][2] * 1e6
for name, rps, n, cpu in rows:
    us = cpu / n * 1e6
    print(f"| {name} | {rps:,.0f} | {rps / wrk_rps:.2f}× | {us:.1f} | {wrk_us / us:.2f}× |")
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

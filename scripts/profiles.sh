#!/usr/bin/env bash
# The profile matrix: `conform --target` against the bundled reference booted in each of its
# configuration profiles (targets/better-auth/server.mjs, BA_PROFILE; docs/profiles.md), with only
# the flags that state facts the harness cannot discover. Every profile must exit 0.
#
#   scripts/profiles.sh                 # the whole matrix, one profile at a time
#   scripts/profiles.sh cookie_cache    # only the tests whose name contains this
#   scripts/profiles.sh --repeat N PROFILE [conform flags...]
#                                       # boot PROFILE once, run conform N times against it
#                                       # (e.g. --repeat 10 closed-signup --concurrency 8;
#                                       # plain http profiles only: not tls-proxy;
#                                       # BA_HARNESS_BIN=path uses that binary, no build)
#
# The matrix runs the tests of tests/profiles.rs (the ignored ones too) one at a time and prints
# a Markdown table (also in target/profiles/<timestamp>/table.md; logs next to it). Each test is
# bounded by `timeout`; everything stays on 127.0.0.1. Exit 1 when any profile failed.
set -euo pipefail
cd "$(dirname "$0")/.."

out="target/profiles/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

if [ "${1:-}" = "--repeat" ]; then
  runs="${2:?usage: $0 --repeat N PROFILE [conform flags...]}"
  profile="${3:?usage: $0 --repeat N PROFILE [conform flags...]}"
  shift 3
  . scripts/conform-runs.sh
  harness_bin
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(36))')
  run_dir="$PWD/$out"
  ready="$run_dir/ready.json"
  (cd targets/better-auth && BA_PROFILE="$profile" PORT="$port" BETTER_AUTH_SECRET="$secret" \
    READY_FILE="$ready" DATABASE_PATH="$run_dir/reference.sqlite" \
    USERS_FILE="$run_dir/users.txt" BA_HARNESS_PARENT_PID=$$ \
    exec node server.mjs) >"$out/server.log" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do [ -s "$ready" ] && break; sleep 0.1; done
  [ -s "$ready" ] || { echo "profiles: the reference did not start; see $out/server.log" >&2; exit 3; }
  field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$ready" "$1"; }
  facts=(--target "$(field base_url)")
  for pair in client_id:--client-id redirect_uri:--redirect-uri \
    post_logout_redirect_uri:--post-logout-redirect-uri users_file:--users-file; do
    value=$(field "${pair%%:*}")
    [ -n "$value" ] && facts+=("${pair#*:}" "$value")
  done
  echo "profiles: $runs runs against $profile at $(field base_url)"
  failed=0
  for i in $(seq 1 "$runs"); do
    started=$(date +%s)
    BA_HARNESS_SECRET="$secret" run_conform "$out/run-$i.log" "$out/run-$i.json" "${facts[@]}" "$@"
    summary=$(grep -m1 '^conform:' "$out/run-$i.log" || echo "(no summary)")
    echo "run $i: exit $code in $(( $(date +%s) - started )) s: $summary"
    [ "$code" = 0 ] || failed=$((failed + 1))
  done
  echo "profiles: $failed of $runs runs failed (logs in $out)"
  [ "$failed" = 0 ]
  exit
fi

filter="${1:-}"
cargo test --quiet --test profiles --no-run
tests=$(cargo test --quiet --test profiles -- --list --include-ignored 2>/dev/null | sed -n 's/: test$//p')
failed=0
{
  echo "| test | verdict | wall time | profile | exit | boot | run | summary |"
  echo "|---|---|---|---|---|---|---|---|"
} | tee "$out/table.md"
for test in $tests; do
  if [ -n "$filter" ] && [[ $test != *"$filter"* ]]; then continue; fi
  started=$(date +%s)
  set +e
  timeout 1500 cargo test --quiet --test profiles -- --include-ignored --exact "$test" --nocapture \
    >"$out/$test.log" 2>&1
  code=$?
  set -e
  secs=$(( $(date +%s) - started ))
  line=$(grep -m1 '^PROFILE ' "$out/$test.log" || echo "PROFILE (no run line; see the log)")
  if [ "$code" = 0 ]; then verdict=pass; else verdict="FAIL (cargo test exit $code)"; failed=$((failed + 1)); fi
  echo "| $test | $verdict | $secs s | ${line#PROFILE } |" | tee -a "$out/table.md"
done
echo "profiles: $failed failed; table and logs in $out"
[ "$failed" = 0 ]

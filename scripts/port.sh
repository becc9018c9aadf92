#!/usr/bin/env bash
# Runs the conformance suite against a port of Better Auth, from a fresh clone:
#
#   scripts/port.sh rust   [conform flags...]   # crates.io better-auth 1.0.0-alpha.5 on axum
#   scripts/port.sh python [conform flags...]   # PyPI better-auth-server 1.1.0 on FastAPI
#   scripts/port.sh typescript [conform flags...]  # the bundled reference, same flags (matrix)
#
# First use builds the Rust server (targets/better-auth-rs, its own Cargo project and target
# dir; needs libicu-dev and pkg-config; a cold build took about 27 min on 2 busy cores) or creates targets/better-auth-py/.venv and installs the pinned
# requirements. Then the server is started on a free 127.0.0.1 port with the configuration the
# bundled reference runs with (cookie cache 6 s, updateAge 3 s, a fresh random secret that the
# harness is given to verify signatures), the script waits for its ready line (at most
# PORT_READY_TIMEOUT seconds, default 60), runs
#   cargo run --release -- conform --target http://127.0.0.1:PORT ... --json reports/port-NAME.json
# and stops the server on exit, whatever happens. The exit code is conform's (0 passed,
# 1 a conformance failure, ...); 3 when the port could not be built, installed or started.
#
# Flags given after the port name go to conform; one the script would set itself (--tags,
# --json, --deviations, --rate-limit-max, --session-update-age, --client-id, ...) replaces the
# script's value (e.g. --tags '@jwt'). PORT_JSON=FILE changes the report path; PORT_DEVIATIONS=FILE the
# known-deviation list (default: none, see below). PORT_SUBCOMMAND=snapshot records the
# exchanges instead, for `ba-harness diff` against the reference:
#   PORT_SUBCOMMAND=snapshot scripts/port.sh typescript --out snapshots/typescript
#   PORT_SUBCOMMAND=snapshot scripts/port.sh python --out snapshots/python
#   cargo run --release -- diff snapshots/typescript snapshots/python
#
# The ports are judged without known-deviations.toml: its entries are findings about the
# TypeScript release and must not excuse another implementation (scripts/matrix.py marks a port
# failure that matches one of them).
set -euo pipefail

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
name=$1
shift
case "$name" in
  rust | python | typescript) ;;
  *) usage ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p reports
json=${PORT_JSON:-reports/port-$name.json}
ready_timeout=${PORT_READY_TIMEOUT:-60}
subcommand=${PORT_SUBCOMMAND:-conform}
case "$subcommand" in conform | snapshot) ;; *) usage ;; esac
# The same tag filter for every implementation, so the matrix compares like with like: these
# scenarios check an application around the auth server (the bundled Next.js, Express, NestJS,
# TanStack Start apps, the FastAPI resource server), which a port run does not start.
default_tags='not @next-app and not @resource-server and not @express and not @nestjs and not @tanstack-start'

log() { printf 'port.sh: %s\n' "$*" >&2; }

# Whether the caller gave this conform flag (conform refuses a flag given twice).
given() {
  local flag
  for flag in "${user_args[@]}"; do
    [[ $flag == "$1" || $flag == "$1="* ]] && return 0
  done
  return 1
}
user_args=("$@")
# Appends `FLAG VALUE...` to the named array unless the caller gave FLAG.
add() {
  local -n into=$1
  shift
  given "$1" || into+=("$@")
}

if [[ $name == typescript ]]; then
  # No server to manage: conform boots the bundled reference itself (secret, client, limits).
  set +e
  ts_args=()
  add ts_args --tags "$default_tags"
  add ts_args --json "$json"
  cargo run --release --quiet -- "$subcommand" "${ts_args[@]}" "$@"
  code=$?
  log "TypeScript reference: conform exit code $code, report $json"
  exit $code
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ba-harness-port-$name.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  # The server's log outlives the run (reports/ is not committed): failures often need it.
  [[ -f $work/server.log ]] && cp "$work/server.log" "reports/port-$name.server.log"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

elapsed() { echo $(($(date +%s) - $1)); }

case "$name" in
  rust)
    dir=targets/better-auth-rs
    bin=$dir/target/release/ba-harness-target-better-auth-rs
    started=$(date +%s)
    log "building the Rust port's server ($dir; first build takes minutes)…"
    # The port collates with ICU (rust_icu_* crates, prebuilt bindings chosen by the major
    # version of the system's libicu-dev, read at compile time).
    if [[ -z ${RUST_ICU_MAJOR_VERSION_NUMBER:-} ]]; then
      if ! icu=$(pkg-config --modversion icu-i18n 2>/dev/null); then
        log "the Rust port needs ICU's development files (Debian/Ubuntu: apt-get install libicu-dev pkg-config)"
        exit 3
      fi
      export RUST_ICU_MAJOR_VERSION_NUMBER=${icu%%.*}
    fi
    # Its own target dir, whatever CARGO_TARGET_DIR says: the binary path below depends on it.
    if ! CARGO_TARGET_DIR="$root/$dir/target" cargo build --release --locked \
      --manifest-path "$dir/Cargo.toml" 2>"$work/build.log"; then
      tail -n 40 "$work/build.log" >&2
      log "the Rust port did not build (log above)"
      exit 3
    fi
    log "Rust port built in $(elapsed "$started") s"
    command=("$bin")
    ;;
  python)
    dir=targets/better-auth-py
    venv=$dir/.venv
    stamp=$venv/.requirements.sha256
    want=$(sha256sum "$dir/requirements.txt" | cut -d' ' -f1)
    if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
      started=$(date +%s)
      python=${PYTHON:-python3}
      log "creating $venv with $($python --version 2>&1) and installing $dir/requirements.txt…"
      rm -rf "$venv"
      if ! "$python" -m venv "$venv" >"$work/install.log" 2>&1 ||
        ! "$venv/bin/pip" install --disable-pip-version-check --no-input \
          -r "$dir/requirements.txt" >>"$work/install.log" 2>&1; then
        tail -n 40 "$work/install.log" >&2
        log "installing the Python port failed (log above; Python 3.10-3.14 is required)"
        exit 3
      fi
      echo "$want" >"$stamp"
      log "Python port installed in $(elapsed "$started") s"
    fi
    command=("$venv/bin/python" "$dir/server.py")
    ;;
esac

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(36))')
ready_file=$work/ready.json
started=$(date +%s%N)
PORT=$port BETTER_AUTH_SECRET=$secret READY_FILE=$ready_file \
  COOKIE_CACHE_MAX_AGE=6 SESSION_UPDATE_AGE=3 DATABASE_PATH="$work/port.sqlite" \
  "${command[@]}" >"$work/server.log" 2>&1 &
server_pid=$!

deadline=$(($(date +%s) + ready_timeout))
until [[ -s $ready_file ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    tail -n 40 "$work/server.log" >&2
    log "the $name port exited before it was ready (log above)"
    exit 3
  fi
  if (($(date +%s) > deadline)); then
    tail -n 40 "$work/server.log" >&2
    log "the $name port was not ready within $ready_timeout s (log above)"
    exit 3
  fi
  sleep 0.1
done
sleep 0.1 # the ready file is written in one call; let it land
log "$name port ready on 127.0.0.1:$port in $((($(date +%s%N) - started) / 1000000)) ms"

# What the server says about itself: its rate limit and, if it has the OAuth provider, the
# client it seeded (with end session enabled, which dynamic registration cannot set).
field() {
  python3 -c 'import json, sys; v = json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' \
    "$ready_file" "$1"
}
args=(--target "http://127.0.0.1:$port")
add args --session-update-age 3
add args --tags "$default_tags"
rate_limit_max=$(field rate_limit_max)
add args --rate-limit-max "${rate_limit_max:-0}"
client_id=$(field client_id)
if [[ -n $client_id ]]; then
  add args --client-id "$client_id"
  add args --redirect-uri "$(field redirect_uri)"
  add args --post-logout-redirect-uri "$(field post_logout_redirect_uri)"
fi
deviations=${PORT_DEVIATIONS:-$work/no-deviations.toml}
[[ -n ${PORT_DEVIATIONS:-} ]] || : >"$deviations"
add args --deviations "$deviations"
add args --json "$json"

set +e
BA_HARNESS_SECRET=$secret cargo run --release --quiet -- "$subcommand" "${args[@]}" "$@"
code=$?
set -e
if ! kill -0 "$server_pid" 2>/dev/null; then
  log "the $name port was no longer running at the end of the run; its log:"
  tail -n 40 "$work/server.log" >&2
fi
log "$name port: conform exit code $code, report $json, server log reports/port-$name.server.log"
exit $code

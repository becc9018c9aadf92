#!/usr/bin/env bash
# Runs the CI recipes in examples/ci/ the way a CI runner would, against the bundled reference
# server, so that a recipe that no longer works fails here:
#   - every `run:` step of examples/ci/github-actions.yml and every `script:` line of
#     examples/ci/gitlab-ci.yml, in order, read from the YAML (nothing is copied by hand);
#   - with the recipe's own variables, except the ones a local run must change:
#       BA_HARNESS_GIT   file://<this clone> (cargo install --git installs its committed HEAD)
#       BA_HARNESS_REV   the branch checked out here
#       BA_TARGET        the bundled reference, started by this script on a free port
#       CARGO_HOME       left as it is (a fresh one would download every crate again)
#       CARGO_INSTALL_ROOT, CI_PROJECT_DIR, GITHUB_STEP_SUMMARY: in a temporary folder
#   - the placeholder step that starts "your server" is replaced by starting the bundled
#     reference (targets/better-auth, node_modules installed here); `uses:` steps (checkout,
#     toolchain, cache, upload) are GitHub's own and are listed, not run;
#   - then the outputs are checked: the JUnit file parses as XML with test cases, the Markdown
#     summary was written (and appended to the step summary), and the harness exited 0.
#
# Needs: cargo, git, node (the reference's node_modules installed, as for `cargo test`),
# python3 with PyYAML, curl. The first run builds ba-harness in release mode with
# `cargo install` (it reuses target/ through CARGO_TARGET_DIR, still minutes on 2 cores).
# Usage: scripts/ci-recipes.sh            (both recipes)
#        scripts/ci-recipes.sh github     (one of them)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WHICH="${1:-all}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ba-harness-ci-recipes.XXXXXX")"
REFERENCE_PID=""
cleanup() {
  if [ -n "$REFERENCE_PID" ]; then kill "$REFERENCE_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock features known-deviations.toml scenarios targets)" ]; then
  echo "ci-recipes: note: uncommitted changes in $ROOT are not installed (cargo install --git installs HEAD)" >&2
fi

# The commands of one recipe, one per line as NUL-separated records: "<label>\t<command>".
extract() {
  python3 - "$1" "$2" <<'PY'
import sys, yaml
kind, path = sys.argv[1], sys.argv[2]
doc = yaml.safe_load(open(path))
out = []
if kind == "github":
    (job,) = doc["jobs"].values()
    for i, step in enumerate(job["steps"]):
        label = step.get("name") or step.get("uses") or f"step {i + 1}"
        if "run" in step:
            out.append(("run", label, step["run"]))
        else:
            out.append(("uses", label, step.get("uses", "")))
    variables = doc.get("env", {})
else:
    (job,) = [v for k, v in doc.items() if isinstance(v, dict) and "script" in v]
    for line in job["script"]:
        out.append(("run", line.split("\n")[0][:60], line))
    variables = job.get("variables", {})
for name, value in variables.items():
    sys.stdout.write(f"var\t{name}\t{value}\0")
for kind_, label, command in out:
    sys.stdout.write(f"{kind_}\t{label}\t{command}\0")
PY
}

start_reference() {
  local dir="$ROOT/targets/better-auth"
  if [ ! -d "$dir/node_modules/better-auth" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund > "$TMP/npm-ci.log" 2>&1)
  fi
  rm -f "$TMP/ready.json"
  # A free port, chosen here: the server derives its base URL from PORT before it listens.
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  (cd "$dir" && PORT="$port" DATABASE_PATH="$TMP/reference.sqlite" READY_FILE="$TMP/ready.json" \
    BETTER_AUTH_SECRET="ci-recipes-$(date +%s)-$$-not-a-real-secret" \
    exec node server.mjs > "$TMP/reference.log" 2>&1) &
  REFERENCE_PID=$!
  for _ in $(seq 1 120); do
    [ -s "$TMP/ready.json" ] && break
    sleep 0.5
  done
  [ -s "$TMP/ready.json" ] || { echo "the bundled reference did not start"; cat "$TMP/reference.log"; exit 1; }
  BA_TARGET="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$TMP/ready.json")"
  export BA_TARGET
  echo "    (bundled reference at $BA_TARGET)"
}

stop_reference() {
  if [ -n "$REFERENCE_PID" ]; then kill "$REFERENCE_PID" 2>/dev/null || true; wait "$REFERENCE_PID" 2>/dev/null || true; fi
  REFERENCE_PID=""
}

check_outputs() {
  local workspace="$1"
  python3 - "$workspace/reports/ba-harness.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
assert cases, "no <testcase> in the JUnit report"
failures = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
assert not failures, f"failed cases: {failures}"
print(f"    JUnit: {len(cases)} test cases, 0 failures ({sys.argv[1]})")
PY
  test -s "$workspace/reports/ba-harness.md" || { echo "no Markdown summary written"; exit 1; }
  echo "    Markdown summary: $(wc -l < "$workspace/reports/ba-harness.md") lines"
}

run_recipe() {
  local kind="$1" file="$2"
  local workspace="$TMP/$kind-workspace"
  mkdir -p "$workspace"
  echo "== $file"
  local -a records=()
  while IFS= read -r -d '' record; do records+=("$record"); done < <(extract "$kind" "$ROOT/$file")
  # The recipe's variables first (they may name CI_PROJECT_DIR), then the local overrides.
  local record name value label command kind_ rest
  export CI_PROJECT_DIR="$workspace"
  for record in "${records[@]}"; do
    IFS=$'\t' read -r kind_ name value <<< "${record%%$'\n'*}"
    if [ "$kind_" = var ]; then
      export "$name=$(eval "printf '%s' \"$value\"")"
    fi
  done
  export BA_HARNESS_GIT="file://$ROOT"
  BA_HARNESS_REV="$(git -C "$ROOT" rev-parse --abbrev-ref HEAD)"
  export BA_HARNESS_REV
  export CARGO_HOME="${ORIGINAL_CARGO_HOME}"
  export CARGO_INSTALL_ROOT="$TMP/cargo-root"
  export CARGO_TARGET_DIR="$ROOT/target"
  export GITHUB_STEP_SUMMARY="$TMP/$kind-step-summary.md"
  export PATH="$CARGO_INSTALL_ROOT/bin:$ORIGINAL_PATH"
  : > "$GITHUB_STEP_SUMMARY"
  local script="$TMP/$kind-script.sh"
  : > "$script"
  for record in "${records[@]}"; do
    kind_="${record%%$'\t'*}"
    rest="${record#*$'\t'}"
    label="${rest%%$'\t'*}"
    command="${rest#*$'\t'}"
    case "$kind_" in
      var) continue ;;
      uses) echo "--- $label: a GitHub action, not run here"; continue ;;
    esac
    if [[ "$label" == "Start the server under test" || "$command" == *start-your-server* ]]; then
      echo "--- $label: placeholder, replaced by the bundled reference"
      start_reference
      [ "$kind" = gitlab ] && printf '%s\n' ": placeholder: the bundled reference runs at \$BA_TARGET" >> "$script"
      continue
    fi
    if [ "$kind" = gitlab ]; then
      # GitLab runs a job's script lines in one shell (an `export` carries over): so do we.
      printf 'echo %q\n%s\n' "--- $label" "$command" >> "$script"
      continue
    fi
    # GitHub runs each step in a shell of its own.
    echo "--- $label"
    (cd "$workspace" && bash -euo pipefail -c "$command") || {
      echo "ci-recipes: FAILED in $file: $label"; exit 1;
    }
  done
  if [ "$kind" = gitlab ]; then
    (cd "$workspace" && bash -eo pipefail "$script") || { echo "ci-recipes: FAILED in $file"; exit 1; }
  fi
  stop_reference
  check_outputs "$workspace"
  if [ "$kind" = github ]; then
    test -s "$GITHUB_STEP_SUMMARY" || { echo "nothing was written to \$GITHUB_STEP_SUMMARY"; exit 1; }
    echo "    step summary: $(wc -l < "$GITHUB_STEP_SUMMARY") lines"
  fi
  echo "ok: $file"
}

ORIGINAL_CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
ORIGINAL_PATH="$PATH"
# The installed binary must use its embedded copy and its own cache, as in CI.
unset BA_HARNESS_TARGETS_DIR BA_HARNESS_FEATURES_DIR BA_HARNESS_DEVIATIONS BA_HARNESS_PROFILES_DIR
export XDG_CACHE_HOME="$TMP/xdg-cache"

case "$WHICH" in
  all) run_recipe github examples/ci/github-actions.yml; run_recipe gitlab examples/ci/gitlab-ci.yml ;;
  github) run_recipe github examples/ci/github-actions.yml ;;
  gitlab) run_recipe gitlab examples/ci/gitlab-ci.yml ;;
  *) echo "usage: $0 [all|github|gitlab]"; exit 2 ;;
esac
echo "ci-recipes: every recipe step ran and its outputs check out"

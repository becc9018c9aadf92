# Sourced (from the repository root) by the scripts that run `ba-harness conform` again and
# again: scripts/flakiness.sh and scripts/profiles.sh.

# Sets $bin: $BA_HARNESS_BIN when given (e.g. a frozen copy while the tree is being edited; pair
# it with BA_HARNESS_FEATURES_DIR and --deviations), else this tree's release binary, built.
harness_bin() {
  if [ -n "${BA_HARNESS_BIN:-}" ]; then
    bin="$BA_HARNESS_BIN"
  else
    cargo build --release --quiet
    bin=target/release/ba-harness
  fi
}

# run_conform LOG JSON [conform arguments...]: one conform run, bounded by --run-timeout and a
# hard `timeout`, its output in LOG and its JSON report in JSON. Sets $code to its exit status.
run_conform() {
  local log=$1 json=$2
  shift 2
  set +e
  timeout 900 "$bin" conform --run-timeout 600 --json "$json" "$@" >"$log" 2>&1
  code=$?
  set -e
}

#!/usr/bin/env bash
# The long fuzzing pass. (The short, bounded one is part of `cargo test`: tests/properties.rs
# with proptest's default 256 cases per property.)
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [PROPTEST_CASES]      defaults: 300 and 100000
#
# 1. tests/properties.rs with PROPTEST_CASES cases per property.
# 2. If cargo-fuzz is installed (`cargo install cargo-fuzz`), each libFuzzer target in fuzz/
#    for SECONDS_PER_TARGET seconds, seeded from fuzz/seeds/<target>, growing fuzz/corpus.
#    It runs with `-s none` (coverage instrumentation, no sanitizer), which works on the stable
#    toolchain: the address sanitizer needs nightly (-Zsanitizer), and the harness has no
#    unsafe code for it to watch; what the targets look for is panics. With a nightly
#    toolchain, FUZZ_ARGS="--sanitizer address" FUZZ_TOOLCHAIN=+nightly adds it.
#
# A finding is a failing property (proptest prints the shrunk input and saves its seed in
# tests/properties.proptest-regressions) or a crash input under fuzz/artifacts/<target>/
# (replay it with `cargo fuzz run -s none <target> <file>`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
cases="${2:-100000}"

echo "== proptest: $cases cases per property"
started=$(date +%s)
PROPTEST_CASES="$cases" cargo test --quiet --test properties
echo "== proptest done in $(( $(date +%s) - started )) s"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== cargo-fuzz is not installed (cargo install cargo-fuzz): libFuzzer targets skipped"
  exit 0
fi
toolchain="${FUZZ_TOOLCHAIN:-}"
read -r -a extra <<<"${FUZZ_ARGS:--s none}"
for target in set_cookie jwt redact next_forms snapshot; do
  mkdir -p "fuzz/corpus/$target"
  echo "== cargo fuzz: $target for $seconds s"
  # shellcheck disable=SC2086 # $toolchain is empty or one `+name` word
  cargo $toolchain fuzz run "${extra[@]}" "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" \
    -- -max_total_time="$seconds" -print_final_stats=1 2>&1 |
    grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs|stat::number_of_executed_units|==[0-9]+==|thread .* panicked|SUMMARY|artifact_prefix|Test unit written)' || true
  if compgen -G "fuzz/artifacts/$target/*" >/dev/null; then
    echo "!! $target: crash inputs in fuzz/artifacts/$target/"
    exit 1
  fi
done
echo "== fuzzing found nothing"

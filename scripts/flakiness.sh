#!/usr/bin/env bash
# Flakiness check: runs `ba-harness conform` against the bundled reference N times in a row
# (default 20) with the default concurrency, and reports every scenario whose verdict changed
# from one run to another. 0 changes is the expected result; the script exits 1 otherwise.
#
#   [BA_HARNESS_BIN=path] scripts/flakiness.sh [RUNS] [extra conform arguments...]
#   e.g. scripts/flakiness.sh 20
#        scripts/flakiness.sh 5 --tags @email-password
#
# Builds the release binary once. Every run is bounded (--run-timeout, plus a hard `timeout`);
# everything stays on 127.0.0.1. Reports go to target/flakiness/<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-20}"
shift || true
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 2 ]; then
  echo "usage: $0 [RUNS >= 2] [extra conform arguments...]" >&2
  exit 2
fi

. scripts/conform-runs.sh
harness_bin
out="target/flakiness/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

against="the bundled reference"
for arg in "$@"; do [ "$arg" = "--target" ] && against="the --target server"; done
echo "flakiness: $runs conform runs against $against; reports in $out"
started=$(date +%s)
for i in $(seq 1 "$runs"); do
  run_started=$(date +%s)
  run_conform "$out/run-$i.log" "$out/run-$i.json" "$@"
  echo "$code" >"$out/run-$i.code"
  summary=$(grep -o 'conform: [0-9].*' "$out/run-$i.log" | tail -n 1 || true)
  echo "  run $i/$runs: exit $code in $(( $(date +%s) - run_started )) s; ${summary:-no summary line}"
done

python3 - "$out" "$runs" "$(( $(date +%s) - started ))" <<'EOF'
import json, sys
from collections import Counter, defaultdict

out, runs, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
verdicts = defaultdict(dict)   # scenario -> run -> status
problems = []
exit_codes = Counter()
for i in range(1, runs + 1):
    code = open(f"{out}/run-{i}.code").read().strip()
    exit_codes[code] += 1
    try:
        report = json.load(open(f"{out}/run-{i}.json"))
    except (OSError, ValueError) as e:
        problems.append(f"run {i}: exit {code}, no JSON report ({e}); see {out}/run-{i}.log")
        continue
    for s in report["scenarios"]:
        key = f"{s['feature']} › {s['scenario']}  ({s['location']})"
        detail = s["status"]
        if s["status"] == "failed":
            detail += f": {s.get('rule', '')}"
        verdicts[key][i] = detail

changed = {}
for key, by_run in sorted(verdicts.items()):
    seen = Counter(by_run.values())
    missing = runs - len(problems) - len(by_run)
    if missing:
        seen["(absent from the report)"] += missing
    if len(seen) > 1:
        changed[key] = seen

print()
print(f"flakiness: {runs} runs in {seconds} s; exit codes {dict(exit_codes)}; "
      f"{len(verdicts)} scenarios")
for p in problems:
    print(f"  ! {p}")
if changed:
    print(f"scenarios whose verdict changed across runs ({len(changed)}):")
    for key, seen in changed.items():
        print(f"  ~ {key}")
        for verdict, n in seen.most_common():
            print(f"      {n:>3}× {verdict}")
stable = Counter()
for key, by_run in verdicts.items():
    if key not in changed:
        stable[next(iter(by_run.values())).split(":")[0]] += 1
print(f"stable verdicts: {dict(stable)}")
print(f"verdict changes: {len(changed)}")
sys.exit(1 if changed or problems else 0)
EOF

#!/usr/bin/env bash
# Validates the manifests here offline against the Kubernetes OpenAPI schemas that the PyPI
# package kubernetes-validate ships (no cluster, no network once installed), for the oldest and
# newest Kubernetes versions it knows that have everything the manifests use (Indexed Jobs are GA from 1.24;
# the package ships schemas from 1.25). Strict: an unknown field is an error.
#   bash deploy/kubernetes/validate.sh
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-../../target/k8s-validate-venv}
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet kubernetes-validate
fi
status=0
for version in ${K8S_VERSIONS:-1.25.0 1.30.0 1.37.0}; do
  echo "== Kubernetes $version"
  "$VENV/bin/kubernetes-validate" --strict --kubernetes-version "$version" workers.yaml merge.yaml || status=1
done
# What the schemas cannot say (they check field names and types, not enum values or how the
# manifests fit together): an Indexed Job whose worker count matches WORKERS, whose index feeds
# --worker, and whose reports volume is the one the merge reads.
echo "== consistency"
"$VENV/bin/python" - workers.yaml merge.yaml <<'PY' || status=1
import sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
config = by[("ConfigMap", "ba-harness-load")]["data"]
job = by[("Job", "ba-harness-load")]["spec"]
merge = by[("Job", "ba-harness-merge")]["spec"]
problems = []
if job.get("completionMode") != "Indexed":
    problems.append("the workers' Job is not completionMode: Indexed")
if not (job["completions"] == job["parallelism"] == int(config["WORKERS"])):
    problems.append("completions, parallelism and WORKERS differ: %s, %s, %s" % (job["completions"], job["parallelism"], config["WORKERS"]))
worker = job["template"]["spec"]["containers"][0]
script = " ".join(worker["args"])
for needle in ['--worker "$JOB_COMPLETION_INDEX/$WORKERS"', '--start-at "$START_AT"', '--allow-remote "$TARGET_HOST"', '/reports/worker-$JOB_COMPLETION_INDEX.json']:
    if needle not in script:
        problems.append("the worker command lacks " + needle)
claims = lambda spec: {v["persistentVolumeClaim"]["claimName"] for v in spec["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v}
if not claims(job) & claims(merge):
    problems.append("the merge does not mount the workers' reports volume")
if "load merge /reports/worker-*.json" not in " ".join(merge["template"]["spec"]["containers"][0]["args"]):
    problems.append("the merge does not read the workers' reports")
for p in problems:
    print("ERROR", p)
print("consistency:", "failed" if problems else "ok")
sys.exit(1 if problems else 0)
PY
exit $status

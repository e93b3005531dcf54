#!/usr/bin/env bash
# Static checks of the workflow definition and the SAM template, with the pinned tools:
#   asl-validator (npm, package.json)      infra/statemachine/deployment-gate.asl.json, fleet.asl.json
#   substitutions (.venv python)           each state machine's ASL ${...} placeholders == its DefinitionSubstitutions
#   dashboard     (.venv python)           each dashboard's body is JSON after !Sub, its widgets well-formed
#   least-privilege (.venv python)         infra/least_privilege.py on infra/template.yaml
#   least-privilege-mutations              infra/least_privilege_test.py: each rule bites (a broken copy of the template per rule)
#   watchdog      (.venv python)           infra/watchdog_check.py on infra/template.yaml
#   cfn-lint      (requirements-dev.txt)   infra/template.yaml
#   checkov       (requirements-dev.txt)   infra/template.yaml
# Prints one line per check. Exit 0: no findings; 1: findings (printed under the check's line);
# 2: a tool is missing (the line names the install command). Runs from any directory.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2

asl=infra/statemachine/deployment-gate.asl.json
fleet_asl=infra/statemachine/fleet.asl.json
template=infra/template.yaml
asl_validator=node_modules/.bin/asl-validator
venv_python=.venv/bin/python
cfn_lint=.venv/bin/cfn-lint
checkov=.venv/bin/checkov

missing=0
if [[ ! -x $asl_validator ]]; then
    echo "check: asl-validator missing ($asl_validator); install it with: npm ci"
    missing=1
fi
for tool in "$venv_python" "$cfn_lint" "$checkov"; do
    if [[ ! -x $tool ]]; then
        echo "check: $(basename "$tool") missing ($tool); install it with: python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt"
        missing=1
    fi
done
((missing)) && exit 2

failed=0
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

# report NAME RC [SUMMARY]: one line; on failure the tool's output follows, indented.
report() {
    if [[ $2 -eq 0 ]]; then
        echo "$1: ok${3:+ ($3)}"
    else
        echo "$1: FAILED${3:+ ($3)}"
        sed 's/^/    /' "$out"
        failed=1
    fi
}

rc=0
: >"$out"
for file in "$asl" "$fleet_asl"; do
    "$asl_validator" --json-path "$file" >>"$out" 2>&1 || rc=1
done
report asl-validator $rc "$asl, $fleet_asl"

# Each state machine of the template with its own definition: the gate's and the fleet's.
"$venv_python" - "$template" >"$out" 2>&1 <<'PY'
import json, re, sys
from pathlib import Path
from cfnlint.decode import decode

template_path = sys.argv[1]
definitions = {
    "StateMachine": "statemachine/deployment-gate.asl.json",
    "FleetStateMachine": "statemachine/fleet.asl.json",
}
template, matches = decode(template_path)
if matches:
    sys.exit(f"cannot read {template_path}: {matches}")
problems = []
machines = {n: r for n, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::Serverless::StateMachine"}
for name in sorted(set(definitions) - set(machines)):
    problems.append(f"no state machine {name} (AWS::Serverless::StateMachine) in the template")
for name, res in machines.items():
    props = res.get("Properties", {})
    want = definitions.get(name)
    if want is None:
        problems.append(f"{name}: a state machine this check has no definition for")
        continue
    if props.get("DefinitionUri") != want:
        problems.append(f"{name}: DefinitionUri is not {want}")
    text = (Path(template_path).parent / want).read_text()
    json.loads(text)
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
    subs = set(props.get("DefinitionSubstitutions", {}))
    for p in sorted(placeholders - subs):
        problems.append(f"{name}: ASL placeholder ${{{p}}} has no DefinitionSubstitutions entry")
    for s in sorted(subs - placeholders):
        problems.append(f"{name}: DefinitionSubstitutions entry {s} is not used by the ASL")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
report substitutions $? "each state machine's ASL placeholders match its DefinitionSubstitutions"

# cfn-lint reads a DashboardBody as an opaque string: parse it as CloudWatch will, after !Sub.
"$venv_python" - "$template" >"$out" 2>&1 <<'PY'
import json, re, sys
from cfnlint.decode import decode

template, matches = decode(sys.argv[1])
if matches:
    sys.exit(f"cannot read {sys.argv[1]}: {matches}")
known = set(template.get("Parameters", {})) | set(template.get("Resources", {}))
problems, dashboards = [], 0
for name, res in template.get("Resources", {}).items():
    if res.get("Type") != "AWS::CloudWatch::Dashboard":
        continue
    dashboards += 1
    body = res.get("Properties", {}).get("DashboardBody")
    sub = body.get("Fn::Sub") if isinstance(body, dict) else body
    if isinstance(sub, list) or not isinstance(sub, str):
        problems.append(f"{name}: DashboardBody is not a string or a one-argument !Sub")
        continue

    def substitute(m):
        if m.group(1):  # ${!x} is the literal ${x}
            return "${" + m.group(2) + "}"
        var = m.group(2)
        if not (var.startswith("AWS::") or var.split(".")[0] in known):
            problems.append(f"{name}: ${{{var}}} names nothing in the template")
        return "SUBSTITUTED"

    text = re.sub(r"\$\{(!?)([^}]*)\}", substitute, sub) if isinstance(body, dict) else sub
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        problems.append(f"{name}: DashboardBody is not JSON after !Sub: {e}")
        continue
    widgets = doc.get("widgets") if isinstance(doc, dict) else None
    if not widgets:
        problems.append(f"{name}: no widgets")
    for i, w in enumerate(widgets or []):
        props = w.get("properties", {})
        if w.get("type") != "metric":
            continue
        where = f"{name} widget {i} ({props.get('title', '?')})"
        if not props.get("region"):
            problems.append(f"{where}: no region")
        metrics = props.get("metrics")
        if not metrics or not all(isinstance(m, list) and m for m in metrics):
            problems.append(f"{where}: metrics is not a non-empty list of lists")
            continue
        ids = [m[-1].get("id") for m in metrics if isinstance(m[-1], dict) and "id" in m[-1]]
        if len(ids) != len(set(ids)):
            problems.append(f"{where}: duplicate metric ids {ids}")
        for i_ in ids:
            if not re.fullmatch(r"[a-z][a-zA-Z0-9_]*", i_):
                problems.append(f"{where}: metric id {i_!r} must start with a lowercase letter")
if not dashboards:
    problems.append("no AWS::CloudWatch::Dashboard in the template")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
report dashboard $? "each dashboard body is JSON after !Sub, with well-formed metric widgets"

"$venv_python" infra/least_privilege.py "$template" >"$out" 2>&1
report least-privilege $? "each role and operator policy grants exactly infra/permissions.json, each role trusted by its service only and run by its own resource; resource policies name only the listed services (scoped by condition) and the account root where meant; no wildcard, negated, SAM or unlisted policies; every resource the gate's own"

"$venv_python" infra/least_privilege_test.py >"$out" 2>&1
report least-privilege-mutations $? "$(tail -n1 "$out")"

"$venv_python" infra/watchdog_check.py "$template" >"$out" 2>&1
report watchdog $? "executions that end without a notification reach a second channel; the schedule keeps failed starts; no just-created role in the key policy"

"$cfn_lint" "$template" >"$out" 2>&1
report cfn-lint $? "$template"

# --skip-download: no network here (and none needed: the checks ship with the package).
"$checkov" -f "$template" --framework cloudformation --quiet --compact --skip-download >"$out" 2>&1
rc=$?
summary="$(grep -Eo 'Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$out" | head -n1)"
# A template checkov could not parse yields no summary line and exit 0: count that as a failure.
if [[ $rc -eq 0 && ! $summary =~ "Failed checks: 0," ]]; then
    rc=1
    summary="no scan summary (did the template parse?)"
fi
report checkov $rc "${summary:-$template}"

exit "$failed"

"""Who watches the watcher: checks of infra/template.yaml (run by infra/check.sh with the repo's .venv).

The gate's own alarm publishes to the gate's KMS-encrypted topic, so when SNS or that key is what
broke, the alarm cannot deliver either, and it fires only on a transition into ALARM. This says
what the template must have besides it:

- for each state machine (the gate, the fleet), an EventBridge rule on its executions that end
  FAILED with the error of a Fail state of its definition named `...Lost` (the run ended without
  its message: the gate's NotificationLost, StageGate.NotificationFailed; the fleet's SummaryLost,
  StageGate.FleetSummaryLost), ABORTED (stopped by hand) or TIMED_OUT, delivering to a second
  channel that depends neither on the outcome topic nor on its key (an SQS queue with SQS-managed
  encryption), with a retry policy;
- the schedule's target with a retry policy and a dead-letter queue, so a start that Scheduler
  could not make is kept, not dropped;
- a key policy that names no role the stack itself creates: a just-created role may not have
  propagated when KMS validates the policy (deploys then fail at random); the account-root
  statement and the role's own policy suffice.

Prints one line per problem and exits 1 when there is any.
"""

import json
import sys
from pathlib import Path

from cfnlint.decode import decode


def as_list(value):
    return value if isinstance(value, list) else [value]


def refs(value):
    """Every resource a value names through Ref or Fn::GetAtt."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
            else:
                yield from refs(inner)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def lost_errors(definition):
    """The errors of the Fail states named `...Lost` in an ASL definition (nested ones included)."""
    found = set()

    def walk(states):
        for name, state in (states or {}).items():
            if state.get("Type") == "Fail" and name.endswith("Lost") and isinstance(state.get("Error"), str):
                found.add(state["Error"])
            walk((state.get("ItemProcessor") or state.get("Iterator") or {}).get("States"))
            for branch in state.get("Branches", []):
                walk(branch.get("States"))

    walk(definition.get("States"))
    return found


def check_rule(resources, problems, template_dir):
    machines = {n: r for n, r in resources.items() if r.get("Type") == "AWS::Serverless::StateMachine"}
    topics = {n for n, r in resources.items() if r.get("Type") == "AWS::SNS::Topic"}
    # machine -> the errors its executions end with when their message was lost
    lost = {}
    for machine, res in machines.items():
        uri = res.get("Properties", {}).get("DefinitionUri")
        try:
            lost[machine] = lost_errors(json.loads((template_dir / uri).read_text()))
        except (TypeError, OSError, ValueError) as e:
            problems.append(f"{machine}: cannot read its definition {uri}: {e}")
            lost[machine] = set()
    watched = {}  # machine -> queues its rules deliver to
    for name, res in resources.items():
        if res.get("Type") != "AWS::Events::Rule":
            continue
        props = res.get("Properties", {})
        pattern = props.get("EventPattern", {})
        detail = pattern.get("detail", {})
        rule_machines = set(machines) & set(refs(detail.get("stateMachineArn")))
        if pattern.get("source") != ["aws.states"] or not rule_machines:
            continue
        branches = detail.get("$or", [detail])
        statuses = {s for b in branches for s in as_list(b.get("status", []))}
        failed_errors = {e for b in branches if "FAILED" in as_list(b.get("status", [])) for e in as_list(b.get("error", []))}
        for status in ("ABORTED", "TIMED_OUT"):
            if status not in statuses:
                problems.append(f"{name}: does not match executions that end {status}")
        for machine in sorted(rule_machines):
            for error in sorted(lost[machine] - failed_errors):
                problems.append(f"{name}: does not match executions of {machine} that FAILED with {error}")
        delivered = set()
        for target in as_list(props.get("Targets", [])):
            named = set(refs(target.get("Arn")))
            if named & topics:
                problems.append(f"{name}: target {sorted(named)} is an SNS topic (the channel that may be what broke)")
                continue
            queues = [q for q in named if resources.get(q, {}).get("Type") == "AWS::SQS::Queue"]
            for q in queues:
                qprops = resources[q].get("Properties", {})
                if qprops.get("KmsMasterKeyId") is not None or qprops.get("SqsManagedSseEnabled") is not True:
                    problems.append(f"{name}: queue {q} must use SQS-managed encryption, not a KMS key")
                else:
                    delivered.add(q)
            if "RetryPolicy" not in target:
                problems.append(f"{name}: target has no RetryPolicy")
        for machine in rule_machines:
            watched.setdefault(machine, set()).update(delivered)
    if not machines:
        problems.append("no state machine in the template")
    for machine in sorted(machines):
        if not watched.get(machine):
            problems.append(f"no EventBridge rule delivers {machine}'s failed, aborted or timed-out executions to a "
                            "second channel")


def check_schedule(resources, problems):
    for name, res in resources.items():
        if res.get("Type") != "AWS::Scheduler::Schedule":
            continue
        target = res.get("Properties", {}).get("Target", {})
        if "RetryPolicy" not in target:
            problems.append(f"{name}: target has no RetryPolicy")
        dlq = target.get("DeadLetterConfig", {}).get("Arn")
        if not any(resources.get(q, {}).get("Type") == "AWS::SQS::Queue" for q in refs(dlq)):
            problems.append(f"{name}: target has no DeadLetterConfig on a queue of this stack")


def check_key_policies(resources, problems):
    for name, res in resources.items():
        if res.get("Type") != "AWS::KMS::Key":
            continue
        for statement in as_list(res.get("Properties", {}).get("KeyPolicy", {}).get("Statement", [])):
            for named in refs(statement.get("Principal")):
                if resources.get(named, {}).get("Type") == "AWS::IAM::Role":
                    problems.append(
                        f"{name}: key policy statement {statement.get('Sid', '?')} names the role {named} this "
                        "stack creates (an IAM propagation race at deploy time); grant it in the role's own policy")


def main(path):
    template, matches = decode(path)
    if matches:
        print(f"cannot read {path}: {matches}")
        return 1
    resources = template.get("Resources", {})
    problems = []
    check_rule(resources, problems, Path(path).resolve().parent)
    check_schedule(resources, problems)
    check_key_policies(resources, problems)
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))

"""Who watches the watcher: checks of infra/template.yaml (run by infra/check.sh with the repo's .venv).

The gate's own alarm publishes to the gate's KMS-encrypted topic, so when SNS or that key is what
broke, the alarm cannot deliver either, and it fires only on a transition into ALARM. This says
what the template must have besides it:

- an EventBridge rule on the gate's executions that end FAILED with StageGate.NotificationFailed,
  ABORTED (stopped by hand) or TIMED_OUT, delivering to a second channel that depends neither on
  the outcome topic nor on its key (an SQS queue with SQS-managed encryption), with a retry policy;
- the schedule's target with a retry policy and a dead-letter queue, so a start that Scheduler
  could not make is kept, not dropped;
- a key policy that names no role the stack itself creates: a just-created role may not have
  propagated when KMS validates the policy (deploys then fail at random); the account-root
  statement and the role's own policy suffice.

Prints one line per problem and exits 1 when there is any.
"""

import sys

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


def check_rule(resources, problems):
    machines = {n for n, r in resources.items() if r.get("Type") == "AWS::Serverless::StateMachine"}
    topics = {n for n, r in resources.items() if r.get("Type") == "AWS::SNS::Topic"}
    watched = set()
    for name, res in resources.items():
        if res.get("Type") != "AWS::Events::Rule":
            continue
        props = res.get("Properties", {})
        pattern = props.get("EventPattern", {})
        detail = pattern.get("detail", {})
        if pattern.get("source") != ["aws.states"] or not machines & set(refs(detail.get("stateMachineArn"))):
            continue
        branches = detail.get("$or", [detail])
        statuses = {s for b in branches for s in as_list(b.get("status", []))}
        failed_errors = {e for b in branches if "FAILED" in as_list(b.get("status", [])) for e in as_list(b.get("error", []))}
        for status in ("ABORTED", "TIMED_OUT"):
            if status not in statuses:
                problems.append(f"{name}: does not match executions that end {status}")
        if "StageGate.NotificationFailed" not in failed_errors:
            problems.append(f"{name}: does not match executions that FAILED with StageGate.NotificationFailed")
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
                    watched.add(q)
            if "RetryPolicy" not in target:
                problems.append(f"{name}: target has no RetryPolicy")
    if not watched:
        problems.append("no EventBridge rule delivers the gate's failed, aborted or timed-out executions to a second channel")


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
    check_rule(resources, problems)
    check_schedule(resources, problems)
    check_key_policies(resources, problems)
    print("\n".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))

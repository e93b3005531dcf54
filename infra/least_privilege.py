"""Least-privilege check of infra/template.yaml (run by infra/check.sh with the repo's .venv).

cfn-lint and checkov do not know what this gate needs, so this says it: no wildcard actions
anywhere; GameSparks actions only on the configured game's ARNs; of CloudWatch only
cloudwatch:DescribeAlarms, and only on this account's alarm ARNs under BakeAlarmNamePrefix;
sns:Publish only on the gate's topic; lambda:InvokeFunction only on the gate's functions;
states:StartExecution only on its state machine; KMS (outside the key's own policy) only on its
key; `Resource: "*"` only for actions that have no resource-level permissions; the topic encrypted
with KMS. Prints one line per problem and exits 1 when there is any.
"""

import sys

from cfnlint.decode import decode

# The one CloudWatch action the functions need (the bake window's alarms), and the only resources it
# may have: this account's and region's alarms whose names start with the BakeAlarmNamePrefix parameter.
CLOUDWATCH_ACTIONS = {"cloudwatch:DescribeAlarms"}
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${BakeAlarmNamePrefix}"

# Actions AWS does not scope to resources (X-Ray, Step Functions' log delivery).
RESOURCELESS = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
}


def as_list(value):
    return value if isinstance(value, list) else [value]


def main(path):
    template, matches = decode(path)
    if matches:
        print(f"cannot read {path}: {matches}")
        return 1
    resources = template.get("Resources", {})
    types = {name: r.get("Type") for name, r in resources.items()}
    problems = []

    def ref_to(resource, wanted_type):
        if isinstance(resource, dict):
            if "Ref" in resource:
                return types.get(resource["Ref"]) == wanted_type
            if "Fn::GetAtt" in resource:
                target = resource["Fn::GetAtt"]
                target = target[0] if isinstance(target, list) else str(target).split(".")[0]
                return types.get(target) == wanted_type
        return False

    def check(name, document, identity):
        for statement in as_list((document or {}).get("Statement", [])):
            actions = [a for a in as_list(statement.get("Action", [])) if isinstance(a, str)]
            resources_ = as_list(statement.get("Resource", []))
            where = f"{name}: {actions}"
            for action in actions:
                if "*" in action:
                    problems.append(f"{where}: wildcard action {action}")
            if not identity or statement.get("Effect") != "Allow":
                continue
            if "*" in resources_ and not set(actions) <= RESOURCELESS:
                problems.append(f"{where}: Resource '*' for actions that can be scoped")
            for action in actions:
                service = action.split(":")[0]
                if service == "gamesparks":
                    for r in resources_:
                        text = r.get("Fn::Sub", "") if isinstance(r, dict) else str(r)
                        text = text[0] if isinstance(text, list) else text
                        if ":game/${GameName}" not in text:
                            problems.append(f"{where}: GameSparks resource {r} is not the configured game")
                elif service == "cloudwatch":
                    if action not in CLOUDWATCH_ACTIONS:
                        problems.append(f"{where}: CloudWatch action {action} is not one the gate needs")
                    for r in resources_:
                        text = r.get("Fn::Sub", "") if isinstance(r, dict) else str(r)
                        text = text[0] if isinstance(text, list) else text
                        # The prefix wildcard, or one named alarm under the prefix.
                        rest = text[len(ALARM_ARN):] if text.startswith(ALARM_ARN) else None
                        if rest is None or (rest != "*" and ("*" in rest or "?" in rest)):
                            problems.append(f"{where}: CloudWatch resource {r} is not an alarm ARN under BakeAlarmNamePrefix")
                elif action == "sns:Publish":
                    if not all(ref_to(r, "AWS::SNS::Topic") for r in resources_):
                        problems.append(f"{where}: sns:Publish beyond the gate's topic: {resources_}")
                elif action == "lambda:InvokeFunction":
                    if not all(ref_to(r, "AWS::Serverless::Function") for r in resources_):
                        problems.append(f"{where}: invokes more than the gate's functions: {resources_}")
                elif action == "states:StartExecution":
                    if not all(ref_to(r, "AWS::Serverless::StateMachine") for r in resources_):
                        problems.append(f"{where}: starts more than the gate's state machine: {resources_}")
                elif service == "kms":
                    if not all(ref_to(r, "AWS::KMS::Key") for r in resources_):
                        problems.append(f"{where}: KMS beyond the gate's key: {resources_}")

    for name, resource in resources.items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                check(name, policy.get("PolicyDocument"), identity=True)
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
            check(name, props.get("PolicyDocument"), identity=True)
        elif kind == "AWS::Serverless::Function":
            for policy in as_list(props.get("Policies", [])):
                if isinstance(policy, dict) and "Statement" in policy:
                    check(name, policy, identity=True)
                elif policy:
                    problems.append(f"{name}: SAM policy template {policy} instead of an explicit statement")
        elif kind == "AWS::KMS::Key":
            # A key policy's Resource "*" means the key itself.
            check(name, props.get("KeyPolicy"), identity=False)
        elif kind == "AWS::SNS::TopicPolicy":
            check(name, props.get("PolicyDocument"), identity=False)
        elif kind == "AWS::SNS::Topic" and not props.get("KmsMasterKeyId"):
            problems.append(f"{name}: the topic is not encrypted with KMS")
    if not any(t == "AWS::SNS::Topic" for t in types.values()):
        problems.append("no SNS topic in the template")
    problems = list(dict.fromkeys(problems))  # one line per problem, even when several actions share it
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))

"""Least-privilege check of infra/template.yaml (run by infra/check.sh with the repo's .venv).

cfn-lint and checkov do not know what this gate needs, so this says it, failing closed on anything
it cannot verify:
- each role grants exactly the actions infra/permissions.json lists for it (what its function
  calls: the handler tests hold the code to that file), no more and no fewer, and trusts exactly
  its service, with sts:AssumeRole only;
- the one managed policy, OperatorPolicy (for the people who run `stagegate approve | reject |
  abort`), grants exactly what infra/permissions.json lists under "policies", by the same rules
  as the roles, and the stack attaches it to nobody; any other managed policy, a role's
  ManagedPolicyArns or a SAM policy template fails;
- no wildcard, non-literal or negated (NotAction / NotResource / Deny-less tricks) statements, no
  action of a service this list does not know;
- every resource is the gate's own: GameSparks only the configured game and its stages (exact
  ARNs), CloudWatch only this account's alarms under BakeAlarmNamePrefix, SNS its topic, Lambda its
  functions, Step Functions its state machine (or, for the execution actions, exactly its
  executions), SSM exactly its abort parameters, KMS its key, SQS its queues, Logs the role's own
  log group; `Resource: "*"` only for actions that have no resource-level permissions;
- the state machine named `${AWS::StackName}-gate`, the name the execution and abort-parameter
  ARNs above are written with;
- the topic encrypted with KMS.
Prints one line per problem and exits 1 when there is any. `least_privilege_test.py` breaks the
template in each of these ways and checks that this notices.
"""

import json
import sys
from pathlib import Path

from cfnlint.decode import decode

PERMISSIONS = Path(__file__).resolve().parent / "permissions.json"

GAME_ARNS = {
    "arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${GameName}",
    "arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${GameName}/*",
}
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${BakeAlarmNamePrefix}"
# The state machine's fixed name: the two ARNs below are only the gate's own when it is this.
MACHINE_NAME = "${AWS::StackName}-gate"
# Every execution of this state machine (and only of it).
EXECUTIONS_ARN = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:" + MACHINE_NAME + ":*"
# Its abort parameters, /stagegate/abort/<state machine>/<execution>-<hash> (abort_parameter_name in
# crates/stagegate-core/src/decide/approval.rs; stack names need no sanitizing): a parameter's ARN drops
# the name's leading slash. The only SSM resource any statement may name.
ABORT_PARAMETERS_ARN = (
    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stagegate/abort/" + MACHINE_NAME + "/*"
)
# Step Functions actions on executions (resource type `execution`); every other states action
# must name the state machine itself.
STATES_EXECUTION_ACTIONS = {"states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"}

# Actions AWS does not scope to resources (X-Ray, Step Functions' log delivery, answering a task
# token: the Service Authorization Reference lists no resource type for SendTaskSuccess, so only
# "*" grants it; the token itself is the scope).
RESOURCELESS = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    "states:SendTaskSuccess",
}
KNOWN_SERVICES = {"gamesparks", "cloudwatch", "sns", "lambda", "states", "kms", "logs", "xray", "sqs", "ssm"}


def as_list(value):
    return value if isinstance(value, list) else [value]


def sub_text(resource):
    """The text of `!Sub "..."` (or a plain string); None for anything else."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        value = resource["Fn::Sub"]
        value = value[0] if isinstance(value, list) else value
        return value if isinstance(value, str) else None
    return None


def main(path):
    template, matches = decode(path)
    if matches:
        print(f"cannot read {path}: {matches}")
        return 1
    permissions = json.loads(PERMISSIONS.read_text())
    wanted = permissions["roles"]
    wanted_policies = permissions.get("policies", {})
    resources = template.get("Resources", {})
    types = {name: r.get("Type") for name, r in resources.items()}
    problems = []
    granted = {}  # role (or managed policy) -> actions its identity policies allow

    def target(resource):
        if isinstance(resource, dict):
            if "Ref" in resource:
                return resource["Ref"]
            if "Fn::GetAtt" in resource:
                value = resource["Fn::GetAtt"]
                return value[0] if isinstance(value, list) else str(value).split(".")[0]
        return None

    def ref_to(resource, wanted_type):
        return types.get(target(resource)) == wanted_type

    def check_statement(where, statement, role):
        for key in ("NotAction", "NotResource", "NotPrincipal"):
            if key in statement:
                problems.append(f"{where}: {key} grants everything it does not name; list what is allowed")
        raw_actions = as_list(statement.get("Action", []))
        actions = [a for a in raw_actions if isinstance(a, str)]
        if len(actions) != len(raw_actions):
            problems.append(f"{where}: an action that is not a literal string cannot be checked: {raw_actions}")
        for action in actions:
            if "*" in action or "?" in action:
                problems.append(f"{where}: wildcard action {action}")
        if role is None or statement.get("Effect") != "Allow":
            return
        granted.setdefault(role, set()).update(actions)
        resources_ = as_list(statement.get("Resource", []))
        if "*" in resources_ and not set(actions) <= RESOURCELESS:
            problems.append(f"{where}: Resource '*' for actions that can be scoped: {sorted(set(actions) - RESOURCELESS)}")
        for action in actions:
            service = action.split(":")[0]
            if service not in KNOWN_SERVICES:
                problems.append(f"{where}: {action}: a service this check does not know; say what it may touch here")
            elif action in RESOURCELESS:
                continue
            elif service == "gamesparks":
                for r in resources_:
                    if sub_text(r) not in GAME_ARNS:
                        problems.append(f"{where}: GameSparks resource {r} is not the configured game or its stages")
            elif service == "cloudwatch":
                for r in resources_:
                    text = sub_text(r) or ""
                    # The prefix wildcard, or one named alarm under the prefix.
                    rest = text[len(ALARM_ARN):] if text.startswith(ALARM_ARN) else None
                    if rest is None or (rest != "*" and ("*" in rest or "?" in rest)):
                        problems.append(f"{where}: CloudWatch resource {r} is not an alarm ARN under BakeAlarmNamePrefix")
            elif service == "ssm":
                if not resources_ or any(sub_text(r) != ABORT_PARAMETERS_ARN for r in resources_):
                    problems.append(f"{where}: {action}: SSM resource {resources_} is not this gate's abort parameters "
                                    f"({ABORT_PARAMETERS_ARN})")
            elif action in STATES_EXECUTION_ACTIONS:
                if not resources_ or any(sub_text(r) != EXECUTIONS_ARN for r in resources_):
                    problems.append(f"{where}: {action}: resource {resources_} is not this state machine's executions "
                                    f"({EXECUTIONS_ARN})")
            else:
                own = {
                    "sns": "AWS::SNS::Topic",
                    "lambda": "AWS::Serverless::Function",
                    "states": "AWS::Serverless::StateMachine",
                    "kms": "AWS::KMS::Key",
                    "sqs": "AWS::SQS::Queue",
                    "logs": "AWS::Logs::LogGroup",
                }[service]
                if not resources_ or not all(ref_to(r, own) for r in resources_):
                    problems.append(f"{where}: {action} beyond the gate's own {own}: {resources_}")

    def check_document(where, document, role):
        for i, statement in enumerate(as_list((document or {}).get("Statement", []))):
            check_statement(f"{where} statement {statement.get('Sid', i)}", statement, role)

    for name, resource in resources.items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            if props.get("ManagedPolicyArns"):
                problems.append(f"{name}: managed policies {props['ManagedPolicyArns']} grant what this check cannot see")
            for policy in props.get("Policies", []):
                check_document(name, policy.get("PolicyDocument"), name)
            check_trust(name, props.get("AssumeRolePolicyDocument"), wanted.get(name), problems)
        elif kind == "AWS::IAM::RolePolicy":
            role = target(props.get("RoleName"))
            check_document(name, props.get("PolicyDocument"), role or name)
        elif kind == "AWS::IAM::Policy":
            roles = [target(r) for r in as_list(props.get("Roles", []))]
            if len(roles) != 1 or roles[0] is None:
                problems.append(f"{name}: attach a policy to exactly one of the gate's roles: {props.get('Roles')}")
            check_document(name, props.get("PolicyDocument"), roles[0] if roles else name)
        elif kind == "AWS::IAM::ManagedPolicy":
            if name not in wanted_policies:
                problems.append(f"{name}: managed policy infra/permissions.json does not list; "
                                "give the role an inline policy this check can read")
                continue
            # For people to attach: attached to one of the gate's roles it would grant what that
            # role's check does not see.
            for key in ("Roles", "Users", "Groups"):
                if props.get(key):
                    problems.append(f"{name}: the stack attaches it ({key}: {props[key]}); operators attach it themselves")
            check_document(name, props.get("PolicyDocument"), name)
        elif kind == "AWS::Serverless::StateMachine":
            if sub_text(props.get("Name")) != MACHINE_NAME:
                problems.append(f"{name}: Name {props.get('Name')} is not {MACHINE_NAME}, the name the execution and "
                                "abort-parameter ARNs are written with")
        elif kind == "AWS::Serverless::Function":
            if props.get("Policies"):
                problems.append(f"{name}: SAM Policies {props['Policies']}; use the role in infra/permissions.json")
            if not ref_to(props.get("Role"), "AWS::IAM::Role"):
                problems.append(f"{name}: Role is not one of the gate's roles: {props.get('Role')}")
        elif kind == "AWS::KMS::Key":
            # A key policy's Resource "*" means the key itself.
            check_document(name, props.get("KeyPolicy"), None)
        elif kind in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
            check_document(name, props.get("PolicyDocument"), None)
        elif kind == "AWS::SNS::Topic" and not props.get("KmsMasterKeyId"):
            problems.append(f"{name}: the topic is not encrypted with KMS")
    if not any(t == "AWS::SNS::Topic" for t in types.values()):
        problems.append("no SNS topic in the template")

    roles = {name for name, t in types.items() if t == "AWS::IAM::Role"}
    for role in sorted(roles | set(wanted)):
        if role not in wanted:
            problems.append(f"{role}: a role infra/permissions.json does not list")
            continue
        if role not in roles:
            problems.append(f"{role}: listed in infra/permissions.json but not in the template")
            continue
        want, have = set(wanted[role]["actions"]), granted.get(role, set())
        for action in sorted(want - have):
            problems.append(f"{role}: lacks {action}, which {wanted[role].get('function', 'it')} calls")
        for action in sorted(have - want):
            problems.append(f"{role}: grants {action}, which infra/permissions.json does not list for it")

    policies = {name for name, t in types.items() if t == "AWS::IAM::ManagedPolicy"}
    for policy in sorted(set(wanted_policies) - policies):
        problems.append(f"{policy}: listed in infra/permissions.json but not in the template")
    for policy in sorted(policies & set(wanted_policies)):
        want, have = set(wanted_policies[policy]["actions"]), granted.get(policy, set())
        for action in sorted(want - have):
            problems.append(f"{policy}: lacks {action}, which {wanted_policies[policy].get('used_by', 'its users')} need")
        for action in sorted(have - want):
            problems.append(f"{policy}: grants {action}, which infra/permissions.json does not list for it")

    problems = list(dict.fromkeys(problems))  # one line per problem, even when several actions share it
    for p in problems:
        print(p)
    return 1 if problems else 0


def check_trust(role, document, wanted, problems):
    """A role is assumed only by its own service, with sts:AssumeRole."""
    statements = as_list((document or {}).get("Statement", []))
    if not statements:
        problems.append(f"{role}: no trust policy")
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if not isinstance(principal, dict) or set(principal) != {"Service"}:
            problems.append(f"{role}: trust policy principal {principal}; only a service may assume it")
        want = wanted.get("service") if wanted else None
        if want is not None and services != [want]:
            problems.append(f"{role}: trusted by {services}, not only {want}")
        if as_list(statement.get("Action", [])) != ["sts:AssumeRole"]:
            problems.append(f"{role}: trust policy allows {statement.get('Action')}, not only sts:AssumeRole")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))

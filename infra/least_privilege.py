"""Least-privilege check of infra/template.yaml (run by infra/check.sh with the repo's .venv).

cfn-lint and checkov do not know what this gate needs, so this says it, failing closed on anything
it cannot verify. Every rule names the resource and what it breaks; `least_privilege_test.py`
breaks the template (or a small fragment) in each of these ways and checks that this notices.

Identity policies:
- each role grants exactly the actions infra/permissions.json lists for it (what its function
  calls: the handler tests hold the code to that file), no more and no fewer;
- the managed policies for people (infra/permissions.json "policies": OperatorPolicy for
  `stagegate approve | reject | abort`, RunnerPolicy for `run | follow`, ReadOnlyPolicy for
  `status | follow`; the e2e tier records what each command calls and holds it to them) grant
  exactly what that file lists, by the same rules, and the stack attaches them to nobody; any
  other managed policy or a role's ManagedPolicyArns fails;
- SAM `Policies` (on a function, a state machine or in Globals) fail, each form with its reason:
  a managed policy or a SAM policy template grants what this check cannot see, and inline
  statements (checked like any other) would sit beside the role infra/permissions.json holds;
- a function's `Role` is `!GetAtt <role>.Arn` of the role infra/permissions.json lists for its
  binary, a state machine's the role it lists for that machine ("machine"); the schedule's role is
  one trusted by its service; no role serves two resources;
- no wildcard or non-literal action, no action of a service this list does not know;
- every resource is the gate's own: GameSparks only the configured game and its stages (exact
  ARNs), CloudWatch only this account's alarms under BakeAlarmNamePrefix, SNS its topic, Lambda its
  functions, Step Functions its two state machines (`!Ref`, or the ARN written out with the fixed
  name where a `!Ref` would be circular; for the execution actions, exactly the executions of one
  of them, or the fleet's Distributed Map children), SSM exactly its abort parameters or its answer
  key (read only by start-deployment and answer-approval, written only by answer-approval), KMS its
  key, SQS its queues, Logs the role's own log group, EventBridge only the managed rule
  `states:startExecution.sync` needs (StepFunctionsGetEventsForStepFunctionsExecutionRule, and only
  PutTargets, PutRule, DescribeRule on it), S3 only the buckets infra/permissions.json lists for
  the role or policy ("buckets": ListBucket on the bucket, GetObject and PutObject on its objects
  or on a literal prefix of them); `Resource: "*"` only for actions that have no resource-level
  permissions.

Trust policies: each statement allows exactly sts:AssumeRole to exactly the service
infra/permissions.json names for the role; anything else (another principal, a second service, a
Deny, another action) fails.

Resource policies (the key policy, the topic policy, the queue policy, the records bucket's policy; infra/permissions.json
"resource_policies"): an Allow names only the service principals listed for that policy, each
granted exactly its listed actions and tied by a condition to this account or one of the
template's resources (aws:SourceAccount, aws:SourceArn, a KMS encryption context); the account
root only where that file says the policy means it (the key: administered through IAM);
everyone (`*`, `{"AWS": "*"}`) only with such a condition; every statement's Resource the
policy's own (the key's "*", the topic, the queue, the bucket and its objects). A Deny may name
anyone and any action (a wildcard too): it only takes away.

Anywhere in the template: NotAction, NotResource and NotPrincipal fail (they match everything they
do not name); so does a resource type that grants permissions this check does not read
(IAM users and groups, Lambda permissions, SAM connectors, other resource policies).

Also: the gate's state machine is named `${AWS::StackName}-gate` and the fleet's
`${AWS::StackName}-fleet`, the names the execution, state machine and abort-parameter ARNs above
are written with; no other state machine; the topic is encrypted with KMS.
Prints one line per problem and exits 1 when there is any.
"""

import json
import sys
from pathlib import Path

from cfnlint.decode import decode

PERMISSIONS = Path(__file__).resolve().parent / "permissions.json"

# The stack's game, and a fleet's games (the FleetGames name pattern, empty by default).
GAME_ARNS = {
    "arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${GameName}",
    "arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${GameName}/*",
    "arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${FleetGames}",
    "arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${FleetGames}/*",
}
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${BakeAlarmNamePrefix}"
# The state machine's fixed name: the two ARNs below are only the gate's own when it is this.
MACHINE_NAME = "${AWS::StackName}-gate"
# The fleet workflow's (docs/fleet.md): its role names its own ARN, which `!Ref` cannot give it.
FLEET_MACHINE_NAME = "${AWS::StackName}-fleet"
# Each state machine of the template, by logical id: its fixed name.
MACHINE_NAMES = {"StateMachine": MACHINE_NAME, "FleetStateMachine": FLEET_MACHINE_NAME}
STATES_ARN = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
# The state machines written out, where `!Ref` would be a circular dependency.
MACHINE_ARNS = {STATES_ARN + "stateMachine:" + name for name in MACHINE_NAMES.values()}
# Every execution of this state machine (and only of it).
EXECUTIONS_ARN = STATES_ARN + "execution:" + MACHINE_NAME + ":*"
# The execution ARNs a statement may name: the gate's executions, the fleet's, and the fleet's
# Distributed Map children (execution:<state machine>/<Map Run>:<child>).
EXECUTION_ARNS = {
    EXECUTIONS_ARN,
    STATES_ARN + "execution:" + FLEET_MACHINE_NAME + ":*",
    STATES_ARN + "execution:" + FLEET_MACHINE_NAME + "/*",
}
# The EventBridge rule Step Functions manages for `.sync` integrations on Step Functions itself,
# and the only actions on it a role needs (the Developer Guide's "IAM policies for AWS Step
# Functions"): the fleet's children wait on their gates through it.
SYNC_RULE_ARN = ("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
                 "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
SYNC_RULE_ACTIONS = {"events:PutTargets", "events:PutRule", "events:DescribeRule"}
# Its abort parameters, /stagegate/abort/<state machine>/<execution>-<hash> (abort_parameter_name in
# crates/stagegate-core/src/decide/approval.rs; stack names need no sanitizing): a parameter's ARN drops
# the name's leading slash. The only SSM resource any statement may name.
ABORT_PARAMETERS_ARN = (
    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stagegate/abort/" + MACHINE_NAME + "/*"
)
# The key answers to approvals are signed with (crates/stagegate/src/aws/answer_key.rs): only
# start-deployment (which checks answers) and answer-approval (which signs them) may read it, and
# only answer-approval may write it. Anyone else who could read it could sign an answer as anyone.
ANSWER_KEY_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stagegate/answer-key/" + MACHINE_NAME
ANSWER_KEY_USERS = {
    "ssm:GetParameter": {"StartDeploymentRole", "AnswerApprovalRole"},
    "ssm:PutParameter": {"AnswerApprovalRole"},
}
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
    # GameSparks' ListGames lists the account's games; the reference gives it no resource type.
    "gamesparks:ListGames",
}
KNOWN_SERVICES = {"gamesparks", "cloudwatch", "sns", "lambda", "states", "kms", "logs", "xray", "sqs", "ssm", "s3",
                  "events"}
# S3: the buckets infra/permissions.json lists for the role (the decision records, docs/audit.md;
# the fleet bucket, docs/fleet.md), listed on the bucket, read and written on its objects; any
# other S3 action is one this check does not know.
S3_BUCKET_ACTIONS = {"s3:ListBucket"}
S3_OBJECT_ACTIONS = {"s3:GetObject", "s3:PutObject"}


# Negated elements, anywhere: each matches everything it does not name.
NEGATIONS = ("NotAction", "NotResource", "NotPrincipal")
# The account root as a principal: the account administers the resource through IAM.
ACCOUNT_ROOTS = {"arn:${AWS::Partition}:iam::${AWS::AccountId}:root", "${AWS::AccountId}"}
# Condition keys that can tie everyone (`*`) to this account or one of its resources.
PRINCIPAL_SCOPING_KEYS = {"aws:principalaccount", "aws:principalarn", "aws:sourceaccount", "aws:sourcearn",
                          "aws:sourceowner"}
# ... and a service principal (confused deputy): whose request the service makes, or for what.
SERVICE_SCOPING_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner"}
SERVICE_SCOPING_PREFIXES = ("kms:encryptioncontext:",)
# Operators under which a key's values say what the request must be (not what it must not be).
SCOPING_OPERATORS = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"}
# Policy-bearing types this check reads; any other type that grants permissions fails.
READ_POLICY_TYPES = {"AWS::IAM::Role", "AWS::IAM::RolePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
                     "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy"}
GRANTING_TYPES = {"AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::AccessKey", "AWS::Serverless::Connector"}


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


def target(resource):
    """The logical name a `!Ref` or `!GetAtt` points at; None for anything else."""
    if isinstance(resource, dict):
        if "Ref" in resource:
            return resource["Ref"]
        if "Fn::GetAtt" in resource:
            value = resource["Fn::GetAtt"]
            return value[0] if isinstance(value, list) else str(value).split(".")[0]
    return None


def arn_of(resource):
    """The logical name of `!GetAtt NAME.Arn`; None for anything else (a `!Ref` of a role is its name)."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        value = resource["Fn::GetAtt"]
        parts = value if isinstance(value, list) else str(value).split(".", 1)
        if len(parts) == 2 and parts[1] == "Arn" and isinstance(parts[0], str):
            return parts[0]
    return None


def principals(principal):
    """[(kind, text)] named by a Principal ("*" is ("AWS", "*")); text None when not literal; None
    when there is no principal this can read."""
    if principal == "*":
        return [("AWS", "*")]
    if not isinstance(principal, dict) or not principal:
        return None
    found = []
    for kind, values in principal.items():
        for value in as_list(values):
            text = "${AWS::AccountId}" if value == {"Ref": "AWS::AccountId"} else sub_text(value)
            found.append((kind, text))
    return found


def negations(node, path):
    """(path, key) of every NotAction / NotResource / NotPrincipal under node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in NEGATIONS:
                yield path, key
            yield from negations(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from negations(value, f"{path}[{i}]")


def main(path):
    template, matches = decode(path)
    if matches:
        print(f"cannot read {path}: {matches}")
        return 1
    permissions = json.loads(PERMISSIONS.read_text())
    problems = Checker(template, permissions).run()
    problems = list(dict.fromkeys(problems))  # one line per problem, even when several actions share it
    for p in problems:
        print(p)
    return 1 if problems else 0


class Checker:
    def __init__(self, template, permissions):
        self.template = template
        self.wanted = permissions["roles"]
        self.wanted_policies = {k: v for k, v in permissions.get("policies", {}).items() if not k.startswith("_")}
        self.wanted_resource_policies = {k: v for k, v in permissions.get("resource_policies", {}).items()
                                         if not k.startswith("_")}
        self.resources = template.get("Resources", {})
        self.types = {name: r.get("Type") for name, r in self.resources.items()}
        self.problems = []
        self.granted = {}  # role (or managed policy) -> actions its identity policies allow
        self.service_grants = {}  # (resource policy, service principal) -> actions it allows
        self.role_users = {}  # role -> resources that run as it

    def problem(self, text):
        self.problems.append(text)

    def ref_to(self, resource, wanted_type):
        return self.types.get(target(resource)) == wanted_type

    def own_value(self, value):
        """A condition value naming this account, or one of the template's resources."""
        if value == {"Ref": "AWS::AccountId"} or target(value) in self.resources:
            return True
        text = sub_text(value)
        return text is not None and "${AWS::AccountId}" in text

    def scoped(self, condition, keys, prefixes=()):
        """Whether a condition key in `keys` (or with one of `prefixes`) requires every request to
        carry one of values that are all this account's or its resources'."""
        if not isinstance(condition, dict):
            return False
        for operator, tests in condition.items():
            if operator not in SCOPING_OPERATORS or not isinstance(tests, dict):
                continue
            for key, values in tests.items():
                key = str(key).lower()
                if key not in keys and not key.startswith(tuple(prefixes)):
                    continue
                values = as_list(values)
                if values and all(self.own_value(v) for v in values):
                    return True
        return False

    # ------------------------------------------------------------- identity policies
    def check_statement(self, where, statement, role):
        raw_actions = as_list(statement.get("Action", []))
        actions = [a for a in raw_actions if isinstance(a, str)]
        if len(actions) != len(raw_actions):
            self.problem(f"{where}: an action that is not a literal string cannot be checked: {raw_actions}")
        for action in actions:
            # A Deny's wildcard only takes away more (the records bucket's TLS-only s3:*).
            if ("*" in action or "?" in action) and statement.get("Effect") != "Deny":
                self.problem(f"{where}: wildcard action {action}")
        if role is None or statement.get("Effect") != "Allow":
            return
        self.granted.setdefault(role, set()).update(actions)
        resources_ = as_list(statement.get("Resource", []))
        if "*" in resources_ and not set(actions) <= RESOURCELESS:
            self.problem(f"{where}: Resource '*' for actions that can be scoped: {sorted(set(actions) - RESOURCELESS)}")
        for action in actions:
            service = action.split(":")[0]
            if service not in KNOWN_SERVICES:
                self.problem(f"{where}: {action}: a service this check does not know; say what it may touch here")
            elif action in RESOURCELESS:
                continue
            elif service == "gamesparks":
                for r in resources_:
                    if sub_text(r) not in GAME_ARNS:
                        self.problem(f"{where}: GameSparks resource {r} is not the configured game or its stages")
            elif service == "cloudwatch":
                for r in resources_:
                    text = sub_text(r) or ""
                    # The prefix wildcard, or one named alarm under the prefix.
                    rest = text[len(ALARM_ARN):] if text.startswith(ALARM_ARN) else None
                    if rest is None or (rest != "*" and ("*" in rest or "?" in rest)):
                        self.problem(f"{where}: CloudWatch resource {r} is not an alarm ARN under BakeAlarmNamePrefix")
            elif service == "ssm":
                key_users = ANSWER_KEY_USERS.get(action, set())
                for r in resources_ or [None]:
                    if sub_text(r) == ANSWER_KEY_ARN:
                        if role not in key_users:
                            self.problem(f"{where}: {action} on the answer key ({ANSWER_KEY_ARN}): only "
                                         f"{', '.join(sorted(key_users)) or 'no role'} may")
                    elif sub_text(r) != ABORT_PARAMETERS_ARN:
                        self.problem(f"{where}: {action}: SSM resource {resources_} is not this gate's abort "
                                     f"parameters ({ABORT_PARAMETERS_ARN}) nor its answer key")
            elif service == "s3":
                spec = self.wanted.get(role) or self.wanted_policies.get(role) or {}
                listed = spec.get("buckets")
                if not listed:
                    self.problem(f"{where}: {action}: infra/permissions.json lists no buckets for {role}; "
                                 "say there which of the template's buckets it may touch")
                buckets = {n for n in listed or [] if self.types.get(n) == "AWS::S3::Bucket"}
                if action in S3_BUCKET_ACTIONS:
                    ok = bool(resources_) and all(arn_of(r) in buckets for r in resources_)
                elif action in S3_OBJECT_ACTIONS:
                    ok = bool(resources_) and all(self.objects_of(r, buckets) for r in resources_)
                else:
                    ok = False
                if not ok:
                    self.problem(f"{where}: {action}: S3 resource {resources_} is not a bucket infra/permissions.json "
                                 f"lists for {role} ({', '.join(listed or []) or 'none'}; ListBucket on "
                                 "`!GetAtt <bucket>.Arn`, objects on `!Sub ${<bucket>.Arn}/*` or a literal prefix of them)")
            elif service == "events":
                if action not in SYNC_RULE_ACTIONS or not resources_ or any(
                        sub_text(r) != SYNC_RULE_ARN for r in resources_):
                    self.problem(f"{where}: {action} on {resources_}: EventBridge only as states:startExecution.sync "
                                 f"needs it ({', '.join(sorted(SYNC_RULE_ACTIONS))} on {SYNC_RULE_ARN})")
            elif action in STATES_EXECUTION_ACTIONS:
                if not resources_ or any(sub_text(r) not in EXECUTION_ARNS for r in resources_):
                    self.problem(f"{where}: {action}: resource {resources_} is not this state machine's executions "
                                 f"({EXECUTIONS_ARN}) nor the fleet's ({FLEET_MACHINE_NAME})")
            elif service == "states" and resources_ and all(
                    self.ref_to(r, "AWS::Serverless::StateMachine") or sub_text(r) in MACHINE_ARNS
                    for r in resources_):
                continue
            else:
                own = {
                    "sns": "AWS::SNS::Topic",
                    "lambda": "AWS::Serverless::Function",
                    "states": "AWS::Serverless::StateMachine",
                    "kms": "AWS::KMS::Key",
                    "sqs": "AWS::SQS::Queue",
                    "logs": "AWS::Logs::LogGroup",
                }[service]
                if not resources_ or not all(self.ref_to(r, own) for r in resources_):
                    self.problem(f"{where}: {action} beyond the gate's own {own}: {resources_}")

    @staticmethod
    def objects_of(resource, buckets):
        """Whether `resource` is `!Sub ${B.Arn}/*` or `!Sub ${B.Arn}/<literal prefix>/*` of a bucket B
        in `buckets`."""
        text = sub_text(resource) or ""
        for b in buckets:
            head = f"${{{b}.Arn}}/"
            if text.startswith(head):
                rest = text[len(head):]
                prefix = rest[:-1] if rest.endswith("*") else None
                return prefix is not None and not any(c in prefix for c in "*?${}") and (
                    prefix == "" or prefix.endswith("/"))
        return False

    def check_document(self, where, document, role):
        for i, statement in enumerate(as_list((document or {}).get("Statement", []))):
            self.check_statement(f"{where} statement {statement.get('Sid', i)}", statement, role)

    def check_sam_policies(self, where, policies):
        """SAM `Policies`: every form fails, with its reason; inline statements are also checked."""
        for entry in as_list(policies) if policies is not None else []:
            if isinstance(entry, str) or sub_text(entry) is not None or target(entry) is not None:
                self.problem(f"{where}: SAM Policies: managed policy {entry} grants what this check cannot see; "
                             "grant what it needs in its role in infra/permissions.json")
            elif isinstance(entry, dict) and "Statement" in entry:
                self.check_document(f"{where} SAM Policies inline", entry, f"{where} (SAM Policies)")
                self.problem(f"{where}: SAM Policies: inline statements beside the role infra/permissions.json "
                             "holds; put them in that role")
            elif isinstance(entry, dict) and len(entry) == 1:
                self.problem(f"{where}: SAM Policies: policy template {next(iter(entry))} expands to actions and "
                             "resources this check does not see; grant what it needs in its role")
            else:
                self.problem(f"{where}: SAM Policies: an entry this check cannot read: {entry}")

    def check_trust(self, role, document):
        """Each statement: Allow, exactly sts:AssumeRole, exactly the role's own service."""
        want = (self.wanted.get(role) or {}).get("service")
        statements = as_list((document or {}).get("Statement", []))
        if not statements:
            self.problem(f"{role}: no trust policy")
        if want is None:
            self.problem(f"{role}: trust policy: infra/permissions.json names no service that may assume it")
        for i, statement in enumerate(statements):
            where = f"{role} trust policy statement {statement.get('Sid', i)}"
            if statement.get("Effect") != "Allow":
                self.problem(f"{where}: Effect {statement.get('Effect')}; a trust policy here only lets {want} "
                             "assume the role")
            found = principals(statement.get("Principal"))
            if found != [("Service", want)]:
                self.problem(f"{where}: trusted by {statement.get('Principal')}, not only the service {want}")
            if as_list(statement.get("Action", [])) != ["sts:AssumeRole"]:
                self.problem(f"{where}: trust policy allows {statement.get('Action')}, not only sts:AssumeRole")

    def use_role(self, user, role_arn, *, function=None, service=None, machine=None):
        """`user` runs as `role_arn`: the role infra/permissions.json gives it."""
        role = arn_of(role_arn)
        if role is None or self.types.get(role) != "AWS::IAM::Role":
            self.problem(f"{user}: Role {role_arn} is not `!GetAtt <role>.Arn` of one of the template's roles; "
                         "it would run with permissions this check never sees")
            return
        self.role_users.setdefault(role, []).append(user)
        spec = self.wanted.get(role)
        if spec is None:
            return  # reported with the roles: a role infra/permissions.json does not list
        if function is not None and spec.get("function") != function:
            self.problem(f"{user}: Role {role} is the role of {spec.get('function') or 'no function'} in "
                         f"infra/permissions.json, not of {function}")
        if service is not None and (spec.get("function") is not None or spec.get("service") != service):
            self.problem(f"{user}: Role {role} is not the role infra/permissions.json gives {service} "
                         "(trusted by it, of no function)")
        elif machine is not None and spec.get("machine") != machine:
            self.problem(f"{user}: Role {role} is the role of {spec.get('machine') or 'no state machine'} in "
                         f"infra/permissions.json, not of {machine}")

    # ------------------------------------------------------------- resource policies
    def check_resource_policy(self, name, document, own_resource):
        """`own_resource(r)`: whether a statement's Resource r is the policy's own resource."""
        spec = self.wanted_resource_policies.get(name)
        if spec is None:
            self.problem(f"{name}: a resource policy infra/permissions.json does not list (resource_policies); "
                         "say there who may use it")
            spec = {}
        services = spec.get("services", {})
        for i, statement in enumerate(as_list((document or {}).get("Statement", []))):
            where = f"{name} statement {statement.get('Sid', i)}"
            self.check_statement(where, statement, None)
            for r in as_list(statement.get("Resource", [])) or [None]:
                if not own_resource(r):
                    self.problem(f"{where}: Resource {r} is not the resource this policy is attached to")
            found = principals(statement.get("Principal"))
            if found is None:
                self.problem(f"{where}: Principal {statement.get('Principal')} is not one this check can read")
                continue
            effect = statement.get("Effect")
            if effect == "Deny":
                continue  # a Deny only takes away, whoever it names
            if effect != "Allow":
                self.problem(f"{where}: Effect {effect}")
                continue
            actions = {a for a in as_list(statement.get("Action", [])) if isinstance(a, str)}
            condition = statement.get("Condition")
            for kind, text in found:
                if text is None:
                    self.problem(f"{where}: a principal ({kind}) that is not a literal cannot be checked")
                elif text == "*":
                    if not self.scoped(condition, PRINCIPAL_SCOPING_KEYS):
                        self.problem(f"{where}: Principal '*' (everyone) without a condition that limits it to this "
                                     "account or one of the template's resources")
                elif kind == "AWS" and text in ACCOUNT_ROOTS:
                    if not spec.get("account_root"):
                        self.problem(f"{where}: the account root ({text}) is a principal, which infra/permissions.json "
                                     f"does not give {name}")
                elif kind == "Service":
                    if text not in services:
                        self.problem(f"{where}: service principal {text} is not one infra/permissions.json expects "
                                     f"for {name} ({', '.join(sorted(services)) or 'none'})")
                    else:
                        self.service_grants.setdefault((name, text), set()).update(actions)
                    if not self.scoped(condition, SERVICE_SCOPING_KEYS, SERVICE_SCOPING_PREFIXES):
                        self.problem(f"{where}: service principal {text} without a condition tying its requests to "
                                     "this account or one of the template's resources (aws:SourceAccount, "
                                     "aws:SourceArn, a KMS encryption context)")
                else:
                    self.problem(f"{where}: {kind} principal {text}: only AWS services and this account's root may "
                                 "be named")
        for service, listed in services.items():
            want, have = set(listed), self.service_grants.get((name, service), set())
            for action in sorted(want - have):
                self.problem(f"{name}: {service} lacks {action}, which infra/permissions.json lists for it")
            for action in sorted(have - want):
                self.problem(f"{name}: grants {service} {action}, which infra/permissions.json does not list for it")

    # ------------------------------------------------------------- the template
    def run(self):
        for name, resource in self.resources.items():
            for where, key in negations(resource, name):
                self.problem(f"{name}: {key} at {where} matches everything it does not name; list what is meant")
        for section, props in (self.template.get("Globals") or {}).items():
            for where, key in negations(props, f"Globals.{section}"):
                self.problem(f"Globals: {key} at {where} matches everything it does not name; list what is meant")
            if isinstance(props, dict):
                if "Policies" in props:
                    self.check_sam_policies(f"Globals.{section}", props["Policies"])
                if "Role" in props:
                    self.problem(f"Globals.{section}: Role {props['Role']} gives every {section} one role; each has "
                                 "its own in infra/permissions.json")
        for name, resource in self.resources.items():
            self.check_resource(name, resource)
        if not any(t == "AWS::SNS::Topic" for t in self.types.values()):
            self.problem("no SNS topic in the template")
        self.compare_roles()
        self.compare_policies()
        for name in sorted(set(self.wanted_resource_policies) - set(self.resources)):
            self.problem(f"{name}: a resource policy listed in infra/permissions.json but not in the template")
        return self.problems

    def check_resource(self, name, resource):
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            if props.get("ManagedPolicyArns"):
                self.problem(f"{name}: managed policies {props['ManagedPolicyArns']} grant what this check cannot see")
            for policy in props.get("Policies", []):
                self.check_document(name, policy.get("PolicyDocument"), name)
            self.check_trust(name, props.get("AssumeRolePolicyDocument"))
        elif kind == "AWS::IAM::RolePolicy":
            role = target(props.get("RoleName"))
            self.check_document(name, props.get("PolicyDocument"), role or name)
        elif kind == "AWS::IAM::Policy":
            roles = [target(r) for r in as_list(props.get("Roles", []))]
            if len(roles) != 1 or roles[0] is None:
                self.problem(f"{name}: attach a policy to exactly one of the gate's roles: {props.get('Roles')}")
            self.check_document(name, props.get("PolicyDocument"), roles[0] if roles else name)
        elif kind == "AWS::IAM::ManagedPolicy":
            if name not in self.wanted_policies:
                self.problem(f"{name}: managed policy infra/permissions.json does not list; "
                             "give the role an inline policy this check can read")
                return
            # For people to attach: attached to one of the gate's roles it would grant what that
            # role's check does not see.
            for key in ("Roles", "Users", "Groups"):
                if props.get(key):
                    self.problem(f"{name}: the stack attaches it ({key}: {props[key]}); operators attach it themselves")
            self.check_document(name, props.get("PolicyDocument"), name)
        elif kind == "AWS::Serverless::StateMachine":
            want = MACHINE_NAMES.get(name)
            if want is None:
                self.problem(f"{name}: a state machine this check does not know (the gate is StateMachine, the fleet "
                             "FleetStateMachine); its ARNs in the policies could not be checked")
            elif sub_text(props.get("Name")) != want:
                self.problem(f"{name}: Name {props.get('Name')} is not {want}, the name the execution, state machine "
                             "and abort-parameter ARNs are written with")
            self.check_sam_policies(name, props.get("Policies"))
            self.use_role(name, props.get("Role"), service="states.amazonaws.com", machine=name)
        elif kind == "AWS::Serverless::Function":
            binary = ((resource.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
            self.check_sam_policies(name, props.get("Policies"))
            self.use_role(name, props.get("Role"), function=binary)
        elif kind == "AWS::Scheduler::Schedule":
            self.use_role(name, (props.get("Target") or {}).get("RoleArn"), service="scheduler.amazonaws.com")
        elif kind == "AWS::KMS::Key":
            # A key policy's Resource "*" means the key itself.
            self.check_resource_policy(name, props.get("KeyPolicy"), lambda r: r == "*")
        elif kind == "AWS::SNS::TopicPolicy":
            topics = {target(t) for t in as_list(props.get("Topics", []))}
            self.check_resource_policy(name, props.get("PolicyDocument"),
                                       lambda r: isinstance(r, dict) and "Ref" in r and target(r) in topics)
        elif kind == "AWS::SQS::QueuePolicy":
            queues = {target(q) for q in as_list(props.get("Queues", []))}
            self.check_resource_policy(name, props.get("PolicyDocument"), lambda r: arn_of(r) in queues)
        elif kind == "AWS::S3::BucketPolicy":
            bucket = target(props.get("Bucket"))
            self.check_resource_policy(name, props.get("PolicyDocument"),
                                       lambda r: arn_of(r) == bucket or sub_text(r) == f"${{{bucket}.Arn}}/*")
        elif kind == "AWS::SNS::Topic" and not props.get("KmsMasterKeyId"):
            self.problem(f"{name}: the topic is not encrypted with KMS")
        elif kind not in READ_POLICY_TYPES and (kind in GRANTING_TYPES or str(kind).endswith(("Policy", "Permission"))):
            self.problem(f"{name}: {kind} grants permissions this check does not read")

    def compare_roles(self):
        roles = {name for name, t in self.types.items() if t == "AWS::IAM::Role"}
        for role in sorted(roles | set(self.wanted)):
            if role not in self.wanted:
                self.problem(f"{role}: a role infra/permissions.json does not list")
                continue
            if role not in roles:
                self.problem(f"{role}: listed in infra/permissions.json but not in the template")
                continue
            users = self.role_users.get(role, [])
            if len(users) > 1:
                self.problem(f"{role}: the role of {', '.join(users)}; each runs as its own")
            want, have = set(self.wanted[role]["actions"]), self.granted.get(role, set())
            for action in sorted(want - have):
                self.problem(f"{role}: lacks {action}, which {self.wanted[role].get('function', 'it')} calls")
            for action in sorted(have - want):
                self.problem(f"{role}: grants {action}, which infra/permissions.json does not list for it")

    def compare_policies(self):
        policies = {name for name, t in self.types.items() if t == "AWS::IAM::ManagedPolicy"}
        for policy in sorted(set(self.wanted_policies) - policies):
            self.problem(f"{policy}: listed in infra/permissions.json but not in the template")
        for policy in sorted(policies & set(self.wanted_policies)):
            want, have = set(self.wanted_policies[policy]["actions"]), self.granted.get(policy, set())
            used_by = self.wanted_policies[policy].get("used_by", "its users")
            for action in sorted(want - have):
                self.problem(f"{policy}: lacks {action}, which {used_by} need")
            for action in sorted(have - want):
                self.problem(f"{policy}: grants {action}, which infra/permissions.json does not list for it")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))

"""Proves each rule of least_privilege.py bites: breaks a copy of infra/template.yaml in one way
at a time and requires the check to fail naming it (and to pass on the unbroken template).

Why: a checker that silently drops what it cannot read (a non-string action, a NotAction, a
managed policy) passes anything; this keeps it honest. Run by infra/check.sh.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

INFRA = Path(__file__).resolve().parent
TEMPLATE = (INFRA / "template.yaml").read_text()

START_ACTIONS = """                  - gamesparks:ListSnapshots
                  - gamesparks:ListStageDeployments
                  - gamesparks:StartStageDeployment
"""
GAME_ARN = "!Sub arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${GameName}/*"
POLL_ROLE_TRUST = """  PollDeploymentRole:
    Type: AWS::IAM::Role
    Properties:"""
ABORT_READ = """                Action: ssm:GetParameter
                Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stagegate/abort/${AWS::StackName}-gate/*
"""
OPERATOR_POLICY = """  OperatorPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
"""
OPERATOR_READS = """              - states:DescribeExecution
              - states:GetExecutionHistory
"""

# (what is broken, text replaced, replacement, words the check must print)
MUTATIONS = [
    ("an action the function does not use", START_ACTIONS,
     START_ACTIONS + "                  - gamesparks:DeleteStage\n", "grants gamesparks:DeleteStage"),
    ("an action the function needs, removed", "                  - gamesparks:ListSnapshots\n", "",
     "lacks gamesparks:ListSnapshots"),
    ("a wildcard action", "                  - gamesparks:ListSnapshots\n",
     "                  - gamesparks:List*\n", "wildcard action gamesparks:List*"),
    ("an action that is not a string", "                  - gamesparks:ListSnapshots\n",
     "                  - !Ref GameName\n", "not a literal string"),
    ("NotAction", "                Action:\n                  - gamesparks:ListSnapshots\n",
     "                NotAction:\n                  - iam:*\n                Action:\n                  - gamesparks:ListSnapshots\n",
     "NotAction grants everything"),
    ("another game by substring", GAME_ARN,
     "!Sub arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${GameName}-other/*",
     "is not the configured game"),
    ("a managed policy", POLL_ROLE_TRUST,
     POLL_ROLE_TRUST + "\n      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/AdministratorAccess",
     "managed policies"),
    ("a role trusted by another service", "Service: lambda.amazonaws.com",
     "Service: ec2.amazonaws.com", "not only lambda.amazonaws.com"),
    ("an unknown service", "                  - gamesparks:ListSnapshots\n",
     "                  - gamesparks:ListSnapshots\n                  - dynamodb:GetItem\n",
     "dynamodb:GetItem: a service this check does not know"),
    ("Resource '*' for scoped actions", "Resource: !GetAtt StartDeploymentLogGroup.Arn",
     'Resource: "*"', "Resource '*' for actions that can be scoped"),
    ("every SSM parameter for the abort read", ABORT_READ,
     ABORT_READ.replace("parameter/stagegate/abort/${AWS::StackName}-gate/*", "parameter/*"),
     "is not this gate's abort parameters"),
    ("every gate's abort parameters (a prefix of the gate's own)", ABORT_READ,
     ABORT_READ.replace("${AWS::StackName}-gate/*", "*"), "is not this gate's abort parameters"),
    ("operators reading every state machine's executions",
     "execution:${AWS::StackName}-gate:*", "execution:*", "is not this state machine's executions"),
    ("an operator action infra/permissions.json does not list", OPERATOR_READS,
     OPERATOR_READS + "              - states:StopExecution\n", "OperatorPolicy: grants states:StopExecution"),
    ("the operator policy attached to a gate role by the stack", OPERATOR_POLICY,
     OPERATOR_POLICY + "      Roles: [!Ref StartDeploymentRole]\n", "operators attach it themselves"),
    ("a managed policy infra/permissions.json does not list", OPERATOR_POLICY,
     OPERATOR_POLICY.replace("OperatorPolicy:", "AdminPolicy:"), "managed policy infra/permissions.json does not list"),
    ("the state machine renamed (the ARNs above no longer its own)", "      Name: !Sub ${AWS::StackName}-gate\n",
     "      Name: !Sub ${AWS::StackName}-other\n", "is not ${AWS::StackName}-gate"),
]


def run(text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=INFRA, delete=False) as f:
        f.write(text)
        path = Path(f.name)
    try:
        out = subprocess.run([sys.executable, str(INFRA / "least_privilege.py"), str(path)],
                             capture_output=True, text=True)
        return out.returncode, out.stdout + out.stderr
    finally:
        path.unlink()


def main():
    failures = 0
    rc, out = run(TEMPLATE)
    if rc != 0:
        print(f"FAIL the unbroken template does not pass:\n{out}")
        failures += 1
    for what, old, new, words in MUTATIONS:
        if TEMPLATE.count(old) < 1:
            print(f"FAIL {what}: the template no longer contains the text this mutation replaces")
            failures += 1
            continue
        rc, out = run(TEMPLATE.replace(old, new, 1))
        if rc == 0 or words not in out:
            print(f"FAIL {what}: the check {'passed' if rc == 0 else 'failed without saying'} {words!r}:\n{out}")
            failures += 1
        else:
            print(f"ok   {what}")
    print(f"{len(MUTATIONS) + 1 - failures} of {len(MUTATIONS) + 1} least-privilege mutations caught")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Proves each rule of least_privilege.py bites: breaks a copy of infra/template.yaml in one way
at a time and requires the check to fail, printing the resource at fault and the words of the rule
(and to pass on the unbroken template, and on the few changes a rule must still allow).

Why: a checker that silently drops what it cannot read (a non-string action, a NotAction, a
managed policy, a principal) passes anything; this keeps it honest. Each mutation is one rule's
failing fixture: a copy of the real template with one thing changed, so the rule is shown to bite
where it matters, in context. Run by infra/check.sh (tier `infra`).
"""

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import least_privilege

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

TOPIC_ALARM_STATEMENT = """          - Sid: GateAlarmPublishes
            Effect: Allow
            Principal:
              Service: cloudwatch.amazonaws.com
            Action: sns:Publish
            Resource: !Ref Topic
            Condition:
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId
              ArnLike:
                aws:SourceArn:
                  - !Sub arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-deployment-gate-failed
                  - !Sub arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-deployment-gate-rollback
                  - !Sub arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-fleet-failed
"""
TOPIC_ALARM_UNCONDITIONED = """          - Sid: GateAlarmPublishes
            Effect: Allow
            Principal:
              Service: cloudwatch.amazonaws.com
            Action: sns:Publish
            Resource: !Ref Topic
"""
TLS_ONLY = """          - Sid: TlsOnly
            Effect: Deny
            Principal: "*"
"""
QUEUE_STATEMENT = """            Principal:
              Service: events.amazonaws.com
            Action: sqs:SendMessage
            Resource: !GetAtt GateWatchdogQueue.Arn
            Condition:
              ArnEquals:
                aws:SourceArn:
                  - !GetAtt GateWatchdogRule.Arn
                  - !GetAtt FleetWatchdogRule.Arn
"""
SNS_KEY_USE = """              Service: sns.amazonaws.com
            Action:
              - kms:Decrypt
              - kms:GenerateDataKey
"""
KEY_ROOT = "              AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n"
LAMBDA_TRUST = """            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
"""
START_FUNCTION_ROLE = "      Role: !GetAtt StartDeploymentRole.Arn\n"
GLOBALS_FUNCTION = "    Tracing: Active\n"
ANSWER_APPROVALS = """            Action: lambda:InvokeFunctionUrl
            Resource: !GetAtt AnswerApprovalFunction.Arn
"""
METRICS_SECTION = "  # ---------------------------------------------------------------- metrics\n"
FLEET_OBJECTS = """              - Sid: FleetBucketObjects
                Effect: Allow
                Action:
                  - s3:GetObject
                  - s3:PutObject
                Resource: !Sub ${FleetBucket.Arn}/*
"""
SYNC_RULE = ("                Resource: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
             "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule\n")
SYNC_ACTIONS = """                  - events:PutTargets
                  - events:PutRule
                  - events:DescribeRule
"""
MAP_RUN_CHILDREN = ("                Resource: !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
                    "execution:${AWS::StackName}-fleet/*\n")
FLEET_SELF = ("                Resource: !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
              "stateMachine:${AWS::StackName}-fleet\n")
READ_BATCHES = "                Action: s3:GetObject\n                Resource: !Sub ${FleetBucket.Arn}/fleets/*\n"
RUNNER_STARTS = """          - Sid: StartGate
            Effect: Allow
            Action: states:StartExecution
            Resource: !Ref StateMachine
          - Sid: FollowGateExecutions # its status, and the states it went through
            Effect: Allow
            Action:
              - states:DescribeExecution
              - states:GetExecutionHistory
            Resource: !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-gate:*
          # `stagegate fleet run` (crates/stagegate-cli/src/fleet.rs): one StartExecution.
          - Sid: StartFleet
            Effect: Allow
            Action: states:StartExecution
            Resource: !Ref FleetStateMachine
"""


def everyone_on_topic(condition=""):
    """A statement letting everyone publish to the topic, with `condition` (YAML, indented)."""
    return TOPIC_ALARM_STATEMENT + """          - Sid: Everyone
            Effect: Allow
            Principal: "*"
            Action: sns:Publish
            Resource: !Ref Topic
""" + condition


# (what is broken, text replaced, replacement, words the check must print: one string or several)
MUTATIONS = [
    # ---- identity policies: actions and resources
    ("an action the function does not use", START_ACTIONS,
     START_ACTIONS + "                  - gamesparks:DeleteStage\n", "StartDeploymentRole: grants gamesparks:DeleteStage"),
    ("an action the function needs, removed", "                  - gamesparks:ListSnapshots\n", "",
     "StartDeploymentRole: lacks gamesparks:ListSnapshots"),
    ("a wildcard action", "                  - gamesparks:ListSnapshots\n",
     "                  - gamesparks:List*\n", "StartDeploymentRole statement GameSparksThisGameOnly: wildcard action gamesparks:List*"),
    ("an action that is not a string", "                  - gamesparks:ListSnapshots\n",
     "                  - !Ref GameName\n", "StartDeploymentRole statement GameSparksThisGameOnly: an action that is not a literal string"),
    ("another game by substring", GAME_ARN,
     "!Sub arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/${GameName}-other/*",
     "StartDeploymentRole statement GameSparksThisGameOnly: GameSparks resource"),
    ("a managed policy", POLL_ROLE_TRUST,
     POLL_ROLE_TRUST + "\n      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/AdministratorAccess",
     "PollDeploymentRole: managed policies"),
    ("an unknown service", "                  - gamesparks:ListSnapshots\n",
     "                  - gamesparks:ListSnapshots\n                  - dynamodb:GetItem\n",
     "StartDeploymentRole statement GameSparksThisGameOnly: dynamodb:GetItem: a service this check does not know"),
    ("Resource '*' for scoped actions", "Resource: !GetAtt StartDeploymentLogGroup.Arn",
     'Resource: "*"', "StartDeploymentRole statement OwnLogGroup: Resource '*' for actions that can be scoped"),
    ("every SSM parameter for the abort read", ABORT_READ,
     ABORT_READ.replace("parameter/stagegate/abort/${AWS::StackName}-gate/*", "parameter/*"),
     ("StartDeploymentRole statement AbortRequestsRead: ssm:GetParameter: SSM resource", "is not this gate's abort parameters")),
    ("every gate's abort parameters (a prefix of the gate's own)", ABORT_READ,
     ABORT_READ.replace("${AWS::StackName}-gate/*", "*"),
     ("StartDeploymentRole statement AbortRequestsRead: ssm:GetParameter: SSM resource", "is not this gate's abort parameters")),
    ("operators writing the answer key (they could sign answers as anyone)",
     "Action: ssm:PutParameter\n            Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stagegate/abort/${AWS::StackName}-gate/*",
     "Action: ssm:PutParameter\n            Resource: !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stagegate/answer-key/${AWS::StackName}-gate",
     ("OperatorPolicy statement RequestAborts: ssm:PutParameter on the answer key", "only AnswerApprovalRole may")),
    ("start-deployment writing the answer key",
     "              - Sid: AnswerKeyRead\n                Effect: Allow\n                Action: ssm:GetParameter\n",
     "              - Sid: AnswerKeyRead\n                Effect: Allow\n                Action: [ssm:GetParameter, ssm:PutParameter]\n",
     ("StartDeploymentRole statement AnswerKeyRead: ssm:PutParameter on the answer key", "only AnswerApprovalRole may")),
    ("operators reading every state machine's executions",
     OPERATOR_READS + "            Resource: !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-gate:*",
     OPERATOR_READS + "            Resource: !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:*",
     ("OperatorPolicy statement ReadGateExecutions: states:DescribeExecution: resource", "is not this state machine's executions")),
    ("an operator action infra/permissions.json does not list", OPERATOR_READS,
     OPERATOR_READS + "              - states:StopExecution\n", "OperatorPolicy: grants states:StopExecution"),
    ("the runner policy without StartExecution (gate and fleet)", RUNNER_STARTS,
     RUNNER_STARTS.replace("Action: states:StartExecution", "Action: states:DescribeExecution"),
     ("RunnerPolicy: lacks states:StartExecution", "RunnerPolicy statement StartGate: states:DescribeExecution: resource",
      "RunnerPolicy statement StartFleet: states:DescribeExecution: resource")),
    ("the read-only policy listing every state machine's executions", "            Action: states:ListExecutions\n            Resource: !Ref StateMachine\n",
     '            Action: states:ListExecutions\n            Resource: "*"\n',
     "ReadOnlyPolicy statement ListGateExecutions: Resource '*' for actions that can be scoped"),
    ("the read-only policy reading another game's stages", "              - gamesparks:ListStageDeployments\n            Resource:\n              - " + GAME_ARN.replace("/*", ""),
     "              - gamesparks:ListStageDeployments\n            Resource:\n              - !Sub arn:${AWS::Partition}:gamesparks:${AWS::Region}:${AWS::AccountId}:game/*",
     ("ReadOnlyPolicy statement ReadStages: GameSparks resource", "is not the configured game or its stages")),
    ("the operator policy attached to a gate role by the stack", OPERATOR_POLICY,
     OPERATOR_POLICY + "      Roles: [!Ref StartDeploymentRole]\n", "OperatorPolicy: the stack attaches it"),
    ("a managed policy infra/permissions.json does not list", OPERATOR_POLICY,
     OPERATOR_POLICY.replace("OperatorPolicy:", "AdminPolicy:"),
     "AdminPolicy: managed policy infra/permissions.json does not list"),
    ("the state machine renamed (the ARNs above no longer its own)", "      Name: !Sub ${AWS::StackName}-gate\n",
     "      Name: !Sub ${AWS::StackName}-other\n", "StateMachine: Name"),

    # ---- NotAction / NotResource / NotPrincipal, wherever they are
    ("NotAction in a role", "                Action:\n                  - gamesparks:ListSnapshots\n",
     "                NotAction:\n                  - iam:*\n                Action:\n                  - gamesparks:ListSnapshots\n",
     "StartDeploymentRole: NotAction at StartDeploymentRole.Properties.Policies[0]"),
    ("NotResource in the operator policy", ANSWER_APPROVALS,
     "            Action: lambda:InvokeFunctionUrl\n            NotResource: arn:aws:lambda:::nothing\n",
     "OperatorPolicy: NotResource at"),
    ("NotPrincipal in the topic policy's Deny", TLS_ONLY,
     TLS_ONLY.replace('Principal: "*"', "NotPrincipal:\n              Service: cloudwatch.amazonaws.com"),
     "TopicPolicy: NotPrincipal at TopicPolicy.Properties.PolicyDocument.Statement[1]"),
    ("NotAction in a trust policy", LAMBDA_TRUST,
     LAMBDA_TRUST.replace("Action: sts:AssumeRole", "NotAction: iam:PassRole"),
     ("StartDeploymentRole: NotAction at StartDeploymentRole.Properties.AssumeRolePolicyDocument",
      "not only sts:AssumeRole")),

    # ---- resource policies: principals
    ("everyone (Principal '*') may publish to the topic", TOPIC_ALARM_STATEMENT, everyone_on_topic(),
     "TopicPolicy statement Everyone: Principal '*' (everyone) without a condition"),
    ("everyone, with a condition that limits nothing (TLS)", TOPIC_ALARM_STATEMENT, everyone_on_topic(
        "            Condition:\n              Bool:\n                aws:SecureTransport: \"true\"\n"),
     "TopicPolicy statement Everyone: Principal '*' (everyone) without a condition"),
    ("everyone, limited to another account", TOPIC_ALARM_STATEMENT, everyone_on_topic(
        "            Condition:\n              StringEquals:\n                aws:PrincipalAccount: \"111122223333\"\n"),
     "TopicPolicy statement Everyone: Principal '*' (everyone) without a condition"),
    ("everyone ({AWS: '*'}) may send to the watchdog queue", QUEUE_STATEMENT,
     '            Principal:\n              AWS: "*"\n            Action: sqs:SendMessage\n'
     "            Resource: !GetAtt GateWatchdogQueue.Arn\n",
     "GateWatchdogQueuePolicy statement WatchdogRuleDelivers: Principal '*' (everyone) without a condition"),
    ("a service principal the key policy does not expect", SNS_KEY_USE,
     SNS_KEY_USE.replace("sns.amazonaws.com", "s3.amazonaws.com"),
     "Key statement SnsUsesKeyForThisAccount: service principal s3.amazonaws.com is not one infra/permissions.json expects for Key"),
    ("an expected service granted one more action", SNS_KEY_USE, SNS_KEY_USE + "              - kms:ReEncryptFrom\n",
     "Key: grants sns.amazonaws.com kms:ReEncryptFrom"),
    ("an expected service missing an action it needs", SNS_KEY_USE, SNS_KEY_USE.replace("              - kms:GenerateDataKey\n", ""),
     "Key: sns.amazonaws.com lacks kms:GenerateDataKey"),
    ("a service principal without a confused-deputy condition", TOPIC_ALARM_STATEMENT, TOPIC_ALARM_UNCONDITIONED,
     "TopicPolicy statement GateAlarmPublishes: service principal cloudwatch.amazonaws.com without a condition"),
    ("a service principal tied to another account's resource", "                  - !GetAtt FleetWatchdogRule.Arn\n",
     "                  - arn:aws:events:us-east-1:111122223333:rule/theirs\n",
     "GateWatchdogQueuePolicy statement WatchdogRuleDelivers: service principal events.amazonaws.com without a condition"),
    ("the account root where the template does not mean it (topic)", TOPIC_ALARM_STATEMENT,
     TOPIC_ALARM_STATEMENT.replace("Service: cloudwatch.amazonaws.com", "AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root"),
     "TopicPolicy statement GateAlarmPublishes: the account root"),
    ("another account's root in the key policy", KEY_ROOT, "              AWS: arn:aws:iam::111122223333:root\n",
     "Key statement AccountAdministersKeyThroughIam: AWS principal arn:aws:iam::111122223333:root: only AWS services"),
    ("a role of the stack in the key policy", KEY_ROOT, "              AWS: !GetAtt NotifyResultRole.Arn\n",
     "Key statement AccountAdministersKeyThroughIam: a principal (AWS) that is not a literal"),
    ("a federated principal", KEY_ROOT, "              Federated: cognito-identity.amazonaws.com\n",
     "Key statement AccountAdministersKeyThroughIam: Federated principal"),
    ("a topic policy statement on another resource", "            Action: sns:Publish\n            Resource: !Ref Topic\n            Condition:\n              StringEquals:",
     '            Action: sns:Publish\n            Resource: "*"\n            Condition:\n              StringEquals:',
     "TopicPolicy statement GateAlarmPublishes: Resource * is not the resource this policy is attached to"),
    ("a resource policy infra/permissions.json does not list", "  GateWatchdogQueuePolicy:\n",
     "  OtherQueuePolicy:\n", "OtherQueuePolicy: a resource policy infra/permissions.json does not list"),

    # ---- SAM Policies (functions, the state machine, Globals)
    ("a managed policy in a function's SAM Policies", START_FUNCTION_ROLE,
     START_FUNCTION_ROLE + "      Policies: AWSLambdaBasicExecutionRole\n",
     "StartDeploymentFunction: SAM Policies: managed policy AWSLambdaBasicExecutionRole"),
    ("a SAM policy template on a function", START_FUNCTION_ROLE,
     START_FUNCTION_ROLE + "      Policies:\n        - S3ReadPolicy:\n            BucketName: anything\n",
     "StartDeploymentFunction: SAM Policies: policy template S3ReadPolicy"),
    ("inline statements in a function's SAM Policies", START_FUNCTION_ROLE,
     START_FUNCTION_ROLE + "      Policies:\n        - Statement:\n            - Effect: Allow\n"
     "              Action: s3:*\n              Resource: \"*\"\n",
     ("StartDeploymentFunction: SAM Policies: inline statements", "wildcard action s3:*")),
    ("SAM Policies in Globals (every function)", GLOBALS_FUNCTION,
     GLOBALS_FUNCTION + "    Policies: AmazonS3FullAccess\n",
     "Globals.Function: SAM Policies: managed policy AmazonS3FullAccess"),
    ("SAM Policies on the state machine", "      Role: !GetAtt StateMachineRole.Arn\n",
     "      Role: !GetAtt StateMachineRole.Arn\n      Policies:\n        - LambdaInvokePolicy:\n            FunctionName: '*'\n",
     "StateMachine: SAM Policies: policy template LambdaInvokePolicy"),

    # ---- who runs as which role
    ("a function running as another function's role", START_FUNCTION_ROLE,
     "      Role: !GetAtt NotifyResultRole.Arn\n",
     ("StartDeploymentFunction: Role NotifyResultRole is the role of notify-result", "NotifyResultRole: the role of")),
    ("a function with no Role (SAM would make one)", "      Role: !GetAtt PollDeploymentRole.Arn\n", "",
     "PollDeploymentFunction: Role None is not `!GetAtt <role>.Arn`"),
    ("a function running as a role from outside the template", "      Role: !GetAtt RollbackDeploymentRole.Arn\n",
     "      Role: arn:aws:iam::123456789012:role/admin\n",
     "RollbackDeploymentFunction: Role arn:aws:iam::123456789012:role/admin is not `!GetAtt"),
    ("the state machine running as a function's role", "      Role: !GetAtt StateMachineRole.Arn\n",
     "      Role: !GetAtt PollDeploymentRole.Arn\n",
     "StateMachine: Role PollDeploymentRole is not the role infra/permissions.json gives states.amazonaws.com"),
    ("the schedule running as the state machine's role", "        RoleArn: !GetAtt SchedulerRole.Arn\n",
     "        RoleArn: !GetAtt StateMachineRole.Arn\n",
     "Schedule: Role StateMachineRole is not the role infra/permissions.json gives scheduler.amazonaws.com"),
    ("one role for every function (Globals)", GLOBALS_FUNCTION,
     GLOBALS_FUNCTION + "    Role: !GetAtt StartDeploymentRole.Arn\n", "Globals.Function: Role"),

    # ---- trust policies
    ("a role trusted by another service", "Service: lambda.amazonaws.com",
     "Service: ec2.amazonaws.com", "StartDeploymentRole trust policy statement 0: trusted by {'Service': 'ec2.amazonaws.com'}, not only the service lambda.amazonaws.com"),
    ("a role trusted by a second service too", LAMBDA_TRUST,
     LAMBDA_TRUST.replace("Service: lambda.amazonaws.com", "Service: [lambda.amazonaws.com, edgelambda.amazonaws.com]"),
     "StartDeploymentRole trust policy statement 0: trusted by"),
    ("a role trusted by the account root too", LAMBDA_TRUST,
     LAMBDA_TRUST.replace("              Service: lambda.amazonaws.com\n",
                          "              Service: lambda.amazonaws.com\n              AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n"),
     "StartDeploymentRole trust policy statement 0: trusted by"),
    ("a role anyone may assume", LAMBDA_TRUST, LAMBDA_TRUST.replace("              Service: lambda.amazonaws.com\n", "").replace(
        "            Principal:\n", '            Principal: "*"\n'),
     "StartDeploymentRole trust policy statement 0: trusted by *"),
    ("a trust policy allowing more than sts:AssumeRole", LAMBDA_TRUST,
     LAMBDA_TRUST.replace("Action: sts:AssumeRole", "Action: [sts:AssumeRole, sts:TagSession]"),
     "StartDeploymentRole trust policy statement 0: trust policy allows ['sts:AssumeRole', 'sts:TagSession'], not only sts:AssumeRole"),
    ("a Deny in a trust policy", LAMBDA_TRUST,
     LAMBDA_TRUST + "          - Effect: Deny\n            Principal:\n              Service: lambda.amazonaws.com\n"
     "            Action: sts:AssumeRole\n",
     "StartDeploymentRole trust policy statement 1: Effect Deny"),

    # ---- the decision records bucket (S3)
    ("records written to another bucket", "            Resource: !Sub ${DecisionRecordsBucket.Arn}/*\n\n",
     "            Resource: arn:aws:s3:::someone-elses-bucket/*\n\n",
     "NotifyResultRecordsPolicy statement ReadAndWriteRecords: s3:GetObject: S3 resource"),
    ("listing on the objects, not the bucket", "            Action: s3:ListBucket\n            Resource: !GetAtt DecisionRecordsBucket.Arn\n",
     "            Action: s3:ListBucket\n            Resource: !Sub ${DecisionRecordsBucket.Arn}/*\n",
     "NotifyResultRecordsPolicy statement ListStageRecords: s3:ListBucket: S3 resource"),
    ("a record deleted by the gate", "              - s3:GetObject\n              - s3:PutObject\n",
     "              - s3:GetObject\n              - s3:PutObject\n              - s3:DeleteObject\n",
     ("NotifyResultRecordsPolicy statement ReadAndWriteRecords: s3:DeleteObject: S3 resource",
      "NotifyResultRole: grants s3:DeleteObject")),
    ("the bucket's TLS rule turned into an Allow for everyone",
     "            Effect: Deny\n            Principal: \"*\"\n            Action: s3:*\n            Resource:\n              - !GetAtt DecisionRecordsBucket.Arn\n",
     "            Effect: Allow\n            Principal: \"*\"\n            Action: s3:*\n            Resource:\n              - !GetAtt DecisionRecordsBucket.Arn\n",
     ("DecisionRecordsBucketPolicy statement TlsOnly: wildcard action s3:*",
      "DecisionRecordsBucketPolicy statement TlsOnly: Principal '*' (everyone) without a condition")),

    # ---- the fleet (docs/fleet.md): fleet-step's role, the fleet workflow's role, the runner's reads
    ("fleet-step with every S3 action", FLEET_OBJECTS,
     FLEET_OBJECTS.replace("                  - s3:GetObject\n                  - s3:PutObject\n", "                  - s3:*\n"),
     ("FleetStepRole statement FleetBucketObjects: wildcard action s3:*", "FleetStepRole: lacks s3:GetObject")),
    ("fleet-step on every bucket's objects", FLEET_OBJECTS,
     FLEET_OBJECTS.replace("Resource: !Sub ${FleetBucket.Arn}/*", 'Resource: "*"'),
     "FleetStepRole statement FleetBucketObjects: Resource '*' for actions that can be scoped: ['s3:GetObject', 's3:PutObject']"),
    ("fleet-step writing the decision records (a bucket of the template, not its own)", FLEET_OBJECTS,
     FLEET_OBJECTS.replace("${FleetBucket.Arn}/*", "${DecisionRecordsBucket.Arn}/*"),
     ("FleetStepRole statement FleetBucketObjects: s3:GetObject: S3 resource",
      "is not a bucket infra/permissions.json lists for FleetStepRole (FleetBucket")),
    ("fleet-step on another account's bucket", FLEET_OBJECTS,
     FLEET_OBJECTS.replace("!Sub ${FleetBucket.Arn}/*", "arn:aws:s3:::someone-elses-bucket/*"),
     "FleetStepRole statement FleetBucketObjects: s3:PutObject: S3 resource"),
    ("fleet-step starting deployments through the game list's Resource '*'",
     "                Action: gamesparks:ListGames\n",
     "                Action: [gamesparks:ListGames, gamesparks:StartStageDeployment]\n",
     ("FleetStepRole statement GameSparksGameList: Resource '*' for actions that can be scoped: "
      "['gamesparks:StartStageDeployment']", "FleetStepRole: grants gamesparks:StartStageDeployment")),
    ("the ItemReader reading keys by a wildcard pattern", READ_BATCHES,
     READ_BATCHES.replace("/fleets/*", "/*/batch-*"),
     "FleetStateMachineRole statement ReadBatches: s3:GetObject: S3 resource"),
    ("a role with no buckets in infra/permissions.json reading the fleet bucket",
     "              - Sid: XRayTraces # X-Ray's write actions support no resource-level permissions\n                Effect: Allow\n"
     "                Action:\n                  - xray:PutTraceSegments\n                  - xray:PutTelemetryRecords\n"
     "                Resource: \"*\"\n\n  AnswerApprovalLogGroup:",
     "              - Sid: FleetPeek\n                Effect: Allow\n                Action: s3:GetObject\n"
     "                Resource: !Sub ${FleetBucket.Arn}/*\n"
     "              - Sid: XRayTraces # X-Ray's write actions support no resource-level permissions\n                Effect: Allow\n"
     "                Action:\n                  - xray:PutTraceSegments\n                  - xray:PutTelemetryRecords\n"
     "                Resource: \"*\"\n\n  AnswerApprovalLogGroup:",
     ("StartDeploymentRole statement FleetPeek: s3:GetObject: infra/permissions.json lists no buckets for StartDeploymentRole",
      "StartDeploymentRole: grants s3:GetObject")),
    ("the events rule unscoped (every rule of the account)", SYNC_RULE,
     "                Resource: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*\n",
     "FleetStateMachineRole statement GateEndingEvents: events:PutTargets on"),
    ("the events rule's targets removable", SYNC_ACTIONS, SYNC_ACTIONS + "                  - events:RemoveTargets\n",
     ("FleetStateMachineRole statement GateEndingEvents: events:RemoveTargets on",
      "FleetStateMachineRole: grants events:RemoveTargets")),
    ("the Map Run's children widened to every execution", MAP_RUN_CHILDREN,
     MAP_RUN_CHILDREN.replace("execution:${AWS::StackName}-fleet/*", "execution:*"),
     "FleetStateMachineRole statement FollowMapRunChildren: states:StopExecution: resource"),
    ("the fleet starting any state machine", FLEET_SELF, FLEET_SELF.replace("stateMachine:${AWS::StackName}-fleet", "stateMachine:*"),
     "FleetStateMachineRole statement StartMapRunChildren: states:StartExecution beyond the gate's own"),
    ("the fleet renamed (its role's ARNs no longer its own)", "      Name: !Sub ${AWS::StackName}-fleet\n",
     "      Name: !Sub ${AWS::StackName}-fleets\n", "FleetStateMachine: Name"),
    ("the fleet running as the gate's role", "      Role: !GetAtt FleetStateMachineRole.Arn\n",
     "      Role: !GetAtt StateMachineRole.Arn\n",
     ("FleetStateMachine: Role StateMachineRole is the role of StateMachine in infra/permissions.json, not of FleetStateMachine",
      "StateMachineRole: the role of")),
    ("a state machine this check does not know", "  FleetStateMachine:\n    Type: AWS::Serverless::StateMachine\n",
     "  OtherMachine:\n    Type: AWS::Serverless::StateMachine\n", "OtherMachine: a state machine this check does not know"),
    ("the runner reading the decision records", "            Action: s3:GetObject\n            Resource: !Sub ${FleetBucket.Arn}/fleets/*\n",
     "            Action: s3:GetObject\n            Resource: !Sub ${DecisionRecordsBucket.Arn}/*\n",
     "RunnerPolicy statement ReadFleetRuns: s3:GetObject: S3 resource"),

    # ---- resource types that grant what this does not read
    ("a Lambda permission for everyone", METRICS_SECTION,
     "  OpenInvoke:\n    Type: AWS::Lambda::Permission\n    Properties:\n      Action: lambda:InvokeFunction\n"
     "      FunctionName: !Ref StartDeploymentFunction\n      Principal: \"*\"\n\n" + METRICS_SECTION,
     "OpenInvoke: AWS::Lambda::Permission grants permissions this check does not read"),
    ("an IAM user", METRICS_SECTION,
     "  Deployer:\n    Type: AWS::IAM::User\n    Properties:\n      ManagedPolicyArns: [!Ref OperatorPolicy]\n\n" + METRICS_SECTION,
     "Deployer: AWS::IAM::User grants permissions this check does not read"),
]

# Changes a rule must still allow (the check passes on each): a rule that rejects everything
# proves nothing about the line it draws.
ALLOWED = [
    ("everyone, limited to this account by aws:PrincipalAccount", TOPIC_ALARM_STATEMENT, everyone_on_topic(
        "            Condition:\n              StringEquals:\n                aws:PrincipalAccount: !Ref AWS::AccountId\n")
     .replace("Action: sns:Publish\n            Resource: !Ref Topic\n            Condition:\n              StringEquals:\n                aws:PrincipalAccount",
              "Action: sns:Subscribe\n            Resource: !Ref Topic\n            Condition:\n              StringEquals:\n                aws:PrincipalAccount")),
    ("a Deny naming everyone (the TLS rule) on the queue too", QUEUE_STATEMENT,
     QUEUE_STATEMENT + "          - Sid: TlsOnly\n            Effect: Deny\n            Principal: \"*\"\n"
     "            Action: sqs:SendMessage\n            Resource: !GetAtt GateWatchdogQueue.Arn\n"
     "            Condition:\n              Bool:\n                aws:SecureTransport: \"false\"\n"),
]


def run(text):
    """The check's exit code and what it printed, on `text` as a template file. In-process: one
    interpreter for every mutation (a fresh one each costs cfn-lint's import, a second apiece)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=INFRA, delete=False) as f:
        f.write(text)
        path = Path(f.name)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = least_privilege.main(str(path))
        return rc, out.getvalue()
    finally:
        path.unlink()


def main():
    failures = 0
    rc, out = run(TEMPLATE)
    if rc != 0:
        print(f"FAIL the unbroken template does not pass:\n{out}")
        failures += 1
    for what, old, new in ALLOWED:
        if TEMPLATE.count(old) < 1:
            print(f"FAIL allowed: {what}: the template no longer contains the text this change replaces")
            failures += 1
            continue
        rc, out = run(TEMPLATE.replace(old, new, 1))
        if rc != 0:
            print(f"FAIL allowed: {what}: the check rejects what its rule allows:\n{out}")
            failures += 1
        else:
            print(f"ok   allowed: {what}")
    for what, old, new, words in MUTATIONS:
        if TEMPLATE.count(old) < 1:
            print(f"FAIL {what}: the template no longer contains the text this mutation replaces")
            failures += 1
            continue
        rc, out = run(TEMPLATE.replace(old, new, 1))
        missing = [w for w in ([words] if isinstance(words, str) else words) if w not in out]
        if rc == 0 or missing:
            print(f"FAIL {what}: the check {'passed' if rc == 0 else 'failed without saying'} {missing!r}:\n{out}")
            failures += 1
        else:
            print(f"ok   {what}")
    total = len(MUTATIONS) + len(ALLOWED) + 1
    print(f"{total - failures} of {total} least-privilege cases right ({len(MUTATIONS)} mutations caught, "
          f"{len(ALLOWED) + 1} allowed templates passed)" if not failures else
          f"{total - failures} of {total} least-privilege cases right")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

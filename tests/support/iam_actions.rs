//! Which IAM action each AWS call of the `stagegate` CLI needs, and whether the managed policy
//! meant for a command grants what that command called.
//!
//! Why a table: an operation's name on the wire is not always its IAM action (REST operations
//! are a method and a path; some calls need no permission; some are allowed by a resource the
//! caller brings), and a call this table does not know must stop the test, so that whoever adds
//! it decides what it needs instead of the test guessing. The policies come from
//! `infra/permissions.json` ("policies": each with the `commands` it is for), which
//! `infra/least_privilege.py` holds `infra/template.yaml` to, action for action.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::aws_calls::Call;

/// How a call is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// By this IAM action, which the command's policy must allow.
    Action(&'static str),
    /// By nothing: every caller may (STS GetCallerIdentity).
    NoneNeeded,
    /// By the policy of the SQS queue the caller names with `--queue-url`: the caller's own
    /// subscriber of the topic, not a resource of the gate's stack.
    CallersQueue(&'static str),
}

/// (signing name, the call on the wire, how it is allowed). On the wire: the `X-Amz-Target` of
/// the JSON protocols, `Action=...` of the query protocol, `METHOD /path` of REST with `*` for a
/// name (GameSparks' routes, as `gamesparks-local` serves them).
pub const TABLE: &[(&str, &str, Grant)] = &[
    (
        "states",
        "AWSStepFunctions.StartExecution",
        Grant::Action("states:StartExecution"),
    ),
    (
        "states",
        "AWSStepFunctions.DescribeExecution",
        Grant::Action("states:DescribeExecution"),
    ),
    (
        "states",
        "AWSStepFunctions.GetExecutionHistory",
        Grant::Action("states:GetExecutionHistory"),
    ),
    (
        "states",
        "AWSStepFunctions.ListExecutions",
        Grant::Action("states:ListExecutions"),
    ),
    (
        "states",
        "AWSStepFunctions.SendTaskSuccess",
        Grant::Action("states:SendTaskSuccess"),
    ),
    (
        "states",
        "AWSStepFunctions.SendTaskFailure",
        Grant::Action("states:SendTaskFailure"),
    ),
    (
        "states",
        "AWSStepFunctions.StopExecution",
        Grant::Action("states:StopExecution"),
    ),
    (
        "ssm",
        "AmazonSSM.PutParameter",
        Grant::Action("ssm:PutParameter"),
    ),
    (
        "ssm",
        "AmazonSSM.GetParameter",
        Grant::Action("ssm:GetParameter"),
    ),
    (
        "ssm",
        "AmazonSSM.DeleteParameter",
        Grant::Action("ssm:DeleteParameter"),
    ),
    ("sts", "Action=GetCallerIdentity", Grant::NoneNeeded),
    // `--answer-url`: the answer function's URL (AuthType AWS_IAM), signed for `lambda`.
    (
        "lambda",
        "POST /",
        Grant::Action("lambda:InvokeFunctionUrl"),
    ),
    (
        "sqs",
        "Action=ReceiveMessage",
        Grant::CallersQueue("sqs:ReceiveMessage"),
    ),
    (
        "sqs",
        "Action=DeleteMessage",
        Grant::CallersQueue("sqs:DeleteMessage"),
    ),
    (
        "gamesparks",
        "GET /game/*/stage",
        Grant::Action("gamesparks:ListStages"),
    ),
    (
        "gamesparks",
        "GET /game/*/stage/*",
        Grant::Action("gamesparks:GetStage"),
    ),
    (
        "gamesparks",
        "GET /game/*/stage/*/deployments",
        Grant::Action("gamesparks:ListStageDeployments"),
    ),
    (
        "gamesparks",
        "GET /game/*/stage/*/deployment",
        Grant::Action("gamesparks:GetStageDeployment"),
    ),
    (
        "gamesparks",
        "POST /game/*/stage/*/deployment",
        Grant::Action("gamesparks:StartStageDeployment"),
    ),
    (
        "gamesparks",
        "GET /game/*/snapshot",
        Grant::Action("gamesparks:ListSnapshots"),
    ),
    (
        "gamesparks",
        "GET /game/*/snapshot/*",
        Grant::Action("gamesparks:GetSnapshot"),
    ),
    // S3 path-style, as `audit verify` addresses the records bucket at an endpoint override:
    // ListObjectsV2 is `GET /<bucket>/` (its query aside), GetObject of a record
    // (`<game>/<stage>/<name>.json`) `GET /<bucket>/<game>/<stage>/<name>`.
    ("s3", "GET /*/", Grant::Action("s3:ListBucket")),
    ("s3", "GET /*/*/*/*", Grant::Action("s3:GetObject")),
];

/// Whether `wire` (`METHOD /a/b`) matches `pattern`, `*` standing for one non-empty segment.
fn matches(pattern: &str, wire: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == wire;
    }
    let (p, w): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), wire.split('/').collect());
    p.len() == w.len()
        && p.iter()
            .zip(&w)
            .all(|(p, w)| (*p == "*" && !w.is_empty()) || p == w)
}

/// How `call` is allowed; an error naming the call when the table does not know it.
pub fn grant(call: &Call) -> Result<Grant, String> {
    let wire = call.wire_name();
    TABLE
        .iter()
        .find(|(service, pattern, _)| *service == call.service && matches(pattern, &wire))
        .map(|(_, _, grant)| *grant)
        .ok_or_else(|| {
            format!(
                "{call}: a call tests/support/iam_actions.rs does not know; add it to TABLE with the IAM action it needs"
            )
        })
}

/// The gate's stack as the template's policies name it: what their resources are for one
/// state machine (`<stack>-gate`) and game.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account: String,
    /// The state machine's name, `<stack>-gate`.
    pub machine: String,
    pub game: String,
    /// The decision records bucket (`with_bucket`; empty: none).
    pub bucket: String,
    /// The fleet state machine's name, `<stack>-fleet`, and the fleet bucket (`with_fleet`;
    /// empty: none).
    pub fleet_machine: String,
    pub fleet_bucket: String,
}

impl Scope {
    /// The scope with the stack's decision records bucket.
    pub fn with_bucket(mut self, bucket: &str) -> Self {
        self.bucket = bucket.to_owned();
        self
    }

    /// The scope with the stack's fleet state machine (its ARN) and bucket.
    pub fn with_fleet(mut self, fleet_machine_arn: &str, fleet_bucket: &str) -> Self {
        self.fleet_machine = fleet_machine_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        self.fleet_bucket = fleet_bucket.to_owned();
        self
    }

    /// From the state machine's ARN (`arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`).
    pub fn new(state_machine_arn: &str, game: &str) -> Result<Self, String> {
        match state_machine_arn.split(':').collect::<Vec<_>>().as_slice() {
            ["arn", _, "states", region, account, "stateMachine", machine] if machine.ends_with("-gate") => {
                Ok(Self {
                    region: (*region).to_owned(),
                    account: (*account).to_owned(),
                    machine: (*machine).to_owned(),
                    game: game.to_owned(),
                    bucket: String::new(),
                    fleet_machine: String::new(),
                    fleet_bucket: String::new(),
                })
            }
            _ => Err(format!(
                "{state_machine_arn} is not the ARN of a state machine named <stack>-gate, as the template names it"
            )),
        }
    }

    fn arn(&self, service: &str, rest: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{rest}", self.region, self.account)
    }

    /// The resources the template's policies grant `action` on, as IAM patterns (`*` matches
    /// anything): the formulas `infra/least_privilege.py` holds every statement to (the state
    /// machine; `execution:<machine>:*`; `parameter/stagegate/abort/<machine>/*`; the game and
    /// `game/<game>/*`). `None`: the action has no resource-level permissions (the policy says
    /// `"*"`).
    pub fn granted(&self, action: &str) -> Option<Vec<String>> {
        let machine = &self.machine;
        let fleet = &self.fleet_machine;
        Some(match action {
            "states:SendTaskSuccess" | "states:SendTaskFailure" => return None,
            // The request goes to the answer function's own URL, which is what the policy
            // names (`!GetAtt AnswerApprovalFunction.Arn`): the URL is the resource.
            "lambda:InvokeFunctionUrl" => return None,
            "states:ListExecutions" => {
                vec![self.arn("states", &format!("stateMachine:{machine}"))]
            }
            // And the fleet's (`stagegate fleet run`).
            "states:StartExecution" => vec![
                self.arn("states", &format!("stateMachine:{machine}")),
                self.arn("states", &format!("stateMachine:{fleet}")),
            ],
            "states:DescribeExecution" => vec![
                self.arn("states", &format!("execution:{machine}:*")),
                self.arn("states", &format!("execution:{fleet}:*")),
            ],
            "states:GetExecutionHistory" | "states:StopExecution" => {
                vec![self.arn("states", &format!("execution:{machine}:*"))]
            }
            a if a.starts_with("ssm:") => {
                vec![self.arn("ssm", &format!("parameter/stagegate/abort/{machine}/*"))]
            }
            // The template's formulas: ListBucket on the bucket, GetObject on its objects.
            "s3:ListBucket" => vec![
                format!("arn:aws:s3:::{}", self.bucket),
                format!("arn:aws:s3:::{}", self.fleet_bucket),
            ],
            "s3:GetObject" => vec![
                format!("arn:aws:s3:::{}/*", self.bucket),
                format!("arn:aws:s3:::{}/fleets/*", self.fleet_bucket),
            ],
            a if a.starts_with("gamesparks:") => vec![
                self.arn("gamesparks", &format!("game/{}", self.game)),
                self.arn("gamesparks", &format!("game/{}/*", self.game)),
            ],
            _ => Vec::new(),
        })
    }

    /// The resource `call` acts on, as IAM names it; `None` when the call names none (a task
    /// token) or this cannot tell.
    pub fn resource(&self, call: &Call) -> Option<String> {
        match call.service.as_str() {
            "states" => {
                let body: Value = serde_json::from_str(&call.body).ok()?;
                ["executionArn", "stateMachineArn"]
                    .iter()
                    .find_map(|k| body[*k].as_str().map(str::to_owned))
            }
            "ssm" => {
                let body: Value = serde_json::from_str(&call.body).ok()?;
                let name = body["Name"].as_str()?;
                // A parameter's ARN drops the name's leading slash.
                Some(self.arn(
                    "ssm",
                    &format!("parameter/{}", name.trim_start_matches('/')),
                ))
            }
            "gamesparks" => {
                // The REST path names the game and stage; a trailing collection (`stage`,
                // `deployments`, ...) is what is listed, not a resource.
                let mut segments: Vec<&str> =
                    call.path.trim_start_matches('/').split('/').collect();
                if segments.len() % 2 == 1 {
                    segments.pop();
                }
                Some(self.arn("gamesparks", &segments.join("/")))
            }
            // Path-style: the bucket, then the key (none: the bucket itself is listed).
            "s3" => {
                let path = call.path.trim_start_matches('/');
                let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
                Some(if key.is_empty() {
                    format!("arn:aws:s3:::{bucket}")
                } else {
                    format!("arn:aws:s3:::{bucket}/{key}")
                })
            }
            _ => None,
        }
    }

    /// Why the template's policy would refuse `action` on what `call` acts on, if it would.
    pub fn refusal(&self, action: &str, call: &Call) -> Option<String> {
        let patterns = self.granted(action)?;
        match self.resource(call) {
            Some(resource) if patterns.iter().any(|p| glob(p, &resource)) => None,
            Some(resource) => Some(format!(
                "{call} acts on {resource}, outside what the template grants {action} on ({})",
                patterns.join(", ")
            )),
            None => Some(format!(
                "{call}: cannot tell what it acts on, so not that {action} is granted on it"
            )),
        }
    }
}

/// IAM's resource matching: `*` matches any run of characters, `/` and `:` included.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len())
                    .filter(|i| text.is_char_boundary(head.len() + i))
                    .any(|i| glob(rest, &text[head.len() + i..]))
        }
    }
}

/// A managed policy for people, as `infra/permissions.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub commands: BTreeSet<String>,
    pub actions: BTreeSet<String>,
}

/// The policies of `infra/permissions.json` (its text), by name.
pub fn policies(permissions: &str) -> Result<Vec<Policy>, String> {
    let value: Value =
        serde_json::from_str(permissions).map_err(|e| format!("infra/permissions.json: {e}"))?;
    let listed = value["policies"]
        .as_object()
        .ok_or("infra/permissions.json: no \"policies\"")?;
    let strings = |v: &Value, what: &str, name: &str| -> Result<BTreeSet<String>, String> {
        v.as_array()
            .ok_or_else(|| format!("infra/permissions.json: policy {name} has no \"{what}\" list"))?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("policy {name}: {what}: {s} is not a string"))
            })
            .collect()
    };
    listed
        .iter()
        .filter(|(name, _)| !name.starts_with('_'))
        .map(|(name, p)| {
            Ok(Policy {
                name: name.clone(),
                commands: strings(&p["commands"], "commands", name)?,
                actions: strings(&p["actions"], "actions", name)?,
            })
        })
        .collect()
}

/// What is wrong between the IAM actions each command called (`used`, by command) and the
/// policies meant for the commands: an action a command called that a policy for it lacks; an
/// action a policy grants that none of its commands called; a command no policy is for; a
/// policy's command that was not run.
pub fn compare(policies: &[Policy], used: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (command, actions) in used {
        let meant: Vec<&Policy> = policies
            .iter()
            .filter(|p| p.commands.contains(command))
            .collect();
        if meant.is_empty() {
            problems.push(format!(
                "`stagegate {command}`: no policy in infra/permissions.json lists it in its commands"
            ));
        }
        for policy in meant {
            for action in actions.difference(&policy.actions) {
                problems.push(format!(
                    "`stagegate {command}` calls {action}, which {} (its policy) does not grant",
                    policy.name
                ));
            }
        }
    }
    for policy in policies {
        let mut called = BTreeSet::new();
        for command in &policy.commands {
            match used.get(command) {
                Some(actions) => called.extend(actions.iter().cloned()),
                None => problems.push(format!(
                    "{}: its command `{command}` was not run, so nothing shows what it needs",
                    policy.name
                )),
            }
        }
        // ListBucket is granted beside GetObject so that a missing key answers 404 rather than
        // 403 (`fleet status` before the first tally); no call names it.
        if called.contains("s3:GetObject") {
            called.insert("s3:ListBucket".to_owned());
        }
        for action in policy.actions.difference(&called) {
            problems.push(format!(
                "{} grants {action}, which none of its commands ({}) called",
                policy.name,
                policy
                    .commands
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(service: &str, method: &str, path: &str, target: Option<&str>, body: &str) -> Call {
        Call {
            service: service.into(),
            method: method.into(),
            path: path.into(),
            target: target.map(str::to_owned),
            body: body.into(),
        }
    }

    #[test]
    fn maps_each_protocol_to_its_grant() {
        let start = call(
            "states",
            "POST",
            "/",
            Some("AWSStepFunctions.StartExecution"),
            "{}",
        );
        assert_eq!(grant(&start), Ok(Grant::Action("states:StartExecution")));
        let who = call(
            "sts",
            "POST",
            "/",
            None,
            "Action=GetCallerIdentity&Version=2011-06-15",
        );
        assert_eq!(grant(&who), Ok(Grant::NoneNeeded));
        let stages = call("gamesparks", "GET", "/game/space-raiders/stage", None, "");
        assert_eq!(grant(&stages), Ok(Grant::Action("gamesparks:ListStages")));
        let history = call(
            "gamesparks",
            "GET",
            "/game/g/stage/prod/deployments",
            None,
            "",
        );
        assert_eq!(
            grant(&history),
            Ok(Grant::Action("gamesparks:ListStageDeployments"))
        );
        // Signed for another service: not the same call.
        let odd = call(
            "sqs",
            "POST",
            "/",
            Some("AWSStepFunctions.StartExecution"),
            "{}",
        );
        assert!(grant(&odd).is_err_and(|e| e.contains("does not know")));
        let unknown = call("gamesparks", "DELETE", "/game/g", None, "");
        assert!(grant(&unknown).is_err());
        let list = call("s3", "GET", "/records/", None, "");
        assert_eq!(grant(&list), Ok(Grant::Action("s3:ListBucket")));
        let read = call(
            "s3",
            "GET",
            "/records/g/dev/20261207T000000Z-a.json",
            None,
            "",
        );
        assert_eq!(grant(&read), Ok(Grant::Action("s3:GetObject")));
        let write = call(
            "s3",
            "PUT",
            "/records/g/dev/20261207T000000Z-a.json",
            None,
            "",
        );
        assert!(grant(&write).is_err(), "audit verify never writes");
    }

    #[test]
    fn scopes_s3_calls_to_the_records_bucket() {
        let scope = Scope::new(
            "arn:aws:states:us-east-1:123456789012:stateMachine:stagegate-gate",
            "space-raiders",
        )
        .expect("scope")
        .with_bucket("records");
        let list = call("s3", "GET", "/records/", None, "");
        assert_eq!(scope.refusal("s3:ListBucket", &list), None);
        let read = call("s3", "GET", "/records/g/dev/a.json", None, "");
        assert_eq!(scope.refusal("s3:GetObject", &read), None);
        let elsewhere = call("s3", "GET", "/other/g/dev/a.json", None, "");
        assert!(scope.refusal("s3:GetObject", &elsewhere).is_some());
        assert!(scope.refusal("s3:ListBucket", &read).is_some());
    }

    #[test]
    fn scopes_each_call_to_the_templates_resources() {
        let scope = Scope::new(
            "arn:aws:states:us-east-1:123456789012:stateMachine:stagegate-gate",
            "space-raiders",
        )
        .expect("scope");
        let describe = call(
            "states",
            "POST",
            "/",
            Some("AWSStepFunctions.DescribeExecution"),
            r#"{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:run-1"}"#,
        );
        assert_eq!(scope.refusal("states:DescribeExecution", &describe), None);
        let other = call(
            "states",
            "POST",
            "/",
            Some("AWSStepFunctions.DescribeExecution"),
            r#"{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:other-gate:run-1"}"#,
        );
        assert!(scope
            .refusal("states:DescribeExecution", &other)
            .is_some_and(|r| r.contains("outside what the template grants")));
        let put = call(
            "ssm",
            "POST",
            "/",
            Some("AmazonSSM.PutParameter"),
            r#"{"Name":"/stagegate/abort/stagegate-gate/run-1-abc","Value":"{}"}"#,
        );
        assert_eq!(scope.refusal("ssm:PutParameter", &put), None);
        let elsewhere = call(
            "ssm",
            "POST",
            "/",
            Some("AmazonSSM.PutParameter"),
            r#"{"Name":"/stagegate/abort/x"}"#,
        );
        assert!(scope.refusal("ssm:PutParameter", &elsewhere).is_some());
        let stages = call("gamesparks", "GET", "/game/space-raiders/stage", None, "");
        assert_eq!(
            scope.resource(&stages).as_deref(),
            Some("arn:aws:gamesparks:us-east-1:123456789012:game/space-raiders")
        );
        assert_eq!(scope.refusal("gamesparks:ListStages", &stages), None);
        let deployments = call(
            "gamesparks",
            "GET",
            "/game/other/stage/prod/deployments",
            None,
            "",
        );
        assert!(scope
            .refusal("gamesparks:ListStageDeployments", &deployments)
            .is_some());
        let token = call(
            "states",
            "POST",
            "/",
            Some("AWSStepFunctions.SendTaskSuccess"),
            r#"{"taskToken":"t"}"#,
        );
        assert_eq!(scope.refusal("states:SendTaskSuccess", &token), None);
        assert!(Scope::new("arn:aws:states:us-east-1:1:stateMachine:gate", "g").is_err());
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn compares_both_ways() {
        let policies = policies(
            r#"{"policies": {"_why": "x", "RunnerPolicy": {"commands": ["run", "follow"],
                "actions": ["states:StartExecution", "states:DescribeExecution"]}}}"#,
        )
        .expect("policies");
        let mut used = BTreeMap::new();
        used.insert(
            "run".to_owned(),
            set(&["states:StartExecution", "states:DescribeExecution"]),
        );
        used.insert("follow".to_owned(), set(&["states:DescribeExecution"]));
        assert_eq!(compare(&policies, &used), Vec::<String>::new());

        used.insert(
            "follow".to_owned(),
            set(&["states:DescribeExecution", "states:GetExecutionHistory"]),
        );
        used.insert("status".to_owned(), set(&["states:ListExecutions"]));
        used.insert("run".to_owned(), set(&["states:DescribeExecution"]));
        assert_eq!(
            compare(&policies, &used),
            vec![
                "`stagegate follow` calls states:GetExecutionHistory, which RunnerPolicy (its policy) does not grant",
                "`stagegate status`: no policy in infra/permissions.json lists it in its commands",
                "RunnerPolicy grants states:StartExecution, which none of its commands (follow, run) called",
            ]
        );
        used.remove("run");
        assert!(compare(&policies, &used)
            .iter()
            .any(|p| p
                == "RunnerPolicy: its command `run` was not run, so nothing shows what it needs"));
    }
}

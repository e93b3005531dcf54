//! Every AWS call a function makes is granted to its role in `infra/permissions.json`, which
//! `infra/least_privilege.py` holds the template to: a call added without its permission fails
//! here, not with AccessDenied in production (where the emulator, which checks no IAM, cannot
//! show it).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use time::Duration;

use super::{finish, rolled_back, stage, EXEC, RUN, S4, S5, T0};
use crate::clock::FixedClock;
use crate::deployment::{DeploymentState, ResultCode};
use crate::fakes::{FakeAlarms, FakeGameSparks, FakeNotifier};
use crate::handlers::{notify, poll, start};
use crate::ports::StageRef;
use crate::token::{client_token, Purpose};

const PERMISSIONS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../infra/permissions.json"
));

/// The actions infra/permissions.json grants the role of `function`.
fn granted(function: &str) -> BTreeSet<String> {
    let permissions: Value = serde_json::from_str(PERMISSIONS).unwrap_or_default();
    let roles = permissions["roles"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let role = roles
        .values()
        .find(|r| r["function"] == function)
        .unwrap_or_else(|| panic!("no role for {function} in infra/permissions.json"));
    role["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The IAM actions behind the calls the fakes recorded.
fn used(gs: &FakeGameSparks, alarms: &FakeAlarms, sns: &FakeNotifier) -> BTreeSet<String> {
    let mut actions: BTreeSet<String> = gs
        .calls()
        .iter()
        .map(|op| format!("gamesparks:{op}"))
        .collect();
    if alarms.calls() > 0 {
        actions.insert("cloudwatch:DescribeAlarms".into());
    }
    if !sns.published().is_empty() {
        // Publishing to the KMS-encrypted topic needs the key too.
        actions.extend(["sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"].map(String::from));
    }
    actions
}

fn missing(function: &str, used: &BTreeSet<String>) -> Vec<String> {
    let granted = granted(function);
    used.difference(&granted).cloned().collect()
}

fn input(extra: Value) -> Value {
    let mut input = json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": S4});
    if let (Some(obj), Some(more)) = (input.as_object_mut(), extra.as_object()) {
        obj.extend(more.clone());
    }
    json!({"input": input, "execution": {"Id": EXEC, "StartTime": "2026-03-01T11:59:58Z"}})
}

fn quiet() -> FakeAlarms {
    FakeAlarms::new().with("errors", crate::bake::OK, T0)
}

#[tokio::test]
async fn every_call_a_function_makes_is_granted_to_its_role() {
    let clock = FixedClock(T0);
    let none = FakeNotifier::default();

    // start-deployment: a start with a bake, "latest", a dry run, and the adoption of its own
    // deployment after a ConflictException (which reads the deployment's creation time).
    let alarms = quiet();
    let bake = json!({"bake": {"seconds": 60, "alarmNames": ["errors"]}});
    let mut start_used = BTreeSet::new();
    for event in [
        input(bake.clone()),
        input(json!({"snapshotId": "latest", "stageName": "dev"})),
        input(json!({"dryRun": true, "bake": bake["bake"]})),
    ] {
        let gs = stage();
        let aborts = crate::fakes::FakeAbortRequests::new();
        let run = start::handle_with(
            &gs,
            &alarms,
            &aborts,
            &event,
            "r",
            &clock,
            &start::Settings::default(),
        )
        .await;
        assert!(run.is_ok(), "{run:?}");
        start_used.extend(used(&gs, &alarms, &none));
        if aborts.reads() > 0 {
            start_used.insert("ssm:GetParameter".into());
        }
    }
    assert!(
        start_used.contains("ssm:GetParameter"),
        "a start reads the run's abort requests: {start_used:?}"
    );
    let adopting = stage();
    let at = StageRef {
        game_name: "space-raiders".into(),
        stage_name: "prod".into(),
    };
    let token = client_token(RUN, Purpose::Deploy);
    let own = crate::ports::StageDeployments::start_deployment(&adopting, &at, S5, &token).await;
    assert!(own.is_ok(), "{own:?}");
    let adopted = start::handle(
        &adopting,
        &alarms,
        &input(json!({"snapshotId": "latest"})),
        "r",
        &clock,
    )
    .await;
    assert!(adopted.is_ok(), "{adopted:?}");
    start_used.extend(used(&adopting, &alarms, &none));
    assert!(
        start_used.contains("gamesparks:GetStageDeployment"),
        "the adoption path ran: {start_used:?}"
    );
    assert_eq!(
        missing("start-deployment", &start_used),
        Vec::<String>::new()
    );

    // poll-deployment: a deployment polled to success, then its bake checked, reading abort
    // requests each time.
    let gs = stage();
    let alarms = quiet();
    let aborts = crate::fakes::FakeAbortRequests::new();
    let s = match start::handle(&gs, &alarms, &input(bake.clone()), "r", &clock).await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let (calls_before, alarm_calls_before) = (gs.calls().len(), alarms.calls());
    finish(
        &gs,
        &s.deployment.deployment_id,
        DeploymentState::Completed,
        Some(ResultCode::Success),
        "ok",
    );
    let mut state = s;
    for minutes in [4, 5] {
        let event = serde_json::to_value(&state).unwrap_or_default();
        let now = FixedClock(T0 + Duration::minutes(minutes));
        state = match poll::handle(&gs, &alarms, &aborts, &event, &now).await {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
    }
    let mut poll_used: BTreeSet<String> = gs.calls()[calls_before..]
        .iter()
        .map(|op| format!("gamesparks:{op}"))
        .collect();
    if alarms.calls() > alarm_calls_before {
        poll_used.insert("cloudwatch:DescribeAlarms".into());
    }
    if aborts.reads() > 0 {
        poll_used.insert("ssm:GetParameter".into());
    }
    assert!(
        poll_used.len() == 3,
        "the bake and the abort requests were checked: {poll_used:?}"
    );
    assert_eq!(missing("poll-deployment", &poll_used), Vec::<String>::new());

    // rollback-deployment: a failed deployment rolled back.
    let gs = stage();
    let s = match start::handle(&gs, &FakeAlarms::new(), &input(json!({})), "r", &clock).await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    finish(
        &gs,
        &s.deployment.deployment_id,
        DeploymentState::Failed,
        Some(ResultCode::UnspecifiedFailure),
        "x",
    );
    let event = serde_json::to_value(&s).unwrap_or_default();
    let failed = match poll::handle(
        &gs,
        &FakeAlarms::new(),
        &crate::fakes::FakeAbortRequests::new(),
        &event,
        &FixedClock(T0),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let calls_before = gs.calls().len();
    let rolling = rolled_back(&gs, &failed, T0 + Duration::minutes(1)).await;
    // The calls below are those of a rollback that started, not of one refused half-way.
    assert_eq!(
        (rolling.phase, rolling.action),
        (crate::policy::Phase::Rollback, crate::policy::Action::Wait)
    );
    assert!(rolling.rollback.is_some(), "{rolling:?}");
    let rollback_used: BTreeSet<String> = gs.calls()[calls_before..]
        .iter()
        .map(|op| format!("gamesparks:{op}"))
        .collect();
    assert_eq!(
        missing("rollback-deployment", &rollback_used),
        Vec::<String>::new()
    );

    // notify-result: its decision record after the stage's last (records on), one message, then
    // the run's abort request is deleted.
    let sns = FakeNotifier::default();
    let aborts = crate::fakes::FakeAbortRequests::new();
    let records = crate::fakes::FakeRecords::new();
    records.replace(
        "space-raiders/prod/20260101T000000Z-before.json",
        b"{}".to_vec(),
    );
    let event = json!({"state": failed, "execution": {"Id": EXEC}});
    let published = notify::handle_recorded(
        &sns,
        &crate::telemetry::NoMetrics,
        &aborts,
        Some(&records),
        &event,
        T0,
    )
    .await;
    assert!(published.is_ok(), "{published:?}");
    let mut notify_used = used(&FakeGameSparks::new(), &FakeAlarms::new(), &sns);
    // S3's operations by their IAM actions (ListObjectsV2 is s3:ListBucket).
    notify_used.extend(records.calls().iter().map(|op| match *op {
        crate::fakes::LIST_OBJECTS => "s3:ListBucket".to_owned(),
        other => format!("s3:{other}"),
    }));
    assert_eq!(records.objects().len(), 2, "the run's record was written");
    if aborts.deletes() > 0 {
        notify_used.insert("ssm:DeleteParameter".into());
    }
    assert!(
        notify_used.contains("ssm:DeleteParameter"),
        "the ending clears the run's abort request: {notify_used:?}"
    );
    assert_eq!(missing("notify-result", &notify_used), Vec::<String>::new());
}

/// answer-approval reads the history, makes the key on first use, and answers: each call is its
/// role's, and its role holds nothing more (people answer through it, not with SendTaskSuccess).
#[tokio::test]
async fn every_call_the_answer_function_makes_is_granted_to_its_role() {
    use crate::approval::wait::{Step, AWAIT_APPROVAL};
    use crate::fakes::{FakeAnswerKeys, FakeApprovalWaits};
    let gs = stage();
    let waiting = super::operator_control::awaiting(&gs).await;
    let waits = FakeApprovalWaits::new();
    waits.set_history(
        EXEC,
        vec![
            Step::Entered {
                name: AWAIT_APPROVAL.into(),
                input: serde_json::to_string(&waiting).unwrap_or_default(),
            },
            Step::Scheduled(
                json!({"Payload": {"approvalRequest": waiting, "taskToken": "t"}}).to_string(),
            ),
        ],
    );
    let keys = FakeAnswerKeys::new();
    let event = json!({
        "requestContext": {"authorizer": {"iam": {"userArn": "arn:aws:iam::1:user/ana"}}},
        "body": json!({"executionArn": EXEC, "decision": "approve"}).to_string(),
    });
    let reply = crate::handlers::answer::handle(
        &waits,
        &keys,
        || Ok([3; 32]),
        &event,
        &FixedClock(T0 + Duration::minutes(1)),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // Every operation the fakes saw, as its IAM action.
    let mut used = BTreeSet::from(["states:GetExecutionHistory".to_owned()]);
    if !waits.sent().is_empty() {
        used.insert("states:SendTaskSuccess".into());
    }
    if !keys.names().is_empty() {
        used.insert("ssm:GetParameter".into());
    }
    if keys.creates() > 0 {
        used.insert("ssm:PutParameter".into());
    }
    assert_eq!(used.len(), 4, "{used:?}");
    assert_eq!(missing("answer-approval", &used), Vec::<String>::new());
    let logs = BTreeSet::from(
        [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
        ]
        .map(String::from),
    );
    let unused: Vec<String> = granted("answer-approval")
        .difference(&used)
        .filter(|a| !logs.contains(*a))
        .cloned()
        .collect();
    assert_eq!(unused, Vec::<String>::new(), "granted and never called");
    // start-deployment checks the answer with the key: GetParameter, which it holds.
    assert!(granted("start-deployment").contains("ssm:GetParameter"));
}

/// fleet-step through a whole fleet: a plan from a games file in its bucket (ListGames, the
/// file, the batch objects), a batch's endings tallied (its progress written), the summary
/// published and written. Each call is its role's, and its role holds nothing more but the logs,
/// the traces and s3:ListBucket (which no call makes: S3 needs it to answer a missing key with
/// 404, which the plan turns into "no object", rather than 403).
#[tokio::test]
async fn every_call_the_fleet_step_makes_is_granted_to_its_role() {
    use crate::fakes::{FakeGameCatalog, FakeRecords, GET_OBJECT, LIST_OBJECTS, PUT_OBJECT};
    use crate::handlers::fleet::{self, FleetConfig};
    let config = FleetConfig {
        bucket: "fleet-bucket".into(),
        max_concurrency: 100,
        start_rate: 10,
    };
    let catalog = FakeGameCatalog::new(["g0", "g1", "g2"], 2);
    let bucket = FakeRecords::new();
    let sns = FakeNotifier::default();
    let games: Vec<Value> = ["g0", "g1", "g2"]
        .iter()
        .map(|g| json!({"gameName": g, "stageName": "prod", "snapshotId": "latest"}))
        .collect();
    bucket.replace(
        "games/nightly.json",
        serde_json::to_vec(&games).unwrap_or_default(),
    );
    let step = |event: Value| {
        let (catalog, bucket, sns, config) = (&catalog, &bucket, &sns, &config);
        async move {
            fleet::handle(catalog, bucket, sns, config, &event)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let input = json!({"fleetName": "nightly", "gamesFrom": {"bucket": "fleet-bucket", "key": "games/nightly.json"}, "budget": {"maxFailurePercent": 50}});
    let mut progress =
        step(json!({"action": "plan", "input": input, "execution": {"Name": "nightly-1"}})).await;
    let mut batches = 0;
    while progress["next"]["next"] == "batch" {
        let key = progress["batchKey"].as_str().unwrap_or_default().to_owned();
        let items: Vec<Value> = bucket
            .objects()
            .into_iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, b)| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut results = vec![];
        for item in items {
            let result = json!({"item": item["item"], "gameName": item["gameName"], "output": {"notification": {"outcome": "SUCCEEDED"}}});
            results.push(step(json!({"action": "ending", "result": result})).await);
        }
        progress = step(json!({"action": "tally", "fleet": progress, "results": results})).await;
        batches += 1;
    }
    assert!(batches > 0, "the fleet ran no batch: {progress}");
    let out = step(json!({"action": "summary", "fleet": progress})).await;
    assert_eq!(out["completed"], true, "{out}");

    let mut fleet_used = BTreeSet::new();
    if catalog.calls() > 0 {
        fleet_used.insert("gamesparks:ListGames".to_owned());
    }
    fleet_used.extend(used(&FakeGameSparks::new(), &FakeAlarms::new(), &sns));
    fleet_used.extend(bucket.calls().iter().map(|op| match *op {
        LIST_OBJECTS => "s3:ListBucket".to_owned(),
        other => format!("s3:{other}"),
    }));
    let calls = bucket.calls();
    assert!(
        calls.contains(&GET_OBJECT) && calls.contains(&PUT_OBJECT),
        "the games file read, the batches, progress and summary written: {calls:?}"
    );
    assert_eq!(fleet_used.len(), 6, "{fleet_used:?}");
    assert_eq!(missing("fleet-step", &fleet_used), Vec::<String>::new());
    let needed_without_a_call = BTreeSet::from(
        [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "s3:ListBucket",
        ]
        .map(String::from),
    );
    let unused: Vec<String> = granted("fleet-step")
        .difference(&fleet_used)
        .filter(|a| !needed_without_a_call.contains(*a))
        .cloned()
        .collect();
    assert_eq!(unused, Vec::<String>::new(), "granted and never called");
}

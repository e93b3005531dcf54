//! Tests of `status`, beside it (the module is long enough without them).

use super::*;
use serde_json::json;
use time::macros::datetime;

const AT: OffsetDateTime = datetime!(2026-11-18 12:00 UTC);
const S0: &str = "Snapshot_2026-11-01T09:00:00.000Z";
const S1: &str = "Snapshot_2026-11-10T14:30:00.000Z";
const S2: &str = "Snapshot_2026-11-18T11:15:00.000Z";

fn pending(stage: &str, expires: Option<&str>) -> Pending {
    Pending {
        token: "t".into(),
        stage_name: stage.into(),
        snapshot_id: S2.into(),
        expires_at: expires.map(str::to_owned),
    }
}

fn execution(name: &str, started: OffsetDateTime, status: &str, input: Value) -> Execution {
    Execution {
        execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:gate:{name}"),
        name: name.into(),
        started_at: Some(started),
        status: status.into(),
        error: None,
        input: Some(input.to_string()),
        output: None,
        pending: None,
        resolved_snapshot: None,
    }
}

fn failed(mut e: Execution, error: &str) -> Execution {
    e.error = Some(error.into());
    e
}

fn succeeded(mut e: Execution, outcome: &str) -> Execution {
    e.output = Some(
        json!({"requestedSnapshotId": "latest", "snapshotId": S1, "notification": {"outcome": outcome,
            "succeeded": true, "error": "", "cause": "", "subject": "", "messageId": "m"}})
        .to_string(),
    );
    e
}

#[test]
fn outcomes_of_each_status() {
    let out = |status, error, output| outcome(status, error, output, None);
    let ok = json!({"notification": {"outcome": "UNCHANGED"}}).to_string();
    assert_eq!(out("SUCCEEDED", None, Some(&ok)), "UNCHANGED");
    assert_eq!(out("SUCCEEDED", None, Some("not json")), "SUCCEEDED");
    assert_eq!(out("SUCCEEDED", None, None), "SUCCEEDED");
    assert_eq!(
        out("FAILED", Some("StageGate.ROLLED_BACK"), None),
        "ROLLED_BACK"
    );
    assert_eq!(out("FAILED", Some("StageGate.FROZEN"), None), "FROZEN");
    assert_eq!(
        out("FAILED", Some("StageGate.NotificationFailed"), None),
        "NotificationFailed"
    );
    assert_eq!(
        out("FAILED", Some("States.Runtime"), None),
        "States.Runtime"
    );
    assert_eq!(out("FAILED", None, None), "FAILED");
    assert_eq!(out("TIMED_OUT", None, None), "EXECUTION_TIMED_OUT");
    assert_eq!(out("ABORTED", None, None), "STOPPED");
    assert_eq!(out("RUNNING", None, None), "RUNNING");
    let waiting = pending("prod", Some("2026-11-18T12:30:00Z"));
    assert_eq!(
        outcome("RUNNING", None, None, Some(&waiting)),
        "AWAITING_APPROVAL until 2026-11-18T12:30:00Z"
    );
    assert_eq!(
        outcome("RUNNING", None, None, Some(&pending("prod", None))),
        "AWAITING_APPROVAL"
    );
}

#[test]
fn a_run_that_did_not_succeed_shows_what_latest_resolved_to() {
    let mut rolled_back = failed(
        execution(
            "prod-3",
            datetime!(2026-10-31 10:00 UTC),
            "FAILED",
            json!({"gameName": "g", "stageName": "prod", "snapshotId": "latest"}),
        ),
        "StageGate.ROLLED_BACK",
    );
    // From the history's newest gate state (steps::resolved_snapshot, tested on the real shapes).
    rolled_back.resolved_snapshot = Some(S1.into());
    let mut refused = failed(
        execution(
            "prod-2",
            datetime!(2026-10-29 10:00 UTC),
            "FAILED",
            json!({"gameName": "g", "stageName": "prod", "snapshotId": "latest"}),
        ),
        "StageGate.ERROR",
    );
    refused.resolved_snapshot = None;
    let stages = [("prod".to_owned(), None)];
    let r = report("g", AT, &stages, &[rolled_back, refused], &[]);
    let shown: Vec<Option<&str>> = r.stages[0]
        .runs
        .iter()
        .map(|r| r.snapshot_id.as_deref())
        .collect();
    assert_eq!(shown, [Some(S1), Some("latest")], "resolved, else as asked");
}

#[test]
fn running_runs_are_shown_however_many_runs_came_after() {
    let arn = |n: u32| format!("arn:aws:states:us-east-1:1:execution:gate:run-{n}");
    // The newest 3, and a run started before them that still waits for approval.
    let newest: Vec<String> = (20..23).rev().map(arn).collect();
    let running = vec![arn(22), arn(5)];
    assert_eq!(
        to_describe(newest.clone(), running),
        [arn(22), arn(21), arn(20), arn(5)],
        "the running run-22 once, the old running run-5 after the newest"
    );
    assert_eq!(to_describe(newest.clone(), vec![]), newest);
}

#[test]
fn run_inputs_name_their_stages() {
    let single = run_input(
        &json!({"gameName": "g", "stageName": "prod", "snapshotId": "latest"}).to_string(),
    );
    assert_eq!(
        single,
        Some(RunInput {
            game_name: "g".into(),
            stages: vec!["prod".into()],
            snapshot_id: Some("latest".into()),
            freeze_windows: vec![],
        })
    );
    let wave = run_input(
        &json!({"gameName": "g", "snapshotId": S1, "stages": ["dev",
            {"stageName": "prod", "approval": {"timeoutSeconds": 600}}],
            "freezeWindows": [{"name": "launch", "start": "2026-11-18T00:00:00Z",
                               "end": "2026-11-19T00:00:00Z"}]})
        .to_string(),
    )
    .unwrap_or_default();
    assert_eq!(wave.stages, ["dev", "prod"]);
    assert_eq!(wave.freeze_windows.len(), 1);
    let wrapped = run_input(
        &json!({"input": {"gameName": "g", "stageName": "s"}, "execution": {}}).to_string(),
    )
    .unwrap_or_default();
    assert_eq!((wrapped.game_name.as_str(), wrapped.stages.len()), ("g", 1));
    // Refused inputs: still the game's run, without what could not be read.
    let bad = run_input(
        &json!({"gameName": "g", "stageName": "s", "freezeWindows": "never"}).to_string(),
    )
    .unwrap_or_default();
    assert!(bad.freeze_windows.is_empty() && bad.snapshot_id.is_none());
    assert_eq!(run_input("[1]"), None);
    assert_eq!(run_input("not json"), None);
    assert_eq!(run_input(&json!({"stageName": "s"}).to_string()), None);
}

fn example() -> StatusReport {
    let single = |stage: &str| {
        json!({"gameName": "space-raiders", "stageName": stage,
                                      "snapshotId": "latest"})
    };
    let mut waiting = execution(
        "wave-1",
        datetime!(2026-11-18 11:40 UTC),
        "RUNNING",
        json!({"gameName": "space-raiders", "snapshotId": S2, "stages": ["dev",
               {"stageName": "prod", "approval": {"timeoutSeconds": 3600}}]}),
    );
    waiting.pending = Some(pending("prod", Some("2026-11-18T12:40:00Z")));
    let executions = vec![
        waiting,
        execution(
            "other-game",
            datetime!(2026-11-18 11:30 UTC),
            "FAILED",
            json!({"gameName": "other", "stageName": "prod", "snapshotId": S2}),
        ),
        succeeded(
            execution(
                "nightly-2",
                datetime!(2026-11-18 08:01 UTC),
                "SUCCEEDED",
                single("dev"),
            ),
            "SUCCEEDED",
        ),
        failed(
            execution(
                "prod-3",
                datetime!(2026-10-31 10:00 UTC),
                "FAILED",
                single("prod"),
            ),
            "StageGate.ROLLED_BACK",
        ),
        failed(
            execution(
                "prod-2",
                datetime!(2026-10-29 10:00 UTC),
                "FAILED",
                single("prod"),
            ),
            "StageGate.FROZEN",
        ),
        succeeded(
            execution(
                "prod-1",
                datetime!(2025-12-01 10:00 UTC),
                "SUCCEEDED",
                single("prod"),
            ),
            "SUCCEEDED",
        ),
    ];
    let windows = freeze::parse_windows(
        &json!([{"name": "weekend", "weekly": {"days": ["SAT"], "from": "00:00",
                                               "to": "24:00"}}]),
        "w",
    )
    .unwrap_or_default();
    report(
        "space-raiders",
        AT,
        &[
            ("dev".into(), Some(S2.into())),
            ("prod".into(), Some(S0.into())),
            ("qa".into(), None),
        ],
        &executions,
        &windows,
    )
}

#[test]
fn report_per_stage() {
    let r = example();
    let [dev, prod, qa] = &r.stages[..] else {
        panic!("three stages: {r:?}");
    };
    let names = |runs: &[RunStatus]| runs.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&dev.runs),
        ["wave-1", "nightly-2"],
        "other games skipped"
    );
    assert_eq!(names(&prod.runs), ["wave-1", "prod-3", "prod-2", "prod-1"]);
    assert!(qa.runs.is_empty() && qa.running.is_empty());
    assert_eq!(
        prod.runs[0].outcome,
        "AWAITING_APPROVAL until 2026-11-18T12:40:00Z"
    );
    assert_eq!(prod.runs[1].outcome, "ROLLED_BACK");
    assert_eq!(dev.runs[1].outcome, "SUCCEEDED");
    assert_eq!(
        dev.runs[1].snapshot_id.as_deref(),
        Some(S1),
        "latest, resolved"
    );
    assert_eq!(prod.runs[1].snapshot_id.as_deref(), Some("latest"));
    assert_eq!(
        prod.pending_approval,
        Some(PendingApproval {
            expires_at: Some(datetime!(2026-11-18 12:40 UTC)),
            snapshot_id: S2.into(),
            execution_arn: prod.runs[0].execution_arn.clone(),
        })
    );
    assert_eq!(dev.pending_approval, None, "the wave waits on prod");
    assert_eq!(names(&dev.running), ["wave-1"]);
    // 2026-11-18 is a Wednesday: no freeze now, the next on Saturday.
    assert_eq!(dev.freeze, None);
    assert_eq!(dev.next_freeze_at, Some(datetime!(2026-11-21 00:00 UTC)));
    assert_eq!(
        qa.next_freeze_at, dev.next_freeze_at,
        "windows apply to every stage"
    );
}

#[test]
fn a_running_runs_freeze_windows_count() {
    let mut running = execution(
        "r",
        datetime!(2026-11-18 11:00 UTC),
        "RUNNING",
        json!({"gameName": "g", "stageName": "prod", "snapshotId": S1, "freezeWindows": [
            {"name": "launch", "start": "2026-11-18T00:00:00Z", "end": "2026-11-20T00:00:00Z"}]}),
    );
    let stages = [("prod".to_owned(), None)];
    let r = report("g", AT, &stages, &[running.clone()], &[]);
    assert_eq!(
        r.stages[0].freeze,
        Some(ActiveFreeze {
            name: Some("launch".into()),
            until: datetime!(2026-11-20 00:00 UTC)
        })
    );
    assert_eq!(r.stages[0].next_freeze_at, None);
    // Once it has ended, its windows are its own business.
    running.status = "SUCCEEDED".into();
    let r = report("g", AT, &stages, &[running], &[]);
    assert_eq!(
        (r.stages[0].freeze.as_ref(), r.stages[0].next_freeze_at),
        (None, None)
    );
}

#[test]
fn the_table() {
    let table = render_table(&example());
    let expected = "\
space-raiders at 2026-11-18T12:00:00Z
STAGE  SERVING                            LAST RUNS                                                  NOW
dev    Snapshot_2026-11-18T11:15:00.000Z  RUNNING 11:40Z, SUCCEEDED 08:01Z                           RUNNING wave-1; next freeze at 11-21 00:00Z
prod   Snapshot_2026-11-01T09:00:00.000Z  AWAITING_APPROVAL 11:40Z, ROLLED_BACK 10-31, FROZEN 10-29  AWAITING_APPROVAL of Snapshot_2026-11-18T11:15:00.000Z until 12:40Z (wave-1); next freeze at 11-21 00:00Z
qa     (nothing)                          -                                                          next freeze at 11-21 00:00Z
";
    assert_eq!(table, expected, "\n{table}");
    let frozen = StatusReport {
        game_name: "g".into(),
        at: AT,
        stages: vec![StageStatus {
            stage_name: "prod".into(),
            serving_snapshot_id: None,
            runs: vec![],
            pending_approval: None,
            running: vec![],
            freeze: Some(ActiveFreeze {
                name: Some("launch".into()),
                until: datetime!(2027-01-04 00:00 UTC),
            }),
            next_freeze_at: None,
        }],
    };
    assert!(
        render_table(&frozen).contains("FROZEN (launch) until 2027-01-04 00:00Z"),
        "{}",
        render_table(&frozen)
    );
    let empty = StatusReport {
        stages: vec![],
        ..frozen
    };
    assert_eq!(
        render_table(&empty),
        "g at 2026-11-18T12:00:00Z\n(no stages)\n"
    );
}

#[test]
fn the_json_document_is_in_the_contracts_camel_case() {
    let r = example();
    let text = serde_json::to_string(&r).unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(value["gameName"], "space-raiders");
    assert_eq!(value["at"], "2026-11-18T12:00:00Z");
    let prod = &value["stages"][1];
    assert_eq!(prod["stageName"], "prod");
    assert_eq!(prod["servingSnapshotId"], S0);
    assert_eq!(prod["pendingApproval"]["expiresAt"], "2026-11-18T12:40:00Z");
    assert_eq!(prod["pendingApproval"]["snapshotId"], S2);
    assert_eq!(prod["runs"][1]["outcome"], "ROLLED_BACK");
    assert_eq!(prod["runs"][1]["startedAt"], "2026-10-31T10:00:00Z");
    assert_eq!(prod["running"][0]["name"], "wave-1");
    assert!(prod["runs"][1]["executionArn"].is_string(), "{prod}");
    fn snake_keys(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                if k.contains('_') {
                    found.push(k.clone());
                }
                snake_keys(v, found);
            }),
            Value::Array(items) => items.iter().for_each(|v| snake_keys(v, found)),
            _ => {}
        }
    }
    let mut snake = Vec::new();
    snake_keys(&value, &mut snake);
    assert!(snake.is_empty(), "snake_case keys: {snake:?}");
    assert_eq!(prod["freeze"], Value::Null);
    assert_eq!(prod["nextFreezeAt"], "2026-11-21T00:00:00Z");
    assert_eq!(value["stages"][2]["servingSnapshotId"], Value::Null);
    let back: StatusReport = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, r, "scripts read back what was written");
}

#[test]
fn freeze_windows_from_the_option() {
    assert_eq!(config_windows(None), Ok(vec![]));
    assert_eq!(config_windows(Some("  ")), Ok(vec![]));
    let one = config_windows(Some(
        r#"[{"start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}]"#,
    ));
    assert_eq!(one.map(|w| w.len()), Ok(1));
    let not_json = config_windows(Some("[")).err().unwrap_or_default();
    assert!(not_json.contains("STAGEGATE_FREEZE_WINDOWS"), "{not_json}");
    let invalid = config_windows(Some(r#"[{"start": "x"}]"#))
        .err()
        .unwrap_or_default();
    assert!(invalid.contains("--freeze-windows[0]"), "{invalid}");
    let missing = config_windows(Some("@/nonexistent/windows.json"))
        .err()
        .unwrap_or_default();
    assert!(missing.contains("/nonexistent/windows.json"), "{missing}");
    // The AWS CLI's `file://` reads a file, as `--input` does.
    let path = std::env::temp_dir().join(format!("stagegate-windows-{}.json", std::process::id()));
    let written = std::fs::write(
        &path,
        r#"[{"start": "2026-12-20T00:00:00Z", "end": "2027-01-04T00:00:00Z"}]"#,
    );
    assert!(written.is_ok(), "{written:?}");
    let from_file = config_windows(Some(&format!("file://{}", path.display())));
    let _ = std::fs::remove_file(&path);
    assert_eq!(from_file.map(|w| w.len()), Ok(1));
}

#[test]
fn short_times() {
    assert_eq!(moment(datetime!(2026-11-18 08:01 UTC), AT), "08:01Z");
    assert_eq!(
        moment(datetime!(2026-11-30 08:01 +01:00), AT),
        "11-30 07:01Z"
    );
    assert_eq!(
        moment(datetime!(2027-01-04 00:00 UTC), AT),
        "2027-01-04 00:00Z"
    );
    assert_eq!(
        day_or_time(Some(datetime!(2026-11-30 23:00 UTC)), AT),
        "11-30"
    );
    assert_eq!(
        day_or_time(Some(datetime!(2025-11-30 23:00 UTC)), AT),
        "2025-11-30"
    );
    assert_eq!(day_or_time(None, AT), "?");
}

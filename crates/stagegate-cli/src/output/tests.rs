//! The documents `--output json` prints: their members and codes, the committed schema they are
//! held to (regenerated here; `STAGEGATE_BLESS=1` rewrites it), and every document these tests
//! build validated against that committed file with a real JSON Schema validator.

use std::path::Path;

use serde_json::{json, Value};
use stagegate::approval::Decision;
use stagegate::verdict::Verdict;

use stagegate_core::budget::Next;
use stagegate_core::fleet::parse_fleet;
use stagegate_core::fleet_run::{after_batch, plan, FleetProgress, ItemEnding};
use stagegate_core::fleet_summary::{refused, summarize, FleetSummary};

use super::*;
use crate::exit::Exit;
use crate::status::{self, StatusReport};
use crate::validate;

const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:release-42";

fn schema_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/cli-output.schema.json")
}

fn value(document: &Document) -> Value {
    serde_json::from_str(&document.to_json()).unwrap_or_else(|e| panic!("{e}"))
}

fn ended(verdict: Option<Verdict>, status: &str) -> RunDocument {
    let execution = Execution {
        arn: ARN.into(),
        status: status.into(),
        verdict,
        error: verdict.filter(|v| !v.is_success()).map(Verdict::fail_error),
        cause: verdict.map(|v| format!("the gate ended {}", v.as_str())),
        notification: Some(json!({"outcome": verdict.map(Verdict::as_str)}).to_string()),
        duration_seconds: Some(754.5),
    };
    RunDocument::new(execution, Exit::of_execution(verdict))
}

fn status_report() -> StatusReport {
    let at = time::macros::datetime!(2026-11-18 12:00 UTC);
    let executions = vec![status::Execution {
        execution_arn: ARN.into(),
        name: "release-42".into(),
        started_at: Some(at),
        status: "FAILED".into(),
        error: Some("StageGate.ROLLED_BACK".into()),
        input: Some(
            json!({"gameName": "g", "stageName": "prod", "snapshotId": "latest"}).to_string(),
        ),
        output: None,
        pending: None,
        resolved_snapshot: Some("Snapshot_1".into()),
    }];
    let stages = [("prod".to_owned(), Some("Snapshot_0".to_owned()))];
    status::report("g", at, &stages, &executions, &[])
}

/// One document of every kind and shape the CLI prints.
fn every_document() -> Vec<Document> {
    let mut documents: Vec<Document> = Verdict::ALL
        .into_iter()
        .map(|v| {
            let status = if v.is_success() {
                "SUCCEEDED"
            } else {
                "FAILED"
            };
            Document::Run(ended(Some(v), status))
        })
        .collect();
    documents.push(Document::Run(ended(None, "ABORTED")));
    documents.push(Document::Run(RunDocument::started(ARN)));
    let still = Execution {
        arn: ARN.into(),
        status: "RUNNING".into(),
        notification: Some("not JSON".into()),
        ..Execution::default()
    };
    documents.push(Document::Run(RunDocument::new(still, Exit::StillRunning)));
    for input in [
        r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#,
        r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest", "polcy": {}}"#,
        r#"{"gameName": "g","#,
    ] {
        documents.push(Document::Validate(ValidateDocument::new(
            &validate::inspect(input),
        )));
    }
    for decision in [Decision::Approve, Decision::Reject, Decision::Abort] {
        documents.push(Document::Answer(AnswerDocument::new(
            ARN,
            decision,
            "done".into(),
        )));
    }
    documents.push(Document::Status(status_report()));
    documents.extend(decision_documents());
    documents.push(Document::Audit(crate::audit::AuditDocument {
        game: "space-raiders".into(),
        stage: "prod".into(),
        bucket: "stagegate-records".into(),
        records: 2,
        newest: Some("space-raiders/prod/20261207T203215Z-run-2.json".into()),
        whole: false,
        problems: vec![crate::audit::AuditProblem {
            kind: "MISSING".into(),
            keys: vec!["space-raiders/prod/20261206T203215Z-run-1.json".into()],
            why: "space-raiders/prod/20261206T203215Z-run-1.json: missing (deleted)".into(),
        }],
        exit_code: 1,
        exit_class: "NEEDS_PERSON".into(),
    }));
    documents.extend(fleet_documents());
    documents.push(Document::Error(ErrorDocument::new(
        "DescribeExecution: denied",
    )));
    documents
}

/// A fleet of `n` games in batches of 2, 10% budget, after `batches` batches with `failing`
/// items rolled back: the core's progress, as the tally writes it.
fn fleet_progress(n: usize, failing: &[usize], batches: usize) -> FleetProgress {
    let games: Vec<Value> = (0..n)
        .map(|i| json!({"gameName": format!("g{i}"), "stageName": "prod", "snapshotId": "latest"}))
        .collect();
    let request = parse_fleet(&json!({"fleetName": "nightly", "games": games.clone(),
        "canaryCount": 1, "budget": {"maxFailurePercent": 10}, "batchSize": 2}))
    .unwrap_or_else(|e| panic!("{e}"));
    let mut planned = plan(&request, &games, "nightly-1", "bucket", 2, 10);
    for _ in 0..batches {
        let Next::Batch { batch } = planned.progress.next else {
            break;
        };
        let endings: Vec<ItemEnding> = planned.batches[batch]
            .iter()
            .map(|i| ItemEnding {
                item: i.item,
                game_name: i.game_name.clone(),
                verdict: if failing.contains(&i.item) {
                    Verdict::RolledBack
                } else {
                    Verdict::Succeeded
                },
                why: failing.contains(&i.item).then(|| "bake alarm".to_owned()),
                rollback_to: None,
            })
            .collect();
        after_batch(&mut planned.progress, Some(&endings), "");
    }
    planned.progress
}

/// The fleet's progress of every `next`, and its summary of every status.
fn fleet_reads() -> (Vec<FleetProgress>, Vec<FleetSummary>) {
    let progress = vec![
        fleet_progress(40, &[3], 2),
        fleet_progress(40, &[], 40),
        fleet_progress(40, &[3, 4, 5, 6, 7], 40),
    ];
    let summaries = vec![
        summarize(&progress[1]),
        summarize(&progress[2]),
        refused("nightly", "nightly-1", "games[3].gameName: no such game"),
    ];
    (progress, summaries)
}

/// `fleet run` of an inline fleet and of one in S3; `fleet status` of each standing.
fn fleet_documents() -> Vec<Document> {
    use crate::fleet::check;
    use crate::fleet::report::{self, Found, Read};
    let mut documents = Vec::new();
    for input in [
        json!({"fleetName": "nightly", "budget": {"maxFailurePercent": 5}, "canaries": ["g1"],
            "games": [{"gameName": "g0", "stageName": "prod", "snapshotId": "latest"},
                      {"gameName": "g1", "stageName": "prod", "snapshotId": "latest"}]}),
        json!({"fleetName": "nightly", "budget": {"maxFailurePercent": 5}, "canaryCount": 2,
            "gamesFrom": {"bucket": "b", "key": "k.json"}}),
    ] {
        let checked = check::check(&input.to_string()).unwrap_or_else(|e| panic!("{e}"));
        documents.push(Document::FleetRun(FleetRunDocument::new(
            ARN,
            &checked.fleet_name,
            checked.plan,
        )));
    }
    let (progress, summaries) = fleet_reads();
    let found = summaries
        .into_iter()
        .map(|s| ("SUCCEEDED", Found::Summary(Box::new(s))))
        .chain(
            progress
                .into_iter()
                .map(|p| ("RUNNING", Found::Progress(Box::new(p)))),
        )
        .chain([("RUNNING", Found::Neither), ("ABORTED", Found::Neither)]);
    for (status, found) in found {
        let read = Read {
            execution_arn: ARN.into(),
            execution: crate::fleet::Described {
                name: "release-42".into(),
                status: status.into(),
                ..Default::default()
            },
            found,
        };
        documents.push(Document::FleetStatus(report::document(&read)));
    }
    documents
}

/// `explain` of a run with a record, one without, one with no gate state; `replay` of each kind
/// of result, and under a what-if.
fn decision_documents() -> Vec<Document> {
    use crate::saved::{fixture, SavedHistory};
    use crate::{explain, replay};
    let mut documents = Vec::new();
    for history in [
        fixture::recorded(),
        fixture::unrecorded(),
        SavedHistory::default(),
    ] {
        if let Ok(e) = explain::explain(&history, fixture::ARN) {
            documents.push(Document::Explain(explain::document(&e)));
        }
    }
    let what_if = replay::PolicyOverride::parse(r#"{"onInvalidRole": "rollback"}"#, "p").ok();
    let runs = [
        replay::replay_run("a.json", Ok(fixture::recorded()), what_if.as_ref()),
        replay::replay_run("b.json", Ok(fixture::unrecorded()), None),
        replay::replay_run("c.json", Err("unreadable".into()), None),
    ];
    documents.push(Document::Replay(replay::document(&runs, what_if.as_ref())));
    documents.push(Document::Replay(replay::document(&runs[1..2], None)));
    documents
}

fn committed_validator() -> jsonschema::Validator {
    let path = schema_path();
    let schema: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("{} is missing or not JSON", path.display()));
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{} is no schema: {e}", path.display()))
}

#[test]
fn committed_schema_matches_the_types() {
    let path = schema_path();
    let generated = serde_json::to_string_pretty(&schema()).unwrap_or_default() + "\n";
    if std::env::var_os("STAGEGATE_BLESS").is_some() {
        // CI checks what is committed: a bless there would rewrite the file and pass.
        assert!(
            std::env::var_os("CI").is_none(),
            "STAGEGATE_BLESS is set under CI: schemas/cli-output.schema.json is checked, not \
             rewritten, there"
        );
        std::fs::write(&path, generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/cli-output.schema.json differs from the types in output.rs: run \
         `STAGEGATE_BLESS=1 cargo test -p stagegate-cli --lib output` and commit it"
    );
}

#[test]
fn every_document_validates_against_the_committed_schema() {
    let validator = committed_validator();
    for document in every_document() {
        let instance = value(&document);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{instance:#}\n{errors:?}");
    }
    // The schema is closed and its names are the core's: a stray member or an unknown class
    // is refused, so the check above can fail.
    let mut stray = value(&Document::Error(ErrorDocument::new("x")));
    stray["exitcode"] = json!(2);
    assert!(!validator.is_valid(&stray), "{stray}");
    let mut unknown = value(&Document::Run(ended(Some(Verdict::Rejected), "FAILED")));
    unknown["exitClass"] = json!("REJECTED");
    assert!(!validator.is_valid(&unknown), "{unknown}");
    unknown["exitClass"] = json!("REFUSED");
    unknown["outcome"] = json!("REFUSED");
    assert!(!validator.is_valid(&unknown), "{unknown}");
}

#[test]
fn a_run_document_says_the_verdict_its_exit_code_and_class() {
    let rolled_back = value(&Document::Run(ended(Some(Verdict::RolledBack), "FAILED")));
    assert_eq!(
        rolled_back,
        json!({
            "executionArn": ARN,
            "executionName": "release-42",
            "status": "FAILED",
            "outcome": "ROLLED_BACK",
            "exitCode": 3,
            "exitClass": "ROLLED_BACK",
            "error": "StageGate.ROLLED_BACK",
            "cause": "the gate ended ROLLED_BACK",
            "notification": {"outcome": "ROLLED_BACK"},
            "durationSeconds": 754.5,
        })
    );
    let rejected = ended(Some(Verdict::Rejected), "FAILED");
    assert_eq!(
        (rejected.exit_code, rejected.exit_class.as_str()),
        (4, "REFUSED")
    );
    // Stopped outside the gate: no verdict, a person must look.
    let stopped = ended(None, "ABORTED");
    assert_eq!((stopped.outcome, stopped.exit_code), (None, 1));
    let started = value(&Document::Run(RunDocument::started(ARN)));
    assert_eq!(
        (
            &started["status"],
            &started["outcome"],
            &started["exitCode"],
            &started["exitClass"]
        ),
        (&json!("RUNNING"), &Value::Null, &json!(0), &json!("DONE"))
    );
}

#[test]
fn a_validate_document_names_the_field_and_the_rule() {
    let typo = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest", "polcy": {}}"#;
    let refused = value(&Document::Validate(ValidateDocument::new(
        &validate::inspect(typo),
    )));
    assert_eq!(refused["valid"], false);
    assert_eq!(refused["problem"]["field"], "polcy");
    assert!(
        refused["problem"]["rule"]
            .as_str()
            .is_some_and(|r| r.starts_with("unknown field `polcy` (did you mean `policy`?)")),
        "{refused}"
    );
    assert_eq!(
        (&refused["exitCode"], &refused["exitClass"]),
        (&json!(2), &json!("ERROR"))
    );
    assert_eq!(refused["summary"], Value::Null);
    let not_json = value(&Document::Validate(ValidateDocument::new(
        &validate::inspect("{"),
    )));
    assert_eq!(not_json["problem"]["field"], Value::Null);
    let fine = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#;
    let valid = value(&Document::Validate(ValidateDocument::new(
        &validate::inspect(fine),
    )));
    assert_eq!(
        (&valid["valid"], &valid["exitCode"]),
        (&json!(true), &json!(0))
    );
    assert!(
        valid["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("valid: game g, stage s")),
        "{valid}"
    );
}

#[test]
fn an_answer_and_an_error_are_documents_too() {
    let answer = value(&Document::Answer(AnswerDocument::new(
        ARN,
        Decision::Reject,
        "rejected".into(),
    )));
    assert_eq!(
        answer,
        json!({"executionArn": ARN, "decision": "REJECT", "message": "rejected",
               "exitCode": 0, "exitClass": "DONE"})
    );
    let error = value(&Document::Error(ErrorDocument::new("no region")));
    assert_eq!(
        error,
        json!({"error": "no region", "exitCode": 2, "exitClass": "ERROR"})
    );
}

#[test]
fn every_document_reads_back_as_itself() {
    // Untagged: a script (or the e2e tier) reading a `Document` gets the kind that was printed.
    for document in every_document() {
        let back: Document =
            serde_json::from_str(&document.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, document);
    }
}

#[test]
fn the_schema_names_every_verdict_and_exit_class() {
    let schema = serde_json::to_value(schema()).unwrap_or_default();
    let run = &schema["$defs"]["RunDocument"]["properties"];
    let outcomes = run["outcome"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for verdict in Verdict::ALL {
        assert!(outcomes.contains(&json!(verdict.as_str())), "{verdict:?}");
    }
    let classes = run["exitClass"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let codes = run["exitCode"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (classes.len(), codes.len()),
        (Exit::ALL.len(), Exit::ALL.len())
    );
    for exit in Exit::ALL {
        assert!(classes.contains(&json!(exit.as_str())), "{exit:?}");
        assert!(codes.contains(&json!(exit.code())), "{exit:?}");
    }
}

#[test]
fn json_is_recognised_before_the_arguments_parse() {
    let asks = |args: &[&str]| wants_json(args.iter().map(std::ffi::OsString::from));
    assert!(asks(&["stagegate", "run", "-o", "json", "--bogus"]));
    assert!(asks(&["stagegate", "follow", "--output=json"]));
    assert!(asks(&["stagegate", "--output", "json", "validate"]));
    assert!(asks(&["stagegate", "status", "--json"]));
    assert!(asks(&["stagegate", "validate", "-ojson"]));
    assert!(!asks(&["stagegate", "run", "-o", "text"]));
    assert!(!asks(&["stagegate", "run", "--input", "json"]));
    assert!(!asks(&["stagegate", "run"]));
}

#[test]
fn the_fleet_mirrors_print_what_the_core_prints() {
    let (progress, summaries) = fleet_reads();
    for summary in summaries {
        let core = serde_json::to_value(&summary).unwrap_or_default();
        let mirror = serde_json::to_value(FleetSummaryDocument::of(&summary)).unwrap_or_default();
        assert_eq!(mirror, core);
    }
    for p in progress {
        let mut core = serde_json::to_value(&p).unwrap_or_default();
        // The one difference: printed as null rather than left out.
        for key in ["batchKey", "rollbackKey", "breachRollback"] {
            if core.get(key).is_none() {
                core[key] = Value::Null;
            }
        }
        let mirror = serde_json::to_value(FleetProgressDocument::of(&p)).unwrap_or_default();
        assert_eq!(mirror, core);
    }
}

#[test]
fn fleet_documents_say_the_plan_and_the_standing() {
    let documents = fleet_documents();
    let run = value(&documents[0]);
    assert_eq!(
        run,
        json!({
            "executionArn": ARN,
            "executionName": "release-42",
            "fleetName": "nightly",
            "plan": {"games": 2, "gamesFrom": null, "canaries": ["g1"], "canaryCount": 1,
                     "batchSize": 20, "batches": 2, "maxFailurePercent": 5,
                     "allowedFailures": 0, "canaryMaxFailures": 0, "onBreach": "leave"},
            "statusCommand": format!("stagegate fleet status --execution {ARN}"),
            "exitCode": 0,
            "exitClass": "DONE",
        })
    );
    let standings: Vec<(String, u64)> = documents[2..]
        .iter()
        .map(|d| {
            let v = value(d);
            (
                v["fleetStatus"].as_str().unwrap_or_default().to_owned(),
                v["exitCode"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    let expected = [
        ("COMPLETED", 0),
        ("STOPPED", 1),
        ("REFUSED", 4),
        ("RUNNING", 5),
        ("RUNNING", 5),
        ("RUNNING", 5),
        ("RUNNING", 5),
        ("ENDED_WITHOUT_SUMMARY", 1),
    ];
    let expected: Vec<(String, u64)> = expected
        .iter()
        .map(|(s, c)| ((*s).to_owned(), *c))
        .collect();
    assert_eq!(standings, expected);
}

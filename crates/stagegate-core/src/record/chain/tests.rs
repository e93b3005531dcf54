//! `verify` over chains built here, each broken one way: every problem names the record at
//! fault, and a whole chain has none.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::message::{Message, RecordRef};
use crate::notification::{render_with_body, Report};
use crate::record::{key, RECORD_VERSION};
use crate::verdict::Verdict;

const T0: OffsetDateTime = datetime!(2026-12-07 20:32:15 UTC);

fn message(run: usize) -> Message {
    render_with_body(&Report {
        verdict: Verdict::Succeeded,
        state: None,
        error: None,
        fallback_game: Some("space-raiders".into()),
        fallback_stage: Some("prod".into()),
        execution_id: format!("arn:aws:states:us-east-1:1:execution:gate:run-{run}"),
        now: T0 + Duration::hours(run as i64),
    })
    .1
}

/// Record `run` of the stage, naming `previous`.
fn record(run: usize, previous: Option<RecordRef>) -> (String, Vec<u8>) {
    let execution = format!("arn:aws:states:us-east-1:1:execution:gate:run-{run}");
    let at = T0 + Duration::hours(run as i64);
    let key = key("space-raiders", "prod", at, &execution).unwrap_or_else(|e| panic!("{e}"));
    let record = DecisionRecord {
        version: RECORD_VERSION,
        key: key.clone(),
        game: "space-raiders".into(),
        stage: "prod".into(),
        execution: execution.clone(),
        run_id: format!("{execution}@{}", at.unix_timestamp()),
        recorded_at: at,
        verdict: Verdict::Succeeded,
        message: message(run),
        state: serde_json::json!({"gameName": "space-raiders", "stageName": "prod"}),
        previous,
    };
    let (bytes, _) = record.to_bytes().unwrap_or_else(|e| panic!("{e}"));
    (key, bytes)
}

/// `n` records, each naming the one before.
fn chain(n: usize) -> Vec<(String, Vec<u8>)> {
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for run in 0..n {
        let previous = records.last().map(|(key, bytes)| RecordRef {
            key: key.clone(),
            sha256: sha256_hex(bytes),
        });
        records.push(record(run, previous));
    }
    records
}

#[test]
fn a_whole_chain_has_no_problem() {
    let records = chain(4);
    let report = verify(&records);
    assert!(report.is_whole(), "{:?}", report.problems);
    assert_eq!(report.records, 4);
    assert_eq!(report.newest.as_deref(), Some(records[3].0.as_str()));
    // The order the bucket lists them in does not matter.
    let mut shuffled = records.clone();
    shuffled.reverse();
    assert_eq!(verify(&shuffled), report);
    assert!(verify(&[]).is_whole());
}

#[test]
fn an_edited_record_is_named_with_the_record_that_caught_it() {
    let mut records = chain(4);
    let text = String::from_utf8(records[1].1.clone()).unwrap_or_default();
    records[1].1 = text.replace("SUCCEEDED", "FAILED").into_bytes();
    let report = verify(&records);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    match &report.problems[0] {
        Problem::Altered { key, named_by, .. } => {
            assert_eq!((key, named_by), (&records[1].0, &records[2].0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.problems[0].kind(), "ALTERED");
    assert!(report.problems[0].to_string().contains("altered"));
    // One byte is enough, even a trailing one that leaves the JSON the same.
    let mut records = chain(3);
    records[0].1.push(b' ');
    assert_eq!(
        verify(&records).problems[0].keys(),
        vec![records[0].0.as_str()]
    );
}

#[test]
fn a_record_deleted_from_the_middle_is_named_as_missing() {
    let mut records = chain(4);
    let deleted = records.remove(2);
    let report = verify(&records);
    assert_eq!(
        report.problems,
        vec![Problem::Missing {
            key: deleted.0,
            named_by: records[2].0.clone(),
        }]
    );
    // The first record deleted: its successor names it.
    let mut records = chain(3);
    let first = records.remove(0);
    assert_eq!(verify(&records).problems[0].keys(), vec![first.0.as_str()]);
}

#[test]
fn a_fork_names_every_branch() {
    let mut records = chain(3);
    // A fourth run that read the same newest record as the third: both name the second.
    let previous = RecordRef {
        key: records[1].0.clone(),
        sha256: sha256_hex(&records[1].1),
    };
    records.push(record(3, Some(previous)));
    let report = verify(&records);
    assert_eq!(
        report.problems,
        vec![Problem::Fork {
            previous: records[1].0.clone(),
            records: vec![records[2].0.clone(), records[3].0.clone()],
        }]
    );
}

#[test]
fn a_restarted_chain_names_each_start() {
    let mut records = chain(2);
    records.push(record(5, None));
    let report = verify(&records);
    assert_eq!(
        report.problems,
        vec![Problem::Restarted {
            records: vec![records[0].0.clone(), records[2].0.clone()],
        }]
    );
}

#[test]
fn an_unparsable_record_is_named_and_still_hashed() {
    let mut records = chain(3);
    records[1].1 = b"{ not json".to_vec();
    let report = verify(&records);
    let kinds: Vec<(&str, Vec<&str>)> = report
        .problems
        .iter()
        .map(|p| (p.kind(), p.keys()))
        .collect();
    // Unreadable, and no longer what its successor recorded.
    assert_eq!(
        kinds,
        vec![
            ("UNPARSABLE", vec![records[1].0.as_str()]),
            ("ALTERED", vec![records[1].0.as_str()]),
        ]
    );
}

#[test]
fn a_record_under_another_key_is_named() {
    let mut records = chain(2);
    let copied = (
        "space-raiders/prod/29990101T000000Z-copy.json".to_owned(),
        records[0].1.clone(),
    );
    records.push(copied.clone());
    let report = verify(&records);
    assert!(
        report.problems.contains(&Problem::Misplaced {
            key: copied.0,
            says: records[0].0.clone(),
        }),
        "{:?}",
        report.problems
    );
}

#[test]
fn every_problem_is_named_not_only_the_first() {
    let mut records = chain(6);
    records[1].1.push(b'\n');
    records.remove(3);
    let report = verify(&records);
    let kinds: Vec<&str> = report.problems.iter().map(Problem::kind).collect();
    assert_eq!(kinds, vec!["ALTERED", "MISSING"]);
}

//! `audit verify` over an in-memory bucket: a whole chain exits 0, a chain with a record edited
//! and one deleted exits 1 naming both, a bucket that cannot be read is the command's failure
//! (exit 2), and a game or stage the gate never records under is refused before any call.

use std::collections::BTreeMap;
use std::sync::Mutex;

use clap::Parser;
use stagegate::message::RecordRef;
use stagegate::notification::{render_with_body, Report};
use stagegate::ports::ServiceError;
use stagegate::record::{DecisionRecord, RECORD_VERSION};
use stagegate::verdict::Verdict;
use time::macros::datetime;
use time::Duration;

use super::*;
use crate::cli::{check_arguments, Cli, Command};

#[derive(Default)]
struct Bucket {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    broken: bool,
}

impl RecordStore for Bucket {
    async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, ServiceError> {
        if self.broken {
            return Err(ServiceError::from_reply(
                "ListObjectsV2",
                Some("AccessDenied"),
                Some(403),
                Some("Access Denied"),
            ));
        }
        let objects = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        Ok(objects
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ServiceError> {
        let objects = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        objects.get(key).cloned().ok_or_else(|| {
            ServiceError::from_reply("GetObject", Some("NoSuchKey"), Some(404), None)
        })
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ServiceError> {
        let mut objects = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        objects.insert(key.to_owned(), bytes);
        Ok(())
    }
}

/// `n` chained records of space-raiders/prod, and one of dev (another prefix: never read).
async fn bucket(n: i64) -> Bucket {
    let bucket = Bucket::default();
    let mut previous: Option<RecordRef> = None;
    let t0 = datetime!(2026-12-07 20:00 UTC);
    for (stage, run) in (0..n).map(|i| ("prod", i)).chain([("dev", 99)]) {
        let execution = format!("arn:aws:states:us-east-1:1:execution:gate:run-{run}");
        let at = t0 + Duration::hours(run);
        let (_, message) = render_with_body(&Report {
            verdict: Verdict::Succeeded,
            state: None,
            error: None,
            fallback_game: Some("space-raiders".into()),
            fallback_stage: Some(stage.into()),
            execution_id: execution.clone(),
            now: at,
        });
        let key =
            record::key("space-raiders", stage, at, &execution).unwrap_or_else(|e| panic!("{e}"));
        let decision = DecisionRecord {
            version: RECORD_VERSION,
            key: key.clone(),
            game: "space-raiders".into(),
            stage: stage.into(),
            execution: execution.clone(),
            run_id: execution,
            recorded_at: at,
            verdict: Verdict::Succeeded,
            message,
            state: serde_json::json!({}),
            previous: if stage == "prod" {
                previous.take()
            } else {
                None
            },
        };
        let (bytes, sha256) = decision.to_bytes().unwrap_or_else(|e| panic!("{e}"));
        if stage == "prod" {
            previous = Some(RecordRef {
                key: key.clone(),
                sha256,
            });
        }
        let _ = bucket.put(&key, bytes).await;
    }
    bucket
}

fn args(game: &str, stage: &str) -> VerifyArgs {
    match Cli::try_parse_from([
        "stagegate",
        "audit",
        "verify",
        "--game",
        game,
        "--stage",
        stage,
        "--bucket",
        "records",
    ]) {
        Ok(Cli {
            command:
                Command::Audit {
                    command: AuditCommand::Verify(args),
                },
            ..
        }) => args,
        Ok(_) => panic!("not audit verify"),
        Err(e) => panic!("{e}"),
    }
}

async fn checked(bucket: &Bucket) -> chain::Report {
    let prefix = args("space-raiders", "prod")
        .prefix()
        .unwrap_or_else(|e| panic!("{e}"));
    chain::verify(
        &fetch(bucket, &prefix)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

#[tokio::test]
async fn a_whole_chain_exits_0() {
    let report = checked(&bucket(3).await).await;
    assert_eq!(report.records, 3, "dev's record is not prod's");
    assert_eq!(exit_of(&report), Exit::Done);
    let args = args("space-raiders", "prod");
    let document = AuditDocument::new(&args, &report);
    assert!(document.whole && document.problems.is_empty());
    assert_eq!(
        (document.exit_code, document.exit_class.as_str()),
        (0, "DONE")
    );
    let text = text(&args, &report);
    assert!(text.starts_with("space-raiders/prod: 3 records in s3://records, newest space-raiders/prod/20261207T220000Z-run-2.json\nwhole"), "{text}");
}

#[tokio::test]
async fn an_edited_and_a_deleted_record_exit_1_naming_both() {
    let bucket = bucket(4).await;
    let edited = "space-raiders/prod/20261207T200000Z-run-0.json";
    let deleted = "space-raiders/prod/20261207T220000Z-run-2.json";
    {
        let mut objects = bucket.objects.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bytes) = objects.get_mut(edited) {
            *bytes = String::from_utf8_lossy(bytes)
                .replace("SUCCEEDED", "FAILED")
                .into_bytes();
        }
        objects.remove(deleted);
    }
    let report = checked(&bucket).await;
    assert_eq!(exit_of(&report), Exit::NeedsPerson);
    let document = AuditDocument::new(&args("space-raiders", "prod"), &report);
    let named: Vec<(&str, &str)> = document
        .problems
        .iter()
        .map(|p| (p.kind.as_str(), p.keys[0].as_str()))
        .collect();
    assert_eq!(named, vec![("ALTERED", edited), ("MISSING", deleted)]);
    assert_eq!(
        (document.exit_code, document.exit_class.as_str()),
        (1, "NEEDS_PERSON")
    );
    let text = text(&args("space-raiders", "prod"), &report);
    assert!(
        text.contains(&format!("  ALTERED    {edited}: altered")),
        "{text}"
    );
    assert!(
        text.contains(&format!("  MISSING    {deleted}: missing (deleted)")),
        "{text}"
    );
}

#[tokio::test]
async fn a_bucket_that_cannot_be_read_is_the_commands_failure() {
    let broken = Bucket {
        broken: true,
        ..Bucket::default()
    };
    let failed = fetch(&broken, "space-raiders/prod/").await;
    assert_eq!(
        failed.err().as_deref(),
        Some("ListObjectsV2 failed with AccessDenied: Access Denied")
    );
}

#[test]
fn a_game_or_stage_the_gate_never_records_under_is_refused_before_any_call() {
    for (game, stage) in [("space raiders", "prod"), ("g", "prod/.."), ("g", "")] {
        let command = Cli::try_parse_from([
            "stagegate",
            "audit",
            "verify",
            "--game",
            game,
            "--stage",
            stage,
            "--bucket",
            "b",
        ])
        .map(|c| c.command);
        let refused = command.map(|c| check_arguments(&c));
        assert!(matches!(refused, Ok(Err(_))), "{game}/{stage}: {refused:?}");
    }
    let fine = Cli::try_parse_from([
        "stagegate",
        "audit",
        "verify",
        "--game",
        "g",
        "--stage",
        "dev",
        "--bucket",
        "b",
    ])
    .map(|c| check_arguments(&c.command));
    assert_eq!(fine.ok(), Some(Ok(())));
}

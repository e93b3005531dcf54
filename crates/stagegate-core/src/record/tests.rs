//! Where a record goes and what the message says of it.

use time::macros::datetime;

use super::*;
use crate::notification::{render_with_body, Report};

const EXEC: &str = "arn:aws:states:us-east-1:123456789012:execution:stagegate:nightly-2026-12-07";

#[test]
fn a_key_sorts_by_time_under_its_stage() {
    let at = datetime!(2026-12-07 20:32:15.999 +01:00);
    assert_eq!(
        key("space-raiders", "prod", at, EXEC).as_deref(),
        Ok("space-raiders/prod/20261207T193215Z-nightly-2026-12-07.json")
    );
    let later = key(
        "space-raiders",
        "prod",
        datetime!(2027-01-01 00:00:00 UTC),
        "run-0",
    );
    let earlier = key(
        "space-raiders",
        "prod",
        datetime!(2026-12-31 23:59:59 UTC),
        "run-z",
    );
    assert!(later > earlier);
    let keys = [
        "space-raiders/prod/20261207T193215Z-b.json",
        "space-raiders/prod/20270101T000000Z-a.json",
        "space-raiders/prod/notes.txt",
    ];
    assert_eq!(newest(keys), Some(keys[1]));
    assert_eq!(newest([]), None);
}

#[test]
fn a_key_is_plain_ascii_and_names_only_a_valid_game_and_stage() {
    let at = datetime!(2026-12-07 20:32:15 UTC);
    assert_eq!(
        key("g", "dev", at, "arn:x:execution:sm:déploiement du 7 [bis]").as_deref(),
        Ok("g/dev/20261207T203215Z-d_ploiement_du_7__bis_.json")
    );
    assert!(key("g/../h", "dev", at, EXEC).is_err());
    assert!(key("g", "", at, EXEC).is_err());
    assert!(key("g", "dev.x", at, EXEC).is_err());
    assert_eq!(prefix("g", "dev").as_deref(), Ok("g/dev/"));
}

fn rendered() -> (Notification, Message) {
    render_with_body(&Report {
        verdict: Verdict::Succeeded,
        state: None,
        error: None,
        fallback_game: Some("g".into()),
        fallback_stage: Some("dev".into()),
        execution_id: EXEC.into(),
        now: datetime!(2026-12-07 20:32:15 UTC),
    })
}

#[test]
fn the_message_carries_the_record_or_why_it_is_missing() {
    let (mut notification, mut body) = rendered();
    let reference = RecordRef {
        key: "g/dev/20261207T203215Z-x.json".into(),
        sha256: "ab".repeat(32),
    };
    attach(&mut notification, &mut body, Ok(reference.clone()));
    let published: Message =
        serde_json::from_str(&notification.message).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(published.record, Some(reference));
    assert_eq!(published.record_error, None);

    let (mut notification, mut body) = rendered();
    attach(
        &mut notification,
        &mut body,
        Err("PutObject failed with AccessDenied: no".into()),
    );
    let published: Message =
        serde_json::from_str(&notification.message).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(published.record, None);
    assert_eq!(
        published.record_error.as_deref(),
        Some("PutObject failed with AccessDenied: no")
    );
    assert!(notification.summary.ends_with(
        " The decision record was not written: PutObject failed with AccessDenied: no."
    ));
    assert_eq!(published.summary, notification.summary);
}

#[test]
fn a_record_reads_back_from_its_bytes_and_hashes_them() {
    let (_, body) = rendered();
    let record = DecisionRecord {
        version: RECORD_VERSION,
        key: "g/dev/20261207T203215Z-x.json".into(),
        game: "g".into(),
        stage: "dev".into(),
        execution: EXEC.into(),
        run_id: format!("{EXEC}@1"),
        recorded_at: datetime!(2026-12-07 20:32:15 UTC),
        verdict: Verdict::Succeeded,
        message: body,
        state: serde_json::json!({"anything": ["the", "state", "held"]}),
        previous: None,
    };
    let (bytes, sha) = record.to_bytes().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sha, sha256_hex(&bytes));
    assert_eq!(sha.len(), 64);
    assert_eq!(DecisionRecord::parse(&bytes), Ok(record));
    // The known vector: SHA-256 of "abc".
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

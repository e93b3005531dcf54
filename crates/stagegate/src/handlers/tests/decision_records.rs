//! notify-result's decision records (`recording`, docs/audit.md) on the in-memory bucket: written
//! before the ending is published and chained to the stage's previous record; a bucket that
//! fails never costs the notification; records off, or an approval request, call nothing.

use stagegate_core::record::chain;
use stagegate_core::record::{sha256_hex, DecisionRecord};

use super::*;
use crate::fakes::{FakeMetrics, FakeRecords, GET_OBJECT, LIST_OBJECTS, PUT_OBJECT};
use crate::handlers::recording::FAILURE_METRIC;
use crate::ports::RecordsOff;
use crate::telemetry::NoMetrics;

/// Runs notify-result on `state` with records on; returns the one published body.
async fn recorded(
    records: &FakeRecords,
    metrics: &FakeMetrics,
    sns: &FakeNotifier,
    state: &GateState,
    now: OffsetDateTime,
) -> Result<Message, GateError> {
    let event = json!({"state": state, "execution": {"Id": EXEC}});
    let aborts = FakeAbortRequests::new();
    notify::handle_recorded(sns, metrics, &aborts, Some(records), &event, now).await?;
    let published = sns.published();
    Ok(message_of(&published[published.len() - 1]))
}

fn stored(records: &FakeRecords, key: &str) -> (Vec<u8>, DecisionRecord) {
    let bytes = records
        .objects()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no record under {key}"));
    let record = DecisionRecord::parse(&bytes).unwrap_or_else(|e| panic!("{key}: {e}"));
    (bytes, record)
}

#[tokio::test]
async fn each_ending_is_recorded_before_it_is_published_and_names_the_previous_record() {
    let gs = stage();
    let s = deployed_and_polled(&gs).await;
    let (records, metrics, sns) = (
        FakeRecords::new(),
        FakeMetrics::default(),
        FakeNotifier::default(),
    );
    let first = recorded(&records, &metrics, &sns, &s, T0 + Duration::minutes(4))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first_ref = first.record.clone().unwrap_or_else(|| panic!("no record"));
    assert_eq!(
        first_ref.key,
        "space-raiders/prod/20260301T120400Z-run-1.json"
    );
    assert_eq!(records.calls(), vec![LIST_OBJECTS, PUT_OBJECT]);
    let (bytes, record) = stored(&records, &first_ref.key);
    assert_eq!(
        first_ref.sha256,
        sha256_hex(&bytes),
        "the message holds the stored bytes' hash"
    );
    assert_eq!(record.previous, None, "the stage's first record");
    assert_eq!(
        (record.game.as_str(), record.stage.as_str()),
        ("space-raiders", "prod")
    );
    assert_eq!(
        (record.execution.as_str(), record.run_id.as_str()),
        (EXEC, RUN)
    );
    assert_eq!(record.verdict, Verdict::Succeeded);
    assert_eq!(
        record.state["deploymentId"],
        json!(s.deployment.deployment_id)
    );
    // The record holds the published message, less the member that names the record.
    let mut published_less_record = first.clone();
    published_less_record.record = None;
    assert_eq!(record.message, published_less_record);

    // A second run on the stage: it reads the newest record and names it with its hash.
    let second = recorded(&records, &metrics, &sns, &s, T0 + Duration::hours(2))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second_ref = second.record.unwrap_or_else(|| panic!("no record"));
    assert_eq!(
        records.calls(),
        vec![
            LIST_OBJECTS,
            PUT_OBJECT,
            LIST_OBJECTS,
            GET_OBJECT,
            PUT_OBJECT
        ]
    );
    let (_, record) = stored(&records, &second_ref.key);
    assert_eq!(record.previous, Some(first_ref));
    assert!(chain::verify(&records.objects()).is_whole());
    assert!(metrics
        .records()
        .iter()
        .all(|r| r.get(FAILURE_METRIC).is_none()));
}

#[tokio::test]
async fn a_record_is_written_before_the_publish_that_may_fail() {
    let gs = stage();
    let s = deployed_and_polled(&gs).await;
    let (records, sns) = (FakeRecords::new(), FakeNotifier::default());
    sns.fail_next(svc(ServiceErrorKind::Internal, "Publish"));
    let lost = recorded(&records, &FakeMetrics::default(), &sns, &s, T0).await;
    assert_eq!(error_type(lost), types::NOTIFICATION_FAILED);
    assert_eq!(records.calls(), vec![LIST_OBJECTS, PUT_OBJECT]);
    assert_eq!(
        records.objects().len(),
        1,
        "stored before the publish was tried"
    );
}

#[tokio::test]
async fn a_bucket_that_fails_never_costs_the_notification() {
    let gs = stage();
    let s = deployed_and_polled(&gs).await;
    for failing in [LIST_OBJECTS, PUT_OBJECT] {
        let (records, metrics, sns) = (
            FakeRecords::new(),
            FakeMetrics::default(),
            FakeNotifier::default(),
        );
        records.fail_next(
            failing,
            ServiceError::from_reply(failing, Some("AccessDenied"), Some(403), Some("denied")),
        );
        let body = recorded(&records, &metrics, &sns, &s, T0)
            .await
            .unwrap_or_else(|e| panic!("{failing}: {e}"));
        assert_eq!(body.outcome, Verdict::Succeeded, "{failing}");
        assert_eq!(body.record, None, "{failing}");
        let why = format!("{failing} failed with AccessDenied: denied");
        assert_eq!(body.record_error.as_deref(), Some(why.as_str()));
        assert!(
            body.summary
                .ends_with(&format!("The decision record was not written: {why}.")),
            "{}",
            body.summary
        );
        assert_eq!(sns.published()[0].summary, body.summary);
        let failures: Vec<_> = metrics
            .records()
            .into_iter()
            .filter(|r| r[FAILURE_METRIC] == 1)
            .collect();
        assert_eq!(failures.len(), 1, "{failing}: one count for an alarm");
    }
    // The newest record cannot be read: the new one is not written without its previous.
    let (records, sns) = (FakeRecords::new(), FakeNotifier::default());
    records.replace(
        "space-raiders/prod/20260101T000000Z-old.json",
        b"{}".to_vec(),
    );
    records.fail_next(GET_OBJECT, svc(ServiceErrorKind::Transport, GET_OBJECT));
    let body = recorded(&records, &FakeMetrics::default(), &sns, &s, T0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(body
        .record_error
        .is_some_and(|e| e.starts_with("GetObject failed")));
    assert_eq!(
        records.objects().len(),
        1,
        "nothing written without its previous"
    );
}

#[tokio::test]
async fn records_off_or_an_approval_request_call_no_bucket() {
    let gs = stage();
    let s = deployed_and_polled(&gs).await;
    let event = json!({"state": s, "execution": {"Id": EXEC}});
    let aborts = FakeAbortRequests::new();
    // Off: the same message as before records existed, with both members null.
    let (off, plain) = (FakeNotifier::default(), FakeNotifier::default());
    let out =
        notify::handle_recorded(&off, &NoMetrics, &aborts, None::<&RecordsOff>, &event, T0).await;
    assert!(out.is_ok(), "{out:?}");
    let before = notify::handle(&plain, &event, T0).await;
    assert!(before.is_ok(), "{before:?}");
    let body = message_of(&off.published()[0]);
    assert_eq!((body.record, body.record_error), (None, None));
    assert_eq!(off.published(), plain.published());

    let records = FakeRecords::new();
    let awaiting = super::operator_control::awaiting(&stage()).await;
    let request = json!({"approvalRequest": awaiting, "taskToken": "t", "execution": {"Id": EXEC}});
    let sns = FakeNotifier::default();
    let asked =
        notify::handle_recorded(&sns, &NoMetrics, &aborts, Some(&records), &request, T0).await;
    assert!(asked.is_ok(), "{asked:?}");
    assert!(
        records.calls().is_empty(),
        "an approval request is not an ending"
    );
}

#[tokio::test]
async fn a_run_refused_before_it_had_a_valid_stage_says_why_it_has_no_record() {
    let (records, sns, metrics) = (
        FakeRecords::new(),
        FakeNotifier::default(),
        FakeMetrics::default(),
    );
    let event = json!({
        "state": {"gameName": "space raiders", "stageName": "prod",
                  "error": {"Error": "StageGate.InvalidInput", "Cause": "gameName: bad"}},
        "execution": {"Id": EXEC},
    });
    let out = notify::handle_recorded(
        &sns,
        &metrics,
        &FakeAbortRequests::new(),
        Some(&records),
        &event,
        T0,
    )
    .await;
    assert!(out.is_ok(), "{out:?}");
    let body = message_of(&sns.published()[0]);
    assert!(
        body.record_error
            .as_deref()
            .is_some_and(|e| e.contains("gameName")),
        "{:?}",
        body.record_error
    );
    assert!(records.calls().is_empty(), "no key, no call");
    assert!(
        metrics
            .records()
            .iter()
            .all(|r| r.get(FAILURE_METRIC).is_none()),
        "a refused input is not a bucket failure: no count for the alarm"
    );
}

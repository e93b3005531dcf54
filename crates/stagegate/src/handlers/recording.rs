//! Writing a run's decision record (docs/audit.md) before notify-result publishes its ending:
//! list the stage's prefix, read the newest record and hash its bytes, store this run's record
//! naming it. What a record holds and its key are the core's (`stagegate_core::record`); this
//! is the order of the three calls over the `RecordStore` port, and what a failure says.
//!
//! A failure is returned as the sentence the message carries, never as the handler's error: every
//! run must end with a notification, and a notification that says its record is missing is worth
//! more than a record with no notification. The same goes for an EMF count
//! (`DecisionRecordFailures`), so an alarm can page on records that stopped being written.

use serde_json::{json, Value};
use stagegate_core::message::{Message, RecordRef};
use stagegate_core::record::{self, DecisionRecord, RECORD_VERSION};
use time::OffsetDateTime;

use crate::ports::{Metrics, RecordStore};

/// The EMF metric counting records not written (namespace `StageGate`, no dimension).
pub const FAILURE_METRIC: &str = "DecisionRecordFailures";

/// The run a record is written for.
pub struct Run<'a> {
    /// The execution's ARN (or id).
    pub execution: &'a str,
    pub run_id: &'a str,
    pub now: OffsetDateTime,
    /// The message about to be published (its `record` still empty).
    pub message: &'a Message,
    /// The gate state as notify-result received it.
    pub state: &'a Value,
}

/// Why a record was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotWritten {
    /// The run has no valid game and stage to file it under (an input refused before it had
    /// them): said in the message, not counted as a failure, since nothing is broken but the
    /// input (which the message reports already).
    NoStage(String),
    /// The bucket failed (or the record could not be serialised): counted, for an alarm.
    Failed(String),
}

impl NotWritten {
    pub fn why(&self) -> &str {
        match self {
            Self::NoStage(why) | Self::Failed(why) => why,
        }
    }
}

/// Stores the run's record and returns where it is and its hash; or why it could not be.
pub async fn write<S: RecordStore>(store: &S, run: &Run<'_>) -> Result<RecordRef, NotWritten> {
    let (Some(game), Some(stage)) = (&run.message.game_name, &run.message.stage_name) else {
        return Err(NotWritten::NoStage(
            "the run names no game and stage to file it under".into(),
        ));
    };
    let key = record::key(game, stage, run.now, run.execution).map_err(NotWritten::NoStage)?;
    let prefix = record::prefix(game, stage).map_err(NotWritten::NoStage)?;
    let failed = |e: crate::ports::ServiceError| NotWritten::Failed(e.to_string());
    let keys = store.list_keys(&prefix).await.map_err(failed)?;
    // Not its own key: a notify retried within the same second writes the same key again, and a
    // record must not name itself.
    let previous = match record::newest(keys.iter().map(String::as_str).filter(|k| *k != key)) {
        Some(newest) => {
            let bytes = store.get(newest).await.map_err(failed)?;
            Some(RecordRef {
                key: newest.to_owned(),
                sha256: record::sha256_hex(&bytes),
            })
        }
        None => None,
    };
    let decision = DecisionRecord {
        version: RECORD_VERSION,
        key: key.clone(),
        game: game.clone(),
        stage: stage.clone(),
        execution: run.execution.to_owned(),
        run_id: run.run_id.to_owned(),
        recorded_at: run.now,
        verdict: run.message.outcome,
        message: run.message.clone(),
        state: run.state.clone(),
        previous,
    };
    let (bytes, sha256) = decision.to_bytes().map_err(NotWritten::Failed)?;
    store.put(&key, bytes).await.map_err(failed)?;
    Ok(RecordRef { key, sha256 })
}

/// The log line and the EMF count of a record not written.
pub fn report_failure<M: Metrics>(metrics: &M, why: &str, now: OffsetDateTime) {
    tracing::error!(error = %why, metric = FAILURE_METRIC, "decision record not written; the message says so");
    let at_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    metrics.emit(&json!({
        "_aws": {
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": crate::metrics::NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{"Name": FAILURE_METRIC, "Unit": "Count"}],
            }],
        },
        FAILURE_METRIC: 1,
    }));
}

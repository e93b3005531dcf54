//! The durable decision record: what a run decided, kept after Step Functions drops the
//! execution's history (90 days after it closes). notify-result writes one per run ending, to S3,
//! before it publishes; each names the stage's previous record and the SHA-256 of its bytes, so
//! the records of a stage form a hash chain (`chain` checks it) and an edit or a deletion in the
//! middle shows.
//!
//! This module decides what a record holds, where it goes (`key`) and how the published message
//! refers to it (`attach`); it reads and writes nothing. The record embeds the final gate state
//! as a JSON value, not as `GateState`: the state grows (a decision log is being added to it) and
//! the record must keep whatever the run carried, without a release of this type for each field.
//!
//! Keys: `<game>/<stage>/<UTC time, YYYYMMDDTHHMMSSZ>-<execution name>.json`. The game and stage
//! are the input's resource names (`fields::resource_name`: 1-36 of `[A-Za-z0-9_-]`), so neither
//! holds a `/` and a stage's prefix (`<game>/<stage>/`) is never a prefix of another stage's
//! (`dev/` is not a prefix of `dev2/`). A record is only written for names that pass that rule
//! (an input that was refused may carry anything). The execution name is Step Functions' (1-80
//! characters, no `/`, but any Unicode letter); every character outside `[A-Za-z0-9._-]` becomes
//! `_` so a key is plain ASCII that needs no quoting in a URL or a shell. The record carries the
//! exact execution ARN, so nothing is lost by that. The time has a fixed width, so the keys of a
//! stage sort in the order the runs ended (to the second; runs ending in the same second sort by
//! execution name), and "the newest record" is the greatest key under the stage's prefix.

pub mod chain;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::fields;
use crate::message::{Message, RecordRef};
use crate::notification::Notification;
use crate::verdict::Verdict;

/// The record format's version: a reader refuses none it knows, and a change of meaning bumps it.
pub const RECORD_VERSION: u32 = 1;

/// One run's decision, as stored (`to_bytes`). Its `message` is the body the run published, less
/// the `record` member that names this record (a record cannot hold its own hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    pub version: u32,
    /// Where it is stored (`key`); a record found under another key was moved or copied.
    pub key: String,
    pub game: String,
    pub stage: String,
    /// The execution's ARN (its id when the run had no ARN, e.g. a direct invoke).
    pub execution: String,
    /// The run: its execution and start (`token::run_id`).
    pub run_id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub recorded_at: OffsetDateTime,
    pub verdict: Verdict,
    pub message: Message,
    /// The gate state the run ended with, as notify-result received it.
    pub state: serde_json::Value,
    /// The stage's record before this one: null for a stage's first.
    pub previous: Option<RecordRef>,
}

impl DecisionRecord {
    /// The exact bytes to store (pretty JSON and a newline: a person reads these in the console),
    /// and the SHA-256 the next record and the message will name.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, String), String> {
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| format!("writing the decision record as JSON: {e}"))?;
        bytes.push(b'\n');
        let sha = sha256_hex(&bytes);
        Ok((bytes, sha))
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// Lower-case hex SHA-256 of the exact stored bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `<game>/<stage>/`: the stage's records, and nothing of another stage.
pub fn prefix(game: &str, stage: &str) -> Result<String, String> {
    fields::resource_name("gameName", game).map_err(|e| e.to_string())?;
    fields::resource_name("stageName", stage).map_err(|e| e.to_string())?;
    Ok(format!("{game}/{stage}/"))
}

/// The record's key (see the module's doc for the rules); an error when the game or stage is not
/// a resource name.
pub fn key(game: &str, stage: &str, at: OffsetDateTime, execution: &str) -> Result<String, String> {
    let prefix = prefix(game, stage)?;
    let stamp = at
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| format!("formatting the record's time: {e}"))?;
    Ok(format!(
        "{prefix}{stamp}-{}.json",
        safe_name(execution_name(execution))
    ))
}

/// An execution ARN's last part (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`),
/// or the whole id when it is not an ARN.
pub fn execution_name(execution: &str) -> &str {
    execution.rsplit(':').next().unwrap_or(execution)
}

fn safe_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        "unnamed".into()
    } else {
        safe
    }
}

/// The newest key among a stage's keys (the greatest: the keys' times have a fixed width), the
/// one a new record names as its previous. Keys that are not records (no `.json`) are ignored.
pub fn newest<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    keys.into_iter().filter(|k| k.ends_with(".json")).max()
}

/// What the run's message says of its record: where it is and its hash, or why it was not
/// written (in `recordError` and in the summary a person reads; the message goes out either way).
pub fn attach(
    notification: &mut Notification,
    body: &mut Message,
    written: Result<RecordRef, String>,
) {
    match written {
        Ok(reference) => body.record = Some(reference),
        Err(why) => {
            let sentence = format!(
                " The decision record was not written: {}.",
                why.trim_end_matches('.')
            );
            body.summary.push_str(&sentence);
            notification.summary.push_str(&sentence);
            body.record_error = Some(why);
        }
    }
    if let Ok(text) = serde_json::to_string(&body) {
        notification.message = text;
    }
}

#[cfg(test)]
mod tests;

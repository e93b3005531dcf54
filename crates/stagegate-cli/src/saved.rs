//! An execution's history as a file, and what `explain` and `replay` read in it: the newest gate
//! state (whose decision record is the run's story) and the notification the run published.
//!
//! One form for both sources, so a run is explained the same whether its history came from Step
//! Functions or from disk: the events in `aws stepfunctions get-execution-history`'s JSON
//! (`{"events": [...]}`, camelCase), of which only what the answers need is kept (the rest of an
//! event is ignored on reading). `stagegate explain --save-history` writes that form too, with the
//! execution's ARN on top; `trimmed` cuts a history to the few events the answers are in, which
//! is what the committed golden histories hold.
//!
//! Reading from AWS goes newest first and stops at the first page holding a gate state, as the
//! other questions about a run's present do (`history::read_back_with`): a long run's history is
//! not read whole to find its last state.

use std::path::Path;
use std::time::Duration;

use aws_sdk_sfn::types::HistoryEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stagegate::state::GateState;

use crate::history::{self, error_text};

/// A history as `get-execution-history` prints it, with the execution's ARN when known.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedHistory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    pub events: Vec<Event>,
}

/// One history event: the members the answers need, in the API's JSON names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: i64,
    /// As the source wrote it (the CLI writes RFC 3339; `aws` may write a number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Value>,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_entered_event_details: Option<Details>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_exited_event_details: Option<Details>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_failed_event_details: Option<Details>,
}

/// The details members of the kinds kept (a state's name with its input or output; a failure's
/// error and cause): one lenient type for all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// The event types that end an execution, with the status Step Functions gives it: kept by
/// `trimmed`, they say how it ended.
const ENDINGS: [(&str, &str); 4] = [
    ("ExecutionSucceeded", "SUCCEEDED"),
    ("ExecutionFailed", "FAILED"),
    ("ExecutionAborted", "ABORTED"),
    ("ExecutionTimedOut", "TIMED_OUT"),
];

fn ending_status(kind: &str) -> Option<&'static str> {
    ENDINGS.iter().find(|(k, _)| *k == kind).map(|(_, s)| *s)
}

impl Event {
    pub fn of(e: &HistoryEvent) -> Self {
        let timestamp = e.timestamp().and_then(|t| {
            let nanos = i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
            time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .ok()
                .map(|t| Value::String(stagegate::timefmt::rfc3339(t)))
        });
        Self {
            id: e.id(),
            timestamp,
            kind: e
                .r#type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            state_entered_event_details: e.state_entered_event_details().map(|d| Details {
                name: d.name().map(str::to_owned),
                input: d.input().map(str::to_owned),
                ..Details::default()
            }),
            state_exited_event_details: e.state_exited_event_details().map(|d| Details {
                name: d.name().map(str::to_owned),
                output: d.output().map(str::to_owned),
                ..Details::default()
            }),
            execution_failed_event_details: e.execution_failed_event_details().map(|d| Details {
                error: d.error().map(str::to_owned),
                cause: d.cause().map(str::to_owned),
                ..Details::default()
            }),
        }
    }

    /// The JSON document the event carries: a state's input on entry, its output on exit.
    fn document(&self) -> Option<&str> {
        self.state_exited_event_details
            .as_ref()
            .and_then(|d| d.output.as_deref())
            .or_else(|| {
                self.state_entered_event_details
                    .as_ref()
                    .and_then(|d| d.input.as_deref())
            })
    }
}

/// What a history says of its run.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    /// The newest gate state (None: the run never had one, e.g. its input was refused).
    pub state: Option<GateState>,
    /// What notify-result published (`$.notification`: outcome, subject, cause, messageId).
    pub notification: Option<Value>,
    /// How the execution ended (`SUCCEEDED`, `FAILED StageGate.ROLLED_BACK`, ...); None while it
    /// runs, or when the events read do not reach its end.
    pub ending: Option<String>,
}

/// A document that is a gate state by its shape (an object with a `phase`): the accepted input
/// and a refused run's error document are not.
fn gate_value(text: &str) -> Option<Value> {
    let value: Value = serde_json::from_str(text).ok()?;
    value.get("phase")?.as_str()?;
    Some(value)
}

impl SavedHistory {
    pub fn of(execution_arn: &str, events: &[HistoryEvent]) -> Self {
        Self {
            execution_arn: Some(execution_arn.to_owned()),
            events: events.iter().map(Event::of).collect(),
        }
    }

    /// A history file: `get-execution-history`'s JSON, or one `stagegate` saved.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not an execution history (`{{\"events\": [...]}}`, as `aws stepfunctions \
                 get-execution-history` prints it): {e}",
                path.display()
            )
        })
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| format!("writing the history as JSON: {e}"))?;
        std::fs::write(path, text + "\n").map_err(|e| format!("writing {}: {e}", path.display()))
    }

    /// The events, newest first (ids grow with time, whatever order the source used).
    fn newest_first(&self) -> Vec<&Event> {
        let mut events: Vec<&Event> = self.events.iter().collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.id));
        events
    }

    /// The newest gate state, the notification and the ending. A document shaped as a gate state
    /// that does not read as one is passed over for an older one; if none reads, that is the
    /// error (naming why the newest did not).
    pub fn said(&self) -> Result<Said, String> {
        let mut notification = None;
        let mut ending = None;
        let mut unreadable = None;
        for event in self.newest_first() {
            if let (None, Some(status)) = (&ending, ending_status(&event.kind)) {
                let error = event
                    .execution_failed_event_details
                    .as_ref()
                    .and_then(|d| d.error.as_deref());
                ending = Some(match error {
                    Some(e) => format!("{status} {e}"),
                    None => status.to_owned(),
                });
            }
            let Some(value) = event.document().and_then(gate_value) else {
                continue;
            };
            if notification.is_none() {
                notification = value.get("notification").filter(|n| n.is_object()).cloned();
            }
            match serde_json::from_value::<GateState>(value) {
                Ok(state) => {
                    return Ok(Said {
                        state: Some(state),
                        notification,
                        ending,
                    });
                }
                Err(e) => {
                    unreadable.get_or_insert_with(|| format!("event {}: {e}", event.id));
                }
            }
        }
        match unreadable {
            Some(why) => Err(format!(
                "the history's gate states do not read as this version's GateState ({why})"
            )),
            None => Ok(Said {
                state: None,
                notification,
                ending,
            }),
        }
    }

    /// The history cut to what `said` reads: the start, the newest gate state's event, the
    /// notification's, and the ending.
    pub fn trimmed(&self) -> Self {
        let newest_state = self
            .newest_first()
            .into_iter()
            .find(|e| e.document().and_then(gate_value).is_some())
            .map(|e| e.id);
        let notified = self
            .newest_first()
            .into_iter()
            .find(|e| {
                e.document()
                    .and_then(gate_value)
                    .is_some_and(|v| v.get("notification").is_some_and(Value::is_object))
            })
            .map(|e| e.id);
        let events = self
            .events
            .iter()
            .filter(|e| {
                e.kind == "ExecutionStarted"
                    || ending_status(&e.kind).is_some()
                    || Some(e.id) == newest_state
                    || Some(e.id) == notified
            })
            .cloned()
            .collect();
        Self {
            execution_arn: self.execution_arn.clone(),
            events,
        }
    }
}

/// Reads an execution's history from Step Functions, newest first, as far back as its newest
/// gate state (the whole history when it has none); `pause` before each page keeps a series of
/// reads (`replay --since`) well under GetExecutionHistory's rate.
pub async fn fetch(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
    pause: Duration,
) -> Result<SavedHistory, String> {
    let page = |token: Option<String>| async move {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let page = history::newest_first(sfn, arn, history::RECENT_PAGE, token)
            .await
            .map_err(|e| format!("GetExecutionHistory: {}", error_text(&e)))?;
        let events: Vec<Event> = page
            .events()
            .unwrap_or_default()
            .iter()
            .map(Event::of)
            .collect();
        Ok((events, page.next_token().map(str::to_owned)))
    };
    let mut events = history::read_back_with(page, |read: &[Event]| {
        read.iter()
            .any(|e| e.document().and_then(gate_value).is_some())
    })
    .await?;
    events.sort_by_key(|e| e.id);
    Ok(SavedHistory {
        execution_arn: Some(arn.to_owned()),
        events,
    })
}

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
pub(crate) mod tests;

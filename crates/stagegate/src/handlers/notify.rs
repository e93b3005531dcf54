//! notify-result: publish exactly one message for the run's outcome and tell the workflow how to
//! end.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::recording;
use crate::error::GateError;
use crate::metrics::emf_record;
use crate::notification::{render, render_with_body, Report};
use crate::ports::{AbortRequests, Metrics, NoAbortRequests, Notifier, RecordStore, RecordsOff};
use crate::state::GateState;
use crate::verdict::{verdict, CaughtError, Verdict};

/// What the workflow's last Choice and Fail states read (and the CLI prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyOutput {
    pub outcome: Verdict,
    pub succeeded: bool,
    /// Fail state `Error`.
    pub error: String,
    /// Fail state `Cause`: the summary, with GameSparks' message.
    pub cause: String,
    pub subject: String,
    pub message_id: String,
}

/// Accepts `{"state": ..., "execution": $$.Execution}` or the state alone. The state is a gate
/// state, or whatever a Catch saw (`error: {Error, Cause}` added to the failing task's input).
pub async fn handle<N: Notifier>(
    notifier: &N,
    event: &Value,
    now: OffsetDateTime,
) -> Result<NotifyOutput, GateError> {
    handle_with(
        notifier,
        &crate::telemetry::NoMetrics,
        &NoAbortRequests,
        event,
        now,
    )
    .await
}

/// `handle`, emitting the run's metrics record once its ending is published (what `main` calls).
/// Not before: a run counted in `Runs` is one whose notification went out, so the dashboard's
/// lost notifications are the runs started and never counted. Not for approval requests, which
/// are not endings. Then the run's abort request, if any, is deleted: nothing reads it once the
/// ending is out.
pub async fn handle_with<N: Notifier, M: Metrics, R: AbortRequests>(
    notifier: &N,
    metrics: &M,
    aborts: &R,
    event: &Value,
    now: OffsetDateTime,
) -> Result<NotifyOutput, GateError> {
    handle_recorded(notifier, metrics, aborts, None::<&RecordsOff>, event, now).await
}

/// `handle_with`, writing the run's decision record first when `records` is on (the bucket
/// variable set; docs/audit.md): the published message then carries the record's key and hash,
/// or why it was not written. Approval requests are not endings and write none.
pub async fn handle_recorded<N: Notifier, M: Metrics, R: AbortRequests, S: RecordStore>(
    notifier: &N,
    metrics: &M,
    aborts: &R,
    records: Option<&S>,
    event: &Value,
    now: OffsetDateTime,
) -> Result<NotifyOutput, GateError> {
    if let Some(state) = event.get("approvalRequest") {
        return request_approval(notifier, state, event.get("execution"), now).await;
    }
    let (state_value, execution) = match event.get("state") {
        Some(state) => (state, event.get("execution")),
        None => (event, None),
    };
    let mut caught = state_value
        .get("error")
        .filter(|e| e.is_object())
        .map(CaughtError::from_catch);
    let gate = match crate::handlers::parse_state(state_value) {
        Ok(state) => Some(state),
        Err(_) if caught.is_some() => None,
        // Still publish: an unreadable state must not turn into a silent ending.
        Err(invalid) => {
            caught = Some(CaughtError {
                error: crate::error::types::INVALID_INPUT.into(),
                cause: format!("notify-result could not read the gate state: {invalid}"),
            });
            None
        }
    };
    let execution_id = execution
        .and_then(|e| e.get("Id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| gate.as_ref().map(|g| g.execution_id.clone()))
        .unwrap_or_else(|| "unknown".into());
    let outcome = verdict(gate.as_ref(), caught.as_ref());
    let (mut notification, mut body) = render_with_body(&Report {
        verdict: outcome,
        state: gate.as_ref(),
        error: caught.as_ref(),
        fallback_game: fallback_name(state_value, "gameName"),
        fallback_stage: fallback_name(state_value, "stageName")
            .or_else(|| first_stage(state_value)),
        execution_id: execution_id.clone(),
        now,
    });
    if let Some(store) = records {
        let run = recording::Run {
            execution: &execution_id,
            run_id: gate.as_ref().map_or(execution_id.as_str(), GateState::run),
            now,
            message: &body,
            state: state_value,
        };
        let written = recording::write(store, &run).await;
        if let Err(recording::NotWritten::Failed(why)) = &written {
            recording::report_failure(metrics, why, now);
        }
        let written = written.map_err(|e| e.why().to_owned());
        stagegate_core::record::attach(&mut notification, &mut body, written);
    }
    let message_id = notifier
        .publish(&notification)
        .await
        .map_err(GateError::Notification)?;
    tracing::info!(
        outcome = outcome.as_str(),
        message_id = %message_id,
        subject = %notification.subject,
        "notification published"
    );
    if let Some(cost) = &body.cost {
        let at_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        metrics.emit(&emf_record(&body, gate.as_ref(), cost, at_ms));
    }
    // Best effort: the ending is published; a request left behind belongs to this run alone.
    if let Some(run) = gate.as_ref().map(GateState::run) {
        if let Err(e) = aborts.clear_abort_request(run).await {
            tracing::warn!(error = %e, "the run's abort request could not be deleted");
        }
    }
    Ok(NotifyOutput {
        outcome,
        succeeded: outcome.is_success(),
        error: outcome.fail_error(),
        cause: notification.summary,
        subject: notification.subject,
        message_id,
    })
}

/// Publishes what awaits approval (`{"approvalRequest": <gate state>, "taskToken": ...}`, the
/// workflow's wait). The token is not published: answering needs `states:SendTaskSuccess` and
/// the execution's history, which is where `stagegate approve` finds it. A state that is not
/// awaiting approval is an error: the wait then fails and the run ends with nothing deployed.
async fn request_approval<N: Notifier>(
    notifier: &N,
    state: &Value,
    execution: Option<&Value>,
    now: OffsetDateTime,
) -> Result<NotifyOutput, GateError> {
    let gate = crate::handlers::parse_state(state).map_err(|mut e| {
        e.field = format!("approvalRequest.{}", e.field);
        e
    })?;
    if gate.action != crate::policy::Action::Approve || gate.approval.is_none() {
        return Err(crate::fields::InvalidInput::new(
            "approvalRequest.action",
            "must be a gate state awaiting approval (action \"approve\")",
        )
        .into());
    }
    let execution_id = execution
        .and_then(|e| e.get("Id"))
        .and_then(Value::as_str)
        .map_or_else(|| gate.execution_id.clone(), str::to_owned);
    let outcome = Verdict::AwaitingApproval;
    let notification = render(&Report {
        verdict: outcome,
        state: Some(&gate),
        error: None,
        fallback_game: None,
        fallback_stage: None,
        execution_id,
        now,
    });
    let message_id = notifier
        .publish(&notification)
        .await
        .map_err(GateError::Notification)?;
    tracing::info!(stage = %gate.stage(), message_id = %message_id, "approval requested");
    Ok(NotifyOutput {
        outcome,
        succeeded: false,
        error: outcome.fail_error(),
        cause: notification.summary,
        subject: notification.subject,
        message_id,
    })
}

/// A promotion wave refused before it had a state names its first stage (`stages[0]`, a name or
/// `{"stageName": ...}`), not "UNKNOWN".
fn first_stage(state: &Value) -> Option<String> {
    let first = state
        .get("stages")
        .or_else(|| state.get("input").and_then(|i| i.get("stages")))?
        .get(0)?;
    first
        .as_str()
        .or_else(|| first.get("stageName").and_then(Value::as_str))
        .map(str::to_owned)
}

/// Names from a state that failed validation, for the message's subject and attributes.
fn fallback_name(state: &Value, key: &str) -> Option<String> {
    state
        .get(key)
        .or_else(|| state.get("input").and_then(|i| i.get(key)))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

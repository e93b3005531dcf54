//! Whether the gate takes an answer to its approval: only one the answer function signed for
//! this run, this stage and this approval, or the wait's own timeout once the approval expired.
//!
//! Holding `states:SendTaskSuccess` and the task token (it is in the execution history) is
//! enough to answer the wait, so the wait's answer alone proves nothing about who gave it. A
//! refused answer does not end the run: the run goes back to waiting for what is left of the
//! approval's time (`approval.waitSeconds`, the workflow's `TimeoutSecondsPath`), with the
//! refusal kept in the state and logged, so a forged "approve" deploys nothing and a forged
//! "reject" or "timeout" ends nothing. A key that cannot be read fails the task as retryable:
//! an answer is never taken unverified.

use crate::approval::{Answer, Decision, RefusedAnswer};
use crate::error::GateError;
use crate::policy::{Action, Phase};
use crate::ports::{AbortRequests, ServiceError, ServiceErrorKind};
use crate::state::GateState;

/// What `answered` does with the answer.
#[derive(Debug)]
pub(crate) enum Checked {
    /// The gate takes it (a verified answer, or the timeout of an expired approval).
    Take(Answer),
    /// Refused: the state, waiting again, is the task's result.
    Refused,
}

/// Checks `answer` against `state` (awaiting approval) and the key `aborts` reads; a refusal
/// turns `state` back into a wait.
pub(crate) async fn check<R: AbortRequests>(
    aborts: &R,
    state: &mut GateState,
    answer: Answer,
    now: time::OffsetDateTime,
) -> Result<Checked, GateError> {
    let Some(approval) = state.approval.clone() else {
        return Ok(Checked::Take(answer));
    };
    let why = if answer.decision == Decision::TimedOut {
        // The workflow's Catch writes no signature; anyone could send the same JSON. Only an
        // approval whose time is up can have timed out.
        (now < approval.expires_at).then(|| {
            format!(
                "a timeout before the approval expires ({})",
                crate::timefmt::rfc3339(approval.expires_at)
            )
        })
    } else {
        refusal(aborts, state, &answer).await?
    };
    let Some(why) = why else {
        return Ok(Checked::Take(answer));
    };
    let claimed = answer.by.clone();
    record_refusal(state, &answer, now, &why);
    tracing::warn!(stage = %state.stage(), decision = answer.decision.as_str(), by = claimed.as_deref().unwrap_or("unnamed"), %why, "approval answer refused");
    let Some(remaining) = approval.remaining_seconds(now) else {
        // Less than the shortest wait is left: as good as timed out. The refusal stays on
        // record; the run ends APPROVAL_TIMED_OUT, not as the refused answer asked.
        if let Some(a) = state.approval.as_mut() {
            a.refuse(refused(&answer, now, why));
        }
        let timed_out = Answer {
            decision: Decision::TimedOut,
            by: None,
            reason: None,
            at: now,
            signature: None,
        };
        return Ok(Checked::Take(timed_out));
    };
    let (snapshot, stage) = (
        state.deployment.snapshot_id.clone(),
        state.stage_name.clone(),
    );
    if let Some(a) = state.approval.as_mut() {
        a.refuse(refused(&answer, now, why.clone()));
        a.wait_seconds = remaining;
        state.reason = format!(
            "refused an answer ({}, claimed by {}): {why}; still awaiting approval of {snapshot} \
             on {stage} until {}",
            answer.decision.as_str(),
            claimed.as_deref().unwrap_or("nobody"),
            crate::timefmt::rfc3339(a.expires_at)
        );
    }
    state.phase = Phase::Approval;
    state.action = Action::Approve;
    state.wait_seconds = 0;
    Ok(Checked::Refused)
}

/// The refusal in the run's decision log (`stagegate explain` tells it).
fn record_refusal(state: &mut GateState, answer: &Answer, now: time::OffsetDateTime, why: &str) {
    let entry = crate::evidence::Entry {
        at: now,
        stage_name: state.stage_name.clone(),
        evidence: crate::evidence::Evidence::Refused {
            decision: answer.decision,
            claimed_by: answer.by.as_deref().map(crate::evidence::cut),
            why: crate::evidence::cut(why),
        },
        decided: Action::Approve,
        reason: format!("refused an answer: {why}"),
    };
    state.decisions.push(entry);
}

fn refused(answer: &Answer, now: time::OffsetDateTime, why: String) -> RefusedAnswer {
    RefusedAnswer {
        by: answer.by.clone(),
        decision: answer.decision,
        at: now,
        why,
    }
}

/// Why a person's answer is refused, if it is: None when its signature is the key's over this
/// run, stage and approval.
async fn refusal<R: AbortRequests>(
    aborts: &R,
    state: &GateState,
    answer: &Answer,
) -> Result<Option<String>, GateError> {
    let Some(approval) = state.approval.as_ref() else {
        return Ok(None);
    };
    let Some(signature) = answer.signature.as_deref() else {
        return Ok(Some(
            "it is not signed (answers go through the answer function, which signs them)".into(),
        ));
    };
    let key = match aborts.answer_key(state.run()).await {
        Ok(Some(text)) => key_bytes(&text)?,
        Ok(None) => {
            return Ok(Some(
                "no answer key exists, so nothing could have signed it".into(),
            ))
        }
        Err(e) => return Err(unreadable(e)),
    };
    let signed = answer.signed(state.run(), approval);
    match crate::approval::signature::verify(&key, &signed, signature) {
        Ok(true) => Ok(None),
        Ok(false) => Ok(Some(
            "its signature is not the answer function's for this run, stage and approval".into(),
        )),
        Err(weak) => Err(GateError::Configuration(weak.to_string())),
    }
}

/// The key's bytes from its parameter value (base64, as the answer function writes it).
pub fn key_bytes(text: &str) -> Result<Vec<u8>, GateError> {
    aws_smithy_types::base64::decode(text.trim())
        .map_err(|e| GateError::Configuration(format!("the answer key is not base64: {e}")))
}

/// Whatever stops the key being read is retried: never decide on an answer unverified.
fn unreadable(e: ServiceError) -> GateError {
    let kind = if e.kind.is_retryable() {
        e.kind
    } else {
        ServiceErrorKind::Internal
    };
    GateError::service(
        "reading the answer key (an answer is never taken unverified)",
        ServiceError { kind, ..e },
    )
}

//! answer-approval: a person's answer to an approval, from the one caller the gate believes.
//!
//! The function is served by a Lambda function URL with AuthType AWS_IAM: Lambda verifies the
//! caller's SigV4 signature and puts the caller's ARN in `requestContext.authorizer.iam.userArn`
//! before this runs. The function finds the pending `AwaitApproval` wait in the execution's
//! history itself (operators no longer need the token, nor `states:SendTaskSuccess`), signs the
//! answer with that verified ARN as `by` (`approval::signature`), and sends it. The gate takes
//! only answers signed this way (`verify_answer`), so whoever else holds SendTaskSuccess cannot
//! answer as someone else. The task token is never logged nor returned.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::approval::signature::{self, KEY_BYTES};
use crate::approval::wait::{self, Step};
use crate::approval::{
    answer_key_parameter_name, Answer, Decision, MAX_IDENTITY_BYTES, MAX_REASON_BYTES,
};
use crate::clock::Clock;
use crate::ports::{AnswerKeys, ApprovalWaits, ServiceError, ServiceErrorKind};
use crate::state::GateState;

/// A history page is at most 100 events and a history at most 25,000: the pending wait is in the
/// newest few, so this bound only stops a loop.
const MAX_PAGES: usize = 251;

/// What the caller asks (the request body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Request {
    execution_arn: String,
    decision: String,
    #[serde(default)]
    reason: Option<String>,
}

/// The function URL's reply: a status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"error": message.into()}),
        }
    }

    /// As Lambda expects a function URL's result.
    pub fn into_response(self) -> Value {
        json!({
            "statusCode": self.status,
            "headers": {"content-type": "application/json"},
            "body": self.body.to_string(),
        })
    }
}

/// Answers the approval `event` (a function URL request) asks for. `fresh_key` makes a new key
/// (32 random bytes) when none exists yet.
pub async fn handle<W: ApprovalWaits, K: AnswerKeys>(
    waits: &W,
    keys: &K,
    fresh_key: impl FnOnce() -> Result<[u8; KEY_BYTES], String>,
    event: &Value,
    clock: &impl Clock,
) -> Reply {
    match answer(waits, keys, fresh_key, event, clock).await {
        Ok(reply) | Err(reply) => reply,
    }
}

async fn answer<W: ApprovalWaits, K: AnswerKeys>(
    waits: &W,
    keys: &K,
    fresh_key: impl FnOnce() -> Result<[u8; KEY_BYTES], String>,
    event: &Value,
    clock: &impl Clock,
) -> Result<Reply, Reply> {
    let by = caller(event)?;
    let request = request(event)?;
    let decision = match request.decision.to_ascii_lowercase().as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        "abort" => Decision::Abort,
        _ => {
            return Err(Reply::error(
                400,
                format!(
                    "decision must be \"approve\", \"reject\" or \"abort\", got {:?}",
                    request.decision
                ),
            ))
        }
    };
    if let Some(r) = request
        .reason
        .as_deref()
        .filter(|r| r.len() > MAX_REASON_BYTES)
    {
        return Err(Reply::error(
            400,
            format!(
                "reason must be at most {MAX_REASON_BYTES} bytes in UTF-8, got {}",
                r.len()
            ),
        ));
    }
    let arn = request.execution_arn.as_str();
    if !arn.starts_with("arn:") || !arn.contains(":states:") || !arn.contains(":execution:") {
        return Err(Reply::error(
            400,
            format!("executionArn must be a Step Functions execution ARN, got {arn:?}"),
        ));
    }
    let pending = pending(waits, arn).await?;
    let state = super::parse_state(&pending.request).map_err(|e| {
        Reply::error(
            409,
            format!("the wait of {arn} holds no gate state the gate would read: {e}"),
        )
    })?;
    let Some(approval) = state.approval.as_ref().filter(|a| a.answer.is_none()) else {
        return Err(Reply::error(
            409,
            format!("{arn} is not waiting for an approval"),
        ));
    };
    let key = signing_key(keys, &answer_key_parameter_name(arn), fresh_key).await?;
    let answer = Answer {
        decision,
        by: Some(by.clone()),
        reason: request.reason.clone(),
        at: clock.now(),
        signature: None,
    };
    let answer = sign(&key, &state, answer).map_err(|e| Reply::error(500, e.to_string()))?;
    let output = serde_json::to_string(&answer)
        .map_err(|e| Reply::error(500, format!("the answer could not be written: {e}")))?;
    if let Err(e) = waits.send_answer(&pending.token, &output).await {
        return Err(sent_error(arn, e));
    }
    tracing::info!(execution = %arn, stage = %state.stage(), decision = decision.as_str(), %by, "approval answered");
    Ok(Reply {
        status: 200,
        body: json!({
            "executionArn": arn,
            "stageName": approval.stage_name,
            "snapshotId": state.deployment.snapshot_id,
            "decision": decision,
            "by": by,
            "at": crate::timefmt::rfc3339(answer.at),
        }),
    })
}

/// `answer` signed for the approval `state` waits for, with `key`: what this function sends (and
/// what the simulator's answer function does). A state with no approval signs nothing.
pub fn sign(
    key: &[u8],
    state: &GateState,
    mut answer: Answer,
) -> Result<Answer, signature::WeakKey> {
    if let Some(approval) = state.approval.as_ref() {
        answer.signature = Some(signature::sign(key, &answer.signed(state.run(), approval))?);
    }
    Ok(answer)
}

/// A key as its parameter holds it (base64).
pub fn key_text(key: &[u8]) -> String {
    aws_smithy_types::base64::encode(key)
}

/// The caller IAM verified; none (a URL without AWS_IAM auth, a direct invoke) is refused.
fn caller(event: &Value) -> Result<String, Reply> {
    let arn = event
        .pointer("/requestContext/authorizer/iam/userArn")
        .and_then(Value::as_str)
        .filter(|a| !a.trim().is_empty());
    match arn {
        Some(a) if a.len() <= MAX_IDENTITY_BYTES => Ok(a.to_owned()),
        Some(a) => Err(Reply::error(
            403,
            format!(
                "the caller's ARN has {} bytes, more than {MAX_IDENTITY_BYTES}",
                a.len()
            ),
        )),
        None => Err(Reply::error(
            403,
            "no IAM identity: answers are taken only through the function URL with AuthType \
             AWS_IAM (sign the request with SigV4, service lambda)",
        )),
    }
}

fn request(event: &Value) -> Result<Request, Reply> {
    let body = event
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let text = if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        let bytes = aws_smithy_types::base64::decode(body)
            .map_err(|e| Reply::error(400, format!("the body is not base64: {e}")))?;
        String::from_utf8(bytes).map_err(|_| Reply::error(400, "the body is not UTF-8 text"))?
    } else {
        body.to_owned()
    };
    serde_json::from_str(&text).map_err(|e| {
        Reply::error(
            400,
            format!(
                "the body must be {{\"executionArn\", \"decision\": \"approve\"|\"reject\"|\"abort\", \"reason\"}}: {e}"
            ),
        )
    })
}

/// The run's open approval wait, from its history read newest first.
async fn pending<W: ApprovalWaits>(waits: &W, arn: &str) -> Result<wait::PendingWait, Reply> {
    let mut read: Vec<(i64, Step)> = vec![];
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = waits
            .recent_steps(arn, token)
            .await
            .map_err(|e| match e.kind {
                ServiceErrorKind::NotFound => Reply::error(404, format!("{arn}: {e}")),
                _ => upstream(&e),
            })?;
        read.extend(page.items);
        token = page.next_token;
        let steps: Vec<Step> = read.iter().map(|(_, s)| s.clone()).collect();
        if token.is_none() || wait::has_gate_state(&steps) {
            break;
        }
    }
    // Event ids grow with time: chronological whatever order the pages came in.
    read.sort_by_key(|(id, _)| *id);
    let chronological: Vec<Step> = read.into_iter().map(|(_, s)| s).collect();
    wait::pending_wait(&chronological)
        .ok_or_else(|| Reply::error(409, format!("{arn} is not waiting for an approval")))
}

/// The key: read, or created on first use (and read again if another call created it first).
async fn signing_key<K: AnswerKeys>(
    keys: &K,
    name: &str,
    fresh_key: impl FnOnce() -> Result<[u8; KEY_BYTES], String>,
) -> Result<Vec<u8>, Reply> {
    let bytes = |text: &str| {
        super::verify_answer::key_bytes(text).map_err(|e| Reply::error(500, e.to_string()))
    };
    if let Some(text) = keys.read_key(name).await.map_err(|e| upstream(&e))? {
        return bytes(&text);
    }
    let fresh = fresh_key().map_err(|e| Reply::error(500, format!("no random key: {e}")))?;
    let text = key_text(&fresh);
    if keys
        .create_key(name, &text)
        .await
        .map_err(|e| upstream(&e))?
    {
        tracing::info!("created the answer key");
        return Ok(fresh.to_vec());
    }
    match keys.read_key(name).await.map_err(|e| upstream(&e))? {
        Some(text) => bytes(&text),
        None => Err(Reply::error(
            503,
            "the answer key exists but could not be read yet; try again",
        )),
    }
}

/// An AWS call that failed: retryable ones are 503 (try again), the rest 502.
fn upstream(e: &ServiceError) -> Reply {
    let status = if e.kind.is_retryable() { 503 } else { 502 };
    Reply::error(status, e.to_string())
}

/// SendTaskSuccess refused: the wait is over (a colleague answered, the timeout fired) or the
/// call failed.
fn sent_error(arn: &str, e: ServiceError) -> Reply {
    match e.code.as_deref() {
        Some(code @ ("TaskTimedOut" | "TaskDoesNotExist" | "InvalidToken")) => Reply {
            status: 409,
            body: json!({
                "error": format!(
                    "the wait of {arn} ended before the answer arrived ({code}); `stagegate follow` shows how"
                ),
                "code": code,
            }),
        },
        _ => upstream(&e),
    }
}

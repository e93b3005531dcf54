//! Approvals and aborts: a person's say in a run, and what the gate does with it.
//!
//! A stage that asks for approval is not deployed until someone approves it. The workflow waits
//! on a task token with the approval's timeout; the answer (or the timeout) comes back as data and
//! is decided here, so a rejection, a timeout, an abort and an answer nobody can read all end the
//! run with nothing deployed on that stage. An abort of a stage being deployed or baked arrives
//! through a request the poll reads (`AbortRequest`), and turns the run into a rollback.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::fields::InvalidInput;

pub mod signature;
pub mod wait;

/// The bounds of `approval.timeoutSeconds`: at least a minute for a person to answer, at most a
/// day (a run waiting longer holds its stage's slot in the operators' heads, not in GameSparks).
pub const MIN_TIMEOUT_SECONDS: u64 = 60;
pub const MAX_TIMEOUT_SECONDS: u64 = 86_400;
/// `--reason` and the answerer's identity are carried in the state and the message.
pub const MAX_REASON_BYTES: usize = 1_024;
pub const MAX_IDENTITY_BYTES: usize = 2_048;

/// An approval asked for in the input (the whole run's, or one stage's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApprovalSpec {
    /// How long the run waits for an answer before it ends `APPROVAL_TIMED_OUT`
    /// (`MIN_TIMEOUT_SECONDS..=MAX_TIMEOUT_SECONDS`, checked where the input is read).
    pub timeout_seconds: u64,
}

/// What a person (or the clock) answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Approve,
    Reject,
    /// `stagegate abort` while the run waited: it ends with nothing deployed on the stage.
    Abort,
    /// Nobody answered within the timeout.
    TimedOut,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "APPROVE",
            Self::Reject => "REJECT",
            Self::Abort => "ABORT",
            Self::TimedOut => "TIMED_OUT",
        }
    }
}

/// An answer as `stagegate approve|reject|abort` sends it (`SendTaskSuccess` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Answer {
    pub decision: Decision,
    /// The answerer's identity as the CLI found it (STS GetCallerIdentity's ARN); CloudTrail
    /// holds the authoritative record of the SendTaskSuccess call.
    pub by: Option<String>,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: OffsetDateTime,
    /// The answer function's signature (`signature`): the gate takes no answer without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Answer {
    /// What the signature of this answer to `approval` of the run `run` covers.
    pub fn signed<'a>(&'a self, run: &'a str, approval: &'a Approval) -> signature::Signed<'a> {
        signature::Signed {
            run,
            stage: &approval.stage_name,
            requested_at: approval.requested_at,
            decision: self.decision,
            by: self.by.as_deref().unwrap_or_default(),
            at: self.at,
            reason: self.reason.as_deref(),
        }
    }
}

/// How many refused answers a state keeps: enough to see who tried, bounded so that someone
/// sending answers in a loop cannot grow the state past Step Functions' 256 KB.
pub const MAX_REFUSED: usize = 5;

/// An answer the gate did not take (unsigned, signed for something else, a timeout before the
/// approval expired): the run went on waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefusedAnswer {
    /// Who the answer claimed to be from: a claim, not an identity.
    pub by: Option<String>,
    pub decision: Decision,
    /// When the gate refused it.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: OffsetDateTime,
    pub why: String,
}

/// The approval the run asked for on its current stage, and its answer once there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub stage_name: String,
    /// Read by the workflow's wait (`TimeoutSecondsPath`).
    pub timeout_seconds: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub expires_at: OffsetDateTime,
    /// The snapshot the stage served when the approval was asked for.
    pub serving_snapshot_id: Option<String>,
    pub answer: Option<Answer>,
    /// How long the current wait lasts (the workflow's `TimeoutSecondsPath`): the whole timeout
    /// at first, what is left of it once an answer was refused. A state from before this field
    /// had none: 0, and its wait read `timeoutSeconds`.
    #[serde(default)]
    pub wait_seconds: u64,
    /// The newest answers refused (at most `MAX_REFUSED`), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedAnswer>,
}

impl Approval {
    pub fn request(
        stage_name: &str,
        spec: ApprovalSpec,
        serving: Option<&str>,
        now: OffsetDateTime,
    ) -> Self {
        let timeout = i64::try_from(spec.timeout_seconds).unwrap_or(i64::MAX);
        Self {
            stage_name: stage_name.to_owned(),
            timeout_seconds: spec.timeout_seconds,
            requested_at: now,
            expires_at: now + Duration::seconds(timeout),
            serving_snapshot_id: serving.map(str::to_owned),
            answer: None,
            wait_seconds: spec.timeout_seconds,
            refused: vec![],
        }
    }

    /// Whole seconds left until the approval expires, if a person can still be given the
    /// workflow's shortest wait (`MIN_TIMEOUT_SECONDS`); None: it is as good as timed out.
    pub fn remaining_seconds(&self, now: OffsetDateTime) -> Option<u64> {
        let left = (self.expires_at - now).whole_seconds();
        u64::try_from(left)
            .ok()
            .filter(|s| *s >= MIN_TIMEOUT_SECONDS)
    }

    /// Keeps `refused`, dropping the oldest beyond `MAX_REFUSED`.
    pub fn refuse(&mut self, refused: RefusedAnswer) {
        self.refused.push(refused);
        let excess = self.refused.len().saturating_sub(MAX_REFUSED);
        self.refused.drain(..excess);
    }

    pub fn approved(&self) -> bool {
        self.answer
            .as_ref()
            .is_some_and(|a| a.decision == Decision::Approve)
    }
}

/// Reads what the workflow put at `$.approvalAnswer`: the CLI's answer, or the Catch of the
/// wait's timeout (`{"Error": "States.Timeout", ...}`). Anything else is an error that names the
/// field: an answer nobody can read never deploys.
pub fn parse_answer(value: &Value, now: OffsetDateTime) -> Result<Answer, InvalidInput> {
    const FIELD: &str = "approvalAnswer";
    if value.get("Error").and_then(Value::as_str) == Some("States.Timeout") {
        return Ok(Answer {
            decision: Decision::TimedOut,
            by: None,
            reason: None,
            at: now,
            signature: None,
        });
    }
    if let Some(error) = value.get("Error") {
        return Err(InvalidInput::new(
            format!("{FIELD}.Error"),
            format!("the wait for approval failed with {error}; nothing was deployed"),
        ));
    }
    let answer: Answer = crate::fields::from_value(value, &format!("{FIELD}."))?;
    if answer.decision == Decision::TimedOut {
        return Err(InvalidInput::new(
            format!("{FIELD}.decision"),
            "must be APPROVE, REJECT or ABORT (TIMED_OUT is the workflow's own)",
        ));
    }
    check_bytes(
        &format!("{FIELD}.by"),
        answer.by.as_deref(),
        MAX_IDENTITY_BYTES,
    )?;
    check_bytes(
        &format!("{FIELD}.reason"),
        answer.reason.as_deref(),
        MAX_REASON_BYTES,
    )?;
    Ok(answer)
}

/// `stagegate abort` of a stage being deployed or baked, as the poll reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AbortRequest {
    pub by: Option<String>,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: OffsetDateTime,
}

impl AbortRequest {
    /// The parameter's value as the CLI wrote it; `field` names where it was read.
    pub fn parse(text: &str, field: &str) -> Result<Self, InvalidInput> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| InvalidInput::new(field, format!("must be a JSON abort request: {e}")))?;
        let request: AbortRequest = crate::fields::from_value(&value, &format!("{field}."))?;
        check_bytes(
            &format!("{field}.by"),
            request.by.as_deref(),
            MAX_IDENTITY_BYTES,
        )?;
        check_bytes(
            &format!("{field}.reason"),
            Some(&request.reason),
            MAX_REASON_BYTES,
        )?;
        Ok(request)
    }
}

/// Where an abort of the run `run_id` (`token::run_id`: the execution ARN and its start) is
/// requested: one Systems Manager parameter per run, under a prefix the poll function may read
/// and operators may write (IAM scopes both to it). Parameter names allow `[a-zA-Z0-9_.-/]` only
/// and execution names allow more, so the name is the execution's name made safe, plus a digest
/// of the whole run id: a later run with the same execution name reads another parameter.
pub fn abort_parameter_name(run_id: &str) -> String {
    let (machine, name) = machine_and_name(run_id);
    let digest = Sha256::digest(run_id.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "{ABORT_PARAMETER_PREFIX}{}/{}-{hex}",
        safe_name(machine, 80),
        safe_name(name, 80)
    )
}

/// The state machine's and the execution's names in a run id (an execution ARN, optionally with
/// `@start`): arn:aws:states:region:account:execution:state-machine:name@start.
fn machine_and_name(run_id: &str) -> (&str, &str) {
    let execution_arn = match run_id.rsplit_once('@') {
        Some((arn, start)) if start.bytes().all(|b| b.is_ascii_digit()) => arn,
        _ => run_id,
    };
    let mut parts = execution_arn.rsplitn(3, ':');
    let name = parts.next().unwrap_or_default();
    let machine = parts.next().unwrap_or_default();
    (machine, name)
}

/// Every abort parameter lives under this path (the template's IAM policies name it).
pub const ABORT_PARAMETER_PREFIX: &str = "/stagegate/abort/";

/// The key answers to approvals are signed with lives here, one per state machine.
pub const ANSWER_KEY_PREFIX: &str = "/stagegate/answer-key/";

/// The parameter holding the answer key (`signature`) of the state machine that ran `run_id` (a
/// run id or an execution ARN): `/stagegate/answer-key/<state machine>`. Derived like the abort
/// parameters, from the execution, not from a variable: start-deployment's 4 KB of environment
/// are spent on `FreezeWindows`, and the answer function and the gate must name the same key.
pub fn answer_key_parameter_name(run_id: &str) -> String {
    let (machine, _) = machine_and_name(run_id);
    format!("{ANSWER_KEY_PREFIX}{}", safe_name(machine, 80))
}

/// A parameter name's part from any text: `[a-zA-Z0-9_.-]` kept, anything else `_`.
fn safe_name(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

fn check_bytes(field: &str, value: Option<&str>, max: usize) -> Result<(), InvalidInput> {
    match value {
        Some(v) if v.len() > max => Err(InvalidInput::new(
            field,
            format!("must be at most {max} bytes in UTF-8, got {}", v.len()),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);

    #[test]
    fn answers_and_the_timeout_are_read_and_anything_else_is_an_error() {
        let a = parse_answer(
            &json!({"decision": "APPROVE", "by": "arn:aws:iam::1:user/ana", "reason": "ok", "at": "2026-12-01T10:01:00Z"}),
            NOW,
        );
        assert_eq!(a.map(|a| a.decision), Ok(Decision::Approve));
        let t = parse_answer(&json!({"Error": "States.Timeout", "Cause": "x"}), NOW);
        assert_eq!(t.map(|a| (a.decision, a.at)), Ok((Decision::TimedOut, NOW)));
        let field = |v: Value| parse_answer(&v, NOW).err().map(|e| e.field);
        assert_eq!(
            field(json!({"Error": "States.TaskFailed"})),
            Some("approvalAnswer.Error".into())
        );
        assert_eq!(
            field(json!({"decision": "MAYBE", "at": "2026-12-01T10:01:00Z"})),
            Some("approvalAnswer.decision".into())
        );
        assert_eq!(
            field(json!({"decision": "TIMED_OUT", "at": "2026-12-01T10:01:00Z"})),
            Some("approvalAnswer.decision".into())
        );
        assert_eq!(
            field(
                json!({"decision": "REJECT", "at": "2026-12-01T10:01:00Z", "reason": "é".repeat(600)})
            ),
            Some("approvalAnswer.reason".into())
        );
        assert_eq!(field(json!("yes")), Some("approvalAnswer".into()));
    }

    #[test]
    fn abort_parameters_are_valid_names_unique_per_execution() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:run 1/ü";
        let name = abort_parameter_name(arn);
        assert!(
            name.starts_with("/stagegate/abort/stagegate-gate/run_1__-"),
            "{name}"
        );
        assert!(name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c)));
        assert!(name.len() <= 2048);
        assert_ne!(name, abort_parameter_name(&format!("{arn}2")));
        assert_eq!(name, abort_parameter_name(arn));
        // A later run with the same name has a parameter of its own, in the same folder.
        let first = abort_parameter_name(&format!("{arn}@1772366400"));
        let later = abort_parameter_name(&format!("{arn}@1781006400"));
        assert_ne!(first, later);
        assert!(
            first.starts_with("/stagegate/abort/stagegate-gate/run_1__-"),
            "{first}"
        );
    }

    #[test]
    fn the_answer_key_is_the_state_machines_whatever_the_run() {
        let arn = "arn:aws:states:us-east-1:1:execution:stack-gate:run 1";
        let key = answer_key_parameter_name(arn);
        assert_eq!(key, "/stagegate/answer-key/stack-gate");
        assert_eq!(answer_key_parameter_name(&format!("{arn}@1772366400")), key);
        assert_eq!(
            answer_key_parameter_name("arn:aws:states:us-east-1:1:execution:other-gate:run 1"),
            "/stagegate/answer-key/other-gate"
        );
    }

    #[test]
    fn abort_requests_are_validated() {
        let ok = AbortRequest::parse(
            r#"{"by": "arn:aws:iam::1:user/ana", "reason": "bad metrics", "at": "2026-12-01T10:00:00Z"}"#,
            "abortRequest",
        );
        assert_eq!(ok.map(|r| r.reason), Ok("bad metrics".to_owned()));
        let e = AbortRequest::parse(r#"{"reason": 5}"#, "abortRequest").err();
        assert_eq!(e.map(|e| e.field), Some("abortRequest.reason".into()));
        let e = AbortRequest::parse("not json", "abortRequest").err();
        assert_eq!(e.map(|e| e.field), Some("abortRequest".into()));
    }

    #[test]
    fn decision_names_are_their_serialized_form() {
        // What the message and the CLI print is what `stagegate approve|reject|abort` sends.
        for d in [
            Decision::Approve,
            Decision::Reject,
            Decision::Abort,
            Decision::TimedOut,
        ] {
            assert_eq!(
                serde_json::to_value(d).ok(),
                Some(Value::from(d.as_str())),
                "{d:?}"
            );
        }
    }

    #[test]
    fn a_request_expires_its_timeout_after_it_was_asked_and_only_approve_approves() {
        let spec = ApprovalSpec {
            timeout_seconds: 3600,
        };
        let mut a = Approval::request("prod", spec, Some("S1"), NOW);
        assert_eq!(a.requested_at, NOW);
        assert_eq!(a.expires_at, datetime!(2026-12-01 11:00:00 UTC));
        assert_eq!(a.serving_snapshot_id.as_deref(), Some("S1"));
        // Not answered yet: nothing is approved.
        assert!(!a.approved());
        for (decision, approved) in [
            (Decision::Approve, true),
            (Decision::Reject, false),
            (Decision::Abort, false),
            (Decision::TimedOut, false),
        ] {
            a.answer = Some(Answer {
                decision,
                by: None,
                reason: None,
                at: NOW,
                signature: None,
            });
            assert_eq!(a.approved(), approved, "{decision:?}");
        }
    }

    #[test]
    fn an_at_sign_not_followed_by_a_start_time_is_part_of_the_execution_name() {
        // A run id is `ARN@start`; an id without a start (an older state) is the ARN alone, whose
        // name may hold an `@` of its own: the parameter names all of it.
        let name = abort_parameter_name("arn:aws:states:us-east-1:1:execution:gate:nightly@eu");
        assert!(
            name.starts_with("/stagegate/abort/gate/nightly_eu-"),
            "{name}"
        );
        let name = abort_parameter_name("arn:aws:states:us-east-1:1:execution:gate:nightly@17");
        assert!(name.starts_with("/stagegate/abort/gate/nightly-"), "{name}");
    }

    #[test]
    fn a_reason_may_use_its_whole_limit() {
        let at = |reason: &str| json!({"decision": "REJECT", "at": "2026-12-01T10:01:00Z", "reason": reason});
        // 1,024 bytes of two-byte characters: exactly the limit.
        let full = "é".repeat(MAX_REASON_BYTES / 2);
        assert_eq!(
            parse_answer(&at(&full), NOW).map(|a| a.reason.map(|r| r.len())),
            Ok(Some(MAX_REASON_BYTES))
        );
        assert!(parse_answer(&at(&format!("{full}x")), NOW).is_err());
    }
}

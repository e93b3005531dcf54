//! `stagegate approve | reject | abort`: a person's say in a running gate.
//!
//! An approval is answered through the answer function's URL (`--answer-url`, SigV4-signed):
//! it finds the wait's task token itself, signs the answer with the caller IAM verified, and
//! sends it; the gate takes no other answer (docs/operator-control.md). The answer is data the
//! core decides on, so every answer ends in one notification. An abort of a stage being
//! deployed or baked is a Parameter Store request the poll reads (see `stagegate::aws::ssm` for
//! why); while the run awaits approval the abort answers the wait instead, and a run already
//! rolling back or ending needs none. Each answer records who gave it (STS GetCallerIdentity) and
//! why. What to do in each case, and when Step Functions refuses an answer because the wait is
//! over, is decided in `decide` from the newest steps of the history; this file only calls AWS.

use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use serde_json::json;
use stagegate::approval::Decision;
use time::OffsetDateTime;

use crate::history::{self, error_text};
use crate::steps::{self, Step, WaitFate};

mod answer_url;
mod decide;
mod request;
pub use answer_url::AnswerUrl;
pub use request::check_reason;

pub use crate::steps::{pending_approval, step, Pending, AWAIT_APPROVAL};
use decide::{AbortPlan, Refusal};

/// Where an abort of the run `arn`, started at `started_at` (DescribeExecution's startDate), is
/// requested: the one call of the core's naming rule, which must name what the gate reads. A run
/// is its execution and its start (`token::run_id`), so a reused execution name never reads an
/// older run's request.
fn abort_parameter(arn: &str, started_at: Option<OffsetDateTime>) -> String {
    stagegate::approval::abort_parameter_name(&stagegate::token::run_id(arn, started_at))
}

/// `text`, and why the history could not say more, if it could not be read.
fn with_unread(text: String, unread: Option<String>) -> String {
    match unread {
        Some(e) => format!("{text} (the history could not be read: {e})"),
        None => text,
    }
}

/// Why `SendTaskSuccess` failed: the wait is over (`Refused`), or anything else, as text.
enum SendError {
    Refused(Refusal),
    Other(String),
}

pub struct Operator {
    sfn: aws_sdk_sfn::Client,
    ssm: aws_sdk_ssm::Client,
    sts: aws_sdk_sts::Client,
    config: aws_config::SdkConfig,
    answer_url: Option<AnswerUrl>,
}

/// What a command that must answer a wait says without `--answer-url`.
pub const NO_ANSWER_URL: &str = "answering an approval needs the answer function's URL: add      --answer-url URL (or set STAGEGATE_ANSWER_URL), the stack's AnswerUrl output; answers sent      with SendTaskSuccess directly are refused by the gate";

impl Operator {
    /// From a ready SDK configuration (its endpoint, region and credentials for every service):
    /// what the e2e tier uses against the local stack.
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            sfn: aws_sdk_sfn::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            config: config.clone(),
            answer_url: None,
        }
    }

    /// Answers go to the answer function at `url` (None: a command that must answer says what
    /// to add).
    pub fn with_answer_url(mut self, url: Option<&str>) -> Result<Self, String> {
        self.answer_url = match url.filter(|u| !u.trim().is_empty()) {
            Some(u) => Some(AnswerUrl::new(u, &self.config)?),
            None => None,
        };
        Ok(self)
    }

    /// For acting on the execution `arn` (whose region is the default one).
    pub async fn new(
        aws: &crate::aws::AwsArgs,
        endpoint_url: Option<String>,
        arn: &str,
    ) -> Result<Self, String> {
        let config = crate::aws::load(aws, Some(arn)).await?;
        let pick = |service: &str| crate::aws::endpoint_url(endpoint_url.as_deref(), service);
        let mut sfn = aws_sdk_sfn::config::Builder::from(&config);
        if let Some(url) = pick("SFN") {
            sfn = sfn.endpoint_url(url);
        }
        let mut ssm = aws_sdk_ssm::config::Builder::from(&config);
        if let Some(url) = pick("SSM") {
            ssm = ssm.endpoint_url(url);
        }
        let mut sts = aws_sdk_sts::config::Builder::from(&config);
        if let Some(url) = pick("STS") {
            sts = sts.endpoint_url(url);
        }
        Ok(Self {
            sfn: aws_sdk_sfn::Client::from_conf(sfn.build()),
            ssm: aws_sdk_ssm::Client::from_conf(ssm.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            config,
            answer_url: None,
        })
    }

    /// Who is answering: recorded with the answer (CloudTrail keeps the authoritative record).
    async fn caller(&self) -> Result<String, String> {
        let me = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| format!("GetCallerIdentity (who is answering): {}", error_text(&e)))?;
        Ok(me.arn().unwrap_or("unknown").to_owned())
    }

    /// The newest steps of the run's history, as far back as `enough` needs.
    async fn recent(
        &self,
        arn: &str,
        enough: impl Fn(&[Step]) -> bool,
    ) -> Result<Vec<Step>, String> {
        history::recent_steps(&self.sfn, arn, enough).await
    }

    /// That the run is still running, and when it started.
    async fn running(&self, arn: &str) -> Result<Option<OffsetDateTime>, String> {
        let described = self
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| format!("DescribeExecution: {}", error_text(&e)))?;
        match described.status() {
            Some(ExecutionStatus::Running) => Ok(described
                .start_date()
                .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).ok())),
            status => Err(format!(
                "{arn} is not running ({}): there is nothing to answer or abort",
                status.map_or("unknown", |s| s.as_str())
            )),
        }
    }

    /// Answers the pending approval. `Ok(text)`: what happened, for the person.
    pub async fn answer(
        &self,
        arn: &str,
        decision: Decision,
        reason: Option<&str>,
    ) -> Result<String, String> {
        check_reason(reason)?;
        if self.answer_url.is_none() {
            return Err(NO_ANSWER_URL.to_owned());
        }
        self.running(arn).await?;
        let steps = self.recent(arn, steps::has_gate_state).await?;
        let Some(pending) = steps::pending_approval(&steps) else {
            return Err(format!("{arn} is not waiting for an approval"));
        };
        let by = match self.send(arn, decision, reason).await {
            Ok(by) => by,
            Err(SendError::Other(text)) => return Err(text),
            Err(SendError::Refused(refusal)) => {
                let (fate, unread) = self.fate(arn, &pending).await;
                let text = decide::answer_refused(decision, &pending, refusal, &fate);
                return Err(with_unread(text, unread));
            }
        };
        Ok(match decision {
            Decision::Approve => format!(
                "approved {} on {} as {by}; the gate deploys it now",
                pending.snapshot_id, pending.stage_name
            ),
            _ => format!(
                "{} {} on {} as {by}; the run ends with nothing deployed on it",
                if decision == Decision::Reject {
                    "rejected"
                } else {
                    "aborted"
                },
                pending.snapshot_id,
                pending.stage_name
            ),
        })
    }

    /// How the wait of `pending` ended, once Step Functions said it is over; `Unknown`, with
    /// why, when the history cannot be read (the person still learns what the CLI did).
    async fn fate(&self, arn: &str, pending: &Pending) -> (WaitFate, Option<String>) {
        match self.recent(arn, steps::has_wait_of(&pending.token)).await {
            Ok(steps) => (steps::wait_fate(&steps, &pending.token), None),
            Err(e) => (WaitFate::Unknown, Some(e)),
        }
    }

    /// Sends the answer through the answer function; Ok(who answered, as IAM verified it).
    async fn send(
        &self,
        arn: &str,
        decision: Decision,
        reason: Option<&str>,
    ) -> Result<String, SendError> {
        let Some(endpoint) = &self.answer_url else {
            return Err(SendError::Other(NO_ANSWER_URL.to_owned()));
        };
        let word = match decision {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            _ => "abort",
        };
        let body = json!({"executionArn": arn, "decision": word, "reason": reason});
        let reply = endpoint.post(&body).await.map_err(SendError::Other)?;
        match reply.status {
            200 => Ok(reply.body["by"].as_str().unwrap_or("unknown").to_owned()),
            // The wait is over (answered, timed out) or was never there: what the history says
            // about it is what the person needs.
            409 => Err(SendError::Refused(
                Refusal::from_code(reply.body["code"].as_str())
                    .unwrap_or(Refusal::TaskDoesNotExist),
            )),
            _ => Err(SendError::Other(reply.error())),
        }
    }

    /// Aborts the run: answers a pending approval, else leaves the request the poll reads;
    /// nothing when the run already rolls back or is ending.
    pub async fn abort(&self, arn: &str, reason: &str) -> Result<String, String> {
        check_reason(Some(reason))?;
        let name = abort_parameter(arn, self.running(arn).await?);
        let by = self.caller().await?;
        let steps = self.recent(arn, steps::has_gate_state).await?;
        let pending = match decide::abort_plan(&steps) {
            AbortPlan::RollingBack(text) | AbortPlan::Ending(text) => return Ok(text),
            AbortPlan::RequestAbort => {
                self.request_abort(&name, &by, reason).await?;
                return Ok(format!(
                    "abort requested as {by} ({name}); at its next poll the gate rolls back the \
                     stage it deploys or bakes (once a running deployment ends) and the run ends \
                     ABORTED"
                ));
            }
            AbortPlan::AnswerWait(pending) => pending,
        };
        if self.answer_url.is_none() {
            return Err(format!(
                "{} is waiting for approval: an abort answers the wait. {NO_ANSWER_URL}",
                pending.stage_name
            ));
        }
        let refusal = match self.send(arn, Decision::Abort, Some(reason)).await {
            Ok(by) => {
                return Ok(format!(
                    "aborted as {by} while {} on {} awaited approval; nothing of it was deployed",
                    pending.snapshot_id, pending.stage_name
                ))
            }
            Err(SendError::Other(text)) => return Err(text),
            Err(SendError::Refused(refusal)) => refusal,
        };
        // The wait is over: the run may deploy now (someone approved). When the history cannot
        // say, the request is written anyway: a needless one costs nothing.
        let (fate, unread) = self.fate(arn, &pending).await;
        let fallback = decide::abort_refused(&pending, refusal, &fate, &name);
        if fallback.write_parameter {
            self.request_abort(&name, &by, reason).await?;
        }
        Ok(with_unread(fallback.text, unread))
    }

    /// Writes the abort request the poll reads, as the parameter `name` (`abort_parameter`).
    async fn request_abort(&self, name: &str, by: &str, reason: &str) -> Result<(), String> {
        let value = request::abort_value(by, reason, OffsetDateTime::now_utc())?;
        self.ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            // Explicit: an account whose default tier is Advanced would pay for each request.
            .tier(ParameterTier::Standard)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| format!("PutParameter {name}: {}", error_text(&e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod naming {
    use super::*;

    /// What `stagegate abort` writes is what the gate reads: the run's parameter, named by the
    /// execution and its start (the start handler's `token::run_id` from `$$.Execution.StartTime`).
    #[test]
    fn the_cli_writes_the_parameter_the_gate_reads() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:release-42";
        let start = time::macros::datetime!(2026-03-01 11:59:58.250 UTC);
        let read =
            stagegate::approval::abort_parameter_name(&stagegate::token::run_id(arn, Some(start)));
        assert_eq!(abort_parameter(arn, Some(start)), read);
        let months_later = start + time::Duration::days(100);
        assert_ne!(abort_parameter(arn, Some(months_later)), read);
    }
}

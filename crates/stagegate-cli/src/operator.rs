//! `stagegate approve | reject | abort`: a person's say in a running gate.
//!
//! An approval is answered through the task token of the workflow's `AwaitApproval` wait, found
//! in the execution's history (it is never published), with `SendTaskSuccess`: the answer is data
//! the core decides on, so every answer ends in one notification. An abort of a stage being
//! deployed or baked is a Parameter Store request the poll reads (see `stagegate::aws::ssm` for
//! why); while the run awaits approval the abort answers the wait instead. Each answer records
//! who gave it (STS GetCallerIdentity) and why.

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use serde_json::{json, Value};
use stagegate::approval::{abort_parameter_name, Decision};
use stagegate::aws::endpoint;

use crate::history::{self, error_text};

/// The state that waits for the answer (infra/statemachine).
pub const AWAIT_APPROVAL: &str = "AwaitApproval";

/// An approval the run waits for: its task token, the stage it is about, and when it times out
/// (`approval.expiresAt` of the request, RFC 3339, as the gate wrote it; `stagegate status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub token: String,
    pub stage_name: String,
    pub snapshot_id: String,
    pub expires_at: Option<String>,
}

/// What a history says, reduced to what finding the pending approval needs (so it is tested
/// without building SDK events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Entered(String),
    Exited(String),
    /// A task scheduled with these parameters (JSON text).
    Scheduled(String),
    Other,
}

pub fn step(event: &HistoryEvent) -> Step {
    if let Some(d) = event.state_entered_event_details() {
        return Step::Entered(d.name().unwrap_or_default().to_owned());
    }
    if let Some(d) = event.state_exited_event_details() {
        return Step::Exited(d.name().unwrap_or_default().to_owned());
    }
    match (event.r#type(), event.task_scheduled_event_details()) {
        (Some(HistoryEventType::TaskScheduled), Some(d)) => {
            Step::Scheduled(d.parameters().unwrap_or_default().to_owned())
        }
        _ => Step::Other,
    }
}

/// The approval still waiting for an answer: the last `AwaitApproval` task scheduled and not
/// exited since.
pub fn pending_approval(steps: &[Step]) -> Option<Pending> {
    let mut current = "";
    let mut pending = None;
    for s in steps {
        match s {
            Step::Entered(name) => current = name,
            Step::Exited(name) if name == AWAIT_APPROVAL => pending = None,
            Step::Scheduled(parameters) if current == AWAIT_APPROVAL => {
                let p: Value = serde_json::from_str(parameters).unwrap_or_default();
                let payload = &p["Payload"];
                let request = &payload["approvalRequest"];
                pending = payload["taskToken"].as_str().map(|token| Pending {
                    token: token.to_owned(),
                    stage_name: request["stageName"].as_str().unwrap_or("?").to_owned(),
                    snapshot_id: request["snapshotId"].as_str().unwrap_or("?").to_owned(),
                    expires_at: request["approval"]["expiresAt"].as_str().map(str::to_owned),
                });
            }
            _ => {}
        }
    }
    pending
}

pub struct Operator {
    sfn: aws_sdk_sfn::Client,
    ssm: aws_sdk_ssm::Client,
    sts: aws_sdk_sts::Client,
}

impl Operator {
    /// From a ready SDK configuration (its endpoint, region and credentials for every service):
    /// what the e2e tier uses against the local stack.
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            sfn: aws_sdk_sfn::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
        }
    }

    pub async fn new(region: Option<String>, endpoint_url: Option<String>) -> Self {
        let mut loader = aws_config::from_env().http_connector(stagegate_http::connector());
        if let Some(region) = region {
            loader = loader.region(aws_sdk_sfn::config::Region::new(region));
        }
        let config = loader.load().await;
        let pick = |service: &str| endpoint_url.clone().or_else(|| endpoint::from_env(service));
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
        Self {
            sfn: aws_sdk_sfn::Client::from_conf(sfn.build()),
            ssm: aws_sdk_ssm::Client::from_conf(ssm.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
        }
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

    async fn pending(&self, arn: &str) -> Result<Option<Pending>, String> {
        let steps: Vec<Step> = history::read(&self.sfn, arn)
            .await?
            .iter()
            .map(step)
            .collect();
        Ok(pending_approval(&steps))
    }

    async fn running(&self, arn: &str) -> Result<(), String> {
        let described = self
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| format!("DescribeExecution: {}", error_text(&e)))?;
        match described.status() {
            Some(ExecutionStatus::Running) => Ok(()),
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
        self.running(arn).await?;
        let Some(pending) = self.pending(arn).await? else {
            return Err(format!("{arn} is not waiting for an approval"));
        };
        let by = self.caller().await?;
        self.send(&pending, decision, &by, reason).await?;
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

    async fn send(
        &self,
        pending: &Pending,
        decision: Decision,
        by: &str,
        reason: Option<&str>,
    ) -> Result<(), String> {
        let now = time::OffsetDateTime::now_utc();
        let output = json!({
            "decision": decision,
            "by": by,
            "reason": reason,
            "at": stagegate::timefmt::rfc3339(now),
        });
        self.sfn
            .send_task_success()
            .task_token(&pending.token)
            .output(output.to_string())
            .send()
            .await
            .map_err(|e| format!("SendTaskSuccess: {}", error_text(&e)))?;
        Ok(())
    }

    /// Aborts the run: answers a pending approval, else leaves the request the poll reads.
    pub async fn abort(&self, arn: &str, reason: &str) -> Result<String, String> {
        self.running(arn).await?;
        let by = self.caller().await?;
        if let Some(pending) = self.pending(arn).await? {
            self.send(&pending, Decision::Abort, &by, Some(reason))
                .await?;
            return Ok(format!(
                "aborted as {by} while {} on {} awaited approval; nothing of it was deployed",
                pending.snapshot_id, pending.stage_name
            ));
        }
        let name = abort_parameter_name(arn);
        let value = json!({
            "by": by,
            "reason": reason,
            "at": stagegate::timefmt::rfc3339(time::OffsetDateTime::now_utc()),
        });
        self.ssm
            .put_parameter()
            .name(&name)
            .value(value.to_string())
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| format!("PutParameter {name}: {}", error_text(&e)))?;
        Ok(format!(
            "abort requested as {by} ({name}); at its next poll the gate rolls back the stage it \
             deploys or bakes (once a running deployment ends) and the run ends ABORTED"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheduled(token: &str) -> Step {
        Step::Scheduled(
            json!({"FunctionName": "notify-result", "Payload": {"taskToken": token,
                "approvalRequest": {"stageName": "prod", "snapshotId": "S",
                    "approval": {"expiresAt": "2026-11-18T12:30:00Z"}}}})
            .to_string(),
        )
    }

    #[test]
    fn the_pending_approval_is_the_last_wait_not_yet_exited() {
        let entered = |n: &str| Step::Entered(n.into());
        let exited = |n: &str| Step::Exited(n.into());
        let steps = vec![
            entered("Start"),
            Step::Scheduled(json!({"Payload": {"taskToken": "not-a-wait"}}).to_string()),
            exited("Start"),
            entered(AWAIT_APPROVAL),
            scheduled("t1"),
        ];
        assert_eq!(
            pending_approval(&steps),
            Some(Pending {
                token: "t1".into(),
                stage_name: "prod".into(),
                snapshot_id: "S".into(),
                expires_at: Some("2026-11-18T12:30:00Z".into())
            })
        );
        let mut answered = steps.clone();
        answered.push(exited(AWAIT_APPROVAL));
        assert_eq!(pending_approval(&answered), None, "answered already");
        // A wave's second approval: the newest wait.
        answered.extend([entered(AWAIT_APPROVAL), scheduled("t2")]);
        assert_eq!(
            pending_approval(&answered).map(|p| p.token),
            Some("t2".into())
        );
        assert_eq!(pending_approval(&[]), None);
    }
}

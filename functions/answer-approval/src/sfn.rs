//! `ApprovalWaits` on aws-sdk-sfn: the execution's history newest first, and SendTaskSuccess.
//! It lives in this function's crate, not in `stagegate::aws`, so that Step Functions' SDK is
//! linked into this function alone (the four workflow functions never call it); the history is
//! reduced to the core's `Step`s here, and everything decided from them is in the core.

use aws_sdk_sfn::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::types::{HistoryEvent, HistoryEventType};
use aws_sdk_sfn::Client;
use stagegate::approval::wait::Step;
use stagegate::ports::{ApprovalWaits, Page, ServiceError, ServiceErrorKind};

/// Events a page: the pending wait is among the newest few.
const PAGE: i32 = 100;

pub struct SfnApprovalWaits {
    client: Client,
}

impl SfnApprovalWaits {
    /// Honours `AWS_ENDPOINT_URL_SFN` / `AWS_ENDPOINT_URL`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        let mut builder = aws_sdk_sfn::config::Builder::from(config);
        if let Some(url) = stagegate::aws::endpoint::from_env("SFN") {
            builder = builder.endpoint_url(url);
        }
        Self {
            client: Client::from_conf(builder.build()),
        }
    }
}

impl ApprovalWaits for SfnApprovalWaits {
    async fn recent_steps(
        &self,
        execution_arn: &str,
        next_token: Option<String>,
    ) -> Result<Page<(i64, Step)>, ServiceError> {
        let page = self
            .client
            .get_execution_history()
            .execution_arn(execution_arn)
            .reverse_order(true)
            .max_results(PAGE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| error("GetExecutionHistory", e))?;
        Ok(Page {
            items: page
                .events()
                .unwrap_or_default()
                .iter()
                .map(|e| (e.id(), step(e)))
                .collect(),
            next_token: page.next_token().map(str::to_owned),
        })
    }

    async fn send_answer(&self, token: &str, output: &str) -> Result<(), ServiceError> {
        self.client
            .send_task_success()
            .task_token(token)
            .output(output)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error("SendTaskSuccess", e))
    }
}

/// The parts of an event the pending wait is found from.
fn step(event: &HistoryEvent) -> Step {
    if let Some(d) = event.state_entered_event_details() {
        return Step::Entered {
            name: d.name().unwrap_or_default().to_owned(),
            input: d.input().unwrap_or_default().to_owned(),
        };
    }
    if let Some(d) = event.state_exited_event_details() {
        return Step::Exited {
            name: d.name().unwrap_or_default().to_owned(),
            output: d.output().unwrap_or_default().to_owned(),
        };
    }
    match (event.r#type(), event.task_scheduled_event_details()) {
        (Some(HistoryEventType::TaskScheduled), Some(d)) => {
            Step::Scheduled(d.parameters().unwrap_or_default().to_owned())
        }
        _ => Step::Other,
    }
}

fn error<E>(operation: &str, err: SdkError<E>) -> ServiceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(reply) => {
            let code = reply.err().code();
            let mut e = ServiceError::from_reply(
                operation,
                code,
                Some(reply.raw().status().as_u16()),
                reply.err().message(),
            );
            // Step Functions' own names for "no such execution" and "not an ARN".
            match code {
                Some("ExecutionDoesNotExist") => e.kind = ServiceErrorKind::NotFound,
                Some("InvalidArn") => e.kind = ServiceErrorKind::Validation,
                _ => {}
            }
            e
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ServiceError::new(
                ServiceErrorKind::Transport,
                operation,
                DisplayErrorContext(&err).to_string(),
            )
        }
        _ => ServiceError::other(operation, DisplayErrorContext(&err).to_string()),
    }
}

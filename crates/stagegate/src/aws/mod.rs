//! Adapters from the ports to the AWS SDKs (aws-sdk-gamesparks, aws-sdk-cloudwatch and aws-sdk-sns 0.33 on
//! aws-config 0.56: the last generation that has GameSparks). Clients are built once per cold
//! start by the functions' `main`.

pub mod cloudwatch;
pub mod endpoint;
pub mod gamesparks;
pub mod sns;

use aws_sdk_gamesparks::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::ports::{ServiceError, ServiceErrorKind};

pub use cloudwatch::CloudWatchAlarms;
pub use gamesparks::GameSparksDeployments;
pub use sns::SnsNotifier;

/// Loads region and credentials the standard way (environment, profile, container, IMDS), with
/// the gate's timeouts on every client.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .timeout_config(timeout_config())
        .load()
        .await
}

/// aws-config 0.56 sets a connect timeout and nothing else, so one hung response would hold a
/// function until Lambda kills it at 30 s, and the Catch would end the run while its deployment
/// goes on unwatched. An attempt that has not answered in 5 s is abandoned and retried by the
/// SDK (its standard policy treats a timeout as transient; starts replay their ClientToken,
/// reads are safe), and a whole call gives up after 12 s with a retryable error, well inside the
/// function's 30 s, so the workflow's Retry takes over with a fresh invocation.
pub fn timeout_config() -> aws_config::timeout::TimeoutConfig {
    use std::time::Duration;
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build()
}

/// Maps an SDK error (either client: both use the same smithy error type) to the port's error.
fn service_error<E>(operation: &str, err: SdkError<E>) -> ServiceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(reply) => ServiceError::from_reply(
            operation,
            reply.err().code(),
            Some(reply.raw().status().as_u16()),
            reply.err().message(),
        ),
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

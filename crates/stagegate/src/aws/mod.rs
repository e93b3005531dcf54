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

/// Loads region and credentials the standard way (environment, profile, container, IMDS).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_from_env().await
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

//! Adapters from the ports to the AWS SDKs (aws-sdk-gamesparks, aws-sdk-cloudwatch, aws-sdk-sns,
//! aws-sdk-ssm and aws-sdk-s3 0.33 on
//! aws-config 0.56: the last generation that has GameSparks). Clients are built once per cold
//! start by the functions' `main`, from [`lambda_config`].

pub mod answer_key;
pub mod cloudwatch;
pub mod endpoint;
pub mod gamesparks;
pub mod s3;
pub mod sns;
pub mod ssm;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_credential_types::cache::CredentialsCache;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_gamesparks::config::{Credentials, Region};
use aws_sdk_gamesparks::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_async::rt::sleep::default_async_sleep;

use crate::error::GateError;
use crate::ports::{ServiceError, ServiceErrorKind};

pub use answer_key::SsmAnswerKeys;
pub use cloudwatch::CloudWatchAlarms;
pub use gamesparks::GameSparksDeployments;
pub use s3::S3Records;
pub use sns::SnsNotifier;
pub use ssm::SsmAbortRequests;

/// The functions' SDK config, from what Lambda puts in the environment: the region from
/// `AWS_REGION`, the execution role's credentials from `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, one shared connector (`stagegate-http`) and
/// the gate's timeouts. No profile files, SSO, STS, container or IMDS providers: a function never
/// needs them, and aws-config's default chain built them all at every cold start (see
/// bench/results.json, `init_breakdown`). `cargo lambda watch` and the local stack set the same
/// variables. A missing one is a configuration error naming it, at init.
pub fn lambda_config() -> Result<SdkConfig, GateError> {
    lambda_config_from(|k| std::env::var(k).ok())
}

fn lambda_config_from(lookup: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, GateError> {
    let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let required = |name: &str, why: &str| {
        var(name).ok_or_else(|| GateError::Configuration(format!("{name} is not set ({why})")))
    };
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or_else(|| {
            GateError::Configuration("AWS_REGION is not set (Lambda sets it)".to_owned())
        })?;
    let role = "Lambda sets it from the execution role";
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID", role)?,
        required("AWS_SECRET_ACCESS_KEY", role)?,
        var("AWS_SESSION_TOKEN"),
        None,
        "Environment",
    );
    let sleep = default_async_sleep().ok_or_else(|| {
        GateError::Configuration("no async sleep (the tokio runtime is missing)".to_owned())
    })?;
    Ok(SdkConfig::builder()
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .credentials_cache(CredentialsCache::lazy())
        .http_connector(stagegate_http::connector())
        .timeout_config(timeout_config())
        .retry_config(RetryConfig::standard())
        .sleep_impl(sleep)
        .build())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[tokio::test]
    async fn lambda_config_names_what_is_missing() {
        let err = |pairs| match lambda_config_from(env(pairs)) {
            Err(GateError::Configuration(text)) => text,
            other => panic!("{other:?}"),
        };
        assert!(err(&[]).starts_with("AWS_REGION is not set"));
        assert!(err(&[("AWS_REGION", "eu-west-1")]).starts_with("AWS_ACCESS_KEY_ID is not set"));
        assert!(
            err(&[("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKID")])
                .starts_with("AWS_SECRET_ACCESS_KEY is not set")
        );
        let config = lambda_config_from(env(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]))
        .expect("complete");
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(
            config.timeout_config().and_then(|t| t.read_timeout()),
            Some(std::time::Duration::from_secs(5))
        );
        assert!(config.http_connector().is_some() && config.credentials_provider().is_some());
    }
}

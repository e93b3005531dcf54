//! `Notifier` on aws-sdk-sns.

use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use super::{endpoint, service_error};
use crate::error::GateError;
use crate::notification::Notification;
use crate::ports::{Notifier, ServiceError};

pub const TOPIC_VAR: &str = "TOPIC_ARN";

#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }

    /// Reads `TOPIC_ARN` and honours `AWS_ENDPOINT_URL_SNS` / `AWS_ENDPOINT_URL`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Result<Self, GateError> {
        let topic_arn = topic_arn(|k| std::env::var(k).ok())?;
        let mut builder =
            aws_sdk_sns::config::Builder::from(config).endpoint_resolver(endpoint::SNS);
        if let Some(url) = endpoint::from_env("SNS") {
            builder = builder.endpoint_url(url);
        }
        Ok(Self::new(Client::from_conf(builder.build()), topic_arn))
    }
}

/// The topic from the environment, checked at cold start so a misconfigured function fails
/// before it is asked to report anything.
pub fn topic_arn(lookup: impl Fn(&str) -> Option<String>) -> Result<String, GateError> {
    let arn = lookup(TOPIC_VAR)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    if arn.is_empty() {
        return Err(GateError::Configuration(format!("{TOPIC_VAR} is not set")));
    }
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
        return Err(GateError::Configuration(format!(
            "{TOPIC_VAR} must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>), got {arn:?}"
        )));
    }
    Ok(arn)
}

impl Notifier for SnsNotifier {
    async fn publish(&self, n: &Notification) -> Result<String, ServiceError> {
        const OP: &str = "Publish";
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&n.subject)
            .message(&n.message);
        for (name, value) in &n.attributes {
            request = request.message_attributes(
                name,
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build(),
            );
        }
        // FIFO topics deduplicate: a retried notify task then cannot publish the outcome twice.
        if self.topic_arn.ends_with(".fifo") {
            request = request
                .message_group_id(&n.group_id)
                .message_deduplication_id(&n.deduplication_id);
        }
        let out = request.send().await.map_err(|e| service_error(OP, e))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arn_rules() {
        let ok = "arn:aws:sns:us-east-1:123456789012:stagegate";
        assert_eq!(topic_arn(|_| Some(ok.into())).ok().as_deref(), Some(ok));
        for bad in [
            "",
            "  ",
            "stagegate",
            "arn:aws:sqs:us-east-1:1:q",
            "arn:aws:sns:us-east-1:1:",
        ] {
            let err = topic_arn(|_| Some(bad.into())).unwrap_err();
            assert_eq!(err.error_type(), "StageGate.Configuration", "{bad}");
        }
        assert!(topic_arn(|_| None)
            .unwrap_err()
            .to_string()
            .contains("TOPIC_ARN is not set"));
    }
}

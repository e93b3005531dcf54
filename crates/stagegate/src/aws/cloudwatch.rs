//! `Alarms` on aws-sdk-cloudwatch (0.33, the same SDK generation as GameSparks).

use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_cloudwatch::Client;

use super::{endpoint, service_error};
use crate::bake::AlarmStatus;
use crate::ports::{Alarms, ServiceError};

/// A page of DescribeAlarms holds at most 100 alarms; the names are asked for 100 at a time.
const MAX_NAMES_PER_CALL: usize = 100;

#[derive(Debug, Clone)]
pub struct CloudWatchAlarms {
    client: Client,
}

impl CloudWatchAlarms {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Honours `AWS_ENDPOINT_URL_CLOUDWATCH` / `AWS_ENDPOINT_URL`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        let mut builder = aws_sdk_cloudwatch::config::Builder::from(config)
            .endpoint_resolver(endpoint::CLOUDWATCH);
        if let Some(url) = endpoint::from_env("CLOUDWATCH") {
            builder = builder.endpoint_url(url);
        }
        Self::new(Client::from_conf(builder.build()))
    }
}

impl Alarms for CloudWatchAlarms {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmStatus>, ServiceError> {
        const OP: &str = "DescribeAlarms";
        let mut out = vec![];
        for chunk in names.chunks(MAX_NAMES_PER_CALL) {
            let mut next_token: Option<String> = None;
            for _ in 0..crate::paging::MAX_PAGES {
                // Composite alarms are only listed when asked for by type.
                let reply = self
                    .client
                    .describe_alarms()
                    .set_alarm_names(Some(chunk.to_vec()))
                    .alarm_types(AlarmType::MetricAlarm)
                    .alarm_types(AlarmType::CompositeAlarm)
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(|e| service_error(OP, e))?;
                for a in reply.metric_alarms().unwrap_or_default() {
                    out.push(status(
                        a.alarm_name(),
                        a.state_value().map(|v| v.as_str()),
                        a.state_reason(),
                        a.state_updated_timestamp(),
                    ));
                }
                for a in reply.composite_alarms().unwrap_or_default() {
                    out.push(status(
                        a.alarm_name(),
                        a.state_value().map(|v| v.as_str()),
                        a.state_reason(),
                        a.state_updated_timestamp(),
                    ));
                }
                match reply.next_token().filter(|t| !t.is_empty()) {
                    Some(t) => next_token = Some(t.to_owned()),
                    None => break,
                }
            }
        }
        Ok(out)
    }
}

fn status(
    name: Option<&str>,
    state: Option<&str>,
    reason: Option<&str>,
    updated: Option<&aws_smithy_types::DateTime>,
) -> AlarmStatus {
    AlarmStatus {
        name: name.unwrap_or_default().to_owned(),
        // No state is not OK: `bake::is_failing` treats it as failing.
        state: state.unwrap_or("UNKNOWN").to_owned(),
        reason: reason.map(str::to_owned),
        updated_at: updated.and_then(super::gamesparks::timestamp),
    }
}

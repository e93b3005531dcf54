//! `Alarms` on aws-sdk-cloudwatch (0.33, the same SDK generation as GameSparks).

use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_cloudwatch::Client;

use super::{endpoint, service_error};
use crate::bake::AlarmStatus;
use crate::paging::collect_all;
use crate::ports::{Alarms, Page, ServiceError};

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
        Self::with_endpoint(config, endpoint::from_env("CLOUDWATCH"))
    }

    /// The client `from_config` builds, with the endpoint given rather than read from the
    /// environment.
    fn with_endpoint(config: &aws_config::SdkConfig, url: Option<String>) -> Self {
        let mut builder = aws_sdk_cloudwatch::config::Builder::from(config)
            .endpoint_resolver(endpoint::CLOUDWATCH);
        if let Some(url) = url {
            builder = builder.endpoint_url(url);
        }
        Self::new(Client::from_conf(builder.build()))
    }
}

impl Alarms for CloudWatchAlarms {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmStatus>, ServiceError> {
        let mut out = vec![];
        for chunk in names.chunks(MAX_NAMES_PER_CALL) {
            // A repeated NextToken or a listing without end is an error, never a partial answer:
            // an alarm on a page not read could be the one that fires.
            out.extend(collect_all(|token| self.page(chunk, token)).await?);
        }
        Ok(out)
    }
}

impl CloudWatchAlarms {
    async fn page(
        &self,
        names: &[String],
        token: Option<String>,
    ) -> Result<Page<AlarmStatus>, ServiceError> {
        const OP: &str = "DescribeAlarms";
        // Composite alarms are only listed when asked for by type.
        let reply = self
            .client
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| service_error(OP, e))?;
        let mut items = vec![];
        for a in reply.metric_alarms().unwrap_or_default() {
            items.push(status(
                a.alarm_name(),
                a.state_value().map(|v| v.as_str()),
                a.state_reason(),
                a.state_updated_timestamp(),
            ));
        }
        for a in reply.composite_alarms().unwrap_or_default() {
            items.push(status(
                a.alarm_name(),
                a.state_value().map(|v| v.as_str()),
                a.state_reason(),
                a.state_updated_timestamp(),
            ));
        }
        Ok(Page {
            items,
            next_token: reply.next_token().map(str::to_owned),
        })
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

#[cfg(test)]
mod tests;

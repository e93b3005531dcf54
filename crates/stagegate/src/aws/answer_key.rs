//! The key answers to approvals are signed with, as one Parameter Store SecureString per state
//! machine (`approval::answer_key_parameter_name`: `/stagegate/answer-key/<state machine>`). The answer
//! function creates it on first use and signs with it; start-deployment reads it to check each
//! answer. IAM lets only those two roles read it and only the answer function write it, so the
//! key needs no deploy-time secret and no rotation machinery: deleting the parameter makes the
//! next answer create a new one (answers signed with the old key are then refused, and re-asked).

use aws_sdk_ssm::error::SdkError;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use aws_sdk_ssm::Client;

use super::service_error;
use crate::ports::{AnswerKeys, ServiceError};

/// Reads the key's value (decrypted), if the parameter exists.
pub(crate) async fn read(client: &Client, name: &str) -> Result<Option<String>, ServiceError> {
    let reply = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await;
    match reply {
        Ok(found) => Ok(found.parameter().and_then(|p| p.value()).map(str::to_owned)),
        Err(SdkError::ServiceError(reply)) if reply.err().is_parameter_not_found() => Ok(None),
        Err(e) => Err(service_error("GetParameter", e)),
    }
}

/// `AnswerKeys` on aws-sdk-ssm: the answer function's view of the key.
#[derive(Debug, Clone)]
pub struct SsmAnswerKeys {
    client: Client,
}

impl SsmAnswerKeys {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Honours `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        let mut builder =
            aws_sdk_ssm::config::Builder::from(config).endpoint_resolver(super::endpoint::SSM);
        if let Some(url) = super::endpoint::from_env("SSM") {
            builder = builder.endpoint_url(url);
        }
        Self::new(Client::from_conf(builder.build()))
    }
}

impl AnswerKeys for SsmAnswerKeys {
    async fn read_key(&self, name: &str) -> Result<Option<String>, ServiceError> {
        read(&self.client, name).await
    }

    async fn create_key(&self, name: &str, value: &str) -> Result<bool, ServiceError> {
        let reply = self
            .client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .tier(ParameterTier::Standard)
            // Never replaces a key: two first answers racing must end up signing with one.
            .overwrite(false)
            .description("stagegate: the key answers to approvals are signed with")
            .send()
            .await;
        match reply {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(reply)) if reply.err().is_parameter_already_exists() => {
                Ok(false)
            }
            Err(e) => Err(service_error("PutParameter", e)),
        }
    }
}

//! `AbortRequests` on aws-sdk-ssm (0.33, the GameSparks SDK's generation): one Parameter Store
//! parameter per run (its execution and start), named by `approval::abort_parameter_name`. Parameter Store is neither
//! a new always-on service nor a table to run: the poll function may only read under the abort
//! prefix, operators may only write there, and it works the same on the local stack (moto).

use aws_sdk_ssm::error::SdkError;
use aws_sdk_ssm::Client;

use super::{endpoint, service_error};
use crate::approval::{abort_parameter_name, answer_key_parameter_name};
use crate::ports::{AbortRequests, ServiceError};

#[derive(Debug, Clone)]
pub struct SsmAbortRequests {
    client: Client,
}

impl SsmAbortRequests {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Honours `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        let mut builder =
            aws_sdk_ssm::config::Builder::from(config).endpoint_resolver(endpoint::SSM);
        if let Some(url) = endpoint::from_env("SSM") {
            builder = builder.endpoint_url(url);
        }
        Self::new(Client::from_conf(builder.build()))
    }
}

impl AbortRequests for SsmAbortRequests {
    async fn abort_request(&self, run_id: &str) -> Result<Option<String>, ServiceError> {
        let reply = self
            .client
            .get_parameter()
            .name(abort_parameter_name(run_id))
            .send()
            .await;
        match reply {
            Ok(found) => Ok(found.parameter().and_then(|p| p.value()).map(str::to_owned)),
            // The usual answer: nobody asked to abort this run.
            Err(SdkError::ServiceError(reply)) if reply.err().is_parameter_not_found() => Ok(None),
            Err(e) => Err(service_error("GetParameter", e)),
        }
    }

    async fn clear_abort_request(&self, run_id: &str) -> Result<(), ServiceError> {
        let reply = self
            .client
            .delete_parameter()
            .name(abort_parameter_name(run_id))
            .send()
            .await;
        match reply {
            Ok(_) => Ok(()),
            // The usual answer: nobody asked to abort this run.
            Err(SdkError::ServiceError(reply)) if reply.err().is_parameter_not_found() => Ok(()),
            Err(e) => Err(service_error("DeleteParameter", e)),
        }
    }

    /// The answer key (`aws::answer_key`), read with the same client.
    async fn answer_key(&self, run_id: &str) -> Result<Option<String>, ServiceError> {
        super::answer_key::read(&self.client, &answer_key_parameter_name(run_id)).await
    }
}

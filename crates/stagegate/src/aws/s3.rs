//! `RecordStore` on aws-sdk-s3 0.33.0, the GameSparks SDK's generation: the decision records
//! bucket (docs/audit.md). Records are off unless `RECORD_BUCKET` names a bucket, and then this
//! is the only client notify-result builds beyond SNS and SSM.
//!
//! Unlike the other clients, S3 keeps the SDK's generated endpoint resolver: S3's rules (virtual
//! hosted or path-style addressing, access points, bucket names that are not DNS labels) are not
//! the one-line `https://{service}.{region}...` that `endpoint::Rules` computes, and a guess at
//! them would be a wrong address in some region. With an endpoint override (the local stack's
//! moto) addressing is path-style: `http://127.0.0.1:port/bucket/key`, no DNS per bucket.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;

use super::{endpoint, service_error};
use crate::ports::{RecordStore, ServiceError};

/// The bucket notify-result writes records to; unset or empty: records off.
pub const BUCKET_VAR: &str = "RECORD_BUCKET";

#[derive(Debug, Clone)]
pub struct S3Records {
    client: Client,
    bucket: String,
}

impl S3Records {
    pub fn new(client: Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// `RECORD_BUCKET`'s bucket, or `None` (records off: no client is built, the function's
    /// behaviour is what it was without records). Honours `AWS_ENDPOINT_URL_S3` /
    /// `AWS_ENDPOINT_URL`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Option<Self> {
        let bucket = bucket(|k| std::env::var(k).ok())?;
        Some(Self::for_bucket(config, bucket, endpoint::from_env("S3")))
    }

    /// A client for `bucket` (the CLI's `audit verify` names its own), at `endpoint_url` when
    /// given.
    pub fn for_bucket(
        config: &aws_config::SdkConfig,
        bucket: String,
        endpoint_url: Option<String>,
    ) -> Self {
        let mut builder = aws_sdk_s3::config::Builder::from(config);
        if let Some(url) = endpoint_url {
            builder = builder.endpoint_url(url).force_path_style(true);
        }
        Self::new(Client::from_conf(builder.build()), bucket)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

/// The bucket from the environment; `None` when unset or blank.
pub fn bucket(lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    lookup(BUCKET_VAR)
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
}

impl RecordStore for S3Records {
    async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, ServiceError> {
        const OP: &str = "ListObjectsV2";
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| service_error(OP, e))?;
            keys.extend(
                page.contents()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() => token = Some(next.to_owned()),
                _ => return Ok(keys),
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ServiceError> {
        const OP: &str = "GetObject";
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| service_error(OP, e))?;
        let body = out.body.collect().await.map_err(|e| {
            ServiceError::new(
                crate::ports::ServiceErrorKind::Transport,
                OP,
                format!("reading {key}: {e}"),
            )
        })?;
        Ok(body.into_bytes().to_vec())
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ServiceError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            // Stated on every put, not left to the bucket's default: a record is encrypted at
            // rest even in a bucket someone created without default encryption.
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| service_error("PutObject", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

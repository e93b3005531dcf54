//! The answer function's URL (`stagegate approve | reject | abort --answer-url`): a POST signed
//! with SigV4 for the service `lambda`, as a function URL with AuthType AWS_IAM requires. Lambda
//! checks the signature and hands the function the caller's ARN, which it signs the answer with:
//! the CLI no longer says who answers, IAM does. The request goes through the same connector as
//! every SDK client (stagegate-http), with the profile's credentials.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableRequest, SigningParams, SigningSettings};
use aws_smithy_client::http_connector::ConnectorSettings;
use aws_smithy_http::body::SdkBody;
use aws_smithy_http::byte_stream::ByteStream;
use serde_json::Value;
use tower_service::Service;

/// Where answers go, and what to sign them with.
#[derive(Clone)]
pub struct AnswerUrl {
    pub url: String,
    config: aws_config::SdkConfig,
}

/// The function's reply: its HTTP status and JSON body (`{"error": ...}` when it refused).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The function's own words for a refusal.
    pub fn error(&self) -> String {
        match self.body.get("error").and_then(Value::as_str) {
            Some(e) => format!("the answer function refused ({}): {e}", self.status),
            None => format!(
                "the answer function answered {}: {}",
                self.status, self.body
            ),
        }
    }
}

impl AnswerUrl {
    pub fn new(url: &str, config: &aws_config::SdkConfig) -> Result<Self, String> {
        let url = url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "--answer-url must be the answer function's URL (the stack's AnswerUrl output, \
                 https://...), got {url:?}"
            ));
        }
        Ok(Self {
            url: url.to_owned(),
            config: config.clone(),
        })
    }

    /// POSTs `body`, signed as the configured caller.
    pub async fn post(&self, body: &Value) -> Result<Reply, String> {
        let text = body.to_string();
        let mut request = http::Request::builder()
            .method("POST")
            .uri(&self.url)
            .header("content-type", "application/json")
            .body(text.clone())
            .map_err(|e| format!("--answer-url {}: {e}", self.url))?;
        let host = request
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        request.headers_mut().insert(
            "host",
            host.parse()
                .map_err(|_| format!("--answer-url {}: no host", self.url))?,
        );
        self.sign(&mut request).await?;
        let (parts, _) = request.into_parts();
        let request = http::Request::from_parts(parts, SdkBody::from(text));
        let settings = ConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            .build();
        let mut connector = self
            .config
            .http_connector()
            .and_then(|c| c.connector(&settings, self.config.sleep_impl()))
            .ok_or("no HTTP connector to call --answer-url with")?;
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(|e| format!("--answer-url {}: {e}", self.url))?;
        let response = connector
            .call(request)
            .await
            .map_err(|e| format!("--answer-url {}: {e}", self.url))?;
        let status = response.status().as_u16();
        let bytes = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|e| format!("--answer-url {}: reading the answer: {e}", self.url))?
            .into_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            Value::from(
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(500)
                    .collect::<String>(),
            )
        });
        Ok(Reply { status, body })
    }

    async fn sign(&self, request: &mut http::Request<String>) -> Result<(), String> {
        let provider = self
            .config
            .credentials_provider()
            .ok_or("no AWS credentials to sign the answer with")?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| format!("AWS credentials to sign the answer with: {e}"))?;
        let region = self
            .config
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or("no region to sign the answer for (--region)")?;
        let mut params = SigningParams::builder()
            .access_key(credentials.access_key_id())
            .secret_key(credentials.secret_access_key())
            .region(&region)
            .service_name("lambda")
            .time(SystemTime::now())
            .settings(SigningSettings::default());
        params.set_security_token(credentials.session_token());
        let params = params
            .build()
            .map_err(|e| format!("signing the answer: {e}"))?;
        let (instructions, _) = sign(SignableRequest::from(&*request), &params)
            .map_err(|e| format!("signing the answer: {e}"))?
            .into_parts();
        instructions.apply_to_request(request);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn config() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .region(aws_sdk_sfn::config::Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("session".into()),
                None,
                "test",
            )))
            .http_connector(stagegate_http::connector())
            .build()
    }

    /// One request to a local listener: what arrived, answered with `reply`.
    async fn serve_once(reply: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "http://{}/",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let handle = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap_or_else(|e| panic!("{e}"));
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then the body its content-length announces.
            loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length || n == 0 {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            String::from_utf8_lossy(&seen).to_string()
        });
        (url, handle)
    }

    #[tokio::test]
    async fn answers_are_posted_signed_for_lambda_as_the_configured_caller() {
        let (url, seen) = serve_once(r#"{"by": "arn:aws:iam::1:user/ana"}"#).await;
        let endpoint = AnswerUrl::new(&url, &config()).unwrap_or_else(|e| panic!("{e}"));
        let reply = endpoint
            .post(&json!({"executionArn": "arn", "decision": "approve"}))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (reply.status, reply.body["by"].as_str()),
            (200, Some("arn:aws:iam::1:user/ana"))
        );
        let request = seen.await.unwrap_or_default().to_ascii_lowercase();
        assert!(request.starts_with("post / "), "{request}");
        assert!(
            request.contains("authorization: aws4-hmac-sha256 credential=akidexample/")
                && request.contains("/eu-west-1/lambda/aws4_request"),
            "{request}"
        );
        assert!(
            request.contains("x-amz-security-token: session"),
            "{request}"
        );
        assert!(request.contains("\"decision\":\"approve\""), "{request}");
    }

    #[test]
    fn only_a_url_is_an_answer_url() {
        for bad in ["", "lambda-url", "ftp://x"] {
            assert!(AnswerUrl::new(bad, &config()).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn without_an_answer_url_an_answer_says_what_to_add_and_calls_nothing() {
        // No endpoint, no credentials: any AWS call would fail differently.
        let operator = crate::operator::Operator::from_sdk_config(&config());
        let arn = "arn:aws:states:eu-west-1:1:execution:gate:run";
        let err = operator
            .answer(arn, stagegate::approval::Decision::Approve, None)
            .await
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("--answer-url") && err.contains("STAGEGATE_ANSWER_URL"),
            "{err}"
        );
    }
}

//! Shared helpers for the conformance tests: an in-process emulator per test, a real
//! `aws-sdk-gamesparks` client pointed at it, and a raw HTTP/1.1 client for what the SDK cannot
//! send (unsigned requests, the admin API).

#![allow(dead_code)]

use std::time::Duration;

use aws_sdk_gamesparks::config::retry::RetryConfig;
use aws_sdk_gamesparks::config::timeout::TimeoutConfig;
use aws_sdk_gamesparks::config::{Credentials, Region};
use aws_sdk_gamesparks::Client;
use gamesparks_local::{Config, RunningServer, Scenario, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const GAME: &str = "space-raiders";
pub const KNOWN_GOOD: &str = gamesparks_local::scenario::demo_snapshots::KNOWN_GOOD;
pub const INVALID_ROLE: &str = gamesparks_local::scenario::demo_snapshots::INVALID_ROLE;
pub const NEVER_FINISHES: &str = gamesparks_local::scenario::demo_snapshots::NEVER_FINISHES;
pub const SUCCEEDS: &str = gamesparks_local::scenario::demo_snapshots::DEPLOYS;
pub const UNSPECIFIED: &str = gamesparks_local::scenario::demo_snapshots::UNSPECIFIED_FAILURE;

/// A token of the length the model asks for (33-126).
pub fn token(tag: &str) -> String {
    format!("{tag:-<40}")
}

pub async fn start_with(scenario: Scenario, time_scale: f64) -> RunningServer {
    Server::start(Config {
        scenario,
        time_scale,
        seed: 42,
        ..Config::default()
    })
    .await
    .expect("emulator starts")
}

pub async fn start_demo(time_scale: f64) -> RunningServer {
    start_with(Scenario::demo(), time_scale).await
}

async fn client_with(server: &RunningServer, retry: RetryConfig) -> Client {
    let sdk_config = aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDGAMESPARKSLOCAL",
            "local-secret",
            None,
            None,
            "tests",
        ))
        .load()
        .await;
    let conf = aws_sdk_gamesparks::config::Builder::from(&sdk_config)
        .endpoint_url(server.url())
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

/// An SDK client with the standard retries whose attempts give up after `attempt`.
pub async fn timed_out_client(server: &RunningServer, attempt: Duration) -> Client {
    let client = retrying_client(server, 3).await;
    let conf = client
        .config()
        .to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(attempt)
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

/// An SDK client with retries disabled so every 429/500 surfaces.
pub async fn client(server: &RunningServer) -> Client {
    client_with(server, RetryConfig::disabled()).await
}

/// An SDK client with the standard retry policy and tiny backoff.
pub async fn retrying_client(server: &RunningServer, attempts: u32) -> Client {
    client_with(
        server,
        RetryConfig::standard()
            .with_max_attempts(attempts)
            .with_initial_backoff(Duration::from_millis(5)),
    )
    .await
}

pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
pub async fn raw(
    server: &RunningServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.addr(),
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("response within 10 s")
        .expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("complete response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    RawResponse {
        status,
        headers,
        body: body.to_string(),
    }
}

pub async fn admin_get(server: &RunningServer, path: &str) -> Value {
    let r = raw(server, "GET", path, &[], "").await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

pub async fn admin_post(server: &RunningServer, path: &str, body: &Value) -> RawResponse {
    raw(
        server,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await
}

/// Polls GetStageDeployment until it leaves PENDING/IN_PROGRESS, within `limit` real time.
pub async fn wait_terminal(
    client: &Client,
    stage: &str,
    deployment_id: &str,
    limit: Duration,
) -> aws_sdk_gamesparks::types::StageDeploymentDetails {
    use aws_sdk_gamesparks::types::DeploymentState;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let out = client
            .get_stage_deployment()
            .game_name(GAME)
            .stage_name(stage)
            .deployment_id(deployment_id)
            .send()
            .await
            .expect("GetStageDeployment");
        let d = out.stage_deployment().cloned().expect("StageDeployment");
        match d.deployment_state() {
            Some(DeploymentState::Completed) | Some(DeploymentState::Failed) => return d,
            _ if tokio::time::Instant::now() >= deadline => {
                panic!("deployment {deployment_id} not finished after {limit:?}: {d:?}")
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

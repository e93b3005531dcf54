//! The things the gate needs from the outside world, as small traits.
//!
//! Handlers are generic over these, so every route is tested with in-memory fakes (`fakes`) and
//! run for real with the SDK adapters (`aws`).

use std::fmt;
use std::future::Future;

pub use stagegate_core::deployment::StageRef;
pub use stagegate_core::notification::Notification;

use crate::bake::AlarmStatus;
use crate::deployment::{Deployment, Snapshot};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// GameSparks stage deployments.
pub trait StageDeployments: Send + Sync {
    fn start_deployment(
        &self,
        stage: &StageRef,
        snapshot_id: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<Deployment, ServiceError>> + Send;

    fn get_deployment(
        &self,
        stage: &StageRef,
        deployment_id: &str,
    ) -> impl Future<Output = Result<Deployment, ServiceError>> + Send;

    fn list_deployments(
        &self,
        stage: &StageRef,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Deployment>, ServiceError>> + Send;

    fn list_snapshots(
        &self,
        game_name: &str,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Snapshot>, ServiceError>> + Send;
}

/// The games GameSparks knows: a fleet refuses a game that is not there before it starts any.
/// ListGames pages (100 names a call), not one GetGame per game: 10,000 games are 100 calls.
pub trait GameCatalog: Send + Sync {
    fn list_games(
        &self,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<String>, ServiceError>> + Send;
}

/// Where gate outcomes are published. Returns the message id.
pub trait Notifier: Send + Sync {
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, ServiceError>> + Send;
}

/// CloudWatch alarms a bake window watches.
pub trait Alarms: Send + Sync {
    /// The current state of each named alarm (metric or composite) that exists; names that do
    /// not exist are simply absent from the result.
    fn describe_alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmStatus>, ServiceError>> + Send;
}

/// Where `stagegate abort` leaves its request for a running gate (one per run: its execution and
/// start, `token::run_id`).
pub trait AbortRequests: Send + Sync {
    /// The request's text, if someone asked to abort the run `run_id`.
    fn abort_request(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<String>, ServiceError>> + Send;

    /// Deletes the run's request once its ending is published: nothing reads it after that, and
    /// requests left behind would fill the account's 10,000 Standard parameters. A request that
    /// does not exist is not an error.
    fn clear_abort_request(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// The key answers to approvals are signed with (`approval::signature`), as Parameter Store
    /// holds it (base64), if it exists. It sits beside the abort requests because start-deployment
    /// reads both there with one client; a channel without it (`NoAbortRequests`, direct invokes)
    /// has none, and every answer sent to it is refused.
    /// `run_id` names the state machine whose key it is (`approval::answer_key_parameter_name`).
    fn answer_key(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<String>, ServiceError>> + Send {
        let _ = run_id;
        async { Ok(None) }
    }
}

/// Where the answer function keeps the key it signs answers with, and creates it on first use.
pub trait AnswerKeys: Send + Sync {
    /// The value (base64) of the key parameter `name`, if it exists.
    fn read_key(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, ServiceError>> + Send;

    /// Creates the key parameter `name` with `value` unless it exists: true when this call
    /// created it (two first answers racing create one key, and both then use it).
    fn create_key(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;
}

/// The approval waits of the gate's executions, as the answer function reaches them.
pub trait ApprovalWaits: Send + Sync {
    /// One page of the execution's history asked newest first (`reverseOrder`), each step with
    /// its event id: ids grow with time, so the order is the ids', whatever order a page came in
    /// (moto's, for one, ignores `reverseOrder`).
    fn recent_steps(
        &self,
        execution_arn: &str,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<(i64, crate::approval::wait::Step)>, ServiceError>> + Send;

    /// Answers the wait whose task token is `token` with `output` (SendTaskSuccess).
    fn send_answer(
        &self,
        token: &str,
        output: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// No abort requests: for the handlers' plain `handle`, which runs without the channel (tests,
/// direct invokes).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAbortRequests;

impl AbortRequests for NoAbortRequests {
    async fn abort_request(&self, _run_id: &str) -> Result<Option<String>, ServiceError> {
        Ok(None)
    }

    async fn clear_abort_request(&self, _run_id: &str) -> Result<(), ServiceError> {
        Ok(())
    }
}

/// Where decision records are kept (docs/audit.md): an S3 bucket, one object per run ending.
/// The three calls a record costs and no more: no delete (a record is never removed by the gate)
/// and no conditional write (the SDK generation has none; `chain` reports the forks that allows).
pub trait RecordStore: Send + Sync {
    /// Every key under `prefix`, in S3's order (ascending, by UTF-8 bytes), all pages read.
    fn list_keys(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, ServiceError>> + Send;

    /// The object's exact bytes; `NotFound` when there is none.
    fn get(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, ServiceError>> + Send;

    /// Stores `bytes` under `key`, encrypted at rest, replacing what is there.
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// Records off (the bucket variable unset): for `notify::handle_with`, which writes none. Every
/// call is refused, so a route that reached one would show in a test.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordsOff;

impl RecordStore for RecordsOff {
    async fn list_keys(&self, _prefix: &str) -> Result<Vec<String>, ServiceError> {
        Err(ServiceError::other(
            "ListObjectsV2",
            "decision records are off",
        ))
    }

    async fn get(&self, _key: &str) -> Result<Vec<u8>, ServiceError> {
        Err(ServiceError::other("GetObject", "decision records are off"))
    }

    async fn put(&self, _key: &str, _bytes: Vec<u8>) -> Result<(), ServiceError> {
        Err(ServiceError::other("PutObject", "decision records are off"))
    }
}

/// Where a run's metrics record goes: CloudWatch embedded metric format on the function's log
/// stream, which CloudWatch Logs turns into metrics without a call (and without a permission).
pub trait Metrics: Send + Sync {
    fn emit(&self, record: &serde_json::Value);
}

/// What went wrong in a call, as far as the gate's decisions care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceErrorKind {
    /// Another deployment is PENDING or IN_PROGRESS, or a ClientToken was reused for another request.
    Conflict,
    AccessDenied,
    NotFound,
    Throttled,
    /// A 5xx from the service.
    Internal,
    /// No usable response: timeout, connection failure, unparsable reply.
    Transport,
    /// The service rejected the request's parameters.
    Validation,
    Other,
}

impl ServiceErrorKind {
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Internal | Self::Transport)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub kind: ServiceErrorKind,
    pub operation: String,
    /// The service's error code (`x-amzn-errortype`), when it sent one.
    pub code: Option<String>,
    pub message: String,
}

impl ServiceError {
    pub fn new(kind: ServiceErrorKind, operation: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            operation: operation.to_owned(),
            code: None,
            message: message.into(),
        }
    }

    pub fn other(operation: &str, message: impl Into<String>) -> Self {
        Self::new(ServiceErrorKind::Other, operation, message)
    }

    /// Classifies a service error reply by its error code, falling back on the HTTP status for
    /// errors the model does not list for the operation.
    pub fn from_reply(
        operation: &str,
        code: Option<&str>,
        status: Option<u16>,
        message: Option<&str>,
    ) -> Self {
        let kind = match code {
            Some("ConflictException") => ServiceErrorKind::Conflict,
            Some("AccessDeniedException") => ServiceErrorKind::AccessDenied,
            Some("ResourceNotFoundException") => ServiceErrorKind::NotFound,
            Some(
                "ThrottlingException"
                | "Throttling"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "SlowDown",
            ) => ServiceErrorKind::Throttled,
            Some("InternalServerException" | "InternalFailure" | "ServiceUnavailable") => {
                ServiceErrorKind::Internal
            }
            Some("ValidationException" | "InvalidParameter" | "InvalidParameterValue") => {
                ServiceErrorKind::Validation
            }
            Some("AuthorizationError" | "UnrecognizedClientException") => {
                ServiceErrorKind::AccessDenied
            }
            Some("NotFound" | "NotFoundException") => ServiceErrorKind::NotFound,
            _ => match status {
                Some(429) => ServiceErrorKind::Throttled,
                Some(403) => ServiceErrorKind::AccessDenied,
                Some(404) => ServiceErrorKind::NotFound,
                Some(409) => ServiceErrorKind::Conflict,
                Some(s) if s >= 500 => ServiceErrorKind::Internal,
                _ => ServiceErrorKind::Other,
            },
        };
        Self {
            kind,
            operation: operation.to_owned(),
            code: code.map(str::to_owned),
            message: message.unwrap_or("no message").to_owned(),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed with {code}: {}", self.operation, self.message),
            None => write!(f, "{} failed: {}", self.operation, self.message),
        }
    }
}

impl std::error::Error for ServiceError {}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceErrorKind::*;

    #[test]
    fn reply_classification() {
        let cases: &[(Option<&str>, Option<u16>, ServiceErrorKind)] = &[
            (Some("ConflictException"), Some(409), Conflict),
            (Some("AccessDeniedException"), Some(403), AccessDenied),
            (Some("ResourceNotFoundException"), Some(404), NotFound),
            (Some("ThrottlingException"), Some(429), Throttled),
            (Some("Throttling"), Some(400), Throttled),
            (Some("InternalServerException"), Some(500), Internal),
            (Some("ValidationException"), Some(400), Validation),
            (Some("AuthorizationError"), Some(403), AccessDenied),
            (Some("NotFound"), Some(404), NotFound),
            (None, Some(503), Internal),
            (None, Some(429), Throttled),
            (None, Some(409), Conflict),
            (Some("SomethingNew"), Some(400), Other),
            (None, None, Other),
        ];
        for (code, status, want) in cases {
            let e = ServiceError::from_reply("Op", *code, *status, Some("m"));
            assert_eq!(e.kind, *want, "{code:?} {status:?}");
        }
    }

    #[test]
    fn retryable_kinds() {
        let retryable: Vec<_> = [
            Conflict,
            AccessDenied,
            NotFound,
            Throttled,
            Internal,
            Transport,
            Validation,
            Other,
        ]
        .into_iter()
        .filter(|k| k.is_retryable())
        .collect();
        assert_eq!(retryable, vec![Throttled, Internal, Transport]);
    }

    #[test]
    fn display_names_operation_and_code() {
        let e = ServiceError::from_reply(
            "StartStageDeployment",
            Some("ConflictException"),
            Some(409),
            Some("busy"),
        );
        assert_eq!(
            e.to_string(),
            "StartStageDeployment failed with ConflictException: busy"
        );
    }
}

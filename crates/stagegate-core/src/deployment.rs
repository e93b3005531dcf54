//! What GameSparks tells us about deployments and snapshots, in the gate's own words.
//!
//! Enums keep an `Unknown` arm: the service model is frozen, but a value we have never seen must
//! reach a decision (and the notification) rather than fail deserialisation.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentState {
    Pending,
    InProgress,
    Completed,
    Failed,
    Unknown(String),
}

impl DeploymentState {
    pub fn parse(s: &str) -> Self {
        match s {
            "PENDING" => Self::Pending,
            "IN_PROGRESS" => Self::InProgress,
            "COMPLETED" => Self::Completed,
            "FAILED" => Self::Failed,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Unknown(s) => s,
        }
    }

    /// PENDING or IN_PROGRESS: the deployment holds the stage.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Pending | Self::InProgress)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultCode {
    Success,
    InvalidRoleFailure,
    UnspecifiedFailure,
    Unknown(String),
}

impl ResultCode {
    pub fn parse(s: &str) -> Self {
        match s {
            "SUCCESS" => Self::Success,
            "INVALID_ROLE_FAILURE" => Self::InvalidRoleFailure,
            "UNSPECIFIED_FAILURE" => Self::UnspecifiedFailure,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Success => "SUCCESS",
            Self::InvalidRoleFailure => "INVALID_ROLE_FAILURE",
            Self::UnspecifiedFailure => "UNSPECIFIED_FAILURE",
            Self::Unknown(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentAction {
    Deploy,
    Undeploy,
}

/// A stage deployment, from StartStageDeployment / GetStageDeployment (all fields) or
/// ListStageDeployments (no `created`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: String,
    pub snapshot_id: Option<String>,
    pub action: Option<DeploymentAction>,
    pub state: DeploymentState,
    pub result_code: Option<ResultCode>,
    pub result_message: Option<String>,
    pub created: Option<OffsetDateTime>,
    pub last_updated: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    pub created: Option<OffsetDateTime>,
    pub description: Option<String>,
}

/// A stage of a game: what every GameSparks call addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRef {
    pub game_name: String,
    pub stage_name: String,
}

impl fmt::Display for StageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.game_name, self.stage_name)
    }
}

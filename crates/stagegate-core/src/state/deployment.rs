//! What GameSparks tells us about deployments and snapshots, in the gate's own words.
//!
//! Enums keep an `Unknown` arm: the service model is frozen, but a value we have never seen must
//! reach a decision (and the notification) rather than fail deserialisation.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// Serialized as GameSparks spells it (`"IN_PROGRESS"`); an unknown value round-trips unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentState {
    Pending,
    InProgress,
    Completed,
    Failed,
    /// The gate's own, never GameSparks': no deployment was started (nothing new to deploy, a
    /// stage refused before its start, a rollback GameSparks refused).
    NotStarted,
    Unknown(String),
}

impl DeploymentState {
    pub fn parse(s: &str) -> Self {
        match s {
            "PENDING" => Self::Pending,
            "IN_PROGRESS" => Self::InProgress,
            "COMPLETED" => Self::Completed,
            "FAILED" => Self::Failed,
            "NOT_STARTED" => Self::NotStarted,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::NotStarted => "NOT_STARTED",
            Self::Unknown(s) => s,
        }
    }

    /// PENDING or IN_PROGRESS: the deployment holds the stage.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Pending | Self::InProgress)
    }
}

/// Serialized as GameSparks spells it (`"INVALID_ROLE_FAILURE"`); an unknown value round-trips
/// unchanged.
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

/// Both enums travel in the gate state and the message as the service's own strings, so a
/// subscriber reads the value GameSparks reported, and one the model never listed still arrives.
macro_rules! wire_string {
    ($ty:ident, $($known:literal),+) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::parse(&s))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "description": concat!(
                        "As GameSparks reported it: one of ",
                        $($known, ", ",)+
                        "or any other string a changed service might send."
                    ),
                    "examples": [$($known),+]
                })
            }
        }
    };
}

wire_string!(
    DeploymentState,
    "PENDING",
    "IN_PROGRESS",
    "COMPLETED",
    "FAILED",
    "NOT_STARTED"
);
wire_string!(
    ResultCode,
    "SUCCESS",
    "INVALID_ROLE_FAILURE",
    "UNSPECIFIED_FAILURE"
);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_codes_travel_as_the_service_spells_them() {
        for (state, wire) in [
            (DeploymentState::InProgress, "\"IN_PROGRESS\""),
            (DeploymentState::Unknown("PAUSED".into()), "\"PAUSED\""),
        ] {
            assert_eq!(serde_json::to_string(&state).ok().as_deref(), Some(wire));
            assert_eq!(
                serde_json::from_str::<DeploymentState>(wire).ok(),
                Some(state)
            );
        }
        for (code, wire) in [
            (ResultCode::InvalidRoleFailure, "\"INVALID_ROLE_FAILURE\""),
            (ResultCode::Unknown("QUOTA".into()), "\"QUOTA\""),
        ] {
            assert_eq!(serde_json::to_string(&code).ok().as_deref(), Some(wire));
            assert_eq!(serde_json::from_str::<ResultCode>(wire).ok(), Some(code));
        }
    }
}

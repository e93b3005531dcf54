//! The JSON shapes of GameSparks responses, named and spelt as the official API model
//! (`gamesparks-2021-08-17.service.json`) defines them: `GameSummary`, `StageDetails`,
//! `ListGamesResult`...
//!
//! The wire format is a contract with the real SDK (PascalCase member names, absent members
//! omitted rather than null, ISO-8601 timestamps), and it changes for other reasons than the
//! emulated account does. Declaring each shape once as a struct means a member name is spelt in
//! one place and optional members are omitted by declaration, so the world's operations only
//! decide what to answer, never how it is spelt. The shapes borrow from the world: they are
//! built right before serialization and never stored. Enum members use the enums' serde
//! spelling, which is the model's (checked by a test below).

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::error::{ApiError, ErrorKind};
use crate::scenario::{DeploymentAction, DeploymentState, EntityState, ResultCode};

/// `TagMap`; omitted from a response when empty.
type Tags = BTreeMap<String, String>;

/// `DateTime` members: ISO-8601 in UTC, as the service sends them.
fn timestamp<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}

/// A response shape as the JSON body the server sends.
pub(crate) fn to_body<T: Serialize>(shape: &T) -> Result<Value, ApiError> {
    // These shapes hold only strings, numbers and string-keyed maps, so this cannot fail; if it
    // ever did, the client gets an InternalServerException rather than the server panicking.
    serde_json::to_value(shape).map_err(|e| {
        ApiError::new(
            ErrorKind::InternalServer,
            format!("could not serialize the response: {e}"),
        )
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GameSummary<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub name: &'a str,
    pub state: EntityState,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: &'a Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GameDetails<'a> {
    pub arn: &'a str,
    #[serde(serialize_with = "timestamp")]
    pub created: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub enable_termination_protection: bool,
    #[serde(serialize_with = "timestamp")]
    pub last_updated: OffsetDateTime,
    pub name: &'a str,
    pub state: EntityState,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: &'a Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StageSummary<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub game_key: &'a str,
    pub name: &'a str,
    pub state: EntityState,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: &'a Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StageDetails<'a> {
    pub arn: &'a str,
    #[serde(serialize_with = "timestamp")]
    pub created: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub game_key: &'a str,
    #[serde(serialize_with = "timestamp")]
    pub last_updated: OffsetDateTime,
    pub log_group: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub state: EntityState,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: &'a Tags,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SnapshotSummary<'a> {
    #[serde(serialize_with = "timestamp")]
    pub created: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub id: &'a str,
    #[serde(serialize_with = "timestamp")]
    pub last_updated: OffsetDateTime,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SnapshotDetails<'a> {
    #[serde(serialize_with = "timestamp")]
    pub created: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub id: &'a str,
    #[serde(serialize_with = "timestamp")]
    pub last_updated: OffsetDateTime,
    /// Always present, possibly empty (e.g. every section filtered out).
    pub sections: BTreeMap<&'a str, Section<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Section<'a> {
    pub attributes: &'a Value,
    pub name: &'a str,
    /// `ByteSize`: length of the attributes document as compact JSON.
    pub size: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeploymentResult<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    pub result_code: ResultCode,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StageDeploymentSummary<'a> {
    pub deployment_action: DeploymentAction,
    pub deployment_id: &'a str,
    /// Only once the deployment has finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_result: Option<DeploymentResult<'a>>,
    pub deployment_state: DeploymentState,
    #[serde(serialize_with = "timestamp")]
    pub last_updated: OffsetDateTime,
    pub snapshot_id: &'a str,
}

/// The summary's members plus `Created`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StageDeploymentDetails<'a> {
    #[serde(serialize_with = "timestamp")]
    pub created: OffsetDateTime,
    #[serde(flatten)]
    pub summary: StageDeploymentSummary<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGamesResult<'a> {
    pub games: Vec<GameSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetGameResult<'a> {
    pub game: GameDetails<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListStagesResult<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub stages: Vec<StageSummary<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetStageResult<'a> {
    pub stage: StageDetails<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSnapshotsResult<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub snapshots: Vec<SnapshotSummary<'a>>,
}

/// `GetSnapshotResult` and `CreateSnapshotResult`, which have the same single member.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SnapshotResult<'a> {
    pub snapshot: SnapshotDetails<'a>,
}

/// `StartStageDeploymentResult` and `GetStageDeploymentResult`, which have the same single
/// member.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StageDeploymentResult<'a> {
    pub stage_deployment: StageDeploymentDetails<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListStageDeploymentsResult<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub stage_deployments: Vec<StageDeploymentSummary<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn body<T: Serialize>(shape: &T) -> Value {
        to_body(shape).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The enums serialize as the model's enum values, i.e. as their `as_str`.
    #[test]
    fn enum_members_use_model_values() {
        for s in [EntityState::Active, EntityState::Deleting] {
            assert_eq!(body(&s), json!(s.as_str()));
        }
        for s in [
            DeploymentState::Pending,
            DeploymentState::InProgress,
            DeploymentState::Completed,
            DeploymentState::Failed,
        ] {
            assert_eq!(body(&s), json!(s.as_str()));
        }
        for a in [DeploymentAction::Deploy, DeploymentAction::Undeploy] {
            assert_eq!(body(&a), json!(a.as_str()));
        }
        for r in [
            ResultCode::Success,
            ResultCode::InvalidRoleFailure,
            ResultCode::UnspecifiedFailure,
        ] {
            assert_eq!(body(&r), json!(r.as_str()));
        }
    }

    #[test]
    fn absent_members_are_omitted() {
        let at = datetime!(2026-11-26 05:00:00 UTC);
        let summary = StageDeploymentSummary {
            deployment_action: DeploymentAction::Deploy,
            deployment_id: "dep-1",
            deployment_result: None,
            deployment_state: DeploymentState::Pending,
            last_updated: at,
            snapshot_id: "Snapshot_1",
        };
        let details = StageDeploymentResult {
            stage_deployment: StageDeploymentDetails {
                created: at,
                summary,
            },
        };
        assert_eq!(
            body(&details),
            json!({ "StageDeployment": {
                "Created": "2026-11-26T05:00:00Z",
                "DeploymentAction": "DEPLOY",
                "DeploymentId": "dep-1",
                "DeploymentState": "PENDING",
                "LastUpdated": "2026-11-26T05:00:00Z",
                "SnapshotId": "Snapshot_1",
            }})
        );
        let tags = Tags::new();
        let list = ListGamesResult {
            games: vec![GameSummary {
                description: None,
                name: "g",
                state: EntityState::Active,
                tags: &tags,
            }],
            next_token: None,
        };
        assert_eq!(
            body(&list),
            json!({ "Games": [{ "Name": "g", "State": "ACTIVE" }] })
        );
    }
}

//! `StageDeployments` and `GameCatalog` on aws-sdk-gamesparks.

use aws_sdk_gamesparks::types::{
    DeploymentResult, SnapshotSummary, StageDeploymentDetails, StageDeploymentSummary,
};
use aws_sdk_gamesparks::Client;
use time::OffsetDateTime;

use super::{endpoint, service_error};
use crate::deployment::{Deployment, DeploymentAction, DeploymentState, ResultCode, Snapshot};
use crate::ports::{GameCatalog, Page, ServiceError, StageDeployments, StageRef};

#[derive(Debug, Clone)]
pub struct GameSparksDeployments {
    client: Client,
}

impl GameSparksDeployments {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Honours `AWS_ENDPOINT_URL_GAMESPARKS` / `AWS_ENDPOINT_URL` (e.g. the local emulator).
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        let mut builder = aws_sdk_gamesparks::config::Builder::from(config)
            .endpoint_resolver(endpoint::GAMESPARKS);
        if let Some(url) = endpoint::from_env("GAMESPARKS") {
            builder = builder.endpoint_url(url);
        }
        Self::new(Client::from_conf(builder.build()))
    }
}

impl StageDeployments for GameSparksDeployments {
    async fn start_deployment(
        &self,
        stage: &StageRef,
        snapshot_id: &str,
        client_token: &str,
    ) -> Result<Deployment, ServiceError> {
        const OP: &str = "StartStageDeployment";
        let out = self
            .client
            .start_stage_deployment()
            .game_name(&stage.game_name)
            .stage_name(&stage.stage_name)
            .snapshot_id(snapshot_id)
            .client_token(client_token)
            .send()
            .await
            .map_err(|e| service_error(OP, e))?;
        details(OP, out.stage_deployment())
    }

    async fn get_deployment(
        &self,
        stage: &StageRef,
        deployment_id: &str,
    ) -> Result<Deployment, ServiceError> {
        const OP: &str = "GetStageDeployment";
        let out = self
            .client
            .get_stage_deployment()
            .game_name(&stage.game_name)
            .stage_name(&stage.stage_name)
            .deployment_id(deployment_id)
            .send()
            .await
            .map_err(|e| service_error(OP, e))?;
        details(OP, out.stage_deployment())
    }

    async fn list_deployments(
        &self,
        stage: &StageRef,
        next_token: Option<String>,
    ) -> Result<Page<Deployment>, ServiceError> {
        const OP: &str = "ListStageDeployments";
        let out = self
            .client
            .list_stage_deployments()
            .game_name(&stage.game_name)
            .stage_name(&stage.stage_name)
            .set_next_token(next_token)
            .max_results(100)
            .send()
            .await
            .map_err(|e| service_error(OP, e))?;
        let items = out
            .stage_deployments()
            .unwrap_or_default()
            .iter()
            .filter_map(summary)
            .collect();
        Ok(Page {
            items,
            next_token: out.next_token().map(str::to_owned),
        })
    }

    async fn list_snapshots(
        &self,
        game_name: &str,
        next_token: Option<String>,
    ) -> Result<Page<Snapshot>, ServiceError> {
        const OP: &str = "ListSnapshots";
        let out = self
            .client
            .list_snapshots()
            .game_name(game_name)
            .set_next_token(next_token)
            .max_results(100)
            .send()
            .await
            .map_err(|e| service_error(OP, e))?;
        let items = out
            .snapshots()
            .unwrap_or_default()
            .iter()
            .filter_map(snapshot)
            .collect();
        Ok(Page {
            items,
            next_token: out.next_token().map(str::to_owned),
        })
    }
}

impl GameCatalog for GameSparksDeployments {
    async fn list_games(&self, next_token: Option<String>) -> Result<Page<String>, ServiceError> {
        const OP: &str = "ListGames";
        let out = self
            .client
            .list_games()
            .set_next_token(next_token)
            .max_results(100)
            .send()
            .await
            .map_err(|e| service_error(OP, e))?;
        Ok(Page {
            items: out
                .games()
                .unwrap_or_default()
                .iter()
                .filter_map(|g| g.name().map(str::to_owned))
                .collect(),
            next_token: out.next_token().map(str::to_owned),
        })
    }
}

fn details(
    operation: &str,
    d: Option<&StageDeploymentDetails>,
) -> Result<Deployment, ServiceError> {
    let d =
        d.ok_or_else(|| ServiceError::other(operation, "the response has no StageDeployment"))?;
    let id = d
        .deployment_id()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ServiceError::other(operation, "the response has no DeploymentId"))?;
    let (result_code, result_message) = result(d.deployment_result());
    Ok(Deployment {
        id: id.to_owned(),
        snapshot_id: d.snapshot_id().map(str::to_owned),
        action: d.deployment_action().and_then(|a| action(a.as_str())),
        state: state(d.deployment_state().map(|s| s.as_str())),
        result_code,
        result_message,
        created: d.created().and_then(timestamp),
        last_updated: d.last_updated().and_then(timestamp),
    })
}

/// Entries without an id cannot be rollback targets; they are skipped rather than failing the run.
fn summary(d: &StageDeploymentSummary) -> Option<Deployment> {
    let (result_code, result_message) = result(d.deployment_result());
    Some(Deployment {
        id: d.deployment_id()?.to_owned(),
        snapshot_id: d.snapshot_id().map(str::to_owned),
        action: d.deployment_action().and_then(|a| action(a.as_str())),
        state: state(d.deployment_state().map(|s| s.as_str())),
        result_code,
        result_message,
        created: None,
        last_updated: d.last_updated().and_then(timestamp),
    })
}

fn result(r: Option<&DeploymentResult>) -> (Option<ResultCode>, Option<String>) {
    (
        r.and_then(|r| r.result_code())
            .map(|c| ResultCode::parse(c.as_str())),
        r.and_then(|r| r.message()).map(str::to_owned),
    )
}

fn snapshot(s: &SnapshotSummary) -> Option<Snapshot> {
    Some(Snapshot {
        id: s.id()?.to_owned(),
        created: s.created().and_then(timestamp),
        description: s.description().map(str::to_owned),
    })
}

fn action(s: &str) -> Option<DeploymentAction> {
    match s {
        "DEPLOY" => Some(DeploymentAction::Deploy),
        "UNDEPLOY" => Some(DeploymentAction::Undeploy),
        _ => None,
    }
}

fn state(s: Option<&str>) -> DeploymentState {
    DeploymentState::parse(s.unwrap_or("MISSING"))
}

pub(super) fn timestamp(t: &aws_smithy_types::DateTime) -> Option<OffsetDateTime> {
    let nanos = i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_gamesparks::types as sdk;

    #[test]
    fn details_map_every_field() {
        let d = sdk::StageDeploymentDetails::builder()
            .deployment_id("dep-1")
            .snapshot_id("Snapshot_2026-01-01T00:00:00.000Z")
            .deployment_action(sdk::DeploymentAction::Deploy)
            .deployment_state(sdk::DeploymentState::Failed)
            .deployment_result(
                sdk::DeploymentResult::builder()
                    .result_code(sdk::ResultCode::InvalidRoleFailure)
                    .message("role")
                    .build(),
            )
            .created(aws_smithy_types::DateTime::from_secs_and_nanos(
                1_700_000_000,
                5,
            ))
            .build();
        let got = details("Op", Some(&d)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.id, "dep-1");
        assert_eq!(got.action, Some(DeploymentAction::Deploy));
        assert_eq!(got.state, DeploymentState::Failed);
        assert_eq!(got.result_code, Some(ResultCode::InvalidRoleFailure));
        assert_eq!(got.result_message.as_deref(), Some("role"));
        assert_eq!(
            got.created.map(|t| t.unix_timestamp_nanos()),
            Some(1_700_000_000_000_000_005)
        );
        assert_eq!(got.last_updated, None);
    }

    #[test]
    fn missing_details_or_id_is_an_error() {
        assert!(details("Op", None).is_err());
        let no_id = sdk::StageDeploymentDetails::builder().build();
        assert!(details("Op", Some(&no_id)).is_err());
        let no_state = sdk::StageDeploymentDetails::builder()
            .deployment_id("d")
            .build();
        assert_eq!(
            details("Op", Some(&no_state)).map(|d| d.state).ok(),
            Some(DeploymentState::Unknown("MISSING".into()))
        );
    }
}

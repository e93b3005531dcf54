//! StartStageDeployment, GetStageDeployment and ListStageDeployments: the operations the gate
//! exists for.
//!
//! Starting a deployment is where the emulator's request rules live (ClientToken idempotency,
//! one active deployment per stage, per-snapshot and per-stage outcomes), so this family gets a
//! file of its own; how a started deployment then plays out is the model's business.

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::model::{newest_first, render_message, settle, Deployment, Plan};
use super::{not_found_game, not_found_stage, TokenUse, World};
use crate::error::{ApiError, ErrorKind};
use crate::op::Op;
use crate::pagination::{paginate, PageRequest};
use crate::scenario::{DeploymentAction, ResultCode};
use crate::wire::{
    to_body, DeploymentResult, ListStageDeploymentsResult, StageDeploymentDetails,
    StageDeploymentResult, StageDeploymentSummary,
};

/// The deployment as it stands at `now`.
fn summary(d: &Deployment, now: OffsetDateTime) -> StageDeploymentSummary<'_> {
    let v = d.view(now);
    StageDeploymentSummary {
        deployment_action: d.action,
        deployment_id: &d.id,
        deployment_result: v.result.map(|(result_code, message)| DeploymentResult {
            message,
            result_code,
        }),
        deployment_state: v.state,
        last_updated: v.last_updated,
        snapshot_id: &d.snapshot_id,
    }
}

/// The body of StartStageDeployment and GetStageDeployment.
fn answer(d: &Deployment, now: OffsetDateTime) -> Result<Value, ApiError> {
    to_body(&StageDeploymentResult {
        stage_deployment: StageDeploymentDetails {
            created: d.created,
            summary: summary(d, now),
        },
    })
}

impl World {
    pub fn start_stage_deployment(
        &mut self,
        game: &str,
        stage: &str,
        snapshot_id: &str,
        client_token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let World {
            games,
            ids,
            stats,
            client_tokens,
            outcomes,
            default_outcome,
            ..
        } = self;
        let g = games.get_mut(game).ok_or_else(|| not_found_game(game))?;
        let st = g
            .stages
            .get_mut(stage)
            .ok_or_else(|| not_found_stage(game, stage))?;
        let stage_stats = stats.entry(format!("{game}/{stage}")).or_default();
        settle(st, now, ids, stage_stats);

        if let Some(token) = client_token {
            if let Some(used) = client_tokens.get(token) {
                let same =
                    used.game == game && used.stage == stage && used.snapshot_id == snapshot_id;
                let existing = st.deployments.iter().find(|d| d.id == used.deployment_id);
                if let (true, Some(d)) = (same, existing) {
                    stage_stats.idempotent_replays += 1;
                    return answer(d, now);
                }
                stage_stats.conflicts += 1;
                return Err(ApiError::conflict(format!(
                    "ClientToken {token} was already used for a different request \
                     (deployment {} of snapshot {} to stage {} of game {})",
                    used.deployment_id, used.snapshot_id, used.stage, used.game
                )));
            }
        }

        if !g.snapshots.contains_key(snapshot_id) {
            return Err(ApiError::not_found(format!(
                "Snapshot {snapshot_id} not found in game {game}"
            )));
        }
        if let Some(active) = st
            .deployments
            .iter()
            .find(|d| d.view(now).state.is_active())
        {
            stage_stats.conflicts += 1;
            return Err(ApiError::conflict(format!(
                "Stage {stage} of game {game} already has a deployment in progress: {} ({}, snapshot {})",
                active.id,
                active.view(now).state.as_str(),
                active.snapshot_id
            )));
        }

        // `<snapshot>@<stage>` (set through the admin API) overrides the snapshot's outcome on
        // one stage, e.g. a snapshot that deploys on dev but fails on staging.
        let outcome = outcomes
            .get(&format!("{snapshot_id}@{stage}"))
            .or_else(|| outcomes.get(snapshot_id))
            .unwrap_or(default_outcome)
            .clone();
        let message = match outcome.result {
            ResultCode::Success => outcome.message.clone(),
            r => render_message(outcome.message.as_deref(), r, game, st, snapshot_id),
        };
        let deployment = Deployment {
            id: ids.deployment_id(),
            seq: ids.seq(),
            action: DeploymentAction::Deploy,
            snapshot_id: snapshot_id.to_string(),
            created: now,
            plan: Plan::Live {
                pending: Duration::saturating_seconds_f64(outcome.pending_seconds),
                duration: Duration::saturating_seconds_f64(outcome.duration_seconds),
                never_finish: outcome.never_finish,
                result: outcome.result,
                message,
            },
            applied: false,
        };
        let id = deployment.id.clone();
        st.deployments.push(deployment);
        stage_stats.deploy += 1;
        if let Some(token) = client_token {
            client_tokens.insert(
                token.to_string(),
                TokenUse {
                    game: game.to_string(),
                    stage: stage.to_string(),
                    snapshot_id: snapshot_id.to_string(),
                    deployment_id: id.clone(),
                },
            );
        }
        // Zero-length outcomes complete immediately.
        settle(st, now, ids, stage_stats);
        let d = st
            .deployments
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| ApiError::new(ErrorKind::InternalServer, "deployment vanished"))?;
        answer(d, now)
    }

    /// Without a DeploymentId, the stage's most recently started DEPLOY (UNDEPLOY entries are
    /// bookkeeping the service adds, not something a caller started).
    pub fn get_stage_deployment(
        &mut self,
        game: &str,
        stage: &str,
        deployment_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let st = self.stage_mut(game, stage, now)?;
        let found = match deployment_id {
            Some(id) => st.deployments.iter().find(|d| d.id == id).ok_or_else(|| {
                ApiError::not_found(format!(
                    "Deployment {id} not found in stage {stage} of game {game}"
                ))
            })?,
            None => newest_first(&st.deployments)
                .into_iter()
                .find(|d| d.action == DeploymentAction::Deploy)
                .ok_or_else(|| {
                    ApiError::not_found(format!("Stage {stage} of game {game} has no deployments"))
                })?,
        };
        answer(found, now)
    }

    pub fn list_stage_deployments(
        &mut self,
        game: &str,
        stage: &str,
        page: &PageRequest,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let page_size = self.page_size;
        let secret = self.token_secret.clone();
        let st = self.stage_mut(game, stage, now)?;
        let (items, next_token) = paginate(
            newest_first(&st.deployments),
            |d| d.id.clone(),
            &secret,
            &format!("{}/{game}/{stage}", Op::ListStageDeployments.name()),
            page,
            page_size,
        )?;
        to_body(&ListStageDeploymentsResult {
            next_token,
            stage_deployments: items.into_iter().map(|d| summary(d, now)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use time::Duration;

    use super::super::fixtures::{world, T0};
    use crate::error::ErrorKind;
    use crate::pagination::PageRequest;
    use crate::scenario::demo_snapshots;

    fn state(v: &Value) -> &str {
        v["StageDeployment"]["DeploymentState"].as_str().unwrap()
    }

    #[test]
    fn lifecycle_and_undeploy() {
        let mut w = world();
        let snap = demo_snapshots::DEPLOYS;
        let r = w
            .start_stage_deployment("space-raiders", "dev", snap, None, T0)
            .unwrap();
        assert_eq!(state(&r), "PENDING");
        let id = r["StageDeployment"]["DeploymentId"]
            .as_str()
            .unwrap()
            .to_string();
        let at = |s: i64| T0 + Duration::seconds(s);
        let r = w
            .get_stage_deployment("space-raiders", "dev", Some(&id), at(6))
            .unwrap();
        assert_eq!(state(&r), "IN_PROGRESS");
        let err = w
            .start_stage_deployment("space-raiders", "dev", snap, None, at(6))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        let r = w
            .get_stage_deployment("space-raiders", "dev", None, at(65))
            .unwrap();
        assert_eq!(state(&r), "COMPLETED");
        assert_eq!(r["StageDeployment"]["LastUpdated"], "2026-11-26T05:01:05Z");
        let list = w
            .list_stage_deployments("space-raiders", "dev", &PageRequest::default(), at(70))
            .unwrap();
        let first = &list["StageDeployments"][0];
        assert_eq!(first["DeploymentAction"], "UNDEPLOY");
        assert_eq!(first["SnapshotId"], demo_snapshots::KNOWN_GOOD);
        assert_eq!(first["LastUpdated"], "2026-11-26T05:01:05Z");
        assert_eq!(list["StageDeployments"][1]["DeploymentId"], id.as_str());
        assert_eq!(w.stats["space-raiders/dev"].undeploy, 1);
    }

    #[test]
    fn failures_carry_messages() {
        let mut w = world();
        let r = w
            .start_stage_deployment(
                "space-raiders",
                "prod",
                "Snapshot_2026-11-20T16:45:00.000Z",
                None,
                T0,
            )
            .unwrap();
        let id = r["StageDeployment"]["DeploymentId"]
            .as_str()
            .unwrap()
            .to_string();
        let r = w
            .get_stage_deployment(
                "space-raiders",
                "prod",
                Some(&id),
                T0 + Duration::minutes(1),
            )
            .unwrap();
        assert_eq!(state(&r), "FAILED");
        let result = &r["StageDeployment"]["DeploymentResult"];
        assert_eq!(result["ResultCode"], "INVALID_ROLE_FAILURE");
        assert!(result["Message"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::123456789012:role/GameSparksSpaceRaidersProd"));
        // A failed deployment leaves the runtime alone: no UNDEPLOY.
        let list = w
            .list_stage_deployments(
                "space-raiders",
                "prod",
                &PageRequest::default(),
                T0 + Duration::minutes(2),
            )
            .unwrap();
        assert_eq!(list["StageDeployments"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn client_token_idempotency() {
        let mut w = world();
        let tok = "t".repeat(40);
        let snap = demo_snapshots::DEPLOYS;
        let a = w
            .start_stage_deployment("space-raiders", "dev", snap, Some(&tok), T0)
            .unwrap();
        let b = w
            .start_stage_deployment("space-raiders", "dev", snap, Some(&tok), T0)
            .unwrap();
        assert_eq!(
            a["StageDeployment"]["DeploymentId"],
            b["StageDeployment"]["DeploymentId"]
        );
        let err = w
            .start_stage_deployment("space-raiders", "prod", snap, Some(&tok), T0)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
    }
}

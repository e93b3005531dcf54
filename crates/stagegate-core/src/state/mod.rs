//! The gate state: the one JSON document the workflow carries from task to task.
//!
//! Every task returns the whole state with `action` (what to do next), `waitSeconds` and `reason`
//! set by the core, so the state machine only routes on those fields.
//!
//! Its folder holds what the state is made of: `deployment` (GameSparks' deployments and
//! snapshots as the gate sees them), `evidence` (the decision record) and `timefmt` (the RFC 3339
//! form every timestamp takes).

pub mod deployment;
pub mod evidence;
pub mod timefmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::approval::{AbortRequest, Approval};
use crate::bake::{BakeSpec, BakeWindow};
use crate::classify::{Classification, Outcome};
use crate::deployment::{DeploymentState, ResultCode, StageRef};
use crate::freeze::{ActiveFreeze, FreezeWindow};
use crate::plan::Plan;
use crate::policy::{Action, Phase, Policy};
use crate::wave::Wave;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateState {
    pub game_name: String,
    pub stage_name: String,
    pub execution_id: String,
    /// The run's identity (`token::run_id`: the execution and its start), which names its
    /// ClientTokens and its abort request. Empty in a state from before it existed: the
    /// execution id stands in (`run()`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub run_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub execution_started_at: OffsetDateTime,
    /// As given in the input: a snapshot id or "latest".
    pub requested_snapshot_id: String,
    /// The stage's last known-good snapshot, the rollback target (null: none).
    pub previous_snapshot_id: Option<String>,
    pub policy: Policy,
    /// The requested deployment; its fields sit at the top level (`deploymentId`, `snapshotId`,
    /// `startedAt`, `deadline`, `outcome`, ...).
    #[serde(flatten)]
    pub deployment: Watch,
    /// The rollback deployment, once one was started.
    #[serde(default)]
    pub rollback: Option<Watch>,
    /// The current stage's bake window as requested (null: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake: Option<BakeSpec>,
    /// The bake window once the deployment succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake_window: Option<BakeWindow>,
    /// A promotion wave: every stage in order, and how far it got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<Wave>,
    /// A dry run: nothing was started; `plan` says what would be.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// The current stage's approval: asked for, then answered (or timed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// `stagegate abort` of this run, once the poll read it: the stage is rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<AbortRequest>,
    /// Why abort requests could not be read (the run went on; the message says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_unreadable: Option<String>,
    /// The input's freeze windows, checked again before each later stage of a wave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freeze_windows: Vec<FreezeWindow>,
    /// The freeze that refused to start the current stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<ActiveFreeze>,
    /// Every decision so far with the facts it was taken on (`evidence`): what `stagegate
    /// explain` tells and `stagegate replay` re-decides.
    #[serde(
        default,
        skip_serializing_if = "crate::evidence::DecisionLog::is_empty"
    )]
    pub decisions: crate::evidence::DecisionLog,
    pub phase: Phase,
    pub action: Action,
    pub reason: String,
    pub wait_seconds: u64,
}

/// One deployment the gate starts and watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Watch {
    pub deployment_id: String,
    pub snapshot_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// Polls made so far.
    pub attempt: u32,
    /// GameSparks' DeploymentState at the last look.
    pub deployment_state: DeploymentState,
    pub outcome: Outcome,
    pub result_code: Option<ResultCode>,
    pub message: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// For a rollback: the deployment whose failure it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
}

impl Watch {
    /// Records a poll's classification; `seen_at` is when GameSparks last updated it.
    pub fn record(&mut self, c: &Classification, seen_at: OffsetDateTime) {
        self.attempt = self.attempt.saturating_add(1);
        self.deployment_state.clone_from(&c.state);
        self.outcome = c.outcome;
        self.result_code.clone_from(&c.result_code);
        self.message.clone_from(&c.message);
        if c.outcome.is_terminal() && self.finished_at.is_none() {
            self.finished_at = Some(seen_at);
        }
    }
}

impl GateState {
    /// The run's identity: `run_id`, or the execution id in a state from before it existed.
    pub fn run(&self) -> &str {
        if self.run_id.is_empty() {
            &self.execution_id
        } else {
            &self.run_id
        }
    }

    pub fn stage(&self) -> StageRef {
        StageRef {
            game_name: self.game_name.clone(),
            stage_name: self.stage_name.clone(),
        }
    }

    /// The deployment the current phase watches.
    pub fn watched(&self) -> &Watch {
        match (&self.phase, &self.rollback) {
            (Phase::Rollback, Some(rollback)) => rollback,
            _ => &self.deployment,
        }
    }

    /// The bake of stage `i` of the run (0 without a wave). The current stage's lives in `bake`;
    /// the wave keeps those of the stages not yet reached (each alarm name is stored once).
    pub fn stage_bake(&self, i: usize) -> Option<&BakeSpec> {
        match &self.wave {
            Some(w) if i != w.index => w.stages.get(i).and_then(|s| s.bake.as_ref()),
            Some(_) => self.bake.as_ref(),
            None => self.bake.as_ref().filter(|_| i == 0),
        }
    }

    /// A promotion wave with stages still to go after the current one.
    pub fn next_stage(&self) -> Option<&crate::wave::WaveStage> {
        self.wave.as_ref().and_then(|w| w.stages.get(w.index + 1))
    }

    pub fn watched_mut(&mut self) -> &mut Watch {
        match (&self.phase, &mut self.rollback) {
            (Phase::Rollback, Some(rollback)) => rollback,
            _ => &mut self.deployment,
        }
    }
}

pub use crate::timefmt::rfc3339;

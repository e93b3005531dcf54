//! The published contract: the JSON body of the SNS message every run ends with. `notification`
//! builds it; subscribers (the `stagegate` CLI, the e2e tier, a team's own tooling) deserialize
//! this type rather than reading keys, so a rename fails to compile instead of printing "-".
//! Every field is always present (`null` when it does not apply), as the message has always been.
//!
//! Its folder is the last step of the flow: `verdict` (what a run amounted to), `notification`
//! (renders this body, the subject and the attributes), `metrics` (the run's EMF record and
//! cost), `errortype` (the stable `errorType` names the workflow catches).

pub mod errortype;
pub mod fleet_summary;
pub mod metrics;
pub mod notification;
pub mod verdict;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::approval::{AbortRequest, Approval};
use crate::bake::{AlarmStatus, BakeSpec, NamedWindow};
use crate::classify::Outcome;
use crate::deployment::{DeploymentState, ResultCode};
use crate::freeze::ActiveFreeze;
use crate::policy::{Action, Policy};
use crate::verdict::Verdict;
use crate::wave::{PassedStage, StageStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub outcome: Verdict,
    /// One paragraph: what happened, what the gate did and why.
    pub summary: String,
    pub game_name: Option<String>,
    pub stage_name: Option<String>,
    pub requested_snapshot_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub previous_snapshot_id: Option<String>,
    /// The deployment the gate started (none for a dry run).
    pub deployment: Option<DeploymentReport>,
    pub rollback: Option<DeploymentReport>,
    pub gate: GateReport,
    /// The error a run ended on, as Step Functions caught it.
    pub error: Option<ErrorReport>,
    pub bake: Option<BakeSpec>,
    pub bake_window: Option<NamedWindow>,
    pub wave: Option<WaveReport>,
    pub dry_run: bool,
    /// The dry run's plan, each stage with its bake and its alarms named.
    pub plan: Option<PlanReport>,
    /// The current stage's approval: what was asked, and the answer (who, why, when).
    pub approval: Option<Approval>,
    /// `stagegate abort` of a stage being deployed or baked: who, why, when.
    pub abort: Option<AbortRequest>,
    /// The freeze that kept the stage from starting, and until when.
    pub frozen: Option<ActiveFreeze>,
    /// The run's Step Functions state transitions and Lambda invocations, and what they cost at
    /// list prices (an estimate; null on an approval request, which is not an ending).
    pub cost: Option<RunCost>,
    /// The run's decision record (docs/audit.md): its key in the records bucket and the SHA-256
    /// of its bytes, so the newest record of a stage is held outside the bucket too. Null when
    /// records are off, on an approval request, or when it could not be written (`recordError`).
    pub record: Option<RecordRef>,
    /// Why the run's decision record was not written (records on, the write failed); the message
    /// is published all the same.
    pub record_error: Option<String>,
}

/// A decision record in the records bucket: its key and the SHA-256 (lower-case hex) of its
/// exact bytes. Here, not in `record`, because the message carries it and `record` embeds the
/// message: the contract type sits at the bottom of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecordRef {
    pub key: String,
    pub sha256: String,
}

/// What a dry run found: the gate state's `Plan` with each stage's bake and its alarms named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanReport {
    /// Nothing found that would stop the run.
    pub ready: bool,
    /// The snapshot the run would deploy ("latest" resolved); null when it cannot be resolved.
    pub snapshot_id: Option<String>,
    /// Problems that are not about one stage (the snapshot).
    pub problems: Vec<String>,
    pub stages: Vec<PlanStageReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanStageReport {
    pub stage_name: String,
    /// The snapshot serving the stage now.
    pub current_snapshot_id: Option<String>,
    /// What a rollback would redeploy (null: the failure policy would alert instead).
    pub rollback_snapshot_id: Option<String>,
    /// A deployment that holds the stage now (StartStageDeployment would be refused).
    pub in_progress_deployment_id: Option<String>,
    /// The stage's bake as requested (null: none).
    pub bake: Option<BakeSpec>,
    /// The bake alarms as they are now.
    pub alarms: Vec<AlarmStatus>,
    pub problems: Vec<String>,
    /// Notes that do not stop the run.
    pub notes: Vec<String>,
}

/// A deployment the gate watched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentReport {
    /// None when the deployment never started (a blocked rollback).
    pub deployment_id: Option<String>,
    pub snapshot_id: String,
    /// GameSparks' DeploymentState at the last look.
    pub state: DeploymentState,
    pub outcome: Outcome,
    pub result_code: Option<ResultCode>,
    pub message: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub deadline: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub finished_at: Option<OffsetDateTime>,
    pub polls: u32,
    pub rollback_of: Option<String>,
}

/// What the gate decided, and the run it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateReport {
    pub action: Option<Action>,
    pub reason: Option<String>,
    pub policy: Option<Policy>,
    pub execution_id: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub finished_at: OffsetDateTime,
    pub duration_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorReport {
    pub error: String,
    pub cause: String,
}

/// How far a promotion wave got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    /// `dev > staging > prod`.
    pub route: String,
    pub index: usize,
    pub stages: Vec<WaveStageReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaveStageReport {
    pub stage_name: String,
    pub status: StageStatus,
    pub bake_seconds: Option<u64>,
    pub passed: Option<PassedStage>,
}

/// What one run cost: its state transitions and Lambda invocations, and an estimate in US
/// dollars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunCost {
    pub state_transitions: u32,
    pub lambda_invocations: u32,
    /// An estimate at us-east-1 list prices (see `metrics::estimate`), rounded to 6 decimals.
    pub estimated_usd: f64,
}

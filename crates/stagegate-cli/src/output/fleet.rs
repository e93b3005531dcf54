//! The documents of `fleet run` and `fleet status`: the run started with its plan, and a fleet's
//! standing with the summary or progress the workflow wrote.
//!
//! The core's `FleetSummary` and `FleetProgress` are mirrored here member for member (same names,
//! same values), as `decisions` mirrors the story, because the CLI's schema is generated from its
//! documents' types and the core derives its JSON Schema only under a feature the CLI must not turn
//! on (the local stack builds the functions and the CLI together with one set of features). The
//! conversions match every variant, and a test compares each mirror's JSON with the core's, so the
//! mirror cannot drift unseen. One difference, by the schema's rule that every member is printed:
//! `batchKey`, which the core leaves out when there is no batch to run, is printed as null.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use stagegate::verdict::Verdict;
use stagegate_core::budget::{Budget, Next};
use stagegate_core::fleet::OnBreach;
use stagegate_core::fleet_run::FleetProgress;
use stagegate_core::fleet_summary::{FleetStatus, FleetSummary};
use stagegate_core::tally::FailedGame;

use super::{exit_class_schema, exit_code_schema};
use crate::exit::Exit;

/// `fleet run`: the fleet execution started, and the plan its input describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FleetRunDocument {
    pub execution_arn: String,
    pub execution_name: String,
    pub fleet_name: String,
    pub plan: FleetPlanDocument,
    /// The command that shows the run's standing.
    pub status_command: String,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

impl FleetRunDocument {
    pub fn new(execution_arn: &str, fleet_name: &str, plan: FleetPlanDocument) -> Self {
        Self {
            execution_arn: execution_arn.to_owned(),
            execution_name: super::execution_name(execution_arn),
            fleet_name: fleet_name.to_owned(),
            plan,
            status_command: format!("stagegate fleet status --execution {execution_arn}"),
            exit_code: Exit::Done.code(),
            exit_class: Exit::Done.as_str().to_owned(),
        }
    }
}

/// What a fleet input asks for, as far as it can be known before the run: with `gamesFrom`, the
/// games (and so their count, the batches and the failures allowed) are read by the workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FleetPlanDocument {
    /// Null when the games are in S3 (`gamesFrom`).
    pub games: Option<usize>,
    /// The games file (`gamesFrom`), when the games are not inline.
    pub games_from: Option<String>,
    /// The canary games by name (the first `canaryCount` when counted, with the games in S3:
    /// empty, and `canaryCount` says how many).
    pub canaries: Vec<String>,
    pub canary_count: usize,
    pub batch_size: usize,
    /// The batches, canaries first; null when the games are in S3.
    pub batches: Option<usize>,
    pub max_failure_percent: u8,
    /// Failures the budget tolerates over the fleet (`maxFailurePercent` of the games, rounded
    /// down); null when the games are in S3.
    pub allowed_failures: Option<usize>,
    pub canary_max_failures: u32,
    pub on_breach: OnBreachName,
}

/// `fleet status`: the fleet execution's status, and the summary (the run ended) or the newest
/// progress (a batch ended) the workflow wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FleetStatusDocument {
    pub execution_arn: String,
    pub execution_name: String,
    /// Step Functions' status of the fleet execution: RUNNING, SUCCEEDED, FAILED, TIMED_OUT or
    /// ABORTED.
    pub execution_status: String,
    /// The execution's error and cause, when it failed.
    pub error: Option<String>,
    pub cause: Option<String>,
    /// From the summary or progress, else the execution's input; null when none says it.
    pub fleet_name: Option<String>,
    pub fleet_status: FleetState,
    /// `fleets/<execution name>/summary.json`, once the run ended.
    pub summary: Option<Box<FleetSummaryDocument>>,
    /// `fleets/<execution name>/progress.json`, read only when there is no summary; null before
    /// the first batch's tally.
    pub progress: Option<Box<FleetProgressDocument>>,
    /// What to do now, as the text output says it.
    pub next_step: String,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

/// Where a fleet run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FleetState {
    /// No summary yet and the execution runs.
    Running,
    Completed,
    Stopped,
    Refused,
    /// The execution ended (failed, timed out, stopped) and wrote no summary.
    EndedWithoutSummary,
}

impl FleetState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Completed => "COMPLETED",
            Self::Stopped => "STOPPED",
            Self::Refused => "REFUSED",
            Self::EndedWithoutSummary => "ENDED_WITHOUT_SUMMARY",
        }
    }
}

impl From<FleetStatus> for FleetState {
    fn from(status: FleetStatus) -> Self {
        match status {
            FleetStatus::Completed => Self::Completed,
            FleetStatus::Stopped => Self::Stopped,
            FleetStatus::Refused => Self::Refused,
        }
    }
}

/// `stagegate_core::fleet::OnBreach`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnBreachName {
    Leave,
    Rollback,
}

impl From<OnBreach> for OnBreachName {
    fn from(on_breach: OnBreach) -> Self {
        match on_breach {
            OnBreach::Leave => Self::Leave,
            OnBreach::Rollback => Self::Rollback,
        }
    }
}

/// `stagegate_core::fleet_summary::FleetSummary`, member for member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FleetSummaryDocument {
    /// Always `fleet-summary`.
    pub kind: String,
    pub fleet_name: String,
    /// The fleet execution's name.
    pub execution: String,
    pub status: FleetEnding,
    pub summary: String,
    pub reason: Option<String>,
    pub games: usize,
    pub started: usize,
    pub not_started: usize,
    /// Endings per outcome.
    pub counts: BTreeMap<String, usize>,
    /// Null when the input was refused.
    pub budget: Option<BudgetSpentDocument>,
    pub on_breach: OnBreachName,
    pub failed_games: Vec<FailedGameDocument>,
    pub failed_unlisted: usize,
    /// What `onBreach: rollback` ran back (null: nothing).
    pub breach_rollback: Option<BreachRollbackDocument>,
    pub cost: FleetCostDocument,
}

/// `stagegate_core::fleet_run::BreachRollback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BreachRollbackDocument {
    /// Promoted games run back to the snapshot they served before.
    pub games: usize,
    /// Their rollback runs' endings per outcome.
    pub counts: BTreeMap<String, usize>,
}

impl BreachRollbackDocument {
    fn of(b: &stagegate_core::fleet_run::BreachRollback) -> Self {
        Self {
            games: b.games,
            counts: b.counts.clone(),
        }
    }
}

/// `stagegate_core::fleet_run::Route`: where the fleet workflow goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RouteDocument {
    Batch,
    Rollback,
    Summary,
}

/// `FleetStatus`: how a fleet run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FleetEnding {
    Completed,
    Stopped,
    Refused,
}

/// `BudgetSpent`, its flattened budget spelled out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetSpentDocument {
    pub max_failure_percent: u8,
    pub canary_max_failures: u32,
    pub allowed: usize,
    pub failed: usize,
    pub canary_failed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedGameDocument {
    pub game_name: String,
    #[schemars(schema_with = "verdict_schema")]
    pub verdict: String,
    pub why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FleetCostDocument {
    pub state_transitions: u64,
    pub lambda_invocations: u64,
    pub estimated_usd: f64,
}

impl FleetSummaryDocument {
    pub fn of(s: &FleetSummary) -> Self {
        Self {
            kind: s.kind.clone(),
            fleet_name: s.fleet_name.clone(),
            execution: s.execution.clone(),
            status: match s.status {
                FleetStatus::Completed => FleetEnding::Completed,
                FleetStatus::Stopped => FleetEnding::Stopped,
                FleetStatus::Refused => FleetEnding::Refused,
            },
            summary: s.summary.clone(),
            reason: s.reason.clone(),
            games: s.games,
            started: s.started,
            not_started: s.not_started,
            counts: s.counts.clone(),
            budget: s.budget.as_ref().map(|b| BudgetSpentDocument {
                max_failure_percent: b.budget.max_failure_percent,
                canary_max_failures: b.budget.canary_max_failures,
                allowed: b.allowed,
                failed: b.failed,
                canary_failed: b.canary_failed,
            }),
            on_breach: s.on_breach.into(),
            failed_games: s.failed_games.iter().map(FailedGameDocument::of).collect(),
            failed_unlisted: s.failed_unlisted,
            breach_rollback: s.breach_rollback.as_ref().map(BreachRollbackDocument::of),
            cost: FleetCostDocument {
                state_transitions: s.cost.state_transitions,
                lambda_invocations: s.cost.lambda_invocations,
                estimated_usd: s.cost.estimated_usd,
            },
        }
    }
}

impl FailedGameDocument {
    fn of(g: &FailedGame) -> Self {
        Self {
            game_name: g.game_name.clone(),
            verdict: g.verdict.as_str().to_owned(),
            why: g.why.clone(),
        }
    }
}

/// `stagegate_core::fleet_run::FleetProgress`, member for member (`batchKey` always printed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FleetProgressDocument {
    pub fleet_name: String,
    pub execution: String,
    pub bucket: String,
    pub prefix: String,
    pub games: usize,
    /// Positions of the canary games.
    pub canaries: Vec<usize>,
    pub batch_size: usize,
    pub batches: usize,
    pub max_concurrency: usize,
    pub budget: BudgetDocument,
    pub allowed: usize,
    pub on_breach: OnBreachName,
    /// Batches run.
    pub done: usize,
    pub started: usize,
    pub ended: usize,
    pub failed: usize,
    pub canary_failed: usize,
    pub counts: BTreeMap<String, usize>,
    pub failed_games: Vec<FailedGameDocument>,
    pub failed_unlisted: usize,
    pub next: NextDocument,
    pub batch_key: Option<String>,
    /// The promoted games' rollback runs, while they are to run.
    pub rollback_key: Option<String>,
    pub breach_rollback: Option<BreachRollbackDocument>,
    pub route: RouteDocument,
}

/// `stagegate_core::budget::Budget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetDocument {
    pub max_failure_percent: u8,
    pub canary_max_failures: u32,
}

impl BudgetDocument {
    fn of(b: &Budget) -> Self {
        Self {
            max_failure_percent: b.max_failure_percent,
            canary_max_failures: b.canary_max_failures,
        }
    }
}

/// `stagegate_core::budget::Next`: what the run does after the batches so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "next"
)]
pub enum NextDocument {
    /// Batch `batch` (from 0) runs.
    Batch { batch: usize },
    /// Every batch ran within the budget.
    Done,
    /// The budget is spent: no further game starts.
    Stopped {
        reason: String,
        failed: usize,
        allowed: usize,
        not_started: usize,
    },
}

impl FleetProgressDocument {
    pub fn of(p: &FleetProgress) -> Self {
        Self {
            fleet_name: p.fleet_name.clone(),
            execution: p.execution.clone(),
            bucket: p.bucket.clone(),
            prefix: p.prefix.clone(),
            games: p.games,
            canaries: p.canaries.clone(),
            batch_size: p.batch_size,
            batches: p.batches,
            max_concurrency: p.max_concurrency,
            budget: BudgetDocument::of(&p.budget),
            allowed: p.allowed,
            on_breach: p.on_breach.into(),
            done: p.done,
            started: p.started,
            ended: p.ended,
            failed: p.failed,
            canary_failed: p.canary_failed,
            counts: p.counts.clone(),
            failed_games: p.failed_games.iter().map(FailedGameDocument::of).collect(),
            failed_unlisted: p.failed_unlisted,
            next: match &p.next {
                Next::Batch { batch } => NextDocument::Batch { batch: *batch },
                Next::Done => NextDocument::Done,
                Next::Stopped {
                    reason,
                    failed,
                    allowed,
                    not_started,
                } => NextDocument::Stopped {
                    reason: reason.clone(),
                    failed: *failed,
                    allowed: *allowed,
                    not_started: *not_started,
                },
            },
            batch_key: p.batch_key.clone(),
            rollback_key: p.rollback_key.clone(),
            breach_rollback: p.breach_rollback.as_ref().map(BreachRollbackDocument::of),
            route: match p.route {
                stagegate_core::fleet_run::Route::Batch => RouteDocument::Batch,
                stagegate_core::fleet_run::Route::Rollback => RouteDocument::Rollback,
                stagegate_core::fleet_run::Route::Summary => RouteDocument::Summary,
            },
        }
    }
}

/// A game's verdict: one of the core's names (never null here).
fn verdict_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
    schemars::json_schema!({"type": "string", "enum": names})
}

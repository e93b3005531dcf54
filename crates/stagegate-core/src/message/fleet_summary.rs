//! The one message a fleet run ends with, besides each game's own: how many games ended how, which
//! failed and why, the budget and what it decided, and what the fleet's own steps cost.
//!
//! Its attributes let a subscriber take only this summary and the games that count against a
//! budget (`kind` here, `countsAgainstBudget` on each game's message; docs/fleet.md has the
//! filter policy). The body is a type, like the gate's message, so `stagegate fleet status` and
//! the tests deserialize it instead of reading keys; its schema is generated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::budget::{Budget, Next};
use crate::fleet::OnBreach;
use crate::fleet_run::{BreachRollback, FleetProgress};
use crate::metrics::{USD_PER_LAMBDA_REQUEST, USD_PER_STATE_TRANSITION};
use crate::notification::{attribute_value, bounded_subject, Notification};
use crate::tally::FailedGame;

/// The `kind` attribute and body field of a fleet summary.
pub const KIND: &str = "fleet-summary";

/// The fleet's own state transitions: per game (Stagger, Gate, Ending), per batch (Route,
/// RunBatch, Tally) and once (Plan, the last Route, Summary, Finish and the end state). Checked
/// against `infra/statemachine/fleet.asl.json` by the workflow contract test.
pub const TRANSITIONS_PER_GAME: u64 = 3;
pub const TRANSITIONS_PER_BATCH: u64 = 3;
pub const TRANSITIONS_PER_RUN: u64 = 5;

/// The fleet's Fail state's `Error` when it stopped on its budget.
pub const FLEET_STOPPED: &str = "StageGate.FleetStopped";
/// The fleet's Fail state's `Error` when its input was refused.
pub const FLEET_REFUSED: &str = "StageGate.FleetRefused";

/// How a fleet run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FleetStatus {
    /// Every batch ran within the budget.
    Completed,
    /// The budget was spent: the games of later batches never started.
    Stopped,
    /// The fleet input was refused; no game started.
    Refused,
}

impl FleetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "COMPLETED",
            Self::Stopped => "STOPPED",
            Self::Refused => "REFUSED",
        }
    }
}

/// The budget, and what the run spent of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BudgetSpent {
    #[serde(flatten)]
    pub budget: Budget,
    /// Failures tolerated over the whole fleet.
    pub allowed: usize,
    pub failed: usize,
    pub canary_failed: usize,
}

/// What the fleet's own steps cost (each game's gate reports its own in its message's metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FleetCost {
    pub state_transitions: u64,
    pub lambda_invocations: u64,
    /// Transitions and Lambda requests at list prices (Lambda duration, a few ms a step, left out).
    pub estimated_usd: f64,
}

/// The body of the fleet summary message (JSON), also written as the run's `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FleetSummary {
    /// Always `fleet-summary`.
    pub kind: String,
    pub fleet_name: String,
    /// The fleet execution's name.
    pub execution: String,
    pub status: FleetStatus,
    /// One paragraph: what happened and why.
    pub summary: String,
    /// Why the run stopped or was refused (`null` when it completed).
    pub reason: Option<String>,
    pub games: usize,
    pub started: usize,
    pub not_started: usize,
    /// Endings per outcome (`SUCCEEDED`, `ROLLED_BACK`, ...).
    pub counts: BTreeMap<String, usize>,
    pub budget: Option<BudgetSpent>,
    pub on_breach: OnBreach,
    /// The first failed games, with why; `failedUnlisted` more are only counted.
    pub failed_games: Vec<FailedGame>,
    pub failed_unlisted: usize,
    /// What `onBreach: rollback` ran back, and how those runs ended (`null`: nothing).
    pub breach_rollback: Option<BreachRollback>,
    pub cost: FleetCost,
}

/// The summary of a run that ran (its progress says how far).
pub fn summarize(progress: &FleetProgress) -> FleetSummary {
    let (status, reason, not_started) = match &progress.next {
        Next::Stopped {
            reason,
            not_started,
            ..
        } => (FleetStatus::Stopped, Some(reason.clone()), *not_started),
        // A run summarized before its end (a `Batch` here) is reported as stopped: its remaining
        // games did not start.
        Next::Batch { .. } => (
            FleetStatus::Stopped,
            Some("the run ended before its last batch".to_owned()),
            progress.games.saturating_sub(progress.started),
        ),
        Next::Done => (FleetStatus::Completed, None, 0),
    };
    let succeeded = progress.counts.get("SUCCEEDED").copied().unwrap_or(0);
    let summary = match status {
        FleetStatus::Completed => format!(
            "Fleet {} completed: all {} games ran; {succeeded} succeeded, {} counted against the budget of {} ({}%).",
            progress.fleet_name, progress.games, progress.failed, progress.allowed, progress.budget.max_failure_percent
        ),
        _ => format!(
            "Fleet {} stopped: {} of {} games ran and {not_started} never started. {}. Games already running finished their whole gate; {}.",
            progress.fleet_name,
            progress.started,
            progress.games,
            reason.as_deref().unwrap_or_default(),
            match (progress.on_breach, &progress.breach_rollback) {
                (OnBreach::Leave, _) => "onBreach is leave: games already promoted stay".to_owned(),
                (OnBreach::Rollback, None) => "onBreach is rollback: no game had been promoted".to_owned(),
                (OnBreach::Rollback, Some(b)) => format!(
                    "onBreach is rollback: {} promoted game(s) were run back to their previous snapshot ({} succeeded)",
                    b.games,
                    b.counts.get("SUCCEEDED").copied().unwrap_or(0)
                ),
            }
        ),
    };
    FleetSummary {
        kind: KIND.to_owned(),
        fleet_name: progress.fleet_name.clone(),
        execution: progress.execution.clone(),
        status,
        summary,
        reason,
        games: progress.games,
        started: progress.started,
        not_started,
        counts: progress.counts.clone(),
        budget: Some(BudgetSpent {
            budget: progress.budget.clone(),
            allowed: progress.allowed,
            failed: progress.failed,
            canary_failed: progress.canary_failed,
        }),
        on_breach: progress.on_breach,
        failed_games: progress.failed_games.clone(),
        failed_unlisted: progress.failed_unlisted,
        breach_rollback: progress.breach_rollback.clone(),
        cost: cost(
            progress.started + progress.breach_rollback.as_ref().map_or(0, |b| b.games),
            progress.done + usize::from(progress.breach_rollback.is_some()),
        ),
    }
}

/// The summary of a refused fleet input: no game started.
pub fn refused(fleet_name: &str, execution: &str, why: &str) -> FleetSummary {
    FleetSummary {
        kind: KIND.to_owned(),
        fleet_name: fleet_name.to_owned(),
        execution: execution.to_owned(),
        status: FleetStatus::Refused,
        summary: format!("Fleet {fleet_name} was refused; no game started. {why}"),
        reason: Some(why.to_owned()),
        games: 0,
        started: 0,
        not_started: 0,
        counts: BTreeMap::new(),
        budget: None,
        on_breach: OnBreach::default(),
        failed_games: vec![],
        failed_unlisted: 0,
        breach_rollback: None,
        cost: cost(0, 0),
    }
}

/// The fleet's own cost for `games` started over `batches` batches (plan and summary included).
pub fn cost(games: usize, batches: usize) -> FleetCost {
    let games = u64::try_from(games).unwrap_or(u64::MAX);
    let batches = u64::try_from(batches).unwrap_or(u64::MAX);
    let state_transitions = games
        .saturating_mul(TRANSITIONS_PER_GAME)
        .saturating_add(batches.saturating_mul(TRANSITIONS_PER_BATCH))
        .saturating_add(TRANSITIONS_PER_RUN);
    // Plan, one Ending per game, one Tally per batch, Summary.
    let lambda_invocations = games.saturating_add(batches).saturating_add(2);
    let usd = state_transitions as f64 * USD_PER_STATE_TRANSITION
        + lambda_invocations as f64 * USD_PER_LAMBDA_REQUEST;
    FleetCost {
        state_transitions,
        lambda_invocations,
        estimated_usd: (usd * 1e6).round() / 1e6,
    }
}

/// The SNS message: subject, JSON body, and attributes `kind`, `fleetName` and `status`.
pub fn render(summary: &FleetSummary) -> Notification {
    let subject = bounded_subject(&format!(
        "stagegate fleet {}: {} {}/{} ran, {} failed",
        summary.fleet_name,
        summary.status.as_str(),
        summary.started,
        summary.games,
        summary.budget.as_ref().map_or(0, |b| b.failed)
    ));
    let attributes = [
        ("kind", KIND.to_owned()),
        ("fleetName", summary.fleet_name.clone()),
        ("status", summary.status.as_str().to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), attribute_value(&v)))
    .collect();
    let group: String = format!("fleet/{}", summary.fleet_name)
        .chars()
        .take(128)
        .collect();
    Notification {
        subject,
        summary: summary.summary.clone(),
        message: serde_json::to_string(summary).unwrap_or_default(),
        attributes,
        deduplication_id: format!("fleet-{}", summary.execution)
            .chars()
            .take(128)
            .collect(),
        group_id: group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::parse_fleet;
    use crate::fleet_run::{after_batch, plan, ItemEnding};
    use crate::verdict::Verdict;
    use serde_json::json;

    fn progress(n: usize, failing: &[usize]) -> FleetProgress {
        let games: Vec<serde_json::Value> = (0..n)
            .map(|i| json!({"gameName": format!("g{i}"), "stageName": "prod", "snapshotId": "latest"}))
            .collect();
        let req = parse_fleet(&json!({"fleetName": "nightly", "games": games.clone(), "budget": {"maxFailurePercent": 5}, "batchSize": 20}))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut p = plan(&req, &games, "nightly-1", "b", 20, 10);
        while let Next::Batch { batch } = p.progress.next {
            let results: Vec<ItemEnding> = p.batches[batch]
                .iter()
                .map(|i| ItemEnding {
                    item: i.item,
                    game_name: i.game_name.clone(),
                    verdict: if failing.contains(&i.item) {
                        Verdict::RolledBack
                    } else {
                        Verdict::Succeeded
                    },
                    why: failing.contains(&i.item).then(|| "bake alarm".to_owned()),
                    rollback_to: None,
                })
                .collect();
            after_batch(&mut p.progress, Some(&results), "");
        }
        p.progress
    }

    #[test]
    fn a_completed_fleet_says_so_and_costs_what_its_steps_do() {
        let s = summarize(&progress(40, &[3]));
        assert_eq!(s.status, FleetStatus::Completed);
        assert_eq!((s.started, s.not_started), (40, 0));
        assert_eq!(s.counts.get("ROLLED_BACK"), Some(&1));
        assert_eq!(s.failed_games[0].game_name, "g3");
        assert_eq!(s.cost.state_transitions, 40 * 3 + 2 * 3 + 5);
        assert_eq!(s.cost.lambda_invocations, 40 + 2 + 2);
        let n = render(&s);
        assert_eq!(n.attributes.get("kind").map(String::as_str), Some(KIND));
        assert_eq!(
            n.subject,
            "stagegate fleet nightly: COMPLETED 40/40 ran, 1 failed"
        );
        let back: FleetSummary = serde_json::from_str(&n.message).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, s);
    }

    #[test]
    fn a_stopped_fleet_names_why_and_what_never_started() {
        let s = summarize(&progress(40, &[0, 1, 2]));
        assert_eq!(s.status, FleetStatus::Stopped);
        assert_eq!((s.started, s.not_started), (20, 20));
        let reason = s.reason.clone().unwrap_or_default();
        assert!(reason.contains("3 of 40 games failed"), "{reason}");
        assert!(s.summary.contains("20 never started"), "{}", s.summary);
        assert_eq!(
            render(&s).attributes.get("status").map(String::as_str),
            Some("STOPPED")
        );
    }

    #[test]
    fn a_refused_fleet_started_nothing() {
        let s = refused("nightly", "n-1", "games[3].gameName: no such game");
        assert_eq!(s.status, FleetStatus::Refused);
        assert_eq!(s.started, 0);
        assert!(render(&s).subject.contains("REFUSED 0/0"));
    }
}

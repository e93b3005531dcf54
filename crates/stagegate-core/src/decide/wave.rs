//! Promotion waves: the same snapshot deployed stage by stage (e.g. dev, staging, prod), each
//! gated and baked before the next starts. A failure stops the wave at that stage, whose policy
//! applies; stages before it keep the new snapshot (they passed their gates), stages after it are
//! never touched.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::approval::ApprovalSpec;
use crate::bake::BakeSpec;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wave {
    /// The stage being deployed (the gate state's `stageName`).
    pub index: usize,
    pub stages: Vec<WaveStage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveStage {
    pub stage_name: String,
    #[serde(default)]
    pub bake: Option<BakeSpec>,
    /// Asked for before this stage is deployed (the first stage's lives in the state's
    /// `approval` once asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalSpec>,
    /// Set when the wave moved past this stage.
    #[serde(default)]
    pub passed: Option<PassedStage>,
}

/// A stage the wave left behind with the new snapshot deployed (and baked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PassedStage {
    pub deployment_id: String,
    pub snapshot_id: String,
    pub previous_snapshot_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub passed_at: OffsetDateTime,
    /// Seconds of bake it passed (0: none).
    pub baked_seconds: u64,
}

/// How a stage of the wave stands, for the notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StageStatus {
    Passed,
    /// Where the wave is (or stopped): the run's verdict is about this stage.
    Current,
    NotStarted,
}

impl Wave {
    pub fn status(&self, i: usize) -> StageStatus {
        let passed = self.stages.get(i).is_some_and(|s| s.passed.is_some());
        match i.cmp(&self.index) {
            _ if passed => StageStatus::Passed,
            std::cmp::Ordering::Less => StageStatus::Passed,
            std::cmp::Ordering::Equal => StageStatus::Current,
            std::cmp::Ordering::Greater => StageStatus::NotStarted,
        }
    }

    /// `dev > staging > prod`.
    pub fn route(&self) -> String {
        self.stages
            .iter()
            .map(|s| s.stage_name.as_str())
            .collect::<Vec<_>>()
            .join(" > ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::most_polls;
    use crate::bake::{self, MAX_CHECKS};
    use crate::input::MAX_WAVE_STAGES;
    use crate::policy::MAX_TIMEOUT_SECONDS;

    /// The longest a phase can poll: the longest timeout, then the longest grace window.
    const LONGEST_PHASE_SECONDS: u64 = 2 * MAX_TIMEOUT_SECONDS;

    /// The most checks a bake allowed by the input makes, counted by running the real `bake`
    /// with quiet alarms until it passes.
    fn most_checks() -> u64 {
        let mut most = 0;
        for (seconds, interval) in [(7200, 60), (1200, 10), (7200, 300), (30, 10)] {
            let input = serde_json::json!({"gameName": "g", "stageName": "s", "snapshotId": "latest",
                "bake": {"seconds": seconds, "checkIntervalSeconds": interval, "alarmNames": ["a"]}});
            let Ok(request) = crate::input::parse_execution_input(&input, "input.") else {
                continue;
            };
            let Some(spec) = request.stages.first().and_then(|s| s.bake.clone()) else {
                continue;
            };
            let mut now = time::OffsetDateTime::UNIX_EPOCH;
            let (mut window, mut wait) = bake::open(&spec, now);
            loop {
                now += time::Duration::seconds(i64::try_from(wait).unwrap_or(i64::MAX));
                let quiet = Ok(vec![bake::AlarmStatus {
                    name: "a".into(),
                    state: bake::OK.into(),
                    reason: None,
                    updated_at: None,
                }]);
                match bake::check(&spec, &mut window, quiet, now) {
                    bake::BakeStep::Continue(next) => wait = next,
                    _ => break,
                }
            }
            most = most.max(u64::from(window.checks));
        }
        most
    }

    #[test]
    fn longest_wave_stays_below_the_history_limit() {
        // 9 events per poll or alarm check (Wait, Task, Choice); every stage deploys for the
        // longest timeout and grace window and bakes with the most checks; the last one also
        // rolls back; plus the start, advance and notify tasks with a retry each, and an approval
        // before every stage (AwaitApproval's 6 events, Answered's 5, Route's 2, a retry each).
        let polls = most_polls(MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, 200);
        let checks = most_checks();
        assert_eq!(checks, MAX_CHECKS, "the longest bake the input allows");
        let per_stage = polls + checks;
        let stages = MAX_WAVE_STAGES as u64;
        let approvals = 2 * (6 + 5 + 2) * stages;
        let events = 9 * (stages * per_stage + polls) + 20 * stages + approvals + 100;
        assert!(events < 25_000 * 9 / 10, "{events} events");
    }

    #[test]
    fn the_workflow_backstop_outlasts_the_longest_wave() {
        // The state machine's TimeoutSeconds must never end a run the core still watches: that
        // would be an ending with no notification.
        let asl: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/statemachine/deployment-gate.asl.json"
        )))
        .unwrap_or_default();
        let backstop = asl["TimeoutSeconds"].as_u64().unwrap_or(0);
        // Every stage may wait the longest approval before it deploys.
        let longest = MAX_WAVE_STAGES as u64
            * (crate::approval::MAX_TIMEOUT_SECONDS
                + LONGEST_PHASE_SECONDS
                + bake::MAX_BAKE_SECONDS)
            + LONGEST_PHASE_SECONDS;
        assert!(
            backstop >= longest + 3600,
            "TimeoutSeconds {backstop} < longest run {longest} s + an hour of retries"
        );
    }

    #[test]
    fn statuses_follow_the_index() {
        let stage = |n: &str| WaveStage {
            stage_name: n.into(),
            bake: None,
            approval: None,
            passed: None,
        };
        let mut w = Wave {
            index: 1,
            stages: vec![stage("dev"), stage("staging"), stage("prod")],
        };
        assert_eq!(w.status(0), StageStatus::Passed);
        assert_eq!(w.status(1), StageStatus::Current);
        assert_eq!(w.status(2), StageStatus::NotStarted);
        // The last stage of a wave that succeeded passed too.
        w.index = 2;
        w.stages[2].passed = Some(PassedStage {
            deployment_id: "d".into(),
            snapshot_id: "s".into(),
            previous_snapshot_id: None,
            passed_at: time::macros::datetime!(2026-01-01 00:00 UTC),
            baked_seconds: 0,
        });
        assert_eq!(w.status(2), StageStatus::Passed);
        assert_eq!(w.route(), "dev > staging > prod");
    }
}

//! How long a run may legitimately last, from its own input: the sum of everything the gate waits
//! for (an approval before a stage, the stage's deployment up to its deadline and grace window,
//! its bake) over the run's stages, and one rollback at the end. Whoever waits for a run (the
//! CLI's `follow`) takes its deadline from here instead of a fixed guess: a fixed one was shorter
//! than one maximal stage, and gave up on runs that were still doing exactly what they were asked.
//! It is an upper bound of the gate's own waits; the time of its tasks and their retries is not in
//! it (the caller adds a margin for those).

use super::GateRequest;
use crate::bake::BakeSpec;

impl GateRequest {
    /// The most seconds this run's waits can add up to (see the module's doc).
    pub fn longest_run_seconds(&self) -> u64 {
        // A deployment is watched until its deadline, then through its grace window.
        let phase = self
            .policy
            .timeout_seconds
            .saturating_add(self.policy.timeout_grace_seconds);
        let stages = self.stages.iter().fold(0u64, |total, stage| {
            let approval = stage.approval.map_or(0, |a| a.timeout_seconds);
            total
                .saturating_add(approval)
                .saturating_add(phase)
                .saturating_add(stage.bake.as_ref().map_or(0, bake_seconds))
        });
        // A run rolls back at most once (its current stage), and then ends.
        stages.saturating_add(phase)
    }
}

/// A bake lasts its window, and its last check may land up to one interval after the window's
/// start was rounded: the interval is added once.
fn bake_seconds(bake: &BakeSpec) -> u64 {
    bake.seconds.saturating_add(bake.check_interval_seconds)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::input::{parse_execution_input, MAX_WAVE_STAGES};
    use crate::{approval, bake, policy};

    fn longest(input: Value) -> u64 {
        match parse_execution_input(&input, "") {
            Ok(request) => request.longest_run_seconds(),
            Err(e) => panic!("{input} rejected: {e}"),
        }
    }

    #[test]
    fn one_stage_with_defaults_is_its_deployment_and_one_rollback() {
        // 1,800 s to the deadline and 1,800 s of grace, twice (the rollback).
        let plain = json!({"gameName": "g", "stageName": "s", "snapshotId": "latest"});
        assert_eq!(longest(plain), 4 * 1800);
        let tight = json!({"gameName": "g", "stageName": "s", "snapshotId": "latest",
            "policy": {"timeoutSeconds": 600, "timeoutGraceSeconds": 0}});
        assert_eq!(longest(tight), 2 * 600);
    }

    #[test]
    fn approvals_and_bakes_count_for_every_stage_of_a_wave() {
        let wave = json!({"gameName": "g", "snapshotId": "latest",
            "policy": {"timeoutSeconds": 600, "timeoutGraceSeconds": 300},
            "approval": {"timeoutSeconds": 3600},
            "bake": {"seconds": 900, "checkIntervalSeconds": 60, "alarmNames": ["a"]},
            "stages": ["dev", {"stageName": "prod", "approval": {"timeoutSeconds": 86400},
                "bake": {"seconds": 1800, "alarmNames": ["b"]}}]});
        let dev = 3600 + 900 + 900 + 60;
        let prod = 86_400 + 900 + 1800 + bake::DEFAULT_CHECK_INTERVAL_SECONDS;
        assert_eq!(longest(wave), dev + prod + 900);
    }

    #[test]
    fn the_workflow_backstop_outlasts_the_longest_input() {
        // The longest every limit allows: the state machine's own TimeoutSeconds must not end
        // such a run before the gate does (that ending has no notification).
        let stage = |i: usize| {
            json!({"stageName": format!("s{i}"),
            "approval": {"timeoutSeconds": approval::MAX_TIMEOUT_SECONDS},
            "bake": {"seconds": bake::MAX_BAKE_SECONDS, "checkIntervalSeconds": 300,
                "alarmNames": [format!("a{i}")]}})
        };
        let input = json!({"gameName": "g", "snapshotId": "latest",
            "policy": {"timeoutSeconds": policy::MAX_TIMEOUT_SECONDS,
                "timeoutGraceSeconds": policy::MAX_TIMEOUT_SECONDS},
            "stages": (0..MAX_WAVE_STAGES).map(stage).collect::<Vec<_>>()});
        let most = longest(input);
        let asl: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/statemachine/deployment-gate.asl.json"
        )))
        .unwrap_or_default();
        let backstop = asl["TimeoutSeconds"].as_u64().unwrap_or(0);
        assert!(most > 5 * 86_400, "{most}");
        assert!(
            backstop >= most,
            "TimeoutSeconds {backstop} < longest run {most} s"
        );
    }
}

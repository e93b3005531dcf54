//! Dry runs: what a run would do, and what would stop it, without starting anything.

use serde::{Deserialize, Serialize};

use crate::bake::{self, AlarmReading, AlarmStatus, BakeSpec};
use crate::deployment::Deployment;
use crate::history::{rollback_target, serving_snapshot};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Nothing found that would stop the run.
    pub ready: bool,
    /// The snapshot the run would deploy ("latest" resolved); null when it cannot be resolved.
    pub snapshot_id: Option<String>,
    /// Problems that are not about one stage (the snapshot).
    pub problems: Vec<String>,
    pub stages: Vec<PlanStage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanStage {
    pub stage_name: String,
    /// The snapshot serving the stage now (its last successful DEPLOY not since undeployed).
    pub current_snapshot_id: Option<String>,
    /// What a rollback would redeploy (null: the failure policy would alert instead).
    pub rollback_snapshot_id: Option<String>,
    /// A deployment that holds the stage now (StartStageDeployment would be refused).
    pub in_progress_deployment_id: Option<String>,
    /// The bake alarms as they are now, by position in the stage's `bake.alarmNames` (the gate
    /// state keeps each name once; the notification names them).
    pub alarms: Vec<AlarmReading>,
    pub problems: Vec<String>,
    /// Notes that do not stop the run.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn new(snapshot_id: Option<String>, problems: Vec<String>, stages: Vec<PlanStage>) -> Self {
        let ready = problems.is_empty() && stages.iter().all(|s| s.problems.is_empty());
        Self {
            ready,
            snapshot_id,
            problems,
            stages,
        }
    }

    /// Every problem, each prefixed with its stage.
    pub fn all_problems(&self) -> Vec<String> {
        let mut out = self.problems.clone();
        for s in &self.stages {
            out.extend(s.problems.iter().map(|p| format!("{}: {p}", s.stage_name)));
        }
        out
    }
}

/// Plans one stage from its history (or why it could not be read) and its alarms.
pub fn plan_stage(
    stage_name: &str,
    snapshot_id: Option<&str>,
    history: Result<&[Deployment], String>,
    bake: Option<&BakeSpec>,
    alarms: Option<Result<Vec<AlarmStatus>, String>>,
) -> PlanStage {
    let mut stage = PlanStage {
        stage_name: stage_name.to_owned(),
        current_snapshot_id: None,
        rollback_snapshot_id: None,
        in_progress_deployment_id: None,
        alarms: vec![],
        problems: vec![],
        notes: vec![],
    };
    match history {
        Err(e) => stage
            .problems
            .push(format!("the deployment history could not be read: {e}")),
        Ok(history) => {
            stage.current_snapshot_id = serving_snapshot(history).map(str::to_owned);
            stage.rollback_snapshot_id = snapshot_id
                .and_then(|s| rollback_target(history, s))
                .map(str::to_owned);
            if let Some(busy) = history.iter().find(|d| d.state.is_active()) {
                stage.in_progress_deployment_id = Some(busy.id.clone());
                stage.problems.push(format!(
                    "deployment {} is {} on the stage; GameSparks would refuse to start another",
                    busy.id,
                    busy.state.as_str()
                ));
            }
            if stage.current_snapshot_id.is_some()
                && stage.current_snapshot_id.as_deref() == snapshot_id
            {
                stage
                    .notes
                    .push("the stage already serves this snapshot: a run asking for \"latest\" ends UNCHANGED without deploying; asked for by id, it is redeployed and a failure alerts (nothing older to roll back to)".into());
            }
            if stage.rollback_snapshot_id.is_none() {
                stage.notes.push(
                    "no known-good snapshot to roll back to: a failure would alert instead".into(),
                );
            }
        }
    }
    if let (Some(spec), Some(reading)) = (bake, alarms) {
        match reading {
            Err(e) if spec.ignore_alarm_read_errors => stage.notes.push(format!(
                "the alarms could not be read (ignored by the input): {e}"
            )),
            Err(e) => stage
                .problems
                .push(format!("the bake alarms could not be read: {e}")),
            Ok(found) => {
                let missing = bake::missing_alarms(spec, &found);
                if !missing.is_empty() {
                    let text = format!("bake alarm(s) not found: {}", bake::first_few(&missing));
                    if spec.ignore_alarm_read_errors {
                        stage.notes.push(format!("{text} (ignored by the input)"));
                    } else {
                        stage.problems.push(text);
                    }
                }
                stage.alarms = bake::kept(spec, &found);
                // One problem for all firing alarms, naming a few: the plan lists every alarm's
                // state already, and a hundred sentences would crowd the payload limits.
                let firing: Vec<String> = stage
                    .alarms
                    .iter()
                    .filter(|a| bake::is_failing(spec, &a.state))
                    .map(|a| format!("{} ({})", spec.name(a.alarm), a.state))
                    .collect();
                if !firing.is_empty() {
                    stage.problems.push(format!(
                        "{} alarm(s) firing now, the run would not deploy while they are: {}",
                        firing.len(),
                        bake::first_few(&firing)
                    ));
                }
            }
        }
    }
    stage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bake::tests::{alarm, spec};
    use crate::deployment::{DeploymentAction, DeploymentState, ResultCode};
    use time::macros::datetime;

    const S1: &str = "Snapshot_2026-01-01T00:00:00.000Z";
    const S2: &str = "Snapshot_2026-01-02T00:00:00.000Z";

    fn dep(id: &str, snap: &str, state: DeploymentState, code: Option<ResultCode>) -> Deployment {
        Deployment {
            id: id.into(),
            snapshot_id: Some(snap.into()),
            action: Some(DeploymentAction::Deploy),
            state,
            result_code: code,
            result_message: None,
            created: Some(datetime!(2026-01-03 00:00 UTC)),
            last_updated: Some(datetime!(2026-01-03 00:00 UTC)),
        }
    }

    #[test]
    fn a_clean_stage_is_ready() {
        let history = [dep(
            "d1",
            S1,
            DeploymentState::Completed,
            Some(ResultCode::Success),
        )];
        let s = plan_stage(
            "prod",
            Some(S2),
            Ok(&history),
            Some(&spec(&["a"])),
            Some(Ok(vec![alarm("a", "OK")])),
        );
        assert_eq!(s.current_snapshot_id.as_deref(), Some(S1));
        assert_eq!(s.rollback_snapshot_id.as_deref(), Some(S1));
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(Plan::new(Some(S2.into()), vec![], vec![s]).ready);
    }

    #[test]
    fn ignored_read_errors_are_notes_not_problems() {
        let history = [dep(
            "d1",
            S1,
            DeploymentState::Completed,
            Some(ResultCode::Success),
        )];
        let mut ignoring = spec(&["a", "b"]);
        ignoring.ignore_alarm_read_errors = true;
        // A missing alarm, and alarms that cannot be read at all: notes, and the run is ready.
        for reading in [Ok(vec![alarm("a", "OK")]), Err("AccessDenied".to_owned())] {
            let s = plan_stage(
                "prod",
                Some(S2),
                Ok(&history),
                Some(&ignoring),
                Some(reading),
            );
            assert!(s.problems.is_empty(), "{:?}", s.problems);
            assert!(
                s.notes.iter().any(|n| n.contains("ignored by the input")),
                "{:?}",
                s.notes
            );
        }
        // Not ignoring, the same missing alarm stops the run.
        let s = plan_stage(
            "prod",
            Some(S2),
            Ok(&history),
            Some(&spec(&["a", "b"])),
            Some(Ok(vec![alarm("a", "OK")])),
        );
        assert!(
            s.problems.iter().any(|p| p.contains("not found: b")),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn problems_are_found_not_thrown() {
        let history = [
            dep("d2", S2, DeploymentState::InProgress, None),
            dep(
                "d1",
                S1,
                DeploymentState::Completed,
                Some(ResultCode::Success),
            ),
        ];
        let s = plan_stage(
            "prod",
            Some(S1),
            Ok(&history),
            Some(&spec(&["a", "b", "c"])),
            Some(Ok(vec![alarm("a", "ALARM"), alarm("c", "OK")])),
        );
        let text = s.problems.join(" | ");
        assert!(text.contains("d2 is IN_PROGRESS"), "{text}");
        assert!(text.contains("not found: b"), "{text}");
        assert!(text.contains("1 alarm(s) firing now"), "{text}");
        assert!(text.contains(": a (ALARM)"), "{text}");
        assert!(s.notes.iter().any(|n| n.contains("already serves")));
        assert_eq!(s.rollback_snapshot_id, None);
        let plan = Plan::new(Some(S1.into()), vec![], vec![s]);
        assert!(!plan.ready);
        assert!(plan.all_problems()[0].starts_with("prod: "));
    }

    #[test]
    fn unreadable_things_are_problems_unless_ignored() {
        let s = plan_stage("dev", Some(S1), Err("denied".into()), None, None);
        assert!(s.problems[0].contains("denied"));
        let mut ignoring = spec(&["a"]);
        ignoring.ignore_alarm_read_errors = true;
        let s = plan_stage(
            "dev",
            Some(S1),
            Ok(&[]),
            Some(&ignoring),
            Some(Err("throttled".into())),
        );
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(s.notes.iter().any(|n| n.contains("throttled")));
        let s = plan_stage(
            "dev",
            Some(S1),
            Ok(&[]),
            Some(&spec(&["a"])),
            Some(Err("throttled".into())),
        );
        assert_eq!(s.problems.len(), 1);
    }

    #[test]
    fn a_stage_serving_nothing_does_not_already_serve_a_snapshot_nobody_found() {
        // "latest" resolved to nothing (the game has no snapshot yet) on a stage that never
        // served one: nothing matches, so no "already serves" note, only the missing rollback.
        let s = plan_stage("dev", None, Ok(&[]), None, None);
        assert_eq!(s.current_snapshot_id, None);
        assert_eq!(
            s.notes,
            ["no known-good snapshot to roll back to: a failure would alert instead"]
        );
    }
}

//! What follows a stage's deployment: its bake window, then the next stage of a promotion wave
//! or the end of the run. Apart from `wave`, which holds the wave's types, because these steps
//! change the gate state and the state holds a wave.

use time::OffsetDateTime;

use crate::bake;
use crate::policy::{Action, Decision, Phase};
use crate::state::GateState;
use crate::wave::PassedStage;

/// The record of the current stage passing its gate at `now`.
pub fn passed_stage(state: &GateState, now: OffsetDateTime) -> PassedStage {
    PassedStage {
        deployment_id: state.deployment.deployment_id.clone(),
        snapshot_id: state.deployment.snapshot_id.clone(),
        previous_snapshot_id: state.previous_snapshot_id.clone(),
        passed_at: state
            .bake_window
            .as_ref()
            .and_then(|w| w.passed_at)
            .or(state.deployment.finished_at)
            .unwrap_or(now),
        baked_seconds: state
            .bake_window
            .as_ref()
            .and(state.bake.as_ref())
            .map_or(0, |b| b.seconds),
    }
}

/// What follows a deployment seen to succeed at `now`: its bake window, when the stage has one
/// (the state moves to phase BAKE; the wait is until the first check), else what follows a passed
/// stage.
pub fn after_deployment_succeeded(state: &mut GateState, now: OffsetDateTime) -> (Decision, u64) {
    let Some(spec) = &state.bake else {
        return (after_stage_passed(state, now), 0);
    };
    let (window, wait) = bake::open(spec, now);
    let decision = Decision {
        action: Action::Wait,
        reason: format!(
            "deployed; baking for {} s watching {} alarm(s)",
            spec.seconds,
            spec.alarm_names.len()
        ),
    };
    state.bake_window = Some(window);
    state.phase = Phase::Bake;
    (decision, wait)
}

/// What follows once the current stage is deployed and (if asked) baked: the next stage of the
/// wave, or the end of the run. A wave records the stage as passed.
pub fn after_stage_passed(state: &mut GateState, now: OffsetDateTime) -> Decision {
    let passed = passed_stage(state, now);
    if let Some(w) = state.wave.as_mut() {
        if let Some(current) = w.stages.get_mut(w.index) {
            current.passed = Some(passed);
        }
    }
    match state.next_stage() {
        Some(next) => Decision {
            action: Action::Advance,
            reason: format!(
                "{} passed its gate; promoting to {} next",
                state.stage_name, next.stage_name
            ),
        },
        None if state.wave.is_some() => Decision {
            action: Action::Succeed,
            reason: "every stage of the wave passed its gate".into(),
        },
        None if state.bake_window.is_some() => Decision {
            action: Action::Succeed,
            reason: "the requested snapshot is deployed and passed its bake window".into(),
        },
        None => Decision {
            action: Action::Succeed,
            reason: "the requested snapshot is deployed".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bake::BakeSpec;
    use crate::wave::{Wave, WaveStage};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-26 09:00:00 UTC);
    const FINISHED: OffsetDateTime = datetime!(2026-11-26 08:05:00 UTC);

    /// The sample poll state, its deployment finished at `FINISHED`.
    fn deployed() -> GateState {
        let mut s: GateState = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/poll-deployment.json"
        )))
        .unwrap_or_else(|e| panic!("sample state: {e}"));
        s.deployment.finished_at = Some(FINISHED);
        s
    }

    fn spec() -> BakeSpec {
        BakeSpec {
            seconds: 600,
            alarm_names: vec!["errors".into(), "latency".into()],
            check_interval_seconds: 60,
            fail_on_insufficient_data: false,
            ignore_alarm_read_errors: false,
        }
    }

    fn wave(index: usize) -> Wave {
        let stage = |n: &str| WaveStage {
            stage_name: n.into(),
            bake: None,
            approval: None,
            passed: None,
        };
        Wave {
            index,
            stages: vec![stage("dev"), stage("prod")],
        }
    }

    #[test]
    fn a_stage_without_a_bake_passes_when_deployed() {
        let mut s = deployed();
        let (d, wait) = after_deployment_succeeded(&mut s, NOW);
        assert_eq!((d.action, wait), (Action::Succeed, 0));
        assert_eq!(d.reason, "the requested snapshot is deployed");
        assert_eq!(s.phase, Phase::Deploy);
        assert!(s.bake_window.is_none());
    }

    #[test]
    fn a_stage_with_a_bake_opens_its_window_first() {
        let mut s = deployed();
        s.bake = Some(spec());
        let (d, wait) = after_deployment_succeeded(&mut s, NOW);
        assert_eq!(d.action, Action::Wait);
        assert_eq!(d.reason, "deployed; baking for 600 s watching 2 alarm(s)");
        // The first check one interval in.
        assert_eq!(wait, 60);
        assert_eq!(s.phase, Phase::Bake);
        let window = s
            .bake_window
            .as_ref()
            .unwrap_or_else(|| panic!("no window"));
        assert_eq!(window.started_at, NOW);
        assert_eq!(window.ends_at, NOW + time::Duration::seconds(600));
    }

    #[test]
    fn what_follows_a_passed_stage() {
        // The first of two stages: advance, and the wave records it as passed when it deployed.
        let mut s = deployed();
        s.stage_name = "dev".into();
        s.wave = Some(wave(0));
        let d = after_stage_passed(&mut s, NOW);
        assert_eq!(d.action, Action::Advance);
        assert_eq!(d.reason, "dev passed its gate; promoting to prod next");
        let passed = s.wave.as_ref().and_then(|w| w.stages[0].passed.clone());
        assert_eq!(passed, Some(passed_stage(&deployed(), NOW)));
        assert_eq!(passed.map(|p| p.passed_at), Some(FINISHED));
        // The last one: the wave succeeded.
        let mut s = deployed();
        s.wave = Some(wave(1));
        let d = after_stage_passed(&mut s, NOW);
        assert_eq!(d.action, Action::Succeed);
        assert_eq!(d.reason, "every stage of the wave passed its gate");
        assert!(s
            .wave
            .as_ref()
            .is_some_and(|w| w.stages[1].passed.is_some()));
        // One stage, baked or not: the message says which.
        let mut s = deployed();
        s.bake = Some(spec());
        s.bake_window = Some(crate::bake::open(&spec(), NOW).0);
        let d = after_stage_passed(&mut s, NOW);
        assert_eq!(d.action, Action::Succeed);
        assert_eq!(
            d.reason,
            "the requested snapshot is deployed and passed its bake window"
        );
        let d = after_stage_passed(&mut deployed(), NOW);
        assert_eq!(d.reason, "the requested snapshot is deployed");
    }

    #[test]
    fn a_passed_stage_records_when_it_passed_and_how_long_it_baked() {
        // Unbaked: when the deployment finished, or now when that is unknown.
        let s = deployed();
        let p = passed_stage(&s, NOW);
        assert_eq!(p.deployment_id, s.deployment.deployment_id);
        assert_eq!(p.snapshot_id, s.deployment.snapshot_id);
        assert_eq!(p.previous_snapshot_id, s.previous_snapshot_id);
        assert_eq!((p.passed_at, p.baked_seconds), (FINISHED, 0));
        let mut s = deployed();
        s.deployment.finished_at = None;
        assert_eq!(passed_stage(&s, NOW).passed_at, NOW);
        // Baked: when its window passed, and the window's length.
        let mut s = deployed();
        let end = NOW + time::Duration::seconds(600);
        let (mut window, _) = crate::bake::open(&spec(), NOW);
        window.passed_at = Some(end);
        s.bake = Some(spec());
        s.bake_window = Some(window);
        let p = passed_stage(&s, NOW);
        assert_eq!((p.passed_at, p.baked_seconds), (end, 600));
        // A bake asked for but never opened baked nothing.
        s.bake_window = None;
        assert_eq!(passed_stage(&s, NOW).baked_seconds, 0);
    }
}

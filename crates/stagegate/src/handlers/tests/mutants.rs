//! Handler behaviour that `cargo xtask mutants` found no test pinned down (docs/testing.md): each
//! test here is a decision of a handler, checked through the handler as the workflow calls it,
//! and kills the mutants named in its comment. Kept apart from the files of each function so the
//! mutation report and its tests can be read together.

use super::*;

/// poll-deployment on `event`, refused: the error's text (`field \`...\`: ...`), or "accepted".
async fn poll_refusal(gs: &FakeGameSparks, event: &Value) -> String {
    match poll::handle(
        gs,
        &FakeAlarms::new(),
        &FakeAbortRequests::new(),
        event,
        &FixedClock(T0 + Duration::minutes(1)),
    )
    .await
    {
        Ok(_) => "accepted".into(),
        Err(e) => format!("{}: {e}", e.error_type()),
    }
}

/// `parse_state`: what reaches GameSparks is checked again, whoever wrote the state. A started
/// deployment always has a valid id; one the gate never started may have none, but not a broken
/// one; a bake has its window; a rollback's id is checked once it has one.
#[tokio::test]
async fn a_state_is_checked_again_before_anything_reaches_gamesparks() {
    let gs = stage();
    let s = started(&gs, S4).await;
    let refusal = |edit: &dyn Fn(&mut GateState)| {
        let mut state = s.clone();
        edit(&mut state);
        let event = serde_json::to_value(&state).unwrap_or_default();
        let gs = &gs;
        async move { poll_refusal(gs, &event).await }
    };
    // A deployment being watched without an id.
    let refused = refusal(&|s| s.deployment.deployment_id.clear()).await;
    assert!(
        refused.starts_with(types::INVALID_INPUT) && refused.contains("`deploymentId`"),
        "{refused}"
    );
    // One never started (blocked) may have no id, but an id it has must be valid.
    let refused = refusal(&|s| {
        s.deployment.outcome = Outcome::Blocked;
        s.deployment.deployment_id = " dep-1".into();
    })
    .await;
    assert!(refused.contains("`deploymentId`"), "{refused}");
    // A bake without its window cannot be checked.
    let refused = refusal(&|s| {
        s.phase = Phase::Bake;
        s.bake = Some(crate::bake::BakeSpec {
            seconds: 600,
            alarm_names: vec!["errors".into()],
            check_interval_seconds: 60,
            fail_on_insufficient_data: false,
            ignore_alarm_read_errors: false,
        });
    })
    .await;
    assert!(refused.contains("`bakeWindow`"), "{refused}");
    // A rollback's id, once GameSparks gave one, is checked like the deployment's.
    let refused = refusal(&|s| {
        s.phase = Phase::Rollback;
        let mut rollback = s.deployment.clone();
        rollback.deployment_id = "rb-1\n".into();
        s.rollback = Some(rollback);
    })
    .await;
    assert!(refused.contains("`rollback.deploymentId`"), "{refused}");
    assert!(!gs.calls().contains(&GET), "nothing reached GameSparks");
}

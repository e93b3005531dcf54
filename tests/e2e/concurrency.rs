//! Two executions racing for one stage: GameSparks lets one deployment hold a stage, so exactly
//! one deploys and the other ends BLOCKED, each with its notification. Many at once, for longer,
//! is the soak's `concurrency` case (`tests/soak.rs`); a new e2e race goes here.

use std::sync::Arc;

use stagegate_tests::e2e::Ctx;

use crate::common::{input, CaseResult, PROD, V11};

pub async fn concurrent_executions(ctx: Arc<Ctx>) -> CaseResult {
    let (a, b) = tokio::join!(
        ctx.execute_quiet("race-a", input(V11)),
        ctx.execute_quiet("race-b", input(V11))
    );
    let (a, b) = (a?, b?);
    let mut statuses = [a.status.as_str(), b.status.as_str()];
    statuses.sort();
    check!(statuses == ["FAILED", "SUCCEEDED"], "statuses {statuses:?}");
    let loser = if a.status == "FAILED" { &a } else { &b };
    check!(
        loser.error.as_deref() == Some("StageGate.BLOCKED"),
        "loser error {:?} {:?}",
        loser.error,
        loser.cause
    );
    check!(
        loser
            .cause
            .as_deref()
            .unwrap_or("")
            .contains("another deployment holds the stage"),
        "cause {:?}",
        loser.cause
    );
    let messages = ctx.drain_messages().await?;
    let outcomes: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.attribute("outcome"))
        .collect();
    check!(
        outcomes.len() == 2 && outcomes.contains(&"BLOCKED") && outcomes.contains(&"SUCCEEDED"),
        "outcomes {outcomes:?}"
    );
    check!(ctx.deploys(PROD)? == 1, "deployments");
    Ok(())
}

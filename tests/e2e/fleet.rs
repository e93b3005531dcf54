//! Fleet promotion on the local stack: 20 synthetic games under one budget, the real fleet ASL
//! running each game's whole gate as a child execution. Within the budget the fleet completes;
//! past it, it stops starting games at the batch the budget names, while every started gate
//! finishes and publishes. A bad fleet starts nothing and says which item broke which rule.
//! The 200-game run with figures is `cargo xtask fleet`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use stagegate::fleet_summary::FleetStatus;
use stagegate_tests::e2e::Ctx;
use stagegate_tests::fleet;

use crate::common::CaseResult;

const GAMES: usize = 20;

async fn fleet_run(
    ctx: &Arc<Ctx>,
    name: &str,
    failing: &[usize],
    percent: u8,
    batch: usize,
    canaries: usize,
) -> CaseResult {
    ctx.load_scenario(&fleet::scenario(GAMES, failing))?;
    let input = fleet::input("e2e", GAMES, percent, batch, canaries);
    let clients = ctx.stack.clients().await;
    let run = fleet::run(&ctx.stack, &clients, name, &input, Duration::from_secs(200)).await?;
    let want = fleet::expected(GAMES, failing, percent, batch, canaries);
    let problems = fleet::check(&ctx.stack, &run, GAMES, &want).await?;
    check!(
        problems.is_empty(),
        "{name}: {}\nsummary: {}\nfailed: {:?}",
        problems.join("; "),
        run.summary.summary,
        run.summary.failed_games
    );
    println!(
        "    {name}: {} of {GAMES} started, {} in {:.1} s",
        run.summary.started,
        run.summary.status.as_str(),
        run.elapsed.as_secs_f64()
    );
    Ok(())
}

/// 20 games in batches of 5 under a 10% budget (2 may fail): two failures complete the fleet;
/// three, the third in the second batch, stop it after that batch with 10 games never started.
pub async fn fleet_keeps_its_budget(ctx: Arc<Ctx>) -> CaseResult {
    let within = fleet::expected(GAMES, &[3, 12], 10, 5, 0);
    check!(within.status == FleetStatus::Completed, "{within:?}");
    fleet_run(&ctx, "fleet-within", &[3, 12], 10, 5, 0).await?;
    let past = fleet::expected(GAMES, &[1, 6, 7], 10, 5, 0);
    check!(
        past.status == FleetStatus::Stopped && past.started == 10,
        "{past:?}"
    );
    fleet_run(&ctx, "fleet-past", &[1, 6, 7], 10, 5, 0).await
}

/// Two canaries first; one fails, so no other game starts.
pub async fn fleet_canary_stops_the_rest(ctx: Arc<Ctx>) -> CaseResult {
    fleet_run(&ctx, "fleet-canary", &[1], 50, 5, 2).await
}

/// An unknown game: the fleet is refused by item and rule, one summary says so, no game starts.
pub async fn fleet_refuses_bad_input(ctx: Arc<Ctx>) -> CaseResult {
    ctx.load_scenario(&fleet::scenario(3, &[]))?;
    let mut input = fleet::input("e2e", 3, 5, 5, 0);
    input["games"][2]["gameName"] = json!("no-such-game");
    let clients = ctx.stack.clients().await;
    let run = fleet::run(
        &ctx.stack,
        &clients,
        "fleet-bad",
        &input,
        Duration::from_secs(60),
    )
    .await?;
    check!(
        run.status == "FAILED" && run.error.as_deref() == Some("StageGate.FleetRefused"),
        "{} {:?}",
        run.status,
        run.error
    );
    check!(
        run.summary.status == FleetStatus::Refused,
        "{:?}",
        run.summary
    );
    let reason = run.summary.reason.clone().unwrap_or_default();
    check!(
        reason.contains("games[2].gameName") && reason.contains("no-such-game"),
        "{reason}"
    );
    check!(run.children.is_empty(), "started {:?}", run.children);
    check!(
        run.summaries().len() == 1,
        "{} summaries",
        run.summaries().len()
    );
    check!(
        ctx.requests("StartStageDeployment")? == 0,
        "a deployment started"
    );
    Ok(())
}

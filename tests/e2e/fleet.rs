//! Fleet promotion on the local stack: 20 synthetic games under one budget, the real fleet ASL
//! running each game's whole gate as a child execution. Within the budget the fleet completes;
//! past it, it stops starting games at the batch the budget names, while every started gate
//! finishes and publishes. A bad fleet starts nothing and says which item broke which rule.
//! The 200-game run with figures is `cargo xtask fleet`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
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

/// A breach under `onBreach: rollback`: the 7 games the first two batches promoted are each run
/// back through their own gate to the snapshot they served before; the failed ones had already
/// rolled themselves back; no later game starts.
pub async fn fleet_breach_rolls_back_the_promoted(ctx: Arc<Ctx>) -> CaseResult {
    let failing = [1, 6, 7];
    ctx.load_scenario(&fleet::scenario(GAMES, &failing))?;
    let mut input = fleet::input("e2e", GAMES, 10, 5, 0);
    input["onBreach"] = json!("rollback");
    let clients = ctx.stack.clients().await;
    let run = fleet::run(
        &ctx.stack,
        &clients,
        "fleet-rollback",
        &input,
        Duration::from_secs(200),
    )
    .await?;
    check!(
        run.status == "FAILED" && run.error.as_deref() == Some("StageGate.FleetStopped"),
        "{} {:?}",
        run.status,
        run.error
    );
    let s = &run.summary;
    check!(s.started == 10 && s.not_started == 10, "{}", s.summary);
    let back = s
        .breach_rollback
        .clone()
        .ok_or("the summary has no rollback")?;
    check!(
        back.games == 7 && back.counts.get("SUCCEEDED") == Some(&7),
        "rollback {back:?}"
    );
    check!(
        s.summary.contains("7 promoted game(s) were run back"),
        "{}",
        s.summary
    );
    let per_game = run.messages_per_game();
    for i in 0..GAMES {
        let game = fleet::game_name(i);
        let (snapshot, action, state) = fleet::newest_deployment(&ctx.stack, &game).await?;
        let messages = per_game.get(&game).copied().unwrap_or(0);
        let (want_messages, want_snapshot) = match i {
            _ if failing.contains(&i) => (1, fleet::KNOWN_GOOD),
            0..=9 => (2, fleet::KNOWN_GOOD),
            _ => (0, fleet::KNOWN_GOOD),
        };
        check!(
            messages == want_messages && snapshot == want_snapshot && state == "COMPLETED",
            "{game}: {messages} message(s), serving {snapshot} ({action} {state})"
        );
        if (0..=9).contains(&i) && !failing.contains(&i) {
            check!(
                action == "DEPLOY",
                "{game} rolled back by {action}, not by a gate's deploy"
            );
        }
    }
    check!(
        run.summaries().len() == 1,
        "{} summaries",
        run.summaries().len()
    );
    check!(
        run.children.len() == 17,
        "{} child runs: 10 promotions and 7 rollbacks",
        run.children.len()
    );
    Ok(())
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

/// `stagegate <args>` against the stack: exit code and stdout as JSON.
async fn cli(ctx: &Ctx, args: &[&str]) -> Result<(Option<i32>, Value), String> {
    let binary = stagegate_local::target_dir(&stagegate_tests::repo_root()).join("debug/stagegate");
    let mut command = std::process::Command::new(&binary);
    command.args(args).env_clear().envs(ctx.stack.environment());
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| format!("stagegate: {e}"))?
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let doc = serde_json::from_str(&text).map_err(|e| {
        format!(
            "stagegate {} printed no document ({e}): {text}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((out.status.code(), doc))
}

/// The operator's way: `stagegate fleet run` refuses a bad file before any call and starts a
/// good one; `stagegate fleet status` follows it from its progress to its summary (exit 5 while
/// it runs, 0 once it completed), in two or three calls whatever the fleet's size.
pub async fn fleet_cli_runs_and_reports(ctx: Arc<Ctx>) -> CaseResult {
    ctx.load_scenario(&fleet::scenario(8, &[5]))?;
    let dir = std::env::temp_dir().join(format!("stagegate-e2e-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("fleet.json");
    let mut bad = fleet::input("cli", 8, 25, 2, 1);
    bad["budget"]["maxFailurePercent"] = json!(250);
    std::fs::write(&file, bad.to_string()).map_err(|e| e.to_string())?;
    let path = file.to_string_lossy().into_owned();
    let (code, doc) = cli(
        &ctx,
        &[
            "fleet",
            "run",
            "--input",
            &path,
            "--name",
            "fleet-cli-bad",
            "-o",
            "json",
        ],
    )
    .await?;
    check!(code == Some(2), "a bad fleet exited {code:?}: {doc}");
    check!(
        doc.to_string().contains("budget.maxFailurePercent"),
        "the error names no field: {doc}"
    );
    let clients = ctx.stack.clients().await;
    let fleets = clients
        .sfn
        .list_executions()
        .state_machine_arn(&ctx.stack.fleet_state_machine_arn)
        .send()
        .await
        .map_err(|e| format!("ListExecutions: {e:?}"))?;
    check!(
        !fleets
            .executions()
            .unwrap_or_default()
            .iter()
            .any(|e| e.name() == Some("fleet-cli-bad")),
        "a refused file started a fleet"
    );

    std::fs::write(&file, fleet::input("cli", 8, 25, 2, 1).to_string())
        .map_err(|e| e.to_string())?;
    let (code, doc) = cli(
        &ctx,
        &[
            "fleet",
            "run",
            "--input",
            &path,
            "--name",
            "fleet-cli",
            "-o",
            "json",
        ],
    )
    .await?;
    check!(code == Some(0), "fleet run exited {code:?}: {doc}");
    check!(doc["plan"]["batches"] == 5, "plan: {doc}");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut seen_running = false;
    let (code, doc) = loop {
        let (code, doc) = cli(
            &ctx,
            &["fleet", "status", "--execution", "fleet-cli", "-o", "json"],
        )
        .await?;
        if code != Some(5) {
            break (code, doc);
        }
        seen_running = true;
        check!(std::time::Instant::now() < deadline, "still running: {doc}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = std::fs::remove_dir_all(&dir);
    check!(seen_running, "status never saw the fleet running");
    check!(code == Some(0), "fleet status exited {code:?}: {doc}");
    check!(
        doc["fleetStatus"] == "COMPLETED" && doc["summary"]["started"] == 8,
        "status: {doc}"
    );
    check!(
        doc["summary"]["failedGames"][0]["gameName"] == fleet::game_name(5).as_str(),
        "failed games: {doc}"
    );
    // The fleet's messages, its summary among them (no gate message), are this case's: the
    // next case reads the queue as gate messages.
    tokio::time::sleep(Duration::from_secs(1)).await;
    fleet::drain(&ctx.stack, &clients).await?;
    Ok(())
}

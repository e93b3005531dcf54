//! `cargo xtask fleet`: the 200-game fleet on the local stack, with figures.
//!
//! Two runs on one stack, each over synthetic games with failures injected at fixed positions:
//! 3% failing under a 5% budget must complete; 6% must stop starting games at the batch the
//! budget names (the core's own `budget::next` says which, before the run). Both must show no
//! game deployed twice, every started game exactly one message, the fleet exactly one summary.
//! Then it prints and writes (`--out`, default `bench/fleet.json`) what a fleet costs: wall time
//! at the given batch size and time scale, GameSparks calls per game, state transitions per game
//! (each child's history, read here once per child to measure, never by the product) and the
//! fleet's own, and the dollar cost per game and per run at list prices.
//!
//! `cargo test -p stagegate-tests --test fleet -- --games 200 --batch 20 --time-scale 60`

use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_sfn::types::HistoryEventType;
use serde_json::{json, Value};
use stagegate::fleet_summary::FleetStatus;
use stagegate::metrics::{USD_PER_LAMBDA_REQUEST, USD_PER_STATE_TRANSITION};
use stagegate_local::{Clients, Options, Stack};
use stagegate_tests::fleet::{self, FleetRun};

struct Config {
    games: usize,
    batch: usize,
    time_scale: f64,
    out: String,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Config, String> {
    let mut c = Config {
        games: 200,
        batch: 20,
        time_scale: 60.0,
        out: "bench/fleet.json".into(),
    };
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--games" => c.games = value()?.parse().map_err(|e| format!("--games: {e}"))?,
            "--batch" => c.batch = value()?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--time-scale" => {
                c.time_scale = value()?.parse().map_err(|e| format!("--time-scale: {e}"))?
            }
            "--out" => c.out = value()?,
            // cargo test's own flags when run as a test target.
            "--nocapture" | "--quiet" | "-q" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if c.games < 40 || c.batch == 0 {
        return Err("--games must be at least 40 and --batch at least 1".into());
    }
    Ok(c)
}

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fleet: {e}\nusage: fleet [--games 200] [--batch 20] [--time-scale 60] [--out bench/fleet.json]");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleet: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Failing positions: `count` games spread evenly, none in the first batch.
fn spread(games: usize, count: usize) -> Vec<usize> {
    (0..count).map(|k| 7 + k * (games - 8) / count).collect()
}

async fn run(c: &Config) -> Result<(), String> {
    let root = stagegate_tests::repo_root();
    let mut options = Options::new(&root);
    options.time_scale = c.time_scale;
    options.verbose = true;
    options.lambda_concurrency = Some(4);
    options.lambda_ignore_changes = true;
    println!("fleet: starting the local stack");
    let stack = tokio::select! {
        stack = Stack::up(options) => stack.map_err(|e| format!("the local stack did not start: {e}"))?,
        _ = tokio::signal::ctrl_c() => return Err("interrupted".into()),
    };
    let clients = stack.clients().await;
    let result = tokio::select! {
        r = both(&stack, &clients, c) => r,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    };
    stack.shutdown();
    result
}

async fn both(stack: &Stack, clients: &Clients, c: &Config) -> Result<(), String> {
    let three = spread(c.games, c.games * 3 / 100);
    let six = spread(c.games, c.games * 6 / 100);
    let mut figures = vec![];
    let mut problems = vec![];
    for (label, failing, want_status) in [
        ("within", &three, FleetStatus::Completed),
        ("past", &six, FleetStatus::Stopped),
    ] {
        stack
            .admin(
                "POST",
                "/_emulator/scenario",
                Some(&fleet::scenario(c.games, failing)),
            )
            .map_err(|e| format!("loading the scenario: {e}"))?;
        let want = fleet::expected(c.games, failing, 5, c.batch, 0);
        if want.status != want_status {
            return Err(format!("{label}: the plan expects {want:?}"));
        }
        let name = format!("fleet-{label}-{}", c.games);
        let input = fleet::input("bench", c.games, 5, c.batch, 0);
        let run = fleet::run(stack, clients, &name, &input, Duration::from_secs(1800)).await?;
        let found = fleet::check(stack, &run, c.games, &want).await?;
        println!(
            "fleet {label}: {} failing of {}: {} {} of {} started in {:.1} s; {}",
            failing.len(),
            c.games,
            run.summary.status.as_str(),
            run.summary.started,
            c.games,
            run.elapsed.as_secs_f64(),
            if found.is_empty() {
                "all checks passed".to_owned()
            } else {
                found.join("; ")
            }
        );
        problems.extend(found.into_iter().map(|p| format!("{label}: {p}")));
        figures.push(measure(stack, clients, c, label, failing.len(), &run).await?);
    }
    let doc = json!({
        "what": "cargo xtask fleet: two fleet runs on the local stack (moto's Step Functions, the functions under cargo lambda, the GameSparks emulator); failures at fixed positions under a 5% budget",
        "games": c.games,
        "batchSize": c.batch,
        "timeScale": c.time_scale,
        "runs": figures,
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    let out = stagegate_tests::repo_root().join(&c.out);
    std::fs::write(&out, format!("{text}\n")).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("fleet: figures written to {}", out.display());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

async fn measure(
    stack: &Stack,
    clients: &Clients,
    c: &Config,
    label: &str,
    failing: usize,
    run: &FleetRun,
) -> Result<Value, String> {
    let counters = stack
        .admin("GET", "/_emulator/counters", None)
        .map_err(|e| e.to_string())?;
    let by_op = counters["requestsByOperation"].clone();
    let gamesparks: u64 = by_op
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    let started = run.summary.started.max(1) as f64;
    // Measurement only: each child's history once, to count its state transitions.
    let (mut gate_transitions, mut gate_tasks) = (0u64, 0u64);
    for child in &run.children {
        let arn = format!(
            "{}:{child}",
            stack
                .state_machine_arn
                .replace(":stateMachine:", ":execution:")
        );
        let (all, tasks) = transitions(clients, &arn).await?;
        gate_transitions += all;
        gate_tasks += tasks;
    }
    let fleet_own = run.summary.cost.state_transitions;
    let per_game_transitions = gate_transitions as f64 / started;
    // The gate's Lambda requests per game: its task states, each a Lambda invoke.
    let lambda_per_game = gate_tasks as f64 / started;
    let usd_per_game =
        per_game_transitions * USD_PER_STATE_TRANSITION + lambda_per_game * USD_PER_LAMBDA_REQUEST;
    let fleet_usd = run.summary.cost.estimated_usd;
    let figure = json!({
        "run": label,
        "failing": failing,
        "status": run.summary.status.as_str(),
        "started": run.summary.started,
        "notStarted": run.summary.not_started,
        "seconds": (run.elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "virtualMinutes": (run.elapsed.as_secs_f64() * c.time_scale / 60.0).round(),
        "gamesparksCallsPerGame": (gamesparks as f64 / started * 10.0).round() / 10.0,
        "gamesparksCallsByOperation": by_op,
        "gateTransitionsPerGame": (per_game_transitions * 10.0).round() / 10.0,
        "gateLambdaCallsPerGame": (lambda_per_game * 10.0).round() / 10.0,
        "fleetTransitions": fleet_own,
        "fleetTransitionsPerGame": (fleet_own as f64 / started * 10.0).round() / 10.0,
        "usdPerGame": (usd_per_game * 1e6).round() / 1e6 + (fleet_usd / started * 1e6).round() / 1e6,
        "usdPerRun": ((usd_per_game * started + fleet_usd) * 1e4).round() / 1e4,
    });
    println!("fleet {label}: {figure}");
    Ok(figure)
}

/// State transitions and task states (Lambda invokes) in one execution's history.
async fn transitions(clients: &Clients, arn: &str) -> Result<(u64, u64), String> {
    let (mut n, mut tasks) = (0, 0);
    let mut token = None;
    loop {
        let page = clients
            .sfn
            .get_execution_history()
            .execution_arn(arn)
            .set_next_token(token.take())
            .max_results(1000)
            .send()
            .await
            .map_err(|e| format!("GetExecutionHistory {arn}: {e:?}"))?;
        let events = page.events().unwrap_or_default();
        tasks += events
            .iter()
            .filter(|e| e.r#type() == Some(&HistoryEventType::TaskStateEntered))
            .count() as u64;
        n += events
            .iter()
            .filter(|e| {
                matches!(
                    e.r#type(),
                    Some(
                        HistoryEventType::TaskStateEntered
                            | HistoryEventType::ChoiceStateEntered
                            | HistoryEventType::WaitStateEntered
                            | HistoryEventType::PassStateEntered
                            | HistoryEventType::SucceedStateEntered
                            | HistoryEventType::FailStateEntered
                            | HistoryEventType::MapStateEntered
                    )
                )
            })
            .count() as u64;
        match page.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok((n, tasks)),
        }
    }
}

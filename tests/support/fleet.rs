//! A fleet on the local stack: synthetic games in the emulator, failures at fixed positions, one
//! fleet run, and the checks every fleet run must pass whatever its size. Shared by the e2e tier's
//! fleet case (about 20 games) and `cargo xtask fleet` (200 games, with figures).
//!
//! Failures are injected by position, not at random, so a run's stop point is known before it
//! starts: a failing game's new snapshot fails to deploy (UNSPECIFIED_FAILURE), which its gate
//! rolls back to the known-good one (ROLLED_BACK, which counts against the budget).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{json, Value};
use stagegate::budget::Next;
use stagegate::fleet_summary::{FleetStatus, FleetSummary};
use stagegate_cli::envelope::Envelope;
use stagegate_local::{Clients, Stack};

/// The snapshot every game promotes: each game's latest ("promote latest everywhere").
pub const NEW: &str = "Snapshot_2026-12-01T09:00:00.000Z";
/// A failing game's latest instead: the emulator's outcomes are per snapshot id, so a failure
/// is injected at a position by giving that game a snapshot of its own.
pub const NEW_FAILING: &str = "Snapshot_2026-12-01T09:30:00.000Z";
/// Every game's known-good snapshot, serving before the fleet runs.
pub const KNOWN_GOOD: &str = "Snapshot_2026-11-01T09:00:00.000Z";
pub const STAGE: &str = "prod";

pub fn game_name(i: usize) -> String {
    format!("fleet-{i:03}")
}

/// An emulator scenario of `games` games, each with `prod` serving KNOWN_GOOD; the games at
/// `failing` positions fail to deploy NEW.
pub fn scenario(games: usize, failing: &[usize]) -> Value {
    let games: Vec<Value> = (0..games)
        .map(|i| {
            let new = if failing.contains(&i) {
                json!({"id": NEW_FAILING, "description": "nightly build that fails to deploy",
                       "outcome": {"result": "UNSPECIFIED_FAILURE", "message": "injected failure at position {game}"}})
            } else {
                json!({"id": NEW, "description": "nightly build"})
            };
            json!({
                "name": game_name(i),
                "created": "2026-09-01T09:00:00Z",
                "snapshots": [{"id": KNOWN_GOOD, "description": "known good"}, new],
                "stages": [{
                    "name": STAGE,
                    "role": format!("arn:aws:iam::123456789012:role/Fleet{i:03}"),
                    "created": "2026-09-01T09:05:00Z",
                    "deployments": [{"snapshotId": KNOWN_GOOD, "state": "COMPLETED", "result": "SUCCESS", "created": "-7d"}]
                }]
            })
        })
        .collect();
    json!({
        "name": "fleet",
        "defaultPageSize": 100,
        "defaultOutcome": {"result": "SUCCESS", "pendingSeconds": 5, "durationSeconds": 60},
        "games": games
    })
}

/// A fleet input over the first `games` games.
pub fn input(name: &str, games: usize, percent: u8, batch_size: usize, canaries: usize) -> Value {
    let list: Vec<Value> = (0..games)
        .map(|i| json!({"gameName": game_name(i), "stageName": STAGE, "snapshotId": "latest"}))
        .collect();
    let mut v = json!({
        "fleetName": name,
        "games": list,
        "budget": {"maxFailurePercent": percent},
        "batchSize": batch_size
    });
    if canaries > 0 {
        v["canaryCount"] = json!(canaries);
    }
    v
}

/// What a fleet run did, read back from the stack.
#[derive(Debug)]
pub struct FleetRun {
    pub execution_arn: String,
    pub status: String,
    pub error: Option<String>,
    pub summary: FleetSummary,
    /// Every message the subscriber queue received during the run, in order.
    pub envelopes: Vec<Envelope>,
    pub elapsed: Duration,
    /// Child executions of the gate state machine the run started, by name.
    pub children: Vec<String>,
}

impl FleetRun {
    pub fn summaries(&self) -> Vec<&Envelope> {
        self.envelopes
            .iter()
            .filter(|e| e.attribute("kind") == Some("fleet-summary"))
            .collect()
    }

    /// Game name -> how many gate messages it published.
    pub fn messages_per_game(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for e in &self.envelopes {
            if e.attribute("kind") == Some("fleet-summary") {
                continue;
            }
            if let Some(game) = e.attribute("gameName") {
                *out.entry(game.to_owned()).or_insert(0) += 1;
            }
        }
        out
    }
}

/// Starts a fleet run, waits for it (up to `timeout`), and reads its summary, its messages and
/// its children.
pub async fn run(
    stack: &Stack,
    clients: &Clients,
    name: &str,
    input: &Value,
    timeout: Duration,
) -> Result<FleetRun, String> {
    // Whatever an earlier run left in the queue is not this run's.
    drain(stack, clients).await?;
    let started = Instant::now();
    let arn = clients
        .sfn
        .start_execution()
        .state_machine_arn(&stack.fleet_state_machine_arn)
        .name(name)
        .input(input.to_string())
        .send()
        .await
        .map_err(|e| format!("StartExecution: {e:?}"))?
        .execution_arn()
        .unwrap_or_default()
        .to_owned();
    let mut envelopes = vec![];
    let described = loop {
        envelopes.extend(drain(stack, clients).await?);
        let d = clients
            .sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .map_err(|e| format!("DescribeExecution: {e:?}"))?;
        if d.status() != Some(&ExecutionStatus::Running) {
            break d;
        }
        if started.elapsed() > timeout {
            return Err(format!("{arn} still RUNNING after {timeout:?}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let elapsed = started.elapsed();
    // The last messages may still be on their way from SNS to the queue.
    tokio::time::sleep(Duration::from_secs(1)).await;
    envelopes.extend(drain(stack, clients).await?);
    let key = format!("fleets/{name}/summary.json");
    let object = clients
        .s3
        .get_object()
        .bucket(&stack.fleet_bucket)
        .key(&key)
        .send()
        .await
        .map_err(|e| format!("GetObject {key}: {e:?}"))?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| format!("reading {key}: {e}"))?
        .into_bytes();
    let summary: FleetSummary =
        serde_json::from_slice(&bytes).map_err(|e| format!("{key} is no FleetSummary: {e}"))?;
    let mut children = vec![];
    let mut token = None;
    loop {
        let page = clients
            .sfn
            .list_executions()
            .state_machine_arn(&stack.state_machine_arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("ListExecutions: {e:?}"))?;
        children.extend(
            page.executions()
                .unwrap_or_default()
                .iter()
                .filter_map(|e| e.name().map(str::to_owned))
                .filter(|n| n.starts_with(&name[..name.len().min(40)])),
        );
        match page.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    Ok(FleetRun {
        execution_arn: arn,
        status: described
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        error: described.error().map(str::to_owned),
        summary,
        envelopes,
        elapsed,
        children,
    })
}

/// Takes every message waiting in the subscriber queue, as envelopes (a fleet summary is no gate
/// message).
pub async fn drain(stack: &Stack, clients: &Clients) -> Result<Vec<Envelope>, String> {
    let mut out = vec![];
    loop {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(&stack.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .send()
            .await
            .map_err(|e| format!("ReceiveMessage: {e:?}"))?;
        let messages = received.messages().unwrap_or_default();
        if messages.is_empty() {
            return Ok(out);
        }
        for m in messages {
            out.push(Envelope::parse(m.body().unwrap_or_default())?);
            if let Some(handle) = m.receipt_handle() {
                clients
                    .sqs
                    .delete_message()
                    .queue_url(&stack.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| format!("DeleteMessage: {e:?}"))?;
            }
        }
    }
}

/// What a run is expected to do, from its plan: how many games start, and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub started: usize,
    pub status: FleetStatus,
    pub failed: usize,
}

/// The expectation the core's own budget gives for `games` games, `failing` positions, batches of
/// `batch_size` and `percent`: the stop point is known before the run.
pub fn expected(
    games: usize,
    failing: &[usize],
    percent: u8,
    batch_size: usize,
    canaries: usize,
) -> Expected {
    let canaries: Vec<usize> = (0..canaries).collect();
    let plan = stagegate::budget::batches(games, &canaries, batch_size);
    let budget = stagegate::budget::Budget {
        max_failure_percent: percent,
        canary_max_failures: 0,
    };
    let mut endings = vec![];
    let mut done = 0;
    loop {
        match stagegate::budget::next(&plan, done, &endings, &budget, !canaries.is_empty()) {
            Next::Batch { batch } => {
                for &item in &plan[batch] {
                    endings.push(stagegate::budget::GameEnding {
                        item,
                        verdict: if failing.contains(&item) {
                            stagegate::verdict::Verdict::RolledBack
                        } else {
                            stagegate::verdict::Verdict::Succeeded
                        },
                    });
                }
                done += 1;
            }
            Next::Done => {
                return Expected {
                    started: endings.len(),
                    status: FleetStatus::Completed,
                    failed: endings.iter().filter(|e| failing.contains(&e.item)).count(),
                }
            }
            Next::Stopped { failed, .. } => {
                return Expected {
                    started: endings.len(),
                    status: FleetStatus::Stopped,
                    failed,
                }
            }
        }
    }
}

/// The checks every fleet run passes: the expected stop point, no game deployed twice, every
/// started game exactly one message and no other game any, exactly one summary. Returns the
/// problems found (empty: all passed).
pub async fn check(
    stack: &Stack,
    run: &FleetRun,
    games: usize,
    want: &Expected,
) -> Result<Vec<String>, String> {
    let mut problems = vec![];
    let s = &run.summary;
    if (s.status, s.started) != (want.status, want.started) {
        problems.push(format!(
            "summary {} with {} started; expected {} with {}",
            s.status.as_str(),
            s.started,
            want.status.as_str(),
            want.started
        ));
    }
    let failed = s.budget.as_ref().map_or(0, |b| b.failed);
    if failed != want.failed {
        problems.push(format!("{failed} failed; expected {}", want.failed));
    }
    let want_status = if want.status == FleetStatus::Completed {
        "SUCCEEDED"
    } else {
        "FAILED"
    };
    if run.status != want_status {
        problems.push(format!(
            "fleet execution {} ({:?}); expected {want_status}",
            run.status, run.error
        ));
    }
    let summaries = run.summaries();
    if summaries.len() != 1 {
        problems.push(format!("{} fleet summaries published", summaries.len()));
    }
    if run.children.len() != want.started {
        problems.push(format!(
            "{} child executions; expected {}",
            run.children.len(),
            want.started
        ));
    }
    let per_game = run.messages_per_game();
    let started_games: usize = per_game.len();
    if started_games != want.started {
        problems.push(format!(
            "{started_games} games published; expected {}",
            want.started
        ));
    }
    for (game, n) in &per_game {
        if *n != 1 {
            problems.push(format!("{game} published {n} messages"));
        }
    }
    // No game deployed twice: one DEPLOY of NEW at most per game.
    let config = stack.sdk_config().await;
    let gs = aws_sdk_gamesparks::Client::from_conf(
        aws_sdk_gamesparks::config::Builder::from(&config)
            .endpoint_url(format!("http://{}", stack.emulator))
            .build(),
    );
    let mut doubles = 0;
    for i in 0..games {
        let out = gs
            .list_stage_deployments()
            .game_name(game_name(i))
            .stage_name(STAGE)
            .max_results(100)
            .send()
            .await
            .map_err(|e| format!("ListStageDeployments {}: {e:?}", game_name(i)))?;
        let deploys = out
            .stage_deployments()
            .unwrap_or_default()
            .iter()
            .filter(|d| {
                (d.snapshot_id() == Some(NEW) || d.snapshot_id() == Some(NEW_FAILING))
                    && d.deployment_action().map(|a| a.as_str()) == Some("DEPLOY")
            })
            .count();
        if deploys > 1 {
            doubles += 1;
            problems.push(format!(
                "{} deployed its latest {deploys} times",
                game_name(i)
            ));
        }
        let published = per_game.contains_key(&game_name(i));
        if published != (deploys == 1) {
            problems.push(format!(
                "{}: {deploys} deployment(s) but {} message(s)",
                game_name(i),
                per_game.get(&game_name(i)).copied().unwrap_or(0)
            ));
        }
    }
    let _ = doubles;
    Ok(problems)
}

/// A game's newest DEPLOY on `STAGE` (what serves it; GameSparks records the snapshot it replaced
/// as a newer UNDEPLOY): its snapshot, action and state.
pub async fn newest_deployment(
    stack: &Stack,
    game: &str,
) -> Result<(String, String, String), String> {
    let config = stack.sdk_config().await;
    let gs = aws_sdk_gamesparks::Client::from_conf(
        aws_sdk_gamesparks::config::Builder::from(&config)
            .endpoint_url(format!("http://{}", stack.emulator))
            .build(),
    );
    let out = gs
        .list_stage_deployments()
        .game_name(game)
        .stage_name(STAGE)
        .max_results(100)
        .send()
        .await
        .map_err(|e| format!("ListStageDeployments {game}: {e:?}"))?;
    let d = out
        .stage_deployments()
        .unwrap_or_default()
        .iter()
        .find(|d| d.deployment_action().map(|a| a.as_str()) == Some("DEPLOY"))
        .ok_or_else(|| format!("{game} has no deployment"))?;
    Ok((
        d.snapshot_id().unwrap_or_default().to_owned(),
        d.deployment_action()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        d.deployment_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    ))
}

//! Soak and concurrency on the local stack (the real ASL on moto, the four functions under
//! `cargo lambda watch`, the GameSparks emulator, SNS to SQS through a fault proxy).
//!
//! - `concurrency`: many executions at once against few stages: per stage exactly one deploys,
//!   never two deployments in progress at once, and every other one ends `StageGate.BLOCKED`
//!   with a BLOCKED notification.
//! - `soak`: many executions, each on its own stage, with GameSparks throttling, 5xx (also after
//!   StartStageDeployment executed), latency, deployments that never finish, a mix of result
//!   codes and policies, and SNS outage windows (short ones the workflow's Retry rides out, one
//!   long one that loses notifications). Every execution must end in time with the outcome its
//!   deployment and policy call for and exactly one notification, or, when SNS stayed down past
//!   all retries, as `NotificationLost` inside an outage window; no stage may see a duplicate
//!   deployment, and no log a panic.
//!
//! `cargo test -p stagegate-tests --test soak -- [concurrency|soak] --executions 200 --concurrency 8`
//! (`--help` lists the options). Everything started stops at the end, on failure and on Ctrl-C.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stagegate_local::{Options, Stack};
use stagegate_tests::observe::{self, Deployment, Executor, Inbox, Outages, Record};
use stagegate_tests::soak::{self, Config, RaceRun, SoakRun, Verdict, GAME, SLOW};

const CASES: [&str; 2] = ["concurrency", "soak"];
/// The racers' policy timeout: longer than the slow deployment (1,205 virtual seconds).
const RACE_TIMEOUT_SECONDS: u64 = 1800;

fn main() -> ExitCode {
    let (config, filters) = match Config::parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("soak: {message}\n");
            }
            eprintln!("{}", soak::USAGE);
            return ExitCode::from(2);
        }
    };
    let selected: Vec<&str> = CASES
        .into_iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|f| c.contains(f.as_str())))
        .collect();
    if selected.is_empty() {
        println!("soak: no case matches {filters:?}");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config, selected))
}

async fn run(config: Config, selected: Vec<&str>) -> ExitCode {
    let started = Instant::now();
    let root = stagegate_tests::repo_root();
    let mut options = Options::new(&root);
    options.time_scale = config.time_scale;
    options.seed = config.seed;
    options.scenario = Some(root.join("tests/scenarios/soak.json"));
    // Its own log directory: an e2e run or the demo at the same time must not overwrite these.
    options.log_dir = stagegate_local::target_dir(&root).join("stagegate-local/soak");
    options.sns_fault_proxy = true;
    let instances = config.concurrency.max(config.race_executions);
    options.lambda_concurrency = Some(u32::try_from(instances).unwrap_or(u32::MAX));
    options.lambda_ignore_changes = true;
    options.verbose = true;
    let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        eprintln!("soak: cannot handle SIGTERM");
        return ExitCode::FAILURE;
    };

    println!(
        "soak: starting the local stack (time scale {})",
        config.time_scale
    );
    let stack = tokio::select! {
        stack = Stack::up(options) => stack,
        _ = tokio::signal::ctrl_c() => return interrupted(),
        _ = terminate.recv() => return interrupted(),
    };
    let stack = match stack {
        Ok(stack) => Arc::new(stack),
        Err(e) => {
            eprintln!("soak: the local stack did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "soak: stack up in {:.1} s; logs in {}",
        started.elapsed().as_secs_f64(),
        stack.log_dir.display()
    );

    let result = tokio::select! {
        r = cases(&stack, &config, &selected) => r,
        _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        _ = terminate.recv() => Err("terminated".to_string()),
    };
    stack.shutdown();
    let code = match result {
        Ok(failed) if failed.is_empty() => ExitCode::SUCCESS,
        Ok(failed) => {
            println!("soak: failed: {failed:?}");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("soak: {e}");
            ExitCode::FAILURE
        }
    };
    println!(
        "soak: done in {:.1} s; the stack is shut down",
        started.elapsed().as_secs_f64()
    );
    code
}

/// Runs its closure when dropped: background tasks stop also when a case is abandoned (Ctrl-C,
/// an error) before it stops them itself.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

fn interrupted() -> ExitCode {
    eprintln!("soak: interrupted");
    ExitCode::FAILURE
}

/// Runs the selected cases; returns the names of those that failed.
async fn cases(
    stack: &Arc<Stack>,
    config: &Config,
    selected: &[&str],
) -> Result<Vec<String>, String> {
    let path = stagegate_tests::repo_root().join("tests/scenarios/soak.json");
    let scenario = soak::scenario(&path, config.executions, config.race_stages)?;
    stack
        .admin("POST", "/_emulator/scenario", Some(&scenario))
        .map_err(|e| format!("loading the soak scenario: {e}"))?;
    let executor = Arc::new(Executor::new(stack).await);
    let inbox = Inbox::new(stack).await;
    let mut failed = Vec::new();
    for &case in selected {
        let t = Instant::now();
        println!("\n=== {case}");
        // A backstop only: every execution's watch is bounded already.
        let limit = case_limit(config, case);
        let run = async {
            match case {
                "concurrency" => race(stack, config, &executor, &inbox).await,
                _ => soak_case(stack, config, &executor, &inbox).await,
            }
        };
        let verdict = tokio::time::timeout(limit, run)
            .await
            .unwrap_or_else(|_| Err(format!("the case did not end within {limit:?}")));
        let mut verdict = verdict.unwrap_or_else(|e| Verdict {
            violations: vec![e],
            report: String::new(),
        });
        let dead = stack.dead_services();
        if !dead.is_empty() {
            verdict
                .violations
                .push(format!("services stopped during the case: {dead:?}"));
        }
        print!("{}", verdict.report);
        if verdict.violations.is_empty() {
            println!("test {case} ... ok ({:.1} s)", t.elapsed().as_secs_f64());
        } else {
            println!(
                "test {case} ... FAILED ({:.1} s): {} violation(s)",
                t.elapsed().as_secs_f64(),
                verdict.violations.len()
            );
            for v in verdict.violations.iter().take(40) {
                println!("    {v}");
            }
            if verdict.violations.len() > 40 {
                println!("    ... and {} more", verdict.violations.len() - 40);
            }
            failed.push(case.to_owned());
        }
    }
    Ok(failed)
}

/// The longest a case may take: its executions in waves of the concurrency, each within its
/// watch limit, plus setup and settling.
fn case_limit(config: &Config, case: &str) -> Duration {
    let (waves, each) = match case {
        "concurrency" => (1, race_limit(config)),
        _ => (
            config.executions.div_ceil(config.concurrency),
            soak_limit(config),
        ),
    };
    each * u32::try_from(waves).unwrap_or(u32::MAX) + Duration::from_secs(180)
}

/// How long the watch follows a racing execution: the slow deployment's policy timeout plus the
/// Retry budgets, and the margin.
fn race_limit(config: &Config) -> Duration {
    config.real(RACE_TIMEOUT_SECONDS as f64 + 3.0 * soak::RETRY_BUDGET_SECONDS) + config.margin
}

/// The watch gives up on a soak execution (and stops it) well after it broke the bound.
fn soak_limit(config: &Config) -> Duration {
    config.execution_bound() + Duration::from_secs(30)
}

/// Each case starts from the scenario as loaded (fresh stages, counters and request log), with
/// the configured GameSparks faults and nothing left on the queue.
async fn prepare(stack: &Stack, config: &Config, inbox: &Inbox) -> Result<(), String> {
    stack
        .admin("POST", "/_emulator/reset", None)
        .and_then(|_| stack.admin("POST", "/_emulator/faults", Some(&config.faults())))
        .map_err(|e| e.to_string())?;
    inbox.settle(Duration::from_millis(500)).await?;
    inbox.take();
    Ok(())
}

async fn race(
    stack: &Arc<Stack>,
    config: &Config,
    executor: &Arc<Executor>,
    inbox: &Arc<Inbox>,
) -> Result<Verdict, String> {
    prepare(stack, config, inbox).await?;
    let gamesparks = observe::gamesparks(stack).await;
    let stages: Vec<String> = (0..config.race_stages).map(soak::race_stage).collect();
    let mut seeded = BTreeMap::new();
    for stage in &stages {
        let ids: BTreeSet<String> = observe::list_deployments(&gamesparks, GAME, stage)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        seeded.insert(stage.clone(), ids);
    }

    // Watches the stages' deployment listings while the executions race.
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_monitor = {
        let stop = stop.clone();
        OnDrop(move || stop.store(true, Ordering::SeqCst))
    };
    let monitor = {
        let (stop, client, stages) = (stop.clone(), gamesparks.clone(), stages.clone());
        tokio::spawn(async move {
            let mut max: BTreeMap<String, usize> = BTreeMap::new();
            // Per stage: listings read, and the errors of those that failed. A monitor that never
            // read a stage proves nothing about it, so the check requires reads; a failed one is
            // a gap in the watch, so the check fails on it.
            let mut reads: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
            while !stop.load(Ordering::SeqCst) {
                for stage in &stages {
                    let count = reads.entry(stage.clone()).or_default();
                    match observe::list_deployments(&client, GAME, stage).await {
                        Ok(list) => {
                            count.0 += 1;
                            let busy = list
                                .iter()
                                .filter(|(_, s)| s == "PENDING" || s == "IN_PROGRESS")
                                .count();
                            let seen = max.entry(stage.clone()).or_default();
                            *seen = (*seen).max(busy);
                        }
                        Err(e) => count.1.push(e),
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            (max, reads)
        })
    };

    let limit = race_limit(config);
    let t = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for i in 0..config.race_executions {
        let stage = soak::race_stage(i % config.race_stages);
        let input = json!({
            "gameName": GAME, "stageName": stage, "snapshotId": SLOW,
            "policy": {"timeoutSeconds": RACE_TIMEOUT_SECONDS},
        });
        let executor = executor.clone();
        running.spawn(async move {
            let record = executor.run(&format!("race-{i:02}"), &input, limit).await;
            (stage, record)
        });
    }
    let mut records = Vec::new();
    while let Some(joined) = running.join_next().await {
        records.push(joined.map_err(|e| format!("an execution task failed: {e}"))?);
    }
    records.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    let wall = t.elapsed();
    stop.store(true, Ordering::SeqCst);
    let (monitor_max, monitor_reads) = monitor
        .await
        .map_err(|e| format!("the listing monitor failed: {e}"))?;

    let mut started: BTreeMap<String, Vec<Deployment>> = BTreeMap::new();
    for stage in &stages {
        for (id, _) in observe::list_deployments(&gamesparks, GAME, stage).await? {
            if !seeded[stage].contains(&id) {
                let d = observe::get_deployment(&gamesparks, GAME, stage, &id).await?;
                started.entry(stage.clone()).or_default().push(d);
            }
        }
    }
    inbox.settle(Duration::from_secs(2)).await?;
    let (notices, garbage) = inbox.take();
    let counters = stack
        .admin("GET", "/_emulator/counters", None)
        .map_err(|e| e.to_string())?;
    let mut verdict = soak::check_race(&RaceRun {
        stages: &stages,
        records: &records,
        notices: &notices,
        counters: &counters,
        monitor_max: &monitor_max,
        monitor_reads: &monitor_reads,
        started: &started,
        wall,
    });
    verdict.violations.extend(
        garbage
            .into_iter()
            .map(|g| format!("unreadable message on the queue: {g}")),
    );
    Ok(verdict)
}

async fn soak_case(
    stack: &Arc<Stack>,
    config: &Config,
    executor: &Arc<Executor>,
    inbox: &Arc<Inbox>,
) -> Result<Verdict, String> {
    prepare(stack, config, inbox).await?;
    let planned = soak::plan(config.executions, config.seed);
    let bound = config.execution_bound();
    println!(
        "soak: {} executions, {} at a time; each must end within {:.1} s",
        planned.len(),
        config.concurrency,
        bound.as_secs_f64()
    );
    let t = Instant::now();
    let finished = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(AtomicUsize::new(0));
    let outages = Outages::new();
    let driver = {
        let finished = finished.clone();
        outages.spawn(stack.clone(), config.outage_plan(), move || {
            finished.load(Ordering::SeqCst)
        })
    };
    let collector = inbox.spawn();
    let _stop_background = {
        let (outages, inbox) = (outages.clone(), inbox.clone());
        OnDrop(move || {
            outages.stop();
            inbox.stop();
        })
    };

    let slots = Arc::new(tokio::sync::Semaphore::new(config.concurrency));
    let limit = soak_limit(config);
    // The last quarter waits for the long SNS outage: on a fast machine the others could all end
    // before it begins, and the notifications it must cost would never be at stake.
    let held_from = planned.len().saturating_sub((planned.len() / 4).max(1));
    let plan = config.outage_plan();
    let hold_at_most = plan.every * 4 + plan.short * 3;
    let mut running = tokio::task::JoinSet::new();
    for (i, p) in planned.iter().enumerate() {
        let (p, executor, slots) = (p.clone(), executor.clone(), slots.clone());
        let (finished, lost, outages) = (finished.clone(), lost.clone(), outages.clone());
        let input = p.input(config.timeout_seconds);
        running.spawn(async move {
            if i >= held_from {
                outages.wait_for_long(hold_at_most).await;
            }
            let _slot = slots.acquire_owned().await;
            let record = executor.run(&p.name(), &input, limit).await;
            finished.fetch_add(1, Ordering::SeqCst);
            if record.notification_lost() {
                lost.fetch_add(1, Ordering::SeqCst);
            }
            (p.index, record)
        });
    }
    let mut records: Vec<(usize, Record)> = Vec::new();
    let mut progress = tokio::time::interval(Duration::from_secs(15));
    progress.tick().await;
    while !running.is_empty() {
        tokio::select! {
            joined = running.join_next() => {
                if let Some(joined) = joined {
                    records.push(joined.map_err(|e| format!("an execution task failed: {e}"))?);
                }
            }
            _ = progress.tick() => println!(
                "[{:6.1}s] {}/{} ended ({} lost their notification); SNS {}",
                t.elapsed().as_secs_f64(),
                finished.load(Ordering::SeqCst),
                planned.len(),
                lost.load(Ordering::SeqCst),
                outages.current(stack).map_or("up".to_string(), |m| format!("down: {m}")),
            ),
        }
    }
    let wall = t.elapsed();
    outages.stop();
    inbox.stop();
    // Either one panicking would leave the soak without its outages or its notifications and
    // judge a run it did not observe: a failure, not something to wait out.
    driver
        .await
        .map_err(|e| format!("the SNS outage driver failed: {e}"))?;
    collector
        .await
        .map_err(|e| format!("the notification collector failed: {e}"))?;
    inbox.settle(Duration::from_secs(2)).await?;
    let (notices, garbage) = inbox.take();
    records.sort_by_key(|(i, _)| *i);
    let records: Vec<Record> = records.into_iter().map(|(_, r)| r).collect();
    let counters: Value = stack
        .admin("GET", "/_emulator/counters", None)
        .map_err(|e| e.to_string())?;
    let proxy = stack
        .sns_proxy
        .as_ref()
        .map(|p| p.stats())
        .unwrap_or_default();
    let panics = soak::panics(&stack.log_dir);
    let windows = outages.windows();
    let explained = explain_timeouts(stack, &planned, &records, &notices).await;
    let mut verdict = soak::check_soak(&SoakRun {
        config,
        planned: &planned,
        records: &records,
        notices: &notices,
        garbage: &garbage,
        windows: &windows,
        counters: &counters,
        proxy,
        panics: &panics,
        wall,
    });
    if !explained.is_empty() {
        verdict
            .report
            .push_str("  timed out although the deployment cannot hang:\n");
        for line in explained {
            verdict.report.push_str(&format!("    {line}\n"));
        }
    }
    Ok(verdict)
}

/// For every phase declared TIMED_OUT whose deployment cannot hang, what GameSparks recorded
/// (read with the faults off, after the run).
async fn explain_timeouts(
    stack: &Stack,
    planned: &[soak::Planned],
    records: &[Record],
    notices: &[observe::Notice],
) -> Vec<String> {
    let suspicious = soak::suspicious_timeouts(planned, records, notices);
    if suspicious.is_empty() {
        return Vec::new();
    }
    if let Err(e) = stack.admin("POST", "/_emulator/faults", Some(&json!({}))) {
        return vec![format!("could not turn the faults off: {e}")];
    }
    let gamesparks = observe::gamesparks(stack).await;
    let mut lines = Vec::new();
    for (planned, record, phase, watched) in suspicious {
        let stage = planned.stage();
        let id = watched.deployment_id.as_deref().unwrap_or_default();
        lines.push(
            match observe::get_deployment(&gamesparks, GAME, &stage, id).await {
                Ok(d) => soak::explain_timeout(record, phase, watched, &d),
                Err(e) => format!("{} {phase}: {e}", record.name),
            },
        );
    }
    lines
}

//! End to end: the real ASL on moto's Step Functions engine, the four functions under
//! `cargo lambda watch`, GameSparks emulated, SNS delivered to an SQS queue. One case per route;
//! each asserts the execution status and output, the states that ran, what the emulator saw and
//! the notification a subscriber received.
//!
//! A custom harness (`harness = false`): the stack is started once, cases run one after another
//! on a reset emulator, and everything started is stopped at the end, on failure, and on Ctrl-C.
//! `cargo test -p stagegate-tests --test e2e -- <filter>` runs the cases whose name contains it.
//!
//! This file is the harness only: `main` and the case list. The cases live in `tests/e2e/`, one
//! file per feature: `deploy.rs` (one deployment's routes: success, failures, rollback,
//! timeouts), `faults.rs` (GameSparks throttling, 5xx, hung calls), `audit.rs` (decision records
//! and `stagegate audit verify`), `input.rs` (input refused,
//! the scheduler's `latest`, access denied), `concurrency.rs`, `bake.rs`, `dry_run.rs`,
//! `wave.rs`, `fleet.rs` (many games under one budget), `operator.rs` (approvals, aborts, freezes, metrics), `cli_permissions.rs` (each
//! CLI command's AWS calls against the managed policy meant for it), and `hygiene.rs` (no secrets
//! or panics, last). A new case goes in its feature's
//! file (a new feature gets a new file, declared below with its `#[path]`), and into `cases()`
//! here, before `no_secrets_or_panics`. Helpers two files share go in `e2e/common.rs`; the
//! stack-facing harness (`Ctx`, `Run`) is `tests/support/e2e.rs`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stagegate_local::{Options, Stack};
use stagegate_tests::e2e::{Case, Ctx};

// Declared first: `check!` and the shared helpers.
#[macro_use]
#[path = "e2e/common.rs"]
mod common;

#[path = "e2e/audit.rs"]
mod audit;
#[path = "e2e/bake.rs"]
mod bake;
#[path = "e2e/cli_permissions.rs"]
mod cli_permissions;
#[path = "e2e/concurrency.rs"]
mod concurrency;
#[path = "e2e/deploy.rs"]
mod deploy;
#[path = "e2e/dry_run.rs"]
mod dry_run;
#[path = "e2e/faults.rs"]
mod faults;
#[path = "e2e/fleet.rs"]
mod fleet;
#[path = "e2e/hygiene.rs"]
mod hygiene;
#[path = "e2e/input.rs"]
mod input;
#[path = "e2e/operator.rs"]
mod operator;
#[path = "e2e/wave.rs"]
mod wave;

/// Every case, in the order they run.
fn cases() -> Vec<Case> {
    vec![
        Case::new("success", |ctx| Box::pin(deploy::success(ctx))),
        Case::new("invalid_role_alerts", |ctx| {
            Box::pin(deploy::invalid_role_alerts(ctx))
        }),
        Case::new("unspecified_failure_rolls_back", |ctx| {
            Box::pin(deploy::unspecified_failure_rolls_back(ctx))
        }),
        Case::new("no_known_good_alerts", |ctx| {
            Box::pin(deploy::no_known_good_alerts(ctx))
        }),
        Case::new("rollback_fails", |ctx| {
            Box::pin(deploy::rollback_fails(ctx))
        }),
        Case::new("stuck_times_out", |ctx| {
            Box::pin(deploy::stuck_times_out(ctx))
        }),
        Case::new("throttling_and_server_errors", |ctx| {
            Box::pin(faults::throttling_and_server_errors(ctx))
        }),
        Case::new("hung_calls_ridden_out", |ctx| {
            Box::pin(faults::hung_calls_ridden_out(ctx))
        }),
        Case::new("invalid_input", |ctx| Box::pin(input::invalid_input(ctx))),
        Case::new("non_object_input", |ctx| {
            Box::pin(input::non_object_input(ctx))
        }),
        Case::new("scheduler_latest", |ctx| {
            Box::pin(input::scheduler_latest(ctx))
        }),
        Case::new("access_denied", |ctx| Box::pin(input::access_denied(ctx))),
        Case::new("concurrent_executions", |ctx| {
            Box::pin(concurrency::concurrent_executions(ctx))
        }),
        Case::new("bake_passes", |ctx| Box::pin(bake::bake_passes(ctx))),
        Case::new("bake_fails_rolls_back", |ctx| {
            Box::pin(bake::bake_fails_rolls_back(ctx))
        }),
        Case::new("bake_fails_alerts", |ctx| {
            Box::pin(bake::bake_fails_alerts(ctx))
        }),
        Case::new("bake_alarm_firing_blocks", |ctx| {
            Box::pin(bake::bake_alarm_firing_blocks(ctx))
        }),
        Case::new("bake_missing_alarm", |ctx| {
            Box::pin(bake::bake_missing_alarm(ctx))
        }),
        Case::new("dry_run_ready", |ctx| Box::pin(dry_run::dry_run_ready(ctx))),
        Case::new("dry_run_blocked", |ctx| {
            Box::pin(dry_run::dry_run_blocked(ctx))
        }),
        Case::new("wave_promotes", |ctx| Box::pin(wave::wave_promotes(ctx))),
        Case::new("wave_stops_at_failing_stage", |ctx| {
            Box::pin(wave::wave_stops_at_failing_stage(ctx))
        }),
        Case::new("wave_blocked_at_busy_stage", |ctx| {
            Box::pin(wave::wave_blocked_at_busy_stage(ctx))
        }),
        Case::new("approval_approved", |ctx| {
            Box::pin(operator::approval_approved(ctx))
        }),
        Case::new("forged_answer_is_refused", |ctx| {
            Box::pin(operator::forged_answer_is_refused(ctx))
        }),
        Case::new("approval_rejected", |ctx| {
            Box::pin(operator::approval_rejected(ctx))
        }),
        Case::new("approval_times_out", |ctx| {
            Box::pin(operator::approval_times_out(ctx))
        }),
        Case::new("abort_while_awaiting_approval", |ctx| {
            Box::pin(operator::abort_while_awaiting_approval(ctx))
        }),
        Case::new("abort_during_deploy", |ctx| {
            Box::pin(operator::abort_during_deploy(ctx))
        }),
        Case::new("abort_during_bake", |ctx| {
            Box::pin(operator::abort_during_bake(ctx))
        }),
        Case::new("status_shows_the_pending_approval", |ctx| {
            Box::pin(operator::status_shows_the_pending_approval(ctx))
        }),
        Case::new("freeze_refuses_the_start", |ctx| {
            Box::pin(operator::freeze_refuses_the_start(ctx))
        }),
        Case::new("rollback_allowed_in_a_freeze", |ctx| {
            Box::pin(operator::rollback_allowed_in_a_freeze(ctx))
        }),
        Case::new("cli_calls_match_their_policies", |ctx| {
            Box::pin(cli_permissions::cli_calls_match_their_policies(ctx))
        }),
        // Last: reads what every earlier case logged and published.
        Case::new("records_chain_and_verify_names_tampering", |ctx| {
            Box::pin(audit::records_chain_and_verify_names_tampering(ctx))
        }),
        Case::new("fleet_keeps_its_budget", |ctx| {
            Box::pin(fleet::fleet_keeps_its_budget(ctx))
        }),
        Case::new("fleet_canary_stops_the_rest", |ctx| {
            Box::pin(fleet::fleet_canary_stops_the_rest(ctx))
        }),
        Case::new("fleet_breach_rolls_back_the_promoted", |ctx| {
            Box::pin(fleet::fleet_breach_rolls_back_the_promoted(ctx))
        }),
        Case::new("fleet_refuses_bad_input", |ctx| {
            Box::pin(fleet::fleet_refuses_bad_input(ctx))
        }),
        Case::new("fleet_cli_runs_and_reports", |ctx| {
            Box::pin(fleet::fleet_cli_runs_and_reports(ctx))
        }),
        Case::new("no_secrets_or_panics", |ctx| {
            Box::pin(hygiene::no_secrets_or_panics(ctx))
        }),
    ]
}

fn main() -> ExitCode {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("e2e: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let selected: Vec<Case> = cases()
            .into_iter()
            .filter(|c| filter.is_empty() || filter.iter().any(|f| c.name.contains(f.as_str())))
            .collect();
        if selected.is_empty() {
            println!("e2e: no case matches {filter:?}");
            return ExitCode::SUCCESS;
        }
        let started = Instant::now();
        let mut options = Options::new(stagegate_tests::repo_root());
        options.time_scale = 60.0;
        options.verbose = true;
        println!("e2e: starting the local stack");
        let stack = tokio::select! {
            stack = Stack::up(options) => stack,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("e2e: interrupted");
                return ExitCode::FAILURE;
            }
        };
        let stack = match stack {
            Ok(stack) => Arc::new(stack),
            Err(e) => {
                eprintln!("e2e: the local stack did not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "e2e: stack up in {:.1} s; logs in {}",
            started.elapsed().as_secs_f64(),
            stack.log_dir.display()
        );
        let ctx = Arc::new(Ctx::new(stack.clone()).await);
        let mut failed = Vec::new();
        for case in &selected {
            let t = Instant::now();
            let result = tokio::select! {
                r = ctx.run_case(case, Duration::from_secs(240)) => r,
                _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
            };
            match result {
                Ok(()) => println!(
                    "test {} ... ok ({:.1} s)",
                    case.name,
                    t.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    println!(
                        "test {} ... FAILED ({:.1} s)\n    {e}",
                        case.name,
                        t.elapsed().as_secs_f64()
                    );
                    failed.push(case.name);
                }
            }
            if failed.last() == Some(&"interrupted") {
                break;
            }
        }
        drop(ctx);
        stack.shutdown();
        println!(
            "\ne2e: {} passed, {} failed in {:.1} s",
            selected.len() - failed.len(),
            failed.len(),
            started.elapsed().as_secs_f64()
        );
        if failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            println!("failed: {failed:?}");
            ExitCode::FAILURE
        }
    })
}

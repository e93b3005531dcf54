//! `stagegate-local`: brings the local stack up, prints how to reach it, and keeps it running
//! until Ctrl-C or SIGTERM, then stops everything it started.

use std::path::PathBuf;
use std::process::ExitCode;

use stagegate_local::{Options, Stack};

const USAGE: &str = "usage: stagegate-local [--time-scale X] [--scenario FILE] [--seed N]
                      [--emulator-port P] [--aws-port P] [--lambda-port P] [--env-file FILE]

Starts gamesparks-local, the local AWS (moto: Step Functions, SNS, SQS, CloudWatch) and
cargo lambda watch, creates the topic, a subscribed queue and the state machine, then waits
for Ctrl-C.
Needs the tools of `cargo xtask setup`.";

fn main() -> ExitCode {
    let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (options, env_file) = match parse(args, root) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("stagegate-local: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stagegate-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("stagegate-local: {e}");
                    return ExitCode::FAILURE;
                }
            };
        println!(
            "stagegate-local: starting (time scale {})",
            options.time_scale
        );
        let stack = tokio::select! {
            stack = Stack::up(options) => stack,
            _ = tokio::signal::ctrl_c() => return ExitCode::from(130),
            _ = terminate.recv() => return ExitCode::from(143),
        };
        let stack = match stack {
            Ok(stack) => stack,
            Err(e) => {
                eprintln!("stagegate-local: {e}");
                return ExitCode::FAILURE;
            }
        };
        let exports: String = stack
            .environment()
            .iter()
            .map(|(k, v)| format!("export {k}={v}\n"))
            .collect();
        if let Some(path) = &env_file {
            if let Err(e) = std::fs::write(path, &exports) {
                eprintln!("stagegate-local: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
        println!("  emulator      http://{}", stack.emulator);
        println!(
            "  local AWS     http://{}  (Step Functions, SNS, SQS, CloudWatch)",
            stack.aws
        );
        println!(
            "  functions     http://{}  (cargo lambda invoke -A 127.0.0.1 -P {} <fn> ...)",
            stack.lambda,
            stack.lambda.port()
        );
        println!("  state machine {}", stack.state_machine_arn);
        println!("  topic         {}", stack.topic_arn);
        println!("  subscriber    {}", stack.queue_url);
        println!("  logs          {}", stack.log_dir.display());
        println!("environment for your own clients:\n{exports}");
        println!("stagegate-local ready");
        let code = tokio::select! {
            _ = tokio::signal::ctrl_c() => 0,
            _ = terminate.recv() => 0,
            _ = watch_services(&stack) => 1,
        };
        println!("stagegate-local: stopping");
        stack.shutdown();
        ExitCode::from(code)
    })
}

/// Ends when a service stops on its own, so a crash is reported instead of leaving a broken stack.
async fn watch_services(stack: &Stack) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let dead = stack.dead_services();
        if !dead.is_empty() {
            eprintln!(
                "stagegate-local: stopped unexpectedly: {dead:?}; logs in {}",
                stack.log_dir.display()
            );
            return;
        }
    }
}

fn parse(args: Vec<String>, root: PathBuf) -> Result<(Options, Option<PathBuf>), String> {
    let mut options = Options::new(root);
    options.verbose = true;
    let mut env_file = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| {
            value
                .parse::<f64>()
                .map_err(|_| format!("{what} must be a number, got {value:?}"))
        };
        let port = || {
            value
                .parse::<u16>()
                .map_err(|_| format!("{flag} must be a port number, got {value:?}"))
        };
        match flag.as_str() {
            "--time-scale" => {
                options.time_scale = number("--time-scale")?;
                if !(options.time_scale.is_finite() && options.time_scale > 0.0) {
                    return Err("--time-scale must be positive".into());
                }
            }
            "--seed" => {
                options.seed = value
                    .parse()
                    .map_err(|_| format!("--seed must be an integer, got {value:?}"))?
            }
            "--scenario" => options.scenario = Some(PathBuf::from(&value)),
            "--emulator-port" => options.emulator_port = port()?,
            "--aws-port" => options.aws_port = port()?,
            "--lambda-port" => options.lambda_port = port()?,
            "--env-file" => env_file = Some(PathBuf::from(&value)),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok((options, env_file))
}

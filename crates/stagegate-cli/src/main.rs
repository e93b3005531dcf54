//! `stagegate`: starts a gate execution on a state machine and follows it to the end, printing
//! progress. Exit status: 0 when the requested snapshot was deployed (or a dry run found the way
//! clear), 1 when the gate ended any other way, 2 when the command itself failed (arguments, AWS
//! access).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use stagegate_cli::follow;

#[derive(Parser)]
#[command(
    name = "stagegate",
    version,
    about = "Run and follow stagegate deployment gates"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start an execution and follow it to the end.
    Run {
        /// The gate's state machine.
        #[arg(long, env = "STATE_MACHINE_ARN")]
        state_machine_arn: String,
        /// The execution input as JSON, or @FILE.
        #[arg(long)]
        input: String,
        /// Execution name (default: stagegate-<time>).
        #[arg(long)]
        name: Option<String>,
        /// Plan only: sets `"dryRun": true` in the input; nothing is deployed.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        follow: follow::FollowArgs,
    },
    /// Follow an execution that is already running.
    Follow {
        #[arg(long)]
        execution_arn: String,
        #[command(flatten)]
        follow: follow::FollowArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&e.to_string()),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run {
                state_machine_arn,
                input,
                name,
                dry_run,
                follow,
            } => {
                let input = read_input(&input, dry_run)?;
                let clients = follow::Clients::new(&follow).await;
                let arn = follow::start(&clients, &state_machine_arn, &input, name).await?;
                follow::follow(&clients, &arn, &follow).await
            }
            Command::Follow {
                execution_arn,
                follow,
            } => {
                let clients = follow::Clients::new(&follow).await;
                follow::follow(&clients, &execution_arn, &follow).await
            }
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => fail(&message),
    }
}

fn read_input(input: &str, dry_run: bool) -> Result<String, String> {
    let text = match input.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(PathBuf::from(path))
            .map_err(|e| format!("--input {path}: {e}"))?,
        None => input.to_owned(),
    };
    let mut value = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("--input is not JSON: {e}"))?;
    if !dry_run {
        return Ok(text);
    }
    let Some(object) = value.as_object_mut() else {
        return Err("--dry-run needs an --input that is a JSON object".into());
    };
    object.insert("dryRun".into(), serde_json::Value::Bool(true));
    Ok(value.to_string())
}

fn fail(message: &str) -> ExitCode {
    eprintln!("stagegate: {message}");
    ExitCode::from(2)
}

/// How often the history is read while following.
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_flag_sets_the_input_field() {
        let input = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#;
        assert_eq!(read_input(input, false).as_deref(), Ok(input));
        let planned: serde_json::Value =
            serde_json::from_str(&read_input(input, true).unwrap_or_default()).unwrap_or_default();
        assert_eq!(planned["dryRun"], true);
        assert_eq!(planned["gameName"], "g");
        assert!(read_input("[1]", true).is_err());
        assert!(read_input("nope", false).is_err());
    }
}

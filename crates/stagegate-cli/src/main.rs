//! `stagegate`: starts a gate execution on a state machine and follows it to the end, printing
//! progress; answers its approvals and aborts it; shows a game's stages at a glance (`status`).
//! Exit status: 0 when the requested snapshot was deployed (or a dry run found the way clear, or
//! an answer was delivered, or the status report printed, or `validate` found the input valid), 1
//! when the gate ended any other way (or `validate` found the input invalid), 2 when the command
//! itself failed (arguments, AWS access, nothing to answer, an invalid input given to `run`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use stagegate::approval::Decision;
use stagegate_cli::{follow, operator, status, validate};

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
    /// Start an execution and follow it to the end (the input is validated first, as `validate`
    /// does: an invalid one starts nothing).
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
    /// Check an execution input with the gate's own parser, without AWS: exit 0 and a summary
    /// of the run it describes (defaults filled in), or exit 1 and the field and rule it breaks.
    Validate {
        /// The execution input as JSON, or @FILE.
        #[arg(long)]
        input: String,
    },
    /// Follow an execution that is already running.
    Follow {
        #[arg(long)]
        execution_arn: String,
        #[command(flatten)]
        follow: follow::FollowArgs,
    },
    /// Approve the stage a running gate waits on: it is deployed now.
    Approve {
        #[command(flatten)]
        target: Target,
        /// Why (recorded with the answer and in the notification).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject the stage a running gate waits on: the run ends REJECTED, nothing of it deployed.
    Reject {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
    },
    /// Abort a running gate: the stage it deploys or bakes is rolled back and the run ends
    /// ABORTED (awaiting approval: nothing is deployed).
    Abort {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: String,
    },
    /// Per stage of a game: what serves now, the last gate runs and how they ended, a pending
    /// approval, a freeze in force. A table, or JSON with --json.
    Status(status::StatusArgs),
}

#[derive(clap::Args)]
struct Target {
    #[arg(long)]
    execution_arn: String,
    /// AWS region (default: the standard chain).
    #[arg(long)]
    region: Option<String>,
    /// Endpoint for Step Functions, SSM and STS, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL).
    #[arg(long)]
    endpoint_url: Option<String>,
}

impl Target {
    async fn operator(&self) -> operator::Operator {
        operator::Operator::new(self.region.clone(), self.endpoint_url.clone()).await
    }
}

/// What the arguments alone can tell is wrong, before any AWS call (clients included: the region
/// chain may already ask the instance metadata service).
fn check_arguments(command: &Command) -> Result<(), String> {
    match command {
        Command::Approve { reason, .. } => operator::check_reason(reason.as_deref()),
        Command::Reject { reason, .. } | Command::Abort { reason, .. } => {
            operator::check_reason(Some(reason))
        }
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = check_arguments(&cli.command) {
        return fail(&message);
    }
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
                let input = run_input(&input, dry_run)?;
                let clients = follow::Clients::new(&follow).await;
                let arn = follow::start(&clients, &state_machine_arn, &input, name).await?;
                follow::follow(&clients, &arn, &follow).await
            }
            Command::Validate { input } => match validate::check(&read_text(&input)?) {
                Ok(summary) => {
                    print!("{summary}");
                    Ok(true)
                }
                Err(problem) => {
                    eprintln!("stagegate: {problem}");
                    Ok(false)
                }
            },
            Command::Follow {
                execution_arn,
                follow,
            } => {
                let clients = follow::Clients::new(&follow).await;
                follow::follow(&clients, &execution_arn, &follow).await
            }
            Command::Approve { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .answer(&target.execution_arn, Decision::Approve, reason.as_deref())
                    .await?;
                println!("{done}");
                Ok(true)
            }
            Command::Reject { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .answer(&target.execution_arn, Decision::Reject, Some(&reason))
                    .await?;
                println!("{done}");
                Ok(true)
            }
            Command::Abort { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .abort(&target.execution_arn, &reason)
                    .await?;
                println!("{done}");
                Ok(true)
            }
            Command::Status(args) => {
                print!("{}", status::run(&args).await?);
                Ok(true)
            }
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => fail(&message),
    }
}

/// What `run` sends to StartExecution, checked first, before any client exists.
fn run_input(input: &str, dry_run: bool) -> Result<String, String> {
    let input = read_input(input, dry_run)?;
    validate::check(&input).map_err(|e| format!("{e}; nothing was started"))?;
    Ok(input)
}

/// `--input`'s text: the JSON itself, or @FILE's contents.
fn read_text(input: &str) -> Result<String, String> {
    match input.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(PathBuf::from(path)).map_err(|e| format!("--input {path}: {e}"))
        }
        None => Ok(input.to_owned()),
    }
}

fn read_input(input: &str, dry_run: bool) -> Result<String, String> {
    let text = read_text(input)?;
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
    fn a_reason_the_gate_would_refuse_is_refused_before_any_aws_call() {
        let arn = "arn:aws:states:us-east-1:1:execution:gate:run";
        let long = "é".repeat(600);
        for verb in ["approve", "reject", "abort"] {
            let cli =
                Cli::try_parse_from(["stagegate", verb, "--execution-arn", arn, "--reason", &long]);
            let checked = cli
                .map_err(|e| e.to_string())
                .and_then(|c| check_arguments(&c.command));
            assert_eq!(
                checked,
                Err(
                    "--reason is 1200 bytes in UTF-8 (600 characters); the gate accepts at most \
                     1024 bytes"
                        .into()
                ),
                "{verb}"
            );
        }
        let fine = Cli::try_parse_from(["stagegate", "approve", "--execution-arn", arn]);
        assert_eq!(fine.map(|c| check_arguments(&c.command)).ok(), Some(Ok(())));
    }

    #[test]
    fn run_refuses_an_invalid_input_before_any_aws_call() {
        let typo = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest", "dryrun": true}"#;
        assert_eq!(
            run_input(typo, false)
                .err()
                .as_deref()
                .map(|e| e.split(", expected").next()),
            Some(Some(
                "the input is not valid: field `dryrun`: unknown field `dryrun` (did you mean \
                 `dryRun`?)"
            ))
        );
        assert!(run_input(typo, false)
            .err()
            .is_some_and(|e| e.ends_with("; nothing was started")));
        let fine = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#;
        assert!(run_input(fine, true).is_ok());
    }

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

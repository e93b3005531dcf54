//! The `stagegate` command line as clap types, in the library so that what is generated from it
//! (completions, the man page, docs/cli.md) and the docs tier read the same definitions the binary
//! parses, and `main.rs` only wires.

use clap::{Parser, Subcommand};

use crate::{follow, operator, output, status};

#[derive(Parser)]
#[command(
    name = "stagegate",
    version,
    about = "Run and follow stagegate deployment gates",
    after_help = crate::exit::Exit::table()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// `json`: one JSON document on stdout (schemas/cli-output.schema.json), progress on stderr.
    #[arg(long, short, global = true, value_enum, default_value_t = output::Format::Text)]
    pub output: output::Format,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Start the execution, print its ARN (or the document) and exit 0 without following it.
        #[arg(long)]
        no_follow: bool,
        #[command(flatten)]
        follow: follow::FollowArgs,
    },
    /// Check an execution input with the gate's own parser, without AWS: exit 0 and a summary
    /// of the run it describes (defaults filled in), or exit 2 and the field and rule it breaks.
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
    /// approval, a freeze in force. A table, or JSON with --output json (alias --json).
    Status(status::StatusArgs),
}

#[derive(clap::Args)]
pub struct Target {
    #[arg(long)]
    pub execution_arn: String,
    /// AWS region (default: the standard chain).
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint for Step Functions, SSM and STS, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

impl Target {
    pub async fn operator(&self) -> operator::Operator {
        operator::Operator::new(self.region.clone(), self.endpoint_url.clone()).await
    }
}

/// What the arguments alone can tell is wrong, before any AWS call (clients included: the region
/// chain may already ask the instance metadata service).
pub fn check_arguments(command: &Command) -> Result<(), String> {
    match command {
        Command::Approve { reason, .. } => operator::check_reason(reason.as_deref()),
        Command::Reject { reason, .. } | Command::Abort { reason, .. } => {
            operator::check_reason(Some(reason))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

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
    fn help_prints_the_exit_codes() {
        use clap::CommandFactory;
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("Exit status:\n  0  "), "{help}");
        assert!(help.contains("  5  stopped waiting"), "{help}");
    }
}

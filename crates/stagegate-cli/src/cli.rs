//! The `stagegate` command line as clap types, in the library so that what is generated from it
//! (completions, the man page, docs/cli.md) and the docs tier read the same definitions the binary
//! parses, and `main.rs` only wires.

use clap::{Parser, Subcommand};

use crate::aws::{self, AwsArgs};
use crate::source::InputArgs;
use crate::target::{self, Kind};
use crate::{audit, errors, explain, fleet, follow, operator, output, replay, status};

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
    // clap renders the input group as `<--input|--game|--stage|--snapshot>`, as if one of the four
    // would do; the usage says what each form needs.
    #[command(override_usage = "stagegate run [OPTIONS] --state-machine-arn <ARN> \
        (--input <INPUT> | --game <GAME> --stage <STAGE> [--snapshot <SNAPSHOT>])")]
    Run {
        /// The gate's state machine.
        #[arg(long, env = "STATE_MACHINE_ARN")]
        state_machine_arn: String,
        #[command(flatten)]
        input: InputArgs,
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
    #[command(override_usage = "stagegate validate [OPTIONS] \
        (--input <INPUT> | --game <GAME> --stage <STAGE> [--snapshot <SNAPSHOT>])")]
    Validate {
        #[command(flatten)]
        input: InputArgs,
    },
    /// Follow an execution that is already running.
    Follow {
        #[command(flatten)]
        execution: ExecutionArgs,
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
    /// Why a run did what it did: each decision its gate state recorded, with the evidence, the
    /// rule that applied and what followed; the quiet looks counted; the verdict and what was
    /// published (docs/explain.md).
    Explain(explain::ExplainArgs),
    /// Re-decide past runs with this version's core, under their own policy or a proposed one
    /// (--policy, a what-if): which decisions would differ. Exit 0 none, 1 some, 2 unreadable.
    Replay(replay::ReplayArgs),
    /// The gate's decision records (docs/audit.md): `audit verify` checks a stage's chain.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Many games under one failure budget (docs/fleet.md): `fleet run` starts a run of the fleet
    /// state machine, `fleet status` says where it stands.
    Fleet {
        #[command(subcommand)]
        command: fleet::FleetCommand,
    },
    /// Print the shell completion script for SHELL to stdout, e.g. `stagegate completions bash >
    /// ~/.local/share/bash-completion/completions/stagegate` (no AWS call).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, e.g. `stagegate man | man -l -` (no AWS call).
    Man,
}

/// The execution a command acts on, by name or by ARN.
#[derive(clap::Args, Clone, Debug)]
pub struct ExecutionArgs {
    /// The execution: its name, as `stagegate status` shows it (with --state-machine-arn), or
    /// its ARN.
    #[arg(long, visible_alias = "execution-arn", value_name = "NAME|ARN")]
    pub execution: String,
    /// The gate's state machine, to find an execution by its name.
    #[arg(long, env = "STATE_MACHINE_ARN")]
    pub state_machine_arn: Option<String>,
}

impl ExecutionArgs {
    /// The execution's ARN; a name or an ARN of the wrong kind is refused with what was given.
    pub fn arn(&self) -> Result<String, String> {
        target::execution_arn(&self.execution, self.state_machine_arn.as_deref())
    }
}

#[derive(clap::Args)]
pub struct Target {
    #[command(flatten)]
    pub execution: ExecutionArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Endpoint for Step Functions, SSM and STS, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// The answer function's URL (the stack's AnswerUrl output): answers to an approval go there,
    /// signed with SigV4, and the gate takes no other.
    #[arg(long, env = "STAGEGATE_ANSWER_URL", value_name = "URL")]
    pub answer_url: Option<String>,
}

impl Target {
    /// The clients for the execution, and its ARN.
    pub async fn operator(&self) -> Result<(operator::Operator, String), String> {
        let arn = self.execution.arn()?;
        let operator = operator::Operator::new(&self.aws, self.endpoint_url.clone(), &arn)
            .await?
            .with_answer_url(self.answer_url.as_deref())?;
        Ok((operator, arn))
    }
}

/// What the arguments alone can tell is wrong, before any AWS call (clients included: the region
/// chain may already ask the instance metadata service): a reason the gate would refuse, an ARN
/// of the wrong kind, a --region that is not the ARN's.
pub fn check_arguments(command: &Command) -> Result<(), String> {
    match command {
        Command::Run {
            state_machine_arn,
            follow,
            ..
        } => {
            target::expect(state_machine_arn, Kind::StateMachine, "--state-machine-arn")?;
            region_agrees(&follow.aws, state_machine_arn)
        }
        Command::Follow { execution, follow } => region_agrees(&follow.aws, &execution.arn()?),
        Command::Approve { reason, target } => {
            operator::check_reason(reason.as_deref())?;
            region_agrees(&target.aws, &target.execution.arn()?)
        }
        Command::Reject { reason, target } | Command::Abort { reason, target } => {
            operator::check_reason(Some(reason))?;
            region_agrees(&target.aws, &target.execution.arn()?)
        }
        Command::Status(args) => {
            target::expect(
                &args.state_machine_arn,
                Kind::StateMachine,
                "--state-machine-arn",
            )?;
            region_agrees(&args.aws, &args.state_machine_arn)
        }
        Command::Explain(args) => match args.arn()? {
            Some(arn) => region_agrees(&args.aws, &arn),
            None => Ok(()),
        },
        Command::Replay(args) => {
            args.check()?;
            match args.arn() {
                Some(arn) if args.from.is_none() => region_agrees(&args.aws, &arn),
                _ => Ok(()),
            }
        }
        Command::Audit {
            command: audit::AuditCommand::Verify(args),
        } => args.prefix().map(|_| ()),
        Command::Fleet {
            command: fleet::FleetCommand::Run(args),
        } => {
            target::expect(
                &args.fleet_state_machine_arn,
                Kind::StateMachine,
                fleet::MACHINE_FLAG,
            )?;
            if let Some(name) = &args.name {
                target::check_name("--name", name)?;
            }
            region_agrees(&args.aws, &args.fleet_state_machine_arn)
        }
        Command::Fleet {
            command: fleet::FleetCommand::Status(args),
        } => {
            args.bucket()?;
            region_agrees(&args.aws, &args.arn()?)
        }
        Command::Validate { .. } | Command::Completions { .. } | Command::Man => Ok(()),
    }
}

fn region_agrees(args: &AwsArgs, arn: &str) -> Result<(), String> {
    aws::choose_region(args.region.as_deref(), None, Some(arn)).map(|_| ())
}

/// What a failure's fix may name (`errors::explain`): the profile, the endpoints the command was
/// pointed at and what pointed it there, the execution. `lookup` reads the environment.
pub fn error_context(
    command: &Command,
    lookup: impl Fn(&str) -> Option<String>,
) -> errors::Context {
    let with = |aws: &AwsArgs, execution: Option<String>| errors::Context {
        profile: aws.profile.clone(),
        endpoints: Vec::new(),
        execution,
    };
    const SFN: (&str, &str) = ("Step Functions", "SFN");
    match command {
        Command::Run { follow, .. } | Command::Follow { follow, .. } => {
            let execution = match command {
                Command::Follow { execution, .. } => execution.arn().ok(),
                _ => None,
            };
            with(&follow.aws, execution).with_endpoints(
                follow.endpoint_url.as_deref(),
                "--endpoint-url",
                &[SFN, ("SQS", "SQS")],
                lookup,
            )
        }
        Command::Approve { target, .. }
        | Command::Reject { target, .. }
        | Command::Abort { target, .. } => with(&target.aws, target.execution.arn().ok())
            .with_endpoints(
                target.endpoint_url.as_deref(),
                "--endpoint-url",
                &[SFN, ("SSM", "SSM"), ("STS", "STS")],
                lookup,
            ),
        Command::Status(args) => with(&args.aws, None)
            .with_endpoints(
                args.endpoint_url.as_deref(),
                "--endpoint-url",
                &[SFN],
                &lookup,
            )
            .with_endpoints(
                args.gamesparks_endpoint_url.as_deref(),
                "--gamesparks-endpoint-url",
                &[("GameSparks", "GAMESPARKS")],
                &lookup,
            ),
        Command::Explain(args) => with(&args.aws, args.arn().ok().flatten()).with_endpoints(
            args.endpoint_url.as_deref(),
            "--endpoint-url",
            &[SFN],
            lookup,
        ),
        Command::Replay(args) => with(&args.aws, args.execution.as_ref().and(args.arn()))
            .with_endpoints(
                args.endpoint_url.as_deref(),
                "--endpoint-url",
                &[SFN],
                lookup,
            ),
        Command::Audit {
            command: audit::AuditCommand::Verify(args),
        } => with(&args.aws, None).with_endpoints(
            args.endpoint_url.as_deref(),
            "--endpoint-url",
            &[("S3", "S3")],
            lookup,
        ),
        Command::Fleet {
            command: fleet::FleetCommand::Run(args),
        } => with(&args.aws, None).with_endpoints(
            args.endpoint_url.as_deref(),
            "--endpoint-url",
            &[SFN],
            lookup,
        ),
        Command::Fleet {
            command: fleet::FleetCommand::Status(args),
        } => with(&args.aws, args.arn().ok()).with_endpoints(
            args.endpoint_url.as_deref(),
            "--endpoint-url",
            &[SFN, ("S3", "S3")],
            lookup,
        ),
        Command::Validate { .. } | Command::Completions { .. } | Command::Man => {
            errors::Context::default()
        }
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

    const MACHINE: &str = "arn:aws:states:eu-west-1:1:stateMachine:gate";
    const RUN: &str = "arn:aws:states:eu-west-1:1:execution:gate:run-1";

    fn parsed(args: &[&str]) -> Result<Command, String> {
        Cli::try_parse_from(std::iter::once("stagegate").chain(args.iter().copied()))
            .map(|c| c.command)
            .map_err(|e| e.kind().to_string())
    }

    #[test]
    fn run_and_validate_take_an_input_or_a_game_and_a_stage() {
        let sm = ["--state-machine-arn", MACHINE];
        let run = |rest: &[&str]| parsed(&[&["run"][..], &sm, rest].concat());
        assert!(run(&["--input", "{}"]).is_ok());
        let Ok(Command::Run { input, .. }) = run(&["--game", "g", "--stage", "dev"]) else {
            panic!("--game and --stage were refused")
        };
        assert_eq!(
            (
                input.game.as_deref(),
                input.stage.as_deref(),
                input.snapshot.as_str()
            ),
            (Some("g"), Some("dev"), "latest")
        );
        assert!(run(&["--game", "g", "--stage", "dev", "--snapshot", "v1"]).is_ok());
        // Neither, both, or half of the common case: refused by clap.
        for refused in [
            &[][..],
            &["--input", "{}", "--game", "g", "--stage", "dev"],
            &["--input", "{}", "--snapshot", "v1"],
            &["--game", "g"],
            &["--stage", "dev"],
        ] {
            assert!(run(refused).is_err(), "{refused:?} was accepted");
        }
        assert!(parsed(&["validate", "--game", "g", "--stage", "dev"]).is_ok());
        assert!(parsed(&["validate"]).is_err());
    }

    #[test]
    fn an_execution_is_named_by_name_with_the_state_machine_or_by_arn() {
        for verb in ["approve", "follow"] {
            for flag in ["--execution", "--execution-arn"] {
                let by_arn = parsed(&[verb, flag, RUN]).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(check_arguments(&by_arn), Ok(()), "{verb} {flag}");
            }
            let by_name = parsed(&[verb, "--execution", "run-1", "--state-machine-arn", MACHINE])
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(check_arguments(&by_name), Ok(()), "{verb}");
            let context = error_context(&by_name, |_| None);
            assert_eq!(context.execution.as_deref(), Some(RUN), "{verb}");
        }
    }

    #[test]
    fn an_arn_of_the_wrong_kind_or_region_is_refused_before_any_aws_call() {
        let refused = |args: &[&str]| {
            parsed(args)
                .and_then(|c| check_arguments(&c))
                .err()
                .unwrap_or_default()
        };
        assert!(
            refused(&["abort", "--execution-arn", MACHINE, "--reason", "r"])
                .starts_with("--execution is a state machine ARN")
        );
        assert!(
            refused(&["run", "--state-machine-arn", RUN, "--input", "{}"])
                .starts_with("--state-machine-arn is an execution ARN")
        );
        assert!(
            refused(&["status", "--game", "g", "--state-machine-arn", RUN])
                .starts_with("--state-machine-arn is an execution ARN")
        );
        assert!(
            refused(&["follow", "--execution", RUN, "--region", "us-east-1"])
                .starts_with("--region us-east-1 contradicts the ARN")
        );
        assert!(refused(&[
            "reject",
            "--execution",
            "run-1",
            "--state-machine-arn",
            "arn:aws:lambda:eu-west-1:1:function:f",
            "--reason",
            "r"
        ])
        .contains("not of Step Functions"));
    }

    #[test]
    fn a_failure_names_the_endpoint_option_or_variable_that_set_it() {
        let status = parsed(&[
            "status",
            "--game",
            "g",
            "--state-machine-arn",
            MACHINE,
            "--gamesparks-endpoint-url",
            "http://127.0.0.1:1",
            "--profile",
            "ops",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let context = error_context(&status, |var| {
            (var == "AWS_ENDPOINT_URL").then(|| "http://localhost:4566".to_owned())
        });
        assert_eq!(context.profile.as_deref(), Some("ops"));
        let set: Vec<(&str, &str)> = context
            .endpoints
            .iter()
            .map(|e| (e.service, e.set_by.as_str()))
            .collect();
        assert_eq!(
            set,
            [
                ("Step Functions", "AWS_ENDPOINT_URL"),
                ("GameSparks", "--gamesparks-endpoint-url")
            ]
        );
    }

    #[test]
    fn the_usage_says_what_each_input_form_needs() {
        use clap::CommandFactory;
        for name in ["run", "validate"] {
            let usage = Cli::command()
                .find_subcommand_mut(name)
                .map(|c| c.render_usage().to_string())
                .unwrap_or_default();
            assert!(
                usage.contains(
                    "(--input <INPUT> | --game <GAME> --stage <STAGE> [--snapshot <SNAPSHOT>])"
                ),
                "{name}: {usage}"
            );
        }
    }

    #[test]
    fn help_prints_the_exit_codes() {
        use clap::CommandFactory;
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("Exit status:\n  0  "), "{help}");
        assert!(help.contains("  5  stopped waiting"), "{help}");
    }
}

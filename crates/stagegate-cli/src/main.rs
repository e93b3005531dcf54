//! `stagegate`: starts a gate execution on a state machine and follows it to the end, printing
//! progress; answers its approvals and aborts it; shows a game's stages at a glance (`status`);
//! starts a fleet of gates and says where it stands (`fleet`).
//! Wiring only: the arguments are `cli`'s, the exit codes `exit`'s (one per class of ending), the
//! JSON documents `output`'s, the work the library's modules'.

use std::process::ExitCode;

use clap::Parser;
use stagegate::approval::Decision;
use stagegate_cli::cli::{check_arguments, error_context, Cli, Command};
use stagegate_cli::exit::Exit;
use stagegate_cli::output::{
    self, AnswerDocument, Document, Format, RunDocument, ValidateDocument,
};
use stagegate_cli::{
    audit, errors, explain, fleet, follow, manual, replay, source, status, validate,
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && output::wants_json(std::env::args_os()) => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            return fail(first.trim_start_matches("error: "), Format::Json);
        }
        // --help, --version, and clap's own usage errors (exit 2, like `Exit::Error`).
        Err(e) => e.exit(),
    };
    let format = match &cli.command {
        Command::Status(args) if args.json => Format::Json,
        _ => cli.output,
    };
    if let Err(message) = check_arguments(&cli.command) {
        return fail(&message, format);
    }
    // Read before the command is taken apart: what a failure's fix names.
    let context = error_context(&cli.command, |var| std::env::var(var).ok());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&e.to_string(), format),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run {
                state_machine_arn,
                input,
                name,
                dry_run,
                no_follow,
                follow,
            } => {
                let input = source::run_input(&input, dry_run)?;
                let clients = follow::Clients::new(&follow, &state_machine_arn).await?;
                let arn = follow::start(&clients, &state_machine_arn, &input, name).await?;
                if no_follow {
                    match format {
                        Format::Text => println!("{arn}"),
                        Format::Json => Document::Run(RunDocument::started(&arn)).print(),
                    }
                    return Ok(Exit::Done);
                }
                format.say(&format!("started {arn}"));
                follow::follow(&clients, &arn, &follow, format).await
            }
            Command::Validate { input } => {
                let checked = validate::inspect(&input.text()?);
                if format == Format::Json {
                    let document = ValidateDocument::new(&checked);
                    Document::Validate(document).print();
                    // The document says why; stderr too, for a person reading a CI log.
                    if let Err(problem) = &checked {
                        eprintln!("stagegate: {problem}");
                    }
                    return Ok(if checked.is_ok() {
                        Exit::Done
                    } else {
                        Exit::Error
                    });
                }
                match checked {
                    Ok(summary) => {
                        print!("{summary}");
                        Ok(Exit::Done)
                    }
                    Err(problem) => Err(problem.to_string()),
                }
            }
            Command::Follow { execution, follow } => {
                let arn = execution.arn()?;
                let clients = follow::Clients::new(&follow, &arn).await?;
                follow::follow(&clients, &arn, &follow, format).await
            }
            Command::Approve { target, reason } => {
                let (operator, arn) = target.operator().await?;
                let done = operator
                    .answer(&arn, Decision::Approve, reason.as_deref())
                    .await?;
                Ok(answered(format, &arn, Decision::Approve, done))
            }
            Command::Reject { target, reason } => {
                let (operator, arn) = target.operator().await?;
                let done = operator
                    .answer(&arn, Decision::Reject, Some(&reason))
                    .await?;
                Ok(answered(format, &arn, Decision::Reject, done))
            }
            Command::Abort { target, reason } => {
                let (operator, arn) = target.operator().await?;
                let done = operator.abort(&arn, &reason).await?;
                Ok(answered(format, &arn, Decision::Abort, done))
            }
            Command::Status(mut args) => {
                // `--output json` and `--json` print the same `StatusReport`.
                args.json = format == Format::Json;
                status::watch::print(&args).await?;
                Ok(Exit::Done)
            }
            Command::Explain(args) => {
                let (history, source) = explain::history(&args).await?;
                let explained = explain::explain(&history, &source)?;
                match format {
                    Format::Text => print!("{}", explain::render(&explained)),
                    Format::Json => Document::Explain(explain::document(&explained)).print(),
                }
                Ok(Exit::Done)
            }
            Command::Replay(args) => {
                let (runs, what_if) = replay::run(&args).await?;
                match format {
                    Format::Text => print!("{}", replay::render(&runs, what_if.as_ref())),
                    Format::Json => {
                        Document::Replay(replay::document(&runs, what_if.as_ref())).print()
                    }
                }
                Ok(replay::exit(&runs))
            }
            Command::Audit {
                command: audit::AuditCommand::Verify(args),
            } => audit::verify::run(&args, format).await,
            Command::Fleet {
                command: fleet::FleetCommand::Run(args),
            } => fleet::command::run(&args, format).await,
            Command::Fleet {
                command: fleet::FleetCommand::Status(args),
            } => fleet::command::status(&args, format).await,
            Command::Completions { shell } => print_bytes(&manual::completions(shell)),
            Command::Man => print_bytes(&manual::man_page()?),
        }
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(message) => fail(&errors::explain(&message, &context), format),
    }
}

fn answered(format: Format, arn: &str, decision: Decision, done: String) -> Exit {
    match format {
        Format::Text => println!("{done}"),
        Format::Json => Document::Answer(AnswerDocument::new(arn, decision, done)).print(),
    }
    Exit::Done
}

fn print_bytes(bytes: &[u8]) -> Result<Exit, String> {
    use std::io::Write;
    std::io::stdout()
        .write_all(bytes)
        .map_err(|e| format!("writing to stdout: {e}"))?;
    Ok(Exit::Done)
}

/// The command failed: the message on stderr, and in json mode the `ErrorDocument` on stdout.
fn fail(message: &str, format: Format) -> ExitCode {
    eprintln!("stagegate: {message}");
    if format == Format::Json {
        Document::Error(output::ErrorDocument::new(message)).print();
    }
    ExitCode::from(Exit::Error.code())
}

//! `stagegate`: starts a gate execution on a state machine and follows it to the end, printing
//! progress; answers its approvals and aborts it; shows a game's stages at a glance (`status`).
//! Wiring only: the arguments are `cli`'s, the exit codes `exit`'s (one per class of ending), the
//! JSON documents `output`'s, the work the library's modules'.

use std::process::ExitCode;

use clap::Parser;
use stagegate::approval::Decision;
use stagegate_cli::cli::{check_arguments, Cli, Command};
use stagegate_cli::exit::Exit;
use stagegate_cli::output::{
    self, AnswerDocument, Document, Format, RunDocument, ValidateDocument,
};
use stagegate_cli::{follow, source, status, validate};

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
                let clients = follow::Clients::new(&follow).await;
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
                let checked = validate::inspect(&source::read_text(&input)?);
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
            Command::Follow {
                execution_arn,
                follow,
            } => {
                let clients = follow::Clients::new(&follow).await;
                follow::follow(&clients, &execution_arn, &follow, format).await
            }
            Command::Approve { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .answer(&target.execution_arn, Decision::Approve, reason.as_deref())
                    .await?;
                Ok(answered(
                    format,
                    &target.execution_arn,
                    Decision::Approve,
                    done,
                ))
            }
            Command::Reject { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .answer(&target.execution_arn, Decision::Reject, Some(&reason))
                    .await?;
                Ok(answered(
                    format,
                    &target.execution_arn,
                    Decision::Reject,
                    done,
                ))
            }
            Command::Abort { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .abort(&target.execution_arn, &reason)
                    .await?;
                Ok(answered(
                    format,
                    &target.execution_arn,
                    Decision::Abort,
                    done,
                ))
            }
            Command::Status(mut args) => {
                // `--output json` and `--json` print the same `StatusReport`.
                args.json = format == Format::Json;
                status::watch::print(&args).await?;
                Ok(Exit::Done)
            }
        }
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(message) => fail(&message, format),
    }
}

fn answered(format: Format, arn: &str, decision: Decision, done: String) -> Exit {
    match format {
        Format::Text => println!("{done}"),
        Format::Json => Document::Answer(AnswerDocument::new(arn, decision, done)).print(),
    }
    Exit::Done
}

/// The command failed: the message on stderr, and in json mode the `ErrorDocument` on stdout.
fn fail(message: &str, format: Format) -> ExitCode {
    eprintln!("stagegate: {message}");
    if format == Format::Json {
        Document::Error(output::ErrorDocument::new(message)).print();
    }
    ExitCode::from(Exit::Error.code())
}

//! `stagegate`: starts a gate execution on a state machine and follows it to the end, printing
//! progress; answers its approvals and aborts it; shows a game's stages at a glance (`status`).
//! Wiring only: the arguments are `cli`'s, the exit codes `exit`'s (one per class of ending), the
//! work the library's modules'.

use std::process::ExitCode;

use clap::Parser;
use stagegate::approval::Decision;
use stagegate_cli::cli::{check_arguments, Cli, Command};
use stagegate_cli::exit::Exit;
use stagegate_cli::{follow, source, status, validate};

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
                let input = source::run_input(&input, dry_run)?;
                let clients = follow::Clients::new(&follow).await;
                let arn = follow::start(&clients, &state_machine_arn, &input, name).await?;
                follow::follow(&clients, &arn, &follow).await
            }
            Command::Validate { input } => match validate::check(&source::read_text(&input)?) {
                Ok(summary) => {
                    print!("{summary}");
                    Ok(Exit::Done)
                }
                Err(problem) => Err(problem),
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
                Ok(Exit::Done)
            }
            Command::Reject { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .answer(&target.execution_arn, Decision::Reject, Some(&reason))
                    .await?;
                println!("{done}");
                Ok(Exit::Done)
            }
            Command::Abort { target, reason } => {
                let done = target
                    .operator()
                    .await
                    .abort(&target.execution_arn, &reason)
                    .await?;
                println!("{done}");
                Ok(Exit::Done)
            }
            Command::Status(args) => {
                status::watch::print(&args).await?;
                Ok(Exit::Done)
            }
        }
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("stagegate: {message}");
    ExitCode::from(Exit::Error.code())
}

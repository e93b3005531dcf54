//! `stagegate`: starts a gate execution on a state machine and follows it to the end, printing
//! progress; answers its approvals and aborts it; shows a game's stages at a glance (`status`).
//! Wiring only: the arguments are `cli`'s, the exit codes `exit`'s (one per class of ending), the
//! work the library's modules'.

use std::process::ExitCode;

use clap::Parser;
use stagegate::approval::Decision;
use stagegate_cli::cli::{check_arguments, error_context, Cli, Command};
use stagegate_cli::exit::Exit;
use stagegate_cli::{errors, follow, manual, source, status, validate};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = check_arguments(&cli.command) {
        return fail(&message);
    }
    // Read before the command is taken apart: what a failure's fix names.
    let context = error_context(&cli.command, |var| std::env::var(var).ok());
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
                let clients = follow::Clients::new(&follow, &state_machine_arn).await?;
                let arn = follow::start(&clients, &state_machine_arn, &input, name).await?;
                follow::follow(&clients, &arn, &follow).await
            }
            Command::Validate { input } => match validate::check(&input.text()?) {
                Ok(summary) => {
                    print!("{summary}");
                    Ok(Exit::Done)
                }
                Err(problem) => Err(problem),
            },
            Command::Follow { execution, follow } => {
                let arn = execution.arn()?;
                let clients = follow::Clients::new(&follow, &arn).await?;
                follow::follow(&clients, &arn, &follow).await
            }
            Command::Approve { target, reason } => {
                let (operator, arn) = target.operator().await?;
                let done = operator
                    .answer(&arn, Decision::Approve, reason.as_deref())
                    .await?;
                println!("{done}");
                Ok(Exit::Done)
            }
            Command::Reject { target, reason } => {
                let (operator, arn) = target.operator().await?;
                let done = operator
                    .answer(&arn, Decision::Reject, Some(&reason))
                    .await?;
                println!("{done}");
                Ok(Exit::Done)
            }
            Command::Abort { target, reason } => {
                let (operator, arn) = target.operator().await?;
                let done = operator.abort(&arn, &reason).await?;
                println!("{done}");
                Ok(Exit::Done)
            }
            Command::Status(args) => {
                print!("{}", status::run(&args).await?);
                Ok(Exit::Done)
            }
            Command::Completions { shell } => print_bytes(&manual::completions(shell)),
            Command::Man => print_bytes(&manual::man_page()?),
        }
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(message) => fail(&errors::explain(&message, &context)),
    }
}

fn print_bytes(bytes: &[u8]) -> Result<Exit, String> {
    use std::io::Write;
    std::io::stdout()
        .write_all(bytes)
        .map_err(|e| format!("writing to stdout: {e}"))?;
    Ok(Exit::Done)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("stagegate: {message}");
    ExitCode::from(Exit::Error.code())
}

//! Running `fleet run` and `fleet status` over `Calls`, and printing them as text or as the
//! `--output json` document. Its own module because `output` holds the fleet's documents: the
//! fleet's checks and report must not import `output`'s printing back.

use time::OffsetDateTime;

use super::check::{self, Checked};
use super::{report, Calls, RunArgs, Sdk, StatusArgs};
use crate::exit::Exit;
use crate::output::{Document, FleetRunDocument, Format};
use crate::source;
use crate::target;

/// A fleet run started: what `fleet run` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub execution_arn: String,
    pub checked: Checked,
}

/// Checks the input, then starts the run (the only AWS call): a refused input makes none.
pub(crate) async fn start<C: Calls>(
    calls: &C,
    state_machine: &str,
    text: &str,
    name: Option<&str>,
    now: OffsetDateTime,
) -> Result<Started, String> {
    let checked = check::check(text).map_err(|refusal| refusal.to_string())?;
    let name = match name {
        Some(name) => {
            target::check_name("--name", name)?;
            name.to_owned()
        }
        None => check::default_name(&checked.fleet_name, now),
    };
    let execution_arn = calls.start_execution(state_machine, &name, text).await?;
    Ok(Started {
        execution_arn,
        checked,
    })
}

/// The lines `fleet run` prints.
pub fn started_text(started: &Started) -> String {
    let arn = &started.execution_arn;
    format!(
        "started fleet {} as {arn}\n{}\nfollow it: stagegate fleet status --execution {arn} \
         (with --fleet-bucket or {})\n",
        started.checked.fleet_name,
        check::plan_line(&started.checked.plan),
        super::BUCKET_VAR
    )
}

/// `stagegate fleet run`.
pub async fn run(args: &RunArgs, format: Format) -> Result<Exit, String> {
    let text = read_input(&args.input)?;
    let calls = Sdk::new(
        &args.aws,
        args.endpoint_url.as_deref(),
        &args.fleet_state_machine_arn,
        None,
    );
    let started = start(
        &calls,
        &args.fleet_state_machine_arn,
        &text,
        args.name.as_deref(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    match format {
        Format::Text => print!("{}", started_text(&started)),
        Format::Json => {
            eprint!("{}", started_text(&started));
            Document::FleetRun(FleetRunDocument::new(
                &started.execution_arn,
                &started.checked.fleet_name,
                started.checked.plan.clone(),
            ))
            .print();
        }
    }
    Ok(Exit::Done)
}

/// `stagegate fleet status`.
pub async fn status(args: &StatusArgs, format: Format) -> Result<Exit, String> {
    let arn = args.arn()?;
    let bucket = args.bucket()?;
    let calls = Sdk::new(&args.aws, args.endpoint_url.as_deref(), &arn, Some(bucket));
    let read = report::read(&calls, &arn, bucket).await?;
    let document = report::document(&read);
    match format {
        Format::Text => print!("{}", report::render(&document)),
        Format::Json => {
            eprint!("{}", report::render(&document));
            let exit = report::exit(document.fleet_status);
            Document::FleetStatus(document).print();
            return Ok(exit);
        }
    }
    Ok(report::exit(document.fleet_status))
}

/// `--input`: a file's path, or as the CLI's other inputs are given (@FILE, file://PATH, - for
/// stdin).
fn read_input(input: &str) -> Result<String, String> {
    if input == "-" || input.starts_with('@') || input.starts_with("file://") {
        return source::read_flag("--input", input);
    }
    std::fs::read_to_string(input).map_err(|e| format!("--input {input}: {e}"))
}

//! `fleet status`: what is read about a fleet run, and what is made of it (the document, the
//! lines, the exit code), the latter a pure function of the former.
//!
//! Read: one DescribeExecution, then the run's `summary.json` (written when the run ends, also
//! when it was refused or stopped) and, only without one, its `progress.json` (written by each
//! batch's tally; there is none before the first batch ends). The summary decides the fleet's
//! status once it exists, even while the execution takes its last steps; without one, the
//! execution's status does: running, or ended without a summary (failed, timed out, stopped by
//! StopExecution), which someone must look at.

use serde_json::Value;
use stagegate_core::fleet_run::FleetProgress;
use stagegate_core::fleet_summary::FleetSummary;

use super::{Calls, Described};
use crate::exit::Exit;
use crate::output::{
    FleetProgressDocument, FleetState, FleetStatusDocument, FleetSummaryDocument, NextDocument,
};

/// How many failed games the text lists (the document has all the summary names).
pub const LISTED: usize = 10;

/// The summary's key in the fleet bucket.
pub fn summary_key(execution_name: &str) -> String {
    format!("fleets/{execution_name}/summary.json")
}

/// The progress' key in the fleet bucket.
pub fn progress_key(execution_name: &str) -> String {
    format!("fleets/{execution_name}/progress.json")
}

/// What the fleet bucket holds for the run.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Summary(Box<FleetSummary>),
    Progress(Box<FleetProgress>),
    Neither,
}

/// Everything `fleet status` reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub execution_arn: String,
    pub execution: Described,
    pub found: Found,
}

/// Reads the run: DescribeExecution, then the summary, else the progress.
pub(crate) async fn read<C: Calls>(calls: &C, arn: &str, bucket: &str) -> Result<Read, String> {
    let execution = calls.describe_execution(arn).await?;
    let name = if execution.name.is_empty() {
        arn.rsplit(':').next().unwrap_or(arn).to_owned()
    } else {
        execution.name.clone()
    };
    let key = summary_key(&name);
    let found = match calls.get_object(&key).await? {
        Some(bytes) => Found::Summary(Box::new(parse(&bytes, bucket, &key)?)),
        None => {
            let key = progress_key(&name);
            match calls.get_object(&key).await? {
                Some(bytes) => Found::Progress(Box::new(parse(&bytes, bucket, &key)?)),
                None => Found::Neither,
            }
        }
    };
    Ok(Read {
        execution_arn: arn.to_owned(),
        execution,
        found,
    })
}

fn parse<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    bucket: &str,
    key: &str,
) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| {
        format!("s3://{bucket}/{key} is not what the fleet workflow writes there: {e}")
    })
}

/// Where the run stands, by the summary when there is one, else by the execution.
pub fn state(read: &Read) -> FleetState {
    match &read.found {
        Found::Summary(s) => s.status.into(),
        _ if read.execution.status == "RUNNING" => FleetState::Running,
        _ => FleetState::EndedWithoutSummary,
    }
}

/// The exit code of a fleet's standing: 0 completed; 1 stopped by its budget (failed games to
/// look at) or ended without a summary; 4 refused, nothing started; 5 still running.
pub fn exit(state: FleetState) -> Exit {
    match state {
        FleetState::Completed => Exit::Done,
        FleetState::Stopped | FleetState::EndedWithoutSummary => Exit::NeedsPerson,
        FleetState::Refused => Exit::Refused,
        FleetState::Running => Exit::StillRunning,
    }
}

/// The document `fleet status -o json` prints, which the text is also made from.
pub fn document(read: &Read) -> FleetStatusDocument {
    let state = state(read);
    let exit = exit(state);
    let (summary, progress) = match &read.found {
        Found::Summary(s) => (Some(Box::new(FleetSummaryDocument::of(s))), None),
        Found::Progress(p) => (None, Some(Box::new(FleetProgressDocument::of(p)))),
        Found::Neither => (None, None),
    };
    let fleet_name = summary
        .as_ref()
        .map(|s| s.fleet_name.clone())
        .or_else(|| progress.as_ref().map(|p| p.fleet_name.clone()))
        .or_else(|| input_fleet_name(read.execution.input.as_deref()));
    let execution_name = read
        .execution_arn
        .rsplit(':')
        .next()
        .unwrap_or(&read.execution_arn)
        .to_owned();
    let next_step = next_step(
        state,
        &read.execution,
        summary.as_deref(),
        progress.as_deref(),
        &read.execution_arn,
    );
    FleetStatusDocument {
        execution_arn: read.execution_arn.clone(),
        execution_name,
        execution_status: read.execution.status.clone(),
        error: read.execution.error.clone(),
        cause: read.execution.cause.clone(),
        fleet_name,
        fleet_status: state,
        summary,
        progress,
        next_step,
        exit_code: exit.code(),
        exit_class: exit.as_str().to_owned(),
    }
}

/// The fleet's name from the execution input (read leniently: a refused input may still name it).
fn input_fleet_name(input: Option<&str>) -> Option<String> {
    let value: Value = serde_json::from_str(input?).ok()?;
    value.get("fleetName")?.as_str().map(str::to_owned)
}

fn next_step(
    state: FleetState,
    execution: &Described,
    summary: Option<&FleetSummaryDocument>,
    progress: Option<&FleetProgressDocument>,
    arn: &str,
) -> String {
    let again = format!("stagegate fleet status --execution {arn}");
    match state {
        FleetState::Completed => {
            "none: every batch ran within the budget (each game's own message says how it ended)"
                .to_owned()
        }
        FleetState::Stopped => format!(
            "look at the failed games (each game's own message, or `stagegate explain` of its \
             gate run) and fix the cause; the {} game(s) never started need a new fleet run",
            summary.map_or(0, |s| s.not_started)
        ),
        FleetState::Refused => "fix the fleet input (the reason names the item and the rule) and \
                                start it again with `stagegate fleet run`; no game started"
            .to_owned(),
        FleetState::Running => match progress.map(|p| (&p.next, p.batches)) {
            None => format!(
                "wait: planning / first batch running (no batch has ended yet); `{again}` later"
            ),
            Some((NextDocument::Batch { batch }, batches)) => format!(
                "wait: batch {} of {batches} runs; `{again}` later",
                batch + 1
            ),
            Some((NextDocument::Done, _)) => {
                format!("wait: every batch ran, the summary is being written; `{again}`")
            }
            Some((NextDocument::Stopped { .. }, _)) => format!(
                "wait: the budget is spent and no further game starts; the summary is being \
                 written; `{again}`"
            ),
        },
        FleetState::EndedWithoutSummary => format!(
            "the fleet execution ended {} without a summary{}: look at it in the Step Functions \
             console; games of the batches it started ran their whole gate, each with its own \
             message",
            execution.status,
            execution
                .error
                .as_deref()
                .map_or(String::new(), |e| format!(" ({e})"))
        ),
    }
}

/// The lines a person reads, from the document.
pub fn render(doc: &FleetStatusDocument) -> String {
    let mut out = format!(
        "fleet {}: {} (execution {} {})\n",
        doc.fleet_name.as_deref().unwrap_or("?"),
        doc.fleet_status.as_str(),
        doc.execution_name,
        doc.execution_status
    );
    let line = |out: &mut String, label: &str, text: String| {
        out.push_str(&format!("  {label:<10} {text}\n"));
    };
    if let Some(s) = &doc.summary {
        line(
            &mut out,
            "games:",
            format!(
                "{} started, {} ended, {} never started, of {}",
                s.started, s.started, s.not_started, s.games
            ),
        );
        line(&mut out, "outcomes:", counts(&s.counts));
        if let Some(b) = &s.budget {
            line(
                &mut out,
                "failures:",
                format!(
                    "{} of {} allowed ({}% of {}); canaries: {} of {} allowed",
                    b.failed,
                    b.allowed,
                    b.max_failure_percent,
                    s.games,
                    b.canary_failed,
                    b.canary_max_failures
                ),
            );
        }
        failed(&mut out, &s.failed_games, s.failed_unlisted);
        if let Some(b) = &s.breach_rollback {
            let ended: Vec<String> = b.counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            line(
                &mut out,
                "rolled back:",
                format!(
                    "{} promoted game(s) run back to their previous snapshot ({})",
                    b.games,
                    if ended.is_empty() {
                        "none ended yet".to_owned()
                    } else {
                        ended.join(", ")
                    }
                ),
            );
        }
        if let Some(reason) = &s.reason {
            line(&mut out, "reason:", reason.clone());
        }
    } else if let Some(p) = &doc.progress {
        line(
            &mut out,
            "games:",
            format!("{} started, {} ended, of {}", p.started, p.ended, p.games),
        );
        line(
            &mut out,
            "batches:",
            format!("{} of {} done", p.done, p.batches),
        );
        line(&mut out, "outcomes:", counts(&p.counts));
        let canaries = if p.canaries.is_empty() {
            String::new()
        } else {
            format!(
                "; canaries: {} of {} allowed",
                p.canary_failed, p.budget.canary_max_failures
            )
        };
        line(
            &mut out,
            "failures:",
            format!(
                "{} of {} allowed ({}% of {}){canaries}",
                p.failed, p.allowed, p.budget.max_failure_percent, p.games
            ),
        );
        failed(&mut out, &p.failed_games, p.failed_unlisted);
        if let NextDocument::Stopped { reason, .. } = &p.next {
            line(&mut out, "reason:", reason.clone());
        }
    } else if doc.fleet_status == FleetState::Running {
        line(
            &mut out,
            "games:",
            "planning / first batch running".to_owned(),
        );
    }
    if let (Some(error), None) = (&doc.error, &doc.summary) {
        let cause = doc.cause.as_deref().unwrap_or_default();
        line(
            &mut out,
            "error:",
            format!("{error} {cause}").trim_end().to_owned(),
        );
    }
    line(&mut out, "next:", doc.next_step.clone());
    out
}

fn counts(counts: &std::collections::BTreeMap<String, usize>) -> String {
    if counts.is_empty() {
        return "none yet".to_owned();
    }
    counts
        .iter()
        .map(|(outcome, n)| format!("{outcome} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn failed(out: &mut String, games: &[crate::output::FailedGameDocument], unlisted: usize) {
    if games.is_empty() {
        return;
    }
    out.push_str("  failed:\n");
    for g in games.iter().take(LISTED) {
        let why = g.why.as_deref().unwrap_or("(no reason given)");
        out.push_str(&format!("    {} {}: {why}\n", g.game_name, g.verdict));
    }
    let more = games.len().saturating_sub(LISTED) + unlisted;
    if more > 0 {
        out.push_str(&format!("    +{more} more\n"));
    }
}

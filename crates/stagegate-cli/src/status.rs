//! `stagegate status`: per stage of a game, what serves now, the last gate runs and how they
//! ended, an approval waiting for an answer and a freeze in force, as a table a person reads at a
//! glance or as JSON (`StatusReport`) for scripts, once or again and again (`--watch`, `watch`).
//! It exists so that "what is on prod, and what is the gate doing to it" is one command instead
//! of the console of two services.
//!
//! Where things come from: the stages from GameSparks `ListStages` (or `--stages`), what a stage
//! serves from its deployment history (`stagegate::history::serving_snapshot`, the rule the
//! rollback uses), the runs from the state machine's newest executions and every running one
//! however old (`ListExecutions`, the second with `statusFilter` RUNNING, then
//! `DescribeExecution` each for its input and ending; for a run that did not succeed, the newest
//! steps of its history for its pending approval and what "latest" resolved to, as `steps`
//! reads them), and the freeze from the template's windows (`STAGEGATE_FREEZE_WINDOWS`) plus
//! those of the game's running runs.
//!
//! Everything that decides what is shown (a run's outcome, the stages a run input covers, the
//! report, the table) is a function of what was read, tested here without AWS.

use aws_sdk_sfn::types::ExecutionStatus;
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stagegate::aws::{endpoint, GameSparksDeployments};
use stagegate::deployment::StageRef;
use stagegate::freeze::{self, FreezeWindow};
use stagegate::handlers::start::FREEZE_WINDOWS_VAR;
use stagegate::ports::StageDeployments;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::history::{self, error_text};
use crate::steps::{self, Pending};

/// How many runs the table shows per stage (the JSON has every run examined).
pub const TABLE_RUNS: usize = 3;
/// Executions described at once: enough to be quick, few enough not to be throttled.
const CONCURRENCY: usize = 8;
/// Running executions shown besides the newest `--runs`: a gate has a few at a time; a
/// thousand means something else is wrong, and the report stays bounded.
const MAX_RUNNING: usize = 1_000;

#[derive(Args, Clone, Debug)]
pub struct StatusArgs {
    /// The game (GameSparks game name).
    #[arg(long)]
    game: String,
    /// The gate's state machine, whose executions are the runs.
    #[arg(long, env = "STATE_MACHINE_ARN")]
    pub(crate) state_machine_arn: String,
    /// Only these stages, comma-separated, in this order (default: the game's stages, from
    /// GameSparks ListStages).
    #[arg(long, value_delimiter = ',')]
    stages: Vec<String>,
    /// How many of the newest executions to examine (runs of other games are skipped); running
    /// ones are examined too, however old.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    runs: u32,
    /// Freeze windows that apply to every run, as JSON or @FILE: the template's `FreezeWindows`,
    /// i.e. the value the template gives the start function in STAGEGATE_FREEZE_WINDOWS (read
    /// from that variable when the option is not given). The freeze windows of the game's
    /// running runs are added.
    #[arg(long, env = FREEZE_WINDOWS_VAR)]
    freeze_windows: Option<String>,
    /// Print the report as JSON (a `StatusReport`) instead of the table: an alias of
    /// `--output json`.
    #[arg(long)]
    pub json: bool,
    /// Print the report again every --interval seconds until interrupted: in a terminal redrawn
    /// in place, otherwise one report after another, separated by a blank line.
    #[arg(long)]
    watch: bool,
    /// Seconds between reports with --watch.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    interval: u64,
    /// With --watch: stop after this many reports (for scripts).
    #[arg(long, requires = "watch", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    #[command(flatten)]
    pub(crate) aws: crate::aws::AwsArgs,
    /// Endpoint for Step Functions, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL).
    #[arg(long)]
    pub(crate) endpoint_url: Option<String>,
    /// Endpoint for GameSparks, e.g. the local emulator (also AWS_ENDPOINT_URL_GAMESPARKS,
    /// AWS_ENDPOINT_URL).
    #[arg(long)]
    pub(crate) gamesparks_endpoint_url: Option<String>,
}

/// The report: `stagegate status --output json` prints it, field names as here in camelCase
/// (`schemas/cli-output.schema.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub game_name: String,
    /// When the report was made (UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub at: OffsetDateTime,
    pub stages: Vec<StageStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageStatus {
    pub stage_name: String,
    /// What the stage serves now; null when nothing does.
    pub serving_snapshot_id: Option<String>,
    /// The examined runs that cover this stage, newest first (a wave's run covers each of its
    /// stages), running ones included.
    pub runs: Vec<RunStatus>,
    /// The newest approval of this stage still waiting for an answer.
    pub pending_approval: Option<PendingApproval>,
    /// The runs covering this stage that are still running, newest first.
    pub running: Vec<RunStatus>,
    /// The freeze in force now (freeze windows apply to every stage).
    pub freeze: Option<ActiveFreeze>,
    /// When no freeze is in force: when the next one starts (within a year).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schemars(with = "Option<String>")]
    pub next_freeze_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunStatus {
    pub execution_arn: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schemars(with = "Option<String>")]
    pub started_at: Option<OffsetDateTime>,
    /// How the run ended (`outcome`): the notification's outcome (`SUCCEEDED`, `UNCHANGED`,
    /// `DRY_RUN`), the gate's error without `StageGate.` (`ROLLED_BACK`, `FROZEN`, `ABORTED`,
    /// ...), `STOPPED` (StopExecution: no cleanup, no notification) or `EXECUTION_TIMED_OUT` (the
    /// workflow's backstop), or `RUNNING` / `AWAITING_APPROVAL until <time>`.
    pub outcome: String,
    /// The snapshot the run deploys: the one "latest" resolved to, once known.
    pub snapshot_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    /// When the wait times out and the run ends APPROVAL_TIMED_OUT.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schemars(with = "Option<String>")]
    pub expires_at: Option<OffsetDateTime>,
    pub snapshot_id: String,
    /// The run to answer: `stagegate approve|reject --execution-arn ...`.
    pub execution_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveFreeze {
    /// The first named window containing now; null if none has a name.
    pub name: Option<String>,
    /// When a deployment may start again.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    pub until: OffsetDateTime,
}

/// One execution as read from Step Functions: the input of `report`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub execution_arn: String,
    pub name: String,
    pub started_at: Option<OffsetDateTime>,
    /// Step Functions' status, e.g. `SUCCEEDED`.
    pub status: String,
    pub error: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    /// For a running execution: the approval it waits for.
    pub pending: Option<Pending>,
    /// The snapshot "latest" resolved to, from the newest gate state in the history (a run that
    /// did not succeed has no output to say it).
    pub resolved_snapshot: Option<String>,
}

/// What `report` needs of an execution input. Read leniently: a run whose input the gate
/// refused still shows (as ERROR) when its game and stages can be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInput {
    pub game_name: String,
    /// `stageName`, or the names in `stages` (a wave), in order.
    pub stages: Vec<String>,
    pub snapshot_id: Option<String>,
    /// The input's valid `freezeWindows` (none when they do not parse: the run was refused).
    pub freeze_windows: Vec<FreezeWindow>,
}

/// Reads an execution input; `None` when it names no game.
pub fn run_input(text: &str) -> Option<RunInput> {
    let value: Value = serde_json::from_str(text).ok()?;
    // The start function's own event form, in case an execution was started with it.
    let value = match value.get("input") {
        Some(inner) if inner.is_object() => inner,
        _ => &value,
    };
    let game_name = value.get("gameName")?.as_str()?.to_owned();
    let stages = match (value.get("stageName"), value.get("stages")) {
        (Some(Value::String(name)), _) => vec![name.clone()],
        (_, Some(Value::Array(list))) => list
            .iter()
            .filter_map(|s| match s {
                Value::String(name) => Some(name.clone()),
                other => other
                    .get("stageName")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
            .collect(),
        _ => Vec::new(),
    };
    let freeze_windows = value
        .get("freezeWindows")
        .and_then(|w| freeze::parse_windows(w, "freezeWindows").ok())
        .unwrap_or_default();
    Some(RunInput {
        game_name,
        stages,
        snapshot_id: value
            .get("snapshotId")
            .and_then(Value::as_str)
            .map(str::to_owned),
        freeze_windows,
    })
}

/// How a run ended, or where it is: see `RunStatus::outcome`.
pub fn outcome(
    status: &str,
    error: Option<&str>,
    output: Option<&str>,
    pending: Option<&Pending>,
) -> String {
    match status {
        "SUCCEEDED" => output
            .and_then(|o| serde_json::from_str::<Value>(o).ok())
            .and_then(|o| o["notification"]["outcome"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "SUCCEEDED".to_owned()),
        "FAILED" => match error {
            Some(e) if !e.is_empty() => e.strip_prefix("StageGate.").unwrap_or(e).to_owned(),
            _ => "FAILED".to_owned(),
        },
        "RUNNING" => match pending {
            Some(p) => match p.expires_at.as_deref() {
                Some(at) => format!("AWAITING_APPROVAL until {at}"),
                None => "AWAITING_APPROVAL".to_owned(),
            },
            None => "RUNNING".to_owned(),
        },
        // Step Functions' own endings, named apart from the gate's ABORTED and TIMED_OUT (which
        // rolled back or alerted, with a notification): these had neither.
        "ABORTED" => "STOPPED".to_owned(),
        "TIMED_OUT" => "EXECUTION_TIMED_OUT".to_owned(),
        other => other.to_owned(),
    }
}

/// The snapshot a run deploys: what "latest" resolved to when the output (the final gate
/// state, whose `snapshotId` is the resolved one) says, else the history's newest gate state (a
/// run that failed has no output), else the input's.
fn run_snapshot(e: &Execution, input: &RunInput) -> Option<String> {
    e.output
        .as_deref()
        .and_then(|o| serde_json::from_str::<Value>(o).ok())
        .and_then(|o| o["snapshotId"].as_str().map(str::to_owned))
        .or_else(|| e.resolved_snapshot.clone())
        .or_else(|| input.snapshot_id.clone())
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| t.to_offset(time::UtcOffset::UTC))
}

/// The report from what was read. `stages`: each stage with what it serves, in display order;
/// `executions`: newest first (runs of other games are skipped here); `windows`: the freeze
/// windows that apply to every run (the running runs' own are added).
pub fn report(
    game_name: &str,
    at: OffsetDateTime,
    stages: &[(String, Option<String>)],
    executions: &[Execution],
    windows: &[FreezeWindow],
) -> StatusReport {
    let mut runs: Vec<(&Execution, RunInput)> = executions
        .iter()
        .filter_map(|e| {
            let input = run_input(e.input.as_deref()?)?;
            (input.game_name == game_name).then_some((e, input))
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.0.started_at));
    let mut windows = windows.to_vec();
    for (e, input) in &runs {
        if e.status == "RUNNING" {
            windows.extend(input.freeze_windows.iter().cloned());
        }
    }
    let freeze = freeze::active(&windows, at).map(|f| ActiveFreeze {
        name: f.name,
        until: f.until,
    });
    let next_freeze_at = match freeze {
        Some(_) => None,
        None => freeze::next_start(&windows, at),
    };
    let stages = stages
        .iter()
        .map(|(stage, serving)| {
            let covering: Vec<&(&Execution, RunInput)> = runs
                .iter()
                .filter(|(_, input)| input.stages.iter().any(|s| s == stage))
                .collect();
            // A wave waiting on another stage is, on this one, running.
            let summary = |(e, input): &(&Execution, RunInput)| RunStatus {
                execution_arn: e.execution_arn.clone(),
                name: e.name.clone(),
                started_at: e.started_at,
                outcome: outcome(
                    &e.status,
                    e.error.as_deref(),
                    e.output.as_deref(),
                    pending_on(e, input, stage),
                ),
                snapshot_id: run_snapshot(e, input),
            };
            let pending_approval = covering.iter().find_map(|(e, input)| {
                pending_on(e, input, stage).map(|p| PendingApproval {
                    expires_at: p.expires_at.as_deref().and_then(parse_time),
                    snapshot_id: if p.snapshot_id == "?" {
                        run_snapshot(e, input).unwrap_or_else(|| "?".to_owned())
                    } else {
                        p.snapshot_id.clone()
                    },
                    execution_arn: e.execution_arn.clone(),
                })
            });
            StageStatus {
                stage_name: stage.clone(),
                serving_snapshot_id: serving.clone(),
                runs: covering.iter().map(|r| summary(r)).collect(),
                pending_approval,
                running: covering
                    .iter()
                    .filter(|(e, _)| e.status == "RUNNING")
                    .map(|r| summary(r))
                    .collect(),
                freeze: freeze.clone(),
                next_freeze_at,
            }
        })
        .collect();
    StatusReport {
        game_name: game_name.to_owned(),
        at,
        stages,
    }
}

/// The run's pending approval, if it is about `stage`. A request that does not name one of the
/// run's stages is about the run's only stage, if it has one.
fn pending_on<'a>(e: &'a Execution, input: &RunInput, stage: &str) -> Option<&'a Pending> {
    let p = e.pending.as_ref().filter(|_| e.status == "RUNNING")?;
    let ours =
        p.stage_name == stage || (!input.stages.contains(&p.stage_name) && input.stages.len() == 1);
    ours.then_some(p)
}

/// A time near `at`, short: `08:01Z` on the same day, else `11-30 08:01Z`, else with the year.
fn moment(t: OffsetDateTime, at: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let clock = format!("{:02}:{:02}Z", t.hour(), t.minute());
    if t.date() == at.date() {
        clock
    } else if t.year() == at.year() {
        format!("{:02}-{:02} {clock}", u8::from(t.month()), t.day())
    } else {
        format!(
            "{}-{:02}-{:02} {clock}",
            t.year(),
            u8::from(t.month()),
            t.day()
        )
    }
}

/// A run's start in LAST RUNS: the time on the report's day, else the date.
fn day_or_time(t: Option<OffsetDateTime>, at: OffsetDateTime) -> String {
    let Some(t) = t.map(|t| t.to_offset(time::UtcOffset::UTC)) else {
        return "?".to_owned();
    };
    if t.date() == at.date() {
        format!("{:02}:{:02}Z", t.hour(), t.minute())
    } else if t.year() == at.year() {
        format!("{:02}-{:02}", u8::from(t.month()), t.day())
    } else {
        format!("{}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    }
}

/// What is happening on the stage now: a pending approval, other running runs, the freeze.
fn now_cell(stage: &StageStatus, at: OffsetDateTime) -> String {
    let mut parts = Vec::new();
    let pending_run = stage
        .pending_approval
        .as_ref()
        .map(|p| p.execution_arn.as_str());
    if let Some(p) = &stage.pending_approval {
        let name = stage
            .running
            .iter()
            .find(|r| r.execution_arn == p.execution_arn)
            .map_or("", |r| r.name.as_str());
        let until = p
            .expires_at
            .map_or(String::new(), |t| format!(" until {}", moment(t, at)));
        parts.push(format!(
            "AWAITING_APPROVAL of {}{until} ({name})",
            p.snapshot_id
        ));
    }
    for r in &stage.running {
        if Some(r.execution_arn.as_str()) != pending_run {
            parts.push(format!("RUNNING {}", r.name));
        }
    }
    match (&stage.freeze, stage.next_freeze_at) {
        (Some(f), _) => parts.push(match &f.name {
            Some(name) => format!("FROZEN ({name}) until {}", moment(f.until, at)),
            None => format!("FROZEN until {}", moment(f.until, at)),
        }),
        (None, Some(next)) => parts.push(format!("next freeze at {}", moment(next, at))),
        (None, None) => {}
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The table: a header line with the game and the time, then one row per stage.
pub fn render_table(report: &StatusReport) -> String {
    let at = report.at;
    let mut rows: Vec<[String; 4]> = vec![[
        "STAGE".into(),
        "SERVING".into(),
        "LAST RUNS".into(),
        "NOW".into(),
    ]];
    for stage in &report.stages {
        let runs: Vec<String> = stage
            .runs
            .iter()
            .take(TABLE_RUNS)
            .map(|r| {
                // The outcome's word; "until ..." of an approval is in NOW.
                let word = r.outcome.split(' ').next().unwrap_or("?");
                format!("{word} {}", day_or_time(r.started_at, at))
            })
            .collect();
        rows.push([
            stage.stage_name.clone(),
            stage
                .serving_snapshot_id
                .clone()
                .unwrap_or_else(|| "(nothing)".into()),
            if runs.is_empty() {
                "-".into()
            } else {
                runs.join(", ")
            },
            now_cell(stage, at),
        ]);
    }
    let mut widths = [0usize; 3];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = format!(
        "{} at {}\n",
        report.game_name,
        stagegate::timefmt::rfc3339(at)
    );
    if report.stages.is_empty() {
        out.push_str("(no stages)\n");
        return out;
    }
    for row in &rows {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(widths.iter()) {
            line.push_str(&format!("{cell:<w$}  "));
        }
        line.push_str(&row[3]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The freeze windows given with `--freeze-windows` (or `STAGEGATE_FREEZE_WINDOWS`): JSON or
/// @FILE; empty means none.
pub fn config_windows(text: Option<&str>) -> Result<Vec<FreezeWindow>, String> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let text = crate::source::read_flag("--freeze-windows", text)?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("--freeze-windows ({FREEZE_WINDOWS_VAR}) is not JSON: {e}"))?;
    freeze::parse_windows(&value, "--freeze-windows").map_err(|e| e.to_string())
}

struct Clients {
    sfn: aws_sdk_sfn::Client,
    gamesparks: aws_sdk_gamesparks::Client,
}

impl Clients {
    async fn new(args: &StatusArgs) -> Result<Self, String> {
        let config = crate::aws::load(&args.aws, Some(&args.state_machine_arn)).await?;
        let mut sfn = aws_sdk_sfn::config::Builder::from(&config);
        if let Some(url) = crate::aws::endpoint_url(args.endpoint_url.as_deref(), "SFN") {
            sfn = sfn.endpoint_url(url);
        }
        // As `GameSparksDeployments::from_config` builds it, with the option first.
        let mut gamesparks = aws_sdk_gamesparks::config::Builder::from(&config)
            .endpoint_resolver(endpoint::GAMESPARKS);
        if let Some(url) =
            crate::aws::endpoint_url(args.gamesparks_endpoint_url.as_deref(), "GAMESPARKS")
        {
            gamesparks = gamesparks.endpoint_url(url);
        }
        Ok(Self {
            sfn: aws_sdk_sfn::Client::from_conf(sfn.build()),
            gamesparks: aws_sdk_gamesparks::Client::from_conf(gamesparks.build()),
        })
    }
}

/// Reads everything and returns what to print.
pub async fn run(args: &StatusArgs) -> Result<String, String> {
    let windows = config_windows(args.freeze_windows.as_deref())?;
    let clients = Clients::new(args).await?;
    // To the second: what a person reads, and what a script compares.
    let now = OffsetDateTime::now_utc();
    let at = now.replace_nanosecond(0).unwrap_or(now);
    let given: Vec<String> = args
        .stages
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let stage_names = if given.is_empty() {
        list_stages(&clients.gamesparks, &args.game).await?
    } else {
        given
    };
    let deployments = GameSparksDeployments::new(clients.gamesparks.clone());
    let mut stages = Vec::new();
    for stage_name in stage_names {
        let stage = StageRef {
            game_name: args.game.clone(),
            stage_name,
        };
        let history =
            stagegate::paging::collect_all(|token| deployments.list_deployments(&stage, token))
                .await
                .map_err(|e| format!("{stage}: {e}"))?;
        let serving = stagegate::history::serving_snapshot(&history).map(str::to_owned);
        stages.push((stage.stage_name, serving));
    }
    let executions =
        executions(&clients.sfn, &args.state_machine_arn, args.runs, &args.game).await?;
    let report = report(&args.game, at, &stages, &executions, &windows);
    if args.json {
        serde_json::to_string_pretty(&report)
            .map_err(|e| format!("writing the report as JSON: {e}"))
    } else {
        Ok(render_table(&report))
    }
}

async fn list_stages(
    client: &aws_sdk_gamesparks::Client,
    game: &str,
) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut token = None;
    for _ in 0..stagegate::paging::MAX_PAGES {
        let page = client
            .list_stages()
            .game_name(game)
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| format!("ListStages of {game}: {}", error_text(&e)))?;
        names.extend(
            page.stages()
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.name().map(str::to_owned)),
        );
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            return Ok(names);
        }
    }
    Err(format!(
        "ListStages of {game}: more than {} pages",
        stagegate::paging::MAX_PAGES
    ))
}

/// The executions to describe: the newest `--runs`, then every running one not among them,
/// however old (a run waiting a day for approval must not disappear behind later ones).
pub fn to_describe(mut newest: Vec<String>, running: Vec<String>) -> Vec<String> {
    for arn in running {
        if !newest.contains(&arn) {
            newest.push(arn);
        }
    }
    newest
}

/// Up to `limit` executions of the state machine with `status` (any: None), newest first.
async fn list(
    sfn: &aws_sdk_sfn::Client,
    state_machine: &str,
    status: Option<ExecutionStatus>,
    limit: usize,
) -> Result<Vec<String>, String> {
    let mut arns = Vec::new();
    let mut token = None;
    while arns.len() < limit {
        let page = sfn
            .list_executions()
            .state_machine_arn(state_machine)
            .set_status_filter(status.clone())
            .max_results(i32::try_from(limit - arns.len()).unwrap_or(1000).min(1000))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| format!("ListExecutions on {state_machine}: {}", error_text(&e)))?;
        arns.extend(
            page.executions()
                .unwrap_or_default()
                .iter()
                .filter_map(|e| e.execution_arn().map(str::to_owned)),
        );
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    arns.truncate(limit);
    Ok(arns)
}

/// The executions to show (`to_describe`), newest first, described; those of other games come
/// back without the history reads.
async fn executions(
    sfn: &aws_sdk_sfn::Client,
    state_machine: &str,
    limit: u32,
    game: &str,
) -> Result<Vec<Execution>, String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let newest = list(sfn, state_machine, None, limit).await?;
    let running = list(
        sfn,
        state_machine,
        Some(ExecutionStatus::Running),
        MAX_RUNNING,
    )
    .await?;
    let arns = to_describe(newest, running);
    let mut found = Vec::with_capacity(arns.len());
    for chunk in arns.chunks(CONCURRENCY) {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, arn) in chunk.iter().enumerate() {
            let (sfn, arn, game) = (sfn.clone(), arn.clone(), game.to_owned());
            tasks.spawn(async move { (i, describe(&sfn, &arn, &game).await) });
        }
        let mut described = Vec::with_capacity(chunk.len());
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.map_err(|e| format!("reading an execution: {e}"))?;
            described.push((i, result?));
        }
        described.sort_by_key(|(i, _)| *i);
        found.extend(described.into_iter().map(|(_, e)| e));
    }
    Ok(found)
}

async fn describe(sfn: &aws_sdk_sfn::Client, arn: &str, game: &str) -> Result<Execution, String> {
    let d = sfn
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(|e| format!("DescribeExecution {arn}: {}", error_text(&e)))?;
    let mut execution = Execution {
        execution_arn: arn.to_owned(),
        name: d.name().unwrap_or_default().to_owned(),
        started_at: d
            .start_date()
            .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).ok()),
        status: d.status().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
        error: d.error().map(str::to_owned),
        input: d.input().map(str::to_owned),
        output: d.output().map(str::to_owned),
        pending: None,
        resolved_snapshot: None,
    };
    let ours = execution
        .input
        .as_deref()
        .and_then(run_input)
        .is_some_and(|i| i.game_name == game);
    if !ours {
        return Ok(execution);
    }
    // A run that did not succeed has no output: the newest steps of its history say what it
    // waits for, what "latest" resolved to, and (for some implementations) how it failed. Read
    // newest first, as far as the newest gate state.
    if d.status() != Some(&ExecutionStatus::Succeeded) {
        let steps = history::recent_steps(sfn, arn, steps::has_gate_state).await?;
        if d.status() == Some(&ExecutionStatus::Running) {
            execution.pending = steps::pending_approval(&steps);
        }
        execution.resolved_snapshot = steps::resolved_snapshot(&steps);
        if execution.error.is_none() {
            execution.error = steps::execution_error(&steps);
        }
    }
    Ok(execution)
}

pub mod watch;

#[cfg(test)]
mod tests;

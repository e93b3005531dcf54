//! `stagegate replay`: today's core re-decides past runs from their own decision records, so a
//! change to the core (a new release) or to the policy (`--policy`, a what-if) can be judged on
//! real runs before it decides a real one: which runs would have ended otherwise, and why.
//!
//! The runs come from one execution, every run of a state machine started in a window
//! (ListExecutions, then one history read per run, paced well below GetExecutionHistory's
//! rate), or history files on disk (no AWS). Each run's newest gate state is found as `explain`
//! finds it (`saved`) and handed to the core (`stagegate::explain::replay`); what is decided
//! here is only what the CLI adds: which policy a what-if means for each run (`PolicyOverride`),
//! how a run's result is named (a run with no record is "no record", never "same"), and the exit
//! code (0 nothing differs, 1 something does, 2 something could not be read).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use stagegate::explain::replay::{replay, Replay};
use stagegate::policy::Policy;
use time::OffsetDateTime;

use crate::aws::AwsArgs;
use crate::exit::Exit;
use crate::explain::sfn_client;
use crate::history::error_text;
use crate::output::{DifferenceDocument, ReplayDocument, ReplaySummary, RunReplayDocument};
use crate::saved::{self, SavedHistory};
use crate::target::{self, Kind};

/// Before each GetExecutionHistory page of a series of runs: 4 a second, a fifth of the API's
/// refill, so a replay of a month of runs leaves the gate's own reads their budget.
pub const PACE: Duration = Duration::from_millis(250);

#[derive(clap::Args, Clone, Debug)]
#[group(id = "runs", required = true, multiple = false, args = ["execution", "since", "from"])]
pub struct ReplayArgs {
    /// One run: the execution's name (with --state-machine-arn) or its ARN.
    #[arg(long, visible_alias = "execution-arn", value_name = "NAME|ARN")]
    pub execution: Option<String>,
    /// Every run of --state-machine-arn started within this long before now: e.g. 30d, 12h,
    /// 90m, 2w.
    #[arg(long, value_name = "AGE", value_parser = parse_since)]
    pub since: Option<Duration>,
    /// History files instead of AWS: a file, or a directory whose *.json files are each one
    /// (as `explain --save-history` or `aws stepfunctions get-execution-history` writes them).
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
    /// The gate's state machine: whose runs --since replays, or whose run --execution names.
    #[arg(long, env = "STATE_MACHINE_ARN")]
    pub state_machine_arn: Option<String>,
    /// A what-if: JSON of the policy's fields (camelCase, as in the input's `policy`); the fields
    /// given replace each run's own, the others keep theirs.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Endpoint for Step Functions, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

/// `--since`: a number and a unit (s, m, h, d, w).
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: expected a number and a unit, e.g. 30d, 12h, 90m"))?;
    let unit_seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "`{text}`: the unit is one of s, m, h, d, w (e.g. 30d)"
            ))
        }
    };
    if n == 0 {
        return Err(format!("`{text}`: an empty window replays nothing"));
    }
    n.checked_mul(unit_seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

impl ReplayArgs {
    /// What the arguments alone can tell is wrong (before any file or AWS read).
    pub fn check(&self) -> Result<(), String> {
        if self.since.is_some() {
            let machine = self.state_machine_arn.as_deref().ok_or(
                "--since replays the runs of a state machine: give --state-machine-arn (or \
                 STATE_MACHINE_ARN)",
            )?;
            target::expect(machine, Kind::StateMachine, "--state-machine-arn")?;
        }
        if let Some(e) = &self.execution {
            target::execution_arn(e, self.state_machine_arn.as_deref())?;
        }
        Ok(())
    }

    /// The ARN the region comes from, when AWS is read.
    pub fn arn(&self) -> Option<String> {
        match (&self.execution, self.since) {
            (Some(e), _) => target::execution_arn(e, self.state_machine_arn.as_deref()).ok(),
            (None, Some(_)) => self.state_machine_arn.clone(),
            _ => None,
        }
    }
}

/// `--policy`: the policy fields a what-if replaces, checked against the `Policy` type.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyOverride(Map<String, Value>);

impl PolicyOverride {
    /// Reads `--policy`'s JSON: an object of `Policy` fields; an unknown field is refused by
    /// name, and so is a value the policy would not take.
    pub fn parse(text: &str, what: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("{what} is not JSON: {e}"))?;
        let Value::Object(fields) = value else {
            return Err(format!(
                "{what}: expected an object of policy fields, e.g. {{\"onInvalidRole\": \"rollback\"}}"
            ));
        };
        let known = match serde_json::to_value(Policy::default()) {
            Ok(Value::Object(known)) => known,
            _ => Map::new(),
        };
        let unknown: Vec<&str> = fields
            .keys()
            .filter(|k| !known.contains_key(*k))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err(format!(
                "{what}: unknown policy field(s) {}; the policy's fields are {}",
                unknown
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                names.join(", ")
            ));
        }
        let this = Self(fields);
        this.apply(&Policy::default())
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(this)
    }

    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--policy {}: {e}", path.display()))?;
        Self::parse(&text, &format!("--policy {}", path.display()))
    }

    /// The run's own policy with the given fields replaced.
    pub fn apply(&self, own: &Policy) -> Result<Policy, String> {
        let mut merged = match serde_json::to_value(own) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        merged.extend(self.0.clone());
        serde_json::from_value(Value::Object(merged)).map_err(|e| format!("policy: {e}"))
    }

    pub fn fields(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

/// How one run came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Re-decided: same when `differences` is empty.
    Replayed(Replay),
    /// No decision record to replay; why.
    NoRecord(String),
    /// The history (or the what-if policy for it) could not be read.
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunReplay {
    /// The execution's ARN, or the file's path.
    pub source: String,
    pub game_name: Option<String>,
    pub outcome: Outcome,
}

impl RunReplay {
    pub fn result(&self) -> &'static str {
        match &self.outcome {
            Outcome::Replayed(r) if r.same() => "same",
            Outcome::Replayed(_) => "differs",
            Outcome::NoRecord(_) => "no record",
            Outcome::Error(_) => "error",
        }
    }
}

/// Re-decides one run from its history.
pub fn replay_run(
    source: &str,
    history: Result<SavedHistory, String>,
    what_if: Option<&PolicyOverride>,
) -> RunReplay {
    let run = |game_name, outcome| RunReplay {
        source: source.to_owned(),
        game_name,
        outcome,
    };
    let said = match history.and_then(|h| h.said()) {
        Ok(said) => said,
        Err(e) => return run(None, Outcome::Error(e)),
    };
    let Some(state) = said.state else {
        return run(
            None,
            Outcome::NoRecord("no gate state: the run ended before its start decided".into()),
        );
    };
    let game = Some(state.game_name.clone());
    if state.decisions.entries.is_empty() {
        return run(
            game,
            Outcome::NoRecord(
                "no decision record: a run from before stagegate recorded its decisions".into(),
            ),
        );
    }
    match what_if.map(|w| w.apply(&state.policy)).transpose() {
        Ok(policy) => run(game, Outcome::Replayed(replay(&state, policy.as_ref()))),
        Err(e) => run(game, Outcome::Error(e)),
    }
}

/// 0 when nothing differs, 1 when a run does (someone should look), 2 when a run could not be
/// read (the answer is incomplete, whatever the others say).
pub fn exit(runs: &[RunReplay]) -> Exit {
    if runs.iter().any(|r| matches!(r.outcome, Outcome::Error(_))) {
        Exit::Error
    } else if runs.iter().any(|r| r.result() == "differs") {
        Exit::NeedsPerson
    } else {
        Exit::Done
    }
}

pub fn summary(runs: &[RunReplay]) -> ReplaySummary {
    let count = |result: &str| runs.iter().filter(|r| r.result() == result).count();
    ReplaySummary {
        runs: runs.len(),
        decisions_replayed: runs
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Replayed(r) => r.decisions,
                _ => 0,
            })
            .sum(),
        runs_that_differ: count("differs"),
        no_record: count("no record"),
        errors: count("error"),
    }
}

/// What a person reads: a line per run (and one per difference), then the summary.
pub fn render(runs: &[RunReplay], what_if: Option<&PolicyOverride>) -> String {
    let mut out = String::new();
    if let Some(w) = what_if {
        out.push_str(&format!("what-if: {}\n", w.fields()));
    }
    for r in runs {
        let name = r.source.rsplit(['/', ':']).next().unwrap_or(&r.source);
        match &r.outcome {
            Outcome::Replayed(p) if p.same() => {
                out.push_str(&format!("{name}: same ({} decision(s))\n", p.decisions));
            }
            Outcome::Replayed(p) => {
                out.push_str(&format!(
                    "{name}: {} difference(s) of {} decision(s)\n",
                    p.differences.len(),
                    p.decisions
                ));
                for d in &p.differences {
                    out.push_str(&format!(
                        "  {} {}: {} -> {}\n    recorded: {}\n    replayed: {}\n",
                        d.stage_name,
                        d.kind,
                        d.recorded,
                        d.replayed,
                        d.recorded_reason,
                        d.replayed_reason
                    ));
                }
            }
            Outcome::NoRecord(why) => out.push_str(&format!("{name}: no record ({why})\n")),
            Outcome::Error(e) => out.push_str(&format!("{name}: error: {e}\n")),
        }
    }
    let s = summary(runs);
    out.push_str(&format!(
        "replayed {} run(s), {} decision(s): {} differ, {} no record, {} error(s)\n",
        s.runs, s.decisions_replayed, s.runs_that_differ, s.no_record, s.errors
    ));
    out
}

pub fn document(runs: &[RunReplay], what_if: Option<&PolicyOverride>) -> ReplayDocument {
    let exit = exit(runs);
    ReplayDocument {
        what_if: what_if.map(PolicyOverride::fields),
        replayed_by: stagegate::evidence::VERSION.to_owned(),
        runs: runs
            .iter()
            .map(|r| {
                let (replay, error) = match &r.outcome {
                    Outcome::Replayed(p) => (Some(p), None),
                    Outcome::NoRecord(why) => (None, Some(why.clone())),
                    Outcome::Error(e) => (None, Some(e.clone())),
                };
                RunReplayDocument {
                    source: r.source.clone(),
                    execution_id: replay.map(|p| p.execution_id.clone()),
                    game_name: r.game_name.clone(),
                    result: r.result().to_owned(),
                    recorded_by: replay.map(|p| p.recorded_by.clone()),
                    decisions: replay.map_or(0, |p| p.decisions),
                    differences: replay
                        .map(|p| p.differences.iter().map(DifferenceDocument::of).collect())
                        .unwrap_or_default(),
                    error,
                }
            })
            .collect(),
        summary: summary(runs),
        exit_code: exit.code(),
        exit_class: exit.as_str().to_owned(),
    }
}

/// The history files `--from` names: the file, or each `*.json` of the directory, by name.
pub fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("--from {}: {e}", path.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "--from {}: no *.json history files in it",
            path.display()
        ));
    }
    Ok(files)
}

/// Replays the runs the arguments name.
pub async fn run(args: &ReplayArgs) -> Result<(Vec<RunReplay>, Option<PolicyOverride>), String> {
    let what_if = args
        .policy
        .as_deref()
        .map(PolicyOverride::read)
        .transpose()?;
    let mut runs = Vec::new();
    if let Some(from) = &args.from {
        for file in files(from)? {
            let source = file.display().to_string();
            runs.push(replay_run(
                &source,
                SavedHistory::read(&file),
                what_if.as_ref(),
            ));
        }
        return Ok((runs, what_if));
    }
    let arn = args
        .arn()
        .ok_or("give --execution, --since (with --state-machine-arn) or --from")?;
    let sfn = sfn_client(&args.aws, args.endpoint_url.as_deref(), &arn).await?;
    let (arns, pause) = match args.since {
        Some(window) => (started_since(&sfn, &arn, window).await?, PACE),
        None => (vec![arn], Duration::ZERO),
    };
    for arn in arns {
        let history = saved::fetch(&sfn, &arn, pause).await;
        runs.push(replay_run(&arn, history, what_if.as_ref()));
    }
    Ok((runs, what_if))
}

/// The state machine's executions started within `window` before now, oldest first. ListExecutions
/// answers newest first: paging stops at the first run older than the window.
async fn started_since(
    sfn: &aws_sdk_sfn::Client,
    state_machine: &str,
    window: Duration,
) -> Result<Vec<String>, String> {
    let now = OffsetDateTime::now_utc();
    let cutoff = now - time::Duration::try_from(window).unwrap_or(time::Duration::MAX);
    let cutoff = cutoff.unix_timestamp();
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(state_machine)
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| format!("ListExecutions on {state_machine}: {}", error_text(&e)))?;
        let mut older = false;
        for e in page.executions().unwrap_or_default() {
            let started = e.start_date().map_or(i64::MAX, |d| d.secs());
            if started < cutoff {
                older = true;
                continue;
            }
            if let Some(arn) = e.execution_arn() {
                arns.push(arn.to_owned());
            }
        }
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if older || token.is_none() {
            break;
        }
    }
    arns.reverse();
    Ok(arns)
}

#[cfg(test)]
mod tests;

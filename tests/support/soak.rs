//! The soak and concurrency tests' plan and verdict (`tests/soak.rs` runs them): options, the
//! scenario (one stage per execution), the mix of deployments and policies with the outcome each
//! must end in, and the checks over what the executions, the subscriber and the emulator saw.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use gamesparks_local::rng::Rng;
use serde_json::{json, Value};
use stagegate::classify::Outcome;
use stagegate::message::DeploymentReport;
use stagegate::timefmt::rfc3339;
use time::OffsetDateTime;

use crate::observe::{by_execution, Notice, OutagePlan, Record, Window};

pub const GAME: &str = "soak";
/// `tests/scenarios/soak.json` gives its game the demo's snapshot ids (with its own durations:
/// see `Kind::finishes_after`), so they are named once, by the emulator.
pub use gamesparks_local::scenario::demo_snapshots::{
    DEPLOYS, INVALID_ROLE, KNOWN_GOOD, NEVER_FINISHES, UNSPECIFIED_FAILURE,
};
/// SUCCESS after 1,205 virtual seconds: every racer starts while it holds the stage. The soak's
/// own (the demo has no such snapshot).
pub const SLOW: &str = "Snapshot_2026-11-25T08:00:00.000Z";

/// One task's whole Retry schedule in the ASL (2 s, x2, 6 retries, each at most 60 s), in
/// virtual seconds: 2 + 4 + 8 + 16 + 32 + 60.
pub const RETRY_BUDGET_SECONDS: f64 = 122.0;

pub const USAGE: &str = "usage: cargo test -p stagegate-tests --test soak -- [CASE...] [OPTIONS]

cases: concurrency, soak (default: both)
  --executions N        soak executions (default 24)
  --concurrency N       soak executions running at once (default 8)
  --time-scale X        virtual seconds per real second (default 60)
  --timeout-seconds N   policy timeoutSeconds of every soak execution (default 300)
  --margin S            real seconds allowed on top of the policy's deadline (default 60)
  --seed N              emulator seed and the soak's mix (default 7)
  --throttle-rate R     emulator throttling (default 0.2)
  --server-error-rate R emulator 500s before executing (default 0.05)
  --after-commit-rate R emulator 500s after StartStageDeployment executed (default 0.05)
  --latency-ms N        emulator latency, uniform 0..N real ms (default 2000)
  --outage-every S      SNS passes through this long before each outage window (default 8)
  --short-outage S      short SNS outages (default 1)
  --long-outage S       the one long SNS outage (default 30)
  --race-executions N   concurrency case: executions started at once (default 12)
  --race-stages N       concurrency case: stages they share (default 2)";

#[derive(Debug, Clone)]
pub struct Config {
    pub executions: usize,
    pub concurrency: usize,
    pub time_scale: f64,
    pub timeout_seconds: u64,
    pub margin: Duration,
    pub seed: u64,
    pub throttle_rate: f64,
    pub server_error_rate: f64,
    pub after_commit_rate: f64,
    pub latency_ms: u64,
    pub outage_every: Duration,
    pub short_outage: Duration,
    pub long_outage: Duration,
    pub race_executions: usize,
    pub race_stages: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            executions: 24,
            concurrency: 8,
            time_scale: 60.0,
            timeout_seconds: 300,
            margin: Duration::from_secs(60),
            seed: 7,
            throttle_rate: 0.2,
            server_error_rate: 0.05,
            after_commit_rate: 0.05,
            latency_ms: 2000,
            outage_every: Duration::from_secs(8),
            short_outage: Duration::from_secs(1),
            long_outage: Duration::from_secs(30),
            race_executions: 12,
            race_stages: 2,
        }
    }
}

impl Config {
    /// Parses the test binary's arguments: options, and case names as filters. Flags of the
    /// standard test harness (`--nocapture`, ...) are ignored.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<(Self, Vec<String>), String> {
        let mut config = Self::default();
        let mut filters = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--") else {
                filters.push(arg);
                continue;
            };
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (flag.to_owned(), None),
            };
            if !config.knows(&name) {
                if name == "help" {
                    return Err(String::new());
                }
                eprintln!("soak: ignoring --{name}");
                continue;
            }
            let value = match inline {
                Some(v) => v,
                None => args
                    .next()
                    .ok_or_else(|| format!("--{name} needs a value"))?,
            };
            config.set(&name, &value)?;
        }
        config.validate()?;
        Ok((config, filters))
    }

    fn knows(&self, name: &str) -> bool {
        const OPTIONS: [&str; 15] = [
            "executions",
            "concurrency",
            "time-scale",
            "timeout-seconds",
            "margin",
            "seed",
            "throttle-rate",
            "server-error-rate",
            "after-commit-rate",
            "latency-ms",
            "outage-every",
            "short-outage",
            "long-outage",
            "race-executions",
            "race-stages",
        ];
        OPTIONS.contains(&name)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
            value
                .parse()
                .map_err(|_| format!("--{name}: not a number: {value:?}"))
        }
        let secs =
            |v: &str| -> Result<Duration, String> { Ok(Duration::from_secs_f64(num(name, v)?)) };
        match name {
            "executions" => self.executions = num(name, value)?,
            "concurrency" => self.concurrency = num(name, value)?,
            "time-scale" => self.time_scale = num(name, value)?,
            "timeout-seconds" => self.timeout_seconds = num(name, value)?,
            "margin" => self.margin = secs(value)?,
            "seed" => self.seed = num(name, value)?,
            "throttle-rate" => self.throttle_rate = num(name, value)?,
            "server-error-rate" => self.server_error_rate = num(name, value)?,
            "after-commit-rate" => self.after_commit_rate = num(name, value)?,
            "latency-ms" => self.latency_ms = num(name, value)?,
            "outage-every" => self.outage_every = secs(value)?,
            "short-outage" => self.short_outage = secs(value)?,
            "long-outage" => self.long_outage = secs(value)?,
            "race-executions" => self.race_executions = num(name, value)?,
            "race-stages" => self.race_stages = num(name, value)?,
            _ => return Err(format!("unknown option --{name}")),
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        let rates = [
            self.throttle_rate,
            self.server_error_rate,
            self.after_commit_rate,
        ];
        if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return Err("rates must be between 0 and 1".into());
        }
        // The gate allows 60-7200; below 120 the 95-second failure would legitimately time out.
        if !(120..=7200).contains(&self.timeout_seconds) {
            return Err(
                "--timeout-seconds must be 120-7200 (the gate allows 60-7200; every deployment but the never-finishing one must end within it)"
                    .into(),
            );
        }
        if self.executions == 0 || self.executions > 9999 || self.concurrency == 0 {
            return Err("--executions must be 1-9999 and --concurrency at least 1".into());
        }
        if self.race_stages == 0 || self.race_executions < self.race_stages {
            return Err("--race-executions must be at least --race-stages (at least 1)".into());
        }
        if self.time_scale <= 0.0 {
            return Err("--time-scale must be positive".into());
        }
        Ok(())
    }

    /// Virtual seconds to real time at this scale.
    pub fn real(&self, virtual_seconds: f64) -> Duration {
        Duration::from_secs_f64(virtual_seconds / self.time_scale)
    }

    /// How long one soak execution may take from start to end: the deployment and the rollback
    /// each run at most `timeoutSeconds` and then the grace window of as long again (virtual, the
    /// gate's deadlines), plus one Retry schedule each for Start, the rollback and Notify, plus
    /// `margin` real seconds for the invocations themselves (GameSparks latency, the SDK's own
    /// retries).
    pub fn execution_bound(&self) -> Duration {
        let virtual_seconds = 4.0 * self.timeout_seconds as f64 + 3.0 * RETRY_BUDGET_SECONDS;
        self.real(virtual_seconds) + self.margin
    }

    pub fn outage_plan(&self) -> OutagePlan {
        OutagePlan {
            every: self.outage_every,
            short: self.short_outage,
            long: self.long_outage,
            long_after: (self.executions / 4).max(1),
        }
    }

    /// The emulator's fault configuration for both cases.
    pub fn faults(&self) -> Value {
        json!({
            "throttleRate": self.throttle_rate,
            "serverErrorRate": self.server_error_rate,
            "serverErrorAfterCommitRate": self.after_commit_rate,
            "latencyMs": {"min": 0, "max": self.latency_ms},
        })
    }
}

/// What a soak execution deploys, under which policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Deploys,
    InvalidRoleAlert,
    InvalidRoleRollback,
    UnspecifiedRollback,
    UnspecifiedAlert,
    /// Never finishes; times out; the rollback is blocked by the stuck deployment.
    StuckRollback,
    StuckAlert,
}

impl Kind {
    pub fn snapshot(self) -> &'static str {
        match self {
            Self::Deploys => DEPLOYS,
            Self::InvalidRoleAlert | Self::InvalidRoleRollback => INVALID_ROLE,
            Self::UnspecifiedRollback | Self::UnspecifiedAlert => UNSPECIFIED_FAILURE,
            Self::StuckRollback | Self::StuckAlert => NEVER_FINISHES,
        }
    }

    /// The policy fields this kind sets (the rest default).
    fn policy(self) -> Value {
        match self {
            Self::Deploys | Self::InvalidRoleAlert | Self::UnspecifiedRollback => json!({}),
            Self::InvalidRoleRollback => json!({"onInvalidRole": "rollback"}),
            Self::UnspecifiedAlert => json!({"onUnspecifiedFailure": "alert"}),
            Self::StuckRollback => json!({"onTimeout": "rollback"}),
            Self::StuckAlert => json!({"onTimeout": "alert"}),
        }
    }

    /// The outcome the run must end with (and its notification must say).
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Deploys => "SUCCEEDED",
            Self::InvalidRoleAlert | Self::UnspecifiedAlert => "FAILED",
            Self::InvalidRoleRollback | Self::UnspecifiedRollback => "ROLLED_BACK",
            // Never rolled back into: GameSparks would refuse while it holds the stage.
            Self::StuckRollback | Self::StuckAlert => "TIMED_OUT",
        }
    }

    /// Virtual seconds from StartStageDeployment to a terminal state (tests/scenarios/soak.json:
    /// 5 pending plus the outcome's duration); the never-finishing snapshot never does.
    pub fn finishes_after(self) -> u64 {
        match self.snapshot() {
            INVALID_ROLE => 25,
            UNSPECIFIED_FAILURE => 95,
            _ => 65,
        }
    }

    pub fn stuck(self) -> bool {
        matches!(self, Self::StuckRollback | Self::StuckAlert)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Deploys => "deploys",
            Self::InvalidRoleAlert => "invalid-role/alert",
            Self::InvalidRoleRollback => "invalid-role/rollback",
            Self::UnspecifiedRollback => "unspecified/rollback",
            Self::UnspecifiedAlert => "unspecified/alert",
            Self::StuckRollback => "never-finishes/rollback",
            Self::StuckAlert => "never-finishes/alert",
        }
    }
}

/// One planned soak execution, on its own stage.
#[derive(Debug, Clone)]
pub struct Planned {
    pub index: usize,
    pub kind: Kind,
}

impl Planned {
    pub fn stage(&self) -> String {
        soak_stage(self.index)
    }

    pub fn name(&self) -> String {
        format!("soak-{:04}", self.index)
    }

    pub fn input(&self, timeout_seconds: u64) -> Value {
        let mut policy = self.kind.policy();
        policy["timeoutSeconds"] = json!(timeout_seconds);
        json!({
            "gameName": GAME,
            "stageName": self.stage(),
            "snapshotId": self.kind.snapshot(),
            "policy": policy,
        })
    }
}

pub fn soak_stage(index: usize) -> String {
    format!("s{index:04}")
}

pub fn race_stage(index: usize) -> String {
    format!("race-{index}")
}

/// The mix: 10% never finish, 20% invalid role, 25% unspecified failure, the rest deploy;
/// policies vary within each; shuffled reproducibly by `seed`.
pub fn plan(executions: usize, seed: u64) -> Vec<Planned> {
    let share = |percent: usize| (executions * percent + 50) / 100;
    let (stuck, invalid, unspecified) = (share(10).max(1), share(20), share(25));
    let mut kinds = Vec::with_capacity(executions);
    kinds.extend((0..stuck).map(|i| [Kind::StuckRollback, Kind::StuckAlert][i % 2]));
    kinds.extend((0..invalid).map(|i| {
        if i % 4 == 3 {
            Kind::InvalidRoleRollback
        } else {
            Kind::InvalidRoleAlert
        }
    }));
    kinds.extend((0..unspecified).map(|i| {
        if i % 3 == 2 {
            Kind::UnspecifiedAlert
        } else {
            Kind::UnspecifiedRollback
        }
    }));
    kinds.truncate(executions);
    kinds.resize(executions, Kind::Deploys);
    let mut rng = Rng::from_state(seed);
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    kinds
        .into_iter()
        .enumerate()
        .map(|(index, kind)| Planned { index, kind })
        .collect()
}

/// `tests/scenarios/soak.json` with its `template` stage cloned into `race-0..` and `s0000..`.
pub fn scenario(path: &Path, executions: usize, race_stages: usize) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut scenario: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let game = scenario["games"]
        .as_array_mut()
        .and_then(|games| games.iter_mut().find(|g| g["name"] == GAME))
        .ok_or_else(|| format!("{}: no game {GAME:?}", path.display()))?;
    let template = game["stages"]
        .as_array()
        .and_then(|stages| stages.iter().find(|s| s["name"] == "template"))
        .cloned()
        .ok_or_else(|| format!("{}: no stage named template", path.display()))?;
    let names = (0..race_stages)
        .map(race_stage)
        .chain((0..executions).map(soak_stage));
    let stages: Vec<Value> = names
        .map(|name| {
            let mut stage = template.clone();
            stage["name"] = json!(name);
            stage
        })
        .collect();
    game["stages"] = json!(stages);
    Ok(scenario)
}

/// `"SUCCEEDED"` -> (SUCCEEDED, no error); any other outcome -> (FAILED, StageGate.<outcome>).
/// The verdict of the gate state the workflow handed Notify (NotifyError: a caught error), as
/// notify-result would have published it.
pub fn decided_outcome(notify_input: Option<&Value>) -> Option<String> {
    let payload = notify_input?;
    let state = payload.get("state").unwrap_or(payload);
    if let Some(caught) = state.get("error") {
        let caught = stagegate::verdict::CaughtError::from_catch(caught);
        return Some(
            stagegate::verdict::verdict(None, Some(&caught))
                .as_str()
                .to_owned(),
        );
    }
    let gate: stagegate::state::GateState = serde_json::from_value(state.clone()).ok()?;
    Some(
        stagegate::verdict::verdict(Some(&gate), None)
            .as_str()
            .to_owned(),
    )
}

pub fn expected_ending(outcome: &str) -> (&'static str, Option<String>) {
    if outcome == "SUCCEEDED" {
        ("SUCCEEDED", None)
    } else {
        ("FAILED", Some(format!("StageGate.{outcome}")))
    }
}

/// The `error` a run ended with, or SUCCEEDED.
pub fn ending(record: &Record) -> String {
    match (&record.error, record.status.as_str()) {
        (_, "") => "NOT_STARTED".into(),
        (_, "SUCCEEDED") => "SUCCEEDED".into(),
        (Some(error), _) => error.clone(),
        (None, status) => status.to_owned(),
    }
}

/// Deployments the emulator saw started on a stage: (DEPLOY, idempotent replays, conflicts).
pub fn stage_counters(counters: &Value, stage: &str) -> (u64, u64, u64) {
    let key = format!("{GAME}/{stage}");
    (
        counters["deploymentsStarted"][&key]["DEPLOY"]
            .as_u64()
            .unwrap_or(0),
        counters["idempotentReplays"][&key].as_u64().unwrap_or(0),
        counters["conflicts"][&key].as_u64().unwrap_or(0),
    )
}

/// Lines containing "panicked" in the stack's logs.
pub fn panics(log_dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(log_dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("log") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("panicked")) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            found.push(format!(
                "{name}: {}",
                line.chars().take(300).collect::<String>()
            ));
        }
    }
    found
}

/// The window that explains a lost notification: the run ended while it lasted (or just after:
/// the last attempt's failure reaches the workflow a moment later).
pub fn explaining_window(windows: &[Window], stopped: f64) -> Option<&Window> {
    windows
        .iter()
        .find(|w| stopped >= w.start && stopped <= w.end + 3.0)
}

/// Seconds since the epoch.
pub fn epoch_secs(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// A phase the gate declared TIMED_OUT although its deployment cannot hang (everything but the
/// never-finishing snapshot completes within 95 virtual seconds): the execution, the phase and
/// the notification's record of it.
pub fn suspicious_timeouts<'a>(
    planned: &'a [Planned],
    records: &'a [Record],
    notices: &'a [Notice],
) -> Vec<(&'a Planned, &'a Record, &'static str, &'a DeploymentReport)> {
    let notices = by_execution(notices);
    let mut out = Vec::new();
    for (p, r) in planned.iter().zip(records) {
        let Some([n]) = notices.get(r.arn.as_str()).map(Vec::as_slice) else {
            continue;
        };
        for (phase, watched) in [
            ("deployment", &n.body.deployment),
            ("rollback", &n.body.rollback),
        ] {
            let Some(watched) = watched else {
                continue;
            };
            let could_hang = phase == "deployment" && p.kind.stuck();
            if watched.outcome == Outcome::TimedOut && !could_hang {
                out.push((p, r, phase, watched));
            }
        }
    }
    out
}

/// Explains a suspicious timeout with GameSparks' own record of the deployment (`created`,
/// `last_updated` and state, virtual time, as `GetStageDeployment` returned them).
pub fn explain_timeout(
    record: &Record,
    phase: &str,
    watched: &DeploymentReport,
    gamesparks: &crate::observe::Deployment,
) -> String {
    let (started, deadline) = (epoch_secs(watched.started_at), epoch_secs(watched.deadline));
    let mut line = format!(
        "{} {phase} {}: the gate's startedAt {} and deadline {}; GameSparks created it at {:.1} s after startedAt ({:+.1} s against the deadline)",
        record.name,
        gamesparks.id,
        rfc3339(watched.started_at),
        rfc3339(watched.deadline),
        gamesparks.created - started,
        gamesparks.created - deadline,
    );
    // `write!` into a String cannot fail (fmt::Write for String is infallible); the same below.
    if let Some(j) = watched.finished_at.map(epoch_secs) {
        let _ = write!(
            line,
            "; declared TIMED_OUT {:.1} s after GameSparks created it",
            j - gamesparks.created
        );
    }
    let _ = write!(
        line,
        "; GameSparks says {} (last updated {:.1} s after creation)",
        gamesparks.state,
        gamesparks.last_updated - gamesparks.created
    );
    line
}

/// What a check found: failures, and the figures to print.
#[derive(Debug, Default)]
pub struct Verdict {
    pub violations: Vec<String>,
    pub report: String,
}

impl Verdict {
    fn fail(&mut self, what: String) {
        self.violations.push(what);
    }

    fn line(&mut self, text: impl AsRef<str>) {
        // Into a String: cannot fail.
        let _ = writeln!(self.report, "  {}", text.as_ref());
    }
}

/// Everything the soak observed.
pub struct SoakRun<'a> {
    pub config: &'a Config,
    pub planned: &'a [Planned],
    pub records: &'a [Record],
    pub notices: &'a [Notice],
    pub garbage: &'a [String],
    pub windows: &'a [Window],
    pub counters: &'a Value,
    pub proxy: stagegate_local::proxy::ProxyStats,
    pub panics: &'a [String],
    pub wall: Duration,
}

pub fn check_soak(run: &SoakRun<'_>) -> Verdict {
    let mut v = Verdict::default();
    let bound = run.config.execution_bound().as_secs_f64();
    let notices = by_execution(run.notices);
    let arns: BTreeMap<&str, &Record> = run.records.iter().map(|r| (r.arn.as_str(), r)).collect();

    let mut by_ending: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_kind: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    let (mut lost, mut lost_in_short, mut retried_delivered) = (0, 0, 0);
    let mut durations: Vec<f64> = Vec::new();
    let (mut deploys_total, mut replays_total, mut task_failures) = (0, 0, 0);
    let mut max_deploys = 0;

    for (planned, record) in run.planned.iter().zip(run.records) {
        let who = format!(
            "{} ({}, {})",
            planned.name(),
            planned.kind.label(),
            planned.stage()
        );
        *by_ending.entry(ending(record)).or_default() += 1;
        task_failures += record.task_failures;
        if let Some(problem) = &record.problem {
            v.fail(format!("{who}: {problem}"));
        }
        if record.status.is_empty() {
            continue;
        }
        // Terminal within the deadline.
        if record.overdue {
            v.fail(format!(
                "{who}: still RUNNING after {bound:.0} s; stopped by the test"
            ));
        }
        match record.duration() {
            Some(d) => {
                durations.push(d);
                if d > bound {
                    v.fail(format!("{who}: took {d:.1} s, bound {bound:.1} s"));
                }
            }
            None => v.fail(format!("{who}: no start/stop date")),
        }

        // The ending, and exactly one notification (or a loss the workflow reports).
        let own = notices
            .get(record.arn.as_str())
            .map_or(&[][..], Vec::as_slice);
        let entry = by_kind.entry(planned.kind).or_default();
        entry.0 += 1;
        if record.notification_lost() {
            lost += 1;
            // The message was lost, not the decision: what the workflow handed Notify must be
            // the planned outcome (a wrong decision must not hide behind an SNS outage).
            let decided = decided_outcome(record.notify_input.as_ref());
            if decided.as_deref() != Some(planned.kind.outcome()) {
                v.fail(format!(
                    "{who}: lost its notification of {decided:?}, expected {}",
                    planned.kind.outcome()
                ));
            } else {
                entry.1 += 1;
            }
            if !own.is_empty() {
                v.fail(format!(
                    "{who}: ended NotificationLost although {} notification(s) arrived",
                    own.len()
                ));
            }
            match record
                .stopped
                .and_then(|s| explaining_window(run.windows, s))
            {
                None => v.fail(format!(
                    "{who}: notification lost outside every SNS outage window (stopped at {:?})",
                    record.stopped
                )),
                Some(w) if !w.long => {
                    lost_in_short += 1;
                    v.fail(format!(
                        "{who}: notification lost in a short ({:.1} s, {}) SNS outage the Retry should ride out ({} failed notify attempts)",
                        w.seconds(),
                        w.mode,
                        record.notify_failures
                    ));
                }
                Some(_) => {}
            }
        } else {
            let outcome = planned.kind.outcome();
            let (status, error) = expected_ending(outcome);
            if record.status != status || record.error != error {
                v.fail(format!(
                    "{who}: ended {} {:?} ({:?}), expected {status} {error:?}; states {:?}",
                    record.status, record.error, record.cause, record.states
                ));
            } else {
                entry.1 += 1;
            }
            match own {
                [n] => {
                    if n.outcome != outcome || n.body.outcome.as_str() != outcome {
                        v.fail(format!(
                            "{who}: notification says {} (body {}), expected {outcome}",
                            n.outcome,
                            n.body.outcome.as_str()
                        ));
                    }
                    let subject = format!("stagegate {outcome}: {GAME}/{}", planned.stage());
                    if n.subject != subject {
                        v.fail(format!("{who}: subject {:?}, want {subject:?}", n.subject));
                    }
                    if record.notify_failures > 0 {
                        retried_delivered += 1;
                    }
                }
                [] => v.fail(format!(
                    "{who}: ended {} with no notification (silent)",
                    ending(record)
                )),
                more => v.fail(format!(
                    "{who}: {} notifications: {:?}",
                    more.len(),
                    more.iter().map(|n| &n.outcome).collect::<Vec<_>>()
                )),
            }
        }

        // At most one deployment, plus at most one rollback.
        let (deploys, replays, _) = stage_counters(run.counters, &planned.stage());
        deploys_total += deploys;
        replays_total += replays;
        max_deploys = max_deploys.max(deploys);
        let allowed = 1 + u64::from(record.entered("Rollback"));
        if deploys > allowed {
            v.fail(format!(
                "{who}: {deploys} deployments started on its stage, at most {allowed} allowed (states {:?})",
                record.states
            ));
        }
        if record.entered("Poll") && deploys == 0 {
            v.fail(format!(
                "{who}: polled, but the emulator started no deployment"
            ));
        }
        if let Some(n) = own.first() {
            let started = [&n.body.deployment, &n.body.rollback]
                .into_iter()
                .flatten()
                // A rollback GameSparks refused (BLOCKED) has no id.
                .filter(|d| d.deployment_id.as_deref().is_some_and(|id| !id.is_empty()))
                .count() as u64;
            if started != deploys {
                v.fail(format!(
                    "{who}: the notification names {started} deployment(s), the emulator started {deploys}"
                ));
            }
        }
    }

    for (p, r, phase, watched) in suspicious_timeouts(run.planned, run.records, run.notices) {
        v.fail(format!(
            "{} ({}, {}): the gate declared its {phase} {} TIMED_OUT (deadline {}), but that deployment cannot hang: it finishes {} virtual s after it starts",
            r.name,
            p.kind.label(),
            p.stage(),
            watched.deployment_id.as_deref().unwrap_or("?"),
            rfc3339(watched.deadline),
            if phase == "rollback" { 65 } else { p.kind.finishes_after() },
        ));
    }

    let strangers: Vec<&str> = notices
        .keys()
        .filter(|id| !arns.contains_key(*id))
        .copied()
        .collect();
    if !strangers.is_empty() {
        v.fail(format!(
            "notifications for unknown executions: {strangers:?}"
        ));
    }
    for text in run.garbage {
        v.fail(format!("unreadable message on the queue: {text}"));
    }
    for line in run.panics {
        v.fail(format!("panic in a log: {line}"));
    }
    if run.proxy.upstream_errors > 0 {
        v.fail(format!(
            "the SNS proxy could not reach moto {} time(s) while passing through",
            run.proxy.upstream_errors
        ));
    }
    let long: Vec<&Window> = run.windows.iter().filter(|w| w.long).collect();
    if long.is_empty() {
        v.fail("the run ended before the long SNS outage started (more --executions, or a shorter --outage-every)".into());
    } else if lost == 0 {
        v.fail(format!(
            "the long SNS outage ({:.1} s) lost no notification, so NotificationLost was not exercised (make --long-outage longer)",
            long[0].seconds()
        ));
    }

    // Figures.
    durations.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        durations
            .get(((durations.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let cfg = run.config;
    v.line(format!(
        "executions: {} (concurrency {}, time scale {}, policy timeoutSeconds {}); wall time {:.1} s",
        run.records.len(),
        cfg.concurrency,
        cfg.time_scale,
        cfg.timeout_seconds,
        run.wall.as_secs_f64()
    ));
    v.line(format!("by ending: {}", join(&by_ending)));
    let kinds: Vec<String> = by_kind
        .iter()
        .map(|(k, (n, ok))| format!("{} {ok}/{n}", k.label()))
        .collect();
    v.line(format!(
        "as expected by kind (the rest lost their notification): {}",
        kinds.join(", ")
    ));
    v.line(format!(
        "notifications: {} received for {} executions; duplicates {}; unknown {}; lost {} (NotificationLost, StageGate.NotificationFailed; {} in short windows); delivered after failed notify attempts {}",
        run.notices.len(),
        notices.len(),
        notices.values().filter(|n| n.len() > 1).count(),
        strangers.len(),
        lost,
        lost_in_short,
        retried_delivered
    ));
    v.line(format!(
        "durations: max {:.1} s, p95 {:.1} s, median {:.1} s (bound {bound:.1} s: 2 x {} + 3 x {RETRY_BUDGET_SECONDS} virtual s at x{} + {} s margin)",
        pct(1.0),
        pct(0.95),
        pct(0.5),
        cfg.timeout_seconds,
        cfg.time_scale,
        cfg.margin.as_secs_f64()
    ));
    v.line(format!(
        "deployments: {deploys_total} started, at most {max_deploys} on one stage; {replays_total} idempotent replays (ClientToken after a 500 after commit); Lambda task attempts failed (retried or caught): {task_failures}"
    ));
    let injected = run.counters["faultsInjected"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    v.line(format!(
        "GameSparks faults injected: {injected}; never-finishing deployments {}; requests {}",
        run.planned.iter().filter(|p| p.kind.stuck()).count(),
        run.counters["requestsTotal"]
    ));
    let shorts: Vec<&Window> = run.windows.iter().filter(|w| !w.long).collect();
    v.line(format!(
        "SNS outages: {} short ({:.1} s in all), {} long ({}); the proxy answered 503 to {} Publish requests, closed {} connections, forwarded {}",
        shorts.len(),
        shorts.iter().fold(0.0, |sum, w| sum + w.seconds()),
        long.len(),
        long.iter()
            .map(|w| format!("{:.1} s", w.seconds()))
            .collect::<Vec<_>>()
            .join(", "),
        run.proxy.unavailable,
        run.proxy.reset,
        run.proxy.forwarded
    ));
    v.line(format!("panics in logs: {}", run.panics.len()));
    v
}

/// Everything the concurrency case observed.
pub struct RaceRun<'a> {
    pub stages: &'a [String],
    /// (stage, record) per execution.
    pub records: &'a [(String, Record)],
    pub notices: &'a [Notice],
    pub counters: &'a Value,
    /// Most deployments seen in progress at once per stage by the listing monitor, and samples.
    pub monitor_max: &'a BTreeMap<String, usize>,
    /// Per stage: listings the monitor read, and the errors of those that failed.
    pub monitor_reads: &'a BTreeMap<String, (usize, Vec<String>)>,
    /// Deployments started during the case per stage, with their intervals.
    pub started: &'a BTreeMap<String, Vec<crate::observe::Deployment>>,
    pub wall: Duration,
}

pub fn check_race(run: &RaceRun<'_>) -> Verdict {
    let mut v = Verdict::default();
    let notices = by_execution(run.notices);
    let mut by_ending: BTreeMap<String, usize> = BTreeMap::new();
    for (stage, record) in run.records {
        *by_ending.entry(ending(record)).or_default() += 1;
        let who = format!("{} on {stage}", record.name);
        if let Some(p) = &record.problem {
            v.fail(format!("{who}: {p}"));
        }
        let own = notices
            .get(record.arn.as_str())
            .map_or(&[][..], Vec::as_slice);
        let expected = match record.status.as_str() {
            "SUCCEEDED" => "SUCCEEDED",
            _ => {
                if record.error.as_deref() != Some("StageGate.BLOCKED") {
                    v.fail(format!(
                        "{who}: a loser must end StageGate.BLOCKED, ended {} {:?} {:?}",
                        record.status, record.error, record.cause
                    ));
                } else if !record
                    .cause
                    .as_deref()
                    .unwrap_or("")
                    .contains("another deployment holds the stage")
                {
                    v.fail(format!("{who}: cause {:?}", record.cause));
                }
                "BLOCKED"
            }
        };
        match own {
            [n] if n.outcome == expected => {}
            _ => v.fail(format!(
                "{who}: expected one {expected} notification, got {:?}",
                own.iter().map(|n| &n.outcome).collect::<Vec<_>>()
            )),
        }
    }
    for stage in run.stages {
        let mine: Vec<&Record> = run
            .records
            .iter()
            .filter(|(s, _)| s == stage)
            .map(|(_, r)| r)
            .collect();
        let winners = mine.iter().filter(|r| r.status == "SUCCEEDED").count();
        if winners != 1 {
            v.fail(format!(
                "{stage}: {winners} executions succeeded, expected exactly 1"
            ));
        }
        let (deploys, _, conflicts) = stage_counters(run.counters, stage);
        if deploys != 1 {
            v.fail(format!(
                "{stage}: {deploys} deployments started, expected 1"
            ));
        }
        if conflicts < (mine.len() - 1) as u64 {
            v.fail(format!(
                "{stage}: {conflicts} conflicts for {} losers",
                mine.len() - 1
            ));
        }
        // While the executions race, the monitor reads each stage every 250 ms: fewer than 3
        // good reads means it saw nothing, and "never more than one" would be vacuous.
        let (read, errors) = run.monitor_reads.get(stage).cloned().unwrap_or_default();
        let failed = errors.len();
        if read < 3 {
            v.fail(format!(
                "{stage}: the listing monitor read it {read} time(s) ({failed} failed): no evidence of one deployment at a time"
            ));
        }
        // A failed listing is a gap in the watch: a second deployment could have started and
        // ended inside it unseen, so "never more than one" would no longer be shown.
        if let Some(first) = errors.first() {
            v.fail(format!(
                "{stage}: {failed} of the listing monitor's {} listings failed ({first})",
                read + failed
            ));
        }
        if run.monitor_max.get(stage).copied().unwrap_or(0) > 1 {
            v.fail(format!(
                "{stage}: the listing showed {} deployments in progress at once",
                run.monitor_max[stage]
            ));
        }
        let started = run.started.get(stage).map_or(&[][..], Vec::as_slice);
        for (i, a) in started.iter().enumerate() {
            for b in &started[i + 1..] {
                let end = |d: &crate::observe::Deployment| {
                    if d.in_progress() {
                        f64::INFINITY
                    } else {
                        d.last_updated
                    }
                };
                if a.created < end(b) && b.created < end(a) {
                    v.fail(format!(
                        "{stage}: deployments {} and {} overlap ({a:?} / {b:?})",
                        a.id, b.id
                    ));
                }
            }
        }
    }
    v.line(format!(
        "{} executions at once on {} stages; wall time {:.1} s",
        run.records.len(),
        run.stages.len(),
        run.wall.as_secs_f64()
    ));
    v.line(format!("by ending: {}", join(&by_ending)));
    let per_stage: Vec<String> = run
        .stages
        .iter()
        .map(|s| {
            let (deploys, _, conflicts) = stage_counters(run.counters, s);
            format!(
                "{s}: {deploys} deployment(s) started, {conflicts} conflicts, at most {} in progress in {} listings ({} failed)",
                run.monitor_max.get(s).copied().unwrap_or(0),
                run.monitor_reads.get(s).map_or(0, |r| r.0),
                run.monitor_reads.get(s).map_or(0, |r| r.1.len())
            )
        })
        .collect();
    v.line(per_stage.join("; "));
    v.line(format!(
        "notifications: {} ({})",
        run.notices.len(),
        join(&run.notices.iter().fold(BTreeMap::new(), |mut m, n| {
            *m.entry(n.outcome.clone()).or_insert(0usize) += 1;
            m
        }))
    ));
    v
}

fn join(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_has_its_shares_and_is_reproducible() {
        let planned = plan(200, 7);
        let count = |f: fn(Kind) -> bool| planned.iter().filter(|p| f(p.kind)).count();
        assert_eq!(count(Kind::stuck), 20);
        assert_eq!(
            count(|k| matches!(k, Kind::InvalidRoleAlert | Kind::InvalidRoleRollback)),
            40
        );
        assert_eq!(
            count(|k| matches!(k, Kind::UnspecifiedAlert | Kind::UnspecifiedRollback)),
            50
        );
        assert_eq!(count(|k| k == Kind::Deploys), 90);
        let again: Vec<Kind> = plan(200, 7).iter().map(|p| p.kind).collect();
        assert_eq!(again, planned.iter().map(|p| p.kind).collect::<Vec<_>>());
        assert_eq!(plan(3, 1).len(), 3);
    }

    /// The default soak's mix, as the soak's own SplitMix64 shuffled it before it used the
    /// workspace's `Rng`: a seed still means the same run.
    #[test]
    fn the_default_mix_is_the_recorded_one() {
        use Kind::*;
        let kinds: Vec<Kind> = plan(24, 7).iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                InvalidRoleAlert,
                UnspecifiedRollback,
                InvalidRoleAlert,
                UnspecifiedAlert,
                UnspecifiedAlert,
                UnspecifiedRollback,
                Deploys,
                UnspecifiedRollback,
                Deploys,
                Deploys,
                Deploys,
                InvalidRoleAlert,
                UnspecifiedRollback,
                Deploys,
                InvalidRoleRollback,
                StuckAlert,
                Deploys,
                Deploys,
                Deploys,
                Deploys,
                InvalidRoleAlert,
                StuckRollback,
                Deploys,
                Deploys,
            ]
        );
    }

    /// The soak scenario repeats the demo's snapshot ids as JSON (and adds SLOW): the names the
    /// plan deploys must be snapshots of its game.
    #[test]
    fn the_soak_scenario_has_the_named_snapshots() {
        let path = crate::repo_root().join("tests/scenarios/soak.json");
        let text = std::fs::read_to_string(&path).expect("tests/scenarios/soak.json");
        for id in [
            KNOWN_GOOD,
            DEPLOYS,
            UNSPECIFIED_FAILURE,
            INVALID_ROLE,
            NEVER_FINISHES,
            SLOW,
        ] {
            assert!(
                text.contains(&format!("\"id\": \"{id}\"")),
                "{id} is a snapshot of {}",
                path.display()
            );
        }
    }

    // ------------------------------------------------------------------ the verdicts' own tests
    // Each checker is fed a run that is right in every respect (and must find nothing), then
    // the same run with one thing wrong (and must name it): a checker that passes everything
    // would pass every soak.

    use crate::observe::{Deployment, Window};
    use stagegate::message::Message;
    use stagegate_local::proxy::{ProxyMode, ProxyStats};

    fn example(stem: &str) -> Message {
        let path = crate::repo_root().join(format!("schemas/examples/{stem}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let golden: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        serde_json::from_value(golden["message"].clone()).unwrap_or_else(|e| panic!("{stem}: {e}"))
    }

    fn event(name: &str) -> Value {
        let path = crate::repo_root().join(format!("events/{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn arn(name: &str) -> String {
        format!("arn:aws:states:us-east-1:123456789012:execution:stagegate-gate:{name}")
    }

    fn notice(record: &Record, stage: &str, outcome: &str, stem: &str) -> Notice {
        Notice {
            execution_id: record.arn.clone(),
            outcome: outcome.to_owned(),
            subject: format!("stagegate {outcome}: {GAME}/{stage}"),
            body: example(stem),
            received: record.stopped.unwrap_or_default(),
        }
    }

    /// A soak run with nothing wrong: three executions end as planned with one notification
    /// each, and the fourth loses its (SUCCEEDED) notification inside the long SNS outage.
    struct Soak {
        config: Config,
        planned: Vec<Planned>,
        records: Vec<Record>,
        notices: Vec<Notice>,
        garbage: Vec<String>,
        windows: Vec<Window>,
        counters: Value,
        panics: Vec<String>,
    }

    impl Soak {
        fn good() -> Self {
            let kinds = [
                (Kind::Deploys, "succeeded"),
                (Kind::UnspecifiedRollback, "rolled-back"),
                (Kind::InvalidRoleAlert, "failed"),
                (Kind::Deploys, "succeeded"),
            ];
            let planned: Vec<Planned> = kinds
                .iter()
                .enumerate()
                .map(|(index, (kind, _))| Planned { index, kind: *kind })
                .collect();
            let mut records = Vec::new();
            let mut notices = Vec::new();
            let mut counters =
                json!({"deploymentsStarted": {}, "idempotentReplays": {}, "conflicts": {}});
            for (p, (kind, stem)) in planned.iter().zip(kinds) {
                let (status, error) = expected_ending(kind.outcome());
                let mut states: Vec<String> = ["Accept", "Start", "Route", "Wait", "Poll", "Route"]
                    .map(String::from)
                    .into();
                if kind == Kind::UnspecifiedRollback {
                    states.extend(["Rollback", "Route", "Wait", "Poll", "Route"].map(String::from));
                }
                states.push("Notify".into());
                let mut record = Record {
                    name: p.name(),
                    arn: arn(&p.name()),
                    status: status.to_owned(),
                    error,
                    states,
                    started: Some(1000.0),
                    stopped: Some(1020.0 + p.index as f64),
                    ..Record::default()
                };
                let deploys = if p.index == 3 {
                    // Lost: SNS stayed down past Notify's retries, inside the long window.
                    record.status = "FAILED".into();
                    record.error = Some("StageGate.NotificationFailed".into());
                    record.states.push("NotificationLost".into());
                    record.stopped = Some(1040.0);
                    record.notify_failures = 7;
                    record.notify_input = Some(event("notify-result.succeeded"));
                    1
                } else {
                    record.states.extend(
                        [
                            "Finish",
                            if status == "SUCCEEDED" {
                                "Succeeded"
                            } else {
                                "Failed"
                            },
                        ]
                        .map(String::from),
                    );
                    let n = notice(&record, &p.stage(), kind.outcome(), stem);
                    let ids = [&n.body.deployment, &n.body.rollback]
                        .into_iter()
                        .flatten()
                        .filter(|d| d.deployment_id.is_some())
                        .count();
                    notices.push(n);
                    ids
                };
                counters["deploymentsStarted"][format!("{GAME}/{}", p.stage())] =
                    json!({"DEPLOY": deploys, "UNDEPLOY": 0});
                records.push(record);
            }
            Self {
                config: Config::default(),
                planned,
                records,
                notices,
                garbage: Vec::new(),
                windows: vec![
                    Window {
                        long: false,
                        mode: ProxyMode::Reset,
                        start: 1005.0,
                        end: 1006.0,
                    },
                    Window {
                        long: true,
                        mode: ProxyMode::Unavailable,
                        start: 1030.0,
                        end: 1060.0,
                    },
                ],
                counters,
                panics: Vec::new(),
            }
        }

        fn violations(&self) -> Vec<String> {
            check_soak(&SoakRun {
                config: &self.config,
                planned: &self.planned,
                records: &self.records,
                notices: &self.notices,
                garbage: &self.garbage,
                windows: &self.windows,
                counters: &self.counters,
                proxy: ProxyStats::default(),
                panics: &self.panics,
                wall: Duration::from_secs(60),
            })
            .violations
        }
    }

    /// `wrong` applied to a good run makes its checker report a violation containing `says`.
    fn rejects<R>(
        what: &str,
        mut run: R,
        wrong: impl FnOnce(&mut R),
        violations: impl Fn(&R) -> Vec<String>,
        says: &str,
    ) {
        wrong(&mut run);
        let found = violations(&run);
        assert!(
            found.iter().any(|v| v.contains(says)),
            "{what}: no violation saying {says:?} in {found:#?}"
        );
    }

    fn soak_rejects(what: &str, wrong: impl FnOnce(&mut Soak), says: &str) {
        rejects(what, Soak::good(), wrong, Soak::violations, says);
    }

    #[test]
    fn the_soak_verdict_passes_a_good_run() {
        assert_eq!(Soak::good().violations(), Vec::<String>::new());
    }

    #[test]
    fn the_soak_verdict_fails_wrong_outcomes() {
        soak_rejects(
            "a rollback that ended SUCCEEDED",
            |r| {
                r.records[1].status = "SUCCEEDED".into();
                r.records[1].error = None;
            },
            "soak-0001 (unspecified/rollback, s0001): ended SUCCEEDED None",
        );
        soak_rejects(
            "a notification of the wrong outcome",
            |r| r.notices[0].outcome = "FAILED".into(),
            "soak-0000 (deploys, s0000): notification says FAILED",
        );
        soak_rejects(
            "a wrong subject",
            |r| r.notices[2].subject = "stagegate FAILED: soak/s0000".into(),
            "soak-0002 (invalid-role/alert, s0002): subject",
        );
        soak_rejects(
            "a duplicate notification",
            |r| {
                let again = notice(&r.records[0], "s0000", "SUCCEEDED", "succeeded");
                r.notices.push(again);
            },
            "soak-0000 (deploys, s0000): 2 notifications",
        );
        soak_rejects(
            "a silent ending",
            |r| {
                r.notices.remove(2);
            },
            "soak-0002 (invalid-role/alert, s0002): ended StageGate.FAILED with no notification (silent)",
        );
        soak_rejects(
            "a run past the bound",
            |r| r.records[0].stopped = Some(1200.0),
            "soak-0000 (deploys, s0000): took 200.0 s",
        );
        soak_rejects(
            "a run the test had to stop",
            |r| r.records[0].overdue = true,
            "soak-0000 (deploys, s0000): still RUNNING",
        );
        soak_rejects(
            "a second deployment on a stage",
            |r| r.counters["deploymentsStarted"]["soak/s0000"]["DEPLOY"] = json!(2),
            "soak-0000 (deploys, s0000): 2 deployments started on its stage, at most 1 allowed",
        );
        soak_rejects(
            "a notification naming a deployment the emulator never started",
            |r| r.counters["deploymentsStarted"]["soak/s0001"]["DEPLOY"] = json!(1),
            "soak-0001 (unspecified/rollback, s0001): the notification names 2 deployment(s), the emulator started 1",
        );
        soak_rejects(
            "a lost notification that hides a wrong decision",
            |r| r.records[3].notify_input = Some(event("notify-result.rolled-back")),
            "soak-0003 (deploys, s0003): lost its notification of Some(\"ROLLED_BACK\"), expected SUCCEEDED",
        );
        soak_rejects(
            "a notification lost in a short outage",
            |r| r.records[3].stopped = Some(1005.5),
            "soak-0003 (deploys, s0003): notification lost in a short",
        );
        soak_rejects(
            "a notification lost outside every outage",
            |r| r.records[3].stopped = Some(1100.0),
            "notification lost outside every SNS outage window",
        );
        soak_rejects(
            "NotificationLost although the message arrived",
            |r| {
                let arrived = notice(&r.records[3], "s0003", "SUCCEEDED", "succeeded");
                r.notices.push(arrived);
            },
            "ended NotificationLost although 1 notification(s) arrived",
        );
        soak_rejects(
            "no long outage",
            |r| r.windows.retain(|w| !w.long),
            "the run ended before the long SNS outage started",
        );
        soak_rejects(
            "a long outage that lost nothing",
            |r| {
                let delivered = &mut r.records[3];
                delivered.status = "SUCCEEDED".into();
                delivered.error = None;
                delivered.states.pop();
                delivered
                    .states
                    .extend(["Finish", "Succeeded"].map(String::from));
                let n = notice(&r.records[3], "s0003", "SUCCEEDED", "succeeded");
                r.notices.push(n);
            },
            "lost no notification, so NotificationLost was not exercised",
        );
        soak_rejects(
            "a notification for an execution the soak did not start",
            |r| {
                let mut stranger = notice(&r.records[0], "s0000", "SUCCEEDED", "succeeded");
                stranger.execution_id = arn("someone-else");
                r.notices.push(stranger);
            },
            "notifications for unknown executions",
        );
        soak_rejects(
            "an unreadable message",
            |r| r.garbage.push("not an SNS envelope".into()),
            "unreadable message on the queue: not an SNS envelope",
        );
        soak_rejects(
            "a panic in a log",
            |r| {
                r.panics
                    .push("poll-deployment.log: thread 'main' panicked".into())
            },
            "panic in a log",
        );
        soak_rejects(
            "a client problem",
            |r| r.records[2].problem = Some("DescribeExecution failed".into()),
            "soak-0002 (invalid-role/alert, s0002): DescribeExecution failed",
        );
    }

    /// A concurrency run with nothing wrong: two stages, two executions each; per stage one
    /// deploys and one ends BLOCKED, and the monitor read each stage often, never two at once.
    struct Race {
        stages: Vec<String>,
        records: Vec<(String, Record)>,
        notices: Vec<Notice>,
        counters: Value,
        monitor_max: BTreeMap<String, usize>,
        monitor_reads: BTreeMap<String, (usize, Vec<String>)>,
        started: BTreeMap<String, Vec<Deployment>>,
    }

    impl Race {
        fn good() -> Self {
            let stages: Vec<String> = (0..2).map(race_stage).collect();
            let mut race = Self {
                stages: stages.clone(),
                records: Vec::new(),
                notices: Vec::new(),
                counters: json!({"deploymentsStarted": {}, "idempotentReplays": {}, "conflicts": {}}),
                monitor_max: BTreeMap::new(),
                monitor_reads: BTreeMap::new(),
                started: BTreeMap::new(),
            };
            for (i, stage) in stages.iter().enumerate() {
                let winner = Record {
                    name: format!("race-{:02}", 2 * i),
                    arn: arn(&format!("race-{:02}", 2 * i)),
                    status: "SUCCEEDED".into(),
                    ..Record::default()
                };
                let loser = Record {
                    name: format!("race-{:02}", 2 * i + 1),
                    arn: arn(&format!("race-{:02}", 2 * i + 1)),
                    status: "FAILED".into(),
                    error: Some("StageGate.BLOCKED".into()),
                    cause: Some(format!(
                        "not started: another deployment holds the stage {stage}"
                    )),
                    ..Record::default()
                };
                race.notices
                    .push(notice(&winner, stage, "SUCCEEDED", "succeeded"));
                race.notices
                    .push(notice(&loser, stage, "BLOCKED", "blocked"));
                race.records.push((stage.clone(), winner));
                race.records.push((stage.clone(), loser));
                let key = format!("{GAME}/{stage}");
                race.counters["deploymentsStarted"][&key] = json!({"DEPLOY": 1});
                race.counters["conflicts"][&key] = json!(1);
                race.monitor_max.insert(stage.clone(), 1);
                race.monitor_reads.insert(stage.clone(), (40, Vec::new()));
                race.started.insert(
                    stage.clone(),
                    vec![Deployment {
                        id: format!("dep-{i}"),
                        action: "DEPLOY".into(),
                        state: "COMPLETED".into(),
                        created: 100.0,
                        last_updated: 1305.0,
                    }],
                );
            }
            race
        }

        fn violations(&self) -> Vec<String> {
            check_race(&RaceRun {
                stages: &self.stages,
                records: &self.records,
                notices: &self.notices,
                counters: &self.counters,
                monitor_max: &self.monitor_max,
                monitor_reads: &self.monitor_reads,
                started: &self.started,
                wall: Duration::from_secs(30),
            })
            .violations
        }
    }

    fn race_rejects(what: &str, wrong: impl FnOnce(&mut Race), says: &str) {
        rejects(what, Race::good(), wrong, Race::violations, says);
    }

    #[test]
    fn the_race_verdict_passes_a_good_run() {
        assert_eq!(Race::good().violations(), Vec::<String>::new());
    }

    #[test]
    fn the_race_verdict_fails_wrong_outcomes() {
        race_rejects(
            "two winners on a stage",
            |r| {
                r.records[1].1.status = "SUCCEEDED".into();
                r.records[1].1.error = None;
            },
            "race-0: 2 executions succeeded, expected exactly 1",
        );
        race_rejects(
            "a loser that failed otherwise",
            |r| r.records[1].1.error = Some("StageGate.ERROR".into()),
            "race-01 on race-0: a loser must end StageGate.BLOCKED",
        );
        race_rejects(
            "a loser blocked for another reason",
            |r| r.records[3].1.cause = Some("frozen".into()),
            "race-03 on race-1: cause",
        );
        race_rejects(
            "a loser's notification missing",
            |r| {
                r.notices.remove(1);
            },
            "race-01 on race-0: expected one BLOCKED notification",
        );
        race_rejects(
            "a second deployment started",
            |r| r.counters["deploymentsStarted"]["soak/race-1"]["DEPLOY"] = json!(2),
            "race-1: 2 deployments started, expected 1",
        );
        race_rejects(
            "fewer conflicts than losers",
            |r| r.counters["conflicts"]["soak/race-0"] = json!(0),
            "race-0: 0 conflicts for 1 losers",
        );
        race_rejects(
            "two deployments in progress at once",
            |r| {
                r.monitor_max.insert("race-0".into(), 2);
            },
            "race-0: the listing showed 2 deployments in progress at once",
        );
        race_rejects(
            "a monitor that hardly read",
            |r| {
                r.monitor_reads.insert("race-1".into(), (2, Vec::new()));
            },
            "race-1: the listing monitor read it 2 time(s)",
        );
        race_rejects(
            "overlapping deployments",
            |r| {
                let second = Deployment {
                    id: "dep-x".into(),
                    action: "DEPLOY".into(),
                    state: "IN_PROGRESS".into(),
                    created: 500.0,
                    last_updated: 500.0,
                };
                r.started.entry("race-0".into()).or_default().push(second);
            },
            "race-0: deployments dep-0 and dep-x overlap",
        );
    }

    /// A listing that failed is a gap in the monitor's watch, however many others it read: a
    /// second deployment could have started and ended inside it unseen.
    #[test]
    fn the_race_verdict_fails_a_listing_error() {
        race_rejects(
            "a listing that failed",
            |r| {
                r.monitor_reads.insert(
                    "race-0".into(),
                    (40, vec!["ListStageDeployments soak/race-0: ThrottlingException".into()]),
                );
            },
            "race-0: 1 of the listing monitor's 41 listings failed (ListStageDeployments soak/race-0: ThrottlingException)",
        );
    }

    #[test]
    fn options_parse() {
        let args = [
            "soak",
            "--executions",
            "200",
            "--concurrency=8",
            "--nocapture",
        ];
        let (config, filters) = Config::parse(args.iter().map(|s| s.to_string())).expect("parses");
        assert_eq!((config.executions, config.concurrency), (200, 8));
        assert_eq!(filters, ["soak"]);
        assert!(Config::parse(["--executions".to_string()]).is_err());
        assert!(Config::parse(["--timeout-seconds=60".to_string()]).is_err());
    }
}

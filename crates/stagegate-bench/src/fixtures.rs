//! What the functions are benchmarked against: the emulator's scenario and each function's first
//! event, built from the repository's sample events (`events/*.json`).

use gamesparks_local::scenario::demo_snapshots;
use std::path::Path;

use gamesparks_local::Scenario;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::error::{Context, Result};

/// The four Lambda functions, by binary name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Start,
    Poll,
    Rollback,
    Notify,
}

impl Function {
    pub const ALL: [Function; 4] = [Self::Start, Self::Poll, Self::Rollback, Self::Notify];

    pub fn binary(self) -> &'static str {
        match self {
            Self::Start => "start-deployment",
            Self::Poll => "poll-deployment",
            Self::Rollback => "rollback-deployment",
            Self::Notify => "notify-result",
        }
    }

    /// Functions whose first invocation starts a deployment: the emulator is reset before each
    /// of their runs so every run takes the same path (a fresh StartStageDeployment, no 409).
    pub fn needs_reset(self) -> bool {
        matches!(self, Self::Start | Self::Rollback)
    }
}

pub const GAME: &str = "space-raiders";
/// A stage added to the demo scenario whose latest deployment is frozen IN_PROGRESS: every poll
/// reads it, classifies it IN_PROGRESS and computes a backoff wait (the common path).
pub const POLL_STAGE: &str = "bench";
pub const POLL_DEPLOYMENT_ID: &str = "dep-00000000000b0001";
/// A failed deployment added to prod's history: the rollback's `rollbackOf`.
pub const FAILED_DEPLOYMENT_ID: &str = "dep-00000000000e0002";
pub const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:stagegate-bench";

/// The demo scenario plus the benchmark's stage and a failed prod deployment.
pub fn scenario() -> Result<Scenario> {
    let mut s: Value =
        serde_json::from_str(Scenario::demo_json()).context("parsing the demo scenario")?;
    let stages = s
        .pointer_mut("/games/0/stages")
        .and_then(Value::as_array_mut)
        .ok_or("the demo scenario has no games[0].stages")?;
    for stage in stages.iter_mut() {
        if stage.get("name").and_then(Value::as_str) == Some("prod") {
            if let Some(deps) = stage.get_mut("deployments").and_then(Value::as_array_mut) {
                deps.push(json!({
                    "id": FAILED_DEPLOYMENT_ID,
                    "snapshotId": "Snapshot_2026-11-18T11:15:00.000Z",
                    "action": "DEPLOY",
                    "state": "FAILED",
                    "result": "UNSPECIFIED_FAILURE",
                    "created": "-10m",
                    "durationSeconds": 95
                }));
            }
        }
    }
    stages.push(json!({
        "name": POLL_STAGE,
        "description": "stagegate-bench: a deployment that stays IN_PROGRESS",
        "role": "arn:aws:iam::123456789012:role/GameSparksSpaceRaidersBench",
        "created": "2026-09-01T09:15:00Z",
        "deployments": [
            {
                "id": "dep-00000000000b0000",
                "snapshotId": demo_snapshots::KNOWN_GOOD,
                "action": "DEPLOY", "state": "COMPLETED", "result": "SUCCESS",
                "created": "-2d", "durationSeconds": 300
            },
            {
                "id": POLL_DEPLOYMENT_ID,
                "snapshotId": demo_snapshots::DEPLOYS,
                "action": "DEPLOY", "state": "IN_PROGRESS",
                "created": "-1m"
            }
        ]
    }));
    if let Some(name) = s.get_mut("name") {
        *name = json!("stagegate-bench");
    }
    Scenario::from_json_value(s).context("building the benchmark scenario")
}

/// The first event of each function.
#[derive(Debug, Clone)]
pub struct Events {
    pub start: Value,
    pub poll: Value,
    pub rollback: Value,
    pub notify: Value,
}

impl Events {
    pub fn get(&self, f: Function) -> &Value {
        match f {
            Function::Start => &self.start,
            Function::Poll => &self.poll,
            Function::Rollback => &self.rollback,
            Function::Notify => &self.notify,
        }
    }
}

fn read_event(dir: &Path, name: &str) -> Result<Value> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).context(format!("reading {}", path.display()))?;
    serde_json::from_str(&text).context(format!("parsing {}", path.display()))
}

fn set(v: &mut Value, key: &str, value: Value) -> Result<()> {
    match v.as_object_mut() {
        Some(map) => {
            map.insert(key.to_owned(), value);
            Ok(())
        }
        None => Err(format!("sample event is not an object (setting {key})").into()),
    }
}

/// Reads `events/*.json` under `workspace` and points them at the benchmark scenario, with a
/// deadline 30 minutes after `now` so a poll sees the deployment as running, not timed out.
pub fn events(workspace: &Path, now: OffsetDateTime) -> Result<Events> {
    let dir = workspace.join("events");
    let deadline = (now + Duration::minutes(30))
        .format(&Rfc3339)
        .context("formatting the deadline")?;

    let start = read_event(&dir, "start-deployment.json")?;

    let mut poll = read_event(&dir, "poll-deployment.json")?;
    set(&mut poll, "stageName", json!(POLL_STAGE))?;
    set(&mut poll, "deploymentId", json!(POLL_DEPLOYMENT_ID))?;
    set(&mut poll, "deadline", json!(deadline))?;

    let mut rollback = read_event(&dir, "rollback-deployment.json")?;
    set(&mut rollback, "deploymentId", json!(FAILED_DEPLOYMENT_ID))?;
    set(&mut rollback, "deadline", json!(deadline))?;

    let notify = read_event(&dir, "notify-result.succeeded.json")?;
    Ok(Events {
        start,
        poll,
        rollback,
        notify,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_loads_with_the_bench_stage() {
        let s = scenario().unwrap();
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains(POLL_DEPLOYMENT_ID));
        assert!(text.contains(FAILED_DEPLOYMENT_ID));
    }

    #[test]
    fn events_point_at_the_scenario() {
        let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let e = events(&ws, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(e.poll["deploymentId"], POLL_DEPLOYMENT_ID);
        assert_eq!(e.poll["stageName"], POLL_STAGE);
        assert_eq!(e.rollback["action"], "rollback");
        assert!(e.start["input"]["snapshotId"].is_string());
        assert!(e.notify["state"].is_object());
    }
}

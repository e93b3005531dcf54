//! What the functions are benchmarked against: the emulator's scenario and each function's first
//! event, built from the repository's sample events (`events/*.json`). The scenario and the gate
//! states are edited as their types (`gamesparks_local::Scenario`, `stagegate::state::GateState`),
//! so a renamed field fails to compile here instead of leaving a sample value in place.
//!
//! fleet-step (issue 28) has no sample event that needs no AWS call: its plan lists games and
//! writes batch objects, its tally and summary write to the fleet bucket. Its `ending` step only
//! reads one game's result, so its bench event is an ending written here, and
//! [`check_fleet_answer`] makes sure the run took that path to a real verdict, not the ERROR
//! fleet-step gives a result it cannot read.

use std::path::Path;

use bytes::Bytes;
use gamesparks_local::scenario::{
    demo_snapshots, DeploymentAction, DeploymentSpec, DeploymentState, EntityState, ResultCode,
    StageSpec,
};
use gamesparks_local::Scenario;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use stagegate::fleet_run::ItemEnding;
use stagegate::state::GateState;
use stagegate::verdict::Verdict;
use time::{Duration, OffsetDateTime};

use crate::error::{Context, Result};

/// The Lambda functions the bench measures, by binary name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Start,
    Poll,
    Rollback,
    Notify,
    Fleet,
}

impl Function {
    pub const ALL: [Function; 5] = [
        Self::Start,
        Self::Poll,
        Self::Rollback,
        Self::Notify,
        Self::Fleet,
    ];

    pub fn binary(self) -> &'static str {
        match self {
            Self::Start => "start-deployment",
            Self::Poll => "poll-deployment",
            Self::Rollback => "rollback-deployment",
            Self::Notify => "notify-result",
            Self::Fleet => "fleet-step",
        }
    }

    /// What this function's environment holds on top of the Lambda one (`measure::lambda_env`):
    /// fleet-step refuses to start without its bucket, though the ending it answers never
    /// reaches it.
    pub fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Fleet => &[("FLEET_BUCKET", FLEET_BUCKET)],
            _ => &[],
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
/// fleet-step's bucket: a name only, nothing is read from or written to it.
pub const FLEET_BUCKET: &str = "stagegate-bench-fleet";
/// The fleet item whose ending fleet-step reads, and its game.
pub const FLEET_ITEM: u64 = 3;
pub const FLEET_GAME: &str = "g";

/// The demo scenario plus the benchmark's stage and a failed prod deployment.
pub fn scenario() -> Result<Scenario> {
    let mut s =
        Scenario::from_json_str(Scenario::demo_json()).context("parsing the demo scenario")?;
    s.name = Some("stagegate-bench".into());
    let game = s
        .games
        .first_mut()
        .ok_or("the demo scenario has no games[0]")?;
    for stage in game.stages.iter_mut().filter(|st| st.name == "prod") {
        stage.deployments.push(DeploymentSpec {
            result: Some(ResultCode::UnspecifiedFailure),
            duration_seconds: Some(95.0),
            ..deployment(
                FAILED_DEPLOYMENT_ID,
                demo_snapshots::UNSPECIFIED_FAILURE,
                DeploymentState::Failed,
                "-10m",
            )
        });
    }
    game.stages.push(StageSpec {
        name: POLL_STAGE.into(),
        role: "arn:aws:iam::123456789012:role/GameSparksSpaceRaidersBench".into(),
        description: Some("stagegate-bench: a deployment that stays IN_PROGRESS".into()),
        game_key: None,
        log_group: None,
        created: Some("2026-09-01T09:15:00Z".into()),
        last_updated: None,
        tags: Default::default(),
        state: EntityState::Active,
        deployments: vec![
            DeploymentSpec {
                result: Some(ResultCode::Success),
                duration_seconds: Some(300.0),
                ..deployment(
                    "dep-00000000000b0000",
                    demo_snapshots::KNOWN_GOOD,
                    DeploymentState::Completed,
                    "-2d",
                )
            },
            deployment(
                POLL_DEPLOYMENT_ID,
                demo_snapshots::DEPLOYS,
                DeploymentState::InProgress,
                "-1m",
            ),
        ],
    });
    s.check()
        .map_err(|e| format!("building the benchmark scenario: {e}"))?;
    Ok(s)
}

/// A seeded DEPLOY with no result, message or duration.
fn deployment(id: &str, snapshot: &str, state: DeploymentState, created: &str) -> DeploymentSpec {
    DeploymentSpec {
        id: Some(id.into()),
        snapshot_id: snapshot.into(),
        action: Some(DeploymentAction::Deploy),
        state: Some(state),
        result: None,
        message: None,
        created: created.into(),
        last_updated: None,
        duration_seconds: None,
    }
}

/// The first event of each function: poll-deployment and rollback-deployment take the gate state;
/// start-deployment and notify-result get their sample events as they are; fleet-step gets
/// [`fleet_ending`].
#[derive(Debug, Clone)]
pub struct Events {
    pub start: Value,
    pub poll: GateState,
    pub rollback: GateState,
    pub notify: Value,
    pub fleet: Value,
}

impl Events {
    /// `f`'s event, as the Runtime API serves it.
    pub fn bytes(&self, f: Function) -> Result<Bytes> {
        match f {
            Function::Start => serde_json::to_vec(&self.start),
            Function::Poll => serde_json::to_vec(&self.poll),
            Function::Rollback => serde_json::to_vec(&self.rollback),
            Function::Notify => serde_json::to_vec(&self.notify),
            Function::Fleet => serde_json::to_vec(&self.fleet),
        }
        .map(Bytes::from)
        .context(format!("serialising the {} event", f.binary()))
    }
}

fn read_event<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).context(format!("reading {}", path.display()))?;
    serde_json::from_str(&text).context(format!("parsing {}", path.display()))
}

/// Reads `events/*.json` under `workspace` and points them at the benchmark scenario, with a
/// deadline 30 minutes after `now` so a poll sees the deployment as running, not timed out.
pub fn events(workspace: &Path, now: OffsetDateTime) -> Result<Events> {
    let dir = workspace.join("events");
    let deadline = now + Duration::minutes(30);

    let start = read_event(&dir, "start-deployment.json")?;

    let mut poll: GateState = read_event(&dir, "poll-deployment.json")?;
    poll.stage_name = POLL_STAGE.into();
    poll.deployment.deployment_id = POLL_DEPLOYMENT_ID.into();
    poll.deployment.deadline = deadline;

    let mut rollback: GateState = read_event(&dir, "rollback-deployment.json")?;
    rollback.deployment.deployment_id = FAILED_DEPLOYMENT_ID.into();
    rollback.deployment.deadline = deadline;

    let notify = read_event(&dir, "notify-result.succeeded.json")?;
    Ok(Events {
        start,
        poll,
        rollback,
        notify,
        fleet: fleet_ending(),
    })
}

/// fleet-step's `ending` step for a game whose gate succeeded, as the fleet Map's iteration hands
/// it over: no AWS call, the cheapest answer the function gives.
pub fn fleet_ending() -> Value {
    json!({
        "action": "ending",
        "result": {
            "item": FLEET_ITEM,
            "gameName": FLEET_GAME,
            "output": {"notification": {"outcome": "SUCCEEDED"}},
        },
    })
}

/// fleet-step's answer to [`fleet_ending`] must be that item's SUCCEEDED ending; anything else
/// (an ERROR for a result it could not read, another item) means the figures are of another path.
pub fn check_fleet_answer(answer: &[u8]) -> Result<()> {
    let ending: ItemEnding = serde_json::from_slice(answer).context(format!(
        "fleet-step's answer to its ending event is no ending: {}",
        String::from_utf8_lossy(answer)
    ))?;
    let item = usize::try_from(FLEET_ITEM).ok();
    if ending.verdict != Verdict::Succeeded
        || Some(ending.item) != item
        || ending.game_name != FLEET_GAME
    {
        crate::bail!(
            "fleet-step answered its ending event with {ending:?}, not item {FLEET_ITEM} ({FLEET_GAME}) SUCCEEDED: the bench event no longer takes the path it measures"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_loads_with_the_bench_stage() {
        let s = scenario().unwrap();
        let stages = &s.games[0].stages;
        let bench = stages.iter().find(|st| st.name == POLL_STAGE).unwrap();
        let polled = bench.deployments.last().unwrap();
        assert_eq!(polled.id.as_deref(), Some(POLL_DEPLOYMENT_ID));
        assert_eq!(polled.state, Some(DeploymentState::InProgress));
        let prod = stages.iter().find(|st| st.name == "prod").unwrap();
        assert!(prod
            .deployments
            .iter()
            .any(|d| d.id.as_deref() == Some(FAILED_DEPLOYMENT_ID)));
    }

    #[test]
    fn events_point_at_the_scenario() {
        let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let now = OffsetDateTime::now_utc();
        let e = events(&ws, now).unwrap();
        assert_eq!(e.poll.deployment.deployment_id, POLL_DEPLOYMENT_ID);
        assert_eq!(e.poll.stage_name, POLL_STAGE);
        assert_eq!(e.poll.deployment.deadline, now + Duration::minutes(30));
        assert_eq!(e.rollback.action, stagegate::policy::Action::Rollback);
        assert_eq!(e.rollback.deployment.deployment_id, FAILED_DEPLOYMENT_ID);
        assert!(e.start["input"]["snapshotId"].is_string());
        let notified: GateState = serde_json::from_value(e.notify["state"].clone()).unwrap();
        assert_eq!(notified.game_name, GAME);
        // What the functions get is the state as its type writes it.
        let served: GateState = serde_json::from_slice(&e.bytes(Function::Poll).unwrap()).unwrap();
        assert_eq!(served, e.poll);
        let fleet: Value = serde_json::from_slice(&e.bytes(Function::Fleet).unwrap()).unwrap();
        assert_eq!(fleet, fleet_ending());
    }

    #[test]
    fn the_fleet_event_is_an_ending_the_core_reads_as_succeeded() {
        let event = fleet_ending();
        assert_eq!(event["action"], "ending");
        // The core's reading of a child's result, the one fleet-step's ending step makes: a
        // readable SUCCEEDED, not the ERROR an unreadable result gets.
        let child = stagegate::tally::child_ending(&event["result"]);
        assert_eq!(child.verdict, Verdict::Succeeded, "{child:?}");
        assert_eq!(child.why, None);
    }

    #[test]
    fn only_the_events_own_succeeded_ending_passes_the_fleet_check() {
        let ending = |item: usize, game: &str, verdict: Verdict| {
            serde_json::to_vec(&ItemEnding {
                item,
                game_name: game.into(),
                verdict,
                why: None,
                rollback_to: None,
            })
            .unwrap()
        };
        let item = FLEET_ITEM as usize;
        assert!(check_fleet_answer(&ending(item, FLEET_GAME, Verdict::Succeeded)).is_ok());
        for wrong in [
            ending(item, FLEET_GAME, Verdict::Error),
            ending(item + 1, FLEET_GAME, Verdict::Succeeded),
            ending(item, "other", Verdict::Succeeded),
            br#"{"errorType":"StageGate.InvalidInput"}"#.to_vec(),
        ] {
            let text = String::from_utf8_lossy(&wrong).into_owned();
            assert!(check_fleet_answer(&wrong).is_err(), "passed: {text}");
        }
    }

    #[test]
    fn only_fleet_step_gets_a_fleet_bucket() {
        assert_eq!(Function::Fleet.binary(), "fleet-step");
        assert_eq!(Function::Fleet.env(), [("FLEET_BUCKET", FLEET_BUCKET)]);
        for f in Function::ALL.into_iter().filter(|f| *f != Function::Fleet) {
            assert!(f.env().is_empty(), "{}", f.binary());
        }
        assert!(!Function::Fleet.needs_reset());
    }
}

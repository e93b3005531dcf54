//! One simulated run's setting, drawn from its seed: the game and its stages as they stand, the
//! execution input, and what the other actors will do and when.
//!
//! Every choice comes from the seed through the workspace's one `Rng`, so a seed names a run
//! exactly. The mix favours the moments where interleavings matter: freeze windows that begin
//! within a minute or two of the start, deployments short enough to end between a task and its
//! retry, answers that race the approval's timeout.

use std::collections::BTreeMap;

use gamesparks_local::rng::Rng;
use serde_json::{json, Value};
use stagegate::deployment::{DeploymentAction, ResultCode};
use stagegate::fakes::{FakeGameSparks, GAME};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::world::{Event, FateMix};

/// Where the current run starts.
pub const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);
/// A run with the same name this long before (execution names are reusable after 90 days).
pub const EARLIER_DAYS: i64 = 100;

pub const S_PREV: &str = "Snapshot_2026-01-01T00:00:00.000Z";
pub const S_NEW: &str = "Snapshot_2026-02-28T00:00:00.000Z";
pub const S_OTHER: &str = "Snapshot_2026-02-27T00:00:00.000Z";
pub const S_FUTURE: &str = "Snapshot_2026-03-01T12:30:00.000Z";

#[derive(Debug, Clone)]
pub struct StagePlan {
    pub name: String,
    pub approval_seconds: Option<u64>,
    pub alarm: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Approve,
    Reject,
    Abort,
    /// Nobody answers.
    Silence,
}

#[derive(Debug, Clone, Copy)]
pub struct AnswerPlan {
    pub answer: Answer,
    pub after_seconds: i64,
}

/// The input's failure policy, as the scenario chose it (true: rollback).
#[derive(Debug, Clone, Copy)]
pub struct PolicyPlan {
    pub on_invalid_role: bool,
    pub on_unspecified_failure: bool,
    pub on_timeout: bool,
    pub on_bake_failure: bool,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    pub execution_arn: String,
    pub execution_name: String,
    pub start: OffsetDateTime,
    pub stages: Vec<StagePlan>,
    pub wave: bool,
    pub latest: bool,
    /// The snapshot the run is asked to deploy, "latest" resolved as of the start.
    pub resolved: String,
    pub policy: PolicyPlan,
    /// Absolute freeze windows `[start, end)` of the input.
    pub freezes: Vec<(OffsetDateTime, OffsetDateTime)>,
    /// One per approval the run may ask for, in order.
    pub answers: Vec<AnswerPlan>,
    /// `stagegate abort` of this run at this time.
    pub abort_at: Option<OffsetDateTime>,
    /// An abort request of another execution, at this time.
    pub other_abort_at: Option<OffsetDateTime>,
    /// A run with the same name months earlier, aborted while it deployed or not.
    pub earlier: Option<bool>,
    pub sns_outage: Option<(OffsetDateTime, OffsetDateTime)>,
    pub events: Vec<(OffsetDateTime, Event)>,
    /// The stage histories before anything runs: stage -> serving snapshot.
    pub seeded: BTreeMap<String, Option<String>>,
    pub fate_mix: FateMix,
    /// Per invocation, per mille: stopped after some calls; refused before running.
    pub stop_per_mille: u64,
    pub refuse_per_mille: u64,
    /// Per service call, per mille: a throttle or 5xx; a deployment ending just before it.
    pub throttle_per_mille: u64,
    pub finish_early_per_mille: u64,
}

fn pick(rng: &mut Rng, per_mille: u64) -> bool {
    rng.range(0, 999) < per_mille
}

fn secs(rng: &mut Rng, lo: i64, hi: i64) -> Duration {
    let lo_u = u64::try_from(lo.max(0)).unwrap_or(0);
    let hi_u = u64::try_from(hi.max(0)).unwrap_or(0);
    let v = i64::try_from(rng.range(lo_u, hi_u)).unwrap_or(0);
    Duration::seconds(v + lo.min(0))
}

impl Scenario {
    pub fn draw(seed: u64) -> Self {
        let mut rng = Rng::new(seed, 0x5c3e);
        let start = T0;
        let name = format!("release-{}", seed % 1000);
        let wave = pick(&mut rng, 400);
        let names: Vec<&str> = if wave {
            vec!["dev", "prod"]
        } else {
            vec!["prod"]
        };
        let stages: Vec<StagePlan> = names
            .iter()
            .map(|n| StagePlan {
                name: (*n).to_owned(),
                approval_seconds: pick(&mut rng, 250).then(|| rng.range(60, 3600)),
                alarm: pick(&mut rng, 400).then(|| format!("{n}-errors")),
            })
            .collect();
        let latest = pick(&mut rng, 500);
        let resolved = if !latest && pick(&mut rng, 60) {
            S_PREV
        } else {
            S_NEW
        };
        let policy = PolicyPlan {
            on_invalid_role: pick(&mut rng, 500),
            on_unspecified_failure: pick(&mut rng, 750),
            on_timeout: pick(&mut rng, 750),
            on_bake_failure: pick(&mut rng, 750),
            timeout_seconds: rng.range(60, 600),
        };
        let mut freezes = vec![];
        if pick(&mut rng, 350) {
            // Half of them begin within a minute and a half of the start: a task and its retry
            // straddle the boundary.
            let begin = if pick(&mut rng, 500) {
                start + secs(&mut rng, 0, 90)
            } else {
                start + secs(&mut rng, -600, 1200)
            };
            freezes.push((begin, begin + secs(&mut rng, 60, 7200)));
        }
        let answers = stages
            .iter()
            .filter_map(|s| s.approval_seconds)
            .map(|timeout| {
                let answer = match rng.range(0, 99) {
                    0..=59 => Answer::Approve,
                    60..=74 => Answer::Reject,
                    75..=89 => Answer::Silence,
                    _ => Answer::Abort,
                };
                let t = i64::try_from(timeout).unwrap_or(60);
                AnswerPlan {
                    answer,
                    // Now and then just after the timeout: the answer races it.
                    after_seconds: if pick(&mut rng, 150) {
                        t + i64::try_from(rng.range(0, 5)).unwrap_or(0)
                    } else {
                        i64::try_from(rng.range(5, u64::try_from(t).unwrap_or(60))).unwrap_or(5)
                    },
                }
            })
            .collect();
        let abort_at = pick(&mut rng, 150).then(|| start + secs(&mut rng, 1, 2400));
        let other_abort_at = pick(&mut rng, 80).then(|| start + secs(&mut rng, 0, 1200));
        let earlier = pick(&mut rng, 100).then(|| pick(&mut rng, 600));
        let sns_outage = pick(&mut rng, 100).then(|| {
            let from = start + secs(&mut rng, 0, 2400);
            (from, from + secs(&mut rng, 10, 400))
        });
        let mut events = vec![];
        if pick(&mut rng, 120) {
            let i = usize::try_from(rng.range(0, u64::try_from(names.len() - 1).unwrap_or(0)))
                .unwrap_or(0);
            events.push((
                start + secs(&mut rng, -120, 1500),
                Event::OtherDeploys {
                    stage: names.get(i).copied().unwrap_or("prod").to_owned(),
                    snapshot: S_OTHER.to_owned(),
                },
            ));
        }
        if pick(&mut rng, 150) {
            events.push((
                start + secs(&mut rng, 1, 1500),
                Event::Snapshot {
                    id: S_FUTURE.to_owned(),
                },
            ));
        }
        for s in &stages {
            if let Some(alarm) = &s.alarm {
                if pick(&mut rng, 300) {
                    let on = start + secs(&mut rng, -30, 2000);
                    events.push((
                        on,
                        Event::Alarm {
                            name: alarm.clone(),
                            state: "ALARM",
                        },
                    ));
                    events.push((
                        on + secs(&mut rng, 30, 900),
                        Event::Alarm {
                            name: alarm.clone(),
                            state: "OK",
                        },
                    ));
                }
            }
        }
        // Now and then a stage already serves the snapshot asked for (the nightly "latest" with
        // nothing new: UNCHANGED). Drawn from a stream of its own, so the other draws of a seed
        // stay what they were when the simulator's first findings were recorded.
        let mut serving = Rng::new(seed, 0x5e7e);
        let seeded = names
            .iter()
            .map(|n| {
                let served = pick(&mut rng, 850).then(|| {
                    if pick(&mut serving, 80) {
                        S_NEW.to_owned()
                    } else {
                        S_PREV.to_owned()
                    }
                });
                ((*n).to_owned(), served)
            })
            .collect();
        Self {
            seed,
            execution_arn: format!(
                "arn:aws:states:us-east-1:123456789012:execution:sim-gate:{name}"
            ),
            execution_name: name,
            start,
            stages,
            wave,
            latest,
            resolved: resolved.to_owned(),
            policy,
            freezes,
            answers,
            abort_at,
            other_abort_at,
            earlier,
            sns_outage,
            events,
            seeded,
            fate_mix: FateMix {
                invalid_role: 80,
                unspecified: 120,
                stuck: 40,
                min_seconds: 5,
                max_seconds: 400,
            },
            stop_per_mille: 60,
            refuse_per_mille: 20,
            throttle_per_mille: 25,
            finish_early_per_mille: 30,
        }
    }

    /// GameSparks as it stands before anything runs.
    pub fn game(&self) -> FakeGameSparks {
        let day = |d: i64| self.start - Duration::days(d);
        let mut gs = FakeGameSparks::new()
            .with_snapshot(S_PREV, day(60))
            .with_snapshot(S_OTHER, day(2))
            .with_snapshot(S_NEW, day(1));
        for (stage, serving) in &self.seeded {
            if let Some(snapshot) = serving {
                gs = gs.with_history(
                    stage,
                    &format!("seed-{stage}"),
                    snapshot,
                    DeploymentAction::Deploy,
                    ResultCode::Success,
                    day(EARLIER_DAYS + 20),
                );
            }
        }
        gs
    }

    pub fn approval_stages(&self) -> Vec<String> {
        self.stages
            .iter()
            .filter(|s| s.approval_seconds.is_some())
            .map(|s| s.name.clone())
            .collect()
    }

    /// The execution input, as a person or schedule would write it.
    pub fn input(&self) -> Value {
        let rule = |rollback: bool| if rollback { "rollback" } else { "alert" };
        let bake = |alarm: &str| json!({"seconds": 120, "alarmNames": [alarm], "checkIntervalSeconds": 30});
        let mut input = json!({
            "gameName": GAME,
            "snapshotId": if self.latest { "latest" } else { self.resolved.as_str() },
            "policy": {
                "onInvalidRole": rule(self.policy.on_invalid_role),
                "onUnspecifiedFailure": rule(self.policy.on_unspecified_failure),
                "onTimeout": rule(self.policy.on_timeout),
                "onBakeFailure": rule(self.policy.on_bake_failure),
                "timeoutSeconds": self.policy.timeout_seconds,
            },
        });
        let Some(obj) = input.as_object_mut() else {
            return input;
        };
        if self.wave {
            let stages: Vec<Value> = self
                .stages
                .iter()
                .map(|s| {
                    let mut v = json!({"stageName": s.name});
                    if let Some(alarm) = &s.alarm {
                        v["bake"] = bake(alarm);
                    }
                    if let Some(t) = s.approval_seconds {
                        v["approval"] = json!({"timeoutSeconds": t});
                    }
                    v
                })
                .collect();
            obj.insert("stages".into(), Value::Array(stages));
        } else if let Some(s) = self.stages.first() {
            obj.insert("stageName".into(), json!(s.name));
            if let Some(alarm) = &s.alarm {
                obj.insert("bake".into(), bake(alarm));
            }
            if let Some(t) = s.approval_seconds {
                obj.insert("approval".into(), json!({"timeoutSeconds": t}));
            }
        }
        if !self.freezes.is_empty() {
            let windows: Vec<Value> = self
                .freezes
                .iter()
                .map(|(from, to)| {
                    json!({"name": "sim freeze", "start": stagegate::timefmt::rfc3339(*from), "end": stagegate::timefmt::rfc3339(*to)})
                })
                .collect();
            obj.insert("freezeWindows".into(), Value::Array(windows));
        }
        input
    }
}

//! The entities of the emulated account (games, stages, snapshots, deployments) and the rules
//! that keep them consistent: how a deployment's state follows virtual time, and `settle`,
//! which applies finished deployments to their stage.
//!
//! Seeding and the operations both create and read these entities; the invariants live here
//! once so that neither can bypass them. Nothing here knows about HTTP, JSON or the `World`
//! that holds the entities.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::rng::Rng;
use crate::scenario::{DeploymentAction, DeploymentState, EntityState, ResultCode};

/// Per-stage activity, reported by `GET /_emulator/counters`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StageStats {
    pub deploy: u64,
    pub undeploy: u64,
    pub idempotent_replays: u64,
    pub conflicts: u64,
}

pub(super) struct Game {
    pub(super) name: String,
    pub(super) arn: String,
    pub(super) description: Option<String>,
    pub(super) created: OffsetDateTime,
    pub(super) last_updated: OffsetDateTime,
    pub(super) tags: BTreeMap<String, String>,
    pub(super) termination_protection: bool,
    pub(super) state: EntityState,
    pub(super) stages: BTreeMap<String, Stage>,
    pub(super) snapshots: BTreeMap<String, Snapshot>,
}

pub(super) struct Stage {
    pub(super) name: String,
    pub(super) arn: String,
    pub(super) role: String,
    pub(super) description: Option<String>,
    pub(super) game_key: String,
    pub(super) log_group: String,
    pub(super) created: OffsetDateTime,
    pub(super) last_updated: OffsetDateTime,
    pub(super) tags: BTreeMap<String, String>,
    pub(super) state: EntityState,
    pub(super) deployments: Vec<Deployment>,
    /// The snapshot whose runtime currently serves the stage.
    pub(super) deployed_snapshot: Option<String>,
}

pub(super) struct Snapshot {
    pub(super) id: String,
    pub(super) description: Option<String>,
    pub(super) created: OffsetDateTime,
    pub(super) last_updated: OffsetDateTime,
    pub(super) sections: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
pub(super) enum Plan {
    /// Seeded history or emulator-recorded entries: the state never changes.
    Fixed {
        state: DeploymentState,
        result: Option<ResultCode>,
        message: Option<String>,
        last_updated: OffsetDateTime,
    },
    /// Started through the API: the state follows virtual time.
    Live {
        pending: Duration,
        duration: Duration,
        never_finish: bool,
        result: ResultCode,
        message: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Deployment {
    pub(super) id: String,
    pub(super) seq: u64,
    pub(super) action: DeploymentAction,
    pub(super) snapshot_id: String,
    pub(super) created: OffsetDateTime,
    pub(super) plan: Plan,
    /// Whether its completion has been applied to the stage (UNDEPLOY recording).
    pub(super) applied: bool,
}

/// A deployment as it stands at some instant.
pub(super) struct View<'a> {
    pub(super) state: DeploymentState,
    pub(super) last_updated: OffsetDateTime,
    pub(super) result: Option<(ResultCode, Option<&'a str>)>,
}

impl Deployment {
    fn finished_at(&self) -> Option<OffsetDateTime> {
        match &self.plan {
            Plan::Live {
                pending,
                duration,
                never_finish: false,
                ..
            } => Some(
                self.created
                    .saturating_add(*pending)
                    .saturating_add(*duration),
            ),
            _ => None,
        }
    }

    pub(super) fn view(&self, now: OffsetDateTime) -> View<'_> {
        match &self.plan {
            Plan::Fixed {
                state,
                result,
                message,
                last_updated,
            } => View {
                state: *state,
                last_updated: *last_updated,
                result: result.map(|r| (r, message.as_deref())),
            },
            Plan::Live {
                pending,
                duration,
                never_finish,
                result,
                message,
            } => {
                let started = self.created.saturating_add(*pending);
                let done = started.saturating_add(*duration);
                if now < started {
                    View {
                        state: DeploymentState::Pending,
                        last_updated: self.created,
                        result: None,
                    }
                } else if *never_finish || now < done {
                    View {
                        state: DeploymentState::InProgress,
                        last_updated: started,
                        result: None,
                    }
                } else {
                    let state = if *result == ResultCode::Success {
                        DeploymentState::Completed
                    } else {
                        DeploymentState::Failed
                    };
                    View {
                        state,
                        last_updated: done,
                        result: Some((*result, message.as_deref())),
                    }
                }
            }
        }
    }
}

/// Default DeploymentResult messages, worded like the service's.
fn default_message(result: ResultCode) -> Option<&'static str> {
    match result {
        ResultCode::Success => None,
        ResultCode::InvalidRoleFailure => Some(
            "The stage role {role} cannot be assumed by GameSparks. Check that the role exists and that its trust policy allows gamesparks.amazonaws.com to assume it.",
        ),
        ResultCode::UnspecifiedFailure => {
            Some("An unexpected error occurred while deploying the snapshot {snapshotId}.")
        }
    }
}

/// A DeploymentResult message: `template` (or the service's wording for `result`) with its
/// `{role}`, `{snapshotId}`, `{game}` and `{stage}` placeholders filled in.
pub(super) fn render_message(
    template: Option<&str>,
    result: ResultCode,
    game: &str,
    stage: &Stage,
    snapshot_id: &str,
) -> Option<String> {
    template.or_else(|| default_message(result)).map(|t| {
        t.replace("{role}", &stage.role)
            .replace("{snapshotId}", snapshot_id)
            .replace("{game}", game)
            .replace("{stage}", &stage.name)
    })
}

/// Deployment ids (unique, seeded) and the sequence numbers that order equal timestamps.
pub(super) struct IdGen {
    rng: Rng,
    used: HashSet<String>,
    next_seq: u64,
}

impl IdGen {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed, 2),
            used: HashSet::new(),
            next_seq: 0,
        }
    }

    /// Keeps a seeded id from being generated again.
    pub(super) fn reserve(&mut self, id: &str) {
        self.used.insert(id.to_string());
    }

    pub(super) fn deployment_id(&mut self) -> String {
        loop {
            let id = format!("dep-{:016x}", self.rng.next_u64());
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }

    pub(super) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

/// Applies completions that happened by `now`, in completion order: a successful DEPLOY
/// replaces the stage's runtime, so the previously deployed snapshot gets an UNDEPLOY entry
/// dated at the moment of replacement.
pub(super) fn settle(
    stage: &mut Stage,
    now: OffsetDateTime,
    ids: &mut IdGen,
    stats: &mut StageStats,
) {
    loop {
        let next = stage
            .deployments
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.applied)
            .filter_map(|(i, d)| d.finished_at().filter(|t| *t <= now).map(|t| (t, d.seq, i)))
            .min();
        let Some((done, _, idx)) = next else {
            return;
        };
        let (success, snapshot) = {
            let d = &mut stage.deployments[idx];
            d.applied = true;
            let success = matches!(
                d.plan,
                Plan::Live {
                    result: ResultCode::Success,
                    ..
                }
            );
            (success, d.snapshot_id.clone())
        };
        if !success {
            continue;
        }
        if let Some(previous) = stage.deployed_snapshot.take() {
            stage.deployments.push(Deployment {
                id: ids.deployment_id(),
                seq: ids.seq(),
                action: DeploymentAction::Undeploy,
                snapshot_id: previous,
                created: done,
                plan: Plan::Fixed {
                    state: DeploymentState::Completed,
                    result: Some(ResultCode::Success),
                    message: None,
                    last_updated: done,
                },
                applied: true,
            });
            stats.undeploy += 1;
        }
        stage.deployed_snapshot = Some(snapshot);
    }
}

/// Newest first; the sequence number breaks ties between equal timestamps.
pub(super) fn newest_first(deployments: &[Deployment]) -> Vec<&Deployment> {
    let mut v: Vec<&Deployment> = deployments.iter().collect();
    v.sort_by_key(|d| std::cmp::Reverse((d.created, d.seq)));
    v
}

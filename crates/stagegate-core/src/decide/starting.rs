//! Whether a stage starts: the checks every start of a stage makes (the first, after an approval,
//! and each later stage of a wave), as one decision over the facts the start read.
//!
//! The start reads lazily: the abort channel only when this run has no running deployment of its
//! own, the alarms only when a bake is asked for and the snapshot is not already deploying. So the
//! decision is a step function: given what is known so far it either decides or names the one fact
//! it still needs, and the handler reads that fact and asks again. The facts it decided on are the
//! decision's evidence (`state::evidence`), and replaying them through this same function is how
//! `stagegate replay` asks "would today's gate start this stage?".

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::deployment::DeploymentState;
use crate::freeze::{self, ActiveFreeze, FreezeWindow};

/// This run's own deployment of the snapshot on the stage, started by an earlier attempt of the
/// task (found by `own_earlier` in the start handler), as read.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnDeployment {
    pub deployment_id: String,
    pub state: DeploymentState,
}

/// The stage's bake alarms as read just before the start: the first failing one in full, the
/// others as a count per state (all-OK readings change nothing, so they are not kept one by one).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmsSeen {
    /// Alarms read, by state (`OK`: 98, `INSUFFICIENT_DATA`: 2).
    pub states: std::collections::BTreeMap<String, u32>,
    /// The first alarm (in `alarmNames` order) the bake would fail on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firing: Option<FiringAlarm>,
    /// Why they could not be read (then `states` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// The input's `ignoreAlarmReadErrors`: an unreadable read then does not stop the start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_read_errors: bool,
}

/// A failing alarm, by its position in the stage's `alarmNames` (the state stores each name once:
/// a hundred names of 255 four-byte characters cost a tenth of the payload limit per copy).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiringAlarm {
    pub alarm: usize,
    pub state: String,
    pub reason: Option<String>,
}

/// What a stage start knows. `None` in `aborted_by` or `alarms` means "not read".
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartFacts {
    pub snapshot_id: String,
    /// The input asked for "latest" (not a snapshot id).
    pub requested_latest: bool,
    /// A later stage of a promotion wave (never UNCHANGED; it was promoted on purpose).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub later_stage: bool,
    /// The stage asks for approval before it is deployed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approval: bool,
    /// A bake is asked for on this stage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bake: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own: Option<OwnDeployment>,
    /// The snapshot the stage served, from its deployment history.
    pub serving: Option<String>,
    /// A deployment of this snapshot is running on the stage (maybe this very task's first
    /// attempt): the start only re-attaches to it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub snapshot_deploying: bool,
    /// The abort channel was read (or the abort was known already).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abort_read: bool,
    /// Who aborted the run and why, when someone did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<AlarmsSeen>,
}

/// A fact the start must read before it can decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Abort,
    Alarms,
}

/// What the start does with the stage.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "decision"
)]
pub enum StartDecision {
    /// An earlier attempt's deployment ended already: watch it as it was.
    Reattach,
    /// Someone aborted the run before this stage started.
    Aborted { by: String },
    /// A freeze is on: the stage is not started.
    Frozen { freeze: ActiveFreeze },
    /// "latest" is what the stage already serves. A scheduled run asks for "latest" every night;
    /// on a night without a new snapshot, redeploying would put a healthy stage through a
    /// deployment for nothing, and a failure there could only alert. A snapshot asked for by id
    /// is redeployed: someone chose to.
    Unchanged,
    /// A bake alarm fires already: deploying would only fail the bake.
    AlarmFiring { alarm: FiringAlarm },
    /// The alarms could not be read (and the input does not say to ignore that): fail safe.
    AlarmsUnreadable { error: String },
    /// Ask a person first.
    AskApproval,
    /// Start (or re-attach through the ClientToken to) the deployment.
    Deploy,
}

impl StartDecision {
    /// The rule's name, as `stagegate explain` prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Reattach => "reattach",
            Self::Aborted { .. } => "aborted",
            Self::Frozen { .. } => "frozen",
            Self::Unchanged => "unchanged",
            Self::AlarmFiring { .. } => "alarmFiring",
            Self::AlarmsUnreadable { .. } => "alarmsUnreadable",
            Self::AskApproval => "askApproval",
            Self::Deploy => "deploy",
        }
    }
}

/// One step of the start's decision: the decision, or the fact it needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Decided(StartDecision),
    Needs(Need),
}

/// Decides the start of a stage from `facts`, the freeze `windows` (the template's and the run's)
/// and the time `now`; or names the fact still missing. The order is the rules' precedence:
///
/// 1. This run's own deployment that already ended is re-attached to, whatever a check would say
///    now (a freeze that began since, the snapshot now serving, an alarm): it is the run's, and
///    reporting "not started" would leave it unwatched (simulator seeds 102 and 1809). Not while
///    an approval is to be asked for.
/// 2. Unless this run's own deployment runs: an abort ends the run before the stage starts
///    (simulator seed 1245), and a freeze refuses the start. A running own deployment is only
///    re-attached to (its ClientToken replays it); the poll then reads the abort.
/// 3. Unless the snapshot is already deploying there (maybe this very task's first attempt):
///    "latest" already serving ends UNCHANGED; a firing bake alarm blocks (it would fail the bake
///    at its first check); an approval is asked for.
/// 4. Otherwise the deployment starts.
pub fn step(facts: &StartFacts, windows: &[FreezeWindow], now: OffsetDateTime) -> Step {
    let own_running = facts.own.as_ref().is_some_and(|o| o.state.is_active());
    if facts.own.is_some() && !own_running && !facts.approval {
        return Step::Decided(StartDecision::Reattach);
    }
    if !own_running {
        if !facts.abort_read {
            return Step::Needs(Need::Abort);
        }
        if let Some(by) = &facts.aborted_by {
            return Step::Decided(StartDecision::Aborted { by: by.clone() });
        }
        if let Some(freeze) = freeze::refuses_start(windows, now) {
            return Step::Decided(StartDecision::Frozen { freeze });
        }
    }
    if facts.snapshot_deploying {
        return Step::Decided(StartDecision::Deploy);
    }
    if facts.requested_latest
        && !facts.later_stage
        && facts.serving.as_deref() == Some(facts.snapshot_id.as_str())
    {
        return Step::Decided(StartDecision::Unchanged);
    }
    if facts.bake {
        let Some(alarms) = &facts.alarms else {
            return Step::Needs(Need::Alarms);
        };
        if let Some(alarm) = &alarms.firing {
            return Step::Decided(StartDecision::AlarmFiring {
                alarm: alarm.clone(),
            });
        }
        if let Some(error) = alarms
            .unreadable
            .as_ref()
            .filter(|_| !alarms.ignore_read_errors)
        {
            return Step::Decided(StartDecision::AlarmsUnreadable {
                error: error.clone(),
            });
        }
    }
    if facts.approval {
        return Step::Decided(StartDecision::AskApproval);
    }
    Step::Decided(StartDecision::Deploy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-07 03:00 UTC);

    fn facts() -> StartFacts {
        StartFacts {
            snapshot_id: "s-new".into(),
            requested_latest: true,
            later_stage: false,
            approval: false,
            bake: false,
            own: None,
            serving: Some("s-old".into()),
            snapshot_deploying: false,
            abort_read: true,
            aborted_by: None,
            alarms: None,
        }
    }

    fn decided(f: &StartFacts) -> StartDecision {
        match step(f, &[], NOW) {
            Step::Decided(d) => d,
            Step::Needs(n) => panic!("needs {n:?}"),
        }
    }

    fn freeze_now() -> Vec<FreezeWindow> {
        let value = serde_json::json!([{"name": "launch", "start": "2026-12-07T00:00:00Z", "end": "2026-12-08T00:00:00Z"}]);
        freeze::parse_windows(&value, "w").unwrap_or_default()
    }

    #[test]
    fn a_new_snapshot_deploys() {
        assert_eq!(decided(&facts()), StartDecision::Deploy);
    }

    #[test]
    fn the_facts_round_trip_as_recorded() {
        // Replay decides on the facts as read back: "read, nobody aborted" must not come back
        // as "not read" (an `Option<Option<_>>` would: both serialize to null).
        let f = facts();
        let back: Option<StartFacts> =
            serde_json::from_value(serde_json::to_value(&f).unwrap_or_default()).ok();
        assert_eq!(back, Some(f));
    }

    #[test]
    fn the_abort_is_read_first_unless_the_runs_own_deployment_runs() {
        let mut f = facts();
        f.abort_read = false;
        assert_eq!(step(&f, &[], NOW), Step::Needs(Need::Abort));
        f.own = Some(OwnDeployment {
            deployment_id: "d-1".into(),
            state: DeploymentState::InProgress,
        });
        f.snapshot_deploying = true;
        assert_eq!(step(&f, &[], NOW), Step::Decided(StartDecision::Deploy));
        f.abort_read = true;
        f.aborted_by = Some("ops".into());
        f.own = None;
        f.snapshot_deploying = false;
        assert_eq!(decided(&f), StartDecision::Aborted { by: "ops".into() });
    }

    #[test]
    fn an_ended_own_deployment_is_reattached_through_a_freeze() {
        let mut f = facts();
        f.abort_read = false;
        f.own = Some(OwnDeployment {
            deployment_id: "d-1".into(),
            state: DeploymentState::Completed,
        });
        assert_eq!(
            step(&f, &freeze_now(), NOW),
            Step::Decided(StartDecision::Reattach)
        );
        // Not while an approval is to be asked for: the person decides first.
        f.approval = true;
        assert_eq!(step(&f, &freeze_now(), NOW), Step::Needs(Need::Abort));
    }

    #[test]
    fn a_freeze_refuses_the_start_and_names_itself() {
        match step(&facts(), &freeze_now(), NOW) {
            Step::Decided(StartDecision::Frozen { freeze }) => {
                assert_eq!(freeze.name.as_deref(), Some("launch"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            step(&facts(), &freeze_now(), datetime!(2026-12-08 00:00 UTC)),
            Step::Decided(StartDecision::Deploy)
        );
    }

    #[test]
    fn latest_already_serving_is_unchanged_but_an_id_or_a_later_stage_deploys() {
        let mut f = facts();
        f.serving = Some("s-new".into());
        assert_eq!(decided(&f), StartDecision::Unchanged);
        f.requested_latest = false;
        assert_eq!(decided(&f), StartDecision::Deploy);
        f.requested_latest = true;
        f.later_stage = true;
        assert_eq!(decided(&f), StartDecision::Deploy);
        f.later_stage = false;
        f.snapshot_deploying = true;
        assert_eq!(decided(&f), StartDecision::Deploy);
    }

    #[test]
    fn a_bake_needs_the_alarms_and_a_firing_one_blocks() {
        let mut f = facts();
        f.bake = true;
        assert_eq!(step(&f, &[], NOW), Step::Needs(Need::Alarms));
        let firing = FiringAlarm {
            alarm: 0,
            state: "ALARM".into(),
            reason: None,
        };
        f.alarms = Some(AlarmsSeen {
            states: [("ALARM".to_owned(), 1)].into(),
            firing: Some(firing.clone()),
            unreadable: None,
            ignore_read_errors: false,
        });
        assert_eq!(decided(&f), StartDecision::AlarmFiring { alarm: firing });
        f.alarms = Some(AlarmsSeen {
            states: Default::default(),
            firing: None,
            unreadable: Some("throttled".into()),
            ignore_read_errors: false,
        });
        assert_eq!(
            decided(&f),
            StartDecision::AlarmsUnreadable {
                error: "throttled".into()
            }
        );
        if let Some(a) = f.alarms.as_mut() {
            a.ignore_read_errors = true;
        }
        assert_eq!(decided(&f), StartDecision::Deploy);
        // A snapshot already deploying is re-attached to, alarms or not.
        f.alarms = None;
        f.snapshot_deploying = true;
        assert_eq!(decided(&f), StartDecision::Deploy);
    }

    #[test]
    fn an_approval_is_asked_for_once_the_checks_pass() {
        let mut f = facts();
        f.approval = true;
        assert_eq!(decided(&f), StartDecision::AskApproval);
        f.serving = Some("s-new".into());
        assert_eq!(decided(&f), StartDecision::Unchanged);
    }
}

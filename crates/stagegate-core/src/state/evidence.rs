//! The run's decision record: every decision the gate took, with the facts it decided on, carried
//! in the gate state so that the run can be explained (`stagegate explain`) and re-decided by a
//! later version of the core (`stagegate replay`) from its own history, with no AWS call.
//!
//! Bounded, because the state travels as a Step Functions payload (256 KiB, counted in bytes):
//! decisions that changed what the run did are kept in full (a start, an answer, a poll that ended
//! a deployment, a bake's end, an abort); uneventful looks (a poll of a deployment still running,
//! a bake check with every alarm quiet) only add to a count and a digest; every kept text is cut
//! to a few hundred bytes; past `MAX_ENTRIES` only a count of what was dropped remains.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::approval::Answer;
use crate::bake::truncate_bytes;
use crate::classify::Outcome;
use crate::deployment::{Deployment, DeploymentState, ResultCode};
use crate::freeze::FreezeWindow;
use crate::policy::{Action, Phase};
use crate::starting::{StartDecision, StartFacts};

/// Entries kept in full; a run of five stages with approvals, bakes and a rollback needs about 30.
pub const MAX_ENTRIES: usize = 64;
/// The bytes kept of any text that came from outside (GameSparks' messages, CloudWatch's reasons,
/// an operator's reason).
pub const MAX_TEXT_BYTES: usize = 256;

/// The stagegate version that took the decisions: a replay names it next to today's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionLog {
    /// The stagegate version that recorded the first decision.
    #[serde(default)]
    pub version: String,
    /// The template's freeze windows (the run's own are in the state): a replay evaluates a start
    /// against both, as the start did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub template_freeze_windows: Vec<FreezeWindow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Entry>,
    /// Uneventful looks, counted, not kept.
    #[serde(default, skip_serializing_if = "Quiet::is_empty")]
    pub quiet: Quiet,
    /// Entries not kept past `MAX_ENTRIES`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Looks that changed nothing: a deployment still running, a bake with every alarm quiet.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quiet {
    #[serde(default)]
    pub polls: u32,
    #[serde(default)]
    pub bake_checks: u32,
    /// FNV-1a (64 bit, hex) chained over every quiet look's facts in order: two records of the
    /// same run agree on it only if they saw the same quiet looks.
    #[serde(default)]
    pub digest: String,
}

impl Quiet {
    pub fn is_empty(&self) -> bool {
        self.polls == 0 && self.bake_checks == 0
    }

    fn fold(&mut self, facts: &str) {
        let mut hash = u64::from_str_radix(&self.digest, 16).unwrap_or(FNV_OFFSET);
        for b in facts.as_bytes() {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(FNV_PRIME);
        }
        self.digest = format!("{hash:016x}");
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// One decision: when, on which stage, what it was based on, and what the run did next.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: OffsetDateTime,
    pub stage_name: String,
    #[serde(flatten)]
    pub evidence: Evidence,
    /// The action the core decided (before a wave or a bake turned a success into its next
    /// step): what a replay compares.
    pub decided: Action,
    /// Why, in the core's words (cut to `MAX_TEXT_BYTES`).
    pub reason: String,
}

/// What a decision was based on, by kind.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum Evidence {
    /// The checks of a stage's start (`start::step`) and what they decided.
    Start {
        facts: StartFacts,
        #[serde(flatten)]
        decision: StartDecision,
    },
    /// A person's answer to the approval (or its timeout), and an abort read with it.
    Answer {
        answer: Answer,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aborted_by: Option<String>,
    },
    /// An answer the gate refused (unsigned, signed for another run or claim, a timeout before
    /// the expiry): the run waits on. Kept as read; its signature cannot be checked again
    /// without the key, so a replay takes the refusal as recorded.
    Refused {
        decision: crate::approval::Decision,
        /// Who the answer claimed to be from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claimed_by: Option<String>,
        why: String,
    },
    /// A poll that ended a deployment (or found it gone past its grace window).
    Poll {
        phase: Phase,
        seen: Seen,
        #[serde(with = "time::serde::rfc3339")]
        #[cfg_attr(feature = "schema", schemars(with = "String"))]
        deadline: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        #[cfg_attr(feature = "schema", schemars(with = "String"))]
        grace_end: OffsetDateTime,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aborted_by: Option<String>,
        /// The rollback target at the time (null: none).
        known_good: Option<String>,
        outcome: Outcome,
    },
    /// A bake's end: it passed, failed on an alarm (or an unreadable read), or was aborted.
    Bake {
        checks: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<BakeEvidence>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aborted_by: Option<String>,
        known_good: Option<String>,
    },
}

impl Evidence {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Start { .. } => "start",
            Self::Answer { .. } => "answer",
            Self::Refused { .. } => "refused",
            Self::Poll { .. } => "poll",
            Self::Bake { .. } => "bake",
        }
    }
}

/// A deployment as a poll read it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    pub deployment_id: String,
    pub state: DeploymentState,
    pub result_code: Option<ResultCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub last_updated: Option<OffsetDateTime>,
}

impl Seen {
    pub fn of(d: &Deployment) -> Self {
        Self {
            deployment_id: d.id.clone(),
            state: d.state.clone(),
            result_code: d.result_code.clone(),
            message: d.result_message.as_deref().map(cut),
            last_updated: d.last_updated,
        }
    }

    /// The deployment as the core classifies it again.
    pub fn deployment(&self) -> Deployment {
        Deployment {
            id: self.deployment_id.clone(),
            snapshot_id: None,
            action: None,
            state: self.state.clone(),
            result_code: self.result_code.clone(),
            result_message: self.message.clone(),
            created: None,
            last_updated: self.last_updated,
        }
    }
}

/// Why a bake failed. The alarm is named by its position in the stage's `alarmNames`, as
/// everywhere in the state (each name is stored once).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BakeEvidence {
    /// Null when the alarms could not be read.
    pub alarm: Option<usize>,
    pub alarm_state: Option<String>,
    pub reason: String,
    /// How many alarms were failing at that check.
    pub failing: u32,
}

/// Cuts an outside text to `MAX_TEXT_BYTES` (on a character boundary).
pub fn cut(text: &str) -> String {
    truncate_bytes(text, MAX_TEXT_BYTES)
}

impl DecisionLog {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.quiet.is_empty() && self.dropped == 0
    }

    /// Keeps a decision (cut to the bounds).
    pub fn push(&mut self, mut entry: Entry) {
        if self.version.is_empty() {
            VERSION.clone_into(&mut self.version);
        }
        if self.entries.len() >= MAX_ENTRIES {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        entry.reason = cut(&entry.reason);
        self.entries.push(entry);
    }

    /// Counts a poll of a deployment still running.
    pub fn quiet_poll(&mut self, seen: &Seen, at: OffsetDateTime) {
        self.quiet.polls = self.quiet.polls.saturating_add(1);
        let facts = format!(
            "poll|{}|{}|{}",
            crate::timefmt::rfc3339(at),
            seen.deployment_id,
            seen.state
        );
        self.quiet.fold(&facts);
    }

    /// Counts a bake check with every alarm quiet (`states`: each alarm's state, in order).
    pub fn quiet_bake_check(&mut self, states: &[&str], at: OffsetDateTime) {
        self.quiet.bake_checks = self.quiet.bake_checks.saturating_add(1);
        let facts = format!("bake|{}|{}", crate::timefmt::rfc3339(at), states.join(","));
        self.quiet.fold(&facts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-12-07 03:00 UTC);

    fn entry(reason: &str) -> Entry {
        Entry {
            at: T,
            stage_name: "prod".into(),
            evidence: Evidence::Answer {
                answer: Answer {
                    decision: crate::approval::Decision::Approve,
                    by: Some("arn:aws:iam::1:user/ana".into()),
                    reason: None,
                    at: T,
                    signature: None,
                },
                aborted_by: None,
            },
            decided: Action::Wait,
            reason: reason.into(),
        }
    }

    #[test]
    fn entries_are_bounded_in_number_and_in_bytes() {
        let mut log = DecisionLog::default();
        for _ in 0..MAX_ENTRIES + 3 {
            log.push(entry(&"\u{1F600}".repeat(200)));
        }
        assert_eq!(log.entries.len(), MAX_ENTRIES);
        assert_eq!(log.dropped, 3);
        assert!(log.entries.iter().all(|e| e.reason.len() <= MAX_TEXT_BYTES));
        assert_eq!(log.version, VERSION);
    }

    #[test]
    fn quiet_looks_are_a_count_and_a_digest_of_what_they_saw() {
        let seen = Seen {
            deployment_id: "d-1".into(),
            state: DeploymentState::InProgress,
            result_code: None,
            message: None,
            last_updated: None,
        };
        let (mut a, mut b) = (DecisionLog::default(), DecisionLog::default());
        a.quiet_poll(&seen, T);
        b.quiet_poll(&seen, T);
        assert_eq!(a.quiet, b.quiet);
        a.quiet_bake_check(&["OK", "OK"], T);
        b.quiet_bake_check(&["OK", "INSUFFICIENT_DATA"], T);
        assert_eq!(a.quiet.bake_checks, 1);
        assert_ne!(a.quiet.digest, b.quiet.digest);
        assert_eq!(a.quiet.digest.len(), 16);
    }

    #[test]
    fn an_entry_round_trips_with_its_kind_on_top() {
        let e = entry("approved");
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(v["kind"], "answer");
        // Every member in the contract's camelCase, the kinds' own included.
        assert!(v.get("abortedBy").is_none() && v.get("aborted_by").is_none());
        let poll = Evidence::Poll {
            phase: Phase::Deploy,
            seen: Seen {
                deployment_id: "d".into(),
                state: DeploymentState::Completed,
                result_code: None,
                message: None,
                last_updated: None,
            },
            deadline: T,
            grace_end: T,
            aborted_by: Some("ops".into()),
            known_good: None,
            outcome: Outcome::Failed,
        };
        let p = serde_json::to_value(&poll).unwrap_or_default();
        for member in ["graceEnd", "abortedBy", "knownGood"] {
            assert!(p.get(member).is_some(), "{member} in {p}");
        }
        assert_eq!(serde_json::from_value::<Entry>(v).ok(), Some(e));
    }
}

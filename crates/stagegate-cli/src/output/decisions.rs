//! The documents of `explain` and `replay`: a run's story, and what re-deciding runs found.
//!
//! The core's `Story` and `Difference` are mirrored here member for member (same names, same
//! values) rather than printed as they are, because the CLI's schema is generated from its
//! documents' types and the core's types carry no JSON Schema; a test compares every member of
//! the core's serialized `Story` with the document's, so the mirror cannot drift unseen.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stagegate::explain::replay::Difference;
use stagegate::explain::story::Story;

use super::{exit_class_schema, exit_code_schema, outcome_schema};
use crate::exit::Exit;

/// `explain`: the story of a run's newest gate state, and what it published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExplainDocument {
    /// Where the history came from: the execution's ARN, or the history file's path.
    pub source: String,
    /// The execution's ARN when the history says it (a file from `aws` may not).
    pub execution_arn: Option<String>,
    /// How the execution ended (`SUCCEEDED`, `FAILED StageGate.ROLLED_BACK`, ...); null while it
    /// runs or when the history read does not reach its end.
    pub ending: Option<String>,
    /// Null when the history holds no gate state (the run ended before its start decided).
    pub story: Option<StoryDocument>,
    /// What notify-result published (`outcome`, `subject`, `cause`, `messageId`, ...); null when
    /// nothing was.
    pub notification: Option<Value>,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

impl ExplainDocument {
    pub fn new(
        source: String,
        execution_arn: Option<String>,
        ending: Option<String>,
        story: Option<StoryDocument>,
        notification: Option<Value>,
    ) -> Self {
        Self {
            source,
            execution_arn,
            ending,
            story,
            notification,
            exit_code: Exit::Done.code(),
            exit_class: Exit::Done.as_str().to_owned(),
        }
    }
}

/// `stagegate::explain::story::Story`, member for member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoryDocument {
    pub game_name: String,
    pub execution_id: String,
    pub requested_snapshot_id: String,
    /// The policy in force for the run (the input's `policy`, defaults filled in).
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub policy: Value,
    /// The stagegate version that recorded the decisions (empty: no record).
    pub recorded_by: String,
    /// Each decision: when, on which stage, its kind, the evidence, the rule, what followed.
    pub lines: Vec<LineDocument>,
    pub quiet_polls: u32,
    pub quiet_bake_checks: u32,
    pub quiet_digest: String,
    /// Decisions not kept past the record's bound.
    pub dropped: u32,
    #[schemars(schema_with = "outcome_schema")]
    pub verdict: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineDocument {
    /// RFC 3339.
    pub at: String,
    pub stage_name: String,
    /// start, answer, poll or bake.
    pub kind: String,
    pub evidence: String,
    pub rule: String,
    pub then: String,
}

impl StoryDocument {
    pub fn of(s: &Story) -> Self {
        Self {
            game_name: s.game_name.clone(),
            execution_id: s.execution_id.clone(),
            requested_snapshot_id: s.requested_snapshot_id.clone(),
            policy: serde_json::to_value(&s.policy).unwrap_or(Value::Null),
            recorded_by: s.recorded_by.clone(),
            lines: s
                .lines
                .iter()
                .map(|l| LineDocument {
                    at: stagegate::timefmt::rfc3339(l.at),
                    stage_name: l.stage_name.clone(),
                    kind: l.kind.clone(),
                    evidence: l.evidence.clone(),
                    rule: l.rule.clone(),
                    then: l.then.clone(),
                })
                .collect(),
            quiet_polls: s.quiet_polls,
            quiet_bake_checks: s.quiet_bake_checks,
            quiet_digest: s.quiet_digest.clone(),
            dropped: s.dropped,
            verdict: s.verdict.as_str().to_owned(),
            reason: s.reason.clone(),
        }
    }
}

/// `replay`: each run re-decided, and the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayDocument {
    /// The `--policy` fields replayed under (a what-if); null: each run's own policy.
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub what_if: Option<Value>,
    /// The stagegate version that re-decided.
    pub replayed_by: String,
    pub runs: Vec<RunReplayDocument>,
    pub summary: ReplaySummary,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunReplayDocument {
    /// The execution's ARN, or the history file's path.
    pub source: String,
    pub execution_id: Option<String>,
    pub game_name: Option<String>,
    /// `same`, `differs`, `no record` (no decision record: a run from before it, or one that
    /// ended before its start) or `error` (its history could not be read).
    #[schemars(schema_with = "result_schema")]
    pub result: String,
    /// The version that recorded the decisions.
    pub recorded_by: Option<String>,
    /// Decisions replayed.
    pub decisions: usize,
    pub differences: Vec<DifferenceDocument>,
    pub error: Option<String>,
}

/// `stagegate::explain::replay::Difference`, member for member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DifferenceDocument {
    /// The decision's position in the run's record.
    pub index: usize,
    pub stage_name: String,
    pub kind: String,
    pub recorded: String,
    pub replayed: String,
    pub recorded_reason: String,
    pub replayed_reason: String,
}

impl DifferenceDocument {
    pub fn of(d: &Difference) -> Self {
        Self {
            index: d.index,
            stage_name: d.stage_name.clone(),
            kind: d.kind.clone(),
            recorded: d.recorded.clone(),
            replayed: d.replayed.clone(),
            recorded_reason: d.recorded_reason.clone(),
            replayed_reason: d.replayed_reason.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaySummary {
    pub runs: usize,
    pub decisions_replayed: usize,
    pub runs_that_differ: usize,
    pub no_record: usize,
    pub errors: usize,
}

/// The results a replayed run can have (`RunReplayDocument::result`).
pub const RESULTS: [&str; 4] = ["same", "differs", "no record", "error"];

fn result_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "enum": RESULTS})
}

//! The execution input as written, and its JSON Schema generated from the same rules.
//!
//! These types are what serde reads before `input` resolves defaults and checks the rules that
//! span fields. Every rule a JSON Schema can say is said here once, as a constant the parser
//! also checks (`fields`, `Seconds`, `bake`, `approval`, `freeze`), so the committed schema and
//! the parser cannot drift apart; `tests/schema_agreement.rs` holds them to it with a real
//! validator. The rules a schema cannot say are listed in `UNEXPRESSED`, which the schema's
//! description and docs/input.md repeat: for those the schema accepts a superset.

use serde::Deserialize;
use serde_json::Value;

use super::seconds::Seconds;
use crate::approval;
use crate::bake;
use crate::policy::{FailureResponse, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS};

#[cfg(feature = "schema")]
use super::fields::{NAME_MAX_CHARS, NAME_PATTERN, NO_CONTROL_PATTERN};

/// The rules of the execution input no JSON Schema can express, each with a fragment of the
/// parser's error for it (the agreement test recognises them by it).
pub const UNEXPRESSED: &[(&str, &str)] = &[
    (
        "a stage listed twice in entries that differ (a name and an object, or two objects)",
        "is listed twice; a wave visits each stage once",
    ),
    (
        "at most 100 alarms in all, each stage's bake counted",
        "alarms in all",
    ),
    (
        "at most 25,500 bytes of alarm names in UTF-8 in all, each stage's bake counted",
        "bytes in UTF-8",
    ),
    (
        "a bake checks its alarms at most 120 times (seconds / checkIntervalSeconds, rounded up)",
        "may check its alarms at most",
    ),
    (
        "a freeze window's start and end are RFC 3339 timestamps with an offset",
        "must be an RFC 3339 timestamp",
    ),
    (
        "a freeze window's end is after its start",
        "must be after start",
    ),
    (
        "a weekly freeze window's timeZone is a name in the IANA time zone database",
        "unknown time zone",
    ),
    (
        "a weekly freeze window's to differs from its from",
        "must differ from `from`",
    ),
];

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(rename = "ExecutionInput", transform = schema_rules::input)
)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawInput {
    /// The GameSparks game.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = NAME_MAX_CHARS), pattern(NAME_PATTERN))
    )]
    pub game_name: String,
    /// The one stage to deploy (or `stages`, for a promotion wave).
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = NAME_MAX_CHARS), pattern(NAME_PATTERN))
    )]
    pub stage_name: Option<String>,
    /// A promotion wave, in order: names, or `{"stageName": ..., "bake": ..., "approval": ...}`
    /// objects (read one by one so errors name the entry's field).
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(
            with = "Option<Vec<StageEntry>>",
            length(min = 1, max = super::MAX_WAVE_STAGES),
            extend("uniqueItems" = true)
        )
    )]
    pub stages: Option<Vec<Value>>,
    /// A snapshot id, or `latest` for the game's newest snapshot.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "schema_rules::snapshot_id")
    )]
    pub snapshot_id: String,
    #[serde(default)]
    pub policy: Option<RawPolicy>,
    /// The bake of every stage that has none of its own.
    #[serde(default)]
    pub bake: Option<RawBake>,
    /// Plan only: nothing is deployed.
    #[serde(default)]
    pub dry_run: bool,
    /// Ask a person before the run deploys anything (before its first stage).
    #[serde(default)]
    pub approval: Option<RawApproval>,
    /// Times in which no stage of the run may start (read one by one so errors name the entry).
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(
            with = "Option<Vec<crate::freeze::FreezeWindow>>",
            length(max = crate::freeze::MAX_WINDOWS)
        )
    )]
    pub freeze_windows: Option<Value>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Stage"))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawStageObject {
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = NAME_MAX_CHARS), pattern(NAME_PATTERN))
    )]
    pub stage_name: String,
    #[serde(default)]
    pub bake: Option<RawBake>,
    /// Ask a person before this stage is deployed.
    #[serde(default)]
    pub approval: Option<RawApproval>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Bake"))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawBake {
    /// How long the stage's alarms are watched after it deployed.
    pub seconds: Seconds<{ bake::MIN_BAKE_SECONDS }, { bake::MAX_BAKE_SECONDS }>,
    /// CloudWatch alarms (metric or composite) that fail the bake when they fire.
    #[cfg_attr(
        feature = "schema",
        schemars(
            length(min = 1, max = bake::MAX_ALARMS),
            inner(length(min = 1, max = bake::MAX_ALARM_NAME_CHARS), pattern(NO_CONTROL_PATTERN)),
            extend("uniqueItems" = true)
        )
    )]
    pub alarm_names: Vec<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(extend("default" = bake::DEFAULT_CHECK_INTERVAL_SECONDS))
    )]
    pub check_interval_seconds:
        Option<Seconds<{ bake::MIN_CHECK_INTERVAL_SECONDS }, { bake::MAX_CHECK_INTERVAL_SECONDS }>>,
    #[serde(default)]
    pub fail_on_insufficient_data: bool,
    #[serde(default)]
    pub ignore_alarm_read_errors: bool,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(rename = "Policy", transform = schema_rules::policy_defaults)
)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPolicy {
    pub on_invalid_role: Option<FailureResponse>,
    pub on_unspecified_failure: Option<FailureResponse>,
    pub on_timeout: Option<FailureResponse>,
    /// An alarm fired (or could not be read) during the bake window.
    pub on_bake_failure: Option<FailureResponse>,
    /// How long a deployment may take before it counts as timed out.
    pub timeout_seconds: Option<Seconds<MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS>>,
    /// How long past the timeout a deployment GameSparks still runs is watched for its real
    /// ending; default: `timeoutSeconds`.
    pub timeout_grace_seconds: Option<Seconds<0, MAX_TIMEOUT_SECONDS>>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "Approval"))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawApproval {
    /// How long the run waits for an answer before it ends `APPROVAL_TIMED_OUT`.
    pub timeout_seconds:
        Seconds<{ approval::MIN_TIMEOUT_SECONDS }, { approval::MAX_TIMEOUT_SECONDS }>,
}

impl RawApproval {
    pub fn spec(&self) -> approval::ApprovalSpec {
        approval::ApprovalSpec {
            timeout_seconds: self.timeout_seconds.get(),
        }
    }
}

/// A `stages` entry as the schema describes it (the parser reads entries one by one).
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum StageEntry {
    Name(#[schemars(length(min = 1, max = NAME_MAX_CHARS), pattern(NAME_PATTERN))] String),
    Object(RawStageObject),
}

/// What attributes cannot say: the snapshot id's two forms, rules between fields, the defaults
/// taken from `Policy::default()`, and the description of what the schema leaves to the parser.
#[cfg(feature = "schema")]
mod schema_rules {
    use schemars::{json_schema, Schema};
    use serde_json::{json, Value};

    use crate::input::fields::{SNAPSHOT_MAX_CHARS, SNAPSHOT_MIN_CHARS, SNAPSHOT_PATTERN};
    use crate::input::LATEST;
    use crate::policy::Policy;

    pub fn snapshot_id(_: &mut schemars::SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A snapshot id, or `latest` for the game's newest snapshot.",
            "anyOf": [
                {"const": LATEST},
                {
                    "type": "string",
                    "minLength": SNAPSHOT_MIN_CHARS,
                    "maxLength": SNAPSHOT_MAX_CHARS,
                    "pattern": SNAPSHOT_PATTERN,
                }
            ]
        })
    }

    /// `stageName` or `stages`, exactly one of them; the run's approval or the first stage's,
    /// not both; and the list of rules the schema leaves to the parser.
    pub fn input(schema: &mut Schema) {
        let given = |field: &str, kind: &str| json!({"required": [field], "properties": {field: {"type": kind}}});
        schema.insert(
            "oneOf".into(),
            json!([given("stageName", "string"), given("stages", "array")]),
        );
        schema.insert(
            "not".into(),
            json!({
                "description": "the run's approval and stages[0].approval: give one of them",
                "required": ["approval", "stages"],
                "properties": {
                    "approval": {"type": "object"},
                    "stages": {
                        "type": "array",
                        "prefixItems": [{
                            "type": "object",
                            "required": ["approval"],
                            "properties": {"approval": {"type": "object"}}
                        }]
                    }
                }
            }),
        );
        let rules: Vec<String> = super::UNEXPRESSED
            .iter()
            .map(|(rule, _)| format!("- {rule}"))
            .collect();
        schema.insert(
            "description".into(),
            Value::String(format!(
                "What starts a stagegate run. The parser (`stagegate validate`) also checks \
                 these rules, which JSON Schema cannot express:\n{}",
                rules.join("\n")
            )),
        );
    }

    /// Each policy member's default is what `Policy::default()` holds.
    pub fn policy_defaults(schema: &mut Schema) {
        let defaults = serde_json::to_value(Policy::default()).unwrap_or_default();
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            return;
        };
        for (name, property) in properties.iter_mut() {
            if let (Some(property), Some(default)) = (property.as_object_mut(), defaults.get(name))
            {
                property.insert("default".into(), default.clone());
            }
        }
        if let Some(grace) = properties
            .get_mut("timeoutGraceSeconds")
            .and_then(Value::as_object_mut)
        {
            grace.remove("default");
        }
    }
}

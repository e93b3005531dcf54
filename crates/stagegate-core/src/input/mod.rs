//! The execution input: parsed strictly, validated against the API model and the policy limits.
//!
//! Unknown fields are rejected: a misspelt `polcy` silently falling back to the defaults would
//! roll back (or not) against the user's intent.
//!
//! The first folder of the flow (input -> decide -> state -> message): `fields` holds the API
//! model's rules every field is checked against, `raw` the input as written (and its JSON
//! Schema, from the same rules), `seconds` the bounded numbers, `token` the idempotent
//! ClientTokens, `longest` the longest a run of the input may last.

pub mod fields;
pub mod fleet;
mod longest;
mod raw;
mod seconds;
pub mod token;

use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use self::fields::InvalidInput;
pub use self::raw::UNEXPRESSED;
use self::raw::{RawBake, RawInput, RawPolicy, RawStageObject};
pub use self::seconds::Seconds;
use crate::approval::ApprovalSpec;
use crate::bake::{self, BakeSpec};
use crate::deployment::StageRef;
pub use crate::fields::from_value;
use crate::freeze::{self, FreezeWindow};
use crate::policy::Policy;

/// A promotion wave deploys to at most this many stages; with the per-stage limits this keeps the
/// longest wave far below Step Functions' history limit (see `wave` tests).
pub const MAX_WAVE_STAGES: usize = 5;

/// The literal that asks for the game's newest snapshot.
pub const LATEST: &str = "latest";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotChoice {
    Latest,
    Id(String),
}

impl SnapshotChoice {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Latest => LATEST,
            Self::Id(id) => id,
        }
    }
}

/// A validated execution input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRequest {
    pub game_name: String,
    /// In order; one entry for `stageName`, several for a promotion wave (`stages`).
    pub stages: Vec<StageSpec>,
    /// The input listed `stages` (a wave, even of one stage).
    pub wave: bool,
    pub snapshot: SnapshotChoice,
    pub policy: Policy,
    pub dry_run: bool,
    /// The input's own freeze windows (the template's come with the function's settings).
    pub freeze_windows: Vec<FreezeWindow>,
}

/// One stage the run deploys to, with its bake window (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSpec {
    pub stage_name: String,
    /// Asked for before this stage is deployed.
    pub approval: Option<ApprovalSpec>,
    /// `field` prefix of this stage's bake in the input, for errors found later (missing alarms).
    pub bake_field: String,
    pub bake: Option<BakeSpec>,
}

impl GateRequest {
    pub fn stage(&self, index: usize) -> Option<StageRef> {
        self.stages.get(index).map(|s| StageRef {
            game_name: self.game_name.clone(),
            stage_name: s.stage_name.clone(),
        })
    }
}

/// What the start function needs from the Step Functions context object (`$$.Execution`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionContext {
    pub id: String,
    pub start_time: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartEvent {
    pub request: GateRequest,
    /// Absent when the function is invoked directly (e.g. `cargo lambda invoke` with a bare
    /// execution input).
    pub execution: Option<ExecutionContext>,
}

/// The execution input's JSON Schema (`schemas/execution-input.schema.json`).
#[cfg(feature = "schema")]
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(RawInput)
}

/// `$$.Execution` carries more (Name, RoleArn, Input, ...); only these matter here.
#[derive(Deserialize)]
struct RawExecution {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "StartTime", default)]
    start_time: Option<String>,
}

/// Parses the start function's event: either `{"input": <execution input>, "execution":
/// $$.Execution}` as the state machine sends it, or a bare execution input.
pub fn parse_start_event(event: &Value) -> Result<StartEvent, InvalidInput> {
    let Some(object) = event.as_object() else {
        return Err(InvalidInput::new(
            "(input)",
            format!("must be a JSON object, got {}", fields::json_kind(event)),
        ));
    };
    if !object.contains_key("input") {
        return Ok(StartEvent {
            request: parse_execution_input(event, "")?,
            execution: None,
        });
    }
    if let Some(extra) = object.keys().find(|k| *k != "input" && *k != "execution") {
        return Err(InvalidInput::new(
            extra.as_str(),
            "unknown field: the wrapped form has only `input` and `execution`",
        ));
    }
    let input = object.get("input").unwrap_or(&Value::Null);
    let request = parse_execution_input(input, "input.")?;
    let execution = match object.get("execution") {
        None | Some(Value::Null) => None,
        Some(raw) => Some(parse_execution(raw)?),
    };
    Ok(StartEvent { request, execution })
}

/// Parses and validates an execution input; `prefix` is prepended to field names in errors.
pub fn parse_execution_input(value: &Value, prefix: &str) -> Result<GateRequest, InvalidInput> {
    if !value.is_object() {
        let field = prefix.trim_end_matches('.');
        return Err(InvalidInput::new(
            if field.is_empty() { "(input)" } else { field },
            format!(
                "must be a JSON object with gameName, stageName and snapshotId, got {}",
                fields::json_kind(value)
            ),
        ));
    }
    let raw: RawInput = from_value(value, prefix)?;
    let field = |name: &str| format!("{prefix}{name}");
    fields::resource_name(&field("gameName"), &raw.game_name)?;
    let snapshot =
        if raw.snapshot_id == LATEST {
            SnapshotChoice::Latest
        } else {
            fields::snapshot_id(&field("snapshotId"), &raw.snapshot_id).map_err(|e| {
                InvalidInput::new(
                    e.field,
                    format!(
                    "must be the literal \"{LATEST}\" or a snapshot id: {} characters matching \
                     {} (e.g. Snapshot_2023-01-31T12:00:00.000Z), got {}",
                    format_args!("{}-{}", fields::SNAPSHOT_MIN_CHARS, fields::SNAPSHOT_MAX_CHARS),
                    fields::SNAPSHOT_PATTERN,
                    fields::quoted(&raw.snapshot_id)
                ),
                )
            })?;
            SnapshotChoice::Id(raw.snapshot_id)
        };
    let policy = resolve_policy(raw.policy);
    let default_bake = match raw.bake {
        Some(b) => Some((resolve_bake(b, &field("bake"))?, field("bake"))),
        None => None,
    };
    let (stages, wave) = match (raw.stage_name, raw.stages) {
        (Some(_), Some(_)) => {
            return Err(InvalidInput::new(
                field("stages"),
                "give either stageName (one stage) or stages (a promotion wave), not both",
            ))
        }
        (None, None) => {
            return Err(InvalidInput::new(
                field("stageName"),
                "missing field `stageName` (or `stages` for a promotion wave)",
            ))
        }
        (Some(name), None) => {
            fields::resource_name(&field("stageName"), &name)?;
            let (bake, bake_field) = default_bake.clone().unzip();
            (
                vec![StageSpec {
                    stage_name: name,
                    approval: None,
                    bake_field: bake_field.unwrap_or_else(|| field("bake")),
                    bake,
                }],
                false,
            )
        }
        (None, Some(list)) => (resolve_wave(list, &default_bake, &field("stages"))?, true),
    };
    let mut stages = stages;
    // The run's approval is the first stage's: nothing is deployed before it.
    if let Some(spec) = raw.approval.as_ref().map(raw::RawApproval::spec) {
        match stages.first_mut() {
            Some(first) if first.approval.is_some() => {
                return Err(InvalidInput::new(
                    field("approval"),
                    "the run's approval is asked for before its first stage, which has its own \
                     (stages[0].approval): give one of them",
                ))
            }
            Some(first) => first.approval = Some(spec),
            None => {}
        }
    }
    // Every stage carries its bake through the run (gate state and notification), so the totals
    // are what bound their size, below Step Functions' and SNS's 256 KiB, which count bytes (255
    // characters of a name may be 1,020 of them).
    let names: Vec<&String> = stages
        .iter()
        .filter_map(|s| s.bake.as_ref())
        .flat_map(|b| &b.alarm_names)
        .collect();
    let name_bytes: usize = names.iter().map(|n| n.len()).sum();
    let too_many = if names.len() > bake::MAX_ALARMS {
        Some(format!(
            "a run may watch at most {} alarms in all (each stage's bake counted), got {}",
            bake::MAX_ALARMS,
            names.len()
        ))
    } else if name_bytes > bake::MAX_ALARM_NAME_BYTES_PER_RUN {
        Some(format!(
            "the alarm names of a run may total at most {} bytes in UTF-8 (each stage's bake counted), got {name_bytes}",
            bake::MAX_ALARM_NAME_BYTES_PER_RUN
        ))
    } else {
        None
    };
    if let Some(rule) = too_many {
        let at = if wave { "stages" } else { "bake.alarmNames" };
        return Err(InvalidInput::new(field(at), rule));
    }
    let freeze_windows = match &raw.freeze_windows {
        Some(list) => freeze::parse_windows(list, &field("freezeWindows"))?,
        None => vec![],
    };
    Ok(GateRequest {
        game_name: raw.game_name,
        stages,
        wave,
        snapshot,
        policy,
        dry_run: raw.dry_run,
        freeze_windows,
    })
}

fn resolve_wave(
    list: Vec<Value>,
    default_bake: &Option<(BakeSpec, String)>,
    field: &str,
) -> Result<Vec<StageSpec>, InvalidInput> {
    if list.is_empty() || list.len() > MAX_WAVE_STAGES {
        return Err(InvalidInput::new(
            field,
            format!("must list 1-{MAX_WAVE_STAGES} stages, got {}", list.len()),
        ));
    }
    let mut stages: Vec<StageSpec> = Vec::with_capacity(list.len());
    for (i, entry) in list.into_iter().enumerate() {
        let (name, name_field, own_bake, approval) = match entry {
            Value::String(name) => (name, format!("{field}[{i}]"), None, None),
            Value::Object(_) => {
                let o: RawStageObject = from_value(&entry, &format!("{field}[{i}]."))?;
                let approval = o.approval.as_ref().map(raw::RawApproval::spec);
                (
                    o.stage_name,
                    format!("{field}[{i}].stageName"),
                    o.bake,
                    approval,
                )
            }
            other => {
                return Err(InvalidInput::new(
                    format!("{field}[{i}]"),
                    format!(
                        "must be a stage name or {{\"stageName\": ..., \"bake\": ...}}, got {}",
                        fields::json_kind(&other)
                    ),
                ))
            }
        };
        fields::resource_name(&name_field, &name)?;
        if stages.iter().any(|s| s.stage_name == name) {
            return Err(InvalidInput::new(
                name_field,
                format!("stage {name:?} is listed twice; a wave visits each stage once"),
            ));
        }
        let (bake, bake_field) = match own_bake {
            Some(b) => {
                let f = format!("{field}[{i}].bake");
                (Some(resolve_bake(b, &f)?), f)
            }
            None => match default_bake {
                Some((b, f)) => (Some(b.clone()), f.clone()),
                None => (None, format!("{field}[{i}].bake")),
            },
        };
        stages.push(StageSpec {
            stage_name: name,
            approval,
            bake_field,
            bake,
        });
    }
    Ok(stages)
}

fn resolve_bake(raw: RawBake, field: &str) -> Result<BakeSpec, InvalidInput> {
    // Both ranges were checked as they were read (`Seconds`).
    let seconds = raw.seconds.get();
    let interval = raw
        .check_interval_seconds
        .map_or(bake::DEFAULT_CHECK_INTERVAL_SECONDS, Seconds::get);
    let spec = BakeSpec {
        seconds,
        alarm_names: raw.alarm_names,
        check_interval_seconds: interval,
        fail_on_insufficient_data: raw.fail_on_insufficient_data,
        ignore_alarm_read_errors: raw.ignore_alarm_read_errors,
    };
    if spec.checks() > bake::MAX_CHECKS {
        return Err(InvalidInput::new(
            format!("{field}.checkIntervalSeconds"),
            format!(
                "a {seconds} s bake may check its alarms at most {} times; use at least {} s",
                bake::MAX_CHECKS,
                seconds.div_ceil(bake::MAX_CHECKS)
            ),
        ));
    }
    let names_field = format!("{field}.alarmNames");
    if spec.alarm_names.is_empty() || spec.alarm_names.len() > bake::MAX_ALARMS {
        return Err(InvalidInput::new(
            names_field,
            format!(
                "must list 1-{} alarm names, got {}",
                bake::MAX_ALARMS,
                spec.alarm_names.len()
            ),
        ));
    }
    for (i, name) in spec.alarm_names.iter().enumerate() {
        let f = format!("{names_field}[{i}]");
        fields::length(&f, name, 1, bake::MAX_ALARM_NAME_CHARS)?;
        if name.chars().any(char::is_control) {
            return Err(InvalidInput::new(f, "must not contain control characters"));
        }
        if spec.alarm_names[..i].contains(name) {
            return Err(InvalidInput::new(
                f,
                format!("alarm {name:?} is listed twice"),
            ));
        }
    }
    Ok(spec)
}

fn resolve_policy(raw: Option<RawPolicy>) -> Policy {
    let defaults = Policy::default();
    let Some(raw) = raw else {
        return defaults;
    };
    // Both ranges were checked as they were read (`Seconds`).
    let timeout_seconds = raw
        .timeout_seconds
        .map_or(defaults.timeout_seconds, Seconds::get);
    // As long again as the timeout by default: a deployment that overran once has usually
    // not hung, it is slow.
    let timeout_grace_seconds = raw
        .timeout_grace_seconds
        .map_or(timeout_seconds, Seconds::get);
    Policy {
        on_invalid_role: raw.on_invalid_role.unwrap_or(defaults.on_invalid_role),
        on_unspecified_failure: raw
            .on_unspecified_failure
            .unwrap_or(defaults.on_unspecified_failure),
        on_timeout: raw.on_timeout.unwrap_or(defaults.on_timeout),
        on_bake_failure: raw.on_bake_failure.unwrap_or(defaults.on_bake_failure),
        timeout_seconds,
        timeout_grace_seconds,
    }
}

fn parse_execution(raw: &Value) -> Result<ExecutionContext, InvalidInput> {
    let raw: RawExecution = from_value(raw, "execution.")?;
    fields::length("execution.Id", &raw.id, 1, 2048)?;
    let start_time = match raw.start_time {
        None => None,
        Some(s) => Some(OffsetDateTime::parse(&s, &Rfc3339).map_err(|e| {
            InvalidInput::new(
                "execution.StartTime",
                format!("must be an RFC 3339 timestamp: {e}"),
            )
        })?),
    };
    Ok(ExecutionContext {
        id: raw.id,
        start_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{FailureResponse, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS};
    use serde_json::json;

    const SNAP: &str = "Snapshot_2026-01-01T00:00:00.000Z";

    fn ok(v: Value) -> StartEvent {
        match parse_start_event(&v) {
            Ok(e) => e,
            Err(e) => panic!("{v} rejected: {e}"),
        }
    }

    fn err(v: Value) -> InvalidInput {
        match parse_start_event(&v) {
            Ok(e) => panic!("{v} accepted: {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bare_input_with_defaults() {
        let e = ok(json!({"gameName": "g", "stageName": "prod", "snapshotId": SNAP}));
        assert_eq!(e.execution, None);
        assert_eq!(
            e.request
                .stage(0)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            "g/prod"
        );
        assert_eq!(e.request.snapshot, SnapshotChoice::Id(SNAP.into()));
        assert_eq!(e.request.policy, Policy::default());
    }

    #[test]
    fn wrapped_input_with_context_and_policy() {
        let e = ok(json!({
            "input": {"gameName": "g", "stageName": "s", "snapshotId": "latest",
                      "policy": {"onTimeout": "alert", "timeoutSeconds": 600}},
            "execution": {"Id": "arn:x", "StartTime": "2026-01-01T00:00:00.123Z",
                          "Name": "n", "RoleArn": "r", "Input": {}}
        }));
        assert_eq!(e.request.snapshot, SnapshotChoice::Latest);
        assert_eq!(e.request.policy.on_timeout, FailureResponse::Alert);
        assert_eq!(
            e.request.policy.on_unspecified_failure,
            FailureResponse::Rollback
        );
        assert_eq!(e.request.policy.timeout_seconds, 600);
        assert_eq!(
            e.request.policy.timeout_grace_seconds, 600,
            "defaults to the timeout"
        );
        let ctx = e.execution.unwrap_or_else(|| panic!("no context"));
        assert_eq!(ctx.id, "arn:x");
        assert_eq!(ctx.start_time.map(|t| t.millisecond()), Some(123));
    }

    #[test]
    fn rejections_name_field_and_rule() {
        let base = json!({"gameName": "g", "stageName": "s", "snapshotId": SNAP});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = base.clone();
            b.as_object_mut().map(|o| o.remove(k));
            b
        };
        let cases: Vec<(Value, &str, &str)> = vec![
            (without("gameName"), "gameName", "missing field"),
            (without("snapshotId"), "snapshotId", "missing field"),
            (with("gameName", json!("")), "gameName", "1-36 characters"),
            (
                with("gameName", json!("a".repeat(37))),
                "gameName",
                "1-36 characters",
            ),
            (
                with("stageName", json!("pr od")),
                "stageName",
                "^[a-zA-Z0-9_-]+$",
            ),
            (with("stageName", json!(7)), "stageName", "invalid type"),
            (
                with("snapshotId", json!("Latest")),
                "snapshotId",
                "must be the literal \"latest\" or a snapshot id",
            ),
            (
                with("snapshotId", json!("Snapshot_2026-01-01T00:00:00Z")),
                "snapshotId",
                "33-36",
            ),
            (with("polcy", json!({})), "polcy", "unknown field"),
            (
                with("policy", json!({"onTimeout": "retry"})),
                "policy.onTimeout",
                "unknown variant",
            ),
            (
                with("policy", json!({"onTimeOut": "alert"})),
                "policy.onTimeOut",
                "unknown field",
            ),
            (
                with("policy", json!({"timeoutSeconds": 59})),
                "policy.timeoutSeconds",
                "expected an integer 60-7200 (seconds), got",
            ),
            (
                with("policy", json!({"timeoutSeconds": 7201})),
                "policy.timeoutSeconds",
                "expected an integer 60-7200 (seconds), got",
            ),
            (
                with("policy", json!({"timeoutGraceSeconds": 7201})),
                "policy.timeoutGraceSeconds",
                "expected an integer 0-7200 (seconds), got 7201",
            ),
            (
                with("policy", json!({"timeoutSeconds": -1})),
                "policy.timeoutSeconds",
                "expected an integer 60-7200 (seconds), got -1",
            ),
            (with("policy", json!("alert")), "policy", "invalid type"),
            (
                with("approval", json!({"timeoutSeconds": 59})),
                "approval.timeoutSeconds",
                "expected an integer 60-86400 (seconds), got 59",
            ),
            (
                with("approval", json!({"timeoutSeconds": 86_401})),
                "approval.timeoutSeconds",
                "expected an integer 60-86400 (seconds), got 86401",
            ),
            (json!(null), "(input)", "JSON object"),
            (json!([1]), "(input)", "JSON object"),
        ];
        for (value, field, rule) in cases {
            let e = err(value.clone());
            assert_eq!(e.field, field, "{value}: {e}");
            assert!(e.rule.contains(rule), "{value}: {e}");
        }
    }

    #[test]
    fn timeout_bounds_are_inclusive() {
        for t in [MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS] {
            let e = ok(
                json!({"gameName": "g", "stageName": "s", "snapshotId": SNAP,
                              "policy": {"timeoutSeconds": t}}),
            );
            assert_eq!(e.request.policy.timeout_seconds, t);
        }
    }

    #[test]
    fn wrapped_errors_carry_the_input_prefix() {
        let e = err(
            json!({"input": {"gameName": "g", "stageName": "s", "snapshotId": "x"},
                           "execution": {"Id": "e"}}),
        );
        assert_eq!(e.field, "input.snapshotId");
        let e = err(
            json!({"input": {"gameName": "g", "stageName": "s", "snapshotId": SNAP,
                                     "policy": {"x": 1}}, "execution": {"Id": "e"}}),
        );
        assert_eq!(e.field, "input.policy.x");
        let e = err(json!({"input": "g", "execution": {"Id": "e"}}));
        assert_eq!(e.field, "input");
        let e = err(json!({"input": {}, "execution": {"Id": "e"}}));
        assert_eq!(e.field, "input.gameName");
        let e = err(
            json!({"input": {"gameName": "g", "stageName": "s", "snapshotId": SNAP},
                           "execution": {"Id": ""}}),
        );
        assert_eq!(e.field, "execution.Id");
        let e = err(
            json!({"input": {"gameName": "g", "stageName": "s", "snapshotId": SNAP},
                           "execution": {"Id": "e", "StartTime": "yesterday"}}),
        );
        assert_eq!(e.field, "execution.StartTime");
        let e = err(
            json!({"input": {"gameName": "g", "stageName": "s", "snapshotId": SNAP},
                           "execution": {}}),
        );
        assert_eq!(e.field, "execution.Id");
        let e = err(
            json!({"input": {"gameName": "g", "stageName": "s", "snapshotId": SNAP},
                           "extra": 1}),
        );
        assert_eq!(e.field, "extra");
    }

    #[test]
    fn bake_wave_and_dry_run_are_read() {
        let e = ok(json!({
            "gameName": "g", "snapshotId": SNAP, "dryRun": true,
            "bake": {"seconds": 600, "alarmNames": ["a", "b"]},
            "policy": {"onBakeFailure": "alert"},
            "stages": ["dev", {"stageName": "prod", "bake": {"seconds": 1800, "alarmNames": ["p"],
                       "checkIntervalSeconds": 60, "failOnInsufficientData": true,
                       "ignoreAlarmReadErrors": true}}]
        }));
        let r = e.request;
        assert!(r.dry_run && r.wave);
        assert_eq!(r.policy.on_bake_failure, FailureResponse::Alert);
        assert_eq!(r.stages.len(), 2);
        let dev = r.stages[0]
            .bake
            .clone()
            .unwrap_or_else(|| panic!("dev inherits the bake"));
        assert_eq!((dev.seconds, dev.check_interval_seconds), (600, 30));
        assert_eq!(dev.alarm_names, ["a", "b"]);
        assert_eq!(r.stages[0].bake_field, "bake");
        let prod = r.stages[1]
            .bake
            .clone()
            .unwrap_or_else(|| panic!("prod has its own"));
        assert!(prod.fail_on_insufficient_data && prod.ignore_alarm_read_errors);
        assert_eq!(r.stages[1].bake_field, "stages[1].bake");
        let single = ok(json!({"gameName": "g", "stageName": "s", "snapshotId": SNAP}));
        assert!(!single.request.wave && !single.request.dry_run);
        assert_eq!(single.request.stages[0].bake, None);
        assert_eq!(
            single.request.policy.on_bake_failure,
            FailureResponse::Rollback
        );
    }

    #[test]
    fn bake_and_wave_rejections_name_field_and_rule() {
        let base = json!({"gameName": "g", "stageName": "s", "snapshotId": SNAP});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        let wave = |v: Value| {
            let mut b = base.clone();
            b.as_object_mut().map(|o| o.remove("stageName"));
            b["stages"] = v;
            b
        };
        let bake = |v: Value| with("bake", v);
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                bake(json!({"seconds": 29, "alarmNames": ["a"]})),
                "bake.seconds",
                "expected an integer 30-7200 (seconds), got",
            ),
            (
                bake(json!({"seconds": 7201, "alarmNames": ["a"]})),
                "bake.seconds",
                "expected an integer 30-7200 (seconds), got",
            ),
            (
                bake(json!({"alarmNames": ["a"]})),
                "bake.seconds",
                "missing field",
            ),
            (
                bake(json!({"seconds": 60, "alarmNames": []})),
                "bake.alarmNames",
                "1-100 alarm names",
            ),
            (
                bake(json!({"seconds": 60, "alarmNames": ["a", "a"]})),
                "bake.alarmNames[1]",
                "listed twice",
            ),
            (
                bake(json!({"seconds": 60, "alarmNames": [""]})),
                "bake.alarmNames[0]",
                "1-255",
            ),
            (
                bake(json!({"seconds": 60, "alarmNames": ["a\nb"]})),
                "bake.alarmNames[0]",
                "control",
            ),
            (
                bake(json!({"seconds": 60, "alarmNames": ["a"], "checkIntervalSeconds": 5})),
                "bake.checkIntervalSeconds",
                "expected an integer 10-300 (seconds), got 5",
            ),
            (
                bake(json!({"seconds": 7200, "alarmNames": ["a"], "checkIntervalSeconds": 30})),
                "bake.checkIntervalSeconds",
                "at least 60 s",
            ),
            (
                bake(json!({"seconds": 60, "alarmNames": ["a"], "alarms": []})),
                "bake.alarms",
                "unknown field",
            ),
            (with("dryRun", json!("yes")), "dryRun", "invalid type"),
            (with("stages", json!(["a"])), "stages", "not both"),
            (wave(json!([])), "stages", "1-5 stages"),
            (
                wave(json!(["a", "b", "c", "d", "e", "f"])),
                "stages",
                "1-5 stages",
            ),
            (wave(json!(["dev", "dev"])), "stages[1]", "listed twice"),
            (
                wave(json!(["dev", "pr od"])),
                "stages[1]",
                "^[a-zA-Z0-9_-]+$",
            ),
            (wave(json!(["dev", 7])), "stages[1]", "stage name or"),
            (
                wave(json!([{"stage": "x"}])),
                "stages[0].stage",
                "unknown field",
            ),
            (
                wave(json!([{"stageName": "x", "bake": {"seconds": 1, "alarmNames": ["a"]}}])),
                "stages[0].bake.seconds",
                "expected an integer 30-7200 (seconds), got 1",
            ),
        ];
        for (value, field, rule) in cases {
            let e = err(value.clone());
            assert_eq!(e.field, field, "{value}: {e}");
            assert!(e.rule.contains(rule), "{value}: {e}");
        }
        let many: Vec<String> = (0..40).map(|i| format!("a{i}")).collect();
        let e = err(
            json!({"gameName": "g", "snapshotId": SNAP, "stages": ["a", "b", "c"],
                           "bake": {"seconds": 60, "alarmNames": many}}),
        );
        assert_eq!(e.field, "stages");
        assert!(e.rule.contains("at most 100 alarms in all"), "{e}");
        let mut neither = base.clone();
        neither.as_object_mut().map(|o| o.remove("stageName"));
        let e = err(neither);
        assert_eq!(e.field, "stageName");
        assert!(e.rule.contains("stages"), "{e}");
    }

    #[test]
    fn bake_limits_are_inclusive() {
        let bake =
            |b: Value| json!({"gameName": "g", "stageName": "s", "snapshotId": SNAP, "bake": b});
        let longest = "n".repeat(bake::MAX_ALARM_NAME_CHARS);
        let hundred: Vec<String> = (0..bake::MAX_ALARMS).map(|i| format!("a{i}")).collect();
        // Each limit itself is accepted...
        let accepted = [
            json!({"seconds": 30, "alarmNames": ["a"], "checkIntervalSeconds": 10}),
            json!({"seconds": 7200, "alarmNames": ["a"], "checkIntervalSeconds": 60}),
            json!({"seconds": 7200, "alarmNames": ["a"], "checkIntervalSeconds": 300}),
            json!({"seconds": 1200, "alarmNames": ["a"], "checkIntervalSeconds": 10}),
            json!({"seconds": 60, "alarmNames": [longest]}),
            json!({"seconds": 60, "alarmNames": hundred}),
        ];
        for b in accepted {
            let e = parse_execution_input(&bake(b.clone()), "input.").err();
            assert_eq!(e, None, "{b}");
        }
        // ...and one past it is not.
        let mut past: Vec<String> = hundred.clone();
        past.push("a100".into());
        let rejected = [
            (
                json!({"seconds": 60, "alarmNames": ["a"], "checkIntervalSeconds": 9}),
                "input.bake.checkIntervalSeconds",
            ),
            (
                json!({"seconds": 600, "alarmNames": ["a"], "checkIntervalSeconds": 301}),
                "input.bake.checkIntervalSeconds",
            ),
            (
                json!({"seconds": 1210, "alarmNames": ["a"], "checkIntervalSeconds": 10}),
                "input.bake.checkIntervalSeconds",
            ),
            (
                json!({"seconds": 60, "alarmNames": [format!("{longest}n")]}),
                "input.bake.alarmNames[0]",
            ),
            (
                json!({"seconds": 60, "alarmNames": past}),
                "input.bake.alarmNames",
            ),
        ];
        for (b, field) in rejected {
            match parse_execution_input(&bake(b.clone()), "input.") {
                Ok(_) => panic!("accepted {b}"),
                Err(e) => assert_eq!(e.field, field, "{b}: {e}"),
            }
        }
    }
}

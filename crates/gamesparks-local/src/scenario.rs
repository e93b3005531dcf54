//! The declarative scenario format (see docs/local-stack.md, "The GameSparks emulator") and its checks.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::clock::parse_time_spec;
use crate::faults::FaultConfig;
use crate::validate;

const DEMO_JSON: &str = include_str!("../scenarios/demo.json");

/// Why a scenario could not be used. The message always names the offending file, JSON path or
/// field.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid scenario{}: at {at}: {message}", origin.as_deref().map(|o| format!(" {o}")).unwrap_or_default())]
    Parse {
        origin: Option<String>,
        at: String,
        message: String,
    },
    #[error("invalid scenario{}: {message}", origin.as_deref().map(|o| format!(" {o}")).unwrap_or_default())]
    Invalid {
        origin: Option<String>,
        message: String,
    },
}

/// `SUCCESS`, `INVALID_ROLE_FAILURE` or `UNSPECIFIED_FAILURE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResultCode {
    Success,
    InvalidRoleFailure,
    UnspecifiedFailure,
}

impl ResultCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultCode::Success => "SUCCESS",
            ResultCode::InvalidRoleFailure => "INVALID_ROLE_FAILURE",
            ResultCode::UnspecifiedFailure => "UNSPECIFIED_FAILURE",
        }
    }
}

/// `PENDING`, `IN_PROGRESS`, `COMPLETED` or `FAILED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentState {
    Pending,
    InProgress,
    Completed,
    Failed,
}

impl DeploymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Pending => "PENDING",
            DeploymentState::InProgress => "IN_PROGRESS",
            DeploymentState::Completed => "COMPLETED",
            DeploymentState::Failed => "FAILED",
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, DeploymentState::Pending | DeploymentState::InProgress)
    }
}

/// `DEPLOY` or `UNDEPLOY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentAction {
    Deploy,
    Undeploy,
}

impl DeploymentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentAction::Deploy => "DEPLOY",
            DeploymentAction::Undeploy => "UNDEPLOY",
        }
    }
}

/// `ACTIVE` or `DELETING` (games and stages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityState {
    #[default]
    Active,
    Deleting,
}

impl EntityState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityState::Active => "ACTIVE",
            EntityState::Deleting => "DELETING",
        }
    }
}

/// How a deployment of a snapshot plays out. Unset fields fall back to the scenario's
/// `defaultOutcome`, then to built-in defaults (SUCCESS, 5 s pending, 120 s in progress).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Outcome {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// `DeploymentResult.Message`; `{role}`, `{snapshotId}`, `{game}` and `{stage}` are replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The deployment stays IN_PROGRESS forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub never_finish: Option<bool>,
}

/// An outcome with every field decided.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolvedOutcome {
    pub result: ResultCode,
    pub pending_seconds: f64,
    pub duration_seconds: f64,
    pub message: Option<String>,
    pub never_finish: bool,
}

impl Outcome {
    pub(crate) fn over(&self, base: &ResolvedOutcome) -> ResolvedOutcome {
        ResolvedOutcome {
            result: self.result.unwrap_or(base.result),
            pending_seconds: self.pending_seconds.unwrap_or(base.pending_seconds),
            duration_seconds: self.duration_seconds.unwrap_or(base.duration_seconds),
            // A message only makes sense for the result it was written for.
            message: match (&self.message, self.result) {
                (Some(m), _) => Some(m.clone()),
                (None, Some(r)) if r != base.result => None,
                (None, _) => base.message.clone(),
            },
            never_finish: self.never_finish.unwrap_or(base.never_finish),
        }
    }

    fn check(&self, at: &str) -> Result<(), String> {
        for (name, v) in [
            ("pendingSeconds", self.pending_seconds),
            ("durationSeconds", self.duration_seconds),
        ] {
            if let Some(v) = v {
                if !v.is_finite() || v < 0.0 {
                    return Err(format!(
                        "{at}.{name} must be a non-negative number, got {v}"
                    ));
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn builtin_outcome() -> ResolvedOutcome {
    ResolvedOutcome {
        result: ResultCode::Success,
        pending_seconds: 5.0,
        duration_seconds: 120.0,
        message: None,
        never_finish: false,
    }
}

/// A past deployment seeded into a stage's history. Its state is fixed: a seeded PENDING or
/// IN_PROGRESS entry stays that way (a stuck stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub snapshot_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<DeploymentAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DeploymentState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// RFC 3339, `now`, or relative such as `-3d`.
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Used for LastUpdated of terminal entries when `lastUpdated` is absent (default 180).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageSpec {
    pub name: String,
    /// The stage's IAM role (RoleARN pattern).
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub state: EntityState,
    /// Deployment history, in any order.
    #[serde(default)]
    pub deployments: Vec<DeploymentSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Defaults to the time encoded in the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Section name -> attributes document, returned by GetSnapshot.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sections: BTreeMap<String, serde_json::Value>,
    /// Shorthand for an entry in the scenario's `outcomes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GameSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub enable_termination_protection: bool,
    #[serde(default)]
    pub state: EntityState,
    #[serde(default)]
    pub stages: Vec<StageSpec>,
    #[serde(default)]
    pub snapshots: Vec<SnapshotSpec>,
}

fn default_region() -> String {
    "us-east-1".to_string()
}

fn default_account() -> String {
    "123456789012".to_string()
}

/// A whole scenario: what the emulator serves and how it misbehaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default = "default_account")]
    pub account_id: String,
    /// Page size of list operations when MaxResults is absent (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_page_size: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_outcome: Option<Outcome>,
    /// Snapshot id -> outcome, for snapshots of any game.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outcomes: BTreeMap<String, Outcome>,
    #[serde(default)]
    pub faults: FaultConfig,
    #[serde(default)]
    pub games: Vec<GameSpec>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: None,
            description: None,
            region: default_region(),
            account_id: default_account(),
            default_page_size: None,
            default_outcome: None,
            outcomes: BTreeMap::new(),
            faults: FaultConfig::default(),
            games: Vec::new(),
        }
    }
}

impl Scenario {
    /// The built-in demo scenario (`scenarios/demo.json`).
    pub fn demo() -> Scenario {
        // The embedded file is checked by a unit test, so this cannot fail in a released build.
        Scenario::from_json_str(DEMO_JSON).expect("embedded demo scenario parses")
    }

    /// The demo scenario's JSON text.
    pub fn demo_json() -> &'static str {
        DEMO_JSON
    }

    pub fn from_json_str(text: &str) -> Result<Scenario, ScenarioError> {
        Self::parse(text, None)
    }

    pub fn from_json_value(value: serde_json::Value) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario =
            serde_path_to_error::deserialize(value).map_err(|e| ScenarioError::Parse {
                origin: None,
                at: path_or_root(e.path().to_string()),
                message: e.inner().to_string(),
            })?;
        scenario.check().map_err(|message| ScenarioError::Invalid {
            origin: None,
            message,
        })?;
        Ok(scenario)
    }

    /// Reads a JSON scenario file; its name defaults to the file stem.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut scenario = Self::parse(&text, Some(path.display().to_string()))?;
        if scenario.name.is_none() {
            scenario.name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        }
        Ok(scenario)
    }

    fn parse(text: &str, origin: Option<String>) -> Result<Scenario, ScenarioError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let scenario: Scenario =
            serde_path_to_error::deserialize(de).map_err(|e| ScenarioError::Parse {
                origin: origin.clone(),
                at: path_or_root(e.path().to_string()),
                message: e.inner().to_string(),
            })?;
        scenario
            .check()
            .map_err(|message| ScenarioError::Invalid { origin, message })?;
        Ok(scenario)
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("unnamed")
    }

    /// Static checks: everything that does not depend on the clock. Model constraints are the
    /// same ones the API enforces, so whatever a scenario seeds could also have come from the
    /// real service.
    pub fn check(&self) -> Result<(), String> {
        let probe = OffsetDateTime::UNIX_EPOCH;
        let time = |at: &str, spec: &Option<String>| -> Result<(), String> {
            match spec {
                Some(s) => parse_time_spec(s, probe)
                    .map(|_| ())
                    .map_err(|e| format!("{at}: {e}")),
                None => Ok(()),
            }
        };
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "accountId must be 12 digits, got {:?}",
                self.account_id
            ));
        }
        if self.region.is_empty()
            || !self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!("region {:?} is not a region name", self.region));
        }
        if let Some(size) = self.default_page_size {
            if !(1..=100).contains(&size) {
                return Err(format!(
                    "defaultPageSize must be between 1 and 100, got {size}"
                ));
            }
        }
        if let Some(o) = &self.default_outcome {
            o.check("defaultOutcome")?;
        }
        self.faults.validate()?;

        let mut game_names = HashSet::new();
        let mut all_snapshots = HashSet::new();
        let mut deployment_ids = HashSet::new();
        for (gi, game) in self.games.iter().enumerate() {
            let at = format!("games[{gi}]");
            check_name(&format!("{at}.name"), &game.name)?;
            if !game_names.insert(game.name.as_str()) {
                return Err(format!("{at}.name: duplicate game {:?}", game.name));
            }
            check_description(&format!("{at}.description"), &game.description)?;
            check_tags(&format!("{at}.tags"), &game.tags)?;
            time(&format!("{at}.created"), &game.created)?;
            time(&format!("{at}.lastUpdated"), &game.last_updated)?;

            let mut snapshot_ids = HashSet::new();
            for (si, snap) in game.snapshots.iter().enumerate() {
                let at = format!("{at}.snapshots[{si}]");
                if !validate::is_snapshot_id(&snap.id) {
                    return Err(format!(
                        "{at}.id: {:?} does not match {}",
                        snap.id,
                        validate::SNAPSHOT_ID_PATTERN
                    ));
                }
                if !snapshot_ids.insert(snap.id.as_str()) {
                    return Err(format!("{at}.id: duplicate snapshot {:?}", snap.id));
                }
                all_snapshots.insert(snap.id.as_str());
                check_description(&format!("{at}.description"), &snap.description)?;
                time(&format!("{at}.created"), &snap.created)?;
                time(&format!("{at}.lastUpdated"), &snap.last_updated)?;
                for name in snap.sections.keys() {
                    if name.chars().count() > 36 || !validate::is_section_name(name) {
                        return Err(format!(
                            "{at}.sections: section name {name:?} does not match {} (1-36 chars)",
                            validate::SECTION_NAME_PATTERN
                        ));
                    }
                }
                if let Some(o) = &snap.outcome {
                    o.check(&format!("{at}.outcome"))?;
                }
            }

            let mut stage_names = HashSet::new();
            for (ti, stage) in game.stages.iter().enumerate() {
                let at = format!("{at}.stages[{ti}]");
                check_name(&format!("{at}.name"), &stage.name)?;
                if !stage_names.insert(stage.name.as_str()) {
                    return Err(format!("{at}.name: duplicate stage {:?}", stage.name));
                }
                let role_len = stage.role.chars().count();
                if !(20..=2048).contains(&role_len) || !validate::is_role_arn(&stage.role) {
                    return Err(format!(
                        "{at}.role: {:?} is not an IAM role ARN ({}, 20-2048 chars)",
                        stage.role,
                        validate::ROLE_ARN_PATTERN
                    ));
                }
                check_description(&format!("{at}.description"), &stage.description)?;
                check_tags(&format!("{at}.tags"), &stage.tags)?;
                if let Some(key) = &stage.game_key {
                    if key.is_empty() || key.chars().count() > 44 {
                        return Err(format!("{at}.gameKey must be 1-44 characters"));
                    }
                }
                if let Some(lg) = &stage.log_group {
                    if lg.is_empty() || lg.chars().count() > 512 {
                        return Err(format!("{at}.logGroup must be 1-512 characters"));
                    }
                }
                time(&format!("{at}.created"), &stage.created)?;
                time(&format!("{at}.lastUpdated"), &stage.last_updated)?;
                for (di, d) in stage.deployments.iter().enumerate() {
                    let at = format!("{at}.deployments[{di}]");
                    check_deployment(&at, d, &snapshot_ids, &mut deployment_ids)?;
                    time(&format!("{at}.created"), &Some(d.created.clone()))?;
                    time(&format!("{at}.lastUpdated"), &d.last_updated)?;
                }
            }
        }
        for (id, outcome) in &self.outcomes {
            if !all_snapshots.contains(id.as_str()) {
                return Err(format!(
                    "outcomes: snapshot {id:?} is not a snapshot of any game in the scenario"
                ));
            }
            outcome.check(&format!("outcomes.{id}"))?;
        }
        Ok(())
    }
}

fn path_or_root(p: String) -> String {
    if p.is_empty() || p == "." {
        "(root)".to_string()
    } else {
        p
    }
}

fn check_name(at: &str, name: &str) -> Result<(), String> {
    if name.chars().count() > 36 || !validate::is_name(name) {
        return Err(format!(
            "{at}: {name:?} does not match {} (1-36 chars)",
            validate::NAME_PATTERN
        ));
    }
    Ok(())
}

fn check_description(at: &str, d: &Option<String>) -> Result<(), String> {
    if let Some(d) = d {
        if d.chars().count() > 250 || !validate::is_description(d) {
            return Err(format!(
                "{at}: must be at most 250 characters without leading/trailing whitespace or line breaks"
            ));
        }
    }
    Ok(())
}

fn check_tags(at: &str, tags: &BTreeMap<String, String>) -> Result<(), String> {
    if tags.len() > 50 {
        return Err(format!("{at}: at most 50 tags"));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") {
            return Err(format!("{at}: invalid tag key {k:?}"));
        }
        if v.chars().count() > 256 {
            return Err(format!("{at}.{k}: tag value longer than 256 characters"));
        }
    }
    Ok(())
}

fn check_deployment<'a>(
    at: &str,
    d: &'a DeploymentSpec,
    snapshots: &HashSet<&str>,
    ids: &mut HashSet<&'a str>,
) -> Result<(), String> {
    if !snapshots.contains(d.snapshot_id.as_str()) {
        return Err(format!(
            "{at}.snapshotId: {:?} is not a snapshot of this game",
            d.snapshot_id
        ));
    }
    if let Some(id) = &d.id {
        if id.chars().count() > 128 || !validate::is_trimmed(id) {
            return Err(format!(
                "{at}.id: {id:?} must be 1-128 characters matching {}",
                validate::TRIMMED_PATTERN
            ));
        }
        if !ids.insert(id.as_str()) {
            return Err(format!("{at}.id: duplicate deployment id {id:?}"));
        }
    }
    if let Some(v) = d.duration_seconds {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "{at}.durationSeconds must be a non-negative number"
            ));
        }
    }
    let state = d.state.unwrap_or(DeploymentState::Completed);
    match (state, d.result) {
        (DeploymentState::Completed, Some(r)) if r != ResultCode::Success => Err(format!(
            "{at}: a COMPLETED deployment has result SUCCESS, not {}",
            r.as_str()
        )),
        (DeploymentState::Failed, Some(ResultCode::Success)) => Err(format!(
            "{at}: a FAILED deployment cannot have result SUCCESS"
        )),
        (DeploymentState::Pending | DeploymentState::InProgress, Some(_)) => Err(format!(
            "{at}: a {} deployment has no result yet",
            state.as_str()
        )),
        _ => Ok(()),
    }
}

/// The demo scenario's snapshots (`scenarios/demo.json`), named by what each does, for every
/// test and tool that drives the demo game. The file has no dependencies, so xtask compiles the
/// same file (`#[path]`) instead of depending on the emulator.
#[path = "demo_snapshots.rs"]
pub mod demo_snapshots;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_demo_snapshots_are_the_scenarios() {
        let json = Scenario::demo_json();
        for id in demo_snapshots::ALL {
            assert!(
                json.contains(&format!("\"id\": \"{id}\"")),
                "{id} is a snapshot of the demo"
            );
        }
    }

    #[test]
    fn demo_parses_and_checks() {
        let demo = Scenario::demo();
        assert_eq!(demo.display_name(), "demo");
        assert!(demo.games.iter().any(|g| g.name == "space-raiders"));
    }

    #[test]
    fn parse_errors_name_the_path() {
        let err =
            Scenario::from_json_str(r#"{"games": [{"name": "g", "stages": [{"name": "s"}]}]}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("games[0].stages[0]"), "{err}");
        assert!(err.contains("role"), "{err}");

        let err = Scenario::from_json_str(r#"{"gamez": []}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("gamez"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let bad = |v: serde_json::Value| Scenario::from_json_value(v).unwrap_err().to_string();
        let err =
            bad(serde_json::json!({"games": [{"name": "g", "snapshots": [{"id": "Snapshot_1"}]}]}));
        assert!(err.contains("games[0].snapshots[0].id"), "{err}");
        let err = bad(serde_json::json!({"games": [{"name": "g", "stages": [
            {"name": "s", "role": "arn:aws:iam::123:role/x"}]}]}));
        assert!(err.contains("games[0].stages[0].role"), "{err}");
        let err = bad(serde_json::json!({"outcomes": {"Snapshot_2026-01-01T00:00:00.000Z": {}}}));
        assert!(err.contains("outcomes"), "{err}");
        let err = bad(serde_json::json!({"games": [{"name": "g",
            "snapshots": [{"id": "Snapshot_2026-01-01T00:00:00.000Z"}],
            "stages": [{"name": "s", "role": "arn:aws:iam::123456789012:role/x",
                "deployments": [{"snapshotId": "Snapshot_2026-01-01T00:00:00.000Z", "created": "last week"}]}]}]}));
        assert!(
            err.contains("games[0].stages[0].deployments[0].created"),
            "{err}"
        );
    }

    #[test]
    fn outcome_merging() {
        let base = builtin_outcome();
        let o = Outcome {
            result: Some(ResultCode::UnspecifiedFailure),
            ..Outcome::default()
        };
        let r = o.over(&base);
        assert_eq!(r.result, ResultCode::UnspecifiedFailure);
        assert_eq!(r.duration_seconds, 120.0);
    }
}

//! What `--output json` prints: one JSON document per command on stdout, so `stagegate run -o json
//! ... | jq` works and a script never scrapes the lines a person reads. The documents are Rust
//! types here (camelCase, like the gate's contracts), and their JSON Schema is generated from
//! them into `schemas/cli-output.schema.json` (a test regenerates it and fails on any difference),
//! so what scripts are promised is what the CLI prints. The verdict and exit-class names in the
//! schema are read from the core's `Verdict::ALL` and `Exit::ALL`: a new outcome reaches the
//! schema with no list to keep.
//!
//! In json mode stdout holds exactly that one document: progress and result lines go to stderr
//! (`say`), and a failure still prints a document (`ErrorDocument`) beside its exit code 2.

use std::ffi::OsString;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use stagegate::approval::Decision;
use stagegate::verdict::Verdict;

use crate::audit::AuditDocument;
use crate::exit::Exit;
use crate::status::StatusReport;
use crate::validate::Problem;

mod decisions;
mod fleet;
pub use decisions::{
    DifferenceDocument, ExplainDocument, LineDocument, ReplayDocument, ReplaySummary,
    RunReplayDocument, StoryDocument,
};
pub use fleet::{
    BudgetDocument, BudgetSpentDocument, FailedGameDocument, FleetCostDocument, FleetEnding,
    FleetPlanDocument, FleetProgressDocument, FleetRunDocument, FleetState, FleetStatusDocument,
    FleetSummaryDocument, NextDocument, OnBreachName,
};

/// `--output`: the lines a person reads, or one JSON document for scripts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

impl Format {
    /// A line for the person: stdout in text mode; stderr in json mode, where stdout is the
    /// document's alone (CI logs still show the run's progress).
    pub fn say(self, line: &str) {
        match self {
            Self::Text => println!("{line}"),
            Self::Json => eprintln!("{line}"),
        }
    }
}

/// `run` and `follow`: how the execution stands when the CLI stops following it (at its end, at
/// `--timeout`, or at once with `--no-follow`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunDocument {
    pub execution_arn: String,
    /// The execution's name: the ARN's last part (what `status` shows and `--name` sets).
    pub execution_name: String,
    /// Step Functions' status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub status: String,
    /// The gate's verdict (the notification's outcome, or the Fail state's `StageGate.<VERDICT>`);
    /// null while running, or when the execution stopped outside the gate's own endings.
    #[schemars(schema_with = "outcome_schema")]
    pub outcome: Option<String>,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
    /// The execution's error (e.g. `StageGate.ROLLED_BACK`), when it failed.
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The gate's message body as the topic's subscriber received it (`--queue-url`; see
    /// `message.schema.json`); null without `--queue-url` or when none arrived.
    pub notification: Option<serde_json::Value>,
    /// From the execution's start to its stop, or to now while it runs.
    pub duration_seconds: Option<f64>,
}

/// What is known of an execution when the CLI stops following it: the input of `RunDocument`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Execution {
    pub arn: String,
    pub status: String,
    pub verdict: Option<Verdict>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The notification's body, as received.
    pub notification: Option<String>,
    pub duration_seconds: Option<f64>,
}

impl RunDocument {
    pub fn new(execution: Execution, exit: Exit) -> Self {
        let notification = execution.notification.map(|text| {
            // A body that is not JSON is still shown to the script, as the text it was.
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        });
        Self {
            execution_name: execution_name(&execution.arn),
            execution_arn: execution.arn,
            status: execution.status,
            outcome: execution.verdict.map(|v| v.as_str().to_owned()),
            exit_code: exit.code(),
            exit_class: exit.as_str().to_owned(),
            error: execution.error,
            cause: execution.cause,
            notification,
            duration_seconds: execution.duration_seconds,
        }
    }

    /// `run --no-follow`: started, nothing more known; the command did what it was asked.
    pub fn started(arn: &str) -> Self {
        let execution = Execution {
            arn: arn.to_owned(),
            status: "RUNNING".into(),
            ..Execution::default()
        };
        Self::new(execution, Exit::Done)
    }
}

/// An execution ARN's name (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`).
fn execution_name(arn: &str) -> String {
    arn.rsplit(':').next().unwrap_or(arn).to_owned()
}

/// `validate`: the summary of a valid input, or the field and rule an invalid one breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidateDocument {
    pub valid: bool,
    /// What the run would do, as `validate` prints it (null when invalid).
    pub summary: Option<String>,
    /// Why the input is refused (null when valid).
    pub problem: Option<ProblemDocument>,
    /// The whole refusal as one line (null when valid).
    pub error: Option<String>,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemDocument {
    /// The input field, e.g. `policy.timeoutSeconds`; null when the text is not JSON at all.
    pub field: Option<String>,
    pub rule: String,
}

impl ValidateDocument {
    pub fn new(checked: &Result<String, Problem>) -> Self {
        let (valid, exit) = match checked {
            Ok(_) => (true, Exit::Done),
            // An invalid input is the command's failure: nothing could start (`Exit::Error`).
            Err(_) => (false, Exit::Error),
        };
        Self {
            valid,
            summary: checked.as_ref().ok().cloned(),
            problem: checked.as_ref().err().map(|p| ProblemDocument {
                field: p.field.clone(),
                rule: p.rule.clone(),
            }),
            error: checked.as_ref().err().map(Problem::to_string),
            exit_code: exit.code(),
            exit_class: exit.as_str().to_owned(),
        }
    }
}

/// `approve`, `reject` and `abort`: the answer delivered (a refused one is an `ErrorDocument`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnswerDocument {
    pub execution_arn: String,
    /// APPROVE, REJECT or ABORT.
    #[schemars(schema_with = "decision_schema")]
    pub decision: String,
    /// What happened, as the text output says it.
    pub message: String,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

impl AnswerDocument {
    pub fn new(execution_arn: &str, decision: Decision, message: String) -> Self {
        Self {
            execution_arn: execution_arn.to_owned(),
            decision: decision.as_str().to_owned(),
            message,
            exit_code: Exit::Done.code(),
            exit_class: Exit::Done.as_str().to_owned(),
        }
    }
}

/// Any command that failed (arguments, input, AWS): exit code 2, and still a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDocument {
    pub error: String,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

impl ErrorDocument {
    pub fn new(error: &str) -> Self {
        Self {
            error: error.to_owned(),
            exit_code: Exit::Error.code(),
            exit_class: Exit::Error.as_str().to_owned(),
        }
    }
}

/// Every document `--output json` prints, one per command kind: the schema's root. Untagged:
/// each is told apart by the members it requires (`plan` and `statusCommand`, `fleetStatus`,
/// `executionArn` and `status`, `valid`, `decision`, `gameName`, `source` and `story`, `runs` and
/// `summary`, `whole`, or `error` alone). The fleet's documents come first: read back, a document
/// takes the first kind whose required members it has, and a fleet's also has a run's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Document {
    FleetRun(FleetRunDocument),
    FleetStatus(FleetStatusDocument),
    Run(RunDocument),
    Validate(ValidateDocument),
    Answer(AnswerDocument),
    Status(StatusReport),
    Explain(ExplainDocument),
    Replay(ReplayDocument),
    Audit(AuditDocument),
    Error(ErrorDocument),
}

impl Document {
    /// The document, pretty-printed (a script reads it whole; a person may read it too).
    pub fn to_json(&self) -> String {
        // Plain structs of strings, numbers and JSON values: serialising cannot fail, but if it
        // ever did the script must still get a document, not nothing.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            format!(
                r#"{{"error": "writing the output as JSON: {}", "exitCode": 2, "exitClass": "ERROR"}}"#,
                e.to_string().replace(['"', '\\'], "'")
            )
        })
    }

    pub fn print(&self) {
        println!("{}", self.to_json());
    }
}

/// Whether the command line asks for JSON, read from the raw arguments: for an error clap itself
/// reports (a missing or unknown argument), where no parsed `Cli` exists, so that a script that
/// asked for JSON still gets a document.
pub fn wants_json(args: impl IntoIterator<Item = OsString>) -> bool {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    args.iter().enumerate().any(|(i, arg)| {
        let next = args.get(i + 1).map(String::as_str);
        match arg.as_str() {
            "--json" | "--output=json" | "-ojson" | "-o=json" => true,
            "--output" | "-o" => next == Some("json"),
            _ => false,
        }
    })
}

/// `schemas/cli-output.schema.json`: closed, like the message schema, so a script validating
/// against it learns of a new member from the schema's diff; and every member required, null
/// included, because every one is always printed (a script may read any without a default).
pub fn schema() -> Schema {
    let mut schema = schemars::schema_for!(Document);
    if let Some(root) = schema.as_object_mut() {
        root.insert(
            "title".into(),
            "stagegate CLI output (--output json)".into(),
        );
        root.values_mut().for_each(close_and_require);
    }
    schema
}

/// On every object schema with `properties`: `additionalProperties: false` unless it says
/// otherwise, and all its properties `required` (the documents are plain structs, printed whole:
/// their fields are all there is, and all are there).
fn close_and_require(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                let names: Vec<serde_json::Value> =
                    properties.keys().map(|k| k.as_str().into()).collect();
                map.insert("required".into(), names.into());
                if !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), false.into());
                }
            }
            map.values_mut().for_each(close_and_require);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(close_and_require),
        _ => {}
    }
}

fn outcome_schema(_: &mut SchemaGenerator) -> Schema {
    let mut names: Vec<serde_json::Value> =
        Verdict::ALL.iter().map(|v| v.as_str().into()).collect();
    names.push(serde_json::Value::Null);
    schemars::json_schema!({"type": ["string", "null"], "enum": names})
}

fn exit_code_schema(_: &mut SchemaGenerator) -> Schema {
    let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
    schemars::json_schema!({"type": "integer", "enum": codes})
}

fn exit_class_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Exit::ALL.iter().map(|e| e.as_str()).collect();
    schemars::json_schema!({"type": "string", "enum": names})
}

fn decision_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = [Decision::Approve, Decision::Reject, Decision::Abort]
        .iter()
        .map(|d| d.as_str())
        .collect();
    schemars::json_schema!({"type": "string", "enum": names})
}

#[cfg(test)]
mod tests;

//! `stagegate audit verify`: whether a stage's decision records (docs/audit.md) are whole. It
//! lists the stage's prefix in the records bucket, reads every record and hands the keys and
//! bytes to the core's `chain::verify`, which names each record at fault and why; this module
//! fetches and words the findings, and `verify` runs the command and prints them. Read only (s3:ListBucket and s3:GetObject: the stack's AuditPolicy).
//!
//! Exit codes: 0 when the chain is whole; 1 (someone must act) when any record is unparsable,
//! altered, missing, moved, or the chain forks or restarts; 2 when the command could not check
//! (arguments, AWS access). A stage with no record at all is whole: nothing to contradict, and
//! the newest record's deletion is what the chain cannot see anyway (docs/audit.md says how the
//! SNS messages and Object Lock cover that).

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use stagegate::ports::RecordStore;
use stagegate::record::{self, chain};

use crate::aws::AwsArgs;
use crate::exit::Exit;

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check a stage's decision records: every record readable, each one's bytes what its
    /// successor recorded, no record missing, no fork. Exit 0 when whole, 1 naming each record
    /// at fault.
    Verify(VerifyArgs),
}

#[derive(clap::Args, Clone, Debug)]
pub struct VerifyArgs {
    /// The game whose records are checked.
    #[arg(long)]
    pub game: String,
    /// The stage whose records are checked.
    #[arg(long)]
    pub stage: String,
    /// The records bucket (the stack's DecisionRecordsBucketName output).
    #[arg(long, env = "STAGEGATE_RECORD_BUCKET")]
    pub bucket: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Endpoint for S3, e.g. the local stack (also AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

impl VerifyArgs {
    /// The stage's prefix; a game or stage the gate would never record under is refused before
    /// any call.
    pub fn prefix(&self) -> Result<String, String> {
        record::prefix(&self.game, &self.stage)
    }
}

/// What `--output json` prints for `audit verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditDocument {
    pub game: String,
    pub stage: String,
    pub bucket: String,
    /// How many records the stage's prefix holds.
    pub records: usize,
    /// The newest record's key (null: none).
    pub newest: Option<String>,
    /// No problem found.
    pub whole: bool,
    pub problems: Vec<AuditProblem>,
    #[schemars(schema_with = "exit_code_schema")]
    pub exit_code: u8,
    #[schemars(schema_with = "exit_class_schema")]
    pub exit_class: String,
}

/// One record (or several, for a fork) at fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditProblem {
    /// UNPARSABLE, ALTERED, MISSING, FORK, RESTARTED or MISPLACED.
    pub kind: String,
    /// The records at fault.
    pub keys: Vec<String>,
    /// The whole finding, as the text output says it.
    pub why: String,
}

impl AuditDocument {
    pub fn new(args: &VerifyArgs, report: &chain::Report) -> Self {
        let exit = exit_of(report);
        Self {
            game: args.game.clone(),
            stage: args.stage.clone(),
            bucket: args.bucket.clone(),
            records: report.records,
            newest: report.newest.clone(),
            whole: report.is_whole(),
            problems: report
                .problems
                .iter()
                .map(|p| AuditProblem {
                    kind: p.kind().to_owned(),
                    keys: p.keys().into_iter().map(str::to_owned).collect(),
                    why: p.to_string(),
                })
                .collect(),
            exit_code: exit.code(),
            exit_class: exit.as_str().to_owned(),
        }
    }
}

pub fn exit_of(report: &chain::Report) -> Exit {
    if report.is_whole() {
        Exit::Done
    } else {
        Exit::NeedsPerson
    }
}

/// The lines a person reads.
pub fn text(args: &VerifyArgs, report: &chain::Report) -> String {
    let mut out = format!(
        "{}/{}: {} record{} in s3://{}",
        args.game,
        args.stage,
        report.records,
        if report.records == 1 { "" } else { "s" },
        args.bucket
    );
    if let Some(newest) = &report.newest {
        out.push_str(&format!(", newest {newest}"));
    }
    out.push('\n');
    if report.is_whole() {
        out.push_str("whole: every record reads, hashes to what its successor recorded, and none is missing or forked\n");
    } else {
        out.push_str(&format!("{} problem(s):\n", report.problems.len()));
        for problem in &report.problems {
            out.push_str(&format!("  {:<10} {problem}\n", problem.kind()));
        }
    }
    out
}

/// Reads every record under the stage's prefix, in key order.
pub async fn fetch<S: RecordStore>(
    store: &S,
    prefix: &str,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let keys = store.list_keys(prefix).await.map_err(|e| e.to_string())?;
    let mut records = Vec::with_capacity(keys.len());
    for key in keys {
        let bytes = store.get(&key).await.map_err(|e| e.to_string())?;
        records.push((key, bytes));
    }
    Ok(records)
}

/// The exit codes and classes, as `output`'s documents give them (here, not borrowed from
/// `output`, which prints this module's document: no module cycle).
fn exit_code_schema(_: &mut SchemaGenerator) -> Schema {
    let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
    schemars::json_schema!({"type": "integer", "enum": codes})
}

fn exit_class_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Exit::ALL.iter().map(|e| e.as_str()).collect();
    schemars::json_schema!({"type": "string", "enum": names})
}

pub mod verify;

#[cfg(test)]
mod tests;

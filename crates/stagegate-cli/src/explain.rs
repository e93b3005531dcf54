//! `stagegate explain`: why a run did what it did, told from its own decision record. A person
//! asking "why did prod roll back at 03:12?" should not have to read a history of hundreds of
//! events and the policy code: the gate state carries every decision with the facts it was taken
//! on (`stagegate::evidence`), and the core tells it (`stagegate::explain::story`); this module
//! finds that state (`saved`: in the execution's history, or in a history file, with no AWS
//! call) and prints it, each decision as evidence, rule, then.
//!
//! The SFN client it builds is the one `replay` reads with too.

use std::path::PathBuf;

use serde_json::Value;
use stagegate::explain::story::{story, Story};
use stagegate::policy::Policy;

use crate::aws::AwsArgs;
use crate::output::{ExplainDocument, StoryDocument};
use crate::saved::{self, Said, SavedHistory};
use crate::target;

#[derive(clap::Args, Clone, Debug)]
pub struct ExplainArgs {
    /// The execution: its name, as `stagegate status` shows it (with --state-machine-arn), or
    /// its ARN.
    #[arg(
        long,
        visible_alias = "execution-arn",
        value_name = "NAME|ARN",
        required_unless_present = "history",
        conflicts_with = "history"
    )]
    pub execution: Option<String>,
    /// The gate's state machine, to find an execution by its name.
    #[arg(long, env = "STATE_MACHINE_ARN")]
    pub state_machine_arn: Option<String>,
    /// A saved history instead of --execution (no AWS call): `aws stepfunctions
    /// get-execution-history` JSON (`{"events": [...]}`), or a file --save-history wrote.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Write the history read (its newest events, back to the newest gate state) to FILE, for
    /// `explain --history` or `replay --from` later.
    #[arg(long, value_name = "FILE", conflicts_with = "history")]
    pub save_history: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Endpoint for Step Functions, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

impl ExplainArgs {
    /// The execution's ARN, when one was named (not with --history).
    pub fn arn(&self) -> Result<Option<String>, String> {
        self.execution
            .as_deref()
            .map(|e| target::execution_arn(e, self.state_machine_arn.as_deref()))
            .transpose()
    }
}

/// A Step Functions client for reading histories (and, for `replay --since`, listing runs).
pub async fn sfn_client(
    aws: &AwsArgs,
    endpoint_url: Option<&str>,
    arn: &str,
) -> Result<aws_sdk_sfn::Client, String> {
    let config = crate::aws::load(aws, Some(arn)).await?;
    let mut sfn = aws_sdk_sfn::config::Builder::from(&config);
    if let Some(url) = crate::aws::endpoint_url(endpoint_url, "SFN") {
        sfn = sfn.endpoint_url(url);
    }
    Ok(aws_sdk_sfn::Client::from_conf(sfn.build()))
}

/// The history the arguments name: the file, or the execution's, read from Step Functions (and
/// saved when asked). Returns it with where it came from (the ARN, or the file's path).
pub async fn history(args: &ExplainArgs) -> Result<(SavedHistory, String), String> {
    if let Some(path) = &args.history {
        return Ok((SavedHistory::read(path)?, path.display().to_string()));
    }
    let arn = args
        .arn()?
        .ok_or("give --execution NAME|ARN, or --history FILE")?;
    let sfn = sfn_client(&args.aws, args.endpoint_url.as_deref(), &arn).await?;
    let read = saved::fetch(&sfn, &arn, std::time::Duration::ZERO).await?;
    if let Some(path) = &args.save_history {
        read.write(path)?;
    }
    Ok((read, arn))
}

/// What `explain` prints, from a history: the story of its newest gate state.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// The execution's ARN, or the history file's path.
    pub source: String,
    pub execution_arn: Option<String>,
    pub story: Option<Story>,
    pub notification: Option<Value>,
    pub ending: Option<String>,
}

pub fn explain(history: &SavedHistory, source: &str) -> Result<Explained, String> {
    let Said {
        state,
        notification,
        ending,
    } = history.said()?;
    Ok(Explained {
        source: source.to_owned(),
        execution_arn: history.execution_arn.clone(),
        story: state.as_ref().map(story),
        notification,
        ending,
    })
}

/// The policy in one line, as the input names its fields.
pub fn policy_line(p: &Policy) -> String {
    format!(
        "onInvalidRole: {}, onUnspecifiedFailure: {}, onTimeout: {}, onBakeFailure: {}, \
         timeoutSeconds: {} (+{} s grace)",
        p.on_invalid_role.as_str(),
        p.on_unspecified_failure.as_str(),
        p.on_timeout.as_str(),
        p.on_bake_failure.as_str(),
        p.timeout_seconds,
        p.timeout_grace_seconds
    )
}

/// The story as a person reads it.
pub fn render(e: &Explained) -> String {
    let mut out = String::new();
    let Some(s) = &e.story else {
        out.push_str(&format!(
            "{}: no gate state in the history: the run ended before its start took a decision \
             (e.g. its input was refused){}\n",
            e.source,
            e.ending
                .as_deref()
                .map_or_else(String::new, |end| format!("; it ended {end}"))
        ));
        return out;
    };
    out.push_str(&format!("{} run {}\n", s.game_name, s.execution_id));
    out.push_str(&format!("  snapshot:    {}\n", s.requested_snapshot_id));
    out.push_str(&format!("  policy:      {}\n", policy_line(&s.policy)));
    out.push_str(&format!(
        "  recorded by: {}\n",
        if s.recorded_by.is_empty() {
            "(no decision record: a run from before the record existed)"
        } else {
            &s.recorded_by
        }
    ));
    if let Some(end) = &e.ending {
        out.push_str(&format!("  ended:       {end}\n"));
    }
    for line in &s.lines {
        out.push_str(&format!(
            "\n{}  {}  {}\n",
            stagegate::timefmt::rfc3339(line.at),
            line.stage_name,
            line.kind
        ));
        out.push_str(&format!("  evidence: {}\n", line.evidence));
        out.push_str(&format!("  rule:     {}\n", line.rule));
        out.push_str(&format!("  then:     {}\n", line.then));
    }
    out.push('\n');
    if s.dropped > 0 {
        out.push_str(&format!(
            "{} later decision(s) not kept (the record is bounded)\n",
            s.dropped
        ));
    }
    out.push_str(&format!(
        "quiet: {} poll(s) of a running deployment, {} bake check(s) with every alarm quiet{}\n",
        s.quiet_polls,
        s.quiet_bake_checks,
        if s.quiet_digest.is_empty() {
            String::new()
        } else {
            format!(" (digest {})", s.quiet_digest)
        }
    ));
    out.push_str(&format!("verdict: {}: {}\n", s.verdict.as_str(), s.reason));
    out.push_str(&match &e.notification {
        Some(n) => format!(
            "published: {} {}{}\n",
            n["outcome"].as_str().unwrap_or("?"),
            n["subject"]
                .as_str()
                .map_or_else(String::new, |s| format!("\"{s}\"")),
            n["messageId"]
                .as_str()
                .map_or_else(String::new, |m| format!(" (message {m})"))
        ),
        None => "published: nothing (yet)\n".to_owned(),
    });
    out
}

/// The `--output json` document.
pub fn document(e: &Explained) -> ExplainDocument {
    ExplainDocument::new(
        e.source.clone(),
        e.execution_arn.clone(),
        e.ending.clone(),
        e.story.as_ref().map(StoryDocument::of),
        e.notification.clone(),
    )
}

#[cfg(test)]
mod tests;

//! What a person following a gate sees: one line per step, from the execution history; and, when
//! the output is a terminal, one live line under them (`Live`, `live_line`), rewritten in place,
//! that says what the run is doing and how long each wait has left: the bake, the approval, the
//! follower's own deadline. A run waits hours with nothing new in its history; without it the
//! screen looks hung. Not a terminal: the plain lines only, as a log or a script wants them.

use serde::Deserialize;
use serde_json::Value;
use stagegate::approval::Answer;
use stagegate::deployment::ResultCode;
use stagegate::handlers::notify::NotifyOutput;
use stagegate::policy::{Action, Phase};
use stagegate::state::{rfc3339, GateState};
use time::OffsetDateTime;

use crate::envelope::Envelope;

const INDENT: &str = "          ";

pub fn state_entered(elapsed_s: f64, name: &str) -> String {
    format!("[{elapsed_s:>6.1}s] {name}")
}

/// Summarises a task's output: a gate state (what the deployment is doing and what comes next),
/// an approval's answer or the notify result. Each is read as the core's type: an output that is
/// not what it claims says so, with the field serde stopped at, rather than printing "-".
pub fn task_output(output: &str) -> Option<String> {
    let value: Value = serde_json::from_str(output).ok()?;
    // lambda:invoke wraps the function's result in Payload.
    let payload = match value {
        Value::Object(mut o) if o.contains_key("Payload") => o.remove("Payload")?,
        other => other,
    };
    if payload.get("messageId").is_some() {
        return Some(match NotifyOutput::deserialize(&payload) {
            Ok(n) => format!(
                "{INDENT}notification published: {} ({})",
                n.outcome.as_str(),
                n.subject
            ),
            Err(e) => format!("{INDENT}notify output not understood: {e}"),
        });
    }
    // The task that waited for an approval returns the answer `stagegate approve|reject|abort`
    // sent (SendTaskSuccess), not a gate state.
    if payload.get("decision").is_some() {
        return Some(match Answer::deserialize(&payload) {
            Ok(a) => {
                let mut line = format!("{INDENT}answered {}", a.decision.as_str());
                if let Some(by) = &a.by {
                    line.push_str(&format!(" by {by}"));
                }
                if let Some(reason) = &a.reason {
                    line.push_str(&format!(": {}", short(reason, 240)));
                }
                line
            }
            Err(e) => format!("{INDENT}approval answer not understood: {e}"),
        });
    }
    match GateState::deserialize(&payload) {
        Ok(state) => Some(state_line(&state)),
        Err(e) => Some(format!(
            "{INDENT}task output not understood as a gate state: {e}"
        )),
    }
}

fn state_line(state: &GateState) -> String {
    let action = state.action.as_str();
    // A wave names the stage each line is about.
    let stage = match &state.wave {
        Some(_) => format!("[{}] ", state.stage_name),
        None => String::new(),
    };
    if state.dry_run {
        // The core's reason starts with "dry run:".
        return format!("{INDENT}{}; next: {action}", state.reason);
    }
    if state.phase == Phase::Bake && state.abort.is_none() {
        return format!("{INDENT}{stage}{}", bake_line(state, action));
    }
    if state.phase == Phase::Approval {
        return format!("{INDENT}{stage}{}; next: {action}", state.reason);
    }
    let watched = state.watched();
    let what = if watched.rollback_of.is_some() {
        "rollback"
    } else {
        "deployment"
    };
    let head = format!(
        "{INDENT}{stage}{what} {} of {}: {}",
        shown(&watched.deployment_id),
        watched.snapshot_id,
        watched.deployment_state,
    );
    match state.action {
        Action::Wait => format!(
            "{head}; next poll in {} s (polls so far: {})",
            state.wait_seconds, watched.attempt
        ),
        _ => {
            let code = watched
                .result_code
                .as_ref()
                .map_or("no result code", ResultCode::as_str);
            format!(
                "{head} -> {} ({code}); next: {action}: {}",
                watched.outcome.as_str(),
                state.reason
            )
        }
    }
}

/// `bake: check 3, alarms errors=OK, latency=OK; next check in 30 s`
fn bake_line(state: &GateState, action: &str) -> String {
    let window = state.bake_window.as_ref();
    // The state names each alarm once, in `bake.alarmNames`; a reading gives its position.
    let names = state
        .bake
        .as_ref()
        .map(|b| b.alarm_names.as_slice())
        .unwrap_or_default();
    let alarms: Vec<String> = window
        .map(|w| {
            w.readings
                .iter()
                .map(|r| {
                    let name = names.get(r.alarm).map_or("-", String::as_str);
                    format!("{name}={}", r.state)
                })
                .collect()
        })
        .unwrap_or_default();
    let head = format!(
        "bake of deployment {} until {}: check {}, alarms {}",
        shown(&state.deployment.deployment_id),
        window.map_or_else(|| "-".to_owned(), |w| rfc3339(w.ends_at)),
        window.map_or(0, |w| w.checks),
        if alarms.is_empty() {
            "not read yet".to_owned()
        } else {
            alarms.join(", ")
        }
    );
    match state.action {
        Action::Wait => format!("{head}; next check in {} s", state.wait_seconds),
        _ => format!("{head}; next: {action}: {}", state.reason),
    }
}

fn shown(id: &str) -> &str {
    if id.is_empty() {
        "-"
    } else {
        id
    }
}

/// What the live line knows: the state the run is in, and the ends of its current waits, as the
/// history says them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    pub state: String,
    /// The bake window's end, while the run bakes.
    pub bake_until: Option<OffsetDateTime>,
    /// When the pending approval times out, while the run waits for one.
    pub approval_until: Option<OffsetDateTime>,
}

impl Live {
    /// A state was entered.
    pub fn entered(&mut self, name: &str) {
        name.clone_into(&mut self.state);
    }

    /// A task returned `output`: a gate state says which wait the run is in (none: both end).
    pub fn task_output(&mut self, output: &str) {
        let Some(state) = serde_json::from_str::<Value>(output)
            .ok()
            .map(|v| match v {
                Value::Object(mut o) if o.contains_key("Payload") => {
                    o.remove("Payload").unwrap_or_default()
                }
                other => other,
            })
            .and_then(|payload| GateState::deserialize(&payload).ok())
        else {
            return;
        };
        let waiting = state.action == Action::Wait && state.abort.is_none();
        self.bake_until = state
            .bake_window
            .as_ref()
            .filter(|_| waiting && state.phase == Phase::Bake)
            .map(|w| w.ends_at);
        self.approval_until = state
            .approval
            .as_ref()
            .filter(|a| state.phase == Phase::Approval && a.answer.is_none())
            .map(|a| a.expires_at);
    }
}

/// The live line at `now`: `Poll | bake 4m10s left | approval 12m00s left to answer | stops
/// waiting in 2h59m`; the follower's deadline is left out when unknown.
pub fn live_line(live: &Live, deadline: Option<OffsetDateTime>, now: OffsetDateTime) -> String {
    let mut parts = vec![if live.state.is_empty() {
        "starting".to_owned()
    } else {
        live.state.clone()
    }];
    if let Some(end) = live.bake_until {
        parts.push(format!("bake {} left", left(end, now)));
    }
    if let Some(end) = live.approval_until {
        parts.push(format!("approval {} left to answer", left(end, now)));
    }
    if let Some(end) = deadline {
        parts.push(format!("stops waiting in {}", left(end, now)));
    }
    parts.join(" | ")
}

/// The live line drawn over the current terminal line: back to its start, the text, the rest of
/// the line cleared (a shorter line leaves nothing of the longer one before it).
pub fn redraw(line: &str) -> String {
    format!("\r{line}\x1b[K")
}

/// Clears the live line so an ordinary line can be printed in its place.
pub const CLEAR: &str = "\r\x1b[K";

/// Time from `now` to `end`, to the second below an hour, to the minute above; 0s once past.
fn left(end: OffsetDateTime, now: OffsetDateTime) -> String {
    let secs = (end - now).whole_seconds().max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

pub fn task_failed(error: &str, cause: &str) -> String {
    format!(
        "{INDENT}task failed: {error}: {}",
        short(&readable_cause(cause), 240)
    )
}

/// Lambda error causes are JSON documents; show their message.
pub fn readable_cause(cause: &str) -> String {
    serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| cause.to_owned())
}

/// An SNS notification as an SQS subscriber receives it: subject, attributes and summary; the
/// JSON body too when `full` (it runs to dozens of lines), else where to find it (`saved_to`).
pub fn notification(envelope: &Envelope, full: bool, saved_to: Option<&std::path::Path>) -> String {
    let mut out = String::from("notification received by the subscriber:\n");
    out.push_str(&format!("  subject:    {}\n", envelope.subject));
    if !envelope.message_attributes.is_empty() {
        let shown: Vec<String> = envelope
            .message_attributes
            .iter()
            .map(|(k, v)| format!("{k}={}", v.value))
            .collect();
        out.push_str(&format!("  attributes: {}\n", shown.join(", ")));
    }
    match envelope.body() {
        Ok(body) => {
            out.push_str(&format!("  summary:    {}\n", body.summary));
            if full {
                let pretty = serde_json::to_string_pretty(&body).unwrap_or_default();
                for line in pretty.lines() {
                    out.push_str("  | ");
                    out.push_str(line);
                    out.push('\n');
                }
            } else {
                match saved_to {
                    Some(path) => out.push_str(&format!("  message:    {}\n", path.display())),
                    None => out.push_str("  message:    (--verbose prints the JSON body)\n"),
                }
            }
        }
        Err(e) => out.push_str(&format!("  message:    {e}\n")),
    }
    out
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(max).collect();
        cut.push_str("...");
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stagegate::bake::{AlarmReading, BakeSpec, BakeWindow};
    use stagegate::classify::Outcome;
    use stagegate::deployment::DeploymentState;
    use stagegate::policy::Policy;
    use stagegate::state::Watch;
    use stagegate::wave::{Wave, WaveStage};

    fn stage(name: &str) -> WaveStage {
        WaveStage {
            stage_name: name.into(),
            bake: None,
            approval: None,
            passed: None,
        }
    }
    use time::OffsetDateTime;

    const T: OffsetDateTime = time::macros::datetime!(2026-03-01 12:00:00 UTC);

    fn watch(id: &str, snapshot: &str, state: DeploymentState) -> Watch {
        Watch {
            deployment_id: id.into(),
            snapshot_id: snapshot.into(),
            started_at: T,
            deadline: T,
            attempt: 2,
            deployment_state: state,
            outcome: Outcome::InProgress,
            result_code: None,
            message: None,
            finished_at: None,
            rollback_of: None,
        }
    }

    fn state(action: Action, phase: Phase) -> GateState {
        GateState {
            game_name: "g".into(),
            stage_name: "prod".into(),
            execution_id: "arn:x".into(),
            run_id: String::new(),
            execution_started_at: T,
            requested_snapshot_id: "S".into(),
            previous_snapshot_id: None,
            policy: Policy::default(),
            deployment: watch("dep-1", "S", DeploymentState::InProgress),
            rollback: None,
            bake: None,
            bake_window: None,
            wave: None,
            dry_run: false,
            plan: None,
            approval: None,
            abort: None,
            abort_unreadable: None,
            freeze_windows: vec![],
            frozen: None,
            decisions: Default::default(),
            phase,
            action,
            reason: "r".into(),
            wait_seconds: 15,
        }
    }

    /// As Step Functions records a lambda:invoke task's output.
    fn invoked(state: &GateState) -> String {
        json!({"Payload": state, "StatusCode": 200}).to_string()
    }

    #[test]
    fn the_live_line_counts_down_the_waits_it_is_in() {
        let mut live = Live::default();
        let deadline = Some(T + time::Duration::seconds(3 * 3600 + 125));
        assert_eq!(
            live_line(&live, deadline, T),
            "starting | stops waiting in 3h02m"
        );
        live.entered("Poll");
        // Baking: the window's end.
        let mut s = state(Action::Wait, Phase::Bake);
        s.bake_window = Some(BakeWindow {
            started_at: T,
            ends_at: T + time::Duration::seconds(250),
            checks: 1,
            readings: vec![],
            ignored_read_errors: 0,
            last_read_error: None,
            failure: None,
            passed_at: None,
        });
        live.task_output(&invoked(&s));
        assert_eq!(
            live_line(&live, deadline, T),
            "Poll | bake 4m10s left | stops waiting in 3h02m"
        );
        assert_eq!(
            live_line(&live, None, T + time::Duration::seconds(300)),
            "Poll | bake 0s left"
        );
        // Awaiting approval: the time left to answer; the bake is over.
        live.entered("AwaitApproval");
        let mut s = state(Action::Wait, Phase::Approval);
        s.approval = Some(stagegate::approval::Approval {
            stage_name: "prod".into(),
            timeout_seconds: 3600,
            requested_at: T,
            expires_at: T + time::Duration::seconds(3600),
            serving_snapshot_id: None,
            answer: None,
            wait_seconds: 3600,
            refused: vec![],
        });
        live.task_output(&invoked(&s));
        assert_eq!(
            live_line(&live, None, T + time::Duration::seconds(59)),
            "AwaitApproval | approval 59m01s left to answer"
        );
        // Deploying: no wait of its own to show; an output that is not a gate state changes
        // nothing.
        live.task_output(&invoked(&state(Action::Wait, Phase::Deploy)));
        live.task_output("not json");
        assert_eq!(live_line(&live, None, T), "AwaitApproval");
        assert_eq!(redraw("x"), "\rx\x1b[K");
    }

    #[test]
    fn waiting_deployment() {
        let s = state(Action::Wait, Phase::Deploy);
        assert_eq!(
            task_output(&invoked(&s)).as_deref().map(str::trim),
            Some("deployment dep-1 of S: IN_PROGRESS; next poll in 15 s (polls so far: 2)")
        );
    }

    #[test]
    fn bake_waves_and_dry_runs_have_their_own_lines() {
        let mut s = state(Action::Wait, Phase::Bake);
        s.wait_seconds = 30;
        s.wave = Some(Wave {
            index: 1,
            stages: vec![stage("staging"), stage("prod")],
        });
        s.bake = Some(BakeSpec {
            seconds: 60,
            alarm_names: vec!["latency".into(), "errors".into()],
            check_interval_seconds: 30,
            fail_on_insufficient_data: false,
            ignore_alarm_read_errors: false,
        });
        s.bake_window = Some(BakeWindow {
            started_at: T,
            ends_at: T,
            checks: 2,
            readings: vec![AlarmReading {
                alarm: 1,
                state: "OK".into(),
                reason: None,
                updated_at: None,
            }],
            ignored_read_errors: 0,
            last_read_error: None,
            failure: None,
            passed_at: None,
        });
        let line = task_output(&invoked(&s)).unwrap_or_default();
        assert!(line.contains("[prod] bake of deployment dep-1 until 2026-03-01T12:00:00Z: check 2, alarms errors=OK; next check in 30 s"), "{line}");
        let mut s = state(Action::Alert, Phase::Deploy);
        s.dry_run = true;
        s.reason = "dry run: x".into();
        let line = task_output(&invoked(&s)).unwrap_or_default();
        assert!(line.ends_with("dry run: x; next: alert"), "{line}");
    }

    #[test]
    fn rollback_phase_shows_the_rollback() {
        let mut s = state(Action::Alert, Phase::Rollback);
        let mut rollback = watch("dep-2", "G", DeploymentState::Completed);
        rollback.outcome = Outcome::Succeeded;
        rollback.result_code = Some(ResultCode::Success);
        rollback.rollback_of = Some("dep-1".into());
        s.rollback = Some(rollback);
        let line = task_output(&invoked(&s)).unwrap_or_default();
        assert!(
            line.contains("rollback dep-2 of G: COMPLETED -> SUCCEEDED (SUCCESS); next: alert: r"),
            "{line}"
        );
    }

    #[test]
    fn notify_result_and_errors() {
        let out = json!({"Payload": {"outcome": "FAILED", "succeeded": false, "error": "StageGate.FAILED",
            "cause": "c", "subject": "stagegate FAILED: g/s", "messageId": "m"}});
        assert!(task_output(&out.to_string())
            .unwrap_or_default()
            .contains("notification published: FAILED"));
        assert_eq!(task_output("not json"), None);
        let cause =
            json!({"errorType": "StageGate.InvalidInput", "errorMessage": "bad field"}).to_string();
        assert!(task_failed("StageGate.InvalidInput", &cause)
            .ends_with("StageGate.InvalidInput: bad field"));
    }

    /// The answer to an approval (the output of the task that waited for it, as `stagegate
    /// approve|reject|abort` sent it) is a line of its own, not "not understood as a gate state".
    #[test]
    fn an_approval_answer_says_who_answered_what() {
        let answer = json!({"decision": "APPROVE", "by": "arn:aws:sts::1:assumed-role/ops/ana",
            "reason": "release 1.1", "at": "2026-03-01T12:00:00Z"});
        assert_eq!(
            task_output(&answer.to_string()).as_deref().map(str::trim),
            Some("answered APPROVE by arn:aws:sts::1:assumed-role/ops/ana: release 1.1")
        );
        let bare = json!({"decision": "REJECT", "by": null, "reason": null,
            "at": "2026-03-01T12:00:00Z"});
        assert_eq!(
            task_output(&bare.to_string()).as_deref().map(str::trim),
            Some("answered REJECT")
        );
    }

    /// A renamed field is not printed as "-": the line says which field the contract lost.
    #[test]
    fn an_output_that_is_not_the_contract_says_why() {
        let mut value =
            serde_json::to_value(state(Action::Wait, Phase::Deploy)).unwrap_or_default();
        if let Some(o) = value.as_object_mut() {
            o.remove("deploymentState");
        }
        let line = task_output(&value.to_string()).unwrap_or_default();
        assert!(
            line.contains("not understood as a gate state") && line.contains("deploymentState"),
            "{line}"
        );
    }

    #[test]
    fn notification_envelope() {
        let message = serde_json::to_string(&golden_message()).unwrap_or_default();
        let env = Envelope::parse(
            &json!({"Subject": "stagegate SUCCEEDED: g/s",
                "MessageAttributes": {"outcome": {"Type": "String", "Value": "SUCCEEDED"}},
                "Message": message})
            .to_string(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = notification(&env, false, None);
        assert!(
            text.contains("outcome=SUCCEEDED") && text.contains("summary:    S is deployed"),
            "{text}"
        );
        assert!(
            !text.contains("| {"),
            "the body only with --verbose: {text}"
        );
        assert!(text.contains("--verbose"), "{text}");
        let saved = notification(&env, false, Some(std::path::Path::new("m.json")));
        assert!(saved.contains("message:    m.json"), "{saved}");
        let full = notification(&env, true, None);
        assert!(
            full.contains("|   \"summary\": \"S is deployed\""),
            "{full}"
        );
        let broken = Envelope {
            message: "{}".into(),
            ..env
        };
        assert!(
            notification(&broken, false, None).contains("not a stagegate message"),
            "a body that is not the contract says so"
        );
    }

    fn golden_message() -> stagegate::message::Message {
        use stagegate::message::{GateReport, Message};
        Message {
            outcome: stagegate::verdict::Verdict::Succeeded,
            summary: "S is deployed".into(),
            game_name: Some("g".into()),
            stage_name: Some("s".into()),
            requested_snapshot_id: None,
            snapshot_id: None,
            previous_snapshot_id: None,
            deployment: None,
            rollback: None,
            gate: GateReport {
                action: None,
                reason: None,
                policy: None,
                execution_id: "arn:x".into(),
                started_at: None,
                finished_at: T,
                duration_seconds: None,
            },
            error: None,
            bake: None,
            bake_window: None,
            wave: None,
            dry_run: false,
            plan: None,
            approval: None,
            abort: None,
            frozen: None,
            cost: None,
            record: None,
            record_error: None,
        }
    }
}

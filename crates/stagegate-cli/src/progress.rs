//! What a person following a gate sees: one line per step, from the execution history.

use serde::Deserialize;
use serde_json::Value;
use stagegate::deployment::ResultCode;
use stagegate::handlers::notify::NotifyOutput;
use stagegate::policy::{Action, Phase};
use stagegate::state::{rfc3339, GateState};

use crate::envelope::Envelope;

const INDENT: &str = "          ";

pub fn state_entered(elapsed_s: f64, name: &str) -> String {
    format!("[{elapsed_s:>6.1}s] {name}")
}

/// Summarises a task's output: a gate state (what the deployment is doing and what comes next)
/// or the notify result. Both are read as the core's types: an output that is neither says so,
/// with the field serde stopped at, rather than printing "-".
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
        }
    }
}

//! What a person following a gate sees: one line per step, from the execution history.

use serde_json::Value;

const INDENT: &str = "          ";

pub fn state_entered(elapsed_s: f64, name: &str) -> String {
    format!("[{elapsed_s:>6.1}s] {name}")
}

/// Summarises a task's output: a gate state (what the deployment is doing and what comes next)
/// or the notify result.
pub fn task_output(output: &str) -> Option<String> {
    let value: Value = serde_json::from_str(output).ok()?;
    // lambda:invoke wraps the function's result in Payload.
    let payload = value.get("Payload").unwrap_or(&value);
    if payload.get("messageId").is_some() {
        return Some(format!(
            "{INDENT}notification published: {} ({})",
            text(payload, "outcome"),
            text(payload, "subject")
        ));
    }
    let action = payload.get("action")?.as_str()?;
    // A wave names the stage each line is about.
    let stage = match payload.get("wave").filter(|w| w.is_object()) {
        Some(_) => format!("[{}] ", text(payload, "stageName")),
        None => String::new(),
    };
    if payload.get("dryRun").and_then(Value::as_bool) == Some(true) {
        // The core's reason starts with "dry run:".
        return Some(format!(
            "{INDENT}{}; next: {action}",
            text(payload, "reason")
        ));
    }
    if payload.get("phase").and_then(Value::as_str) == Some("BAKE") {
        return Some(format!("{INDENT}{stage}{}", bake_line(payload, action)));
    }
    let watched = match payload.get("phase").and_then(Value::as_str) {
        Some("ROLLBACK") => payload
            .get("rollback")
            .filter(|r| r.is_object())
            .unwrap_or(payload),
        _ => payload,
    };
    let what = if watched.get("rollbackOf").is_some() {
        "rollback"
    } else {
        "deployment"
    };
    let head = format!(
        "{INDENT}{stage}{what} {} of {}: {}",
        text(watched, "deploymentId"),
        text(watched, "snapshotId"),
        text(watched, "deploymentState"),
    );
    let line = match action {
        "wait" => format!(
            "{head}; next poll in {} s (polls so far: {})",
            payload
                .get("waitSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            watched.get("attempt").and_then(Value::as_u64).unwrap_or(0)
        ),
        _ => {
            let code = watched
                .get("resultCode")
                .and_then(Value::as_str)
                .unwrap_or("no result code");
            format!(
                "{head} -> {} ({code}); next: {action}: {}",
                text(watched, "outcome"),
                text(payload, "reason")
            )
        }
    };
    Some(line)
}

/// `bake: check 3, alarms errors=OK, latency=OK; next check in 30 s`
fn bake_line(payload: &Value, action: &str) -> String {
    let window = payload.get("bakeWindow").unwrap_or(&Value::Null);
    // The state names each alarm once, in `bake.alarmNames`; a reading gives its position.
    let names = payload.pointer("/bake/alarmNames").unwrap_or(&Value::Null);
    let alarms: Vec<String> = window
        .get("readings")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|a| {
                    let name = a
                        .get("alarm")
                        .and_then(Value::as_u64)
                        .and_then(|i| names.get(usize::try_from(i).ok()?))
                        .and_then(Value::as_str)
                        .unwrap_or("-");
                    format!("{name}={}", text(a, "state"))
                })
                .collect()
        })
        .unwrap_or_default();
    let head = format!(
        "bake of deployment {} until {}: check {}, alarms {}",
        text(payload, "deploymentId"),
        text(window, "endsAt"),
        window.get("checks").and_then(Value::as_u64).unwrap_or(0),
        if alarms.is_empty() {
            "not read yet".to_owned()
        } else {
            alarms.join(", ")
        }
    );
    match action {
        "wait" => format!(
            "{head}; next check in {} s",
            payload
                .get("waitSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(0)
        ),
        _ => format!("{head}; next: {action}: {}", text(payload, "reason")),
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
pub fn notification(envelope: &Value, full: bool, saved_to: Option<&std::path::Path>) -> String {
    let mut out = String::from("notification received by the subscriber:\n");
    out.push_str(&format!("  subject:    {}\n", text(envelope, "Subject")));
    if let Some(attributes) = envelope.get("MessageAttributes").and_then(Value::as_object) {
        let shown: Vec<String> = attributes
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.get("Value").and_then(Value::as_str).unwrap_or("?")
                )
            })
            .collect();
        out.push_str(&format!("  attributes: {}\n", shown.join(", ")));
    }
    let body = envelope
        .get("Message")
        .and_then(Value::as_str)
        .and_then(|m| serde_json::from_str::<Value>(m).ok());
    if let Some(body) = body {
        out.push_str(&format!("  summary:    {}\n", text(&body, "summary")));
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
    out
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("-")
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

    #[test]
    fn waiting_deployment() {
        let out = json!({"Payload": {"action": "wait", "phase": "DEPLOY", "deploymentId": "dep-1",
            "snapshotId": "S", "deploymentState": "IN_PROGRESS", "waitSeconds": 15, "attempt": 2}});
        assert_eq!(
            task_output(&out.to_string()).as_deref().map(str::trim),
            Some("deployment dep-1 of S: IN_PROGRESS; next poll in 15 s (polls so far: 2)")
        );
    }

    #[test]
    fn bake_waves_and_dry_runs_have_their_own_lines() {
        let out = json!({"action": "wait", "phase": "BAKE", "stageName": "prod", "deploymentId": "dep-1",
            "wave": {"index": 1}, "waitSeconds": 30,
            "bake": {"alarmNames": ["latency", "errors"]},
            "bakeWindow": {"endsAt": "T", "checks": 2, "readings": [{"alarm": 1, "state": "OK"}]}});
        let line = task_output(&out.to_string()).unwrap_or_default();
        assert!(line.contains("[prod] bake of deployment dep-1 until T: check 2, alarms errors=OK; next check in 30 s"), "{line}");
        let out = json!({"action": "alert", "dryRun": true, "reason": "dry run: x"});
        let line = task_output(&out.to_string()).unwrap_or_default();
        assert!(line.ends_with("dry run: x; next: alert"), "{line}");
    }

    #[test]
    fn rollback_phase_shows_the_rollback() {
        let out = json!({"action": "alert", "phase": "ROLLBACK", "deploymentId": "dep-1", "reason": "r",
            "rollback": {"deploymentId": "dep-2", "snapshotId": "G", "deploymentState": "COMPLETED",
                         "outcome": "SUCCEEDED", "resultCode": "SUCCESS", "rollbackOf": "dep-1"}});
        let line = task_output(&out.to_string()).unwrap_or_default();
        assert!(
            line.contains("rollback dep-2 of G: COMPLETED -> SUCCEEDED (SUCCESS); next: alert: r"),
            "{line}"
        );
    }

    #[test]
    fn notify_result_and_errors() {
        let out = json!({"Payload": {"outcome": "FAILED", "subject": "stagegate FAILED: g/s", "messageId": "m"}});
        assert!(task_output(&out.to_string())
            .unwrap_or_default()
            .contains("notification published: FAILED"));
        assert_eq!(task_output("not json"), None);
        assert_eq!(task_output("{}"), None);
        let cause =
            json!({"errorType": "StageGate.InvalidInput", "errorMessage": "bad field"}).to_string();
        assert!(task_failed("StageGate.InvalidInput", &cause)
            .ends_with("StageGate.InvalidInput: bad field"));
    }

    #[test]
    fn notification_envelope() {
        let env = json!({"Subject": "stagegate SUCCEEDED: g/s",
            "MessageAttributes": {"outcome": {"Type": "String", "Value": "SUCCEEDED"}},
            "Message": json!({"summary": "S is deployed"}).to_string()});
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
    }
}

//! `stagegate validate`, and the same check `stagegate run` makes before StartExecution.
//!
//! The gate's own parser (the core's, the one the start function runs) reads the input on the
//! operator's machine, so a typo is answered there with the field and the rule, and never starts
//! an execution, publishes an ERROR notification or trips the gate's alarm. What it cannot know
//! locally, it does not pretend to: the template's freeze windows, whether the game, stages,
//! snapshot and alarms exist.

use stagegate::input::{parse_execution_input, GateRequest, SnapshotChoice};

/// Why an input is refused: the field and the rule (`--output json` prints them apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// None when the text is not JSON at all.
    pub field: Option<String>,
    pub rule: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "the input is not valid: field `{field}`: {}", self.rule),
            None => write!(f, "the input is not JSON: {}", self.rule),
        }
    }
}

/// The input, read and checked: what the run would do, in a few lines.
pub fn check(text: &str) -> Result<String, String> {
    inspect(text).map_err(|p| p.to_string())
}

/// `check`, with the refusal's field and rule apart.
pub fn inspect(text: &str) -> Result<String, Problem> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Problem {
        field: None,
        rule: e.to_string(),
    })?;
    let request = parse_execution_input(&value, "").map_err(|e| Problem {
        field: Some(e.field),
        rule: e.rule,
    })?;
    Ok(summary(&request))
}

fn summary(r: &GateRequest) -> String {
    let stages: Vec<String> = r
        .stages
        .iter()
        .map(|s| {
            let mut line = s.stage_name.clone();
            if let Some(a) = &s.approval {
                line.push_str(&format!(" (approval, {} s)", a.timeout_seconds));
            }
            if let Some(b) = &s.bake {
                line.push_str(&format!(
                    " (bake {} s on {} alarm{}, every {} s)",
                    b.seconds,
                    b.alarm_names.len(),
                    if b.alarm_names.len() == 1 { "" } else { "s" },
                    b.check_interval_seconds
                ));
            }
            line
        })
        .collect();
    let snapshot = match &r.snapshot {
        SnapshotChoice::Latest => "the game's latest snapshot".to_owned(),
        SnapshotChoice::Id(id) => id.clone(),
    };
    let p = &r.policy;
    let mut lines = vec![
        format!(
            "valid: game {}, {} {}",
            r.game_name,
            if r.wave { "wave" } else { "stage" },
            stages.join(" -> ")
        ),
        format!("  snapshot: {snapshot}"),
        format!(
            "  policy: onInvalidRole {}, onUnspecifiedFailure {}, onTimeout {}, onBakeFailure {}, \
             timeout {} s (+{} s grace)",
            p.on_invalid_role.as_str(),
            p.on_unspecified_failure.as_str(),
            p.on_timeout.as_str(),
            p.on_bake_failure.as_str(),
            p.timeout_seconds,
            p.timeout_grace_seconds
        ),
    ];
    if !r.freeze_windows.is_empty() {
        lines.push(format!(
            "  freeze windows: {} of the input's own (the template's apply too)",
            r.freeze_windows.len()
        ));
    }
    if r.dry_run {
        lines.push("  dry run: nothing will be deployed".into());
    }
    lines.push(
        "  not checked here: that the game, stages, snapshot and alarms exist, and the \
         template's freeze windows"
            .into(),
    );
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_input_is_summarised_with_its_defaults() {
        let text = r#"{"gameName": "g", "snapshotId": "latest", "dryRun": true,
            "stages": [{"stageName": "dev", "approval": {"timeoutSeconds": 600}}, "prod"],
            "bake": {"seconds": 600, "alarmNames": ["a"]}}"#;
        let out = check(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(out.starts_with("valid: game g, wave dev (approval, 600 s) (bake 600 s on 1 alarm, every 30 s) -> prod (bake"), "{out}");
        assert!(out.contains("onInvalidRole alert"), "{out}");
        assert!(out.contains("timeout 1800 s (+1800 s grace)"), "{out}");
        assert!(out.contains("dry run"), "{out}");
    }

    #[test]
    fn an_invalid_input_names_the_field_the_rule_and_a_near_name() {
        let cases = [
            (
                r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest", "polcy": {}}"#,
                "the input is not valid: field `polcy`: unknown field `polcy` (did you mean `policy`?)",
            ),
            (
                r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest",
                    "policy": {"timeoutSeconds": 30}}"#,
                "the input is not valid: field `policy.timeoutSeconds`: expected an integer 60-7200 (seconds), got 30",
            ),
            (
                r#"{"gameName": "g", "stageName": "s", "snapshotId": "Latest"}"#,
                "the input is not valid: field `snapshotId`: must be the literal \"latest\" or a snapshot id",
            ),
            (r#"{"gameName": "g","#, "the input is not JSON: EOF while parsing a value at line 1 column 17"),
        ];
        for (text, expected) in cases {
            let got = check(text).err().unwrap_or_default();
            assert!(got.starts_with(expected), "{text}\n got: {got}");
        }
    }
}

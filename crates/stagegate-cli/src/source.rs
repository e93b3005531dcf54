//! Where `--input`'s text comes from, and what `run` sends: the input is read and checked with
//! the gate's own parser before any client exists, so a bad one starts nothing.

use std::path::PathBuf;

use crate::validate;

/// What `run` sends to StartExecution, checked first, before any client exists.
pub fn run_input(input: &str, dry_run: bool) -> Result<String, String> {
    let input = read_input(input, dry_run)?;
    validate::check(&input).map_err(|e| format!("{e}; nothing was started"))?;
    Ok(input)
}

/// `--input`'s text: the JSON itself, or @FILE's contents.
pub fn read_text(input: &str) -> Result<String, String> {
    match input.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(PathBuf::from(path)).map_err(|e| format!("--input {path}: {e}"))
        }
        None => Ok(input.to_owned()),
    }
}

fn read_input(input: &str, dry_run: bool) -> Result<String, String> {
    let text = read_text(input)?;
    let mut value = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("--input is not JSON: {e}"))?;
    if !dry_run {
        return Ok(text);
    }
    let Some(object) = value.as_object_mut() else {
        return Err("--dry-run needs an --input that is a JSON object".into());
    };
    object.insert("dryRun".into(), serde_json::Value::Bool(true));
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_refuses_an_invalid_input_before_any_aws_call() {
        let typo = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest", "dryrun": true}"#;
        assert_eq!(
            run_input(typo, false)
                .err()
                .as_deref()
                .map(|e| e.split(", expected").next()),
            Some(Some(
                "the input is not valid: field `dryrun`: unknown field `dryrun` (did you mean \
                 `dryRun`?)"
            ))
        );
        assert!(run_input(typo, false)
            .err()
            .is_some_and(|e| e.ends_with("; nothing was started")));
        let fine = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#;
        assert!(run_input(fine, true).is_ok());
    }

    #[test]
    fn dry_run_flag_sets_the_input_field() {
        let input = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#;
        assert_eq!(read_input(input, false).as_deref(), Ok(input));
        let planned: serde_json::Value =
            serde_json::from_str(&read_input(input, true).unwrap_or_default()).unwrap_or_default();
        assert_eq!(planned["dryRun"], true);
        assert_eq!(planned["gameName"], "g");
        assert!(read_input("[1]", true).is_err());
        assert!(read_input("nope", false).is_err());
    }
}

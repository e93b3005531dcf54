//! Where `--input`'s text comes from, and what `run` sends: the input is read and checked with
//! the gate's own parser before any client exists, so a bad one starts nothing.
//!
//! The text is the JSON itself, `@FILE` (curl's convention, and this CLI's first), `file://PATH`
//! (the AWS CLI's, which operators paste from its docs) or `-` (stdin, for a pipeline that
//! renders the input). The common case needs no JSON at all: `--game G --stage S [--snapshot
//! ID]` is the input with those three fields.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::validate;

/// The execution input of `run` and `validate`: `--input`, or the three fields of the common case.
#[derive(Args, Clone, Debug)]
#[group(required = true, multiple = true)]
pub struct InputArgs {
    /// The execution input: JSON, @FILE, file://PATH, or - (stdin).
    #[arg(long, conflicts_with_all = ["game", "stage", "snapshot"])]
    pub input: Option<String>,
    /// The game (GameSparks game name), instead of --input: with --stage, the input
    /// {"gameName": GAME, "stageName": STAGE, "snapshotId": SNAPSHOT}.
    #[arg(long, requires = "stage")]
    pub game: Option<String>,
    /// The stage to deploy (with --game).
    #[arg(long, requires = "game")]
    pub stage: Option<String>,
    /// The snapshot to deploy (with --game).
    #[arg(long, requires = "game", default_value = "latest")]
    pub snapshot: String,
}

impl InputArgs {
    /// The input's text, read from where `--input` says, or made from `--game`/`--stage`.
    pub fn text(&self) -> Result<String, String> {
        match (&self.input, &self.game, &self.stage) {
            (Some(input), _, _) => read_text(input),
            (None, Some(game), Some(stage)) => Ok(json!({
                "gameName": game,
                "stageName": stage,
                "snapshotId": self.snapshot,
            })
            .to_string()),
            // clap requires one or the other; said plainly in case a caller builds these by hand.
            _ => Err("give --input, or --game and --stage".into()),
        }
    }
}

/// What `run` sends to StartExecution, checked first, before any client exists.
pub fn run_input(input: &InputArgs, dry_run: bool) -> Result<String, String> {
    let input = with_dry_run(input.text()?, dry_run)?;
    validate::check(&input).map_err(|e| format!("{e}; nothing was started"))?;
    Ok(input)
}

/// `--input`'s text: the JSON itself, or the contents of @FILE, file://PATH or stdin (`-`).
pub fn read_text(input: &str) -> Result<String, String> {
    read_flag("--input", input)
}

/// A JSON-valued option's text, read the same way for every such option (`--input`,
/// `status --freeze-windows`); `flag` names it in errors.
pub fn read_flag(flag: &str, value: &str) -> Result<String, String> {
    read_text_from(flag, value, std::io::stdin().lock())
}

fn read_text_from(flag: &str, input: &str, mut stdin: impl Read) -> Result<String, String> {
    if input == "-" {
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .map_err(|e| format!("{flag} - (stdin): {e}"))?;
        return Ok(text);
    }
    match input
        .strip_prefix('@')
        .or_else(|| input.strip_prefix("file://"))
    {
        Some(path) => {
            std::fs::read_to_string(PathBuf::from(path)).map_err(|e| format!("{flag} {input}: {e}"))
        }
        None => Ok(input.to_owned()),
    }
}

fn with_dry_run(text: String, dry_run: bool) -> Result<String, String> {
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

    fn given(input: &str) -> InputArgs {
        InputArgs {
            input: Some(input.into()),
            game: None,
            stage: None,
            snapshot: "latest".into(),
        }
    }

    #[test]
    fn run_refuses_an_invalid_input_before_any_aws_call() {
        let typo =
            given(r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest", "dryrun": true}"#);
        assert_eq!(
            run_input(&typo, false)
                .err()
                .as_deref()
                .map(|e| e.split(", expected").next()),
            Some(Some(
                "the input is not valid: field `dryrun`: unknown field `dryrun` (did you mean \
                 `dryRun`?)"
            ))
        );
        assert!(run_input(&typo, false)
            .err()
            .is_some_and(|e| e.ends_with("; nothing was started")));
        let fine = given(r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#);
        assert!(run_input(&fine, true).is_ok());
    }

    #[test]
    fn dry_run_flag_sets_the_input_field() {
        let input = r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#;
        assert_eq!(with_dry_run(input.into(), false).as_deref(), Ok(input));
        let planned: serde_json::Value =
            serde_json::from_str(&with_dry_run(input.into(), true).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(planned["dryRun"], true);
        assert_eq!(planned["gameName"], "g");
        assert!(with_dry_run("[1]".into(), true).is_err());
        assert!(with_dry_run("nope".into(), false).is_err());
    }

    #[test]
    fn the_input_is_read_from_a_file_either_way_or_from_stdin() {
        let dir = std::env::temp_dir().join(format!("stagegate-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let file = dir.join("input.json");
        std::fs::write(&file, r#"{"from": "file"}"#).unwrap_or_else(|e| panic!("{e}"));
        let path = file.display().to_string();
        let no_stdin: &[u8] = b"";
        for given in [format!("@{path}"), format!("file://{path}")] {
            assert_eq!(
                read_text_from("--input", &given, no_stdin).as_deref(),
                Ok(r#"{"from": "file"}"#),
                "{given}"
            );
        }
        assert_eq!(
            read_text_from("--input", "-", &b"{\"from\": \"stdin\"}"[..]).as_deref(),
            Ok(r#"{"from": "stdin"}"#)
        );
        let missing = format!("file://{}", dir.join("none.json").display());
        assert!(read_text_from("--input", &missing, no_stdin)
            .err()
            .is_some_and(|e| e.starts_with(&format!("--input {missing}: "))));
        // Anything else is the JSON itself.
        assert_eq!(
            read_text_from("--input", "{}", no_stdin).as_deref(),
            Ok("{}")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn game_and_stage_make_the_common_input() {
        let args = InputArgs {
            input: None,
            game: Some("space-raiders".into()),
            stage: Some("prod".into()),
            snapshot: "latest".into(),
        };
        let sent: serde_json::Value =
            serde_json::from_str(&run_input(&args, false).unwrap_or_else(|e| panic!("{e}")))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sent,
            json!({"gameName": "space-raiders", "stageName": "prod", "snapshotId": "latest"})
        );
    }
}

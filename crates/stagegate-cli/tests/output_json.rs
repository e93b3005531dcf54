//! `stagegate ... -o json` as a script runs it, for what needs no AWS: stdout is exactly one JSON
//! document of the committed schema's kinds, whatever happens (a valid or invalid input, an
//! argument clap refuses, a run refused before it starts), and the exit code is the class's. The
//! unit tests in `output` build the documents; only the binary shows that nothing else reaches
//! stdout and that `main` picks the right document and code.

use std::process::{Command, Output};

use serde_json::Value;
use stagegate_cli::output::Document;

fn stagegate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stagegate"))
        .args(args)
        // Nothing here may reach AWS: no credentials, an endpoint nobody listens on.
        .env_clear()
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap_or_else(|e| panic!("stagegate: {e}"))
}

/// stdout as one document (and nothing after it), and the exit code.
fn document(args: &[&str]) -> (Document, Option<i32>) {
    let out = stagegate(args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    let first = match stream.next() {
        Some(Ok(value)) => value,
        other => panic!(
            "{args:?}: stdout is not a JSON document ({other:?}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    };
    assert!(
        stream.next().is_none(),
        "{args:?}: more than one document: {text}"
    );
    let parsed = serde_json::from_value(first).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"));
    (parsed, out.status.code())
}

const VALID: &str = r#"{"gameName": "g", "stageName": "prod", "snapshotId": "latest"}"#;
const TYPO: &str =
    r#"{"gameName": "g", "stageName": "prod", "snapshotId": "latest", "dryrun": true}"#;

#[test]
fn validate_prints_one_document_with_the_class_code() {
    match document(&["validate", "--input", VALID, "-o", "json"]) {
        (Document::Validate(d), Some(0)) => assert!(d.valid && d.exit_class == "DONE", "{d:?}"),
        other => panic!("{other:?}"),
    }
    match document(&["--output", "json", "validate", "--input", TYPO]) {
        (Document::Validate(d), Some(2)) => {
            assert!(!d.valid, "{d:?}");
            assert_eq!(d.problem.map(|p| p.field), Some(Some("dryrun".to_owned())));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failure_is_still_a_document_and_exits_2() {
    // clap refuses the arguments: no parsed command, yet the script asked for JSON.
    match document(&["run", "-o", "json", "--no-such-flag"]) {
        (Document::Error(d), Some(2)) => {
            assert!(d.error.contains("--no-such-flag"), "{d:?}");
            assert_eq!(d.exit_class, "ERROR");
        }
        other => panic!("{other:?}"),
    }
    // An invalid input is refused before any client exists: nothing started.
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:gate";
    match document(&[
        "run",
        "--state-machine-arn",
        arn,
        "--input",
        TYPO,
        "-o",
        "json",
    ]) {
        (Document::Error(d), Some(2)) => {
            assert!(d.error.ends_with("nothing was started"), "{d:?}")
        }
        other => panic!("{other:?}"),
    }
    // An unreadable @FILE.
    match document(&["validate", "--input", "@/no/such/file.json", "-o", "json"]) {
        (Document::Error(d), Some(2)) => assert!(d.error.contains("/no/such/file.json"), "{d:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn text_stays_text() {
    let out = stagegate(&["validate", "--input", VALID]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.starts_with("valid: game g, stage prod"), "{text}");
    let refused = stagegate(&["validate", "--input", TYPO]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty(), "{refused:?}");
}

//! The golden histories (tests/golden/histories: real histories the e2e cases' executions wrote
//! on the local stack, recorded with STAGEGATE_RECORD_HISTORIES) through the built `stagegate`
//! binary, with no AWS.
//!
//! Why: `replay` is only worth its exit code if today's core re-decides real runs as they were
//! decided, and a change to the core that would decide one differently must show up here, naming
//! the run, before it decides a real one. The what-if is checked against the runs picked out by
//! reading the histories' JSON directly (not through the replay code), and explain against the
//! rule a person expects to read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/histories")
}

fn files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden())
        .unwrap_or_else(|e| panic!("{}: {e}", golden().display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `stagegate ARGS`: its exit code and stdout as JSON.
fn stagegate(args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_stagegate"))
        .args(args)
        .env_remove("STATE_MACHINE_ARN")
        .output()
        .unwrap_or_else(|e| panic!("stagegate: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let document = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stagegate {args:?}: not a document ({e}): {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), document)
}

/// The newest gate state of a history file, read as plain JSON.
fn newest_state(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    let history: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let mut events: Vec<&Value> = history["events"].as_array().into_iter().flatten().collect();
    events.sort_by_key(|e| std::cmp::Reverse(e["id"].as_i64()));
    events
        .iter()
        .filter_map(|e| {
            e["stateExitedEventDetails"]["output"]
                .as_str()
                .or(e["stateEnteredEventDetails"]["input"].as_str())
        })
        .filter_map(|doc| serde_json::from_str::<Value>(doc).ok())
        .find(|v| v["phase"].is_string())
        .unwrap_or_else(|| panic!("{}: no gate state", path.display()))
}

/// The file name of each run the replay document says differs, with its differences.
fn differing(document: &Value) -> BTreeSet<String> {
    document["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["result"] == "differs")
        .map(|r| name(Path::new(r["source"].as_str().unwrap_or_default())))
        .collect()
}

#[test]
fn every_golden_history_has_a_record_and_replays_the_same() {
    let files = files();
    assert!(files.len() >= 10, "only {} golden histories", files.len());
    let dir = golden();
    let (code, document) = stagegate(&["replay", "--from", &dir.to_string_lossy(), "-o", "json"]);
    let not_same: Vec<String> = document["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["result"] != "same")
        .map(|r| format!("{}: {} {}", r["source"], r["result"], r["differences"]))
        .collect();
    assert!(
        not_same.is_empty(),
        "today's core decides these golden runs otherwise (or cannot read them):\n{}",
        not_same.join("\n")
    );
    assert_eq!(code, Some(0), "{document}");
    assert_eq!(document["summary"]["runs"], files.len());
    assert!(document["summary"]["decisionsReplayed"].as_u64() >= Some(files.len() as u64));
}

#[test]
fn a_what_if_of_rollback_on_invalid_role_names_exactly_the_invalid_role_runs() {
    // Picked from the JSON: a deploy poll that ended INVALID_ROLE_FAILURE, not aborted, with a
    // known-good snapshot to roll back to.
    let expected: BTreeSet<String> = files()
        .iter()
        .filter(|f| {
            let state = newest_state(f);
            state["decisions"]["entries"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| {
                    e["kind"] == "poll"
                        && e["phase"] == "DEPLOY"
                        && e["seen"]["resultCode"] == "INVALID_ROLE_FAILURE"
                        && e["knownGood"].is_string()
                        && e["abortedBy"].is_null()
                })
        })
        .map(|f| name(f))
        .collect();
    assert!(
        !expected.is_empty(),
        "no golden run failed on INVALID_ROLE_FAILURE"
    );
    let policy = std::env::temp_dir().join(format!("what-if-{}.json", std::process::id()));
    std::fs::write(&policy, r#"{"onInvalidRole": "rollback"}"#).unwrap_or_else(|e| panic!("{e}"));
    let dir = golden();
    let (code, document) = stagegate(&[
        "replay",
        "--from",
        &dir.to_string_lossy(),
        "--policy",
        &policy.to_string_lossy(),
        "-o",
        "json",
    ]);
    let _ = std::fs::remove_file(&policy);
    assert_eq!(differing(&document), expected, "{document}");
    assert_eq!(code, Some(1), "something differs: exit 1");
    for run in document["runs"].as_array().into_iter().flatten() {
        for d in run["differences"].as_array().into_iter().flatten() {
            assert_eq!(
                (&d["kind"], &d["recorded"], &d["replayed"]),
                (&"poll".into(), &"alert".into(), &"rollback".into()),
                "{d}"
            );
        }
    }
}

#[test]
fn explain_tells_the_rule_a_rolled_back_run_followed() {
    let rolled_back = files()
        .into_iter()
        // The case unspecified_failure_rolls_back names its execution `rollback-<n>`.
        .find(|f| {
            name(f)
                .strip_prefix("rollback-")
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .unwrap_or_else(|| panic!("no golden history of the unspecified_failure_rolls_back case"));
    let (code, document) = stagegate(&[
        "explain",
        "--history",
        &rolled_back.to_string_lossy(),
        "-o",
        "json",
    ]);
    assert_eq!(code, Some(0), "{document}");
    let rules: Vec<&str> = document["story"]["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["rule"].as_str())
        .collect();
    assert!(
        rules.contains(&"UNSPECIFIED_FAILURE -> onUnspecifiedFailure: rollback"),
        "{rules:?}"
    );
    assert_eq!(document["story"]["verdict"], "ROLLED_BACK");
    assert_eq!(document["notification"]["outcome"], "ROLLED_BACK");
}

#[test]
fn a_run_without_a_record_is_listed_as_no_record_not_as_same() {
    // A dry run records no decisions (it plans, it decides nothing it would act on).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/no-record");
    let (code, document) = stagegate(&["replay", "--from", &dir.to_string_lossy(), "-o", "json"]);
    let results: Vec<&Value> = document["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| &r["result"])
        .collect();
    assert_eq!(results, [&Value::from("no record")], "{document}");
    assert_eq!(document["summary"]["noRecord"], 1);
    assert_eq!(code, Some(0), "nothing differs: {document}");
}

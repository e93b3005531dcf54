//! A run is same, differs, no record or error, and the exit code follows the worst; a what-if
//! replaces only the fields it gives and refuses the ones the policy does not have.

use std::time::Duration;

use stagegate::policy::FailureResponse;

use super::*;
use crate::saved::fixture;

fn what_if(text: &str) -> PolicyOverride {
    PolicyOverride::parse(text, "--policy p.json").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_recorded_run_replays_the_same_under_its_own_policy() {
    let run = replay_run("run-1.json", Ok(fixture::recorded()), None);
    assert_eq!(run.result(), "same");
    assert_eq!(run.game_name.as_deref(), Some("space-raiders"));
    let runs = [run];
    assert_eq!(exit(&runs), Exit::Done);
    assert_eq!(summary(&runs).decisions_replayed, 1);
    assert!(render(&runs, None).contains("run-1.json: same (1 decision(s))"));
}

#[test]
fn a_what_if_names_the_decision_that_would_differ_and_exits_1() {
    let rollback = what_if(r#"{"onInvalidRole": "rollback"}"#);
    let run = replay_run("run-1.json", Ok(fixture::recorded()), Some(&rollback));
    let Outcome::Replayed(replayed) = &run.outcome else {
        panic!("{run:?}")
    };
    let d: Vec<(&str, &str, &str, &str)> = replayed
        .differences
        .iter()
        .map(|d| {
            (
                d.stage_name.as_str(),
                d.kind.as_str(),
                d.recorded.as_str(),
                d.replayed.as_str(),
            )
        })
        .collect();
    assert_eq!(d, [("prod", "poll", "alert", "rollback")]);
    let runs = [run];
    assert_eq!(exit(&runs), Exit::NeedsPerson);
    let text = render(&runs, Some(&rollback));
    assert!(text.contains("prod poll: alert -> rollback"), "{text}");
    assert!(text.contains("1 differ"), "{text}");
    let document = document(&runs, Some(&rollback));
    assert_eq!(document.exit_code, 1);
    assert_eq!(document.runs[0].result, "differs");
    assert_eq!(
        document.what_if,
        Some(serde_json::json!({"onInvalidRole": "rollback"}))
    );
}

#[test]
fn a_run_without_a_record_is_no_record_never_same() {
    let runs = [
        replay_run("old.json", Ok(fixture::unrecorded()), None),
        replay_run("refused.json", Ok(SavedHistory::default()), None),
    ];
    assert_eq!(
        runs.iter().map(RunReplay::result).collect::<Vec<_>>(),
        ["no record", "no record"]
    );
    assert_eq!(exit(&runs), Exit::Done);
    let s = summary(&runs);
    assert_eq!((s.runs, s.no_record, s.decisions_replayed), (2, 2, 0));
}

#[test]
fn an_unreadable_history_is_an_error_and_exits_2_whatever_else_differs() {
    let rollback = what_if(r#"{"onInvalidRole": "rollback"}"#);
    let runs = [
        replay_run("run-1.json", Ok(fixture::recorded()), Some(&rollback)),
        replay_run(
            "gone.json",
            Err("reading gone.json: not found".into()),
            None,
        ),
    ];
    assert_eq!(runs[1].result(), "error");
    assert_eq!(exit(&runs), Exit::Error);
    assert!(render(&runs, None).contains("gone.json: error: reading gone.json"));
    let document = document(&runs, None);
    assert_eq!(
        document.runs[1].error.as_deref(),
        Some("reading gone.json: not found")
    );
    assert_eq!((document.exit_code, document.summary.errors), (2, 1));
}

#[test]
fn a_what_if_keeps_the_fields_it_does_not_give_and_refuses_unknown_ones() {
    let own = Policy {
        on_timeout: FailureResponse::Alert,
        timeout_seconds: 42,
        ..Policy::default()
    };
    let applied = what_if(r#"{"onInvalidRole": "rollback"}"#).apply(&own);
    assert_eq!(
        applied,
        Ok(Policy {
            on_invalid_role: FailureResponse::Rollback,
            ..own
        })
    );
    let refused = PolicyOverride::parse(r#"{"onInvalidRoel": "rollback", "x": 1}"#, "--policy p")
        .err()
        .unwrap_or_default();
    assert!(
        refused.starts_with("--policy p: unknown policy field(s) `onInvalidRoel`, `x`"),
        "{refused}"
    );
    assert!(refused.contains("onInvalidRole"), "{refused}");
    let bad = PolicyOverride::parse(r#"{"onTimeout": "panic"}"#, "--policy p")
        .err()
        .unwrap_or_default();
    assert!(bad.contains("unknown variant `panic`"), "{bad}");
    assert!(PolicyOverride::parse("[]", "--policy p").is_err());
}

#[test]
fn since_takes_a_number_and_a_unit() {
    assert_eq!(parse_since("30d"), Ok(Duration::from_secs(30 * 86_400)));
    assert_eq!(parse_since("90m"), Ok(Duration::from_secs(5_400)));
    assert_eq!(parse_since("2w"), Ok(Duration::from_secs(1_209_600)));
    for bad in ["30", "d", "0h", "3y", "-1d", "99999999999999999999w"] {
        assert!(parse_since(bad).is_err(), "{bad} was taken");
    }
}

#[test]
fn from_a_directory_reads_its_json_files_in_name_order() {
    let dir = std::env::temp_dir().join(format!("stagegate-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    for name in ["b.json", "a.json", "notes.txt"] {
        std::fs::write(dir.join(name), "{}").unwrap_or_else(|e| panic!("{e}"));
    }
    let names: Vec<String> = files(&dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(names, ["a.json", "b.json"]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn parsed(args: &[&str]) -> Result<crate::cli::Command, String> {
    use clap::Parser;
    crate::cli::Cli::try_parse_from(std::iter::once("stagegate").chain(args.iter().copied()))
        .map(|c| c.command)
        .map_err(|e| e.kind().to_string())
        .and_then(|c| crate::cli::check_arguments(&c).map(|()| c))
}

#[test]
fn replay_takes_one_source_of_runs_and_since_needs_the_state_machine() {
    const MACHINE: &str = "arn:aws:states:eu-west-1:1:stateMachine:gate";
    assert!(parsed(&["replay", "--from", "tests/golden/histories"]).is_ok());
    assert!(parsed(&[
        "replay",
        "--execution",
        "run-1",
        "--state-machine-arn",
        MACHINE
    ])
    .is_ok());
    assert!(parsed(&["replay", "--since", "30d", "--state-machine-arn", MACHINE]).is_ok());
    for refused in [
        &["replay"][..],
        &[
            "replay",
            "--from",
            "d",
            "--since",
            "1d",
            "--state-machine-arn",
            MACHINE,
        ],
        &["replay", "--since", "1d"],
        &[
            "replay",
            "--since",
            "1d",
            "--state-machine-arn",
            fixture::ARN,
        ],
        &["replay", "--execution", "run-1"],
    ] {
        assert!(parsed(refused).is_err(), "{refused:?} was accepted");
    }
    assert!(parsed(&["explain", "--history", "h.json"]).is_ok());
    assert!(parsed(&[
        "explain",
        "--execution",
        fixture::ARN,
        "--save-history",
        "h.json"
    ])
    .is_ok());
    for refused in [
        &["explain"][..],
        &[
            "explain",
            "--history",
            "h.json",
            "--execution",
            fixture::ARN,
        ],
        &[
            "explain",
            "--history",
            "h.json",
            "--save-history",
            "again.json",
        ],
    ] {
        assert!(parsed(refused).is_err(), "{refused:?} was accepted");
    }
}

#[test]
fn a_start_replays_the_same_after_its_json_round_trip() {
    // "Abort read, nobody aborted" must come back from the JSON as read (it once came back as
    // "not read", and every start replayed as "needs Abort").

    let run = replay_run("success.json", Ok(fixture::started()), None);
    let Outcome::Replayed(replayed) = &run.outcome else {
        panic!("{run:?}")
    };
    assert_eq!(replayed.decisions, 2);
    assert_eq!(replayed.differences, [], "{run:?}");
}

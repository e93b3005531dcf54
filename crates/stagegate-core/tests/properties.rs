//! Property tests on everything that reads untrusted input or renders it: never a panic, every
//! rejection names a field, names cannot break the JSON body or the subject.

use proptest::prelude::*;
use serde_json::{json, Value};
use stagegate_core::backoff::{next_wait, MAX_WAIT_SECONDS};
use stagegate_core::classify::{classify, Outcome};
use stagegate_core::deployment::{Deployment, DeploymentState, ResultCode};
use stagegate_core::input::parse_start_event;
use stagegate_core::notification::{render, Report, MAX_SUBJECT_CHARS};
use stagegate_core::token::{client_token, Purpose};
use stagegate_core::verdict::{CaughtError, Verdict};
use time::{Duration, OffsetDateTime};

const T0: i64 = 1_790_000_000;

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        Just(json!("latest")),
        Just(json!("Snapshot_2026-01-01T00:00:00.000Z")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("gameName".to_string()),
                    Just("stageName".to_string()),
                    Just("snapshotId".to_string()),
                    Just("policy".to_string()),
                    Just("onTimeout".to_string()),
                    Just("timeoutSeconds".to_string()),
                    Just("input".to_string()),
                    Just("execution".to_string()),
                    Just("Id".to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn state_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("PENDING".to_string()),
        Just("IN_PROGRESS".to_string()),
        Just("COMPLETED".to_string()),
        Just("FAILED".to_string()),
        ".{0,12}",
    ]
}

/// A name GameSparks accepts for a game or stage, of any allowed length.
fn model_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,36}"
}

fn response() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("alert"), Just("rollback")]
}

/// A policy with any subset of its fields, each within its rule.
fn policy() -> impl Strategy<Value = Value> {
    (
        prop::option::of(response()),
        prop::option::of(response()),
        prop::option::of(response()),
        prop::option::of(response()),
        prop::option::of(60u64..=7200),
        prop::option::of(0u64..=7200),
    )
        .prop_map(|(role, unspecified, timeout, bake, seconds, grace)| {
            let mut p = serde_json::Map::new();
            let fields = [
                ("onInvalidRole", role.map(Value::from)),
                ("onUnspecifiedFailure", unspecified.map(Value::from)),
                ("onTimeout", timeout.map(Value::from)),
                ("onBakeFailure", bake.map(Value::from)),
                ("timeoutSeconds", seconds.map(Value::from)),
                ("timeoutGraceSeconds", grace.map(Value::from)),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    p.insert(k.into(), v);
                }
            }
            Value::Object(p)
        })
}

/// A bake window within every rule: 1-4 distinct alarm names, at most 120 checks.
fn bake() -> impl Strategy<Value = Value> {
    (
        30u64..=7200,
        prop::option::of(10u64..=300),
        prop::collection::btree_set("[a-zA-Z0-9._/ -]{1,40}", 1..5),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    )
        .prop_filter("at most 120 checks", |(seconds, interval, ..)| {
            seconds.div_ceil(interval.unwrap_or(30)) <= 120
        })
        .prop_map(|(seconds, interval, names, insufficient, ignore)| {
            let mut b = json!({"seconds": seconds, "alarmNames": names});
            if let Some(i) = interval {
                b["checkIntervalSeconds"] = json!(i);
            }
            if let Some(f) = insufficient {
                b["failOnInsufficientData"] = json!(f);
            }
            if let Some(f) = ignore {
                b["ignoreAlarmReadErrors"] = json!(f);
            }
            b
        })
}

/// An execution input the rules accept: every field drawn from its own rule.
fn valid_input() -> impl Strategy<Value = Value> {
    (
        model_name(),
        prop_oneof![
            model_name().prop_map(|s| json!(s)),
            prop::collection::btree_set(model_name(), 1..=5).prop_flat_map(|names| {
                let names: Vec<String> = names.into_iter().collect();
                let n = names.len();
                (
                    Just(names),
                    prop::collection::vec(prop::option::of(bake()), n),
                )
                    .prop_map(|(names, bakes)| {
                        let entries: Vec<Value> = names
                            .into_iter()
                            .zip(bakes)
                            .map(|(name, bake)| match bake {
                                Some(b) => json!({"stageName": name, "bake": b}),
                                None => json!(name),
                            })
                            .collect();
                        json!({ "stages": entries })
                    })
            }),
        ],
        prop_oneof![
            Just("latest".to_string()),
            "[0-9]{3,6}".prop_map(|d| format!("Snapshot_2026-01-01T00:00:00.{d}Z")),
        ],
        prop::option::of(policy()),
        prop::option::of(bake()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(game, stages, snapshot, policy, bake, dry)| {
            let mut input = json!({"gameName": game, "snapshotId": snapshot});
            match stages {
                Value::String(stage) => input["stageName"] = json!(stage),
                other => input["stages"] = other["stages"].clone(),
            }
            for (k, v) in [
                ("policy", policy),
                ("bake", bake),
                ("dryRun", dry.map(Value::from)),
            ] {
                if let Some(v) = v {
                    input[k] = v;
                }
            }
            input
        })
}

/// Breaks one rule of a valid input; returns the field the rejection must name.
fn break_one(input: &mut Value, which: usize, junk: char) -> &'static str {
    match which {
        0 => {
            input["policy"] = json!({"timeoutSeconds": 59});
            "policy.timeoutSeconds"
        }
        1 => {
            input["policy"] = json!({"onTimeout": "retry"});
            "policy.onTimeout"
        }
        2 => {
            let game = input["gameName"].as_str().unwrap_or_default().to_owned();
            input["gameName"] = json!(format!("{game}{junk}"));
            "gameName"
        }
        3 => {
            input["bake"] = json!({"seconds": 7201, "alarmNames": ["a"]});
            "bake.seconds"
        }
        4 => {
            input["dryRun"] = json!("yes");
            "dryRun"
        }
        5 => {
            input["snapshotId"] = json!(format!("Snapshot_{junk}"));
            "snapshotId"
        }
        6 => {
            input["policy"] = json!({"timeoutGraceSeconds": 7201});
            "policy.timeoutGraceSeconds"
        }
        _ => {
            input["bake"] = json!({"seconds": 60, "alarmNames": ["a", "a"]});
            "bake.alarmNames[1]"
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_input_the_rules_allow_is_accepted_as_given(input in valid_input(), wrap in any::<bool>()) {
        let event = if wrap { json!({"input": input, "execution": {"Id": "e"}}) } else { input.clone() };
        let parsed = parse_start_event(&event).map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
        let r = parsed.request;
        prop_assert_eq!(Some(r.game_name.as_str()), input["gameName"].as_str());
        prop_assert_eq!(r.dry_run, input["dryRun"].as_bool().unwrap_or(false));
        prop_assert_eq!(r.wave, input.get("stages").is_some());
        let names: Vec<&str> = r.stages.iter().map(|s| s.stage_name.as_str()).collect();
        let want: Vec<&str> = match input.get("stages").and_then(Value::as_array) {
            Some(list) => list.iter().filter_map(|s| s.as_str().or(s["stageName"].as_str())).collect(),
            None => input["stageName"].as_str().into_iter().collect(),
        };
        prop_assert_eq!(names, want);
        if let Some(t) = input.pointer("/policy/timeoutSeconds").and_then(Value::as_u64) {
            prop_assert_eq!(r.policy.timeout_seconds, t);
        }
        // A stage's own bake replaces the top-level one.
        for (i, stage) in r.stages.iter().enumerate() {
            let own = input.pointer(&format!("/stages/{i}/bake")).or(input.get("bake"));
            let want = own.and_then(|b| b["seconds"].as_u64());
            prop_assert_eq!(stage.bake.as_ref().map(|b| b.seconds), want);
        }
    }

    #[test]
    fn one_broken_rule_is_rejected_naming_its_field(
        mut input in valid_input(), which in 0usize..8, junk in "[ !@#$%^&*()+=\\u{e9}\\u{1F600}]",
    ) {
        let junk = junk.chars().next().unwrap_or('!');
        let field = break_one(&mut input, which, junk);
        match parse_start_event(&input) {
            Ok(_) => prop_assert!(false, "accepted {}", input),
            Err(e) => prop_assert_eq!(e.field.as_str(), field, "{}: {}", input, e),
        }
    }

    #[test]
    fn start_event_parsing_never_panics_and_names_the_field(event in any_json()) {
        if let Err(e) = parse_start_event(&event) {
            prop_assert!(!e.field.is_empty());
            prop_assert!(!e.rule.is_empty());
        }
    }

    #[test]
    fn names_are_accepted_exactly_when_the_model_allows(
        game in ".{0,40}", stage in "[a-zA-Z0-9_-]{1,36}", wrap in any::<bool>()
    ) {
        let input = json!({"gameName": game, "stageName": stage, "snapshotId": "latest"});
        let event = if wrap { json!({"input": input, "execution": {"Id": "e"}}) } else { input };
        let valid = (1..=36).contains(&game.chars().count())
            && game.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match parse_start_event(&event) {
            Ok(_) => prop_assert!(valid, "accepted {:?}", game),
            Err(e) => {
                prop_assert!(!valid, "rejected {:?}: {}", game, e);
                prop_assert!(e.field.ends_with("gameName"), "{}", e);
            }
        }
    }

    #[test]
    fn snapshot_ids_follow_the_pattern(digits in "[0-9]{3,7}", junk in ".{0,3}") {
        let id = format!("Snapshot_2026-01-01T00:00:00.{digits}Z{junk}");
        let event = json!({"gameName": "g", "stageName": "s", "snapshotId": id});
        let valid = digits.len() <= 6 && junk.is_empty();
        prop_assert_eq!(parse_start_event(&event).is_ok(), valid, "{}", id);
    }

    #[test]
    fn classification_is_total(
        state in state_name(),
        code in prop::option::of(prop_oneof![Just("SUCCESS".to_string()), ".{0,12}"]),
        offset in -10_000i64..10_000,
        grace in 0i64..7_200,
    ) {
        let deployment = Deployment {
            id: "d".into(),
            snapshot_id: None,
            action: None,
            state: DeploymentState::parse(&state),
            result_code: code.as_deref().map(ResultCode::parse),
            result_message: None,
            created: None,
            last_updated: None,
        };
        let deadline = t0();
        let grace_end = deadline + Duration::seconds(grace);
        let now = deadline + Duration::seconds(offset);
        let c = classify(&deployment, deadline, grace_end, now);
        let terminal_state = state == "COMPLETED" || state == "FAILED";
        prop_assert_eq!(c.outcome.is_terminal(), terminal_state || offset >= grace);
        prop_assert_eq!(c.late, terminal_state && offset > 0);
        if c.outcome == Outcome::Succeeded {
            prop_assert!(state == "COMPLETED" && code.as_deref() == Some("SUCCESS"));
        }
    }

    #[test]
    fn waits_stay_in_bounds(attempt in 0u32..200, key in ".{0,20}", remaining in -100i64..10_000) {
        let now = t0();
        let w = next_wait(attempt, &key, now, now + Duration::seconds(remaining));
        prop_assert!((1..=MAX_WAIT_SECONDS).contains(&w));
        if remaining >= 1 {
            prop_assert!(w as i64 <= remaining);
        }
    }

    #[test]
    fn client_tokens_fit_the_model(execution_id in ".{0,300}") {
        for purpose in [Purpose::Deploy, Purpose::Rollback] {
            let t = client_token(&execution_id, purpose);
            prop_assert!((33..=126).contains(&t.len()) && t.is_ascii());
        }
    }

    #[test]
    fn hostile_names_cannot_break_the_message(game in ".{0,80}", stage in ".{0,80}", cause in ".{0,200}") {
        let error = CaughtError::from_catch(&json!({"Error": "StageGate.InvalidInput", "Cause": cause}));
        let n = render(&Report {
            verdict: Verdict::Error,
            state: None,
            error: Some(&error),
            fallback_game: Some(game.clone()),
            fallback_stage: Some(stage.clone()),
            execution_id: "exec".into(),
            now: t0(),
        });
        prop_assert!(n.subject.chars().count() <= MAX_SUBJECT_CHARS);
        prop_assert!(n.subject.chars().all(|c| (' '..='~').contains(&c)), "{:?}", n.subject);
        let body: Value = serde_json::from_str(&n.message).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let clean: String = game.chars().filter(|c| !c.is_control()).take(64).collect();
        prop_assert_eq!(body["gameName"].as_str(), Some(clean.as_str()));
        prop_assert_eq!(body["outcome"].as_str(), Some("ERROR"));
        for value in n.attributes.values() {
            prop_assert!(!value.trim().is_empty() && !value.chars().any(char::is_control));
        }
    }
}

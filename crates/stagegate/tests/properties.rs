//! Property tests on everything that reads untrusted input or renders it: never a panic, every
//! rejection names a field, names cannot break the JSON body or the subject.

use proptest::prelude::*;
use serde_json::{json, Value};
use stagegate::backoff::{next_wait, MAX_WAIT_SECONDS};
use stagegate::classify::{classify, Outcome};
use stagegate::deployment::{Deployment, DeploymentState, ResultCode};
use stagegate::input::parse_start_event;
use stagegate::notification::{render, Report, MAX_SUBJECT_CHARS};
use stagegate::token::{client_token, Purpose};
use stagegate::verdict::{CaughtError, Verdict};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

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

//! Property tests on everything that reads untrusted input or renders it: never a panic, every
//! rejection names a field, names cannot break the JSON body or the subject.

use proptest::prelude::*;
use serde_json::{json, Value};
use stagegate_core::approval::ApprovalSpec;
use stagegate_core::backoff::{next_wait, MAX_WAIT_SECONDS};
use stagegate_core::bake::BakeSpec;
use stagegate_core::classify::{classify, Outcome};
use stagegate_core::deployment::{Deployment, DeploymentState, ResultCode};
use stagegate_core::input::{
    parse_execution_input, parse_start_event, GateRequest, SnapshotChoice, StageSpec,
};
use stagegate_core::notification::{render, Report, MAX_SUBJECT_CHARS};
use stagegate_core::policy::{FailureResponse, Policy};
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

/// A response, and whether the input writes it out (a default may be left unwritten).
fn response_of(alert: bool) -> FailureResponse {
    if alert {
        FailureResponse::Alert
    } else {
        FailureResponse::Rollback
    }
}

/// A bake as the gate holds it, and the input that asks for it (defaults written or not).
fn bake_model() -> impl Strategy<Value = (BakeSpec, Value)> {
    (
        30u64..=7200,
        10u64..=300,
        prop::collection::btree_set("[a-zA-Z0-9._/: -]{1,30}|\\PC{1,8}", 1..5),
        any::<bool>(),
        any::<bool>(),
        any::<[bool; 3]>(),
    )
        .prop_map(|(seconds, interval, names, insufficient, ignore, write)| {
            // At most 120 checks: the interval is raised to what the bake needs.
            let interval = interval.max(seconds.div_ceil(120));
            let spec = BakeSpec {
                seconds,
                alarm_names: names.into_iter().collect(),
                check_interval_seconds: interval,
                fail_on_insufficient_data: insufficient,
                ignore_alarm_read_errors: ignore,
            };
            let mut b = json!({"seconds": seconds, "alarmNames": spec.alarm_names});
            if interval != 30 || write[0] {
                b["checkIntervalSeconds"] = json!(interval);
            }
            if insufficient || write[1] {
                b["failOnInsufficientData"] = json!(insufficient);
            }
            if ignore || write[2] {
                b["ignoreAlarmReadErrors"] = json!(ignore);
            }
            (spec, b)
        })
}

fn policy_model() -> impl Strategy<Value = (Policy, Value)> {
    (
        any::<[bool; 4]>(),
        60u64..=7200,
        prop::option::of(0u64..=7200),
        any::<[bool; 5]>(),
    )
        .prop_map(|(alert, timeout, grace, write)| {
            let policy = Policy {
                on_invalid_role: response_of(alert[0]),
                on_unspecified_failure: response_of(alert[1]),
                on_timeout: response_of(alert[2]),
                on_bake_failure: response_of(alert[3]),
                timeout_seconds: timeout,
                timeout_grace_seconds: grace.unwrap_or(timeout),
            };
            let defaults = Policy::default();
            let mut p = serde_json::Map::new();
            let responses = [
                (
                    "onInvalidRole",
                    policy.on_invalid_role,
                    defaults.on_invalid_role,
                ),
                (
                    "onUnspecifiedFailure",
                    policy.on_unspecified_failure,
                    defaults.on_unspecified_failure,
                ),
                ("onTimeout", policy.on_timeout, defaults.on_timeout),
                (
                    "onBakeFailure",
                    policy.on_bake_failure,
                    defaults.on_bake_failure,
                ),
            ];
            for (i, (key, value, default)) in responses.into_iter().enumerate() {
                if value != default || write[i] {
                    p.insert(key.into(), json!(value.as_str()));
                }
            }
            if timeout != defaults.timeout_seconds || write[4] {
                p.insert("timeoutSeconds".into(), json!(timeout));
            }
            if let Some(g) = grace {
                p.insert("timeoutGraceSeconds".into(), json!(g));
            }
            (policy, Value::Object(p))
        })
}

/// A freeze window in the form the gate writes it back (so a round trip must give it exactly).
fn freeze_window_json() -> impl Strategy<Value = Value> {
    let name = prop::option::of("[a-zA-Z0-9 ]{1,64}");
    prop_oneof![
        (name.clone(), 0i64..400 * 24, 1i64..200).prop_map(|(name, start_h, hours)| {
            let at = |h: i64| stagegate_core::timefmt::rfc3339(t0() + Duration::hours(h));
            let mut w = json!({"start": at(start_h), "end": at(start_h + hours)});
            if let Some(n) = name {
                w["name"] = json!(n);
            }
            w
        }),
        (
            name,
            prop::sample::subsequence(vec!["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"], 1..=7),
            0u16..24 * 60,
            1u16..24 * 60,
            prop::sample::select(vec![
                "UTC",
                "Europe/Berlin",
                "America/New_York",
                "Asia/Tokyo"
            ]),
        )
            .prop_map(|(name, days, from, length, zone)| {
                let to = (from + length) % (24 * 60);
                let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
                let to = if to == 0 {
                    "24:00".to_owned()
                } else {
                    clock(to)
                };
                let mut w = json!({"weekly": {"days": days, "from": clock(from), "to": to,
                                              "timeZone": zone}});
                if let Some(n) = name {
                    w["name"] = json!(n);
                }
                w
            }),
    ]
}

/// A whole request as the gate holds it after parsing, and an input that asks for exactly it.
fn request_model() -> impl Strategy<Value = (GateRequest, Value)> {
    (
        model_name(),
        prop::collection::btree_set(model_name(), 1..=5),
        any::<bool>(),
        prop::collection::vec(
            (
                prop::option::of(bake_model()),
                prop::option::of(60u64..=86_400),
                any::<bool>(),
            ),
            5,
        ),
        prop::option::of(bake_model()),
        prop::option::of(60u64..=86_400),
        prop_oneof![
            Just(SnapshotChoice::Latest),
            "[0-9]{3,6}"
                .prop_map(|d| SnapshotChoice::Id(format!("Snapshot_2026-01-01T00:00:00.{d}Z"))),
        ],
        prop::option::of(policy_model()),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(freeze_window_json(), 0..4)),
    )
        .prop_map(
            |(
                game,
                names,
                single,
                per_stage,
                run_bake,
                run_approval,
                snapshot,
                policy,
                dry,
                windows,
            )| {
                let names: Vec<String> = names.into_iter().collect();
                let single = single || names.len() == 1 && per_stage[0].2;
                let mut input = json!({"gameName": game, "snapshotId": snapshot.as_str()});
                let mut stages = Vec::new();
                if single {
                    input["stageName"] = json!(names[0]);
                    stages.push(StageSpec {
                        stage_name: names[0].clone(),
                        approval: None,
                        bake_field: "bake".into(),
                        bake: run_bake.as_ref().map(|(b, _)| b.clone()),
                    });
                } else {
                    let mut entries = Vec::new();
                    for (i, name) in names.iter().enumerate() {
                        let (own_bake, own_approval, as_string) = &per_stage[i];
                        // The run's approval is the first stage's; only one of them may be given.
                        let own_approval = if i == 0 && run_approval.is_some() {
                            None
                        } else {
                            *own_approval
                        };
                        let plain = *as_string && own_bake.is_none() && own_approval.is_none();
                        if plain {
                            entries.push(json!(name));
                        } else {
                            let mut o = json!({"stageName": name});
                            if let Some((_, b)) = own_bake {
                                o["bake"] = b.clone();
                            }
                            if let Some(t) = own_approval {
                                o["approval"] = json!({"timeoutSeconds": t});
                            }
                            entries.push(o);
                        }
                        let (bake, bake_field) = match (own_bake, &run_bake) {
                            (Some((b, _)), _) => (Some(b.clone()), format!("stages[{i}].bake")),
                            (None, Some((b, _))) => (Some(b.clone()), "bake".to_owned()),
                            (None, None) => (None, format!("stages[{i}].bake")),
                        };
                        stages.push(StageSpec {
                            stage_name: name.clone(),
                            approval: own_approval
                                .map(|timeout_seconds| ApprovalSpec { timeout_seconds }),
                            bake_field,
                            bake,
                        });
                    }
                    input["stages"] = json!(entries);
                }
                if let Some(t) = run_approval {
                    input["approval"] = json!({"timeoutSeconds": t});
                    stages[0].approval = Some(ApprovalSpec { timeout_seconds: t });
                }
                if let Some((_, b)) = &run_bake {
                    input["bake"] = b.clone();
                }
                if let Some((_, p)) = &policy {
                    input["policy"] = p.clone();
                }
                if let Some(d) = dry {
                    input["dryRun"] = json!(d);
                }
                if let Some(w) = &windows {
                    input["freezeWindows"] = json!(w);
                }
                let request = GateRequest {
                    game_name: game,
                    stages,
                    wave: !single,
                    snapshot,
                    policy: policy.map(|(p, _)| p).unwrap_or_default(),
                    dry_run: dry.unwrap_or(false),
                    // Compared in their written form (below): built only by parsing.
                    freeze_windows: vec![],
                };
                (request, input)
            },
        )
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
    fn every_field_round_trips((expected, input) in request_model()) {
        let mut parsed = parse_execution_input(&input, "")
            .map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
        // Freeze windows: written back, each is exactly what the input gave.
        let windows = serde_json::to_value(&parsed.freeze_windows)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let given = input.get("freezeWindows").cloned().unwrap_or(json!([]));
        prop_assert_eq!(windows, given);
        parsed.freeze_windows.clear();
        prop_assert_eq!(parsed, expected, "{}", input);
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
        before in prop_oneof![Just(String::new()), ".{0,2}"],
        name in "[a-zA-Z0-9_-]{0,40}",
        after in prop_oneof![Just(String::new()), ".{0,2}"],
        stage in "[a-zA-Z0-9_-]{1,36}",
        wrap in any::<bool>()
    ) {
        // The model's alphabet and lengths (up to a few past the limit), sometimes with junk
        // around: most draws sit near the rule, not far outside it.
        let game = format!("{before}{name}{after}");
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

/// A fleet run as the fleet workflow will drive it: batch after batch until `next` says
/// otherwise, every game of a started batch finishing (nothing running is stopped).
fn run_fleet(
    items: usize,
    canaries: &[usize],
    size: usize,
    failing: &[bool],
    budget: &stagegate_core::budget::Budget,
) -> (stagegate_core::budget::Next, Vec<usize>) {
    use stagegate_core::budget::{batches, next, GameEnding, Next};
    let plan = batches(items, canaries, size);
    let mut endings = vec![];
    let mut started = vec![];
    for done in 0..=plan.len() {
        match next(&plan, done, &endings, budget, !canaries.is_empty()) {
            Next::Batch { batch } => {
                for &item in &plan[batch] {
                    started.push(item);
                    let verdict = if failing[item] {
                        Verdict::RolledBack
                    } else {
                        Verdict::Succeeded
                    };
                    endings.push(GameEnding { item, verdict });
                }
            }
            other => return (other, started),
        }
    }
    (Next::Done, started)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The fleet's budget, for any fleet: each game starts at most once; with failures within the
    /// budget every game runs; past it, the fleet stops at the first batch boundary after the
    /// failure that passed it, having started no game after that; a failed canary wave starts
    /// nothing else.
    #[test]
    fn a_fleet_keeps_its_budget(
        items in 1usize..300,
        size in 1usize..40,
        percent in 0u8..=100,
        canary_count in 0usize..4,
        canary_allowance in 0u32..2,
        seed in any::<u64>(),
        rate in 0u32..40,
    ) {
        use stagegate_core::budget::{Budget, Next};
        let canaries: Vec<usize> = (0..canary_count.min(items.saturating_sub(1))).collect();
        let failing: Vec<bool> = (0..items)
            .map(|i| (seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add((i as u64).wrapping_mul(1_442_695_040_888_963_407)) >> 33) % 100 < u64::from(rate))
            .collect();
        let budget = Budget { max_failure_percent: percent, canary_max_failures: canary_allowance };
        let allowed = items * usize::from(percent) / 100;
        let (end, started) = run_fleet(items, &canaries, size, &failing, &budget);
        let mut unique = started.clone();
        unique.sort_unstable();
        unique.dedup();
        prop_assert_eq!(unique.len(), started.len(), "a game started twice");
        let failed_started = started.iter().filter(|&&i| failing[i]).count();
        let canary_failed = canaries.iter().filter(|&&i| failing[i]).count();
        let total_failed = failing.iter().filter(|f| **f).count();
        match end {
            Next::Done => {
                prop_assert_eq!(started.len(), items);
                prop_assert!(total_failed <= allowed);
                prop_assert!(canaries.is_empty() || canary_failed <= canary_allowance as usize);
            }
            Next::Stopped { failed, not_started, .. } => {
                prop_assert_eq!(started.len() + not_started, items);
                let canary_stop = !canaries.is_empty() && canary_failed > canary_allowance as usize;
                if canary_stop {
                    prop_assert_eq!(failed, canary_failed);
                    prop_assert_eq!(started.len(), canaries.len(), "games after a failed canary wave");
                } else {
                    prop_assert_eq!(failed, failed_started);
                    prop_assert!(failed_started > allowed, "stopped within budget");
                    // Without its last batch the run was within the budget: it stopped at the
                    // first batch boundary past it, not later.
                    let plan = stagegate_core::budget::batches(items, &canaries, size);
                    let ran = plan.iter().scan(0, |n, b| { *n += b.len(); Some(*n) }).position(|n| n == started.len());
                    let before_last: usize = ran.map_or(0, |last| {
                        plan.iter().take(last).flatten().filter(|&&i| failing[i]).count()
                    });
                    prop_assert!(before_last <= allowed, "ran a batch after the budget was spent");
                }
            }
            Next::Batch { .. } => prop_assert!(false, "the run did not end"),
        }
    }
}

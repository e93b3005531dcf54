//! The committed input schema and the parser agree, checked with a real JSON Schema validator.
//!
//! `schemas/execution-input.schema.json` is what people and tools outside Rust check an input
//! against; the parser is what the gate (and `stagegate validate`) runs. Tens of thousands of
//! inputs, valid ones drawn over every field and broken ones made from them one or two rules at a
//! time, go through both: each must be accepted by both or rejected by both, except where the
//! parser applies a rule no JSON Schema can express (`UNEXPRESSED`): there the schema accepts and
//! the parser's error must be that rule. Every such rule must be met, so the list stays exact.
//! One seed draws everything; a failure prints the seed and the input.

use serde_json::{json, Map, Value};
use stagegate_core::input::{parse_execution_input, UNEXPRESSED};

const CASES: u64 = 30_000;

/// splitmix64: small, seedable, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// A bound itself often, a value inside otherwise: rules break at their edges.
    fn bounded(&mut self, lo: u64, hi: u64) -> u64 {
        match self.below(4) {
            0 => lo,
            1 => hi,
            _ => self.range(lo, hi),
        }
    }
}

const NAME_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

fn name(rng: &mut Rng) -> String {
    let len = rng.bounded(1, 36);
    (0..len)
        .map(|_| char::from(*rng.pick(NAME_ALPHABET)))
        .collect()
}

fn alarm_name(rng: &mut Rng) -> String {
    let len = rng.bounded(1, 255) as usize;
    let pieces = ["a", "Z", "9", " ", "-", "é", "名", "🚀", "/", ":"];
    (0..len).map(|_| *rng.pick(&pieces)).collect()
}

fn snapshot(rng: &mut Rng) -> String {
    if rng.chance(30) {
        return "latest".into();
    }
    let digits = rng.range(3, 6) as usize;
    let fraction: String = (0..digits)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect();
    format!(
        "Snapshot_20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}.{fraction}Z",
        rng.below(100),
        rng.range(1, 12),
        rng.range(1, 28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn bake(rng: &mut Rng) -> Value {
    let seconds = rng.bounded(30, 7200);
    let names: Vec<String> = {
        let mut names: Vec<String> = Vec::new();
        for _ in 0..rng.range(1, 4) {
            let n = alarm_name(rng);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    };
    let mut b = Map::new();
    b.insert("seconds".into(), json!(seconds));
    b.insert("alarmNames".into(), json!(names));
    // At most 120 checks per bake: the default interval (30 s) serves bakes up to an hour.
    if seconds > 3600 || rng.chance(50) {
        let least = seconds.div_ceil(120).max(10);
        b.insert(
            "checkIntervalSeconds".into(),
            json!(rng.bounded(least, 300)),
        );
    }
    for flag in ["failOnInsufficientData", "ignoreAlarmReadErrors"] {
        if rng.chance(30) {
            b.insert(flag.into(), json!(rng.chance(50)));
        }
    }
    Value::Object(b)
}

fn policy(rng: &mut Rng) -> Value {
    let mut p = Map::new();
    for f in [
        "onInvalidRole",
        "onUnspecifiedFailure",
        "onTimeout",
        "onBakeFailure",
    ] {
        match rng.below(4) {
            0 => {}
            1 => {
                p.insert(f.into(), Value::Null);
            }
            _ => {
                p.insert(f.into(), json!(rng.pick(&["alert", "rollback"])));
            }
        }
    }
    if rng.chance(50) {
        p.insert("timeoutSeconds".into(), json!(rng.bounded(60, 7200)));
    }
    if rng.chance(40) {
        p.insert("timeoutGraceSeconds".into(), json!(rng.bounded(0, 7200)));
    }
    Value::Object(p)
}

fn approval(rng: &mut Rng) -> Value {
    json!({"timeoutSeconds": rng.bounded(60, 86_400)})
}

const DAYS: &[&str] = &["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const ZONES: &[&str] = &["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"];

fn clock(rng: &mut Rng) -> String {
    format!("{:02}:{:02}", rng.below(24), rng.below(60))
}

fn freeze_window(rng: &mut Rng) -> Value {
    let mut w = Map::new();
    if rng.chance(50) {
        let len = rng.bounded(1, 64) as usize;
        w.insert("name".into(), json!("f".repeat(len)));
    }
    if rng.chance(50) {
        let day = rng.range(1, 27);
        let hours = rng.range(1, 72);
        w.insert("start".into(), json!(format!("2026-12-{day:02}T00:00:00Z")));
        let end = time::OffsetDateTime::from_unix_timestamp(
            1_796_083_200 + (day as i64 - 1) * 86_400 + hours as i64 * 3600,
        )
        .map(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        })
        .unwrap_or_default();
        w.insert("end".into(), json!(end));
    } else {
        let mut days: Vec<&str> = DAYS.iter().copied().filter(|_| rng.chance(40)).collect();
        if days.is_empty() {
            days.push(*rng.pick(DAYS));
        }
        let from = clock(rng);
        let mut to = if rng.chance(20) {
            "24:00".to_owned()
        } else {
            clock(rng)
        };
        if to == from {
            to = if from == "00:00" {
                "24:00".into()
            } else {
                "00:00".into()
            };
        }
        let mut weekly = json!({"days": days, "from": from, "to": to});
        if rng.chance(60) {
            weekly["timeZone"] = json!(rng.pick(ZONES));
        }
        w.insert("weekly".into(), weekly);
    }
    Value::Object(w)
}

/// A valid input over every field.
fn valid(rng: &mut Rng) -> Value {
    let mut input = Map::new();
    input.insert("gameName".into(), json!(name(rng)));
    input.insert("snapshotId".into(), json!(snapshot(rng)));
    let run_approval = rng.chance(25);
    if rng.chance(50) {
        input.insert("stageName".into(), json!(name(rng)));
        if rng.chance(10) {
            input.insert("stages".into(), Value::Null);
        }
    } else {
        let mut stages: Vec<Value> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for i in 0..rng.range(1, 5) {
            let n = name(rng);
            if names.contains(&n) {
                continue;
            }
            names.push(n.clone());
            if rng.chance(50) {
                stages.push(json!(n));
            } else {
                let mut o = Map::new();
                o.insert("stageName".into(), json!(n));
                if rng.chance(50) {
                    o.insert("bake".into(), bake(rng));
                }
                if rng.chance(30) && !(run_approval && i == 0) {
                    o.insert("approval".into(), approval(rng));
                }
                stages.push(Value::Object(o));
            }
        }
        input.insert("stages".into(), Value::Array(stages));
        if rng.chance(10) {
            input.insert("stageName".into(), Value::Null);
        }
    }
    if rng.chance(40) {
        input.insert("bake".into(), bake(rng));
    }
    if rng.chance(50) {
        input.insert("policy".into(), policy(rng));
    }
    if rng.chance(30) {
        input.insert("dryRun".into(), json!(rng.chance(50)));
    }
    if run_approval {
        input.insert("approval".into(), approval(rng));
    }
    if rng.chance(30) {
        let windows: Vec<Value> = (0..rng.range(0, 3)).map(|_| freeze_window(rng)).collect();
        input.insert("freezeWindows".into(), Value::Array(windows));
    }
    for optional in ["policy", "bake", "approval", "freezeWindows"] {
        if !input.contains_key(optional) && rng.chance(5) {
            input.insert(optional.into(), Value::Null);
        }
    }
    Value::Object(input)
}

/// Somewhere in `input` a bake lives (the run's or a stage's), made if there is none.
fn some_bake<'a>(rng: &mut Rng, input: &'a mut Value) -> &'a mut Value {
    let objects: Vec<usize> = input["stages"]
        .as_array()
        .map(|s| {
            s.iter()
                .enumerate()
                .filter(|(_, e)| e.is_object())
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    let slot = if !objects.is_empty() && rng.chance(50) {
        let i = objects[rng.below(objects.len() as u64) as usize];
        &mut input["stages"][i]["bake"]
    } else {
        &mut input["bake"]
    };
    if !slot.is_object() {
        *slot = json!({"seconds": 60, "alarmNames": ["a"]});
    }
    slot
}

fn some_window<'a>(rng: &mut Rng, input: &'a mut Value) -> &'a mut Value {
    if !input["freezeWindows"].is_array() {
        input["freezeWindows"] = json!([]);
    }
    let windows = input["freezeWindows"].as_array_mut();
    let Some(windows) = windows else {
        unreachable!("just made an array")
    };
    if windows.is_empty() {
        windows.push(freeze_window(rng));
    }
    let k = rng.below(windows.len() as u64) as usize;
    if !windows[k].is_object() {
        windows[k] = freeze_window(rng);
    }
    &mut windows[k]
}

fn wave(input: &mut Value, stages: Value) {
    if let Some(o) = input.as_object_mut() {
        o.remove("stageName");
    }
    input["stages"] = stages;
}

/// Breaks (or, at a bound, keeps) one rule of `input`.
fn mutate(rng: &mut Rng, input: &mut Value) {
    let numbers = |lo: i64, hi: i64| -> Vec<Value> {
        vec![
            json!(lo - 1),
            json!(lo),
            json!(hi),
            json!(hi + 1),
            json!(-1),
            json!(hi as f64),
            json!(lo as f64 + 0.5),
            json!(lo.to_string()),
            Value::Null,
        ]
    };
    match rng.below(22) {
        0 => {
            input["gameName"] = rng
                .pick(&[
                    json!(""),
                    json!("a".repeat(36)),
                    json!("a".repeat(37)),
                    json!("has space"),
                    json!("naïve"),
                    json!("dot.name"),
                    json!(7),
                    Value::Null,
                ])
                .clone()
        }
        1 => {
            input["snapshotId"] = rng
                .pick(&[
                    json!("Latest"),
                    json!("latest "),
                    json!("Snapshot_2023-01-31T12:00:00.00Z"),
                    json!("Snapshot_2023-01-31T12:00:00.0000000Z"),
                    json!("Snapshot_2023-01-31T12:00:00.000000Z"),
                    json!("Snapshot_２023-01-31T12:00:00.000Z"),
                    json!("Snapshot_2023-01-31T12:00:00.000z"),
                    json!("Snapshot_2023-01-31 12:00:00.000Z"),
                    json!(""),
                    json!(5),
                ])
                .clone()
        }
        2 => {
            let field = *rng.pick(&["gameName", "snapshotId", "stageName", "stages"]);
            if let Some(o) = input.as_object_mut() {
                o.remove(field);
            }
        }
        3 => {
            let field = *rng.pick(&["polcy", "stage", "snapshotID", "bakes", "dryrun"]);
            input[field] = json!(1);
        }
        4 => {
            input["stageName"] = json!("one");
            input["stages"] = json!(["two"]);
        }
        5 => wave(
            input,
            rng.pick(&[
                json!([]),
                json!(["a", "b", "c", "d", "e", "f"]),
                json!(["dev", "dev"]),
                json!(["dev", {"stageName": "dev"}]),
                json!([{"stageName": "dev"}, {"stageName": "dev"}]),
                json!([{"stageName": "dev"}, {"stageName": "dev", "bake": null}]),
                json!(["dev", 7]),
                json!([{}]),
                json!([{"stageName": "x", "stage": "y"}]),
                json!(["pr od"]),
                json!([null]),
                json!("dev"),
            ])
            .clone(),
        ),
        6 => {
            let field = *rng.pick(&[
                "onInvalidRole",
                "onUnspecifiedFailure",
                "onTimeout",
                "onBakeFailure",
            ]);
            if !input["policy"].is_object() {
                input["policy"] = json!({});
            }
            input["policy"][field] = rng
                .pick(&[json!("retry"), json!("Rollback"), json!("alert"), json!(1)])
                .clone();
        }
        7 => {
            if !input["policy"].is_object() {
                input["policy"] = json!({});
            }
            let (field, lo, hi) = *rng.pick(&[
                ("timeoutSeconds", 60, 7200),
                ("timeoutGraceSeconds", 0, 7200),
            ]);
            input["policy"][field] = rng.pick(&numbers(lo, hi)).clone();
        }
        8 => {
            input["policy"] = rng
                .pick(&[json!("alert"), json!({"onTimeOut": "alert"}), json!([])])
                .clone()
        }
        9 => {
            let b = some_bake(rng, input);
            b["seconds"] = rng.pick(&numbers(30, 7200)).clone();
        }
        10 => {
            let b = some_bake(rng, input);
            let many: Vec<String> = (0..101).map(|i| format!("a{i}")).collect();
            b["alarmNames"] = rng
                .pick(&[
                    json!([]),
                    json!(many),
                    json!(["a", "a"]),
                    json!([""]),
                    json!(["n".repeat(255)]),
                    json!(["n".repeat(256)]),
                    json!(["a\nb"]),
                    json!(["a\u{85}b"]),
                    json!(["a\u{7f}"]),
                    json!([7]),
                    json!("a"),
                ])
                .clone();
        }
        11 => {
            let b = some_bake(rng, input);
            b["checkIntervalSeconds"] = rng.pick(&numbers(10, 300)).clone();
            if rng.chance(30) {
                // More than 120 checks.
                b["seconds"] = json!(7200);
                b["checkIntervalSeconds"] = json!(rng.pick(&[59, 60]));
            }
        }
        12 => {
            let b = some_bake(rng, input);
            let field = *rng.pick(&["alarms", "failOnInsufficientData", "Seconds"]);
            b[field] = json!("x");
        }
        13 => {
            input["approval"] = rng
                .pick(&[
                    json!({"timeoutSeconds": 59}),
                    json!({"timeoutSeconds": 60}),
                    json!({"timeoutSeconds": 86_400}),
                    json!({"timeoutSeconds": 86_401}),
                    json!({}),
                    json!({"timeoutSeconds": 600, "by": "x"}),
                    json!(600),
                ])
                .clone()
        }
        14 => {
            // The run's approval and the first stage's.
            input["approval"] = json!({"timeoutSeconds": 600});
            let first = rng
                .pick(&[
                    json!({"stageName": "dev", "approval": {"timeoutSeconds": 600}}),
                    json!({"stageName": "dev", "approval": null}),
                    json!("dev"),
                ])
                .clone();
            wave(
                input,
                json!([first, {"stageName": "prod", "approval": {"timeoutSeconds": 60}}]),
            );
        }
        15 => {
            let count = *rng.pick(&[50, 51]);
            let windows: Vec<Value> = (0..count)
                .map(|_| json!({"weekly": {"days": ["MON"], "from": "01:00", "to": "02:00"}}))
                .collect();
            input["freezeWindows"] = json!(windows);
        }
        16 => {
            let w = some_window(rng, input);
            *w = rng
                .pick(&[
                    json!(7),
                    json!({}),
                    json!({"start": "2026-12-20T00:00:00Z"}),
                    json!({"end": "2026-12-20T00:00:00Z"}),
                    json!({"start": "yesterday", "end": "2026-12-20T00:00:00Z"}),
                    json!({"start": "2026-12-20T00:00:00", "end": "2026-12-21T00:00:00Z"}),
                    json!({"start": "2026-12-20T00:00:00Z", "end": "2026-12-20T00:00:00Z"}),
                    json!({"start": "2026-12-20T01:00:00+01:00", "end": "2026-12-20T00:00:00Z"}),
                    json!({"start": "2026-12-20T00:00:00Z", "end": "2026-12-19T00:00:00Z"}),
                    json!({"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z",
                           "weekly": {"days": ["MON"], "from": "01:00", "to": "02:00"}}),
                    json!({"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z",
                           "until": "x"}),
                ])
                .clone();
        }
        17 => {
            let w = some_window(rng, input);
            *w = json!({"weekly": {"days": ["MON"], "from": "01:00", "to": "02:00"}});
            let (field, value) = rng
                .pick(&[
                    ("days", json!([])),
                    ("days", json!(["MON", "MON"])),
                    ("days", json!(["MONDAY"])),
                    (
                        "days",
                        json!(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]),
                    ),
                    ("from", json!("24:00")),
                    ("from", json!("9:00")),
                    ("from", json!("23:60")),
                    ("from", json!("00:00")),
                    ("to", json!("24:01")),
                    ("to", json!("24:00")),
                    ("to", json!("01:00")),
                    ("to", json!("01:00:00")),
                    ("timeZone", json!("Mars/Base")),
                    ("timeZone", json!("europe/berlin")),
                    ("timeZone", json!("Etc/Unknown")),
                    ("timeZone", json!("")),
                    ("timeZone", Value::Null),
                    ("every", json!(2)),
                ])
                .clone();
            w["weekly"][field] = value;
        }
        18 => {
            let w = some_window(rng, input);
            w["name"] = rng
                .pick(&[
                    json!(""),
                    json!("n".repeat(64)),
                    json!("n".repeat(65)),
                    json!("tab\there"),
                    Value::Null,
                    json!(3),
                ])
                .clone();
        }
        19 => {
            // More alarms in all than a run may watch, or more bytes of names.
            let forty: Vec<String> = (0..40).map(|i| format!("a{i}")).collect();
            let wide: Vec<String> = (0..100)
                .map(|i| format!("{i:03}{}", "é".repeat(252)))
                .collect();
            if rng.chance(50) {
                wave(input, json!(["a", "b", "c"]));
                input["bake"] = json!({"seconds": 60, "alarmNames": forty});
            } else {
                input["bake"] = json!({"seconds": 60, "alarmNames": wide});
            }
        }
        20 => input["dryRun"] = rng.pick(&[json!("yes"), Value::Null, json!(1)]).clone(),
        _ => {
            *input = rng
                .pick(&[json!(null), json!([1]), json!("input"), json!({})])
                .clone()
        }
    }
}

#[test]
fn the_schema_and_the_parser_agree_on_every_input() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/execution-input.schema.json"
    );
    let schema: Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("{path} is not readable JSON"));
    let validator =
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path} is no schema: {e}"));
    let seed: u64 = std::env::var("STAGEGATE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x005c_4e3a);
    let mut rng = Rng(seed);
    let (mut both_accept, mut both_reject) = (0u64, 0u64);
    let mut unexpressed_met = vec![0u64; UNEXPRESSED.len()];
    let mut disagreements: Vec<String> = Vec::new();
    for case in 0..CASES {
        let mut input = valid(&mut rng);
        let mutations = rng.below(3);
        // A mutation may leave no object to break further.
        for _ in 0..mutations {
            if input.is_object() {
                mutate(&mut rng, &mut input);
            }
        }
        let parsed = parse_execution_input(&input, "");
        let schema_says: Vec<String> = validator
            .iter_errors(&input)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        match (&parsed, schema_says.is_empty()) {
            (Ok(_), true) => both_accept += 1,
            (Err(_), false) => both_reject += 1,
            (Ok(_), false) => disagreements.push(format!(
                "case {case}: the parser accepts, the schema rejects ({}): {input}",
                schema_says.join("; ")
            )),
            (Err(e), true) => match UNEXPRESSED
                .iter()
                .position(|(_, fragment)| e.rule.contains(fragment))
            {
                Some(i) => unexpressed_met[i] += 1,
                None => disagreements.push(format!(
                    "case {case}: the schema accepts, the parser rejects ({e}), and that rule is \
                     not in UNEXPRESSED: {input}"
                )),
            },
        }
        assert!(
            mutations > 0 || parsed.is_ok(),
            "case {case}: the generator drew an input the parser refuses ({:?}): {input}",
            parsed.err()
        );
        if disagreements.len() >= 5 {
            break;
        }
    }
    assert!(
        disagreements.is_empty(),
        "seed {seed}:\n{}",
        disagreements.join("\n")
    );
    println!(
        "{CASES} inputs: {both_accept} accepted by both, {both_reject} rejected by both, \
         accepted by the schema alone under a rule it cannot express: {unexpressed_met:?}"
    );
    assert!(both_accept > CASES / 5 && both_reject > CASES / 5);
    for ((rule, _), met) in UNEXPRESSED.iter().zip(&unexpressed_met) {
        assert!(*met > 0, "no input met the unexpressed rule {rule:?}");
    }
}

/// A reader of docs/input.md and of the schema learns of each rule the schema leaves out.
#[test]
fn the_rules_the_schema_leaves_out_are_named_where_readers_look() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/input.md"))
        .unwrap_or_default();
    let schema = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/execution-input.schema.json"
    ))
    .ok()
    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    .unwrap_or_default();
    let description = schema["description"].as_str().unwrap_or_default();
    for (rule, _) in UNEXPRESSED {
        assert!(
            docs.contains(&format!("- {rule}\n")),
            "docs/input.md does not name {rule:?}"
        );
        assert!(
            description.contains(rule),
            "the schema does not name {rule:?}"
        );
    }
}

fn validator(file: &str) -> jsonschema::Validator {
    let path = format!("{}/../../schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("{path} is not readable JSON"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path} is no schema: {e}"))
}

/// Every message the gate publishes in the committed examples (one per outcome, rendered by the
/// gate itself in `golden_messages.rs`) and every verdict rendered without a state fits the
/// message schema; and the schema is closed: a misspelt outcome or an unknown member fails it.
#[test]
fn every_message_the_gate_publishes_fits_the_message_schema() {
    use stagegate_core::notification::{render, Report};
    use stagegate_core::verdict::{CaughtError, Verdict};

    let validator = validator("message.schema.json");
    let problems = |body: &Value| -> Vec<String> {
        validator
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/examples");
    let mut examples = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    let mut outcomes = std::collections::BTreeSet::new();
    for path in entries {
        let example: Value = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| panic!("{} is not JSON", path.display()));
        let body = &example["message"];
        let wrong = problems(body);
        assert!(wrong.is_empty(), "{}: {}", path.display(), wrong.join("; "));
        outcomes.insert(body["outcome"].as_str().unwrap_or_default().to_owned());
        examples += 1;
    }
    assert!(examples >= 17, "only {examples} examples");
    let error = CaughtError::from_catch(&json!({"Error": "States.Timeout", "Cause": "x"}));
    for verdict in Verdict::ALL {
        let n = render(&Report {
            verdict,
            state: None,
            error: Some(&error),
            fallback_game: Some("g".into()),
            fallback_stage: Some("s".into()),
            execution_id: "exec".into(),
            now: time::OffsetDateTime::UNIX_EPOCH,
        });
        let body: Value = serde_json::from_str(&n.message).unwrap_or_default();
        let wrong = problems(&body);
        assert!(wrong.is_empty(), "{verdict:?}: {}", wrong.join("; "));
        outcomes.insert(body["outcome"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(outcomes.len(), Verdict::ALL.len(), "{outcomes:?}");
    // The schema has teeth.
    let path = dir.to_owned() + "/rolled-back.json";
    let example: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut misspelt = example["message"].clone();
    misspelt["outcome"] = json!("ROLLEDBACK");
    let mut extra = example["message"].clone();
    extra["gate"]["surprise"] = json!(1);
    let mut missing = example["message"].clone();
    if let Some(o) = missing.as_object_mut() {
        o.remove("summary");
    }
    for (what, body) in [
        ("a misspelt outcome", misspelt),
        ("an unknown member", extra),
        ("a missing summary", missing),
    ] {
        assert!(!problems(&body).is_empty(), "{what} passes the schema");
    }
}

//! A fleet input: many games' gates started by one run under one failure budget.
//!
//! Each game is the gate's own execution input, parsed by the same parser (its errors prefixed
//! `games[3].`), so a fleet cannot ask a game for anything a single run could not. What is the
//! fleet's own is checked here before anything starts: at least one game, no game and stage twice
//! (two gates racing on one stage), canaries that are in the fleet, a budget and a batch size in
//! range. Every error names the item and the rule; nothing is started on a bad fleet.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::budget::Budget;
use crate::fields::{self, InvalidInput};
use crate::input::{parse_execution_input, GateRequest};

/// More games than this are more than one Distributed Map run should carry (and the items then
/// travel through S3, not the execution input).
pub const MAX_FLEET_GAMES: usize = 10_000;
/// The largest batch. A Distributed Map runs up to 10,000 children, but a batch's results come
/// back into the fleet's state (256 KiB): at most 500 endings of about 360 bytes each, with the
/// progress beside them (`fleet_run`'s test of the widest batch holds this). Per-account token
/// buckets (StartExecution, GameSparks, Parameter Store) bind before that (docs/fleet.md).
pub const MAX_BATCH_SIZE: usize = 500;
/// The most batches a run may have: the fleet execution's history holds 25,000 events, and a
/// batch costs about 11 of them, up to 29 when its tally is retried to the limit; 600 batches
/// stay under it even then (docs/fleet.md, "The fleet's own history").
pub const MAX_BATCHES: usize = 600;
pub const DEFAULT_BATCH_SIZE: usize = 20;

/// What to do with games already promoted when the budget is breached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OnBreach {
    /// Leave them as they are (each gate decided on its own game).
    #[default]
    Leave,
    /// Run each promoted game back to the snapshot it served before (a gate run of its own,
    /// games of one stage only).
    Rollback,
}

/// A parsed, checked fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRequest {
    pub fleet_name: String,
    pub games: Vec<GateRequest>,
    /// The items (positions in `games`) that run first, alone.
    pub canaries: Vec<usize>,
    pub budget: Budget,
    pub batch_size: usize,
    pub on_breach: OnBreach,
}

/// Where a fleet too big for an execution input keeps its games: an S3 object holding the
/// `games` array (the fleet's Plan step reads it; `MAX_GAMES_FILE_BYTES` at most).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GamesFrom {
    pub bucket: String,
    pub key: String,
}

/// The largest games file the Plan step reads: it holds it whole (with its parsed form) in a
/// 256 MB function, and 10,000 gate inputs of the usual few hundred bytes are about 3 MB.
pub const MAX_GAMES_FILE_BYTES: usize = 8 * 1024 * 1024;

/// The fleet input, as `stagegate fleet run` and the fleet workflow take it
/// (`schemas/fleet-input.schema.json`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FleetInput {
    /// Names the fleet in its summary and its executions (1-128: letters, digits, `-`, `_`).
    pub fleet_name: String,
    /// Each game's gate execution input (`execution-input.schema.json`), 1-10,000 of them; or
    /// `gamesFrom`.
    #[serde(default)]
    pub games: Vec<Value>,
    #[serde(default)]
    pub games_from: Option<GamesFrom>,
    /// Canary games by name: they run first, alone; nothing else starts unless they stay within
    /// `budget.canaryMaxFailures`.
    #[serde(default)]
    pub canaries: Vec<String>,
    /// Or: the first N games are the canaries.
    #[serde(default)]
    pub canary_count: Option<usize>,
    pub budget: Budget,
    /// Games per batch (1-500, default 20): the budget is checked between batches; at most
    /// 600 batches.
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// What a breach does to games already promoted (default `leave`).
    #[serde(default)]
    pub on_breach: OnBreach,
}

/// The fleet's `gamesFrom`, when its games are in S3 (then `with_games` puts them in before
/// `parse_fleet`). Giving both `games` and `gamesFrom` is refused.
pub fn games_from(value: &Value) -> Result<Option<GamesFrom>, InvalidInput> {
    let Some(from) = value.get("gamesFrom") else {
        return Ok(None);
    };
    if value.get("games").is_some() {
        return Err(InvalidInput::new(
            "gamesFrom",
            "give the games inline (games) or in S3 (gamesFrom), not both",
        ));
    }
    fields::from_value(from, "gamesFrom.").map(Some)
}

/// The fleet input with the games file's array in place of `gamesFrom`.
pub fn with_games(value: &Value, file: &[u8]) -> Result<Value, InvalidInput> {
    if file.len() > MAX_GAMES_FILE_BYTES {
        return Err(InvalidInput::new(
            "gamesFrom",
            format!(
                "the games file is {} bytes, over the {MAX_GAMES_FILE_BYTES} a fleet reads",
                file.len()
            ),
        ));
    }
    let games: Value = serde_json::from_slice(file)
        .map_err(|e| InvalidInput::new("gamesFrom", format!("the games file is not JSON: {e}")))?;
    if !games.is_array() {
        return Err(InvalidInput::new(
            "gamesFrom",
            "the games file must hold a JSON array of gate inputs",
        ));
    }
    let mut out = value.clone();
    if let Some(o) = out.as_object_mut() {
        o.remove("gamesFrom");
        o.insert("games".into(), games);
    }
    Ok(out)
}

/// Parses and checks a fleet input.
pub fn parse_fleet(value: &Value) -> Result<FleetRequest, InvalidInput> {
    let raw: FleetInput = fields::from_value(value, "")?;
    if raw.games_from.is_some() {
        return Err(InvalidInput::new(
            "gamesFrom",
            "the games in S3 must be read first (with_games)",
        ));
    }
    fields::resource_name("fleetName", &raw.fleet_name)?;
    if raw.games.is_empty() || raw.games.len() > MAX_FLEET_GAMES {
        return Err(InvalidInput::new(
            "games",
            format!(
                "must list 1-{MAX_FLEET_GAMES} games, got {}",
                raw.games.len()
            ),
        ));
    }
    let mut games = Vec::with_capacity(raw.games.len());
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, item) in raw.games.iter().enumerate() {
        let game = parse_execution_input(item, &format!("games[{i}]."))?;
        for stage in &game.stages {
            let key = (game.game_name.clone(), stage.stage_name.clone());
            if let Some(first) = seen.insert(key, i) {
                return Err(InvalidInput::new(
                    format!("games[{i}]"),
                    format!(
                        "gates {}/{} again (games[{first}] does): a stage is gated once per fleet run, or two gates would race on it",
                        game.game_name, stage.stage_name
                    ),
                ));
            }
        }
        games.push(game);
    }
    let canaries = match (raw.canaries.is_empty(), raw.canary_count) {
        (false, Some(_)) => {
            return Err(InvalidInput::new(
                "canaryCount",
                "give canaries by name or by count, not both",
            ))
        }
        (true, None) => vec![],
        (true, Some(n)) if n < games.len() => (0..n).collect(),
        (true, Some(n)) => {
            return Err(InvalidInput::new(
                "canaryCount",
                format!(
                    "must be less than the {} games (some must remain after the canaries), got {n}",
                    games.len()
                ),
            ))
        }
        (false, None) => {
            let mut picked = vec![];
            for (c, name) in raw.canaries.iter().enumerate() {
                let Some(i) = games.iter().position(|g| &g.game_name == name) else {
                    return Err(InvalidInput::new(
                        format!("canaries[{c}]"),
                        format!("names {name:?}, which is not a game of this fleet"),
                    ));
                };
                if picked.contains(&i) {
                    return Err(InvalidInput::new(
                        format!("canaries[{c}]"),
                        format!("names {name:?} twice"),
                    ));
                }
                picked.push(i);
            }
            if picked.len() >= games.len() {
                return Err(InvalidInput::new(
                    "canaries",
                    "must leave at least one game after the canaries",
                ));
            }
            picked
        }
    };
    if raw.budget.max_failure_percent > 100 {
        return Err(InvalidInput::new(
            "budget.maxFailurePercent",
            format!(
                "must be 0-100 (percent of the fleet's games), got {}",
                raw.budget.max_failure_percent
            ),
        ));
    }
    let batch_size = raw.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
    if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
        return Err(InvalidInput::new(
            "batchSize",
            format!("must be 1-{MAX_BATCH_SIZE}, got {batch_size}"),
        ));
    }
    if raw.on_breach == OnBreach::Rollback {
        if let Some(i) = games.iter().position(|g| g.stages.len() > 1) {
            return Err(InvalidInput::new(
                format!("games[{i}].stages"),
                format!(
                    "onBreach rollback runs each promoted game back on its one stage; games[{i}] gates {} stages (give them as games of their own, or use onBreach leave)",
                    games[i].stages.len()
                ),
            ));
        }
    }
    let batches = crate::budget::batches(games.len(), &canaries, batch_size).len();
    if batches > MAX_BATCHES {
        return Err(InvalidInput::new(
            "batchSize",
            format!(
                "{batch_size} makes {batches} batches of {} games, more than the {MAX_BATCHES} one fleet execution's history holds: use batches of at least {}",
                games.len(),
                games.len().div_ceil(MAX_BATCHES - 1)
            ),
        ));
    }
    Ok(FleetRequest {
        fleet_name: raw.fleet_name,
        games,
        canaries,
        budget: raw.budget,
        batch_size,
        on_breach: raw.on_breach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn game(name: &str) -> Value {
        json!({"gameName": name, "stageName": "prod", "snapshotId": "latest"})
    }

    fn fleet(games: Vec<Value>, extra: Value) -> Value {
        let mut v =
            json!({"fleetName": "nightly", "games": games, "budget": {"maxFailurePercent": 5}});
        if let (Some(o), Some(more)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in more {
                o.insert(k.clone(), x.clone());
            }
        }
        v
    }

    fn error(v: &Value) -> InvalidInput {
        match parse_fleet(v) {
            Err(e) => e,
            Ok(f) => panic!("accepted {f:?}"),
        }
    }

    #[test]
    fn a_fleet_parses_each_game_as_a_gate_input() {
        let f = parse_fleet(&fleet(
            (0..5).map(|i| game(&format!("g{i}"))).collect(),
            json!({"canaries": ["g3"], "batchSize": 2}),
        ));
        let f = f.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.games.len(), 5);
        assert_eq!(f.canaries, vec![3]);
        assert_eq!(f.batch_size, 2);
        assert_eq!(f.on_breach, OnBreach::Leave);
        assert_eq!(f.budget.allowed(f.games.len()), 0);
    }

    #[test]
    fn a_bad_fleet_names_the_item_and_the_rule() {
        let e = error(&fleet(vec![], json!({})));
        assert_eq!(e.field, "games");
        assert!(e.rule.contains("1-10000"), "{e}");

        let e = error(&fleet(vec![game("a"), game("b"), game("a")], json!({})));
        assert_eq!(e.field, "games[2]");
        assert!(
            e.rule.contains("a/prod") && e.rule.contains("games[0]"),
            "{e}"
        );

        let mut bad = game("b");
        bad["stageName"] = json!("no spaces allowed");
        let e = error(&fleet(vec![game("a"), bad], json!({})));
        assert_eq!(e.field, "games[1].stageName");

        let e = error(&fleet(
            vec![game("a"), game("b")],
            json!({"budget": {"maxFailurePercent": 120}}),
        ));
        assert_eq!(e.field, "budget.maxFailurePercent");

        let e = error(&fleet(
            vec![game("a"), game("b")],
            json!({"canaries": ["zz"]}),
        ));
        assert_eq!(e.field, "canaries[0]");
        assert!(e.rule.contains("not a game of this fleet"), "{e}");

        let e = error(&fleet(
            vec![game("a"), game("b")],
            json!({"canaryCount": 2}),
        ));
        assert_eq!(e.field, "canaryCount");

        let e = error(&fleet(vec![game("a")], json!({"batchSize": 0})));
        assert_eq!(e.field, "batchSize");
        let e = error(&fleet(vec![game("a")], json!({"batchSize": 501})));
        assert_eq!(e.field, "batchSize");

        // 601 batches of one: more than one execution's history holds; the rule names the size
        // that fits.
        let many: Vec<Value> = (0..601).map(|i| game(&format!("g{i}"))).collect();
        let e = error(&fleet(many.clone(), json!({"batchSize": 1})));
        assert_eq!(e.field, "batchSize");
        assert!(
            e.rule.contains("601 batches") && e.rule.contains("at least 2"),
            "{e}"
        );
        assert!(parse_fleet(&fleet(many, json!({"batchSize": 2}))).is_ok());

        let e = error(&fleet(vec![game("a")], json!({"budgett": {}})));
        assert!(
            e.rule.contains("budgett") || e.field.contains("budgett"),
            "{e}"
        );
    }

    #[test]
    fn games_from_s3_are_read_in_place_and_checked() {
        let input = json!({"fleetName": "n", "gamesFrom": {"bucket": "b", "key": "k.json"}, "budget": {"maxFailurePercent": 5}});
        assert_eq!(
            games_from(&input).ok().flatten(),
            Some(GamesFrom {
                bucket: "b".into(),
                key: "k.json".into()
            })
        );
        assert_eq!(error(&input).field, "gamesFrom");
        let file = serde_json::to_vec(&vec![game("a"), game("b")]).unwrap_or_default();
        let whole = with_games(&input, &file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse_fleet(&whole).map(|f| f.games.len()).ok(), Some(2));
        let mut both = whole.clone();
        both["gamesFrom"] = json!({"bucket": "b", "key": "k"});
        assert_eq!(
            games_from(&both).err().map(|e| e.field),
            Some("gamesFrom".into())
        );
        let big = vec![b' '; MAX_GAMES_FILE_BYTES + 1];
        let e = with_games(&input, &big)
            .err()
            .unwrap_or_else(|| panic!("took a big file"));
        assert!(e.rule.contains("over the"), "{e}");
        assert!(with_games(&input, b"{}").is_err());
        assert!(with_games(&input, b"[").is_err());
        let e = games_from(&json!({"gamesFrom": {"bucket": "b"}})).err();
        assert!(e.is_some_and(|e| e.to_string().contains("key")));
    }

    #[test]
    fn one_game_on_two_stages_is_fine_but_a_stage_twice_is_not() {
        let two = json!({"gameName": "a", "stages": [{"stageName": "staging"}, {"stageName": "prod"}], "snapshotId": "latest"});
        assert!(parse_fleet(&fleet(vec![two.clone(), game("b")], json!({}))).is_ok());
        let e = error(&fleet(
            vec![game("b"), two.clone()],
            json!({"onBreach": "rollback"}),
        ));
        assert_eq!(e.field, "games[1].stages");
        assert!(e.rule.contains("2 stages"), "{e}");
        let e = error(&fleet(vec![two, game("a")], json!({})));
        assert_eq!(e.field, "games[1]");
        assert!(e.rule.contains("a/prod"), "{e}");
    }
}

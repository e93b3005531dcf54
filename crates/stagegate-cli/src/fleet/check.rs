//! What `fleet run` checks before anything starts, and the plan it then prints.
//!
//! The core's own parser (`parse_fleet`, the one the fleet's Plan step runs) reads the input on
//! the operator's machine, so a duplicate stage, an empty list, a budget out of range or a typo is
//! answered there with the item and the rule, and no fleet execution starts only to be refused.
//! With `gamesFrom` the games are in S3 and read by the Plan step (which also refuses a game
//! GameSparks does not know): here only what the input itself holds is checked, by running the
//! same parser over stand-in games that break none of its rules, so the fleet's own rules (the
//! name, the budget, the batch size, canaries by name or count) are the core's, not a copy.

use serde_json::{json, Value};
use stagegate_core::budget::batches;
use stagegate_core::fields::{self, InvalidInput};
use stagegate_core::fleet::{
    games_from, parse_fleet, with_games, FleetInput, DEFAULT_BATCH_SIZE, MAX_FLEET_GAMES,
};
use time::OffsetDateTime;

use crate::output::{FleetPlanDocument, OnBreachName};

/// The most Step Functions takes as an execution input, in bytes.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;
/// Step Functions execution names: 1-80 characters.
const MAX_EXECUTION_NAME: usize = 80;

/// A fleet input that may start: its name and what it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub fleet_name: String,
    pub plan: FleetPlanDocument,
}

/// Why a fleet input is refused: the core's field and rule (none: the text is no JSON object or
/// too big for an execution input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: Option<String>,
    pub rule: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "the fleet input is not valid: field `{field}`: ")?,
            None => write!(f, "the fleet input is not valid: ")?,
        }
        write!(f, "{}; nothing was started", self.rule)
    }
}

impl From<InvalidInput> for Refusal {
    fn from(e: InvalidInput) -> Self {
        Self {
            field: Some(e.field),
            rule: e.rule,
        }
    }
}

/// The fleet input's text, checked.
pub fn check(text: &str) -> Result<Checked, Refusal> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(Refusal {
            field: None,
            rule: format!(
                "it is {} bytes, over the {MAX_INPUT_BYTES} Step Functions takes as an execution \
                 input: put the games in S3 and name them with gamesFrom",
                text.len()
            ),
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| Refusal {
        field: None,
        rule: format!("not JSON: {e}"),
    })?;
    match games_from(&value)? {
        None => {
            let request = parse_fleet(&value)?;
            let n = request.games.len();
            let canaries: Vec<String> = request
                .canaries
                .iter()
                .filter_map(|&i| request.games.get(i).map(|g| g.game_name.clone()))
                .collect();
            Ok(Checked {
                plan: FleetPlanDocument {
                    games: Some(n),
                    games_from: None,
                    canary_count: canaries.len(),
                    canaries,
                    batch_size: request.batch_size,
                    batches: Some(batches(n, &request.canaries, request.batch_size).len()),
                    max_failure_percent: request.budget.max_failure_percent,
                    allowed_failures: Some(request.budget.allowed(n)),
                    canary_max_failures: request.budget.canary_max_failures,
                    on_breach: request.on_breach.into(),
                },
                fleet_name: request.fleet_name,
            })
        }
        Some(from) => {
            let stand_in = with_games(&value, &stand_in_games(&value))?;
            match parse_fleet(&stand_in) {
                Ok(_) => {}
                // About the stand-ins, not the input: the Plan step checks the real games.
                Err(e) if e.field.starts_with("games") => {}
                Err(e) => return Err(e.into()),
            }
            // parse_fleet read this far before any rule of the games: it reads.
            let raw: FleetInput = fields::from_value(&stand_in, "")?;
            Ok(Checked {
                plan: FleetPlanDocument {
                    games: None,
                    games_from: Some(format!("s3://{}/{}", from.bucket, from.key)),
                    canary_count: raw.canary_count.unwrap_or(raw.canaries.len()),
                    canaries: raw.canaries,
                    batch_size: raw.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
                    batches: None,
                    max_failure_percent: raw.budget.max_failure_percent,
                    allowed_failures: None,
                    canary_max_failures: raw.budget.canary_max_failures,
                    on_breach: raw.on_breach.into(),
                },
                fleet_name: raw.fleet_name,
            })
        }
    }
}

/// Games that break none of `parse_fleet`'s rules for this input: one per canary named (so each
/// is found), and one more than the canaries named or counted (so some remain after them).
fn stand_in_games(value: &Value) -> Vec<u8> {
    let mut names: Vec<String> = Vec::new();
    for name in value
        .get("canaries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    let counted = value
        .get("canaryCount")
        .and_then(Value::as_u64)
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let wanted = names
        .len()
        .max(counted)
        .saturating_add(1)
        .min(MAX_FLEET_GAMES);
    let mut i = 0;
    while names.len() < wanted {
        names.push(format!("stand-in-{i}"));
        i += 1;
    }
    let games: Vec<Value> = names
        .iter()
        .map(|name| json!({"gameName": name, "stageName": "stand-in", "snapshotId": "latest"}))
        .collect();
    serde_json::to_vec(&games).unwrap_or_default()
}

/// The execution name a fleet run gets when none is given: `<fleetName>-<yyyymmddTHHMMSSZ>` in
/// UTC, the fleet's name cut to fit Step Functions' 80 characters.
pub fn default_name(fleet_name: &str, now: OffsetDateTime) -> String {
    let t = now.to_offset(time::UtcOffset::UTC);
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let room = MAX_EXECUTION_NAME - 1 - stamp.len();
    let head: String = fleet_name.chars().take(room).collect();
    format!("{head}-{stamp}")
}

/// The plan in one line, as `fleet run` prints it.
pub fn plan_line(plan: &FleetPlanDocument) -> String {
    let canaries = if !plan.canaries.is_empty() {
        format!("canaries {} first, then ", plan.canaries.join(", "))
    } else if plan.canary_count > 0 {
        format!("the first {} as canaries, then ", plan.canary_count)
    } else {
        String::new()
    };
    let games = match (&plan.games_from, plan.games, plan.batches) {
        (Some(from), _, _) => format!(
            "the games in {from} (read and checked by the workflow's Plan step), {canaries}up \
             to {} at a time",
            plan.batch_size
        ),
        (None, Some(games), Some(batches)) => format!(
            "{games} game{} in {batches} batch{} ({canaries}up to {} at a time)",
            plural(games),
            if batches == 1 { "" } else { "es" },
            plan.batch_size
        ),
        _ => "no games".to_owned(),
    };
    let allowed = match plan.allowed_failures {
        Some(n) => format!("{n} failure{} allowed", plural(n)),
        None => "failures allowed: that share of the games, rounded down".to_owned(),
    };
    let canary_budget = if plan.canary_count > 0 {
        format!(", {} among the canaries", plan.canary_max_failures)
    } else {
        String::new()
    };
    let on_breach = match plan.on_breach {
        OnBreachName::Leave => "leave",
        OnBreachName::Rollback => "rollback",
    };
    format!(
        "plan: {games}; budget {}%: {allowed}{canary_budget}; on breach: {on_breach}",
        plan.max_failure_percent
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

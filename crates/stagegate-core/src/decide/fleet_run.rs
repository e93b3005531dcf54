//! A fleet run from its plan to its last batch: which game runs under which child execution name
//! and when it starts, and what the run has counted so far.
//!
//! The workflow carries only `FleetProgress` between batches: counts, not endings. A fleet of
//! 10,000 games cannot carry 10,000 endings in a 256 KiB state, and the budget needs only how many
//! failed, among all and among the canaries (`budget::Counted`). The games themselves travel in S3,
//! one object per batch, which the Distributed Map reads with its ItemReader.
//!
//! Child execution names are decided here, once, from the fleet execution's name and the item: a
//! retried StartExecution (same name, same input) finds the gate already running instead of
//! starting a second one, and two fleet runs never share a child name.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::budget::{batches, counts_as_failure, next_from_counts, Budget, Counted, Next};
use crate::fleet::{FleetRequest, OnBreach};
use crate::tally::FailedGame;
use crate::verdict::Verdict;

/// Failed games the progress (and so the summary) names; past this, only a count. Each game's own
/// message names it anyway.
pub const MAX_FAILED_LISTED: usize = 25;
/// A failed game's reason, in bytes.
pub const MAX_WHY_BYTES: usize = 256;
/// Step Functions execution names: 1-80 characters.
const MAX_EXECUTION_NAME: usize = 80;
/// Games started per second within a batch by default: far under StartExecution's refill (of the
/// order of 300/s in large regions) and GameSparks' own throttling, with room for other callers.
pub const DEFAULT_START_RATE: u32 = 10;

/// One game as a Map iteration receives it (an element of a batch object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FleetItem {
    /// Its position in the fleet's games.
    pub item: usize,
    pub game_name: String,
    /// The child execution's name.
    pub name: String,
    /// Seconds the iteration waits before it starts the gate: starts are spread at the fleet's
    /// start rate.
    pub delay_seconds: u64,
    /// The gate's execution input, as the fleet input gave it.
    pub input: Value,
}

/// One game's ending, as the fleet's Ending step returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemEnding {
    pub item: usize,
    pub game_name: String,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// For a game this run deployed: the snapshot it served before, which `onBreach: rollback`
    /// deploys again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<String>,
}

/// Where the workflow goes next: the one field its Route state reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Route {
    /// Run the batch in `batchKey`.
    Batch,
    /// The budget was breached under `onBreach: rollback`: run the games in `rollbackKey` (the
    /// promoted ones, each back to the snapshot it served before).
    Rollback,
    /// Publish the summary.
    Summary,
}

/// What `onBreach: rollback` did: how many promoted games it ran back, and how they ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct BreachRollback {
    pub games: usize,
    /// Endings of the rollback runs per outcome (empty until they ended).
    pub counts: BTreeMap<String, usize>,
}

/// What a fleet run has done so far and what it does next; the workflow's state between batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FleetProgress {
    pub fleet_name: String,
    /// The fleet execution's name.
    pub execution: String,
    /// Where the batch objects, the progress and the summary are (`<prefix>batch-<k>.json`).
    pub bucket: String,
    pub prefix: String,
    pub games: usize,
    /// Positions of the canary games (the first batch), in the order given.
    pub canaries: Vec<usize>,
    pub batch_size: usize,
    pub batches: usize,
    /// Iterations of a batch running at once (the Map's MaxConcurrency).
    pub max_concurrency: usize,
    pub budget: Budget,
    /// Failures the budget tolerates over the whole fleet.
    pub allowed: usize,
    pub on_breach: OnBreach,
    /// Batches run.
    pub done: usize,
    pub started: usize,
    pub ended: usize,
    pub failed: usize,
    pub canary_failed: usize,
    /// Endings per outcome.
    pub counts: BTreeMap<String, usize>,
    /// The first failed games, with why.
    pub failed_games: Vec<FailedGame>,
    /// Failed games not listed (past `MAX_FAILED_LISTED`).
    pub failed_unlisted: usize,
    /// What the run does now.
    pub next: Next,
    /// The batch object `next` runs, when it runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_key: Option<String>,
    /// The rollback object `onBreach: rollback` runs, when the budget was breached and games
    /// had been promoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_rollback: Option<BreachRollback>,
    /// Where the workflow goes next (decided here, read by the ASL's Route).
    pub route: Route,
}

/// The items of each batch and the run's first progress.
pub struct Planned {
    pub progress: FleetProgress,
    pub batches: Vec<Vec<FleetItem>>,
}

/// Plans a checked fleet: `raw_games` are the games as given (the gate inputs the children get),
/// in the order `request.games` was parsed from.
pub fn plan(
    request: &FleetRequest,
    raw_games: &[Value],
    execution: &str,
    bucket: &str,
    max_concurrency: usize,
    start_rate: u32,
) -> Planned {
    let plan = batches(request.games.len(), &request.canaries, request.batch_size);
    let rate = u64::from(start_rate.max(1));
    let items: Vec<Vec<FleetItem>> = plan
        .iter()
        .map(|batch| {
            batch
                .iter()
                .enumerate()
                .map(|(position, &item)| FleetItem {
                    item,
                    game_name: request
                        .games
                        .get(item)
                        .map(|g| g.game_name.clone())
                        .unwrap_or_default(),
                    name: child_name(execution, item),
                    delay_seconds: u64::try_from(position).unwrap_or(u64::MAX) / rate,
                    input: raw_games.get(item).cloned().unwrap_or(Value::Null),
                })
                .collect()
        })
        .collect();
    let prefix = format!("fleets/{execution}/");
    let mut progress = FleetProgress {
        fleet_name: request.fleet_name.clone(),
        execution: execution.to_owned(),
        bucket: bucket.to_owned(),
        prefix,
        games: request.games.len(),
        canaries: request.canaries.clone(),
        batch_size: request.batch_size,
        batches: plan.len(),
        max_concurrency: max_concurrency.clamp(1, request.batch_size.max(1)),
        budget: request.budget.clone(),
        allowed: request.budget.allowed(request.games.len()),
        on_breach: request.on_breach,
        done: 0,
        started: 0,
        ended: 0,
        failed: 0,
        canary_failed: 0,
        counts: BTreeMap::new(),
        failed_games: vec![],
        failed_unlisted: 0,
        next: Next::Done,
        batch_key: None,
        rollback_key: None,
        breach_rollback: None,
        route: Route::Summary,
    };
    decide(&mut progress);
    Planned {
        progress,
        batches: items,
    }
}

/// A failed game's reason as the fleet carries it: at most `MAX_WHY_BYTES`, and nothing JSON must
/// escape (no control characters, quotes or backslashes), so a batch of results has a size known
/// in advance, not up to six times its text.
pub fn plain_why(text: &str) -> String {
    let plain: String = text
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    crate::bake::truncate_bytes(&plain, MAX_WHY_BYTES)
}

/// The object key of batch `k`.
pub fn batch_key(prefix: &str, k: usize) -> String {
    format!("{prefix}batch-{k}.json")
}

/// The child execution name of `item` in fleet execution `execution`: readable (the fleet's name
/// and the item), unique per fleet run even when the fleet's name is cut to fit 80 characters (a
/// digest of the whole name), and the same on every retry.
pub fn child_name(execution: &str, item: usize) -> String {
    let digest = fnv1a(execution.as_bytes());
    let tail = format!("-{digest:08x}-{item}");
    let room = MAX_EXECUTION_NAME.saturating_sub(tail.len());
    let head: String = execution.chars().take(room).collect();
    format!("{head}{tail}")
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// The games of batch `k`, by position.
pub fn batch_items(progress: &FleetProgress, k: usize) -> Vec<usize> {
    batches(progress.games, &progress.canaries, progress.batch_size)
        .into_iter()
        .nth(k)
        .unwrap_or_default()
}

/// Counts a finished batch in and decides what follows. `results` is what the Map returned (`None`
/// when the Map itself failed): a game of the batch with no result counts as ERROR, a result twice
/// counts once, and a result for a game outside the batch is ignored. A result nobody can read
/// counts against the budget, never for it.
pub fn after_batch(progress: &mut FleetProgress, results: Option<&[ItemEnding]>, failure: &str) {
    let Next::Batch { batch } = progress.next.clone() else {
        return;
    };
    let items = batch_items(progress, batch);
    let mut by_item: BTreeMap<usize, &ItemEnding> = BTreeMap::new();
    for r in results.unwrap_or_default() {
        if items.contains(&r.item) {
            by_item.entry(r.item).or_insert(r);
        }
    }
    let canary_batch = batch == 0 && !progress.canaries.is_empty();
    let seen: BTreeSet<usize> = by_item.keys().copied().collect();
    let missing = ItemEnding {
        item: 0,
        game_name: String::new(),
        verdict: Verdict::Error,
        why: Some(if results.is_none() {
            format!("the batch's Map did not return its results: {failure}")
        } else {
            "its iteration returned no result".to_owned()
        }),
        rollback_to: None,
    };
    for &item in &items {
        let ending = by_item.get(&item).copied().unwrap_or(&missing);
        let game_name = if seen.contains(&item) {
            ending.game_name.clone()
        } else {
            format!("item {item}")
        };
        *progress
            .counts
            .entry(ending.verdict.as_str().to_owned())
            .or_insert(0) += 1;
        if counts_as_failure(ending.verdict) {
            progress.failed += 1;
            if canary_batch {
                progress.canary_failed += 1;
            }
            if progress.failed_games.len() < MAX_FAILED_LISTED {
                progress.failed_games.push(FailedGame {
                    game_name,
                    verdict: ending.verdict,
                    why: ending.why.as_deref().map(plain_why),
                });
            } else {
                progress.failed_unlisted += 1;
            }
        }
    }
    progress.started += items.len();
    progress.ended += items.len();
    progress.done = batch + 1;
    decide(progress);
}

fn decide(progress: &mut FleetProgress) {
    let sizes: Vec<usize> = batches(progress.games, &progress.canaries, progress.batch_size)
        .iter()
        .map(Vec::len)
        .collect();
    let counted = Counted {
        games: progress.games,
        batches: sizes.len(),
        done: progress.done,
        not_started: sizes.iter().skip(progress.done).sum(),
        canaries: (!progress.canaries.is_empty())
            .then_some((progress.canaries.len(), progress.canary_failed)),
        failed: progress.failed,
    };
    progress.next = next_from_counts(&counted, &progress.budget);
    progress.batch_key = match progress.next {
        Next::Batch { batch } => Some(batch_key(&progress.prefix, batch)),
        _ => None,
    };
    progress.route = route(progress);
}

fn route(progress: &FleetProgress) -> Route {
    match (&progress.next, &progress.rollback_key) {
        (Next::Batch { .. }, _) => Route::Batch,
        (Next::Stopped { .. }, Some(_)) if progress.on_breach == OnBreach::Rollback => {
            Route::Rollback
        }
        _ => Route::Summary,
    }
}

/// The key of the object holding the promoted games of batch `k` (for `onBreach: rollback`).
pub fn promoted_key(prefix: &str, k: usize) -> String {
    format!("{prefix}promoted-{k}.json")
}

/// The key of the rollback object.
pub fn rollback_key(prefix: &str) -> String {
    format!("{prefix}rollback.json")
}

/// A promoted game's rollback run: its own gate input with the snapshot it served before, under
/// a child name of its own (the fleet's name with `-rollback`), or `None` for a game this run
/// did not deploy.
pub fn rollback_item(item: &FleetItem, ending: &ItemEnding, execution: &str) -> Option<FleetItem> {
    if ending.verdict != Verdict::Succeeded {
        return None;
    }
    let to = ending.rollback_to.as_ref()?;
    let mut input = item.input.clone();
    let fields = input.as_object_mut()?;
    fields.insert("snapshotId".into(), Value::String(to.clone()));
    Some(FleetItem {
        item: item.item,
        game_name: item.game_name.clone(),
        name: child_name(&format!("{execution}-rollback"), item.item),
        delay_seconds: 0,
        input,
    })
}

/// Once the budget is breached under `onBreach: rollback`: the promoted games (every batch's
/// `rollback_item`s), their starts spread at `start_rate`, and the progress routed to run them.
/// Nothing promoted: straight to the summary.
pub fn plan_rollback(
    progress: &mut FleetProgress,
    mut promoted: Vec<FleetItem>,
    start_rate: u32,
) -> Vec<FleetItem> {
    let rate = u64::from(start_rate.max(1));
    for (position, item) in promoted.iter_mut().enumerate() {
        item.delay_seconds = u64::try_from(position).unwrap_or(u64::MAX) / rate;
    }
    if !promoted.is_empty() {
        progress.rollback_key = Some(rollback_key(&progress.prefix));
        progress.breach_rollback = Some(BreachRollback {
            games: promoted.len(),
            counts: BTreeMap::new(),
        });
    }
    progress.route = route(progress);
    promoted
}

/// Counts the rollback runs' endings in; the run then goes to its summary.
pub fn after_rollback(progress: &mut FleetProgress, results: Option<&[ItemEnding]>) {
    if progress.route != Route::Rollback {
        return;
    }
    let mut counts = BTreeMap::new();
    let games = progress.breach_rollback.as_ref().map_or(0, |b| b.games);
    let mut seen = BTreeSet::new();
    for r in results.unwrap_or_default() {
        if seen.insert(r.item) {
            *counts.entry(r.verdict.as_str().to_owned()).or_insert(0) += 1;
        }
    }
    // A rollback run with no result is not known to have rolled back.
    let missing = games.saturating_sub(seen.len());
    if missing > 0 {
        *counts
            .entry(Verdict::Error.as_str().to_owned())
            .or_insert(0) += missing;
    }
    progress.breach_rollback = Some(BreachRollback { games, counts });
    progress.rollback_key = None;
    progress.route = Route::Summary;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::parse_fleet;
    use serde_json::json;

    fn fleet(n: usize, extra: Value) -> (FleetRequest, Vec<Value>) {
        let games: Vec<Value> = (0..n)
            .map(|i| json!({"gameName": format!("g{i:03}"), "stageName": "prod", "snapshotId": "latest"}))
            .collect();
        let mut v = json!({"fleetName": "nightly", "games": games.clone(), "budget": {"maxFailurePercent": 5}});
        if let (Some(o), Some(more)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in more {
                o.insert(k.clone(), x.clone());
            }
        }
        (parse_fleet(&v).unwrap_or_else(|e| panic!("{e}")), games)
    }

    fn ending(item: usize, verdict: Verdict) -> ItemEnding {
        ItemEnding {
            item,
            game_name: format!("g{item:03}"),
            verdict,
            why: (!verdict.is_success()).then(|| format!("why {item}")),
            rollback_to: None,
        }
    }

    /// Runs every batch the progress asks for; `failing` items end ROLLED_BACK.
    fn run(p: &mut Planned, failing: &[usize]) -> Vec<usize> {
        let mut started = vec![];
        while let Next::Batch { batch } = p.progress.next {
            let results: Vec<ItemEnding> = p.batches[batch]
                .iter()
                .map(|i| {
                    started.push(i.item);
                    let v = if failing.contains(&i.item) {
                        Verdict::RolledBack
                    } else {
                        Verdict::Succeeded
                    };
                    ending(i.item, v)
                })
                .collect();
            after_batch(&mut p.progress, Some(&results), "");
        }
        started
    }

    #[test]
    fn the_plan_names_spreads_and_batches_the_games() {
        let (req, raw) = fleet(45, json!({"canaries": ["g010"], "batchSize": 20}));
        let p = plan(&req, &raw, "nightly-2026-12-08", "bucket", 5, 10);
        assert_eq!(p.batches.len(), 4);
        assert_eq!(p.batches[0].len(), 1);
        assert_eq!(p.batches[0][0].item, 10);
        assert_eq!(p.batches[1][0].game_name, "g000");
        assert_eq!(p.batches[1][19].delay_seconds, 1);
        assert_eq!(p.batches[1][9].delay_seconds, 0);
        assert_eq!(p.batches[1][0].input, raw[0]);
        assert_eq!(p.progress.next, Next::Batch { batch: 0 });
        assert_eq!(
            p.progress.batch_key.as_deref(),
            Some("fleets/nightly-2026-12-08/batch-0.json")
        );
        assert_eq!(p.progress.max_concurrency, 5);
        assert_eq!(p.progress.allowed, 2);
        let names: BTreeSet<&str> = p
            .batches
            .iter()
            .flatten()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(names.len(), 45, "every child has its own name");
    }

    #[test]
    fn child_names_fit_and_stay_unique_when_cut() {
        let long_a = format!("{}a", "x".repeat(79));
        let long_b = format!("{}b", "x".repeat(79));
        let a = child_name(&long_a, 9_999);
        let b = child_name(&long_b, 9_999);
        assert!(a.chars().count() <= 80, "{a}");
        assert_ne!(a, b, "two fleets cut to the same head");
        assert_eq!(a, child_name(&long_a, 9_999), "a retry reuses the name");
        assert_eq!(child_name("n", 3), format!("n-{:08x}-3", fnv1a(b"n")));
    }

    #[test]
    fn three_percent_completes_and_six_stops_where_the_budget_says() {
        let (req, raw) = fleet(200, json!({}));
        let mut p = plan(&req, &raw, "e", "b", 20, 10);
        let started = run(&mut p, &[3, 40, 77, 120, 150, 199]);
        assert_eq!(started.len(), 200);
        assert_eq!(p.progress.next, Next::Done);
        assert_eq!(p.progress.counts.get("ROLLED_BACK"), Some(&6));
        assert_eq!(p.progress.failed_games.len(), 6);

        let mut p = plan(&req, &raw, "e", "b", 20, 10);
        let started = run(&mut p, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 110, 180]);
        assert_eq!(started.len(), 120, "the 11th failure is in the sixth batch");
        match &p.progress.next {
            Next::Stopped {
                failed,
                allowed,
                not_started,
                ..
            } => assert_eq!((*failed, *allowed, *not_started), (11, 10, 80)),
            other => panic!("{other:?}"),
        }
        assert_eq!(p.progress.batch_key, None);
    }

    #[test]
    fn missing_twice_and_stray_results_are_counted_safely() {
        let (req, raw) = fleet(
            40,
            json!({"batchSize": 20, "budget": {"maxFailurePercent": 100}}),
        );
        let mut p = plan(&req, &raw, "e", "b", 20, 10);
        // Item 0 twice (once failed, once succeeded: the first counts), item 30 is not of batch 0,
        // items 2-19 are missing.
        let results = [
            ending(0, Verdict::Failed),
            ending(0, Verdict::Succeeded),
            ending(1, Verdict::Frozen),
            ending(30, Verdict::Failed),
        ];
        after_batch(&mut p.progress, Some(&results), "");
        assert_eq!(p.progress.ended, 20);
        assert_eq!(p.progress.failed, 19, "item 0 and the 18 missing");
        assert_eq!(p.progress.counts.get("FROZEN"), Some(&1));
        assert_eq!(p.progress.counts.get("ERROR"), Some(&18));
        assert_eq!(p.progress.failed_games[1].game_name, "item 2");
        // A Map that failed: every game of the batch counts as ERROR.
        after_batch(&mut p.progress, None, "States.DataLimitExceeded");
        assert_eq!(p.progress.failed, 39);
        assert!(p.progress.failed_unlisted > 0);
        assert_eq!(p.progress.failed_games.len(), MAX_FAILED_LISTED);
        assert_eq!(p.progress.next, Next::Done);
        // Nothing more is counted once the run is over.
        after_batch(&mut p.progress, None, "late");
        assert_eq!(p.progress.failed, 39);
    }

    #[test]
    fn a_breach_under_rollback_runs_the_promoted_games_back_once() {
        let (req, raw) = fleet(
            40,
            json!({"batchSize": 20, "onBreach": "rollback", "budget": {"maxFailurePercent": 5}}),
        );
        let mut p = plan(&req, &raw, "e", "b", 20, 10);
        assert_eq!(p.progress.route, Route::Batch);
        // Batch 0: items 0-2 fail (3 > 2 allowed), the rest deployed over S-old.
        let results: Vec<ItemEnding> = p.batches[0]
            .iter()
            .map(|i| {
                let mut e = ending(
                    i.item,
                    if i.item < 3 {
                        Verdict::RolledBack
                    } else {
                        Verdict::Succeeded
                    },
                );
                e.rollback_to = Some("S-old".into());
                e
            })
            .collect();
        after_batch(&mut p.progress, Some(&results), "");
        assert!(matches!(p.progress.next, Next::Stopped { .. }));
        assert_eq!(p.progress.route, Route::Summary, "nothing planned yet");
        let promoted: Vec<FleetItem> = p.batches[0]
            .iter()
            .zip(&results)
            .filter_map(|(i, e)| rollback_item(i, e, "e"))
            .collect();
        assert_eq!(promoted.len(), 17, "the three rolled back are not promoted");
        assert_eq!(promoted[0].input["snapshotId"], "S-old");
        assert_eq!(promoted[0].input["gameName"], "g003");
        assert_ne!(
            promoted[0].name, p.batches[0][3].name,
            "a rollback run is a run of its own"
        );
        let items = plan_rollback(&mut p.progress, promoted, 10);
        assert_eq!(items[16].delay_seconds, 1);
        assert_eq!(p.progress.route, Route::Rollback);
        assert_eq!(
            p.progress.rollback_key.as_deref(),
            Some("fleets/e/rollback.json")
        );
        let back: Vec<ItemEnding> = items[..16]
            .iter()
            .map(|i| ending(i.item, Verdict::Succeeded))
            .collect();
        after_rollback(&mut p.progress, Some(&back));
        assert_eq!(p.progress.route, Route::Summary);
        let report = p
            .progress
            .breach_rollback
            .clone()
            .unwrap_or_else(|| panic!("no report"));
        assert_eq!(report.games, 17);
        assert_eq!(report.counts.get("SUCCEEDED"), Some(&16));
        assert_eq!(
            report.counts.get("ERROR"),
            Some(&1),
            "the one with no result"
        );
        // Under `leave`, a breach goes straight to the summary whatever was promoted.
        let (req, raw) = fleet(40, json!({"batchSize": 20}));
        let mut p = plan(&req, &raw, "e", "b", 20, 10);
        after_batch(&mut p.progress, Some(&results), "");
        plan_rollback(&mut p.progress, vec![], 10);
        assert_eq!(p.progress.route, Route::Summary);
    }

    #[test]
    fn a_failed_canary_stops_the_rest() {
        let (req, raw) = fleet(
            30,
            json!({"canaryCount": 2, "batchSize": 10, "budget": {"maxFailurePercent": 50}}),
        );
        let mut p = plan(&req, &raw, "e", "b", 10, 10);
        let started = run(&mut p, &[1]);
        assert_eq!(started, vec![0, 1]);
        assert!(
            matches!(
                p.progress.next,
                Next::Stopped {
                    not_started: 28,
                    ..
                }
            ),
            "{:?}",
            p.progress.next
        );
    }

    #[test]
    fn the_widest_batch_of_results_fits_the_state_beside_the_widest_progress() {
        use crate::fleet::MAX_BATCH_SIZE;
        // Every game of the largest batch failed with the longest reason, in characters JSON
        // would escape were they not made plain; the progress lists its most failed games.
        let hostile = "\"\\\u{1}é".repeat(200);
        let ending = ItemEnding {
            item: 9_999,
            game_name: "g".repeat(36),
            verdict: Verdict::RollbackFailed,
            why: Some(plain_why(&hostile)),
            rollback_to: None,
        };
        let results = vec![ending; MAX_BATCH_SIZE];
        let (req, raw) = fleet(
            1_000,
            json!({"batchSize": MAX_BATCH_SIZE, "budget": {"maxFailurePercent": 100}}),
        );
        let mut p = plan(
            &req,
            &raw,
            &"n".repeat(80),
            &"b".repeat(63),
            MAX_BATCH_SIZE,
            10,
        );
        let widest: Vec<ItemEnding> = p.batches[0]
            .iter()
            .map(|i| ItemEnding {
                item: i.item,
                game_name: "g".repeat(36),
                verdict: Verdict::RollbackFailed,
                why: Some(hostile.clone()),
                rollback_to: None,
            })
            .collect();
        after_batch(&mut p.progress, Some(&widest), "");
        assert_eq!(p.progress.failed_games.len(), MAX_FAILED_LISTED);
        let state = json!({"fleet": p.progress, "results": results});
        let bytes = serde_json::to_vec(&state)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        assert!(bytes <= 256 * 1024 * 3 / 4, "{bytes} bytes");
    }

    #[test]
    fn the_progress_stays_small_for_the_largest_fleet() {
        // 10,000 games in the most batches a run may have, every game failing with a long
        // reason: the progress carries counts and the first failures, not every ending.
        let (req, raw) = fleet(
            10_000,
            json!({"batchSize": 17, "budget": {"maxFailurePercent": 100}}),
        );
        let mut p = plan(&req, &raw, &"n".repeat(80), &"b".repeat(63), 17, 10);
        assert_eq!(p.progress.batches, 589);
        let long = "é".repeat(400);
        while let Next::Batch { batch } = p.progress.next {
            let results: Vec<ItemEnding> = p.batches[batch]
                .iter()
                .map(|i| ItemEnding {
                    item: i.item,
                    game_name: i.game_name.clone(),
                    verdict: Verdict::Error,
                    why: Some(long.clone()),
                    rollback_to: None,
                })
                .collect();
            after_batch(&mut p.progress, Some(&results), "");
        }
        assert_eq!(
            (p.progress.failed, p.progress.next.clone()),
            (10_000, Next::Done)
        );
        let bytes = serde_json::to_vec(&p.progress)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        assert!(bytes < 16 * 1024, "{bytes} bytes");
    }
}

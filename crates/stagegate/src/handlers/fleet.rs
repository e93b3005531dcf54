//! fleet-step: the fleet workflow's four steps (`infra/statemachine/fleet.asl.json`), one function
//! told which by `action`, over three ports: the game list (GameSparks), the fleet bucket, SNS.
//!
//! - `plan`: checks the whole fleet before anything starts (the core's parser, then every game
//!   against GameSparks' list), writes one object per batch for the Distributed Map's ItemReader,
//!   and returns the run's first progress. A bad fleet is refused here with the item and the rule.
//! - `ending`: what one game's gate ended as, from its child execution's result (`child_ending`),
//!   cut small so a batch of results stays far under the state's 256 KiB.
//! - `tally`: counts a batch in and decides what follows (`fleet_run::after_batch`), and writes the
//!   progress where `stagegate fleet status` reads it.
//! - `rolledback`: under `onBreach: rollback`, counts in the runs that took the promoted games
//!   back (the tally that saw the breach wrote them, from what each batch promoted).
//! - `summary`: the one fleet message, published and written as `summary.json`.
//!
//! The ASL routes only on what these return (`route`, `completed`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::GateError;
use crate::fields::InvalidInput;
use crate::fleet::{games_from, parse_fleet, with_games, OnBreach};
use crate::fleet_run::{self, FleetItem, FleetProgress, ItemEnding, DEFAULT_START_RATE};
use crate::fleet_summary::{self, FleetStatus, FleetSummary};
use crate::ports::{GameCatalog, Notifier, RecordStore, ServiceError};
use crate::tally::child_ending;

/// What the fleet function is configured with (its environment, read once in `main`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// `FLEET_BUCKET`: batch objects, progress, summaries, and the games files it may read.
    pub bucket: String,
    /// `FLEET_MAX_CONCURRENCY`: iterations of a batch at once, at most (1-500, default 500: a
    /// whole batch, its starts spread by the start rate).
    pub max_concurrency: usize,
    /// `FLEET_START_RATE`: games started per second within a batch (default 10).
    pub start_rate: u32,
}

impl FleetConfig {
    pub const BUCKET_VAR: &'static str = "FLEET_BUCKET";
    pub const MAX_CONCURRENCY_VAR: &'static str = "FLEET_MAX_CONCURRENCY";
    pub const START_RATE_VAR: &'static str = "FLEET_START_RATE";

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, GateError> {
        let bucket = lookup(Self::BUCKET_VAR)
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| GateError::Configuration(format!("{} is not set", Self::BUCKET_VAR)))?;
        let number = |var: &str, default: u64, max: u64| -> Result<u64, GateError> {
            match lookup(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
            {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        GateError::Configuration(format!("{var} must be 1-{max}, got {v:?}"))
                    }),
            }
        };
        Ok(Self {
            bucket,
            max_concurrency: usize::try_from(number(Self::MAX_CONCURRENCY_VAR, 500, 500)?)
                .unwrap_or(500),
            start_rate: u32::try_from(number(
                Self::START_RATE_VAR,
                u64::from(DEFAULT_START_RATE),
                300,
            )?)
            .unwrap_or(DEFAULT_START_RATE),
        })
    }
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum Step {
    Plan {
        input: Value,
        #[serde(default)]
        execution: Value,
    },
    Ending {
        result: Value,
    },
    Tally {
        fleet: FleetProgress,
        /// The Map's results, or what its Catch caught (`{Error, Cause}`) when the Map failed.
        #[serde(default)]
        results: Value,
    },
    /// The rollback runs of `onBreach: rollback` ended.
    #[serde(rename = "rolledback")]
    RolledBack {
        fleet: FleetProgress,
        #[serde(default)]
        results: Value,
    },
    Summary {
        #[serde(default)]
        fleet: Option<FleetProgress>,
        #[serde(default)]
        refused: Option<Value>,
        #[serde(default)]
        input: Value,
        #[serde(default)]
        execution: Value,
    },
}

/// What `summary` returns: the ASL ends on `completed`, failing with `error` and `cause` when
/// the fleet stopped or was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryOutput {
    pub completed: bool,
    pub status: FleetStatus,
    pub error: Option<String>,
    pub cause: String,
    pub message_id: String,
    /// Where the summary was written, or why it was not.
    pub summary_key: Option<String>,
    pub summary_error: Option<String>,
}

pub use crate::fleet_summary::{FLEET_REFUSED, FLEET_STOPPED};

pub async fn handle<G: GameCatalog, S: RecordStore, N: Notifier>(
    games: &G,
    bucket: &S,
    notifier: &N,
    config: &FleetConfig,
    event: &Value,
) -> Result<Value, GateError> {
    let step: Step = serde_json::from_value(event.clone()).map_err(|e| {
        GateError::invalid(
            "action",
            format!(
                "must be plan, ending, tally, rolledback or summary with that step's fields: {e}"
            ),
        )
    })?;
    match step {
        Step::Plan { input, execution } => {
            let name = execution_name(&execution)?;
            let progress = plan(games, bucket, config, &input, &name).await?;
            to_value(&progress)
        }
        Step::Ending { result } => to_value(&ending(&result)),
        Step::Tally { fleet, results } => {
            let mut progress = fleet;
            let endings = endings(&results);
            let failure = format!("{} {}", text(&results, "Error"), text(&results, "Cause"));
            let batch = match progress.next {
                crate::budget::Next::Batch { batch } => Some(batch),
                _ => None,
            };
            fleet_run::after_batch(&mut progress, endings.as_deref(), failure.trim());
            if let (Some(batch), OnBreach::Rollback) = (batch, progress.on_breach) {
                keep_promoted(
                    bucket,
                    &progress,
                    batch,
                    endings.as_deref().unwrap_or_default(),
                )
                .await?;
                if matches!(progress.next, crate::budget::Next::Stopped { .. }) {
                    plan_rollback(bucket, config, &mut progress).await?;
                }
            }
            // The progress is for `stagegate fleet status`; the run goes on without it.
            if let Err(e) = put_json(
                bucket,
                &format!("{}progress.json", progress.prefix),
                &progress,
            )
            .await
            {
                tracing::warn!(error = %e, "fleet progress not written");
            }
            to_value(&progress)
        }
        Step::RolledBack { fleet, results } => {
            let mut progress = fleet;
            fleet_run::after_rollback(&mut progress, endings(&results).as_deref());
            if let Err(e) = put_json(
                bucket,
                &format!("{}progress.json", progress.prefix),
                &progress,
            )
            .await
            {
                tracing::warn!(error = %e, "fleet progress not written");
            }
            to_value(&progress)
        }
        Step::Summary {
            fleet,
            refused,
            input,
            execution,
        } => {
            let summary = match (&fleet, &refused) {
                (Some(progress), _) => fleet_summary::summarize(progress),
                (None, Some(error)) => fleet_summary::refused(
                    input
                        .get("fleetName")
                        .and_then(Value::as_str)
                        .unwrap_or("unnamed"),
                    &execution_name(&execution).unwrap_or_default(),
                    &text(error, "Cause"),
                ),
                (None, None) => {
                    return Err(GateError::invalid(
                        "fleet",
                        "summary needs the fleet's progress or the refusal",
                    ))
                }
            };
            to_value(&summarize(bucket, notifier, &summary).await?)
        }
    }
}

async fn plan<G: GameCatalog, S: RecordStore>(
    games: &G,
    bucket: &S,
    config: &FleetConfig,
    input: &Value,
    execution: &str,
) -> Result<FleetProgress, GateError> {
    let input = match games_from(input)? {
        None => input.clone(),
        Some(from) => {
            // The fleet step reads only its own bucket (least privilege), so a games file lives
            // there.
            if from.bucket != config.bucket {
                return Err(GateError::invalid(
                    "gamesFrom.bucket",
                    format!(
                        "must be the fleet bucket {} (the fleet reads only its own bucket), got {}",
                        config.bucket, from.bucket
                    ),
                ));
            }
            let file = bucket.get(&from.key).await.map_err(|e| {
                if e.kind == crate::ports::ServiceErrorKind::NotFound {
                    GateError::invalid(
                        "gamesFrom.key",
                        format!("no object {} in {}", from.key, from.bucket),
                    )
                } else {
                    GateError::service("reading the fleet's games file", e)
                }
            })?;
            with_games(input, &file)?
        }
    };
    let request = parse_fleet(&input)?;
    let known = known_games(games).await?;
    for (i, game) in request.games.iter().enumerate() {
        if !known.contains(&game.game_name) {
            return Err(InvalidInput::new(
                format!("games[{i}].gameName"),
                format!(
                    "names {:?}, which GameSparks does not know (ListGames): nothing was started",
                    game.game_name
                ),
            )
            .into());
        }
    }
    let raw: Vec<Value> = input
        .get("games")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let planned = fleet_run::plan(
        &request,
        &raw,
        execution,
        &config.bucket,
        config.max_concurrency,
        config.start_rate,
    );
    // Every batch object is written before the first starts: a run that cannot write its plan
    // starts nothing. A retried plan writes the same objects again.
    for (k, batch) in planned.batches.iter().enumerate() {
        put_json(
            bucket,
            &fleet_run::batch_key(&planned.progress.prefix, k),
            batch,
        )
        .await
        .map_err(|e| GateError::service("writing the fleet's batches", e))?;
    }
    Ok(planned.progress)
}

/// A batch's results: an element that is no ending is left out, so its game counts as an ERROR;
/// no array at all (the Map's Catch) is `None`.
fn endings(results: &Value) -> Option<Vec<ItemEnding>> {
    results.as_array().map(|all| {
        all.iter()
            .filter_map(|r| serde_json::from_value(r.clone()).ok())
            .collect()
    })
}

/// Under `onBreach: rollback`, the games batch `batch` deployed, each with its rollback run, kept
/// beside the batch (the state holds counts, not games).
async fn keep_promoted<S: RecordStore>(
    bucket: &S,
    progress: &FleetProgress,
    batch: usize,
    endings: &[ItemEnding],
) -> Result<(), GateError> {
    let key = fleet_run::batch_key(&progress.prefix, batch);
    let items: Vec<FleetItem> = read_json(bucket, &key).await?;
    let promoted: Vec<FleetItem> = items
        .iter()
        .filter_map(|item| {
            let ending = endings.iter().find(|e| e.item == item.item)?;
            fleet_run::rollback_item(item, ending, &progress.execution)
        })
        .collect();
    put_json(
        bucket,
        &fleet_run::promoted_key(&progress.prefix, batch),
        &promoted,
    )
    .await
    .map_err(|e| GateError::service("keeping the promoted games", e))
}

/// The budget was breached under `onBreach: rollback`: every batch's promoted games into one
/// rollback object, and the progress routed to run it.
async fn plan_rollback<S: RecordStore>(
    bucket: &S,
    config: &FleetConfig,
    progress: &mut FleetProgress,
) -> Result<(), GateError> {
    let mut promoted = vec![];
    for k in 0..progress.done {
        let mut batch: Vec<FleetItem> =
            read_json(bucket, &fleet_run::promoted_key(&progress.prefix, k)).await?;
        promoted.append(&mut batch);
    }
    let items = fleet_run::plan_rollback(progress, promoted, config.start_rate);
    if let Some(key) = &progress.rollback_key {
        put_json(bucket, key, &items)
            .await
            .map_err(|e| GateError::service("writing the rollback runs", e))?;
    }
    Ok(())
}

async fn read_json<S: RecordStore, T: serde::de::DeserializeOwned>(
    bucket: &S,
    key: &str,
) -> Result<T, GateError> {
    let bytes = bucket
        .get(key)
        .await
        .map_err(|e| GateError::service(format!("reading {key}"), e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        GateError::service(
            format!("reading {key}"),
            ServiceError::other("GetObject", format!("not what the fleet wrote: {e}")),
        )
    })
}

async fn known_games<G: GameCatalog>(games: &G) -> Result<BTreeSet<String>, GateError> {
    let mut known = BTreeSet::new();
    let mut token = None;
    loop {
        let page = games
            .list_games(token.take())
            .await
            .map_err(|e| GateError::service("listing GameSparks games", e))?;
        known.extend(page.items);
        match page.next_token {
            Some(next) => token = Some(next),
            None => return Ok(known),
        }
    }
}

/// One game's ending; never fails: what cannot be read is an ERROR, which counts.
fn ending(result: &Value) -> ItemEnding {
    let child = child_ending(result);
    // The snapshot the game served before, for `onBreach: rollback`; only a game this run
    // deployed has one to go back to.
    let rollback_to = result
        .pointer("/output/previousSnapshotId")
        .and_then(Value::as_str)
        .filter(|_| child.verdict == crate::verdict::Verdict::Succeeded)
        .map(str::to_owned);
    ItemEnding {
        item: result
            .get("item")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX),
        game_name: result
            .get("gameName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        verdict: child.verdict,
        why: child.why.as_deref().map(fleet_run::plain_why),
        rollback_to,
    }
}

async fn summarize<S: RecordStore, N: Notifier>(
    bucket: &S,
    notifier: &N,
    summary: &FleetSummary,
) -> Result<SummaryOutput, GateError> {
    let key = format!("fleets/{}/summary.json", summary.execution);
    // Written first, and never at the cost of the message.
    let written = put_json(bucket, &key, summary).await;
    if let Err(e) = &written {
        tracing::warn!(error = %e, "fleet summary not written");
    }
    let notification = fleet_summary::render(summary);
    let message_id = notifier
        .publish(&notification)
        .await
        .map_err(GateError::Notification)?;
    let completed = summary.status == FleetStatus::Completed;
    Ok(SummaryOutput {
        completed,
        status: summary.status,
        error: match summary.status {
            FleetStatus::Completed => None,
            FleetStatus::Stopped => Some(FLEET_STOPPED.to_owned()),
            FleetStatus::Refused => Some(FLEET_REFUSED.to_owned()),
        },
        cause: crate::bake::truncate_bytes(&summary.summary, 1024),
        message_id,
        summary_key: written.is_ok().then_some(key),
        summary_error: written.err().map(|e| e.to_string()),
    })
}

async fn put_json<S: RecordStore, T: Serialize>(
    bucket: &S,
    key: &str,
    value: &T,
) -> Result<(), ServiceError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| ServiceError::other("PutObject", format!("serializing {key}: {e}")))?;
    bucket.put(key, bytes).await
}

fn execution_name(execution: &Value) -> Result<String, GateError> {
    execution
        .get("Name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            GateError::invalid("execution.Name", "the fleet execution's name is required")
        })
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn to_value<T: Serialize>(v: &T) -> Result<Value, GateError> {
    serde_json::to_value(v).map_err(|e| GateError::Configuration(format!("serializing: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeGameCatalog, FakeNotifier, FakeRecords};
    use crate::verdict::Verdict;
    use serde_json::json;

    fn config() -> FleetConfig {
        FleetConfig {
            bucket: "fleet-bucket".into(),
            max_concurrency: 100,
            start_rate: 10,
        }
    }

    fn games(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"gameName": format!("g{i:03}"), "stageName": "prod", "snapshotId": "latest"}))
            .collect()
    }

    fn catalog(n: usize) -> FakeGameCatalog {
        FakeGameCatalog::new((0..n).map(|i| format!("g{i:03}")), 7)
    }

    async fn step(
        catalog: &FakeGameCatalog,
        bucket: &FakeRecords,
        notifier: &FakeNotifier,
        event: Value,
    ) -> Result<Value, GateError> {
        handle(catalog, bucket, notifier, &config(), &event).await
    }

    fn plan_event(input: Value) -> Value {
        json!({"action": "plan", "input": input, "execution": {"Name": "nightly-1"}})
    }

    #[tokio::test]
    async fn plan_checks_every_game_then_writes_one_object_per_batch() {
        let (cat, bucket, sns) = (catalog(30), FakeRecords::new(), FakeNotifier::default());
        let input = json!({"fleetName": "nightly", "games": games(25), "canaries": ["g004"], "batchSize": 10, "budget": {"maxFailurePercent": 5}});
        let out = step(&cat, &bucket, &sns, plan_event(input)).await;
        let progress: FleetProgress = serde_json::from_value(out.unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(progress.batches, 4);
        assert_eq!(cat.calls(), 5, "30 names, 7 a page");
        let objects = bucket.objects();
        let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "fleets/nightly-1/batch-0.json",
                "fleets/nightly-1/batch-1.json",
                "fleets/nightly-1/batch-2.json",
                "fleets/nightly-1/batch-3.json"
            ]
        );
        let first: Vec<fleet_run::FleetItem> =
            serde_json::from_slice(&objects[0].1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].game_name, "g004");
        assert_eq!(first[0].input["gameName"], "g004");
        assert!(sns.published().is_empty());
    }

    #[tokio::test]
    async fn a_bad_fleet_is_refused_by_item_and_rule_and_nothing_is_written() {
        let cat = catalog(3);
        for (input, field) in [
            (
                json!({"fleetName": "n", "games": games(4), "budget": {"maxFailurePercent": 5}}),
                "games[3].gameName",
            ),
            (
                json!({"fleetName": "n", "games": [], "budget": {"maxFailurePercent": 5}}),
                "games",
            ),
            (
                json!({"fleetName": "n", "games": games(2), "budget": {"maxFailurePercent": 101}}),
                "budget.maxFailurePercent",
            ),
            (
                json!({"fleetName": "n", "games": [games(1)[0].clone(), games(1)[0].clone()], "budget": {"maxFailurePercent": 5}}),
                "games[1]",
            ),
            (
                json!({"fleetName": "n", "gamesFrom": {"bucket": "other", "key": "k"}, "budget": {"maxFailurePercent": 5}}),
                "gamesFrom.bucket",
            ),
            (
                json!({"fleetName": "n", "gamesFrom": {"bucket": "fleet-bucket", "key": "missing.json"}, "budget": {"maxFailurePercent": 5}}),
                "gamesFrom.key",
            ),
        ] {
            let bucket = FakeRecords::new();
            let err = step(
                &cat,
                &bucket,
                &FakeNotifier::default(),
                plan_event(input.clone()),
            )
            .await
            .err()
            .unwrap_or_else(|| panic!("accepted {input}"));
            assert_eq!(err.error_type(), "StageGate.InvalidInput", "{err}");
            match &err {
                GateError::InvalidInput(e) => assert_eq!(e.field, field, "{err}"),
                other => panic!("{other}"),
            }
            assert!(bucket.objects().is_empty(), "wrote for {input}");
        }
    }

    #[tokio::test]
    async fn games_from_the_fleet_bucket_are_read() {
        let (cat, bucket, sns) = (catalog(3), FakeRecords::new(), FakeNotifier::default());
        bucket.replace(
            "in/games.json",
            serde_json::to_vec(&games(3)).unwrap_or_default(),
        );
        let input = json!({"fleetName": "n", "gamesFrom": {"bucket": "fleet-bucket", "key": "in/games.json"}, "budget": {"maxFailurePercent": 5}});
        let out = step(&cat, &bucket, &sns, plan_event(input)).await;
        assert_eq!(out.ok().and_then(|v| v["games"].as_u64()), Some(3));
    }

    #[tokio::test]
    async fn a_plan_that_cannot_list_games_or_write_starts_nothing() {
        let (cat, bucket, sns) = (catalog(3), FakeRecords::new(), FakeNotifier::default());
        cat.fail_next(ServiceError::from_reply(
            "ListGames",
            Some("ThrottlingException"),
            Some(400),
            Some("slow down"),
        ));
        let input =
            json!({"fleetName": "n", "games": games(3), "budget": {"maxFailurePercent": 5}});
        let err = step(&cat, &bucket, &sns, plan_event(input.clone()))
            .await
            .err();
        assert_eq!(err.map(|e| e.error_type()), Some("StageGate.Retryable"));
        bucket.fail_next(
            "PutObject",
            ServiceError::from_reply("PutObject", Some("AccessDenied"), Some(403), Some("no")),
        );
        let err = step(&cat, &bucket, &sns, plan_event(input)).await.err();
        assert_eq!(err.map(|e| e.error_type()), Some("StageGate.AccessDenied"));
    }

    #[tokio::test]
    async fn a_fleet_runs_batch_by_batch_to_one_summary() {
        let (cat, bucket, sns) = (catalog(40), FakeRecords::new(), FakeNotifier::default());
        let input = json!({"fleetName": "nightly", "games": games(40), "batchSize": 20, "budget": {"maxFailurePercent": 5}});
        let mut fleet = step(&cat, &bucket, &sns, plan_event(input))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut batches = 0;
        while fleet["next"]["next"] == "batch" {
            let key = fleet["batchKey"].as_str().unwrap_or_default().to_owned();
            let items: Vec<Value> = bucket
                .objects()
                .into_iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, b)| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            let mut results = vec![];
            for item in items {
                // Item 3 rolls back, the others succeed: what the Map's iterations hand Ending.
                let result = if item["item"] == 3 {
                    let described =
                        json!({"error": "StageGate.ROLLED_BACK", "cause": "bake alarm fired"});
                    json!({"item": 3, "gameName": "g003", "error": {"Error": "States.TaskFailed", "Cause": described.to_string()}})
                } else {
                    json!({"item": item["item"], "gameName": item["gameName"], "output": {"notification": {"outcome": "SUCCEEDED"}}})
                };
                results.push(
                    step(
                        &cat,
                        &bucket,
                        &sns,
                        json!({"action": "ending", "result": result}),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{e}")),
                );
            }
            fleet = step(
                &cat,
                &bucket,
                &sns,
                json!({"action": "tally", "fleet": fleet, "results": results}),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            batches += 1;
        }
        assert_eq!(batches, 2);
        assert!(bucket
            .objects()
            .iter()
            .any(|(k, _)| k == "fleets/nightly-1/progress.json"));
        let out = step(
            &cat,
            &bucket,
            &sns,
            json!({"action": "summary", "fleet": fleet}),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["completed"], true);
        let published = sns.published();
        assert_eq!(published.len(), 1);
        let summary: FleetSummary =
            serde_json::from_str(&published[0].message).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.counts.get("ROLLED_BACK"), Some(&1));
        assert_eq!(
            summary.failed_games[0].why.as_deref(),
            Some("bake alarm fired")
        );
        assert!(bucket
            .objects()
            .iter()
            .any(|(k, _)| k == "fleets/nightly-1/summary.json"));
    }

    #[tokio::test]
    async fn a_stopped_or_refused_fleet_fails_loudly_after_its_message() {
        let (cat, bucket, sns) = (catalog(1), FakeRecords::new(), FakeNotifier::default());
        let out = step(&cat, &bucket, &sns, json!({"action": "summary", "refused": {"Error": "StageGate.InvalidInput", "Cause": "games[0].gameName: unknown"}, "input": {"fleetName": "nightly"}, "execution": {"Name": "n-2"}})).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["completed"], false);
        assert_eq!(out["error"], FLEET_REFUSED);
        assert_eq!(sns.published().len(), 1);
        // The summary cannot be written: the message still goes out, and says nothing was kept.
        bucket.fail_next(
            "PutObject",
            ServiceError::from_reply("PutObject", Some("AccessDenied"), Some(403), Some("no")),
        );
        let out = step(
            &cat,
            &bucket,
            &sns,
            json!({"action": "summary", "refused": {"Cause": "x"}, "execution": {"Name": "n-3"}}),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(out["summaryError"].is_string());
        assert_eq!(sns.published().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_map_or_a_stray_result_counts_its_games_as_errors() {
        let (cat, bucket, sns) = (catalog(4), FakeRecords::new(), FakeNotifier::default());
        let input = json!({"fleetName": "n", "games": games(4), "batchSize": 2, "budget": {"maxFailurePercent": 100}});
        let fleet = step(&cat, &bucket, &sns, plan_event(input))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let caught = json!({"Error": "States.ItemReaderFailed", "Cause": "no such key"});
        let fleet = step(
            &cat,
            &bucket,
            &sns,
            json!({"action": "tally", "fleet": fleet, "results": caught}),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fleet["counts"]["ERROR"], 2);
        assert!(fleet["failedGames"][0]["why"]
            .as_str()
            .is_some_and(|w| w.contains("States.ItemReaderFailed")));
        // A result that is no ending (a Map iteration that failed outright) is a missing game.
        let results = json!([null, {"item": 2, "gameName": "g002", "verdict": "SUCCEEDED"}]);
        let fleet = step(
            &cat,
            &bucket,
            &sns,
            json!({"action": "tally", "fleet": fleet, "results": results}),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fleet["counts"]["ERROR"], 3);
        assert_eq!(fleet["counts"]["SUCCEEDED"], 1);
        assert_eq!(fleet["next"]["next"], "done");
    }

    #[tokio::test]
    async fn a_breach_under_rollback_runs_back_exactly_the_games_it_promoted() {
        let (cat, bucket, sns) = (catalog(6), FakeRecords::new(), FakeNotifier::default());
        let input = json!({"fleetName": "n", "games": games(6), "batchSize": 2, "onBreach": "rollback", "budget": {"maxFailurePercent": 20}});
        let mut fleet = step(&cat, &bucket, &sns, plan_event(input))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // Batch 0 deploys both; batch 1: item 2 fails, item 3 was already serving (UNCHANGED):
        // 1 of 6 allowed, so the fleet goes on; batch 2: item 4 fails: breached.
        for (items, verdicts) in [
            ([0, 1], ["SUCCEEDED", "SUCCEEDED"]),
            ([2, 3], ["ROLLED_BACK", "UNCHANGED"]),
            ([4, 5], ["ROLLED_BACK", "SUCCEEDED"]),
        ] {
            let mut results = vec![];
            for (item, verdict) in items.iter().zip(verdicts) {
                let result = json!({"item": item, "gameName": format!("g{item:03}"), "output": {"notification": {"outcome": verdict}, "previousSnapshotId": "Snapshot_2026-11-01T09:00:00.000Z"}});
                results.push(
                    step(
                        &cat,
                        &bucket,
                        &sns,
                        json!({"action": "ending", "result": result}),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{e}")),
                );
            }
            fleet = step(
                &cat,
                &bucket,
                &sns,
                json!({"action": "tally", "fleet": fleet, "results": results}),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(fleet["route"], "rollback", "{fleet}");
        let rollback: Vec<FleetItem> = bucket
            .objects()
            .into_iter()
            .find(|(k, _)| k == "fleets/nightly-1/rollback.json")
            .and_then(|(_, b)| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let back: Vec<usize> = rollback.iter().map(|i| i.item).collect();
        assert_eq!(back, [0, 1, 5], "promoted, not failed or unchanged");
        assert!(rollback
            .iter()
            .all(|i| i.input["snapshotId"] == "Snapshot_2026-11-01T09:00:00.000Z"));
        let results: Vec<Value> = rollback
            .iter()
            .map(|i| json!({"item": i.item, "gameName": i.game_name, "verdict": "SUCCEEDED"}))
            .collect();
        let fleet = step(
            &cat,
            &bucket,
            &sns,
            json!({"action": "rolledback", "fleet": fleet, "results": results}),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fleet["route"], "summary");
        let out = step(
            &cat,
            &bucket,
            &sns,
            json!({"action": "summary", "fleet": fleet}),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["completed"], false);
        let summary: FleetSummary =
            serde_json::from_str(&sns.published()[0].message).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary
                .breach_rollback
                .map(|b| (b.games, b.counts.get("SUCCEEDED").copied())),
            Some((3, Some(3)))
        );
        assert!(
            summary.summary.contains("3 promoted game(s) were run back"),
            "{}",
            summary.summary
        );
    }

    #[test]
    fn an_unreadable_ending_counts_as_an_error() {
        let e = ending(&json!({"item": 4, "gameName": "g"}));
        assert_eq!((e.item, e.verdict), (4, Verdict::Error));
        let e = ending(&json!({}));
        assert_eq!(e.item, usize::MAX);
    }

    #[test]
    fn the_configuration_is_checked() {
        let c = FleetConfig::from_lookup(|k| (k == "FLEET_BUCKET").then(|| "b".into()));
        assert_eq!(
            c.ok().map(|c| (c.max_concurrency, c.start_rate)),
            Some((500, 10))
        );
        assert!(FleetConfig::from_lookup(|_| None).is_err());
        let bad = FleetConfig::from_lookup(|k| match k {
            "FLEET_BUCKET" => Some("b".into()),
            "FLEET_START_RATE" => Some("0".into()),
            _ => None,
        });
        assert!(bad.is_err());
    }
}

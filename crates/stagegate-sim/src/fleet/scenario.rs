//! What one seed draws for a fleet run: the fleet input as a user would write it, and how every
//! game's gate ends and how its result reaches the fleet.
//!
//! The stop point and the canary gate are only as well tested as the fleets they meet: one game
//! and three hundred, canaries by count, by name in any order, or none, a budget of 0% (one
//! failure stops) and of 100%, batches of one and batches larger than the fleet, failures spread
//! out or bunched at one place. Each game's ending is drawn from `Verdict::ALL`, and its result
//! arrives as Step Functions' Map would hand it over: a succeeded child's output, a failed child
//! caught with its DescribeExecution as the Cause, or something nobody can read; some twice.
//! What the gate ended as (`truth`) is what the invariants count, never what the fleet read.

use gamesparks_local::rng::Rng;
use serde_json::{json, Value};
use stagegate::verdict::Verdict;

/// The seed's stream for the fleet (the gate scenario of the same seed uses others).
const FLEET_STREAM: u64 = 0xf1ee7;

/// How a game's result reaches the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The child succeeded: its output, whose `notification` names the outcome.
    Output,
    /// The child failed and the Map's Catch holds its DescribeExecution as the Cause; `upper`:
    /// the Cause spells its members `Error`/`Cause` rather than `error`/`cause`.
    Caught { upper: bool },
    /// Something nobody can read (which of `UNREADABLE`): it must count as ERROR.
    Unreadable(usize),
}

/// Results that name no gate ending: an empty result, an output without its notification or
/// with an outcome no verdict has, a child stopped by the Map's own timeout, a start refused, a
/// Cause that is not JSON or names no `StageGate.` error, a result that is not an object.
pub const UNREADABLE: usize = 9;

/// One game's gate: how it ended, how its result arrives, and how many more times it arrives
/// (a retried delivery).
#[derive(Debug, Clone)]
pub struct Game {
    pub verdict: Verdict,
    pub delivery: Delivery,
    pub repeats: u8,
}

impl Game {
    /// What the fleet must count this game as: an unreadable result is an ERROR, whatever the
    /// gate did.
    pub fn truth(&self) -> Verdict {
        match self.delivery {
            Delivery::Unreadable(_) => Verdict::Error,
            _ => self.verdict,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FleetScenario {
    pub seed: u64,
    pub games: Vec<Game>,
    /// The canaries by position, in the order given (by name or by count).
    pub canaries: Vec<usize>,
    pub percent: u8,
    pub canary_max_failures: u32,
    /// `None`: the input leaves it out (the default applies).
    pub batch_size: Option<usize>,
    /// Results of a batch arrive shuffled (else in start order).
    pub shuffled: bool,
    /// The fleet input, as `parse_fleet` reads it.
    pub input: Value,
}

fn pick(rng: &mut Rng, per_mille: u64) -> bool {
    rng.range(0, 999) < per_mille
}

fn draw_from<T: Copy>(rng: &mut Rng, from: &[T]) -> Option<T> {
    let len = u64::try_from(from.len()).ok()?.checked_sub(1)?;
    from.get(usize::try_from(rng.range(0, len)).ok()?).copied()
}

fn upto(rng: &mut Rng, lo: usize, hi: usize) -> usize {
    let v = rng.range(lo as u64, hi as u64);
    usize::try_from(v).unwrap_or(lo)
}

pub fn game_name(item: usize) -> String {
    format!("game-{item:03}")
}

impl FleetScenario {
    pub fn draw(seed: u64) -> Self {
        let mut rng = Rng::new(seed, FLEET_STREAM);
        let n = match rng.range(0, 99) {
            0..=14 => upto(&mut rng, 1, 5),
            15..=54 => upto(&mut rng, 6, 60),
            _ => upto(&mut rng, 61, 300),
        };
        let canary_mode = rng.range(0, 99);
        let mut canaries = vec![];
        let by_name = n > 1 && canary_mode >= 70;
        if n > 1 && canary_mode >= 45 {
            let k = upto(&mut rng, 1, (n - 1).min(6));
            if by_name {
                while canaries.len() < k {
                    let i = upto(&mut rng, 0, n - 1);
                    if !canaries.contains(&i) {
                        canaries.push(i);
                    }
                }
            } else {
                canaries = (0..k).collect();
            }
        }
        let batch_size = match rng.range(0, 99) {
            0..=19 => None,
            20..=39 => Some(upto(&mut rng, 1, 5)),
            40..=84 => Some(upto(&mut rng, 6, 50)),
            _ => Some(upto(&mut rng, 51, n.max(51) + 20)),
        };
        let percent = match rng.range(0, 99) {
            0..=24 => 0,
            25..=69 => rng.range(1, 10),
            70..=89 => rng.range(11, 40),
            _ => rng.range(41, 100),
        };
        let percent = u8::try_from(percent).unwrap_or(100);
        let canary_max_failures = if pick(&mut rng, 500) {
            u32::try_from(rng.range(0, 3)).unwrap_or(0)
        } else {
            0
        };
        // Per mille of games: failures, refusals, unreadable results, results delivered again.
        let fail = match rng.range(0, 99) {
            0..=19 => 0,
            20..=59 => rng.range(5, 60),
            60..=84 => rng.range(60, 200),
            _ => rng.range(200, 600),
        };
        let refuse = rng.range(0, 300);
        let unreadable = if pick(&mut rng, 500) {
            rng.range(5, 80)
        } else {
            0
        };
        let repeat = if pick(&mut rng, 500) {
            rng.range(20, 250)
        } else {
            0
        };
        // Failures bunched at one place move the stop point around the batches.
        let bunch = pick(&mut rng, 200).then(|| {
            let start = upto(&mut rng, 0, n - 1);
            let len = upto(&mut rng, 1, n.div_ceil(4));
            start..start + len
        });
        let all: Vec<Verdict> = Verdict::ALL
            .into_iter()
            .filter(|v| *v != Verdict::AwaitingApproval)
            .collect();
        let successes: Vec<Verdict> = all.iter().copied().filter(|v| v.is_success()).collect();
        let failures: Vec<Verdict> = all.iter().copied().filter(|v| v.needs_person()).collect();
        let refusals: Vec<Verdict> = all
            .iter()
            .copied()
            .filter(|v| !v.is_success() && !v.needs_person())
            .collect();
        let games: Vec<Game> = (0..n)
            .map(|i| {
                let failing = match &bunch {
                    Some(r) => r.contains(&i),
                    None => pick(&mut rng, fail),
                };
                let verdict = if failing {
                    draw_from(&mut rng, &failures)
                } else if pick(&mut rng, refuse) {
                    draw_from(&mut rng, &refusals)
                } else {
                    draw_from(&mut rng, &successes)
                }
                .unwrap_or(Verdict::Succeeded);
                let delivery = if pick(&mut rng, unreadable) {
                    Delivery::Unreadable(upto(&mut rng, 0, UNREADABLE - 1))
                } else if verdict.is_success() {
                    Delivery::Output
                } else {
                    Delivery::Caught {
                        upper: pick(&mut rng, 300),
                    }
                };
                let repeats = if pick(&mut rng, repeat) {
                    u8::try_from(rng.range(1, 2)).unwrap_or(1)
                } else {
                    0
                };
                Game {
                    verdict,
                    delivery,
                    repeats,
                }
            })
            .collect();
        let shuffled = pick(&mut rng, 700);
        let mut input = json!({
            "fleetName": format!("fleet-{}", seed % 1000),
            "games": (0..n).map(|i| json!({
                "gameName": game_name(i),
                "stageName": "prod",
                "snapshotId": "latest",
            })).collect::<Vec<_>>(),
            "budget": {"maxFailurePercent": percent},
        });
        if canary_max_failures > 0 || pick(&mut rng, 300) {
            input["budget"]["canaryMaxFailures"] = json!(canary_max_failures);
        }
        if let Some(b) = batch_size {
            input["batchSize"] = json!(b);
        }
        if by_name {
            input["canaries"] = json!(canaries.iter().map(|&i| game_name(i)).collect::<Vec<_>>());
        } else if !canaries.is_empty() {
            input["canaryCount"] = json!(canaries.len());
        }
        FleetScenario {
            seed,
            games,
            canaries,
            percent,
            canary_max_failures,
            batch_size,
            shuffled,
            input,
        }
    }

    /// The result the Map hands over for `item`, as the fleet's function receives it.
    pub fn result(&self, item: usize) -> Value {
        let Some(game) = self.games.get(item) else {
            return Value::Null;
        };
        let outcome = game.verdict.as_str();
        match game.delivery {
            Delivery::Output => json!({"output": {
                "gameName": game_name(item),
                "notification": {"outcome": outcome, "cause": ""},
            }}),
            Delivery::Caught { upper } => {
                let error = format!("StageGate.{outcome}");
                let cause = format!("{} ended {outcome}", game_name(item));
                let described = if upper {
                    json!({"Status": "FAILED", "Error": error, "Cause": cause})
                } else {
                    json!({"status": "FAILED", "error": error, "cause": cause})
                };
                json!({"error": {"Error": "States.TaskFailed", "Cause": described.to_string()}})
            }
            Delivery::Unreadable(which) => match which {
                0 => json!({}),
                1 => json!({"output": {"gameName": game_name(item)}}),
                2 => json!({"output": {"notification": {"outcome": "MAYBE"}}}),
                3 => {
                    json!({"error": {"Error": "States.Timeout", "Cause": "the Map item ran past its TimeoutSeconds"}})
                }
                4 => {
                    json!({"error": {"Error": "StepFunctions.ExecutionAlreadyExistsException", "Cause": "exists"}})
                }
                5 => {
                    json!({"error": {"Error": "States.TaskFailed", "Cause": "{\"status\": \"FAILED\", \"error\": \"StageGa"}})
                }
                6 => {
                    json!({"error": {"Error": "States.TaskFailed", "Cause": "{\"status\": \"ABORTED\", \"error\": \"States.Runtime\"}"}})
                }
                7 => {
                    json!({"error": {"Error": "States.TaskFailed", "Cause": format!("{{\"error\": \"StageGate.{outcome}X\"}}")}})
                }
                _ => json!(outcome),
            },
        }
    }
}

//! A fleet run as the fleet workflow goes: the input through `parse_fleet`, the batches from
//! `batches`, and between batches the core's `next`, from the endings `child_ending` read out of
//! the results the Map handed over; the summary from `tally`.
//!
//! The model keeps only what the workflow must keep, and the invariants read its log, not its
//! state: which game started when, which result arrived when, which decision was taken, which
//! summary was published. A batch runs whole (every game in it ends) before the next decision,
//! since a stopped gate ends with no cleanup and no message. A result that arrives again (a
//! retried delivery) is counted by its item, once.
//!
//! `Plant` swaps in a wrong decision or a wrong step of the workflow, one at a time, so that each
//! invariant can be seen to fail (`cargo xtask sim --plant NAME`); the real run plants nothing.

use std::collections::{BTreeMap, BTreeSet};

use gamesparks_local::rng::Rng;
use serde_json::Value;
use stagegate::verdict::{Ending, Verdict};
use stagegate_core::budget::{batches, counts_as_failure, next, Budget, GameEnding, Next};
use stagegate_core::fleet::parse_fleet;
use stagegate_core::tally::{child_ending, tally, ChildEnding, FailedGame};
use time::Duration;

use crate::faults::{Fault, FaultKind};
use crate::fleet::scenario::{Delivery, FleetScenario};
use crate::scenario::T0;

/// The seed's stream for the order results arrive in.
const ARRIVAL_STREAM: u64 = 0xa441;

/// A wrong step planted on purpose, to see an invariant fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plant {
    /// `next` stops once the failures reach the budget, not when they pass it (`>=` for `>`).
    StopAtBudget,
    /// `next` is told the fleet has no canaries.
    IgnoreCanaries,
    /// Every delivered result is an ending, a retried delivery too.
    CountDuplicates,
    /// A result with no readable verdict is read as UNCHANGED instead of ERROR.
    UnreadableUnchanged,
    /// Refusals (FROZEN, REJECTED, ABORTED...) are counted as FAILED.
    RefusalsCount,
    /// The first batch after the canaries starts with them, not after them.
    StartWithCanaries,
    /// A batch is left running once its failures pass the budget.
    AbandonRunning,
    /// A retried delivery starts its game again.
    RestartRetried,
    /// A summary after every batch.
    SummaryEachBatch,
}

impl Plant {
    pub const ALL: [Plant; 9] = [
        Plant::StopAtBudget,
        Plant::IgnoreCanaries,
        Plant::CountDuplicates,
        Plant::UnreadableUnchanged,
        Plant::RefusalsCount,
        Plant::StartWithCanaries,
        Plant::AbandonRunning,
        Plant::RestartRetried,
        Plant::SummaryEachBatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StopAtBudget => "stop-at-budget",
            Self::IgnoreCanaries => "ignore-canaries",
            Self::CountDuplicates => "count-duplicates",
            Self::UnreadableUnchanged => "unreadable-unchanged",
            Self::RefusalsCount => "refusals-count",
            Self::StartWithCanaries => "start-with-canaries",
            Self::AbandonRunning => "abandon-running",
            Self::RestartRetried => "restart-retried",
            Self::SummaryEachBatch => "summary-each-batch",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// One step of the fleet, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Start(usize),
    /// A result the Map handed over for an item (the same item may come again).
    Result(usize),
    Decision(Next),
    Summary {
        counts: BTreeMap<String, usize>,
        failed: Vec<FailedGame>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct FleetRecord {
    pub steps: Vec<Step>,
    /// `parse_fleet` refused the input (a drawn fleet is always valid).
    pub refused: Option<String>,
    /// The model gave up: a decision named a batch that does not exist, or no ending came.
    pub stuck: Option<String>,
    pub trace: Vec<Fault>,
}

impl FleetRecord {
    /// Notes the first fault of each kind (the steps show the others; a fleet of three hundred
    /// games would otherwise spend more on its trace than on its run).
    fn note(&mut self, kind: FaultKind, what: impl FnOnce() -> String) {
        if self.trace.iter().any(|f| f.kind == kind) {
            return;
        }
        let at = T0 + Duration::seconds(i64::try_from(self.steps.len()).unwrap_or(0));
        self.trace.push(Fault {
            at,
            kind,
            what: what(),
        });
    }
}

fn decide(
    plant: Option<Plant>,
    plan: &[Vec<usize>],
    done: usize,
    endings: &[GameEnding],
    budget: &Budget,
    has_canaries: bool,
) -> Next {
    match plant {
        Some(Plant::IgnoreCanaries) => next(plan, done, endings, budget, false),
        Some(Plant::RefusalsCount) => {
            let harsher: Vec<GameEnding> = endings
                .iter()
                .map(|e| GameEnding {
                    item: e.item,
                    verdict: if e.verdict.ending() == Ending::Refused {
                        Verdict::Failed
                    } else {
                        e.verdict
                    },
                })
                .collect();
            next(plan, done, &harsher, budget, has_canaries)
        }
        Some(Plant::StopAtBudget) => match next(plan, done, endings, budget, has_canaries) {
            stopped @ Next::Stopped { .. } => stopped,
            going => {
                let games: usize = plan.iter().map(Vec::len).sum();
                let ran: BTreeSet<usize> = plan.iter().take(done).flatten().copied().collect();
                let failed = endings
                    .iter()
                    .filter(|e| ran.contains(&e.item) && counts_as_failure(e.verdict))
                    .count();
                let allowed = budget.allowed(games);
                if failed >= allowed {
                    Next::Stopped {
                        reason: "planted: stopped at the budget".into(),
                        failed,
                        allowed,
                        not_started: plan.iter().skip(done).map(Vec::len).sum(),
                    }
                } else {
                    going
                }
            }
        },
        _ => next(plan, done, endings, budget, has_canaries),
    }
}

fn read(plant: Option<Plant>, result: &Value) -> ChildEnding {
    let ending = child_ending(result);
    if plant == Some(Plant::UnreadableUnchanged) && ending.verdict == Verdict::Error {
        // A reader that trusts only what it recognises: a real ERROR gate stays ERROR.
        let named = result
            .pointer("/output/notification/outcome")
            .is_some_and(|o| o == "ERROR")
            || result
                .pointer("/error/Cause")
                .and_then(Value::as_str)
                .is_some_and(|c| c.contains("StageGate.ERROR\""));
        if !named {
            return ChildEnding {
                verdict: Verdict::Unchanged,
                why: None,
            };
        }
    }
    ending
}

/// Runs the fleet of `scenario` to its ending.
pub fn drive(scenario: &FleetScenario, plant: Option<Plant>) -> FleetRecord {
    let mut rec = FleetRecord::default();
    let request = match parse_fleet(&scenario.input) {
        Ok(r) => r,
        Err(e) => {
            rec.refused = Some(e.to_string());
            return rec;
        }
    };
    let plan = batches(request.games.len(), &request.canaries, request.batch_size);
    let has_canaries = !request.canaries.is_empty();
    let names: Vec<String> = request.games.iter().map(|g| g.game_name.clone()).collect();
    let games = names.len();
    let mut rng = Rng::new(scenario.seed, ARRIVAL_STREAM);
    let mut endings: Vec<GameEnding> = vec![];
    let mut ended: BTreeSet<usize> = BTreeSet::new();
    let mut whys: BTreeMap<usize, String> = BTreeMap::new();
    let mut done = 0;
    // Each decision either starts a batch or ends the fleet: more than one per batch is a loop.
    for _ in 0..plan.len() + 2 {
        let decision = decide(plant, &plan, done, &endings, &request.budget, has_canaries);
        rec.steps.push(Step::Decision(decision.clone()));
        let batch = match decision {
            Next::Batch { batch } => batch,
            Next::Done | Next::Stopped { .. } => {
                let (counts, failed) = tally(&endings, &names, &whys);
                rec.steps.push(Step::Summary { counts, failed });
                return rec;
            }
        };
        let Some(items) = plan.get(batch) else {
            rec.stuck = Some(format!(
                "batch {batch} was decided but the plan has {}",
                plan.len()
            ));
            return rec;
        };
        let mut items = items.clone();
        done += 1;
        if plant == Some(Plant::StartWithCanaries) && has_canaries && batch == 0 {
            if let Some(more) = plan.get(1) {
                items.extend(more);
                done += 1;
            }
        }
        for &item in &items {
            rec.steps.push(Step::Start(item));
        }
        let mut arrivals: Vec<usize> = vec![];
        for &item in &items {
            arrivals.push(item);
            let repeats = scenario.games.get(item).map_or(0, |g| g.repeats);
            for _ in 0..repeats {
                arrivals.push(item);
            }
        }
        if scenario.shuffled && arrivals.len() > 1 {
            for i in (1..arrivals.len()).rev() {
                let j = usize::try_from(rng.range(0, i as u64)).unwrap_or(i);
                arrivals.swap(i, j);
            }
            rec.note(FaultKind::FleetOutOfOrder, || {
                format!("batch {batch}: results arrive in the order {arrivals:?}")
            });
        }
        let allowed = request.budget.allowed(games);
        for item in arrivals {
            let result = scenario.result(item);
            rec.steps.push(Step::Result(item));
            if let Some(g) = scenario.games.get(item) {
                match g.delivery {
                    Delivery::Unreadable(_) => rec.note(FaultKind::FleetUnreadableResult, || {
                        format!("item {item}: {result}")
                    }),
                    Delivery::Caught { .. } => rec.note(FaultKind::FleetCaughtError, || {
                        format!("item {item}: {}", g.verdict.as_str())
                    }),
                    Delivery::Output => {}
                }
            }
            let ending = read(plant, &result);
            let first = ended.insert(item);
            if !first {
                rec.note(FaultKind::FleetDuplicateResult, || {
                    format!("item {item} delivered again")
                });
                if plant == Some(Plant::RestartRetried) {
                    rec.steps.push(Step::Start(item));
                }
            }
            if first || plant == Some(Plant::CountDuplicates) {
                endings.push(GameEnding {
                    item,
                    verdict: ending.verdict,
                });
                if let Some(why) = ending.why {
                    whys.insert(item, why);
                }
            }
            if plant == Some(Plant::AbandonRunning)
                && endings
                    .iter()
                    .filter(|e| counts_as_failure(e.verdict))
                    .count()
                    > allowed
            {
                break;
            }
        }
        if plant == Some(Plant::SummaryEachBatch) {
            let (counts, failed) = tally(&endings, &names, &whys);
            rec.steps.push(Step::Summary { counts, failed });
        }
    }
    rec.stuck = Some(format!(
        "no Done or Stopped after {} decisions for {} batches",
        plan.len() + 2,
        plan.len()
    ));
    rec
}

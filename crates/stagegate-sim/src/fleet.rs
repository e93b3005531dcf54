//! Fleet runs: many games' gates under one failure budget, batch by batch, canaries first.
//!
//! A fleet is judged by where it stops: one batch too early and a healthy release is held back
//! everywhere, one too late and the breach spreads, and a canary gate that lets one game through
//! defeats the point of canaries. The pure decisions (`budget::next`, `tally::child_ending`) are
//! tested case by case in the core; here a seed draws a whole fleet (`scenario`), the fleet goes
//! as its workflow will (`drive`), with results unreadable, caught, repeated and out of order,
//! and the invariants (`invariants`) are checked against how each game truly ended.
//!
//! A fleet run costs far less than a gate run, so one seed in `FLEET_EVERY` adds one beside its
//! gate run; `--fleet` runs one for every seed, and `--plant` one wrong step in each.

pub mod drive;
pub mod invariants;
pub mod scenario;

use std::collections::BTreeSet;

use stagegate_core::budget::Next;

use crate::faults::FaultKind;
use crate::invariants::Violation;
use drive::{FleetRecord, Plant, Step};
use scenario::FleetScenario;

/// One seed in this many runs a fleet beside its gate run.
pub const FLEET_EVERY: u64 = 10;

pub fn is_fleet_seed(seed: u64) -> bool {
    seed % FLEET_EVERY == 0
}

/// How a fleet run ended, for the campaign's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FleetEnding {
    Done,
    /// Stopped by the canary wave's allowance.
    StoppedByCanaries,
    StoppedByBudget,
    /// No ending (the input refused, or the model stuck): an invariant says so.
    None,
}

impl FleetEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::StoppedByCanaries => "stopped by the canaries",
            Self::StoppedByBudget => "stopped by the budget",
            Self::None => "no ending",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FleetReport {
    pub seed: u64,
    pub games: usize,
    pub started: usize,
    pub ending: FleetEnding,
    pub violations: Vec<Violation>,
    pub kinds: BTreeSet<FaultKind>,
}

/// Draws the fleet of `seed`, runs it (with `plant`, if any) and checks the invariants.
pub fn run_fleet(seed: u64, plant: Option<Plant>) -> (FleetScenario, FleetRecord, FleetReport) {
    let scenario = FleetScenario::draw(seed);
    let record = drive::drive(&scenario, plant);
    let violations = invariants::check(&scenario, &record);
    let started: BTreeSet<usize> = record
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Start(i) => Some(*i),
            _ => None,
        })
        .collect();
    let ending = match record.steps.iter().rev().find_map(|s| match s {
        Step::Decision(n @ (Next::Done | Next::Stopped { .. })) => Some(n),
        _ => None,
    }) {
        Some(Next::Done) => FleetEnding::Done,
        Some(Next::Stopped { reason, .. }) if reason.contains("canary") => {
            FleetEnding::StoppedByCanaries
        }
        Some(_) => FleetEnding::StoppedByBudget,
        None => FleetEnding::None,
    };
    let report = FleetReport {
        seed,
        games: scenario.games.len(),
        started: started.len(),
        ending,
        violations,
        kinds: record.trace.iter().map(|f| f.kind).collect(),
    };
    (scenario, record, report)
}

/// What a failing fleet run prints: its input, how each game ended, what happened, step by step.
pub fn explain(seed: u64, plant: Option<Plant>) -> String {
    let (scenario, record, report) = run_fleet(seed, plant);
    let mut out = format!(
        "fleet seed {seed}: {} games, ended {}{}\n",
        report.games,
        report.ending.as_str(),
        plant.map_or(String::new(), |p| format!(" (planted: {})", p.as_str()))
    );
    let mut input = scenario.input.clone();
    if let Some(games) = input.get_mut("games") {
        *games = serde_json::json!(format!("[{} games]", scenario.games.len()));
    }
    out.push_str(&format!("  input: {input}\n"));
    for v in &report.violations {
        out.push_str(&format!("  VIOLATED {}: {}\n", v.invariant, v.detail));
    }
    out.push_str("  games (truth; delivery; repeats):\n");
    for (i, g) in scenario.games.iter().enumerate() {
        out.push_str(&format!(
            "    {} {} ({}); {:?}; {}\n",
            scenario::game_name(i),
            g.truth().as_str(),
            g.verdict.as_str(),
            g.delivery,
            g.repeats
        ));
    }
    out.push_str("  steps:\n");
    let mut starts: Vec<usize> = vec![];
    let flush = |starts: &mut Vec<usize>, out: &mut String| {
        if !starts.is_empty() {
            out.push_str(&format!("    start {starts:?}\n"));
            starts.clear();
        }
    };
    for step in &record.steps {
        match step {
            Step::Start(i) => starts.push(*i),
            Step::Result(i) => {
                flush(&mut starts, &mut out);
                out.push_str(&format!("    result {i}\n"));
            }
            Step::Decision(n) => {
                flush(&mut starts, &mut out);
                out.push_str(&format!("    decide {n:?}\n"));
            }
            Step::Summary { counts, failed } => {
                flush(&mut starts, &mut out);
                out.push_str(&format!(
                    "    summary {counts:?}, failed {:?}\n",
                    failed
                        .iter()
                        .map(|f| format!("{} {}", f.game_name, f.verdict.as_str()))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    flush(&mut starts, &mut out);
    let replay = plant.map_or(String::new(), |p| format!(" --plant {}", p.as_str()));
    out.push_str(&format!(
        "  replay: cargo xtask sim --fleet --seed {seed}{replay}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Which invariants broke, and in how many runs, over `seeds` fleet runs.
    fn broken(plant: Option<Plant>, seeds: std::ops::Range<u64>) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        for seed in seeds {
            let (_, _, r) = run_fleet(seed, plant);
            let names: BTreeSet<&'static str> = r.violations.iter().map(|v| v.invariant).collect();
            for n in names {
                *out.entry(n).or_default() += 1;
            }
        }
        out
    }

    #[test]
    fn the_fleet_as_the_core_decides_it_keeps_every_invariant() {
        let seen = broken(None, 0..3000);
        assert!(seen.is_empty(), "{seen:?}\n{}", {
            let first = (0..3000)
                .find(|&s| !run_fleet(s, None).2.violations.is_empty())
                .unwrap_or(0);
            explain(first, None)
        });
    }

    #[test]
    fn the_drawn_fleets_reach_every_ending_and_every_fault() {
        let mut endings = BTreeSet::new();
        let mut kinds = BTreeSet::new();
        let mut sizes = BTreeSet::new();
        for seed in 0..3000 {
            let (s, _, r) = run_fleet(seed, None);
            endings.insert(r.ending);
            kinds.extend(r.kinds);
            sizes.insert(match s.games.len() {
                1 => "one",
                2..=60 => "some",
                _ => "many",
            });
        }
        assert_eq!(
            endings,
            [
                FleetEnding::Done,
                FleetEnding::StoppedByCanaries,
                FleetEnding::StoppedByBudget
            ]
            .into()
        );
        assert_eq!(
            kinds,
            [
                FaultKind::FleetUnreadableResult,
                FaultKind::FleetCaughtError,
                FaultKind::FleetDuplicateResult,
                FaultKind::FleetOutOfOrder
            ]
            .into()
        );
        assert_eq!(sizes.len(), 3, "{sizes:?}");
    }

    /// Each planted wrong step is caught, by the invariant that names what it broke.
    #[test]
    fn every_planted_wrong_step_breaks_its_invariant() {
        let expected = [
            (Plant::StopAtBudget, "fleet-stop-point"),
            (Plant::StopAtBudget, "fleet-budget"),
            (Plant::IgnoreCanaries, "fleet-canary-gate"),
            (Plant::CountDuplicates, "fleet-counts"),
            (Plant::UnreadableUnchanged, "fleet-counts"),
            (Plant::RefusalsCount, "fleet-counts"),
            (Plant::StartWithCanaries, "fleet-canary-gate"),
            (Plant::AbandonRunning, "fleet-stop-point"),
            (Plant::RestartRetried, "fleet-once"),
            (Plant::SummaryEachBatch, "fleet-once"),
        ];
        for plant in Plant::ALL {
            let seen = broken(Some(plant), 0..1000);
            for (_, invariant) in expected.iter().filter(|(p, _)| *p == plant) {
                assert!(
                    seen.get(invariant).copied().unwrap_or(0) > 0,
                    "{} went unseen by {invariant}: {seen:?}",
                    plant.as_str()
                );
            }
        }
        // Every invariant is named by some plant.
        for (name, _) in invariants::FLEET_INVARIANTS {
            assert!(
                expected.iter().any(|(_, i)| i == name),
                "no plant breaks {name}"
            );
        }
    }

    #[test]
    fn a_fleet_seed_replays_exactly() {
        for seed in [0, 7, 4242] {
            let (_, a, ra) = run_fleet(seed, None);
            let (_, b, rb) = run_fleet(seed, None);
            assert_eq!(a.steps, b.steps, "seed {seed}");
            assert_eq!(ra.violations, rb.violations);
        }
    }
}

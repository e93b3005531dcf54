//! A deterministic simulator of the whole gate.
//!
//! A deployment gate is judged by its worst interleaving, and every feature (retries, waves,
//! approvals, freezes, aborts) multiplies the orders in which things can happen. Hand-picked
//! tests check the orders someone thought of; this crate checks the others. One seed draws a
//! scenario (`scenario`): the stages as they stand, the execution input, and what the other
//! actors do and when. The run then goes through the real workflow (`asl`, read from the ASL
//! file at run time) with the real handlers over the rule-keeping fakes (`world`), on one virtual
//! clock, single-threaded, with faults injected at every step (`faults`). Afterwards the
//! invariants (`invariants`) are checked against what the fakes recorded.
//!
//! A seed replays its run exactly: `cargo xtask sim --seed S` prints its fault trace.
//!
//! Layout: `scenario` -> `world` (ports, clock, other actors) -> `run` (the workflow model and the
//! operator) -> `invariants`; `exec` drives a future without a runtime. `fleet` runs many games'
//! gates under one failure budget, on its own scenario, model and invariants.

pub mod asl;
pub mod exec;
pub mod faults;
pub mod fleet;
pub mod invariants;
pub mod run;
pub mod scenario;
pub mod world;

use std::collections::BTreeSet;

use gamesparks_local::rng::Rng;
use stagegate::handlers::start::Settings;
use stagegate::verdict::Verdict;
use time::Duration;

use crate::asl::Workflow;
use crate::faults::{Fault, FaultKind};
use crate::invariants::{Before, Violation};
use crate::run::{Ending, Record, Runner};
use crate::scenario::{Scenario, EARLIER_DAYS};
use crate::world::World;

/// One simulated run.
#[derive(Debug, Clone)]
pub struct Report {
    pub seed: u64,
    pub outcome: Option<Verdict>,
    pub ending: Ending,
    pub violations: Vec<Violation>,
    pub trace: Vec<Fault>,
    pub kinds: BTreeSet<FaultKind>,
    pub transitions: u32,
    /// GameSparks' deployments at the end, oldest first (for a failing run's explanation).
    pub deployments: Vec<String>,
}

impl Report {
    /// What a failing run prints: enough to replay and understand it.
    pub fn explain(&self, scenario: &Scenario) -> String {
        let mut out = format!(
            "seed {} ({}): ended {:?}, outcome {}\n",
            self.seed,
            scenario.execution_name,
            self.ending,
            self.outcome.map_or("none", Verdict::as_str)
        );
        out.push_str(&format!("  input: {}\n", scenario.input()));
        for v in &self.violations {
            out.push_str(&format!("  VIOLATED {}: {}\n", v.invariant, v.detail));
        }
        out.push_str("  fault schedule:\n");
        for f in &self.trace {
            out.push_str(&format!(
                "    {} {:<28} {}\n",
                stagegate::timefmt::rfc3339(f.at),
                f.kind.as_str(),
                f.what
            ));
        }
        out.push_str("  GameSparks deployments (oldest first):\n");
        for d in &self.deployments {
            out.push_str(&format!("    {d}\n"));
        }
        out.push_str(&format!("  replay: cargo xtask sim --seed {}\n", self.seed));
        out
    }
}

/// Runs the scenario of `seed` through `workflow` and checks the invariants.
pub fn run_seed(seed: u64, workflow: &Workflow) -> (Scenario, Report) {
    let scenario = Scenario::draw(seed);
    let report = run_scenario(&scenario, workflow);
    (scenario, report)
}

pub fn run_scenario(scenario: &Scenario, workflow: &Workflow) -> Report {
    let settings = Settings::default();
    let earlier_start = scenario.start - Duration::days(EARLIER_DAYS);
    let world = World::new(
        scenario.game(),
        earlier_start,
        Rng::new(scenario.seed, 0x3041d),
        scenario.fate_mix,
    );
    for s in &scenario.stages {
        if let Some(alarm) = &s.alarm {
            world
                .alarms
                .set(alarm, "OK", earlier_start - Duration::days(1));
        }
    }
    // The run with the same name months earlier: faults off, its own input; what it leaves
    // behind (tokens, an abort request) is the setting of this one.
    if let Some(aborted) = scenario.earlier {
        let mut earlier = scenario.clone();
        earlier.stages.truncate(1);
        earlier.wave = false;
        earlier.latest = false;
        earlier.resolved = scenario::S_OTHER.to_owned();
        earlier.freezes.clear();
        earlier.answers.clear();
        if let Some(s) = earlier.stages.first_mut() {
            s.approval_seconds = None;
            s.alarm = None;
        }
        earlier.abort_at = aborted.then(|| earlier_start + Duration::seconds(20));
        earlier.other_abort_at = None;
        let runner = Runner {
            world: &world,
            workflow,
            settings: &settings,
            faults: false,
        };
        let rec = runner.execute(&earlier, &scenario.execution_arn, &scenario.execution_name);
        world.note(
            FaultKind::SameNameEarlier,
            format!(
                "{} ran {EARLIER_DAYS} days earlier{} and ended {:?}",
                scenario.execution_name,
                if aborted {
                    ", aborted while it deployed,"
                } else {
                    ""
                },
                rec.ending
            ),
        );
    }
    world.clock.set(scenario.start);
    world.settle();
    for (at, event) in &scenario.events {
        world.schedule(*at, event.clone());
    }
    if let Some((from, to)) = scenario.sns_outage {
        world.sns_outage(from, to);
    }
    for (from, to) in &scenario.freezes {
        if (*from - scenario.start).whole_seconds().abs() < 180 {
            world.note(
                FaultKind::FreezeBoundary,
                format!(
                    "freeze [{}, {})",
                    stagegate::timefmt::rfc3339(*from),
                    stagegate::timefmt::rfc3339(*to)
                ),
            );
        }
    }
    world.set_faults(
        scenario.throttle_per_mille,
        scenario.finish_early_per_mille,
        scenario.stop_per_mille,
        scenario.refuse_per_mille,
    );
    let before = Before {
        messages: world.sns.published().len(),
    };
    let runner = Runner {
        world: &world,
        workflow,
        settings: &settings,
        faults: true,
    };
    let record: Record =
        runner.execute(scenario, &scenario.execution_arn, &scenario.execution_name);
    // Let whatever the gate left running end, so the invariants see GameSparks settled.
    world.clock.advance(Duration::days(2));
    world.settle();
    let violations = invariants::check(scenario, &world, &record, &before);
    let deployments = if violations.is_empty() {
        vec![]
    } else {
        let others = world.others();
        world
            .gs
            .all_deployments()
            .iter()
            .rev()
            .map(|(stage, d)| {
                format!(
                    "{} {stage} {} {:?} {} {} created {} ended {}{}",
                    d.id,
                    d.snapshot_id.as_deref().unwrap_or("?"),
                    d.action,
                    d.state,
                    d.result_code.as_ref().map_or("-", |c| c.as_str()),
                    d.created.map_or("?".into(), stagegate::timefmt::rfc3339),
                    d.last_updated
                        .map_or("?".into(), stagegate::timefmt::rfc3339),
                    if others.contains_key(&d.id) {
                        " (another run)"
                    } else {
                        ""
                    }
                )
            })
            .collect()
    };
    let trace = world.trace();
    let kinds = trace.iter().map(|f| f.kind).collect();
    let outcome = world
        .sns
        .messages()
        .iter()
        .skip(before.messages)
        .map(|m| m.outcome)
        .rfind(|o| *o != Verdict::AwaitingApproval);
    Report {
        seed: scenario.seed,
        outcome,
        ending: record.ending,
        violations,
        trace,
        kinds,
        transitions: record.transitions,
        deployments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeMap;

    fn doc() -> Value {
        let text = std::fs::read_to_string(asl::default_path()).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// What the simulator observes over some seeds: outcomes and broken invariants.
    fn observed(workflow: &Workflow, seeds: std::ops::Range<u64>) -> BTreeMap<String, u64> {
        let mut seen = BTreeMap::new();
        for seed in seeds {
            let (_, r) = run_seed(seed, workflow);
            let outcome = r.outcome.map_or("none", Verdict::as_str).to_owned();
            *seen.entry(outcome).or_default() += 1;
            for v in r.violations {
                *seen.entry(format!("violated {}", v.invariant)).or_default() += 1;
            }
        }
        seen
    }

    /// The simulator runs the workflow file it is given, not a copy: one error name removed from
    /// a Retry, or one Catch removed, changes what it observes.
    #[test]
    fn the_simulator_sees_every_retry_and_catch_of_the_asl() {
        let original = Workflow::parse(&doc()).unwrap_or_else(|e| panic!("{e}"));
        let base = observed(&original, 0..600);

        let mut no_retry = doc();
        if let Some(errors) = no_retry["States"]["Start"]["Retry"][0]["ErrorEquals"].as_array_mut()
        {
            errors.retain(|e| e != "States.Timeout");
        }
        let no_retry = Workflow::parse(&no_retry).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(
            observed(&no_retry, 0..600),
            base,
            "Start retrying States.Timeout or not"
        );

        let mut no_catch = doc();
        if let Some(start) = no_catch["States"]["Start"].as_object_mut() {
            start.remove("Catch");
        }
        let no_catch = Workflow::parse(&no_catch).unwrap_or_else(|e| panic!("{e}"));
        let without = observed(&no_catch, 0..600);
        assert!(
            without.get("violated ends").copied().unwrap_or(0) > 0,
            "Start without its Catch: some run must end with an uncaught error: {without:?}"
        );
    }

    #[test]
    fn a_seed_replays_its_run_exactly() {
        let workflow = Workflow::parse(&doc()).unwrap_or_else(|e| panic!("{e}"));
        for seed in [3, 102, 1809] {
            let (_, a) = run_seed(seed, &workflow);
            let (_, b) = run_seed(seed, &workflow);
            let trace = |r: &Report| {
                r.trace
                    .iter()
                    .map(|f| format!("{} {:?} {}", f.at, f.kind, f.what))
                    .collect::<Vec<_>>()
            };
            assert_eq!(trace(&a), trace(&b), "seed {seed}");
            assert_eq!((a.outcome, a.transitions), (b.outcome, b.transitions));
            assert_eq!(a.violations, b.violations);
        }
    }
}

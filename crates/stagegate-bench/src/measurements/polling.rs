//! Polling efficiency, measured on the simulation (`sim`): every strategy over the same
//! simulated deployments, priced with the warm figures the runtime measured, and fixed 10 s vs
//! adaptive over other within-stage spreads. No processes, no real time.

use std::collections::BTreeMap;

use crate::adaptive::AdaptiveParams;
use crate::results::{Scenario, Sensitivity};
use crate::sim::{self, CostInputs, Model, StrategyResult};
use crate::stats::round;

/// The simulation's outcome (unrounded; `assemble` rounds for the file).
#[derive(Debug, Clone)]
pub struct Polling {
    pub model: Model,
    pub cost: CostInputs,
    /// Strategy names, in the order they are reported.
    pub order: Vec<String>,
    pub results: BTreeMap<String, StrategyResult>,
    pub sensitivity: Vec<Sensitivity>,
}

/// Simulates `deployments` deployments under every strategy.
pub fn simulate(deployments: usize, cost: CostInputs) -> Polling {
    let model = Model {
        deployments: deployments.max(1),
        ..Model::default()
    };
    let ds = sim::deployments(&model);
    let strategies = sim::strategies();
    Polling {
        order: strategies.iter().map(sim::Strategy::name).collect(),
        results: strategies
            .iter()
            .map(|s| (s.name(), sim::evaluate(s, &ds, &model, &cost)))
            .collect(),
        sensitivity: sensitivity(&model, &cost),
        model,
        cost,
    }
}

/// Fixed 10 s vs adaptive over other within-stage spreads, in the base model and in a clean one
/// (no failures or slow outliers, full history everywhere).
fn sensitivity(base: &Model, cost: &CostInputs) -> Vec<Sensitivity> {
    let mut out = vec![];
    for scenario in [Scenario::Base, Scenario::Clean] {
        for sd in [0.05, 0.10, 0.15, 0.25] {
            let m = match scenario {
                Scenario::Base => Model {
                    within_log_sd: sd,
                    ..*base
                },
                // No failures, no slow outliers, every stage has its full history.
                Scenario::Clean => Model {
                    within_log_sd: sd,
                    fail_fast_rate: 0.0,
                    fail_mid_rate: 0.0,
                    slow_rate: 0.0,
                    no_history_rate: 0.0,
                    short_history_rate: 0.0,
                    ..*base
                },
            };
            let ds = sim::deployments(&m);
            let fixed = sim::evaluate(&sim::Strategy::Fixed(10), &ds, &m, cost);
            let adaptive = sim::evaluate(
                &sim::Strategy::Adaptive(AdaptiveParams::default()),
                &ds,
                &m,
                cost,
            );
            out.push(Sensitivity {
                within_log_sd: sd,
                scenario,
                fixed_10s_transitions_mean: round(fixed.transitions_mean, 2),
                fixed_10s_latency_s_p95: round(fixed.detection_latency_s_p95, 2),
                adaptive_transitions_mean: round(adaptive.transitions_mean, 2),
                adaptive_latency_s_p95: round(adaptive.detection_latency_s_p95, 2),
                transitions_ratio: round(adaptive.transitions_mean / fixed.transitions_mean, 3),
            });
        }
    }
    out
}

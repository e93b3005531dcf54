//! stagegate: the deployment gate's functions, on top of `stagegate-core`'s decisions.
//!
//! - `ports`: the three traits the handlers need (`StageDeployments`, `Alarms`, `Notifier`),
//!   with `fakes` beside them (in-memory, keeping GameSparks' rules) and `aws`, the adapters to
//!   the real SDKs.
//! - `handlers`: one per function (start, poll, rollback, notify), combining the core's decisions
//!   over the ports; `error` turns their failures into stable `errorType` names.
//! - the edges each `main.rs` wires: `preflight`, `telemetry`, `startup`, `clock`.
//!
//! The core's modules are re-exported here under their own names (`stagegate::policy`, ...), so
//! callers need one dependency.

pub mod aws;
pub mod clock;
pub mod error;
pub mod handlers;
pub mod paging;
pub mod ports;
pub mod preflight;
pub mod startup;
pub mod telemetry;

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;

pub use error::GateError;
pub use stagegate_core::{
    advance, approval, backoff, bake, budget, classify, deployment, errortype, evidence, explain,
    fields, fleet, fleet_run, fleet_summary, freeze, history, input, message, metrics,
    notification, plan, policy, record, replay, starting, state, story, tally, timefmt, token,
    verdict, wave,
};

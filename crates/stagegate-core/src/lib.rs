//! stagegate-core: what the deployment gate decides, with no AWS types, no I/O and the time
//! passed in. Every decision is a plain function over plain data, tested here without the SDK.
//!
//! The flow of a run, folder by folder (each module is also re-exported at the crate root, so
//! `stagegate_core::classify` and `stagegate_core::decide::classify` name the same module):
//!
//! - **input/**: the execution input (`input`, every error naming its field), `fields` (the API
//!   model's rules), `token` (idempotent ClientTokens), `fleet` (many games under one budget).
//! - **decide/**: `classify` (what a deployment's state means, against the deadline), `policy`
//!   (what a failure leads to: the next `Action`), `backoff` (the next wait, with deterministic
//!   jitter), `bake` (alarm checks of a bake window), `history` ("latest", what serves, the last
//!   known-good snapshot), `plan` (dry runs), `wave` (promotion waves), `advance` (what follows a
//!   deployed stage), `approval` and `freeze` (operator control), `starting` (whether a stage
//!   starts: a step function over the facts the start read), `budget`, `fleet_run` and `tally` (a
//!   fleet of gates under one failure budget, batch by batch).
//! - **state/**: the gate state the workflow carries between tasks (`state`), `deployment`
//!   (GameSparks' deployment and snapshot, as the gate sees them), `evidence` (the decision
//!   record: each decision with the facts it was taken on, bounded), `timefmt`.
//! - **explain/**: `replay` (today's core re-decides a run's recorded decisions, or a proposed
//!   policy does: a what-if) and `story` (the run told decision by decision).
//! - **message/**: the SNS message's body, the published contract (`message`), `verdict` (what the
//!   run amounted to), `notification` (renders the message, subject and attributes), `metrics`
//!   (the run's EMF record and cost), `fleet_summary` (the one message a fleet run ends with),
//!   `errortype` (the stable `errorType` names the workflow
//!   catches).
//! - **record/**: the durable decision record notify-result writes to S3 (`record`: what it holds
//!   and its key), and `chain`, which checks a stage's records for edits, gaps and forks.
//!
//! The handlers that combine these over the ports, and the AWS adapters, are in `stagegate`.

pub mod decide;
pub mod explain;
pub mod input;
pub mod message;
pub mod record;
#[cfg(feature = "schema")]
pub mod schema;
pub mod state;

pub use decide::{
    advance, approval, backoff, bake, budget, classify, fleet_run, freeze, history, plan, policy,
    starting, tally, wave,
};
pub use explain::{replay, story};
pub use input::{fields, fleet, token};
pub use message::{errortype, fleet_summary, metrics, notification, verdict};
pub use record::chain;
pub use state::{deployment, evidence, timefmt};

#[cfg(test)]
mod fleet_contract;
#[cfg(test)]
mod layering;
#[cfg(test)]
mod template_contract;
#[cfg(test)]
mod workflow_contract;

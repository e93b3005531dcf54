//! stagegate-core: what the deployment gate decides, with no AWS types, no I/O and the time
//! passed in. Every decision is a plain function over plain data, tested here without the SDK.
//!
//! The flow of a run, module by module:
//!
//! - **input**: `fields` (the API model's rules), `input` (the execution input, every error
//!   naming its field), `token` (idempotent ClientTokens).
//! - **decide**: `classify` (what a deployment's state means, against the deadline), `policy`
//!   (what a failure leads to: the next `Action`), `backoff` (the next wait, with deterministic
//!   jitter), `bake` (alarm checks of a bake window), `history` ("latest", what serves, the last
//!   known-good snapshot), `plan` (dry runs), `wave` (promotion waves' types), `advance` (what
//!   follows a deployed stage).
//! - **state**: `deployment` (GameSparks' deployment and snapshot, as the gate sees them),
//!   `state` (the gate state the workflow carries between tasks), `timefmt`.
//! - **message**: `verdict` (what the run amounted to), `message` (the SNS message's body, the
//!   published contract), `notification` (renders it, with the subject and attributes),
//!   `errortype` (the stable `errorType` names the workflow catches).
//!
//! The handlers that combine these over the ports, and the AWS adapters, are in `stagegate`.

pub mod advance;
pub mod approval;
pub mod backoff;
pub mod bake;
pub mod classify;
pub mod deployment;
pub mod errortype;
pub mod fields;
pub mod freeze;
pub mod history;
pub mod input;
pub mod message;
pub mod metrics;
pub mod notification;
pub mod plan;
pub mod policy;
#[cfg(feature = "schema")]
pub mod schema;
pub mod state;
pub mod timefmt;
pub mod token;
pub mod verdict;
pub mod wave;

#[cfg(test)]
mod layering;
#[cfg(test)]
mod workflow_contract;

//! stagegate: a deployment gate for GameSparks stages.
//!
//! The decision modules (`fields`, `input`, `policy`, `classify`, `backoff`, `bake`, `wave`, `plan`,
//! `token`, `history`, `verdict`, `notification`) are pure: no AWS types, no I/O, the time passed in. The handlers
//! combine them over three ports (`ports::StageDeployments`, `ports::Alarms`, `ports::Notifier`); `aws` holds the
//! adapters for the real SDKs. Each Lambda's `main.rs` only wires these together.

pub mod advance;
pub mod aws;
pub mod backoff;
pub mod bake;
pub mod classify;
pub mod clock;
pub mod deployment;
pub mod error;
pub mod fields;
pub mod handlers;
pub mod history;
pub mod input;
pub mod notification;
pub mod paging;
pub mod plan;
pub mod policy;
pub mod ports;
pub mod preflight;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod timefmt;
pub mod token;
pub mod verdict;
pub mod wave;

#[cfg(test)]
mod layering;
#[cfg(test)]
mod workflow_contract;

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;

pub use error::GateError;

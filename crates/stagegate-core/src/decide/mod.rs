//! Decide: what each observation means and what the run does next. Every function here takes the
//! time and the facts as arguments and returns a decision; the handlers in `stagegate` fetch the
//! facts through their ports and carry the decision out.
//!
//! - `classify`: what a deployment's state means against its deadline.
//! - `policy`: what a failure leads to (the next `Action`); `advance`: what follows a deployed stage.
//! - `backoff`: the next wait, with deterministic jitter; `bake`: a bake window's alarm checks.
//! - `history`: "latest", what serves a stage, its last known-good snapshot.
//! - `plan`: a dry run's plan; `wave`: promotion waves.
//! - `approval`, `freeze`: a person's answer and abort, and the windows no stage may start in.
//! - `budget`: a fleet's batches (canaries first) and, between batches, whether its failure
//!   budget lets the next one start; `fleet_run`: a fleet run's plan (batch objects, child names,
//!   staggered starts) and its counts between batches; `tally`: what each game's gate ended as, read from its
//!   child execution's result.
//! - `starting`: whether a stage starts (reattach, aborted, frozen, unchanged, alarm firing,
//!   approval first, deploy), as a step function that names the fact it still needs.

pub mod advance;
pub mod approval;
pub mod backoff;
pub mod bake;
pub mod budget;
pub mod classify;
pub mod fleet_run;
pub mod freeze;
pub mod history;
pub mod plan;
pub mod policy;
pub mod starting;
pub mod tally;
pub mod wave;

//! Explain and replay: what a finished (or running) gate state's decision record
//! (`state::evidence`) says, read back.
//!
//! - `replay`: re-decides every recorded decision with today's core, on the recorded facts alone,
//!   optionally under another policy (a what-if), and names each decision that would differ.
//! - `story`: the run as a person reads it: each decision, its evidence, the rule that applied.
//!
//! Both are pure: the CLI finds the state (in an execution's history, or in a file) and prints.

pub mod replay;
pub mod story;

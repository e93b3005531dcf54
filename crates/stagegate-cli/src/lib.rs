//! The `stagegate` command's library: following an execution (`follow`; when it stops waiting:
//! `deadline`; which failures it rides out: `retry`), the lines a person sees
//! (`progress`), answering approvals and aborting (`operator`), a game's stages at a glance
//! (`status`), whether a stage's decision records are whole (`audit`), what a history says about a run's present (`steps`), and the two readers the
//! workspace tests share with it, so the CLI and the e2e and soak tiers read a run the same way:
//! an execution's history (`history`) and a notification as the topic's SQS subscriber receives
//! it (`envelope`); and what `--output json` prints (`output`), which scripts and the e2e tier
//! parse with the same types.
//! Before any of that: what the person named (`target`: an execution by name or
//! ARN, checked for its kind), the input (`source`), the one AWS configuration every command
//! loads (`aws`: profile, region, timeouts), the fix a failure needs (`errors`), and what is
//! generated from the clap definitions (`manual`: completions, the man page). A run's decisions
//! read back: `explain` tells them, `replay` re-decides them, both from the newest gate state of
//! a history (`saved`, from Step Functions or a file). Many games under one failure budget:
//! `fleet` starts a run of the fleet state machine and reads where it stands.

pub mod audit;
pub mod aws;
pub mod cli;
pub mod deadline;
pub mod envelope;
pub mod errors;
pub mod exit;
pub mod explain;
pub mod fleet;
pub mod follow;
pub mod history;
pub mod manual;
pub mod operator;
pub mod output;
pub mod progress;
pub mod reference;
pub mod replay;
pub mod retry;
pub mod saved;
pub mod source;
pub mod status;
pub mod steps;
pub mod target;
pub mod validate;

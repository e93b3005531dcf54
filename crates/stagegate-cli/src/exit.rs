//! The exit codes: one per class of ending a script acts on differently. The classes of a gate's
//! outcome are the core's (`Verdict::ending`, derived from its one decision of which outcomes need
//! a person), so an exit code, a page and a fleet's budget never disagree about an outcome. The
//! codes are part of the CLI's contract: `--help`, the man page and docs/cli.md print this table.

use stagegate::verdict::{Ending, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The snapshot serves the stage (deployed or unchanged), a dry run found the way clear, or
    /// the command did what it was asked (an answer delivered, a report printed, a valid input).
    Done,
    /// The gate ended in a way someone must act on (FAILED, TIMED_OUT, ROLLBACK_FAILED, BLOCKED,
    /// BAKE_FAILED, ERROR), or the execution stopped outside the gate's own endings; or `replay`
    /// found a past decision that would be taken differently.
    NeedsPerson,
    /// The command itself failed: arguments, an invalid input (nothing started), AWS access.
    Error,
    /// The deployment failed and the stage was rolled back to its last known-good snapshot.
    RolledBack,
    /// The gate refused or stopped as configured or asked, deploying nothing of this run:
    /// FROZEN, REJECTED, APPROVAL_TIMED_OUT, ABORTED, DRY_RUN_BLOCKED.
    Refused,
    /// The CLI stopped waiting (its timeout, or `--no-follow`'s counterpart `follow` giving up)
    /// while the execution goes on; `fleet status` of a fleet that still runs.
    StillRunning,
}

impl Exit {
    pub const ALL: [Self; 6] = [
        Self::Done,
        Self::NeedsPerson,
        Self::Error,
        Self::RolledBack,
        Self::Refused,
        Self::StillRunning,
    ];

    pub fn code(self) -> u8 {
        match self {
            Self::Done => 0,
            Self::NeedsPerson => 1,
            Self::Error => 2,
            Self::RolledBack => 3,
            Self::Refused => 4,
            Self::StillRunning => 5,
        }
    }

    /// The name scripts read in `--output json` (`exitClass`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "DONE",
            Self::NeedsPerson => "NEEDS_PERSON",
            Self::Error => "ERROR",
            Self::RolledBack => "ROLLED_BACK",
            Self::Refused => "REFUSED",
            Self::StillRunning => "STILL_RUNNING",
        }
    }

    /// What the code means, without the verdicts it covers (`verdicts`).
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Done => {
                "succeeded, unchanged or a clear dry run; or the command did what it was asked"
            }
            Self::NeedsPerson => {
                "the gate ended in a way someone must act on, or the execution was stopped outside \
                 it; or a replay found a decision that would be taken differently; or a fleet \
                 stopped at its failure budget or ended without its summary"
            }
            Self::Error => {
                "the command failed: arguments, an invalid input (nothing started), AWS access"
            }
            Self::RolledBack => "the deployment failed and the stage was rolled back",
            Self::Refused => {
                "refused or stopped as configured or asked; nothing of this run deployed; or a \
                 fleet whose input the workflow refused, no game started"
            }
            Self::StillRunning => "stopped waiting, or a fleet still runs; the execution goes on",
        }
    }

    /// The gate's verdicts that end with this code, from the core's classes.
    pub fn verdicts(self) -> Vec<&'static str> {
        Verdict::ALL
            .into_iter()
            .filter(|v| Self::of(v.ending()) == self)
            .map(Verdict::as_str)
            .collect()
    }

    /// The code for a gate's ending.
    pub fn of(ending: Ending) -> Self {
        match ending {
            Ending::Succeeded => Self::Done,
            Ending::Refused => Self::Refused,
            Ending::RolledBack => Self::RolledBack,
            Ending::NeedsPerson => Self::NeedsPerson,
            Ending::Pending => Self::StillRunning,
        }
    }

    /// The code for an execution that ended: its verdict when the gate reached one (the
    /// notification's outcome, or the Fail state's `StageGate.<VERDICT>` error), else (stopped by
    /// StopExecution, timed out by Step Functions, an error outside the gate's) a person's.
    pub fn of_execution(verdict: Option<Verdict>) -> Self {
        verdict.map_or(Self::NeedsPerson, |v| Self::of(v.ending()))
    }

    /// The table `--help` and the man page print.
    pub fn table() -> String {
        let mut text = String::from("Exit status:\n");
        for exit in Self::ALL {
            let verdicts = exit.verdicts();
            let listed = if verdicts.is_empty() {
                String::new()
            } else {
                format!(" ({})", verdicts.join(", "))
            };
            text.push_str(&format!("  {}  {}{listed}\n", exit.code(), exit.meaning()));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_its_own_code() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn each_verdict_exits_with_its_class() {
        let table: Vec<(&str, u8)> = Verdict::ALL
            .into_iter()
            .map(|v| (v.as_str(), Exit::of_execution(Some(v)).code()))
            .collect();
        assert_eq!(
            table,
            [
                ("SUCCEEDED", 0),
                ("FAILED", 1),
                ("TIMED_OUT", 1),
                ("ROLLED_BACK", 3),
                ("ROLLBACK_FAILED", 1),
                ("BLOCKED", 1),
                ("UNCHANGED", 0),
                ("BAKE_FAILED", 1),
                ("DRY_RUN", 0),
                ("DRY_RUN_BLOCKED", 4),
                ("ERROR", 1),
                ("REJECTED", 4),
                ("APPROVAL_TIMED_OUT", 4),
                ("ABORTED", 4),
                ("AWAITING_APPROVAL", 5),
                ("FROZEN", 4),
            ]
        );
        // Stopped outside the gate (StopExecution, a Step Functions timeout): nobody knows what
        // the stage serves.
        assert_eq!(Exit::of_execution(None), Exit::NeedsPerson);
    }

    #[test]
    fn the_table_names_every_code_once() {
        let table = Exit::table();
        for exit in Exit::ALL {
            assert_eq!(
                table.matches(&format!("  {}  ", exit.code())).count(),
                1,
                "{table}"
            );
        }
    }

    /// `cargo xtask demo` fails a scenario whose exit code is not the one in its table; xtask
    /// does not link this crate, so its table is read here and held to the classes.
    #[test]
    fn the_demo_expects_each_scenarios_class_code() {
        let demo = include_str!("../../../xtask/src/demo.rs");
        let field = |block: &str, name: &str| -> Option<String> {
            let rest = &block[block.find(&format!("\n        {name}: "))? + name.len() + 11..];
            Some(rest[..rest.find(",\n")?].trim_matches('"').to_owned())
        };
        let table: Vec<(String, String, String)> = demo
            .split("    Scenario {")
            .skip(1)
            .map(|block| {
                let get = |name| field(block, name).unwrap_or_else(|| panic!("{name}: {block}"));
                (get("name"), get("expect"), get("exit_code"))
            })
            .collect();
        assert!(table.len() >= 6, "{table:?}");
        for (name, expect, code) in table {
            // `SUCCEEDED` is the execution's status: the gate's own success.
            let verdict = Verdict::from_name(&expect);
            assert!(verdict.is_some(), "{name}: {expect} is no verdict");
            assert_eq!(
                code,
                Exit::of_execution(verdict).code().to_string(),
                "scenario {name} ({expect})"
            );
        }
    }
}

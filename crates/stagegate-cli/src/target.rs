//! Which execution or state machine a command means, from what a person types: an execution's
//! name (what `stagegate status` shows) with the gate's state machine, or an ARN. Pure, and run
//! before any client exists: a state machine ARN where an execution is expected (or the
//! reverse, or an ARN of another service) is the most common slip when copying from the console,
//! and Step Functions would answer it with a bare validation error after the credentials and
//! region were already resolved. The region an ARN names is read here too, for the loader
//! (`aws`), so a command given an ARN needs no region of its own.

use std::fmt;

/// What a Step Functions ARN names (its resource type), as far as the gate cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    StateMachine,
    Execution,
    /// Any other resource of Step Functions: an activity, a map run, ...
    Other,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::StateMachine => "a state machine ARN",
            Self::Execution => "an execution ARN",
            Self::Other => "a Step Functions ARN of another kind",
        })
    }
}

/// A Step Functions ARN, split: `arn:PARTITION:states:REGION:ACCOUNT:TYPE:NAME[:...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub region: &'a str,
    pub kind: Kind,
    /// Everything after the resource type (`gate` or `gate:run-1`).
    pub resource: &'a str,
}

/// `text` as a Step Functions ARN, or why it is not one.
pub fn parse(text: &str) -> Result<Arn<'_>, String> {
    let parts: Vec<&str> = text.splitn(7, ':').collect();
    let [arn, partition, service, region, account, kind, resource] = parts[..] else {
        return Err(format!("`{text}` is not an ARN"));
    };
    if arn != "arn" || partition.is_empty() {
        return Err(format!("`{text}` is not an ARN"));
    }
    if service != "states" {
        return Err(format!(
            "`{text}` is an ARN of `{service}`, not of Step Functions (`states`)"
        ));
    }
    if region.is_empty() || account.is_empty() || resource.is_empty() {
        return Err(format!(
            "`{text}` is not a complete Step Functions ARN (expected \
             arn:PARTITION:states:REGION:ACCOUNT:TYPE:NAME)"
        ));
    }
    let kind = match kind {
        // Versions and aliases (`gate:3`, `gate:prod`) are state machines too.
        "stateMachine" => Kind::StateMachine,
        // `execution:MACHINE:NAME`; an Express workflow's adds its run id.
        "execution" | "express" if resource.contains(':') => Kind::Execution,
        _ => Kind::Other,
    };
    Ok(Arn {
        region,
        kind,
        resource,
    })
}

/// `text`, checked to be `expected`: otherwise a message saying what `flag` was given instead.
pub fn expect<'a>(text: &'a str, expected: Kind, flag: &str) -> Result<Arn<'a>, String> {
    let arn = parse(text).map_err(|e| format!("{flag}: {e}; expected {expected}"))?;
    if arn.kind == expected {
        return Ok(arn);
    }
    let example = match expected {
        Kind::StateMachine => "arn:aws:states:REGION:ACCOUNT:stateMachine:NAME",
        _ => "arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME",
    };
    let hint = match (expected, arn.kind) {
        (Kind::Execution, Kind::StateMachine) => {
            " (to name a run of this state machine, give its execution name, as `stagegate \
             status` lists it, with --state-machine-arn)"
        }
        (Kind::StateMachine, Kind::Execution) => {
            " (the state machine is the part before the execution's name, with `:execution:` \
             read as `:stateMachine:`)"
        }
        _ => "",
    };
    Err(format!(
        "{flag} is {} (`{text}`); expected {expected}, {example}{hint}",
        arn.kind
    ))
}

/// The state machine an execution name is resolved against, as a message names it.
pub struct Machine {
    /// Its option, e.g. `--state-machine-arn`.
    pub flag: &'static str,
    /// Its environment variable.
    pub var: &'static str,
    /// What it is, e.g. "the gate's state machine".
    pub what: &'static str,
}

/// The gate's state machine: `--state-machine-arn` / STATE_MACHINE_ARN.
pub const GATE: Machine = Machine {
    flag: "--state-machine-arn",
    var: "STATE_MACHINE_ARN",
    what: "the gate's state machine",
};

/// The execution an `--execution` value means: an execution ARN as given, or a name of a run of
/// `state_machine` (`--state-machine-arn` / STATE_MACHINE_ARN). Step Functions names an execution
/// after its state machine: `:stateMachine:MACHINE` becomes `:execution:MACHINE:NAME`.
pub fn execution_arn(execution: &str, state_machine: Option<&str>) -> Result<String, String> {
    execution_arn_of(execution, state_machine, &GATE)
}

/// `execution_arn`, for a run of `machine` (the gate's, or the fleet's).
pub fn execution_arn_of(
    execution: &str,
    state_machine: Option<&str>,
    machine: &Machine,
) -> Result<String, String> {
    let execution = execution.trim();
    if execution.starts_with("arn:") {
        return expect(execution, Kind::Execution, "--execution").map(|_| execution.to_owned());
    }
    check_name("--execution", execution)?;
    let Some(given) = state_machine.map(str::trim).filter(|m| !m.is_empty()) else {
        return Err(format!(
            "--execution {execution} is a name: give {} with {} (or {}), or the execution's ARN",
            machine.what, machine.flag, machine.var
        ));
    };
    let arn = expect(given, Kind::StateMachine, machine.flag)?;
    // A version or an alias (`gate:3`) runs executions of the state machine itself.
    let machine_name = arn.resource.split(':').next().unwrap_or(arn.resource);
    let prefix = given
        .strip_suffix(arn.resource)
        .and_then(|p| p.strip_suffix("stateMachine:"))
        .unwrap_or_default();
    Ok(format!("{prefix}execution:{machine_name}:{execution}"))
}

/// What Step Functions accepts as an execution name, so a pasted half-ARN or a typo with a space
/// is refused here rather than as ExecutionDoesNotExist (or, for a name to start, as a bare
/// InvalidName); `flag` names the option in the message.
pub fn check_name(flag: &str, name: &str) -> Result<(), String> {
    const REFUSED: &[char] = &[
        ' ', '<', '>', '{', '}', '[', ']', '?', '*', '"', '#', '%', '\\', '^', '|', '~', '`', '$',
        '&', ',', ';', ':', '/',
    ];
    if name.is_empty() || name.chars().count() > 80 {
        return Err(format!(
            "{flag} `{name}`: an execution name has 1 to 80 characters"
        ));
    }
    match name
        .chars()
        .find(|c| REFUSED.contains(c) || c.is_control() || c.is_whitespace())
    {
        Some(c) => Err(format!(
            "{flag} `{name}` is neither an execution ARN nor an execution name (a name has \
             no {c:?})"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACHINE: &str = "arn:aws:states:eu-west-1:123456789012:stateMachine:gate";
    const RUN: &str = "arn:aws:states:eu-west-1:123456789012:execution:gate:run-1";

    #[test]
    fn a_name_and_the_state_machine_make_the_execution_arn() {
        assert_eq!(execution_arn("run-1", Some(MACHINE)).as_deref(), Ok(RUN));
        // A version or alias of the machine names runs of the machine itself.
        assert_eq!(
            execution_arn("run-1", Some(&format!("{MACHINE}:prod"))).as_deref(),
            Ok(RUN)
        );
        let china = "arn:aws-cn:states:cn-north-1:1:stateMachine:gate";
        assert_eq!(
            execution_arn("r", Some(china)).as_deref(),
            Ok("arn:aws-cn:states:cn-north-1:1:execution:gate:r")
        );
        // An ARN is taken as given, whatever the state machine.
        assert_eq!(execution_arn(RUN, None).as_deref(), Ok(RUN));
    }

    #[test]
    fn a_name_without_a_state_machine_says_what_to_add() {
        let refused = execution_arn("run-1", None).err().unwrap_or_default();
        assert!(refused.contains("--state-machine-arn"), "{refused}");
        assert!(refused.contains("STATE_MACHINE_ARN"), "{refused}");
    }

    #[test]
    fn the_wrong_kind_of_arn_says_which_was_given_and_what_is_expected() {
        let refused = execution_arn(MACHINE, None).err().unwrap_or_default();
        assert!(
            refused.starts_with(&format!(
                "--execution is a state machine ARN (`{MACHINE}`); expected an execution ARN"
            )),
            "{refused}"
        );
        let refused = execution_arn("run-1", Some(RUN)).err().unwrap_or_default();
        assert!(
            refused.starts_with(&format!(
                "--state-machine-arn is an execution ARN (`{RUN}`); expected a state machine ARN"
            )),
            "{refused}"
        );
        let lambda = "arn:aws:lambda:eu-west-1:1:function:start";
        let refused = expect(lambda, Kind::Execution, "--execution")
            .err()
            .unwrap_or_default();
        assert!(
            refused.contains("an ARN of `lambda`, not of Step Functions"),
            "{refused}"
        );
        let activity = "arn:aws:states:eu-west-1:1:activity:wait";
        let refused = expect(activity, Kind::StateMachine, "--state-machine-arn")
            .err()
            .unwrap_or_default();
        assert!(
            refused.contains("is a Step Functions ARN of another kind"),
            "{refused}"
        );
        assert!(expect("arn:aws:states:eu-west-1", Kind::Execution, "--execution").is_err());
    }

    #[test]
    fn what_is_neither_a_name_nor_an_arn_is_refused() {
        for bad in ["", "run 1", "gate:run-1", "a/b", &"x".repeat(81)] {
            assert!(
                execution_arn(bad, Some(MACHINE)).is_err(),
                "{bad:?} was taken as a name"
            );
        }
        assert!(execution_arn(&"x".repeat(80), Some(MACHINE)).is_ok());
    }

    #[test]
    fn the_region_is_read_from_either_kind() {
        assert_eq!(parse(MACHINE).map(|a| a.region), Ok("eu-west-1"));
        assert_eq!(
            parse(RUN).map(|a| (a.region, a.kind)),
            Ok(("eu-west-1", Kind::Execution))
        );
        let express = "arn:aws:states:us-east-2:1:express:gate:run:0f1e";
        assert_eq!(parse(express).map(|a| a.kind), Ok(Kind::Execution));
    }
}

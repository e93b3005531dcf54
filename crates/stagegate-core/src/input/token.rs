//! A run's identity, and the ClientTokens for StartStageDeployment derived from it.
//!
//! GameSparks returns the same deployment for the same token and request, so a task retried after
//! a timeout or a lost response re-attaches to its deployment instead of starting a second one.
//! Step Functions lets an execution name be used again 90 days after the run closed (and a
//! re-created stack reuses every name), and GameSparks keeps tokens for an undocumented time: a
//! run is therefore named by its execution *and* its start time (`run_id`), in its tokens and
//! its abort request, so a new run can never replay an old run's token or read its abort.

use sha2::{Digest, Sha256};

use time::OffsetDateTime;

/// `<execution id>@<start, Unix seconds>`: the same for every attempt of every task of one run
/// (Step Functions' `$$.Execution.StartTime`, which `DescribeExecution` also returns as
/// `startDate`), different for a later run with the same name. Without a start time (a direct
/// invoke, named by its request id) the id alone.
pub fn run_id(execution_id: &str, started_at: Option<OffsetDateTime>) -> String {
    match started_at {
        Some(t) => format!("{execution_id}@{}", t.unix_timestamp()),
        None => execution_id.to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Deploy,
    Rollback,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Rollback => "rollback",
        }
    }
}

/// `stagegate-<purpose>-<sha256 hex>`: 81 or 83 characters, inside the model's 33-126, whatever
/// the length of the execution id.
pub fn client_token(execution_id: &str, purpose: Purpose) -> String {
    let digest = Sha256::new()
        .chain_update(purpose.as_str().as_bytes())
        .chain_update([0u8])
        .chain_update(execution_id.as_bytes())
        .finalize();
    let mut token = format!("stagegate-{}-", purpose.as_str());
    for byte in digest {
        token.push_str(&format!("{byte:02x}"));
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields;

    const EXEC: &str = "arn:aws:states:us-east-1:123456789012:execution:gate:run-1";

    #[test]
    fn deterministic_per_execution_and_purpose() {
        assert_eq!(
            client_token(EXEC, Purpose::Deploy),
            client_token(EXEC, Purpose::Deploy)
        );
        assert_ne!(
            client_token(EXEC, Purpose::Deploy),
            client_token(EXEC, Purpose::Rollback)
        );
        assert_ne!(
            client_token(EXEC, Purpose::Deploy),
            client_token(&format!("{EXEC}2"), Purpose::Deploy)
        );
    }

    #[test]
    fn length_within_model_bounds_for_any_execution_id() {
        for id in ["", "x", EXEC, &"e".repeat(10_000), "ünïcødé"] {
            for purpose in [Purpose::Deploy, Purpose::Rollback] {
                let token = client_token(id, purpose);
                assert!(
                    fields::client_token("clientToken", &token).is_ok(),
                    "{token}"
                );
                assert!(token.is_ascii());
            }
        }
        assert_eq!(client_token(EXEC, Purpose::Deploy).len(), 81);
        assert_eq!(client_token(EXEC, Purpose::Rollback).len(), 83);
    }

    #[test]
    fn a_run_is_its_execution_and_its_start() {
        let t = time::macros::datetime!(2026-03-01 12:00:00.250 UTC);
        assert_eq!(run_id(EXEC, Some(t)), format!("{EXEC}@1772366400"));
        assert_ne!(
            run_id(EXEC, Some(t)),
            run_id(EXEC, Some(t + time::Duration::days(100)))
        );
        assert_eq!(run_id("lambda:req-1", None), "lambda:req-1");
    }

    #[test]
    fn known_value() {
        // Pinned so a refactor cannot silently change tokens of executions in flight.
        assert_eq!(
            client_token("exec-1", Purpose::Deploy),
            format!("stagegate-deploy-{}", {
                let d = Sha256::digest(b"deploy\0exec-1");
                d.iter().map(|b| format!("{b:02x}")).collect::<String>()
            })
        );
    }
}

//! ClientTokens for StartStageDeployment, derived from the Step Functions execution id.
//!
//! GameSparks returns the same deployment for the same token and request, so a task retried after
//! a timeout or a lost response re-attaches to its deployment instead of starting a second one.

use sha2::{Digest, Sha256};

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

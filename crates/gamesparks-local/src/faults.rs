//! Fault injection configuration and the seeded random source behind it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::op::OPERATIONS;

/// A latency range in real milliseconds, drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LatencyMs {
    pub min: u64,
    pub max: u64,
}

/// Per-operation overrides; an absent field falls back to the global value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperationFaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_error_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_error_after_commit_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<LatencyMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang: Option<Hang>,
}

/// The next `count` requests of an operation hang, as a stalled connection or a wedged service
/// does: answered only after `ms` real milliseconds, or (without `ms`) not for an hour, which to
/// a client is never. With `afterCommit`, a mutating request (StartStageDeployment,
/// CreateSnapshot) is executed first and only its reply hangs: the ambiguous case a client's
/// timeout and retry must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hang {
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    #[serde(default)]
    pub after_commit: bool,
}

impl Hang {
    /// How long a hung request waits before it is answered.
    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.ms.unwrap_or(3_600_000))
    }
}

/// Fault injection settings (scenario `faults`, or `POST /_emulator/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultConfig {
    /// Probability that a request is answered 429 ThrottlingException before it is executed.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Probability that a request is answered 500 InternalServerException before it is executed.
    #[serde(default)]
    pub server_error_rate: f64,
    /// Probability that a mutating request (CreateSnapshot, StartStageDeployment) is executed and
    /// then answered 500 anyway: the ambiguous outcome that ClientToken retries exist for.
    #[serde(default)]
    pub server_error_after_commit_rate: f64,
    /// Added real-time latency before each request is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<LatencyMs>,
    /// `"game/stage"` pairs for which every operation naming that stage gets 403.
    #[serde(default)]
    pub access_denied_stages: Vec<String>,
    /// Overrides keyed by operation name (e.g. `"StartStageDeployment"`).
    #[serde(default)]
    pub operations: BTreeMap<String, OperationFaults>,
}

/// The effective settings for one operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EffectiveFaults {
    pub throttle_rate: f64,
    pub server_error_rate: f64,
    pub server_error_after_commit_rate: f64,
    pub latency_ms: Option<LatencyMs>,
}

fn check_rate(path: &str, rate: f64) -> Result<(), String> {
    if rate.is_finite() && (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(format!("{path} must be between 0 and 1, got {rate}"))
    }
}

fn check_latency(path: &str, l: &LatencyMs) -> Result<(), String> {
    if l.min > l.max {
        return Err(format!(
            "{path}: min ({}) is greater than max ({})",
            l.min, l.max
        ));
    }
    if l.max > 120_000 {
        return Err(format!("{path}: max must be at most 120000 ms"));
    }
    Ok(())
}

impl FaultConfig {
    pub fn validate(&self) -> Result<(), String> {
        check_rate("faults.throttleRate", self.throttle_rate)?;
        check_rate("faults.serverErrorRate", self.server_error_rate)?;
        check_rate(
            "faults.serverErrorAfterCommitRate",
            self.server_error_after_commit_rate,
        )?;
        if let Some(l) = &self.latency_ms {
            check_latency("faults.latencyMs", l)?;
        }
        for s in &self.access_denied_stages {
            let ok = s
                .split_once('/')
                .is_some_and(|(g, st)| crate::validate::is_name(g) && crate::validate::is_name(st));
            if !ok {
                return Err(format!(
                    "faults.accessDeniedStages: {s:?} is not of the form \"game/stage\""
                ));
            }
        }
        for (op, o) in &self.operations {
            if !OPERATIONS.contains(&op.as_str()) {
                return Err(format!(
                    "faults.operations: unknown operation {op:?} (expected one of {})",
                    OPERATIONS.join(", ")
                ));
            }
            let p = format!("faults.operations.{op}");
            for (name, rate) in [
                ("throttleRate", o.throttle_rate),
                ("serverErrorRate", o.server_error_rate),
                (
                    "serverErrorAfterCommitRate",
                    o.server_error_after_commit_rate,
                ),
            ] {
                if let Some(r) = rate {
                    check_rate(&format!("{p}.{name}"), r)?;
                }
            }
            if let Some(l) = &o.latency_ms {
                check_latency(&format!("{p}.latencyMs"), l)?;
            }
            if let Some(h) = &o.hang {
                if h.count == 0 {
                    return Err(format!("{p}.hang.count must be at least 1"));
                }
                if h.ms.is_some_and(|ms| ms > 3_600_000) {
                    return Err(format!(
                        "{p}.hang.ms must be at most 3600000 (omit it to hang for good)"
                    ));
                }
            }
        }
        Ok(())
    }

    /// How many requests of each operation are still to hang, as configured.
    pub(crate) fn hang_budget(&self) -> BTreeMap<String, u32> {
        self.operations
            .iter()
            .filter_map(|(op, o)| o.hang.map(|h| (op.clone(), h.count)))
            .collect()
    }

    pub(crate) fn effective(&self, operation: &str) -> EffectiveFaults {
        let o = self.operations.get(operation);
        EffectiveFaults {
            throttle_rate: o
                .and_then(|o| o.throttle_rate)
                .unwrap_or(self.throttle_rate),
            server_error_rate: o
                .and_then(|o| o.server_error_rate)
                .unwrap_or(self.server_error_rate),
            server_error_after_commit_rate: o
                .and_then(|o| o.server_error_after_commit_rate)
                .unwrap_or(self.server_error_after_commit_rate),
            latency_ms: o.and_then(|o| o.latency_ms).or(self.latency_ms),
        }
    }

    pub(crate) fn denies(&self, game: &str, stage: &str) -> bool {
        self.access_denied_stages
            .iter()
            .any(|s| s.split_once('/') == Some((game, stage)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_operation_overrides_fall_back_to_global() {
        let cfg: FaultConfig = serde_json::from_value(serde_json::json!({
            "throttleRate": 0.1,
            "latencyMs": {"min": 1, "max": 2},
            "operations": {"StartStageDeployment": {"throttleRate": 1.0}}
        }))
        .unwrap();
        cfg.validate().unwrap();
        let e = cfg.effective("StartStageDeployment");
        assert_eq!(e.throttle_rate, 1.0);
        assert_eq!(e.latency_ms, Some(LatencyMs { min: 1, max: 2 }));
        assert_eq!(cfg.effective("ListGames").throttle_rate, 0.1);
    }

    #[test]
    fn rejects_bad_config() {
        let bad = |v: serde_json::Value| {
            serde_json::from_value::<FaultConfig>(v)
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate())
                .unwrap_err()
        };
        assert!(bad(serde_json::json!({"throttleRate": 2})).contains("throttleRate"));
        assert!(bad(serde_json::json!({"operations": {"Nope": {}}})).contains("Nope"));
        assert!(bad(serde_json::json!({"accessDeniedStages": ["x"]})).contains("game/stage"));
        assert!(bad(serde_json::json!({"latencyMs": {"min": 5, "max": 1}})).contains("min"));
        assert!(
            bad(serde_json::json!({"operations": {"GetStage": {"hang": {"count": 0}}}}))
                .contains("hang.count")
        );
        assert!(bad(
            serde_json::json!({"operations": {"GetStage": {"hang": {"count": 1, "ms": 3600001}}}})
        )
        .contains("hang.ms"));
    }
}

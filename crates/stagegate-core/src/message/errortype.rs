//! The stable `errorType` names a gate function ends with, which Step Functions' Retry and Catch
//! match on (`infra/statemachine/deployment-gate.asl.json`; `workflow_contract` checks both
//! sides). Renaming one of these breaks deployed state machines.

pub const INVALID_INPUT: &str = "StageGate.InvalidInput";
pub const DEPLOYMENT_IN_PROGRESS: &str = "StageGate.DeploymentInProgress";
pub const ACCESS_DENIED: &str = "StageGate.AccessDenied";
pub const NOT_FOUND: &str = "StageGate.NotFound";
/// Throttling, 5xx and transport failures that outlived the SDK's own retries.
pub const RETRYABLE: &str = "StageGate.Retryable";
pub const SERVICE_ERROR: &str = "StageGate.ServiceError";
pub const NOTIFICATION_FAILED: &str = "StageGate.NotificationFailed";
pub const CONFIGURATION: &str = "StageGate.Configuration";

/// Every name above (the workflow contract test checks the ASL against it).
pub const ALL: [&str; 8] = [
    INVALID_INPUT,
    DEPLOYMENT_IN_PROGRESS,
    ACCESS_DENIED,
    NOT_FOUND,
    RETRYABLE,
    SERVICE_ERROR,
    NOTIFICATION_FAILED,
    CONFIGURATION,
];

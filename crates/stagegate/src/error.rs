//! The errors a gate function can end with, and the stable `errorType` names Step Functions'
//! Retry and Catch match on. Renaming one of these breaks deployed state machines.

use lambda_runtime::Diagnostic;

use crate::fields::InvalidInput;
use crate::ports::{ServiceError, ServiceErrorKind};

/// The `errorType` names, as used in `infra/statemachine/deployment-gate.asl.json`.
pub use stagegate_core::errortype as types;

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),

    #[error("{context}: {source}")]
    Service {
        context: String,
        #[source]
        source: ServiceError,
    },

    #[error("notification not published: {0}")]
    Notification(#[source] ServiceError),

    #[error("configuration: {0}")]
    Configuration(String),
}

impl GateError {
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self::InvalidInput(InvalidInput::new(field, rule))
    }

    pub fn service(context: impl Into<String>, source: ServiceError) -> Self {
        Self::Service {
            context: context.into(),
            source,
        }
    }

    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => types::INVALID_INPUT,
            Self::Service { source, .. } => match source.kind {
                ServiceErrorKind::Conflict => types::DEPLOYMENT_IN_PROGRESS,
                ServiceErrorKind::AccessDenied => types::ACCESS_DENIED,
                ServiceErrorKind::NotFound => types::NOT_FOUND,
                ServiceErrorKind::Throttled
                | ServiceErrorKind::Internal
                | ServiceErrorKind::Transport => types::RETRYABLE,
                ServiceErrorKind::Validation | ServiceErrorKind::Other => types::SERVICE_ERROR,
            },
            Self::Notification(_) => types::NOTIFICATION_FAILED,
            Self::Configuration(_) => types::CONFIGURATION,
        }
    }
}

impl From<GateError> for Diagnostic {
    fn from(err: GateError) -> Self {
        Diagnostic {
            error_type: err.error_type().to_owned(),
            error_message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_table() {
        use ServiceErrorKind::*;
        let cases = [
            (Conflict, types::DEPLOYMENT_IN_PROGRESS),
            (AccessDenied, types::ACCESS_DENIED),
            (NotFound, types::NOT_FOUND),
            (Throttled, types::RETRYABLE),
            (Internal, types::RETRYABLE),
            (Transport, types::RETRYABLE),
            (Validation, types::SERVICE_ERROR),
            (Other, types::SERVICE_ERROR),
        ];
        for (kind, want) in cases {
            let err = GateError::service("ctx", ServiceError::new(kind, "Op", "m"));
            assert_eq!(err.error_type(), want, "{kind:?}");
        }
        assert_eq!(
            GateError::invalid("f", "r").error_type(),
            types::INVALID_INPUT
        );
        assert_eq!(
            GateError::Notification(ServiceError::new(Throttled, "Publish", "m")).error_type(),
            types::NOTIFICATION_FAILED
        );
        assert_eq!(
            GateError::Configuration("x".into()).error_type(),
            types::CONFIGURATION
        );
    }

    #[test]
    fn diagnostic_carries_type_and_message() {
        let d: Diagnostic =
            GateError::invalid("gameName", "must be 1-36 characters long, got 0").into();
        assert_eq!(d.error_type, "StageGate.InvalidInput");
        assert_eq!(
            d.error_message,
            "invalid input: field `gameName`: must be 1-36 characters long, got 0"
        );
    }
}

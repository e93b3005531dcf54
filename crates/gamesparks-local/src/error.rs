//! Service errors as GameSparks reports them on the wire.

use std::fmt;

/// The modelled error shapes (plus the generic one for unknown routes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Validation,
    AccessDenied,
    Throttling,
    Conflict,
    ResourceNotFound,
    InternalServer,
    UnknownOperation,
}

impl ErrorKind {
    /// HTTP status from the model's `error.httpStatusCode`.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Validation => 400,
            ErrorKind::AccessDenied => 403,
            ErrorKind::Throttling => 429,
            ErrorKind::Conflict => 409,
            ErrorKind::ResourceNotFound | ErrorKind::UnknownOperation => 404,
            ErrorKind::InternalServer => 500,
        }
    }

    /// The value of `x-amzn-errortype`, which the SDK maps to its typed error variants.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationException",
            ErrorKind::AccessDenied => "AccessDeniedException",
            ErrorKind::Throttling => "ThrottlingException",
            ErrorKind::Conflict => "ConflictException",
            ErrorKind::ResourceNotFound => "ResourceNotFoundException",
            ErrorKind::InternalServer => "InternalServerException",
            ErrorKind::UnknownOperation => "UnknownOperationException",
        }
    }
}

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for ApiError {}

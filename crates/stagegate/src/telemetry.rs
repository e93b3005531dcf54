//! Logging and metrics: JSON lines, as Lambda's JSON log format expects, filtered by `RUST_LOG`
//! or Lambda's `AWS_LAMBDA_LOG_LEVEL`, and each run's EMF record. Handlers log identifiers and
//! outcomes only; never configs or credentials.

use tracing_subscriber::EnvFilter;

use crate::ports::Metrics;

/// EMF records as Lambda expects them: one JSON object per line on stdout, beside (not inside)
/// the tracing log lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmfStdout;

impl Metrics for EmfStdout {
    fn emit(&self, record: &serde_json::Value) {
        println!("{record}");
    }
}

/// For callers that want no metrics (tests of other behaviour, one-off invokes).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMetrics;

impl Metrics for NoMetrics {
    fn emit(&self, _: &serde_json::Value) {}
}

pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok())
        .and_then(|level| EnvFilter::try_new(level.to_lowercase()).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    // try_init: a second call (tests) keeps the first subscriber instead of panicking.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(false)
        .try_init();
}

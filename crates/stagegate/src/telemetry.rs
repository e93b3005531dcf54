//! Logging: JSON lines, as Lambda's JSON log format expects, filtered by `RUST_LOG` or Lambda's
//! `AWS_LAMBDA_LOG_LEVEL`. Handlers log identifiers and outcomes only; never configs or
//! credentials.

use tracing_subscriber::EnvFilter;

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

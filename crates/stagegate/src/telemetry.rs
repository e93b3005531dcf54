//! Logging and metrics: JSON lines, as Lambda's JSON log format expects, filtered by `RUST_LOG`
//! or Lambda's `AWS_LAMBDA_LOG_LEVEL`, and each run's EMF record. Handlers log identifiers and
//! outcomes only; never configs or credentials.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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
    let filter = filter(
        std::env::var("RUST_LOG").ok(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok(),
    );
    // try_init: a second call (tests) keeps the first subscriber instead of panicking.
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_target(false)
                .with_current_span(false),
        )
        .with(filter)
        .try_init();
}

/// `RUST_LOG`-style directives (`info,stagegate::startup=debug`): a default level and levels per
/// target, which is all the functions need. `Targets` parses them without `EnvFilter`'s span and
/// field matching, and so without its regex engine: about 200 KB less in every zip.
fn filter(rust_log: Option<String>, lambda_level: Option<String>) -> Targets {
    rust_log
        .or(lambda_level)
        .and_then(|level| level.trim().to_lowercase().parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn directives_set_a_default_and_per_target_levels() {
        let f = filter(Some("info,stagegate::startup=debug".into()), None);
        assert!(f.would_enable("stagegate::startup", &Level::DEBUG));
        assert!(!f.would_enable("stagegate::handlers", &Level::DEBUG));
        assert!(f.would_enable("stagegate::handlers", &Level::INFO));
        // Lambda's own variable, upper case, when RUST_LOG is absent.
        let f = filter(None, Some("WARN".into()));
        assert!(!f.would_enable("stagegate", &Level::INFO));
        assert!(f.would_enable("stagegate", &Level::WARN));
        // Unreadable: info.
        let f = filter(Some("=?=".into()), None);
        assert!(f.would_enable("stagegate", &Level::INFO));
        assert!(!f.would_enable("stagegate", &Level::DEBUG));
    }
}

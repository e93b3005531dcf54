//! Which failed reads `follow` rides out, and how long it waits before the next. A run lasts hours;
//! one throttled DescribeExecution, a 503 or a dropped connection in that time is ordinary, and
//! ending the wait on it made a CI job fail (exit 2, "AWS error") while the gate carried on. What
//! is transient is the gate's own classification (`ServiceErrorKind::is_retryable`, as the
//! functions use it), so the CLI and the functions agree on what a retry can fix; AccessDenied or
//! an execution that does not exist fail at once, as no wait changes them. An outage longer than
//! `RIDE_OUT` ends the wait with the run going on (exit 5), not as an error.
//!
//! The waits grow exponentially to a cap, with equal jitter (half the wait fixed, half random) so
//! that many pipelines following runs of one gate do not retry in lockstep; the random part is
//! passed in, so tests are exact.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use stagegate::ports::{ServiceError, ServiceErrorKind};

use crate::history::error_text;

/// The first wait after a failure.
pub const FIRST_WAIT: Duration = Duration::from_secs(1);
/// No wait is longer: the run's progress is still shown soon after the service is back.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// How long failures in a row are ridden out before giving up on following.
pub const RIDE_OUT: Duration = Duration::from_secs(15 * 60);

/// A failed call: what kind of failure (the decision's input) and its text (the person's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub kind: ServiceErrorKind,
    pub text: String,
}

impl From<String> for CallError {
    /// A failure that is not a call's (e.g. a history longer than the limit): not retried.
    fn from(text: String) -> Self {
        Self {
            kind: ServiceErrorKind::Other,
            text,
        }
    }
}

impl CallError {
    /// An SDK error of `operation`, classified as the functions' adapters classify theirs.
    pub fn of<E>(operation: &str, err: &SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let kind = match err {
            SdkError::ServiceError(reply) => {
                ServiceError::from_reply(
                    operation,
                    reply.err().code(),
                    Some(reply.raw().status().as_u16()),
                    None,
                )
                .kind
            }
            SdkError::TimeoutError(_) | SdkError::ResponseError(_) => ServiceErrorKind::Transport,
            // A connection refused or reset, or a timeout; not a request that could not be
            // signed (no credentials), which no wait fixes.
            SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
                ServiceErrorKind::Transport
            }
            _ => ServiceErrorKind::Other,
        };
        Self {
            kind,
            text: format!("{operation}: {}", error_text(err)),
        }
    }
}

/// What to do after a failed read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Not transient: report it (exit 2).
    Fail,
    /// Read again after this wait.
    Wait(Duration),
    /// Failing for `RIDE_OUT` already: stop following, the run goes on (exit 5).
    GiveUp,
}

/// Failures in a row, since when (as time since `follow` started: a monotonic clock's reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outage {
    since: Option<Duration>,
    attempts: u32,
}

impl Outage {
    /// A read succeeded: the next failure starts a new outage.
    pub fn ended(&mut self) {
        *self = Self::default();
    }

    /// A read failed with `kind` at `now`; `unit` in [0, 1) is the jitter's random part.
    pub fn failed(&mut self, kind: ServiceErrorKind, now: Duration, unit: f64) -> Next {
        if !kind.is_retryable() {
            return Next::Fail;
        }
        let since = *self.since.get_or_insert(now);
        let lasted = now.saturating_sub(since);
        if lasted >= RIDE_OUT {
            return Next::GiveUp;
        }
        let wait = backoff(self.attempts, unit).min(RIDE_OUT - lasted);
        self.attempts = self.attempts.saturating_add(1);
        Next::Wait(wait)
    }
}

/// The wait after the `attempt`-th failure in a row (0 first): `FIRST_WAIT` doubling to
/// `MAX_WAIT`, of which the upper half scaled by `unit`.
pub fn backoff(attempt: u32, unit: f64) -> Duration {
    let ceiling = FIRST_WAIT
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(MAX_WAIT);
    let half = ceiling / 2;
    half + half.mul_f64(unit.clamp(0.0, 1.0))
}

/// The jitter's random part in production: the clock's nanoseconds, enough to spread pipelines.
pub fn clock_unit() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceErrorKind::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn transient_failures_wait_and_others_fail_at_once() {
        // As Step Functions answers: by error code, else by status.
        let kind = |code: Option<&str>, status: u16| {
            ServiceError::from_reply("DescribeExecution", code, Some(status), None).kind
        };
        let cases = [
            (kind(Some("ThrottlingException"), 400), true),
            (kind(Some("ServiceUnavailable"), 503), true),
            (kind(None, 500), true),
            (kind(None, 429), true),
            (Transport, true),
            (kind(Some("AccessDeniedException"), 400), false),
            (kind(Some("ExecutionDoesNotExist"), 400), false),
            (kind(Some("InvalidArn"), 400), false),
            (kind(Some("UnrecognizedClientException"), 400), false),
        ];
        for (kind, transient) in cases {
            let next = Outage::default().failed(kind, S(0), 0.0);
            assert_eq!(
                matches!(next, Next::Wait(_)),
                transient,
                "{kind:?}: {next:?}"
            );
            assert_eq!(next == Next::Fail, !transient, "{kind:?}: {next:?}");
        }
    }

    #[test]
    fn waits_double_to_the_cap_with_equal_jitter() {
        let low: Vec<u64> = (0..8).map(|a| backoff(a, 0.0).as_millis() as u64).collect();
        assert_eq!(low, [500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
        let high: Vec<u64> = (0..8).map(|a| backoff(a, 1.0).as_millis() as u64).collect();
        assert_eq!(
            high,
            [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(backoff(u32::MAX, 0.5), S(30) / 2 + S(15) / 2);
    }

    #[test]
    fn an_outage_is_ridden_out_for_a_bounded_time_then_given_up() {
        let mut outage = Outage::default();
        let mut now = S(100);
        let mut waits = 0;
        loop {
            match outage.failed(Throttled, now, 1.0) {
                Next::Wait(wait) => {
                    assert!(wait <= MAX_WAIT, "{wait:?}");
                    now += wait;
                    waits += 1;
                }
                Next::GiveUp => break,
                Next::Fail => panic!("throttling is transient"),
            }
        }
        // Given up exactly when the outage reached RIDE_OUT (the last wait is cut to it).
        assert_eq!(now, S(100) + RIDE_OUT);
        assert_eq!(waits, 5 + (RIDE_OUT.as_secs() - 31) / 30 + 1, "{now:?}");
        // A success in between starts over: a new outage, the first wait again.
        let mut outage = Outage::default();
        assert_eq!(outage.failed(Internal, S(0), 0.0), Next::Wait(S(1) / 2));
        assert_eq!(outage.failed(Internal, S(899), 0.0), Next::Wait(S(1)));
        outage.ended();
        assert_eq!(outage.failed(Internal, S(2000), 0.0), Next::Wait(S(1) / 2));
        assert_eq!(
            outage.failed(Internal, S(2000) + RIDE_OUT, 0.0),
            Next::GiveUp
        );
    }
}

//! The kinds of fault the simulator injects, and one injected fault as the run's trace shows it.
//!
//! A failing run prints its seed and this trace: the schedule of faults as they happened, in
//! virtual time, which `cargo xtask sim --seed S` replays exactly.

use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// The function was stopped (timeout) after some of its calls reached their services; its
    /// answer is lost and Step Functions sees Sandbox.Timedout / States.Timeout / Lambda.Unknown.
    LambdaStoppedAfterEffect,
    /// Lambda refused the invocation before the function ran (Lambda.ServiceException, ...).
    LambdaRefused,
    /// A service call throttled or failed with a 5xx.
    Throttle,
    /// A deployment ended just before one of the gate's calls.
    FinishBetweenCalls,
    /// A freeze window starts or ends within minutes of the run's start.
    FreezeBoundary,
    /// The approval was approved, rejected, aborted or left to time out.
    ApprovalAnswer,
    /// `stagegate abort` of this run in some phase.
    Abort,
    /// An abort request of another execution.
    OtherAbort,
    /// A run with the same execution name, months earlier (its abort request, its tokens).
    SameNameEarlier,
    /// SNS unavailable for a while.
    SnsOutage,
    /// Another run deploys on the same stage.
    SecondRun,
    /// A snapshot built while the run goes.
    NewSnapshot,
    /// A bake alarm fires.
    AlarmFires,
    /// A Retry the workflow allows was taken.
    Retried,
    /// Someone holding SendTaskSuccess and the token answered the wait without the answer
    /// function: unsigned, signed for another run, or a "timeout" before the approval expired.
    ForgedAnswer,
    /// Fleet: a game's result names no gate ending (it must count as ERROR).
    FleetUnreadableResult,
    /// Fleet: a failed game's result is the Map's caught error, its DescribeExecution the Cause.
    FleetCaughtError,
    /// Fleet: a game's result delivered again.
    FleetDuplicateResult,
    /// Fleet: a batch's results arrive in another order than its games started.
    FleetOutOfOrder,
}

impl FaultKind {
    pub const ALL: [FaultKind; 19] = [
        FaultKind::LambdaStoppedAfterEffect,
        FaultKind::LambdaRefused,
        FaultKind::Throttle,
        FaultKind::FinishBetweenCalls,
        FaultKind::FreezeBoundary,
        FaultKind::ApprovalAnswer,
        FaultKind::Abort,
        FaultKind::OtherAbort,
        FaultKind::SameNameEarlier,
        FaultKind::SnsOutage,
        FaultKind::SecondRun,
        FaultKind::NewSnapshot,
        FaultKind::AlarmFires,
        FaultKind::Retried,
        FaultKind::ForgedAnswer,
        FaultKind::FleetUnreadableResult,
        FaultKind::FleetCaughtError,
        FaultKind::FleetDuplicateResult,
        FaultKind::FleetOutOfOrder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LambdaStoppedAfterEffect => "lambda-stopped-after-effect",
            Self::LambdaRefused => "lambda-refused",
            Self::Throttle => "throttle-or-5xx",
            Self::FinishBetweenCalls => "finish-between-calls",
            Self::FreezeBoundary => "freeze-boundary",
            Self::ApprovalAnswer => "approval-answer",
            Self::Abort => "abort",
            Self::OtherAbort => "other-run-abort",
            Self::SameNameEarlier => "same-name-months-earlier",
            Self::SnsOutage => "sns-outage",
            Self::SecondRun => "second-run-on-stage",
            Self::NewSnapshot => "new-snapshot-mid-run",
            Self::AlarmFires => "bake-alarm-fires",
            Self::Retried => "retry-taken",
            Self::ForgedAnswer => "forged-answer",
            Self::FleetUnreadableResult => "fleet-unreadable-result",
            Self::FleetCaughtError => "fleet-caught-error",
            Self::FleetDuplicateResult => "fleet-duplicate-result",
            Self::FleetOutOfOrder => "fleet-results-out-of-order",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub at: OffsetDateTime,
    pub kind: FaultKind,
    pub what: String,
}

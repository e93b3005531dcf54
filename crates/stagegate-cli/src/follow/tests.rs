//! Tests of `follow`'s loop on a scripted run (`Scripted`, a `Source`): what a failed read does,
//! which events are printed, and when following stops, without AWS and without waiting (the
//! script's clock moves when the loop sleeps).

use std::cell::{Cell, RefCell};

use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::StateEnteredEventDetails;
use stagegate::ports::ServiceErrorKind::{self, *};

use super::*;

/// What one poll finds.
#[derive(Clone, Copy)]
enum Step {
    /// Running, with this many history events so far.
    Running(usize),
    /// DescribeExecution fails.
    Fails(ServiceErrorKind),
    /// DescribeExecution answers (running), the history read fails.
    HistoryFails(ServiceErrorKind),
    /// Ended (succeeded), with this many events.
    Ended(usize),
}

struct Scripted {
    /// One step per poll; the last repeats.
    steps: Vec<Step>,
    poll: Cell<usize>,
    history: Vec<HistoryEvent>,
    /// The `seen` each history read was asked from.
    reads: RefCell<Vec<i64>>,
    slept: RefCell<Vec<Duration>>,
    clock: Cell<Duration>,
}

impl Scripted {
    fn new(steps: &[Step]) -> Self {
        let history = (1..=20)
            .map(|i| {
                HistoryEvent::builder()
                    .id(i)
                    .r#type(HistoryEventType::TaskStateEntered)
                    .timestamp(DateTime::from_secs(1_000 + i))
                    .state_entered_event_details(
                        StateEnteredEventDetails::builder()
                            .name(format!("S{i}"))
                            .build(),
                    )
                    .build()
            })
            .collect();
        Self {
            steps: steps.to_vec(),
            poll: Cell::new(0),
            history,
            reads: RefCell::new(Vec::new()),
            slept: RefCell::new(Vec::new()),
            clock: Cell::new(Duration::ZERO),
        }
    }

    fn step(&self) -> Step {
        let i = self.poll.get().min(self.steps.len() - 1);
        self.steps[i]
    }
}

fn failure(kind: ServiceErrorKind, operation: &str) -> CallError {
    CallError {
        kind,
        text: format!("{operation}: {kind:?}"),
    }
}

impl Source for Scripted {
    async fn describe(&self, _arn: &str) -> Result<Described, CallError> {
        let status = match self.step() {
            Step::Fails(kind) => {
                self.poll.set(self.poll.get() + 1);
                return Err(failure(kind, "DescribeExecution"));
            }
            Step::Ended(_) => ExecutionStatus::Succeeded,
            _ => ExecutionStatus::Running,
        };
        Ok(Described::builder()
            .status(status)
            .input(r#"{"gameName": "g", "stageName": "s", "snapshotId": "latest"}"#)
            .build())
    }

    async fn new_events(&self, _arn: &str, seen: i64) -> Result<Vec<HistoryEvent>, CallError> {
        let step = self.step();
        self.poll.set(self.poll.get() + 1);
        self.reads.borrow_mut().push(seen);
        let visible = match step {
            Step::HistoryFails(kind) => return Err(failure(kind, "GetExecutionHistory")),
            Step::Running(n) | Step::Ended(n) => n,
            Step::Fails(_) => 0,
        };
        Ok(self.history[..visible]
            .iter()
            .filter(|e| e.id() > seen)
            .cloned()
            .collect())
    }

    fn elapsed(&self) -> Duration {
        self.clock.get()
    }

    async fn sleep(&self, wait: Duration) {
        self.slept.borrow_mut().push(wait);
        self.clock.set(self.clock.get() + wait);
    }

    fn jitter(&self) -> f64 {
        // The middle of the range: the waits a test sees are the same on every run.
        0.5
    }
}

const INTERVAL: Duration = Duration::from_secs(2);

async fn follow_script(run: &Scripted) -> (Result<Followed, String>, String) {
    let mut screen = Screen {
        tty: false,
        live_shown: false,
        out: Vec::new(),
    };
    let followed = follow_with(run, "arn:x", None, INTERVAL, &mut screen).await;
    (followed, String::from_utf8_lossy(&screen.out).into_owned())
}

#[tokio::test]
async fn transient_failures_are_ridden_out_and_each_event_printed_once() {
    let run = Scripted::new(&[
        Step::Running(2),
        Step::Fails(Throttled),
        Step::HistoryFails(Transport),
        Step::Running(4),
        Step::Ended(5),
    ]);
    let (followed, out) = follow_script(&run).await;
    assert!(matches!(followed, Ok(Followed::Ended(..))), "{followed:?}");
    let expected: Vec<String> = (1..=5)
        .map(|i| format!("[{:>6.1}s] S{i}", (i - 1) as f64))
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), expected, "{out}");
    // Each read asks only for what is new: the failed one from where it stood.
    assert_eq!(*run.reads.borrow(), [0, 2, 2, 4]);
    // The poll interval after a good read; a short backoff after each failure.
    let slept = run.slept.borrow();
    assert_eq!(slept.len(), 4, "{slept:?}");
    assert_eq!((slept[0], slept[3]), (INTERVAL, INTERVAL));
    assert!(
        slept[1] <= retry::FIRST_WAIT && slept[2] <= 2 * retry::FIRST_WAIT,
        "{slept:?}"
    );
}

#[tokio::test]
async fn a_lasting_outage_stops_following_with_the_run_going_on() {
    let run = Scripted::new(&[Step::Running(1), Step::Fails(Internal)]);
    let (followed, out) = follow_script(&run).await;
    assert!(
        matches!(followed, Ok(Followed::StillRunning)),
        "{followed:?}"
    );
    assert_eq!(out, "[   0.0s] S1\n");
    let clock = run.clock.get();
    assert!(
        clock >= INTERVAL + retry::RIDE_OUT
            && clock <= INTERVAL + retry::RIDE_OUT + retry::MAX_WAIT,
        "{clock:?}"
    );
    // Bounded by the backoff: dozens of reads in a quarter of an hour, not one every poll.
    assert!(run.poll.get() < 60, "{} reads", run.poll.get());
}

#[tokio::test]
async fn a_failure_no_wait_fixes_ends_following_at_once() {
    for kind in [AccessDenied, NotFound, Other] {
        let run = Scripted::new(&[Step::Fails(kind)]);
        let (followed, _) = follow_script(&run).await;
        assert_eq!(
            followed.err(),
            Some(format!("DescribeExecution: {kind:?}")),
            "{kind:?}"
        );
        assert!(run.slept.borrow().is_empty(), "{kind:?}: no retry");
    }
}

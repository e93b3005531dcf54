//! One execution of the workflow, as Step Functions would run it, on the simulated world.
//!
//! The states, their Retry and Catch, and the paths come from the ASL (`asl`); the functions are
//! the real handlers (`stagegate::handlers`) over the world's ports. What Lambda and Step
//! Functions add is modelled here: an invocation refused before it runs, a function stopped
//! after some of its calls reached their services (its answer lost: Sandbox.Timedout,
//! States.Timeout or Lambda.Unknown), FULL-jitter backoff on the virtual clock, the task token
//! wait with its timeout, and the operator who answers it or aborts the run.

use serde_json::{json, Value};
use stagegate::approval::{Answer as GateAnswer, Decision};
use stagegate::clock::Clock;
use stagegate::handlers::{notify, poll, rollback, start};
use time::{Duration, OffsetDateTime};

use crate::asl::{self, Context, State, Task, Workflow};
use crate::faults::FaultKind;
use crate::scenario::{Answer, Scenario};
use crate::world::{Ports, World, ANSWER_KEY};

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Succeeded,
    Failed {
        error: String,
        cause: String,
    },
    /// An error no Catch took: Step Functions fails the execution with it, and nothing is
    /// published.
    Uncaught {
        state: String,
        error: String,
    },
    /// The workflow's own TimeoutSeconds.
    TimedOut,
    /// The model gave up (a loop, or a construct it cannot run).
    Stuck(String),
}

/// An answer delivered to the approval wait.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub stage: String,
    pub answer: Answer,
    pub at: OffsetDateTime,
}

/// An answer someone sent without the answer function (the `forged-answer` fault).
#[derive(Debug, Clone)]
pub struct Forged {
    pub stage: String,
    /// What it asked for: APPROVE, REJECT, ABORT, or TIMED_OUT (the Catch's JSON, sent early).
    pub decision: &'static str,
    pub at: OffsetDateTime,
}

/// What the execution did, as its history would show it.
#[derive(Debug, Clone)]
pub struct Record {
    pub ending: Ending,
    pub transitions: u32,
    pub invocations: u32,
    /// When the run entered Notify or NotifyError first: its ending was decided.
    pub decided_at: Option<OffsetDateTime>,
    pub ended_at: OffsetDateTime,
    pub delivered: Vec<Delivered>,
    pub forged: Vec<Forged>,
    /// When `stagegate abort` of this run was accepted, and in which phase the run was.
    pub abort_accepted: Option<(OffsetDateTime, String)>,
    /// The gate state the run entered Notify (or NotifyError) with: its decision record.
    pub final_state: Option<serde_json::Value>,
}

/// The operator and the other actors that act on the execution itself (answers, aborts).
struct Operator<'a> {
    scenario: &'a Scenario,
    /// The run as `stagegate abort` names it (execution and start, from DescribeExecution).
    run_id: String,
    next_answer: usize,
    abort_due: Option<OffsetDateTime>,
    other_abort_due: Option<OffsetDateTime>,
    /// A forged answer interrupted the wait of this stage that began then: the wait asked
    /// again keeps the person's plan (their answer comes when it would have).
    resumed: Option<(String, OffsetDateTime)>,
}

const MAX_TRANSITIONS: u32 = 20_000;

pub struct Runner<'a> {
    pub world: &'a World,
    pub workflow: &'a Workflow,
    pub settings: &'a start::Settings,
    /// Faults off: the run with the same name months earlier is only the setting.
    pub faults: bool,
}

impl Runner<'_> {
    pub fn execute(&self, scenario: &Scenario, arn: &str, name: &str) -> Record {
        let started = self.world.now();
        let ctx = Context {
            execution_id: arn.to_owned(),
            execution_name: name.to_owned(),
            start_time: stagegate::timefmt::rfc3339(started),
            task_token: None,
        };
        let mut op = Operator {
            scenario,
            run_id: stagegate::token::run_id(arn, Some(started)),
            next_answer: 0,
            abort_due: scenario.abort_at,
            other_abort_due: scenario.other_abort_at,
            resumed: None,
        };
        let mut record = Record {
            ending: Ending::Stuck("not started".into()),
            transitions: 0,
            invocations: 0,
            decided_at: None,
            ended_at: started,
            delivered: vec![],
            forged: vec![],
            abort_accepted: None,
            final_state: None,
        };
        let mut input = scenario.input();
        let mut current = self.workflow.start_at.clone();
        let mut last_task_began: Option<OffsetDateTime> = None;
        let deadline = self
            .workflow
            .timeout_seconds
            .map(|s| started + Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2)));
        loop {
            record.transitions += 1;
            if record.transitions > MAX_TRANSITIONS {
                record.ending = Ending::Stuck(format!("more than {MAX_TRANSITIONS} transitions"));
                break;
            }
            if deadline.is_some_and(|d| self.world.now() >= d) {
                record.ending = Ending::TimedOut;
                break;
            }
            self.world.clock.advance(Duration::milliseconds(10));
            self.world.settle();
            self.operator_acts(&mut op, &input, &mut record, &ctx);
            // The ending was decided by the last task that ran before Notify: an abort written
            // after that task began may come too late for it, as in Step Functions.
            if matches!(current.as_str(), "Notify" | "NotifyError") && record.decided_at.is_none() {
                record.decided_at = Some(last_task_began.unwrap_or(self.world.now()));
                record.final_state = Some(input.clone());
            }
            let state = match self.workflow.state(&current) {
                Ok(s) => s.clone(),
                Err(e) => {
                    record.ending = Ending::Stuck(e);
                    break;
                }
            };
            match state {
                State::Pass {
                    parameters,
                    result,
                    result_path,
                    next,
                } => {
                    let value = match (&parameters, result) {
                        (Some(p), _) => asl::fill(p, &input, &ctx),
                        (None, Some(r)) => Ok(r),
                        (None, None) => Ok(input.clone()),
                    };
                    match value.and_then(|v| asl::put_result(&input, result_path.as_deref(), v)) {
                        Ok(v) => input = v,
                        Err(e) => {
                            record.ending = Ending::Uncaught {
                                state: current.clone(),
                                error: format!("States.Runtime: {e}"),
                            };
                            break;
                        }
                    }
                    current = next;
                }
                State::Choice { choices, default } => {
                    let mut chosen = None;
                    for (rule, next) in &choices {
                        match asl::choice_matches(rule, &input, &ctx) {
                            Ok(true) => {
                                chosen = Some(next.clone());
                                break;
                            }
                            Ok(false) => {}
                            Err(e) => {
                                record.ending = Ending::Stuck(e);
                                return self.end(record);
                            }
                        }
                    }
                    match chosen.or(default) {
                        Some(next) => current = next,
                        None => {
                            record.ending = Ending::Uncaught {
                                state: current.clone(),
                                error: "States.NoChoiceMatched".into(),
                            };
                            break;
                        }
                    }
                }
                State::Wait { seconds_path, next } => {
                    let seconds =
                        asl::read_path(&input, &seconds_path, &ctx).and_then(|v| v.as_u64());
                    match seconds {
                        Some(s) => {
                            self.world
                                .clock
                                .advance(Duration::seconds(i64::try_from(s).unwrap_or(0)));
                            current = next;
                        }
                        None => {
                            record.ending = Ending::Uncaught {
                                state: current.clone(),
                                error: format!("States.Runtime: {seconds_path} is not a number"),
                            };
                            break;
                        }
                    }
                }
                State::Succeed => {
                    record.ending = Ending::Succeeded;
                    break;
                }
                State::Fail {
                    error,
                    error_path,
                    cause,
                    cause_path,
                } => {
                    let read = |path: &Option<String>, fixed: &Option<String>| {
                        path.as_deref()
                            .and_then(|p| asl::read_path(&input, p, &ctx))
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .or_else(|| fixed.clone())
                            .unwrap_or_default()
                    };
                    record.ending = Ending::Failed {
                        error: read(&error_path, &error),
                        cause: read(&cause_path, &cause),
                    };
                    break;
                }
                State::Task(task) => match self.task(
                    &task,
                    &input,
                    &ctx,
                    &mut op,
                    &mut record,
                    &mut last_task_began,
                ) {
                    Ok((output, next)) => {
                        input = output;
                        current = next;
                    }
                    Err(error) => {
                        record.ending = Ending::Uncaught {
                            state: current.clone(),
                            error,
                        };
                        break;
                    }
                },
            }
        }
        self.end(record)
    }

    fn end(&self, mut record: Record) -> Record {
        record.ended_at = self.world.now();
        record
    }

    /// Runs a Task state to its output and next state, through its Retry and Catch. Err: an
    /// error no Catch takes.
    fn task(
        &self,
        task: &Task,
        input: &Value,
        ctx: &Context,
        op: &mut Operator<'_>,
        record: &mut Record,
        last_began: &mut Option<OffsetDateTime>,
    ) -> Result<(Value, String), String> {
        let mut attempts = vec![0u32; task.retry.len()];
        loop {
            if record.decided_at.is_none() {
                *last_began = Some(self.world.now());
            }
            let outcome = self.attempt(task, input, ctx, op, record);
            let (error, cause) = match outcome {
                Ok(result) => {
                    let selected = match &task.result_selector {
                        Some(sel) => asl::fill(sel, &result, ctx)
                            .map_err(|e| format!("States.Runtime: ResultSelector: {e}"))?,
                        None => result,
                    };
                    let placed = asl::put_result(input, task.result_path.as_deref(), selected)
                        .map_err(|e| format!("States.Runtime: {e}"))?;
                    let output = match &task.output_path {
                        Some(p) => asl::read_path(&placed, p, ctx)
                            .ok_or_else(|| format!("States.Runtime: OutputPath {p} is absent"))?,
                        None => placed,
                    };
                    let next = task
                        .next
                        .clone()
                        .ok_or_else(|| "a Task without Next".to_owned())?;
                    return Ok((output, next));
                }
                Err(e) => e,
            };
            // Step Functions takes the first retrier that names the error; once its attempts are
            // spent the error goes to Catch.
            if let Some(i) = task
                .retry
                .iter()
                .position(|r| asl::matches(&r.errors, &error))
            {
                let r = &task.retry[i];
                let n = attempts[i];
                if n < r.max_attempts {
                    attempts[i] += 1;
                    let mut delay =
                        r.interval_seconds * r.backoff_rate.powi(i32::try_from(n).unwrap_or(30));
                    if let Some(max) = r.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if r.full_jitter {
                        let f = f64::from(u32::try_from(self.world.draw(0, 1000)).unwrap_or(0))
                            / 1000.0;
                        delay *= f;
                    }
                    self.world.note(
                        FaultKind::Retried,
                        format!("{error} retried after {delay:.1} s (attempt {})", n + 2),
                    );
                    self.world.clock.advance(Duration::milliseconds(
                        (delay * 1000.0).round().clamp(0.0, 1.0e12) as i64,
                    ));
                    self.world.settle();
                    self.operator_acts(op, input, record, ctx);
                    continue;
                }
            }
            let Some(c) = task.catch.iter().find(|c| asl::matches(&c.errors, &error)) else {
                return Err(format!("{error}: {cause}"));
            };
            let caught = json!({"Error": error, "Cause": cause});
            let output = asl::put_result(input, c.result_path.as_deref(), caught)
                .map_err(|e| format!("States.Runtime: {e}"))?;
            return Ok((output, c.next.clone()));
        }
    }

    /// One attempt of a task: Ok(the task's result), Err((error, cause)).
    fn attempt(
        &self,
        task: &Task,
        input: &Value,
        ctx: &Context,
        op: &mut Operator<'_>,
        record: &mut Record,
    ) -> Result<Value, (String, String)> {
        let mut ctx = ctx.clone();
        if task.waits_for_token() {
            ctx.task_token = Some(format!("token-{}", record.transitions));
        }
        let parameters = asl::fill(&task.parameters, input, &ctx)
            .map_err(|e| ("States.Runtime".to_owned(), e))?;
        let payload = match (
            parameters.get("Payload"),
            task.resource.contains("lambda:invoke"),
        ) {
            (Some(p), true) => p.clone(),
            _ => {
                return Err((
                    "States.Runtime".into(),
                    format!(
                        "the simulator models lambda:invoke tasks only, not {}",
                        task.resource
                    ),
                ))
            }
        };
        record.invocations += 1;
        let out = self.invoke(&task.function, &payload)?;
        if !task.waits_for_token() {
            return Ok(json!({"ExecutedVersion": "$LATEST", "StatusCode": 200, "Payload": out}));
        }
        // The function returned: the wait for the token begins, bounded by the task's timeout.
        let timeout = task
            .timeout_seconds_path
            .as_deref()
            .and_then(|p| asl::read_path(input, p, &ctx))
            .and_then(|v| v.as_u64())
            .or(task.timeout_seconds)
            .unwrap_or(99_999_999);
        let now = self.world.now();
        let expires = now + Duration::seconds(i64::try_from(timeout).unwrap_or(i64::MAX / 2));
        let stage = input
            .get("approval")
            .and_then(|a| a.get("stageName"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        // Asked again after a forged answer: the same person's plan, from the first wait.
        let began = match op.resumed.take() {
            Some((s, first)) if s == stage => {
                op.next_answer = op.next_answer.saturating_sub(1);
                first
            }
            _ => now,
        };
        let plan = op.scenario.answers.get(op.next_answer).copied();
        op.next_answer += 1;
        let planned = plan.filter(|p| p.answer != Answer::Silence).map(|p| {
            (
                (began + Duration::seconds(p.after_seconds)).max(now),
                p.answer,
            )
        });
        let abort = op
            .abort_due
            .filter(|t| *t < expires)
            .map(|t| (t.max(now), Answer::Abort));
        let first = match (planned, abort) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        let due = first.map_or(expires, |(t, _)| t.min(expires));
        if self.faults && due > now && self.world.chance(120) {
            let at = now + Duration::seconds(i64::try_from(self.world.draw(0, 3600)).unwrap_or(0));
            if at < due {
                return Ok(self.forge(input, &stage, at, began, op, record));
            }
        }
        match first.filter(|(t, _)| *t < expires) {
            Some((at, answer)) => {
                self.world.clock.set(at.max(self.world.now()));
                self.world.settle();
                if answer == Answer::Abort {
                    if abort.is_some_and(|(t, _)| t == at) {
                        op.abort_due = None;
                    }
                    record.abort_accepted = Some((at, "APPROVAL".into()));
                }
                self.world.note(
                    FaultKind::ApprovalAnswer,
                    format!("{answer:?} of {stage} delivered"),
                );
                record.delivered.push(Delivered { stage, answer, at });
                let decision = match answer {
                    Answer::Approve => Decision::Approve,
                    Answer::Reject => Decision::Reject,
                    _ => Decision::Abort,
                };
                // Through the answer function: signed for this run, stage and approval.
                Ok(signed(
                    input,
                    decision,
                    "arn:aws:iam::123456789012:user/sim-operator",
                    at,
                ))
            }
            None => {
                self.world.clock.set(expires.max(self.world.now()));
                self.world.settle();
                if plan.is_some() {
                    self.world.note(
                        FaultKind::ApprovalAnswer,
                        format!("the approval of {stage} timed out"),
                    );
                }
                Err((
                    "States.Timeout".into(),
                    "the task timed out waiting for its token".into(),
                ))
            }
        }
    }

    /// A forged answer to the wait at `at`: the output of a SendTaskSuccess that did not go
    /// through the answer function. The wait asked again resumes the person's plan.
    fn forge(
        &self,
        input: &Value,
        stage: &str,
        at: OffsetDateTime,
        began: OffsetDateTime,
        op: &mut Operator<'_>,
        record: &mut Record,
    ) -> Value {
        self.world.clock.set(at.max(self.world.now()));
        self.world.settle();
        op.resumed = Some((stage.to_owned(), began));
        let boss = "arn:aws:iam::123456789012:user/boss";
        let (decision, output) = match self.world.draw(0, 3) {
            0 => ("APPROVE", {
                let mut a = signed(input, Decision::Approve, boss, at);
                a["signature"] = Value::Null;
                a
            }),
            1 => ("APPROVE", {
                // Signed by the answer function, for another run: replayed here.
                let mut other = input.clone();
                other["runId"] = json!(format!("{}-earlier", op.run_id));
                signed(&other, Decision::Approve, boss, at)
            }),
            2 => ("REJECT", {
                let mut a = signed(input, Decision::Reject, boss, at);
                a["by"] = json!("arn:aws:iam::123456789012:user/someone-else");
                a
            }),
            _ => (
                "TIMED_OUT",
                json!({"Error": "States.Timeout", "Cause": "forged"}),
            ),
        };
        self.world.note(
            FaultKind::ForgedAnswer,
            format!("{decision} of {stage}, forged"),
        );
        record.forged.push(Forged {
            stage: stage.to_owned(),
            decision,
            at,
        });
        output
    }

    /// Invokes one function as Lambda would, with the scenario's faults.
    fn invoke(&self, function: &str, payload: &Value) -> Result<Value, (String, String)> {
        let w = self.world;
        let s_refuse = if self.faults { w.refuse_per_mille() } else { 0 };
        if w.chance(s_refuse) {
            let error = if w.chance(500) {
                "Lambda.ServiceException"
            } else {
                "Lambda.TooManyRequestsException"
            };
            w.note(FaultKind::LambdaRefused, format!("{function}: {error}"));
            return Err((
                error.into(),
                "simulated: Lambda refused the invocation".into(),
            ));
        }
        let stop_after = (self.faults && w.chance(w.stop_per_mille()))
            .then(|| usize::try_from(w.draw(0, 4)).unwrap_or(0));
        w.begin_invocation(stop_after);
        w.clock.advance(Duration::milliseconds(30));
        let request_id = format!("req-{}", w.draw(0, 1 << 40));
        let ports = Ports(w);
        let result: Result<Value, stagegate::GateError> = crate::exec::block_on(async {
            match function {
                "${StartDeploymentFunctionArn}" => start::handle_with(
                    &ports,
                    &ports,
                    &ports,
                    payload,
                    &request_id,
                    &ports,
                    self.settings,
                )
                .await
                .map(to_value),
                "${PollDeploymentFunctionArn}" => {
                    poll::handle(&ports, &ports, &ports, payload, &ports)
                        .await
                        .map(to_value)
                }
                "${RollbackDeploymentFunctionArn}" => rollback::handle(&ports, payload, &ports)
                    .await
                    .map(to_value),
                "${NotifyResultFunctionArn}" => {
                    notify::handle_with(&ports, &w.metrics, &ports, payload, ports.now())
                        .await
                        .map(to_value)
                }
                other => Err(stagegate::GateError::Configuration(format!(
                    "no function {other}"
                ))),
            }
        });
        let invocation = w.end_invocation();
        if let Some(n) = invocation.stop_after {
            let (error, seconds) = match w.draw(0, 2) {
                0 => ("Sandbox.Timedout", 40),
                1 => ("States.Timeout", 45),
                _ => ("Lambda.Unknown", 5),
            };
            w.clock.advance(Duration::seconds(seconds));
            w.settle();
            w.note(
                FaultKind::LambdaStoppedAfterEffect,
                format!(
                    "{function} stopped after {} of its calls reached their service (of {}): {error}",
                    n.min(invocation.calls),
                    invocation.calls
                ),
            );
            return Err((error.into(), "simulated: the function was stopped".into()));
        }
        result.map_err(|e| {
            let cause = json!({"errorType": e.error_type(), "errorMessage": e.to_string()});
            (e.error_type().to_owned(), cause.to_string())
        })
    }

    /// The operator and other runs act when their time has come (between states; during the
    /// approval wait it is the wait that delivers an abort).
    fn operator_acts(
        &self,
        op: &mut Operator<'_>,
        input: &Value,
        record: &mut Record,
        ctx: &Context,
    ) {
        let now = self.world.now();
        if let Some(at) = op.other_abort_due.filter(|t| *t <= now) {
            op.other_abort_due = None;
            let other = format!("{}-other", ctx.execution_id);
            self.world
                .aborts
                .request(&stagegate::token::run_id(&other, Some(at)), &abort_text(at));
            self.world
                .note(FaultKind::OtherAbort, format!("abort requested of {other}"));
        }
        if let Some(at) = op.abort_due.filter(|t| *t <= now) {
            op.abort_due = None;
            // What `stagegate abort` does with a running execution that is not waiting for an
            // approval: it leaves the request the poll reads.
            let phase = input
                .get("phase")
                .and_then(Value::as_str)
                .unwrap_or("START")
                .to_owned();
            self.world.aborts.request(&op.run_id, &abort_text(at));
            self.world.note(
                FaultKind::Abort,
                format!("abort requested in phase {phase}"),
            );
            record.abort_accepted = Some((at, phase));
        }
    }
}

fn abort_text(at: OffsetDateTime) -> String {
    json!({
        "by": "arn:aws:iam::123456789012:user/sim-operator",
        "reason": "simulated abort",
        "at": stagegate::timefmt::rfc3339(at),
    })
    .to_string()
}

fn to_value<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `decision` by `by` at `at`, signed for the approval `state` waits for, as the answer function
/// sends it (a state the gate would not read signs nothing, and the gate refuses it).
fn signed(state: &Value, decision: Decision, by: &str, at: OffsetDateTime) -> Value {
    let answer = GateAnswer {
        decision,
        by: Some(by.to_owned()),
        reason: Some("simulated".into()),
        at,
        signature: None,
    };
    let answer = match stagegate::handlers::parse_state(state) {
        Ok(s) => {
            stagegate::handlers::answer::sign(&ANSWER_KEY, &s, answer.clone()).unwrap_or(answer)
        }
        Err(_) => answer,
    };
    serde_json::to_value(answer).unwrap_or(Value::Null)
}

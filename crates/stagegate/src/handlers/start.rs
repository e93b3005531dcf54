//! start-deployment: validate the input, resolve the snapshot and the rollback target, start the
//! deployment idempotently. The same function plans dry runs and starts the next stage of a
//! promotion wave (`{"advance": <gate state>}`).

use serde_json::Value;

use crate::advance::passed_stage;
use crate::approval::{self, Approval, ApprovalSpec};
use crate::backoff;
use crate::bake::{self, AlarmStatus};
use crate::classify::Outcome;
use crate::clock::Clock;
use crate::deployment::{Deployment, DeploymentAction, DeploymentState};
use crate::error::GateError;
use crate::evidence::{self, Entry, Evidence};
use crate::fields::InvalidInput;
use crate::freeze::{self, ActiveFreeze, FreezeWindow};
use crate::history::{latest_snapshot, rollback_target, serving_snapshot};
use crate::input::{parse_start_event, GateRequest, SnapshotChoice, StartEvent};
use crate::paging::collect_all;
use crate::plan::{plan_stage, Plan};
use crate::policy::{Action, Phase};
use crate::ports::{AbortRequests, Alarms, ServiceError, ServiceErrorKind, StageDeployments};
use crate::starting::{
    self, AlarmsSeen, FiringAlarm, Need, OwnDeployment, StartDecision, StartFacts, Step,
};
use crate::state::{GateState, Watch};
use crate::token::{client_token, Purpose};
use crate::wave::{Wave, WaveStage};

use super::parse_state;

/// What the function's configuration adds to every run: the template's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The template's `FreezeWindows` (the function's `STAGEGATE_FREEZE_WINDOWS`), checked with
    /// each run's own.
    pub freeze_windows: Vec<FreezeWindow>,
}

/// The variable the template sets from its `FreezeWindows` parameter.
pub const FREEZE_WINDOWS_VAR: &str = "STAGEGATE_FREEZE_WINDOWS";

impl Settings {
    /// Read once at init: a template value that does not parse stops the function there, naming
    /// the variable and the window at fault, instead of letting runs start through a freeze.
    pub fn from_env() -> Result<Self, GateError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, GateError> {
        let Some(text) = lookup(FREEZE_WINDOWS_VAR).filter(|t| !t.trim().is_empty()) else {
            return Ok(Self::default());
        };
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            GateError::Configuration(format!("{FREEZE_WINDOWS_VAR} is not JSON: {e}"))
        })?;
        let freeze_windows = freeze::parse_windows(&value, FREEZE_WINDOWS_VAR)
            .map_err(|e| GateError::Configuration(e.to_string()))?;
        Ok(Self { freeze_windows })
    }
}

/// `request_id` names the run when there is no Step Functions context (a direct invoke), so the
/// ClientToken is still stable across Lambda's own retries of that invocation.
pub async fn handle<D: StageDeployments, A: Alarms>(
    deployments: &D,
    alarms: &A,
    event: &Value,
    request_id: &str,
    clock: &impl Clock,
) -> Result<GateState, GateError> {
    handle_with(
        deployments,
        alarms,
        &crate::ports::NoAbortRequests,
        event,
        request_id,
        clock,
        &Settings::default(),
    )
    .await
}

/// `handle` with the run's abort requests and the function's settings (what `main` calls).
pub async fn handle_with<D: StageDeployments, A: Alarms, R: AbortRequests>(
    deployments: &D,
    alarms: &A,
    aborts: &R,
    event: &Value,
    request_id: &str,
    clock: &impl Clock,
    settings: &Settings,
) -> Result<GateState, GateError> {
    let ports = Ports {
        deployments,
        alarms,
        aborts,
    };
    if let Some(state) = event.get("advance") {
        return advance(&ports, state, clock, settings).await;
    }
    if let Some(state) = event.get("approved") {
        return answered(&ports, state, clock, settings).await;
    }
    let now = clock.now();
    let StartEvent { request, execution } = parse_start_event(event)?;
    let execution_id = execution
        .as_ref()
        .map_or_else(|| format!("lambda:{request_id}"), |e| e.id.clone());
    // Step Functions' own start time, as DescribeExecution returns it to `stagegate abort`.
    let run_id = crate::token::run_id(&execution_id, execution.as_ref().and_then(|e| e.start_time));
    let execution_started_at = execution
        .and_then(|e| e.start_time)
        .map_or(now, |t| clock.on_this_clock(t));
    let Some(first) = request.stages.first() else {
        return Err(InvalidInput::new("stages", "must list at least one stage").into());
    };
    let mut state = GateState {
        game_name: request.game_name.clone(),
        stage_name: first.stage_name.clone(),
        execution_id,
        run_id,
        execution_started_at,
        requested_snapshot_id: request.snapshot.as_str().to_owned(),
        previous_snapshot_id: None,
        policy: request.policy.clone(),
        deployment: not_started(request.snapshot.as_str(), now),
        rollback: None,
        bake: first.bake.clone(),
        bake_window: None,
        // The first stage's bake is the state's `bake`; the wave keeps the others'.
        wave: request.wave.then(|| Wave {
            index: 0,
            stages: request
                .stages
                .iter()
                .enumerate()
                .map(|(i, s)| WaveStage {
                    stage_name: s.stage_name.clone(),
                    bake: s.bake.clone().filter(|_| i > 0),
                    approval: s.approval.filter(|_| i > 0),
                    passed: None,
                })
                .collect(),
        }),
        dry_run: request.dry_run,
        plan: None,
        approval: None,
        abort: None,
        abort_unreadable: None,
        freeze_windows: request.freeze_windows.clone(),
        frozen: None,
        decisions: Default::default(),
        phase: Phase::Deploy,
        action: Action::Alert,
        reason: String::new(),
        wait_seconds: 0,
    };
    if request.dry_run {
        return dry_run(deployments, alarms, &request, state, settings, now).await;
    }
    let snapshot_id = resolve_snapshot(deployments, &request, state.execution_started_at).await?;
    check_alarms_exist(alarms, &request).await?;
    state.deployment.snapshot_id = snapshot_id;
    start_stage(&ports, state, first.approval, clock, settings).await
}

/// The ports a stage start uses, passed as one.
struct Ports<'a, D, A, R> {
    deployments: &'a D,
    alarms: &'a A,
    aborts: &'a R,
}

/// Reads the answer to the approval the run waited for (`{"approved": <gate state with
/// approvalAnswer>}`): approved starts the stage; anything else ends the run with nothing of the
/// stage deployed.
async fn answered<D: StageDeployments, A: Alarms, R: AbortRequests>(
    ports: &Ports<'_, D, A, R>,
    event: &Value,
    clock: &impl Clock,
    settings: &Settings,
) -> Result<GateState, GateError> {
    let now = clock.now();
    let mut state = parse_state(event).map_err(|mut e| {
        e.field = format!("approved.{}", e.field);
        e
    })?;
    let pending = state.approval.as_ref().is_some_and(|a| a.answer.is_none());
    if state.action != Action::Approve || state.phase != Phase::Approval || !pending {
        return Err(InvalidInput::new(
            "approved.action",
            "must be a gate state awaiting approval (action \"approve\", an unanswered approval)",
        )
        .into());
    }
    let raw = event.get("approvalAnswer").unwrap_or(&Value::Null);
    let answer = approval::parse_answer(raw, now).map_err(|mut e| {
        e.field = format!("approved.{}", e.field);
        e
    })?;
    let answer = match super::verify_answer::check(ports.aborts, &mut state, answer, now).await? {
        super::verify_answer::Checked::Take(answer) => answer,
        super::verify_answer::Checked::Refused => return Ok(state),
    };
    let decision = answer.decision;
    let by = answer
        .by
        .clone()
        .unwrap_or_else(|| "an unnamed caller".into());
    // `stagegate abort` writes the run's request when it cannot answer the wait (between two
    // attempts of it, or as a colleague answered first): it wins over a rejection or a timeout
    // too, so the run ends as the operator was told, ABORTED, with nothing of the stage deployed.
    if decision != approval::Decision::Abort {
        let unread = super::read_abort(ports.aborts, &mut state, clock).await;
        // Ending the run (rejected, timed out) past an abort a transient failure hid would end
        // it as the operator was not told (simulator seed 429910): retried instead. An approval
        // goes on to the stage's start, which reads the channel again.
        if let Some(e) = unread.filter(|e| e.kind.is_retryable()) {
            if decision != approval::Decision::Approve {
                return Err(GateError::service(
                    format!(
                        "reading the abort requests of {} before ending the run",
                        state.stage()
                    ),
                    e,
                ));
            }
        }
    }
    tracing::info!(stage = %state.stage(), decision = decision.as_str(), %by, "approval answered");
    if let Some(a) = state.approval.as_mut() {
        a.answer = Some(answer.clone());
    }
    let snapshot = state.deployment.snapshot_id.clone();
    let stage = state.stage_name.clone();
    let aborted_by = super::aborted_by(&state);
    let record = |state: &mut GateState, decided: Action, reason: String| {
        state.decisions.push(Entry {
            at: now,
            stage_name: stage.clone(),
            evidence: Evidence::Answer {
                answer: answer.clone(),
                aborted_by: aborted_by.clone(),
            },
            decided,
            reason,
        });
    };
    state.reason = match decision {
        approval::Decision::Approve => {
            record(&mut state, Action::Wait, format!("approved by {by}"));
            state.phase = Phase::Deploy;
            return start_stage(ports, state, None, clock, settings).await;
        }
        _ if state.abort.is_some() => {
            let aborted = super::aborted_by(&state).unwrap_or_default();
            format!("aborted by {aborted} while awaiting approval; {snapshot} was not deployed on {stage}")
        }
        approval::Decision::Reject => format!("{snapshot} on {stage} was rejected by {by}"),
        approval::Decision::Abort => {
            format!(
                "aborted by {by} while awaiting approval; {snapshot} was not deployed on {stage}"
            )
        }
        approval::Decision::TimedOut => format!(
            "nobody answered the approval of {snapshot} on {stage} in time; it was not deployed"
        ),
    };
    state.deployment.finished_at = Some(now);
    state.action = Action::Alert;
    state.wait_seconds = 0;
    let reason = state.reason.clone();
    record(&mut state, Action::Alert, reason);
    Ok(state)
}

/// The run waits for a person before the stage is deployed: nothing is started or baking.
fn ask_approval(
    mut state: GateState,
    spec: ApprovalSpec,
    serving: Option<&str>,
    now: time::OffsetDateTime,
) -> GateState {
    let approval = Approval::request(&state.stage_name, spec, serving, now);
    state.reason = format!(
        "awaiting approval of {} on {} until {}",
        state.deployment.snapshot_id,
        state.stage_name,
        crate::timefmt::rfc3339(approval.expires_at)
    );
    tracing::info!(stage = %state.stage(), reason = %state.reason, "approval requested");
    state.approval = Some(approval);
    state.phase = Phase::Approval;
    state.action = Action::Approve;
    state.wait_seconds = 0;
    state
}

/// Starts the next stage of a promotion wave once poll-deployment decided `advance`.
async fn advance<D: StageDeployments, A: Alarms, R: AbortRequests>(
    ports: &Ports<'_, D, A, R>,
    event: &Value,
    clock: &impl Clock,
    settings: &Settings,
) -> Result<GateState, GateError> {
    let now = clock.now();
    let mut state = parse_state(event).map_err(|mut e| {
        e.field = format!("advance.{}", e.field);
        e
    })?;
    // Only the core's own decision promotes: a routing mistake must not push an unproven
    // snapshot to the next (more important) stage.
    if state.action != Action::Advance {
        return Err(InvalidInput::new(
            "advance.action",
            format!(
                "must be \"advance\" (decided by poll-deployment), got {:?}",
                state.action
            ),
        )
        .into());
    }
    let bake_passed = state
        .bake_window
        .as_ref()
        .map_or(true, |w| w.passed_at.is_some() && w.failure.is_none());
    if state.deployment.outcome != Outcome::Succeeded || state.rollback.is_some() || !bake_passed {
        return Err(InvalidInput::new(
            "advance.outcome",
            "the current stage did not pass its gate; the wave does not advance",
        )
        .into());
    }
    let passed = passed_stage(&state, now);
    let Some(wave) = state.wave.as_mut() else {
        return Err(InvalidInput::new(
            "advance.wave",
            "is missing: only a promotion wave advances",
        )
        .into());
    };
    let next_index = wave.index + 1;
    if next_index >= wave.stages.len() {
        return Err(InvalidInput::new(
            "advance.wave.index",
            format!("the wave has no stage after {}", state.stage_name),
        )
        .into());
    }
    // poll-deployment recorded it already; a state from elsewhere gets it here.
    if let Some(current) = wave.stages.get_mut(wave.index) {
        current.passed.get_or_insert(passed);
    }
    wave.index = next_index;
    // The next stage's bake moves into the state's `bake` (each alarm name is stored once).
    let (stage_name, bake, approval) = match wave.stages.get_mut(next_index) {
        Some(next) => (
            next.stage_name.clone(),
            next.bake.take(),
            next.approval.take(),
        ),
        None => (state.stage_name.clone(), None, None),
    };
    state.stage_name = stage_name;
    state.bake = bake;
    state.bake_window = None;
    state.rollback = None;
    state.previous_snapshot_id = None;
    state.approval = None;
    state.phase = Phase::Deploy;
    let snapshot_id = state.deployment.snapshot_id.clone();
    state.deployment = not_started(&snapshot_id, now);
    start_stage(ports, state, approval, clock, settings).await
}

/// Starts the deployment of `state.deployment.snapshot_id` on the state's current stage, or asks
/// for `approval` first (once the checks below pass: nobody is asked to approve what would not
/// be deployed anyway).
async fn start_stage<D: StageDeployments, A: Alarms, R: AbortRequests>(
    ports: &Ports<'_, D, A, R>,
    mut state: GateState,
    approval: Option<ApprovalSpec>,
    clock: &impl Clock,
    settings: &Settings,
) -> Result<GateState, GateError> {
    let Ports {
        deployments,
        alarms,
        aborts,
    } = *ports;
    let stage = state.stage();
    let snapshot_id = state.deployment.snapshot_id.clone();
    let history = collect_all(|token| deployments.list_deployments(&stage, token))
        .await
        .map_err(|e| GateError::service(format!("reading the deployment history of {stage}"), e))?;
    // An earlier attempt of this task may have reached GameSparks before it timed out: its
    // deployment is this run's, whatever this attempt would decide now (a freeze that began
    // since, the snapshot now serving, an alarm). Checked before anything refuses the start, or
    // the run would report "not started" while its deployment runs unwatched (simulator seeds
    // 102 and 1809). What served before it is the rollback target, not what it put live.
    let own = own_earlier(deployments, &state, &history).await?;
    let before: Vec<Deployment> = match &own {
        Some(o) => served_before(&history, o),
        None => history.clone(),
    };
    state.previous_snapshot_id = rollback_target(&before, &snapshot_id).map(str::to_owned);
    // A deployment of this snapshot running on the stage may be this very task's first attempt,
    // which the start below re-attaches to (through the ClientToken) instead of leaving it
    // running unreported.
    let maybe_ours = history
        .iter()
        .any(|d| d.state.is_active() && d.snapshot_id.as_deref() == Some(snapshot_id.as_str()));
    let mut facts = StartFacts {
        snapshot_id: snapshot_id.clone(),
        requested_latest: state.requested_snapshot_id == crate::input::LATEST,
        later_stage: is_later_stage(&state),
        approval: approval.is_some(),
        bake: state.bake.is_some(),
        own: own.as_ref().map(|o| OwnDeployment {
            deployment_id: o.id.clone(),
            state: o.state.clone(),
        }),
        serving: serving_snapshot(&history).map(str::to_owned),
        snapshot_deploying: maybe_ours,
        abort_read: state.abort.is_some(),
        aborted_by: super::aborted_by(&state),
        alarms: None,
    };
    // The core decides (`starting::step`, where the rules and their reasons are); the start
    // only reads what it asks for, lazily: the abort channel, then the alarms.
    let windows = windows(settings, &state);
    let (decision, now) = loop {
        let now = clock.now();
        match starting::step(&facts, &windows, now) {
            Step::Decided(d) => break (d, now),
            Step::Needs(Need::Abort) => {
                super::read_abort(aborts, &mut state, clock).await;
                facts.abort_read = true;
                facts.aborted_by = super::aborted_by(&state);
            }
            Step::Needs(Need::Alarms) => {
                facts.alarms = Some(read_alarms(alarms, &state).await?);
            }
        }
    };
    if state.decisions.template_freeze_windows.is_empty() {
        state
            .decisions
            .template_freeze_windows
            .clone_from(&settings.freeze_windows);
    }
    let record = |state: &mut GateState, decision: StartDecision| {
        let entry = Entry {
            at: now,
            stage_name: state.stage_name.clone(),
            evidence: Evidence::Start {
                facts: facts.clone(),
                decision,
            },
            decided: state.action,
            reason: state.reason.clone(),
        };
        state.decisions.push(entry);
    };
    let mut state = match decision.clone() {
        StartDecision::Deploy => state,
        StartDecision::Reattach => match own {
            Some(o) => reattach(state, o, now),
            None => state,
        },
        StartDecision::Aborted { by } => aborted_before_start(state, &by, now),
        StartDecision::Frozen { freeze } => frozen(state, freeze, now),
        StartDecision::Unchanged => unchanged(state, now),
        StartDecision::AlarmFiring { alarm } => {
            let name = state.bake.as_ref().map_or("", |b| b.name(alarm.alarm));
            let message = format!(
                "bake alarm {name} is {} ({}); the gate does not deploy while a bake alarm fires",
                alarm.state,
                alarm.reason.as_deref().unwrap_or("no reason given")
            );
            blocked(state, message, now)
        }
        StartDecision::AlarmsUnreadable { error } => {
            return Err(GateError::service(
                format!("reading the bake alarms of {stage}"),
                ServiceError::new(ServiceErrorKind::Other, "DescribeAlarms", error),
            ))
        }
        StartDecision::AskApproval => match approval {
            Some(spec) => ask_approval(state, spec, facts.serving.as_deref(), now),
            None => state,
        },
    };
    if decision != StartDecision::Deploy {
        record(&mut state, decision);
        return Ok(state);
    }

    let token = client_token(&token_key(&state), Purpose::Deploy);
    let started = match deployments
        .start_deployment(&stage, &snapshot_id, &token)
        .await
    {
        // What GameSparks started (or replayed) must be what the gate asked for: watching another
        // snapshot's deployment under this one's name would report the wrong outcome.
        Ok(started) => {
            super::check_snapshot("StartStageDeployment", &stage, &started, &snapshot_id)?;
            started
        }
        // Another deployment holds the stage (this run's own was found above, or replayed by
        // its token). Nothing is retried with another snapshot or token: such a replay could
        // start someone else's snapshot, or a second deployment, the moment the stage frees up
        // (simulator seed 96393).
        Err(e) if e.kind == ServiceErrorKind::Conflict && is_later_stage(&state) => {
            // Later stages of a wave report the block in the state, so the notification can
            // still say which stages the snapshot already reached.
            let message = format!("GameSparks refused the deployment: {}", e.message);
            let mut state = blocked(state, message, clock.now());
            record(&mut state, StartDecision::Deploy);
            return Ok(state);
        }
        Err(e) => {
            return Err(GateError::service(
                format!("starting {snapshot_id} on {stage}"),
                e,
            ))
        }
    };
    // Another deployment ran when the history was read, yet GameSparks accepted this start: it
    // ended in between, and what served just before this deployment may be its snapshot, not the
    // one read (simulator seed 956430 rolled back past another run's deployment). Read again.
    let others_ran = history
        .iter()
        .any(|d| d.state.is_active() && d.snapshot_id.as_deref() != Some(snapshot_id.as_str()));
    if others_ran {
        let fresh = collect_all(|token| deployments.list_deployments(&stage, token))
            .await
            .map_err(|e| {
                GateError::service(format!("reading the deployment history of {stage}"), e)
            })?;
        let mut mine = started.clone();
        if mine.created.is_none() {
            mine.created = Some(clock.now());
        }
        state.previous_snapshot_id =
            rollback_target(&served_before(&fresh, &mine), &snapshot_id).map(str::to_owned);
    }
    let snapshot_id = started.snapshot_id.clone().unwrap_or(snapshot_id);
    // The timeout runs from when the deployment exists, not from when this task began: listing
    // the history under throttling can take a while, and must not eat the deployment's budget.
    // A retried start gets GameSparks' original creation time back, so its deadline stays put.
    let after = clock.now();
    let started_at = started
        .created
        .filter(|created| *created <= after)
        .unwrap_or(after);
    let deadline = backoff::deadline(started_at, state.policy.timeout_seconds);
    state.wait_seconds = backoff::next_wait(0, &started.id, after, deadline);
    tracing::info!(
        stage = %stage,
        snapshot_id = %snapshot_id,
        deployment_id = %started.id,
        previous_snapshot_id = state.previous_snapshot_id.as_deref().unwrap_or("none"),
        deadline = %crate::timefmt::rfc3339(deadline),
        "deployment started"
    );
    state.deployment = watching(started, snapshot_id, started_at, deadline);
    state.action = Action::Wait;
    state.reason = "deployment started".into();
    record(&mut state, StartDecision::Deploy);
    Ok(state)
}

/// The stage's bake alarms as the start's decision needs them: the first failing one in full, the
/// rest counted by state. An unreadable read is a fact when the input says to ignore it, else an
/// error Step Functions retries (no start without the evidence).
async fn read_alarms<A: Alarms>(alarms: &A, state: &GateState) -> Result<AlarmsSeen, GateError> {
    let Some(spec) = state.bake.as_ref() else {
        return Ok(AlarmsSeen {
            states: Default::default(),
            firing: None,
            unreadable: None,
            ignore_read_errors: false,
        });
    };
    match alarms.describe_alarms(&spec.alarm_names).await {
        Ok(found) => {
            let mut states = std::collections::BTreeMap::new();
            for a in &found {
                *states.entry(a.state.clone()).or_insert(0u32) += 1;
            }
            // The first failing alarm in `alarmNames` order, by its position there.
            let firing = spec.alarm_names.iter().enumerate().find_map(|(i, name)| {
                let a = found
                    .iter()
                    .find(|a| &a.name == name && bake::is_failing(spec, &a.state))?;
                Some(FiringAlarm {
                    alarm: i,
                    state: a.state.clone(),
                    reason: a.reason.as_deref().map(evidence::cut),
                })
            });
            Ok(AlarmsSeen {
                states,
                firing,
                unreadable: None,
                ignore_read_errors: spec.ignore_alarm_read_errors,
            })
        }
        Err(e) if spec.ignore_alarm_read_errors => {
            tracing::warn!(stage = %state.stage(), error = %e, "bake alarms unreadable before the deployment; ignored as the input asks");
            Ok(AlarmsSeen {
                states: Default::default(),
                firing: None,
                unreadable: Some(evidence::cut(&e.to_string())),
                ignore_read_errors: true,
            })
        }
        Err(e) => Err(GateError::service(
            format!("reading the bake alarms of {}", state.stage()),
            e,
        )),
    }
}

/// This run's own deployment of the snapshot on this stage, if an earlier attempt started it:
/// the newest deployment of the snapshot there, created at or after the run began.
/// ListStageDeployments carries no creation time, so the candidate is read once more; a failed
/// read is retried (deciding without it could report a running deployment as not started). A
/// deployment of the same snapshot that someone else started after this run began is taken as
/// this run's too: GameSparks does not list whose token made it, and starting the same snapshot
/// again would only repeat it.
async fn own_earlier<D: StageDeployments>(
    deployments: &D,
    state: &GateState,
    history: &[Deployment],
) -> Result<Option<Deployment>, GateError> {
    let snapshot = state.deployment.snapshot_id.as_str();
    let Some(candidate) = history.iter().find(|d| {
        d.action != Some(DeploymentAction::Undeploy) && d.snapshot_id.as_deref() == Some(snapshot)
    }) else {
        return Ok(None);
    };
    let candidate = match candidate.created {
        Some(_) => candidate.clone(),
        None => deployments
            .get_deployment(&state.stage(), &candidate.id)
            .await
            .map_err(|e| {
                GateError::service(
                    format!("reading deployment {} on {}", candidate.id, state.stage()),
                    e,
                )
            })?,
    };
    Ok(candidate
        .created
        .is_some_and(|c| c >= state.execution_started_at)
        .then_some(candidate))
}

/// The history as it stood before `own` was started: what a rollback of it goes back to.
fn served_before(history: &[Deployment], own: &Deployment) -> Vec<Deployment> {
    let Some(created) = own.created else {
        return history.to_vec();
    };
    history
        .iter()
        .filter(|d| d.id != own.id && d.last_updated.is_some_and(|t| t < created))
        .cloned()
        .collect()
}

/// Watches the deployment an earlier attempt of this task started and GameSparks already ended:
/// the next poll classifies it as it would have.
fn reattach(mut state: GateState, own: Deployment, now: time::OffsetDateTime) -> GateState {
    let started_at = own.created.filter(|c| *c <= now).unwrap_or(now);
    let deadline = backoff::deadline(started_at, state.policy.timeout_seconds);
    tracing::warn!(stage = %state.stage(), deployment_id = %own.id, state = %own.state, "re-attached to this run's own deployment, started by an earlier attempt");
    state.reason = format!(
        "re-attached to deployment {} of {}, which an earlier attempt of this task started (it is {})",
        own.id, state.deployment.snapshot_id, own.state
    );
    let snapshot_id = state.deployment.snapshot_id.clone();
    state.deployment = watching(own, snapshot_id, started_at, deadline);
    state.action = Action::Wait;
    state.wait_seconds = 0;
    state
}

/// The run's deployment of `snapshot_id`, watched from `started_at` to `deadline`.
fn watching(
    deployment: Deployment,
    snapshot_id: String,
    started_at: time::OffsetDateTime,
    deadline: time::OffsetDateTime,
) -> Watch {
    Watch {
        deployment_id: deployment.id,
        snapshot_id,
        started_at,
        deadline,
        attempt: 0,
        deployment_state: deployment.state,
        outcome: Outcome::InProgress,
        result_code: None,
        message: None,
        finished_at: None,
        rollback_of: None,
    }
}

/// One ClientToken per run and stage: a retried task re-attaches to its deployment, each stage
/// of a wave gets its own, and a later run with the same execution name never replays this
/// one's (simulator seed 50: it ended BLOCKED, "another deployment holds the stage").
pub(crate) fn token_key(state: &GateState) -> String {
    match &state.wave {
        Some(_) => format!("{}#{}", state.run(), state.stage_name),
        None => state.run().to_owned(),
    }
}

fn unchanged(mut state: GateState, now: time::OffsetDateTime) -> GateState {
    let message = format!(
        "{} already serves {}, the newest snapshot: nothing new to deploy",
        state.stage_name, state.deployment.snapshot_id
    );
    tracing::info!(stage = %state.stage(), %message, "deployment not started");
    state.deployment.outcome = Outcome::Unchanged;
    state.deployment.deployment_state = DeploymentState::NotStarted;
    state.deployment.finished_at = Some(now);
    state.action = Action::Succeed;
    state.reason = message;
    state.wait_seconds = 0;
    state
}

/// The run was aborted before this stage started: it ends ABORTED with nothing of the stage
/// deployed.
fn aborted_before_start(state: GateState, by: &str, now: time::OffsetDateTime) -> GateState {
    let message = format!(
        "aborted by {by} before {} was started on {}; nothing of this stage was deployed",
        state.deployment.snapshot_id, state.stage_name
    );
    blocked(state, message, now)
}

/// The template's windows and the run's own.
fn windows(settings: &Settings, state: &GateState) -> Vec<FreezeWindow> {
    settings
        .freeze_windows
        .iter()
        .chain(&state.freeze_windows)
        .cloned()
        .collect()
}

fn frozen(mut state: GateState, active: ActiveFreeze, now: time::OffsetDateTime) -> GateState {
    let message = format!(
        "a freeze{} is active until {}{}: {} is not started on {}",
        active
            .name
            .as_deref()
            .map_or_else(String::new, |n| format!(" ({n})")),
        if active.open_ended { "at least " } else { "" },
        crate::timefmt::rfc3339(active.until),
        state.deployment.snapshot_id,
        state.stage_name
    );
    state.frozen = Some(active);
    blocked(state, message, now)
}

fn is_later_stage(state: &GateState) -> bool {
    state.wave.as_ref().is_some_and(|w| w.index > 0)
}

/// A deployment the gate did not start.
fn not_started(snapshot_id: &str, now: time::OffsetDateTime) -> Watch {
    Watch {
        deployment_id: String::new(),
        snapshot_id: snapshot_id.to_owned(),
        started_at: now,
        deadline: now,
        attempt: 0,
        deployment_state: DeploymentState::NotStarted,
        outcome: Outcome::InProgress,
        result_code: None,
        message: None,
        finished_at: None,
        rollback_of: None,
    }
}

fn blocked(mut state: GateState, message: String, now: time::OffsetDateTime) -> GateState {
    tracing::warn!(stage = %state.stage(), %message, "deployment not started");
    state.deployment.outcome = Outcome::Blocked;
    state.deployment.message = Some(message.clone());
    state.deployment.finished_at = Some(now);
    state.action = Action::Alert;
    state.reason = message;
    state.wait_seconds = 0;
    state
}

async fn resolve_snapshot<D: StageDeployments>(
    deployments: &D,
    request: &GateRequest,
    created_by: time::OffsetDateTime,
) -> Result<String, GateError> {
    match &request.snapshot {
        SnapshotChoice::Id(id) => Ok(id.clone()),
        SnapshotChoice::Latest => {
            let game = request.game_name.as_str();
            let context = || format!("resolving \"latest\" for game {game}");
            let snapshots = collect_all(|token| deployments.list_snapshots(game, token))
                .await
                .map_err(|e| GateError::service(context(), e))?;
            latest_snapshot(&snapshots, created_by)
                .map(|s| s.id.clone())
                .ok_or_else(|| {
                    let why = if snapshots.is_empty() {
                        "the game has no snapshots".to_owned()
                    } else {
                        format!(
                            "the game has no snapshots created before the run began ({})",
                            crate::timefmt::rfc3339(created_by)
                        )
                    };
                    GateError::service(
                        context(),
                        ServiceError::new(ServiceErrorKind::NotFound, "ListSnapshots", why),
                    )
                })
        }
    }
}

/// A misspelt alarm name is rejected before anything is deployed, not discovered by a bake that
/// then fails and rolls back a good deployment.
async fn check_alarms_exist<A: Alarms>(alarms: &A, request: &GateRequest) -> Result<(), GateError> {
    for stage in &request.stages {
        let Some(spec) = &stage.bake else { continue };
        let found = match alarms.describe_alarms(&spec.alarm_names).await {
            Ok(found) => found,
            Err(_) if spec.ignore_alarm_read_errors => continue,
            Err(e) => {
                return Err(GateError::service(
                    format!("reading the bake alarms of {}", stage.stage_name),
                    e,
                ))
            }
        };
        let missing = bake::missing_alarms(spec, &found);
        if !missing.is_empty() && !spec.ignore_alarm_read_errors {
            return Err(InvalidInput::new(
                format!("{}.alarmNames", stage.bake_field),
                format!(
                    "CloudWatch has no alarm named {} (in this account and region)",
                    bake::first_few(&missing)
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// Errors a dry run reports in its plan; the retryable ones are thrown so Step Functions retries.
fn plan_error(e: ServiceError) -> Result<String, GateError> {
    if e.kind.is_retryable() {
        Err(GateError::service("dry run", e))
    } else {
        Ok(e.to_string())
    }
}

async fn dry_run<D: StageDeployments, A: Alarms>(
    deployments: &D,
    alarms: &A,
    request: &GateRequest,
    mut state: GateState,
    settings: &Settings,
    now: time::OffsetDateTime,
) -> Result<GateState, GateError> {
    let created_by = state.execution_started_at;
    let game = request.game_name.as_str();
    let mut problems = vec![];
    let freeze_windows = windows(settings, &state);
    let mut freeze_note = None;
    match freeze::active(&freeze_windows, now) {
        Some(active) => problems.push(format!(
            "a freeze{} is active until {}{}: the run would end FROZEN",
            active
                .name
                .as_deref()
                .map_or_else(String::new, |n| format!(" ({n})")),
            if active.open_ended { "at least " } else { "" },
            crate::timefmt::rfc3339(active.until)
        )),
        None => {
            freeze_note = freeze::next_start(&freeze_windows, now).map(|at| {
                format!(
                    "the next freeze starts at {}: a stage not started by then is refused (FROZEN)",
                    crate::timefmt::rfc3339(at)
                )
            });
        }
    }
    let snapshots = collect_all(|token| deployments.list_snapshots(game, token)).await;
    let snapshot_id = match (&request.snapshot, snapshots) {
        (_, Err(e)) => {
            problems.push(format!(
                "the game's snapshots could not be listed: {}",
                plan_error(e)?
            ));
            match &request.snapshot {
                SnapshotChoice::Id(id) => Some(id.clone()),
                SnapshotChoice::Latest => None,
            }
        }
        (SnapshotChoice::Id(id), Ok(list)) => {
            if !list.iter().any(|s| &s.id == id) {
                problems.push(format!("snapshot {id} does not exist in game {game}"));
            }
            Some(id.clone())
        }
        (SnapshotChoice::Latest, Ok(list)) => {
            let latest = latest_snapshot(&list, created_by).map(|s| s.id.clone());
            if latest.is_none() {
                problems.push(format!(
                    "game {game} has no snapshots to resolve \"latest\""
                ));
            }
            latest
        }
    };
    let mut stages = vec![];
    for (i, spec) in request.stages.iter().enumerate() {
        let Some(stage) = request.stage(i) else {
            continue;
        };
        let history = match collect_all(|token| deployments.list_deployments(&stage, token)).await {
            Ok(h) => Ok(h),
            Err(e) => Err(plan_error(e)?),
        };
        let reading: Option<Result<Vec<AlarmStatus>, String>> = match &spec.bake {
            None => None,
            Some(b) => Some(match alarms.describe_alarms(&b.alarm_names).await {
                Ok(found) => Ok(found),
                Err(e) => Err(plan_error(e)?),
            }),
        };
        stages.push(plan_stage(
            &stage.stage_name,
            snapshot_id.as_deref(),
            history.as_deref().map_err(Clone::clone),
            spec.bake.as_ref(),
            reading,
        ));
    }
    if let (Some(note), Some(first)) = (freeze_note, stages.first_mut()) {
        first.notes.push(note);
    }
    for (spec, planned) in request.stages.iter().zip(stages.iter_mut()) {
        if let Some(a) = spec.approval {
            planned.notes.push(format!(
                "approval is asked for before this stage is deployed (timeout {} s)",
                a.timeout_seconds
            ));
        }
    }
    let plan = Plan::new(snapshot_id.clone(), problems, stages);
    if let Some(id) = snapshot_id {
        state.deployment.snapshot_id = id;
    }
    state.previous_snapshot_id = plan
        .stages
        .first()
        .and_then(|s| s.rollback_snapshot_id.clone());
    (state.action, state.reason) = if plan.ready {
        (
            Action::Succeed,
            "dry run: nothing would stop the run; nothing was started".to_owned(),
        )
    } else {
        (
            Action::Alert,
            format!(
                "dry run: the run would not go ahead: {}",
                plan.all_problems().join("; ")
            ),
        )
    };
    tracing::info!(
        game = game,
        ready = plan.ready,
        problems = plan.all_problems().len(),
        "dry run planned"
    );
    state.plan = Some(plan);
    Ok(state)
}

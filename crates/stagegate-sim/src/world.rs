//! The world a simulated run happens in: GameSparks, CloudWatch, Parameter Store and SNS as the
//! project's rule-keeping fakes, one virtual clock, and the other actors (a second run on the
//! stage, an operator, a snapshot build) acting at their scheduled times.
//!
//! The gate reaches the fakes only through the port wrappers below, which is where faults enter:
//! a throttle or a 5xx on any call, a deployment that ends just before a call, and the Lambda
//! being stopped after a call reached the service (its later calls fail, its answer is lost).
//! Everything the invariants read later is what the fakes recorded plus the world's own log of
//! what the other actors did, never the gate's state or message alone.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use stagegate::bake::AlarmStatus;
use stagegate::clock::Clock;
use stagegate::deployment::{Deployment, DeploymentState, ResultCode, Snapshot};
use stagegate::fakes::{FakeAbortRequests, FakeAlarms, FakeGameSparks, FakeMetrics, FakeNotifier};
use stagegate::notification::Notification;
use stagegate::ports::{
    AbortRequests, Alarms, Notifier, Page, ServiceError, ServiceErrorKind, StageDeployments,
    StageRef,
};
use time::{Duration, OffsetDateTime};

use crate::faults::{Fault, FaultKind};
use gamesparks_local::rng::Rng;

/// The key the simulated answer function signs with (the world's Parameter Store holds it).
pub const ANSWER_KEY: [u8; 32] = [0x5a; 32];

/// The one clock every participant reads: the handlers (through `Clock`), the fakes and the
/// workflow model. Milliseconds since the Unix epoch.
#[derive(Debug)]
pub struct SimClock(AtomicI64);

impl SimClock {
    pub fn new(at: OffsetDateTime) -> Self {
        Self(AtomicI64::new(millis(at)))
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms.max(0), Ordering::SeqCst);
    }

    pub fn set(&self, at: OffsetDateTime) {
        self.0.store(millis(at), Ordering::SeqCst);
    }
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

impl Clock for SimClock {
    fn now(&self) -> OffsetDateTime {
        let ms = self.0.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// How a deployment GameSparks accepted will go.
#[derive(Debug, Clone)]
pub struct Fate {
    pub in_progress_at: OffsetDateTime,
    pub finish_at: OffsetDateTime,
    pub code: ResultCode,
}

/// Something another actor does at a time.
#[derive(Debug, Clone)]
pub enum Event {
    /// Another run starts `snapshot` on `stage` (it gives up if GameSparks refuses).
    OtherDeploys { stage: String, snapshot: String },
    /// A bake alarm changes state.
    Alarm { name: String, state: &'static str },
    /// A new snapshot is built.
    Snapshot { id: String },
}

/// Which part of the gate is running, for faults aimed at one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    GameSparks,
    CloudWatch,
    Ssm,
    Sns,
}

/// Per-invocation fault plan, set by the workflow model before it invokes a function.
#[derive(Debug, Default, Clone)]
pub struct Invocation {
    /// Started at (virtual).
    pub began: Option<OffsetDateTime>,
    /// Stop the function after this many calls reached their service.
    pub stop_after: Option<usize>,
    pub calls: usize,
    pub stopped: bool,
}

#[derive(Debug)]
struct Inner {
    rng: Rng,
    fates: BTreeMap<String, Fate>,
    events: Vec<(OffsetDateTime, Event)>,
    sns_outage: Option<(OffsetDateTime, OffsetDateTime)>,
    invocation: Invocation,
    /// Per-call fault probabilities (per mille).
    throttle_per_mille: u64,
    finish_early_per_mille: u64,
    /// Per invocation (per mille): stopped after some calls; refused before running.
    stop_per_mille: u64,
    refuse_per_mille: u64,
    /// Deployments someone other than the gate started: id -> (stage, snapshot).
    others: BTreeMap<String, (String, String)>,
    /// Deployment id -> when the invocation that created it began (gate deployments only).
    created_by_invocation: BTreeMap<String, OffsetDateTime>,
    /// The faults injected so far, in order: the run's schedule as it happened.
    trace: Vec<Fault>,
    /// How long deployments take, and how they end (drawn when GameSparks accepts one).
    fate_mix: FateMix,
    ids_seen: usize,
}

/// How deployments go, per mille of each ending.
#[derive(Debug, Clone, Copy)]
pub struct FateMix {
    pub invalid_role: u64,
    pub unspecified: u64,
    /// Still running long past any deadline.
    pub stuck: u64,
    pub min_seconds: i64,
    pub max_seconds: i64,
}

pub struct World {
    pub gs: FakeGameSparks,
    pub alarms: FakeAlarms,
    pub aborts: FakeAbortRequests,
    pub sns: FakeNotifier,
    pub metrics: FakeMetrics,
    pub clock: SimClock,
    inner: Mutex<Inner>,
}

impl World {
    pub fn new(gs: FakeGameSparks, start: OffsetDateTime, rng: Rng, fate_mix: FateMix) -> Self {
        let gs = gs.with_page_size(3);
        gs.set_now(start);
        Self {
            gs,
            alarms: FakeAlarms::new(),
            aborts: {
                let aborts = FakeAbortRequests::new();
                aborts.set_answer_key(&stagegate::handlers::answer::key_text(&ANSWER_KEY));
                aborts
            },
            sns: FakeNotifier::default(),
            metrics: FakeMetrics::default(),
            clock: SimClock::new(start),
            inner: Mutex::new(Inner {
                rng,
                fates: BTreeMap::new(),
                events: vec![],
                sns_outage: None,
                invocation: Invocation::default(),
                throttle_per_mille: 0,
                finish_early_per_mille: 0,
                stop_per_mille: 0,
                refuse_per_mille: 0,
                others: BTreeMap::new(),
                created_by_invocation: BTreeMap::new(),
                trace: vec![],
                fate_mix,
                ids_seen: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Per mille: a call throttled or failing; a deployment ending just before a call; an
    /// invocation stopped after some calls; an invocation refused.
    pub fn set_faults(&self, throttle: u64, finish_early: u64, stop: u64, refuse: u64) {
        let mut w = self.lock();
        w.throttle_per_mille = throttle;
        w.finish_early_per_mille = finish_early;
        w.stop_per_mille = stop;
        w.refuse_per_mille = refuse;
    }

    pub fn stop_per_mille(&self) -> u64 {
        self.lock().stop_per_mille
    }

    pub fn refuse_per_mille(&self) -> u64 {
        self.lock().refuse_per_mille
    }

    pub fn schedule(&self, at: OffsetDateTime, event: Event) {
        let mut w = self.lock();
        w.events.push((at, event));
        w.events.sort_by_key(|(t, _)| *t);
    }

    pub fn sns_outage(&self, from: OffsetDateTime, to: OffsetDateTime) {
        self.lock().sns_outage = Some((from, to));
    }

    pub fn note(&self, kind: FaultKind, what: String) {
        let at = self.now();
        self.lock().trace.push(Fault { at, kind, what });
    }

    pub fn trace(&self) -> Vec<Fault> {
        self.lock().trace.clone()
    }

    pub fn others(&self) -> BTreeMap<String, (String, String)> {
        self.lock().others.clone()
    }

    pub fn created_by_invocation(&self) -> BTreeMap<String, OffsetDateTime> {
        self.lock().created_by_invocation.clone()
    }

    pub fn fate(&self, id: &str) -> Option<Fate> {
        self.lock().fates.get(id).cloned()
    }

    pub fn draw(&self, lo: u64, hi: u64) -> u64 {
        self.lock().rng.range(lo, hi)
    }

    pub fn chance(&self, per_mille: u64) -> bool {
        per_mille > 0 && self.draw(0, 999) < per_mille
    }

    /// Begins a function invocation with its fault plan.
    pub fn begin_invocation(&self, stop_after: Option<usize>) {
        let now = self.now();
        self.lock().invocation = Invocation {
            began: Some(now),
            stop_after,
            calls: 0,
            stopped: false,
        };
    }

    /// Ends it: whether the function was stopped (its answer is lost).
    pub fn end_invocation(&self) -> Invocation {
        std::mem::take(&mut self.lock().invocation)
    }

    /// Moves the world to the clock's time: other actors act, deployments progress and end.
    pub fn settle(&self) {
        let now = self.now();
        self.gs.set_now(now);
        self.assign_fates(now);
        loop {
            // The earliest thing due: an event or a deployment's progress.
            let next = {
                let w = self.lock();
                let event = w.events.first().filter(|(t, _)| *t <= now).map(|(t, _)| *t);
                let fate = w
                    .fates
                    .iter()
                    .filter_map(|(id, f)| self.due(id, f, now))
                    .min_by_key(|(t, _)| *t);
                match (event, fate) {
                    (Some(e), Some((f, _))) if e <= f => Step::Event,
                    (_, Some((_, id))) => Step::Fate(id),
                    (Some(_), None) => Step::Event,
                    (None, None) => Step::Done,
                }
            };
            match next {
                Step::Done => break,
                Step::Event => {
                    let (at, event) = self.lock().events.remove(0);
                    self.apply(at, event);
                    self.assign_fates(now);
                }
                Step::Fate(id) => self.progress(&id, now),
            }
        }
        self.gs.set_now(now);
    }

    fn due(&self, id: &str, f: &Fate, now: OffsetDateTime) -> Option<(OffsetDateTime, String)> {
        let d = self.gs.deployment(id)?;
        match d.state {
            DeploymentState::Pending if f.in_progress_at <= now => {
                Some((f.in_progress_at, id.to_owned()))
            }
            DeploymentState::Pending | DeploymentState::InProgress if f.finish_at <= now => {
                Some((f.finish_at, id.to_owned()))
            }
            _ => None,
        }
    }

    fn progress(&self, id: &str, now: OffsetDateTime) {
        let Some(f) = self.fate(id) else { return };
        let Some(d) = self.gs.deployment(id) else {
            return;
        };
        if d.state == DeploymentState::Pending && f.finish_at > now {
            self.gs.set_state(
                id,
                DeploymentState::InProgress,
                None,
                None,
                f.in_progress_at,
            );
        } else {
            self.gs.finish(id, f.code, f.finish_at);
        }
    }

    fn apply(&self, at: OffsetDateTime, event: Event) {
        self.gs.set_now(at);
        match event {
            Event::OtherDeploys { stage, snapshot } => {
                let stage_ref = StageRef {
                    game_name: stagegate::fakes::GAME.into(),
                    stage_name: stage.clone(),
                };
                let token = format!("other-run-token-{:020}", at.unix_timestamp());
                let started =
                    crate::exec::block_on(self.gs.start_deployment(&stage_ref, &snapshot, &token));
                let what = match started {
                    Ok(d) => {
                        self.lock()
                            .others
                            .insert(d.id.clone(), (stage.clone(), snapshot.clone()));
                        format!("another run started {} ({snapshot}) on {stage}", d.id)
                    }
                    Err(e) => format!("another run could not start {snapshot} on {stage}: {e}"),
                };
                self.lock().trace.push(Fault {
                    at,
                    kind: FaultKind::SecondRun,
                    what,
                });
            }
            Event::Alarm { name, state } => {
                self.alarms.set(&name, state, at);
                self.lock().trace.push(Fault {
                    at,
                    kind: FaultKind::AlarmFires,
                    what: format!("alarm {name} -> {state}"),
                });
            }
            Event::Snapshot { id } => {
                self.gs.add_snapshot(&id, at);
                self.lock().trace.push(Fault {
                    at,
                    kind: FaultKind::NewSnapshot,
                    what: format!("snapshot {id} built"),
                });
            }
        }
    }

    /// Gives every deployment GameSparks accepted since the last look its fate.
    fn assign_fates(&self, now: OffsetDateTime) {
        let created = self.gs.started_count();
        if created == self.lock().ids_seen {
            return;
        }
        let all = self.gs.all_deployments();
        let mut w = self.lock();
        w.ids_seen = created;
        let mix = w.fate_mix;
        for (_, d) in all {
            if w.fates.contains_key(&d.id) || !d.state.is_active() {
                continue;
            }
            let created_at = d.created.unwrap_or(now);
            let ending = w.rng.range(0, 999);
            let code = if ending < mix.invalid_role {
                ResultCode::InvalidRoleFailure
            } else if ending < mix.invalid_role + mix.unspecified {
                ResultCode::UnspecifiedFailure
            } else {
                ResultCode::Success
            };
            let stuck = ending >= 1000 - mix.stuck;
            let seconds = if stuck {
                100_000
            } else {
                i64::try_from(w.rng.range(
                    u64::try_from(mix.min_seconds).unwrap_or(1),
                    u64::try_from(mix.max_seconds).unwrap_or(600),
                ))
                .unwrap_or(60)
            };
            let in_progress = i64::try_from(w.rng.range(1, 5)).unwrap_or(1);
            w.fates.insert(
                d.id.clone(),
                Fate {
                    in_progress_at: created_at + Duration::seconds(in_progress),
                    finish_at: created_at + Duration::seconds(seconds.max(in_progress)),
                    code,
                },
            );
        }
    }

    /// The gate's calls pass through here: time moves a little, the world settles, and a fault
    /// may answer instead of the service.
    fn enter(&self, service: Service, operation: &'static str) -> Result<(), ServiceError> {
        let step = self.draw(20, 250);
        self.clock
            .advance(Duration::milliseconds(i64::try_from(step).unwrap_or(50)));
        self.settle();
        let (stopped, throttle, finish_early, sns_down) = {
            let w = self.lock();
            let now = self.now();
            (
                w.invocation.stopped,
                w.throttle_per_mille,
                w.finish_early_per_mille,
                service == Service::Sns
                    && w.sns_outage
                        .is_some_and(|(from, to)| from <= now && now < to),
            )
        };
        if stopped {
            return Err(ServiceError::new(
                ServiceErrorKind::Transport,
                operation,
                "the function was stopped (simulated Lambda timeout)",
            ));
        }
        if sns_down {
            self.note(
                FaultKind::SnsOutage,
                format!("{operation}: SNS unavailable"),
            );
            return Err(ServiceError::from_reply(
                operation,
                Some("InternalFailure"),
                Some(500),
                Some("simulated SNS outage"),
            ));
        }
        if service == Service::GameSparks && self.chance(finish_early) {
            self.finish_one_now();
        }
        if self.chance(throttle) {
            let throttled = self.chance(500);
            self.note(
                FaultKind::Throttle,
                format!(
                    "{operation}: {}",
                    if throttled { "throttled" } else { "500" }
                ),
            );
            return Err(if throttled {
                ServiceError::from_reply(
                    operation,
                    Some("ThrottlingException"),
                    Some(429),
                    Some("simulated throttle"),
                )
            } else {
                ServiceError::from_reply(
                    operation,
                    Some("InternalServerException"),
                    Some(500),
                    Some("simulated 5xx"),
                )
            });
        }
        Ok(())
    }

    /// A call reached its service: it counts towards the function being stopped after it.
    fn reached(&self) {
        let mut w = self.lock();
        w.invocation.calls += 1;
        if w.invocation
            .stop_after
            .is_some_and(|n| w.invocation.calls >= n)
        {
            w.invocation.stopped = true;
        }
    }

    /// A deployment still running ends now (between two of the gate's calls).
    fn finish_one_now(&self) {
        let now = self.now();
        let active: Vec<String> = self
            .gs
            .all_deployments()
            .into_iter()
            .filter(|(_, d)| d.state.is_active())
            .map(|(_, d)| d.id)
            .collect();
        let Some(id) = active.first() else { return };
        let mut w = self.lock();
        if let Some(f) = w.fates.get_mut(id) {
            if f.finish_at > now && f.finish_at.unix_timestamp() - now.unix_timestamp() < 50_000 {
                f.finish_at = now;
                f.in_progress_at = f.in_progress_at.min(now);
                w.trace.push(Fault {
                    at: now,
                    kind: FaultKind::FinishBetweenCalls,
                    what: format!("{id} ends now, between two calls"),
                });
            }
        }
        drop(w);
        self.settle();
    }

    fn record_created(&self, d: &Deployment) {
        let mut w = self.lock();
        if let Some(began) = w.invocation.began {
            w.created_by_invocation.entry(d.id.clone()).or_insert(began);
        }
    }
}

enum Step {
    Done,
    Event,
    Fate(String),
}

/// The ports the gate's functions get.
pub struct Ports<'a>(pub &'a World);

impl Ports<'_> {
    /// One call through the world: time moves, a fault may answer instead, and a call that
    /// reached its service counts towards the function being stopped after it. The fakes' calls
    /// do their work when awaited, so `call` is built before `enter` but runs after it.
    async fn through<T>(
        &self,
        service: Service,
        operation: &'static str,
        call: impl std::future::Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ServiceError> {
        self.0.enter(service, operation)?;
        let r = call.await;
        self.0.reached();
        r
    }
}

impl StageDeployments for Ports<'_> {
    async fn start_deployment(
        &self,
        stage: &StageRef,
        snapshot_id: &str,
        client_token: &str,
    ) -> Result<Deployment, ServiceError> {
        self.0.enter(Service::GameSparks, "StartStageDeployment")?;
        let before = self.0.gs.started_count();
        let r = self
            .0
            .gs
            .start_deployment(stage, snapshot_id, client_token)
            .await;
        if let Ok(d) = &r {
            if self.0.gs.started_count() > before {
                self.0.record_created(d);
            }
        }
        self.0.reached();
        self.0.settle();
        r
    }

    async fn get_deployment(
        &self,
        stage: &StageRef,
        deployment_id: &str,
    ) -> Result<Deployment, ServiceError> {
        let call = self.0.gs.get_deployment(stage, deployment_id);
        self.through(Service::GameSparks, "GetStageDeployment", call)
            .await
    }

    async fn list_deployments(
        &self,
        stage: &StageRef,
        next_token: Option<String>,
    ) -> Result<Page<Deployment>, ServiceError> {
        let call = self.0.gs.list_deployments(stage, next_token);
        self.through(Service::GameSparks, "ListStageDeployments", call)
            .await
    }

    async fn list_snapshots(
        &self,
        game_name: &str,
        next_token: Option<String>,
    ) -> Result<Page<Snapshot>, ServiceError> {
        let call = self.0.gs.list_snapshots(game_name, next_token);
        self.through(Service::GameSparks, "ListSnapshots", call)
            .await
    }
}

impl Alarms for Ports<'_> {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmStatus>, ServiceError> {
        let call = self.0.alarms.describe_alarms(names);
        self.through(Service::CloudWatch, "DescribeAlarms", call)
            .await
    }
}

impl AbortRequests for Ports<'_> {
    async fn abort_request(&self, run_id: &str) -> Result<Option<String>, ServiceError> {
        let call = self.0.aborts.abort_request(run_id);
        self.through(Service::Ssm, "GetParameter", call).await
    }

    async fn clear_abort_request(&self, run_id: &str) -> Result<(), ServiceError> {
        let call = self.0.aborts.clear_abort_request(run_id);
        self.through(Service::Ssm, "DeleteParameter", call).await
    }

    async fn answer_key(&self, run_id: &str) -> Result<Option<String>, ServiceError> {
        let call = self.0.aborts.answer_key(run_id);
        self.through(Service::Ssm, "GetParameter", call).await
    }
}

impl Notifier for Ports<'_> {
    async fn publish(&self, notification: &Notification) -> Result<String, ServiceError> {
        let call = self.0.sns.publish(notification);
        self.through(Service::Sns, "Publish", call).await
    }
}

impl Clock for Ports<'_> {
    fn now(&self) -> OffsetDateTime {
        self.0.clock.now()
    }
}

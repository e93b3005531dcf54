//! In-memory ports for tests: a GameSparks game with scripted per-stage histories and failures,
//! and a notifier that records what it was asked to publish. They keep the GameSparks rules the
//! gate relies on, as the emulator does: deployments belong to one stage of one game (another
//! stage's id is not found), one running deployment per stage, a snapshot must exist to be
//! deployed, a ClientToken replays only the same request (game, stage and snapshot), and every
//! deployment has its creation time (the fake's clock, `set_now`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

use crate::bake::AlarmStatus;
use crate::deployment::{Deployment, DeploymentAction, DeploymentState, ResultCode, Snapshot};
use crate::message::Message;
use crate::notification::Notification;
use crate::ports::{
    AbortRequests, Alarms, Notifier, Page, ServiceError, ServiceErrorKind, StageDeployments,
    StageRef,
};

pub const START: &str = "StartStageDeployment";
pub const GET: &str = "GetStageDeployment";
pub const LIST_DEPLOYMENTS: &str = "ListStageDeployments";
pub const LIST_SNAPSHOTS: &str = "ListSnapshots";
pub const DESCRIBE_ALARMS: &str = "DescribeAlarms";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCall {
    pub stage: StageRef,
    pub snapshot_id: String,
    pub client_token: String,
}

/// The game the fake holds (the handler tests' game).
pub const GAME: &str = "space-raiders";
/// Where the fake's clock starts: the handler tests' `T0`.
pub const FAKE_NOW: OffsetDateTime = time::macros::datetime!(2026-03-01 12:00 UTC);

#[derive(Debug)]
struct Game {
    name: String,
    now: OffsetDateTime,
    snapshots: Vec<Snapshot>,
    /// Every stage's deployments, newest first, as GameSparks lists them.
    history: Vec<Deployment>,
    /// The stage each deployment belongs to.
    stage_of: HashMap<String, String>,
    page_size: usize,
    /// ClientToken -> (stage, snapshot, deployment id).
    tokens: HashMap<String, (StageRef, String, String)>,
    failures: HashMap<&'static str, VecDeque<ServiceError>>,
    starts: Vec<StartCall>,
    calls: Vec<&'static str>,
    next_id: u32,
    next_undeploy: u32,
}

impl Game {
    fn on_stage<'a>(&'a self, stage: &'a str) -> impl Iterator<Item = &'a Deployment> + 'a {
        self.history
            .iter()
            .filter(move |d| self.stage_of.get(&d.id).is_some_and(|s| s == stage))
    }

    /// GameSparks answers for one game; any other is not found.
    fn check_game(&self, operation: &'static str, game: &str) -> Result<(), ServiceError> {
        if game == self.name {
            Ok(())
        } else {
            Err(not_found(operation, &format!("Game {game} not found")))
        }
    }
}

fn not_found(operation: &'static str, message: &str) -> ServiceError {
    ServiceError::from_reply(
        operation,
        Some("ResourceNotFoundException"),
        Some(404),
        Some(message),
    )
}

#[derive(Debug)]
pub struct FakeGameSparks {
    inner: Mutex<Game>,
}

impl Default for FakeGameSparks {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeGameSparks {
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Game {
                name: GAME.into(),
                now: FAKE_NOW,
                snapshots: vec![],
                history: vec![],
                stage_of: HashMap::new(),
                page_size: 2,
                tokens: HashMap::new(),
                failures: HashMap::new(),
                starts: vec![],
                calls: vec![],
                next_id: 0,
                next_undeploy: 0,
            }),
        }
    }

    /// Moves the fake's clock: deployments started from now on are created at `now`.
    pub fn set_now(&self, now: OffsetDateTime) {
        self.lock().now = now;
    }

    fn lock(&self) -> MutexGuard<'_, Game> {
        // A test that panicked while holding the lock already failed; keep the data readable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn with_snapshot(self, id: &str, created: OffsetDateTime) -> Self {
        self.add_snapshot(id, created);
        self
    }

    /// A snapshot created while a run is going (e.g. between a task and its retry).
    pub fn add_snapshot(&self, id: &str, created: OffsetDateTime) {
        self.lock().snapshots.push(Snapshot {
            id: id.into(),
            created: Some(created),
            description: None,
        });
    }

    /// Appends a finished deployment to `stage`'s history (oldest first when called in order).
    pub fn with_history(
        self,
        stage: &str,
        id: &str,
        snapshot: &str,
        action: DeploymentAction,
        code: ResultCode,
        at: OffsetDateTime,
    ) -> Self {
        let state = if code == ResultCode::Success {
            DeploymentState::Completed
        } else {
            DeploymentState::Failed
        };
        {
            let mut game = self.lock();
            game.stage_of.insert(id.into(), stage.into());
            game.history.insert(
                0,
                Deployment {
                    id: id.into(),
                    snapshot_id: Some(snapshot.into()),
                    action: Some(action),
                    state,
                    result_code: Some(code),
                    result_message: None,
                    created: Some(at),
                    last_updated: Some(at),
                },
            );
        }
        self
    }

    pub fn with_page_size(self, n: usize) -> Self {
        self.lock().page_size = n.max(1);
        self
    }

    /// The next call of `operation` fails with `error` (queued: several calls fail in order).
    pub fn fail_next(&self, operation: &'static str, error: ServiceError) {
        self.lock()
            .failures
            .entry(operation)
            .or_default()
            .push_back(error);
    }

    /// Moves a deployment to a new state, as GameSparks would over time.
    pub fn set_state(
        &self,
        deployment_id: &str,
        state: DeploymentState,
        code: Option<ResultCode>,
        message: Option<&str>,
        at: OffsetDateTime,
    ) {
        let mut stage = self.lock();
        if let Some(d) = stage.history.iter_mut().find(|d| d.id == deployment_id) {
            d.state = state;
            d.result_code = code;
            d.result_message = message.map(str::to_owned);
            d.last_updated = Some(at);
        }
    }

    /// Ends a deployment as GameSparks would at `at`: a successful DEPLOY puts its snapshot live
    /// and records the snapshot it replaced as an UNDEPLOY at the same moment (the simulator's
    /// deployments end this way; `set_state` leaves the history as a test wrote it).
    pub fn finish(&self, deployment_id: &str, code: ResultCode, at: OffsetDateTime) {
        let mut game = self.lock();
        let Some(stage) = game.stage_of.get(deployment_id).cloned() else {
            return;
        };
        let serving = {
            let on_stage: Vec<Deployment> = game.on_stage(&stage).cloned().collect();
            crate::history::serving_snapshot(&on_stage).map(str::to_owned)
        };
        let mut replaced = None;
        if let Some(d) = game.history.iter_mut().find(|d| d.id == deployment_id) {
            let success = code == ResultCode::Success;
            d.state = if success {
                DeploymentState::Completed
            } else {
                DeploymentState::Failed
            };
            d.result_code = Some(code);
            d.last_updated = Some(at);
            if success && d.action == Some(DeploymentAction::Deploy) {
                replaced = serving.filter(|s| Some(s.as_str()) != d.snapshot_id.as_deref());
            }
        }
        if let Some(old) = replaced {
            game.next_undeploy += 1;
            let id = format!("undeploy-{}", game.next_undeploy);
            game.stage_of.insert(id.clone(), stage);
            game.history.insert(
                0,
                Deployment {
                    id,
                    snapshot_id: Some(old),
                    action: Some(DeploymentAction::Undeploy),
                    state: DeploymentState::Completed,
                    result_code: Some(ResultCode::Success),
                    result_message: None,
                    created: Some(at),
                    last_updated: Some(at),
                },
            );
        }
    }

    /// Every deployment with its stage, newest first (creation times included).
    pub fn all_deployments(&self) -> Vec<(String, Deployment)> {
        let game = self.lock();
        game.history
            .iter()
            .map(|d| {
                let stage = game.stage_of.get(&d.id).cloned().unwrap_or_default();
                (stage, d.clone())
            })
            .collect()
    }

    /// Sets GameSparks' creation time of a deployment.
    pub fn set_created(&self, deployment_id: &str, at: OffsetDateTime) {
        if let Some(d) = self
            .lock()
            .history
            .iter_mut()
            .find(|d| d.id == deployment_id)
        {
            d.created = Some(at);
        }
    }

    pub fn starts(&self) -> Vec<StartCall> {
        self.lock().starts.clone()
    }

    pub fn calls(&self) -> Vec<&'static str> {
        self.lock().calls.clone()
    }

    pub fn deployment(&self, id: &str) -> Option<Deployment> {
        self.lock().history.iter().find(|d| d.id == id).cloned()
    }

    /// Deployments created through `start_deployment` (not the seeded history).
    pub fn started_count(&self) -> usize {
        self.lock().next_id as usize
    }

    fn enter(&self, operation: &'static str) -> Result<MutexGuard<'_, Game>, ServiceError> {
        let mut stage = self.lock();
        stage.calls.push(operation);
        match stage
            .failures
            .get_mut(operation)
            .and_then(VecDeque::pop_front)
        {
            Some(error) => Err(error),
            None => Ok(stage),
        }
    }
}

fn page<T: Clone>(
    items: &[T],
    size: usize,
    token: Option<String>,
) -> Result<Page<T>, ServiceError> {
    let start = match token {
        None => 0,
        Some(t) => t
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ServiceError::new(
                    ServiceErrorKind::Validation,
                    "List",
                    format!("bad NextToken {t:?}"),
                )
            })?,
    };
    let end = (start + size).min(items.len());
    Ok(Page {
        items: items.get(start..end).unwrap_or_default().to_vec(),
        next_token: (end < items.len()).then(|| format!("page-{end}")),
    })
}

impl StageDeployments for FakeGameSparks {
    async fn start_deployment(
        &self,
        stage: &StageRef,
        snapshot_id: &str,
        client_token: &str,
    ) -> Result<Deployment, ServiceError> {
        let mut s = self.enter(START)?;
        s.starts.push(StartCall {
            stage: stage.clone(),
            snapshot_id: snapshot_id.into(),
            client_token: client_token.into(),
        });
        s.check_game(START, &stage.game_name)?;
        // A ClientToken replays only the very same request; anything else reusing it conflicts.
        if let Some((used_stage, snapshot, id)) = s.tokens.get(client_token).cloned() {
            return if used_stage == *stage && snapshot == snapshot_id {
                s.history
                    .iter()
                    .find(|d| d.id == id)
                    .cloned()
                    .ok_or_else(|| ServiceError::other(START, "token maps to a missing deployment"))
            } else {
                Err(ServiceError::from_reply(
                    START,
                    Some("ConflictException"),
                    Some(409),
                    Some("ClientToken reused with a different request"),
                ))
            };
        }
        if !s.snapshots.iter().any(|x| x.id == snapshot_id) {
            return Err(not_found(START, "Snapshot not found"));
        }
        if s.on_stage(&stage.stage_name).any(|d| {
            matches!(
                d.state,
                DeploymentState::Pending | DeploymentState::InProgress
            )
        }) {
            return Err(ServiceError::from_reply(
                START,
                Some("ConflictException"),
                Some(409),
                Some("A deployment is already in progress on this stage"),
            ));
        }
        s.next_id += 1;
        let id = format!("dep-{}", s.next_id);
        let deployment = Deployment {
            id: id.clone(),
            snapshot_id: Some(snapshot_id.into()),
            action: Some(DeploymentAction::Deploy),
            state: DeploymentState::Pending,
            result_code: None,
            result_message: None,
            created: Some(s.now),
            last_updated: Some(s.now),
        };
        s.tokens.insert(
            client_token.into(),
            (stage.clone(), snapshot_id.into(), id.clone()),
        );
        s.stage_of.insert(id, stage.stage_name.clone());
        s.history.insert(0, deployment.clone());
        Ok(deployment)
    }

    async fn get_deployment(
        &self,
        stage: &StageRef,
        deployment_id: &str,
    ) -> Result<Deployment, ServiceError> {
        let s = self.enter(GET)?;
        s.check_game(GET, &stage.game_name)?;
        // Another stage's deployment is not found on this one.
        let found = s
            .on_stage(&stage.stage_name)
            .find(|d| d.id == deployment_id)
            .cloned();
        found.ok_or_else(|| not_found(GET, "Deployment not found"))
    }

    async fn list_deployments(
        &self,
        stage: &StageRef,
        next_token: Option<String>,
    ) -> Result<Page<Deployment>, ServiceError> {
        let s = self.enter(LIST_DEPLOYMENTS)?;
        s.check_game(LIST_DEPLOYMENTS, &stage.game_name)?;
        // As GameSparks: StageDeploymentSummary has no creation time (GetStageDeployment has).
        let history: Vec<Deployment> = s
            .on_stage(&stage.stage_name)
            .map(|d| Deployment {
                created: None,
                ..d.clone()
            })
            .collect();
        page(&history, s.page_size, next_token)
    }

    async fn list_snapshots(
        &self,
        game_name: &str,
        next_token: Option<String>,
    ) -> Result<Page<Snapshot>, ServiceError> {
        let s = self.enter(LIST_SNAPSHOTS)?;
        s.check_game(LIST_SNAPSHOTS, game_name)?;
        page(&s.snapshots, s.page_size, next_token)
    }
}

#[derive(Debug, Default)]
pub struct FakeNotifier {
    published: Mutex<Vec<Notification>>,
    failures: Mutex<VecDeque<ServiceError>>,
}

impl FakeNotifier {
    /// The bodies published so far, as a subscriber reads them.
    pub fn messages(&self) -> Vec<Message> {
        self.published()
            .iter()
            .filter_map(|n| serde_json::from_str(&n.message).ok())
            .collect()
    }

    pub fn published(&self) -> Vec<Notification> {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn fail_next(&self, error: ServiceError) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(error);
    }
}

impl Notifier for FakeNotifier {
    async fn publish(&self, notification: &Notification) -> Result<String, ServiceError> {
        if let Some(error) = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
        {
            return Err(error);
        }
        // Like any subscriber, the fake reads the body as the published contract: a message
        // the `Message` type cannot read fails every handler test that publishes it. A fleet's
        // summary (attribute `kind`) is read as its own type.
        let fleet = notification.attributes.get("kind").map(String::as_str)
            == Some(crate::fleet_summary::KIND);
        if fleet {
            if let Err(e) =
                serde_json::from_str::<crate::fleet_summary::FleetSummary>(&notification.message)
            {
                return Err(ServiceError::other(
                    "Publish",
                    format!("the body is not a fleet summary: {e}"),
                ));
            }
        } else if let Err(e) = serde_json::from_str::<Message>(&notification.message) {
            return Err(ServiceError::other(
                "Publish",
                format!("the body is not a stagegate Message: {e}"),
            ));
        }
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        published.push(notification.clone());
        Ok(format!("msg-{}", published.len()))
    }
}

/// CloudWatch alarms whose states a test sets.
#[derive(Debug, Default)]
pub struct FakeAlarms {
    inner: Mutex<AlarmTable>,
}

#[derive(Debug, Default)]
struct AlarmTable {
    alarms: Vec<AlarmStatus>,
    failures: VecDeque<ServiceError>,
    calls: usize,
}

impl FakeAlarms {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, AlarmTable> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates or updates an alarm.
    pub fn set(&self, name: &str, state: &str, at: OffsetDateTime) {
        self.set_with_reason(name, state, at, &format!("test set {name} to {state}"));
    }

    /// Creates or updates an alarm with CloudWatch's StateReason.
    pub fn set_with_reason(&self, name: &str, state: &str, at: OffsetDateTime, reason: &str) {
        let mut t = self.lock();
        let status = AlarmStatus {
            name: name.into(),
            state: state.into(),
            reason: Some(reason.to_owned()),
            updated_at: Some(at),
        };
        match t.alarms.iter_mut().find(|a| a.name == name) {
            Some(a) => *a = status,
            None => t.alarms.push(status),
        }
    }

    pub fn with(self, name: &str, state: &str, at: OffsetDateTime) -> Self {
        self.set(name, state, at);
        self
    }

    pub fn fail_next(&self, error: ServiceError) {
        self.lock().failures.push_back(error);
    }

    pub fn calls(&self) -> usize {
        self.lock().calls
    }
}

impl Alarms for FakeAlarms {
    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmStatus>, ServiceError> {
        let mut t = self.lock();
        t.calls += 1;
        if let Some(e) = t.failures.pop_front() {
            return Err(e);
        }
        Ok(t.alarms
            .iter()
            .filter(|a| names.contains(&a.name))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ServiceErrorKind::{Conflict, NotFound};

    const SNAP: &str = "Snapshot_2026-01-01T00:00:00.000Z";

    fn at(stage: &str) -> StageRef {
        StageRef {
            game_name: GAME.into(),
            stage_name: stage.into(),
        }
    }

    /// The fake keeps the model's rules as the emulator does; a kinder fake lets handler bugs
    /// through (issue: fakes kinder than GameSparks).
    #[tokio::test]
    async fn the_fake_keeps_gamesparks_rules() {
        let gs = FakeGameSparks::new().with_snapshot(SNAP, FAKE_NOW);
        let kind = |r: Result<Deployment, ServiceError>| r.err().map(|e| e.kind);

        // A snapshot must exist, whatever was seeded.
        let empty = FakeGameSparks::new();
        let missing = empty.start_deployment(&at("dev"), SNAP, "t0").await;
        assert_eq!(kind(missing), Some(NotFound));

        // Every deployment has its creation time: GameSparks' clock when it accepted it.
        gs.set_now(FAKE_NOW + time::Duration::minutes(3));
        let dev = gs
            .start_deployment(&at("dev"), SNAP, "t1")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dev.created, Some(FAKE_NOW + time::Duration::minutes(3)));

        // A deployment belongs to its stage: another stage does not find it.
        assert!(gs.get_deployment(&at("dev"), &dev.id).await.is_ok());
        assert_eq!(
            kind(gs.get_deployment(&at("prod"), &dev.id).await),
            Some(NotFound)
        );

        // A ClientToken replays only the same game, stage and snapshot.
        let replay = gs.start_deployment(&at("dev"), SNAP, "t1").await;
        assert_eq!(replay.map(|d| d.id).ok(), Some(dev.id.clone()));
        assert_eq!(
            kind(gs.start_deployment(&at("prod"), SNAP, "t1").await),
            Some(Conflict)
        );
        let other_game = StageRef {
            game_name: "other".into(),
            stage_name: "dev".into(),
        };
        assert_eq!(
            kind(gs.start_deployment(&other_game, SNAP, "t1").await),
            Some(NotFound)
        );

        // Histories are per stage: prod is free while dev deploys, and lists nothing of dev's.
        let prod = gs.start_deployment(&at("prod"), SNAP, "t2").await;
        assert!(prod.is_ok(), "{prod:?}");
        let listed = gs
            .list_deployments(&at("prod"), None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(listed.items.iter().all(|d| d.id != dev.id), "{listed:?}");
        assert_eq!(
            gs.list_snapshots("other", None).await.err().map(|e| e.kind),
            Some(NotFound)
        );
    }
}

/// Abort requests a test leaves, as `stagegate abort` leaves them in Parameter Store: keyed by
/// the parameter name the real adapter reads, so a test that aborts another execution's
/// parameter is not seen.
#[derive(Debug, Default)]
pub struct FakeAbortRequests {
    inner: Mutex<AbortTable>,
}

#[derive(Debug, Default)]
struct AbortTable {
    requests: std::collections::BTreeMap<String, String>,
    failures: VecDeque<ServiceError>,
    reads: usize,
    deletes: usize,
    answer_key: Option<String>,
    key_failures: VecDeque<ServiceError>,
}

impl FakeAbortRequests {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, AbortTable> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks to abort the run `run_id` with `text` (the parameter's value).
    pub fn request(&self, run_id: &str, text: &str) {
        self.lock().requests.insert(
            crate::approval::abort_parameter_name(run_id),
            text.to_owned(),
        );
    }

    /// The next read fails with `error`.
    pub fn fail_next(&self, error: ServiceError) {
        self.lock().failures.push_back(error);
    }

    pub fn reads(&self) -> usize {
        self.lock().reads
    }

    pub fn deletes(&self) -> usize {
        self.lock().deletes
    }

    /// The requests still stored (parameter names).
    pub fn stored(&self) -> Vec<String> {
        self.lock().requests.keys().cloned().collect()
    }

    /// The answer key's parameter value (base64) from now on.
    pub fn set_answer_key(&self, text: &str) {
        self.lock().answer_key = Some(text.to_owned());
    }

    /// The next read of the answer key fails with `error`.
    pub fn fail_next_key_read(&self, error: ServiceError) {
        self.lock().key_failures.push_back(error);
    }
}

impl AbortRequests for FakeAbortRequests {
    async fn abort_request(&self, run_id: &str) -> Result<Option<String>, ServiceError> {
        let mut t = self.lock();
        t.reads += 1;
        if let Some(e) = t.failures.pop_front() {
            return Err(e);
        }
        Ok(t.requests
            .get(&crate::approval::abort_parameter_name(run_id))
            .cloned())
    }

    async fn clear_abort_request(&self, run_id: &str) -> Result<(), ServiceError> {
        let mut t = self.lock();
        t.deletes += 1;
        if let Some(e) = t.failures.pop_front() {
            return Err(e);
        }
        t.requests
            .remove(&crate::approval::abort_parameter_name(run_id));
        Ok(())
    }

    async fn answer_key(&self, _run_id: &str) -> Result<Option<String>, ServiceError> {
        let mut t = self.lock();
        if let Some(e) = t.key_failures.pop_front() {
            return Err(e);
        }
        Ok(t.answer_key.clone())
    }
}

/// The answer key's parameter, as the answer function finds and creates it.
#[derive(Debug, Default)]
pub struct FakeAnswerKeys {
    inner: Mutex<KeyTable>,
}

#[derive(Debug, Default)]
struct KeyTable {
    value: Option<String>,
    failures: VecDeque<ServiceError>,
    creates: usize,
    /// Another cold start creates the key between this call's read and its create.
    raced_by: Option<String>,
    /// The parameter names read or created, in order.
    names: Vec<String>,
}

impl FakeAnswerKeys {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, KeyTable> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn with_key(text: &str) -> Self {
        let keys = Self::default();
        keys.lock().value = Some(text.to_owned());
        keys
    }

    /// The next call fails with `error`.
    pub fn fail_next(&self, error: ServiceError) {
        self.lock().failures.push_back(error);
    }

    /// Someone else creates the key with `text` just before this call's create.
    pub fn race_create(&self, text: &str) {
        self.lock().raced_by = Some(text.to_owned());
    }

    pub fn value(&self) -> Option<String> {
        self.lock().value.clone()
    }

    pub fn creates(&self) -> usize {
        self.lock().creates
    }

    /// The parameter names read or created, in order.
    pub fn names(&self) -> Vec<String> {
        self.lock().names.clone()
    }
}

impl crate::ports::AnswerKeys for FakeAnswerKeys {
    async fn read_key(&self, name: &str) -> Result<Option<String>, ServiceError> {
        let mut t = self.lock();
        t.names.push(name.to_owned());
        if let Some(e) = t.failures.pop_front() {
            return Err(e);
        }
        Ok(t.value.clone())
    }

    async fn create_key(&self, name: &str, value: &str) -> Result<bool, ServiceError> {
        let mut t = self.lock();
        t.names.push(name.to_owned());
        if let Some(e) = t.failures.pop_front() {
            return Err(e);
        }
        if let Some(other) = t.raced_by.take() {
            t.value = Some(other);
        }
        if t.value.is_some() {
            return Ok(false);
        }
        t.creates += 1;
        t.value = Some(value.to_owned());
        Ok(true)
    }
}

/// An execution's history and its wait's answers, as the answer function reaches them.
#[derive(Debug, Default)]
pub struct FakeApprovalWaits {
    inner: Mutex<WaitTable>,
}

#[derive(Debug, Default)]
struct WaitTable {
    /// Execution ARN -> its steps, oldest first.
    histories: std::collections::BTreeMap<String, Vec<crate::approval::wait::Step>>,
    page_size: usize,
    /// Pages come oldest first, as moto sends them (it ignores `reverseOrder`).
    oldest_first: bool,
    sent: Vec<(String, String)>,
    send_failures: VecDeque<ServiceError>,
}

impl FakeApprovalWaits {
    pub fn new() -> Self {
        let waits = Self::default();
        waits.lock().page_size = 2;
        waits
    }

    fn lock(&self) -> MutexGuard<'_, WaitTable> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers history reads oldest first, whatever was asked (moto's Step Functions does).
    pub fn ignoring_reverse_order(self) -> Self {
        self.lock().oldest_first = true;
        self
    }

    /// The execution `arn` has these steps (oldest first).
    pub fn set_history(&self, arn: &str, steps: Vec<crate::approval::wait::Step>) {
        self.lock().histories.insert(arn.to_owned(), steps);
    }

    /// The next SendTaskSuccess fails with `error`.
    pub fn fail_next_send(&self, error: ServiceError) {
        self.lock().send_failures.push_back(error);
    }

    /// Every answer sent: (task token, output).
    pub fn sent(&self) -> Vec<(String, String)> {
        self.lock().sent.clone()
    }
}

impl crate::ports::ApprovalWaits for FakeApprovalWaits {
    async fn recent_steps(
        &self,
        execution_arn: &str,
        next_token: Option<String>,
    ) -> Result<Page<(i64, crate::approval::wait::Step)>, ServiceError> {
        let t = self.lock();
        let Some(steps) = t.histories.get(execution_arn) else {
            return Err(ServiceError::new(
                ServiceErrorKind::NotFound,
                "GetExecutionHistory",
                format!("Execution Does Not Exist: '{execution_arn}'"),
            ));
        };
        let from: usize = next_token.and_then(|t| t.parse().ok()).unwrap_or(0);
        let newest_first: Vec<_> = steps
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, s)| (i64::try_from(i).unwrap_or(i64::MAX) + 1, s))
            .rev()
            .collect();
        let newest_first: Vec<_> = if t.oldest_first {
            newest_first.into_iter().rev().collect()
        } else {
            newest_first
        };
        let items: Vec<_> = newest_first
            .iter()
            .skip(from)
            .take(t.page_size)
            .cloned()
            .collect();
        let next = from + items.len();
        Ok(Page {
            items,
            next_token: (next < newest_first.len()).then(|| next.to_string()),
        })
    }

    async fn send_answer(&self, token: &str, output: &str) -> Result<(), ServiceError> {
        let mut t = self.lock();
        if let Some(e) = t.send_failures.pop_front() {
            return Err(e);
        }
        t.sent.push((token.to_owned(), output.to_owned()));
        Ok(())
    }
}

/// The EMF records a run emitted, checked as CloudWatch Logs would read them: a record whose
/// directive names a metric without its value, or a dimension without a string, is refused
/// (CloudWatch drops such a record silently, so a test must not).
#[derive(Debug, Default)]
pub struct FakeMetrics {
    records: Mutex<Vec<serde_json::Value>>,
}

impl FakeMetrics {
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl crate::ports::Metrics for FakeMetrics {
    fn emit(&self, record: &serde_json::Value) {
        let directives = record["_aws"]["CloudWatchMetrics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            record["_aws"]["Timestamp"].is_i64() && !directives.is_empty(),
            "not an EMF record: {record}"
        );
        for d in &directives {
            for m in d["Metrics"].as_array().into_iter().flatten() {
                let name = m["Name"].as_str().unwrap_or_default();
                assert!(
                    record[name].is_number(),
                    "metric {name} has no value: {record}"
                );
            }
            for set in d["Dimensions"].as_array().into_iter().flatten() {
                for key in set.as_array().into_iter().flatten() {
                    let key = key.as_str().unwrap_or_default();
                    assert!(
                        record[key].is_string(),
                        "dimension {key} has no value: {record}"
                    );
                }
            }
        }
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record.clone());
    }
}

pub const LIST_OBJECTS: &str = "ListObjectsV2";
pub const GET_OBJECT: &str = "GetObject";
pub const PUT_OBJECT: &str = "PutObject";

/// A records bucket with S3's rules as the gate meets them: keys of 1-1,024 bytes, listed in
/// ascending order of their UTF-8 bytes, a put that replaces whatever is there (no conditional
/// write in this SDK generation), a read of a key that is not there answered `NoSuchKey` (404).
#[derive(Debug, Default)]
pub struct FakeRecords {
    inner: Mutex<RecordTable>,
}

#[derive(Debug, Default)]
struct RecordTable {
    objects: std::collections::BTreeMap<String, Vec<u8>>,
    failures: HashMap<&'static str, VecDeque<ServiceError>>,
    calls: Vec<&'static str>,
}

impl FakeRecords {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, RecordTable> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next call of `operation` fails with `error`.
    pub fn fail_next(&self, operation: &'static str, error: ServiceError) {
        self.lock()
            .failures
            .entry(operation)
            .or_default()
            .push_back(error);
    }

    /// The operations called, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.lock().calls.clone()
    }

    /// Every object, in key order.
    pub fn objects(&self) -> Vec<(String, Vec<u8>)> {
        self.lock()
            .objects
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// What someone with write access does behind the gate's back.
    pub fn replace(&self, key: &str, bytes: Vec<u8>) {
        self.lock().objects.insert(key.to_owned(), bytes);
    }

    pub fn delete(&self, key: &str) {
        self.lock().objects.remove(key);
    }

    fn call(&self, operation: &'static str) -> Result<MutexGuard<'_, RecordTable>, ServiceError> {
        let mut t = self.lock();
        t.calls.push(operation);
        match t.failures.get_mut(operation).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(t),
        }
    }
}

fn check_key(operation: &str, key: &str) -> Result<(), ServiceError> {
    if key.is_empty() || key.len() > 1024 {
        return Err(ServiceError::from_reply(
            operation,
            Some("KeyTooLongError"),
            Some(400),
            Some("Your key is too long"),
        ));
    }
    Ok(())
}

impl crate::ports::RecordStore for FakeRecords {
    async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, ServiceError> {
        let t = self.call(LIST_OBJECTS)?;
        Ok(t.objects
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ServiceError> {
        let t = self.call(GET_OBJECT)?;
        check_key(GET_OBJECT, key)?;
        t.objects.get(key).cloned().ok_or_else(|| {
            ServiceError::from_reply(
                GET_OBJECT,
                Some("NoSuchKey"),
                Some(404),
                Some("The specified key does not exist."),
            )
        })
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ServiceError> {
        let mut t = self.call(PUT_OBJECT)?;
        check_key(PUT_OBJECT, key)?;
        t.objects.insert(key.to_owned(), bytes);
        Ok(())
    }
}

/// GameSparks' game list, paged as ListGames pages it (`page_size` names a page, then a token).
#[derive(Debug, Default)]
pub struct FakeGameCatalog {
    names: Vec<String>,
    page_size: usize,
    calls: Mutex<usize>,
    failures: Mutex<VecDeque<ServiceError>>,
}

impl FakeGameCatalog {
    pub fn new(names: impl IntoIterator<Item = impl Into<String>>, page_size: usize) -> Self {
        Self {
            names: names.into_iter().map(Into::into).collect(),
            page_size: page_size.max(1),
            ..Self::default()
        }
    }

    /// ListGames calls made.
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next ListGames fails with `error`.
    pub fn fail_next(&self, error: ServiceError) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(error);
    }
}

impl crate::ports::GameCatalog for FakeGameCatalog {
    async fn list_games(
        &self,
        next_token: Option<String>,
    ) -> Result<crate::ports::Page<String>, ServiceError> {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        if let Some(e) = self
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
        {
            return Err(e);
        }
        let start: usize = match next_token.as_deref().map(str::parse) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                return Err(ServiceError::from_reply(
                    "ListGames",
                    Some("ValidationException"),
                    Some(400),
                    Some("invalid NextToken"),
                ))
            }
        };
        let end = (start + self.page_size).min(self.names.len());
        Ok(crate::ports::Page {
            items: self.names.get(start..end).unwrap_or_default().to_vec(),
            next_token: (end < self.names.len()).then(|| end.to_string()),
        })
    }
}

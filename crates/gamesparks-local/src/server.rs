//! The HTTP server: GameSparks operations, fault injection, the request log and the
//! `/_emulator/` admin API.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api;
use crate::clock::{format_timestamp, ClockInfo, VirtualClock};
use crate::error::{ApiError, ErrorKind};
use crate::faults::FaultConfig;
use crate::rng::Rng;
use crate::scenario::{Outcome, Scenario, ScenarioError};
use crate::validate;
use crate::world::World;

const MAX_API_BODY: usize = 1 << 20;
const MAX_ADMIN_BODY: usize = 16 << 20;
/// Bounded so that long soak tests do not grow memory without limit.
const REQUEST_LOG_CAPACITY: usize = 10_000;

/// Fault kinds as counted in `faultsInjected` and named in the request log.
pub const FAULT_KINDS: [&str; 6] = [
    "ThrottlingException",
    "InternalServerException",
    "InternalServerExceptionAfterCommit",
    "AccessDeniedException",
    "latency",
    "hang",
];

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    pub scenario: Scenario,
    /// Virtual seconds per real second.
    pub time_scale: f64,
    /// Seeds fault draws, deployment ids, request ids and NextToken MACs.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            scenario: Scenario::demo(),
            time_scale: 1.0,
            seed: 0,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("invalid time scale {0}: it must be a positive, finite number")]
    TimeScale(f64),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// One entry of `GET /_emulator/requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLogEntry {
    pub seq: u64,
    /// Virtual time at which the request was answered.
    pub time: String,
    pub request_id: String,
    /// Operation name, or `Unknown` for unmatched routes.
    pub operation: String,
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    pub fault_injected: bool,
    /// Which injected fault shaped the answer (one of [`FAULT_KINDS`] except `latency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Injected latency in real milliseconds.
    pub latency_ms: u64,
    /// Real time spent answering, including injected latency.
    pub duration_ms: u64,
}

/// `GET /_emulator/counters`. Deployment maps are keyed by `"game/stage"`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    pub requests_total: u64,
    pub requests_by_operation: BTreeMap<String, u64>,
    pub errors_by_type: BTreeMap<String, u64>,
    pub faults_injected: BTreeMap<String, u64>,
    /// `{"DEPLOY": started through the API, "UNDEPLOY": replacement records the emulator added}`.
    pub deployments_started: BTreeMap<String, BTreeMap<String, u64>>,
    pub idempotent_replays: BTreeMap<String, u64>,
    pub conflicts: BTreeMap<String, u64>,
}

struct Emulator {
    scenario: Scenario,
    seed: u64,
    world: World,
    faults: FaultConfig,
    /// Requests still to hang, per operation (reset whenever the faults are set).
    hangs_left: BTreeMap<String, u32>,
    fault_rng: Rng,
    request_rng: Rng,
    requests_total: u64,
    requests_by_operation: BTreeMap<String, u64>,
    errors_by_type: BTreeMap<String, u64>,
    faults_injected: BTreeMap<String, u64>,
    log: VecDeque<RequestLogEntry>,
    next_seq: u64,
}

impl Emulator {
    fn new(scenario: Scenario, seed: u64, now: OffsetDateTime) -> Result<Self, ScenarioError> {
        let world =
            World::build(&scenario, seed, now).map_err(|message| ScenarioError::Invalid {
                origin: scenario.name.clone(),
                message,
            })?;
        Ok(Self {
            faults: scenario.faults.clone(),
            hangs_left: scenario.faults.hang_budget(),
            scenario,
            seed,
            world,
            fault_rng: Rng::new(seed, 1),
            request_rng: Rng::new(seed, 3),
            requests_total: 0,
            requests_by_operation: BTreeMap::new(),
            errors_by_type: BTreeMap::new(),
            faults_injected: FAULT_KINDS.iter().map(|k| (k.to_string(), 0)).collect(),
            log: VecDeque::new(),
            next_seq: 0,
        })
    }

    /// New fault settings; the hang budget starts over with them, however they arrive.
    fn set_faults(&mut self, faults: FaultConfig) {
        self.hangs_left = faults.hang_budget();
        self.faults = faults;
    }

    fn counters(&mut self, now: OffsetDateTime) -> Counters {
        self.world.settle_all(now);
        let mut c = Counters {
            requests_total: self.requests_total,
            requests_by_operation: self.requests_by_operation.clone(),
            errors_by_type: self.errors_by_type.clone(),
            faults_injected: self.faults_injected.clone(),
            ..Counters::default()
        };
        for (key, s) in self.world.stats() {
            c.deployments_started.insert(
                key.clone(),
                BTreeMap::from([
                    ("DEPLOY".to_string(), s.deploy),
                    ("UNDEPLOY".to_string(), s.undeploy),
                ]),
            );
            c.idempotent_replays
                .insert(key.clone(), s.idempotent_replays);
            c.conflicts.insert(key.clone(), s.conflicts);
        }
        c
    }
}

struct Shared {
    clock: VirtualClock,
    emulator: Mutex<Emulator>,
}

impl Shared {
    /// A panic elsewhere must not take the emulator down with a poisoned lock.
    fn lock(&self) -> MutexGuard<'_, Emulator> {
        self.emulator.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Entry point of the library.
pub struct Server;

impl Server {
    /// Binds, loads the scenario and serves in the background on the current Tokio runtime.
    pub async fn start(config: Config) -> Result<RunningServer, StartError> {
        if !config.time_scale.is_finite() || config.time_scale <= 0.0 {
            return Err(StartError::TimeScale(config.time_scale));
        }
        let clock = VirtualClock::start(config.time_scale);
        let emulator = Emulator::new(config.scenario, config.seed, clock.now())?;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
        let shared = Arc::new(Shared {
            clock,
            emulator: Mutex::new(emulator),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, Arc::clone(&shared), stop_rx));
        Ok(RunningServer {
            addr,
            seed: config.seed,
            shared,
            stop: stop_tx,
            task: Some(task),
        })
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let shared = Arc::clone(&shared);
                    let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!("connection ended with error: {e}");
                        }
                    });
                }
                Err(e) => {
                    // Typically EMFILE; back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            // Also fires when the RunningServer is dropped (sender gone).
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {
            tracing::warn!("connections still open after 5 s; closing anyway");
        }
    }
}

/// A started emulator. Dropping it stops the server; [`RunningServer::shutdown`] also waits for
/// open connections to finish.
pub struct RunningServer {
    addr: SocketAddr,
    seed: u64,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for SDK `endpoint_url`; a wildcard bind is reported as loopback.
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn time_scale(&self) -> f64 {
        self.shared.clock.time_scale()
    }

    pub fn scenario_name(&self) -> String {
        self.shared.lock().scenario.display_name().to_string()
    }

    pub fn clock(&self) -> ClockInfo {
        self.shared.clock.info()
    }

    pub fn virtual_now(&self) -> OffsetDateTime {
        self.shared.clock.now()
    }

    pub fn counters(&self) -> Counters {
        let now = self.shared.clock.now();
        self.shared.lock().counters(now)
    }

    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.lock().log.iter().cloned().collect()
    }

    pub fn faults(&self) -> FaultConfig {
        self.shared.lock().faults.clone()
    }

    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), String> {
        faults.validate()?;
        self.shared.lock().set_faults(faults);
        Ok(())
    }

    /// Changes how future deployments of a snapshot play out.
    pub fn set_outcome(&self, snapshot_id: &str, outcome: &Outcome) -> Result<(), String> {
        set_outcomes(
            &self.shared,
            &BTreeMap::from([(snapshot_id.to_string(), outcome.clone())]),
        )
    }

    /// Replaces all state with a new scenario (same clock and seed).
    pub fn load_scenario(&self, scenario: Scenario) -> Result<(), ScenarioError> {
        load(&self.shared, scenario)
    }

    /// Reloads the current scenario from scratch.
    pub fn reset(&self) -> Result<(), ScenarioError> {
        let scenario = self.shared.lock().scenario.clone();
        load(&self.shared, scenario)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn load(shared: &Shared, scenario: Scenario) -> Result<(), ScenarioError> {
    let now = shared.clock.now();
    let mut emu = shared.lock();
    let seed = emu.seed;
    *emu = Emulator::new(scenario, seed, now)?;
    Ok(())
}

fn set_outcomes(shared: &Shared, outcomes: &BTreeMap<String, Outcome>) -> Result<(), String> {
    for (id, o) in outcomes {
        let (snapshot, stage) = match id.split_once('@') {
            Some((snapshot, stage)) => (snapshot, Some(stage)),
            None => (id.as_str(), None),
        };
        if !validate::is_snapshot_id(snapshot) || stage.is_some_and(str::is_empty) {
            return Err(format!(
                "{id:?} is not a snapshot id ({}), optionally followed by @<stage>",
                validate::SNAPSHOT_ID_PATTERN
            ));
        }
        for (name, v) in [
            ("pendingSeconds", o.pending_seconds),
            ("durationSeconds", o.duration_seconds),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(format!("{id}.{name} must be a non-negative number"));
            }
        }
    }
    let mut emu = shared.lock();
    for (id, o) in outcomes {
        emu.world.set_outcome(id, o);
    }
    Ok(())
}

fn json_response(
    status: u16,
    body: &Value,
    request_id: &str,
    error: Option<&str>,
) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(e) = error.and_then(|e| HeaderValue::from_str(e).ok()) {
        h.insert("x-amzn-errortype", e);
    }
    resp
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, String> {
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => Err(format!("cannot read the request body: {e}")),
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return Ok(handle_admin(&shared, &parts.method, &path, query.as_deref(), body).await);
    }

    let request_id = shared.lock().request_rng.uuid();
    let authorized = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
    let route = api::route(&parts.method, &path);
    let op_name = route.as_ref().map_or("Unknown", |r| r.op.name());
    let mut fault: Option<&'static str> = None;
    let mut latency_ms = 0;
    let mut hang_after_commit = None;

    let result: Result<Value, ApiError> = 'answer: {
        if !authorized {
            break 'answer Err(ApiError::new(
                ErrorKind::AccessDenied,
                "Missing Authentication Token: requests must be signed with AWS Signature Version 4 (Authorization: AWS4-HMAC-SHA256 ...)",
            ));
        }
        let Some(route) = route else {
            break 'answer Err(ApiError::new(
                ErrorKind::UnknownOperation,
                format!("No GameSparks operation matches {} {path}", parts.method),
            ));
        };
        let body = match read_body(body, MAX_API_BODY).await {
            Ok(b) => b,
            Err(e) => break 'answer Err(ApiError::validation(e)),
        };

        // Draw every number each time so one request's config never shifts the next's draws.
        let (latency, throttle, server_error, after_commit, hang) = {
            let mut emu = shared.lock();
            let hang = emu
                .faults
                .operations
                .get(route.op.name())
                .and_then(|o| o.hang);
            let hang = match (hang, emu.hangs_left.get_mut(route.op.name())) {
                (Some(h), Some(left)) if *left > 0 => {
                    *left -= 1;
                    // Counted now: a request that hangs for good is never logged as answered.
                    *emu.faults_injected.entry("hang".to_string()).or_default() += 1;
                    Some(h)
                }
                _ => None,
            };
            let eff = emu.faults.effective(route.op.name());
            let range = eff.latency_ms.unwrap_or_default();
            let latency = emu.fault_rng.range(range.min, range.max);
            let t = emu.fault_rng.next_f64();
            let e = emu.fault_rng.next_f64();
            let a = emu.fault_rng.next_f64();
            (
                latency,
                t < eff.throttle_rate,
                e < eff.server_error_rate,
                a < eff.server_error_after_commit_rate,
                hang,
            )
        };
        if latency > 0 {
            latency_ms = latency;
            tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
        }
        match hang {
            Some(h) if h.after_commit && route.op.mutating() => hang_after_commit = Some(h),
            Some(h) => {
                fault = Some("hang");
                tracing::info!(
                    operation = route.op.name(),
                    "injected hang before executing"
                );
                tokio::time::sleep(h.duration()).await;
            }
            None => {}
        }
        if throttle {
            fault = Some("ThrottlingException");
            break 'answer Err(ApiError::new(ErrorKind::Throttling, "Rate exceeded"));
        }
        if server_error {
            fault = Some("InternalServerException");
            break 'answer Err(ApiError::new(
                ErrorKind::InternalServer,
                "An internal error occurred. Try again later.",
            ));
        }
        let query_pairs = api::parse_query(query.as_deref().unwrap_or(""));
        let call = match api::bind(&route, &query_pairs, &body) {
            Ok(c) => c,
            Err(e) => break 'answer Err(e),
        };
        let now = shared.clock.now();
        let mut emu = shared.lock();
        if let (Some(g), Some(s)) = (&route.game, &route.stage) {
            if emu.faults.denies(g, s) {
                fault = Some("AccessDeniedException");
                let arn = emu.world.stage_arn(g, s);
                let account = emu.world.account_id().to_string();
                break 'answer Err(ApiError::new(
                    ErrorKind::AccessDenied,
                    format!(
                        "User: arn:aws:iam::{account}:user/stagegate is not authorized to perform: gamesparks:{} on resource: {arn} with an explicit deny",
                        route.op.name()
                    ),
                ));
            }
        }
        let result = call.execute(&mut emu.world, now);
        if result.is_ok() && route.op.mutating() && after_commit {
            fault = Some("InternalServerExceptionAfterCommit");
            break 'answer Err(ApiError::new(
                ErrorKind::InternalServer,
                "An internal error occurred. Try again later.",
            ));
        }
        result
    };
    if let Some(h) = hang_after_commit {
        fault = Some("hang");
        tracing::info!(operation = op_name, "injected hang after executing");
        tokio::time::sleep(h.duration()).await;
    }

    let (status, body, error_type) = match &result {
        Ok(v) => (200, v.clone(), None),
        Err(e) => (
            e.kind.status(),
            json!({ "message": e.message }),
            Some(e.kind.name()),
        ),
    };
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    {
        let now = shared.clock.now();
        let mut emu = shared.lock();
        emu.requests_total += 1;
        *emu.requests_by_operation
            .entry(op_name.to_string())
            .or_default() += 1;
        if let Some(e) = error_type {
            *emu.errors_by_type.entry(e.to_string()).or_default() += 1;
        }
        if let Some(f) = fault.filter(|f| *f != "hang") {
            *emu.faults_injected.entry(f.to_string()).or_default() += 1;
        }
        if latency_ms > 0 {
            *emu.faults_injected
                .entry("latency".to_string())
                .or_default() += 1;
        }
        emu.next_seq += 1;
        let entry = RequestLogEntry {
            seq: emu.next_seq,
            time: format_timestamp(now),
            request_id: request_id.clone(),
            operation: op_name.to_string(),
            method: parts.method.to_string(),
            path: path.clone(),
            query: query.clone(),
            status,
            error_type: error_type.map(str::to_string),
            fault_injected: fault.is_some() || latency_ms > 0,
            fault: fault.map(str::to_string),
            latency_ms,
            duration_ms,
        };
        if emu.log.len() >= REQUEST_LOG_CAPACITY {
            emu.log.pop_front();
        }
        emu.log.push_back(entry);
    }
    tracing::info!(
        target: "gamesparks_local::request",
        "{} {}{} -> {} {}{}{} ({} ms, request id {})",
        parts.method,
        path,
        query.as_deref().map(|q| format!("?{q}")).unwrap_or_default(),
        status,
        op_name,
        error_type.map(|e| format!(" {e}")).unwrap_or_default(),
        fault.map(|f| format!(" [injected {f}]")).unwrap_or_default(),
        duration_ms,
        request_id
    );
    Ok(json_response(status, &body, &request_id, error_type))
}

fn admin_error(status: u16, message: impl Into<String>) -> (u16, Value) {
    (status, json!({ "message": message.into() }))
}

async fn handle_admin(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: Incoming,
) -> Response<Full<Bytes>> {
    let request_id = shared.lock().request_rng.uuid();
    let endpoint = path.trim_end_matches('/').trim_start_matches("/_emulator");
    let (status, value) = match (method.clone(), endpoint) {
        (Method::GET, "/health") => (
            200,
            json!({ "status": "ok", "scenario": shared.lock().scenario.display_name() }),
        ),
        (Method::GET, "/clock") => (200, json!(shared.clock.info())),
        (Method::GET, "/counters") => {
            let now = shared.clock.now();
            (200, json!(shared.lock().counters(now)))
        }
        (Method::GET, "/requests") => {
            let q = api::parse_query(query.unwrap_or(""));
            let since = q
                .iter()
                .find(|(k, _)| k == "since")
                .and_then(|(_, v)| v.parse::<u64>().ok())
                .unwrap_or(0);
            let emu = shared.lock();
            let list: Vec<&RequestLogEntry> = emu.log.iter().filter(|e| e.seq > since).collect();
            (200, json!({ "requests": list }))
        }
        (Method::DELETE, "/requests") => {
            shared.lock().log.clear();
            (200, json!({ "cleared": true }))
        }
        (Method::GET, "/faults") => (200, json!(shared.lock().faults)),
        (Method::GET, "/scenario") => (200, json!(shared.lock().scenario)),
        (Method::POST, "/reset") => {
            let scenario = shared.lock().scenario.clone();
            match load(shared, scenario) {
                Ok(()) => (200, loaded_summary(shared)),
                Err(e) => admin_error(500, e.to_string()),
            }
        }
        (Method::POST, "/scenario" | "/faults" | "/outcomes") => {
            match read_body(body, MAX_ADMIN_BODY).await {
                Err(e) => admin_error(400, e),
                Ok(bytes) => admin_post(shared, endpoint, &bytes),
            }
        }
        _ => admin_error(
            404,
            format!(
                "unknown admin endpoint {method} {path}; see GET /_emulator/health, /clock, /counters, /requests, /faults, /scenario and POST /_emulator/scenario, /reset, /faults, /outcomes"
            ),
        ),
    };
    tracing::info!(target: "gamesparks_local::admin", "{method} {path} -> {status}");
    json_response(status, &value, &request_id, None)
}

fn loaded_summary(shared: &Shared) -> Value {
    let emu = shared.lock();
    json!({
        "scenario": emu.scenario.display_name(),
        "games": emu.world.game_count(),
        "region": emu.world.region(),
    })
}

fn admin_post(shared: &Shared, endpoint: &str, bytes: &[u8]) -> (u16, Value) {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return admin_error(400, format!("request body is not valid JSON: {e}")),
    };
    match endpoint {
        "/scenario" => match Scenario::from_json_value(value) {
            Ok(s) => match load(shared, s) {
                Ok(()) => (200, loaded_summary(shared)),
                Err(e) => admin_error(400, e.to_string()),
            },
            Err(e) => admin_error(400, e.to_string()),
        },
        "/faults" => {
            let parsed = serde_path_to_error::deserialize::<_, FaultConfig>(value)
                .map_err(|e| format!("invalid faults at {}: {}", e.path(), e.inner()))
                .and_then(|f| f.validate().map(|()| f));
            match parsed {
                Ok(f) => {
                    shared.lock().set_faults(f.clone());
                    (200, json!(f))
                }
                Err(e) => admin_error(400, e),
            }
        }
        _ => {
            let parsed = serde_path_to_error::deserialize::<_, BTreeMap<String, Outcome>>(value)
                .map_err(|e| format!("invalid outcomes at {}: {}", e.path(), e.inner()))
                .and_then(|o| set_outcomes(shared, &o).map(|()| o.len()));
            match parsed {
                Ok(n) => (200, json!({ "updated": n })),
                Err(e) => admin_error(400, e),
            }
        }
    }
}

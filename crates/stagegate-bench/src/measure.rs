//! Cold starts, peak memory and warm invocations of a function binary (or the Python peer) run
//! against the Runtime API stub, the way Lambda runs them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::fixtures::{Events, Function, GAME, POLL_DEPLOYMENT_ID, POLL_STAGE, TOPIC_ARN};
use crate::process::{cpu_time_ns, peak_rss_kib, ChildGuard};
use crate::stubs::{Invocation, Report, RuntimeStub, TimingProxy};

/// The label of the Python peer's target.
pub const PEER_LABEL: &str = "python-peer";

const INIT_TIMEOUT: Duration = Duration::from_secs(60);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Something Lambda would start: a function binary, or `python -m awslambdaric handler.poll`.
#[derive(Debug, Clone)]
pub struct Target {
    /// For reports and log file names.
    pub label: String,
    /// Which event it gets (and which emulator set-up it needs).
    pub function: Function,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// On top of the Lambda environment.
    pub env: Vec<(String, String)>,
}

/// Endpoints and paths every target's environment points at.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub gamesparks: String,
    pub sns: String,
    /// An empty directory, the processes' HOME: no ~/.aws files to read, as on Lambda.
    pub scratch: PathBuf,
}

/// What every cold or warm run is started against: the stubs' endpoints, the events, the
/// emulator (reset between runs that start deployments) and the directory for the processes'
/// logs.
pub struct Harness<'a> {
    pub endpoints: &'a Endpoints,
    pub events: &'a Events,
    pub emulator: &'a gamesparks_local::RunningServer,
    pub logs: &'a Path,
}

/// The environment Lambda gives a function (128 MB, us-east-1), with dummy credentials, the
/// emulator as GameSparks and the stub as SNS, HOME an empty directory. Nothing is inherited
/// but PATH.
pub fn lambda_env(name: &str, e: &Endpoints) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/26/[$LATEST]stagegate-bench",
        ),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDSTAGEGATEBENCH"),
        ("AWS_SECRET_ACCESS_KEY", "stagegate-bench-secret"),
        ("AWS_SESSION_TOKEN", "stagegate-bench-token"),
        ("AWS_ENDPOINT_URL_GAMESPARKS", e.gamesparks.as_str()),
        ("AWS_ENDPOINT_URL_SNS", e.sns.as_str()),
        // The abort check: the same stub, answering "no abort requested".
        ("AWS_ENDPOINT_URL_SSM", e.sns.as_str()),
        // No bench event reaches S3 (notify-result has no RECORD_BUCKET, fleet-step answers an
        // ending); should one, the stub refuses it and the run fails, instead of going to AWS.
        ("AWS_ENDPOINT_URL_S3", e.sns.as_str()),
        ("TOPIC_ARN", TOPIC_ARN),
        ("TZ", ":UTC"),
        ("LANG", "C.UTF-8"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.push((
        "AWS_LAMBDA_LOG_GROUP_NAME".into(),
        format!("/aws/lambda/{name}"),
    ));
    env.push(("HOME".into(), e.scratch.display().to_string()));
    if let Some(path) = std::env::var_os("PATH") {
        env.push(("PATH".into(), path.to_string_lossy().into_owned()));
    }
    env
}

impl Target {
    pub fn rust(label: &str, function: Function, binary: &Path) -> Self {
        Self {
            label: label.to_owned(),
            function,
            program: binary.to_path_buf(),
            args: vec![],
            cwd: None,
            env: vec![],
        }
    }

    /// The peer, started as the Lambda Python runtime starts a handler.
    /// `base` with extra environment and a label suffix, for experiments.
    pub fn with_env(base: &Target, suffix: &str, env: &[(&str, &str)]) -> Self {
        let mut t = base.clone();
        t.label = format!("{}{suffix}", base.label);
        t.env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        t
    }

    pub fn python_peer(python: &Path, peer_dir: &Path) -> Self {
        let dir = peer_dir.display().to_string();
        Self {
            label: PEER_LABEL.into(),
            function: Function::Poll,
            program: python.to_path_buf(),
            args: ["-m", "awslambdaric", "handler.poll"]
                .map(str::to_owned)
                .to_vec(),
            cwd: Some(peer_dir.to_path_buf()),
            env: vec![
                ("LAMBDA_TASK_ROOT".into(), dir.clone()),
                ("PYTHONPATH".into(), dir),
                ("_HANDLER".into(), "handler.poll".into()),
                ("AWS_EXECUTION_ENV".into(), "AWS_Lambda_python3.11".into()),
            ],
        }
    }

    pub(crate) fn command(&self, endpoints: &Endpoints, runtime_api: &str) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).env_clear();
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd.envs(lambda_env(self.function.binary(), endpoints));
        cmd.envs(self.function.env().iter().copied());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.env("AWS_LAMBDA_RUNTIME_API", runtime_api);
        cmd
    }
}

/// One cold start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColdSample {
    /// Spawn to the first `GET /invocation/next`.
    pub init_ms: f64,
    /// CPU time (all threads) used by then; NaN if it could not be read.
    pub init_cpu_ms: f64,
    /// Spawn to the first invocation's response (or error) POST.
    pub first_invocation_ms: f64,
    /// VmHWM after the first invocation.
    pub rss_kib: u64,
    /// When the process was started, in wall-clock microseconds (to line up the phases a
    /// function logs; see `breakdown`).
    pub spawned_unix_us: f64,
}

/// The wall-clock time of `at` (an instant just past), in microseconds since the epoch.
fn unix_us_at(at: Instant) -> f64 {
    let now = std::time::SystemTime::now();
    let since = at.elapsed();
    now.checked_sub(since)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1000.0
}

async fn next_report<T>(
    stub: &mut RuntimeStub,
    child: &mut ChildGuard,
    timeout: Duration,
    what: &str,
    mut pick: impl FnMut(Report) -> Option<Result<T>>,
) -> Result<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        tokio::select! {
            report = stub.reports.recv() => match report {
                Some(r) => {
                    if let Some(done) = pick(r) {
                        return done;
                    }
                }
                None => crate::bail!("the runtime stub stopped while waiting for {what}"),
            },
            _ = tokio::time::sleep(Duration::from_millis(20)) => {
                if let Some(status) = child.exited() {
                    crate::bail!(
                        "{} exited ({status}) while the harness waited for {what}; {}",
                        child.name(),
                        child.log_tail(15)
                    );
                }
                if tokio::time::Instant::now() >= deadline {
                    crate::bail!(
                        "no {what} from {} within {timeout:?}; {}",
                        child.name(),
                        child.log_tail(15)
                    );
                }
            }
        }
    }
}

fn failed(kind: &str, label: &str, body: &Bytes) -> Error {
    format!(
        "{label} answered its benchmark event with an {kind}: {}",
        String::from_utf8_lossy(body)
    )
    .into()
}

async fn wait_init(stub: &mut RuntimeStub, child: &mut ChildGuard, label: &str) -> Result<Instant> {
    next_report(
        stub,
        child,
        INIT_TIMEOUT,
        "GET /invocation/next",
        |r| match r {
            Report::NextRequested { at } => Some(Ok(at)),
            Report::InitError { body, .. } => Some(Err(failed("init error", label, &body))),
            _ => None,
        },
    )
    .await
}

/// Pushes one event and waits for its response: (served at, answered at, response body).
async fn invoke(
    stub: &mut RuntimeStub,
    child: &mut ChildGuard,
    label: &str,
    request_id: &str,
    body: &Bytes,
) -> Result<(Instant, Instant, Bytes)> {
    stub.push(Invocation {
        request_id: request_id.to_owned(),
        body: body.clone(),
    })?;
    let mut served = None;
    let answered = next_report(
        stub,
        child,
        INVOKE_TIMEOUT,
        "the invocation's response",
        |r| match r {
            Report::Served { request_id: id, at } if id == request_id => {
                served = Some(at);
                None
            }
            Report::Response {
                request_id: id,
                at,
                body,
            } if id == request_id => Some(Ok((at, body))),
            Report::Error {
                request_id: id,
                body,
                ..
            } if id == request_id => Some(Err(failed("error", label, &body))),
            Report::InitError { body, .. } => Some(Err(failed("init error", label, &body))),
            _ => None,
        },
    )
    .await?;
    let served = served.ok_or("the response came before the event was served")?;
    Ok((served, answered.0, answered.1))
}

/// Starts `target` cold, gives it one event, and measures init, first invocation and peak RSS.
/// Also returns the first invocation's response body.
pub async fn cold_start(
    target: &Target,
    endpoints: &Endpoints,
    event: &Bytes,
    run: usize,
    log: &Path,
) -> Result<(ColdSample, Bytes)> {
    let mut stub = RuntimeStub::start(target.function.binary()).await?;
    let mut cmd = target.command(endpoints, &stub.api_address());
    let (spawned, mut child) = ChildGuard::spawn(&target.label, &mut cmd, Some(log))?;
    let spawned_unix_us = unix_us_at(spawned);
    let init = wait_init(&mut stub, &mut child, &target.label).await?;
    // The runtime client now blocks on /next: what it has used is its init's CPU time.
    let init_cpu_ms = child
        .id()
        .and_then(cpu_time_ns)
        .map_or(f64::NAN, |ns| ns as f64 / 1e6);
    let request_id = format!("bench-cold-{}-{run:04}", target.label);
    let (_, answered, response) =
        invoke(&mut stub, &mut child, &target.label, &request_id, event).await?;
    let pid = child.id().ok_or("the process is gone")?;
    let rss_kib = peak_rss_kib(pid)?;
    child.kill();
    let sample = ColdSample {
        init_ms: ms(spawned, init),
        init_cpu_ms,
        first_invocation_ms: ms(spawned, answered),
        rss_kib,
        spawned_unix_us,
    };
    Ok((sample, response))
}

/// Warm invocations of one process.
#[derive(Debug, Clone, Default)]
pub struct WarmSamples {
    /// From the event being served to the response POST.
    pub invocation_ms: Vec<f64>,
    /// Time the emulator took to answer, as seen by the timing proxy (0 without a proxy).
    pub upstream_ms: Vec<f64>,
    /// invocation - upstream.
    pub overhead_ms: Vec<f64>,
    /// Upstream requests per invocation (1 expected: one GetStageDeployment).
    pub upstream_requests: Vec<usize>,
    pub rss_kib: u64,
}

/// Keeps one process warm and invokes it `warmup + n` times with `event`, one at a time.
pub async fn warm(
    target: &Target,
    endpoints: &Endpoints,
    event: &Bytes,
    warmup: usize,
    n: usize,
    proxy: Option<&TimingProxy>,
    log: &Path,
) -> Result<WarmSamples> {
    let mut stub = RuntimeStub::start(target.function.binary()).await?;
    let mut cmd = target.command(endpoints, &stub.api_address());
    let (_, mut child) = ChildGuard::spawn(&target.label, &mut cmd, Some(log))?;
    wait_init(&mut stub, &mut child, &target.label).await?;
    if let Some(p) = proxy {
        p.take_windows();
    }
    let mut out = WarmSamples::default();
    for i in 0..warmup + n {
        let request_id = format!("bench-warm-{}-{i:05}", target.label);
        let (served, answered, _) =
            invoke(&mut stub, &mut child, &target.label, &request_id, event).await?;
        let windows = proxy.map(TimingProxy::take_windows).unwrap_or_default();
        if i < warmup {
            continue;
        }
        let total = ms(served, answered);
        let upstream: f64 = windows
            .iter()
            .map(|w| w.duration().as_secs_f64() * 1000.0)
            .sum();
        out.invocation_ms.push(total);
        out.upstream_ms.push(upstream);
        out.overhead_ms.push(total - upstream);
        out.upstream_requests.push(windows.len());
    }
    let pid = child.id().ok_or("the process is gone")?;
    out.rss_kib = peak_rss_kib(pid)?;
    child.kill();
    Ok(out)
}

/// `n` GetStageDeployment calls straight from the harness through the same SDK client and
/// adapter the functions use (after 50 unmeasured ones), in ms.
pub async fn sdk_round_trips(emulator_url: &str, n: usize) -> Result<Vec<f64>> {
    use aws_sdk_gamesparks::config::{Credentials, Region};
    use stagegate::ports::{StageDeployments, StageRef};

    let sdk = aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDSTAGEGATEBENCH",
            "stagegate-bench-secret",
            None,
            None,
            "stagegate-bench",
        ))
        .load()
        .await;
    let conf = aws_sdk_gamesparks::config::Builder::from(&sdk)
        .endpoint_url(emulator_url)
        .build();
    let port =
        stagegate::aws::GameSparksDeployments::new(aws_sdk_gamesparks::Client::from_conf(conf));
    let stage = StageRef {
        game_name: GAME.into(),
        stage_name: POLL_STAGE.into(),
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..50 + n {
        let t = Instant::now();
        port.get_deployment(&stage, POLL_DEPLOYMENT_ID)
            .await
            .map_err(|e| format!("GetStageDeployment from the harness: {e}"))?;
        if i >= 50 {
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(out)
}

//! The local stack stagegate's end-to-end tests and demo run on, with no AWS account and no
//! Docker:
//!
//! - `gamesparks-local` (the GameSparks emulator) at a time scale,
//! - moto 5.2.5 through `infra/local/local_aws.py`: Step Functions executing the real ASL, SNS,
//!   SQS and CloudWatch alarms (the bake window's); its Lambda tasks go to
//! - `cargo lambda watch`, serving the five functions with endpoints and the virtual clock set,
//!   and the answer function's URL in front of it (`function_url`: Lambda's IAM check stood in).
//!
//! It then creates the SNS topic, an SQS queue subscribed to it (what a subscriber receives) and
//! the state machines from `infra/statemachine/deployment-gate.asl.json` and `fleet.asl.json` (whose
//! children are runs of the first), with the records and fleet buckets in moto's S3. Everything it started
//! stops when the `Stack` is dropped.

pub mod function_url;
pub mod http;
pub mod process;
pub mod proxy;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use cargo_run_env::without_cargo_run_env;
use function_url::FunctionUrl;
use process::{free_port, Service};
use proxy::FaultProxy;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub const FUNCTIONS: [&str; 6] = [
    "start-deployment",
    "poll-deployment",
    "rollback-deployment",
    "notify-result",
    "answer-approval",
    "fleet-step",
];
/// Dummy credentials for the local stack only. Tests assert they never appear in logs or messages.
/// The local stack's decision records bucket (docs/audit.md), in moto's S3.
pub const RECORD_BUCKET: &str = "stagegate-records";
/// The local stack's fleet bucket (docs/fleet.md): batch objects, progress and summaries.
pub const FLEET_BUCKET: &str = "stagegate-fleet";
pub const ACCESS_KEY_ID: &str = "AKIASTAGEGATELOCAL01";
pub const SECRET_ACCESS_KEY: &str = "stagegate-local-secret-do-not-log-0000000";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

#[derive(Debug, Clone)]
pub struct Options {
    /// The repository root (holds `.venv`, `infra/`, `target/`).
    pub root: PathBuf,
    /// Virtual seconds per real second, for the emulator, the functions and the workflow's waits.
    pub time_scale: f64,
    pub seed: u64,
    pub scenario: Option<PathBuf>,
    /// Fixed ports (0: pick free ones).
    pub emulator_port: u16,
    pub aws_port: u16,
    pub lambda_port: u16,
    /// Where each service's log goes.
    pub log_dir: PathBuf,
    /// Printed as each step completes.
    pub verbose: bool,
    /// Puts a `FaultProxy` between the functions and SNS (`AWS_ENDPOINT_URL_SNS` of the
    /// functions points at it); `Stack::sns_proxy` switches it between pass-through and failing.
    pub sns_fault_proxy: bool,
    /// Instances per function `cargo lambda watch` may run at once (its `--concurrency`;
    /// `None`: its default, 1). Concurrent executions need more than one.
    pub lambda_concurrency: Option<u32>,
    /// `cargo lambda watch --ignore-changes`: no rebuild and reload when a source file changes
    /// mid-run, and no file watcher (each function instance would otherwise watch the whole
    /// tree, which with many instances runs out of inotify watches).
    pub lambda_ignore_changes: bool,
}

impl Options {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            log_dir: target_dir(&root).join("stagegate-local"),
            root,
            time_scale: 60.0,
            seed: 42,
            scenario: None,
            emulator_port: 0,
            aws_port: 0,
            lambda_port: 0,
            verbose: false,
            sns_fault_proxy: false,
            lambda_concurrency: None,
            lambda_ignore_changes: false,
        }
    }
}

pub struct Stack {
    pub emulator: SocketAddr,
    pub aws: SocketAddr,
    pub lambda: SocketAddr,
    pub topic_arn: String,
    /// The decision records bucket notify-result writes to (its `RECORD_BUCKET`).
    pub record_bucket: String,
    pub queue_url: String,
    pub state_machine_arn: String,
    /// The fleet workflow (`infra/statemachine/fleet.asl.json`), whose children are runs of
    /// `state_machine_arn`.
    pub fleet_state_machine_arn: String,
    /// fleet-step's `FLEET_BUCKET`.
    pub fleet_bucket: String,
    pub time_scale: f64,
    pub time_origin: String,
    pub log_dir: PathBuf,
    /// Between the functions and SNS, when `Options::sns_fault_proxy` was set.
    pub sns_proxy: Option<FaultProxy>,
    /// The answer function's URL (`stagegate approve --answer-url`).
    pub answer_url: FunctionUrl,
    // Stopped in reverse order of start: functions, then the local AWS, then the emulator.
    services: Mutex<Vec<Service>>,
}

impl Stack {
    pub async fn up(options: Options) -> Result<Self, Error> {
        let root = &options.root;
        let say = |what: &str| {
            if options.verbose {
                println!("  {what}");
            }
        };
        let python = root.join(".venv/bin/python");
        let cargo_lambda = root.join(".venv/bin/cargo-lambda");
        for tool in [&python, &cargo_lambda] {
            if !tool.exists() {
                return Err(Error::new(format!(
                    "{} is missing: run `cargo xtask setup` to install the pinned local tools",
                    tool.display()
                )));
            }
        }
        std::fs::create_dir_all(&options.log_dir)
            .map_err(|e| Error::new(format!("{}: {e}", options.log_dir.display())))?;

        let build_log = options.log_dir.join("build.log");
        say(&format!(
            "building the functions, the emulator and the CLI, if not built yet (log: {})",
            build_log.display()
        ));
        build(root, &build_log)?;

        let mut services = Vec::new();
        let emulator_port = port_or_free(options.emulator_port)?;
        let mut emulator = Command::new(target_dir(root).join("debug/gamesparks-local"));
        emulator
            .args(["--port", &emulator_port.to_string()])
            .args(["--time-scale", &options.time_scale.to_string()])
            .args(["--seed", &options.seed.to_string()]);
        if let Some(scenario) = &options.scenario {
            emulator.arg("--scenario").arg(scenario);
        }
        let mut emulator = Service::spawn("gamesparks-local", emulator, &options.log_dir)?;
        emulator.wait_for_line("listening on", Duration::from_secs(30))?;
        services.push(emulator);
        let emulator_addr = loopback(emulator_port);
        let clock = http::request(
            emulator_addr,
            "GET",
            "/_emulator/clock",
            None,
            Duration::from_secs(5),
        )?;
        let time_origin = serde_json::from_str::<Value>(&clock.body)
            .ok()
            .and_then(|c| c["origin"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                Error::new(format!("unexpected /_emulator/clock reply: {}", clock.body))
            })?;
        say(&format!(
            "gamesparks-local on http://{emulator_addr} (time scale {})",
            options.time_scale
        ));

        let aws_port = port_or_free(options.aws_port)?;
        let lambda_port = port_or_free(options.lambda_port)?;
        let (aws_addr, lambda_addr) = (loopback(aws_port), loopback(lambda_port));
        let mut aws = Command::new(&python);
        aws.arg(root.join("infra/local/local_aws.py"))
            .args(["--port", &aws_port.to_string()])
            .args(["--lambda-endpoint", &format!("http://{lambda_addr}")])
            .args(["--time-scale", &options.time_scale.to_string()]);
        let mut aws = Service::spawn("local-aws", aws, &options.log_dir)?;
        aws.wait_for_line("listening on", Duration::from_secs(90))?;
        services.push(aws);
        say(&format!(
            "local AWS (moto: Step Functions, SNS, SQS, CloudWatch, SSM, S3) on http://{aws_addr}"
        ));

        let clients = Clients::new(aws_addr).await;
        let topic_arn = clients
            .sns
            .create_topic()
            .name("stagegate")
            .send()
            .await
            .map_err(|e| sdk("CreateTopic", e))?
            .topic_arn()
            .unwrap_or_default()
            .to_owned();

        // Decision records on, as the template's default: notify-result writes each run's record
        // here (moto's S3) before it publishes.
        clients
            .s3
            .create_bucket()
            .bucket(RECORD_BUCKET)
            .send()
            .await
            .map_err(|e| sdk("CreateBucket", e))?;
        clients
            .s3
            .create_bucket()
            .bucket(FLEET_BUCKET)
            .send()
            .await
            .map_err(|e| sdk("CreateBucket", e))?;

        let sns_proxy = if options.sns_fault_proxy {
            let proxy = FaultProxy::start(aws_addr, Some(&options.log_dir))?;
            say(&format!("SNS fault proxy on {} -> {aws_addr}", proxy.url()));
            Some(proxy)
        } else {
            None
        };
        let sns_endpoint = sns_proxy
            .as_ref()
            .map_or_else(|| format!("http://{aws_addr}"), FaultProxy::url);

        let mut watch = Command::new(&cargo_lambda);
        without_cargo_run_env(&mut watch)
            .args([
                "lambda",
                "watch",
                "-A",
                "127.0.0.1",
                "-P",
                &lambda_port.to_string(),
            ])
            .current_dir(root)
            .env(
                "AWS_ENDPOINT_URL_GAMESPARKS",
                format!("http://{emulator_addr}"),
            )
            .env("AWS_ENDPOINT_URL_SNS", sns_endpoint)
            // The bake window's DescribeAlarms: moto's CloudWatch (alarms set with
            // `Clients::cloudwatch`, e.g. PutMetricAlarm + SetAlarmState).
            .env("AWS_ENDPOINT_URL_CLOUDWATCH", format!("http://{aws_addr}"))
            // Abort requests (`stagegate abort`) and the answer key: moto's Parameter Store.
            .env("AWS_ENDPOINT_URL_SSM", format!("http://{aws_addr}"))
            // The answer function's history reads and SendTaskSuccess: moto's Step Functions.
            .env("AWS_ENDPOINT_URL_SFN", format!("http://{aws_addr}"))
            // Decision records: moto's S3.
            .env("AWS_ENDPOINT_URL_S3", format!("http://{aws_addr}"))
            .env("RECORD_BUCKET", RECORD_BUCKET)
            .env("FLEET_BUCKET", FLEET_BUCKET)
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("TOPIC_ARN", &topic_arn)
            .env("STAGEGATE_TIME_SCALE", options.time_scale.to_string())
            .env("STAGEGATE_TIME_ORIGIN", &time_origin)
            .env("RUST_LOG", "info");
        if let Some(n) = options.lambda_concurrency {
            watch.args(["--concurrency", &n.to_string()]);
        }
        if options.lambda_ignore_changes {
            watch.arg("--ignore-changes");
        }
        let mut watch = Service::spawn("cargo-lambda-watch", watch, &options.log_dir)?;
        watch.wait_for_port(lambda_addr, Duration::from_secs(60))?;
        say(&format!(
            "cargo lambda watch on http://{lambda_addr}; warming {}",
            FUNCTIONS.join(", ")
        ));
        for function in FUNCTIONS {
            warm(&mut watch, lambda_addr, function)?;
        }
        services.push(watch);
        let answer_url = FunctionUrl::start(lambda_addr, "answer-approval")?;
        say(&format!(
            "answer-approval's function URL on {}",
            answer_url.url()
        ));

        // Subscribed only now, so the warm-up's notification never reaches a reader.
        let queue_url = clients
            .sqs
            .create_queue()
            .queue_name("stagegate-notifications")
            .send()
            .await
            .map_err(|e| sdk("CreateQueue", e))?
            .queue_url()
            .unwrap_or_default()
            .to_owned();
        let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:stagegate-notifications");
        clients
            .sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .send()
            .await
            .map_err(|e| sdk("Subscribe", e))?;

        let definition = state_machine_definition(root)?;
        let state_machine_arn = clients
            .sfn
            .create_state_machine()
            .name("stagegate-gate")
            .definition(definition)
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/stagegate-workflow"))
            .send()
            .await
            .map_err(|e| sdk("CreateStateMachine", e))?
            .state_machine_arn()
            .unwrap_or_default()
            .to_owned();
        let fleet_state_machine_arn = clients
            .sfn
            .create_state_machine()
            .name("stagegate-fleet")
            .definition(fleet_definition(root, &state_machine_arn)?)
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/stagegate-fleet"))
            .send()
            .await
            .map_err(|e| sdk("CreateStateMachine", e))?
            .state_machine_arn()
            .unwrap_or_default()
            .to_owned();

        Ok(Self {
            emulator: emulator_addr,
            aws: aws_addr,
            lambda: lambda_addr,
            topic_arn,
            record_bucket: RECORD_BUCKET.to_owned(),
            queue_url,
            state_machine_arn,
            fleet_state_machine_arn,
            fleet_bucket: FLEET_BUCKET.to_owned(),
            time_scale: options.time_scale,
            time_origin,
            log_dir: options.log_dir.clone(),
            sns_proxy,
            answer_url,
            services: Mutex::new(services),
        })
    }

    pub async fn clients(&self) -> Clients {
        Clients::new(self.aws).await
    }

    /// The SDK configuration for any other client of the stack's AWS side.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config(self.aws).await
    }

    /// Calls the emulator's admin API (`/_emulator/...`).
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, Error> {
        let body = body.map(Value::to_string);
        let reply = http::request(
            self.emulator,
            method,
            path,
            body.as_deref(),
            Duration::from_secs(10),
        )?;
        if reply.status >= 300 {
            return Err(Error::new(format!(
                "{method} {path}: HTTP {}: {}",
                reply.status, reply.body
            )));
        }
        Ok(serde_json::from_str(&reply.body).unwrap_or(Value::Null))
    }

    /// Names the services that have stopped on their own.
    pub fn dead_services(&self) -> Vec<String> {
        self.services()
            .iter_mut()
            .filter_map(|s| (!s.is_running()).then(|| s.name.clone()))
            .collect()
    }

    pub fn logs(&self) -> Vec<PathBuf> {
        self.services().iter().map(|s| s.log.clone()).collect()
    }

    /// Stops everything the stack started (also done on drop). Safe to call more than once, and
    /// from any holder: a task that outlives a timed-out test cannot keep processes alive.
    pub fn shutdown(&self) {
        let mut services = self.services();
        while let Some(service) = services.pop() {
            drop(service);
        }
        if let Some(proxy) = &self.sns_proxy {
            proxy.stop();
        }
        self.answer_url.stop();
    }

    fn services(&self) -> MutexGuard<'_, Vec<Service>> {
        self.services.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The environment a client needs to use this stack (for `--keep`).
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), format!("http://{}", self.aws)),
            (
                "AWS_ENDPOINT_URL_GAMESPARKS".into(),
                format!("http://{}", self.emulator),
            ),
            (
                "AWS_ENDPOINT_URL_CLOUDWATCH".into(),
                format!("http://{}", self.aws),
            ),
            ("AWS_REGION".into(), REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET_ACCESS_KEY.into()),
            ("STATE_MACHINE_ARN".into(), self.state_machine_arn.clone()),
            ("TOPIC_ARN".into(), self.topic_arn.clone()),
            ("STAGEGATE_RECORD_BUCKET".into(), self.record_bucket.clone()),
            (
                "STAGEGATE_FLEET_STATE_MACHINE_ARN".into(),
                self.fleet_state_machine_arn.clone(),
            ),
            ("STAGEGATE_FLEET_BUCKET".into(), self.fleet_bucket.clone()),
            ("QUEUE_URL".into(), self.queue_url.clone()),
            ("LAMBDA_PORT".into(), self.lambda.port().to_string()),
            ("STAGEGATE_ANSWER_URL".into(), self.answer_url.url()),
        ]
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// SDK clients for the local AWS.
pub struct Clients {
    pub sfn: aws_sdk_sfn::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// The alarms a bake window watches (moto's CloudWatch).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// The decision records bucket (moto's S3, path-style: its bucket is no DNS name here).
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    pub async fn new(aws: SocketAddr) -> Self {
        let config = sdk_config(aws).await;
        Self {
            sfn: aws_sdk_sfn::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(true)
                    .build(),
            ),
        }
    }
}

/// The SDK configuration of a client of the stack's AWS side (moto): its endpoint, region and
/// credentials, for any service's client (the tests' operator uses Step Functions, SSM and STS).
pub async fn sdk_config(aws: SocketAddr) -> aws_config::SdkConfig {
    aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .region(aws_sdk_sfn::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sfn::config::Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "stagegate-local",
        ))
        .endpoint_url(format!("http://{aws}"))
        .load()
        .await
}

/// The real ASL with the template's substitutions filled in for the local stack.
pub fn state_machine_definition(root: &Path) -> Result<String, Error> {
    let path = root.join("infra/statemachine/deployment-gate.asl.json");
    let mut text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    for (placeholder, function) in [
        ("${StartDeploymentFunctionArn}", "start-deployment"),
        ("${PollDeploymentFunctionArn}", "poll-deployment"),
        ("${RollbackDeploymentFunctionArn}", "rollback-deployment"),
        ("${NotifyResultFunctionArn}", "notify-result"),
    ] {
        text = text.replace(placeholder, &function_arn(function));
    }
    all_filled(text, &path)
}

/// `infra/statemachine/fleet.asl.json` with fleet-step's ARN and the gate's state machine filled in.
pub fn fleet_definition(root: &Path, gate_arn: &str) -> Result<String, Error> {
    let path = root.join("infra/statemachine/fleet.asl.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?
        .replace("${FleetStepFunctionArn}", &function_arn("fleet-step"))
        .replace("${GateStateMachineArn}", gate_arn);
    all_filled(text, &path)
}

/// The definition, unless a `${...}` placeholder is left in it (a substitution the template
/// makes and the local stack does not).
fn all_filled(text: String, path: &Path) -> Result<String, Error> {
    if let Some(left) = text.find("${") {
        let end = text[left..].find('}').map_or(text.len(), |e| left + e + 1);
        return Err(Error::new(format!(
            "unfilled substitution {} in {}",
            &text[left..end],
            path.display()
        )));
    }
    Ok(text)
}

pub fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
}

pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Builds the functions, the emulator and the CLI in one cargo invocation
/// (`cargo_run_env::LOCAL_BINARIES`: the same one the demo's build phase runs, so after it this
/// is a no-op), which `cargo lambda watch` then finds built. Cargo's hundreds of lines go to
/// `log`; a failure shows the compiler's errors in full and where the rest is.
fn build(root: &Path, log: &Path) -> Result<(), Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let _ = std::fs::remove_file(log);
    cargo_run_env::run_logged(
        without_cargo_run_env(&mut Command::new(&cargo))
            .args(cargo_run_env::local_build_args())
            .current_dir(root),
        log,
    )
    .map_err(Error::new)
}

/// The first invoke of each function waits for cargo lambda's build; doing it here keeps that out
/// of every timing-sensitive step later.
fn warm(watch: &mut Service, lambda: SocketAddr, function: &str) -> Result<(), Error> {
    let path = format!("/2015-03-31/functions/{function}/invocations");
    let reply = http::request(lambda, "POST", &path, Some("{}"), Duration::from_secs(900))?;
    // `{}` is not a valid event for any of them: a 500 with their own errorType proves they run.
    if reply.status == 200 || reply.body.contains("errorType") {
        Ok(())
    } else if !watch.is_running() {
        Err(Error::new(format!(
            "cargo lambda watch stopped while starting {function}"
        )))
    } else {
        Err(Error::new(format!(
            "{function} did not start: HTTP {} {}",
            reply.status, reply.body
        )))
    }
}

fn port_or_free(port: u16) -> Result<u16, Error> {
    if port == 0 {
        free_port()
    } else {
        process::check_port_free(port).map(|()| port)
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn sdk(operation: &str, error: impl std::error::Error) -> Error {
    let mut text = format!("{operation}: {error}");
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    Error::new(text)
}

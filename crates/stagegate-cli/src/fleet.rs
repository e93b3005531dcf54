//! `stagegate fleet run` and `stagegate fleet status`: one Step Functions run of the fleet state
//! machine (`<stack>-fleet`) gates many games under one failure budget, batch by batch; these
//! start it and say where it stands.
//!
//! `run` checks the fleet input with the core's own parser (`check`) before any client exists, so
//! a bad fleet is answered with the item and the rule and starts nothing; then one StartExecution
//! with the input as given. `status` makes a fixed, small number of calls whatever the fleet's
//! size: one DescribeExecution, then one GetObject of the run's summary (written when the run
//! ends) or, without one, of its progress (written by each batch's tally). It never reads the
//! execution's history nor anything per game: at 1,000 games that would be the quota's problem
//! (DescribeExecution and GetExecutionHistory are token buckets of about 15 and 20 a second), not
//! the person's (`report`).
//!
//! The AWS calls go through `Calls`, the SDK in production (`Sdk`, whose clients are made at the
//! first call, so nothing before it reaches AWS, not even the region chain), a fake in the tests.

use stagegate::aws::S3Records;
use stagegate::ports::{RecordStore, ServiceErrorKind};
use time::OffsetDateTime;
use tokio::sync::OnceCell;

use crate::aws::{self, AwsArgs};
use crate::history::error_text;
use crate::target;

/// What the env variables and flags of the fleet's resources are called, for messages.
pub const MACHINE_FLAG: &str = "--fleet-state-machine-arn";
pub const MACHINE_VAR: &str = "STAGEGATE_FLEET_STATE_MACHINE_ARN";
pub const BUCKET_VAR: &str = "STAGEGATE_FLEET_BUCKET";

#[derive(clap::Subcommand)]
pub enum FleetCommand {
    /// Start a fleet run: the input (schemas/fleet-input.schema.json) is checked first with the
    /// gate's own parser, and a bad one starts nothing (exit 2, naming the item and the rule);
    /// prints the execution, the plan and the command to follow it.
    Run(RunArgs),
    /// Where a fleet run stands: its games started and ended, its batches, the outcomes, the
    /// failures against the budget, the failed games and why, and what to do next. Two or three
    /// calls whatever the fleet's size: DescribeExecution, then the run's summary or progress
    /// from the fleet bucket. Exit 0 completed, 1 stopped by the budget or ended without a
    /// summary, 4 refused, 5 still running.
    Status(StatusArgs),
}

#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// The fleet input: a file (also @FILE, file://PATH, or - for stdin). Over 256 KiB, put the
    /// games in S3 (`gamesFrom`).
    #[arg(long, value_name = "FILE")]
    pub input: String,
    /// Execution name (default: <fleetName>-<UTC yyyymmddTHHMMSSZ>); its summary and progress
    /// are kept under fleets/<name>/ in the fleet bucket.
    #[arg(long)]
    pub name: Option<String>,
    /// The fleet state machine (`<stack>-fleet`).
    #[arg(long, env = MACHINE_VAR, value_name = "ARN")]
    pub fleet_state_machine_arn: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Endpoint for Step Functions, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

#[derive(clap::Args, Clone, Debug)]
pub struct StatusArgs {
    /// The fleet run: its execution name (with --fleet-state-machine-arn) or its ARN.
    #[arg(long, visible_alias = "execution-arn", value_name = "NAME|ARN")]
    pub execution: String,
    /// The fleet state machine, to find a run by its name.
    #[arg(long, env = MACHINE_VAR, value_name = "ARN")]
    pub fleet_state_machine_arn: Option<String>,
    /// The bucket the fleet workflow writes its runs' summaries and progress to
    /// (fleets/<execution name>/summary.json and progress.json).
    #[arg(long, env = BUCKET_VAR, value_name = "BUCKET")]
    pub fleet_bucket: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Endpoint for Step Functions and S3, e.g. the local stack (also AWS_ENDPOINT_URL_SFN,
    /// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

impl StatusArgs {
    /// The fleet execution's ARN; a name needs the fleet state machine.
    pub fn arn(&self) -> Result<String, String> {
        target::execution_arn_of(
            &self.execution,
            self.fleet_state_machine_arn.as_deref(),
            &target::Machine {
                flag: MACHINE_FLAG,
                var: MACHINE_VAR,
                what: "the fleet state machine",
            },
        )
    }

    /// The bucket, refused blank before any call.
    pub fn bucket(&self) -> Result<&str, String> {
        let bucket = self.fleet_bucket.trim();
        if bucket.is_empty() {
            return Err(format!(
                "--fleet-bucket is empty: give the fleet bucket (or set {BUCKET_VAR})"
            ));
        }
        Ok(bucket)
    }
}

/// A DescribeExecution answer, as much of it as `fleet status` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    pub name: String,
    /// Step Functions' status, e.g. `RUNNING`.
    pub status: String,
    pub input: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub started_at: Option<OffsetDateTime>,
}

/// The AWS calls of the fleet commands: the SDK in production, a fake in the tests.
pub(crate) trait Calls {
    /// StartExecution; the new execution's ARN.
    async fn start_execution(
        &self,
        state_machine: &str,
        name: &str,
        input: &str,
    ) -> Result<String, String>;
    async fn describe_execution(&self, arn: &str) -> Result<Described, String>;
    /// GetObject in the fleet bucket; `None` when there is no such object.
    async fn get_object(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
}

/// The SDK's clients, made at the first call.
pub(crate) struct Sdk {
    aws: AwsArgs,
    endpoint_url: Option<String>,
    /// The ARN the command acts on (its region is the calls' when nothing else names one).
    arn: String,
    bucket: Option<String>,
    clients: OnceCell<Clients>,
}

struct Clients {
    sfn: aws_sdk_sfn::Client,
    s3: Option<S3Records>,
}

impl Sdk {
    pub(crate) fn new(
        aws: &AwsArgs,
        endpoint_url: Option<&str>,
        arn: &str,
        bucket: Option<&str>,
    ) -> Self {
        Self {
            aws: aws.clone(),
            endpoint_url: endpoint_url.map(str::to_owned),
            arn: arn.to_owned(),
            bucket: bucket.map(str::to_owned),
            clients: OnceCell::new(),
        }
    }

    /// With the clients made from `config` at once (the tests' credentials and endpoint).
    #[cfg(test)]
    pub(crate) fn with_config(
        config: &aws_config::SdkConfig,
        endpoint_url: &str,
        bucket: &str,
    ) -> Self {
        let sdk = Self::new(&AwsArgs::default(), Some(endpoint_url), "", Some(bucket));
        let _ = sdk.clients.set(sdk.clients_from(config));
        sdk
    }

    async fn clients(&self) -> Result<&Clients, String> {
        self.clients
            .get_or_try_init(|| async {
                let config = aws::load(&self.aws, Some(&self.arn)).await?;
                Ok(self.clients_from(&config))
            })
            .await
    }

    fn clients_from(&self, config: &aws_config::SdkConfig) -> Clients {
        let mut sfn = aws_sdk_sfn::config::Builder::from(config);
        if let Some(url) = aws::endpoint_url(self.endpoint_url.as_deref(), "SFN") {
            sfn = sfn.endpoint_url(url);
        }
        // As `audit verify` builds it: path-style at an endpoint override.
        let s3 = self.bucket.as_ref().map(|bucket| {
            S3Records::for_bucket(
                config,
                bucket.clone(),
                aws::endpoint_url(self.endpoint_url.as_deref(), "S3"),
            )
        });
        Clients {
            sfn: aws_sdk_sfn::Client::from_conf(sfn.build()),
            s3,
        }
    }
}

impl Calls for Sdk {
    async fn start_execution(
        &self,
        state_machine: &str,
        name: &str,
        input: &str,
    ) -> Result<String, String> {
        let started = self
            .clients()
            .await?
            .sfn
            .start_execution()
            .state_machine_arn(state_machine)
            .name(name)
            .input(input)
            .send()
            .await
            .map_err(|e| format!("StartExecution on {state_machine}: {}", error_text(&e)))?;
        Ok(started.execution_arn().unwrap_or_default().to_owned())
    }

    async fn describe_execution(&self, arn: &str) -> Result<Described, String> {
        let d = self
            .clients()
            .await?
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| format!("DescribeExecution {arn}: {}", error_text(&e)))?;
        Ok(Described {
            name: d.name().unwrap_or_default().to_owned(),
            status: d.status().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
            input: d.input().map(str::to_owned),
            error: d.error().map(str::to_owned),
            cause: d.cause().map(str::to_owned),
            started_at: d
                .start_date()
                .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).ok()),
        })
    }

    async fn get_object(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(s3) = &self.clients().await?.s3 else {
            return Err("no fleet bucket was given (--fleet-bucket)".into());
        };
        match s3.get(key).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind == ServiceErrorKind::NotFound => Ok(None),
            // S3 answers a missing key with AccessDenied to a caller who may not list the
            // bucket: say so, or "not allowed" would send the person after the wrong policy.
            Err(e) if e.kind == ServiceErrorKind::AccessDenied => Err(format!(
                "s3://{}/{key}: {e} (S3 also answers AccessDenied for an object that does not \
                 exist when the caller lacks s3:ListBucket on the bucket; the fleet status needs \
                 s3:GetObject on fleets/* and s3:ListBucket on the bucket)",
                s3.bucket()
            )),
            Err(e) => Err(format!("s3://{}/{key}: {e}", s3.bucket())),
        }
    }
}

pub mod check;
pub mod command;
pub mod report;

#[cfg(test)]
mod tests;

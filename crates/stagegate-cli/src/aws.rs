//! The one place the CLI's AWS configuration is made, for `run`/`follow`, `approve`/`reject`/
//! `abort` and `status` alike, so the commands cannot drift apart in how they find a profile, a
//! region, an endpoint or how long they wait.
//!
//! Region: `--region` first, then what the environment or the profile names (`AWS_REGION`, the
//! profile's `region`), then the region of the ARN the command was given, which names it anyway:
//! an operator who pastes an ARN from the console should not have to repeat its region. A
//! `--region` that contradicts the ARN is refused, because Step Functions would only answer that
//! the execution does not exist. Timeouts: aws-config 0.56 sets a connect timeout but no read
//! timeout, and a stalled endpoint (a proxy holding the connection, a half-open tunnel to the
//! local stack) would hang the CLI forever; `stagegate_http` honours both.

use std::time::Duration;

use aws_config::meta::region::ProvideRegion;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_sfn::config::Region;
use stagegate::aws::endpoint;

use crate::target;

/// The TCP connect: an endpoint that does not answer a SYN in this long is not there.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// From the request's first byte to the answer's last: the largest answer the CLI reads (a page
/// of 1,000 history events) comes in well under a second.
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// What every command that calls AWS accepts about its account and region.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AwsArgs {
    /// AWS region (default: AWS_REGION or the profile's region, else the region of the ARN
    /// given).
    #[arg(long)]
    pub region: Option<String>,
    /// A named profile of the AWS config and credentials files.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
}

/// Said when nothing names a region; every command that calls AWS takes an ARN, so this is rare.
pub const NO_REGION: &str = "no AWS region: give --region, set AWS_REGION (or `region` in the \
                             profile), or give an ARN, whose region is used";

/// The region to use, from `--region` (`flag`), the environment or profile (`configured`) and the
/// command's ARN, in that order; `None` when none of them names one. An explicit region that is
/// not the ARN's is an error: the calls would look for the ARN in the wrong region.
pub fn choose_region(
    flag: Option<&str>,
    configured: Option<&str>,
    arn: Option<&str>,
) -> Result<Option<String>, String> {
    let arn_region = arn.and_then(|a| target::parse(a).ok()).map(|a| a.region);
    let flag = flag.map(str::trim).filter(|r| !r.is_empty());
    if let (Some(flag), Some(arn_region)) = (flag, arn_region) {
        if flag != arn_region {
            return Err(format!(
                "--region {flag} contradicts the ARN, which is in {arn_region} (`{}`): drop \
                 --region or give the ARN of {flag}",
                arn.unwrap_or_default()
            ));
        }
    }
    Ok(flag
        .or(configured.filter(|r| !r.is_empty()))
        .or(arn_region)
        .map(str::to_owned))
}

/// The SDK configuration for a command given `args` and the ARN it acts on.
pub async fn load(args: &AwsArgs, arn: Option<&str>) -> Result<SdkConfig, String> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build();
    load_with(args, arn, timeouts).await
}

async fn load_with(
    args: &AwsArgs,
    arn: Option<&str>,
    timeouts: TimeoutConfig,
) -> Result<SdkConfig, String> {
    let profile = args.profile.as_deref().filter(|p| !p.is_empty());
    let configured = configured_region(profile).await;
    let region = match choose_region(args.region.as_deref(), configured.as_deref(), arn)? {
        Some(region) => region,
        // No ARN to read: the rest of the standard chain (the instance metadata service).
        None => {
            let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
            if let Some(profile) = profile {
                chain = chain.profile_name(profile);
            }
            chain
                .build()
                .region()
                .await
                .map(|r| r.to_string())
                .ok_or_else(|| NO_REGION.to_owned())?
        }
    };
    let mut loader = aws_config::from_env()
        .http_connector(stagegate_http::connector())
        .timeout_config(timeouts)
        .region(Region::new(region));
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    Ok(loader.load().await)
}

/// The region the environment or the profile names, without the instance metadata service (a
/// second's wait off EC2, and the ARN names the region anyway).
async fn configured_region(profile: Option<&str>) -> Option<String> {
    if let Some(region) = aws_config::environment::region::EnvironmentVariableRegionProvider::new()
        .region()
        .await
    {
        return Some(region.to_string());
    }
    let mut file = aws_config::profile::region::ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        file = file.profile_name(profile);
    }
    file.build().region().await.map(|r| r.to_string())
}

/// The endpoint of `service` (the upper-case suffix of `AWS_ENDPOINT_URL_<SERVICE>`): the
/// command's `--endpoint-url` option first, then the standard variables.
pub fn endpoint_url(option: Option<&str>, service: &str) -> Option<String> {
    option
        .map(str::to_owned)
        .or_else(|| endpoint::from_env(service))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::history::error_text;

    const RUN: &str = "arn:aws:states:eu-west-1:1:execution:gate:run";

    #[test]
    fn the_region_comes_from_the_flag_the_configuration_then_the_arn() {
        let chosen = |flag, configured, arn| choose_region(flag, configured, arn);
        assert_eq!(chosen(None, None, Some(RUN)), Ok(Some("eu-west-1".into())));
        assert_eq!(
            chosen(None, Some("us-east-1"), Some(RUN)),
            Ok(Some("us-east-1".into()))
        );
        assert_eq!(
            chosen(Some("eu-west-1"), Some("us-east-1"), Some(RUN)),
            Ok(Some("eu-west-1".into()))
        );
        assert_eq!(chosen(None, None, None), Ok(None));
        assert_eq!(
            chosen(Some("ap-south-1"), None, None),
            Ok(Some("ap-south-1".into()))
        );
    }

    #[test]
    fn a_region_flag_that_contradicts_the_arn_is_refused() {
        let refused = choose_region(Some("us-east-1"), None, Some(RUN))
            .err()
            .unwrap_or_default();
        assert!(
            refused.starts_with("--region us-east-1 contradicts the ARN, which is in eu-west-1"),
            "{refused}"
        );
    }

    /// An endpoint that accepts the connection and never answers: the call ends, as a timeout,
    /// instead of waiting forever.
    #[tokio::test]
    async fn a_stalled_endpoint_ends_in_a_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"));
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let args = AwsArgs {
            region: Some("eu-west-1".into()),
            profile: None,
        };
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(500))
            .read_timeout(Duration::from_millis(300))
            .build();
        let config = load_with(&args, Some(RUN), timeouts)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let sfn = aws_sdk_sfn::config::Builder::from(&config)
            .endpoint_url(format!("http://{address}"))
            .credentials_provider(aws_sdk_sfn::config::Credentials::new(
                "AKID", "secret", None, None, "test",
            ))
            .build();
        let started = Instant::now();
        let call = aws_sdk_sfn::Client::from_conf(sfn)
            .describe_execution()
            .execution_arn(RUN)
            .send();
        let ended = tokio::time::timeout(Duration::from_secs(15), call).await;
        held.abort();
        let error = match ended {
            Ok(Err(e)) => error_text(&e),
            Ok(Ok(_)) => panic!("a stalled endpoint answered"),
            Err(_) => panic!("still waiting after {:?}", started.elapsed()),
        };
        assert!(error.contains("timeout"), "{error}");
    }
}

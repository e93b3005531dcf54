//! Endpoints. aws-config 0.56 predates `AWS_ENDPOINT_URL` support, so the gate reads the standard
//! variables itself: the service-specific one first, then the global one.
//!
//! And the endpoint rules, in place of the SDK's generated resolvers: each of those parses the
//! partitions document and compiles five partition regexes (Unicode `\w`) every time a client is
//! built, 4-5 ms of a function's cold start per client, more than the rest of init together
//! (bench/results.json `init_breakdown`). For the three services the functions call the rules
//! come down to the override, or `https://{service}.{region}.{partition's DNS suffix}`;
//! `Rules` computes that, and `rules_match_the_sdk` checks it against the generated resolvers for
//! every region of every partition. FIPS and dual-stack endpoints are refused: the functions never
//! ask for them, and a refusal is better than a guess.

use aws_smithy_http::endpoint::{ResolveEndpoint, ResolveEndpointError};
use aws_smithy_types::endpoint::Endpoint;

pub const GLOBAL_VAR: &str = "AWS_ENDPOINT_URL";

/// `service` is the upper-case suffix, e.g. `GAMESPARKS` for `AWS_ENDPOINT_URL_GAMESPARKS`.
pub fn endpoint_override(service: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    [format!("{GLOBAL_VAR}_{service}"), GLOBAL_VAR.to_owned()]
        .iter()
        .filter_map(|var| lookup(var))
        .map(|url| url.trim().to_owned())
        .find(|url| !url.is_empty())
}

pub fn from_env(service: &str) -> Option<String> {
    endpoint_override(service, |k| std::env::var(k).ok())
}

/// The endpoint rules of one service (its endpoint prefix, e.g. `gamesparks`).
#[derive(Debug, Clone, Copy)]
pub struct Rules(pub &'static str);

pub const GAMESPARKS: Rules = Rules("gamesparks");
pub const SNS: Rules = Rules("sns");
pub const CLOUDWATCH: Rules = Rules("monitoring");
pub const SSM: Rules = Rules("ssm");

impl Rules {
    fn resolve(
        &self,
        region: Option<&str>,
        fips: bool,
        dual_stack: bool,
        endpoint: Option<&str>,
    ) -> Result<Endpoint, ResolveEndpointError> {
        if fips || dual_stack {
            return Err(ResolveEndpointError::message(
                "stagegate resolves neither FIPS nor dual-stack endpoints; set the endpoint URL instead",
            ));
        }
        if let Some(url) = endpoint {
            return Ok(Endpoint::builder().url(url.to_owned()).build());
        }
        let region = region.filter(|r| valid_host_label(r)).ok_or_else(|| {
            ResolveEndpointError::message("Invalid Configuration: Missing Region")
        })?;
        Ok(Endpoint::builder()
            .url(format!(
                "https://{}.{region}.{}",
                self.0,
                dns_suffix(region)
            ))
            .build())
    }
}

/// The partition's DNS suffix, as the partitions document of this SDK generation maps regions.
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") || region == "aws-cn-global" {
        "amazonaws.com.cn"
    } else if region.starts_with("us-isob-") || region == "aws-iso-b-global" {
        "sc2s.sgov.gov"
    } else if region.starts_with("us-iso-") || region == "aws-iso-global" {
        "c2s.ic.gov"
    } else {
        "amazonaws.com"
    }
}

/// What the rules' `isValidHostLabel` accepts: 1-63 letters, digits and hyphens, not starting
/// with a hyphen.
fn valid_host_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

macro_rules! resolves {
    ($params:ty) => {
        impl ResolveEndpoint<$params> for Rules {
            fn resolve_endpoint(&self, p: &$params) -> aws_smithy_http::endpoint::Result {
                self.resolve(
                    p.region(),
                    p.use_fips() == Some(true),
                    p.use_dual_stack() == Some(true),
                    p.endpoint(),
                )
            }
        }
    };
}

resolves!(aws_sdk_gamesparks::config::endpoint::Params);
resolves!(aws_sdk_sns::config::endpoint::Params);
resolves!(aws_sdk_cloudwatch::config::endpoint::Params);
resolves!(aws_sdk_ssm::config::endpoint::Params);

#[cfg(test)]
mod tests {
    use super::*;

    const REGIONS: &[&str] = &[
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-south-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "me-central-1",
        "me-south-1",
        "sa-east-1",
        "us-gov-west-1",
        "us-gov-east-1",
        "cn-north-1",
        "cn-northwest-1",
        "us-iso-east-1",
        "us-iso-west-1",
        "us-isob-east-1",
        "il-central-1",
        "ap-south-2",
        "eu-central-2",
        "mx-central-1",
        "aws-global",
        "aws-cn-global",
    ];

    macro_rules! same_as_sdk {
        ($sdk:ident, $rules:expr) => {{
            use $sdk::config::endpoint::{DefaultResolver, Params};
            let sdk = DefaultResolver::new();
            let url = |r: Result<Endpoint, ResolveEndpointError>| r.map(|e| e.url().to_owned());
            for region in REGIONS {
                let params = Params::builder().region(*region).build().unwrap();
                let ours = url($rules.resolve_endpoint(&params));
                let theirs = url(sdk.resolve_endpoint(&params));
                assert_eq!(ours.ok(), theirs.ok(), "{} in {region}", stringify!($sdk));
                let custom = Params::builder()
                    .region(*region)
                    .endpoint("http://127.0.0.1:4567")
                    .build()
                    .unwrap();
                assert_eq!(
                    url($rules.resolve_endpoint(&custom)).ok(),
                    url(sdk.resolve_endpoint(&custom)).ok()
                );
                let fips = Params::builder()
                    .region(*region)
                    .use_fips(true)
                    .build()
                    .unwrap();
                assert!($rules.resolve_endpoint(&fips).is_err(), "FIPS is refused");
            }
            let no_region = Params::builder().build().unwrap();
            assert!($rules.resolve_endpoint(&no_region).is_err());
            assert!(sdk.resolve_endpoint(&no_region).is_err());
        }};
    }

    #[test]
    fn rules_match_the_sdk() {
        same_as_sdk!(aws_sdk_gamesparks, GAMESPARKS);
        same_as_sdk!(aws_sdk_sns, SNS);
        same_as_sdk!(aws_sdk_cloudwatch, CLOUDWATCH);
        same_as_sdk!(aws_sdk_ssm, SSM);
    }

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(endpoint_override("SNS", lookup(&[])), None);
        assert_eq!(
            endpoint_override("SNS", lookup(&[("AWS_ENDPOINT_URL", "http://all")])),
            Some("http://all".into())
        );
        assert_eq!(
            endpoint_override(
                "SNS",
                lookup(&[
                    ("AWS_ENDPOINT_URL", "http://all"),
                    ("AWS_ENDPOINT_URL_SNS", " http://sns ")
                ])
            ),
            Some("http://sns".into())
        );
        assert_eq!(
            endpoint_override(
                "GAMESPARKS",
                lookup(&[
                    ("AWS_ENDPOINT_URL", "http://all"),
                    ("AWS_ENDPOINT_URL_SNS", "http://sns")
                ])
            ),
            Some("http://all".into())
        );
        assert_eq!(
            endpoint_override(
                "SNS",
                lookup(&[
                    ("AWS_ENDPOINT_URL_SNS", ""),
                    ("AWS_ENDPOINT_URL", "http://all")
                ])
            ),
            Some("http://all".into())
        );
    }
}

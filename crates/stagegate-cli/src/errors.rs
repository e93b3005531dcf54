//! What to do about a failure, said to the person who ran the command.
//!
//! The SDK's errors name what broke in its own terms ("dispatch failure: io error", "the
//! credential provider was not enabled: no providers in chain provided credentials", "requires
//! following cargo feature(s) enabled: credentials-sso"), which a person in the middle of a deployment cannot act on. Every command
//! ends with one message (`Result<_, String>`, the sources of an SDK error joined by
//! `history::error_text`); this module recognises the few failures that have one fix (no
//! credentials, no region, an SSO profile, an endpoint that cannot be reached, an execution that
//! does not exist) and adds that fix, naming the profile, the endpoint and what set it, or the
//! execution. The message itself is kept: it is what a bug report needs.

use stagegate::aws::endpoint::GLOBAL_VAR;

/// A failure with one fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NoCredentials,
    NoRegion,
    /// A profile that signs in with IAM Identity Center, which this build cannot do: aws-config's
    /// `credentials-sso` feature stays off, its dependencies carry advisories.
    SsoProfile,
    /// The profile named is in neither AWS file.
    UnknownProfile,
    Unreachable,
    NoSuchExecution,
}

/// Which of the `Problem`s `message` is, if any; the most specific first (an SSO profile is also
/// a failure to load credentials).
pub fn classify(message: &str) -> Option<Problem> {
    let has = |needle: &str| message.contains(needle);
    if has("credentials-sso") {
        Some(Problem::SsoProfile)
    } else if has("was not defined") && has("profile") {
        Some(Problem::UnknownProfile)
    } else if has("the credential provider was not enabled")
        || has("did not contain credential information")
    {
        Some(Problem::NoCredentials)
    } else if has(crate::aws::NO_REGION) || has("Missing Region") {
        Some(Problem::NoRegion)
    } else if has("ExecutionDoesNotExist") {
        Some(Problem::NoSuchExecution)
    } else if has("dispatch failure: io error")
        || has("dispatch failure: timeout")
        || has("request has timed out")
    {
        Some(Problem::Unreachable)
    } else {
        None
    }
}

/// An endpoint a command was pointed at, and what pointed it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The service, as a person knows it (`Step Functions`).
    pub service: &'static str,
    pub url: String,
    /// The option or variable that set it (`--endpoint-url`, `AWS_ENDPOINT_URL_SFN`).
    pub set_by: String,
}

/// What the command was given, for the fixes to name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// `--profile` or AWS_PROFILE.
    pub profile: Option<String>,
    /// The endpoints set by an option or a variable (none: AWS's own).
    pub endpoints: Vec<Endpoint>,
    /// The execution the command acts on.
    pub execution: Option<String>,
}

impl Context {
    /// Adds the endpoint of each of `services` (a name and the suffix of its variable, e.g.
    /// `("Step Functions", "SFN")`): `option` (named `option_name`) first, then the variables, in
    /// the order `stagegate::aws::endpoint` reads them.
    pub fn with_endpoints(
        mut self,
        option: Option<&str>,
        option_name: &str,
        services: &[(&'static str, &str)],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        for (service, suffix) in services {
            let from_option = option.map(|url| (url.to_owned(), option_name.to_owned()));
            let from_env = || {
                [format!("{GLOBAL_VAR}_{suffix}"), GLOBAL_VAR.to_owned()]
                    .into_iter()
                    .find_map(|var| {
                        lookup(&var)
                            .map(|url| url.trim().to_owned())
                            .filter(|url| !url.is_empty())
                            .map(|url| (url, var))
                    })
            };
            if let Some((url, set_by)) = from_option.or_else(from_env) {
                self.endpoints.push(Endpoint {
                    service,
                    url,
                    set_by,
                });
            }
        }
        self
    }
}

/// `message`, and the fix when it is one of the `Problem`s.
pub fn explain(message: &str, context: &Context) -> String {
    match classify(message).map(|p| fix(p, context)) {
        Some(fix) => format!("{message}\n\n{fix}"),
        None => message.to_owned(),
    }
}

/// What to set or run for `problem`.
pub fn fix(problem: Problem, context: &Context) -> String {
    let profile = context.profile.as_deref();
    match problem {
        Problem::NoCredentials => {
            let which = match profile {
                Some(p) => format!("the profile `{p}` gives none"),
                None => "no profile is chosen and the environment holds none".into(),
            };
            format!(
                "No AWS credentials were found ({which}). Either:\n  \
                 - choose a profile of ~/.aws/config: --profile NAME or AWS_PROFILE=NAME;\n  \
                 - run `aws configure` to write the default profile;\n  \
                 - or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN \
                 for temporary credentials)."
            )
        }
        Problem::NoRegion => format!(
            "{}.",
            crate::aws::NO_REGION.replacen("no AWS region", "No AWS region is known", 1)
        ),
        Problem::SsoProfile => {
            let name = profile.unwrap_or("default");
            format!(
                "The profile `{name}` signs in with IAM Identity Center (SSO), which this build of \
                 stagegate cannot do (the SDK's SSO support is left out: its dependencies carry \
                 security advisories). Let the AWS CLI sign in and hand stagegate the \
                 credentials: run `aws sso login --profile {name}`, add a profile of its own to \
                 ~/.aws/config\n\n  \
                 [profile {name}-process]\n  \
                 credential_process = aws configure export-credentials --profile {name} \
                 --format process\n\n\
                 and run stagegate with --profile {name}-process (or AWS_PROFILE={name}-process)."
            )
        }
        Problem::UnknownProfile => format!(
            "The profile `{}` is in neither ~/.aws/config nor ~/.aws/credentials (or the files \
             AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name): check --profile / \
             AWS_PROFILE, or run `aws configure --profile {0}`.",
            profile.unwrap_or("default")
        ),
        Problem::Unreachable => {
            if context.endpoints.is_empty() {
                "AWS could not be reached: check the network and any proxy (HTTPS_PROXY), or \
                 point the command at another endpoint with --endpoint-url or AWS_ENDPOINT_URL."
                    .into()
            } else {
                let listed: Vec<String> = context
                    .endpoints
                    .iter()
                    .map(|e| format!("  - {} at {} (set by {})", e.service, e.url, e.set_by))
                    .collect();
                format!(
                    "An endpoint could not be reached; the command was pointed at:\n{}\n\
                     Is it running (the local stack: `cargo run --bin stagegate-local`)? \
                     Otherwise correct or unset what set it to use AWS's own endpoints.",
                    listed.join("\n")
                )
            }
        }
        Problem::NoSuchExecution => {
            let execution = context
                .execution
                .as_deref()
                .unwrap_or("the execution given");
            format!(
                "There is no execution {execution} in this account and region: check its name, \
                 the state machine, the region and the profile (AWS_REGION or the profile's \
                 region is used before the ARN's). `stagegate status --game GAME` lists a game's \
                 runs by name."
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sfn::operation::describe_execution::DescribeExecutionError;
    use aws_sdk_sfn::types::error::ExecutionDoesNotExist;
    use aws_smithy_http::result::{ConnectorError, SdkError};

    use super::*;
    use crate::history::error_text;

    type Sdk = SdkError<DescribeExecutionError, ()>;

    const RUN: &str = "arn:aws:states:eu-west-1:1:execution:gate:run-1";

    fn local() -> Context {
        Context {
            profile: Some("ops".into()),
            execution: Some(RUN.into()),
            ..Context::default()
        }
        .with_endpoints(
            None,
            "--endpoint-url",
            &[("Step Functions", "SFN"), ("STS", "STS")],
            |var| (var == "AWS_ENDPOINT_URL_SFN").then(|| "http://127.0.0.1:1".into()),
        )
    }

    #[test]
    fn no_credentials_says_what_to_set_or_run() {
        let error = Sdk::construction_failure(
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            ),
        );
        let said = explain(
            &format!("DescribeExecution: {}", error_text(&error)),
            &local(),
        );
        assert_eq!(classify(&said), Some(Problem::NoCredentials));
        for needle in ["AWS_PROFILE", "aws configure", "AWS_ACCESS_KEY_ID", "`ops`"] {
            assert!(said.contains(needle), "{needle}: {said}");
        }
        // A profile with neither keys nor a way to get them, as the profile provider says it.
        let empty = Sdk::construction_failure(
            aws_credential_types::provider::error::CredentialsError::invalid_configuration(
                "profile `ops` did not contain credential information",
            ),
        );
        assert_eq!(classify(&error_text(&empty)), Some(Problem::NoCredentials));
    }

    #[test]
    fn no_region_names_the_three_ways_to_give_one() {
        let said = explain(crate::aws::NO_REGION, &Context::default());
        for needle in ["--region", "AWS_REGION", "give an ARN"] {
            assert!(said.contains(needle), "{needle}: {said}");
        }
        // The SDK's own wording, from a client built without a region.
        assert_eq!(
            classify("failed to construct request: Invalid Configuration: Missing Region"),
            Some(Problem::NoRegion)
        );
    }

    #[test]
    fn an_sso_profile_gets_the_credential_process_workaround() {
        let error = Sdk::construction_failure(
            aws_credential_types::provider::error::CredentialsError::invalid_configuration(
                "This behavior requires following cargo feature(s) enabled: credentials-sso",
            ),
        );
        let said = explain(&error_text(&error), &local());
        assert!(
            said.contains(
                "[profile ops-process]\n  credential_process = aws configure export-credentials \
                 --profile ops --format process"
            ),
            "{said}"
        );
        assert!(said.contains("--profile ops-process"), "{said}");
    }

    #[test]
    fn a_profile_that_does_not_exist_is_named() {
        let error = Sdk::dispatch_failure(ConnectorError::other(
            aws_credential_types::provider::error::CredentialsError::invalid_configuration(
                "profile `nope` was not defined: could not find source profile nope referenced \
                 from the root profile",
            )
            .into(),
            None,
        ));
        let context = Context {
            profile: Some("nope".into()),
            ..Context::default()
        };
        let said = explain(&error_text(&error), &context);
        assert!(
            said.contains("The profile `nope` is in neither ~/.aws/config nor"),
            "{said}"
        );
        assert!(said.contains("aws configure --profile nope"), "{said}");
    }

    #[test]
    fn an_unreachable_endpoint_is_named_with_what_set_it() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = Sdk::dispatch_failure(ConnectorError::io(refused.into()));
        let said = explain(
            &format!("DescribeExecution: {}", error_text(&error)),
            &local(),
        );
        assert!(
            said.contains("Step Functions at http://127.0.0.1:1 (set by AWS_ENDPOINT_URL_SFN)"),
            "{said}"
        );
        // STS had no override: not listed, it was not pointed anywhere.
        assert!(!said.contains("STS at"), "{said}");
        let flagged = Context::default().with_endpoints(
            Some("http://localhost:4566"),
            "--endpoint-url",
            &[("SQS", "SQS")],
            |_| Some("http://elsewhere".into()),
        );
        assert!(explain(&error_text(&error), &flagged)
            .contains("SQS at http://localhost:4566 (set by --endpoint-url)"));
        let stalled = Sdk::dispatch_failure(ConnectorError::timeout("read timeout".into()));
        assert!(explain(&error_text(&stalled), &Context::default()).contains("HTTPS_PROXY"));
        let attempt = Sdk::timeout_error("attempt timeout");
        assert_eq!(classify(&error_text(&attempt)), Some(Problem::Unreachable));
    }

    #[test]
    fn a_missing_execution_is_named_and_status_suggested() {
        let missing = DescribeExecutionError::ExecutionDoesNotExist(
            ExecutionDoesNotExist::builder()
                .message(format!("Execution Does Not Exist: '{RUN}'"))
                .build(),
        );
        let said = explain(
            &format!("DescribeExecution: service error: {}", error_text(&missing)),
            &local(),
        );
        assert!(
            said.contains(&format!("There is no execution {RUN}")),
            "{said}"
        );
        assert!(said.contains("stagegate status"), "{said}");
        assert!(said.contains("AWS_REGION"), "{said}");
    }

    #[test]
    fn other_failures_are_left_as_they_are() {
        let said = "StartExecution: service error: AccessDeniedException: not authorized";
        assert_eq!(explain(said, &local()), said);
    }
}

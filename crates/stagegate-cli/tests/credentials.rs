//! The fixes `stagegate` prints when it finds no usable credentials, seen as a person sees them:
//! the built binary run with a fresh environment and AWS config files of the test's own. Run as a
//! subprocess because the SDK reads the environment and the files itself, and setting variables
//! in this process would leak into every other test of the crate running in parallel.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MACHINE: &str = "arn:aws:states:eu-west-1:123456789012:stateMachine:gate";

/// A directory of this test's own, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stagegate-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// `stagegate follow` of a run by name, with only the AWS files in `home` and `env`; nothing can
/// leave the machine (the endpoint is a closed local port, instance metadata off).
fn follow(home: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stagegate"))
        .args([
            "follow",
            "--execution",
            "run-1",
            "--state-machine-arn",
            MACHINE,
        ])
        .env_clear()
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("stagegate: {e}"))
}

#[test]
fn an_sso_profile_gets_the_credential_process_workaround_naming_it() {
    let home = scratch("sso");
    std::fs::write(
        home.join("config"),
        "[profile corp]\n\
         sso_start_url = https://example.awsapps.com/start\n\
         sso_region = eu-west-1\n\
         sso_account_id = 123456789012\n\
         sso_role_name = Deployer\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = follow(&home, &[("AWS_PROFILE", "corp")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "credential_process = aws configure export-credentials --profile corp --format process"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("--profile corp-process"), "{stderr}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn no_credentials_at_all_says_what_to_set_or_run() {
    let home = scratch("none");
    let out = follow(&home, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in ["AWS_PROFILE", "aws configure", "AWS_ACCESS_KEY_ID"] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&home);
}

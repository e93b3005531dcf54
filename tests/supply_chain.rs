//! The supply-chain tier: cargo-deny (pinned, installed by `cargo xtask setup` into
//! .stagegate/tools) checks the workspace against deny.toml, offline, with the RustSec database
//! setup cloned from the snapshot: no vulnerable, unmaintained or unsound crate, permissive
//! licenses only, one version of each crate but the listed exceptions, crates.io only.
//!
//! And the check is shown to bite: a copy of the workspace with aws-config's default features
//! back on (which brings the SDK generation's old HTTP stack and SSO provider) must fail it,
//! naming the advisories this project removed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stagegate_tests::repo_root;

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(command: &mut Command, what: &str) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"))
}

/// cargo-deny reads the unfiltered `cargo metadata`, which needs every package of the lock (the
/// macOS and Windows ones too) in the cargo cache; fetched first, so the tier passes from an
/// empty cache, and then the check itself runs offline.
fn fetch(workspace: &Path, locked: bool) {
    let mut fetch = Command::new(cargo());
    fetch.arg("fetch").current_dir(workspace);
    if locked {
        fetch.arg("--locked");
    }
    let out = run(&mut fetch, "cargo fetch");
    assert!(
        out.status.success(),
        "cargo fetch in {}: {}",
        workspace.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Exit status and everything it printed (the findings go to stderr, the summary to stdout).
fn deny(workspace: &Path, checks: &[&str]) -> (bool, String) {
    let root = repo_root();
    let bin = root.join(".stagegate/tools/bin/cargo-deny");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo xtask setup`",
        bin.display()
    );
    // From the repository root: deny.toml's db-path is relative to it.
    let out = run(
        Command::new(bin)
            .current_dir(&root)
            .args(["--color", "never", "--offline", "--manifest-path"])
            .arg(workspace.join("Cargo.toml"))
            .arg("--config")
            .arg(root.join("deny.toml"))
            .arg("check")
            .args(checks),
        "cargo-deny",
    );
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.success(), report)
}

#[test]
fn the_workspace_passes_every_check() {
    let root = repo_root();
    fetch(&root, true);
    let (passed, report) = deny(&root, &[]);
    assert!(passed, "cargo deny check:\n{report}");
    assert!(
        report.contains("advisories ok, bans ok, licenses ok, sources ok"),
        "all four checks ran and passed:\n{report}"
    );
}

/// The files git would commit (tracked and new, not ignored), copied to `to`.
fn copy_workspace(to: &Path) {
    let root = repo_root();
    let out = run(
        Command::new("git").current_dir(&root).args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ]),
        "git ls-files",
    );
    assert!(out.status.success(), "git ls-files failed");
    for file in out.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(file).into_owned());
        let from = root.join(&rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().expect("a file has a parent")).expect("mkdir");
        std::fs::copy(&from, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", rel.display()));
    }
}

#[test]
fn the_old_http_stack_coming_back_fails_the_check() {
    let copy = std::env::temp_dir().join(format!("stagegate-supply-chain-{}", std::process::id()));
    // A leftover of an earlier run, if any: absent is the usual case, and copy_workspace fails
    // loudly if the folder cannot be made.
    let _ = std::fs::remove_dir_all(&copy);
    copy_workspace(&copy);
    let manifest = copy.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read Cargo.toml");
    let pinned =
        r#"aws-config = { version = "0.56", default-features = false, features = ["rt-tokio"] }"#;
    assert!(
        text.contains(pinned),
        "the workspace pins aws-config's features as expected"
    );
    std::fs::write(&manifest, text.replace(pinned, r#"aws-config = "0.56""#)).expect("write");
    fetch(&copy, false); // resolves the old stack into the copy's lock

    let (passed, report) = deny(&copy, &["advisories"]);
    // Cleanup of a temporary copy: a leftover does not change what is asserted below.
    let _ = std::fs::remove_dir_all(&copy);
    assert!(!passed, "the check must fail:\n{report}");
    for (advisory, what) in [
        ("RUSTSEC-2026-0258", "h2 0.3: unbounded empty DATA frames"),
        ("RUSTSEC-2025-0009", "ring 0.16: AES functions may panic"),
        ("RUSTSEC-2025-0010", "ring 0.16: unmaintained"),
        ("RUSTSEC-2026-0098", "rustls-webpki 0.101: name constraints"),
        (
            "RUSTSEC-2026-0104",
            "rustls-webpki 0.101: panic in CRL parsing",
        ),
        ("RUSTSEC-2025-0134", "rustls-pemfile 1: unmaintained"),
    ] {
        assert!(
            report.contains(advisory),
            "{advisory} ({what}) reported:\n{report}"
        );
    }
}

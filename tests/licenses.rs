//! License check of every crate built for the platforms stagegate ships on: each dependency's SPDX
//! expression must be satisfiable with permissive licenses, and the project's own crates are
//! Apache-2.0.
//!
//! It fetches what it reads (`cargo fetch` for those platforms) and then reads the metadata offline,
//! filtered to them: an unfiltered `cargo metadata` needs every package in Cargo.lock, Windows-only
//! ones included, and so passed only on a machine whose cargo cache already held them.

use std::process::Command;

use serde_json::Value;

/// Permissive licenses the project accepts.
const ALLOWED: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "ISC",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "BSL-1.0",
    "Zlib",
    "CC0-1.0",
];

/// Crates that declare a license file instead of an SPDX expression, reviewed by hand.
const REVIEWED_FILES: &[(&str, &str)] = &[
    // ring 0.16's LICENSE: ISC-style for ring's own code, plus the OpenSSL and SSLeay licenses
    // (BSD-style, permissive) for the BoringSSL-derived parts.
    ("ring", "0.16.20"),
];

/// Where stagegate's binaries run: x86_64 is what builds here (the local stack, the CLI, the
/// zips the bench measures); aarch64 is what `infra/template.yaml` deploys.
const PLATFORMS: &[&str] = &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

#[test]
fn every_crate_has_an_accepted_license() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |args: Vec<&str>| {
        let out = Command::new(&cargo)
            .args(&args)
            .current_dir(stagegate_tests::repo_root())
            .output()
            .unwrap_or_else(|e| panic!("cargo {}: {e}", args[0]));
        assert!(
            out.status.success(),
            "cargo {} failed: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let targets = |flag: &'static str| PLATFORMS.iter().flat_map(move |p| [flag, p]);
    run(["fetch", "--locked"]
        .into_iter()
        .chain(targets("--target"))
        .collect());
    let stdout = run(
        ["metadata", "--format-version", "1", "--offline", "--locked"]
            .into_iter()
            .chain(targets("--filter-platform"))
            .collect(),
    );
    let metadata: Value =
        serde_json::from_slice(&stdout).unwrap_or_else(|e| panic!("metadata: {e}"));
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    assert!(
        packages.len() > 100,
        "suspiciously few packages: {}",
        packages.len()
    );
    let mut problems = Vec::new();
    for p in &packages {
        let name = p["name"].as_str().unwrap_or("?");
        let version = p["version"].as_str().unwrap_or("?");
        let local = p["source"].is_null();
        match p["license"].as_str() {
            Some(license) if local && license != "Apache-2.0" => problems.push(format!(
                "{name} {version}: project crates are Apache-2.0, got {license}"
            )),
            Some(license) => match accepted(license) {
                Ok(true) => {}
                Ok(false) => problems.push(format!("{name} {version}: {license}")),
                Err(e) => problems.push(format!(
                    "{name} {version}: unreadable license {license:?}: {e}"
                )),
            },
            None if REVIEWED_FILES.contains(&(name, version)) => {}
            None => problems.push(format!(
                "{name} {version}: no SPDX license (license file {:?})",
                p["license_file"]
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "license problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn spdx_expressions() {
    assert_eq!(accepted("MIT OR Apache-2.0"), Ok(true));
    assert_eq!(accepted("MIT/Apache-2.0"), Ok(true));
    assert_eq!(accepted("(MIT OR Apache-2.0) AND Unicode-3.0"), Ok(true));
    assert_eq!(accepted("Apache-2.0 WITH LLVM-exception OR MIT"), Ok(true));
    assert_eq!(accepted("MIT OR Apache-2.0 OR LGPL-2.1-or-later"), Ok(true));
    assert_eq!(accepted("GPL-3.0"), Ok(false));
    assert_eq!(accepted("MIT AND GPL-2.0"), Ok(false));
    assert!(accepted("(MIT").is_err());
}

/// Evaluates an SPDX expression: true when some choice of OR branches uses only allowed licenses.
fn accepted(expression: &str) -> Result<bool, String> {
    let spaced = expression
        .replace('/', " OR ")
        .replace('(', " ( ")
        .replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let value = or_expr(&tokens, &mut pos)?;
    if pos == tokens.len() {
        Ok(value)
    } else {
        Err(format!("unexpected {:?}", tokens[pos]))
    }
}

fn or_expr(t: &[&str], pos: &mut usize) -> Result<bool, String> {
    let mut value = and_expr(t, pos)?;
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        value |= and_expr(t, pos)?;
    }
    Ok(value)
}

fn and_expr(t: &[&str], pos: &mut usize) -> Result<bool, String> {
    let mut value = term(t, pos)?;
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        value &= term(t, pos)?;
    }
    Ok(value)
}

fn term(t: &[&str], pos: &mut usize) -> Result<bool, String> {
    match t.get(*pos) {
        Some(&"(") => {
            *pos += 1;
            let value = or_expr(t, pos)?;
            if t.get(*pos) != Some(&")") {
                return Err("missing )".into());
            }
            *pos += 1;
            Ok(value)
        }
        Some(id) if !["AND", "OR", "WITH", ")"].contains(id) => {
            *pos += 1;
            // An exception only widens what the license allows.
            if t.get(*pos) == Some(&"WITH") {
                *pos += 2;
            }
            Ok(ALLOWED.contains(id))
        }
        other => Err(format!("expected a license, got {other:?}")),
    }
}

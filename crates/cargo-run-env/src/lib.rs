//! Starting cargo from a tool (xtask, the local stack).
//!
//! Under `cargo run` / `cargo test`, cargo sets CARGO_MANIFEST_DIR and friends for the running
//! binary. Build scripts (ring's) track some of them, so a nested cargo build that inherits them
//! rebuilds the whole SDK tree, and again for the next ordinary build. Tools that start cargo (or
//! cargo lambda) from such a binary remove them first.
//!
//! A first build prints hundreds of `Compiling` lines that bury what the tool says; they go to a
//! log file instead, and a failure shows the compiler's messages in full.

use std::path::Path;
use std::process::Command;

/// Every binary the local stack and the demo run, built by one cargo invocation (`cargo build`
/// with these `--bin`s): one feature resolution, so no dependency is compiled twice. `cargo
/// lambda watch` builds each function on its own, which resolves the same features because
/// stagegate-http enables hyper's server side as the emulator does (see its Cargo.toml).
pub const LOCAL_BINARIES: [&str; 9] = [
    "start-deployment",
    "poll-deployment",
    "rollback-deployment",
    "notify-result",
    "answer-approval",
    "fleet-step",
    "gamesparks-local",
    "stagegate",
    "stagegate-local",
];

/// `build --bin <each of LOCAL_BINARIES>`.
pub fn local_build_args() -> Vec<&'static str> {
    let mut args = vec!["build"];
    for bin in LOCAL_BINARIES {
        args.extend(["--bin", bin]);
    }
    args
}

/// Runs `command` (a cargo invocation) with its output appended to `log`; on failure, the error
/// names the command and holds the compiler's messages and where the whole output is.
pub fn run_logged(command: &mut Command, log: &Path) -> Result<(), String> {
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))
    };
    let status = command
        .stdout(open()?)
        .stderr(open()?)
        .status()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        Err(format!(
            "{command:?} failed ({status}):\n{}\n(the whole output: {})",
            compiler_messages(&text),
            log.display()
        ))
    }
}

/// The compiler's error and warning blocks of a cargo log, without its progress lines.
pub fn compiler_messages(log: &str) -> String {
    const PROGRESS: [&str; 6] = [
        "Compiling ",
        "Checking ",
        "Finished ",
        "Downloaded ",
        "Downloading ",
        "Updating ",
    ];
    let mut out = Vec::new();
    let mut in_block = false;
    for line in log.lines() {
        if PROGRESS.iter().any(|p| line.trim_start().starts_with(p)) {
            in_block = false;
            continue;
        }
        in_block |= line.starts_with("error") || line.starts_with("warning");
        if in_block {
            out.push(line);
        }
    }
    out.join("\n")
}

/// Removes the variables cargo sets for a running binary from `command`'s environment.
pub fn without_cargo_run_env(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str() {
            if set_by_cargo(name) {
                command.env_remove(name);
            }
        }
    }
    command
}

fn set_by_cargo(name: &str) -> bool {
    name == "OUT_DIR"
        || name == "CARGO_PRIMARY_PACKAGE"
        || [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_TARGET_TMPDIR",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_messages_drop_progress_and_keep_errors_whole() {
        let log = "   Compiling a v1\nerror[E0308]: mismatched types\n --> src/x.rs:1:1\n  |\n   Compiling b v1\nerror: could not compile `x`\n";
        assert_eq!(
            compiler_messages(log),
            "error[E0308]: mismatched types\n --> src/x.rs:1:1\n  |\nerror: could not compile `x`"
        );
    }

    #[test]
    fn only_cargos_run_variables() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_CRATE_NAME",
            "OUT_DIR",
            "CARGO_BIN_EXE_x",
        ] {
            assert!(set_by_cargo(name), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "PATH",
            "RUSTFLAGS",
        ] {
            assert!(!set_by_cargo(name), "{name}");
        }
    }
}

#[cfg(test)]
mod one_build {
    use super::*;

    /// The packages of `LOCAL_BINARIES`, for `cargo tree` (which selects packages, not bins).
    const PACKAGES: [&str; 9] = [
        "start-deployment",
        "poll-deployment",
        "rollback-deployment",
        "notify-result",
        "answer-approval",
        "fleet-step",
        "gamesparks-local",
        "stagegate-cli",
        "stagegate-local",
    ];

    /// Package -> its enabled features, for the dependency tree of `packages` built together.
    fn features(packages: &[&str]) -> std::collections::BTreeMap<String, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        without_cargo_run_env(&mut command).args([
            "tree",
            "--quiet",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}|{f}",
        ]);
        for p in packages {
            command.args(["--package", p]);
        }
        let out = command.output().expect("cargo tree runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('|'))
            .map(|(p, f)| (p.replace(" (*)", ""), f.replace(" (*)", "")))
            .collect()
    }

    #[test]
    fn a_function_built_alone_needs_nothing_the_one_build_did_not_build() {
        assert_eq!(LOCAL_BINARIES.len(), PACKAGES.len());
        let all = features(&PACKAGES);
        for function in &PACKAGES[..5] {
            let differ: Vec<String> = features(&[function])
                .into_iter()
                .filter(|(p, f)| all.get(p) != Some(f))
                .map(|(p, f)| {
                    format!(
                        "{p}: alone [{f}], in the one build [{}]",
                        all.get(&p).map_or("-", |s| s)
                    )
                })
                .collect();
            assert!(
                differ.is_empty(),
                "{function} built alone (as cargo lambda watch does) resolves other features, so \
                 the local stack would compile these twice:\n{}",
                differ.join("\n")
            );
        }
    }
}

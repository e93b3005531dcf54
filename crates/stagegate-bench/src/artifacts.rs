//! Release builds of the functions with cargo-lambda (x86_64 zips), and the release-profile
//! variants tried against each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Serialize;

use cargo_run_env::without_cargo_run_env;

use crate::error::{Context, Result};
use crate::fixtures::Function;
use crate::process::ChildGuard;

pub const TARGET_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// A release profile: `--config KEY=VALUE` overrides of the workspace's, on top of what
/// cargo-lambda adds itself.
///
/// cargo-lambda's own "release optimizations" are `--config` values it appends after the user's
/// (so they win): `profile.release.panic="abort"` whenever the manifest's `[profile.release]`
/// does not set `panic`, and `build.rustflags=["-C", "target-cpu=haswell"]` (x86_64). With
/// `panic` unset in the manifest, a different panic strategy therefore needs
/// `--disable-optimizations` (and the target CPU given back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variant {
    pub name: &'static str,
    pub description: &'static str,
    pub overrides: &'static [(&'static str, &'static str)],
    pub disable_optimizations: bool,
}

impl Variant {
    pub fn config_args(&self) -> Vec<String> {
        let mut args: Vec<String> = self
            .overrides
            .iter()
            .flat_map(|(k, v)| ["--config".to_owned(), format!("{k}={v}")])
            .collect();
        if self.disable_optimizations {
            args.insert(0, "--disable-optimizations".to_owned());
        }
        args
    }

    /// The panic strategy the build ends up with, given the manifest's `[profile.release]`
    /// `panic` (None: unset, and cargo-lambda then adds abort unless optimizations are off).
    pub fn panic_abort(&self, manifest_panic: Option<&str>) -> bool {
        let overridden = self
            .overrides
            .iter()
            .find(|(k, _)| *k == "profile.release.panic")
            .map(|(_, v)| v.trim_matches('"'));
        match (overridden, manifest_panic) {
            (Some(_), None) if !self.disable_optimizations => true,
            (Some(v), _) => v == "abort",
            (None, Some(m)) => m == "abort",
            (None, None) => !self.disable_optimizations,
        }
    }
}

/// What `cargo lambda build --release` produces with the workspace profile as it is.
pub const CURRENT: Variant = Variant {
    name: "current",
    description: "the workspace profile as cargo lambda builds it (opt 3, lto thin, cgu 1, strip, panic as the manifest says; cargo-lambda adds target-cpu haswell)",
    overrides: &[],
    disable_optimizations: false,
};

/// The variants tried (at most four in all; each build takes 5-15 minutes on 2 cores).
pub const VARIANTS: [Variant; 4] = [
    CURRENT,
    Variant {
        name: "fat",
        description: "current with lto fat",
        overrides: &[("profile.release.lto", "\"fat\"")],
        disable_optimizations: false,
    },
    Variant {
        name: "s-fat",
        description: "current with opt-level s and lto fat",
        overrides: &[
            ("profile.release.lto", "\"fat\""),
            ("profile.release.opt-level", "\"s\""),
        ],
        disable_optimizations: false,
    },
    Variant {
        name: "s-fat-abort",
        description: "s-fat with panic abort (needs panic set in the manifest, as it now is)",
        overrides: &[
            ("profile.release.lto", "\"fat\""),
            ("profile.release.opt-level", "\"s\""),
            ("profile.release.panic", "\"abort\""),
        ],
        disable_optimizations: false,
    },
];

/// `panic` in the workspace manifest's `[profile.release]`, if set.
pub fn manifest_panic(workspace: &Path) -> Option<String> {
    let text = std::fs::read_to_string(workspace.join("Cargo.toml")).ok()?;
    parse_manifest_panic(&text)
}

fn parse_manifest_panic(text: &str) -> Option<String> {
    let mut in_release = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_release = line == "[profile.release]";
            continue;
        }
        if !in_release {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "panic" {
                return Some(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    None
}

/// Where one build put its binaries and zips.
#[derive(Debug, Clone, Serialize)]
pub struct Build {
    pub variant: Variant,
    pub target_dir: PathBuf,
    pub lambda_dir: PathBuf,
    pub binaries: BTreeMap<String, PathBuf>,
    pub zip_bytes: BTreeMap<String, u64>,
    pub binary_bytes: BTreeMap<String, u64>,
    pub build_seconds: f64,
}

impl Build {
    pub fn binary(&self, f: Function) -> Result<&Path> {
        self.binaries
            .get(f.binary())
            .map(PathBuf::as_path)
            .ok_or_else(|| format!("no binary for {} in this build", f.binary()).into())
    }
}

/// The build tools: cargo-lambda and zig from the repository's venv.
#[derive(Debug, Clone)]
pub struct Tools {
    pub workspace: PathBuf,
    pub venv_bin: PathBuf,
}

impl Tools {
    pub fn new(workspace: &Path) -> Result<Self> {
        let venv_bin = workspace.join(".venv/bin");
        let cargo_lambda = venv_bin.join("cargo-lambda");
        if !cargo_lambda.is_file() {
            crate::bail!(
                "{} not found: install the repository's tools first (cargo xtask setup)",
                cargo_lambda.display()
            );
        }
        Ok(Self {
            workspace: workspace.to_path_buf(),
            venv_bin,
        })
    }

    fn path_env(&self) -> std::ffi::OsString {
        let mut paths = vec![self.venv_bin.clone()];
        if let Some(p) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&p));
        }
        std::env::join_paths(paths).unwrap_or_default()
    }
}

/// Builds the functions (`Function::ALL`) as zips with cargo-lambda (x86_64), or, with `reuse`,
/// only reads what an earlier build left.
pub fn build(
    tools: &Tools,
    variant: Variant,
    target_dir: &Path,
    lambda_dir: &Path,
    log: &Path,
    reuse: bool,
) -> Result<Build> {
    let started = Instant::now();
    if !reuse {
        let mut cmd = Command::new(tools.venv_bin.join("cargo-lambda"));
        without_cargo_run_env(&mut cmd);
        // cargo-lambda passes --target-dir on to `cargo metadata`, which refuses it.
        cmd.current_dir(&tools.workspace)
            .env("PATH", tools.path_env())
            .env("CARGO_TARGET_DIR", target_dir)
            .args(["lambda", "build", "--release", "--output-format", "zip"])
            .arg("--x86-64")
            .arg("--lambda-dir")
            .arg(lambda_dir)
            .args(variant.config_args());
        for f in Function::ALL {
            cmd.args(["--package", f.binary()]);
        }
        let (_, mut child) = ChildGuard::spawn(
            &format!("cargo lambda build ({})", variant.name),
            &mut cmd,
            Some(log),
        )?;
        let status = child.wait()?;
        if !status.success() {
            crate::bail!(
                "cargo lambda build for profile {} failed ({status}); {}",
                variant.name,
                child.log_tail(25)
            );
        }
    }
    let build_seconds = started.elapsed().as_secs_f64();
    let mut out = Build {
        variant,
        target_dir: target_dir.to_path_buf(),
        lambda_dir: lambda_dir.to_path_buf(),
        binaries: BTreeMap::new(),
        zip_bytes: BTreeMap::new(),
        binary_bytes: BTreeMap::new(),
        build_seconds,
    };
    for f in Function::ALL {
        let name = f.binary();
        let zip = lambda_dir.join(name).join("bootstrap.zip");
        let zip_len = std::fs::metadata(&zip)
            .context(format!(
                "{} (build first, or drop --no-build)",
                zip.display()
            ))?
            .len();
        let bin = target_dir.join(TARGET_TRIPLE).join("release").join(name);
        let bin_len = std::fs::metadata(&bin)
            .context(format!(
                "{} (build first, or drop --no-build)",
                bin.display()
            ))?
            .len();
        out.zip_bytes.insert(name.to_owned(), zip_len);
        out.binary_bytes.insert(name.to_owned(), bin_len);
        out.binaries.insert(name.to_owned(), bin);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_become_config_overrides() {
        assert!(CURRENT.config_args().is_empty());
        assert_eq!(
            VARIANTS[3].config_args(),
            [
                "--config",
                "profile.release.lto=\"fat\"",
                "--config",
                "profile.release.opt-level=\"s\"",
                "--config",
                "profile.release.panic=\"abort\"",
            ]
        );
        let names: Vec<&str> = VARIANTS.iter().map(|v| v.name).collect();
        assert_eq!(names, ["current", "fat", "s-fat", "s-fat-abort"]);
    }

    #[test]
    fn panic_strategy_follows_manifest_and_cargo_lambda() {
        // Manifest says unwind: overrides decide, cargo-lambda adds nothing.
        assert!(!CURRENT.panic_abort(Some("unwind")));
        assert!(!VARIANTS[2].panic_abort(Some("unwind")));
        assert!(VARIANTS[3].panic_abort(Some("unwind")));
        // Manifest silent: cargo-lambda's abort wins over any override...
        assert!(CURRENT.panic_abort(None));
        let unwind = Variant {
            name: "u",
            description: "",
            overrides: &[("profile.release.panic", "\"unwind\"")],
            disable_optimizations: false,
        };
        assert!(unwind.panic_abort(None));
        // ...unless its optimizations are off.
        let unwind_off = Variant {
            disable_optimizations: true,
            ..unwind
        };
        assert!(!unwind_off.panic_abort(None));
        assert_eq!(unwind_off.config_args()[0], "--disable-optimizations");
    }

    #[test]
    fn reads_panic_from_the_release_profile_only() {
        let toml = "[profile.dev]\npanic = \"abort\"\n\n[profile.release]\n# comment\npanic = \"unwind\" # why\nlto = \"thin\"\n";
        assert_eq!(parse_manifest_panic(toml).as_deref(), Some("unwind"));
        assert_eq!(
            parse_manifest_panic("[profile.release]\nlto = true\n"),
            None
        );
        assert_eq!(
            parse_manifest_panic("[profile.dev]\npanic = \"abort\"\n"),
            None
        );
    }
}

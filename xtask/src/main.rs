//! Project tasks: `cargo xtask setup` installs the pinned local tools into the repository;
//! `cargo xtask test` runs every test tier and prints a summary; `cargo xtask mutants` runs
//! mutation testing over the decisions and the handlers (too slow for a tier).
//!
//! Plain std, so the task runner itself builds in a second and never waits on the SDK.

use cargo_run_env::without_cargo_run_env;

mod demo;
mod setup;

use setup::Tools;
use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

struct Tier {
    name: &'static str,
    what: &'static str,
    program: Program,
    args: &'static [&'static str],
    /// Needs the tools `setup` installs (Python venv, npm packages).
    needs_tools: bool,
}

enum Program {
    Cargo,
    /// A path relative to the repository root.
    Repo(&'static str),
}

const TIERS: &[Tier] = &[
    Tier {
        name: "fmt",
        what: "rustfmt check",
        program: Program::Cargo,
        args: &["fmt", "--all", "--", "--check"],
        needs_tools: false,
    },
    Tier {
        name: "clippy",
        what: "clippy, warnings denied",
        program: Program::Cargo,
        needs_tools: false,
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
        program: Program::Cargo,
        needs_tools: false,
        // And the CLI's credential fixes, which need the built binary (crates/stagegate-cli/tests).
        args: &[
            "test",
            "--workspace",
            "--all-features",
            "--lib",
            "--bins",
            "--test",
            "credentials",
        ],
    },
    Tier {
        name: "properties",
        what: "property tests: input parsing, classification, waits, tokens, message rendering; the input schema and the parser agree (a real JSON Schema validator)",
        program: Program::Cargo,
        args: &[
            "test",
            "-p",
            "stagegate-core",
            "--features",
            "schema",
            "--test",
            "properties",
            "--test",
            "schema_agreement",
        ],
        needs_tools: false,
    },
    Tier {
        name: "docs",
        what: "README.md and docs/ against the code: flags (clap), variables, input fields and examples (the schema, the parser), outcomes (Verdict), template parameters, counts, paths, the SDK table; a planted fixture per kind of mismatch; the generated blocks",
        program: Program::Cargo,
        args: &["test", "-p", "stagegate-tests", "--test", "docs"],
        needs_tools: false,
    },
    Tier {
        name: "sim",
        what: "deterministic simulator: 100,000 seeded gate runs through the real ASL and handlers under injected faults, one in ten with a fleet run beside it, every invariant checked (`cargo xtask sim`)",
        program: Program::Cargo,
        args: &[
            "run",
            "--quiet",
            "-p",
            "stagegate-sim",
            "--",
            "--runs",
            "100000",
        ],
        needs_tools: false,
    },
    Tier {
        name: "supply-chain",
        what: "cargo-deny offline (deny.toml): RustSec advisories, licenses, bans, sources; fails when the old HTTP stack comes back",
        program: Program::Cargo,
        args: &["test", "-p", "stagegate-tests", "--test", "supply_chain"],
        needs_tools: true,
    },
    Tier {
        name: "conformance",
        what: "gamesparks-local driven by the real aws-sdk-gamesparks client; the connector's TLS trust",
        program: Program::Cargo,
        args: &["test", "-p", "gamesparks-local", "-p", "stagegate-http", "--tests"],
        needs_tools: false,
    },
    Tier {
        name: "integration",
        what: "tests/: sample events; the four handlers on the real SDK against the emulator; the CLI binary's -o json without AWS; explain and replay of the golden histories",
        program: Program::Cargo,
        args: &[
            "test",
            "-p",
            "stagegate-tests",
            "-p",
            "stagegate-cli",
            "--test",
            "events",
            "--test",
            "integration",
            "--test",
            "output_json",
            "--test",
            "golden",
        ],
        needs_tools: false,
    },
    Tier {
        name: "infra",
        what: "asl-validator, substitutions, cfn-lint and checkov on infra/",
        program: Program::Repo("infra/check.sh"),
        args: &[],
        needs_tools: true,
    },
    Tier {
        name: "asl-smoke",
        what: "the real ASL on moto with scripted Lambda replies (routing, Retry, Catch)",
        program: Program::Repo(".venv/bin/python"),
        args: &["infra/local/smoke_test.py"],
        needs_tools: true,
    },
    Tier {
        name: "sam",
        what: "`sam build` (SAM CLI 1.170.0) of an x86_64 copy of the template; each bootstrap answers the Runtime API",
        program: Program::Repo(".venv-sam/bin/python"),
        args: &["infra/sam_build_check.py"],
        needs_tools: true,
    },
    Tier {
        name: "soak",
        what: "short soak: gate runs under injected faults and SNS outages (`cargo xtask soak` for 200)",
        program: Program::Cargo,
        args: &["test", "-p", "stagegate-tests", "--test", "soak"],
        needs_tools: true,
    },
    Tier {
        name: "demo",
        what: "the README's first command, `cargo xtask demo`: five scenarios end as the README says",
        program: Program::Cargo,
        args: &["run", "--quiet", "--package", "xtask", "--", "demo"],
        needs_tools: true,
    },
    Tier {
        name: "e2e",
        what: "every route: real ASL on moto, the functions under cargo lambda, the emulator, SNS to SQS",
        program: Program::Cargo,
        args: &["test", "-p", "stagegate-tests", "--test", "e2e"],
        needs_tools: true,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => match demo::run(&workspace_root(), &args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask demo: {e}");
                ExitCode::FAILURE
            }
        },
        Some("bench") => {
            // cargo-lambda and zig build the zips it measures; like demo, test and soak, it
            // installs them rather than asking the user to.
            if let Err(e) = setup::run(&workspace_root(), Tools::Local) {
                eprintln!("xtask bench: {e}");
                return ExitCode::FAILURE;
            }
            passthrough(
                &["run", "--release", "-p", "stagegate-bench", "--"],
                &args[1..],
            )
        }
        Some("soak") => {
            if let Err(e) = setup::run(&workspace_root(), Tools::Local) {
                eprintln!("xtask soak: {e}");
                return ExitCode::FAILURE;
            }
            let mut soak = vec!["--executions".to_owned(), "200".to_owned()];
            soak.extend(args[1..].iter().cloned());
            passthrough(
                &["test", "-p", "stagegate-tests", "--test", "soak", "--"],
                &soak,
            )
        }
        Some("fleet") => {
            if let Err(e) = setup::run(&workspace_root(), Tools::Local) {
                eprintln!("xtask fleet: {e}");
                return ExitCode::FAILURE;
            }
            passthrough(
                &["test", "-p", "stagegate-tests", "--test", "fleet", "--"],
                &args[1..],
            )
        }
        Some("mutants") => mutants(&args[1..]),
        // No tools to install: the simulator is plain Rust over the fakes.
        Some("sim") => passthrough(&["run", "--quiet", "-p", "stagegate-sim", "--"], &args[1..]),
        Some("setup") => match setup::run(&workspace_root(), Tools::Tests) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask setup: {e}");
                ExitCode::FAILURE
            }
        },
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
    println!("{}", demo::USAGE);
    println!("  bench [args]              performance figures -> bench/results.json (see bench/README.md)");
    println!("  soak [args]               200 gate runs under faults on the local stack (--executions N)");
    println!("  fleet [args]              a 200-game fleet on the local stack: within and past a 5% budget, with figures (--games N --batch N --time-scale X; bench/fleet.json)");
    println!("  sim [args]                deterministic simulator: --runs N (100,000), --seed S replays one run, --only INVARIANT");
    println!("  mutants [AREA] [-- args]  mutation testing (cargo-mutants) of core | handlers (both); not a tier: slow");
    println!("  setup                     install the pinned local tools (.venv, node_modules)");
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
    let selected: Vec<&Tier> = TIERS
        .iter()
        .filter(|t| wanted.is_empty() || wanted.iter().any(|w| w == t.name))
        .collect();
    let mut results = Vec::new();
    // A tier that cannot run fails: it is never skipped.
    let tools = if selected.iter().any(|t| t.needs_tools) {
        println!("==> setup (pinned local tools)");
        let started = Instant::now();
        let result = setup::run(&root, Tools::Tests);
        if let Err(e) = &result {
            eprintln!("xtask: {e}");
        }
        results.push(("setup", result.is_ok(), started.elapsed().as_secs_f64()));
        result.is_ok()
    } else {
        true
    };
    for tier in selected {
        if tier.needs_tools && !tools {
            println!(
                "\n==> {}: cannot run without the tools setup installs",
                tier.name
            );
            results.push((tier.name, false, 0.0));
            continue;
        }
        println!("\n==> {} ({})", tier.name, tier.what);
        let started = Instant::now();
        let program = match tier.program {
            Program::Cargo => PathBuf::from(&cargo),
            Program::Repo(path) => root.join(path),
        };
        let status = without_cargo_run_env(&mut Command::new(&program))
            .args(tier.args)
            .current_dir(&root)
            .status();
        let passed = match status {
            Ok(s) => s.success(),
            Err(e) => {
                eprintln!("xtask: could not run {}: {e}", program.display());
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

/// What `cargo xtask mutants` mutates, area by area: the decisions and the handlers that act on
/// them, where a surviving mutant is a decision no test pins down. Each mutant is judged by its
/// own package's tests (cargo-mutants' default): the core's decisions by the tests next to them.
const MUTANT_AREAS: &[(&str, &str)] = &[
    ("core", "crates/stagegate-core/src/decide/**/*.rs"),
    ("handlers", "crates/stagegate/src/handlers/**/*.rs"),
];

/// `cargo xtask mutants [core|handlers] [-- cargo-mutants args]`: each area in turn, one job at a
/// time (`-j 1`: two cores, shared), in the `mutants` profile (Cargo.toml), the report in
/// `.stagegate/mutants/AREA/mutants.out`. The rest of the settings (which tests run, what is
/// excluded and why) are in `.cargo/mutants.toml`, which a plain `cargo mutants` reads too.
fn mutants(args: &[String]) -> ExitCode {
    let (areas, extra) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let selected: Vec<&(&str, &str)> = MUTANT_AREAS
        .iter()
        .filter(|(name, _)| areas.is_empty() || areas.iter().any(|a| a == name))
        .collect();
    if selected.len() != areas.len() && !areas.is_empty() {
        eprintln!("xtask mutants: areas are core and handlers, got {areas:?}");
        return ExitCode::from(2);
    }
    let root = workspace_root();
    if let Err(e) = setup::cargo_mutants(&root) {
        eprintln!("xtask mutants: {e}");
        return ExitCode::FAILURE;
    }
    // One target dir beside the usual one, kept between runs: the copy cargo-mutants builds in is
    // new each run, but the dependencies (the SDK, for the handlers) are then built once.
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("mutants");
    let mut all_passed = true;
    for (area, files) in selected {
        println!("\n==> mutants: {area} ({files})");
        let started = Instant::now();
        let status = without_cargo_run_env(&mut Command::new(root.join(setup::CARGO_MUTANTS)))
            .args(["mutants", "--jobs", "1", "--file", files, "--output"])
            .arg(root.join(".stagegate/mutants").join(area))
            .args(extra)
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(&root)
            .status();
        // cargo-mutants exits 2 when a mutant was missed, 3 when some only timed out: a mutant
        // that makes the tests loop forever (a wait of 0 s) was noticed, so it passes.
        let (passed, what) = match status.map(|s| s.code()) {
            Ok(Some(0)) => (true, "all caught"),
            Ok(Some(3)) => (true, "all caught (some by timing out: timeout.txt)"),
            Ok(Some(2)) => (false, "MISSED mutants: missed.txt"),
            Ok(_) => (false, "did not finish: see its output above"),
            Err(e) => {
                eprintln!("xtask mutants: could not run cargo-mutants: {e}");
                (false, "did not run")
            }
        };
        println!(
            "==> mutants: {area}: {what} in {:.0} s (report: .stagegate/mutants/{area}/mutants.out/)",
            started.elapsed().as_secs_f64()
        );
        all_passed &= passed;
    }
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs cargo with `fixed` then the user's arguments, and exits with its status.
fn passthrough(fixed: &[&str], extra: &[String]) -> ExitCode {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = without_cargo_run_env(&mut Command::new(cargo))
        .args(fixed)
        .args(extra)
        .current_dir(workspace_root())
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: could not run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

//! `cargo xtask demo`: the gate end to end on this machine. Installs the pinned tools, starts the
//! local stack (`stagegate-local`), and runs gate executions with the `stagegate` CLI, which shows
//! live progress, the outcome and the notification a subscriber received.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::setup;

struct Scenario {
    name: &'static str,
    story: &'static str,
    snapshot: &'static str,
    /// `SUCCEEDED`, or the Error the execution fails with.
    expect: &'static str,
    /// The CLI's exit code for that ending: its class's (`stagegate_cli::exit::Exit`, which
    /// xtask does not link: a test there reads this table and holds each code to the class).
    exit_code: i32,
    /// A bake window watching this CloudWatch alarm: the demo creates it in moto (OK) before the
    /// run and sets it to ALARM as soon as the bake has begun (unless an operator acts instead).
    bake_alarm: Option<&'static str>,
    /// What a person does during the run, as the CLI: at the first progress line containing
    /// `when`, `stagegate <command> --execution-arn <this run> --reason <reason>`.
    operator: Option<Operator>,
    /// Extra members of the execution input (`"approval": ...`).
    extra_input: &'static str,
    /// Run when no `--scenario` is given.
    by_default: bool,
}

struct Operator {
    when: &'static str,
    command: &'static str,
    reason: &'static str,
}

/// The CLI's progress line while the run waits for approval (`progress::state_line`).
const APPROVAL_PROGRESS: &str = "awaiting approval of";

/// The bake scenario's window, in virtual seconds (20 s real at the default time scale 30): long
/// enough that the alarm, flipped at the bake's first progress line, always fires inside it.
const BAKE_SECONDS: u64 = 600;
const BAKE_CHECK_INTERVAL_SECONDS: u64 = 30;
/// The CLI's progress line for a poll in the bake phase (`stagegate-cli`'s `progress::bake_line`).
const BAKE_PROGRESS: &str = "bake of deployment";

/// The demo game's snapshots, from the emulator's one definition (by path: xtask stays free of
/// the emulator's dependencies so it builds in seconds).
#[path = "../../crates/gamesparks-local/src/demo_snapshots.rs"]
#[allow(dead_code)]
mod demo_snapshots;
use demo_snapshots::{DEPLOYS, INVALID_ROLE, UNSPECIFIED_FAILURE};

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "success",
        story: "deploy v1.1.0 to space-raiders/prod; it completes",
        snapshot: DEPLOYS,
        expect: "SUCCEEDED",
        exit_code: 0,
        bake_alarm: None,
        operator: None,
        extra_input: "",
        by_default: true,
    },
    Scenario {
        name: "alert",
        story: "deploy v1.2.1 to space-raiders/prod; GameSparks cannot assume the stage role: alert, no rollback",
        snapshot: INVALID_ROLE,
        expect: "StageGate.FAILED",
        exit_code: 1,
        bake_alarm: None,
        operator: None,
        extra_input: "",
        by_default: true,
    },
    Scenario {
        name: "rollback",
        story: "deploy v1.2.0 to space-raiders/prod; it fails (UNSPECIFIED_FAILURE): roll back to the last known-good snapshot",
        snapshot: UNSPECIFIED_FAILURE,
        expect: "StageGate.ROLLED_BACK",
        exit_code: 3,
        bake_alarm: None,
        operator: None,
        extra_input: "",
        by_default: true,
    },
    Scenario {
        name: "bake",
        story: "deploy v1.1.0 to space-raiders/prod with a 10-minute bake on alarm space-raiders-prod-errors; it completes, the alarm fires during the bake: roll back to the last known-good snapshot",
        snapshot: DEPLOYS,
        expect: "StageGate.ROLLED_BACK",
        exit_code: 3,
        bake_alarm: Some("space-raiders-prod-errors"),
        operator: None,
        extra_input: "",
        by_default: true,
    },
    Scenario {
        name: "approval",
        story: "deploy v1.1.0 to space-raiders/prod once a person approves: the run waits (nothing deployed) until `stagegate approve` answers, then deploys",
        snapshot: DEPLOYS,
        expect: "SUCCEEDED",
        exit_code: 0,
        bake_alarm: None,
        operator: Some(Operator {
            when: APPROVAL_PROGRESS,
            command: "approve",
            reason: "demo: QA signed off",
        }),
        extra_input: r#","approval":{"timeoutSeconds":600}"#,
        by_default: true,
    },
    Scenario {
        name: "abort",
        story: "deploy v1.1.0 to space-raiders/prod with a 10-minute bake; during the bake a person runs `stagegate abort`: roll back to the last known-good snapshot",
        snapshot: DEPLOYS,
        expect: "StageGate.ABORTED",
        exit_code: 4,
        bake_alarm: Some("space-raiders-prod-errors"),
        operator: Some(Operator {
            when: BAKE_PROGRESS,
            command: "abort",
            reason: "demo: players report crashes",
        }),
        extra_input: "",
        by_default: false,
    },
];

pub const USAGE: &str =
    "  demo [--scenario success|alert|rollback|bake|approval|abort] [--input JSON|@FILE] [--keep] [--time-scale X] [--verbose]
                            run the gate end to end locally (all but abort by default)";

struct Args {
    scenario: Option<String>,
    input: Option<String>,
    keep: bool,
    time_scale: String,
    /// Cargo's output as it builds, and each notification's whole JSON body.
    verbose: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        scenario: None,
        input: None,
        keep: false,
        time_scale: "30".into(),
        verbose: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--keep" => parsed.keep = true,
            "--verbose" | "-v" => parsed.verbose = true,
            "--scenario" | "--input" | "--time-scale" => {
                let value = it.next().ok_or(format!("{flag} needs a value"))?.clone();
                match flag.as_str() {
                    "--scenario" if SCENARIOS.iter().any(|s| s.name == value) => {
                        parsed.scenario = Some(value)
                    }
                    "--scenario" => {
                        let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
                        return Err(format!(
                            "unknown scenario {value:?}: use {}",
                            names.join(", ")
                        ));
                    }
                    "--input" => parsed.input = Some(value),
                    _ => match value.parse::<f64>() {
                        Ok(x) if x.is_finite() && x > 0.0 => parsed.time_scale = value,
                        _ => {
                            return Err(format!(
                                "--time-scale must be a positive number, got {value:?}"
                            ))
                        }
                    },
                }
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(parsed)
}

/// Stops the stack when the demo ends, however it ends (Ctrl-C reaches the stack directly: it
/// shares the terminal's process group and stops itself).
struct StackProcess(Child);

impl Drop for StackProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let started = Instant::now();
    let mut phases: Vec<(String, f64)> = Vec::new();
    let mut phase = Instant::now();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let work = target.join("stagegate-local");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let build_log = work.join("demo-build.log");
    // pip mostly waits on the network and unpacks on one core while cargo compiles on all of
    // them: the first run installs the Python tools during the build instead of before it.
    let setup = {
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            let t = Instant::now();
            setup::run(&root, setup::Tools::Demo).map(|()| t.elapsed().as_secs_f64())
        })
    };
    println!(
        "demo: building the functions, the emulator, the CLI and the local stack in one cargo run (log: {})",
        build_log.display()
    );
    build(root, &build_log, args.verbose)?;
    lap(&mut phases, "build", &mut phase);
    let setup_seconds = setup.join().map_err(|_| "setup panicked".to_owned())??;
    lap(&mut phases, "waiting for setup", &mut phase);
    phases.insert(0, ("setup (alongside the build)".into(), setup_seconds));
    let env_file = work.join("demo.env");
    let _ = std::fs::remove_file(&env_file);

    println!("demo: starting the local stack (time scale {}: one minute of GameSparks time takes {:.1} s)", args.time_scale, 60.0 / args.time_scale.parse::<f64>().unwrap_or(30.0));
    let mut child = cargo_run_env::without_cargo_run_env(&mut Command::new(
        target.join("debug/stagegate-local"),
    ))
    .args(["--time-scale", &args.time_scale, "--env-file"])
    .arg(&env_file)
    .current_dir(root)
    .stdout(Stdio::piped())
    .spawn()
    .map_err(|e| format!("could not start stagegate-local: {e}"))?;
    let stdout = child.stdout.take();
    let stack = StackProcess(child);
    let ready = forward_until_ready(stdout)?;
    if !ready
        .recv_timeout(Duration::from_secs(1800))
        .unwrap_or(false)
    {
        return Err(
            "the local stack did not start (see the lines above, and target/stagegate-local/*.log)"
                .into(),
        );
    }
    let env = read_env(&env_file)?;
    lap(&mut phases, "stack start", &mut phase);
    println!(
        "demo: stack ready after {:.0} s\n",
        started.elapsed().as_secs_f64()
    );

    let runs: Vec<Run> = match (&args.input, &args.scenario) {
        (Some(input), _) => vec![Run {
            story: "your input".into(),
            input: input.clone(),
            expect: None,
            expect_exit: None,
            bake_alarm: None,
            operator: None,
        }],
        (None, Some(name)) => SCENARIOS
            .iter()
            .filter(|s| s.name == name)
            .map(scenario_run)
            .collect(),
        (None, None) => SCENARIOS
            .iter()
            .filter(|s| s.by_default)
            .map(scenario_run)
            .collect(),
    };
    let python = root.join(".venv/bin/python");
    let mut summary = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        println!("=== run {}/{}: {}", i + 1, runs.len(), run.story);
        println!("    input: {}", run.input);
        if run.expect.is_some() {
            // Each scenario tells its own story from the same start (prod serves v1.0.0): after
            // `success` and `rollback`, prod would already serve v1.1.0, and the bake's
            // redeploy of it would have nothing older to roll back to.
            reset_emulator(&python, &env)?;
        }
        if let Some(alarm) = run.bake_alarm {
            set_alarm(&python, &env, alarm, "OK", "demo: error rate normal")?;
            println!("    alarm {alarm} created in the local CloudWatch (OK); it fires once the bake begins");
        }
        let result_file = work.join(format!("demo-result-{i}.txt"));
        let _ = std::fs::remove_file(&result_file);
        let message_file = work.join(format!("demo-message-{}.json", i + 1));
        let _ = std::fs::remove_file(&message_file);
        let t = Instant::now();
        let mut child = Command::new(target.join("debug/stagegate"))
            .args([
                "run",
                "--state-machine-arn",
                &env["STATE_MACHINE_ARN"],
                "--input",
                &run.input,
            ])
            .args([
                "--queue-url",
                &env["QUEUE_URL"],
                "--poll-interval-ms",
                "300",
                "--result-file",
            ])
            .arg(&result_file)
            .arg("--message-file")
            .arg(&message_file)
            .args(args.verbose.then_some("--verbose"))
            .envs(env.iter())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not run stagegate: {e}"))?;
        // The CLI's lines pass through; the bake scenario's alarm fires at the first bake line,
        // and its notification must name the alarm.
        let mut fired = false;
        let mut notification_names_alarm = false;
        let mut in_notification = false;
        let mut execution_arn = None;
        let mut operator_acted = false;
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                let _ = std::io::stdout().flush();
                if let Some(arn) = line.strip_prefix("started ") {
                    execution_arn = Some(arn.trim().to_owned());
                }
                if let (Some(op), Some(arn), false) =
                    (&run.operator, &execution_arn, operator_acted)
                {
                    if line.contains(op.when) {
                        operator_acted = true;
                        operate(&target, &env, op, arn);
                    }
                }
                let Some(alarm) = run.bake_alarm.filter(|_| run.operator.is_none()) else {
                    continue;
                };
                if !fired && line.contains(BAKE_PROGRESS) {
                    fired = true;
                    // A failure here only shows: the bake then passes and the run mismatches.
                    match set_alarm(
                        &python,
                        &env,
                        alarm,
                        "ALARM",
                        "demo: server errors above threshold since the deployment",
                    ) {
                        Ok(()) => println!(
                            "    >>> demo: alarm {alarm} set to ALARM, {:.1} s into the run",
                            t.elapsed().as_secs_f64()
                        ),
                        Err(e) => println!("    >>> demo: {e}"),
                    }
                }
                in_notification |= line.starts_with("notification received");
                notification_names_alarm |= in_notification && line.contains(alarm);
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("could not run stagegate: {e}"))?;
        let result = std::fs::read_to_string(&result_file).unwrap_or_default();
        let got = result
            .split_whitespace()
            .find(|w| *w != "FAILED")
            .unwrap_or(result.trim())
            .to_owned();
        let mut got = if result.starts_with("SUCCEEDED") {
            "SUCCEEDED".to_owned()
        } else {
            got
        };
        if run.operator.is_some() && !operator_acted {
            got.push_str(" (the operator never acted)");
        }
        if let Some(alarm) = run.bake_alarm.filter(|_| run.operator.is_none()) {
            if !fired {
                got.push_str(" (the bake never began)");
            } else if !notification_names_alarm {
                got.push_str(&format!(" (the notification does not name {alarm})"));
            }
        }
        let ok = as_expected(run, &got, status.code());
        summary.push((
            run.story.clone(),
            expectation(run),
            got,
            ok,
            t.elapsed().as_secs_f64(),
            status.code(),
        ));
        println!();
    }
    println!("=== summary");
    for (story, expect, got, ok, secs, code) in &summary {
        let mark = if *ok { "ok " } else { "MISMATCH" };
        println!(
            "  {mark} {got:<22} exit {} (expected {expect}) {secs:>5.1} s  {story}",
            code.unwrap_or(-1)
        );
    }
    for (i, run) in summary.iter().enumerate() {
        phases.push((format!("run {}", i + 1), run.4));
    }
    let shown: Vec<String> = phases
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.1} s"))
        .collect();
    println!("demo: phases: {}", shown.join(", "));
    println!("demo: {:.0} s in all", started.elapsed().as_secs_f64());
    if args.keep {
        println!("\ndemo: the stack keeps running; press Ctrl-C to stop it. For your own clients:");
        for (k, v) in &env {
            println!("  export {k}={v}");
        }
        println!("  cargo lambda invoke -A 127.0.0.1 -P {} start-deployment --data-file events/start-deployment.json", env.get("LAMBDA_PORT").map_or("?", String::as_str));
        let mut stack = stack;
        let _ = stack.0.wait();
    }
    if summary.iter().all(|s| s.3) {
        Ok(())
    } else {
        Err("some runs did not end as expected".into())
    }
}

/// Whether a run ended as its scenario expects: the ending, and the CLI's exit code for it (a
/// script acts on the code, so a wrong one is a mismatch even when the ending is right).
fn as_expected(run: &Run, got: &str, code: Option<i32>) -> bool {
    run.expect.is_none_or(|e| e == got) && run.expect_exit.is_none_or(|c| Some(c) == code)
}

/// `SUCCEEDED, exit 0`, or `-` for the user's own input.
fn expectation(run: &Run) -> String {
    match (run.expect, run.expect_exit) {
        (Some(e), Some(c)) => format!("{e}, exit {c}"),
        (Some(e), None) => e.to_owned(),
        _ => "-".into(),
    }
}

/// Records how long the phase that began at `phase` took, and starts the next.
fn lap(phases: &mut Vec<(String, f64)>, name: &str, phase: &mut Instant) {
    phases.push((name.to_owned(), phase.elapsed().as_secs_f64()));
    *phase = Instant::now();
}

/// One cargo invocation for everything the demo runs (the CLI, the local stack, the emulator and
/// the four functions `cargo lambda watch` serves: `cargo_run_env::LOCAL_BINARIES`), so nothing
/// is compiled twice; its hundreds of `Compiling` lines go to `log` (shown live with `--verbose`),
/// a failure shows the compiler's messages in full.
fn build(root: &Path, log: &Path, verbose: bool) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    cargo_run_env::without_cargo_run_env(&mut command)
        .args(cargo_run_env::local_build_args())
        .current_dir(root);
    let _ = std::fs::remove_file(log);
    if verbose {
        match command.status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("cargo build failed ({status})")),
            Err(e) => Err(format!("cargo build: {e}")),
        }
    } else {
        cargo_run_env::run_logged(&mut command, log)
    }
}

struct Run {
    story: String,
    input: String,
    expect: Option<&'static str>,
    expect_exit: Option<i32>,
    bake_alarm: Option<&'static str>,
    operator: Option<&'static Operator>,
}

/// A person's answer or abort, as they would give it: the CLI, shown in the demo's output.
fn operate(target: &Path, env: &HashMap<String, String>, op: &Operator, arn: &str) {
    println!(
        "    >>> demo: a person runs `stagegate {} --execution-arn {arn} --reason \"{}\"`",
        op.command, op.reason
    );
    let out = Command::new(target.join("debug/stagegate"))
        .args([op.command, "--execution-arn", arn, "--reason", op.reason])
        .envs(env.iter())
        .output();
    match out {
        Ok(o) => {
            for line in String::from_utf8_lossy(&o.stdout)
                .lines()
                .chain(String::from_utf8_lossy(&o.stderr).lines())
            {
                println!("    >>> {line}");
            }
        }
        Err(e) => println!("    >>> demo: could not run stagegate: {e}"),
    }
}

fn scenario_run(s: &'static Scenario) -> Run {
    let bake = s.bake_alarm.map_or_else(String::new, |alarm| {
        format!(
            r#","bake":{{"seconds":{BAKE_SECONDS},"checkIntervalSeconds":{BAKE_CHECK_INTERVAL_SECONDS},"alarmNames":["{alarm}"]}}"#
        )
    });
    let input = format!(
        r#"{{"gameName":"space-raiders","stageName":"prod","snapshotId":"{}"{bake}{}}}"#,
        s.snapshot, s.extra_input
    );
    Run {
        story: format!("{}: {}", s.name, s.story),
        input,
        expect: Some(s.expect),
        expect_exit: Some(s.exit_code),
        bake_alarm: s.bake_alarm,
        operator: s.operator.as_ref(),
    }
}

/// Creates (or updates) a metric alarm in the stack's CloudWatch (moto) and sets its state, with
/// boto3 from the repository's .venv (xtask stays plain std).
fn set_alarm(
    python: &Path,
    env: &HashMap<String, String>,
    name: &str,
    state: &str,
    reason: &str,
) -> Result<(), String> {
    const SCRIPT: &str = r#"
import os, sys
import boto3
name, state, reason = sys.argv[1:4]
cloudwatch = boto3.client(
    "cloudwatch",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL_CLOUDWATCH") or os.environ["AWS_ENDPOINT_URL"],
    region_name=os.environ["AWS_REGION"],
)
if not cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]:
    cloudwatch.put_metric_alarm(
        AlarmName=name, AlarmDescription="stagegate demo: server errors of space-raiders/prod",
        Namespace="SpaceRaiders", MetricName="ServerErrors", Dimensions=[{"Name": "Stage", "Value": "prod"}],
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
    )
cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
"#;
    python_script(python, env, SCRIPT, &[name, state, reason])
        .map_err(|e| format!("could not set alarm {name} to {state}: {e}"))
}

/// Puts the emulator back to its scenario's start (its admin API; boto3's Python, as for alarms).
fn reset_emulator(python: &Path, env: &HashMap<String, String>) -> Result<(), String> {
    const SCRIPT: &str = r#"
import os, urllib.request
base = os.environ["AWS_ENDPOINT_URL_GAMESPARKS"].rstrip("/")
urllib.request.urlopen(urllib.request.Request(base + "/_emulator/reset", data=b"", method="POST"), timeout=10)
"#;
    python_script(python, env, SCRIPT, &[])
        .map_err(|e| format!("could not reset the emulator: {e}"))
}

/// Runs `script` with the repository's Python and the stack's environment; the error is its
/// stderr.
fn python_script(
    python: &Path,
    env: &HashMap<String, String>,
    script: &str,
    args: &[&str],
) -> Result<(), String> {
    let output = Command::new(python)
        .args(["-c", script])
        .args(args)
        .envs(env.iter())
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// Prints the stack's start-up lines; the channel says whether it became ready.
fn forward_until_ready(
    stdout: Option<std::process::ChildStdout>,
) -> Result<mpsc::Receiver<bool>, String> {
    let stdout = stdout.ok_or("stagegate-local has no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut ready = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !ready {
                if line.starts_with("export ") || line.starts_with("environment for") {
                    continue;
                }
                println!("  {line}");
                if line == "stagegate-local ready" {
                    ready = true;
                    let _ = tx.send(true);
                }
            } else if line.contains("stopped unexpectedly") || line.contains("stopping") {
                println!("  {line}");
            }
        }
        let _ = tx.send(false);
    });
    Ok(rx)
}

fn read_env(path: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let env: HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for key in ["STATE_MACHINE_ARN", "QUEUE_URL"] {
        if !env.contains_key(key) {
            return Err(format!("{} has no {key}", path.display()));
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_matches_on_its_ending_and_its_exit_code() {
        let rollback = SCENARIOS
            .iter()
            .find(|s| s.name == "rollback")
            .map(scenario_run)
            .unwrap_or_else(|| panic!("no rollback scenario"));
        assert!(as_expected(&rollback, "StageGate.ROLLED_BACK", Some(3)));
        // The right ending with the wrong code (e.g. every failure exiting 1) is a mismatch.
        assert!(!as_expected(&rollback, "StageGate.ROLLED_BACK", Some(1)));
        assert!(!as_expected(&rollback, "StageGate.ROLLED_BACK", None));
        assert!(!as_expected(&rollback, "SUCCEEDED", Some(3)));
        assert_eq!(expectation(&rollback), "StageGate.ROLLED_BACK, exit 3");
        let yours = Run {
            story: "your input".into(),
            input: "{}".into(),
            expect: None,
            expect_exit: None,
            bake_alarm: None,
            operator: None,
        };
        assert!(as_expected(&yours, "anything", Some(5)));
        assert_eq!(expectation(&yours), "-");
    }
}

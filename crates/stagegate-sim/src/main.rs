//! `cargo xtask sim`: runs the deterministic simulator over consecutive seeds and reports what it
//! found.
//!
//! `--runs N` (default 100,000) runs seeds `--from S` (default 0) onwards and exits non-zero when
//! any run breaks an invariant, printing each failing seed with its fault schedule; `--seed S`
//! replays one run and prints its schedule whether it fails or not. `--workflow FILE` runs another
//! copy of the ASL (to see that a change to Retry or Catch changes what the simulator observes).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use stagegate_sim::asl::{self, Workflow};
use stagegate_sim::faults::FaultKind;
use stagegate_sim::invariants::INVARIANTS;
use stagegate_sim::{run_seed, Report};

struct Args {
    runs: u64,
    from: u64,
    seed: Option<u64>,
    workflow: std::path::PathBuf,
    show: usize,
    /// Print only failing runs that break this invariant.
    only: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        runs: 100_000,
        from: 0,
        seed: None,
        workflow: asl::default_path(),
        show: 3,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, text: String| {
            text.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{name} must be a whole number, got {text:?}"))
        };
        match flag.as_str() {
            "--runs" => args.runs = number("--runs", value("--runs")?)?,
            "--from" => args.from = number("--from", value("--from")?)?,
            "--seed" => args.seed = Some(number("--seed", value("--seed")?)?),
            "--show" => args.show = usize::try_from(number("--show", value("--show")?)?).unwrap_or(3),
            "--workflow" => args.workflow = value("--workflow")?.into(),
            "--only" => args.only = Some(value("--only")?),
            "-h" | "--help" => {
                return Err("usage: stagegate-sim [--runs N] [--from SEED] [--seed SEED] [--show K] [--only INVARIANT] [--workflow FILE]".into())
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stagegate-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let workflow = match Workflow::load(&args.workflow) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("stagegate-sim: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(seed) = args.seed {
        let (scenario, report) = run_seed(seed, &workflow);
        print!("{}", report.explain(&scenario));
        return if report.violations.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let started = Instant::now();
    let mut reached: BTreeMap<FaultKind, u64> = BTreeMap::new();
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut broken: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut failing: Vec<u64> = vec![];
    let mut shown = 0;
    let mut transitions = 0u64;
    // Seeds are independent, so they are shared out between threads; each run is still a pure
    // function of its seed, and the reports are read back in seed order.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8) as u64;
    let end = args.from.saturating_add(args.runs);
    let reports: Vec<Report> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|k| {
                let workflow = &workflow;
                scope.spawn(move || {
                    (args.from..end)
                        .filter(|seed| seed % threads == k)
                        .map(|seed| {
                            let (_, mut report) = run_seed(seed, workflow);
                            if report.violations.is_empty() {
                                report.trace.clear();
                            }
                            report
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<Report> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|r| r.seed);
        all
    });
    if u64::try_from(reports.len()).unwrap_or(0) != args.runs {
        eprintln!("stagegate-sim: a worker thread failed (a run panicked); replay its seeds one by one with --seed");
        return ExitCode::FAILURE;
    }
    for report in &reports {
        let seed = report.seed;
        tally(report, &mut reached, &mut outcomes, &mut transitions);
        if !report.violations.is_empty() {
            for v in &report.violations {
                let e = broken.entry(v.invariant).or_insert((0, seed));
                e.0 += 1;
            }
            let wanted = args
                .only
                .as_deref()
                .is_none_or(|name| report.violations.iter().any(|v| v.invariant == name));
            if wanted && shown < args.show {
                shown += 1;
                print!(
                    "{}",
                    report.explain(&stagegate_sim::scenario::Scenario::draw(seed))
                );
            }
            failing.push(seed);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\n{} runs (seeds {}..{}) in {secs:.1} s: {:.0} runs/s, {} state transitions",
        args.runs,
        args.from,
        args.from.saturating_add(args.runs),
        args.runs as f64 / secs.max(1e-9),
        transitions
    );
    println!("runs reaching each fault kind:");
    for kind in FaultKind::ALL {
        println!(
            "  {:<28} {}",
            kind.as_str(),
            reached.get(&kind).copied().unwrap_or(0)
        );
    }
    println!("outcomes:");
    for (o, n) in &outcomes {
        println!("  {o:<28} {n}");
    }
    println!("invariants checked after every run:");
    for (name, what) in INVARIANTS {
        let verdict = match broken.get(name) {
            Some((n, first)) => format!("BROKEN in {n} runs (first: seed {first})"),
            None => "held".into(),
        };
        println!("  {name:<20} {verdict}: {what}");
    }
    if failing.is_empty() {
        println!("all {} runs kept every invariant", args.runs);
        ExitCode::SUCCESS
    } else {
        println!(
            "{} of {} runs broke an invariant; the first at seed {} (run {} of the campaign)",
            failing.len(),
            args.runs,
            failing[0],
            failing[0] - args.from + 1
        );
        ExitCode::FAILURE
    }
}

fn tally(
    report: &Report,
    reached: &mut BTreeMap<FaultKind, u64>,
    outcomes: &mut BTreeMap<&'static str, u64>,
    transitions: &mut u64,
) {
    for k in &report.kinds {
        *reached.entry(*k).or_default() += 1;
    }
    let o = report
        .outcome
        .map_or("(no message)", stagegate::verdict::Verdict::as_str);
    *outcomes.entry(o).or_default() += 1;
    *transitions += u64::from(report.transitions);
}

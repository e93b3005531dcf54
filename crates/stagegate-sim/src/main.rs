//! `cargo xtask sim`: runs the deterministic simulator over consecutive seeds and reports what it
//! found.
//!
//! `--runs N` (default 100,000) runs seeds `--from S` (default 0) onwards and exits non-zero when
//! any run breaks an invariant, printing each failing seed with its fault schedule; `--seed S`
//! replays one run and prints its schedule whether it fails or not. `--workflow FILE` runs another
//! copy of the ASL (to see that a change to Retry or Catch changes what the simulator observes).
//!
//! One seed in `fleet::FLEET_EVERY` also runs a fleet beside its gate run; `--fleet` runs only
//! fleets, one per seed, and `--plant NAME` plants one wrong step in each fleet (to see the fleet
//! invariants fail: the run then exits non-zero, as it should).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use stagegate_sim::asl::{self, Workflow};
use stagegate_sim::faults::FaultKind;
use stagegate_sim::fleet::drive::Plant;
use stagegate_sim::fleet::invariants::FLEET_INVARIANTS;
use stagegate_sim::fleet::{self, FleetEnding, FleetReport};
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
    /// Fleet runs only, one per seed.
    fleet: bool,
    plant: Option<Plant>,
}

/// What one seed ran: its gate run, and its fleet run if it has one.
struct Run {
    seed: u64,
    gate: Option<Report>,
    fleet: Option<FleetReport>,
}

impl Run {
    fn violations(&self) -> impl Iterator<Item = &stagegate_sim::invariants::Violation> {
        let gate = self.gate.iter().flat_map(|r| r.violations.iter());
        gate.chain(self.fleet.iter().flat_map(|f| f.violations.iter()))
    }
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        runs: 100_000,
        from: 0,
        seed: None,
        workflow: asl::default_path(),
        show: 3,
        only: None,
        fleet: false,
        plant: None,
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
            "--fleet" => args.fleet = true,
            "--plant" => {
                let name = value("--plant")?;
                let plant = Plant::from_name(&name).ok_or_else(|| {
                    let names: Vec<&str> = Plant::ALL.iter().map(|p| p.as_str()).collect();
                    format!("--plant {name:?} is none of {}", names.join(", "))
                })?;
                args.plant = Some(plant);
                args.fleet = true;
            }
            "-h" | "--help" => {
                return Err("usage: stagegate-sim [--runs N] [--from SEED] [--seed SEED] [--show K] [--only INVARIANT] [--workflow FILE] [--fleet] [--plant NAME]".into())
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
    let has_fleet = |seed: u64| args.fleet || fleet::is_fleet_seed(seed);
    if let Some(seed) = args.seed {
        let mut clean = true;
        if !args.fleet {
            let (scenario, report) = run_seed(seed, &workflow);
            print!("{}", report.explain(&scenario));
            clean &= report.violations.is_empty();
        }
        if has_fleet(seed) {
            let (_, _, report) = fleet::run_fleet(seed, args.plant);
            print!("{}", fleet::explain(seed, args.plant));
            clean &= report.violations.is_empty();
        }
        return if clean {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let started = Instant::now();
    let mut reached: BTreeMap<FaultKind, u64> = BTreeMap::new();
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut fleets: BTreeMap<FleetEnding, u64> = BTreeMap::new();
    let (mut fleet_games, mut fleet_started) = (0u64, 0u64);
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
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|k| {
                let workflow = &workflow;
                let args = &args;
                scope.spawn(move || {
                    (args.from..end)
                        .filter(|seed| seed % threads == k)
                        .map(|seed| {
                            let gate = (!args.fleet).then(|| {
                                let (_, mut report) = run_seed(seed, workflow);
                                if report.violations.is_empty() {
                                    report.trace.clear();
                                }
                                report
                            });
                            let fleet =
                                has_fleet(seed).then(|| fleet::run_fleet(seed, args.plant).2);
                            Run { seed, gate, fleet }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<Run> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|r| r.seed);
        all
    });
    if u64::try_from(runs.len()).unwrap_or(0) != args.runs {
        eprintln!("stagegate-sim: a worker thread failed (a run panicked); replay its seeds one by one with --seed");
        return ExitCode::FAILURE;
    }
    for run in &runs {
        let seed = run.seed;
        if let Some(report) = &run.gate {
            tally(report, &mut reached, &mut outcomes, &mut transitions);
        }
        if let Some(f) = &run.fleet {
            for k in &f.kinds {
                *reached.entry(*k).or_default() += 1;
            }
            *fleets.entry(f.ending).or_default() += 1;
            fleet_games += f.games as u64;
            fleet_started += f.started as u64;
        }
        let names: std::collections::BTreeSet<&'static str> =
            run.violations().map(|v| v.invariant).collect();
        if names.is_empty() {
            continue;
        }
        for name in &names {
            let e = broken.entry(name).or_insert((0, seed));
            e.0 += 1;
        }
        let wanted = args.only.as_deref().is_none_or(|name| names.contains(name));
        if wanted && shown < args.show {
            shown += 1;
            if let Some(report) = run.gate.as_ref().filter(|r| !r.violations.is_empty()) {
                print!(
                    "{}",
                    report.explain(&stagegate_sim::scenario::Scenario::draw(seed))
                );
            }
            if run.fleet.as_ref().is_some_and(|f| !f.violations.is_empty()) {
                print!("{}", fleet::explain(seed, args.plant));
            }
        }
        failing.push(seed);
    }
    let secs = started.elapsed().as_secs_f64();
    let fleet_runs: u64 = fleets.values().sum();
    println!(
        "\n{} runs (seeds {}..{}) in {secs:.1} s: {:.0} runs/s, {} state transitions; {fleet_runs} of them fleet runs",
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
    if !args.fleet {
        println!("outcomes:");
        for (o, n) in &outcomes {
            println!("  {o:<28} {n}");
        }
        println!("invariants checked after every run:");
        for (name, what) in INVARIANTS {
            print_invariant(name, what, &broken);
        }
    }
    if fleet_runs > 0 {
        println!(
            "fleet runs: {fleet_runs}, {fleet_games} games, {fleet_started} started{}:",
            args.plant
                .map_or(String::new(), |p| format!(" (planted: {})", p.as_str()))
        );
        for (e, n) in &fleets {
            println!("  {:<28} {n}", e.as_str());
        }
        println!("invariants checked after every fleet run:");
        for (name, what) in FLEET_INVARIANTS {
            print_invariant(name, what, &broken);
        }
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

fn print_invariant(name: &str, what: &str, broken: &BTreeMap<&'static str, (u64, u64)>) {
    let verdict = match broken.get(name) {
        Some((n, first)) => format!("BROKEN in {n} runs (first: seed {first})"),
        None => "held".into(),
    };
    println!("  {name:<20} {verdict}: {what}");
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

//! What a function binary does before it serves Lambda. Run by hand (`--help`, or outside
//! Lambda's runtime, with no runtime API in the environment), lambda_runtime would panic on the
//! missing variables; a person gets a usage line instead, and nothing panics on that path.

use std::io::Write;

/// The variables lambda_runtime needs (set by Lambda, and by `cargo lambda watch` / `invoke`).
const RUNTIME_VARS: [&str; 2] = ["AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME"];

/// Exits with 0 after printing usage on `--help`, and with 2 naming what is missing when the
/// process is not under a Lambda runtime; returns when it is.
pub fn check(name: &str, about: &str) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match decide(name, about, &args, |k| std::env::var_os(k).is_some()) {
        Preflight::Serve => {}
        Preflight::Exit(code, text) => {
            let _ = if code == 0 {
                writeln!(std::io::stdout(), "{text}")
            } else {
                writeln!(std::io::stderr(), "{text}")
            };
            std::process::exit(code);
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Preflight {
    Serve,
    Exit(i32, String),
}

fn decide(name: &str, about: &str, args: &[String], has: impl Fn(&str) -> bool) -> Preflight {
    let usage = format!(
        "{name}: {about}\n\nA Lambda function (provided.al2023): Lambda runs it. Locally:\n  \
         cargo lambda watch                          # serves the functions\n  \
         cargo lambda invoke {name} --data-file <a sample: events/{name}*.json>"
    );
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Preflight::Exit(0, usage);
    }
    let missing: Vec<&str> = RUNTIME_VARS.iter().copied().filter(|k| !has(k)).collect();
    if missing.is_empty() {
        Preflight::Serve
    } else {
        Preflight::Exit(
            2,
            format!(
                "{name}: not running under a Lambda runtime ({} not set)\n\n{usage}",
                missing.join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_by_hand_and_missing_runtime_exit_without_panicking() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let all = |_: &str| true;
        let none = |_: &str| false;
        assert!(
            matches!(decide("f", "x", &args(&["--help"]), all), Preflight::Exit(0, t) if t.contains("cargo lambda invoke f"))
        );
        assert_eq!(decide("f", "x", &args(&[]), all), Preflight::Serve);
        match decide("f", "x", &args(&[]), none) {
            Preflight::Exit(2, t) => assert!(t.contains("AWS_LAMBDA_RUNTIME_API"), "{t}"),
            other => panic!("{other:?}"),
        }
    }
}

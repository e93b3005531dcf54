//! What the figures were measured on: CPU, kernel, toolchain versions and the load average
//! before and after (from /proc and the tools' `--version`), so a result can be told apart from
//! one taken on a busier or different machine.

use std::path::Path;
use std::process::Command;

use crate::results::Machine;

/// The 1, 5 and 15 minute load averages (empty if /proc/loadavg cannot be read).
pub fn loadavg() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `program args`'s output (stdout, or stderr when stdout is empty), trimmed; empty if it
/// cannot run.
fn version(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            if s.is_empty() {
                s = String::from_utf8_lossy(&o.stderr).trim().to_owned();
            }
            s
        })
        .unwrap_or_default()
}

/// This machine, with the load averages taken before and after the run and the peer's Python.
pub fn describe(before: &[f64], after: &[f64], python: &Path) -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default();
    Machine {
        cpu,
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        kernel: version("uname", &["-r"]),
        rustc: version("rustc", &["--version"]),
        python: version(&python.display().to_string(), &["--version"]),
        loadavg_before: before.to_vec(),
        loadavg_after: after.to_vec(),
    }
}

//! `stagegate status --watch`: the report again every `--interval` seconds, until interrupted or
//! `--count` reports. An operator waiting on an approval or a freeze keeps it open instead of
//! re-running the command; in a terminal each report replaces the last (cleared and redrawn from
//! the top), otherwise (a log, a pipe) reports follow each other separated by a blank line, so
//! nothing is lost and a script can split them. A report that fails ends the watch with its error,
//! as the single report does: the watch adds repetition, not a second error policy.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::StatusArgs;

/// Back to the top left, screen cleared: the next report replaces the last.
const REDRAW: &str = "\x1b[H\x1b[2J";

/// What is printed for the `index`-th report (0 first): the screen cleared first in a terminal,
/// else a blank line between reports.
pub fn frame(report: &str, tty: bool, index: u64) -> String {
    if tty {
        format!("{REDRAW}{report}")
    } else if index == 0 {
        report.to_owned()
    } else {
        format!("\n{report}")
    }
}

/// Prints `report()`'s text every `interval`, `count` times (None: until interrupted).
pub async fn watch_with<F, Fut>(
    mut report: F,
    out: &mut impl Write,
    tty: bool,
    interval: Duration,
    count: Option<u64>,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<String, String>>,
{
    let mut shown = 0u64;
    loop {
        let text = report().await?;
        out.write_all(frame(&text, tty, shown).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing the report: {e}"))?;
        shown += 1;
        if count.is_some_and(|c| shown >= c) {
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
}

/// `stagegate status`: one report, or with `--watch` the watch.
pub async fn print(args: &StatusArgs) -> Result<(), String> {
    let mut stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let count = if args.watch { args.count } else { Some(1) };
    let interval = Duration::from_secs(args.interval);
    // A JSON report ends without a newline; a line-oriented reader wants one per report.
    let report = || async {
        super::run(args).await.map(|mut text| {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text
        })
    };
    watch_with(report, &mut stdout, tty, interval, count).await
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn reports_are_separated_or_redrawn_and_count_bounds_them() {
        let made = Cell::new(0);
        let report = || {
            made.set(made.get() + 1);
            let n = made.get();
            async move { Ok::<_, String>(format!("report {n}\n")) }
        };
        let mut out = Vec::new();
        let watched = watch_with(report, &mut out, false, Duration::ZERO, Some(3)).await;
        assert_eq!(watched, Ok(()));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "report 1\n\nreport 2\n\nreport 3\n"
        );
        // In a terminal: each report redraws the screen from the top.
        let mut out = Vec::new();
        let _ = watch_with(report, &mut out, true, Duration::ZERO, Some(2)).await;
        assert_eq!(
            String::from_utf8_lossy(&out),
            "\x1b[H\x1b[2Jreport 4\n\x1b[H\x1b[2Jreport 5\n"
        );
        assert_eq!(made.get(), 5, "one report per frame, no more");
    }

    #[tokio::test]
    async fn a_failed_report_ends_the_watch_with_its_error() {
        let made = Cell::new(0);
        let report = || {
            made.set(made.get() + 1);
            let n = made.get();
            async move {
                if n == 2 {
                    Err("ListStages of g: throttled".to_owned())
                } else {
                    Ok(format!("report {n}\n"))
                }
            }
        };
        let mut out = Vec::new();
        let watched = watch_with(report, &mut out, false, Duration::ZERO, None).await;
        assert_eq!(watched, Err("ListStages of g: throttled".into()));
        assert_eq!(String::from_utf8_lossy(&out), "report 1\n");
    }

    #[test]
    fn watch_flags_parse_and_need_watch() {
        use clap::Parser;
        let parse = |extra: &[&str]| {
            let mut argv = vec![
                "stagegate",
                "status",
                "--game",
                "g",
                "--state-machine-arn",
                "a",
            ];
            argv.extend_from_slice(extra);
            crate::cli::Cli::try_parse_from(argv).map(|c| match c.command {
                crate::cli::Command::Status(args) => (args.watch, args.interval, args.count),
                _ => panic!("not status"),
            })
        };
        assert_eq!(parse(&[]).ok(), Some((false, 10, None)));
        assert_eq!(
            parse(&["--watch", "--interval", "3", "--count", "2"]).ok(),
            Some((true, 3, Some(2)))
        );
        assert!(parse(&["--count", "2"]).is_err(), "--count without --watch");
        assert!(parse(&["--watch", "--interval", "0"]).is_err());
    }
}

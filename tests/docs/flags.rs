//! Flags in the docs against clap: a `--flag` in a span or shell line that names `stagegate
//! <command>` must be that command's; one whose program the text does not name must be some
//! command's, or a flag another program of the workspace defines; another tool's flags (cargo, sam,
//! the demo) are that tool's business. Listed values (`--scenario a|b|c`) must be the flag's.

use std::collections::BTreeSet;

use crate::markdown::{self, Line};
use crate::mismatch::{Checker, Kind};

/// Programs other than `stagegate` whose flags a doc shows (their flags are theirs).
const OTHER_PROGRAMS: &[&str] = &[
    "cargo",
    "xtask",
    "sam",
    "aws",
    "git",
    "python",
    "python3",
    "npm",
    "npx",
    "gamesparks-local",
    "stagegate-local",
    "stagegate-sim",
    "stagegate-bench",
    "cfn-lint",
    "checkov",
    "credential_process",
    "curl",
];

/// Prose words that say the flags around them belong to another tool of the workspace.
const OTHER_TOOLS_IN_PROSE: &[&str] = &[
    "emulator",
    "demo",
    "simulator",
    "soak",
    "mutants",
    "cargo-mutants",
    "sam",
];

#[derive(Clone, Debug, PartialEq)]
enum Program {
    /// `stagegate`, with the subcommand when the text names one.
    Ours(Option<String>),
    Other,
}

pub fn flags(c: &mut Checker, lines: &[Line]) {
    // Whose flags a section shows: the last program its prose or spans named (a heading starts
    // a new section).
    let mut section: Option<Program> = None;
    let mut shell: Option<Program> = None;
    let mut continued = false;
    for line in lines {
        if line.block.is_none() && line.text.starts_with('#') {
            section = None;
        }
        if line.fence {
            continued = false;
            continue;
        }
        if let Some(info) = &line.block {
            // A shell line: its own program, or the one of the line it continues. In a console
            // transcript only the `$ ` lines are commands.
            let mut text = line.text.trim_start();
            if info == "console" {
                match text.strip_prefix("$ ") {
                    Some(command) => text = command,
                    None => continue,
                }
            }
            let mut current = if continued { shell.clone() } else { None };
            command_line(c, line.number, text, &mut current);
            continued = text.trim_end().ends_with('\\');
            shell = current;
            continue;
        }
        let prose = markdown::prose(&line.text).to_lowercase();
        if markdown::words(&prose)
            .iter()
            .any(|(_, w)| OTHER_TOOLS_IN_PROSE.contains(w))
        {
            section = Some(Program::Other);
        }
        for span in line.spans() {
            // A span alone (`--json`) is the section's program's, on no particular command; a
            // span that names `stagegate status` is that command's.
            let mut current = match &section {
                Some(Program::Ours(_)) => None,
                other => other.clone(),
            };
            command_line(c, line.number, &span, &mut current);
            if current.is_some() {
                section = current;
            }
        }
    }
}

/// One code span or shell line: who is the program, and are its flags its own.
fn command_line(c: &mut Checker, number: usize, text: &str, program: &mut Option<Program>) {
    let commands: Vec<&str> = text
        .split(" | ")
        .flat_map(|t| t.split("; "))
        .flat_map(|t| t.split(" && "))
        .collect();
    for (i, command) in commands.into_iter().enumerate() {
        if i > 0 {
            *program = None;
        }
        if command.trim_start().starts_with('$') {
            // `$I start-deployment ...`: a program held in a shell variable.
            *program = Some(Program::Other);
        }
        one_command(c, number, command, program);
    }
}

fn one_command(c: &mut Checker, number: usize, text: &str, program: &mut Option<Program>) {
    let mut expect_subcommand = false;
    let mut previous = "";
    for raw in text.split_whitespace() {
        let token = raw.trim_matches(|ch: char| "[]()\"',;`".contains(ch));
        // `cargo test -p stagegate --lib`: a package or binary named stagegate, not the program.
        let argument = matches!(previous, "-p" | "--package" | "--bin");
        previous = token;
        if argument {
            continue;
        }
        if token == "stagegate" || token.ends_with("/stagegate") {
            *program = Some(Program::Ours(None));
            expect_subcommand = true;
            continue;
        }
        if expect_subcommand && !token.starts_with('-') {
            expect_subcommand = false;
            if c.facts.commands.contains_key(token) && !token.is_empty() {
                *program = Some(Program::Ours(Some(token.to_owned())));
                continue;
            }
        }
        if OTHER_PROGRAMS.contains(&token) {
            *program = Some(Program::Other);
            continue;
        }
        for part in token.split(['/', '|']) {
            let Some(name) = part.strip_prefix("--") else {
                continue;
            };
            let name: String = name
                .split('=')
                .next()
                .unwrap_or_default()
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '-')
                .collect();
            if name.is_empty() {
                continue;
            }
            flag(c, number, &name, program.as_ref());
        }
    }
}

fn flag(c: &mut Checker, number: usize, name: &str, program: Option<&Program>) {
    let anywhere = c.facts.commands.values().any(|f| f.contains(name));
    match program {
        Some(Program::Other) => {}
        Some(Program::Ours(Some(command))) => {
            let here = c
                .facts
                .commands
                .get(command)
                .is_some_and(|f| f.contains(name));
            if !here && anywhere {
                let on: Vec<&str> = c
                    .facts
                    .commands
                    .iter()
                    .filter(|(_, f)| f.contains(name))
                    .map(|(cmd, _)| cmd.as_str())
                    .collect();
                c.report(
                    number,
                    Kind::FlagOnWrongCommand,
                    format!(
                        "`stagegate {command}` has no --{name} (it is an option of: {})",
                        on.join(", ")
                    ),
                );
            } else if !here {
                c.report(
                    number,
                    Kind::UnknownFlag,
                    format!("--{name}: no such option of `stagegate {command}` or any command"),
                );
            }
        }
        Some(Program::Ours(None)) => {
            if !anywhere {
                c.report(
                    number,
                    Kind::UnknownFlag,
                    format!("--{name}: no `stagegate` command has this option"),
                );
            }
        }
        None => {
            // Whose it is the text does not say: the workspace's other programs' flags pass.
            if !anywhere && !c.facts.other_flags.contains(name) {
                c.report(
                    number,
                    Kind::UnknownFlag,
                    format!("--{name}: no `stagegate` command has this option"),
                );
            }
        }
    }
}

/// `--scenario success|alert|rollback` lists a flag's values: all of them, and only those; a
/// single lowercase value (`--scenario abort`) must be one of them.
pub fn flag_values(c: &mut Checker, lines: &[Line]) {
    for line in lines.iter().filter(|l| !l.fence) {
        let units: Vec<String> = match line.block {
            Some(_) => vec![line.text.clone()],
            None => line.spans(),
        };
        for unit in units {
            let unit = unit.replace("\\|", "|");
            let tokens: Vec<&str> = unit.split_whitespace().collect();
            for (i, token) in tokens.iter().enumerate() {
                let Some(flag) = token.strip_prefix("--") else {
                    continue;
                };
                let (flag, inline) = match flag.split_once('=') {
                    Some((f, v)) => (f, Some(v)),
                    None => (flag, tokens.get(i + 1).copied()),
                };
                let (Some(known), Some(given)) = (c.facts.values.get(flag), inline) else {
                    continue;
                };
                let given = given.trim_matches(|ch: char| "[]()`'\",".contains(ch));
                let listed: BTreeSet<String> = given.split('|').map(str::to_owned).collect();
                let plain = |v: &String| {
                    !v.is_empty()
                        && v.chars().all(|ch| {
                            ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_'
                        })
                };
                if !listed.iter().all(plain) {
                    // A placeholder (`--time-scale X`, `--input @FILE`), not a value.
                    continue;
                }
                let unknown: Vec<&str> = listed.difference(known).map(String::as_str).collect();
                let left_out: Vec<&str> = known.difference(&listed).map(String::as_str).collect();
                if !unknown.is_empty() {
                    c.report(
                        line.number,
                        Kind::WrongValues,
                        format!("--{flag} has no value {}", unknown.join(", ")),
                    );
                } else if listed.len() > 1 && !left_out.is_empty() {
                    c.report(
                        line.number,
                        Kind::WrongValues,
                        format!("--{flag}'s list leaves out {}", left_out.join(", ")),
                    );
                }
            }
        }
    }
}

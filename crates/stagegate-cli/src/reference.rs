//! docs/cli.md, the CLI reference, generated from the clap definitions (`cli::Cli`) and the exit
//! table (`exit::Exit`) rather than written by hand: a flag added to a command, a changed default
//! or environment variable reaches the reference when it is regenerated, and the test below fails
//! until it is (`STAGEGATE_BLESS=1` rewrites the file after an intended change; refused where `CI`
//! is set, so CI checks what is committed). The docs tier checks the prose against the same
//! definitions.

use clap::{Arg, ArgAction, Command, CommandFactory};

use crate::cli::Cli;
use crate::exit::Exit;

/// The whole of docs/cli.md.
pub fn markdown() -> String {
    let root = Cli::command();
    let mut out = String::from("# The `stagegate` command line\n\n");
    out.push_str(
        "<!-- Generated from the clap definitions (crates/stagegate-cli/src/cli.rs) and the exit \
         table (exit.rs) by crates/stagegate-cli/src/reference.rs: do not edit. After a change: \
         `STAGEGATE_BLESS=1 cargo test -p stagegate-cli --lib reference`. -->\n\n",
    );
    out.push_str(&format!("{}\n\n", one_line(&about(&root))));
    out.push_str("| command | what it does |\n|---|---|\n");
    for command in visible_subcommands(&root) {
        out.push_str(&format!(
            "| [`stagegate {name}`](#stagegate-{name}) | {} |\n",
            cell(&first_sentence(&about(command))),
            name = command.get_name()
        ));
    }
    for command in visible_subcommands(&root) {
        section(
            &mut out,
            &format!("stagegate {}", command.get_name()),
            command,
        );
    }
    out.push_str("\n## Exit status\n\n");
    out.push_str("| code | class (`exitClass`) | meaning | outcomes |\n|---|---|---|---|\n");
    for exit in Exit::ALL {
        let verdicts: Vec<String> = exit.verdicts().iter().map(|v| format!("`{v}`")).collect();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            exit.code(),
            exit.as_str(),
            cell(exit.meaning()),
            verdicts.join(", ")
        ));
    }
    out
}

fn section(out: &mut String, title: &str, command: &Command) {
    out.push_str(&format!(
        "\n## `{title}`\n\n{}\n",
        one_line(&about(command))
    ));
    let args: Vec<&Arg> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .collect();
    if !args.is_empty() {
        out.push_str("\n| option | required | default | environment | values | meaning |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for arg in args {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                usage(arg),
                if arg.is_required_set() { "yes" } else { "no" },
                list(arg.get_default_values().iter().map(|v| v.to_string_lossy())),
                arg.get_env()
                    .map(|e| format!("`{}`", e.to_string_lossy()))
                    .unwrap_or_default(),
                // A switch's `true`/`false` are clap's, not values a person types.
                if takes_value(arg) {
                    list(
                        arg.get_possible_values()
                            .iter()
                            .filter(|v| !v.is_hide_set())
                            .map(|v| v.get_name().to_owned().into()),
                    )
                } else {
                    String::new()
                },
                cell(&one_line(
                    &arg.get_long_help()
                        .or(arg.get_help())
                        .map(ToString::to_string)
                        .unwrap_or_default()
                )),
            ));
        }
    }
    for sub in visible_subcommands(command) {
        section(out, &format!("{title} {}", sub.get_name()), sub);
    }
}

/// `--name <VALUE>`, `-v, --verbose` or `<VALUE>` (a positional argument).
fn takes_value(arg: &Arg) -> bool {
    !matches!(
        arg.get_action(),
        ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count
    )
}

fn usage(arg: &Arg) -> String {
    let takes_value = takes_value(arg);
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|n| n.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    let mut text = String::new();
    if let Some(short) = arg.get_short() {
        text.push_str(&format!("-{short}, "));
    }
    match arg.get_long() {
        Some(long) if takes_value => text.push_str(&format!("--{long} <{value}>")),
        Some(long) => text.push_str(&format!("--{long}")),
        None => text.push_str(&format!("<{value}>")),
    }
    format!("`{text}`")
}

fn visible_subcommands(command: &Command) -> impl Iterator<Item = &Command> {
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

fn about(command: &Command) -> String {
    command
        .get_long_about()
        .or(command.get_about())
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// A doc comment's paragraphs on one line: a table cell cannot hold a line break.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_sentence(text: &str) -> String {
    let line = one_line(text);
    match line.find(". ") {
        Some(end) => line[..=end].to_owned(),
        None => line,
    }
}

/// A `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn list<'a>(values: impl Iterator<Item = std::borrow::Cow<'a, str>>) -> String {
    values
        .map(|v| format!("`{}`", cell(&v)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn committed_reference_matches_the_clap_definitions() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
        let generated = markdown();
        if std::env::var_os("STAGEGATE_BLESS").is_some() {
            // CI checks what is committed: a bless there would rewrite the file and pass.
            assert!(
                std::env::var_os("CI").is_none(),
                "STAGEGATE_BLESS is set under CI: docs/cli.md is checked, not rewritten, there"
            );
            std::fs::write(&path, &generated)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/cli.md differs from the clap definitions: run `STAGEGATE_BLESS=1 cargo test -p \
             stagegate-cli --lib reference` and commit it"
        );
    }

    #[test]
    fn every_command_and_option_is_in_the_reference() {
        let text = markdown();
        let root = Cli::command();
        for command in visible_subcommands(&root) {
            let heading = format!("## `stagegate {}`", command.get_name());
            let section = text
                .split(&heading)
                .nth(1)
                .and_then(|rest| rest.split("\n## ").next())
                .unwrap_or_else(|| panic!("no section {heading}"));
            for arg in command.get_arguments() {
                let Some(long) = arg.get_long().filter(|l| *l != "help") else {
                    continue;
                };
                let row = section
                    .lines()
                    .find(|line| {
                        line.starts_with("| `")
                            && (line.contains(&format!("--{long}`"))
                                || line.contains(&format!("--{long} <")))
                    })
                    .unwrap_or_else(|| panic!("{heading}: no row for --{long}"));
                for default in arg.get_default_values() {
                    let default = format!("`{}`", default.to_string_lossy());
                    assert!(row.contains(&default), "{heading} --{long}: {default}");
                }
                if let Some(env) = arg.get_env() {
                    let env = format!("`{}`", env.to_string_lossy());
                    assert!(row.contains(&env), "{heading} --{long}: {env}");
                }
            }
        }
        for exit in Exit::ALL {
            assert!(text.contains(&format!("| {} | `{}` |", exit.code(), exit.as_str())));
        }
    }
}

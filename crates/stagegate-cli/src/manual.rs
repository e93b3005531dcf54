//! Shell completions and the man page, generated from the clap definitions (`cli::Cli`) at the
//! moment they are asked for, so they can only describe the flags the binary parses. Both go to
//! stdout: where they are installed is the person's choice (nothing is written outside the
//! working directory, no shell configuration is touched).

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "stagegate", &mut out);
    out
}

/// The man page, in roff: `stagegate man | man -l -`. The subcommands' options are in it too
/// (one page, as `git help` would have many), so it stands alone.
pub fn man_page() -> Result<Vec<u8>, String> {
    let command = Cli::command();
    let mut out = Vec::new();
    let fail = |e: std::io::Error| format!("writing the man page: {e}");
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(&mut out).map_err(fail)?;
    page.render_name_section(&mut out).map_err(fail)?;
    page.render_synopsis_section(&mut out).map_err(fail)?;
    page.render_description_section(&mut out).map_err(fail)?;
    page.render_options_section(&mut out).map_err(fail)?;
    page.render_subcommands_section(&mut out).map_err(fail)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("stagegate-{}", sub.get_name());
        let sub_page = clap_mangen::Man::new(sub.clone().bin_name(name));
        // Each subcommand as a section of its own: its synopsis and options.
        let mut section = Vec::new();
        sub_page
            .render_synopsis_section(&mut section)
            .map_err(fail)?;
        sub_page
            .render_options_section(&mut section)
            .map_err(fail)?;
        let text = String::from_utf8_lossy(&section)
            .replacen(".SH SYNOPSIS", &format!(".SH \"{}\"", sub.get_name()), 1)
            .replace(".SH OPTIONS", ".SS Options");
        out.extend_from_slice(text.as_bytes());
    }
    page.render_extra_section(&mut out).map_err(fail)?;
    page.render_version_section(&mut out).map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subcommands() -> Vec<String> {
        Cli::command()
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect()
    }

    #[test]
    fn every_shell_gets_a_script_that_names_every_subcommand() {
        let names = subcommands();
        assert!(names.len() >= 9, "{names:?}");
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let script = String::from_utf8(completions(shell)).unwrap_or_default();
            assert!(!script.is_empty(), "{shell}");
            for name in &names {
                assert!(script.contains(name.as_str()), "{shell} lacks {name}");
            }
        }
    }

    #[test]
    fn the_man_page_names_every_subcommand_and_its_options() {
        let page = String::from_utf8(man_page().unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH stagegate"));
        for name in subcommands() {
            assert!(
                page.contains(&format!(".SH \"{name}\"")),
                "no section for {name}"
            );
        }
        // An option of a subcommand, not only the top level's.
        assert!(page.contains("state\\-machine\\-arn"), "{page}");
        assert!(page.contains("Exit status"), "the exit codes (after_help)");
    }
}

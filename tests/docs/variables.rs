//! Environment variables in the docs against the code: a name that reads as a variable
//! (`STAGEGATE_*`, `AWS_*`, `*_ARN`, an assignment in a shell block) must be one some code of the
//! workspace reads, or one of the few the SDK's chains read (`facts::EXTERNAL_ENV_VARS`).

use crate::markdown::{self, Line};
use crate::mismatch::{Checker, Kind};
use crate::sources::{is_env_name, is_screaming};

pub fn env_vars(c: &mut Checker, lines: &[Line]) {
    for line in lines.iter().filter(|l| !l.fence) {
        for (at, word) in markdown::words(&line.text) {
            let shell_variable = line.text[..at].ends_with('$');
            // `<ENDPOINT_URL>`: a placeholder for a value, not a variable.
            let placeholder =
                line.text[..at].ends_with('<') && line.text[at + word.len()..].starts_with('>');
            let assigned = line.block.is_some()
                && line.text[at + word.len()..].starts_with('=')
                && is_screaming(word)
                && word.contains('_');
            if shell_variable || placeholder || !(is_env_name(word) || assigned) {
                continue;
            }
            let known = match word.strip_suffix('_') {
                // `AWS_ENDPOINT_URL_<SERVICE>`, `STAGEGATE_*`: a family of variables.
                Some(prefix) => c.facts.env_vars.iter().any(|v| v.starts_with(prefix)),
                None => c.facts.env_vars.contains(word),
            };
            if !known {
                c.report(
                    line.number,
                    Kind::UnknownEnvVar,
                    format!("{word}: no code in the workspace reads this variable"),
                );
            }
        }
    }
}

//! The docs tier's checker: one function over a document's text and the code's `Facts`, so the
//! real docs and the planted-mismatch fixtures go through the same code. Each rule extracts by
//! pattern (where a word stands decides what it is: a `--flag` after `stagegate status`, a
//! SCREAMING word in a code span, a `policy.x` path, a JSON example, a parameter table, "N cases")
//! and reports what the code does not have; this module only runs them all.

use crate::facts::Facts;
use crate::markdown;
use crate::mismatch::{Checker, Mismatch};
use crate::{counts, crates, fields, flags, outcomes, parameters, paths, variables};

pub fn check(file: &str, text: &str, facts: &Facts) -> Vec<Mismatch> {
    let lines = markdown::lines(text);
    let mut checker = Checker {
        file,
        facts,
        found: Vec::new(),
    };
    flags::flags(&mut checker, &lines);
    flags::flag_values(&mut checker, &lines);
    variables::env_vars(&mut checker, &lines);
    outcomes::outcomes(&mut checker, &lines);
    outcomes::outcome_tables(&mut checker, &lines);
    fields::fields(&mut checker, &lines);
    fields::json_examples(&mut checker, &lines);
    parameters::parameters(&mut checker, &lines);
    counts::counts(&mut checker, &lines);
    paths::paths(&mut checker, &lines);
    paths::layout(&mut checker, &lines);
    crates::crate_table(&mut checker, &lines);
    let mut found = checker.found;
    found.sort();
    found.dedup();
    found
}

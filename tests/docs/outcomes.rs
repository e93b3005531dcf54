//! Outcomes in the docs against the Verdict type: a SCREAMING word in a code span (or with an
//! underscore in prose) must be an outcome of the gate, a state of a service it talks to (from the
//! SDK enums), a wire value of the contracts, or a constant of the code, so a renamed or invented
//! outcome in the docs is caught. A table keyed by outcome (its first column) lists every one, so
//! an outcome added to the core cannot be left out of a hand-written table.

use std::collections::BTreeSet;

use crate::markdown::{self, Line};
use crate::mismatch::{Checker, Kind};
use crate::sources::{is_env_name, is_screaming};

pub fn outcomes(c: &mut Checker, lines: &[Line]) {
    for line in lines.iter().filter(|l| l.block.is_none() && !l.fence) {
        let mut candidates: Vec<String> = Vec::new();
        for span in line.spans() {
            // A command line's capitals are placeholders (`--input JSON`, `<VALUE>`).
            if span.contains("--") || span.contains('<') {
                continue;
            }
            // A capitalised word alone is an outcome only as the whole span (`FROZEN`; not the
            // `AREA` of a path or the `ALL` of `Verdict::ALL`); one with `_` anywhere.
            candidates.extend(
                markdown::words(&span)
                    .into_iter()
                    .map(|(_, w)| w.to_owned())
                    .filter(|w| is_screaming(w) && w.len() >= 3 && (w.contains('_') || *w == span)),
            );
        }
        candidates.extend(
            markdown::words(&markdown::prose(&line.text))
                .into_iter()
                .map(|(_, w)| w.to_owned())
                .filter(|w| is_screaming(w) && w.contains('_') && !w.ends_with('_')),
        );
        for word in candidates {
            if is_env_name(&word)
                || word.ends_with('_')
                || c.facts.env_vars.contains(&word)
                || c.facts.constants.contains(&word)
            {
                continue;
            }
            if !c.facts.verdicts.contains(&word) && !c.facts.states.contains(&word) {
                c.report(
                    line.number,
                    Kind::UnknownOutcome,
                    format!(
                        "{word}: not an outcome of the gate (Verdict), nor a state of Step \
                         Functions, GameSparks or CloudWatch, nor a value of the contracts"
                    ),
                );
            }
        }
    }
}

/// A table whose rows are mostly keyed by outcomes (`| \`FAILED\` | yes | ... |`) is a table of
/// the outcomes: all of them.
pub fn outcome_tables(c: &mut Checker, lines: &[Line]) {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = 0;
    for line in lines.iter().chain(std::iter::once(&Line {
        number: 0,
        text: String::new(),
        block: None,
        fence: false,
    })) {
        if let Some(cells) = line.cells() {
            if rows.is_empty() && header == 0 {
                header = line.number;
            } else if !cells.first().is_some_and(|f| f.starts_with("---")) {
                rows.push(
                    cells
                        .first()
                        .map(|f| markdown::code_spans(f))
                        .unwrap_or_default(),
                );
            }
            continue;
        }
        let keyed = rows
            .iter()
            .filter(|spans| spans.iter().any(|s| c.facts.verdicts.contains(s)))
            .count();
        if header != 0 && keyed >= 3 && keyed * 2 >= rows.len() {
            let listed: BTreeSet<&String> = rows.iter().flatten().collect();
            let missing: Vec<&str> = c
                .facts
                .verdicts
                .iter()
                .filter(|v| !listed.contains(v))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                c.report(
                    header,
                    Kind::IncompleteOutcomes,
                    format!("a table of outcomes without {}", missing.join(", ")),
                );
            }
        }
        rows.clear();
        header = 0;
    }
}

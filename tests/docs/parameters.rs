//! Template parameters in the docs against infra/template.yaml: a parameter table names only
//! parameters the template has, and all of them; `--parameter-overrides` names only real ones.

use std::collections::BTreeSet;

use crate::markdown::{self, Line};
use crate::mismatch::{Checker, Kind};

pub fn parameters(c: &mut Checker, lines: &[Line]) {
    let mut table: Option<(usize, BTreeSet<String>)> = None;
    let mut in_table = false;
    for line in lines {
        let cells = line.cells();
        let Some(cells) = cells else {
            if let Some((header, listed)) = table.take() {
                missing(c, header, &listed);
            }
            in_table = false;
            overrides(c, line);
            continue;
        };
        let first = cells.first().cloned().unwrap_or_default();
        if !in_table {
            in_table = true;
            if first.to_lowercase().starts_with("parameter") {
                table = Some((line.number, BTreeSet::new()));
            }
            continue;
        }
        let Some((_, listed)) = table.as_mut() else {
            continue;
        };
        for span in markdown::code_spans(&first) {
            for name in span.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                listed.insert(name.to_owned());
                if !c.facts.parameters.iter().any(|p| p == name) {
                    c.report(
                        line.number,
                        Kind::UnknownParameter,
                        format!("{name}: infra/template.yaml has no such parameter"),
                    );
                }
            }
        }
    }
    if let Some((header, listed)) = table {
        missing(c, header, &listed);
    }
}

fn missing(c: &mut Checker, header: usize, listed: &BTreeSet<String>) {
    let absent: Vec<&String> = c
        .facts
        .parameters
        .iter()
        .filter(|p| !listed.contains(*p))
        .collect();
    for name in absent {
        c.report(
            header,
            Kind::MissingParameter,
            format!("{name}: a parameter of infra/template.yaml this parameter table leaves out"),
        );
    }
}

/// `sam deploy --parameter-overrides Name=value ...`
fn overrides(c: &mut Checker, line: &Line) {
    let Some((_, after)) = line.text.split_once("--parameter-overrides") else {
        return;
    };
    for token in after.split_whitespace() {
        let Some((name, _)) = token.trim_matches(['"', '\'']).split_once('=') else {
            continue;
        };
        let name = name.strip_prefix("ParameterKey=").unwrap_or(name);
        if !name.is_empty() && !c.facts.parameters.iter().any(|p| p == name) {
            c.report(
                line.number,
                Kind::UnknownParameter,
                format!("{name}: infra/template.yaml has no such parameter"),
            );
        }
    }
}

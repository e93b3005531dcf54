//! The SDK table in the docs against Cargo.lock: one SDK generation is a promise the docs make,
//! so the table must name every AWS crate the lock resolves, with versions the lock has.

use std::collections::BTreeSet;

use crate::markdown::Line;
use crate::mismatch::{Checker, Kind};

/// A table whose first column is `crate` lists the AWS crates Cargo.lock resolves, with versions
/// Cargo.lock has: every `aws-config` and `aws-sdk-*` named, each version a prefix of the lock's.
pub fn crate_table(c: &mut Checker, lines: &[Line]) {
    let mut header: Option<usize> = None;
    let mut in_table = false;
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let finish = |c: &mut Checker, at: usize, listed: &BTreeSet<String>| {
        let unlisted: Vec<&String> = c
            .facts
            .aws_crates
            .keys()
            .filter(|n| n.as_str() == "aws-config" || n.starts_with("aws-sdk-"))
            .filter(|n| !listed.contains(*n))
            .collect();
        for name in unlisted {
            c.report(
                at,
                Kind::UnlistedCrate,
                format!("{name}: in Cargo.lock, not in this table"),
            );
        }
    };
    for line in lines {
        let Some(cells) = line.cells() else {
            if let Some(at) = header.take() {
                finish(c, at, &listed);
            }
            in_table = false;
            continue;
        };
        if !in_table {
            in_table = true;
            listed.clear();
            if cells
                .first()
                .is_some_and(|f| f.trim_matches('`').eq_ignore_ascii_case("crate"))
            {
                header = Some(line.number);
            }
            continue;
        }
        if header.is_none() || cells.first().is_some_and(|f| f.starts_with("---")) {
            continue;
        }
        let version = cells
            .get(1)
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or_default()
            .trim_matches(['*', '`']);
        let names = cells.first().cloned().unwrap_or_default();
        for name in names.split(',').map(|n| n.trim().trim_matches('`')) {
            let matching: Vec<(&String, &BTreeSet<String>)> = c
                .facts
                .aws_crates
                .iter()
                .filter(|(n, _)| match name.strip_suffix('*') {
                    Some(prefix) => n.starts_with(prefix),
                    None => n.as_str() == name,
                })
                .collect();
            let fits = |v: &String| v == version || v.starts_with(&format!("{version}."));
            if matching.is_empty() {
                c.report(
                    line.number,
                    Kind::WrongVersion,
                    format!("{name}: not in Cargo.lock"),
                );
            } else if let Some((n, vs)) = matching.iter().find(|(_, vs)| !vs.iter().all(fits)) {
                let vs: Vec<&str> = vs.iter().map(String::as_str).collect();
                c.report(
                    line.number,
                    Kind::WrongVersion,
                    format!(
                        "{n}: Cargo.lock has {}, the table says {version}",
                        vs.join(", ")
                    ),
                );
            }
            listed.extend(matching.into_iter().map(|(n, _)| n.clone()));
        }
    }
    if let Some(at) = header {
        finish(c, at, &listed);
    }
}

//! The docs tier: README.md and every docs/*.md checked against the code, so that what a reader
//! is told (a flag and its values, an environment variable, an input field or example, an outcome,
//! a template parameter, a figure, a path, the SDK table) is what the code has. `check` runs the
//! rules (one module each: `flags`, `variables`, `fields`, `outcomes`, `parameters`, `counts`,
//! `paths`, `crates`) over a document's text and the `Facts` gathered from clap, the Verdict type,
//! the committed schemas, the template, Cargo.lock and the sources; no rule knows a doc's current
//! wording, and each kind of mismatch has a planted fixture under `tests/docs_fixtures/` that the
//! checker must reject. What can be generated is (`generated`: the outcome table, the input field
//! reference in `field_reference`; docs/cli.md in stagegate-cli's `reference`).

#[path = "docs/check.rs"]
mod check;
#[path = "docs/counts.rs"]
mod counts;
#[path = "docs/crates.rs"]
mod crates;
#[path = "docs/facts.rs"]
mod facts;
#[path = "docs/field_reference.rs"]
mod field_reference;
#[path = "docs/fields.rs"]
mod fields;
#[path = "docs/figures.rs"]
mod figures;
#[path = "docs/flags.rs"]
mod flags;
#[path = "docs/generated.rs"]
mod generated;
#[path = "docs/manifests.rs"]
mod manifests;
#[path = "docs/markdown.rs"]
mod markdown;
#[path = "docs/mismatch.rs"]
mod mismatch;
#[path = "docs/outcomes.rs"]
mod outcomes;
#[path = "docs/parameters.rs"]
mod parameters;
#[path = "docs/paths.rs"]
mod paths;
#[path = "docs/sources.rs"]
mod sources;
#[path = "docs/variables.rs"]
mod variables;

use check::check;
use facts::Facts;
use mismatch::{Kind, Mismatch};
use sources::repo_root;

/// README.md and docs/*.md, by path from the repository root, sorted.
pub fn documents() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(repo_root().join("docs"))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".md"))
                .map(|name| format!("docs/{name}"))
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    docs.insert(0, "README.md".to_owned());
    docs
}

fn check_file(facts: &Facts, path: &str) -> Vec<Mismatch> {
    let text =
        std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    check(path, &text, facts)
}

#[test]
fn the_docs_say_what_the_code_does() {
    let facts = Facts::of_workspace();
    let found: Vec<String> = documents()
        .iter()
        .flat_map(|doc| check_file(&facts, doc))
        .map(|m| m.to_string())
        .collect();
    assert!(
        found.is_empty(),
        "{} places where the docs and the code disagree:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// A fixture's first line says what it plants: `<!-- planted: KIND at line N -->`.
fn planted(text: &str) -> Option<(String, usize)> {
    let rest = text.lines().next()?.trim().strip_prefix("<!-- planted: ")?;
    let (kind, rest) = rest.split_once(" at line ")?;
    let line = rest.trim_end_matches("-->").trim().parse().ok()?;
    Some((kind.to_owned(), line))
}

#[test]
fn every_planted_mismatch_is_rejected_with_its_file_line_and_kind() {
    let facts = Facts::of_workspace();
    let dir = repo_root().join("tests/docs_fixtures");
    let mut kinds_planted = Vec::new();
    let mut failures = Vec::new();
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    fixtures.sort();
    for path in fixtures {
        let name = format!(
            "tests/docs_fixtures/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Some((kind, line)) = planted(&text) else {
            failures.push(format!(
                "{name}: no `<!-- planted: KIND at line N -->` first line"
            ));
            continue;
        };
        kinds_planted.push(kind.clone());
        let found = check(&name, &text, &facts);
        // Everything found is the plant (the rest of the fixture, of the same kind, is accepted:
        // it is the plant that is caught, not its surroundings); a missing parameter is one
        // mismatch per parameter the table leaves out, all at the table.
        let is_plant = |m: &Mismatch| m.kind.as_str() == kind && m.line == line && m.file == name;
        if found.is_empty() || !found.iter().all(is_plant) {
            let got: Vec<String> = found.iter().map(ToString::to_string).collect();
            failures.push(format!(
                "{name}: expected only {kind} at line {line}, got:\n  {}",
                got.join("\n  ")
            ));
        }
    }
    for kind in Kind::ALL {
        if !kinds_planted.iter().any(|k| k == kind.as_str()) {
            failures.push(format!("no fixture plants a {}", kind.as_str()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

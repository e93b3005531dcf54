//! The parts of the docs that are generated, not written: between
//! `<!-- generated: NAME ... -->` and `<!-- end generated -->` in any doc, the block NAME is
//! produced from the code (the outcome table from `Verdict::ALL`, the input field reference from
//! the committed input schema), so a new outcome or field reaches the docs when the block is
//! regenerated, and the test below fails until it is. `STAGEGATE_BLESS=1` rewrites the blocks
//! (refused where `CI` is set: CI checks what is committed). Prose around a block is the writer's.

use serde_json::Value;
use stagegate::verdict::Verdict;
use stagegate_cli::exit::Exit;

use crate::field_reference::input_fields;

pub const END: &str = "<!-- end generated -->";
const START: &str = "<!-- generated: ";

/// What a block of this name holds, or None for a name no generator has.
pub fn content(name: &str, input_schema: &Value) -> Option<String> {
    match name {
        "outcomes" => Some(outcomes()),
        "input-fields" => Some(input_fields(input_schema)),
        "exit-codes" => Some(exit_codes()),
        _ => None,
    }
}

/// The generated blocks of a text: (name, the start marker's line number, what is between the
/// markers).
pub fn blocks(text: &str) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.trim().strip_prefix(START) {
            let name = rest
                .split([';', ' '])
                .next()
                .unwrap_or_default()
                .trim_end_matches("-->")
                .to_owned();
            open = Some((name, i + 1, String::new()));
        } else if line.trim() == END {
            out.extend(open.take());
        } else if let Some((_, _, body)) = open.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The text with every known block regenerated (unknown names and unclosed blocks are left as
/// they are; the test reports them).
pub fn regenerate(text: &str, input_schema: &Value) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if skipping {
            if line.trim() == END {
                skipping = false;
                out.push_str(line);
            }
            continue;
        }
        out.push_str(line);
        if let Some(rest) = line.trim().strip_prefix(START) {
            let name = rest
                .split([';', ' '])
                .next()
                .unwrap_or_default()
                .trim_end_matches("-->");
            let closed = text.contains(END);
            if let (Some(body), true) = (content(name, input_schema), closed) {
                out.push_str(&body);
                skipping = true;
            }
        }
    }
    out
}

/// Every outcome, its class and what follows from it.
pub fn outcomes() -> String {
    let mut out = String::from(
        "| outcome | the execution | class (`Verdict::ending`) | needs a person (pages) | CLI \
         exit code |\n|---|---|---|---|---|\n",
    );
    for verdict in Verdict::ALL {
        let execution = if verdict.is_success() {
            "succeeds".to_owned()
        } else if verdict == Verdict::AwaitingApproval {
            "goes on (not an ending)".to_owned()
        } else {
            format!("fails with `{}`", verdict.fail_error())
        };
        let ending = serde_json::to_value(verdict.ending())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | {execution} | `{ending}` | {} | {} |\n",
            verdict.as_str(),
            if verdict.needs_person() { "yes" } else { "no" },
            Exit::of(verdict.ending()).code()
        ));
    }
    out
}

/// The CLI's exit codes, what each means and the outcomes that end with it (`Exit`).
pub fn exit_codes() -> String {
    let mut out = String::from("| exit | meaning |\n|---|---|\n");
    for exit in Exit::ALL {
        let verdicts: Vec<String> = exit.verdicts().iter().map(|v| format!("`{v}`")).collect();
        let listed = if verdicts.is_empty() {
            String::new()
        } else {
            format!(" ({})", verdicts.join(", "))
        };
        out.push_str(&format!(
            "| {} | {}{listed} |\n",
            exit.code(),
            exit.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;
    use crate::sources::repo_root;

    /// README.md and docs/*.md, by path from the repository root.
    fn docs() -> Vec<String> {
        crate::documents()
    }

    #[test]
    fn generated_blocks_match_the_code() {
        let facts = Facts::of_workspace();
        let bless = std::env::var_os("STAGEGATE_BLESS").is_some();
        assert!(
            !(bless && std::env::var_os("CI").is_some()),
            "STAGEGATE_BLESS is set under CI: the generated blocks are checked, not rewritten, \
             there"
        );
        let mut problems = Vec::new();
        for doc in docs() {
            let path = repo_root().join(&doc);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (name, line, _) in blocks(&text) {
                if content(&name, &facts.input_schema).is_none() {
                    problems.push(format!("{doc}:{line}: no generator for block `{name}`"));
                }
            }
            let fresh = regenerate(&text, &facts.input_schema);
            if fresh == text {
                continue;
            }
            if bless {
                std::fs::write(&path, fresh).unwrap_or_else(|e| panic!("{doc}: {e}"));
            } else {
                let stale: Vec<String> = blocks(&text)
                    .into_iter()
                    .zip(blocks(&fresh))
                    .filter(|(old, new)| old.2 != new.2)
                    .map(|(old, _)| format!("{doc}:{}: block `{}` is stale", old.1, old.0))
                    .collect();
                problems.extend(stale);
            }
        }
        assert!(
            problems.is_empty(),
            "{}\nrun `STAGEGATE_BLESS=1 cargo test -p stagegate-tests --test docs generated` and \
             commit the docs",
            problems.join("\n")
        );
    }

    #[test]
    fn the_docs_carry_the_generated_blocks() {
        let mut names = Vec::new();
        for doc in docs() {
            let text = std::fs::read_to_string(repo_root().join(&doc)).unwrap_or_default();
            names.extend(
                blocks(&text)
                    .into_iter()
                    .map(|(name, _, _)| (doc.clone(), name)),
            );
        }
        for (doc, name) in [
            ("docs/workflow.md", "outcomes"),
            ("docs/input.md", "input-fields"),
            ("README.md", "exit-codes"),
        ] {
            assert!(
                names.contains(&(doc.to_owned(), name.to_owned())),
                "{doc} has no generated block `{name}`: {names:?}"
            );
        }
    }

    #[test]
    fn the_outcome_table_lists_every_verdict_with_its_class() {
        let table = outcomes();
        assert_eq!(table.lines().count(), 2 + Verdict::ALL.len());
        assert!(table.contains(
            "| `ROLLED_BACK` | fails with `StageGate.ROLLED_BACK` | `ROLLED_BACK` | yes | 3 |"
        ));
        assert!(table.contains("| `UNCHANGED` | succeeds | `SUCCEEDED` | no | 0 |"));
        assert!(table.contains("| `AWAITING_APPROVAL` | goes on (not an ending) | `PENDING` |"));
    }

    #[test]
    fn the_exit_code_table_has_every_code_and_its_outcomes() {
        let table = exit_codes();
        assert_eq!(table.lines().count(), 2 + Exit::ALL.len());
        assert!(table.contains(
            "| 3 | the deployment failed and the stage was rolled back (`ROLLED_BACK`) |"
        ));
        assert!(table.contains("| 2 | the command failed: "));
    }

    #[test]
    fn a_block_is_rewritten_between_its_markers_only() {
        let schema = Value::Null;
        let text = "before\n<!-- generated: outcomes -->\nold\n<!-- end generated -->\nafter\n";
        let fresh = regenerate(text, &schema);
        assert!(fresh.starts_with("before\n<!-- generated: outcomes -->\n| outcome |"));
        assert!(fresh.ends_with("|\n<!-- end generated -->\nafter\n"));
        assert_eq!(blocks(&fresh)[0].2, outcomes());
        let unknown = "<!-- generated: nothing -->\nx\n<!-- end generated -->\n";
        assert_eq!(regenerate(unknown, &schema), unknown);
    }
}

//! What the workspace's sources name, read from the files themselves: the environment variables
//! code reads, the flags the other programs define, the core's wire names and the Rust constants.
//! A pattern scan rather than a parse: each pattern is one the codebase uses (a quoted name, a
//! match arm on arguments, serde's SCREAMING_SNAKE_CASE), and the tests below hold each to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    stagegate_tests::repo_root()
}

pub fn read(path: &str) -> String {
    let full = repo_root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Environment variable names the workspace's code reads: quoted names that look like one
/// (`"STAGEGATE_SEED"`, `os.environ["TOPIC_ARN"]`, clap's `env = "STATE_MACHINE_ARN"`), and the
/// endpoint overrides built from a service name (`endpoint::from_env("SFN")` reads
/// `AWS_ENDPOINT_URL_SFN`). The docs tier's own sources are left out: its fixtures and tests name
/// variables that do not exist.
pub fn code_env_vars(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["crates", "functions", "tests", "xtask", "infra", "bench"] {
        visit(&root.join(dir), &mut |path, text| {
            let skip = path.components().any(|c| {
                matches!(
                    c.as_os_str().to_str(),
                    Some("docs" | "docs_fixtures" | "target" | "node_modules")
                )
            }) || path.ends_with("tests/docs.rs");
            if !skip {
                scan_env_names(text, &mut out);
            }
        });
    }
    out
}

fn scan_env_names(text: &str, out: &mut BTreeSet<String>) {
    for line in text.lines() {
        for (start, quote) in line.char_indices().filter(|(_, c)| matches!(c, '"' | '\'')) {
            let rest = &line[start + 1..];
            if let Some(quoted) = rest.split(quote).next().filter(|_| rest.contains(quote)) {
                if is_env_name(quoted) {
                    out.insert(quoted.to_owned());
                }
            }
        }
    }
    // A file that reads endpoint overrides (`endpoint::from_env(service)`, or the CLI's
    // `aws::endpoint_url(option, service)`) passes the service by its name as a call's last
    // argument, directly or through a helper: `from_env("SNS")`, `pick("SQS")`,
    // `endpoint_url(option, "SFN")`.
    if text.contains("from_env(") || text.contains("endpoint_url(") {
        for call in text
            .split('"')
            .skip(1)
            .step_by(2)
            .zip(text.split('"').skip(2).step_by(2))
        {
            let (literal, after) = call;
            if after.starts_with(')')
                && literal.len() <= 12
                && is_screaming(literal)
                && !literal.contains('_')
            {
                out.insert(format!("AWS_ENDPOINT_URL_{literal}"));
            }
        }
    }
}

/// The SCREAMING string literals of the core and the handlers: the wire names of their enums
/// (a phase `BAKE`, a result code `NONE`), which the contracts' schemas do not all carry.
pub fn core_literals(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["crates/stagegate-core/src", "crates/stagegate/src"] {
        visit(&root.join(dir), &mut |_, text| {
            for literal in text.split('"').skip(1).step_by(2) {
                if is_screaming(literal) && literal.len() >= 3 {
                    out.insert(literal.to_owned());
                }
            }
        });
    }
    out
}

/// The variants of the core's enums that serde writes in SCREAMING_SNAKE_CASE (a phase `BAKE`, a
/// wave stage's `NOT_STARTED`), named as they are on the wire.
pub fn screaming_variants(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    visit(&root.join("crates/stagegate-core/src"), &mut |_, text| {
        for after in text.split("rename_all = \"SCREAMING_SNAKE_CASE\"").skip(1) {
            let Some(body) = after
                .split_once("enum ")
                .and_then(|(_, rest)| rest.split_once('{'))
                .and_then(|(_, rest)| rest.split_once("\n}"))
                .map(|(body, _)| body)
            else {
                continue;
            };
            for line in body.lines() {
                let variant: String = line
                    .strip_prefix("    ")
                    .unwrap_or_default()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                if variant
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase())
                {
                    out.insert(screaming_snake(&variant));
                }
            }
        }
    });
    out
}

fn screaming_snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Long flags the workspace's other programs define: in a match on the arguments, with argparse,
/// or clap-derived (`#[arg(long)] time_scale` is `--time-scale`).
pub fn other_flags(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["crates", "functions", "tests", "xtask", "infra", "bench"] {
        visit(&root.join(dir), &mut |path, text| {
            if path.components().any(|c| {
                matches!(
                    c.as_os_str().to_str(),
                    Some("stagegate-cli" | "docs" | "docs_fixtures")
                )
            }) || path.ends_with("tests/docs.rs")
            {
                return;
            }
            // Where a program defines its flags: a match arm (`"--seed" => ...`, `"--scenario" |
            // "--input" => ...`) or argparse's `add_argument("--time-scale", ...)`. A flag a
            // program merely passes (the demo running `stagegate run --queue-url`) is not one.
            for line in text.lines() {
                for (start, _) in line.match_indices("\"--") {
                    let rest = &line[start + 3..];
                    let Some((name, after)) = rest.split_once('"') else {
                        continue;
                    };
                    let after = after.trim_start();
                    let defined = after.starts_with("=>")
                        || after.starts_with('|')
                        || line[..start].ends_with("add_argument(");
                    if defined && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                        out.insert(name.to_owned());
                    }
                }
            }
            let mut derived = false;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[arg(") && line.contains("long") {
                    derived = true;
                } else if derived && !line.starts_with('#') && !line.starts_with("//") {
                    let field = line
                        .trim_start_matches("pub ")
                        .split(':')
                        .next()
                        .unwrap_or("");
                    out.insert(field.trim().replace('_', "-"));
                    derived = false;
                }
            }
        });
    }
    out
}

/// `const NAME` and `static NAME` in the workspace's Rust sources.
pub fn rust_constants(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["crates", "functions", "tests", "xtask"] {
        visit(&root.join(dir), &mut |path, text| {
            if path.extension().is_some_and(|e| e == "rs") {
                for keyword in ["const ", "static "] {
                    for rest in text.split(keyword).skip(1) {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if is_screaming(&name) {
                            out.insert(name);
                        }
                    }
                }
            }
        });
    }
    out
}

pub fn visit(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n == "target" || n == "node_modules")
            {
                visit(&path, f);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "rs" | "py" | "sh"))
        {
            if let Ok(text) = std::fs::read_to_string(&path) {
                f(&path, &text);
            }
        }
    }
}

/// `FOO_BAR`, `ABC`: capitals, digits and underscores, starting with a capital.
pub fn is_screaming(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A name that reads as an environment variable rather than an outcome: the prefixes and suffixes
/// this workspace's variables (and the SDK's) use.
pub fn is_env_name(word: &str) -> bool {
    is_screaming(word)
        && word.contains('_')
        && (["STAGEGATE_", "AWS_", "RUST_", "CARGO_"]
            .iter()
            .any(|p| word.starts_with(p))
            || ["_ARN", "_URL", "_FILE", "_DIR"]
                .iter()
                .any(|s| word.ends_with(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_read_from_quotes_and_endpoint_calls() {
        let mut out = BTreeSet::new();
        scan_env_names(
            "std::env::var(\"STAGEGATE_X\"); from_env(\"SQS\"); pick(\"STS\"); \"ROLLED_BACK\" \
             os.environ['TOPIC_ARN']",
            &mut out,
        );
        assert_eq!(
            out,
            [
                "AWS_ENDPOINT_URL_SQS",
                "AWS_ENDPOINT_URL_STS",
                "STAGEGATE_X",
                "TOPIC_ARN"
            ]
            .map(String::from)
            .into()
        );
        // The CLI's helper takes the service as its last argument.
        let mut cli = BTreeSet::new();
        scan_env_names(
            "crate::aws::endpoint_url(args.endpoint_url.as_deref(), \"SFN\"); \"SQS\" + x",
            &mut cli,
        );
        assert_eq!(cli, ["AWS_ENDPOINT_URL_SFN".to_owned()].into());
    }
}

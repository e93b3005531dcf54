//! What the code says, gathered for the docs tier from the sources of truth themselves: the
//! commands and flags from clap, the outcomes from `Verdict::ALL`, the services' states from the
//! SDK enums, the input and message fields from the committed schemas (held to the types by
//! `stagegate-core`'s schema test), the template's parameters, the environment variables the
//! workspace's code reads, and the figures the docs quote (cases, tiers, ports...). The checker
//! compares the docs with a `Facts`, never with a list of today's strings, so the docs cannot drift
//! without the tier noticing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde_json::Value;

pub struct Facts {
    /// Subcommand name -> its long flags; `""` holds the top level's.
    pub commands: BTreeMap<String, BTreeSet<String>>,
    /// The long flags of the workspace's other programs (xtask, the emulator, the local stack, the
    /// simulator, the test harnesses, the Python checks): a doc may show them where it does not
    /// say whose they are.
    pub other_flags: BTreeSet<String>,
    /// A flag -> the values it takes, where they are a closed set: clap's possible values, and
    /// the demo's `--scenario` names.
    pub values: BTreeMap<String, BTreeSet<String>>,
    pub env_vars: BTreeSet<String>,
    pub input_schema: Value,
    pub message_schema: Value,
    /// Every property name anywhere in the input schema, then in the message schema.
    pub input_fields: BTreeSet<String>,
    pub message_fields: BTreeSet<String>,
    pub verdicts: BTreeSet<String>,
    /// The workspace's Rust constants (`START_GUARD_SECONDS`): a doc may name one in a span.
    pub constants: BTreeSet<String>,
    /// SCREAMING names a doc may show besides outcomes: services' states, the contracts' enums,
    /// the template's allowed values, the CLI's exit classes.
    pub states: BTreeSet<String>,
    /// The template's parameters, in its order.
    pub parameters: Vec<String>,
    /// The repository, for the paths the docs name.
    pub root: PathBuf,
    /// The directories under crates/, and the repository's top-level directories (not hidden,
    /// not build output).
    pub crate_dirs: Vec<String>,
    pub top_dirs: Vec<String>,
    /// Cargo.lock's AWS crates (`aws-config`, `aws-sdk-*`, `aws-smithy-*`...) and their versions.
    pub aws_crates: BTreeMap<String, BTreeSet<String>>,
    /// A counted noun ("cases", "tiers"...) -> the figures that are true of it.
    pub counts: BTreeMap<&'static str, BTreeSet<usize>>,
}

/// Environment variables read by aws-config's default chains or by tools, not by this workspace's
/// code; the docs may name them.
pub const EXTERNAL_ENV_VARS: &[(&str, &str)] = &[
    (
        "AWS_CONFIG_FILE",
        "aws-config's profile file location (with --profile)",
    ),
    (
        "AWS_SHARED_CREDENTIALS_FILE",
        "aws-config's credentials file (with --profile)",
    ),
    (
        "SAM_CLI_BETA_RUST_CARGO_LAMBDA",
        "the SAM CLI's switch for its cargo-lambda builds",
    ),
];

pub fn repo_root() -> PathBuf {
    stagegate_tests::repo_root()
}

fn read(path: &str) -> String {
    let full = repo_root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

impl Facts {
    pub fn of_workspace() -> Self {
        let input_schema: Value =
            serde_json::from_str(&read("schemas/execution-input.schema.json")).unwrap_or_default();
        let message_schema: Value =
            serde_json::from_str(&read("schemas/message.schema.json")).unwrap_or_default();
        let template = read("infra/template.yaml");
        let (parameters, allowed) = template_parameters(&template);

        let mut states: BTreeSet<String> = BTreeSet::new();
        let sdk: [&[&str]; 5] = [
            aws_sdk_sfn::types::ExecutionStatus::values(),
            aws_sdk_gamesparks::types::DeploymentState::values(),
            aws_sdk_gamesparks::types::ResultCode::values(),
            aws_sdk_gamesparks::types::DeploymentAction::values(),
            aws_sdk_cloudwatch::types::StateValue::values(),
        ];
        states.extend(sdk.iter().flat_map(|v| v.iter()).map(|s| s.to_string()));
        states.extend(enum_values(&input_schema));
        states.extend(enum_values(&message_schema));
        states.extend(allowed);
        states.extend(core_literals(&repo_root()));
        states.extend(screaming_variants(&repo_root()));
        states.extend(
            stagegate_cli::exit::Exit::ALL
                .iter()
                .map(|e| e.as_str().to_owned()),
        );

        let mut env_vars = code_env_vars(&repo_root());
        env_vars.extend(EXTERNAL_ENV_VARS.iter().map(|(v, _)| v.to_string()));

        let mut commands = BTreeMap::new();
        let root = stagegate_cli::cli::Cli::command();
        commands.insert(String::new(), longs(&root));
        for sub in root.get_subcommands() {
            commands.insert(sub.get_name().to_owned(), longs(sub));
        }
        for flags in commands.values_mut() {
            flags.extend(["help".to_owned(), "version".to_owned()]);
        }

        Self {
            commands,
            env_vars,
            input_fields: property_names(&input_schema),
            message_fields: property_names(&message_schema),
            input_schema,
            message_schema,
            verdicts: stagegate::verdict::Verdict::ALL
                .iter()
                .map(|v| v.as_str().to_owned())
                .collect(),
            states,
            constants: rust_constants(&repo_root()),
            other_flags: other_flags(&repo_root()),
            values: values(&root),
            parameters,
            counts: counts(),
            crate_dirs: dirs(&repo_root().join("crates")),
            top_dirs: dirs(&repo_root()),
            aws_crates: aws_crates(&read("Cargo.lock")),
            root: repo_root(),
        }
    }

    /// Whether a dotted path (`policy.timeoutSeconds`, `wave.stages[i].passed`) is a field of the
    /// input (or, for the message's, of the message) from its root.
    pub fn resolves(&self, path: &str) -> bool {
        let path: Vec<&str> = path
            .split('.')
            .map(|p| p.split('[').next().unwrap_or(p))
            .collect();
        [&self.input_schema, &self.message_schema]
            .into_iter()
            .any(|schema| resolve(schema, schema, &path))
    }
}

fn values(root: &clap::Command) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for command in std::iter::once(root).chain(root.get_subcommands()) {
        for arg in command.get_arguments() {
            let takes_value = !matches!(
                arg.get_action(),
                clap::ArgAction::SetTrue | clap::ArgAction::SetFalse | clap::ArgAction::Count
            );
            let possible = arg.get_possible_values();
            if let (Some(long), true, false) = (arg.get_long(), takes_value, possible.is_empty()) {
                out.entry(long.to_owned())
                    .or_default()
                    .extend(possible.iter().map(|v| v.get_name().to_owned()));
            }
        }
    }
    // `cargo xtask demo --scenario NAME`: the names in its SCENARIOS.
    let demo = read("xtask/src/demo.rs");
    let scenarios = demo
        .split("const SCENARIOS")
        .nth(1)
        .and_then(|rest| rest.split("\n];").next())
        .unwrap_or_default();
    let names = scenarios
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name: \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned);
    out.entry("scenario".to_owned()).or_default().extend(names);
    out
}

fn dirs(path: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(path)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') && n != "target" && n != "node_modules")
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// `name = "aws-..."` and its `version = "..."` in Cargo.lock.
pub fn aws_crates(lock: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = \"") {
            name = Some(n.trim_end_matches('"').to_owned()).filter(|n| n.starts_with("aws-"));
        } else if let (Some(n), Some(v)) = (name.take(), line.strip_prefix("version = \"")) {
            out.entry(n)
                .or_default()
                .insert(v.trim_end_matches('"').to_owned());
        }
    }
    out
}

fn longs(command: &clap::Command) -> BTreeSet<String> {
    command
        .get_arguments()
        .filter_map(|a| a.get_long())
        .map(str::to_owned)
        .collect()
}

/// Follows `properties`, `items`, `$ref`, `anyOf`/`oneOf`/`allOf` down a path.
fn resolve(root: &Value, node: &Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    if let Some(target) = node.get("$ref").and_then(Value::as_str) {
        let pointer = target.trim_start_matches('#');
        return root
            .pointer(pointer)
            .is_some_and(|n| resolve(root, n, path));
    }
    if let Some(next) = node.get("properties").and_then(|p| p.get(*first)) {
        if resolve(root, next, rest) {
            return true;
        }
    }
    let nested = ["items", "additionalProperties"]
        .iter()
        .filter_map(|k| node.get(*k))
        .chain(
            ["anyOf", "oneOf", "allOf", "prefixItems"]
                .iter()
                .filter_map(|k| node.get(*k).and_then(Value::as_array))
                .flatten(),
        );
    nested
        .filter(|n| n.is_object())
        .any(|n| resolve(root, n, path))
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn walk(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(schema, &mut out);
    out
}

fn enum_values(schema: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn walk(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("enum", Value::Array(items)) => {
                            out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                        }
                        ("const" | "default", Value::String(s)) => {
                            out.insert(s.clone());
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(schema, &mut out);
    out
}

/// The names under `Parameters:` (two spaces in) and every `AllowedValues` entry. The template is
/// CloudFormation YAML with tags serde cannot read without a YAML library; its `Parameters`
/// section is plain.
pub fn template_parameters(template: &str) -> (Vec<String>, BTreeSet<String>) {
    let mut names = Vec::new();
    let mut allowed = BTreeSet::new();
    let mut inside = false;
    let mut in_allowed = false;
    for line in template.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
            inside = line.trim_end() == "Parameters:";
            continue;
        }
        if !inside {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 2 && trimmed.ends_with(':') && !trimmed.starts_with('#') {
            names.push(trimmed.trim_end_matches(':').to_owned());
            in_allowed = false;
        } else if let Some(rest) = trimmed.strip_prefix("AllowedValues:") {
            let rest = rest.trim();
            in_allowed = rest.is_empty();
            allowed.extend(
                rest.trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|v| v.trim().trim_matches('"').to_owned())
                    .filter(|v| !v.is_empty()),
            );
        } else if let (true, Some(item)) = (in_allowed, trimmed.strip_prefix("- ")) {
            allowed.insert(item.trim().trim_matches('"').to_owned());
        } else if indent <= 4 {
            in_allowed = false;
        }
    }
    (names, allowed)
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

/// The SCREAMING string literals of the core and the handlers: the wire names of their enums
/// (a phase `BAKE`, a result code `NONE`), which the contracts' schemas do not all carry.
fn core_literals(root: &Path) -> BTreeSet<String> {
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
fn screaming_variants(root: &Path) -> BTreeSet<String> {
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
fn other_flags(root: &Path) -> BTreeSet<String> {
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
fn rust_constants(root: &Path) -> BTreeSet<String> {
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
    // A file that reads endpoint overrides (`endpoint::from_env(service)`) passes the service by
    // its name, directly or through a helper: `from_env("SNS")`, `pick("SQS")`.
    if text.contains("from_env(") {
        for call in text.split("(\"").skip(1) {
            if let Some(service) = call
                .split_once("\")")
                .map(|(name, _)| name)
                .filter(|s| s.len() <= 12 && is_screaming(s) && !s.contains('_'))
            {
                out.insert(format!("AWS_ENDPOINT_URL_{service}"));
            }
        }
    }
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
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

/// The figures a doc may quote, each counted from its source.
fn counts() -> BTreeMap<&'static str, BTreeSet<usize>> {
    let mut out: BTreeMap<&'static str, BTreeSet<usize>> = BTreeMap::new();
    let mut put = |noun: &'static str, n: usize| {
        out.entry(noun).or_default().insert(n);
    };
    // The e2e tier's cases: one `Case::new` each in the harness's list.
    put("cases", read("tests/e2e.rs").matches("Case::new(").count());
    // The test command's tiers.
    let xtask = read("xtask/src/main.rs");
    let tiers = xtask
        .split("const TIERS")
        .nth(1)
        .and_then(|rest| rest.split("\n];").next())
        .unwrap_or_default();
    put("tiers", tiers.matches("Tier {").count());
    // The handlers' ports.
    put(
        "ports",
        read("crates/stagegate/src/ports.rs")
            .matches("pub trait ")
            .count(),
    );
    put("outcomes", stagegate::verdict::Verdict::ALL.len());
    put("verdicts", stagegate::verdict::Verdict::ALL.len());
    put("error types", stagegate::errortype::ALL.len());
    // The demo's scenarios: those it runs by default, and all `--scenario` accepts.
    let demo = read("xtask/src/demo.rs");
    put("scenarios", demo.matches("by_default: true").count());
    put("scenarios", demo.matches("    Scenario {").count());
    // The Lambda functions: one crate each under functions/.
    let functions = std::fs::read_dir(repo_root().join("functions"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join("Cargo.toml").is_file())
                .count()
        })
        .unwrap_or_default();
    put("functions", functions);
    // The ways least_privilege_test.py breaks the template: one tuple per mutation, each opening
    // with its description at four spaces in.
    let mutations = read("infra/least_privilege_test.py");
    let list = mutations
        .split("\nMUTATIONS = [")
        .nth(1)
        .and_then(|rest| rest.split("\n]").next())
        .unwrap_or_default();
    let n = list.lines().filter(|l| l.starts_with("    (\"")).count();
    put("mutations", n);
    put("ways", n);
    // The checks checkov is told to skip, each with its reason, in the template.
    put(
        "checkov skips",
        read("infra/template.yaml").matches("- id: CKV_").count(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_come_from_the_code() {
        let facts = Facts::of_workspace();
        assert!(facts.commands["run"].contains("dry-run"));
        assert!(facts.commands["status"].contains("game"));
        assert!(!facts.commands["approve"].contains("dry-run"));
        assert!(facts.env_vars.contains("STATE_MACHINE_ARN"));
        assert!(
            facts.env_vars.contains("AWS_ENDPOINT_URL_SFN"),
            "from from_env(\"SFN\")"
        );
        assert!(facts.env_vars.contains("STAGEGATE_FREEZE_WINDOWS"));
        assert!(facts.input_fields.contains("timeoutGraceSeconds"));
        assert!(facts.resolves("policy.timeoutSeconds"));
        assert!(facts.resolves("bake.alarmNames"));
        assert!(!facts.resolves("policy.alarmNames"));
        assert!(
            facts.verdicts.contains("ROLLED_BACK")
                && facts.verdicts.len() == stagegate::verdict::Verdict::ALL.len()
        );
        assert!(facts.states.contains("INVALID_ROLE_FAILURE") && facts.states.contains("ALARM"));
        assert!(facts.parameters.contains(&"FreezeWindows".to_owned()));
        assert!(facts.parameters.contains(&"GameName".to_owned()));
        assert!(facts.states.contains("BAKE") && facts.states.contains("NOT_STARTED"));
        assert!(facts.other_flags.contains("scenario"), "xtask demo's");
        assert!(facts.other_flags.contains("time-scale"), "the emulator's");
        assert!(!facts.other_flags.contains("dry-run"), "stagegate's own");
        assert!(facts.other_flags.contains("seed"), "the simulator's");
        let scenarios = &facts.values["scenario"];
        assert!(
            scenarios.contains("success") && scenarios.contains("abort"),
            "{scenarios:?}"
        );
        assert!(
            !facts.other_flags.contains("queue-url"),
            "the demo passes it to stagegate; it is not the demo's"
        );
        assert!(facts.crate_dirs.contains(&"stagegate-core".to_owned()));
        assert!(facts.top_dirs.contains(&"crates".to_owned()));
        assert!(!facts.top_dirs.contains(&"target".to_owned()));
        assert!(facts.aws_crates["aws-sdk-gamesparks"].contains("0.33.0"));
        for noun in [
            "cases",
            "tiers",
            "ports",
            "functions",
            "mutations",
            "scenarios",
        ] {
            let figures = &facts.counts[noun];
            assert!(figures.iter().all(|&n| n > 1), "{noun}: {figures:?}");
        }
    }

    #[test]
    fn template_parameters_and_allowed_values_are_read() {
        let template = "Parameters:\n  A:\n    Type: String\n    AllowedValues: [X, Y]\n  B:\n    \
                        AllowedValues:\n      - Z\n    Default: Z\nResources:\n  C:\n    Type: x\n";
        let (names, allowed) = template_parameters(template);
        assert_eq!(names, ["A", "B"]);
        assert_eq!(allowed, ["X", "Y", "Z"].map(String::from).into());
    }

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
    }
}

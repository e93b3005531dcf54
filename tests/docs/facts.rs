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

use crate::figures::counts;
use crate::manifests::{aws_crates, template_parameters};
use crate::sources::{
    code_env_vars, core_literals, other_flags, read, repo_root, rust_constants, screaming_variants,
};

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
            // `stagegate audit verify --game`: a nested subcommand's options count as its
            // parent's (the checker reads `stagegate <command>` and the flags that follow).
            let mut flags = longs(sub);
            for nested in sub.get_subcommands() {
                flags.extend(longs(nested));
            }
            commands.insert(sub.get_name().to_owned(), flags);
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

fn longs(command: &clap::Command) -> BTreeSet<String> {
    command
        .get_arguments()
        // A visible alias (`--execution-arn` for `--execution`) is a flag a reader may use.
        .filter_map(|a| a.get_long_and_visible_aliases())
        .flatten()
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
}

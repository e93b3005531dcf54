//! What the template and the lock declare: infra/template.yaml's parameters and allowed values,
//! and the AWS crates Cargo.lock resolves. Neither file is read with a full parser (the template
//! is CloudFormation YAML with tags, the lock TOML): the sections read here are plain.

use std::collections::{BTreeMap, BTreeSet};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parameters_and_allowed_values_are_read() {
        let template = "Parameters:\n  A:\n    Type: String\n    AllowedValues: [X, Y]\n  B:\n    \
                        AllowedValues:\n      - Z\n    Default: Z\nResources:\n  C:\n    Type: x\n";
        let (names, allowed) = template_parameters(template);
        assert_eq!(names, ["A", "B"]);
        assert_eq!(allowed, ["X", "Y", "Z"].map(String::from).into());
    }
}

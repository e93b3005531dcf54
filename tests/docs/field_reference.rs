//! The input field reference (the `input-fields` block of docs/input.md): a row per field of the
//! execution input, nested fields by path, with its type, whether it is required, its default,
//! its rule and its meaning, all read from the committed input schema, so a field added to the
//! parser reaches the docs when the block is regenerated.

use serde_json::Value;

/// A row per field of the execution input, nested fields by path.
pub fn input_fields(schema: &Value) -> String {
    let mut rows: Vec<[String; 6]> = Vec::new();
    fields(schema, schema, "", &mut rows);
    let mut seen = std::collections::BTreeSet::new();
    rows.retain(|row| seen.insert(row[0].clone()));
    let mut out = String::from(
        "| field | type | required | default | rule | meaning |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

fn deref<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(target) => root
            .pointer(target.trim_start_matches('#'))
            .map_or(node, |n| deref(root, n)),
        None => node,
    }
}

/// A node's alternatives (`anyOf`/`oneOf`), `$ref`s followed and `null` left out.
fn variants<'a>(root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    let node = deref(root, node);
    if node.get("properties").is_some() {
        // An object's own `anyOf` says which members it requires, not what it is.
        return vec![node];
    }
    let list = node
        .get("anyOf")
        .or(node.get("oneOf"))
        .and_then(Value::as_array);
    match list {
        Some(items) => items
            .iter()
            .flat_map(|v| variants(root, v))
            .filter(|v| v.get("type").and_then(Value::as_str) != Some("null"))
            .collect(),
        None => vec![node],
    }
}

fn fields(root: &Value, node: &Value, prefix: &str, rows: &mut Vec<[String; 6]>) {
    for object in variants(root, node) {
        let Some(props) = object.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, prop) in props {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let alternatives = variants(root, prop);
            let description = [prop]
                .into_iter()
                .chain(alternatives.iter().copied())
                .find_map(|v| v.get("description").and_then(Value::as_str))
                .unwrap_or_default();
            let default = prop
                .get("default")
                .filter(|d| !d.is_null())
                .map(|d| format!("`{d}`"))
                .unwrap_or_default();
            rows.push([
                format!("`{path}`"),
                alternatives
                    .iter()
                    .map(|v| kind(root, v))
                    .collect::<Vec<_>>()
                    .join(" or "),
                if required.contains(&name.as_str()) {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
                default,
                alternatives
                    .iter()
                    .map(|v| rule(root, v))
                    .filter(|r| !r.is_empty())
                    .collect::<Vec<_>>()
                    .join("; or "),
                cell(description),
            ]);
            fields(root, prop, &path, rows);
            for variant in &alternatives {
                if let Some(items) = variant.get("items") {
                    fields(root, items, &format!("{path}[]"), rows);
                }
            }
        }
    }
}

fn types(node: &Value) -> Vec<&str> {
    match node.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn kind(root: &Value, node: &Value) -> String {
    if let Some(c) = node.get("const") {
        return format!("`{c}`");
    }
    let base = types(node).join(" or ");
    match node.get("items") {
        Some(items) if base == "array" => {
            let mut inner: Vec<String> = Vec::new();
            for variant in variants(root, items) {
                let name = kind(root, variant);
                if !inner.contains(&name) {
                    inner.push(name);
                }
            }
            format!("array of {}", inner.join(" or "))
        }
        _ => base,
    }
}

fn rule(root: &Value, node: &Value) -> String {
    let number = |k: &str| node.get(k).and_then(Value::as_i64);
    let mut parts = Vec::new();
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        parts.push(format!("one of {}", names.join(", ")));
    }
    match (number("minimum"), number("maximum")) {
        (Some(a), Some(b)) => parts.push(format!("{a}-{b}")),
        (Some(a), None) => parts.push(format!("at least {a}")),
        (None, Some(b)) => parts.push(format!("at most {b}")),
        _ => {}
    }
    match (number("minLength"), number("maxLength")) {
        (Some(a), Some(b)) => parts.push(format!("{a}-{b} characters")),
        (None, Some(b)) => parts.push(format!("at most {b} characters")),
        (Some(a), None) if a > 0 => parts.push(format!("at least {a} characters")),
        _ => {}
    }
    if let Some(pattern) = node.get("pattern").and_then(Value::as_str) {
        parts.push(format!("``{}``", cell(pattern)));
    }
    match (number("minItems"), number("maxItems")) {
        (Some(a), Some(b)) => parts.push(format!("{a}-{b} items")),
        (None, Some(b)) => parts.push(format!("at most {b} items")),
        (Some(a), None) => parts.push(format!("at least {a} items")),
        _ => {}
    }
    if node.get("uniqueItems") == Some(&Value::Bool(true)) {
        parts.push("distinct".to_owned());
    }
    if let Some(items) = node.get("items") {
        let inner: Vec<String> = variants(root, items)
            .iter()
            .filter(|v| v.get("properties").is_none())
            .map(|v| rule(root, v))
            .filter(|r| !r.is_empty())
            .collect();
        if !inner.is_empty() {
            parts.push(format!("each: {}", inner.join("; or ")));
        }
    }
    parts.join(", ")
}

/// One table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;

    #[test]
    fn the_field_reference_has_every_field_and_its_rules() {
        let facts = Facts::of_workspace();
        let table = input_fields(&facts.input_schema);
        for field in &facts.input_fields {
            assert!(table.contains(&format!("{field}`")), "{field}");
        }
        assert!(table.contains("| `gameName` | string | yes |  | 1-36 characters"));
        assert!(
            table.contains("| `policy.timeoutSeconds` | integer | no | `1800` | 60-7200 |"),
            "{table}"
        );
        assert!(table.contains("| `bake.alarmNames` | array of string | yes |"));
        assert!(table.contains("| `stages[].stageName` | string | yes |"));
    }
}

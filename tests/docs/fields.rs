//! Input fields in the docs against the schema, and JSON examples against the parser: a field path
//! from the input's (or the message's) root must resolve, a lone camelCase name in a section about
//! the input must be a field, and an example execution input must pass the gate's own parser.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::markdown::{self, Line};
use crate::mismatch::{Checker, Kind};

/// `policy.timeoutSeconds`, `wave.stages[i].passed`, `timeoutGraceSeconds`: a span that is one
/// field name or path.
fn field_path(span: &str) -> Option<&str> {
    let ok = span.split('.').all(|segment| {
        let name = segment.split('[').next().unwrap_or_default();
        name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
    });
    (ok && (span.contains('.') || span.chars().any(|c| c.is_ascii_uppercase()))).then_some(span)
}

fn top_level(schema: &Value) -> BTreeSet<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

pub fn fields(c: &mut Checker, lines: &[Line]) {
    let input_top = top_level(&c.facts.input_schema);
    let message_top = top_level(&c.facts.message_schema);
    // The headings above a line, by level: a section about the input names input fields alone
    // (`timeoutGraceSeconds`); elsewhere a lone camelCase name may be anything's (an API
    // parameter, a gate state member), and only paths from the input's root are checked.
    let mut headings: Vec<(usize, String)> = Vec::new();
    for line in lines {
        if line.block.is_none() && !line.fence && line.text.starts_with('#') {
            let level = line.text.chars().take_while(|c| *c == '#').count();
            headings.retain(|(l, _)| *l < level);
            headings.push((level, line.text.to_lowercase()));
        }
        let about_input = headings.iter().any(|(_, h)| h.contains("input"));
        for span in line.spans() {
            let Some(path) = field_path(&span) else {
                continue;
            };
            let file = ["rs", "md", "json", "py", "sh", "yaml", "toml", "txt"]
                .iter()
                .any(|ext| path.ends_with(&format!(".{ext}")));
            if file || (!path.contains('.') && !about_input) {
                continue;
            }
            let path = path.strip_prefix("input.").unwrap_or(path);
            let first = path.split(['.', '[']).next().unwrap_or_default();
            let known = if path.contains('.') {
                // A path is checked when it starts at the input's or the message's root.
                !(input_top.contains(first) || message_top.contains(first))
                    || c.facts.resolves(path)
            } else {
                c.facts.input_fields.contains(path) || c.facts.message_fields.contains(path)
            };
            if !known {
                c.report(
                    line.number,
                    Kind::UnknownInputField,
                    format!(
                        "`{path}`: not a field of the execution input (schemas/\
                         execution-input.schema.json) or of the message"
                    ),
                );
            }
        }
    }
}

/// JSON examples: one that is an execution input must pass the gate's own parser (what
/// `stagegate validate` runs); a fragment (`"freezeWindows": [...]`) must use only input fields.
pub fn json_examples(c: &mut Checker, lines: &[Line]) {
    let input_top = top_level(&c.facts.input_schema);
    for (info, first_line, text) in markdown::blocks(lines) {
        if !(info == "json" || (info.is_empty() && text.trim_start().starts_with('{'))) {
            continue;
        }
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(first_line, |i| first_line + i)
        };
        // One value, several one after another, or a fragment of an object's members.
        let stream: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .collect();
        let (values, fragment) = match stream {
            Ok(values) => (values, false),
            Err(e) => match serde_json::from_str::<Value>(&format!("{{{text}}}")) {
                Ok(v) => (vec![v], true),
                Err(_) if text.contains("\"gameName\"") => {
                    c.report(
                        first_line,
                        Kind::InvalidInputExample,
                        format!("an execution input that is not JSON: {e}"),
                    );
                    continue;
                }
                Err(_) => continue,
            },
        };
        for value in &values {
            let Ok(one) = serde_json::to_string(value) else {
                continue;
            };
            json_value(c, value, &one, fragment, &line_of, first_line, &input_top);
        }
    }
}

fn json_value(
    c: &mut Checker,
    value: &Value,
    text: &str,
    fragment: bool,
    line_of: &dyn Fn(&str) -> usize,
    first_line: usize,
    input_top: &BTreeSet<String>,
) {
    {
        let Some(object) = value.as_object() else {
            return;
        };
        let unknown_top: Vec<&String> = object.keys().filter(|k| !input_top.contains(*k)).collect();
        if fragment {
            let mut keys = BTreeSet::new();
            collect_keys(value, &mut keys);
            for key in keys.iter().filter(|k| !c.facts.input_fields.contains(*k)) {
                c.report(
                    line_of(&format!("\"{key}\"")),
                    Kind::UnknownInputField,
                    format!("\"{key}\": not a field of the execution input"),
                );
            }
        } else if object.contains_key("gameName") && unknown_top.len() < 3 {
            // A typo gives one or two unknown members; a gate state or a message has many.
            if let Err(e) = stagegate_cli::validate::check(text) {
                let at = unknown_top
                    .first()
                    .map_or(first_line, |k| line_of(&format!("\"{k}\"")));
                c.report(
                    at,
                    Kind::InvalidInputExample,
                    format!("the gate's parser rejects this input: {e}"),
                );
            }
        }
    }
}

fn collect_keys(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                collect_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_keys(v, out)),
        _ => {}
    }
}

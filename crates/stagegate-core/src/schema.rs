//! The JSON Schemas of the wire contracts, generated from the types rather than kept by hand:
//! the execution input (what starts a run), the message (what every run publishes), the
//! decision log (what a run decided, on which evidence, carried in its state), the decision
//! record (what a run leaves in the records bucket), and a fleet's input, progress and summary.
//! They are committed under `schemas/` for people and tools outside Rust; the test below regenerates them
//! and fails on any difference (`STAGEGATE_BLESS=1` rewrites them after an intended change, and
//! is refused where `CI` is set).

use schemars::Schema;

/// `schemas/execution-input.schema.json`
pub fn execution_input() -> Schema {
    crate::input::schema()
}

/// `schemas/message.schema.json`: closed, every object lists all it may hold, so a subscriber
/// validating against it learns of a new member from the schema's diff, not from production.
pub fn message() -> Schema {
    let mut schema = schemars::schema_for!(crate::message::Message);
    if let Some(root) = schema.as_object_mut() {
        root.values_mut().for_each(close_objects);
        if root.contains_key("properties") {
            root.insert("additionalProperties".into(), false.into());
        }
    }
    schema
}

/// `schemas/decision-log.schema.json`: the decision log a gate state carries (`decisions`), what
/// `stagegate explain` and `stagegate replay` read (and the stored record keeps, in its state).
pub fn decision_log() -> Schema {
    schemars::schema_for!(crate::evidence::DecisionLog)
}

/// `schemas/decision-record.schema.json`: what notify-result stores per run (docs/audit.md),
/// closed like the message it embeds; only `state`, the gate state as it was, is open.
pub fn decision_record() -> Schema {
    let mut schema = schemars::schema_for!(crate::record::DecisionRecord);
    if let Some(root) = schema.as_object_mut() {
        root.values_mut().for_each(close_objects);
        root.insert("additionalProperties".into(), false.into());
    }
    schema
}

/// `schemas/fleet-input.schema.json`: what starts a fleet run (docs/fleet.md); each game is an
/// execution input.
pub fn fleet_input() -> Schema {
    schemars::schema_for!(crate::fleet::FleetInput)
}

/// `schemas/fleet-summary.schema.json`: the message a fleet run ends with, closed like the gate's.
pub fn fleet_summary() -> Schema {
    let mut schema = schemars::schema_for!(crate::fleet_summary::FleetSummary);
    if let Some(root) = schema.as_object_mut() {
        root.values_mut().for_each(close_objects);
        root.insert("additionalProperties".into(), false.into());
    }
    schema
}

/// `schemas/fleet-progress.schema.json`: a fleet run's counts between batches, in its state and
/// in `fleets/<execution>/progress.json` (what `stagegate fleet status` reads).
pub fn fleet_progress() -> Schema {
    schemars::schema_for!(crate::fleet_run::FleetProgress)
}

/// `additionalProperties: false` on every object schema with `properties` that says nothing of
/// other members (the message types are plain structs, so their fields are all there is).
fn close_objects(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), false.into());
            }
            map.values_mut().for_each(close_objects);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn check(file: &str, schema: &Schema) -> Result<(), String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas")
            .join(file);
        let generated = serde_json::to_string_pretty(schema).map_err(|e| e.to_string())? + "\n";
        if std::env::var_os("STAGEGATE_BLESS").is_some() {
            // CI checks what is committed: a bless there would rewrite the file and pass.
            if std::env::var_os("CI").is_some() {
                return Err(format!(
                    "STAGEGATE_BLESS is set under CI: schemas/{file} is checked, not rewritten, \
                     there"
                ));
            }
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
                .map_err(|e| e.to_string())?;
            return std::fs::write(&path, generated).map_err(|e| e.to_string());
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == generated {
            Ok(())
        } else {
            Err(format!(
                "schemas/{file} differs from the types: run `STAGEGATE_BLESS=1 cargo test -p \
                 stagegate-core --features schema schema` and commit it"
            ))
        }
    }

    #[test]
    fn committed_schemas_match_the_types() {
        let results = [
            check("execution-input.schema.json", &execution_input()),
            check("message.schema.json", &message()),
            check("decision-log.schema.json", &decision_log()),
            check("decision-record.schema.json", &decision_record()),
            check("fleet-input.schema.json", &fleet_input()),
            check("fleet-summary.schema.json", &fleet_summary()),
            check("fleet-progress.schema.json", &fleet_progress()),
        ];
        let problems: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn the_schemas_describe_what_the_gate_reads_and_writes() {
        let input = serde_json::to_value(execution_input()).unwrap_or_default();
        let required = input["required"].as_array().cloned().unwrap_or_default();
        assert!(required.contains(&"gameName".into()) && required.contains(&"snapshotId".into()));
        assert_eq!(
            input["additionalProperties"], false,
            "unknown fields are rejected"
        );
        let message = serde_json::to_value(message()).unwrap_or_default();
        for field in [
            "outcome",
            "summary",
            "gate",
            "deployment",
            "bakeWindow",
            "wave",
            "plan",
        ] {
            assert!(message["properties"][field].is_object(), "message.{field}");
        }
    }
}

//! Field rules taken from the GameSparks API model (botocore 1.31.0's `gamesparks/2021-08-17/service-2.json`).
//!
//! Validating here, before any call, turns a typo in an execution input into an error that names
//! the field and the rule, instead of a ValidationException from the service halfway through a run.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A rejected input: which field, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    pub field: String,
    pub rule: String,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.rule)
    }
}

impl std::error::Error for InvalidInput {}

/// `GameName` and `StageName`: at most this many characters (and at least one).
pub const NAME_MAX_CHARS: usize = 36;
/// ... matching this pattern (also written into the JSON Schema as it is).
pub const NAME_PATTERN: &str = "^[a-zA-Z0-9_-]+$";
/// `SnapshotId`: the model's pattern with `\d` written `[0-9]`, which is what the model's (Java)
/// `\d` means, and what every JSON Schema validator reads the same way (Rust's `regex` reads
/// `\d` as any Unicode digit). Its fixed parts and 3-6 fraction digits make it 33-36 characters.
pub const SNAPSHOT_PATTERN: &str =
    "^Snapshot_[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3,6}Z$";
pub const SNAPSHOT_MIN_CHARS: usize = 33;
pub const SNAPSHOT_MAX_CHARS: usize = 36;
/// A string without control characters (Unicode Cc, which `char::is_control` tests).
pub const NO_CONTROL_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Shape `GameName` and `StageName`: 1-36 characters, `^[a-zA-Z0-9_-]+$`.
pub fn resource_name(field: &str, value: &str) -> Result<(), InvalidInput> {
    length(field, value, 1, NAME_MAX_CHARS)?;
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!(
                "must match ^[a-zA-Z0-9_-]+$ (ASCII letters, digits, '_' and '-'), got {}",
                quoted(value)
            ),
        ))
    }
}

/// Shape `SnapshotId`: 33-36 characters,
/// `^Snapshot_\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,6}Z$`.
pub fn snapshot_id(field: &str, value: &str) -> Result<(), InvalidInput> {
    length(field, value, SNAPSHOT_MIN_CHARS, SNAPSHOT_MAX_CHARS)?;
    if matches_snapshot_pattern(value) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!(
                "must match ^Snapshot_\\d{{4}}-\\d{{2}}-\\d{{2}}T\\d{{2}}:\\d{{2}}:\\d{{2}}\\.\\d{{3,6}}Z$ \
                 (e.g. Snapshot_2023-01-31T12:00:00.000Z), got {}",
                quoted(value)
            ),
        ))
    }
}

/// Shape `DeploymentId`: 1-128 characters, `^\S(.*\S)?$`.
pub fn deployment_id(field: &str, value: &str) -> Result<(), InvalidInput> {
    length(field, value, 1, 128)?;
    let first = value.chars().next();
    let last = value.chars().last();
    if first.is_some_and(char::is_whitespace)
        || last.is_some_and(char::is_whitespace)
        || value.chars().any(|c| c == '\n' || c == '\r')
    {
        return Err(InvalidInput::new(
            field,
            "must match ^\\S(.*\\S)?$ (no leading or trailing whitespace, one line)",
        ));
    }
    Ok(())
}

/// Shape `ClientToken`: 33-126 characters.
pub fn client_token(field: &str, value: &str) -> Result<(), InvalidInput> {
    length(field, value, 33, 126)
}

/// Lengths in the model count characters, not bytes.
pub fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), InvalidInput> {
    let n = value.chars().count();
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!("must be {min}-{max} characters long, got {n}"),
        ))
    }
}

fn matches_snapshot_pattern(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("Snapshot_") else {
        return false;
    };
    let Some(rest) = rest.strip_suffix('Z') else {
        return false;
    };
    // `\d` in the model's (Java) regex is ASCII [0-9].
    let template = b"dddd-dd-ddTdd:dd:dd.";
    let bytes = rest.as_bytes();
    if bytes.len() < template.len() {
        return false;
    }
    let (head, fraction) = bytes.split_at(template.len());
    let head_ok = head.iter().zip(template).all(|(b, t)| match t {
        b'd' => b.is_ascii_digit(),
        _ => b == t,
    });
    head_ok && (3..=6).contains(&fraction.len()) && fraction.iter().all(u8::is_ascii_digit)
}

/// Shows a rejected value without letting a huge or control-laden value flood the error.
pub fn quoted(value: &str) -> String {
    let shown: String = value
        .chars()
        .take(64)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().count() > 64 {
        format!("\"{shown}...\"")
    } else {
        format!("\"{shown}\"")
    }
}

/// What kind of JSON value was given where another was expected, for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserialises `value`, turning serde's error into one that names the offending field by its
/// full path (`input.policy.onTimeout`).
pub fn from_value<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, InvalidInput> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        // serde reports a missing field at its parent's path; name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let at = if path == "." {
            prefix.trim_end_matches('.').to_owned()
        } else {
            format!("{prefix}{path}")
        };
        let field = match missing {
            Some(name) if at.is_empty() => name.to_owned(),
            Some(name) => format!("{at}.{name}"),
            None => at,
        };
        let field = if field.is_empty() {
            "(input)".to_owned()
        } else {
            field
        };
        InvalidInput::new(field, suggest(&message))
    })
}

/// serde's "unknown field `polcy`, expected one of `gameName`, ..." (or "unknown variant")
/// with the nearest known name offered: a one-letter slip should not need reading the list.
fn suggest(message: &str) -> String {
    let Some((lead, rest)) = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|lead| message.strip_prefix(lead).map(|rest| (*lead, rest)))
    else {
        return message.to_owned();
    };
    let Some((given, known)) = rest.split_once('`') else {
        return message.to_owned();
    };
    // The known names are every other piece between backticks.
    let nearest = known
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|name| {
            (
                edit_distance(&given.to_lowercase(), &name.to_lowercase()),
                name,
            )
        })
        .filter(|(d, _)| *d <= (given.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d);
    match nearest {
        Some((_, name)) => format!("{lead}{given}` (did you mean `{name}`?){known}"),
        None => message.to_owned(),
    }
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_name_bounds_and_pattern() {
        let cases: &[(&str, bool)] = &[
            ("", false),
            ("a", true),
            (&"a".repeat(36), true),
            (&"a".repeat(37), false),
            ("space-raiders_2", true),
            ("Prod", true),
            ("has space", false),
            ("dot.name", false),
            ("slash/name", false),
            ("naïve", false),
            ("tab\t", false),
            ("\"quote", false),
        ];
        for (value, ok) in cases {
            assert_eq!(
                resource_name("gameName", value).is_ok(),
                *ok,
                "value {value:?}"
            );
        }
    }

    #[test]
    fn resource_name_error_names_field_and_rule() {
        let err = resource_name("stageName", "bad name").unwrap_err();
        assert_eq!(err.field, "stageName");
        assert!(err.rule.contains("^[a-zA-Z0-9_-]+$"), "{}", err.rule);
        let err = resource_name("gameName", &"x".repeat(40)).unwrap_err();
        assert_eq!(err.rule, "must be 1-36 characters long, got 40");
    }

    #[test]
    fn snapshot_id_bounds_and_pattern() {
        let cases: &[(&str, bool)] = &[
            ("Snapshot_2023-01-31T12:00:00.000Z", true), // 33, lower bound
            ("Snapshot_2023-01-31T12:00:00.000000Z", true), // 36, upper bound
            ("Snapshot_2023-01-31T12:00:00.0000000Z", false), // 37
            ("Snapshot_2023-01-31T12:00:00.00Z", false), // 32
            ("Snapshot_2023-01-31T12:00:00.0000Z", true),
            ("snapshot_2023-01-31T12:00:00.000Z", false),
            ("Snapshot_2023-01-31 12:00:00.000Z", false),
            ("Snapshot_2023-01-31T12:00:00,000Z", false),
            ("Snapshot_2023-01-31T12:00:00.000X", false),
            ("Snapshot_2023-01-3aT12:00:00.000Z", false),
            ("Snapshot_2023-01-31T12:00:00.00aZ", false),
            ("Snapshot_２023-01-31T12:00:00.000Z", false),
            ("latest", false),
            ("", false),
        ];
        for (value, ok) in cases {
            assert_eq!(
                snapshot_id("snapshotId", value).is_ok(),
                *ok,
                "value {value:?}"
            );
        }
    }

    #[test]
    fn deployment_id_rules() {
        assert!(deployment_id("deploymentId", "dep-1").is_ok());
        assert!(deployment_id("deploymentId", "a b").is_ok());
        assert!(deployment_id("deploymentId", &"d".repeat(128)).is_ok());
        assert!(deployment_id("deploymentId", &"d".repeat(129)).is_err());
        assert!(deployment_id("deploymentId", "").is_err());
        assert!(deployment_id("deploymentId", " dep").is_err());
        assert!(deployment_id("deploymentId", "dep ").is_err());
        assert!(deployment_id("deploymentId", "de\np").is_err());
    }

    #[test]
    fn client_token_bounds() {
        assert!(client_token("clientToken", &"t".repeat(32)).is_err());
        assert!(client_token("clientToken", &"t".repeat(33)).is_ok());
        assert!(client_token("clientToken", &"t".repeat(126)).is_ok());
        assert!(client_token("clientToken", &"t".repeat(127)).is_err());
    }

    #[test]
    fn an_unknown_name_is_answered_with_the_nearest_known_one() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Input {
            policy: Option<u8>,
            snapshot_id: Option<u8>,
            on: Option<Mode>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Mode {
            Alert,
            Rollback,
        }
        let rule = |v: Value| {
            from_value::<Input>(&v, "input.")
                .err()
                .map(|e| (e.field, e.rule))
                .unwrap_or_default()
        };
        let (field, text) = rule(serde_json::json!({"polcy": 1}));
        assert_eq!(field, "input.polcy");
        assert!(
            text.starts_with("unknown field `polcy` (did you mean `policy`?), expected one of"),
            "{text}"
        );
        let (_, text) = rule(serde_json::json!({"SnapshotID": 1}));
        assert!(text.contains("(did you mean `snapshotId`?)"), "{text}");
        let (field, text) = rule(serde_json::json!({"on": "rolback"}));
        assert_eq!(field, "input.on");
        assert!(
            text.contains("`rolback` (did you mean `rollback`?)"),
            "{text}"
        );
        let (_, text) = rule(serde_json::json!({"colour": 1}));
        assert!(!text.contains("did you mean"), "nothing near: {text}");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn long_values_are_truncated_in_messages() {
        let err = resource_name("gameName", &format!("{}!", "a".repeat(30))).unwrap_err();
        assert!(err.rule.ends_with("!\""), "{}", err.rule);
        let err = snapshot_id("snapshotId", &"\u{7}".repeat(34)).unwrap_err();
        assert!(err.rule.contains("\\u{7}"), "{}", err.rule);
    }
}

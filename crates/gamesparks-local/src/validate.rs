//! Input constraints from the GameSparks model (`gamesparks-2021-08-17.service.json`).
//!
//! The model's patterns are Java regular expressions; they are simple enough to check by hand,
//! which keeps a regex engine out of the dependency tree. Lengths count characters, as the
//! service does.

use crate::error::ApiError;

pub(crate) const NAME_PATTERN: &str = "^[a-zA-Z0-9_-]+$";
pub(crate) const SNAPSHOT_ID_PATTERN: &str =
    "^Snapshot_\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3,6}Z$";
pub(crate) const TRIMMED_PATTERN: &str = "^\\S(.*\\S)?$";
pub(crate) const DESCRIPTION_PATTERN: &str = "^\\S(.*\\S)?$|^$";
pub(crate) const ROLE_ARN_PATTERN: &str = "^arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/.+$";
pub(crate) const SECTION_NAME_PATTERN: &str = "^[a-zA-Z0-9.]+$";

/// Java's `\s`: ASCII whitespace only.
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

/// What Java's `.` refuses to match.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// `^[a-zA-Z0-9_-]+$` (GameName, StageName).
pub(crate) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `^\S(.*\S)?$`
pub(crate) fn is_trimmed(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false;
    };
    !is_java_space(first) && !is_java_space(last) && !s.chars().any(is_line_terminator)
}

/// `^\S(.*\S)?$|^$`
pub(crate) fn is_description(s: &str) -> bool {
    s.is_empty() || is_trimmed(s)
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^Snapshot_\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,6}Z$`
pub(crate) fn is_snapshot_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("Snapshot_") else {
        return false;
    };
    let Some(rest) = rest.strip_suffix('Z') else {
        return false;
    };
    let b = rest.as_bytes();
    if b.len() < 23 || b.len() > 26 {
        return false;
    }
    let fixed = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if fixed.iter().any(|&(i, c)| b[i] != c) {
        return false;
    }
    [
        (0, 4),
        (5, 7),
        (8, 10),
        (11, 13),
        (14, 16),
        (17, 19),
        (20, b.len()),
    ]
    .iter()
    .all(|&(a, z)| rest.get(a..z).is_some_and(digits))
}

/// `^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/.+$`
pub(crate) fn is_role_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let partition_ok = partition.is_empty()
        || partition
            .strip_prefix("aws")
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic() || c == '-'));
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(role) = rest.strip_prefix("role/") else {
        return false;
    };
    partition_ok
        && account.len() == 12
        && digits(account)
        && !role.is_empty()
        && !role.chars().any(is_line_terminator)
}

/// `^[a-zA-Z0-9.]+$`
pub(crate) fn is_section_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

/// Collects constraint violations and reports them the way AWS services do:
/// `2 validation errors detected: Value 'x' at 'GameName' failed to satisfy constraint: ...; ...`.
#[derive(Debug, Default)]
pub(crate) struct Violations(Vec<String>);

fn quote(value: &str) -> String {
    const LIMIT: usize = 80;
    if value.chars().count() > LIMIT {
        let head: String = value.chars().take(LIMIT).collect();
        format!("'{head}...'")
    } else {
        format!("'{value}'")
    }
}

impl Violations {
    pub fn push(&mut self, field: &str, value: Option<&str>, constraint: impl AsRef<str>) {
        let value = value.map_or_else(|| "null".to_string(), quote);
        self.0.push(format!(
            "Value {value} at '{field}' failed to satisfy constraint: Member {}",
            constraint.as_ref()
        ));
    }

    pub fn required(&mut self, field: &str) {
        self.push(field, None, "must not be null");
    }

    /// Length check; returns whether the value passed so that pattern checks are not piled on.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) -> bool {
        let len = value.chars().count();
        if len < min {
            self.push(
                field,
                Some(value),
                format!("must have length greater than or equal to {min}"),
            );
            false
        } else if len > max {
            self.push(
                field,
                Some(value),
                format!("must have length less than or equal to {max}"),
            );
            false
        } else {
            true
        }
    }

    pub fn pattern(&mut self, field: &str, value: &str, ok: bool, pattern: &str) {
        if !ok {
            self.push(
                field,
                Some(value),
                format!("must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    pub fn name(&mut self, field: &str, value: &str) {
        if self.length(field, value, 1, 36) {
            self.pattern(field, value, is_name(value), NAME_PATTERN);
        }
    }

    pub fn snapshot_id(&mut self, field: &str, value: &str) {
        if self.length(field, value, 33, 36) {
            self.pattern(field, value, is_snapshot_id(value), SNAPSHOT_ID_PATTERN);
        }
    }

    pub fn description(&mut self, field: &str, value: &str) {
        if self.length(field, value, 0, 250) {
            self.pattern(field, value, is_description(value), DESCRIPTION_PATTERN);
        }
    }

    pub fn next_token(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            if self.length("NextToken", v, 1, 1024) {
                self.pattern("NextToken", v, is_trimmed(v), TRIMMED_PATTERN);
            }
        }
    }

    pub fn deployment_id(&mut self, value: &str) {
        if self.length("DeploymentId", value, 1, 128) {
            self.pattern("DeploymentId", value, is_trimmed(value), TRIMMED_PATTERN);
        }
    }

    /// `MaxResults`: integer, 1..=100.
    pub fn max_results(&mut self, value: Option<&str>) -> Option<usize> {
        let raw = value?;
        match raw.trim().parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => usize::try_from(n).ok(),
            Ok(n) if n < 1 => {
                self.push(
                    "MaxResults",
                    Some(raw),
                    "must have value greater than or equal to 1",
                );
                None
            }
            Ok(_) => {
                self.push(
                    "MaxResults",
                    Some(raw),
                    "must have value less than or equal to 100",
                );
                None
            }
            Err(_) => {
                self.push("MaxResults", Some(raw), "must be an integer");
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_name("space-raiders_2"));
        assert!(!is_name(""));
        assert!(!is_name("space raiders"));
        assert!(!is_name("x!"));
    }

    #[test]
    fn snapshot_ids() {
        assert!(is_snapshot_id("Snapshot_2026-11-20T10:00:00.000Z"));
        assert!(is_snapshot_id("Snapshot_2026-11-20T10:00:00.123456Z"));
        assert!(!is_snapshot_id("Snapshot_2026-11-20T10:00:00.12Z"));
        assert!(!is_snapshot_id("Snapshot_2026-11-20T10:00:00.1234567Z"));
        assert!(!is_snapshot_id("Snapshot_2026-11-20T10:00:00Z"));
        assert!(!is_snapshot_id("snapshot_2026-11-20T10:00:00.000Z"));
        assert!(!is_snapshot_id("Snapshot_2026-11-20 10:00:00.000Z"));
        assert!(!is_snapshot_id("Snapshot_2026-1a-20T10:00:00.000Z"));
    }

    #[test]
    fn trimmed_and_description() {
        assert!(is_trimmed("a"));
        assert!(is_trimmed("a b"));
        assert!(!is_trimmed(" a"));
        assert!(!is_trimmed("a "));
        assert!(!is_trimmed("a\nb"));
        assert!(!is_trimmed(""));
        assert!(is_description(""));
        assert!(!is_description(" "));
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn(
            "arn:aws:iam::123456789012:role/GameSparksStage"
        ));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/path/x"));
        assert!(is_role_arn("arn::iam::123456789012:role/x"));
        assert!(!is_role_arn("arn:aws:iam::12345678901:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/"));
        assert!(!is_role_arn("arn:gcp:iam::123456789012:role/x"));
    }

    #[test]
    fn violation_messages_name_the_field() {
        let mut v = Violations::default();
        v.name("GameName", "bad name");
        v.max_results(Some("0"));
        let err = v.into_result().unwrap_err();
        assert!(err.message.starts_with("2 validation errors detected"));
        assert!(err.message.contains("at 'GameName'"));
        assert!(err.message.contains("at 'MaxResults'"));
    }
}

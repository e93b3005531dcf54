//! A number of seconds the input bounds, checked as it is read.
//!
//! Each bounded field of the execution input (a timeout, a bake, an interval) is one of these, so
//! the range lives in one place and three things follow from it: the parser's error ("expected an
//! integer 60-7200 (seconds), got 59", at the field's path, instead of serde's "expected u64"),
//! the JSON Schema's `minimum`/`maximum` (`schemas/execution-input.schema.json`), and the test that
//! holds the two to agreement (`tests/schema_agreement.rs`). A whole number written as a float
//! (`600.0`) is accepted, as JSON Schema's `integer` accepts it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// `MIN..=MAX` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds<const MIN: u64, const MAX: u64>(pub u64);

impl<const MIN: u64, const MAX: u64> Seconds<MIN, MAX> {
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What the rule says, in the words every error about such a field uses.
pub fn expected(min: u64, max: u64) -> String {
    format!("an integer {min}-{max} (seconds)")
}

struct InRange<const MIN: u64, const MAX: u64>;

impl<const MIN: u64, const MAX: u64> InRange<MIN, MAX> {
    fn out_of_range<E: de::Error>(got: impl fmt::Display) -> E {
        E::custom(format!("expected {}, got {got}", expected(MIN, MAX)))
    }
}

impl<'de, const MIN: u64, const MAX: u64> Visitor<'de> for InRange<MIN, MAX> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&expected(MIN, MAX))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        if (MIN..=MAX).contains(&v) {
            Ok(v)
        } else {
            Err(Self::out_of_range(v))
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(Self::out_of_range(v)),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // Only whole numbers within the range reach the cast, so it is exact.
        if v.fract() == 0.0 && v >= MIN as f64 && v <= MAX as f64 {
            self.visit_u64(v as u64)
        } else {
            Err(Self::out_of_range(v))
        }
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Seconds<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InRange::<MIN, MAX>).map(Self)
    }
}

#[cfg(feature = "schema")]
impl<const MIN: u64, const MAX: u64> schemars::JsonSchema for Seconds<MIN, MAX> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Seconds{MIN}to{MAX}").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "integer",
            "minimum": MIN,
            "maximum": MAX,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Timeout = Seconds<60, 7200>;

    fn read(v: serde_json::Value) -> Result<u64, String> {
        serde_json::from_value::<Timeout>(v)
            .map(Seconds::get)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_range_is_inclusive_and_its_error_names_it() {
        assert_eq!(read(json!(60)), Ok(60));
        assert_eq!(read(json!(7200)), Ok(7200));
        assert_eq!(read(json!(600.0)), Ok(600), "a whole float, as JSON Schema");
        for (v, got) in [
            (json!(59), "59"),
            (json!(7201), "7201"),
            (json!(-1), "-1"),
            (json!(600.5), "600.5"),
        ] {
            assert_eq!(
                read(v),
                Err(format!("expected an integer 60-7200 (seconds), got {got}"))
            );
        }
        let wrong = read(json!("600")).err().unwrap_or_default();
        assert!(
            wrong.contains("expected an integer 60-7200 (seconds)"),
            "{wrong}"
        );
    }
}

//! What the CLI sends the gate, checked against the gate's own limits before any AWS call: an
//! answer or an abort request the gate would refuse must be refused here, where the person still
//! is, not end the run ERROR after the CLI said "the gate deploys it now".

use serde_json::json;
use stagegate::approval::{MAX_IDENTITY_BYTES, MAX_REASON_BYTES};
use time::OffsetDateTime;

/// `--reason` within the core's limit (1,024 bytes in UTF-8; characters are not the measure).
pub fn check_reason(reason: Option<&str>) -> Result<(), String> {
    match reason {
        Some(r) if r.len() > MAX_REASON_BYTES => Err(format!(
            "--reason is {} bytes in UTF-8 ({} characters); the gate accepts at most \
             {MAX_REASON_BYTES} bytes",
            r.len(),
            r.chars().count()
        )),
        _ => Ok(()),
    }
}

/// The answerer's identity within the core's limit (STS ARNs are far shorter; a longer one
/// would make the gate refuse the answer).
pub fn check_identity(by: &str) -> Result<(), String> {
    if by.len() > MAX_IDENTITY_BYTES {
        return Err(format!(
            "the caller identity (GetCallerIdentity's ARN) is {} bytes, over the gate's \
             {MAX_IDENTITY_BYTES}",
            by.len()
        ));
    }
    Ok(())
}

/// A Standard parameter's value holds at most 4 KB; the abort parameter is written Standard
/// explicitly (an account whose default tier is Advanced would pay for each).
pub const STANDARD_PARAMETER_BYTES: usize = 4_096;

/// The abort parameter's value, as the poll reads it (`stagegate::approval::AbortRequest`).
/// Within the core's limits it is at most 3,131 bytes; only a reason that JSON must escape
/// almost byte for byte (quotes, backslashes, control characters) with an unusually long
/// identity could pass a Standard parameter's 4,096, and that is refused here, naming `--reason`.
pub fn abort_value(by: &str, reason: &str, at: OffsetDateTime) -> Result<String, String> {
    check_reason(Some(reason))?;
    check_identity(by)?;
    let value = json!({
        "by": by,
        "reason": reason,
        "at": stagegate::timefmt::rfc3339(at),
    })
    .to_string();
    if value.len() > STANDARD_PARAMETER_BYTES {
        return Err(format!(
            "--reason: the abort request would be {} bytes once written as JSON ({} of them the \
             reason, escaped), over the {STANDARD_PARAMETER_BYTES} bytes of a Standard parameter; \
             shorten the reason or leave out quotes, backslashes and control characters",
            value.len(),
            json!(reason).to_string().len() - 2
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_measured_in_bytes() {
        assert_eq!(check_reason(None), Ok(()));
        assert_eq!(check_reason(Some(&"a".repeat(1_024))), Ok(()));
        // 600 characters, 1,200 bytes: refused, naming the flag, the limit and the size.
        let e = check_reason(Some(&"é".repeat(600)))
            .err()
            .unwrap_or_default();
        assert_eq!(
            e,
            "--reason is 1200 bytes in UTF-8 (600 characters); the gate accepts at most 1024 bytes"
        );
    }

    /// The longest `at` the CLI writes: nanoseconds, UTC.
    const LATEST: OffsetDateTime = time::macros::datetime!(9999-12-31 23:59:59.999_999_999 UTC);

    #[test]
    fn the_largest_abort_request_fits_a_standard_parameter() {
        // The core's limits: an identity of 2,048 bytes, a reason of 1,024 bytes in UTF-8 (no
        // character JSON escapes: serde_json writes non-ASCII as it is).
        let by = format!("arn:aws:iam::123456789012:user/{}", "p".repeat(2_048 - 31));
        assert_eq!(by.len(), MAX_IDENTITY_BYTES);
        for reason in ["r".repeat(1_024), "é".repeat(512), "€".repeat(341) + "r"] {
            assert_eq!(reason.len(), MAX_REASON_BYTES);
            let value = abort_value(&by, &reason, LATEST).unwrap_or_default();
            // 2,048 + 1,024 + {"at":"9999-12-31T23:59:59.999999999Z","by":"","reason":""}
            assert_eq!(value.len(), 2_048 + 1_024 + 59, "{value}");
            assert!(value.len() <= STANDARD_PARAMETER_BYTES);
            let read = stagegate::approval::AbortRequest::parse(&value, "abortRequest");
            assert_eq!(read.map(|r| r.reason), Ok(reason), "the poll reads it back");
        }
        // A realistic identity (an assumed role's session) leaves room for any reason, escaped.
        let role = "arn:aws:sts::123456789012:assumed-role/stagegate-operators/ana@example.com";
        let quoted = abort_value(role, &"\"".repeat(1_024), LATEST).unwrap_or_default();
        assert!(quoted.len() <= STANDARD_PARAMETER_BYTES, "{}", quoted.len());
    }

    #[test]
    fn a_request_over_a_standard_parameter_is_refused_naming_the_reason() {
        let by = "a".repeat(MAX_IDENTITY_BYTES);
        // 1,024 quotes: 2,048 bytes once escaped.
        let e = abort_value(&by, &"\"".repeat(1_024), LATEST)
            .err()
            .unwrap_or_default();
        assert!(
            e.starts_with("--reason: the abort request would be 4155 bytes") && e.contains("4096"),
            "{e}"
        );
        let e = abort_value(&"a".repeat(MAX_IDENTITY_BYTES + 1), "r", LATEST).err();
        assert!(e.is_some_and(|e| e.contains("2049 bytes")));
    }
}

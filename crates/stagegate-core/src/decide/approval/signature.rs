//! Who answered an approval, provably: the answer function signs each answer it sends, and the
//! gate takes only answers whose signature it can check.
//!
//! Anyone holding `states:SendTaskSuccess` and the wait's task token (it sits in the execution
//! history) could otherwise answer as anyone: the token proves nothing about the caller. The
//! answer function is the one caller IAM has verified (a function URL with AuthType AWS_IAM), so
//! its HMAC over the answer, with a key only it and start-deployment can read, is what makes the
//! `by` of an answer the verified caller's. The signature covers the run, the stage and the
//! approval's request time as well as the answer, so a signed answer cannot be replayed on
//! another run, another stage of a wave, or a later approval of the same stage.
//!
//! The canonical form and the check are pure (the key is bytes, read by the caller): every field
//! is length-prefixed, so no choice of `by` or `reason` can make two answers sign the same bytes.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use super::Decision;

/// Names the canonical form: a later change of it signs under another tag, so an answer signed
/// the old way is refused instead of being read the new way.
pub const VERSION: &str = "stagegate-answer-v1";
/// The key's size as the answer function creates it (32 random bytes, base64 in Parameter
/// Store). A shorter key is refused: it would be one nobody meant to use.
pub const KEY_BYTES: usize = 32;

/// What an answer's signature vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The run (`GateState::run`: the execution and its start).
    pub run: &'a str,
    pub stage: &'a str,
    /// The approval's `requestedAt`: a later approval of the same stage is another one.
    pub requested_at: OffsetDateTime,
    pub decision: Decision,
    /// The caller IAM verified.
    pub by: &'a str,
    pub at: OffsetDateTime,
    pub reason: Option<&'a str>,
}

/// The bytes the signature is over. Instants are Unix nanoseconds: the RFC 3339 text of one
/// instant may be written several ways, the instant only one.
pub fn canonical(s: &Signed<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut field = |bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    field(VERSION.as_bytes());
    field(s.run.as_bytes());
    field(s.stage.as_bytes());
    field(s.requested_at.unix_timestamp_nanos().to_string().as_bytes());
    field(s.decision.as_str().as_bytes());
    field(s.by.as_bytes());
    field(s.at.unix_timestamp_nanos().to_string().as_bytes());
    // A missing reason and an empty one are different answers.
    match s.reason {
        None => field(b"-"),
        Some(r) => {
            field(b"+");
            field(r.as_bytes());
        }
    }
    out
}

/// Why a key cannot sign or check anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakKey(pub usize);

impl std::fmt::Display for WeakKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the answer key has {} bytes, fewer than {KEY_BYTES}",
            self.0
        )
    }
}

fn mac(key: &[u8], s: &Signed<'_>) -> Result<Hmac<Sha256>, WeakKey> {
    if key.len() < KEY_BYTES {
        return Err(WeakKey(key.len()));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| WeakKey(key.len()))?;
    mac.update(&canonical(s));
    Ok(mac)
}

/// The signature of `s` under `key`: HMAC-SHA256, lowercase hex.
pub fn sign(key: &[u8], s: &Signed<'_>) -> Result<String, WeakKey> {
    let tag = mac(key, s)?.finalize().into_bytes();
    Ok(tag.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `signature` is `key`'s signature of `s` (compared in constant time).
pub fn verify(key: &[u8], s: &Signed<'_>, signature: &str) -> Result<bool, WeakKey> {
    let mac = mac(key, s)?;
    let Some(bytes) = from_hex(signature) else {
        return Ok(false);
    };
    Ok(mac.verify_slice(&bytes).is_ok())
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: [u8; 32] = [7; 32];

    fn signed() -> Signed<'static> {
        Signed {
            run: "arn:aws:states:eu-west-1:1:execution:gate:r1@1764583200000",
            stage: "prod",
            requested_at: datetime!(2026-12-01 10:00:00 UTC),
            decision: Decision::Approve,
            by: "arn:aws:iam::1:user/ana",
            at: datetime!(2026-12-01 10:05:00.25 UTC),
            reason: Some("QA signed off"),
        }
    }

    fn sig(s: &Signed<'_>) -> String {
        sign(&KEY, s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_signed_answer_verifies_and_any_changed_field_does_not() {
        let good = signed();
        let signature = sig(&good);
        assert_eq!(signature.len(), 64);
        assert_eq!(verify(&KEY, &good, &signature), Ok(true));
        let tampered: Vec<(&str, Signed<'_>)> = vec![
            (
                "run",
                Signed {
                    run: "arn:aws:states:eu-west-1:1:execution:gate:r2@1764583200000",
                    ..good
                },
            ),
            (
                "stage",
                Signed {
                    stage: "dev",
                    ..good
                },
            ),
            (
                "requestedAt",
                Signed {
                    requested_at: datetime!(2026-12-01 10:00:01 UTC),
                    ..good
                },
            ),
            (
                "decision",
                Signed {
                    decision: Decision::Reject,
                    ..good
                },
            ),
            (
                "by",
                Signed {
                    by: "arn:aws:iam::1:user/bob",
                    ..good
                },
            ),
            (
                "at",
                Signed {
                    at: datetime!(2026-12-01 10:05:00.26 UTC),
                    ..good
                },
            ),
            (
                "reason",
                Signed {
                    reason: Some("QA signed off."),
                    ..good
                },
            ),
            (
                "no reason",
                Signed {
                    reason: None,
                    ..good
                },
            ),
            (
                "empty reason",
                Signed {
                    reason: Some(""),
                    ..good
                },
            ),
        ];
        for (what, s) in tampered {
            assert_eq!(verify(&KEY, &s, &signature), Ok(false), "{what}");
        }
    }

    #[test]
    fn another_key_a_garbled_signature_or_a_weak_key_never_verifies() {
        let good = signed();
        let signature = sig(&good);
        assert_eq!(verify(&[8; 32], &good, &signature), Ok(false));
        for garbled in ["", "zz", &signature[..62], &signature.to_uppercase()[..63]] {
            assert_eq!(verify(&KEY, &good, garbled), Ok(false), "{garbled}");
        }
        assert_eq!(sign(&[7; 16], &good), Err(WeakKey(16)));
        assert_eq!(verify(&[], &good, &signature), Err(WeakKey(0)));
        // Upper-case hex is the same signature.
        assert_eq!(verify(&KEY, &good, &signature.to_uppercase()), Ok(true));
    }

    #[test]
    fn fields_cannot_borrow_bytes_from_each_other() {
        // Without length prefixes "a|b" + "c" and "a" + "b|c" would sign the same bytes.
        let a = Signed {
            by: "arn:aws:iam::1:user/ana",
            reason: Some("x"),
            ..signed()
        };
        let b = Signed {
            by: "arn:aws:iam::1:user/an",
            reason: Some("ax"),
            ..signed()
        };
        assert_ne!(canonical(&a), canonical(&b));
        assert!(canonical(&a).starts_with(&(VERSION.len() as u64).to_be_bytes()));
        // One instant written two ways is one instant.
        let offset = Signed {
            at: datetime!(2026-12-01 11:05:00.25 +01:00),
            ..signed()
        };
        assert_eq!(canonical(&offset), canonical(&signed()));
    }
}

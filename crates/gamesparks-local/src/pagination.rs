//! Opaque, tamper-evident NextToken pagination.
//!
//! A token names the last item of the previous page (not an offset), so items added at the head
//! of a newest-first list while a client pages do not shift later pages. A truncated SHA-256 MAC
//! over (secret, list scope, key) makes edited tokens, and tokens replayed against another list,
//! fail with ValidationException as they would on the real service.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// MaxResults / NextToken of a list request, already checked against the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub max_results: Option<usize>,
    pub next_token: Option<String>,
}

fn mac(secret: &[u8], scope: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret);
    h.update([0]);
    h.update(scope.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    h.finalize()
        .iter()
        .take(10)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn encode(secret: &[u8], scope: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1|{}|{key}", mac(secret, scope, key)))
}

fn invalid() -> ApiError {
    ApiError::validation(
        "Invalid NextToken: the token is malformed, was modified, or belongs to another list",
    )
}

pub(crate) fn decode(secret: &[u8], scope: &str, token: &str) -> Result<String, ApiError> {
    let raw = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(m), Some(key)) if m == mac(secret, scope, key) => Ok(key.to_string()),
        _ => Err(invalid()),
    }
}

/// Cuts one page out of `items` (already in list order).
pub(crate) fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    secret: &[u8],
    scope: &str,
    page: &PageRequest,
    default_size: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match &page.next_token {
        None => 0,
        Some(token) => {
            let last = decode(secret, scope, token)?;
            match items.iter().position(|i| key(i) == last) {
                Some(pos) => pos + 1,
                None => {
                    return Err(ApiError::validation(
                        "Invalid NextToken: the item it continues from no longer exists",
                    ))
                }
            }
        }
    };
    let size = page.max_results.unwrap_or(default_size).max(1);
    let total = items.len();
    let end = start.saturating_add(size).min(total);
    let page_items: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let next = if end < total {
        page_items
            .last()
            .map(|last| encode(secret, scope, &key(last)))
    } else {
        None
    };
    Ok((page_items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(token: Option<String>, max: Option<usize>) -> PageRequest {
        PageRequest {
            max_results: max,
            next_token: token,
        }
    }

    #[test]
    fn walks_all_pages() {
        let items: Vec<String> = (0..7).map(|i| format!("k{i}")).collect();
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let (p, next) = paginate(
                items.clone(),
                |s| s.clone(),
                b"s",
                "scope",
                &page(token, Some(3)),
                10,
            )
            .unwrap();
            seen.extend(p);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn rejects_tampered_and_foreign_tokens() {
        let t = encode(b"s", "scope", "k1");
        assert_eq!(decode(b"s", "scope", &t).unwrap(), "k1");
        assert!(decode(b"s", "other", &t).is_err());
        assert!(decode(b"x", "scope", &t).is_err());
        let forged = URL_SAFE_NO_PAD.encode("v1|00000000000000000000|k1");
        assert!(decode(b"s", "scope", &forged).is_err());
        assert!(decode(b"s", "scope", "%%%").is_err());
        let mut bytes = t.into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(bytes).unwrap();
        assert!(decode(b"s", "scope", &edited).is_err());
    }

    #[test]
    fn exact_last_page_has_no_token() {
        let items = vec![1, 2, 3];
        let (p, next) = paginate(
            items,
            |i| i.to_string(),
            b"s",
            "x",
            &page(None, Some(3)),
            10,
        )
        .unwrap();
        assert_eq!(p, vec![1, 2, 3]);
        assert!(next.is_none());
    }
}

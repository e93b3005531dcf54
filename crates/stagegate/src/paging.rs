//! Following NextToken to the end of a listing.

use std::collections::HashSet;
use std::future::Future;

use crate::ports::{Page, ServiceError};

/// Far beyond any real history (100 items a page); a bound against a service that never ends.
pub const MAX_PAGES: usize = 1_000;

/// Fetches every page. A repeated NextToken or more than `MAX_PAGES` pages is an error rather
/// than an endless loop.
pub async fn collect_all<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ServiceError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, ServiceError>>,
{
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(token.take()).await?;
        items.extend(page.items);
        match page.next_token {
            None => return Ok(items),
            Some(next) if next.is_empty() => return Ok(items),
            Some(next) => {
                if !seen.insert(next.clone()) {
                    return Err(ServiceError::other(
                        "pagination",
                        format!("the service returned NextToken {next:?} twice"),
                    ));
                }
                token = Some(next);
            }
        }
    }
    Err(ServiceError::other(
        "pagination",
        format!("more than {MAX_PAGES} pages"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ServiceErrorKind;

    fn pages(
        n: usize,
    ) -> impl FnMut(Option<String>) -> std::future::Ready<Result<Page<usize>, ServiceError>> {
        move |token| {
            let i: usize = token
                .as_deref()
                .map_or(0, |t| t.parse().unwrap_or(usize::MAX));
            let next = (i + 1 < n).then(|| (i + 1).to_string());
            std::future::ready(Ok(Page {
                items: vec![i * 10, i * 10 + 1],
                next_token: next,
            }))
        }
    }

    #[tokio::test]
    async fn follows_every_page() {
        for n in [1, 2, 7] {
            let all = collect_all(pages(n)).await.unwrap_or_default();
            assert_eq!(all.len(), 2 * n, "{n} pages");
            assert_eq!(all.last().copied(), Some((n - 1) * 10 + 1));
        }
    }

    #[tokio::test]
    async fn empty_token_ends_the_listing() {
        let all = collect_all(|_| {
            std::future::ready(Ok(Page {
                items: vec![1],
                next_token: Some(String::new()),
            }))
        })
        .await;
        assert_eq!(all.ok(), Some(vec![1]));
    }

    #[tokio::test]
    async fn repeated_token_is_an_error() {
        let err = collect_all(|_| {
            std::future::ready(Ok(Page {
                items: vec![1],
                next_token: Some("same".into()),
            }))
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind, ServiceErrorKind::Other);
        assert!(err.message.contains("twice"), "{err}");
    }

    #[tokio::test]
    async fn endless_listing_is_bounded() {
        let mut i = 0u64;
        let err = collect_all(move |_| {
            i += 1;
            std::future::ready(Ok(Page {
                items: Vec::<u8>::new(),
                next_token: Some(i.to_string()),
            }))
        })
        .await
        .unwrap_err();
        assert!(err.message.contains("more than"), "{err}");
    }

    #[tokio::test]
    async fn error_on_a_later_page_propagates() {
        let mut calls = 0;
        let err = collect_all(move |_| {
            calls += 1;
            std::future::ready(if calls < 3 {
                Ok(Page {
                    items: vec![calls],
                    next_token: Some(calls.to_string()),
                })
            } else {
                Err(ServiceError::new(
                    ServiceErrorKind::Throttled,
                    "ListStageDeployments",
                    "slow down",
                ))
            })
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind, ServiceErrorKind::Throttled);
    }
}

//! Reading an execution's history: the one reader the CLI and the workspace tests share, so the
//! paging is written and fixed once. Following a run reads it all, oldest first (1,000 events a
//! page; a run of a long wave has more); a question about the run's present (what does it wait
//! for, is it rolling back, what did it resolve) reads newest first and stops at the first page
//! that answers it, instead of up to 25,000 events every time; so does each poll of `follow`,
//! which stops at the first event it has already seen (`read_new_with`).

use std::future::Future;

use aws_sdk_sfn::error::SdkError;
use aws_sdk_sfn::operation::get_execution_history::{
    GetExecutionHistoryError, GetExecutionHistoryOutput,
};
use aws_sdk_sfn::types::HistoryEvent;

use crate::steps::{self, Step};

/// Events a page when reading newest first: the answers sit in the newest few dozen, and every
/// event carries its state's input or output (up to 256 KB each), so a small page is the cheap
/// one.
pub const RECENT_PAGE: i32 = 100;
/// A history holds at most 25,000 events.
const MAX_EVENTS: usize = 25_000;

/// Every event of an execution's history, oldest first, all pages.
pub async fn read(sfn: &aws_sdk_sfn::Client, arn: &str) -> Result<Vec<HistoryEvent>, String> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(arn)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .map_err(|e| format!("GetExecutionHistory: {}", error_text(&e)))?;
        events.extend(page.events().unwrap_or_default().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(events);
        }
    }
}

/// Pages from `fetch` (a page of items, newest first, and the next page's token) until
/// `enough` says the items read so far answer the question, or the history ends.
pub async fn read_back_with<T, F, Fut>(
    mut fetch: F,
    enough: impl Fn(&[T]) -> bool,
) -> Result<Vec<T>, String>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), String>>,
{
    let pages = MAX_EVENTS / usize::try_from(RECENT_PAGE).unwrap_or(1) + 1;
    let mut items = Vec::new();
    let mut token = None;
    for _ in 0..pages {
        let (page, next) = fetch(token).await?;
        items.extend(page);
        if enough(&items) {
            return Ok(items);
        }
        match next.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
    Err(format!(
        "GetExecutionHistory: more than {pages} pages of {RECENT_PAGE} events"
    ))
}

/// The events newer than `seen` (an event id; 0: none seen yet), oldest first: pages from `fetch`
/// (newest first, with the next page's token) until a page reaches an event already seen or the
/// history's start. Following a run asks this every poll: the common case is one page, however
/// long the history already is.
pub async fn read_new_with<T, E, F, Fut>(
    mut fetch: F,
    id: impl Fn(&T) -> i64,
    seen: i64,
) -> Result<Vec<T>, E>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), E>>,
    E: From<String>,
{
    let mut new = Vec::new();
    let mut token = None;
    // Every page holds an event: a history of MAX_EVENTS cannot take more pages.
    for _ in 0..MAX_EVENTS {
        let (page, next) = fetch(token).await?;
        let reached = page.iter().any(|e| id(e) <= seen);
        new.extend(page.into_iter().filter(|e| id(e) > seen));
        match next.filter(|t| !t.is_empty()) {
            Some(next) if !reached => token = Some(next),
            _ => {
                new.sort_by_key(|e| id(e));
                return Ok(new);
            }
        }
    }
    Err(E::from(format!(
        "GetExecutionHistory: more than {MAX_EVENTS} pages"
    )))
}

/// One page of an execution's history, newest first: what a question about the run's present
/// and each poll of `follow` read.
pub async fn newest_first(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
    size: i32,
    token: Option<String>,
) -> Result<GetExecutionHistoryOutput, SdkError<GetExecutionHistoryError>> {
    sfn.get_execution_history()
        .execution_arn(arn)
        .reverse_order(true)
        .set_next_token(token)
        .max_results(size)
        .send()
        .await
}

/// The newest steps of an execution's history, as far back as `enough` needs (the predicates in
/// `steps`), in chronological order.
pub async fn recent_steps(
    sfn: &aws_sdk_sfn::Client,
    arn: &str,
    enough: impl Fn(&[Step]) -> bool,
) -> Result<Vec<Step>, String> {
    let fetch = |token: Option<String>| async move {
        let page = newest_first(sfn, arn, RECENT_PAGE, token)
            .await
            .map_err(|e| format!("GetExecutionHistory: {}", error_text(&e)))?;
        let events: Vec<(i64, Step)> = page
            .events()
            .unwrap_or_default()
            .iter()
            .map(|e| (e.id(), steps::step(e)))
            .collect();
        Ok((events, page.next_token().map(str::to_owned)))
    };
    let mut read = read_back_with(fetch, |items: &[(i64, Step)]| {
        let newest_first: Vec<Step> = items.iter().map(|(_, s)| s.clone()).collect();
        enough(&newest_first)
    })
    .await?;
    // Event ids grow with time: chronological whatever order the pages came in.
    read.sort_by_key(|(id, _)| *id);
    Ok(read.into_iter().map(|(_, s)| s).collect())
}

/// An SDK error with its sources: the top level alone says only "service error".
pub fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// Pages of numbers, newest first: 30..21, 20..11, 10..1.
    async fn page(
        token: Option<String>,
        calls: &Cell<u32>,
    ) -> Result<(Vec<u32>, Option<String>), String> {
        calls.set(calls.get() + 1);
        let start: u32 = token.as_deref().unwrap_or("30").parse().unwrap_or(0);
        let items: Vec<u32> = (start.saturating_sub(9)..=start).rev().collect();
        let next = (start > 10).then(|| (start - 10).to_string());
        Ok((items, next))
    }

    /// A history of `len` events (ids 1..=len), read newest first in pages of `size`, counting
    /// the pages read.
    async fn history_page(
        len: i64,
        size: i64,
        token: Option<String>,
        pages: &Cell<u32>,
    ) -> Result<(Vec<i64>, Option<String>), String> {
        pages.set(pages.get() + 1);
        let top: i64 = token
            .as_deref()
            .map_or(Ok(len), str::parse)
            .map_err(|e| format!("{e}"))?;
        let items: Vec<i64> = (1.max(top - size + 1)..=top).rev().collect();
        let next = (top > size).then(|| (top - size).to_string());
        Ok((items, next))
    }

    #[tokio::test]
    async fn a_poll_reads_only_the_pages_of_new_events() {
        let pages = &Cell::new(0);
        let read = |len: i64, seen: i64| {
            pages.set(0);
            read_new_with(
                move |t| history_page(len, 100, t, pages),
                |e: &i64| *e,
                seen,
            )
        };
        // The first read of a long history reads it all, once, oldest first.
        let all = read(2_550, 0).await;
        assert_eq!(all.as_ref().map(Vec::len), Ok(2_550));
        assert_eq!(
            all.as_ref().map(|a| a.windows(2).all(|w| w[0] < w[1])),
            Ok(true)
        );
        assert_eq!(pages.get(), 26);
        // Three new events: one page, only them, in order.
        assert_eq!(read(2_553, 2_550).await, Ok(vec![2_551, 2_552, 2_553]));
        assert_eq!(pages.get(), 1);
        // Nothing new: still one page, nothing printed twice.
        assert_eq!(read(2_553, 2_553).await, Ok(vec![]));
        assert_eq!(pages.get(), 1);
        // More new events than a page: the pages that hold them, and no further.
        let many = read(2_803, 2_553).await;
        assert_eq!(many.as_ref().map(Vec::len), Ok(250));
        assert_eq!(many.as_ref().map(|m| m.first().copied()), Ok(Some(2_554)));
        assert_eq!(pages.get(), 3);
    }

    #[tokio::test]
    async fn reading_back_stops_at_the_first_page_that_answers() {
        let calls = Cell::new(0);
        let read = read_back_with(|t| page(t, &calls), |items: &[u32]| items.contains(&25)).await;
        assert_eq!(read.map(|r| r.len()), Ok(10));
        assert_eq!(calls.get(), 1, "one page answered it");
        calls.set(0);
        let read = read_back_with(|t| page(t, &calls), |items: &[u32]| items.contains(&15)).await;
        assert_eq!((read.map(|r| r.len()), calls.get()), (Ok(20), 2));
        calls.set(0);
        // Never answered: the whole history, and no more.
        let read = read_back_with(|t| page(t, &calls), |_: &[u32]| false).await;
        assert_eq!((read.map(|r| r.len()), calls.get()), (Ok(30), 3));
    }
}

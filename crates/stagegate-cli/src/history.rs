//! Reading an execution's history: the one reader the CLI and the workspace tests share, so the
//! paging (1,000 events a page, a run of a long wave has more) is written and fixed once.

use aws_sdk_sfn::types::HistoryEvent;

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

//! What every earlier case left behind: the services' logs and the notifications as delivered
//! (raw text, whatever their shape) must carry no credential, and no log a panic. It runs last in
//! the case list, so it reads the whole run; a new check over what the run left goes here.

use std::sync::Arc;

use stagegate_tests::e2e::Ctx;

use crate::common::CaseResult;

pub async fn no_secrets_or_panics(ctx: Arc<Ctx>) -> CaseResult {
    let secrets = [
        stagegate_local::ACCESS_KEY_ID,
        stagegate_local::SECRET_ACCESS_KEY,
    ];
    let logs = ctx.stack.logs();
    check!(logs.len() == 3, "expected three service logs, got {logs:?}");
    let mut lines = 0;
    for log in &logs {
        let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
        lines += text.lines().count();
        for secret in secrets {
            check!(
                !text.contains(secret),
                "{} contains a credential",
                log.display()
            );
        }
        check!(
            !text.contains("panicked"),
            "{} records a panic",
            log.display()
        );
    }
    check!(lines > 100, "the logs look empty ({lines} lines)");
    let delivered = ctx.delivered();
    check!(
        delivered.len() >= 10,
        "only {} notifications seen",
        delivered.len()
    );
    for body in &delivered {
        for secret in secrets {
            check!(
                !body.contains(secret),
                "a notification contains a credential: {body}"
            );
        }
    }
    Ok(())
}

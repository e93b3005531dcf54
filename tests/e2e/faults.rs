//! GameSparks misbehaving under the gate: throttling and 5xx (also after a deployment was
//! committed), and calls that hang. The functions' SDK retries, timeouts and idempotency tokens
//! must ride them out, so each run ends as it would without the faults. A new injected fault
//! goes here.

use std::sync::Arc;

use serde_json::{json, Value};
use stagegate_tests::e2e::Ctx;

use crate::common::{expect_message, expect_succeeded, input, CaseResult, PROD, V11, V12};

pub async fn throttling_and_server_errors(ctx: Arc<Ctx>) -> CaseResult {
    let faults =
        json!({"throttleRate": 0.35, "serverErrorRate": 0.15, "serverErrorAfterCommitRate": 0.3});
    for (name, snapshot, status, deploys) in [
        ("faulty-success", V11, "SUCCEEDED", 1),
        ("faulty-rollback", V12, "FAILED", 2),
    ] {
        ctx.reset()?;
        ctx.admin("POST", "/_emulator/faults", Some(&faults))?;
        let run = ctx.execute(name, input(snapshot)).await?;
        check!(
            run.status == status,
            "{name}: status {} {:?} {:?}",
            run.status,
            run.error,
            run.cause
        );
        check!(
            !run.entered("NotifyError"),
            "{name}: states {:?}",
            run.states
        );
        check!(
            ctx.deploys(PROD)? == deploys,
            "{name}: deployments {} want {deploys}",
            ctx.deploys(PROD)?
        );
        let counters = ctx
            .stack
            .admin("GET", "/_emulator/counters", None)
            .map_err(|e| e.to_string())?;
        let injected: u64 = counters["faultsInjected"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        check!(
            injected >= 3,
            "{name}: only {injected} faults injected: {counters}"
        );
        check!(
            run.messages.len() == 1,
            "{name}: {} messages",
            run.messages.len()
        );
    }
    Ok(())
}

/// StartStageDeployment commits and never answers, GetStageDeployment hangs once: the functions'
/// SDK timeouts abandon each attempt and retry, and the run ends as without the hangs.
pub async fn hung_calls_ridden_out(ctx: Arc<Ctx>) -> CaseResult {
    ctx.reset()?;
    let faults = json!({"operations": {
        "StartStageDeployment": {"hang": {"count": 1, "afterCommit": true}},
        "GetStageDeployment": {"hang": {"count": 1}}
    }});
    ctx.admin("POST", "/_emulator/faults", Some(&faults))?;
    let run = ctx.execute("hung", input(V11)).await?;
    expect_succeeded(&run)?;
    check!(!run.entered("NotifyError"), "states {:?}", run.states);
    check!(
        ctx.deploys(PROD)? == 1,
        "deployments {}",
        ctx.deploys(PROD)?
    );
    let counters = ctx
        .stack
        .admin("GET", "/_emulator/counters", None)
        .map_err(|e| e.to_string())?;
    check!(
        counters["faultsInjected"]["hang"] == 2,
        "hangs injected: {counters}"
    );
    expect_message(&run, "SUCCEEDED")?;
    Ok(())
}

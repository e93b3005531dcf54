//! Decision records on the local stack (docs/audit.md): notify-result writes each run's record
//! to moto's S3 before it publishes, chained to the stage's previous record, and the message
//! carries the record's key and hash; `stagegate audit verify` (the built binary) finds the
//! chain whole, then, once one record's bytes are edited in the bucket and another deleted,
//! exits 1 naming both.
//!
//! The runs use a stage of their own ("audit", added to the scenario for this case): every other
//! case's runs leave records too, and the concurrency case's race may fork prod's chain, which is
//! what `verify` should report there, not here.

use std::sync::Arc;

use serde_json::{json, Value};
use stagegate::message::RecordRef;
use stagegate::record::{sha256_hex, DecisionRecord};
use stagegate_tests::e2e::Ctx;

use crate::common::{expect_message, json, CaseResult, V10, V11};

const STAGE: &str = "audit";

fn input(snapshot: &str) -> Value {
    json!({"gameName": "space-raiders", "stageName": STAGE, "snapshotId": snapshot})
}

/// The stack's scenario with an "audit" stage: prod's, without its history.
fn with_audit_stage(mut scenario: Value) -> Result<Value, String> {
    let stages = scenario["games"][0]["stages"]
        .as_array_mut()
        .ok_or("the scenario has no games[0].stages")?;
    if !stages.iter().any(|s| s["name"] == STAGE) {
        let mut stage = stages
            .iter()
            .find(|s| s["name"] == "prod")
            .cloned()
            .ok_or("the scenario has no prod stage")?;
        stage["name"] = json!(STAGE);
        if let Some(history) = stage.get_mut("deployments") {
            *history = json!([]);
        }
        stages.push(stage);
    }
    Ok(scenario)
}

async fn object(ctx: &Ctx, key: &str) -> Result<Vec<u8>, String> {
    let s3 = ctx.stack.clients().await.s3;
    let out = s3
        .get_object()
        .bucket(&ctx.stack.record_bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("GetObject {key}: {e:?}"))?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| format!("reading {key}: {e}"))?;
    Ok(bytes.into_bytes().to_vec())
}

/// `stagegate audit verify` on the stage, with the stack's environment (its endpoint and
/// STAGEGATE_RECORD_BUCKET): exit code, stdout, and stdout with stderr (for a failure's text).
async fn verify(ctx: &Ctx, extra: &[&str]) -> Result<(Option<i32>, String, String), String> {
    let binary = stagegate_local::target_dir(&stagegate_tests::repo_root()).join("debug/stagegate");
    let mut command = std::process::Command::new(&binary);
    command
        .args([
            "audit",
            "verify",
            "--game",
            "space-raiders",
            "--stage",
            STAGE,
        ])
        .args(extra)
        .env_clear()
        .envs(ctx.stack.environment());
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| format!("stagegate: {e}"))?
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let both = format!("{stdout}{stderr}");
    Ok((out.status.code(), stdout, both))
}

pub async fn records_chain_and_verify_names_tampering(ctx: Arc<Ctx>) -> CaseResult {
    ctx.load_scenario(&with_audit_stage(ctx.scenario()?)?)?;
    // Four runs, so that an edited record and a deleted one each have a successor to name them
    // (the newest record has none: deleting it is what the chain cannot see).
    let mut written: Vec<RecordRef> = Vec::new();
    for (i, snapshot) in [V11, V10, V11, V10].into_iter().enumerate() {
        let run = ctx.execute(&format!("audit-{i}"), input(snapshot)).await?;
        check!(
            run.status == "SUCCEEDED",
            "run {i}: {} {:?}",
            run.status,
            run.cause
        );
        let body = expect_message(&run, "SUCCEEDED")?;
        let record = body
            .record
            .clone()
            .ok_or_else(|| format!("run {i}: the message names no record: {}", json(&body)))?;
        // The harness numbers execution names (`audit-0-38`): the key ends with the ARN's name.
        let name = run.execution_arn.rsplit(':').next().unwrap_or_default();
        check!(
            record.key.starts_with("space-raiders/audit/")
                && record.key.ends_with(&format!("-{name}.json")),
            "run {i}: key {}",
            record.key
        );
        let bytes = object(&ctx, &record.key).await?;
        check!(
            sha256_hex(&bytes) == record.sha256,
            "run {i}: the message's hash is not the stored bytes'"
        );
        let stored = DecisionRecord::parse(&bytes)?;
        check!(
            stored.execution == run.execution_arn,
            "run {i}: the record names {}",
            stored.execution
        );
        // Chained to the run before (the first may follow an earlier stack's record: none here,
        // the stage is this case's own, but the bucket outlives cases within one stack).
        if let Some(before) = written.last() {
            check!(
                stored.previous.as_ref() == Some(before),
                "run {i}: previous {:?}, want {before:?}",
                stored.previous
            );
        }
        written.push(record);
    }

    let (code, _, out) = verify(&ctx, &[]).await?;
    check!(
        code == Some(0),
        "verify of a whole chain exited {code:?}: {out}"
    );
    check!(out.contains("whole"), "verify: {out}");

    // Tamper: edit the first record's bytes, delete the third.
    let s3 = ctx.stack.clients().await.s3;
    let first = object(&ctx, &written[0].key).await?;
    let edited = String::from_utf8_lossy(&first).replace("SUCCEEDED", "FAILED");
    s3.put_object()
        .bucket(&ctx.stack.record_bucket)
        .key(&written[0].key)
        .body(edited.into_bytes().into())
        .send()
        .await
        .map_err(|e| format!("PutObject: {e:?}"))?;
    s3.delete_object()
        .bucket(&ctx.stack.record_bucket)
        .key(&written[2].key)
        .send()
        .await
        .map_err(|e| format!("DeleteObject: {e:?}"))?;

    let (code, _, out) = verify(&ctx, &[]).await?;
    check!(
        code == Some(1),
        "verify of a tampered chain exited {code:?}: {out}"
    );
    check!(
        out.contains(&format!("ALTERED    {}", written[0].key)),
        "verify does not name the edited record {}: {out}",
        written[0].key
    );
    check!(
        out.contains(&format!("MISSING    {}", written[2].key)),
        "verify does not name the deleted record {}: {out}",
        written[2].key
    );
    let (code, stdout, out) = verify(&ctx, &["-o", "json"]).await?;
    check!(code == Some(1), "verify -o json exited {code:?}: {out}");
    let document: Value =
        serde_json::from_str(&stdout).map_err(|e| format!("verify -o json: {e}: {stdout}"))?;
    check!(
        document["whole"] == false && document["exitClass"] == "NEEDS_PERSON",
        "document {document}"
    );
    Ok(())
}

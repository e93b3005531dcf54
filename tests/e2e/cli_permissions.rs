//! The `stagegate` binary, each of its commands run as an operator runs it against the local
//! stack through a recording relay (`stagegate_tests::aws_calls`), needs exactly what the managed
//! policy meant for that command grants (`infra/permissions.json` "policies", which
//! `infra/least_privilege.py` holds the template's OperatorPolicy, RunnerPolicy and
//! ReadOnlyPolicy to).
//!
//! Why: the local stack checks no IAM, so a command that starts calling an action its policy
//! lacks passes every other tier and fails with AccessDenied in front of a person in the middle
//! of a deployment; and a policy action no command calls is privilege nobody needs. Each call is
//! turned into its IAM action by `stagegate_tests::iam_actions::TABLE`; a call the table does not
//! know fails the case, and so does a call on a resource outside what the template's policies
//! grant its action on (`iam_actions::Scope`: the state machine, its executions, its abort
//! parameters, the game). Every subcommand `stagegate --help` lists must be run here and be the
//! command of some policy.
//!
//! The runs: `validate`, `completions` and `man` (no AWS call at all), `run` (a dev deployment
//! given as `--game/--stage/--snapshot`, its notification read with `--queue-url`), `follow`,
//! `explain -o json` and `replay` of it, and `replay --since` of every run so far; `audit verify`
//! of dev's decision records (S3, the records bucket); while a prod run awaits approval, `status`
//! (stages from ListStages) and `reject` (the run by its name, with STATE_MACHINE_ARN); a second
//! prod run `approve`d, then `abort`ed by name while it deploys (the Parameter Store request).
//! Naming a run builds its ARN on this machine:
//! the calls, and so the policies, are those of the ARN.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use stagegate::policy::Phase;
use stagegate_cli::output::Document;
use stagegate_tests::aws_calls::{Call, Recorder};
use stagegate_tests::e2e::Ctx;
use stagegate_tests::iam_actions::{self, Grant, Scope};

use crate::common::{approval_request, expect_message, input, CaseResult, V11};

/// The CLI's endpoints, each a recording relay to the stack's own.
struct Relays {
    aws: Recorder,
    gamesparks: Recorder,
    /// The answer function's URL (`--answer-url`, as STAGEGATE_ANSWER_URL).
    answer: Recorder,
}

impl Relays {
    fn start(ctx: &Ctx) -> Result<Self, String> {
        Ok(Self {
            aws: Recorder::start(ctx.stack.aws)?,
            gamesparks: Recorder::start(ctx.stack.emulator)?,
            answer: Recorder::start(ctx.stack.answer_url.addr)?,
        })
    }

    /// The stack's client environment with every endpoint a relay.
    fn environment(&self, ctx: &Ctx) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = ctx
            .stack
            .environment()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("AWS_ENDPOINT_URL") && k != "STAGEGATE_ANSWER_URL")
            .collect();
        env.push((
            "STAGEGATE_ANSWER_URL".into(),
            format!("{}/", self.answer.url()),
        ));
        env.push(("AWS_ENDPOINT_URL".into(), self.aws.url()));
        env.push(("AWS_ENDPOINT_URL_GAMESPARKS".into(), self.gamesparks.url()));
        env
    }

    /// Runs `stagegate ARGS` to its end; its output and the calls it made, in order.
    async fn cli(&self, ctx: &Ctx, args: &[&str]) -> Result<(String, Vec<Call>), String> {
        self.aws.take()?;
        self.gamesparks.take()?;
        self.answer.take()?;
        let out = stagegate(&self.environment(ctx), args).await?;
        check!(
            out.status.success(),
            "stagegate {} exited {:?}: {}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut calls = self.aws.take()?;
        calls.extend(self.gamesparks.take()?);
        calls.extend(self.answer.take()?);
        Ok((String::from_utf8_lossy(&out.stdout).into_owned(), calls))
    }
}

async fn stagegate(
    env: &[(String, String)],
    args: &[&str],
) -> Result<std::process::Output, String> {
    let binary = stagegate_local::target_dir(&stagegate_tests::repo_root()).join("debug/stagegate");
    let mut command = std::process::Command::new(&binary);
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)));
    tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| format!("stagegate: {e}"))?
        .map_err(|e| format!("{}: {e}", binary.display()))
}

/// The subcommands `stagegate --help` lists (all but `help`).
async fn subcommands() -> Result<BTreeSet<String>, String> {
    let out = stagegate(&[], &["--help"]).await?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let listed: BTreeSet<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect();
    check!(
        !listed.is_empty(),
        "no commands in `stagegate --help`: {text}"
    );
    Ok(listed)
}

/// The IAM actions behind `calls`, each on a resource the template's policies grant it on; the
/// SQS calls must be on the queue given with `--queue-url`.
fn actions(
    command: &str,
    calls: &[Call],
    scope: &Scope,
    queue: &str,
) -> Result<BTreeSet<String>, String> {
    let mut actions = BTreeSet::new();
    for call in calls {
        match iam_actions::grant(call).map_err(|e| format!("`stagegate {command}`: {e}"))? {
            Grant::Action(action) => {
                if let Some(refusal) = scope.refusal(action, call) {
                    return Err(format!("`stagegate {command}`: {refusal}"));
                }
                actions.insert(action.to_owned());
            }
            Grant::NoneNeeded => {}
            Grant::CallersQueue(action) => check!(
                call.form("QueueUrl").as_deref() == Some(queue),
                "`stagegate {command}`: {action} on {:?}, not the --queue-url queue {queue}",
                call.form("QueueUrl")
            ),
        }
    }
    Ok(actions)
}

/// Waits until the run asks for approval, and takes the request it published (the case reads
/// each run's ending alone).
async fn awaiting_approval(ctx: &Ctx, arn: &str) -> CaseResult {
    approval_request(ctx, arn).await.map(|_| ())
}

pub async fn cli_calls_match_their_policies(ctx: Arc<Ctx>) -> CaseResult {
    let permissions = stagegate_tests::repo_root().join("infra/permissions.json");
    let text = std::fs::read_to_string(&permissions)
        .map_err(|e| format!("{}: {e}", permissions.display()))?;
    let policies = iam_actions::policies(&text)?;
    let relays = Relays::start(&ctx)?;
    let queue = ctx.stack.queue_url.clone();
    let scope = Scope::new(&ctx.stack.state_machine_arn, "space-raiders")?
        .with_bucket(&ctx.stack.record_bucket)
        .with_fleet(&ctx.stack.fleet_state_machine_arn, &ctx.stack.fleet_bucket);
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut record = |command: &str, calls: &[Call]| -> CaseResult {
        let found = actions(command, calls, &scope, &queue)?;
        used.entry(command.to_owned()).or_default().extend(found);
        Ok(())
    };

    // run, then follow the run it started.
    let dev =
        json!({"gameName": "space-raiders", "stageName": "dev", "snapshotId": V11}).to_string();
    // validate reads the input with the gate's parser, on this machine: it needs no AWS at all.
    let (out, calls) = relays.cli(&ctx, &["validate", "--input", &dev]).await?;
    check!(out.starts_with("valid: "), "`stagegate validate`: {out}");
    check!(
        calls.is_empty(),
        "`stagegate validate` made {} AWS calls; it needs none",
        calls.len()
    );
    let mut without_aws = BTreeSet::from(["validate".to_owned()]);
    // Generated from the clap definitions: no AWS either.
    for (command, args) in [
        ("completions", &["completions", "bash"][..]),
        ("man", &["man"][..]),
    ] {
        let (out, calls) = relays.cli(&ctx, args).await?;
        check!(out.contains("approve"), "`stagegate {command}`: {out}");
        check!(
            calls.is_empty(),
            "`stagegate {command}` made {} AWS calls; it needs none",
            calls.len()
        );
        without_aws.insert(command.to_owned());
    }
    let (out, calls) = relays
        .cli(
            &ctx,
            &[
                "run",
                "--game",
                "space-raiders",
                "--stage",
                "dev",
                "--snapshot",
                V11,
                "--name",
                "cli-permissions-run",
                "--poll-interval-ms",
                "200",
                "--queue-url",
                &queue,
            ],
        )
        .await?;
    let arn = out
        .lines()
        .find_map(|l| l.strip_prefix("started "))
        .ok_or_else(|| format!("`stagegate run` printed no execution: {out}"))?
        .trim()
        .to_owned();
    check!(out.contains("result: SUCCEEDED"), "`stagegate run`: {out}");
    record("run", &calls)?;
    let (_, calls) = relays
        .cli(
            &ctx,
            &[
                "follow",
                "--execution-arn",
                &arn,
                "--poll-interval-ms",
                "200",
            ],
        )
        .await?;
    record("follow", &calls)?;
    // explain and replay read the finished run's decision record back from its history.
    let (out, calls) = relays
        .cli(&ctx, &["explain", "--execution-arn", &arn, "-o", "json"])
        .await?;
    let explained = serde_json::from_str::<Document>(&out)
        .map_err(|e| format!("`stagegate explain -o json` printed no document ({e}): {out}"))?;
    let Document::Explain(explained) = explained else {
        return Err(format!("`stagegate explain -o json`: {out}"));
    };
    let told = explained
        .story
        .as_ref()
        .map(|s| (s.lines.len(), s.verdict.as_str()));
    let published = explained
        .notification
        .as_ref()
        .map(|n| n["outcome"].clone());
    check!(
        matches!(told, Some((n, "SUCCEEDED")) if n > 0) && published == Some(json!("SUCCEEDED")),
        "`stagegate explain` of the dev run: {out}"
    );
    record("explain", &calls)?;
    let (out, calls) = relays
        .cli(&ctx, &["replay", "--execution", name_of(&arn)])
        .await?;
    check!(
        out.contains(": same (") && out.contains(" 0 differ, 0 no record, 0 error(s)"),
        "`stagegate replay` of the dev run: {out}"
    );
    record("replay", &calls)?;
    // Every run of the state machine this hour (this e2e run's, all ended): ListExecutions paged
    // to the window's edge, then each history read, paced.
    let (out, calls) = relays
        .cli(&ctx, &["replay", "--since", "1h", "-o", "json"])
        .await?;
    let Ok(Document::Replay(replayed)) = serde_json::from_str::<Document>(&out) else {
        return Err(format!("`stagegate replay --since 1h -o json`: {out}"));
    };
    let s = &replayed.summary;
    check!(
        replayed
            .runs
            .iter()
            .any(|r| r.source == arn && r.result == "same")
            && s.runs_that_differ == 0
            && s.errors == 0
            && s.runs == replayed.runs.len(),
        "`stagegate replay --since 1h`: {out}"
    );
    record("replay", &calls)?;

    // audit verify of dev's decision records (the run above wrote one; the bucket from
    // STAGEGATE_RECORD_BUCKET): read only. Exit 1 is a finding, not a failure of the command:
    // dev's chain spans every case that ran on dev.
    relays.aws.take()?;
    let out = stagegate(
        &relays.environment(&ctx),
        &[
            "audit",
            "verify",
            "--game",
            "space-raiders",
            "--stage",
            "dev",
        ],
    )
    .await?;
    check!(
        matches!(out.status.code(), Some(0 | 1)),
        "`stagegate audit verify` exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    record("audit", &relays.aws.take()?)?;

    // status (the stages from ListStages) and reject, while a prod run awaits approval.
    let waiting = ctx
        .start("cli-permissions-reject", with_approval(input(V11)))
        .await?;
    awaiting_approval(&ctx, &waiting).await?;
    let (out, calls) = relays
        .cli(&ctx, &["status", "--game", "space-raiders", "--json"])
        .await?;
    check!(
        out.contains(&waiting),
        "`stagegate status` does not show the run awaiting approval: {out}"
    );
    record("status", &calls)?;
    let (_, calls) = relays
        .cli(
            &ctx,
            &[
                "reject",
                "--execution",
                name_of(&waiting),
                "--reason",
                "e2e: cli permissions",
            ],
        )
        .await?;
    record("reject", &calls)?;
    let run = ctx.finish_and_read(&waiting).await?;
    expect_message(&run, "REJECTED")?;

    // approve, then abort while the approved stage deploys (10 virtual minutes, 10 s here).
    ctx.admin(
        "POST",
        "/_emulator/outcomes",
        Some(&json!({V11: {"result": "SUCCESS", "durationSeconds": 600}})),
    )?;
    let approved = ctx
        .start("cli-permissions-abort", with_approval(input(V11)))
        .await?;
    awaiting_approval(&ctx, &approved).await?;
    let (_, calls) = relays
        .cli(
            &ctx,
            &[
                "approve",
                "--execution-arn",
                &approved,
                "--reason",
                "e2e: cli permissions",
            ],
        )
        .await?;
    record("approve", &calls)?;
    ctx.wait_for_state(&approved, "the deployment", Duration::from_secs(60), |s| {
        s.phase == Phase::Deploy && !s.deployment.deployment_id.is_empty()
    })
    .await?;
    let (_, calls) = relays
        .cli(
            &ctx,
            &[
                "abort",
                "--execution",
                name_of(&approved),
                "--reason",
                "e2e: cli permissions",
            ],
        )
        .await?;
    record("abort", &calls)?;
    let run = ctx.finish_and_read(&approved).await?;
    expect_message(&run, "ABORTED")?;

    // fleet run, then fleet status of it (running or ended: its progress or its summary).
    let fleet_file = std::env::temp_dir().join(format!(
        "stagegate-e2e-cli-fleet-{}.json",
        std::process::id()
    ));
    let fleet = json!({"fleetName": "cli", "games": [{"gameName": "space-raiders", "stageName": "dev", "snapshotId": V11}], "budget": {"maxFailurePercent": 0}});
    std::fs::write(&fleet_file, fleet.to_string()).map_err(|e| e.to_string())?;
    let fleet_path = fleet_file.to_string_lossy().into_owned();
    let (_, calls) = relays
        .cli(
            &ctx,
            &[
                "fleet",
                "run",
                "--input",
                &fleet_path,
                "--name",
                "cli-permissions-fleet",
            ],
        )
        .await?;
    let _ = std::fs::remove_file(&fleet_file);
    record("fleet", &calls)?;
    relays.aws.take()?;
    let out = stagegate(
        &relays.environment(&ctx),
        &["fleet", "status", "--execution", "cli-permissions-fleet"],
    )
    .await?;
    check!(
        matches!(out.status.code(), Some(0 | 1 | 5)),
        "`stagegate fleet status` exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    record("fleet", &relays.aws.take()?)?;
    // The fleet's one game ends before the next case resets the emulator under it.
    let clients = ctx.stack.clients().await;
    let fleet_arn = format!(
        "{}:cli-permissions-fleet",
        ctx.stack
            .fleet_state_machine_arn
            .replace(":stateMachine:", ":execution:")
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let d = clients
            .sfn
            .describe_execution()
            .execution_arn(&fleet_arn)
            .send()
            .await
            .map_err(|e| format!("DescribeExecution {fleet_arn}: {e:?}"))?;
        if d.status() != Some(&aws_sdk_sfn::types::ExecutionStatus::Running) {
            break;
        }
        check!(
            std::time::Instant::now() < deadline,
            "the fleet of the cli case still runs"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stagegate_tests::fleet::drain(&ctx.stack, &clients).await?;

    let commands = subcommands().await?;
    let ran: BTreeSet<String> = used.keys().chain(&without_aws).cloned().collect();
    check!(
        ran == commands,
        "`stagegate --help` lists {commands:?}; this case runs {ran:?}: run each command here"
    );
    let problems = iam_actions::compare(&policies, &used);
    check!(
        problems.is_empty(),
        "the CLI's calls and its policies disagree:\n      {}\n    (what each command called: {used:?})",
        problems.join("\n      ")
    );
    Ok(())
}

/// An execution's name, as `stagegate status` shows it: the last part of its ARN.
fn name_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

fn with_approval(mut input: Value) -> Value {
    input["approval"] = json!({"timeoutSeconds": 600});
    input
}

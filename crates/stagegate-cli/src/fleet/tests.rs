//! `fleet run` and `fleet status` over a fake of their AWS calls (`Fake`, a `Calls` that records
//! each call): a bad input is refused naming the item and the rule with no call made; a run
//! starts under the default name with the input byte for byte; `status` reads the summary, else
//! the progress, else neither, in at most three calls, and its exit code follows the fleet's
//! standing; a run is named by its name with the fleet state machine, or by its ARN. And the SDK's
//! side (`Sdk`) against a stand-in HTTP server: the bucket addressed path-style at an endpoint
//! override, a missing object taken for none, S3's AccessDenied explained.

use std::cell::RefCell;
use std::collections::BTreeMap;

use clap::Parser;
use serde_json::{json, Value};
use stagegate::verdict::Verdict;
use stagegate_core::budget::Next;
use stagegate_core::fleet::parse_fleet;
use stagegate_core::fleet_run::{after_batch, plan, FleetProgress, ItemEnding};
use stagegate_core::fleet_summary::{refused, summarize};
use time::macros::datetime;

use super::command::{start, started_text};
use super::report::{self, progress_key, summary_key};
use super::*;
use crate::cli::{check_arguments, Cli, Command};
use crate::output::{FleetState, OnBreachName};

const MACHINE: &str = "arn:aws:states:eu-west-1:123456789012:stateMachine:sg-fleet";
const EXECUTIONS: &str = "arn:aws:states:eu-west-1:123456789012:execution:sg-fleet";
const RUN: &str = "nightly-20261208T013005Z";
const BUCKET: &str = "sg-fleet-bucket";

#[derive(Default)]
struct Fake {
    described: Described,
    objects: BTreeMap<String, Vec<u8>>,
    calls: RefCell<Vec<String>>,
}

impl Fake {
    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Calls for Fake {
    async fn start_execution(
        &self,
        state_machine: &str,
        name: &str,
        input: &str,
    ) -> Result<String, String> {
        self.calls
            .borrow_mut()
            .push(format!("StartExecution {state_machine} {name} {input}"));
        Ok(format!("{EXECUTIONS}:{name}"))
    }

    async fn describe_execution(&self, arn: &str) -> Result<Described, String> {
        self.calls
            .borrow_mut()
            .push(format!("DescribeExecution {arn}"));
        Ok(self.described.clone())
    }

    async fn get_object(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.calls.borrow_mut().push(format!("GetObject {key}"));
        Ok(self.objects.get(key).cloned())
    }
}

fn game(name: &str, stage: &str) -> Value {
    json!({"gameName": name, "stageName": stage, "snapshotId": "latest"})
}

/// A fleet input of `games` `g0`..., `extra` members added, pretty-printed as a person writes it.
fn fleet_text(games: usize, extra: Value) -> String {
    let mut v = json!({
        "fleetName": "nightly",
        "games": (0..games).map(|i| game(&format!("g{i}"), "prod")).collect::<Vec<_>>(),
        "budget": {"maxFailurePercent": 5},
    });
    if let (Some(o), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in more {
            o.insert(k.clone(), x.clone());
        }
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

async fn started(fake: &Fake, text: &str, name: Option<&str>) -> Result<String, String> {
    start(
        fake,
        MACHINE,
        text,
        name,
        datetime!(2026-12-08 01:30:05 UTC),
    )
    .await
    .map(|s| started_text(&s))
}

#[tokio::test]
async fn a_bad_fleet_input_names_the_item_and_the_rule_and_makes_no_call() {
    let duplicate = json!({"fleetName": "nightly", "budget": {"maxFailurePercent": 5},
        "games": [game("a", "prod"), game("b", "prod"), game("a", "prod")]})
    .to_string();
    let over = fleet_text(4, json!({"budget": {"maxFailurePercent": 120}}));
    let both = fleet_text(4, json!({"canaries": ["g0"], "canaryCount": 1}));
    let from_s3 = |extra: Value| {
        let mut v = json!({"fleetName": "nightly", "budget": {"maxFailurePercent": 5},
            "gamesFrom": {"bucket": "b", "key": "games.json"}});
        if let (Some(o), Some(more)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in more {
                o.insert(k.clone(), x.clone());
            }
        }
        v.to_string()
    };
    let cases: [(&str, String, &str); 8] = [
        (
            "games[2]",
            duplicate,
            "gates a/prod again (games[0] does): a stage is gated once per fleet run",
        ),
        (
            "games",
            fleet_text(0, json!({})),
            "must list 1-10000 games, got 0",
        ),
        (
            "budget.maxFailurePercent",
            over,
            "must be 0-100 (percent of the fleet's games), got 120",
        ),
        (
            "canaryCount",
            both,
            "give canaries by name or by count, not both",
        ),
        (
            "batchSize",
            fleet_text(4, json!({"batchSize": 0})),
            "must be 1-500, got 0",
        ),
        // With the games in S3, the fleet's own rules are still checked here.
        (
            "batchSize",
            from_s3(json!({"batchSize": 5000})),
            "must be 1-500, got 5000",
        ),
        (
            "gamesFrom",
            from_s3(json!({"games": []})),
            "give the games inline (games) or in S3 (gamesFrom), not both",
        ),
        (
            "canaries[1]",
            from_s3(json!({"canaries": ["a", "a"]})),
            "names \"a\" twice",
        ),
    ];
    for (field, text, rule) in cases {
        let fake = Fake::default();
        let refused = started(&fake, &text, None).await.err().unwrap_or_default();
        assert!(
            refused.starts_with(&format!(
                "the fleet input is not valid: field `{field}`: {rule}"
            )),
            "{field}: {refused}"
        );
        assert!(refused.ends_with("; nothing was started"), "{refused}");
        assert_eq!(fake.calls(), Vec::<String>::new(), "{field}");
    }
    for text in ["{", &format!("{{\"x\": \"{}\"}}", "y".repeat(300 * 1024))] {
        let fake = Fake::default();
        let refused = started(&fake, text, None).await.err().unwrap_or_default();
        assert!(
            refused.starts_with("the fleet input is not valid: "),
            "{refused}"
        );
        assert!(fake.calls().is_empty());
    }
    // A bad --name is refused before the call too.
    let fake = Fake::default();
    let refused = started(&fake, &fleet_text(3, json!({})), Some("night ly"))
        .await
        .err()
        .unwrap_or_default();
    assert!(refused.starts_with("--name `night ly`"), "{refused}");
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn a_run_starts_under_the_default_name_with_the_input_as_given() {
    let text = fleet_text(
        5,
        json!({"canaries": ["g3"], "batchSize": 2, "budget": {"maxFailurePercent": 40}}),
    );
    let fake = Fake::default();
    let printed = started(&fake, &text, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The name from the fleet and the time in UTC; the input byte for byte (its layout too).
    assert_eq!(
        fake.calls(),
        [format!("StartExecution {MACHINE} {RUN} {text}")]
    );
    assert_eq!(
        printed,
        format!(
            "started fleet nightly as {EXECUTIONS}:{RUN}\nplan: 5 games in 3 batches (canaries \
             g3 first, then up to 2 at a time); budget 40%: 2 failures allowed, 0 among the \
             canaries; on breach: leave\nfollow it: stagegate fleet status --execution \
             {EXECUTIONS}:{RUN} (with --fleet-bucket or STAGEGATE_FLEET_BUCKET)\n"
        )
    );
    // A name given is the name used.
    let fake = Fake::default();
    let printed = started(&fake, &text, Some("rerun-1"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        fake.calls(),
        [format!("StartExecution {MACHINE} rerun-1 {text}")]
    );
    assert!(
        printed.contains(&format!("{EXECUTIONS}:rerun-1")),
        "{printed}"
    );
}

#[tokio::test]
async fn games_in_s3_start_with_what_can_be_known_of_the_plan() {
    let text = json!({"fleetName": "nightly", "gamesFrom": {"bucket": "b", "key": "games.json"},
        "canaries": ["space-raiders"], "budget": {"maxFailurePercent": 5, "canaryMaxFailures": 1},
        "onBreach": "rollback"})
    .to_string();
    let checked = check::check(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked.plan.games, None);
    assert_eq!(
        checked.plan.games_from.as_deref(),
        Some("s3://b/games.json")
    );
    assert_eq!(checked.plan.canaries, ["space-raiders"]);
    assert_eq!(checked.plan.on_breach, OnBreachName::Rollback);
    assert_eq!(
        check::plan_line(&checked.plan),
        "plan: the games in s3://b/games.json (read and checked by the workflow's Plan step), \
         canaries space-raiders first, then up to 20 at a time; budget 5%: failures allowed: \
         that share of the games, rounded down, 1 among the canaries; on breach: rollback"
    );
    let fake = Fake::default();
    assert!(started(&fake, &text, None).await.is_ok());
    assert_eq!(fake.calls().len(), 1);
}

#[test]
fn the_default_name_fits_step_functions() {
    let at = datetime!(2026-12-08 01:30:05 +02:00);
    assert_eq!(
        check::default_name("nightly", at),
        "nightly-20261207T233005Z"
    );
    let long = check::default_name(&"n".repeat(100), at);
    assert_eq!(long.chars().count(), 80);
    assert!(long.ends_with("n-20261207T233005Z"), "{long}");
    assert_eq!(target::check_name("--name", &long), Ok(()));
}

/// A fleet of `n` games in batches of 2 under a budget of `percent`, after `batches` batches,
/// `failing` items ROLLED_BACK.
fn progress(n: usize, percent: u8, failing: &[usize], batches: usize) -> FleetProgress {
    let games: Vec<Value> = (0..n).map(|i| game(&format!("g{i}"), "prod")).collect();
    let request = parse_fleet(&json!({"fleetName": "nightly", "games": games.clone(),
        "budget": {"maxFailurePercent": percent}, "batchSize": 2}))
    .unwrap_or_else(|e| panic!("{e}"));
    let mut planned = plan(&request, &games, RUN, BUCKET, 2, 10);
    for _ in 0..batches {
        let Next::Batch { batch } = planned.progress.next else {
            break;
        };
        let endings: Vec<ItemEnding> = planned.batches[batch]
            .iter()
            .map(|i| {
                let fails = failing.contains(&i.item);
                ItemEnding {
                    item: i.item,
                    game_name: i.game_name.clone(),
                    verdict: if fails {
                        Verdict::RolledBack
                    } else {
                        Verdict::Succeeded
                    },
                    why: fails.then(|| format!("bake alarm g{}-errors", i.item)),
                    rollback_to: None,
                }
            })
            .collect();
        after_batch(&mut planned.progress, Some(&endings), "");
    }
    planned.progress
}

fn fake(status: &str, objects: &[(String, Vec<u8>)]) -> Fake {
    Fake {
        described: Described {
            name: RUN.into(),
            status: status.into(),
            input: Some(fleet_text(2, json!({}))),
            ..Described::default()
        },
        objects: objects.iter().cloned().collect(),
        calls: RefCell::default(),
    }
}

async fn status_of(fake: &Fake) -> (crate::output::FleetStatusDocument, String) {
    let arn = format!("{EXECUTIONS}:{RUN}");
    let read = report::read(fake, &arn, BUCKET)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let document = report::document(&read);
    let text = report::render(&document);
    (document, text)
}

fn bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[tokio::test]
async fn status_reads_the_summary_once_the_run_ended() {
    // 40 games, 10% allows 4: the fifth failure (in the 14th batch) stops the run; 13 failed
    // games, more than the text lists.
    let failing: Vec<usize> = (0..26).step_by(2).collect();
    let stopped = summarize(&progress(40, 10, &failing, 20));
    let fake = fake("SUCCEEDED", &[(summary_key(RUN), bytes(&stopped))]);
    let (document, text) = status_of(&fake).await;
    assert_eq!(
        fake.calls(),
        [
            format!("DescribeExecution {EXECUTIONS}:{RUN}"),
            format!("GetObject fleets/{RUN}/summary.json"),
        ],
        "one describe and one read, nothing per game"
    );
    assert_eq!(document.fleet_status, FleetState::Stopped);
    assert_eq!(
        (document.exit_code, document.exit_class.as_str()),
        (1, "NEEDS_PERSON")
    );
    assert!(document.progress.is_none());
    assert!(
        text.starts_with(&format!(
            "fleet nightly: STOPPED (execution {RUN} SUCCEEDED)\n"
        )),
        "{text}"
    );
    for line in [
        "  games:     10 started, 10 ended, 30 never started, of 40\n",
        "  outcomes:  ROLLED_BACK 5, SUCCEEDED 5\n",
        "  failures:  5 of 4 allowed (10% of 40); canaries: 0 of 0 allowed\n",
        "    g0 ROLLED_BACK: bake alarm g0-errors\n",
        "  reason:    5 of 40 games failed",
        "  next:      look at the failed games",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }

    // More failed games than the text lists: "+N more".
    let mut many = stopped.clone();
    many.failed_games = (0..14)
        .map(|i| stagegate_core::tally::FailedGame {
            game_name: format!("g{i}"),
            verdict: Verdict::Failed,
            why: None,
        })
        .collect();
    many.failed_unlisted = 3;
    let fake = self::fake("SUCCEEDED", &[(summary_key(RUN), bytes(&many))]);
    let (_, text) = status_of(&fake).await;
    assert!(
        text.contains("    g9 FAILED: (no reason given)\n    +7 more\n"),
        "{text}"
    );
    assert!(!text.contains("g10 FAILED"), "{text}");

    let completed = summarize(&progress(6, 10, &[], 10));
    let fake = self::fake("SUCCEEDED", &[(summary_key(RUN), bytes(&completed))]);
    let (document, text) = status_of(&fake).await;
    assert_eq!(
        (document.fleet_status, document.exit_code),
        (FleetState::Completed, 0)
    );
    assert!(
        text.contains("  next:      none: every batch ran"),
        "{text}"
    );

    let refusal = refused(
        "nightly",
        RUN,
        "games[3].gameName: no game g3 in GameSparks",
    );
    let fake = self::fake("SUCCEEDED", &[(summary_key(RUN), bytes(&refusal))]);
    let (document, text) = status_of(&fake).await;
    assert_eq!(
        (document.fleet_status, document.exit_code),
        (FleetState::Refused, 4)
    );
    assert!(
        text.contains("  reason:    games[3].gameName: no game g3 in GameSparks\n"),
        "{text}"
    );
}

#[tokio::test]
async fn status_reads_the_progress_while_the_run_goes_on() {
    let running = progress(6, 50, &[1], 1);
    let fake = fake("RUNNING", &[(progress_key(RUN), bytes(&running))]);
    let (document, text) = status_of(&fake).await;
    assert_eq!(
        fake.calls(),
        [
            format!("DescribeExecution {EXECUTIONS}:{RUN}"),
            format!("GetObject fleets/{RUN}/summary.json"),
            format!("GetObject fleets/{RUN}/progress.json"),
        ]
    );
    assert_eq!(document.fleet_status, FleetState::Running);
    assert_eq!(
        (document.exit_code, document.exit_class.as_str()),
        (5, "STILL_RUNNING")
    );
    for line in [
        "fleet nightly: RUNNING (execution nightly-20261208T013005Z RUNNING)\n",
        "  games:     2 started, 2 ended, of 6\n",
        "  batches:   1 of 3 done\n",
        "  outcomes:  ROLLED_BACK 1, SUCCEEDED 1\n",
        "  failures:  1 of 3 allowed (50% of 6)\n",
        "    g1 ROLLED_BACK: bake alarm g1-errors\n",
        "  next:      wait: batch 2 of 3 runs",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    // The tally stopped the run; the summary is not written yet.
    let spent = progress(40, 10, &[0, 1, 2, 3, 4], 3);
    let fake = self::fake("RUNNING", &[(progress_key(RUN), bytes(&spent))]);
    let (document, text) = status_of(&fake).await;
    assert_eq!(document.fleet_status, FleetState::Running);
    assert!(text.contains("  reason:    5 of 40 games failed"), "{text}");
    assert!(text.contains("the budget is spent"), "{text}");
}

#[tokio::test]
async fn status_before_the_first_tally_or_after_an_end_without_a_summary() {
    let fake = fake("RUNNING", &[]);
    let (document, text) = status_of(&fake).await;
    assert_eq!(fake.calls().len(), 3);
    assert_eq!(
        (document.fleet_status, document.exit_code),
        (FleetState::Running, 5)
    );
    assert_eq!(
        document.fleet_name.as_deref(),
        Some("nightly"),
        "from the input"
    );
    assert!(
        text.contains("  games:     planning / first batch running\n"),
        "{text}"
    );

    let mut ended = self::fake("FAILED", &[]);
    ended.described.error = Some("States.Runtime".into());
    ended.described.cause = Some("the Tally step failed".into());
    let (document, text) = status_of(&ended).await;
    assert_eq!(
        (document.fleet_status, document.exit_code),
        (FleetState::EndedWithoutSummary, 1)
    );
    assert!(
        text.contains("  error:     States.Runtime the Tally step failed\n"),
        "{text}"
    );
    assert!(
        text.contains("the fleet execution ended FAILED without a summary (States.Runtime)"),
        "{text}"
    );
}

#[test]
fn a_run_is_named_by_its_name_with_the_fleet_state_machine_or_by_its_arn() {
    let parsed = |args: &[&str]| -> StatusArgs {
        let all = [
            &["stagegate", "fleet", "status", "--fleet-bucket", BUCKET],
            args,
        ]
        .concat();
        match Cli::try_parse_from(all) {
            Ok(Cli {
                command:
                    Command::Fleet {
                        command: FleetCommand::Status(args),
                    },
                ..
            }) => args,
            Ok(_) => panic!("not fleet status"),
            Err(e) => panic!("{e}"),
        }
    };
    let arn = format!("{EXECUTIONS}:{RUN}");
    let by_name = parsed(&["--execution", RUN, "--fleet-state-machine-arn", MACHINE]);
    assert_eq!(by_name.arn().as_deref(), Ok(arn.as_str()));
    let by_arn = parsed(&["--execution-arn", &arn]);
    assert_eq!(by_arn.arn().as_deref(), Ok(arn.as_str()));
    let alone = parsed(&["--execution", RUN])
        .arn()
        .err()
        .unwrap_or_default();
    assert!(
        alone.contains(
            "give the fleet state machine with --fleet-state-machine-arn (or \
                        STAGEGATE_FLEET_STATE_MACHINE_ARN)"
        ),
        "{alone}"
    );
    let machine_as_run = parsed(&["--execution", MACHINE])
        .arn()
        .err()
        .unwrap_or_default();
    assert!(
        machine_as_run.starts_with("--execution is a state machine ARN"),
        "{machine_as_run}"
    );
    // The same checks before any client: `check_arguments`.
    let cli = Cli::try_parse_from([
        "stagegate",
        "fleet",
        "status",
        "--fleet-bucket",
        " ",
        "--execution-arn",
        &arn,
    ]);
    let checked = cli
        .map_err(|e| e.to_string())
        .and_then(|c| check_arguments(&c.command));
    assert!(
        checked
            .err()
            .is_some_and(|e| e.starts_with("--fleet-bucket is empty")),
        "a blank bucket"
    );
    let run = Cli::try_parse_from([
        "stagegate",
        "fleet",
        "run",
        "--input",
        "fleet.json",
        "--fleet-state-machine-arn",
        &arn,
    ]);
    let checked = run
        .map_err(|e| e.to_string())
        .and_then(|c| check_arguments(&c.command))
        .err()
        .unwrap_or_default();
    assert!(
        checked.starts_with("--fleet-state-machine-arn is an execution ARN"),
        "{checked}"
    );
}

/// Serves one answer per request until the test ends, closing each connection; returns its URL
/// and the request lines it saw.
fn stand_in() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    // `localhost`, not the IP: S3's rules address an IP path-style on their own.
    let url = format!(
        "http://localhost:{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"))
            .port()
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(match stream.try_clone() {
                Ok(s) => s,
                Err(_) => continue,
            });
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let line = line.trim().to_owned();
            let (status, kind, answer) = if line.starts_with("POST / ") {
                (
                    "200 OK",
                    "application/x-amz-json-1.0",
                    json!({"executionArn": format!("{EXECUTIONS}:{RUN}"),
                        "stateMachineArn": MACHINE, "name": RUN, "status": "RUNNING",
                        "startDate": 1_796_000_000.0, "input": "{\"fleetName\": \"nightly\"}"})
                    .to_string(),
                )
            } else if line.contains("/summary.json") {
                (
                    "404 Not Found",
                    "application/xml",
                    "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.\
                     </Message></Error>"
                        .to_owned(),
                )
            } else {
                (
                    "403 Forbidden",
                    "application/xml",
                    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                        .to_owned(),
                )
            };
            if let Ok(mut seen) = log.lock() {
                seen.push(line);
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, seen)
}

#[tokio::test]
async fn the_sdk_reads_the_bucket_path_style_and_a_missing_object_is_none() {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;
    let (url, seen) = stand_in();
    let config = aws_config::SdkConfig::builder()
        .region(aws_sdk_sfn::config::Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKID", "secret", None, None, "test",
        )))
        .http_connector(stagegate_http::connector())
        .build();
    let sdk = Sdk::with_config(&config, &url, BUCKET);
    let arn = format!("{EXECUTIONS}:{RUN}");
    let described = sdk
        .describe_execution(&arn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (described.name.as_str(), described.status.as_str()),
        (RUN, "RUNNING")
    );
    assert_eq!(
        sdk.get_object(&summary_key(RUN)).await,
        Ok(None),
        "NoSuchKey is no summary yet"
    );
    let denied = report::read(&sdk, &arn, BUCKET)
        .await
        .err()
        .unwrap_or_default();
    assert!(
        denied.starts_with(&format!("s3://{BUCKET}/fleets/{RUN}/progress.json: ")),
        "{denied}"
    );
    assert!(denied.contains("s3:ListBucket"), "{denied}");
    let lines = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let paths: Vec<&str> = lines
        .iter()
        .map(|l| {
            let target = l.split(' ').nth(1).unwrap_or_default();
            target.split('?').next().unwrap_or_default()
        })
        .collect();
    assert_eq!(
        paths,
        [
            "/".to_owned(),
            format!("/{BUCKET}/fleets/{RUN}/summary.json"),
            "/".to_owned(),
            format!("/{BUCKET}/fleets/{RUN}/summary.json"),
            format!("/{BUCKET}/fleets/{RUN}/progress.json"),
        ]
    );
}

//! Read operations and CreateSnapshot through the real aws-sdk-gamesparks 0.33 client.

mod common;

use aws_sdk_gamesparks::types::{GameState, StageState};
use aws_smithy_types::DateTime;
use common::*;

fn secs(dt: Option<&DateTime>) -> i64 {
    dt.expect("timestamp present").secs()
}

#[tokio::test]
async fn list_games_and_get_game() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    let out = gs.list_games().send().await.expect("ListGames");
    let names: Vec<&str> = out
        .games()
        .unwrap_or_default()
        .iter()
        .filter_map(|g| g.name())
        .collect();
    assert_eq!(names, ["puzzle-quest", "space-raiders"]);
    assert!(out.next_token().is_none());
    let raiders = &out.games().unwrap_or_default()[1];
    assert_eq!(raiders.state(), Some(&GameState::Active));
    assert_eq!(
        raiders
            .tags()
            .and_then(|t| t.get("team"))
            .map(String::as_str),
        Some("raiders")
    );

    let game = gs
        .get_game()
        .game_name(GAME)
        .send()
        .await
        .expect("GetGame")
        .game()
        .cloned()
        .expect("Game");
    assert_eq!(
        game.arn(),
        Some("arn:aws:gamesparks:us-east-1:123456789012:game/space-raiders")
    );
    assert!(game.enable_termination_protection());
    assert_eq!(
        game.created().map(|d| d
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap()),
        Some("2026-09-01T09:00:00Z".to_string())
    );
    assert!(secs(game.last_updated()) > secs(game.created()));
}

#[tokio::test]
async fn list_stages_and_get_stage() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    let out = gs
        .list_stages()
        .game_name(GAME)
        .send()
        .await
        .expect("ListStages");
    let stages = out.stages().unwrap_or_default();
    assert_eq!(
        stages.iter().filter_map(|s| s.name()).collect::<Vec<_>>(),
        ["dev", "prod"]
    );
    assert!(stages
        .iter()
        .all(|s| s.game_key().is_some_and(|k| !k.is_empty())));

    let stage = gs
        .get_stage()
        .game_name(GAME)
        .stage_name("prod")
        .send()
        .await
        .expect("GetStage")
        .stage()
        .cloned()
        .expect("Stage");
    assert_eq!(
        stage.role(),
        Some("arn:aws:iam::123456789012:role/GameSparksSpaceRaidersProd")
    );
    assert_eq!(
        stage.arn(),
        Some("arn:aws:gamesparks:us-east-1:123456789012:game/space-raiders/stage/prod")
    );
    assert_eq!(stage.state(), Some(&StageState::Active));
    assert_eq!(
        stage.log_group(),
        Some("/aws/gamesparks/space-raiders/prod")
    );
    assert!(stage.created().is_some() && stage.last_updated().is_some());
}

#[tokio::test]
async fn snapshots_list_get_and_create() {
    let server = start_demo(1.0).await;
    let gs = client(&server).await;

    let out = gs
        .list_snapshots()
        .game_name(GAME)
        .send()
        .await
        .expect("ListSnapshots");
    let ids: Vec<&str> = out
        .snapshots()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.id())
        .collect();
    assert_eq!(ids.len(), 6);
    assert_eq!(ids[0], NEVER_FINISHES, "newest first");
    assert_eq!(ids[5], "Snapshot_2026-10-15T10:00:00.000Z");

    let snap = gs
        .get_snapshot()
        .game_name(GAME)
        .snapshot_id(KNOWN_GOOD)
        .sections("Extensions")
        .send()
        .await
        .expect("GetSnapshot")
        .snapshot()
        .cloned()
        .expect("Snapshot");
    assert_eq!(snap.id(), Some(KNOWN_GOOD));
    assert_eq!(snap.description(), Some("v1.0.0 launch build (known good)"));
    let sections = snap.sections().expect("Sections");
    assert_eq!(sections.len(), 1, "Sections query filters");
    let ext = &sections["Extensions"];
    assert_eq!(ext.name(), Some("Extensions"));
    assert!(ext.size() > 0);
    assert!(ext.attributes().is_some());
    // Created defaults to the time in the id.
    assert_eq!(secs(snap.created()), 1_793_523_600);

    let before = server.virtual_now().unix_timestamp();
    let created = gs
        .create_snapshot()
        .game_name(GAME)
        .description("hotfix build")
        .send()
        .await
        .expect("CreateSnapshot")
        .snapshot()
        .cloned()
        .expect("Snapshot");
    let id = created.id().expect("Id").to_string();
    assert!(
        id.starts_with("Snapshot_") && id.ends_with('Z') && id.len() == 33,
        "{id}"
    );
    let c = secs(created.created());
    assert!((before - 1..=before + 5).contains(&c), "{c} vs {before}");
    assert!(created
        .sections()
        .is_some_and(|s| s.contains_key("Messages")));

    let again = gs
        .get_snapshot()
        .game_name(GAME)
        .snapshot_id(&id)
        .send()
        .await
        .expect("GetSnapshot of created");
    assert_eq!(
        again.snapshot().and_then(|s| s.description()),
        Some("hotfix build")
    );
    let listed = gs
        .list_snapshots()
        .game_name(GAME)
        .send()
        .await
        .expect("ListSnapshots");
    assert_eq!(
        listed.snapshots().unwrap_or_default()[0].id(),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn timestamps_are_virtual_and_sub_second() {
    // At 600x, consecutive snapshots are hundreds of virtual milliseconds apart, so their ids
    // and Created timestamps carry fractional seconds that the SDK must parse.
    let server = start_demo(600.0).await;
    let gs = client(&server).await;
    let clock = server.clock();
    let mut previous: Option<DateTime> = None;
    for _ in 0..3 {
        let snap = gs
            .create_snapshot()
            .game_name(GAME)
            .send()
            .await
            .expect("CreateSnapshot")
            .snapshot()
            .cloned()
            .expect("Snapshot");
        let created = *snap.created().expect("Created");
        let id = snap.id().expect("Id");
        let formatted = created
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .expect("format");
        // The id is the creation time with milliseconds.
        assert_eq!(
            id.trim_start_matches("Snapshot_")
                .trim_end_matches('Z')
                .split('.')
                .next(),
            formatted.trim_end_matches('Z').split('.').next()
        );
        if let Some(p) = previous {
            assert!(created.as_nanos() > p.as_nanos());
        }
        previous = Some(created);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    // Virtual time runs ahead of the origin at the configured scale.
    let origin = clock.origin_unix_millis as i128 * 1_000_000;
    let last = previous.expect("created").as_nanos();
    assert!(last >= origin);
    assert_eq!(clock.time_scale, 600.0);
}

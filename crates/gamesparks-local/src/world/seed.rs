//! Building the account a `Scenario` describes: resolving relative times, outcomes and default
//! names, and working out which snapshot's runtime serves each stage from its seeded history.
//!
//! Seeding runs once per server (and on scenario reloads) and has its own failure mode, a
//! scenario error naming the offending field, which no API operation shares; keeping it apart
//! keeps the operations about requests only.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::model::{render_message, Deployment, Game, IdGen, Plan, Snapshot, Stage};
use super::World;
use crate::clock::parse_time_spec;
use crate::scenario::{builtin_outcome, DeploymentAction, DeploymentState, ResultCode, Scenario};

/// A stable, plausible GameKey for a stage.
fn game_key(game: &str, stage: &str) -> String {
    Sha256::digest(format!("{game}/{stage}").as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl World {
    /// Builds the account a scenario describes; relative times are resolved against `now`.
    pub fn build(scenario: &Scenario, seed: u64, now: OffsetDateTime) -> Result<World, String> {
        scenario.check()?;
        let time = |at: &str, spec: &Option<String>, default: OffsetDateTime| match spec {
            Some(s) => parse_time_spec(s, now).map_err(|e| format!("{at}: {e}")),
            None => Ok(default),
        };
        let default_outcome = scenario
            .default_outcome
            .as_ref()
            .map_or_else(builtin_outcome, |o| o.over(&builtin_outcome()));
        let mut outcomes = HashMap::new();
        let mut ids = IdGen::new(seed);
        for game in &scenario.games {
            for stage in &game.stages {
                for d in &stage.deployments {
                    if let Some(id) = &d.id {
                        ids.reserve(id);
                    }
                }
            }
        }

        let mut games = BTreeMap::new();
        for (gi, g) in scenario.games.iter().enumerate() {
            let at = format!("games[{gi}]");
            let created = time(
                &format!("{at}.created"),
                &g.created,
                now.saturating_sub(Duration::days(30)),
            )?;
            let mut snapshots = BTreeMap::new();
            for (si, s) in g.snapshots.iter().enumerate() {
                let at = format!("{at}.snapshots[{si}]");
                let from_id =
                    s.id.strip_prefix("Snapshot_")
                        .and_then(|t| parse_time_spec(t, now).ok())
                        .unwrap_or(created);
                let s_created = time(&format!("{at}.created"), &s.created, from_id)?;
                let inline = s
                    .outcome
                    .as_ref()
                    .map_or_else(|| default_outcome.clone(), |o| o.over(&default_outcome));
                let resolved = match scenario.outcomes.get(&s.id) {
                    Some(o) => o.over(&inline),
                    None => inline,
                };
                if resolved != default_outcome {
                    outcomes.insert(s.id.clone(), resolved);
                }
                snapshots.insert(
                    s.id.clone(),
                    Snapshot {
                        id: s.id.clone(),
                        description: s.description.clone(),
                        created: s_created,
                        last_updated: time(
                            &format!("{at}.lastUpdated"),
                            &s.last_updated,
                            s_created,
                        )?,
                        sections: s.sections.clone(),
                    },
                );
            }

            let mut stages = BTreeMap::new();
            for (ti, st) in g.stages.iter().enumerate() {
                let at = format!("{at}.stages[{ti}]");
                let st_created = time(&format!("{at}.created"), &st.created, created)?;
                let mut stage = Stage {
                    name: st.name.clone(),
                    arn: format!(
                        "arn:aws:gamesparks:{}:{}:game/{}/stage/{}",
                        scenario.region, scenario.account_id, g.name, st.name
                    ),
                    role: st.role.clone(),
                    description: st.description.clone(),
                    game_key: st
                        .game_key
                        .clone()
                        .unwrap_or_else(|| game_key(&g.name, &st.name)),
                    log_group: st
                        .log_group
                        .clone()
                        .unwrap_or_else(|| format!("/aws/gamesparks/{}/{}", g.name, st.name)),
                    created: st_created,
                    last_updated: time(&format!("{at}.lastUpdated"), &st.last_updated, st_created)?,
                    tags: st.tags.clone(),
                    state: st.state,
                    deployments: Vec::new(),
                    deployed_snapshot: None,
                };
                let mut seeded = Vec::new();
                for (di, d) in st.deployments.iter().enumerate() {
                    let at = format!("{at}.deployments[{di}]");
                    let d_created = time(&format!("{at}.created"), &Some(d.created.clone()), now)?;
                    let state = d.state.unwrap_or(DeploymentState::Completed);
                    let result = match state {
                        DeploymentState::Completed => Some(ResultCode::Success),
                        DeploymentState::Failed => {
                            Some(d.result.unwrap_or(ResultCode::UnspecifiedFailure))
                        }
                        DeploymentState::Pending | DeploymentState::InProgress => None,
                    };
                    let finished = if state.is_active() {
                        d_created
                    } else {
                        d_created.saturating_add(Duration::saturating_seconds_f64(
                            d.duration_seconds.unwrap_or(180.0),
                        ))
                    };
                    let last_updated =
                        time(&format!("{at}.lastUpdated"), &d.last_updated, finished)?;
                    let message = result.and_then(|r| {
                        render_message(d.message.as_deref(), r, &g.name, &stage, &d.snapshot_id)
                    });
                    seeded.push(Deployment {
                        id: d.id.clone().unwrap_or_else(|| ids.deployment_id()),
                        seq: 0,
                        action: d.action.unwrap_or(DeploymentAction::Deploy),
                        snapshot_id: d.snapshot_id.clone(),
                        created: d_created,
                        plan: Plan::Fixed {
                            state,
                            result,
                            message,
                            last_updated,
                        },
                        applied: true,
                    });
                }
                seeded.sort_by_key(|d| d.created);
                for d in &mut seeded {
                    d.seq = ids.seq();
                }
                // The runtime serving the stage is the last successful DEPLOY that no later
                // UNDEPLOY removed.
                let mut by_completion: Vec<&Deployment> = seeded.iter().collect();
                by_completion.sort_by_key(|d| (d.view(now).last_updated, d.seq));
                for d in by_completion {
                    if d.view(now).state != DeploymentState::Completed {
                        continue;
                    }
                    match d.action {
                        DeploymentAction::Deploy => {
                            stage.deployed_snapshot = Some(d.snapshot_id.clone());
                        }
                        DeploymentAction::Undeploy => {
                            if stage.deployed_snapshot.as_deref() == Some(d.snapshot_id.as_str()) {
                                stage.deployed_snapshot = None;
                            }
                        }
                    }
                }
                stage.deployments = seeded;
                stages.insert(st.name.clone(), stage);
            }

            games.insert(
                g.name.clone(),
                Game {
                    name: g.name.clone(),
                    arn: format!(
                        "arn:aws:gamesparks:{}:{}:game/{}",
                        scenario.region, scenario.account_id, g.name
                    ),
                    description: g.description.clone(),
                    created,
                    last_updated: time(&format!("{at}.lastUpdated"), &g.last_updated, created)?,
                    tags: g.tags.clone(),
                    termination_protection: g.enable_termination_protection,
                    state: g.state,
                    stages,
                    snapshots,
                },
            );
        }

        Ok(World {
            region: scenario.region.clone(),
            account_id: scenario.account_id.clone(),
            page_size: scenario.default_page_size.unwrap_or(10),
            default_outcome,
            outcomes,
            games,
            client_tokens: HashMap::new(),
            ids,
            token_secret: Sha256::digest(format!("gamesparks-local/{seed}").as_bytes()).to_vec(),
            stats: BTreeMap::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::world;
    use crate::scenario::demo_snapshots;

    #[test]
    fn demo_stage_has_known_good_runtime() {
        let w = world();
        let dev = &w.games["space-raiders"].stages["dev"];
        assert_eq!(
            dev.deployed_snapshot.as_deref(),
            Some(demo_snapshots::KNOWN_GOOD)
        );
    }
}

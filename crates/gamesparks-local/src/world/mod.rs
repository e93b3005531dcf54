//! The emulated GameSparks account: games, stages, snapshots and deployments, and the operations
//! on them. Everything here is synchronous and runs under the server's lock.
//!
//! This file holds the account's state (`World`) and the lookups every operation shares. The
//! rest is split by job so that each part can be read and changed on its own:
//! - `model`: the entities and their invariants (deployment timeline, `settle`);
//! - `seed`: building a world from a `Scenario`;
//! - `games`, `snapshots`, `deployments`: the ten operations, by resource family, answering
//!   with the response shapes of `crate::wire`.
//!
//! Dependencies point one way: seeding and the operations use the model and this file; the model
//! uses neither.

mod deployments;
mod games;
mod model;
mod seed;
mod snapshots;

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;

use crate::error::ApiError;
use crate::scenario::{Outcome, ResolvedOutcome};

use model::{settle, Game, IdGen, Stage, StageStats};

/// A ClientToken already used by StartStageDeployment, and the request it was used for.
struct TokenUse {
    game: String,
    stage: String,
    snapshot_id: String,
    deployment_id: String,
}

pub(crate) struct World {
    region: String,
    account_id: String,
    page_size: usize,
    default_outcome: ResolvedOutcome,
    outcomes: HashMap<String, ResolvedOutcome>,
    games: BTreeMap<String, Game>,
    client_tokens: HashMap<String, TokenUse>,
    ids: IdGen,
    token_secret: Vec<u8>,
    stats: BTreeMap<String, StageStats>,
}

fn not_found_game(game: &str) -> ApiError {
    ApiError::not_found(format!("Game {game} not found"))
}

fn not_found_stage(game: &str, stage: &str) -> ApiError {
    ApiError::not_found(format!("Stage {stage} not found in game {game}"))
}

impl World {
    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn game_count(&self) -> usize {
        self.games.len()
    }

    pub fn stats(&self) -> &BTreeMap<String, StageStats> {
        &self.stats
    }

    pub fn stage_arn(&self, game: &str, stage: &str) -> String {
        format!(
            "arn:aws:gamesparks:{}:{}:game/{game}/stage/{stage}",
            self.region, self.account_id
        )
    }

    /// Sets how future deployments of a snapshot play out (`POST /_emulator/outcomes`); a key
    /// `<snapshot>@<stage>` sets it for one stage only.
    pub fn set_outcome(&mut self, key: &str, outcome: &Outcome) {
        let snapshot_id = key.split('@').next().unwrap_or(key);
        let base = self
            .outcomes
            .get(key)
            .or_else(|| self.outcomes.get(snapshot_id))
            .cloned()
            .unwrap_or_else(|| self.default_outcome.clone());
        self.outcomes.insert(key.to_string(), outcome.over(&base));
    }

    /// Brings every stage up to `now`, so counters include pending UNDEPLOY records.
    pub fn settle_all(&mut self, now: OffsetDateTime) {
        let World {
            games, ids, stats, ..
        } = self;
        for (gname, g) in games.iter_mut() {
            for (sname, st) in g.stages.iter_mut() {
                let s = stats.entry(format!("{gname}/{sname}")).or_default();
                settle(st, now, ids, s);
            }
        }
    }

    fn game(&self, game: &str) -> Result<&Game, ApiError> {
        self.games.get(game).ok_or_else(|| not_found_game(game))
    }

    /// The stage, brought up to date.
    fn stage_mut(
        &mut self,
        game: &str,
        stage: &str,
        now: OffsetDateTime,
    ) -> Result<&mut Stage, ApiError> {
        let World {
            games, ids, stats, ..
        } = self;
        let g = games.get_mut(game).ok_or_else(|| not_found_game(game))?;
        let st = g
            .stages
            .get_mut(stage)
            .ok_or_else(|| not_found_stage(game, stage))?;
        settle(
            st,
            now,
            ids,
            stats.entry(format!("{game}/{stage}")).or_default(),
        );
        Ok(st)
    }
}

/// The demo world at a fixed instant, shared by the unit tests of the submodules.
#[cfg(test)]
mod fixtures {
    use time::macros::datetime;
    use time::OffsetDateTime;

    use super::World;
    use crate::scenario::Scenario;

    pub(super) const T0: OffsetDateTime = datetime!(2026-11-26 05:00:00 UTC);

    pub(super) fn world() -> World {
        World::build(&Scenario::demo(), 1, T0).unwrap()
    }
}

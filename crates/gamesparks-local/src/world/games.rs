//! ListGames, GetGame, ListStages and GetStage: the read-only operations on games and stages,
//! which the gate uses to resolve names and check that a stage exists before deploying.
//!
//! They only read the model and answer with the shapes of `crate::wire`; GetStage also settles
//! the stage first, as every operation that looks at a stage does.

use serde_json::Value;
use time::OffsetDateTime;

use super::model::{Game, Stage};
use super::World;
use crate::error::ApiError;
use crate::op::Op;
use crate::pagination::{paginate, PageRequest};
use crate::wire::{
    to_body, GameDetails, GameSummary, GetGameResult, GetStageResult, ListGamesResult,
    ListStagesResult, StageDetails, StageSummary,
};

impl World {
    pub fn list_games(&self, page: &PageRequest) -> Result<Value, ApiError> {
        let items: Vec<&Game> = self.games.values().collect();
        let (items, next_token) = paginate(
            items,
            |g| g.name.clone(),
            &self.token_secret,
            Op::ListGames.name(),
            page,
            self.page_size,
        )?;
        let games = items
            .into_iter()
            .map(|g| GameSummary {
                description: g.description.as_deref(),
                name: &g.name,
                state: g.state,
                tags: &g.tags,
            })
            .collect();
        to_body(&ListGamesResult { games, next_token })
    }

    pub fn get_game(&self, game: &str) -> Result<Value, ApiError> {
        let g = self.game(game)?;
        to_body(&GetGameResult {
            game: GameDetails {
                arn: &g.arn,
                created: g.created,
                description: g.description.as_deref(),
                enable_termination_protection: g.termination_protection,
                last_updated: g.last_updated,
                name: &g.name,
                state: g.state,
                tags: &g.tags,
            },
        })
    }

    pub fn list_stages(&self, game: &str, page: &PageRequest) -> Result<Value, ApiError> {
        let g = self.game(game)?;
        let items: Vec<&Stage> = g.stages.values().collect();
        let (items, next_token) = paginate(
            items,
            |s| s.name.clone(),
            &self.token_secret,
            &format!("{}/{game}", Op::ListStages.name()),
            page,
            self.page_size,
        )?;
        let stages = items
            .into_iter()
            .map(|s| StageSummary {
                description: s.description.as_deref(),
                game_key: &s.game_key,
                name: &s.name,
                state: s.state,
                tags: &s.tags,
            })
            .collect();
        to_body(&ListStagesResult { next_token, stages })
    }

    pub fn get_stage(
        &mut self,
        game: &str,
        stage: &str,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let s = self.stage_mut(game, stage, now)?;
        to_body(&GetStageResult {
            stage: StageDetails {
                arn: &s.arn,
                created: s.created,
                description: s.description.as_deref(),
                game_key: &s.game_key,
                last_updated: s.last_updated,
                log_group: &s.log_group,
                name: &s.name,
                role: &s.role,
                state: s.state,
                tags: &s.tags,
            },
        })
    }
}

//! The emulated GameSparks account: games, stages, snapshots and deployments, and the operations
//! on them. Everything here is synchronous and runs under the server's lock.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::clock::{format_timestamp, parse_time_spec, snapshot_id_for};
use crate::error::ApiError;
use crate::faults::Rng;
use crate::op::Op;
use crate::pagination::{paginate, PageRequest};
use crate::scenario::{
    builtin_outcome, DeploymentAction, DeploymentState, EntityState, Outcome, ResolvedOutcome,
    ResultCode, Scenario,
};

/// Per-stage activity, reported by `GET /_emulator/counters`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StageStats {
    pub deploy: u64,
    pub undeploy: u64,
    pub idempotent_replays: u64,
    pub conflicts: u64,
}

pub(crate) struct Game {
    name: String,
    arn: String,
    description: Option<String>,
    created: OffsetDateTime,
    last_updated: OffsetDateTime,
    tags: BTreeMap<String, String>,
    termination_protection: bool,
    state: EntityState,
    stages: BTreeMap<String, Stage>,
    snapshots: BTreeMap<String, Snapshot>,
}

pub(crate) struct Stage {
    name: String,
    arn: String,
    role: String,
    description: Option<String>,
    game_key: String,
    log_group: String,
    created: OffsetDateTime,
    last_updated: OffsetDateTime,
    tags: BTreeMap<String, String>,
    state: EntityState,
    deployments: Vec<Deployment>,
    /// The snapshot whose runtime currently serves the stage.
    deployed_snapshot: Option<String>,
}

pub(crate) struct Snapshot {
    id: String,
    description: Option<String>,
    created: OffsetDateTime,
    last_updated: OffsetDateTime,
    sections: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
enum Plan {
    /// Seeded history or emulator-recorded entries: the state never changes.
    Fixed {
        state: DeploymentState,
        result: Option<ResultCode>,
        message: Option<String>,
        last_updated: OffsetDateTime,
    },
    /// Started through the API: the state follows virtual time.
    Live {
        pending: Duration,
        duration: Duration,
        never_finish: bool,
        result: ResultCode,
        message: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    id: String,
    seq: u64,
    action: DeploymentAction,
    snapshot_id: String,
    created: OffsetDateTime,
    plan: Plan,
    /// Whether its completion has been applied to the stage (UNDEPLOY recording).
    applied: bool,
}

struct View<'a> {
    state: DeploymentState,
    last_updated: OffsetDateTime,
    result: Option<(ResultCode, Option<&'a str>)>,
}

impl Deployment {
    fn finished_at(&self) -> Option<OffsetDateTime> {
        match &self.plan {
            Plan::Live {
                pending,
                duration,
                never_finish: false,
                ..
            } => Some(
                self.created
                    .saturating_add(*pending)
                    .saturating_add(*duration),
            ),
            _ => None,
        }
    }

    fn view(&self, now: OffsetDateTime) -> View<'_> {
        match &self.plan {
            Plan::Fixed {
                state,
                result,
                message,
                last_updated,
            } => View {
                state: *state,
                last_updated: *last_updated,
                result: result.map(|r| (r, message.as_deref())),
            },
            Plan::Live {
                pending,
                duration,
                never_finish,
                result,
                message,
            } => {
                let started = self.created.saturating_add(*pending);
                let done = started.saturating_add(*duration);
                if now < started {
                    View {
                        state: DeploymentState::Pending,
                        last_updated: self.created,
                        result: None,
                    }
                } else if *never_finish || now < done {
                    View {
                        state: DeploymentState::InProgress,
                        last_updated: started,
                        result: None,
                    }
                } else {
                    let state = if *result == ResultCode::Success {
                        DeploymentState::Completed
                    } else {
                        DeploymentState::Failed
                    };
                    View {
                        state,
                        last_updated: done,
                        result: Some((*result, message.as_deref())),
                    }
                }
            }
        }
    }

    fn summary(&self, now: OffsetDateTime) -> Map<String, Value> {
        let v = self.view(now);
        let mut m = Map::new();
        m.insert("DeploymentAction".into(), json!(self.action.as_str()));
        m.insert("DeploymentId".into(), json!(self.id));
        if let Some((code, message)) = v.result {
            let mut r = Map::new();
            if let Some(msg) = message {
                r.insert("Message".into(), json!(msg));
            }
            r.insert("ResultCode".into(), json!(code.as_str()));
            m.insert("DeploymentResult".into(), Value::Object(r));
        }
        m.insert("DeploymentState".into(), json!(v.state.as_str()));
        m.insert(
            "LastUpdated".into(),
            json!(format_timestamp(v.last_updated)),
        );
        m.insert("SnapshotId".into(), json!(self.snapshot_id));
        m
    }

    fn details(&self, now: OffsetDateTime) -> Value {
        let mut m = self.summary(now);
        m.insert("Created".into(), json!(format_timestamp(self.created)));
        Value::Object(m)
    }
}

/// Default DeploymentResult messages, worded like the service's.
fn default_message(result: ResultCode) -> Option<&'static str> {
    match result {
        ResultCode::Success => None,
        ResultCode::InvalidRoleFailure => Some(
            "The stage role {role} cannot be assumed by GameSparks. Check that the role exists and that its trust policy allows gamesparks.amazonaws.com to assume it.",
        ),
        ResultCode::UnspecifiedFailure => {
            Some("An unexpected error occurred while deploying the snapshot {snapshotId}.")
        }
    }
}

fn render_message(
    template: Option<&str>,
    result: ResultCode,
    game: &str,
    stage: &Stage,
    snapshot_id: &str,
) -> Option<String> {
    template.or_else(|| default_message(result)).map(|t| {
        t.replace("{role}", &stage.role)
            .replace("{snapshotId}", snapshot_id)
            .replace("{game}", game)
            .replace("{stage}", &stage.name)
    })
}

struct IdGen {
    rng: Rng,
    used: HashSet<String>,
    next_seq: u64,
}

impl IdGen {
    fn deployment_id(&mut self) -> String {
        loop {
            let id = format!("dep-{:016x}", self.rng.next_u64());
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

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

fn put_opt(m: &mut Map<String, Value>, key: &str, v: Option<&String>) {
    if let Some(v) = v {
        m.insert(key.into(), json!(v));
    }
}

fn put_tags(m: &mut Map<String, Value>, tags: &BTreeMap<String, String>) {
    if !tags.is_empty() {
        m.insert("Tags".into(), json!(tags));
    }
}

/// A stable, plausible GameKey for a stage.
fn game_key(game: &str, stage: &str) -> String {
    Sha256::digest(format!("{game}/{stage}").as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies completions that happened by `now`, in completion order: a successful DEPLOY
/// replaces the stage's runtime, so the previously deployed snapshot gets an UNDEPLOY entry
/// dated at the moment of replacement.
fn settle(stage: &mut Stage, now: OffsetDateTime, ids: &mut IdGen, stats: &mut StageStats) {
    loop {
        let next = stage
            .deployments
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.applied)
            .filter_map(|(i, d)| d.finished_at().filter(|t| *t <= now).map(|t| (t, d.seq, i)))
            .min();
        let Some((done, _, idx)) = next else {
            return;
        };
        let (success, snapshot) = {
            let d = &mut stage.deployments[idx];
            d.applied = true;
            let success = matches!(
                d.plan,
                Plan::Live {
                    result: ResultCode::Success,
                    ..
                }
            );
            (success, d.snapshot_id.clone())
        };
        if !success {
            continue;
        }
        if let Some(previous) = stage.deployed_snapshot.take() {
            stage.deployments.push(Deployment {
                id: ids.deployment_id(),
                seq: ids.seq(),
                action: DeploymentAction::Undeploy,
                snapshot_id: previous,
                created: done,
                plan: Plan::Fixed {
                    state: DeploymentState::Completed,
                    result: Some(ResultCode::Success),
                    message: None,
                    last_updated: done,
                },
                applied: true,
            });
            stats.undeploy += 1;
        }
        stage.deployed_snapshot = Some(snapshot);
    }
}

/// Newest first; the sequence number breaks ties between equal timestamps.
fn newest_first(deployments: &[Deployment]) -> Vec<&Deployment> {
    let mut v: Vec<&Deployment> = deployments.iter().collect();
    v.sort_by_key(|d| std::cmp::Reverse((d.created, d.seq)));
    v
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
        let mut ids = IdGen {
            rng: Rng::new(seed, 2),
            used: HashSet::new(),
            next_seq: 0,
        };
        for game in &scenario.games {
            for stage in &game.stages {
                for d in &stage.deployments {
                    if let Some(id) = &d.id {
                        ids.used.insert(id.clone());
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

    pub fn list_games(&self, page: &PageRequest) -> Result<Value, ApiError> {
        let items: Vec<&Game> = self.games.values().collect();
        let (items, next) = paginate(
            items,
            |g| g.name.clone(),
            &self.token_secret,
            Op::ListGames.name(),
            page,
            self.page_size,
        )?;
        let games: Vec<Value> = items
            .iter()
            .map(|g| {
                let mut m = Map::new();
                put_opt(&mut m, "Description", g.description.as_ref());
                m.insert("Name".into(), json!(g.name));
                m.insert("State".into(), json!(g.state.as_str()));
                put_tags(&mut m, &g.tags);
                Value::Object(m)
            })
            .collect();
        Ok(with_token(json!({ "Games": games }), next))
    }

    pub fn get_game(&self, game: &str) -> Result<Value, ApiError> {
        let g = self.game(game)?;
        let mut m = Map::new();
        m.insert("Arn".into(), json!(g.arn));
        m.insert("Created".into(), json!(format_timestamp(g.created)));
        put_opt(&mut m, "Description", g.description.as_ref());
        m.insert(
            "EnableTerminationProtection".into(),
            json!(g.termination_protection),
        );
        m.insert(
            "LastUpdated".into(),
            json!(format_timestamp(g.last_updated)),
        );
        m.insert("Name".into(), json!(g.name));
        m.insert("State".into(), json!(g.state.as_str()));
        put_tags(&mut m, &g.tags);
        Ok(json!({ "Game": m }))
    }

    pub fn list_stages(&self, game: &str, page: &PageRequest) -> Result<Value, ApiError> {
        let g = self.game(game)?;
        let items: Vec<&Stage> = g.stages.values().collect();
        let (items, next) = paginate(
            items,
            |s| s.name.clone(),
            &self.token_secret,
            &format!("{}/{game}", Op::ListStages.name()),
            page,
            self.page_size,
        )?;
        let stages: Vec<Value> = items
            .iter()
            .map(|s| {
                let mut m = Map::new();
                put_opt(&mut m, "Description", s.description.as_ref());
                m.insert("GameKey".into(), json!(s.game_key));
                m.insert("Name".into(), json!(s.name));
                m.insert("State".into(), json!(s.state.as_str()));
                put_tags(&mut m, &s.tags);
                Value::Object(m)
            })
            .collect();
        Ok(with_token(json!({ "Stages": stages }), next))
    }

    pub fn get_stage(
        &mut self,
        game: &str,
        stage: &str,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let s = self.stage_mut(game, stage, now)?;
        let mut m = Map::new();
        m.insert("Arn".into(), json!(s.arn));
        m.insert("Created".into(), json!(format_timestamp(s.created)));
        put_opt(&mut m, "Description", s.description.as_ref());
        m.insert("GameKey".into(), json!(s.game_key));
        m.insert(
            "LastUpdated".into(),
            json!(format_timestamp(s.last_updated)),
        );
        m.insert("LogGroup".into(), json!(s.log_group));
        m.insert("Name".into(), json!(s.name));
        m.insert("Role".into(), json!(s.role));
        m.insert("State".into(), json!(s.state.as_str()));
        put_tags(&mut m, &s.tags);
        Ok(json!({ "Stage": m }))
    }

    pub fn list_snapshots(&self, game: &str, page: &PageRequest) -> Result<Value, ApiError> {
        let g = self.game(game)?;
        let mut items: Vec<&Snapshot> = g.snapshots.values().collect();
        items.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
        let (items, next) = paginate(
            items,
            |s| s.id.clone(),
            &self.token_secret,
            &format!("{}/{game}", Op::ListSnapshots.name()),
            page,
            self.page_size,
        )?;
        let snapshots: Vec<Value> = items
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("Created".into(), json!(format_timestamp(s.created)));
                put_opt(&mut m, "Description", s.description.as_ref());
                m.insert("Id".into(), json!(s.id));
                m.insert(
                    "LastUpdated".into(),
                    json!(format_timestamp(s.last_updated)),
                );
                Value::Object(m)
            })
            .collect();
        Ok(with_token(json!({ "Snapshots": snapshots }), next))
    }

    fn snapshot_details(s: &Snapshot, sections: Option<&[String]>) -> Value {
        let mut out = Map::new();
        for (name, attrs) in &s.sections {
            if sections.is_some_and(|wanted| !wanted.iter().any(|w| w == name)) {
                continue;
            }
            let size = serde_json::to_vec(attrs).map_or(0, |b| b.len());
            out.insert(
                name.clone(),
                json!({ "Attributes": attrs, "Name": name, "Size": size }),
            );
        }
        let mut m = Map::new();
        m.insert("Created".into(), json!(format_timestamp(s.created)));
        put_opt(&mut m, "Description", s.description.as_ref());
        m.insert("Id".into(), json!(s.id));
        m.insert(
            "LastUpdated".into(),
            json!(format_timestamp(s.last_updated)),
        );
        m.insert("Sections".into(), Value::Object(out));
        Value::Object(m)
    }

    pub fn get_snapshot(
        &self,
        game: &str,
        snapshot_id: &str,
        sections: Option<&[String]>,
    ) -> Result<Value, ApiError> {
        let g = self.game(game)?;
        let s = g.snapshots.get(snapshot_id).ok_or_else(|| {
            ApiError::not_found(format!("Snapshot {snapshot_id} not found in game {game}"))
        })?;
        Ok(json!({ "Snapshot": Self::snapshot_details(s, sections) }))
    }

    /// Captures the game's current configuration, which the emulator models as the sections of
    /// its newest snapshot.
    pub fn create_snapshot(
        &mut self,
        game: &str,
        description: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let g = self
            .games
            .get_mut(game)
            .ok_or_else(|| not_found_game(game))?;
        // Ids have millisecond resolution; bump past any snapshot created in the same instant.
        let mut at = now;
        let mut id = snapshot_id_for(at);
        for _ in 0..10_000 {
            if !g.snapshots.contains_key(&id) {
                break;
            }
            at = at.saturating_add(Duration::milliseconds(1));
            id = snapshot_id_for(at);
        }
        if g.snapshots.contains_key(&id) {
            return Err(ApiError::conflict(format!(
                "Snapshot {id} already exists in game {game}"
            )));
        }
        let sections = g
            .snapshots
            .values()
            .max_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)))
            .map(|s| s.sections.clone())
            .unwrap_or_default();
        let snap = Snapshot {
            id: id.clone(),
            description,
            created: at,
            last_updated: at,
            sections,
        };
        let body = json!({ "Snapshot": Self::snapshot_details(&snap, None) });
        g.snapshots.insert(id, snap);
        Ok(body)
    }

    pub fn start_stage_deployment(
        &mut self,
        game: &str,
        stage: &str,
        snapshot_id: &str,
        client_token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let World {
            games,
            ids,
            stats,
            client_tokens,
            outcomes,
            default_outcome,
            ..
        } = self;
        let g = games.get_mut(game).ok_or_else(|| not_found_game(game))?;
        let st = g
            .stages
            .get_mut(stage)
            .ok_or_else(|| not_found_stage(game, stage))?;
        let stage_stats = stats.entry(format!("{game}/{stage}")).or_default();
        settle(st, now, ids, stage_stats);

        if let Some(token) = client_token {
            if let Some(used) = client_tokens.get(token) {
                let same =
                    used.game == game && used.stage == stage && used.snapshot_id == snapshot_id;
                let existing = st.deployments.iter().find(|d| d.id == used.deployment_id);
                if let (true, Some(d)) = (same, existing) {
                    stage_stats.idempotent_replays += 1;
                    return Ok(json!({ "StageDeployment": d.details(now) }));
                }
                stage_stats.conflicts += 1;
                return Err(ApiError::conflict(format!(
                    "ClientToken {token} was already used for a different request \
                     (deployment {} of snapshot {} to stage {} of game {})",
                    used.deployment_id, used.snapshot_id, used.stage, used.game
                )));
            }
        }

        if !g.snapshots.contains_key(snapshot_id) {
            return Err(ApiError::not_found(format!(
                "Snapshot {snapshot_id} not found in game {game}"
            )));
        }
        if let Some(active) = st
            .deployments
            .iter()
            .find(|d| d.view(now).state.is_active())
        {
            stage_stats.conflicts += 1;
            return Err(ApiError::conflict(format!(
                "Stage {stage} of game {game} already has a deployment in progress: {} ({}, snapshot {})",
                active.id,
                active.view(now).state.as_str(),
                active.snapshot_id
            )));
        }

        // `<snapshot>@<stage>` (set through the admin API) overrides the snapshot's outcome on
        // one stage, e.g. a snapshot that deploys on dev but fails on staging.
        let outcome = outcomes
            .get(&format!("{snapshot_id}@{stage}"))
            .or_else(|| outcomes.get(snapshot_id))
            .unwrap_or(default_outcome)
            .clone();
        let message = match outcome.result {
            ResultCode::Success => outcome.message.clone(),
            r => render_message(outcome.message.as_deref(), r, game, st, snapshot_id),
        };
        let deployment = Deployment {
            id: ids.deployment_id(),
            seq: ids.seq(),
            action: DeploymentAction::Deploy,
            snapshot_id: snapshot_id.to_string(),
            created: now,
            plan: Plan::Live {
                pending: Duration::saturating_seconds_f64(outcome.pending_seconds),
                duration: Duration::saturating_seconds_f64(outcome.duration_seconds),
                never_finish: outcome.never_finish,
                result: outcome.result,
                message,
            },
            applied: false,
        };
        let id = deployment.id.clone();
        st.deployments.push(deployment);
        stage_stats.deploy += 1;
        if let Some(token) = client_token {
            client_tokens.insert(
                token.to_string(),
                TokenUse {
                    game: game.to_string(),
                    stage: stage.to_string(),
                    snapshot_id: snapshot_id.to_string(),
                    deployment_id: id.clone(),
                },
            );
        }
        // Zero-length outcomes complete immediately.
        settle(st, now, ids, stage_stats);
        let d = st.deployments.iter().find(|d| d.id == id).ok_or_else(|| {
            ApiError::new(
                crate::error::ErrorKind::InternalServer,
                "deployment vanished",
            )
        })?;
        Ok(json!({ "StageDeployment": d.details(now) }))
    }

    /// Without a DeploymentId, the stage's most recently started DEPLOY (UNDEPLOY entries are
    /// bookkeeping the service adds, not something a caller started).
    pub fn get_stage_deployment(
        &mut self,
        game: &str,
        stage: &str,
        deployment_id: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let st = self.stage_mut(game, stage, now)?;
        let found = match deployment_id {
            Some(id) => st.deployments.iter().find(|d| d.id == id).ok_or_else(|| {
                ApiError::not_found(format!(
                    "Deployment {id} not found in stage {stage} of game {game}"
                ))
            })?,
            None => newest_first(&st.deployments)
                .into_iter()
                .find(|d| d.action == DeploymentAction::Deploy)
                .ok_or_else(|| {
                    ApiError::not_found(format!("Stage {stage} of game {game} has no deployments"))
                })?,
        };
        Ok(json!({ "StageDeployment": found.details(now) }))
    }

    pub fn list_stage_deployments(
        &mut self,
        game: &str,
        stage: &str,
        page: &PageRequest,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let page_size = self.page_size;
        let secret = self.token_secret.clone();
        let st = self.stage_mut(game, stage, now)?;
        let (items, next) = paginate(
            newest_first(&st.deployments),
            |d| d.id.clone(),
            &secret,
            &format!("{}/{game}/{stage}", Op::ListStageDeployments.name()),
            page,
            page_size,
        )?;
        let list: Vec<Value> = items
            .iter()
            .map(|d| Value::Object(d.summary(now)))
            .collect();
        Ok(with_token(json!({ "StageDeployments": list }), next))
    }
}

fn with_token(mut body: Value, next: Option<String>) -> Value {
    if let (Some(token), Some(m)) = (next, body.as_object_mut()) {
        m.insert("NextToken".into(), json!(token));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::demo_snapshots;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-26 05:00:00 UTC);

    fn world() -> World {
        World::build(&Scenario::demo(), 1, T0).unwrap()
    }

    fn state(v: &Value) -> &str {
        v["StageDeployment"]["DeploymentState"].as_str().unwrap()
    }

    #[test]
    fn demo_stage_has_known_good_runtime() {
        let w = world();
        let dev = &w.games["space-raiders"].stages["dev"];
        assert_eq!(
            dev.deployed_snapshot.as_deref(),
            Some(demo_snapshots::KNOWN_GOOD)
        );
    }

    #[test]
    fn lifecycle_and_undeploy() {
        let mut w = world();
        let snap = demo_snapshots::DEPLOYS;
        let r = w
            .start_stage_deployment("space-raiders", "dev", snap, None, T0)
            .unwrap();
        assert_eq!(state(&r), "PENDING");
        let id = r["StageDeployment"]["DeploymentId"]
            .as_str()
            .unwrap()
            .to_string();
        let at = |s: i64| T0 + Duration::seconds(s);
        let r = w
            .get_stage_deployment("space-raiders", "dev", Some(&id), at(6))
            .unwrap();
        assert_eq!(state(&r), "IN_PROGRESS");
        let err = w
            .start_stage_deployment("space-raiders", "dev", snap, None, at(6))
            .unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Conflict);
        let r = w
            .get_stage_deployment("space-raiders", "dev", None, at(65))
            .unwrap();
        assert_eq!(state(&r), "COMPLETED");
        assert_eq!(r["StageDeployment"]["LastUpdated"], "2026-11-26T05:01:05Z");
        let list = w
            .list_stage_deployments("space-raiders", "dev", &PageRequest::default(), at(70))
            .unwrap();
        let first = &list["StageDeployments"][0];
        assert_eq!(first["DeploymentAction"], "UNDEPLOY");
        assert_eq!(first["SnapshotId"], demo_snapshots::KNOWN_GOOD);
        assert_eq!(first["LastUpdated"], "2026-11-26T05:01:05Z");
        assert_eq!(list["StageDeployments"][1]["DeploymentId"], id.as_str());
        assert_eq!(w.stats["space-raiders/dev"].undeploy, 1);
    }

    #[test]
    fn failures_carry_messages() {
        let mut w = world();
        let r = w
            .start_stage_deployment(
                "space-raiders",
                "prod",
                "Snapshot_2026-11-20T16:45:00.000Z",
                None,
                T0,
            )
            .unwrap();
        let id = r["StageDeployment"]["DeploymentId"]
            .as_str()
            .unwrap()
            .to_string();
        let r = w
            .get_stage_deployment(
                "space-raiders",
                "prod",
                Some(&id),
                T0 + Duration::minutes(1),
            )
            .unwrap();
        assert_eq!(state(&r), "FAILED");
        let result = &r["StageDeployment"]["DeploymentResult"];
        assert_eq!(result["ResultCode"], "INVALID_ROLE_FAILURE");
        assert!(result["Message"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::123456789012:role/GameSparksSpaceRaidersProd"));
        // A failed deployment leaves the runtime alone: no UNDEPLOY.
        let list = w
            .list_stage_deployments(
                "space-raiders",
                "prod",
                &PageRequest::default(),
                T0 + Duration::minutes(2),
            )
            .unwrap();
        assert_eq!(list["StageDeployments"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn client_token_idempotency() {
        let mut w = world();
        let tok = "t".repeat(40);
        let snap = demo_snapshots::DEPLOYS;
        let a = w
            .start_stage_deployment("space-raiders", "dev", snap, Some(&tok), T0)
            .unwrap();
        let b = w
            .start_stage_deployment("space-raiders", "dev", snap, Some(&tok), T0)
            .unwrap();
        assert_eq!(
            a["StageDeployment"]["DeploymentId"],
            b["StageDeployment"]["DeploymentId"]
        );
        let err = w
            .start_stage_deployment("space-raiders", "prod", snap, Some(&tok), T0)
            .unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Conflict);
    }

    #[test]
    fn create_snapshot_ids_are_unique() {
        let mut w = world();
        let a = w.create_snapshot("space-raiders", None, T0).unwrap();
        let b = w.create_snapshot("space-raiders", None, T0).unwrap();
        assert_eq!(a["Snapshot"]["Id"], "Snapshot_2026-11-26T05:00:00.000Z");
        assert_eq!(b["Snapshot"]["Id"], "Snapshot_2026-11-26T05:00:00.001Z");
        assert!(a["Snapshot"]["Sections"]["Messages"].is_object());
    }
}

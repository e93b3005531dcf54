//! ListSnapshots, GetSnapshot and CreateSnapshot: the game's configuration history, from which
//! the gate picks what to deploy.
//!
//! CreateSnapshot is the one operation here that changes the account (and the one with an id
//! rule of its own: millisecond-resolution ids that must stay unique), so the snapshot family
//! gets its own file rather than riding along with games or deployments.

use std::collections::BTreeMap;

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::model::Snapshot;
use super::{not_found_game, World};
use crate::clock::snapshot_id_for;
use crate::error::ApiError;
use crate::op::Op;
use crate::pagination::{paginate, PageRequest};
use crate::wire::{
    to_body, ListSnapshotsResult, Section, SnapshotDetails, SnapshotResult, SnapshotSummary,
};

/// The snapshot with its sections, all of them or only those named in `sections`.
fn details<'a>(s: &'a Snapshot, sections: Option<&[String]>) -> SnapshotDetails<'a> {
    let sections: BTreeMap<&str, Section> = s
        .sections
        .iter()
        .filter(|(name, _)| !sections.is_some_and(|wanted| !wanted.iter().any(|w| w == *name)))
        .map(|(name, attrs)| {
            let size = serde_json::to_vec(attrs).map_or(0, |b| b.len());
            (
                name.as_str(),
                Section {
                    attributes: attrs,
                    name,
                    size,
                },
            )
        })
        .collect();
    SnapshotDetails {
        created: s.created,
        description: s.description.as_deref(),
        id: &s.id,
        last_updated: s.last_updated,
        sections,
    }
}

impl World {
    pub fn list_snapshots(&self, game: &str, page: &PageRequest) -> Result<Value, ApiError> {
        let g = self.game(game)?;
        let mut items: Vec<&Snapshot> = g.snapshots.values().collect();
        items.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
        let (items, next_token) = paginate(
            items,
            |s| s.id.clone(),
            &self.token_secret,
            &format!("{}/{game}", Op::ListSnapshots.name()),
            page,
            self.page_size,
        )?;
        let snapshots = items
            .into_iter()
            .map(|s| SnapshotSummary {
                created: s.created,
                description: s.description.as_deref(),
                id: &s.id,
                last_updated: s.last_updated,
            })
            .collect();
        to_body(&ListSnapshotsResult {
            next_token,
            snapshots,
        })
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
        to_body(&SnapshotResult {
            snapshot: details(s, sections),
        })
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
        let body = to_body(&SnapshotResult {
            snapshot: details(&snap, None),
        })?;
        g.snapshots.insert(id, snap);
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{world, T0};

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

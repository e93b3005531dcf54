//! Reading a game's snapshots and a stage's deployment history: which snapshot is newest, which
//! one serves a stage, and so what a rollback would go back to.

use time::OffsetDateTime;

use crate::deployment::{Deployment, DeploymentAction, DeploymentState, ResultCode, Snapshot};

/// The newest snapshot created at or before `created_by` (the execution's start): a retried task
/// resolves "latest" to the same snapshot even when a new one appeared in between, so its
/// ClientToken replays the same request. Ties (or missing timestamps) fall back to the id, which
/// embeds the creation time with sub-second precision, so the choice never depends on page order.
pub fn latest_snapshot(snapshots: &[Snapshot], created_by: OffsetDateTime) -> Option<&Snapshot> {
    snapshots
        .iter()
        .filter(|s| s.created.map_or(true, |c| c <= created_by))
        .max_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)))
}

/// The snapshot the stage serves now: the history replayed in time order, where a successful
/// DEPLOY puts its snapshot live and a successful UNDEPLOY of the live snapshot takes it off.
///
/// GameSparks records the replaced snapshot as UNDEPLOY at the moment the new one goes live, so
/// on equal timestamps an UNDEPLOY is applied first: redeploying the serving snapshot leaves it
/// serving. A snapshot that was undeployed is not "known good" any more, whatever its DEPLOY
/// entry says.
pub fn serving_snapshot(deployments: &[Deployment]) -> Option<&str> {
    let mut done: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| {
            d.state == DeploymentState::Completed
                && d.result_code == Some(ResultCode::Success)
                && d.action.is_some()
                && d.snapshot_id.is_some()
        })
        .collect();
    done.sort_by(|a, b| {
        let undeploy_first = |d: &Deployment| d.action != Some(DeploymentAction::Undeploy);
        a.last_updated
            .cmp(&b.last_updated)
            .then_with(|| undeploy_first(a).cmp(&undeploy_first(b)))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut serving = None;
    for d in done {
        match d.action {
            Some(DeploymentAction::Deploy) => serving = d.snapshot_id.as_deref(),
            Some(DeploymentAction::Undeploy) if d.snapshot_id.as_deref() == serving => {
                serving = None
            }
            _ => {}
        }
    }
    serving
}

/// What a rollback would redeploy: the snapshot serving the stage before the run, unless that is
/// the requested one. Redeploying what already serves has nothing older to go back to that
/// anyone asked for: going further back would downgrade a healthy stage, so a failure alerts.
pub fn rollback_target<'a>(deployments: &'a [Deployment], requested: &str) -> Option<&'a str> {
    serving_snapshot(deployments).filter(|s| *s != requested)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn snap(id: &str, created: Option<OffsetDateTime>) -> Snapshot {
        Snapshot {
            id: id.into(),
            created,
            description: None,
        }
    }

    const S1: &str = "Snapshot_2026-01-01T00:00:00.000Z";
    const S2: &str = "Snapshot_2026-01-02T00:00:00.000Z";
    const S3: &str = "Snapshot_2026-01-03T00:00:00.000Z";

    #[test]
    fn latest_snapshot_cases() {
        let t1 = Some(datetime!(2026-01-01 00:00 UTC));
        let t2 = Some(datetime!(2026-01-02 00:00 UTC));
        let end = datetime!(2027-01-01 00:00 UTC);
        let latest = |list: &[Snapshot], by| latest_snapshot(list, by).map(|s| s.id.clone());
        assert_eq!(latest(&[], end), None);
        let list = [snap(S1, t1), snap(S3, t1), snap(S2, t2)];
        assert_eq!(latest(&list, end).as_deref(), Some(S2));
        // Tie on Created: the greater id wins, in either order.
        let tie = [snap(S1, t2), snap(S2, t2)];
        assert_eq!(latest(&tie, end).as_deref(), Some(S2));
        let tie_rev = [snap(S2, t2), snap(S1, t2)];
        assert_eq!(latest(&tie_rev, end).as_deref(), Some(S2));
        // A missing Created never beats a known one.
        let missing = [snap(S3, None), snap(S1, t1)];
        assert_eq!(latest(&missing, end).as_deref(), Some(S1));
        // Created after the run began: not this run's "latest" (at the boundary it still is).
        let t1 = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(latest(&list, t1).as_deref(), Some(S3));
        assert_eq!(latest(&list, t1 - time::Duration::SECOND), None);
    }

    fn dep(
        id: &str,
        snapshot: &str,
        action: DeploymentAction,
        state: DeploymentState,
        code: Option<ResultCode>,
        updated_day: u8,
    ) -> Deployment {
        Deployment {
            id: id.into(),
            snapshot_id: Some(snapshot.into()),
            action: Some(action),
            state,
            result_code: code,
            result_message: None,
            created: None,
            last_updated: Some(
                datetime!(2026-01-01 00:00 UTC) + time::Duration::days(i64::from(updated_day)),
            ),
        }
    }

    #[test]
    fn serving_replays_deploys_and_undeploys() {
        use DeploymentAction::*;
        use DeploymentState::*;
        let ok = Some(ResultCode::Success);
        let history = vec![
            dep("d1", S1, Deploy, Completed, ok.clone(), 1),
            dep("d2", S2, Deploy, Completed, ok.clone(), 2),
            dep("u1", S1, Undeploy, Completed, ok.clone(), 2),
            dep(
                "d3",
                S3,
                Deploy,
                Failed,
                Some(ResultCode::UnspecifiedFailure),
                3,
            ),
            dep(
                "d4",
                S3,
                Deploy,
                Completed,
                Some(ResultCode::InvalidRoleFailure),
                4,
            ),
            dep("d5", S3, Deploy, InProgress, None, 5),
        ];
        assert_eq!(serving_snapshot(&history), Some(S2));
        assert_eq!(rollback_target(&history, S3), Some(S2));
        // Redeploying what serves: nothing older was asked for, so nothing to roll back to.
        assert_eq!(rollback_target(&history, S2), None);
        assert_eq!(serving_snapshot(&history[..1]), Some(S1));
        assert_eq!(rollback_target(&history[..1], S1), None);
        assert_eq!(serving_snapshot(&[]), None);
        // Only failures: nothing serves.
        assert_eq!(serving_snapshot(&history[3..]), None);

        // The serving snapshot undeployed with nothing after it: the stage serves nothing, and
        // the older S1 (itself undeployed) is no rollback target.
        let mut undeployed = history.clone();
        undeployed.push(dep("u2", S2, Undeploy, Completed, ok.clone(), 6));
        assert_eq!(serving_snapshot(&undeployed), None);
        assert_eq!(rollback_target(&undeployed, S3), None);

        // An UNDEPLOY of a snapshot that no longer serves changes nothing.
        let mut stale = history.clone();
        stale.push(dep("u3", S1, Undeploy, Completed, ok.clone(), 7));
        assert_eq!(serving_snapshot(&stale), Some(S2));

        // A redeploy of S2 records the old S2 as UNDEPLOY at the same moment: S2 still serves,
        // whatever the order of the listing.
        let mut redeployed = history.clone();
        redeployed.push(dep("d6", S2, Deploy, Completed, ok.clone(), 8));
        redeployed.push(dep("u4", S2, Undeploy, Completed, ok.clone(), 8));
        assert_eq!(serving_snapshot(&redeployed), Some(S2));
        redeployed.reverse();
        assert_eq!(serving_snapshot(&redeployed), Some(S2));
    }

    #[test]
    fn serving_ignores_list_order_and_breaks_ties_by_id() {
        use DeploymentAction::*;
        use DeploymentState::*;
        let ok = Some(ResultCode::Success);
        let mut history = vec![
            dep("d-a", S1, Deploy, Completed, ok.clone(), 1),
            dep("d-b", S2, Deploy, Completed, ok.clone(), 1),
        ];
        assert_eq!(serving_snapshot(&history), Some(S2));
        history.reverse();
        assert_eq!(serving_snapshot(&history), Some(S2));
    }
}

//! Reading a game's snapshots and a stage's deployment history.

use crate::deployment::{Deployment, DeploymentAction, DeploymentState, ResultCode, Snapshot};

/// The newest snapshot by creation time. Ties (or missing timestamps) fall back to the id, which
/// embeds the creation time with sub-second precision, so the choice never depends on page order.
pub fn latest_snapshot(snapshots: &[Snapshot]) -> Option<&Snapshot> {
    snapshots
        .iter()
        .max_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)))
}

/// The stage's last known-good snapshot: the newest DEPLOY that COMPLETED with SUCCESS, other than
/// `excluding` (the snapshot being deployed, which cannot be its own rollback target).
pub fn last_known_good<'a>(
    deployments: &'a [Deployment],
    excluding: &str,
) -> Option<&'a Deployment> {
    deployments
        .iter()
        .filter(|d| {
            d.action == Some(DeploymentAction::Deploy)
                && d.state == DeploymentState::Completed
                && d.result_code == Some(ResultCode::Success)
                && d.snapshot_id.as_deref().is_some_and(|s| s != excluding)
        })
        .max_by(|a, b| {
            a.last_updated
                .cmp(&b.last_updated)
                .then_with(|| a.id.cmp(&b.id))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::OffsetDateTime;

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
        assert_eq!(latest_snapshot(&[]), None);
        let list = [snap(S1, t1), snap(S3, t1), snap(S2, t2)];
        assert_eq!(latest_snapshot(&list).map(|s| s.id.as_str()), Some(S2));
        // Tie on Created: the greater id wins, in either order.
        let tie = [snap(S1, t2), snap(S2, t2)];
        assert_eq!(latest_snapshot(&tie).map(|s| s.id.as_str()), Some(S2));
        let tie_rev = [snap(S2, t2), snap(S1, t2)];
        assert_eq!(latest_snapshot(&tie_rev).map(|s| s.id.as_str()), Some(S2));
        // A missing Created never beats a known one.
        let missing = [snap(S3, None), snap(S1, t1)];
        assert_eq!(latest_snapshot(&missing).map(|s| s.id.as_str()), Some(S1));
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
    fn known_good_cases() {
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
            dep("u2", S2, Undeploy, Completed, ok.clone(), 6),
        ];
        let id = |d: Option<&Deployment>| d.map(|d| d.id.clone());
        assert_eq!(id(last_known_good(&history, S3)), Some("d2".into()));
        // Redeploying the current snapshot: the one before it is the rollback target.
        assert_eq!(id(last_known_good(&history, S2)), Some("d1".into()));
        assert_eq!(id(last_known_good(&history[..1], S1)), None);
        assert_eq!(id(last_known_good(&[], S1)), None);
        // Only failures and undeploys: nothing to roll back to.
        assert_eq!(id(last_known_good(&history[2..], S2)), None);
    }

    #[test]
    fn known_good_ignores_list_order_and_breaks_ties_by_id() {
        use DeploymentAction::*;
        use DeploymentState::*;
        let ok = Some(ResultCode::Success);
        let mut history = vec![
            dep("d-a", S1, Deploy, Completed, ok.clone(), 1),
            dep("d-b", S2, Deploy, Completed, ok.clone(), 1),
        ];
        assert_eq!(
            last_known_good(&history, S3).map(|d| d.id.as_str()),
            Some("d-b")
        );
        history.reverse();
        assert_eq!(
            last_known_good(&history, S3).map(|d| d.id.as_str()),
            Some("d-b")
        );
    }
}

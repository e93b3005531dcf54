//! Helpers shared by the workspace-level tests.

pub mod aws_calls;
pub mod e2e;
pub mod fleet;
pub mod gate;
pub mod iam_actions;
pub mod observe;
pub mod soak;

use std::path::PathBuf;

/// The repository root (tests read `events/` and `infra/` from it).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

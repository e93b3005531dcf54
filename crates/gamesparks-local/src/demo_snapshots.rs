//! The demo scenario's snapshot ids, defined once: the emulator's scenario test checks them against
//! `scenarios/demo.json`; tests, the bench and `cargo xtask demo` (which includes this file by
//! path, to stay free of the emulator's dependencies) name them from here.

/// The oldest, deployed once long ago.
pub const OLDER: &str = "Snapshot_2026-10-15T10:00:00.000Z";
/// v1.0.0: the known-good snapshot serving every stage.
pub const KNOWN_GOOD: &str = "Snapshot_2026-11-01T09:00:00.000Z";
/// v1.1.0: deploys fine.
pub const DEPLOYS: &str = "Snapshot_2026-11-10T14:30:00.000Z";
/// v1.2.0: fails with UNSPECIFIED_FAILURE.
pub const UNSPECIFIED_FAILURE: &str = "Snapshot_2026-11-18T11:15:00.000Z";
/// v1.2.1: fails with INVALID_ROLE_FAILURE.
pub const INVALID_ROLE: &str = "Snapshot_2026-11-20T16:45:00.000Z";
/// v1.3.0: never finishes.
pub const NEVER_FINISHES: &str = "Snapshot_2026-11-24T08:00:00.000Z";
pub const ALL: [&str; 6] = [
    OLDER,
    KNOWN_GOOD,
    DEPLOYS,
    UNSPECIFIED_FAILURE,
    INVALID_ROLE,
    NEVER_FINISHES,
];

//! stagegate-bench: measures the four stagegate Lambda functions the way Lambda runs them (a
//! local Runtime API stub, the GameSparks emulator, an SNS stub), a Python peer of
//! poll-deployment, the warm handler cost, the polling strategies (simulated) and the zips.
//!
//! The binary (`src/main.rs`) runs everything and writes `bench/results.json`; the modules here
//! are the parts, pure where they can be (`adaptive`, `sim`, `stats`, `report`).

pub mod adaptive;
pub mod artifacts;
pub mod breakdown;
pub mod error;
pub mod fixtures;
pub mod measure;
pub mod peer;
pub mod process;
pub mod report;
pub mod sim;
pub mod stats;
pub mod stubs;

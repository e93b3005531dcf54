//! stagegate-bench: measures the stagegate Lambda functions (the gate's four and fleet-step) the
//! way Lambda runs them (a local Runtime API stub, the GameSparks emulator, an SNS stub), a Python
//! peer of poll-deployment, the warm handler cost, the polling strategies (simulated) and the zips.
//!
//! The binary (`src/main.rs`) parses the command line and calls `pipeline`, which runs the
//! steps in order:
//!
//! - building and sizing the functions: `artifacts`, and the peer's venv: `peer`;
//! - measuring, kind by kind: `measurements` (cold starts, parity, warm, profile trials, the
//!   polling simulation, the machine), on the primitives in `measure` (one process against the
//!   stubs), `stubs`, `process`, `fixtures` and `breakdown`; the HTTPS cold starts reach the
//!   emulator through `tls_proxy`, with a certificate from the CA `run_ca` makes for the run;
//! - the results document: `results` (the format of `bench/results.json`, as types) and
//!   `assemble` (filling it in: rounding, target checks, the profile recommendation);
//! - the printed table: `report`.
//!
//! Pure where they can be: `adaptive`, `sim`, `stats`, `results`, `assemble`, `report`.

pub mod adaptive;
pub mod artifacts;
pub mod assemble;
pub mod breakdown;
pub mod error;
pub mod fixtures;
pub mod measure;
pub mod measurements;
pub mod peer;
pub mod pipeline;
pub mod process;
pub mod progress;
pub mod report;
pub mod results;
pub mod run_ca;
pub mod sim;
pub mod stats;
pub mod stubs;
pub mod tls_proxy;

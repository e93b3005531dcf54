//! `gamesparks-local`: an emulator of the retired AWS GameSparks API (restJson1, API version
//! 2021-08-17), faithful enough for the real `aws-sdk-gamesparks` 0.33 client.
//!
//! It serves the stage-deployment subset of the API (games, stages, snapshots, deployments),
//! with deployments that advance through virtual time, declarative scenarios, seeded fault
//! injection and an admin API under `/_emulator/`. See docs/local-stack.md for the scenario format.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gamesparks_local::StartError> {
//! use gamesparks_local::{Config, Server};
//! let server = Server::start(Config { time_scale: 600.0, ..Config::default() }).await?;
//! println!("endpoint: {}", server.url());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod api;
pub mod clock;
mod error;
pub mod faults;
pub mod op;
mod pagination;
pub mod rng;
pub mod scenario;
mod server;
mod validate;
mod wire;
mod world;

pub use clock::{format_timestamp, ClockInfo};
pub use error::{ApiError, ErrorKind};
pub use faults::{FaultConfig, Hang, LatencyMs, OperationFaults, OPERATIONS};
pub use scenario::{Outcome, Scenario, ScenarioError};
pub use server::{
    Config, Counters, RequestLogEntry, RunningServer, Server, StartError, FAULT_KINDS,
};

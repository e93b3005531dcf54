//! `gamesparks-local` command line: a thin wrapper over the library.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gamesparks_local::{Config, Scenario, Server};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Local emulator of the AWS GameSparks API (restJson1) for stage deployments.
#[derive(Debug, Parser)]
#[command(name = "gamesparks-local", version, about)]
struct Cli {
    /// Port to listen on; 0 picks a free port (printed on startup).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Scenario file (JSON). Without it, the built-in demo scenario is served.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Virtual seconds per real second (60: a 10-minute deployment takes 10 s).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Seed for fault injection and generated ids; random (and printed) when absent.
    #[arg(long)]
    seed: Option<u64>,
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The functions' tracing-subscriber features (no env-filter, no colours): the local stack
    // builds the emulator and the functions in one cargo run, and `cargo lambda watch` rebuilds a
    // function alone; other features here would make it compile tracing-subscriber twice.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();

    let scenario = match &cli.scenario {
        Some(path) => match Scenario::from_file(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("gamesparks-local: {e}");
                return ExitCode::from(2);
            }
        },
        None => Scenario::demo(),
    };
    let seed = cli.seed.unwrap_or_else(random_seed);
    let config = Config {
        addr: SocketAddr::new(cli.host, cli.port),
        scenario,
        time_scale: cli.time_scale,
        seed,
    };
    let shutdown = shutdown_signal();
    let server = match Server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gamesparks-local: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "gamesparks-local listening on {} (scenario: {}, time scale: {}, seed: {})",
        server.url(),
        server.scenario_name(),
        server.time_scale(),
        server.seed()
    );
    // Harnesses read the line above through a pipe; don't leave it in a buffer.
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }

    shutdown.await;
    tracing::info!("shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// Registers the handlers immediately (not on first poll) so that a signal sent right after the
/// startup line is printed is not fatal.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
